//! Saved searches (/alert) and what they sent: the alert rows, the articles each chat was
//! already sent, and the failures that remove an unreachable chat's alerts.

use chrono::NaiveDate;
use rusqlite::params;

use super::{Store, StoreError, date_text};

/// A saved search (/alert).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub id: i64,
    pub chat_id: i64,
    pub query: String,
    /// Articles with a higher ingest number are new to it (`None`: the index was empty when
    /// it was made, so every article is).
    pub after_seq: Option<u64>,
    pub created_at: i64,
}

impl Store {
    /// Saves an alert unless the chat has `limit` already (`None` then); returns it with its
    /// number in the chat's list.
    pub fn add_alert(
        &self,
        chat_id: i64,
        query: &str,
        after_seq: Option<u64>,
        limit: usize,
        now: i64,
    ) -> Result<Option<(Alert, usize)>, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        let count: i64 = tx
            .query_row(
                "SELECT COUNT(*) FROM alerts WHERE chat_id = ?1",
                params![chat_id],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        if count as usize >= limit {
            return Ok(None);
        }
        tx.execute(
            "INSERT INTO alerts (chat_id, query, after_seq, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![chat_id, query, after_seq.map(|s| s as i64), now],
        )
        .map_err(|e| self.err(e))?;
        let id = tx.last_insert_rowid();
        tx.commit().map_err(|e| self.err(e))?;
        let alert = Alert {
            id,
            chat_id,
            query: query.to_owned(),
            after_seq,
            created_at: now,
        };
        Ok(Some((alert, count as usize + 1)))
    }

    /// A chat's alerts, oldest first (their numbers in /alerts are 1, 2, …).
    pub fn alerts_of(&self, chat_id: i64) -> Result<Vec<Alert>, StoreError> {
        self.alerts_where("WHERE chat_id = ?1 ORDER BY id", params![chat_id])
    }

    /// Every alert, by chat, oldest first.
    pub fn all_alerts(&self) -> Result<Vec<Alert>, StoreError> {
        self.alerts_where("ORDER BY chat_id, id", params![])
    }

    fn alerts_where(
        &self,
        clause: &str,
        args: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<Alert>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(&format!(
                "SELECT id, chat_id, query, after_seq, created_at FROM alerts {clause}"
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(args, |r| {
                Ok(Alert {
                    id: r.get(0)?,
                    chat_id: r.get(1)?,
                    query: r.get(2)?,
                    after_seq: r.get::<_, Option<i64>>(3)?.map(|s| s as u64),
                    created_at: r.get(4)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }

    pub fn delete_alert(&self, id: i64) -> Result<bool, StoreError> {
        self.conn()
            .execute("DELETE FROM alerts WHERE id = ?1", params![id])
            .map(|n| n > 0)
            .map_err(|e| self.err(e))
    }

    /// Counts a day on which the chat was unreachable (once per date) and removes its alerts
    /// at `limit` such days, as digests are disabled. Returns true when they were removed.
    pub fn record_alert_failure(
        &self,
        chat_id: i64,
        limit: u32,
        date: NaiveDate,
    ) -> Result<bool, StoreError> {
        let date = date_text(date);
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        tx.execute(
            "UPDATE alerts SET failures = failures + 1, failed_date = ?2
             WHERE chat_id = ?1 AND (failed_date IS NULL OR failed_date <> ?2)",
            params![chat_id, date],
        )
        .map_err(|e| self.err(e))?;
        let removed = tx
            .execute(
                "DELETE FROM alerts WHERE chat_id = ?1 AND failures >= ?2",
                params![chat_id, limit],
            )
            .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(removed > 0)
    }

    /// Whether the chat was found unreachable on `date` already (tried again the next day).
    pub fn alerts_failed_on(&self, chat_id: i64, date: NaiveDate) -> Result<bool, StoreError> {
        self.conn()
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM alerts WHERE chat_id = ?1 AND failed_date = ?2)",
                params![chat_id, date_text(date)],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))
    }

    /// Which of `seqs` the chat was already sent by an alert.
    pub fn alert_sent(&self, chat_id: i64, seqs: &[u64]) -> Result<Vec<u64>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT 1 FROM alert_sent WHERE chat_id = ?1 AND seq = ?2")
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for &seq in seqs {
            if stmt
                .exists(params![chat_id, seq as i64])
                .map_err(|e| self.err(e))?
            {
                out.push(seq);
            }
        }
        Ok(out)
    }

    /// Records the articles Telegram accepted for a chat, and moves its alerts' start to
    /// `cursor`, in one transaction (after the send: a crash in between sends them again once).
    pub fn record_alerts_sent(
        &self,
        chat_id: i64,
        seqs: &[u64],
        cursor: Option<u64>,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        for &seq in seqs {
            tx.execute(
                "INSERT OR IGNORE INTO alert_sent (chat_id, seq, sent_at) VALUES (?1, ?2, ?3)",
                params![chat_id, seq as i64, now],
            )
            .map_err(|e| self.err(e))?;
        }
        if let Some(cursor) = cursor {
            tx.execute(
                "UPDATE alerts SET after_seq = MAX(COALESCE(after_seq, -1), ?2) WHERE chat_id = ?1",
                params![chat_id, cursor as i64],
            )
            .map_err(|e| self.err(e))?;
        }
        if !seqs.is_empty() {
            // Delivered: the chat is reachable again.
            tx.execute(
                "UPDATE alerts SET failures = 0, failed_date = NULL WHERE chat_id = ?1",
                params![chat_id],
            )
            .map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::d;

    #[test]
    fn alerts_of_an_unreachable_chat_go_after_three_days_and_a_delivery_resets_the_count() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store
            .add_alert(-5, "量子", Some(3), 10, 1)
            .unwrap()
            .unwrap();
        store
            .add_alert(-5, "芯片", Some(3), 10, 1)
            .unwrap()
            .unwrap();
        assert!(!store.record_alert_failure(-5, 3, d("2024-07-01")).unwrap());
        assert!(
            !store.record_alert_failure(-5, 3, d("2024-07-01")).unwrap(),
            "once a day"
        );
        assert!(store.alerts_failed_on(-5, d("2024-07-01")).unwrap());
        assert!(!store.alerts_failed_on(-5, d("2024-07-02")).unwrap());
        assert!(!store.record_alert_failure(-5, 3, d("2024-07-02")).unwrap());
        // Delivered again: the count starts over.
        store.record_alerts_sent(-5, &[7], Some(7), 2).unwrap();
        assert!(!store.record_alert_failure(-5, 3, d("2024-07-03")).unwrap());
        assert!(!store.record_alert_failure(-5, 3, d("2024-07-04")).unwrap());
        assert!(store.record_alert_failure(-5, 3, d("2024-07-05")).unwrap());
        assert!(store.alerts_of(-5).unwrap().is_empty());
        // Sent articles are remembered; a migration moves alerts and history.
        store.add_alert(-6, "量子", None, 10, 1).unwrap().unwrap();
        store.record_alerts_sent(-6, &[1, 2], Some(2), 3).unwrap();
        store.migrate_chat(-6, -1006).unwrap();
        assert_eq!(store.alerts_of(-1006).unwrap().len(), 1);
        assert_eq!(store.alert_sent(-1006, &[1, 2, 3]).unwrap(), vec![1, 2]);
        assert!(store.alert_sent(-6, &[1]).unwrap().is_empty());
        // The per-chat limit.
        assert!(store.add_alert(-7, "a", None, 1, 1).unwrap().is_some());
        assert!(store.add_alert(-7, "b", None, 1, 1).unwrap().is_none());
    }
}
