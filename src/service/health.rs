//! `/healthz` and `/metrics` on `METRICS_LISTEN`.
//!
//! Healthy (200 `ok`) when the index answers, the database answers, and updates can arrive:
//! the Bot API answered the last probe (`getWebhookInfo`, every [`PROBE_EVERY`]), in webhook
//! mode Telegram reports no delivery error since the last update it delivered, and in polling
//! mode the last poll did not fail (or an update arrived since). Otherwise 503 with the reason.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use chrono::Utc;

use super::metrics::metrics;
use crate::index::SearchIndex;
use crate::store::Store;

/// How often the Bot API is probed.
pub const PROBE_EVERY: Duration = Duration::from_secs(30);
/// A probe answer older than this is stale (three probes missed).
const PROBE_STALE_SECS: i64 = 3 * PROBE_EVERY.as_secs() as i64;

/// What the update source reports: probes, failed polls, Telegram's delivery errors.
#[derive(Default)]
pub struct Signals {
    state: Mutex<SignalState>,
}

#[derive(Default)]
struct SignalState {
    /// Start of the process, or the last probe the Bot API answered (Unix seconds).
    probe_ok_at: i64,
    /// The last probe's failure, or what its answer said is wrong.
    problem: Option<String>,
    /// The last failed poll: when, and why.
    poll_error: Option<(i64, String)>,
}

impl Signals {
    pub fn new() -> Arc<Signals> {
        let signals = Signals::default();
        signals.lock().probe_ok_at = Utc::now().timestamp();
        Arc::new(signals)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SignalState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The Bot API answered a probe; `problem` is what its answer says is wrong, if anything.
    pub fn probed(&self, problem: Option<String>) {
        let mut s = self.lock();
        s.probe_ok_at = Utc::now().timestamp();
        s.problem = problem;
    }

    /// A probe got no answer.
    pub fn probe_failed(&self, why: String) {
        self.lock().problem = Some(format!("the Bot API did not answer: {why}"));
    }

    /// A long poll failed (teloxide retries it).
    pub fn poll_failed(&self, why: String) {
        self.lock().poll_error = Some((Utc::now().timestamp(), why));
    }

    /// Why updates may not be arriving, if they may not.
    fn trouble(&self) -> Option<String> {
        let s = self.lock();
        let now = Utc::now().timestamp();
        if let Some(problem) = &s.problem {
            return Some(problem.clone());
        }
        if now - s.probe_ok_at > PROBE_STALE_SECS {
            return Some(format!(
                "no answer from the Bot API for {} s",
                now - s.probe_ok_at
            ));
        }
        let last_update = metrics().last_update_timestamp.get();
        match &s.poll_error {
            Some((at, why)) if *at >= last_update && now - at < PROBE_STALE_SECS => {
                Some(format!("polling failed {} s ago: {why}", now - at))
            }
            _ => None,
        }
    }
}

/// What `/healthz` checks.
#[derive(Clone)]
pub struct Checks {
    pub index: Arc<SearchIndex>,
    pub store: Arc<Store>,
    pub signals: Arc<Signals>,
}

impl Checks {
    /// `Ok` or the reasons it is not healthy. Blocking (SQLite): run off the async workers.
    pub fn run(&self) -> Result<(), Vec<String>> {
        let mut reasons = Vec::new();
        // The index answers (its reader and commit), and the gauges are fresh.
        metrics().observe_index(&self.index);
        if let Err(e) = self.store.count_subscriptions() {
            reasons.push(format!("the database does not answer: {e}"));
        }
        if let Some(t) = self.signals.trouble() {
            reasons.push(t);
        }
        if reasons.is_empty() {
            Ok(())
        } else {
            Err(reasons)
        }
    }
}

/// The router: `GET /healthz`, `GET /metrics`.
pub fn router(checks: Checks) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(render_metrics))
        .with_state(checks)
}

async fn healthz(State(checks): State<Checks>) -> (StatusCode, String) {
    let result = tokio::task::spawn_blocking(move || checks.run()).await;
    match result {
        Ok(Ok(())) => (StatusCode::OK, "ok\n".to_owned()),
        Ok(Err(reasons)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("unhealthy: {}\n", reasons.join("; ")),
        ),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("unhealthy: the check failed: {e}\n"),
        ),
    }
}

async fn render_metrics(State(checks): State<Checks>) -> String {
    let _ = tokio::task::spawn_blocking(move || metrics().observe_index(&checks.index)).await;
    metrics().render()
}

/// Serves `router` on `listener` until `stop` turns true.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<()> {
    if let Ok(addr) = listener.local_addr() {
        tracing::info!("health and metrics on http://{addr}/healthz and /metrics");
    }
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            let _ = stop.wait_for(|s| *s).await;
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_poll_is_trouble_until_an_update_arrives() {
        let signals = Signals::new();
        assert_eq!(signals.trouble(), None);
        signals.poll_failed("connection refused".to_owned());
        assert!(signals.trouble().unwrap().contains("connection refused"));
        // An update after the failure: polling works again. (Unix seconds: the update must
        // be later than the failure.)
        metrics()
            .last_update_timestamp
            .set(Utc::now().timestamp() + 1);
        assert_eq!(signals.trouble(), None);
        signals.probed(Some("the webhook is not set at Telegram".to_owned()));
        assert!(signals.trouble().unwrap().contains("webhook"));
    }
}
