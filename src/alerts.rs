//! Saved searches pushed as soon as new articles match (`/alert 人工智能 芯片`).
//!
//! Matching is the digest's engine ([`digest::select`]): the same keyword filter (any keyword
//! whole, phrases required, `-exclusions`, `source:`, dates), one entry per story, and a
//! repost of a story already in the index is not new. An alert only ever sees articles that
//! entered the index after it was made (its `after_seq`).
//!
//! Exactly once per (chat, article): an article is recorded as sent to a chat after Telegram
//! accepted the message, in the same transaction that moves the chat's alerts past it. A crash
//! between the send and the record sends that bundle again once at the next pass; a failed
//! send is tried again at the next pass; an article already recorded is never sent again,
//! whichever alert matches it later.

use crate::service::metrics::metrics;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::Notify;

use crate::digest::{self, Entry, Since};
use crate::index::SearchIndex;
use crate::render::{self, TELEGRAM_MAX_CHARS, escape_html, linked_title};
use crate::scheduler::{Delivery, DigestSender, never_stopping, permit_unless_stopping};
use crate::search::{self, Hit};
use crate::store::{Alert, Store, StoreError};
use tantivy::Searcher;

/// Articles one pass sends a chat at most; the rest are counted in the last line.
pub const MAX_ITEMS_PER_PASS: usize = 50;
/// More new matches than this for one chat (three bundles, a minute at the chat's spacing)
/// are not pushed one by one: the chat gets one summary with the newest
/// [`SUMMARY_ITEMS`] and the searches that list them all (5,000 matches would otherwise be
/// 100 messages over half an hour).
pub const SUMMARY_OVER: usize = 150;
pub const SUMMARY_ITEMS: usize = 10;
/// A chat gets at most one bundle in this time: bursts are bundled, never a message per file.
pub const MIN_INTERVAL: Duration = Duration::from_secs(20);
/// Days on which a chat was unreachable after which its alerts are removed (as digests).
pub const ALERT_STRIKES: u32 = crate::scheduler::DISABLE_AFTER_FAILURES;
/// Passes run after every sync that changed the index, and at least this often.
const PASS_EVERY: Duration = Duration::from_secs(60);

/// What `/alert` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Added {
    /// Saved, with its number in the chat's list.
    Saved { number: usize },
    /// The chat has as many as it may.
    Full { limit: usize },
    /// Nothing in the query to search for.
    NoWords,
}

/// An article for a chat, and the numbers of the chat's alerts it matched.
#[derive(Debug, Clone)]
pub struct Match {
    pub hit: Hit,
    pub alerts: Vec<usize>,
}

/// What one chat is to be sent now.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub chat_id: i64,
    pub matches: Vec<Match>,
    /// Matching articles beyond [`MAX_ITEMS_PER_PASS`], left for the next passes (in a
    /// summary: the ones not listed, which the summary's searches show).
    pub more: usize,
    /// Too many matches to push: one summary message ([`SUMMARY_OVER`]).
    pub summary: bool,
    /// The chat's alerts, numbered from 1 in this order (for naming them).
    pub alerts: Vec<Alert>,
    /// The snapshot's highest ingest number: the chat's alerts move past it once sent.
    pub cursor: Option<u64>,
}

/// The alert service.
pub struct Alerts {
    store: Arc<Store>,
    index: Arc<SearchIndex>,
    per_chat: usize,
    /// Who may be pushed to: a chat removed from `ALLOWED_CHAT_IDS` keeps its alerts (it may
    /// list and remove them) but is sent nothing.
    settings: crate::config::Settings,
    /// Woken when new articles may have arrived (after a sync that changed the index).
    arrived: Notify,
}

impl Alerts {
    pub fn new(
        store: Arc<Store>,
        index: Arc<SearchIndex>,
        settings: crate::config::Settings,
    ) -> Alerts {
        Alerts {
            store,
            index,
            per_chat: settings.alerts_per_chat,
            settings,
            arrived: Notify::new(),
        }
    }

    /// Tells the pusher that the index changed.
    pub fn articles_arrived(&self) {
        self.arrived.notify_one();
    }

