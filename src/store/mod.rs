//! SQLite storage under DATA_DIR: search sessions behind page buttons, subscriptions and the
//! record of delivered digests. Versioned migrations run at open; WAL mode; every change is
//! one transaction.
//!
//! This file holds the `Store` itself: opening it, the schema and its migrations (with the
//! backup before one and the warning when the database vanished), the column helpers every
//! table shares, and moving a chat's rows when a group becomes a supergroup. Each table's
//! queries live in their own file, as more `impl Store` blocks; the instance lock in `lock`.

mod alerts;
mod lock;
mod searches;
mod subscriptions;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use chrono::{NaiveDate, NaiveTime};
use rusqlite::{Connection, params};

pub use alerts::Alert;
pub use lock::InstanceLock;
pub use searches::{SEARCH_TTL_SECS, SavedSearch};
pub use subscriptions::Subscription;

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

/// How times and dates are written in the database (`HH:MM`, `YYYY-MM-DD`).
const TIME_FORMAT: &str = "%H:%M";
const DATE_FORMAT: &str = "%Y-%m-%d";

fn time_text(time: NaiveTime) -> String {
    time.format(TIME_FORMAT).to_string()
}

fn date_text(date: NaiveDate) -> String {
    date.format(DATE_FORMAT).to_string()
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Tz;

    use crate::search::Sort;

    pub(super) fn t(text: &str) -> NaiveTime {
        NaiveTime::parse_from_str(text, TIME_FORMAT).unwrap()
    }

    pub(super) fn tz(name: &str) -> Tz {
        name.parse().unwrap()
    }

    pub(super) fn d(text: &str) -> NaiveDate {
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
}
