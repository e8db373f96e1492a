//! Stage 2 of a search, planning: the analysed terms → what the index knows of each (whether
//! any article has it whole, how rare it is) and the tantivy queries that find, rank and
//! filter: BM25 over words and bigrams, wrapped in coverage (`coverage.rs`), with the
//! query's phrases, exclusions, source and dates as constraints.
//!
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

use std::collections::HashSet;
use std::ops::Bound;

use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, EnableScoring, Occur, PhraseQuery, Query, RangeQuery,
    TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{Searcher, TERMINATED, Term};

use super::Sort;
use super::analyze::{Analysis, QueryTerm, TermKind};
use super::coverage::{CoverageQuery, CoverageTerm};
use super::forward_only::ForwardOnly;
use super::query::UserQuery;
use crate::corpus::dates::date_key;
use crate::index::Fields;
use crate::text::{bigrams, is_compound, phrase_words, query_atoms, words};

/// Title matches count this much more than body matches.
const TITLE_BOOST: f32 = 2.0;
/// Weight of the bigram fields relative to the jieba word fields. 1.5 since coverage ranks
/// first (MRR@10 on the title keyword set 0.697 → 0.705, the question sets unchanged): a
/// bigram finds what jieba segmented differently in the query and the article.
const BIGRAM_WEIGHT: f32 = 1.5;
/// Caps on clauses, whatever the query's length.
const MAX_WORDS: usize = 48;
const MAX_BIGRAMS: usize = 96;
/// Weight of a whole Latin/digit id (`cve-2024-3400`) in BM25, relative to a word.
const ATOM_BOOST: f32 = 2.0;
/// Coverage a fallback search requires when nothing covers the usual share: any one term.
const ANY_TERM: f32 = 1e-3;

/// What a search will run: the terms with what the index knows of them, and the queries.
pub struct Plan {
    /// Every term of the query, present or missing.
    pub stats: Vec<TermStat>,
    /// `None` when every term is missing: fragments of what was asked are not an answer.
    pub queries: Option<Queries>,
    pub sort: Sort,
    /// The query's CJK bigrams that no term holds, with their rarity: a question's words
    /// across jieba's cuts (`被发` of `何时被发现`), which the answer's sentence often
    /// repeats. They choose the excerpt's sentence and are not highlighted.
    pub hints: Vec<(String, f32)>,
}

/// The ranked query and, when it requires more than one term, the same query requiring any
/// one of them: run when the first matches nothing, its hits labelled partial.
pub struct Queries {
    pub main: Box<dyn Query>,
    pub fallback: Option<Box<dyn Query>>,
}

impl Plan {
    /// The missing terms, as the user wrote them.
    pub fn missing(&self) -> Vec<String> {
        self.stats
            .iter()
            .filter(|s| s.missing)
            .map(|s| s.term.written.clone())
            .collect()
    }
}

/// Looks the analysed terms up and builds the queries.
pub fn plan(searcher: &Searcher, f: &Fields, analysis: &Analysis, sort: Sort) -> Plan {
    let q = &analysis.query;
    let stats = term_stats(searcher, f, analysis.terms.clone());
    let present: Vec<&TermStat> = stats.iter().filter(|s| !s.missing).collect();
    let sort = if q.has_words() { sort } else { Sort::Date };
    let queries = (stats.is_empty() || !present.is_empty()).then(|| {
        // A pair (`iPhone 15`) does not make the query longer than its two pieces.
        let present_terms = present
            .iter()
            .filter(|s| s.term.kind != TermKind::LatinPair)
            .count();
        let min = min_coverage(analysis.length.max(present_terms));
        Queries {
            main: ranked_query(f, q, &present, min),
            fallback: (!present.is_empty() && min > ANY_TERM)
                .then(|| ranked_query(f, q, &present, ANY_TERM)),
        }
    });
    Plan {
        hints: hints(searcher, f, analysis, &stats),
        stats,
        queries,
        sort,
    }
}

/// At most this many hints are looked up (a pasted paragraph).
const MAX_HINTS: usize = 24;

/// The [`Plan::hints`] of a query: its CJK bigrams outside the present terms and outside
/// question words, weighted by their rarity in bodies.
fn hints(
    searcher: &Searcher,
    f: &Fields,
    analysis: &Analysis,
    stats: &[TermStat],
) -> Vec<(String, f32)> {
    let n = searcher.num_docs().max(1) as f32;
    let held = |text: &str| {
        stats
            .iter()
            .any(|s| !s.missing && s.term.folded.contains(text))
    };
    analysis
        .bigrams
        .iter()
        .filter(|b| !held(b))
        .take(MAX_HINTS)
        .filter_map(|b| {
            let df = searcher
                .doc_freq(&Term::from_field_text(f.body_b, b))
                .unwrap_or(0);
            (df > 0).then(|| {
                let df = df as f32;
                (b.clone(), (1.0 + (n - df + 0.5) / (df + 0.5)).ln())
            })
        })
        .collect()
}

