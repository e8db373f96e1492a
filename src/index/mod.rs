//! The on-disk tantivy index under `DATA_DIR/index`: opening (and rebuilding an index written by
//! another schema version), syncing it with the seeds folder, and handing out searchers.

mod document;
mod learning;
pub mod ledger;
mod merges;
pub mod schema;
mod stories;
mod sync;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use tantivy::{Index, IndexReader, ReloadPolicy, Searcher, TantivyDocument};

pub use schema::Fields;
pub use sync::{Progress, SyncReport, document};

use crate::corpus::boilerplate::{Chrome, Scope};
use crate::text::{
    ATOMS_TOKENIZER, AtomsTokenizer, BIGRAM_TOKENIZER, BigramTokenizer, WORDS_TOKENIZER,
    WordsTokenizer,
};

/// Errors a user can act on.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error(
        "another jianbao process is writing the index in {0}; wait for it to finish or stop it"
    )]
    Busy(PathBuf),
    #[error("cannot read the seeds folder {path}: {source}")]
    Seeds {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("index error in {path}: {source}")]
    Tantivy {
        path: PathBuf,
        source: tantivy::TantivyError,
    },
    #[error("ingest ledger {path}: {message}")]
    Ledger { path: PathBuf, message: String },
    #[error("cannot prepare the data folder {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What is kept in the commit payload, written atomically with every commit.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CommitInfo {
    pub schema: u32,
    /// The next ingest sequence number; every article gets one when it first enters the index.
    pub next_seq: u64,
    /// Unix seconds of the last sync that changed something.
    pub synced_at: i64,
    /// The learned chrome the documents were cleaned with (see `index::learning`).
    #[serde(default)]
    pub chrome: Chrome,
    /// The ledger's generation of the chrome-line rows this commit goes with (0: none yet).
    #[serde(default)]
    pub lines_generation: u64,
}

/// A line learned as chrome, for reports.
#[derive(Debug, Clone)]
pub struct LearnedLine {
    /// The line as it was first removed (not recorded if the ledger lost it).
    pub text: Option<String>,
    /// The source whose chrome it is (`None` for a line learned everywhere).
    pub source: Option<String>,
    pub scope: Scope,
}

/// The search index and its reader.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    fields: Fields,
    dir: PathBuf,
    /// Serializes syncs within this process (tantivy's lock file covers other processes), and
    /// holds what this process's syncs skipped (see [`sync::Skipped`]) and the counts of
    /// boilerplate learning (see [`learning`]).
    sync_lock: Mutex<sync::SyncState>,
    /// The last sync that ended: how long it took and when it ended (Unix seconds).
    last_sync: Mutex<Option<(std::time::Duration, i64)>>,
    /// Ingest numbers, kept outside the index so that they survive a rebuild.
    ledger: ledger::Ledger,
    /// A sync commits every this many added documents (see [`sync::CHECKPOINT_DOCS`]).
    checkpoint_docs: usize,
}

