//! A sync that writes: the `Session` that opens the writer, continues the ingest numbers,
//! removes the documents whose file is gone, adds what the workers read in key order (skips,
//! URL owners, moved files, stories, checkpoints), learns the chrome and re-cleans, commits,
//! and waits for the merges. It carries out the plan and returns the report.

use std::collections::HashMap;

use tantivy::Term;

use super::checkpoint::{Checkpoint, checkpoint, commit};
use super::existing::Indexed;
use super::plan::Plan;
use super::prepare::{Prepared, count_lines, parse_in_order};
use super::reclean::reclean;
use super::skips::{SkipLog, Skipped};
use super::writer::{Feed, Stamp, open_writer, to_document};
use super::{Progress, SyncReport, SyncState};
use crate::corpus::boilerplate::Chrome;
use crate::corpus::status::TextState;
use crate::corpus::{SeedFile, Skip};
use crate::index::learning::LineBook;
use crate::index::ledger::Entry;
use crate::index::schema;
use crate::index::stories::StoryBook;
use crate::index::{CommitInfo, IndexError, SearchIndex};

/// A sync that writes: the writer and what the sync keeps while it adds documents.
pub(super) struct Session<'a> {
    index: &'a SearchIndex,
    plan: &'a Plan<'a>,
    /// The learned chrome the documents in the index were cleaned with, and this sync's
    /// files are read with.
    chrome: &'a Chrome,
    skipped: &'a mut Skipped,
    lines: &'a mut LineBook,
    writer: Feed,
    stories: StoryBook<'a>,
    /// The key that holds each article URL, so that the first by name wins (filled when the
    /// reading starts).
    url_owner: HashMap<String, String>,
    /// Documents this sync removes, by identity (URL key, else content key): a new file with
    /// one of them is that article moved (see `moved_from`). Built once, not searched per file;
    /// each is taken once.
    removed: HashMap<&'a str, &'a Indexed>,
    skip_log: SkipLog,
    /// This sync's commit payload (its next ingest number).
    info: CommitInfo,
    now: i64,
    /// Ingest numbers handed out and not yet in the ledger.
    first_entries: Vec<(String, Entry)>,
    /// The first ledger error while adding: reported at the next checkpoint or at the end.
    ledger_error: Option<IndexError>,
    since_checkpoint: usize,
    report: SyncReport,
}

