//! Coverage ranking: a result is first ranked by how much of the query it contains *whole*
//! (each term weighted by its rarity), and by BM25 only among results that cover as much.
//!
//! BM25 alone, over words and bigrams, lets generic words outrank the thing asked for: among
//! 20,000 news articles `首届比赛在哪里举行？` put a title with 首届 and 举行 above the
//! paragraph about the 比赛, and `CVE-2024-3400` put any article with `cve` and `2024` above
//! the one with the id. Here a fragment (a bigram or a piece of an id) is worth nothing for
//! coverage; it still counts in BM25, which orders results of equal coverage.
//!
//! Per query term, a *presence* query says whether a document has the term whole: for an id
//! the whole token (atoms field), for a CJK word its exact character sequence (a phrase of its
//! bigrams, so a word is found however jieba cut the document), for a quoted phrase the
//! phrase. A term no document has is *missing*: reported to the user, left out of coverage.

use tantivy::query::{
    BooleanQuery, EnableScoring, Explanation, Occur, PhraseQuery, Query, Scorer, TermQuery, Weight,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, DocSet, Score, Searcher, SegmentReader, TERMINATED, Term};

use super::terms::{QueryTerm, TermKind};
use crate::index::Fields;
use crate::text::bigrams;

/// Coverage is counted in steps of 1/COVERAGE_STEPS: results whose coverage differs by less
/// are ordered by BM25 alone (a rare word more or less in a long question should not beat a
/// much better BM25 match).
const COVERAGE_STEPS: f32 = 8.0;
/// Added per coverage step: above any BM25 score this index produces.
const STEP_SCORE: f32 = 10_000.0;

/// A query term with what the index knows about it.
#[derive(Debug)]
pub struct TermStat {
    pub term: QueryTerm,
    /// Matches the documents that contain the term whole.
    pub presence: Box<dyn Query>,
    /// IDF of the whole term (its document frequency is estimated, see [`estimate_df`]).
    pub weight: f32,
    /// No live document contains the term.
    pub missing: bool,
}

/// Looks every term up: its presence query, weight, and whether any article has it.
pub fn term_stats(searcher: &Searcher, f: &Fields, terms: Vec<QueryTerm>) -> Vec<TermStat> {
    let n = searcher.num_docs().max(1) as f32;
    terms
        .into_iter()
        .filter_map(|term| {
            let presence = presence_query(f, &term)?;
            let df = estimate_df(searcher, f, &term);
            let missing = df == 0 || !occurs(searcher, presence.as_ref());
            let df = df as f32;
            Some(TermStat {
                weight: (1.0 + (n - df + 0.5) / (df + 0.5)).ln().max(0.05),
                term,
                presence,
                missing,
            })
        })
        .collect()
}

fn either(a: Box<dyn Query>, b: Box<dyn Query>) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(vec![(Occur::Should, a), (Occur::Should, b)]))
}

fn term_query(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::Basic,
    ))
}

/// The exact character sequence of a CJK word: one bigram, or the phrase of its bigrams.
fn sequence_query(field: Field, word: &str) -> Box<dyn Query> {
    let grams: Vec<Term> = bigrams(word)
        .into_iter()
        .map(|b| Term::from_field_text(field, b.text))
        .collect();
    match grams.len() {
        0 | 1 => term_query(field, word),
        _ => Box::new(PhraseQuery::new(grams)),
    }
}

fn presence_query(f: &Fields, term: &QueryTerm) -> Option<Box<dyn Query>> {
    let text = term.folded.as_str();
    Some(match term.kind {
        TermKind::Atom => either(term_query(f.title_b, text), term_query(f.body_b, text)),
        TermKind::CompoundAtom => term_query(f.atoms, text),
        TermKind::Word => either(sequence_query(f.title_b, text), sequence_query(f.body_b, text)),
        TermKind::Phrase => super::phrase_in_title_or_body(f, text)?,
    })
}

/// An upper bound of the term's document frequency from the term dictionaries alone: the
/// frequency of the whole token, or of the rarest bigram of a word (a document with the word
/// has all its bigrams). Zero means no document can contain it.
fn estimate_df(searcher: &Searcher, f: &Fields, term: &QueryTerm) -> u64 {
    let df = |field: Field, text: &str| {
        searcher
            .doc_freq(&Term::from_field_text(field, text))
            .unwrap_or(0)
    };
    let either_df = |a: Field, b: Field, text: &str| df(a, text).max(df(b, text));
    match term.kind {
        TermKind::Atom => either_df(f.title_b, f.body_b, &term.folded),
        TermKind::CompoundAtom => df(f.atoms, &term.folded),
        TermKind::Word => bigrams(&term.folded)
            .iter()
            .map(|b| either_df(f.title_b, f.body_b, b.text))
            .min()
            .unwrap_or(0),
        TermKind::Phrase => crate::text::phrase_words(&term.folded)
            .iter()
            .map(|(_, w)| either_df(f.title_w, f.body_w, w))
            .min()
            .unwrap_or(0),
    }
}