impl SearchIndex {
    /// Opens the index in `data_dir/index`, creating it, or rebuilding it empty when it was
    /// written by another schema version (the next sync fills it again).
    pub fn open(data_dir: &Path) -> Result<SearchIndex, IndexError> {
        let dir = data_dir.join("index");
        let io_err = |source| IndexError::Io {
            path: dir.clone(),
            source,
        };
        std::fs::create_dir_all(&dir).map_err(io_err)?;
        let (schema, fields) = schema::build();
        let tantivy_err = |source| IndexError::Tantivy {
            path: dir.clone(),
            source,
        };
        let mut index = match Index::open_in_dir(&dir) {
            Ok(index) if Self::compatible(&index, &schema) => index,
            Ok(_) => {
                tracing::warn!(
                    "index in {} was written by another version: rebuilding it",
                    dir.display()
                );
                Self::clear_dir(&dir).map_err(io_err)?;
                Index::create_in_dir(&dir, schema).map_err(tantivy_err)?
            }
            Err(
                tantivy::TantivyError::OpenDirectoryError(_)
                | tantivy::TantivyError::OpenReadError(_),
            ) => {
                Self::clear_dir(&dir).map_err(io_err)?;
                Index::create_in_dir(&dir, schema).map_err(tantivy_err)?
            }
            Err(source) => return Err(tantivy_err(source)),
        };
        register_tokenizers(&index);
        // A search visits the segments on all cores: a collection of 97,970 articles has six,
        // and a query matching half of them took 8 ms on one core (BENCHMARKS.md, scale).
        index
            .set_default_multithread_executor()
            .map_err(tantivy_err)?;
        let ledger = ledger::Ledger::open(data_dir)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::OnCommitWithDelay)
            .try_into()
            .map_err(tantivy_err)?;
        Ok(SearchIndex {
            index,
            reader,
            fields,
            dir,
            sync_lock: Mutex::new(sync::SyncState::default()),
            last_sync: Mutex::new(None),
            ledger,
            checkpoint_docs: sync::CHECKPOINT_DOCS,
        })
    }

    /// A tantivy error, with the index folder it happened in.
    fn tantivy_error(&self, source: tantivy::TantivyError) -> IndexError {
        IndexError::Tantivy {
            path: self.dir.clone(),
            source,
        }
    }

    /// Makes syncs commit every `docs` added documents instead of every
    /// [`sync::CHECKPOINT_DOCS`] (at least 1).
    pub fn set_checkpoint_every(&mut self, docs: usize) {
        self.checkpoint_docs = docs.max(1);
    }

    /// Same schema and version, or an index that has never been committed to (a crash
    /// before the first commit leaves one behind).
    fn compatible(index: &Index, schema: &tantivy::schema::Schema) -> bool {
        let same_schema =
            serde_json::to_string(&index.schema()).ok() == serde_json::to_string(schema).ok();
        let same_version =
            Self::commit_info_of(index).is_some_and(|i| i.schema == schema::SCHEMA_VERSION);
        let empty = index
            .searchable_segment_ids()
            .is_ok_and(|ids| ids.is_empty());
        same_schema && (same_version || empty)
    }

    /// Removes the index files but keeps the folder (and any lock file another process holds).
    fn clear_dir(dir: &Path) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().ends_with(".lock"))
            {
                continue;
            }
            if path.is_dir() {
                std::fs::remove_dir_all(&path)?
            } else {
                std::fs::remove_file(&path)?
            }
        }
        Ok(())
    }

    fn commit_info_of(index: &Index) -> Option<CommitInfo> {
        let metas = index.load_metas().ok()?;
        serde_json::from_str(metas.payload.as_deref()?).ok()
    }

    /// The payload of the last commit on disk.
    pub fn commit_info(&self) -> CommitInfo {
        Self::commit_info_of(&self.index).unwrap_or(CommitInfo {
            schema: schema::SCHEMA_VERSION,
            ..CommitInfo::default()
        })
    }

    pub fn fields(&self) -> &Fields {
        &self.fields
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A point-in-time view of the index.
    pub fn searcher(&self) -> Searcher {
        self.reader.searcher()
    }

    /// Number of searchable articles.
    /// How long the last sync took and when it ended (Unix seconds), if one ended.
    pub fn last_sync(&self) -> Option<(std::time::Duration, i64)> {
        *self.last_sync.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn num_docs(&self) -> u64 {
        self.searcher().num_docs()
    }

    /// Size of the index files in bytes.
    pub fn size_on_disk(&self) -> u64 {
        std::fs::read_dir(&self.dir)
            .map(|entries| {
                entries
                    .flatten()
                    .filter_map(|e| e.metadata().ok())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0)
    }

    /// Brings the index in line with the seeds folder: adds new files, re-indexes changed ones,
    /// removes deleted ones, in one commit. Nothing changed means nothing is written.
    pub fn sync(
        &self,
        seeds_dir: &Path,
        progress: Option<&Progress>,
    ) -> Result<SyncReport, IndexError> {
        self.sync_with(seeds_dir, progress, None)
    }

    /// [`SearchIndex::sync`] when a folder watcher reported which paths changed: the folder is
    /// not walked again, the last sync's listing is brought up to date for those paths
    /// (the whole folder is walked when there is none, or a folder itself changed).
    pub fn sync_paths(
        &self,
        seeds_dir: &Path,
        changed: &[PathBuf],
    ) -> Result<SyncReport, IndexError> {
        self.sync_with(seeds_dir, None, Some(changed))
    }

    fn sync_with(
        &self,
        seeds_dir: &Path,
        progress: Option<&Progress>,
        changed: Option<&[PathBuf]>,
    ) -> Result<SyncReport, IndexError> {
        let mut state = self
            .sync_lock
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let report = match sync::run(self, seeds_dir, progress, &mut state, changed) {
            Ok(report) => report,
            Err(e) => {
                // Counts in memory may hold what was not committed: read them again.
                state.lines.invalidate();
                return Err(e);
            }
        };
        if report.changed() {
            self.reader
                .reload()
                .map_err(|source| self.tantivy_error(source))?;
        }
        *self.last_sync.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((report.elapsed, chrono::Utc::now().timestamp()));
        Ok(report)
    }

    /// The boilerplate lines learned from the collection, most common first, with the text
    /// recorded when they were removed from an article.
    pub fn learned_chrome(&self) -> Result<Vec<LearnedLine>, IndexError> {
        let mut state = self
            .sync_lock
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        state.lines.ensure_loaded(&self.ledger)?;
        let mut out = Vec::new();
        for (line, scope) in state.lines.learned_lines() {
            let source = match scope {
                Scope::Source { source, .. } => self.ledger.name(source)?,
                Scope::Everywhere { .. } => None,
            };
            out.push(LearnedLine {
                text: self.ledger.name(line)?,
                source,
                scope,
            });
        }
        let files = |l: &LearnedLine| match l.scope {
            Scope::Source { files, .. } | Scope::Everywhere { files, .. } => files,
        };
        out.sort_by(|a, b| files(b).cmp(&files(a)).then_with(|| a.text.cmp(&b.text)));
        Ok(out)
    }

    pub(crate) fn index(&self) -> &Index {
        &self.index
    }

    /// Loads a stored document.
    pub fn doc(
        &self,
        searcher: &Searcher,
        address: tantivy::DocAddress,
    ) -> tantivy::Result<TantivyDocument> {
        searcher.doc(address)
    }
}

/// Registers the tokenizers the schema's text fields name: every index, on disk or in memory,
/// needs them before it is written or searched.
pub fn register_tokenizers(index: &Index) {
    index.tokenizers().register(WORDS_TOKENIZER, WordsTokenizer);
    index
        .tokenizers()
        .register(BIGRAM_TOKENIZER, BigramTokenizer);
    index.tokenizers().register(ATOMS_TOKENIZER, AtomsTokenizer);
}

/// A stored document's fields, read through the schema's handles (a missing value reads as
/// empty or 0: every writer of the index sets them all).
pub struct Stored<'a> {
    fields: &'a Fields,
    doc: &'a TantivyDocument,
}

impl<'a> Stored<'a> {
    pub fn new(fields: &'a Fields, doc: &'a TantivyDocument) -> Stored<'a> {
        Stored { fields, doc }
    }

    pub fn text(&self, field: tantivy::schema::Field) -> String {
        use tantivy::schema::Value;
        self.doc
            .get_first(field)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned()
    }

    fn u64(&self, field: tantivy::schema::Field) -> u64 {
        use tantivy::schema::Value;
        self.doc
            .get_first(field)
            .and_then(|v| v.as_u64())
            .unwrap_or(0)
    }

    pub fn seq(&self) -> u64 {
        self.u64(self.fields.seq)
    }

    pub fn story(&self) -> u64 {
        self.u64(self.fields.story)
    }

    pub fn date(&self) -> Option<chrono::NaiveDate> {
        use tantivy::schema::Value;
        self.doc
            .get_first(self.fields.date)
            .and_then(|v| v.as_i64())
            .and_then(crate::corpus::dates::from_date_key)
    }

    pub fn state(&self) -> crate::corpus::status::TextState {
        crate::corpus::status::TextState::from_code(self.u64(self.fields.text_state))
    }
}

/// Number of distinct sources in a snapshot.
pub fn count_sources(searcher: &Searcher) -> usize {
    let mut sources = std::collections::HashSet::new();
    for segment in searcher.segment_readers() {
        let Ok(Some(column)) = segment.fast_fields().str(schema::names::SOURCE_KEY) else {
            continue;
        };
        let mut buf = String::new();
        for ord in 0..column.num_terms() as u64 {
            buf.clear();
            if column.ord_to_str(ord, &mut buf).unwrap_or(false) && !buf.is_empty() {
                sources.insert(buf.clone());
            }
        }
    }
    sources.len()
}
