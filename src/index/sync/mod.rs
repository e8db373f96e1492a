//! Incremental sync of the index with the seeds folder.
//!
//! A file is known by its path relative to the seeds folder; its mtime and size tell whether it
//! changed. Parsing runs on worker threads; documents are added in key order so that, of two
//! files with the same article URL, the first by name always wins.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use tantivy::{IndexWriter, TantivyDocument, Term};

use super::document::{IN_FLIGHT, InFlight, SharedDoc};
use super::merges::BoundedMerges;

use super::learning::LineBook;
use super::ledger::Entry;
use super::schema::{self, names};
use super::stories::StoryBook;
use super::{CommitInfo, IndexError, SearchIndex};
use crate::corpus::boilerplate::{ArticleLines, Chrome, LineKey};
use crate::corpus::dates::date_key;
use crate::corpus::status::TextState;
use crate::corpus::{self, Article, Parsed, SeedFile, Skip};
use crate::story::Signature;
use crate::text::fold;

/// Where a sync's time went, logged at debug level (`RUST_LOG=jianbao=debug`).
struct Phases {
    last: Instant,
    spent: Vec<(&'static str, Duration)>,
}

impl Phases {
    fn start(at: Instant) -> Phases {
        Phases {
            last: at,
            spent: Vec::new(),
        }
    }

    fn mark(&mut self, phase: &'static str) {
        let now = Instant::now();
        self.spent.push((phase, now - self.last));
        self.last = now;
    }

    fn log(&self) {
        let parts: Vec<String> = self
            .spent
            .iter()
            .map(|(p, d)| format!("{p} {:.0} ms", d.as_secs_f64() * 1e3))
            .collect();
        tracing::debug!("sync: {}", parts.join(", "));
    }
}

/// Called with (files done, files to read).
pub type Progress = dyn Fn(usize, usize) + Sync;

/// Memory for tantivy's indexing buffers, split among its threads. 96 MB rather than 120: the
/// build of 97,970 articles peaked at 371 MB instead of 390-400 MB, ~10 % slower (BENCHMARKS.md).
const WRITER_MEMORY: usize = 96_000_000;

/// The writer's threads and memory. One merge at a time: a merge's input segments count in
/// the process's memory while it runs (see `merges`), and two at once made a build of 97,970
/// articles peak at 470 MB instead of 350.
fn writer_options() -> tantivy::indexer::IndexWriterOptions {
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, 8);
    tantivy::indexer::IndexWriterOptions::builder()
        .num_worker_threads(threads)
        .memory_budget_per_thread(WRITER_MEMORY / threads)
        .num_merge_threads(1)
        .build()
}

/// What a sync did.
#[derive(Debug, Default, Clone)]
pub struct SyncReport {
    /// Seed files found.
    pub files: usize,
    /// Files read and parsed (new or changed).
    pub read: usize,
    pub added: usize,
    pub updated: usize,
    pub deleted: usize,
    pub unchanged: usize,
    /// Files not indexed, with the reason.
    pub skipped: Vec<(String, Skip)>,
    /// Files read now that are kept by title only: no article text (see `corpus::status`).
    pub without_text: Vec<(String, TextState)>,
    /// Articles read again and re-indexed because the learned chrome changed for them.
    pub recleaned: usize,
    /// Lines in the learned chrome set afterwards (see `corpus::boilerplate`).
    pub chrome_lines: usize,
    /// Articles in the index afterwards.
    pub total: u64,
    pub bytes_read: u64,
    pub elapsed: Duration,
}

impl SyncReport {
    pub fn changed(&self) -> bool {
        self.added + self.updated + self.deleted > 0
    }
}

/// An indexed document as the sync sees it.
struct Indexed {
    mtime: u64,
    size: u64,
    seq: u64,
    indexed_at: i64,
    url_key: String,
    content_key: String,
    /// Indexed with article text (not a status page or a title-only scrape).
    text: bool,
    story: u64,
}

/// What syncs in one process carry from one to the next.
#[derive(Debug, Default)]
pub(super) struct SyncState {
    pub(super) skipped: Skipped,
    pub(super) lines: LineBook,
    /// The folder as the last sync listed it, for a sync told which paths changed.
    pub(super) listing: Option<Listing>,
}

/// A seeds folder's files, as of the end of a sync.
#[derive(Debug)]
pub(super) struct Listing {
    root: PathBuf,
    files: Vec<SeedFile>,
}

