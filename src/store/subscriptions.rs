//! Digest subscriptions: the subscription rows, the time zone a chat chose (subscribed or
//! not), and the record of delivered digests with the failures that disable a subscription.

use chrono::{NaiveDate, NaiveTime};
use chrono_tz::Tz;
use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError, TIME_FORMAT, bad_column, date_text, parse_date, time_text};

/// A chat's digest subscription, typed: the database's text columns are parsed once, here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub chat_id: i64,
    /// Local time of day.
    pub time: NaiveTime,
    pub tz: Tz,
    /// Optional filter, same syntax as /search.
    pub keywords: String,
    /// Ingest sequence up to which articles were already sent (None: nothing sent yet).
    pub cursor_seq: Option<u64>,
    pub created_at: i64,
    pub failures: u32,
    pub enabled: bool,
    /// Local date of the last attempt that found the chat unreachable.
    pub failed_date: Option<NaiveDate>,
}

impl Store {
    /// Creates or updates a subscription (re-enabling it); keeps its cursor.
    pub fn upsert_subscription(
        &self,
        chat_id: i64,
        time: NaiveTime,
        tz: Tz,
        keywords: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "INSERT INTO subscriptions (chat_id, time, tz, keywords, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(chat_id) DO UPDATE SET time = excluded.time, tz = excluded.tz,
                    keywords = excluded.keywords, enabled = 1, failures = 0, failed_date = NULL",
                params![chat_id, time_text(time), tz.name(), keywords, now],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Remembers the chat's time zone and applies it to its subscription, if any. Returns
    /// whether the chat has a subscription.
    pub fn set_timezone(&self, chat_id: i64, tz: Tz) -> Result<bool, StoreError> {
        let tz = tz.name();
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        tx.execute(
            "INSERT INTO chat_zones (chat_id, tz) VALUES (?1, ?2)
             ON CONFLICT(chat_id) DO UPDATE SET tz = excluded.tz",
            params![chat_id, tz],
        )
        .map_err(|e| self.err(e))?;
        let subscribed = tx
            .execute(
                "UPDATE subscriptions SET tz = ?2 WHERE chat_id = ?1",
                params![chat_id, tz],
            )
            .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(subscribed > 0)
    }

    /// The time zone the chat chose with /timezone, subscribed or not.
    pub fn chat_timezone(&self, chat_id: i64) -> Result<Option<Tz>, StoreError> {
        self.conn()
            .query_row(
                "SELECT tz FROM chat_zones WHERE chat_id = ?1",
                params![chat_id],
                |r| {
                    let name: String = r.get(0)?;
                    name.parse().map_err(|_| bad_column(0, "time zone", &name))
                },
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    pub fn delete_subscription(&self, chat_id: i64) -> Result<bool, StoreError> {
        self.conn()
            .execute(
                "DELETE FROM subscriptions WHERE chat_id = ?1",
                params![chat_id],
            )
            .map(|n| n > 0)
            .map_err(|e| self.err(e))
    }

    pub fn subscription(&self, chat_id: i64) -> Result<Option<Subscription>, StoreError> {
        self.conn()
            .query_row(
                &format!("{SUB_SELECT} WHERE chat_id = ?1"),
                params![chat_id],
                row_to_subscription,
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Every enabled subscription. A row that does not parse is reported and left out: one
    /// damaged row must not stop every other chat's digest.
    pub fn active_subscriptions(&self) -> Result<Vec<Subscription>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(&format!("{SUB_SELECT} WHERE enabled = 1 ORDER BY chat_id"))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], row_to_subscription)
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            match row {
                Ok(sub) => out.push(sub),
                Err(e) => tracing::error!("{}: skipping a subscription: {e}", self.path.display()),
            }
        }
        Ok(out)
    }

    pub fn count_subscriptions(&self) -> Result<u64, StoreError> {
        self.conn()
            .query_row(
                "SELECT COUNT(*) FROM subscriptions WHERE enabled = 1",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as u64)
            .map_err(|e| self.err(e))
    }

    /// The local date of the chat's last recorded digest.
    pub fn last_delivery_date(&self, chat_id: i64) -> Result<Option<NaiveDate>, StoreError> {
        self.conn()
            .query_row(
                "SELECT MAX(local_date) FROM deliveries WHERE chat_id = ?1",
                params![chat_id],
                |r| {
                    r.get::<_, Option<String>>(0)?
                        .map(|text| parse_date(0, &text))
                        .transpose()
                },
            )
            .map_err(|e| self.err(e))
    }

    /// Records a delivered digest and advances the chat's cursor in one transaction, after
    /// Telegram accepted the message. Returns false if that (chat, date) was already recorded.
    pub fn record_delivery(
        &self,
        chat_id: i64,
        local_date: NaiveDate,
        items: usize,
        cursor_seq: Option<u64>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let local_date = date_text(local_date);
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        let inserted = tx
            .execute(
                "INSERT OR IGNORE INTO deliveries (chat_id, local_date, sent_at, items, cursor_seq) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![chat_id, local_date, now, items as i64, cursor_seq.map(|s| s as i64)],
            )
            .map_err(|e| self.err(e))?;
        if let Some(seq) = cursor_seq {
            tx.execute(
                "UPDATE subscriptions SET cursor_seq = MAX(COALESCE(cursor_seq, -1), ?2), failures = 0 WHERE chat_id = ?1",
                params![chat_id, seq as i64],
            )
            .map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))?;
        Ok(inserted > 0)
    }