    /// Saves `query` for the chat; only articles indexed from now on can match it.
    pub fn add(&self, chat_id: i64, query: &str, now: DateTime<Utc>) -> Result<Added, StoreError> {
        let query: String = query
            .trim()
            .chars()
            .take(search::query::MAX_QUERY_CHARS)
            .collect();
        let parsed = search::query::parse(&query);
        if !parsed.has_words() && !parsed.has_filters() {
            return Ok(Added::NoWords);
        }
        let after = digest::max_seq(&self.index.searcher());
        match self
            .store
            .add_alert(chat_id, &query, after, self.per_chat, now.timestamp())?
        {
            Some((_, number)) => Ok(Added::Saved { number }),
            None => Ok(Added::Full {
                limit: self.per_chat,
            }),
        }
    }

    /// The chat's alerts, numbered from 1 in this order.
    pub fn list(&self, chat_id: i64) -> Result<Vec<Alert>, StoreError> {
        self.store.alerts_of(chat_id)
    }

    /// Removes the chat's alert number `number`; returns it, or `None` if there is none.
    pub fn remove(&self, chat_id: i64, number: usize) -> Result<Option<Alert>, StoreError> {
        let alerts = self.list(chat_id)?;
        let Some(alert) = number.checked_sub(1).and_then(|i| alerts.get(i)) else {
            return Ok(None);
        };
        self.store.delete_alert(alert.id)?;
        Ok(Some(alert.clone()))
    }

    /// What each chat with alerts is to be sent now (or only `chat`).
    pub fn pending(&self, chat: Option<i64>) -> Result<Vec<Bundle>, PendingError> {
        let alerts = match chat {
            Some(chat_id) => self.store.alerts_of(chat_id)?,
            None => self.store.all_alerts()?,
        };
        let mut by_chat: BTreeMap<i64, Vec<Alert>> = BTreeMap::new();
        // A revoked chat is pushed nothing; its alerts wait (they fire again, from where they
        // were, if it is allowed again).
        for alert in alerts
            .into_iter()
            .filter(|a| self.settings.chat_allowed(a.chat_id))
        {
            by_chat.entry(alert.chat_id).or_default().push(alert);
        }
        // One snapshot for the whole pass.
        let searcher = self.index.searcher();
        let today = Utc::now().date_naive();
        let mut bundles = Vec::new();
        for (chat_id, alerts) in by_chat {
            if self.store.alerts_failed_on(chat_id, today)? {
                continue; // unreachable today already: tried again tomorrow
            }
            if let Some(bundle) = self.bundle(&searcher, chat_id, alerts)? {
                bundles.push(bundle);
            }
        }
        Ok(bundles)
    }

    fn bundle(
        &self,
        searcher: &Searcher,
        chat_id: i64,
        alerts: Vec<Alert>,
    ) -> Result<Option<Bundle>, PendingError> {
        let f = self.index.fields();
        let cursor = digest::max_seq(searcher);
        // Every new story any alert matches (cheap: no stored document read yet), with the
        // numbers of the alerts that matched it.
        let mut found: HashMap<u64, (Entry, Vec<usize>)> = HashMap::new();
        for (i, alert) in alerts.iter().enumerate() {
            let since = match alert.after_seq {
                Some(seq) => Since::Seq(seq),
                None => Since::Time(alert.created_at),
            };
            let parsed = search::query::parse(&alert.query);
            for entry in digest::new_stories(searcher, f, since, &parsed)? {
                found
                    .entry(entry.seq)
                    .or_insert((entry, Vec::new()))
                    .1
                    .push(i + 1);
            }
        }
        let seqs: Vec<u64> = found.keys().copied().collect();
        for seq in self.store.alert_sent(chat_id, &seqs)? {
            found.remove(&seq);
        }
        if found.is_empty() {
            // Nothing new: move the alerts on, so later passes look at fewer articles.
            if cursor.is_some() && alerts.iter().any(|a| a.after_seq < cursor) {
                self.store
                    .record_alerts_sent(chat_id, &[], cursor, Utc::now().timestamp())?;
            }
            return Ok(None);
        }
        let mut found: Vec<(Entry, Vec<usize>)> = found.into_values().collect();
        // Newest first, as in digests.
        found.sort_by_key(|(e, _)| std::cmp::Reverse((e.date, e.seq)));
        let summary = found.len() > SUMMARY_OVER;
        let listed = if summary {
            SUMMARY_ITEMS
        } else {
            MAX_ITEMS_PER_PASS
        };
        let more = found.len().saturating_sub(listed);
        found.truncate(listed);
        let entries: Vec<Entry> = found.iter().map(|(e, _)| *e).collect();
        // No excerpt in an alert line: nothing to highlight.
        let hits = digest::hits(searcher, f, &entries, &[])?;
        let matches = hits
            .into_iter()
            .zip(found)
            .map(|(hit, (_, numbers))| Match {
                hit,
                alerts: numbers,
            })
            .collect();
        Ok(Some(Bundle {
            chat_id,
            matches,
            more,
            summary,
            alerts,
            // The rest is sent in the next passes: the alerts stay where they are until then
            // (what was sent is recorded, so it is not sent again). A summary covers them all.
            cursor: if more == 0 || summary { cursor } else { None },
        }))
    }