impl<'a> Session<'a> {
    /// Opens the writer (the index is busy when another process holds it) and the chrome
    /// counts.
    pub(super) fn open(
        index: &'a SearchIndex,
        plan: &'a Plan<'a>,
        chrome: &'a Chrome,
        mut info: CommitInfo,
        state: &'a mut SyncState,
        report: SyncReport,
    ) -> Result<Session<'a>, IndexError> {
        let writer = open_writer(index, plan.to_read.len() + plan.removed.len())?;
        // What this sync re-reads or removes is not a candidate story for the others.
        let stale = plan
            .removed
            .iter()
            .map(|k| (*k).clone())
            .chain(plan.to_read.iter().map(|file| file.key.clone()));
        let stories = StoryBook::new(index.searcher(), &index.fields, stale);
        info.schema = schema::SCHEMA_VERSION;
        let now = chrono::Utc::now().timestamp();
        let SyncState { skipped, lines, .. } = state;
        // Loaded once per process, when something is to be counted.
        lines.ensure_loaded(&index.ledger)?;
        Ok(Session {
            index,
            plan,
            chrome,
            skipped,
            lines,
            writer,
            stories,
            url_owner: HashMap::new(),
            removed: plan.removed_identities(),
            skip_log: SkipLog::default(),
            info,
            now,
            first_entries: Vec::new(),
            ledger_error: None,
            since_checkpoint: 0,
            report,
        })
    }

    /// Makes sure the ledger knows the numbers in the index, and new numbers continue above.
    pub(super) fn continue_numbers(&mut self) -> Result<(), IndexError> {
        let (ledger, existing) = (&self.index.ledger, self.plan.existing);
        if ledger.is_empty()? && !existing.is_empty() {
            // An index from before the ledger: remember what it holds, so a later rebuild keeps it.
            let known: Vec<(String, Entry)> = existing
                .iter()
                .map(|(k, e)| {
                    let entry = Entry {
                        seq: e.seq,
                        indexed_at: e.indexed_at,
                    };
                    (k.clone(), entry)
                })
                .collect();
            ledger.record(&known)?;
        }
        // Numbers continue above everything ever handed out, whatever the index remembers.
        self.info.next_seq = self.info.next_seq.max(ledger.next_seq()?);
        Ok(())
    }

    /// Deletes the document at `key` and takes its lines out of the counts.
    fn delete(&mut self, key: &str) -> Result<(), IndexError> {
        let term = Term::from_field_text(self.index.fields.key, key);
        self.writer.inner.delete_term(term);
        self.lines.remove(&self.index.ledger, key)
    }

    /// Deletes the documents whose file is gone.
    pub(super) fn remove(&mut self) -> Result<(), IndexError> {
        for key in &self.plan.removed {
            self.delete(key)?;
            self.report.deleted += 1;
        }
        Ok(())
    }

    /// Reads and cleans the files to read on worker threads and adds them in key order; then
    /// hands the new ingest numbers to the ledger.
    pub(super) fn read(&mut self, progress: Option<&Progress>) -> Result<(), IndexError> {
        self.url_owner = self.plan.untouched_urls();
        let (files, chrome) = (&self.plan.to_read, self.chrome);
        parse_in_order(files, progress, chrome, |file, parsed| {
            self.add(file, parsed)
        })?;
        self.skip_log.summarize();
        if let Some(e) = self.ledger_error.take() {
            // Nothing is committed: numbers the ledger does not know could be handed out twice.
            return Err(e);
        }
        // Before the commit that uses them (see `ledger`).
        self.index.ledger.record(&self.first_entries)
    }

    /// Indexes a file read now in place of its old document, if any: unless it is skipped or
    /// a copy of an article that a file earlier by name holds.
    fn add(&mut self, file: &SeedFile, parsed: Result<Prepared, Skip>) -> Result<(), IndexError> {
        self.report.bytes_read += file.size;
        self.skipped.0.remove(&file.key);
        let old = self.plan.existing.get(&file.key);
        if old.is_some() {
            self.delete(&file.key)?;
        }
        let mut prepared = match parsed {
            Ok(p) => p,
            Err(skip) => {
                self.skip(file, skip, old.is_some());
                return Ok(());
            }
        };
        self.note_without_text(file, &prepared);
        if let Some(url_key) = &prepared.article.url_key
            && !self.claim_url(file, url_key, old.is_some())?
        {
            return Ok(());
        }
        let moved = old.is_none().then(|| self.moved_from(&prepared)).flatten();
        let (seq, indexed_at) = self.number(&file.key, old, moved);
        count_lines(self.lines, &file.key, &mut prepared);
        let story = self.story(&file.key, seq, &prepared);
        let stamp = Stamp {
            seq,
            indexed_at,
            story,
        };
        self.write(file, prepared, stamp)
    }

    /// The story of an article added now: that of the most similar one before it, or its own
    /// (see `StoryBook::assign`).
    fn story(&mut self, key: &str, seq: u64, prepared: &Prepared) -> u64 {
        let date = prepared.article.date;
        self.stories.assign(key, seq, prepared.sig.as_ref(), date)
    }

    /// Records a skipped file; `replaces` says its old document was deleted.
    fn skip(&mut self, file: &SeedFile, skip: Skip, replaces: bool) {
        if replaces {
            self.report.deleted += 1;
        }
        self.skip_log.note(&file.key, &skip);
        self.skipped.remember(file, &skip);
        self.report.skipped.push((file.key.clone(), skip));
    }

    /// A page kept by title only is named at debug level and in the report.
    fn note_without_text(&mut self, file: &SeedFile, prepared: &Prepared) {
        let state = prepared.article.state;
        if state != TextState::Text {
            tracing::debug!(
                "seeds: {} has no article text ({}), kept by title",
                file.key,
                state.name()
            );
            self.report.without_text.push((file.key.clone(), state));
        }
    }

    /// Whether `file` may hold the article at `url_key`: not when a file earlier by name
    /// holds it (then `file` is skipped as its copy); a file later by name that held it goes.
    fn claim_url(
        &mut self,
        file: &SeedFile,
        url_key: &str,
        replaces: bool,
    ) -> Result<bool, IndexError> {
        match self.url_owner.get(url_key).cloned() {
            Some(owner) if owner < file.key => {
                self.skip(file, Skip::Duplicate { of: owner }, replaces);
                return Ok(false);
            }
            Some(owner) => {
                // A file earlier by name now claims the URL: it wins, the other goes.
                tracing::warn!(
                    "seeds: {} and {} are the same article; keeping {}",
                    file.key,
                    owner,
                    file.key
                );
                let term = Term::from_field_text(self.index.fields.key, &owner);
                self.writer.inner.delete_term(term);
                self.stories.mark_stale(&owner);
                self.lines.remove(&self.index.ledger, &owner)?;
                self.report.deleted += 1;
            }
            None => {}
        }
        self.url_owner.insert(url_key.to_owned(), file.key.clone());
        Ok(true)
    }

    /// The document this new file continues, when the file was moved or renamed: a document
    /// removed by this sync with the same URL key, or, for a file without a URL, the same
    /// content. It keeps its number and time, so buttons, digests and alerts follow the
    /// article, not its path (a move sends nothing again).
    fn moved_from(&mut self, prepared: &Prepared) -> Option<&'a Indexed> {
        let identity = match &prepared.article.url_key {
            Some(url_key) => url_key.as_str(),
            None => prepared.article.content_key.as_str(),
        };
        self.removed.remove(identity)
    }

    /// The ingest number and time of a document: those of the one it replaces or continues,
    /// else a new one (see `new_number`).
    fn number(&mut self, key: &str, old: Option<&Indexed>, moved: Option<&Indexed>) -> (u64, i64) {
        match (old, moved) {
            (None, Some(o)) => {
                // A moved file: its number, recorded under its new path too.
                self.report.added += 1;
                let entry = Entry {
                    seq: o.seq,
                    indexed_at: o.indexed_at,
                };
                self.first_entries.push((key.to_owned(), entry));
                (o.seq, o.indexed_at)
            }
            (Some(o), _) => {
                self.report.updated += 1;
                (o.seq, o.indexed_at)
            }
            (None, None) => {
                self.report.added += 1;
                self.new_number(key)
            }
        }
    }

    /// The number the ledger remembers for `key`, else the next one. A ledger error is kept
    /// for the next checkpoint or the end, which fail on it before anything is committed.
    fn new_number(&mut self, key: &str) -> (u64, i64) {
        match self.index.ledger.lookup(key) {
            // Back after a rebuild (or a removal): the number it had.
            Ok(Some(e)) => (e.seq, e.indexed_at),
            Ok(None) => {
                self.info.next_seq += 1;
                let entry = Entry {
                    seq: self.info.next_seq - 1,
                    indexed_at: self.now,
                };
                self.first_entries.push((key.to_owned(), entry));
                (entry.seq, entry.indexed_at)
            }
            Err(e) => {
                self.ledger_error.get_or_insert(e);
                (self.info.next_seq, self.now)
            }
        }
    }

    /// Hands the document to the writer, and commits a checkpoint every
    /// `index.checkpoint_docs` documents (see [`CHECKPOINT_DOCS`](super::checkpoint::CHECKPOINT_DOCS)).
    fn write(
        &mut self,
        file: &SeedFile,
        prepared: Prepared,
        stamp: Stamp,
    ) -> Result<(), IndexError> {
        let index = self.index;
        self.writer
            .add(to_document(&index.fields, file, prepared, stamp))
            .map_err(|source| index.tantivy_error(source))?;
        self.since_checkpoint += 1;
        if self.since_checkpoint == index.checkpoint_docs {
            self.since_checkpoint = 0;
            if let Some(e) = self.ledger_error.take() {
                return Err(e);
            }
            let progress = Checkpoint {
                info: &self.info,
                chrome: self.chrome,
                first_entries: &mut self.first_entries,
            };
            checkpoint(index, &mut self.writer, progress, self.lines)?;
        }
        Ok(())
    }

    /// The counts changed: what is learned now, and the articles it cleans differently.
    /// Returns the learned chrome.
    pub(super) fn learn_and_reclean(&mut self) -> Result<Chrome, IndexError> {
        let learned = self.lines.learned();
        if learned != *self.chrome {
            let affected = self
                .lines
                .affected(&self.index.ledger, self.chrome, &learned)?;
            let affected = self.plan.files_of(&affected);
            self.report.recleaned = reclean(
                self.index,
                &affected,
                &learned,
                self.plan.existing,
                self.lines,
                &mut self.stories,
                &mut self.writer,
            )?;
        }
        self.report.chrome_lines = learned.len();
        Ok(learned)
    }

    /// Commits the documents: the chrome-line rows first, then the index with a payload that
    /// says which chrome (`learned`) its documents are cleaned with.
    pub(super) fn commit(&mut self, learned: Chrome) -> Result<(), IndexError> {
        self.info.lines_generation = self.lines.flush(&self.index.ledger)?;
        self.info.chrome = learned;
        self.info.synced_at = self.now;
        commit(&mut self.writer, &self.info).map_err(|source| self.index.tantivy_error(source))
    }

    /// Waits for the merges the sync started; returns the report.
    pub(super) fn wait_merges(self) -> Result<SyncReport, IndexError> {
        let index = self.index;
        let merges = self.writer.inner.wait_merging_threads();
        merges.map_err(|source| index.tantivy_error(source))?;
        let mut report = self.report;
        let kept = (self.plan.existing.len() + report.added).saturating_sub(report.deleted);
        report.total = kept as u64;
        Ok(report)
    }
}