/// A query term with what the index knows about it.
#[derive(Debug)]
pub struct TermStat {
    pub term: QueryTerm,
    /// Matches the documents that contain the term whole.
    pub presence: Box<dyn Query>,
    /// Matches the documents whose title contains the term whole (none for an id of the
    /// atoms field, which does not tell title from body).
    pub in_title: Option<Box<dyn Query>>,
    /// IDF of the whole term (its document frequency is estimated, see [`estimate_df`]).
    pub weight: f32,
    /// No live document contains the term.
    pub missing: bool,
}

/// Looks every term up: its presence query, weight, and whether any article has it.
pub fn term_stats(searcher: &Searcher, f: &Fields, terms: Vec<QueryTerm>) -> Vec<TermStat> {
    let mut out = Vec::new();
    for term in terms {
        let Some(mut stat) = term_stat(searcher, f, term) else {
            continue;
        };
        prefer_word_fields(searcher, f, &mut stat);
        if stat.missing && stat.term.kind == TermKind::Unit {
            // Reported as typed; the pieces some article has stand in (never reported: the
            // whole is).
            let pieces = term_stats(searcher, f, stat.term.pieces.clone());
            out.push(stat);
            for piece in pieces.into_iter().filter(|p| !p.missing) {
                if !out.iter().any(|o| o.term.folded == piece.term.folded) {
                    out.push(piece);
                }
            }
            continue;
        }
        if stat.missing && stat.term.kind == TermKind::LoneChars {
            let parts = present_parts(searcher, f, &stat.term);
            if !parts.is_empty() {
                out.extend(parts);
                continue;
            }
        }
        out.push(stat);
    }
    // `iPhone 16` is not reported missing when `16` already is.
    let missing_pieces: Vec<String> = out
        .iter()
        .filter(|s| s.missing && s.term.kind != TermKind::LatinPair)
        .map(|s| s.term.folded.clone())
        .collect();
    out.retain(|s| {
        !(s.missing
            && s.term.kind == TermKind::LatinPair
            && s.term
                .folded
                .split(' ')
                .any(|p| missing_pieces.iter().any(|m| m == p)))
    });
    out
}

fn term_stat(searcher: &Searcher, f: &Fields, term: QueryTerm) -> Option<TermStat> {
    let n = searcher.num_docs().max(1) as f32;
    let presence = presence_query(f, &term)?;
    let df = estimate_df(searcher, f, &term);
    let missing = df == 0 || !occurs(searcher, presence.as_ref());
    let df = df as f32;
    Some(TermStat {
        weight: (1.0 + (n - df + 0.5) / (df + 0.5)).ln().max(0.05),
        in_title: title_presence_query(f, &term),
        term,
        presence,
        missing,
    })
}

/// For ranking, a word of three or more characters that jieba indexed as a token is looked up
/// as that token (a posting list) instead of the phrase of its bigrams (positions of two
/// common bigrams in every candidate: `进一步` cost several milliseconds per query). The phrase
/// has already decided whether the word is missing. The title is still searched by the
/// sequence; an article whose *body* alone has the word, cut otherwise by jieba, does not
/// cover it.
fn prefer_word_fields(searcher: &Searcher, f: &Fields, stat: &mut TermStat) {
    let long_word = matches!(stat.term.kind, TermKind::Word | TermKind::Unit)
        && stat.term.folded.chars().count() >= 3;
    if !long_word || stat.missing {
        return;
    }
    let text = stat.term.folded.as_str();
    let indexed = [f.title_w, f.body_w].into_iter().any(|field| {
        searcher
            .doc_freq(&Term::from_field_text(field, text))
            .is_ok_and(|df| df > 0)
    });
    if indexed {
        // The title keeps its exact sequence too (short: cheap), so a headline where jieba
        // kept a longer word (`数据安全法` for `数据安全`) is still found by it.
        stat.presence = Box::new(BooleanQuery::new(vec![
            (Occur::Should, sequence_query(f.title_b, text)),
            (Occur::Should, term_query(f.title_w, text)),
            (Occur::Should, term_query(f.body_w, text)),
        ]));
    }
}