    /// Records a bundle Telegram accepted (under the chat id it was finally sent to).
    pub fn record(
        &self,
        chat_id: i64,
        bundle: &Bundle,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let seqs: Vec<u64> = bundle.matches.iter().map(|m| m.hit.seq).collect();
        self.store
            .record_alerts_sent(chat_id, &seqs, bundle.cursor, now.timestamp())
    }
}

/// Reading alerts or the index failed.
#[derive(Debug, thiserror::Error)]
pub enum PendingError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Index(#[from] tantivy::TantivyError),
}

/// A bundle as messages: a header, then one compact line per article (title, source, date,
/// number, and which alerts it matched), split between articles at Telegram's limit.
pub fn render(bundle: &Bundle) -> Vec<String> {
    let alerts = &bundle.alerts;
    let mut html = format!(
        "🔔 <b>提醒</b>：{} 篇新文章符合你的关注",
        bundle.matches.len() + bundle.more
    );
    for m in &bundle.matches {
        let hit = &m.hit;
        let meta = render::date_and_source(hit);
        let names: Vec<String> = m
            .alerts
            .iter()
            .filter_map(|n| {
                alerts
                    .get(n - 1)
                    .map(|a| format!("{n}.「{}」", short(&a.query)))
            })
            .collect();
        html.push_str(&format!(
            "\n\n• <b>{}</b>\n{}{}#{} · 匹配 {}",
            linked_title(&hit.title, &hit.url),
            meta,
            if meta.is_empty() { "" } else { " · " },
            hit.seq,
            escape_html(&names.join(" ")),
        ));
    }
    if bundle.summary {
        let searches: Vec<String> = alerts
            .iter()
            .map(|a| format!("/search {}", escape_html(&a.query)))
            .collect();
        html.push_str(&format!(
            "\n\n另有 {} 篇，太多了，不逐条推送。查看全部：\n{}",
            bundle.more,
            searches.join("\n")
        ));
    } else if bundle.more > 0 {
        html.push_str(&format!("\n\n还有 {} 篇，稍后推送。", bundle.more));
    }
    html.push_str("\n\n发送 /read 编号 阅读全文，/alerts 管理提醒。");
    render::split_message(&html, TELEGRAM_MAX_CHARS)
}

