//! The index writer a sync feeds, and the documents it hands it: opening the writer (busy when
//! another process holds it), the `Feed` that bounds the documents queued in it, and the
//! document written for a prepared article with its ingest number, time and story.

use std::sync::Arc;

use tantivy::{IndexWriter, TantivyDocument};

use super::prepare::Prepared;
use crate::corpus::dates::date_key;
use crate::corpus::{Article, Parsed, SeedFile};
use crate::index::document::{IN_FLIGHT, InFlight, SharedDoc};
use crate::index::merges::BoundedMerges;
use crate::index::schema;
use crate::index::{IndexError, SearchIndex};
use crate::text::fold;

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

/// The index's writer, its merges bounded for a sync that touches `docs` documents.
pub(super) fn open_writer(index: &SearchIndex, docs: usize) -> Result<Feed, IndexError> {
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
pub(super) struct Feed {
    pub(super) inner: IndexWriter<SharedDoc>,
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
    pub(super) fn add(&self, mut doc: SharedDoc) -> tantivy::Result<()> {
        doc.hold(self.in_flight.take(IN_FLIGHT));
        self.inner.add_document(doc).map(drop)
    }
}

/// What the sync gives a document besides its file: ingest number and time, story.
pub(super) struct Stamp {
    pub(super) seq: u64,
    pub(super) indexed_at: i64,
    pub(super) story: u64,
}

pub(super) fn to_document(
    f: &schema::Fields,
    file: &SeedFile,
    p: Prepared,
    stamp: Stamp,
) -> SharedDoc {
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
