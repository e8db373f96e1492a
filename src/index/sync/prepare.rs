//! Reading and cleaning files on worker threads: each file becomes a `Prepared` article (folded
//! title and body, story signature, candidate chrome lines), handed on in the order of the
//! files so that the first by name wins, and its lines are counted as it is indexed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use super::Progress;
use crate::corpus::boilerplate::{ArticleLines, Chrome, LineKey};
use crate::corpus::status::TextState;
use crate::corpus::{self, Article, Parsed, SeedFile, Skip};
use crate::index::learning::LineBook;
use crate::story::Signature;
use crate::text::fold;

/// An article with its folded title and body, computed on a worker thread.
pub(super) struct Prepared {
    pub(super) article: Article,
    pub(super) title_folded: String,
    pub(super) body_folded: String,
    lines: Option<ArticleLines>,
    chrome_removed: Vec<(LineKey, String)>,
    /// The body's near-duplicate signature (none for a short text or a page without text).
    pub(super) sig: Option<Signature>,
}

impl Prepared {
    pub(super) fn new(parsed: Parsed) -> Prepared {
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
pub(super) fn count_lines(book: &mut LineBook, key: &str, prepared: &mut Prepared) {
    for (line, text) in &prepared.chrome_removed {
        book.name(*line, text);
    }
    if let Some(article_lines) = prepared.lines.take() {
        book.name(article_lines.source, &prepared.article.source);
        book.insert(key, article_lines);
    }
}

/// Parses files on worker threads and hands the results to `sink` in the order of `files`.
pub(super) fn parse_in_order<E>(
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
