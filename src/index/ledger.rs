//! The ingest ledger: every article key that ever entered the index, with the ingest sequence
//! number and time it got then. It lives beside the index folder (`DATA_DIR/ingest.sqlite3`),
//! not in it, because digests compare those numbers with each chat's cursor: when the index is
//! lost and rebuilt (corruption, a schema upgrade), the articles it had get their old numbers
//! back instead of new ones (which would resend them all), and new articles continue above the
//! old high-water mark (instead of from 0, which would hide them from every chat).
//!
//! Rows are written before the index commit that uses them; a crash between the two leaves
//! numbers that the next sync reuses for the same keys.
//!
//! The same database holds what boilerplate learning counts (`corpus::boilerplate`): the
//! candidate chrome lines of every indexed article with text (`article_lines`, one row per
//! article, the line keys as a blob), and the text of learned lines and sources by key
//! (`names`, for the report of learned chrome). These rows are also written before the commit;
//! the set of learned chrome the documents were cleaned with is in the commit itself (see
//! `CommitInfo::chrome`), so a crash between the two is repaired by the next sync.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params};

use super::IndexError;
use crate::corpus::boilerplate::ArticleLines;

/// When an article first entered the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub seq: u64,
    pub indexed_at: i64,
}

pub struct Ledger {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl Ledger {
    pub fn open(data_dir: &Path) -> Result<Ledger, IndexError> {
        let path = data_dir.join("ingest.sqlite3");
        let err = |e: rusqlite::Error| IndexError::Ledger {
            path: path.clone(),
            message: e.to_string(),
        };
        let conn = Connection::open(&path).map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(err)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS articles (
                key TEXT PRIMARY KEY,
                seq INTEGER NOT NULL,
                indexed_at INTEGER NOT NULL
            );
            CREATE TABLE IF NOT EXISTS article_lines (
                key TEXT PRIMARY KEY,
                source INTEGER NOT NULL,
                lines BLOB NOT NULL
            );
            CREATE TABLE IF NOT EXISTS lines_generation (
                id INTEGER PRIMARY KEY CHECK (id = 0),
                generation INTEGER NOT NULL
            );
            CREATE TABLE IF NOT EXISTS names (
                hash INTEGER PRIMARY KEY,
                text TEXT NOT NULL
            );",
        )
        .map_err(err)?;
        Ok(Ledger {
            conn: Mutex::new(conn),
            path,
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn err(&self, e: rusqlite::Error) -> IndexError {
        IndexError::Ledger {
            path: self.path.clone(),
            message: e.to_string(),
        }
    }

    /// The first number above every one handed out so far.
    pub fn next_seq(&self) -> Result<u64, IndexError> {
        let max: Option<i64> = self
            .conn()
            .query_row("SELECT MAX(seq) FROM articles", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        Ok(max.map_or(0, |m| m as u64 + 1))
    }

    pub fn is_empty(&self) -> Result<bool, IndexError> {
        self.conn()
            .query_row("SELECT NOT EXISTS (SELECT 1 FROM articles)", [], |r| {
                r.get(0)
            })
            .map_err(|e| self.err(e))
    }

    /// What `key` got when it first entered the index, if it ever did.
    pub fn lookup(&self, key: &str) -> Result<Option<Entry>, IndexError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached("SELECT seq, indexed_at FROM articles WHERE key = ?1")
            .map_err(|e| self.err(e))?;
        stmt.query_row(params![key], |r| {
            Ok(Entry {
                seq: r.get::<_, i64>(0)? as u64,
                indexed_at: r.get(1)?,
            })
        })
        .optional()
        .map_err(|e| self.err(e))
    }

    /// Records first entries, in one transaction; a key already recorded keeps its entry.
    pub fn record(&self, entries: &[(String, Entry)]) -> Result<(), IndexError> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO articles (key, seq, indexed_at) VALUES (?1, ?2, ?3)",
                )
                .map_err(|e| self.err(e))?;
            for (key, e) in entries {
                stmt.execute(params![key, e.seq as i64, e.indexed_at])
                    .map_err(|e| self.err(e))?;
            }
        }
        tx.commit().map_err(|e| self.err(e))
    }

