//! The digest scheduler: one task that sleeps until the next chat is due, wakes early when
//! subscriptions change, and delivers each chat's digest once per local day.
//!
//! Exactly once: a delivery is recorded per (chat, local date) after Telegram accepted every
//! part, in the same transaction that advances the chat's cursor. A crash between the send and
//! the record means that digest is sent again at the next start (at most one duplicate); a
//! failure before Telegram accepted it means it is tried again, so none is ever skipped.

use crate::service::metrics::metrics;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};

use crate::subscriptions::{Subscription, Subscriptions};

/// How a message send ended, as the scheduler needs to know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Sent(i32),
    /// Blocked, kicked, chat not found: counts towards disabling the subscription.
    Gone(String),
    /// The group became a supergroup with this id.
    Migrated(i64),
    /// A transient failure (5xx, timeout, network): tried again later.
    Failed(String),
}

/// Where digests go: Telegram in production, a fake in tests.
pub trait DigestSender: Send + Sync + 'static {
    fn send_html(
        &self,
        chat_id: i64,
        html: String,
    ) -> Pin<Box<dyn Future<Output = Delivery> + Send + '_>>;
}

/// Consecutive "gone" failures after which a subscription is disabled.
pub const DISABLE_AFTER_FAILURES: u32 = 3;
/// Wait before retrying a chat whose delivery failed transiently.
pub const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(300);
/// Chats delivered at once; the outbox's global limit is what paces them.
const CONCURRENCY: usize = 64;

/// What one pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PassReport {
    pub delivered: usize,
    pub empty: usize,
    pub failed: usize,
    pub disabled: usize,
    pub migrated: usize,
}

pub struct Scheduler {
    subscriptions: Arc<Subscriptions>,
    sender: Arc<dyn DigestSender>,
}

/// The local date whose digest `sub` is owed at `now`, if any (see [`Subscriptions::owed`]).
pub fn owed(
    subscriptions: &Subscriptions,
    sub: &Subscription,
    now: DateTime<Utc>,
) -> Option<NaiveDate> {
    subscriptions.owed(sub, now)
}

impl Scheduler {
    pub fn new(subscriptions: Arc<Subscriptions>, sender: Arc<dyn DigestSender>) -> Scheduler {
        Scheduler {
            subscriptions,
            sender,
        }
    }

    /// Delivers every digest owed at `now`; returns when the next one is due.
    pub async fn run_due(&self, now: DateTime<Utc>) -> (PassReport, Option<DateTime<Utc>>) {
        self.run_due_until(now, &never_stopping()).await
    }

    /// [`Scheduler::run_due`], starting no new delivery once `stop` is true: a stop during a
    /// fan-out lets the digests being sent finish and be recorded, and leaves the others
    /// owed (sent first at the next start), so none is lost or sent twice.
    pub async fn run_due_until(
        &self,
        now: DateTime<Utc>,
        stop: &tokio::sync::watch::Receiver<bool>,
    ) -> (PassReport, Option<DateTime<Utc>>) {
        let subs = match self.subscriptions.active() {
            Ok(s) => s,
            Err(e) => {
                tracing::error!("scheduler: cannot read subscriptions: {e}");
                return (
                    PassReport::default(),
                    Some(now + chrono::Duration::seconds(60)),
                );
            }
        };
        let due: Vec<(Subscription, NaiveDate)> = subs
            .iter()
            .filter_map(|s| self.subscriptions.owed(s, now).map(|d| (s.clone(), d)))
            .collect();
        let mut report = PassReport::default();
        let mut retry_soon = false;
        let semaphore = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
        let mut tasks = tokio::task::JoinSet::new();
        for (sub, date) in due {
            let Some(permit) = permit_unless_stopping(&semaphore, stop).await else {
                break;
            };
            let (subscriptions, sender) = (self.subscriptions.clone(), self.sender.clone());
            tasks.spawn(async move {
                let _permit = permit;
                deliver(&subscriptions, sender.as_ref(), sub, date, now).await
            });
        }
        while let Some(result) = tasks.join_next().await {
            match result {
                Ok(Outcome::Delivered) => report.delivered += 1,
                Ok(Outcome::Empty) => report.empty += 1,
                Ok(Outcome::Disabled) => report.disabled += 1,
                Ok(Outcome::Unreachable) => report.failed += 1,
                Ok(Outcome::Migrated) => report.migrated += 1,
                Ok(Outcome::Failed) | Err(_) => {
                    report.failed += 1;
                    retry_soon = true;
                }
            }
        }
        let next = self.next_due(now);
        let retry = retry_soon
            .then(|| now + chrono::Duration::from_std(RETRY_AFTER_FAILURE).unwrap_or_default());
        let next = match (next, retry) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        (report, next)
    }

