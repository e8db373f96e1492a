//! SQLite storage under DATA_DIR: search sessions behind page buttons, subscriptions and the
//! record of delivered digests. Versioned migrations run at open; WAL mode; every change is
//! one transaction.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use chrono::{NaiveDate, NaiveTime};
use chrono_tz::Tz;
use rusqlite::{Connection, OptionalExtension, params};

use crate::search::Sort;

/// Each entry moves the schema one version up; never edit an entry once released.
const MIGRATIONS: &[&str] = &[
    // 1: search sessions, so page buttons keep working across restarts.
    "CREATE TABLE searches (
        id INTEGER PRIMARY KEY,
        nonce INTEGER NOT NULL,
        chat_id INTEGER NOT NULL,
        query TEXT NOT NULL,
        sort TEXT NOT NULL,
        created_at INTEGER NOT NULL
    );",
    // 2: subscriptions and deliveries.
    "CREATE TABLE subscriptions (
        chat_id INTEGER PRIMARY KEY,
        time TEXT NOT NULL,
        tz TEXT NOT NULL,
        keywords TEXT NOT NULL DEFAULT '',
        cursor_seq INTEGER,
        created_at INTEGER NOT NULL,
        failures INTEGER NOT NULL DEFAULT 0,
        enabled INTEGER NOT NULL DEFAULT 1
    );
    CREATE TABLE deliveries (
        chat_id INTEGER NOT NULL,
        local_date TEXT NOT NULL,
        sent_at INTEGER NOT NULL,
        items INTEGER NOT NULL,
        cursor_seq INTEGER,
        PRIMARY KEY (chat_id, local_date)
    );",
    // 3: the local date of the last failed attempt, so an unreachable chat gets one strike
    // per day rather than one per retry.
    "ALTER TABLE subscriptions ADD COLUMN failed_date TEXT;",
    // 4: a chat's time zone, remembered without a subscription (it applies to the one made
    // later).
    "CREATE TABLE chat_zones (
        chat_id INTEGER PRIMARY KEY,
        tz TEXT NOT NULL
    );",
    // 5: saved searches pushed when new articles match (/alert), and the articles each chat
    // was sent, so that none is sent twice.
    "CREATE TABLE alerts (
        id INTEGER PRIMARY KEY,
        chat_id INTEGER NOT NULL,
        query TEXT NOT NULL,
        after_seq INTEGER,
        created_at INTEGER NOT NULL,
        failures INTEGER NOT NULL DEFAULT 0,
        failed_date TEXT
    );
    CREATE INDEX alerts_by_chat ON alerts (chat_id, id);
    CREATE TABLE alert_sent (
        chat_id INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        sent_at INTEGER NOT NULL,
        PRIMARY KEY (chat_id, seq)
    );",
];

/// Search sessions older than this are forgotten; their buttons then say so. Nobody pages
/// through a result list a week later, and each session is a row with its query.
pub const SEARCH_TTL_SECS: i64 = 7 * 24 * 3600;
/// A saved query is cut like a searched one: the rest was never searched.
const MAX_SAVED_QUERY_CHARS: usize = crate::search::query::MAX_QUERY_CHARS;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {path}: {source}")]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("database {0} was written by a newer jianbao (schema version {1}); upgrade jianbao")]
    TooNew(PathBuf, i64),
    #[error("the subscription of chat {0} is gone right after it was written")]
    Missing(i64),
}

/// A stored search, as a page button refers to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedSearch {
    pub id: i64,
    pub nonce: u32,
    pub query: String,
    pub sort: Sort,
}

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

/// How times and dates are written in the database (`HH:MM`, `YYYY-MM-DD`).
const TIME_FORMAT: &str = "%H:%M";
const DATE_FORMAT: &str = "%Y-%m-%d";

fn time_text(time: NaiveTime) -> String {
    time.format(TIME_FORMAT).to_string()
}

fn date_text(date: NaiveDate) -> String {
    date.format(DATE_FORMAT).to_string()
}

fn sort_text(sort: Sort) -> &'static str {
    match sort {
        Sort::Relevance => "relevance",
        Sort::Date => "date",
    }
}

/// A column the bot wrote itself that does not parse (edited by hand, or damaged): an error
/// for that row, never a silent default.
fn bad_column(index: usize, what: &str, value: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        index,
        rusqlite::types::Type::Text,
        format!("not a valid {what}: {value:?}").into(),
    )
}

fn parse_date(index: usize, text: &str) -> rusqlite::Result<NaiveDate> {
    NaiveDate::parse_from_str(text, DATE_FORMAT).map_err(|_| bad_column(index, "date", text))
}