/// The longest parts of two or more characters of a run of lone characters that some article
/// has, left to right (`魏舒史称` → `魏舒`, `史称`); characters no part covers are dropped.
fn present_parts(searcher: &Searcher, f: &Fields, run: &QueryTerm) -> Vec<TermStat> {
    let folded: Vec<char> = run.folded.chars().collect();
    let written: Vec<char> = run.written.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < folded.len() {
        let found = (i + 2..=folded.len()).rev().find_map(|end| {
            let part = QueryTerm::new(
                folded[i..end].iter().collect(),
                written
                    .get(i..end)
                    .map_or_else(|| folded[i..end].iter().collect(), |w| w.iter().collect()),
                TermKind::Word,
            );
            let stat = term_stat(searcher, f, part)?;
            (!stat.missing).then_some((end, stat))
        });
        match found {
            Some((end, stat)) => {
                out.push(stat);
                i = end;
            }
            None => i += 1,
        }
    }
    out
}

fn either(a: Box<dyn Query>, b: Box<dyn Query>) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(vec![
        (Occur::Should, a),
        (Occur::Should, b),
    ]))
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
        TermKind::Word | TermKind::LoneChars | TermKind::Unit => either(
            sequence_query(f.title_b, text),
            sequence_query(f.body_b, text),
        ),
        TermKind::Phrase | TermKind::LatinPair => phrase_in_title_or_body(f, text)?,
    })
}