/// The files of `seeds_dir`: the last listing patched for `changed` when there is one for this
/// folder and it can be patched (see [`corpus::rescan_paths`]), else a walk of the folder.
fn list(
    seeds_dir: &Path,
    changed: Option<&[PathBuf]>,
    last: Option<Listing>,
) -> Result<Vec<SeedFile>, IndexError> {
    if let (Some(paths), Some(mut last)) = (changed, last)
        && last.root == seeds_dir
        && corpus::rescan_paths(seeds_dir, &mut last.files, paths).is_some()
    {
        return Ok(last.files);
    }
    corpus::scan(seeds_dir).map_err(|source| IndexError::Seeds {
        path: seeds_dir.to_path_buf(),
        source,
    })
}

/// Files a sync skipped, by key, with the mtime and size they had. A later sync in the same
/// process does not read such a file again until it changes: a bot that rescans every minute
/// would otherwise re-read it, warn again and write an empty commit each time. A new process
/// starts empty, so every start reports the skipped files once.
#[derive(Debug, Default)]
pub(super) struct Skipped(HashMap<String, SkippedFile>);

#[derive(Debug)]
struct SkippedFile {
    mtime: u64,
    size: u64,
    /// Skipped as a copy of another file's article: depends on the other files, not only on
    /// its own bytes.
    duplicate: bool,
}

impl Skipped {
    fn unchanged(&self, file: &SeedFile) -> bool {
        self.0
            .get(&file.key)
            .is_some_and(|s| s.mtime == file.mtime && s.size == file.size)
    }

    /// Remembers a skip that will hold as long as the file is unchanged. An unreadable file is
    /// not remembered: fixing its permissions does not change its mtime.
    fn remember(&mut self, file: &SeedFile, skip: &Skip) {
        if !matches!(skip, Skip::Unreadable(_)) {
            let duplicate = matches!(skip, Skip::Duplicate { .. });
            let (mtime, size) = (file.mtime, file.size);
            self.0.insert(
                file.key.clone(),
                SkippedFile {
                    mtime,
                    size,
                    duplicate,
                },
            );
        }
    }

    /// Forgets the copies: once an indexed file changes or goes, the article it held may be
    /// the copy's to index.
    fn forget_duplicates(&mut self) {
        self.0.retain(|_, s| !s.duplicate);
    }
}

/// Brings the index in line with `seeds_dir`. The phases, in order: scan the folder, diff it
/// against the index, read and clean what changed (adding it with its story), learn the chrome
/// from the new counts and re-clean what it changes, commit.
pub(super) fn run(
    index: &SearchIndex,
    seeds_dir: &Path,
    progress: Option<&Progress>,
    state: &mut SyncState,
    changed_paths: Option<&[PathBuf]>,
) -> Result<SyncReport, IndexError> {
    let started = Instant::now();
    let mut phases = Phases::start(started);
    let files = list(seeds_dir, changed_paths, state.listing.take())?;
    phases.mark("scan");
    let existing = read_existing(index).map_err(|source| index.tantivy_error(source))?;
    phases.mark("index state");
    // The last commit's payload, read once: it is also the start of this sync's.
    let mut info = index.commit_info();
    // The learned chrome the documents in the index were cleaned with.
    let chrome = std::mem::take(&mut info.chrome);
    let counted = counted(index, &mut state.lines, &info, &existing)?;
    let plan = diff(&files, &existing, counted, &mut state.skipped);
    let mut report = plan.report();
    if plan.nothing_to_do() {
        report.total = index.num_docs();
        report.chrome_lines = chrome.len();
    } else {
        let mut session = Session::open(index, &plan, &chrome, info, state, report)?;
        phases.mark("chrome counts");
        session.continue_numbers()?;
        session.remove()?;
        session.read(progress)?;
        phases.mark("read and add");
        let learned = session.learn_and_reclean()?;
        phases.mark("learn and re-clean");
        session.commit(learned)?;
        phases.mark("commit");
        report = session.wait_merges()?;
        phases.mark("merges");
        phases.log();
    }
    report.elapsed = started.elapsed();
    state.listing = Some(Listing {
        root: seeds_dir.to_path_buf(),
        files,
    });
    Ok(report)
}

/// The documents whose lines are counted, when that is in doubt; `None` when all are.
///
/// The chrome-line rows are those of the committed documents when the ledger's generation
/// is the one the commit recorded. Otherwise (a crash between the two, a rebuilt index, an
/// index from before learning) they are checked: rows only for documents in the index (a
/// page emptied by learned chrome keeps its row: it still counts), and a document with text
/// but no row is read again to be counted.
fn counted(
    index: &SearchIndex,
    lines: &mut LineBook,
    info: &CommitInfo,
    existing: &HashMap<String, Indexed>,
) -> Result<Option<HashSet<String>>, IndexError> {
    let ledger_generation = index.ledger.lines_generation()?;
    let in_step = ledger_generation == info.lines_generation
        && (ledger_generation > 0 || existing.is_empty());
    if in_step {
        return Ok(None);
    }
    lines.ensure_loaded(&index.ledger)?;
    lines
        .retain(&index.ledger, |k| existing.contains_key(k))
        .map(Some)
}

