//! Commits: the one that ends a sync's writing, and the checkpoints that commit a long sync as
//! it goes (ledger, chrome-line rows, then the index with its payload), so an interrupted build
//! resumes from its last checkpoint.

use super::writer::Feed;
use crate::corpus::boilerplate::Chrome;
use crate::index::learning::LineBook;
use crate::index::ledger::Entry;
use crate::index::{CommitInfo, IndexError, SearchIndex};

/// A sync that adds more documents than this commits them as it goes, every this many: a
/// sync interrupted in a large build resumes from its last commit instead of from the start,
/// and the ingest numbers handed out wait in memory for the ledger no longer than that.
pub(in crate::index) const CHECKPOINT_DOCS: usize = 16_384;

/// Commits `writer`'s documents with `info` as the payload.
pub(super) fn commit(writer: &mut Feed, info: &CommitInfo) -> tantivy::Result<()> {
    let payload = serde_json::to_string(info).unwrap_or_default();
    let mut prepared = writer.inner.prepare_commit()?;
    prepared.set_payload(&payload);
    prepared.commit().map(drop)
}

/// What a checkpoint commits besides the documents.
pub(super) struct Checkpoint<'a> {
    /// The sync's commit payload so far (its next ingest number).
    pub(super) info: &'a CommitInfo,
    /// The learned chrome the documents were cleaned with.
    pub(super) chrome: &'a Chrome,
    /// Ingest numbers handed out since the last checkpoint, for the ledger.
    pub(super) first_entries: &'a mut Vec<(String, Entry)>,
}

/// Commits what a long sync has added so far (see [`CHECKPOINT_DOCS`]), in the same order as
/// its final commit: ledger, chrome-line rows, then the index with a payload that says which
/// chrome the documents were cleaned with. The story candidates stay in memory (`StoryBook`):
/// the index's coarse band buckets would make each of the sync's later articles compare
/// hundreds of false candidates (a build of 97,970 took twice as long).
pub(super) fn checkpoint(
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