fn title_presence_query(f: &Fields, term: &QueryTerm) -> Option<Box<dyn Query>> {
    let text = term.folded.as_str();
    match term.kind {
        TermKind::Atom => Some(term_query(f.title_b, text)),
        TermKind::CompoundAtom => None,
        TermKind::Word | TermKind::LoneChars | TermKind::Unit => {
            Some(sequence_query(f.title_b, text))
        }
        TermKind::Phrase | TermKind::LatinPair => phrase_in_field(f.title_w, text),
    }
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
        TermKind::Word | TermKind::LoneChars | TermKind::Unit => bigrams(&term.folded)
            .iter()
            .map(|b| either_df(f.title_b, f.body_b, b.text))
            .min()
            .unwrap_or(0),
        TermKind::Phrase | TermKind::LatinPair => crate::text::phrase_words(&term.folded)
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

/// The share of the query's (present) weight a result must cover, by the query's length in
/// words ([`super::analyze::query_length`]). One or two words (keyword searches: `芯片 出口`,
/// `CVE-2024-3400`): all of them. Longer queries are more and more likely questions, whose
/// words the answer only partly repeats: the required share falls to the rarer part.
fn min_coverage(query_words: usize) -> f32 {
    match query_words {
        0..=2 => 1.0,
        3 => 0.6,
        4 => 0.4,
        _ => 0.2,
    }
}

/// The query with its constraints, ranked by coverage of the present terms, then BM25.
fn ranked_query(f: &Fields, q: &UserQuery, present: &[&TermStat], min: f32) -> Box<dyn Query> {
    let main = ranking_query(f, q).map(|main| -> Box<dyn Query> {
        if present.is_empty() {
            return main;
        }
        Box::new(CoverageQuery {
            main,
            terms: present
                .iter()
                .map(|s| CoverageTerm {
                    presence: s.presence.box_clone(),
                    in_title: s.in_title.as_ref().map(|q| q.box_clone()),
                    weight: s.weight,
                })
                .collect(),
            min_coverage: min,
        })
    });
    with_constraints(f, q, main)
}

/// The tantivy query for a parsed user query ranked by BM25 alone, over any of its words and
/// bigrams (what [`run`] refines with coverage; it needs no searcher).
pub fn build_query(f: &Fields, q: &UserQuery) -> Box<dyn Query> {
    with_constraints(f, q, ranking_query(f, q))
}

/// The query for a keyword filter (a digest subscription's keywords): an article matches when
/// it contains one of the keywords whole, besides the phrases, exclusions and filters. A
/// search ranks by any word or bigram, which is right for ranking and wrong for a filter:
/// `人工智能` would let in every article with `智能` (智能工厂) or `人工` (人工背运).
pub fn filter_query(f: &Fields, q: &UserQuery) -> Box<dyn Query> {
    let any_keyword: Vec<(Occur, Box<dyn Query>)> = q
        .text
        .iter()
        .filter_map(|keyword| phrase_in_title_or_body(f, keyword))
        .map(|pq| (Occur::Should, pq))
        .collect();
    let any_keyword = (!any_keyword.is_empty())
        .then(|| Box::new(BooleanQuery::new(any_keyword)) as Box<dyn Query>);
    with_constraints(f, q, any_keyword)
}

/// `main` (if any) and the query's phrases, exclusions, source and dates, all required.
fn with_constraints(f: &Fields, q: &UserQuery, main: Option<Box<dyn Query>>) -> Box<dyn Query> {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    if let Some(main) = main {
        clauses.push((Occur::Must, main));
    }
    for phrase in &q.phrases {
        if let Some(pq) = phrase_in_title_or_body(f, phrase) {
            clauses.push((Occur::Must, pq));
        }
    }
    for excluded in &q.excluded {
        if let Some(pq) = phrase_in_title_or_body(f, excluded) {
            clauses.push((Occur::MustNot, Box::new(ForwardOnly(pq))));
        }
    }
    if let Some(source) = &q.source {
        let term = Term::from_field_text(f.source_key, source);
        clauses.push((
            Occur::Must,
            Box::new(TermQuery::new(term, IndexRecordOption::Basic)),
        ));
    }
    if q.after.is_some() || q.before.is_some() {
        let lower = q.after.map_or(Bound::Unbounded, |d| {
            Bound::Included(Term::from_field_i64(f.date, date_key(Some(d))))
        });
        let upper = q.before.map_or(Bound::Unbounded, |d| {
            Bound::Excluded(Term::from_field_i64(f.date, date_key(Some(d))))
        });
        clauses.push((Occur::Must, Box::new(RangeQuery::new(lower, upper))));
    }
    if !clauses.iter().any(|(occur, _)| *occur == Occur::Must) {
        clauses.push((Occur::Must, Box::new(AllQuery)));
    }
    Box::new(BooleanQuery::new(clauses))
}

/// OR of every word and bigram of the free text and phrases, over title (boosted) and body.
/// BM25 then puts documents matching more and rarer words first.
fn ranking_query(f: &Fields, q: &UserQuery) -> Option<Box<dyn Query>> {
    let mut seen_words = HashSet::new();
    let mut seen_bigrams = HashSet::new();
    let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let term_query = |field: Field, text: &str, boost: f32| -> (Occur, Box<dyn Query>) {
        let tq = TermQuery::new(
            Term::from_field_text(field, text),
            IndexRecordOption::WithFreqs,
        );
        (
            Occur::Should,
            Box::new(BoostQuery::new(Box::new(tq), boost)),
        )
    };
    for text in q.text.iter().chain(&q.phrases) {
        for atom in query_atoms(text) {
            if is_compound(atom.text) && seen_words.insert(atom.text.to_owned()) {
                should.push(term_query(f.atoms, atom.text, ATOM_BOOST));
            }
        }
        for w in words(text) {
            if seen_words.len() < MAX_WORDS && seen_words.insert(w.to_owned()) {
                should.push(term_query(f.title_w, w, TITLE_BOOST));
                should.push(term_query(f.body_w, w, 1.0));
            }
        }
        for b in bigrams(text) {
            if seen_bigrams.len() < MAX_BIGRAMS && seen_bigrams.insert(b.text.to_owned()) {
                should.push(term_query(f.title_b, b.text, TITLE_BOOST * BIGRAM_WEIGHT));
                should.push(term_query(f.body_b, b.text, BIGRAM_WEIGHT));
            }
        }
    }
    (!should.is_empty()).then(|| Box::new(BooleanQuery::new(should)) as Box<dyn Query>)
}

/// Exact phrase in the title or the body: its words (jieba default mode) at the same relative
/// character offsets. The word fields index character offsets as positions, and search mode
/// also indexes the dictionary sub-words of longer words, so the phrase matches however the
/// surrounding text was segmented.
pub(crate) fn phrase_in_title_or_body(f: &Fields, phrase: &str) -> Option<Box<dyn Query>> {
    Some(Box::new(BooleanQuery::new(vec![
        (Occur::Should, phrase_in_field(f.title_w, phrase)?),
        (Occur::Should, phrase_in_field(f.body_w, phrase)?),
    ])))
}

/// The exact phrase in one word field (see [`phrase_in_title_or_body`]).
pub(crate) fn phrase_in_field(field: Field, phrase: &str) -> Option<Box<dyn Query>> {
    let words = phrase_words(phrase);
    let first = words.first()?.0;
    if words.len() == 1 {
        return Some(Box::new(TermQuery::new(
            Term::from_field_text(field, &words[0].1),
            IndexRecordOption::Basic,
        )));
    }
    let terms = words
        .iter()
        .map(|(offset, w)| (offset - first, Term::from_field_text(field, w)))
        .collect();
    Some(Box::new(PhraseQuery::new_with_offset(terms)))
}
