//! Search sessions behind page buttons: a search is saved (its query cut as a searched one
//! is) with a random nonce, so a button's data names it without being guessable, and it is
//! forgotten after a week.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};
use crate::search::Sort;

/// Search sessions older than this are forgotten; their buttons then say so. Nobody pages
/// through a result list a week later, and each session is a row with its query.
pub const SEARCH_TTL_SECS: i64 = 7 * 24 * 3600;
/// A saved query is cut like a searched one: the rest was never searched.
const MAX_SAVED_QUERY_CHARS: usize = crate::search::query::MAX_QUERY_CHARS;

/// A stored search, as a page button refers to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedSearch {
    pub id: i64,
    pub nonce: u32,
    pub query: String,
    pub sort: Sort,
}

fn sort_text(sort: Sort) -> &'static str {
    match sort {
        Sort::Relevance => "relevance",
        Sort::Date => "date",
    }
}

impl Store {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