pub struct Store {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl Store {
    /// Opens (creating) `data_dir/jianbao.sqlite3` and applies pending migrations.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        let path = data_dir.join("jianbao.sqlite3");
        let err = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        if let Some(parent) = path.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        warn_if_emptied(data_dir, &path);
        let mut conn = Connection::open(&path).map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(err)?;
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(err)?;
        if version > MIGRATIONS.len() as i64 {
            return Err(StoreError::TooNew(path, version));
        }
        if version > 0 && (version as usize) < MIGRATIONS.len() {
            backup_before_migration(&conn, &path, version);
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = conn.transaction().map_err(err)?;
            tx.execute_batch(sql).map_err(err)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)
                .map_err(err)?;
            tx.commit().map_err(err)?;
        }
        Ok(Store {
            conn: Mutex::new(conn),
            path,
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn err(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    /// Saves a search for its page buttons; the nonce makes ids unguessable.
    pub fn save_search(
        &self,
        chat_id: i64,
        query: &str,
        sort: Sort,
        now: i64,
    ) -> Result<SavedSearch, StoreError> {
        let nonce: u32 = rand_u32();
        let query: String = query.chars().take(MAX_SAVED_QUERY_CHARS).collect();
        let query = query.as_str();
        let conn = self.conn();
        conn.execute(
            "INSERT INTO searches (nonce, chat_id, query, sort, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![nonce, chat_id, query, sort_text(sort), now],
        )
        .map_err(|e| self.err(e))?;
        let id = conn.last_insert_rowid();
        // Forget old sessions now and then (cheap with the primary key).
        if id % 100 == 0 {
            let _ = conn.execute(
                "DELETE FROM searches WHERE created_at < ?1",
                params![now - SEARCH_TTL_SECS],
            );
        }
        Ok(SavedSearch {
            id,
            nonce,
            query: query.to_owned(),
            sort,
        })
    }

    /// The saved search with this id and nonce, made in this chat, if it still exists. (A
    /// button's data pressed in another chat is not honoured.)
    pub fn load_search(
        &self,
        chat_id: i64,
        id: i64,
        nonce: u32,
    ) -> Result<Option<SavedSearch>, StoreError> {
        self.conn()
            .query_row(
                "SELECT id, nonce, query, sort FROM searches WHERE id = ?1 AND nonce = ?2 AND chat_id = ?3",
                params![id, nonce, chat_id],
                |r| {
                    Ok(SavedSearch {
                        id: r.get(0)?,
                        nonce: r.get(1)?,
                        query: r.get(2)?,
                        sort: match r.get::<_, String>(3)?.as_str() {
                            "date" => Sort::Date,
                            _ => Sort::Relevance,
                        },
                    })
                },
            )
            .optional()
            .map_err(|e| self.err(e))
    }

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

    /// A group became a supergroup: its subscription and history move to the new id.
    pub fn migrate_chat(&self, old: i64, new: i64) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        tx.execute("DELETE FROM subscriptions WHERE chat_id = ?2 AND EXISTS (SELECT 1 FROM subscriptions WHERE chat_id = ?1)", params![old, new])
            .map_err(|e| self.err(e))?;
        tx.execute(
            "UPDATE subscriptions SET chat_id = ?2 WHERE chat_id = ?1",
            params![old, new],
        )
        .map_err(|e| self.err(e))?;
        tx.execute(
            "UPDATE OR IGNORE deliveries SET chat_id = ?2 WHERE chat_id = ?1",
            params![old, new],
        )
        .map_err(|e| self.err(e))?;
        tx.execute("DELETE FROM deliveries WHERE chat_id = ?1", params![old])
            .map_err(|e| self.err(e))?;
        tx.execute(
            "UPDATE alerts SET chat_id = ?2 WHERE chat_id = ?1",
            params![old, new],
        )
        .map_err(|e| self.err(e))?;
        tx.execute(
            "UPDATE OR IGNORE alert_sent SET chat_id = ?2 WHERE chat_id = ?1",
            params![old, new],
        )
        .map_err(|e| self.err(e))?;
        tx.execute("DELETE FROM alert_sent WHERE chat_id = ?1", params![old])
            .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))
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

/// A database that had subscriptions cannot become empty without someone noticing: a
/// missing or 0-byte file next to an existing index means the data was lost (a bad copy, a
/// full disk, a wrong DATA_DIR), and starting empty would drop every subscription silently.
/// The database once existed in this folder (written when it is first created): a missing
/// database next to it was lost, not never made.
const CREATED_MARKER: &str = "jianbao.sqlite3.created";

fn warn_if_emptied(data_dir: &Path, path: &Path) {
    let marker = data_dir.join(CREATED_MARKER);
    match std::fs::metadata(path) {
        Ok(m) if m.len() == 0 => tracing::error!(
            "database {} is empty (0 bytes): starting with no subscriptions; restore it from \
             a backup (*.bak-v*) if there was one",
            path.display()
        ),
        Err(_) if marker.exists() => tracing::error!(
            "database {} was created here before and is gone: starting with no \
             subscriptions; restore it from a backup (*.bak-v*) if there was one",
            path.display()
        ),
        Err(_) => {
            if let Err(e) = std::fs::write(&marker, chrono::Utc::now().to_rfc3339()) {
                tracing::warn!("cannot write {}: {e}", marker.display());
            }
        }
        Ok(_) => {}
    }
}

/// Copies the database before its schema changes, with SQLite's own `VACUUM INTO` (a
/// consistent copy even in WAL mode), to `jianbao.sqlite3.bak-v<old version>`. A failed copy
/// is logged and the migration goes on: refusing to start would be worse.
fn backup_before_migration(conn: &Connection, path: &Path, version: i64) {
    let backup = path.with_extension(format!("sqlite3.bak-v{version}"));
    let _ = std::fs::remove_file(&backup);
    match conn.execute("VACUUM INTO ?1", params![backup.to_string_lossy()]) {
        Ok(_) => tracing::info!(
            "database schema {version} → {}: backup in {}",
            MIGRATIONS.len(),
            backup.display()
        ),
        Err(e) => tracing::warn!("cannot back up {} before migrating: {e}", path.display()),
    }
}

/// A random 32-bit number from the OS-seeded hasher (no extra crate for one nonce).
fn rand_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish() as u32
}

/// Holds `DATA_DIR/jianbao.lock` for the life of the process, so two bots never run (and send)
/// on the same data.
pub struct InstanceLock {
    _file: std::fs::File,
}

impl InstanceLock {
    pub fn acquire(data_dir: &Path) -> Result<InstanceLock, String> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
        let path = data_dir.join("jianbao.lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(InstanceLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(format!(
                "another jianbao bot is already running on {} (lock file {} is held); stop it first",
                data_dir.display(),
                path.display()
            )),
            Err(std::fs::TryLockError::Error(e)) => {
                Err(format!("cannot lock {}: {e}", path.display()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> NaiveTime {
        NaiveTime::parse_from_str(text, TIME_FORMAT).unwrap()
    }

    fn tz(name: &str) -> Tz {
        name.parse().unwrap()
    }

    fn d(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, DATE_FORMAT).unwrap()
    }

    #[test]
    fn migrations_apply_once_and_data_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            store
                .upsert_subscription(42, t("08:00"), tz("Asia/Shanghai"), "", 1)
                .unwrap();
            let s = store
                .save_search(42, "人工智能", Sort::Relevance, 1)
                .unwrap();
            assert_eq!(
                store.load_search(42, s.id, s.nonce).unwrap(),
                Some(s.clone())
            );
            assert_eq!(
                store.load_search(43, s.id, s.nonce).unwrap(),
                None,
                "another chat"
            );
            assert_eq!(
                store
                    .load_search(42, s.id, s.nonce.wrapping_add(1))
                    .unwrap(),
                None
            );
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(
            store.subscription(42).unwrap().unwrap().tz,
            tz("Asia/Shanghai")
        );
    }

    #[test]
    fn sessions_store_the_cut_query_and_expire_within_a_week() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let long = "经济".repeat(5000);
        let s = store.save_search(1, &long, Sort::Relevance, 0).unwrap();
        let loaded = store.load_search(1, s.id, s.nonce).unwrap().unwrap();
        assert_eq!(loaded.query.chars().count(), MAX_SAVED_QUERY_CHARS);
        // The clean-up runs every 100th session: those of last month go.
        for _ in 0..99 {
            store
                .save_search(1, "新", Sort::Relevance, SEARCH_TTL_SECS + 10)
                .unwrap();
        }
        assert_eq!(store.load_search(1, s.id, s.nonce).unwrap(), None);
    }

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
    fn a_migration_keeps_a_copy_of_the_old_database() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jianbao.sqlite3");
        {
            // A database of schema 3, as the previous release left it.
            let conn = Connection::open(&path).unwrap();
            for sql in &MIGRATIONS[..3] {
                conn.execute_batch(sql).unwrap();
            }
            conn.pragma_update(None, "user_version", 3).unwrap();
            conn.execute(
                "INSERT INTO subscriptions (chat_id, time, tz, created_at) VALUES (9, '08:00', 'UTC', 1)",
                [],
            )
            .unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        assert!(store.subscription(9).unwrap().is_some());
        let backup = dir.path().join("jianbao.sqlite3.bak-v3");
        let old = Connection::open(&backup).unwrap();
        let version: i64 = old
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        let subs: i64 = old
            .query_row("SELECT COUNT(*) FROM subscriptions", [], |r| r.get(0))
            .unwrap();
        assert_eq!((version, subs), (3, 1));
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

    #[test]
    fn second_instance_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let _first = InstanceLock::acquire(dir.path()).unwrap();
        let second = InstanceLock::acquire(dir.path());
        assert!(second.is_err_and(|e| e.contains("already running")));
    }
}
