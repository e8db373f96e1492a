//! What the index has learned of the collection's chrome: the counts over every indexed
//! article's candidate lines (`corpus::boilerplate`), kept in memory between syncs, and the
//! lines themselves, stored in the ledger's database.
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
    stats: LineStats,
    /// Rows changed since the last flush: the article's lines, or `None` for a deleted row.
    /// The other articles' lines are only in the ledger: held here, the lines of 97,970
    /// articles took ~80 MB that grew with the collection.
    pending: HashMap<String, Option<ArticleLines>>,
    /// Texts of learned lines and their sources, to record.
    names: HashMap<u64, String>,
}

impl LineBook {
    /// Counts the rows of the ledger, once per process (or again after a failed sync).
    pub(super) fn ensure_loaded(&mut self, ledger: &Ledger) -> Result<(), IndexError> {
        if self.loaded {
            return Ok(());
        }
        let mut stats = LineStats::default();
        ledger.for_each_lines(|_, lines| stats.add(&lines))?;
        *self = LineBook {
            loaded: true,
            stats,
            ..LineBook::default()
        };
        Ok(())
    }

    /// Forgets what is in memory: the next sync loads from the ledger again.
    pub(super) fn invalidate(&mut self) {
        *self = LineBook::default();
    }

    /// Drops the rows of articles that `keep` says are not in the index (left from an index
    /// that was rebuilt, or from a crash before a commit). Returns the keys whose rows stay.
    /// Runs at the start of a sync, when no row is pending (each sync flushes or invalidates).
    pub(super) fn retain(
        &mut self,
        ledger: &Ledger,
        keep: impl Fn(&str) -> bool,
    ) -> Result<HashSet<String>, IndexError> {
        debug_assert!(
            self.pending.is_empty(),
            "rows pending at the start of a sync"
        );
        let mut kept = HashSet::new();
        let mut gone = Vec::new();
        ledger.for_each_lines(|key, lines| {
            if keep(&key) {
                kept.insert(key);
            } else {
                gone.push((key, lines));
            }
        })?;
        for (key, lines) in gone {
            self.stats.remove(&lines);
            self.pending.insert(key, None);
        }
        Ok(kept)
    }

    /// Takes an article's lines out of the counts, if they are counted: from the rows changed
    /// in this process, else from the ledger.
    pub(super) fn remove(&mut self, ledger: &Ledger, key: &str) -> Result<(), IndexError> {
        if self.pending.contains_key(key) {
            self.remove_pending(key);
        } else if let Some(old) = ledger.lines_of(key)? {
            self.stats.remove(&old);
            self.pending.insert(key.to_owned(), None);
        }
        Ok(())
    }

    fn remove_pending(&mut self, key: &str) {
        if let Some(slot) = self.pending.get_mut(key)
            && let Some(old) = slot.take()
        {
            self.stats.remove(&old);
        }
    }

    /// Records the lines of an indexed article. Lines it had before must have been removed
    /// with [`LineBook::remove`], unless they were recorded in this process.
    pub(super) fn insert(&mut self, key: &str, lines: ArticleLines) {
        self.remove_pending(key);
        self.stats.add(&lines);
        self.pending.insert(key.to_owned(), Some(lines));
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

    /// Keys of the articles that `old` and `new` clean differently, sorted. Reads every row:
    /// only when the learned set changed.
    pub(super) fn affected(
        &self,
        ledger: &Ledger,
        old: &Chrome,
        new: &Chrome,
    ) -> Result<Vec<String>, IndexError> {
        let mut keys: Vec<String> = self
            .pending
            .iter()
            .filter(|(_, lines)| lines.as_ref().is_some_and(|l| old.differs_for(new, l)))
            .map(|(k, _)| k.clone())
            .collect();
        ledger.for_each_lines(|key, lines| {
            if !self.pending.contains_key(&key) && old.differs_for(new, &lines) {
                keys.push(key);
            }
        })?;
        keys.sort();
        Ok(keys)
    }

    /// Writes the changed rows to the ledger; returns the ledger's generation of the rows
    /// (see [`Ledger::lines_generation`]).
    pub(super) fn flush(&mut self, ledger: &Ledger) -> Result<u64, IndexError> {
        if self.pending.is_empty() && self.names.is_empty() {
            return ledger.lines_generation();
        }
        let upserts = self
            .pending
            .iter()
            .filter_map(|(k, lines)| lines.as_ref().map(|l| (k.as_str(), l)));
        let deletes = self
            .pending
            .iter()
            .filter(|(_, lines)| lines.is_none())
            .map(|(k, _)| k.as_str());
        let generation = ledger.save_lines(upserts, deletes, &self.names)?;
        self.pending.clear();
        self.names.clear();
        Ok(generation)
    }
}