    /// Counts a failed delivery for `local_date` (once per date); disables the subscription
    /// at `limit` consecutive failed days. Returns true when it was disabled now.
    pub fn record_failure(
        &self,
        chat_id: i64,
        limit: u32,
        local_date: NaiveDate,
    ) -> Result<bool, StoreError> {
        let local_date = date_text(local_date);
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        tx.execute(
            "UPDATE subscriptions SET failures = failures + 1, failed_date = ?2
             WHERE chat_id = ?1 AND (failed_date IS NULL OR failed_date <> ?2)",
            params![chat_id, local_date],
        )
        .map_err(|e| self.err(e))?;
        let disabled = tx
            .execute(
                "UPDATE subscriptions SET enabled = 0 WHERE chat_id = ?1 AND enabled = 1 AND failures >= ?2",
                params![chat_id, limit],
            )
            .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(disabled > 0)
    }
}

const SUB_SELECT: &str = "SELECT chat_id, time, tz, keywords, cursor_seq, created_at, failures, enabled, failed_date FROM subscriptions";

fn row_to_subscription(r: &rusqlite::Row<'_>) -> rusqlite::Result<Subscription> {
    let time: String = r.get(1)?;
    let tz: String = r.get(2)?;
    Ok(Subscription {
        chat_id: r.get(0)?,
        time: NaiveTime::parse_from_str(&time, TIME_FORMAT)
            .map_err(|_| bad_column(1, "time", &time))?,
        tz: tz.parse().map_err(|_| bad_column(2, "time zone", &tz))?,
        keywords: r.get(3)?,
        cursor_seq: r.get::<_, Option<i64>>(4)?.map(|s| s as u64),
        created_at: r.get(5)?,
        failures: r.get::<_, i64>(6)? as u32,
        enabled: r.get::<_, i64>(7)? != 0,
        failed_date: r
            .get::<_, Option<String>>(8)?
            .map(|text| parse_date(8, &text))
            .transpose()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::{d, t, tz};

    #[test]
    fn a_time_zone_is_remembered_without_a_subscription() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert!(!store.set_timezone(5, tz("Asia/Taipei")).unwrap());
        assert_eq!(store.chat_timezone(5).unwrap(), Some(tz("Asia/Taipei")));
        store
            .upsert_subscription(5, t("08:00"), tz("Asia/Taipei"), "", 1)
            .unwrap();
        assert!(store.set_timezone(5, tz("Europe/Berlin")).unwrap());
        assert_eq!(
            store.subscription(5).unwrap().unwrap().tz,
            tz("Europe/Berlin")
        );
    }

    #[test]
    fn deliveries_are_recorded_once_and_move_the_cursor() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store
            .upsert_subscription(7, t("08:00"), tz("UTC"), "", 1)
            .unwrap();
        assert!(
            store
                .record_delivery(7, d("2024-07-10"), 3, Some(10), 2)
                .unwrap()
        );
        assert!(
            !store
                .record_delivery(7, d("2024-07-10"), 3, Some(10), 3)
                .unwrap()
        );
        assert_eq!(store.subscription(7).unwrap().unwrap().cursor_seq, Some(10));
        assert_eq!(store.last_delivery_date(7).unwrap(), Some(d("2024-07-10")));
    }

    #[test]
    fn failures_disable_and_migration_moves() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store
            .upsert_subscription(-1, t("08:00"), tz("UTC"), "", 1)
            .unwrap();
        assert!(!store.record_failure(-1, 3, d("2024-07-01")).unwrap());
        assert!(
            !store.record_failure(-1, 3, d("2024-07-01")).unwrap(),
            "one strike per day"
        );
        assert!(!store.record_failure(-1, 3, d("2024-07-02")).unwrap());
        assert!(store.record_failure(-1, 3, d("2024-07-03")).unwrap());
        assert!(store.active_subscriptions().unwrap().is_empty());
        store
            .upsert_subscription(-2, t("09:00"), tz("UTC"), "", 1)
            .unwrap();
        store.migrate_chat(-2, -1002).unwrap();
        assert!(store.subscription(-2).unwrap().is_none());
        assert_eq!(store.subscription(-1002).unwrap().unwrap().time, t("09:00"));
    }
}
