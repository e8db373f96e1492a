//! A wrapper for excluded phrases (see [`ForwardOnly`]).

use tantivy::query::{EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::{DocId, DocSet, Score, SegmentReader, Term};

/// Workaround for a tantivy 0.27.0 bug found by fuzzing (`fuzz/`, target `query_parser`;
/// regression test in tests/fuzz_regressions.rs). As a `MustNot` clause, a phrase scorer is asked
/// `seek_danger(target)` for a target *before* its current document (when the phrase's first
/// match in a segment comes after the first document the rest of the query matches), and
/// `PhraseScorer::seek_danger` has a `debug_assert!` against that: every debug build
/// (`cargo run -- chat`, `cargo test`) panicked on a query like `人工智能 -"全球治理"`. Release
/// builds answered correctly. This wrapper hides the phrase scorer's own `seek_danger`, so
/// tantivy uses `DocSet`'s default one, which never seeks backwards.
#[derive(Debug)]
pub(super) struct ForwardOnly(pub(super) Box<dyn Query>);

impl Clone for ForwardOnly {
    fn clone(&self) -> Self {
        ForwardOnly(self.0.box_clone())
    }
}

impl Query for ForwardOnly {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(ForwardOnlyWeight(self.0.weight(scoring)?)))
    }
    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        self.0.query_terms(visitor);
    }
}

struct ForwardOnlyWeight(Box<dyn Weight>);

impl Weight for ForwardOnlyWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        Ok(Box::new(ForwardOnlyScorer(self.0.scorer(reader, boost)?)))
    }
    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        self.0.explain(reader, doc)
    }
}

struct ForwardOnlyScorer(Box<dyn Scorer>);

impl DocSet for ForwardOnlyScorer {
    fn advance(&mut self) -> DocId {
        self.0.advance()
    }
    fn seek(&mut self, target: DocId) -> DocId {
        self.0.seek(target)
    }
    // `seek_danger` deliberately not forwarded: the default calls `seek` only when
    // `doc() < target`.
    fn doc(&self) -> DocId {
        self.0.doc()
    }
    fn size_hint(&self) -> u32 {
        self.0.size_hint()
    }
    fn cost(&self) -> u64 {
        self.0.cost()
    }
}

impl Scorer for ForwardOnlyScorer {
    fn score(&mut self) -> Score {
        self.0.score()
    }
}
