//! What the index holds, as a sync sees it: every live document's key, file stamp, ingest
//! number, identities and story, read from the fast fields. The first thing a sync reads; the
//! plan compares the folder against it.

use std::collections::HashMap;

use crate::corpus::status::TextState;
use crate::index::SearchIndex;
use crate::index::schema::names;

/// An indexed document as the sync sees it.
pub(super) struct Indexed {
    pub(super) mtime: u64,
    pub(super) size: u64,
    pub(super) seq: u64,
    pub(super) indexed_at: i64,
    pub(super) url_key: String,
    pub(super) content_key: String,
    /// Indexed with article text (not a status page or a title-only scrape).
    pub(super) text: bool,
    pub(super) story: u64,
}

/// Reads key, mtime, size, seq, indexed_at and url_key of every live document from the fast
/// fields (no stored-document decompression).
pub(super) fn read_existing(index: &SearchIndex) -> tantivy::Result<HashMap<String, Indexed>> {
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
        // A document's term of a string column (each has at most one).
        let term_of = |column: &tantivy::columnar::StrColumn, terms: &[String], doc| {
            column
                .term_ords(doc)
                .next()
                .and_then(|o| terms.get(o as usize))
                .cloned()
        };
        for doc in segment.doc_ids_alive() {
            let Some(key) = term_of(&keys, &key_terms, doc) else {
                continue;
            };
            let url_key = term_of(&urls, &url_terms, doc).unwrap_or_default();
            let content_key = term_of(&contents, &content_terms, doc).unwrap_or_default();
            out.insert(
                key,
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