/// What a sync has to do: the folder's listing against the documents in the index.
struct Plan<'a> {
    files: &'a [SeedFile],
    existing: &'a HashMap<String, Indexed>,
    /// The keys of `files`.
    present: HashSet<&'a str>,
    /// Documents whose file is gone.
    removed: Vec<&'a String>,
    /// Files new or changed (and not skipped as they are), or indexed with uncounted lines.
    to_read: Vec<&'a SeedFile>,
    /// The ledger's chrome-line rows are those of the committed documents (see `counted`).
    in_step: bool,
}

/// Diffs the listing against the index. Also brings `skipped` up to date: a skip of a file
/// that is gone is dropped, and copies are forgotten when an indexed file changed or went.
fn diff<'a>(
    files: &'a [SeedFile],
    existing: &'a HashMap<String, Indexed>,
    counted: Option<HashSet<String>>,
    skipped: &mut Skipped,
) -> Plan<'a> {
    let present: HashSet<&str> = files.iter().map(|f| f.key.as_str()).collect();
    let removed: Vec<&String> = existing
        .keys()
        .filter(|k| !present.contains(&k[..]))
        .collect();
    let changed = |f: &&SeedFile| {
        existing
            .get(&f.key)
            .is_none_or(|e| e.mtime != f.mtime || e.size != f.size)
    };
    let uncounted = |f: &&SeedFile| {
        counted.as_ref().is_some_and(|counted| {
            existing.get(&f.key).is_some_and(|e| e.text) && !counted.contains(&f.key)
        })
    };
    skipped.0.retain(|key, _| present.contains(&key[..]));
    if !removed.is_empty()
        || files
            .iter()
            .any(|f| existing.contains_key(&f.key) && changed(&f))
    {
        skipped.forget_duplicates();
    }
    let to_read: Vec<&SeedFile> = files
        .iter()
        .filter(|f| (changed(f) && !skipped.unchanged(f)) || uncounted(f))
        .collect();
    Plan {
        files,
        existing,
        present,
        removed,
        to_read,
        in_step: counted.is_none(),
    }
}

impl<'a> Plan<'a> {
    /// Nothing to read, remove or count: the sync writes nothing, not even an empty commit.
    fn nothing_to_do(&self) -> bool {
        self.to_read.is_empty() && self.removed.is_empty() && self.in_step
    }

    /// The report's start: what the listing holds and what is read.
    fn report(&self) -> SyncReport {
        SyncReport {
            files: self.files.len(),
            read: self.to_read.len(),
            unchanged: self.files.len() - self.to_read.len(),
            ..SyncReport::default()
        }
    }

    /// URL owners among the documents that stay untouched.
    fn untouched_urls(&self) -> HashMap<String, String> {
        let reading: HashSet<&str> = self.to_read.iter().map(|f| f.key.as_str()).collect();
        self.existing
            .iter()
            .filter(|(k, e)| {
                self.present.contains(&k[..]) && !reading.contains(&k[..]) && !e.url_key.is_empty()
            })
            .map(|(k, e)| (e.url_key.clone(), k.clone()))
            .collect()
    }

    /// The removed documents by identity: their URL key, or their content key when they have
    /// no URL.
    fn removed_identities(&self) -> HashMap<&'a str, &'a Indexed> {
        self.removed
            .iter()
            .filter_map(|k| self.existing.get(k.as_str()))
            .filter_map(|e| {
                let identity = if e.url_key.is_empty() {
                    &e.content_key
                } else {
                    &e.url_key
                };
                (!identity.is_empty()).then_some((identity.as_str(), e))
            })
            .collect()
    }

    /// The files of `keys` (sorted), among the listed ones.
    fn files_of(&self, keys: &[String]) -> Vec<&SeedFile> {
        keys.iter()
            .filter_map(|k| {
                let i = self
                    .files
                    .binary_search_by(|f| f.key.as_str().cmp(k))
                    .ok()?;
                self.files.get(i)
            })
            .collect()
    }
}

