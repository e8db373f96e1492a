//! What a sync has to do: the folder's files (walked, or the last listing patched for the
//! paths a watcher reported), which documents have their chrome lines counted, and the diff of
//! the two against what the index holds: files to read, documents to remove. The writing
//! session works from the plan.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::SyncReport;
use super::existing::Indexed;
use super::skips::Skipped;
use crate::corpus::{self, SeedFile};
use crate::index::learning::LineBook;
use crate::index::{CommitInfo, IndexError, SearchIndex};

/// A seeds folder's files, as of the end of a sync.
#[derive(Debug)]
pub(in crate::index) struct Listing {
    pub(super) root: PathBuf,
    pub(super) files: Vec<SeedFile>,
}

/// The files of `seeds_dir`: the last listing patched for `changed` when there is one for this
/// folder and it can be patched (see [`corpus::rescan_paths`]), else a walk of the folder.
pub(super) fn list(
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

/// The documents whose lines are counted, when that is in doubt; `None` when all are.
///
/// The chrome-line rows are those of the committed documents when the ledger's generation
/// is the one the commit recorded. Otherwise (a crash between the two, a rebuilt index, an
/// index from before learning) they are checked: rows only for documents in the index (a
/// page emptied by learned chrome keeps its row: it still counts), and a document with text
/// but no row is read again to be counted.
pub(super) fn counted(
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
pub(super) struct Plan<'a> {
    files: &'a [SeedFile],
    pub(super) existing: &'a HashMap<String, Indexed>,
    /// The keys of `files`.
    present: HashSet<&'a str>,
    /// Documents whose file is gone.
    pub(super) removed: Vec<&'a String>,
    /// Files new or changed (and not skipped as they are), or indexed with uncounted lines.
    pub(super) to_read: Vec<&'a SeedFile>,
    /// The ledger's chrome-line rows are those of the committed documents (see `counted`).
    in_step: bool,
}

/// Diffs the listing against the index. Also brings `skipped` up to date: a skip of a file
/// that is gone is dropped, and copies are forgotten when an indexed file changed or went.
pub(super) fn diff<'a>(
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
    pub(super) fn nothing_to_do(&self) -> bool {
        self.to_read.is_empty() && self.removed.is_empty() && self.in_step
    }

    /// The report's start: what the listing holds and what is read.
    pub(super) fn report(&self) -> SyncReport {
        SyncReport {
            files: self.files.len(),
            read: self.to_read.len(),
            unchanged: self.files.len() - self.to_read.len(),
            ..SyncReport::default()
        }
    }

    /// URL owners among the documents that stay untouched.
    pub(super) fn untouched_urls(&self) -> HashMap<String, String> {
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
    pub(super) fn removed_identities(&self) -> HashMap<&'a str, &'a Indexed> {
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
    pub(super) fn files_of(&self, keys: &[String]) -> Vec<&SeedFile> {
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
