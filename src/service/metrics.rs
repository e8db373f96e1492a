//! The bot's metrics, in the Prometheus text format (`/metrics` on `METRICS_LISTEN`). One
//! registry for the process; the places that count call [`metrics`]. Every metric is listed
//! in README.md ("Metrics").

use std::sync::LazyLock;

use prometheus::{
    Gauge, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

use crate::index::SearchIndex;

pub struct Metrics {
    registry: Registry,
    /// Updates handled, by kind (`message`, `callback_query`, `inline_query`, `other`).
    pub updates: IntCounterVec,
    /// From an update's arrival at its handler to Telegram accepting the reply.
    pub reply_seconds: Histogram,
    /// Bot API calls that failed, by kind (`retry_after`, `server`, `network`, `forbidden`,
    /// `chat_gone`, `bad_request`, `other`).
    pub api_errors: IntCounterVec,
    /// 429 answers waited out, and the seconds waited.
    pub retry_after_waits: IntCounter,
    pub retry_after_seconds: prometheus::Counter,
    /// Messages dropped by a chat's flood guard (never searched, never answered).
    pub flood_dropped: IntCounter,
    /// Digests, and alert bundles, by result (`sent`, `failed`).
    pub digests: IntCounterVec,
    pub alerts: IntCounterVec,
    /// Articles in the index, learned chrome lines, the last sync's duration and end time.
    pub articles: IntGauge,
    pub chrome_lines: IntGauge,
    pub last_sync_seconds: Gauge,
    pub last_sync_timestamp: IntGauge,
    /// When the last update arrived (a poll or a webhook post), Unix seconds.
    pub last_update_timestamp: IntGauge,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

/// The process's metrics.
pub fn metrics() -> &'static Metrics {
    &METRICS
}

impl Metrics {
    fn new() -> Metrics {
        let registry = Registry::new();
        let counter_vec = |name: &str, help: &str, label: &str| {
            let c = IntCounterVec::new(Opts::new(name, help), &[label])
                .expect("a valid metric definition");
            register(&registry, c.clone());
            c
        };
        let int_counter = |name: &str, help: &str| {
            let c = IntCounter::new(name, help).expect("a valid metric definition");
            register(&registry, c.clone());
            c
        };
        let int_gauge = |name: &str, help: &str| {
            let g = IntGauge::new(name, help).expect("a valid metric definition");
            register(&registry, g.clone());
            g
        };
        let reply_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "jianbao_reply_seconds",
                "Seconds from an update reaching its handler to Telegram accepting the reply",
            )
            .buckets(vec![
                0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0,
            ]),
        )
        .expect("a valid metric definition");
        register(&registry, reply_seconds.clone());
        let retry_after_seconds = prometheus::Counter::new(
            "jianbao_retry_after_seconds_total",
            "Seconds spent waiting out 429 answers",
        )
        .expect("a valid metric definition");
        register(&registry, retry_after_seconds.clone());
        let last_sync_seconds = Gauge::new(
            "jianbao_last_sync_duration_seconds",
            "How long the last sync of the seeds folder took",
        )
        .expect("a valid metric definition");
        register(&registry, last_sync_seconds.clone());
        Metrics {
            updates: counter_vec("jianbao_updates_total", "Updates handled, by kind", "kind"),
            reply_seconds,
            api_errors: counter_vec(
                "jianbao_bot_api_errors_total",
                "Bot API calls that failed, by kind",
                "kind",
            ),
            retry_after_waits: int_counter(
                "jianbao_retry_after_waits_total",
                "429 answers waited out before trying again",
            ),
            retry_after_seconds,
            flood_dropped: int_counter(
                "jianbao_flood_dropped_total",
                "Messages dropped by a chat's flood guard",
            ),
            digests: counter_vec("jianbao_digests_total", "Digests, by result", "result"),
            alerts: counter_vec(
                "jianbao_alert_bundles_total",
                "Alert messages, by result",
                "result",
            ),
            articles: int_gauge("jianbao_articles", "Articles in the index"),
            chrome_lines: int_gauge(
                "jianbao_learned_chrome_lines",
                "Lines learned as page chrome",
            ),
            last_sync_seconds,
            last_sync_timestamp: int_gauge(
                "jianbao_last_sync_timestamp_seconds",
                "When the last sync of the seeds folder ended (Unix time)",
            ),
            last_update_timestamp: int_gauge(
                "jianbao_last_update_timestamp_seconds",
                "When the last update arrived (Unix time)",
            ),
            registry,
        }
    }

    /// The index's figures, read when they are asked for (the index knows nothing of
    /// metrics): articles, learned chrome lines, the last sync's duration and end time.
    pub fn observe_index(&self, index: &SearchIndex) {
        let gauge = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        self.articles.set(gauge(index.num_docs()));
        self.chrome_lines
            .set(gauge(index.commit_info().chrome.len() as u64));
        if let Some((took, at)) = index.last_sync() {
            self.last_sync_seconds.set(took.as_secs_f64());
            self.last_sync_timestamp.set(at);
        }
    }

    /// An update arrived.
    pub fn update(&self, kind: &str) {
        self.updates.with_label_values(&[kind]).inc();
        self.last_update_timestamp
            .set(chrono::Utc::now().timestamp());
    }

    /// Everything, in the Prometheus text format.
    pub fn render(&self) -> String {
        TextEncoder::new()
            .encode_to_string(&self.registry.gather())
            .unwrap_or_else(|e| format!("# encoding failed: {e}\n"))
    }
}

fn register<C: prometheus::core::Collector + 'static>(registry: &Registry, c: C) {
    // Names are fixed and distinct: registration cannot fail but for a typo, caught by tests.
    if let Err(e) = registry.register(Box::new(c)) {
        tracing::error!("metric not registered: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_is_rendered_with_its_help() {
        let m = metrics();
        m.update("message");
        m.reply_seconds.observe(0.2);
        m.api_errors.with_label_values(&["retry_after"]).inc();
        m.digests.with_label_values(&["sent"]).inc();
        m.alerts.with_label_values(&["failed"]).inc();
        let text = m.render();
        for name in [
            "jianbao_updates_total{kind=\"message\"}",
            "jianbao_reply_seconds_bucket",
            "jianbao_bot_api_errors_total{kind=\"retry_after\"}",
            "jianbao_retry_after_waits_total",
            "jianbao_retry_after_seconds_total",
            "jianbao_flood_dropped_total",
            "jianbao_digests_total{result=\"sent\"}",
            "jianbao_alert_bundles_total{result=\"failed\"}",
            "jianbao_articles",
            "jianbao_learned_chrome_lines",
            "jianbao_last_sync_duration_seconds",
            "jianbao_last_sync_timestamp_seconds",
            "jianbao_last_update_timestamp_seconds",
        ] {
            assert!(text.contains(name), "{name} missing:\n{text}");
        }
        assert!(!text.contains("encoding failed"));
    }
}