fn short(query: &str) -> String {
    let mut chars = query.chars();
    let mut out: String = chars.by_ref().take(20).collect();
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

/// How one chat's bundle went.
enum Sent {
    Done,
    /// Not delivered now: tried again at the next pass.
    Later,
}

/// Sends what is pending, each chat at most once per [`MIN_INTERVAL`]; returns how many
/// chats got a bundle. `last_sent` is the pusher's memory of when each chat last got one.
pub async fn push_once(
    alerts: &Arc<Alerts>,
    sender: &Arc<dyn DigestSender>,
    last_sent: &mut HashMap<i64, Instant>,
) -> usize {
    push_pass(alerts, sender, last_sent, &never_stopping())
        .await
        .0
}

/// [`push_once`], and when the first chat that had to wait for its spacing may be sent to.
/// Once `stop` is true no new bundle is started (those being sent finish and are recorded).
async fn push_pass(
    alerts: &Arc<Alerts>,
    sender: &Arc<dyn DigestSender>,
    last_sent: &mut HashMap<i64, Instant>,
    stop: &tokio::sync::watch::Receiver<bool>,
) -> (usize, Option<Instant>) {
    let service = alerts.clone();
    let pending = match tokio::task::spawn_blocking(move || service.pending(None)).await {
        Ok(Ok(p)) => p,
        Ok(Err(e)) => {
            tracing::error!("alerts: {e}");
            return (0, None);
        }
        Err(e) => {
            tracing::error!("alerts task failed: {e}");
            return (0, None);
        }
    };
    let mut deferred: Option<Instant> = None;
    // Chats are sent to side by side: the outbox's global limit is what paces them.
    let semaphore = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
    let mut tasks = tokio::task::JoinSet::new();
    for bundle in pending {
        if let Some(at) = last_sent.get(&bundle.chat_id)
            && at.elapsed() < MIN_INTERVAL
        {
            // Bundled into a pass when the chat's spacing ends.
            let ready = *at + MIN_INTERVAL;
            deferred = Some(deferred.map_or(ready, |d| d.min(ready)));
            continue;
        }
        let Some(permit) = permit_unless_stopping(&semaphore, stop).await else {
            break;
        };
        let (alerts, sender) = (alerts.clone(), sender.clone());
        tasks.spawn(async move {
            let _permit = permit;
            let sent = send_bundle(&alerts, sender.as_ref(), &bundle).await;
            (bundle.chat_id, sent)
        });
    }
    let mut delivered = 0;
    while let Some(done) = tasks.join_next().await {
        if let Ok((chat_id, Sent::Done)) = done {
            last_sent.insert(chat_id, Instant::now());
            delivered += 1;
        }
    }
    (delivered, deferred)
}

/// Chats sent to at once.
const CONCURRENCY: usize = 64;

async fn send_bundle(alerts: &Alerts, sender: &dyn DigestSender, bundle: &Bundle) -> Sent {
    let mut chat_id = bundle.chat_id;
    for part in render(bundle) {
        let delivered_part = part.clone();
        let mut result = sender.send_html(chat_id, part.clone()).await;
        if let Delivery::Migrated(new_id) = result {
            if let Err(e) = alerts.store.migrate_chat(chat_id, new_id) {
                tracing::error!("alerts: cannot move chat {chat_id} to {new_id}: {e}");
                return Sent::Later;
            }
            chat_id = new_id;
            result = sender.send_html(chat_id, part).await;
        }
        let counted = if matches!(result, Delivery::Sent(_)) {
            "sent"
        } else {
            "failed"
        };
        metrics().alerts.with_label_values(&[counted]).inc();
        match result {
            Delivery::Sent(_) => {
                // Recorded at once: if a later part fails, the next pass sends only the
                // articles not yet delivered, never this part again.
                let seqs = seqs_in(bundle, &delivered_part);
                if let Err(e) =
                    alerts
                        .store
                        .record_alerts_sent(chat_id, &seqs, None, Utc::now().timestamp())
                {
                    tracing::error!("alerts: chat {chat_id}: part sent but not recorded: {e}");
                }
            }
            Delivery::Gone(reason) => {
                // Blocked, kicked, not found: as for digests, one strike a day (the chat is
                // not tried again that day), and its alerts go after three such days.
                let today = Utc::now().date_naive();
                match alerts
                    .store
                    .record_alert_failure(chat_id, ALERT_STRIKES, today)
                {
                    Ok(true) => tracing::warn!(
                        "alerts: chat {chat_id} unreachable on {ALERT_STRIKES} days ({reason}); its alerts were removed"
                    ),
                    Ok(false) => tracing::warn!("alerts: chat {chat_id} is unreachable: {reason}"),
                    Err(e) => tracing::error!("alerts: {e}"),
                }
                return Sent::Later;
            }
            Delivery::Migrated(_) | Delivery::Failed(_) => return Sent::Later,
        }
    }
    if let Err(e) = alerts.record(chat_id, bundle, Utc::now()) {
        tracing::error!("alerts: chat {chat_id}: sent but not recorded: {e}");
    }
    Sent::Done
}

/// The ingest numbers of the bundle's articles listed in `part` (each item ends with
/// `#<number> · 匹配`).
fn seqs_in(bundle: &Bundle, part: &str) -> Vec<u64> {
    bundle
        .matches
        .iter()
        .map(|m| m.hit.seq)
        .filter(|seq| part.contains(&format!("#{seq} · 匹配")))
        .collect()
}

/// Runs until `stop`: a pass after each change of the index, and every minute.
pub async fn run(
    alerts: Arc<Alerts>,
    sender: Arc<dyn DigestSender>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut last_sent = HashMap::new();
    loop {
        let (_, deferred) = push_pass(&alerts, &sender, &mut last_sent, &stop).await;
        // A chat that waited for its 20 s spacing is served when the spacing ends, not at the
        // next minute's pass.
        let wake = deferred.map_or(PASS_EVERY, |at| {
            at.saturating_duration_since(Instant::now()).min(PASS_EVERY)
        });
        tokio::select! {
            _ = tokio::time::sleep(wake) => {}
            _ = alerts.arrived.notified() => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
    }
}