/// Whether any live document matches: stops at the first one, so the cost is that of
/// finding one match, not of counting them.
fn occurs(searcher: &Searcher, query: &dyn Query) -> bool {
    let Ok(weight) = query.weight(EnableScoring::disabled_from_searcher(searcher)) else {
        return true;
    };
    searcher.segment_readers().iter().any(|segment| {
        let Ok(mut scorer) = weight.scorer(segment, 1.0) else {
            return true;
        };
        let mut doc = scorer.doc();
        while doc != TERMINATED {
            if !segment.is_deleted(doc) {
                return true;
            }
            doc = scorer.advance();
        }
        false
    })
}

/// The share of the query's (present) weight a result must cover, by the number of present
/// terms. One or two terms (keyword searches: `芯片 出口`, `CVE-2024-3400`): all of them. More
/// terms are more and more likely a question, whose words the answer only partly repeats:
/// the required share falls to the rarer part of the query.
pub fn min_coverage(present_terms: usize) -> f32 {
    match present_terms {
        0..=2 => 1.0,
        3 => 0.6,
        4 => 0.5,
        _ => 0.34,
    }
}

/// Wraps the BM25 query: only documents with at least `min_coverage` of the terms' weight,
/// scored `coverage step × STEP_SCORE + BM25`.
#[derive(Debug)]
pub struct CoverageQuery {
    pub main: Box<dyn Query>,
    pub terms: Vec<(Box<dyn Query>, f32)>,
    pub min_coverage: f32,
}

impl Clone for CoverageQuery {
    fn clone(&self) -> Self {
        CoverageQuery {
            main: self.main.box_clone(),
            terms: self
                .terms
                .iter()
                .map(|(q, w)| (q.box_clone(), *w))
                .collect(),
            min_coverage: self.min_coverage,
        }
    }
}

impl Query for CoverageQuery {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let presence_scoring = match scoring.searcher() {
            Some(searcher) => EnableScoring::disabled_from_searcher(searcher),
            None => EnableScoring::disabled_from_schema(scoring.schema()),
        };
        let terms = self
            .terms
            .iter()
            .map(|(q, w)| Ok((q.weight(presence_scoring)?, *w)))
            .collect::<tantivy::Result<Vec<_>>>()?;
        Ok(Box::new(CoverageWeight {
            main: self.main.weight(scoring)?,
            terms,
            min_coverage: self.min_coverage,
        }))
    }
    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        self.main.query_terms(visitor);
    }
}

struct CoverageWeight {
    main: Box<dyn Weight>,
    terms: Vec<(Box<dyn Weight>, f32)>,
    min_coverage: f32,
}

impl Weight for CoverageWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let terms = self
            .terms
            .iter()
            .map(|(w, weight)| Ok((w.scorer(reader, 1.0)?, *weight)))
            .collect::<tantivy::Result<Vec<_>>>()?;
        let total = terms.iter().map(|(_, w)| w).sum();
        let mut scorer = CoverageScorer {
            main: self.main.scorer(reader, boost)?,
            terms,
            total,
            min_coverage: self.min_coverage,
            doc: TERMINATED,
            score: 0.0,
        };
        scorer.settle();
        Ok(Box::new(scorer))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.scorer(reader, 1.0)?;
        if scorer.doc() < doc {
            scorer.seek(doc);
        }
        if scorer.doc() != doc {
            return Err(tantivy::TantivyError::InvalidArgument(format!(
                "document {doc} does not match"
            )));
        }
        Ok(Explanation::new("coverage step × 10000 + BM25", scorer.score()))
    }
}

struct CoverageScorer {
    main: Box<dyn Scorer>,
    terms: Vec<(Box<dyn Scorer>, f32)>,
    total: f32,
    min_coverage: f32,
    doc: DocId,
    score: Score,
}

impl CoverageScorer {
    /// Share of the terms' weight that `doc` contains whole. Presence scorers only move
    /// forward, as the main scorer does.
    fn coverage(&mut self, doc: DocId) -> f32 {
        if self.total <= 0.0 {
            return 1.0;
        }
        let mut covered = 0.0;
        for (scorer, weight) in &mut self.terms {
            if scorer.doc() < doc {
                scorer.seek(doc);
            }
            if scorer.doc() == doc {
                covered += *weight;
            }
        }
        covered / self.total
    }

    /// From the main scorer's current document, the first one covering enough.
    fn settle(&mut self) -> DocId {
        loop {
            let doc = self.main.doc();
            if doc == TERMINATED {
                self.doc = TERMINATED;
                return TERMINATED;
            }
            let coverage = self.coverage(doc);
            // A small tolerance: weights are sums of floats.
            if coverage + 1e-4 >= self.min_coverage {
                let step = (coverage * COVERAGE_STEPS + 1e-4).floor();
                self.score = step * STEP_SCORE + self.main.score();
                self.doc = doc;
                return doc;
            }
            self.main.advance();
        }
    }
}

impl DocSet for CoverageScorer {
    fn advance(&mut self) -> DocId {
        if self.doc == TERMINATED {
            return TERMINATED;
        }
        self.main.advance();
        self.settle()
    }
    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc >= target {
            return self.doc;
        }
        if self.main.doc() < target {
            self.main.seek(target);
        }
        self.settle()
    }
    fn doc(&self) -> DocId {
        self.doc
    }
    fn size_hint(&self) -> u32 {
        self.main.size_hint()
    }
    fn cost(&self) -> u64 {
        self.main.cost()
    }
}

impl Scorer for CoverageScorer {
    fn score(&mut self) -> Score {
        self.score
    }
}