    /// Calls `each` with every article's candidate chrome lines, one row at a time (a large
    /// collection's rows are not all held in memory).
    pub fn for_each_lines(
        &self,
        mut each: impl FnMut(String, ArticleLines),
    ) -> Result<(), IndexError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT key, source, lines FROM article_lines")
            .map_err(|e| self.err(e))?;
        let mut rows = stmt.query([]).map_err(|e| self.err(e))?;
        while let Some(row) = rows.next().map_err(|e| self.err(e))? {
            let key: String = row.get(0).map_err(|e| self.err(e))?;
            let source: i64 = row.get(1).map_err(|e| self.err(e))?;
            let blob: Vec<u8> = row.get(2).map_err(|e| self.err(e))?;
            each(key, ArticleLines::from_blob(source as u64, &blob));
        }
        Ok(())
    }

    /// One article's candidate chrome lines, if it has a row.
    pub fn lines_of(&self, key: &str) -> Result<Option<ArticleLines>, IndexError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached("SELECT source, lines FROM article_lines WHERE key = ?1")
            .map_err(|e| self.err(e))?;
        stmt.query_row(params![key], |r| {
            let source: i64 = r.get(0)?;
            let blob: Vec<u8> = r.get(1)?;
            Ok(ArticleLines::from_blob(source as u64, &blob))
        })
        .optional()
        .map_err(|e| self.err(e))
    }

    /// The number of the last [`Ledger::save_lines`] (0: never). The index commit that follows
    /// records it: when the two differ, rows were written for a commit that did not happen.
    pub fn lines_generation(&self) -> Result<u64, IndexError> {
        let generation: Option<i64> = self
            .conn()
            .query_row(
                "SELECT generation FROM lines_generation WHERE id = 0",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(generation.unwrap_or(0) as u64)
    }

    /// Writes the lines of `upserts`, deletes those of `deletes` and records `names`, in one
    /// transaction, and returns the new [`Ledger::lines_generation`].
    pub fn save_lines<'a>(
        &self,
        upserts: impl IntoIterator<Item = (&'a str, &'a ArticleLines)>,
        deletes: impl IntoIterator<Item = &'a str>,
        names: &HashMap<u64, String>,
    ) -> Result<u64, IndexError> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        {
            let mut upsert = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO article_lines (key, source, lines) VALUES (?1, ?2, ?3)",
                )
                .map_err(|e| self.err(e))?;
            for (key, lines) in upserts {
                upsert
                    .execute(params![key, lines.source as i64, lines.lines_blob()])
                    .map_err(|e| self.err(e))?;
            }
            let mut delete = tx
                .prepare_cached("DELETE FROM article_lines WHERE key = ?1")
                .map_err(|e| self.err(e))?;
            for key in deletes {
                delete.execute(params![key]).map_err(|e| self.err(e))?;
            }
            let mut name = tx
                .prepare_cached("INSERT OR IGNORE INTO names (hash, text) VALUES (?1, ?2)")
                .map_err(|e| self.err(e))?;
            for (hash, text) in names {
                name.execute(params![*hash as i64, text])
                    .map_err(|e| self.err(e))?;
            }
        }
        let generation: i64 = tx
            .query_row(
                "INSERT INTO lines_generation (id, generation) VALUES (0, 1)
                 ON CONFLICT (id) DO UPDATE SET generation = generation + 1
                 RETURNING generation",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(generation as u64)
    }

    /// The text recorded for a line or source key.
    pub fn name(&self, hash: u64) -> Result<Option<String>, IndexError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached("SELECT text FROM names WHERE hash = ?1")
            .map_err(|e| self.err(e))?;
        stmt.query_row(params![hash as i64], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))
    }
}