    /// The earliest next due time over all active subscriptions.
    pub fn next_due(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.subscriptions.next_due(now)
    }

    /// Runs until `stop` resolves: deliver what is owed (missed digests first), sleep until the
    /// next due time or a subscription change.
    pub async fn run(self, mut stop: tokio::sync::watch::Receiver<bool>) {
        loop {
            let now = Utc::now();
            let (report, next) = self.run_due_until(now, &stop).await;
            if report != PassReport::default() {
                tracing::info!("digests: {report:?}");
            }
            let sleep_for = next.map_or(Duration::from_secs(3600), |t| {
                (t - Utc::now()).to_std().unwrap_or_default()
            });
            // Wake at least hourly, so clock jumps (suspend, NTP) are noticed.
            let sleep_for = sleep_for.min(Duration::from_secs(3600));
            tokio::select! {
                _ = tokio::time::sleep(sleep_for) => {}
                _ = self.subscriptions.changed().notified() => {}
                _ = stop.changed() => return,
            }
            if *stop.borrow() {
                return;
            }
        }
    }
}

/// A slot of a fan-out (`semaphore`), or `None` once `stop` is true: a stopping fan-out
/// starts no new chat (those under way finish and are recorded). Digests and alerts share it.
pub async fn permit_unless_stopping(
    semaphore: &Arc<tokio::sync::Semaphore>,
    stop: &tokio::sync::watch::Receiver<bool>,
) -> Option<tokio::sync::OwnedSemaphorePermit> {
    let mut stopping = stop.clone();
    let permit = tokio::select! {
        permit = semaphore.clone().acquire_owned() => permit.ok()?,
        _ = stopping.wait_for(|s| *s) => return None,
    };
    (!*stop.borrow()).then_some(permit)
}

/// A stop signal that never comes (a single pass). Its sender lives for the process: with the
/// sender gone, waiting for a stop would end at once.
pub fn never_stopping() -> tokio::sync::watch::Receiver<bool> {
    static NEVER: std::sync::LazyLock<tokio::sync::watch::Sender<bool>> =
        std::sync::LazyLock::new(|| tokio::sync::watch::channel(false).0);
    NEVER.subscribe()
}

enum Outcome {
    Delivered,
    /// Blocked, kicked or not found: one strike for today, tried again tomorrow.
    Unreachable,
    Empty,
    Failed,
    Disabled,
    Migrated,
}

/// Sends one chat's digest for `date` and records it.
async fn deliver(
    subscriptions: &Arc<Subscriptions>,
    sender: &dyn DigestSender,
    sub: Subscription,
    date: NaiveDate,
    now: DateTime<Utc>,
) -> Outcome {
    let (service, wanted) = (subscriptions.clone(), sub.clone());
    let composed =
        tokio::task::spawn_blocking(move || service.scheduled_digest(&wanted, date, now)).await;
    let composed = match composed {
        Ok(Ok(c)) => c,
        other => {
            tracing::error!("digest for chat {} failed: {:?}", sub.chat_id, other.err());
            return Outcome::Failed;
        }
    };
    let mut chat_id = sub.chat_id;
    let mut migrated = false;
    for part in &composed.parts {
        let mut result = sender.send_html(chat_id, part.clone()).await;
        if let Delivery::Migrated(new_id) = result {
            if let Err(e) = subscriptions.migrate(chat_id, new_id) {
                tracing::error!("cannot move subscription {chat_id} to {new_id}: {e}");
                return Outcome::Failed;
            }
            chat_id = new_id;
            migrated = true;
            result = sender.send_html(chat_id, part.clone()).await;
        }
        let counted = if matches!(result, Delivery::Sent(_)) {
            "sent"
        } else {
            "failed"
        };
        metrics().digests.with_label_values(&[counted]).inc();
        match result {
            Delivery::Sent(_) => {}
            Delivery::Gone(reason) => {
                let disabled = subscriptions
                    .record_failure(chat_id, DISABLE_AFTER_FAILURES, date)
                    .unwrap_or(false);
                if disabled {
                    tracing::warn!(
                        "chat {chat_id}: subscription disabled after {DISABLE_AFTER_FAILURES} failures ({reason})"
                    );
                    return Outcome::Disabled;
                }
                return Outcome::Unreachable;
            }
            Delivery::Migrated(_) | Delivery::Failed(_) => return Outcome::Failed,
        }
    }
    if let Err(e) = subscriptions.record_delivery(chat_id, date, &composed, now) {
        tracing::error!("chat {chat_id}: digest sent but not recorded: {e}");
    }
    if migrated {
        Outcome::Migrated
    } else if composed.parts.is_empty() {
        Outcome::Empty
    } else {
        Outcome::Delivered
    }
}