/// The index's writer, its merges bounded for a sync that touches `docs` documents.
fn open_writer(index: &SearchIndex, docs: usize) -> Result<Feed, IndexError> {
    match index.index().writer_with_options(writer_options()) {
        Ok(w) => {
            w.set_merge_policy(Box::new(BoundedMerges::for_sync(docs)));
            Ok(Feed::new(w))
        }
        // Only a lock held by another writer is "busy": a lock file that cannot be created (a
        // read-only data folder, a full disk) is that I/O error, said as it is.
        Err(tantivy::TantivyError::LockFailure(
            tantivy::directory::error::LockError::LockBusy,
            _,
        )) => Err(IndexError::Busy(index.dir.clone())),
        Err(tantivy::TantivyError::LockFailure(
            tantivy::directory::error::LockError::IoError(e),
            _,
        )) => Err(IndexError::Io {
            path: index.dir.clone(),
            source: std::io::Error::new(
                e.kind(),
                format!("cannot lock the index for writing: {e}"),
            ),
        }),
        Err(e) => Err(index.tantivy_error(e)),
    }
}

/// A sync that writes: the writer and what the sync keeps while it adds documents.
struct Session<'a> {
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
    fn open(
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
    fn continue_numbers(&mut self) -> Result<(), IndexError> {
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
    fn remove(&mut self) -> Result<(), IndexError> {
        for key in &self.plan.removed {
            self.delete(key)?;
            self.report.deleted += 1;
        }
        Ok(())
    }

    /// Reads and cleans the files to read on worker threads and adds them in key order; then
    /// hands the new ingest numbers to the ledger.
    fn read(&mut self, progress: Option<&Progress>) -> Result<(), IndexError> {
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
    /// `index.checkpoint_docs` documents (see [`CHECKPOINT_DOCS`]).
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
    fn learn_and_reclean(&mut self) -> Result<Chrome, IndexError> {
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
    fn commit(&mut self, learned: Chrome) -> Result<(), IndexError> {
        self.info.lines_generation = self.lines.flush(&self.index.ledger)?;
        self.info.chrome = learned;
        self.info.synced_at = self.now;
        commit(&mut self.writer, &self.info).map_err(|source| self.index.tantivy_error(source))
    }

    /// Waits for the merges the sync started; returns the report.
    fn wait_merges(self) -> Result<SyncReport, IndexError> {
        let index = self.index;
        let merges = self.writer.inner.wait_merging_threads();
        merges.map_err(|source| index.tantivy_error(source))?;
        let mut report = self.report;
        let kept = (self.plan.existing.len() + report.added).saturating_sub(report.deleted);
        report.total = kept as u64;
        Ok(report)
    }
}

/// A sync that adds more documents than this commits them as it goes, every this many: a
/// sync interrupted in a large build resumes from its last commit instead of from the start,
/// and the ingest numbers handed out wait in memory for the ledger no longer than that.
pub(super) const CHECKPOINT_DOCS: usize = 16_384;

/// Commits `writer`'s documents with `info` as the payload.
fn commit(writer: &mut Feed, info: &CommitInfo) -> tantivy::Result<()> {
    let payload = serde_json::to_string(info).unwrap_or_default();
    let mut prepared = writer.inner.prepare_commit()?;
    prepared.set_payload(&payload);
    prepared.commit().map(drop)
}

/// What a checkpoint commits besides the documents.
struct Checkpoint<'a> {
    /// The sync's commit payload so far (its next ingest number).
    info: &'a CommitInfo,
    /// The learned chrome the documents were cleaned with.
    chrome: &'a Chrome,
    /// Ingest numbers handed out since the last checkpoint, for the ledger.
    first_entries: &'a mut Vec<(String, Entry)>,
}

/// Commits what a long sync has added so far (see [`CHECKPOINT_DOCS`]), in the same order as
/// its final commit: ledger, chrome-line rows, then the index with a payload that says which
/// chrome the documents were cleaned with. The story candidates stay in memory (`StoryBook`):
/// the index's coarse band buckets would make each of the sync's later articles compare
/// hundreds of false candidates (a build of 97,970 took twice as long).
fn checkpoint(
    index: &SearchIndex,
    writer: &mut Feed,
    progress: Checkpoint<'_>,
    lines: &mut LineBook,
) -> Result<(), IndexError> {
    let tantivy_err = |source| index.tantivy_error(source);
    index.ledger.record(progress.first_entries)?;
    progress.first_entries.clear();
    let info = CommitInfo {
        chrome: progress.chrome.clone(),
        lines_generation: lines.flush(&index.ledger)?,
        synced_at: chrono::Utc::now().timestamp(),
        ..progress.info.clone()
    };
    commit(writer, &info).map_err(tantivy_err)?;
    tracing::debug!("sync: checkpoint committed");
    Ok(())
}

/// An article with its folded title and body, computed on a worker thread.
struct Prepared {
    article: Article,
    title_folded: String,
    body_folded: String,
    lines: Option<ArticleLines>,
    chrome_removed: Vec<(LineKey, String)>,
    /// The body's near-duplicate signature (none for a short text or a page without text).
    sig: Option<Signature>,
}

impl Prepared {
    fn new(parsed: Parsed) -> Prepared {
        let article = parsed.article;
        let title_folded = fold(&article.title);
        let indexed = article.indexed_body();
        let with_url_terms = matches!(indexed, std::borrow::Cow::Owned(_));
        let body_folded = fold(&indexed);
        // The signature is of the article's text, not of the URL terms on the last line.
        let text = match body_folded.rfind('\n') {
            Some(end) if with_url_terms => &body_folded[..end],
            _ => &body_folded[..],
        };
        let sig = (article.state == TextState::Text)
            .then(|| Signature::of_text(text))
            .flatten();
        Prepared {
            title_folded,
            body_folded,
            sig,
            article,
            lines: parsed.lines,
            chrome_removed: parsed.chrome_removed,
        }
    }
}

fn prepare(file: &SeedFile, chrome: &Chrome) -> Result<Prepared, Skip> {
    corpus::load_with(file, chrome).map(Prepared::new)
}

/// Counts the candidate lines of an article about to be indexed, and remembers the texts of
/// the learned lines removed from it.
fn count_lines(book: &mut LineBook, key: &str, prepared: &mut Prepared) {
    for (line, text) in &prepared.chrome_removed {
        book.name(*line, text);
    }
    if let Some(article_lines) = prepared.lines.take() {
        book.name(article_lines.source, &prepared.article.source);
        book.insert(key, article_lines);
    }
}

/// Reads `files` again and re-indexes them cleaned with `chrome`, keeping their ingest numbers.
/// Returns how many were re-indexed.
fn reclean(
    index: &SearchIndex,
    files: &[&SeedFile],
    chrome: &Chrome,
    existing: &HashMap<String, Indexed>,
    lines: &mut LineBook,
    stories: &mut StoryBook,
    writer: &mut Feed,
) -> Result<usize, IndexError> {
    let (ledger, f) = (&index.ledger, &index.fields);
    let tantivy_err = |source| index.tantivy_error(source);
    let mut done = 0;
    let mut ledger_error = None;
    parse_in_order(files, None, chrome, |file, parsed| {
        let entry = match existing.get(&file.key) {
            Some(e) => Some((e.seq, e.indexed_at, e.story)),
            None => match ledger.lookup(&file.key) {
                Ok(e) => e.map(|e| (e.seq, e.indexed_at, e.seq)),
                Err(e) => {
                    ledger_error.get_or_insert(e);
                    None
                }
            },
        };
        // Without its number the document stays as it was indexed a moment ago.
        let Some((seq, indexed_at, story)) = entry else {
            return Ok(());
        };
        // It keeps its story: the one this sync gave it, or the one it had.
        let story = stories.assigned(&file.key).unwrap_or(story);
        writer
            .inner
            .delete_term(Term::from_field_text(f.key, &file.key));
        lines.remove(ledger, &file.key)?;
        match parsed {
            Ok(mut prepared) => {
                count_lines(lines, &file.key, &mut prepared);
                let date = prepared.article.date;
                stories.remember(&file.key, story, prepared.sig.as_ref(), date);
                let stamp = Stamp {
                    seq,
                    indexed_at,
                    story,
                };
                writer
                    .add(to_document(f, file, prepared, stamp))
                    .map_err(tantivy_err)?;
                done += 1;
            }
            // Changed in the moment since it was read: the next sync reads it again.
            Err(skip) => tracing::warn!("seeds: skipping {}: {skip}", file.key),
        }
        Ok(())
    })?;
    ledger_error.map_or(Ok(done), Err)
}

/// The document a sync writes for `article` at `key`, for an index a caller lays out itself
/// (tests and fuzz targets that need one segment layout). It has no file stamp (mtime and
/// size 0), so a sync would read the file again.
pub fn document(f: &schema::Fields, key: &str, article: Article, seq: u64) -> TantivyDocument {
    let file = SeedFile {
        key: key.to_owned(),
        path: Default::default(),
        mtime: 0,
        size: 0,
        identity: None,
    };
    let parsed = Parsed {
        article,
        lines: None,
        chrome_removed: Vec::new(),
    };
    let stamp = Stamp {
        seq,
        indexed_at: 0,
        story: seq,
    };
    to_document(f, &file, Prepared::new(parsed), stamp).into_tantivy()
}

/// The index writer with the count of documents it has not yet indexed (see `document`).
struct Feed {
    inner: IndexWriter<SharedDoc>,
    in_flight: Arc<InFlight>,
}

impl Feed {
    fn new(inner: IndexWriter<SharedDoc>) -> Feed {
        Feed {
            inner,
            in_flight: InFlight::new(),
        }
    }

    /// Hands `doc` to the writer, first waiting while [`IN_FLIGHT`] documents are queued.
    fn add(&self, mut doc: SharedDoc) -> tantivy::Result<()> {
        doc.hold(self.in_flight.take(IN_FLIGHT));
        self.inner.add_document(doc).map(drop)
    }
}

/// What the sync gives a document besides its file: ingest number and time, story.
struct Stamp {
    seq: u64,
    indexed_at: i64,
    story: u64,
}

/// Parses files on worker threads and hands the results to `sink` in the order of `files`.
fn parse_in_order<E>(
    files: &[&SeedFile],
    progress: Option<&Progress>,
    chrome: &Chrome,
    mut sink: impl FnMut(&SeedFile, Result<Prepared, Skip>) -> Result<(), E>,
) -> Result<(), E> {
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(files.len().max(1));
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        // Bounded, so that a fast parser cannot buffer the whole corpus in memory.
        let (tx, rx) = mpsc::sync_channel::<(usize, Result<Prepared, Skip>)>(256);
        for _ in 0..workers {
            let tx = tx.clone();
            let next = &next;
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(file) = files.get(i) else { break };
                    if tx.send((i, prepare(file, chrome))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut pending: HashMap<usize, Result<Prepared, Skip>> = HashMap::new();
        let mut expected = 0;
        for (i, result) in rx {
            pending.insert(i, result);
            while let Some(result) = pending.remove(&expected) {
                sink(files[expected], result)?;
                expected += 1;
                if let Some(report) = progress {
                    report(expected, files.len());
                }
            }
        }
        Ok(())
    })
}

/// Skipped files are named in a warning, the first [`SKIPS_NAMED`] of each reason; the rest
/// at debug level and in one summary line per reason. 78,316 duplicates were 78,316 WARN lines.
const SKIPS_NAMED: usize = 5;

#[derive(Default)]
struct SkipLog {
    counts: std::collections::BTreeMap<&'static str, usize>,
}

impl SkipLog {
    fn note(&mut self, key: &str, skip: &Skip) {
        let n = self.counts.entry(skip.reason()).or_default();
        *n += 1;
        if *n <= SKIPS_NAMED {
            tracing::warn!("seeds: skipping {key}: {skip}");
        } else {
            tracing::debug!("seeds: skipping {key}: {skip}");
        }
    }

    fn summarize(&self) {
        for (reason, n) in &self.counts {
            if *n > SKIPS_NAMED {
                tracing::warn!(
                    "seeds: skipped {n} files as {reason} in all; {} more not named above (all of them at RUST_LOG=debug, or `jianbao index --verbose`)",
                    n - SKIPS_NAMED
                );
            }
        }
    }
}

fn to_document(f: &schema::Fields, file: &SeedFile, p: Prepared, stamp: Stamp) -> SharedDoc {
    let Stamp {
        seq,
        indexed_at,
        story,
    } = stamp;
    let a = p.article;
    let mut doc = SharedDoc::default();
    doc.text(f.key, file.key.clone());
    doc.text(f.id, a.id);
    doc.text(f.title, a.title);
    doc.text(f.body, a.body);
    if !a.links.is_empty() {
        doc.text(f.links, crate::corpus::markup::links_to_stored(&a.links));
    }
    doc.text(f.source_key, fold(a.source.trim()));
    doc.text(f.source, a.source);
    doc.text(f.url, a.url);
    doc.text(f.url_key, a.url_key.unwrap_or_default());
    doc.text(f.content_key, a.content_key);
    doc.i64(f.date, date_key(a.date));
    doc.i64(f.fetch_date, date_key(a.fetch_date));
    doc.u64(f.mtime, file.mtime);
    doc.u64(f.size, file.size);
    doc.i64(f.indexed_at, indexed_at);
    doc.u64(f.seq, seq);
    doc.u64(f.text_state, a.state.code());
    // The folded title and body are each held once and indexed by three fields.
    let title = doc.text(f.title_w, p.title_folded);
    doc.same_text(f.title_b, title);
    doc.same_text(f.atoms, title);
    let body = doc.text(f.body_w, p.body_folded);
    doc.same_text(f.body_b, body);
    doc.same_text(f.atoms, body);
    doc.u64(f.story, story);
    if let Some(sig) = &p.sig {
        doc.bytes(f.sig, sig.to_bytes());
        for term in sig.bucket_terms() {
            doc.u64(f.lsh, term);
        }
    }
    doc
}

/// Reads key, mtime, size, seq, indexed_at and url_key of every live document from the fast
/// fields (no stored-document decompression).
fn read_existing(index: &SearchIndex) -> tantivy::Result<HashMap<String, Indexed>> {
    let searcher = index.searcher();
    let mut out = HashMap::with_capacity(searcher.num_docs() as usize);
    for segment in searcher.segment_readers() {
        let ff = segment.fast_fields();
        let (Some(keys), Some(urls), Some(contents)) = (
            ff.str(names::KEY)?,
            ff.str(names::URL_KEY)?,
            ff.str(names::CONTENT_KEY)?,
        ) else {
            continue;
        };
        let mtime = ff.u64(names::MTIME)?;
        let size = ff.u64(names::SIZE)?;
        let seq = ff.u64(names::SEQ)?;
        let indexed_at = ff.i64(names::INDEXED_AT)?;
        let text_state = ff.u64(names::TEXT_STATE)?;
        let story = ff.u64(names::STORY)?;
        // One sequential pass over each dictionary: looking terms up one by one would
        // decompress a dictionary block per document.
        let key_terms = all_terms(&keys)?;
        let url_terms = all_terms(&urls)?;
        let content_terms = all_terms(&contents)?;
        for doc in segment.doc_ids_alive() {
            let Some(key) = keys
                .term_ords(doc)
                .next()
                .and_then(|o| key_terms.get(o as usize))
            else {
                continue;
            };
            let url_key = urls
                .term_ords(doc)
                .next()
                .and_then(|o| url_terms.get(o as usize))
                .cloned()
                .unwrap_or_default();
            let content_key = contents
                .term_ords(doc)
                .next()
                .and_then(|o| content_terms.get(o as usize))
                .cloned()
                .unwrap_or_default();
            out.insert(
                key.clone(),
                Indexed {
                    mtime: mtime.first(doc).unwrap_or(0),
                    size: size.first(doc).unwrap_or(0),
                    seq: seq.first(doc).unwrap_or(0),
                    indexed_at: indexed_at.first(doc).unwrap_or(0),
                    url_key,
                    content_key,
                    text: text_state
                        .first(doc)
                        .is_none_or(|c| TextState::from_code(c) == TextState::Text),
                    story: story.first(doc).unwrap_or(0),
                },
            );
        }
    }
    Ok(out)
}

/// Every term of a string fast field, indexed by term ordinal.
fn all_terms(column: &tantivy::columnar::StrColumn) -> std::io::Result<Vec<String>> {
    let mut terms = Vec::with_capacity(column.num_terms());
    let mut stream = column.dictionary().stream()?;
    while stream.advance() {
        terms.push(String::from_utf8_lossy(stream.key()).into_owned());
    }
    Ok(terms)
}

#[cfg(test)]
mod tests {
    use super::super::SearchIndex;

    fn article(title: &str, url: &str) -> String {
        format!("---\ntitle: {title}\nurl: {url}\nsource: 测试\n---\n{title}的正文。\n")
    }

    #[test]
    fn skipped_files_are_read_again_only_when_they_or_their_originals_change() {
        let seeds = tempfile::tempdir().expect("seeds");
        let data = tempfile::tempdir().expect("data");
        let s = seeds.path();
        let write = |name: &str, bytes: &[u8]| std::fs::write(s.join(name), bytes).expect("write");
        write(
            "a.txt",
            article("甲", "https://example.com/same").as_bytes(),
        );
        write(
            "b.txt",
            article("乙", "https://example.com/same").as_bytes(),
        );
        write("binary.txt", &[0u8, 159, 146, 150, 0, 1, 2, 3]);
        write(
            "good.txt",
            article("丙", "https://example.com/other").as_bytes(),
        );
        let index = SearchIndex::open(data.path()).expect("open");

        let first = index.sync(s, None).expect("sync");
        assert_eq!((first.added, first.skipped.len()), (2, 2), "{first:?}");
        let synced_at = index.commit_info().synced_at;

        // Nothing changed: nothing is read, warned about or committed.
        let second = index.sync(s, None).expect("sync");
        assert_eq!((second.read, second.skipped.len()), (0, 0), "{second:?}");
        assert!(!second.changed());
        assert_eq!(index.commit_info().synced_at, synced_at);

        // The original goes: its copy is read again and takes its place.
        std::fs::remove_file(s.join("a.txt")).expect("remove");
        let third = index.sync(s, None).expect("sync");
        assert_eq!((third.deleted, third.added), (1, 1), "{third:?}");

        // The binary file is fixed: read again and indexed.
        write(
            "binary.txt",
            article("丁", "https://example.com/fixed").as_bytes(),
        );
        let fourth = index.sync(s, None).expect("sync");
        assert_eq!((fourth.read, fourth.added), (1, 1), "{fourth:?}");
        assert_eq!(fourth.total, 3);
    }

    /// A sync told which paths changed looks only at those: they are indexed, and a change
    /// elsewhere waits for the next walk of the folder.
    #[test]
    fn a_sync_of_reported_paths_does_not_walk_the_folder() {
        let seeds = tempfile::tempdir().expect("seeds");
        let data = tempfile::tempdir().expect("data");
        let s = seeds.path();
        let write = |name: &str, title: &str| {
            let url = format!("https://example.com/{name}");
            std::fs::write(s.join(name), article(title, &url)).expect("write");
        };
        write("a.txt", "甲");
        write("b.txt", "乙");
        let index = SearchIndex::open(data.path()).expect("open");
        // The first sync walks the folder: there is no listing yet.
        let first = index.sync_paths(s, &[s.join("a.txt")]).expect("sync");
        assert_eq!(first.added, 2, "{first:?}");

        write("c.txt", "丙");
        write("unreported.txt", "丁");
        std::fs::remove_file(s.join("b.txt")).expect("remove");
        let reported = [s.join("c.txt"), s.join("b.txt")];
        let second = index.sync_paths(s, &reported).expect("sync");
        assert_eq!((second.added, second.deleted), (1, 1), "{second:?}");
        assert_eq!(second.total, 2);

        // The periodic walk finds what no event reported.
        let third = index.sync(s, None).expect("sync");
        assert_eq!((third.added, third.total), (1, 3), "{third:?}");
    }

    /// A sync that commits as it goes gives the same index as one commit: every article once,
    /// distinct ingest numbers, reposts in one story across the commits, the learned banner
    /// out of every article (re-cleaning reaches the articles of earlier commits).
    #[test]
    fn checkpoints_commit_a_large_sync_as_it_goes() {
        let seeds = tempfile::tempdir().expect("seeds");
        let data = tempfile::tempdir().expect("data");
        // Long enough to carry a story signature (150 distinct 3-grams and more).
        let body: String = (0..60)
            .map(|k| format!("第{k}条：城市更新推进老旧小区改造与地下管网建设，方案编号{k}。"))
            .collect();
        for i in 0..40 {
            // Every tenth file reposts the first one's article.
            let text = if i % 10 == 0 {
                body.clone()
            } else {
                format!("第{i}篇。{}", "内容".repeat(i + 1))
            };
            let page = format!(
                "---\ntitle: 文章{i}\nurl: https://example.com/{i}\nsource: 来源\n---\n本站内容自动备份，仅供查阅学习\n\n{text}\n"
            );
            std::fs::write(seeds.path().join(format!("{i:03}.txt")), page).expect("write");
        }
        let mut index = SearchIndex::open(data.path()).expect("open");
        index.set_checkpoint_every(7);
        // What another process sees while the sync runs, once 30 files were handed over.
        let seen_mid_sync = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(u64::MAX));
        let seen = std::sync::Arc::clone(&seen_mid_sync);
        let index_dir = data.path().join("index");
        let progress = move |done: usize, _: usize| {
            if done == 30 {
                let committed = tantivy::Index::open_in_dir(&index_dir)
                    .and_then(|i| i.reader())
                    .map(|r| r.searcher().num_docs())
                    .expect("read the index mid-sync");
                seen.store(committed, std::sync::atomic::Ordering::SeqCst);
            }
        };
        let report = index.sync(seeds.path(), Some(&progress)).expect("sync");
        assert_eq!((report.added, report.total), (40, 40), "{report:?}");
        let mid = seen_mid_sync.load(std::sync::atomic::Ordering::SeqCst);
        assert!((21..40).contains(&mid), "committed by the 30th file: {mid}");
        let searcher = index.searcher();
        let mut seqs = Vec::new();
        let mut stories = std::collections::HashMap::new();
        for segment in searcher.segment_readers() {
            let ff = segment.fast_fields();
            let seq = ff.u64(super::names::SEQ).expect("seq");
            let story = ff.u64(super::names::STORY).expect("story");
            for doc in segment.doc_ids_alive() {
                let s = seq.first(doc).expect("seq");
                seqs.push(s);
                stories.insert(s, story.first(doc).expect("story"));
            }
        }
        seqs.sort_unstable();
        assert_eq!(seqs, (0..40).collect::<Vec<u64>>(), "each number once");
        // Files 0, 10, 20, 30 (numbers 0, 10, 20, 30) are one story, started by the first.
        for repost in [10, 20, 30] {
            assert_eq!(stories[&repost], 0, "repost #{repost}");
        }
        assert_eq!(stories[&5], 5);
        let hits = crate::search::search(&index, "自动备份", &Default::default()).expect("search");
        assert_eq!(
            hits.total, 0,
            "the banner is learned and removed everywhere"
        );
    }
}
