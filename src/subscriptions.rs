//! Digest subscriptions, in one place: typed subscriptions, their storage, when each is due,
//! and the digest each gets. Every change goes through here and wakes the scheduler itself, so
//! no caller has to remember to. The conversation (`app`), the scheduler and the CLI all use
//! this service; none of them reaches into the store for subscriptions.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use tokio::sync::Notify;

use crate::config::Settings;
use crate::digest::{self, Composed, Since, WhenEmpty};
use crate::index::SearchIndex;
use crate::schedule;
use crate::store::{Store, StoreError};

pub use crate::store::Subscription;

/// A subscription's first digest covers the articles indexed in the last day.
const FIRST_DIGEST_SECS: i64 = 24 * 3600;

impl Subscription {
    /// Where this chat's next digest starts: after the last one sent, or the last day.
    pub fn since(&self, now: DateTime<Utc>) -> Since {
        self.cursor_seq
            .map_or(Since::Time(now.timestamp() - FIRST_DIGEST_SECS), Since::Seq)
    }
}

/// What `/subscribe` did.
#[derive(Debug, Clone)]
pub struct Subscribed {
    pub subscription: Subscription,
    /// The chat had a subscription, now changed.
    pub updated: bool,
}

/// The subscription service.
pub struct Subscriptions {
    store: Arc<Store>,
    index: Arc<SearchIndex>,
    settings: Settings,
    /// Woken on every change, so the scheduler recomputes its next wake-up.
    changed: Notify,
}

impl Subscriptions {
    pub fn new(store: Arc<Store>, index: Arc<SearchIndex>, settings: Settings) -> Subscriptions {
        Subscriptions {
            store,
            index,
            settings,
            changed: Notify::new(),
        }
    }

    /// Notified whenever a subscription changes.
    pub fn changed(&self) -> &Notify {
        &self.changed
    }

    pub fn get(&self, chat_id: i64) -> Result<Option<Subscription>, StoreError> {
        self.store.subscription(chat_id)
    }

    /// Every enabled subscription.
    pub fn active(&self) -> Result<Vec<Subscription>, StoreError> {
        self.store.active_subscriptions()
    }

    pub fn count(&self) -> Result<u64, StoreError> {
        self.store.count_subscriptions()
    }

    /// Subscribes the chat (or changes its subscription) at `time` (the default digest time
    /// when `None`), in the zone it already has (its subscription's, the one it chose with
    /// /timezone, or the default), with `keywords` as the filter.
    pub fn subscribe(
        &self,
        chat_id: i64,
        time: Option<NaiveTime>,
        keywords: &str,
        now: DateTime<Utc>,
    ) -> Result<Subscribed, StoreError> {
        let existing = self.get(chat_id)?;
        let tz = match &existing {
            Some(s) => s.tz,
            None => self.chat_zone(chat_id),
        };
        let time = time.unwrap_or(self.settings.digest_time);
        self.store
            .upsert_subscription(chat_id, time, tz, keywords, now.timestamp())?;
        self.changed.notify_one();
        let subscription = self
            .get(chat_id)?
            .ok_or_else(|| StoreError::Missing(chat_id))?;
        Ok(Subscribed {
            subscription,
            updated: existing.is_some(),
        })
    }

    /// Returns whether there was a subscription to remove.
    pub fn unsubscribe(&self, chat_id: i64) -> Result<bool, StoreError> {
        let removed = self.store.delete_subscription(chat_id)?;
        if removed {
            self.changed.notify_one();
        }
        Ok(removed)
    }

    /// Remembers the chat's zone (for a subscription made later too); returns whether the
    /// chat has a subscription, which now follows it.
    pub fn set_timezone(&self, chat_id: i64, tz: Tz) -> Result<bool, StoreError> {
        let subscribed = self.store.set_timezone(chat_id, tz)?;
        self.changed.notify_one();
        Ok(subscribed)
    }

    /// The zone the chat chose with /timezone, or the default.
    pub fn chat_zone(&self, chat_id: i64) -> Tz {
        match self.store.chat_timezone(chat_id) {
            Ok(Some(tz)) => tz,
            Ok(None) => self.settings.default_tz,
            Err(e) => {
                tracing::error!("chat {chat_id}: cannot read its time zone: {e}");
                self.settings.default_tz
            }
        }
    }

