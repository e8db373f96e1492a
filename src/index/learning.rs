//! What the index has learned of the collection's chrome: every indexed article's candidate
//! lines and the counts over them (`corpus::boilerplate`), kept in memory between syncs and
//! stored in the ledger's database.
//!
//! How the learned set reaches the documents: a sync cleans the files it reads with the set the
//! index was last committed with (`CommitInfo::chrome`), updates the counts, and learns the new
//! set from them. When the new set differs, the articles it cleans differently (those having a
//! line that was learned or forgotten) are read again and re-indexed in the same commit, which
//! records the new set. So after every commit each document is cleaned with the recorded set,
//! and a line that crosses a threshold costs a re-read of exactly the articles that have it.

use std::collections::{HashMap, HashSet};

use super::IndexError;
use super::ledger::Ledger;
use crate::corpus::boilerplate::{ArticleLines, Chrome, LineStats, Scope};

#[derive(Debug, Default)]
pub(super) struct LineBook {
    loaded: bool,
    articles: HashMap<String, ArticleLines>,
    stats: LineStats,
    /// Keys whose row must be written (or deleted, if no longer in `articles`).
    dirty: HashSet<String>,
    /// Texts of learned lines and their sources, to record.
    names: HashMap<u64, String>,
}

impl LineBook {
    /// Loads the rows from the ledger, once per process (or again after a failed sync).
    pub(super) fn ensure_loaded(&mut self, ledger: &Ledger) -> Result<(), IndexError> {
        if self.loaded {
            return Ok(());
        }
        let articles = ledger.load_lines()?;
        let mut stats = LineStats::default();
        for lines in articles.values() {
            stats.add(lines);
        }
        *self = LineBook {
            loaded: true,
            articles,
            stats,
            ..LineBook::default()
        };
        Ok(())
    }

    /// Forgets what is in memory: the next sync loads from the ledger again.
    pub(super) fn invalidate(&mut self) {
        *self = LineBook::default();
    }

    pub(super) fn contains(&self, key: &str) -> bool {
        self.articles.contains_key(key)
    }

    /// Drops the rows of articles that `keep` says are not in the index (left from an index
    /// that was rebuilt, or from a crash before a commit).
    pub(super) fn retain(&mut self, keep: impl Fn(&str) -> bool) {
        let gone: Vec<String> = self.articles.keys().filter(|k| !keep(k)).cloned().collect();
        for key in &gone {
            self.remove(key);
        }
    }

    pub(super) fn remove(&mut self, key: &str) {
        if let Some(old) = self.articles.remove(key) {
            self.stats.remove(&old);
            self.dirty.insert(key.to_owned());
        }
    }

    /// Records the lines of an indexed article, replacing what it had.
    pub(super) fn insert(&mut self, key: &str, lines: ArticleLines) {
        self.remove(key);
        self.stats.add(&lines);
        self.articles.insert(key.to_owned(), lines);
        self.dirty.insert(key.to_owned());
    }

    /// Remembers the text behind a learned line's or a source's key.
    pub(super) fn name(&mut self, hash: u64, text: &str) {
        self.names
            .entry(hash)
            .or_insert_with(|| text.chars().take(200).collect());
    }

    pub(super) fn learned(&self) -> Chrome {
        self.stats.learned()
    }

    pub(super) fn learned_lines(&self) -> Vec<(u64, Scope)> {
        self.stats.learned_lines()
    }

    /// Keys of the articles that `old` and `new` clean differently, sorted.
    pub(super) fn affected(&self, old: &Chrome, new: &Chrome) -> Vec<String> {
        let mut keys: Vec<String> = self
            .articles
            .iter()
            .filter(|(_, lines)| old.differs_for(new, lines))
            .map(|(k, _)| k.clone())
            .collect();
        keys.sort();
        keys
    }

    /// Writes the changed rows to the ledger; returns the ledger's generation of the rows
    /// (see [`Ledger::lines_generation`]).
    pub(super) fn flush(&mut self, ledger: &Ledger) -> Result<u64, IndexError> {
        if self.dirty.is_empty() && self.names.is_empty() {
            return ledger.lines_generation();
        }
        let upserts = self
            .dirty
            .iter()
            .filter_map(|k| self.articles.get(k).map(|l| (k.as_str(), l)));
        let deletes = self
            .dirty
            .iter()
            .filter(|k| !self.articles.contains_key(*k))
            .map(String::as_str);
        let generation = ledger.save_lines(upserts, deletes, &self.names)?;
        self.dirty.clear();
        self.names.clear();
        Ok(generation)
    }
}
