//! Re-cleaning: when the chrome learned from this sync's counts differs from the chrome the
//! index was cleaned with, the articles it cleans differently are read again and re-indexed,
//! keeping their ingest numbers and stories. The writing session calls it after reading.

use std::collections::HashMap;

use tantivy::Term;

use super::existing::Indexed;
use super::prepare::{count_lines, parse_in_order};
use super::writer::{Feed, Stamp, to_document};
use crate::corpus::SeedFile;
use crate::corpus::boilerplate::Chrome;
use crate::index::learning::LineBook;
use crate::index::stories::StoryBook;
use crate::index::{IndexError, SearchIndex};

/// Reads `files` again and re-indexes them cleaned with `chrome`, keeping their ingest numbers.
/// Returns how many were re-indexed.
pub(super) fn reclean(
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