    /// The next time `sub` is due after `now`.
    pub fn next_due_of(&self, sub: &Subscription, now: DateTime<Utc>) -> DateTime<Utc> {
        schedule::next_due(sub.tz, sub.time, now)
    }

    /// The local date whose digest `sub` is owed at `now`, if any. After downtime only the
    /// latest missed day is owed: one digest covering everything since the last one.
    pub fn owed(&self, sub: &Subscription, now: DateTime<Utc>) -> Option<NaiveDate> {
        if !self.settings.chat_allowed(sub.chat_id) {
            // Removed from ALLOWED_CHAT_IDS: revocation stops deliveries (the subscription is
            // kept, so re-allowing the chat resumes them; /unsubscribe still works).
            return None;
        }
        let date = schedule::owed_date(sub.tz, sub.time, now);
        let due_at = schedule::local_instant(sub.tz, date, sub.time);
        if due_at.timestamp() < sub.created_at {
            return None; // subscribed after that day's time: the first digest is the next one
        }
        if sub.failed_date == Some(date) {
            return None; // unreachable today already: try again tomorrow
        }
        match self.store.last_delivery_date(sub.chat_id) {
            Ok(Some(last)) if last >= date => None,
            Ok(_) => Some(date),
            Err(e) => {
                tracing::error!("chat {}: cannot read its deliveries: {e}", sub.chat_id);
                None
            }
        }
    }

    /// The earliest next due time over all active subscriptions of allowed chats.
    pub fn next_due(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let subs = self.active().ok()?;
        subs.iter()
            .filter(|s| self.settings.chat_allowed(s.chat_id))
            .map(|s| self.next_due_of(s, now))
            .min()
    }

    /// The scheduled digest of `sub` for local `date` (nothing when empty, unless
    /// DIGEST_SEND_EMPTY).
    pub fn scheduled_digest(
        &self,
        sub: &Subscription,
        date: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<Composed, tantivy::TantivyError> {
        let when_empty = if self.settings.digest_send_empty {
            WhenEmpty::Note
        } else {
            WhenEmpty::Nothing
        };
        self.compose(sub.since(now), &sub.keywords, date, when_empty)
    }

    /// `/digest`: what the chat's next digest would hold now (the last day's articles without
    /// a subscription), in its zone's date; the schedule and cursor stay as they are.
    pub fn preview(
        &self,
        chat_id: i64,
        now: DateTime<Utc>,
    ) -> Result<Composed, tantivy::TantivyError> {
        let sub = self.get(chat_id).unwrap_or_else(|e| {
            tracing::error!("chat {chat_id}: cannot read its subscription: {e}");
            None
        });
        let (since, keywords, tz) = match &sub {
            Some(s) => (s.since(now), s.keywords.as_str(), s.tz),
            None => (
                Since::Time(now.timestamp() - FIRST_DIGEST_SECS),
                "",
                self.chat_zone(chat_id),
            ),
        };
        let date = schedule::local_date(tz, now);
        self.compose(since, keywords, date, WhenEmpty::Note)
    }

    fn compose(
        &self,
        since: Since,
        keywords: &str,
        date: NaiveDate,
        when_empty: WhenEmpty,
    ) -> Result<Composed, tantivy::TantivyError> {
        let label = date.format("%Y-%m-%d").to_string();
        digest::compose(
            &self.index,
            since,
            keywords,
            self.settings.digest_max_items,
            &label,
            when_empty,
        )
    }

    /// Records a digest Telegram accepted (see `Store::record_delivery`).
    pub fn record_delivery(
        &self,
        chat_id: i64,
        date: NaiveDate,
        composed: &Composed,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.store.record_delivery(
            chat_id,
            date,
            composed.items,
            composed.cursor,
            now.timestamp(),
        )
    }

    /// One failed day for an unreachable chat; true when the subscription was disabled now.
    pub fn record_failure(
        &self,
        chat_id: i64,
        limit: u32,
        date: NaiveDate,
    ) -> Result<bool, StoreError> {
        let disabled = self.store.record_failure(chat_id, limit, date)?;
        if disabled {
            self.changed.notify_one();
        }
        Ok(disabled)
    }

    /// A group became a supergroup: its subscription moves to the new id.
    pub fn migrate(&self, old: i64, new: i64) -> Result<(), StoreError> {
        self.store.migrate_chat(old, new)?;
        self.changed.notify_one();
        Ok(())
    }
}
