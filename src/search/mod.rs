//! Running a user's query against the index: query building, ranking, paging, excerpts.

pub mod coverage;
pub mod excerpt;
pub mod query;
pub mod stories;
pub mod terms;

use std::collections::HashSet;
use std::ops::Bound;

use chrono::NaiveDate;
use tantivy::collector::{Collector, Count, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, EnableScoring, Explanation, Occur, PhraseQuery, Query,
    RangeQuery, Scorer, TermQuery, Weight,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocAddress, DocId, DocSet, Score, Searcher, SegmentReader, TantivyDocument, Term};

pub use excerpt::{EXCERPT_CHARS, Excerpt, Needle};
pub use query::UserQuery;

use crate::corpus::dates::date_key;
use crate::corpus::status::TextState;
use crate::index::schema::{TEXT_STATE, names};
use crate::index::{Fields, SearchIndex, Stored};
use crate::text::{bigrams, is_compound, phrase_words, query_atoms, words};
use coverage::{CoverageQuery, TermStat};

/// Sort key of the date order: newest first, then the most relevant.
type DateAndScore = (i64, f32);
/// Documents in rank order, with their scores.
type Ranked = Vec<(f32, DocAddress)>;

/// Title matches count this much more than body matches.
const TITLE_BOOST: f32 = 2.0;
/// Weight of the bigram fields relative to the jieba word fields. 1.5 since coverage ranks
/// first (MRR@10 on the title keyword set 0.697 → 0.705, the question sets unchanged): a
/// bigram finds what jieba segmented differently in the query and the article.
const BIGRAM_WEIGHT: f32 = 1.5;
/// A page without text (title only, deleted, anti-bot) scores this much of what it would: at
/// equal relevance an article with text comes first, and its title still finds it.
const NO_TEXT_FACTOR: f32 = 0.7;
/// Caps on clauses, whatever the query's length.
const MAX_WORDS: usize = 48;
const MAX_BIGRAMS: usize = 96;
/// Weight of a whole Latin/digit id (`cve-2024-3400`) in BM25, relative to a word.
const ATOM_BOOST: f32 = 2.0;
/// Coverage a fallback search requires when nothing covers the usual share: any one term.
const ANY_TERM: f32 = 1e-3;

/// Function words that say nothing about what is wanted; they still rank (BM25 gives them
/// little weight) but are not highlighted.
const STOPWORDS: &[&str] = &[
    "的",
    "了",
    "是",
    "在",
    "和",
    "与",
    "及",
    "或",
    "有",
    "为",
    "被",
    "把",
    "将",
    "对",
    "从",
    "由",
    "于",
    "以",
    "之",
    "也",
    "都",
    "而",
    "等",
    "吗",
    "呢",
    "吧",
    "啊",
    "么",
    "什么",
    "哪",
    "哪个",
    "哪些",
    "哪里",
    "谁",
    "怎么",
    "怎样",
    "如何",
    "为什么",
    "多少",
    "几",
    "是否",
    "这",
    "那",
    "这个",
    "那个",
    "一个",
    "用",
    "会",
    "能",
    "可以",
    // Question words: what is asked, not what the answer contains.
    "多大",
    "多长",
    "多久",
    "多高",
    "多远",
    "多少年",
    "何处",
    "何时",
    "何地",
    "何人",
    "为何",
    "哪儿",
    "哪位",
    "哪年",
    "哪一年",
    "哪种",
    "哪国",
    "几个",
    "几年",
    "几次",
    "怎么样",
    "什么样",
    "是什么",
    "叫什么",
    "a",
    "an",
    "the",
    "of",
    "and",
    "or",
    "to",
    "in",
    "is",
    "for",
    "on",
];

/// A function word ([`STOPWORDS`]) or a question word.
pub(crate) fn is_function_word(word: &str) -> bool {
    STOPWORDS.contains(&word) || is_question_word(word)
}

/// Question words jieba keeps as one word, by their shape rather than listed one by one:
/// `哪家`, `哪些地方`, `几类`, `第几名`, `多大`, `多长时间`, `需不需要`. They say what is asked,
/// never what the answer contains, so they are never required and never reported missing: on
/// the question set, 1,000 questions with an answer each, 60 reported one of them missing.
fn is_question_word(word: &str) -> bool {
    const HE: &[&str] = &[
        "何时", "何地", "何人", "何处", "何职", "何种", "何以", "何在", "何故", "何年", "因何",
        "为何", "如何", "有何",
    ];
    let c: Vec<char> = word.chars().collect();
    match c.as_slice() {
        ['哪', rest @ ..] => !rest.is_empty() && word != "哪吒",
        ['几', x] => *x != '何',
        ['第', '几', ..] => true,
        ['多', '少' | '长' | '久', ..] => true,
        ['多', x] => "大高远长久快重深宽厚".contains(*x),
        [a, '不' | '没', b, ..] => a == b,
        _ => HE.contains(&word) || matches!(word, "能否" | "可否" | "啥"),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Sort {
    #[default]
    Relevance,
    Date,
}

/// Paging and presentation options.
#[derive(Debug, Clone, Copy)]
pub struct SearchOptions {
    pub sort: Sort,
    pub offset: usize,
    pub limit: usize,
    pub excerpt_chars: usize,
    /// Allow a query without words (then everything matching the filters, newest first).
    pub allow_empty: bool,
    /// One hit per story (reposts folded into their best-ranked copy, listed in `also`);
    /// `false` lists every copy.
    pub group: bool,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            sort: Sort::Relevance,
            offset: 0,
            limit: 10,
            excerpt_chars: EXCERPT_CHARS,
            allow_empty: false,
            group: true,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("the query has no words to search for")]
    NoWords,
    #[error("search failed: {0}")]
    Index(#[from] tantivy::TantivyError),
}

/// One result.
#[derive(Debug, Clone)]
pub struct Hit {
    /// Path relative to the seeds folder.
    pub key: String,
    /// File name without extension.
    pub id: String,
    pub title: String,
    pub url: String,
    pub source: String,
    pub date: Option<NaiveDate>,
    pub score: f32,
    /// For a page without text, its [`TextState::marker`].
    pub excerpt: Excerpt,
    /// Ingest number: the article's short id (`/read 123`).
    pub seq: u64,
    /// The story it belongs to (see `index::stories`).
    pub story: u64,
    /// The story's other copies (reposts), oldest first.
    pub also: Vec<Copy>,
}

/// Another copy of a hit's story.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copy {
    pub id: String,
    pub seq: u64,
    pub title: String,
    pub source: String,
    pub url: String,
    pub date: Option<NaiveDate>,
}

/// A page of results.
#[derive(Debug, Clone, Default)]
pub struct SearchResults {
    pub query: UserQuery,
    pub total: usize,
    pub offset: usize,
    pub hits: Vec<Hit>,
    /// The query's terms that no article contains, as the user wrote them. Every hit lacks
    /// them; when every term is missing there are no hits.
    pub missing: Vec<String>,
    /// No article covers the share of the other terms a result normally needs: the hits are
    /// articles with some of them.
    pub partial: bool,
    /// How many articles matched before partial matches were cut to [`MAX_PARTIAL_HITS`]
    /// (equal to `total` when nothing was cut).
    pub matched: usize,
}

/// Partial matches (some term missing, or no article with enough of them) are a hint, not an
/// answer: at most this many are offered. `朱守谦 发展` among 19,594 news articles otherwise
/// offered 9,025 articles with 发展, 1,805 pages of what the user did not ask for.
pub const MAX_PARTIAL_HITS: usize = 10;

/// Parses and runs a query.
pub fn search(
    index: &SearchIndex,
    input: &str,
    opts: &SearchOptions,
) -> Result<SearchResults, SearchError> {
    let parsed = query::parse(input);
    run(index, &index.searcher(), parsed, opts)
}

/// Runs a parsed query on a given searcher (a consistent snapshot).
pub fn run(
    index: &SearchIndex,
    searcher: &Searcher,
    parsed: UserQuery,
    opts: &SearchOptions,
) -> Result<SearchResults, SearchError> {
    let f = index.fields();
    let has_words = parsed.has_words();
    if !(has_words || opts.allow_empty || parsed.has_filters()) {
        return Err(SearchError::NoWords);
    }
    let stats = coverage::term_stats(searcher, f, terms::terms(&parsed));
    let missing: Vec<String> = stats
        .iter()
        .filter(|s| s.missing)
        .map(|s| s.term.written.clone())
        .collect();
    let present: Vec<&TermStat> = stats.iter().filter(|s| !s.missing).collect();
    let mut results = SearchResults {
        offset: opts.offset,
        missing,
        ..SearchResults::default()
    };
    if !stats.is_empty() && present.is_empty() {
        // Everything the user asked for is in no article: fragments of it are not an answer.
        results.query = parsed;
        return Ok(results);
    }
    let sort = if has_words { opts.sort } else { Sort::Date };
    // A pair (`iPhone 15`) does not make the query longer than its two pieces.
    let present_terms = present
        .iter()
        .filter(|s| s.term.kind != terms::TermKind::LatinPair)
        .count();
    let min = coverage::min_coverage(terms::query_length(&parsed).max(present_terms));
    let mut found = execute(
        searcher,
        &ranked_query(f, &parsed, &present, min),
        sort,
        opts,
    )?;
    if found.1 == 0 && !present.is_empty() && min > ANY_TERM {
        found = execute(
            searcher,
            &ranked_query(f, &parsed, &present, ANY_TERM),
            sort,
            opts,
        )?;
        results.partial = found.1 > 0;
    }
    let (mut addresses, mut total) = found;
    results.matched = total;
    if (results.partial || !results.missing.is_empty()) && total > MAX_PARTIAL_HITS {
        total = MAX_PARTIAL_HITS;
        addresses.truncate(MAX_PARTIAL_HITS.saturating_sub(opts.offset));
    }
    let needles = needles_of(&stats, &parsed);
    for (score, address) in addresses {
        let doc: TantivyDocument = searcher.doc(address)?;
        let mut hit = hit_from_doc(f, &doc, score, &needles, opts.excerpt_chars);
        hit.also = stories::copies(searcher, f, hit.story, address)?;
        results.hits.push(hit);
    }
    results.total = total;
    results.query = parsed;
    Ok(results)
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
                .map(|s| coverage::CoverageTerm {
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

/// One page of a query's results (score, address) and the number of matches: of stories
/// when `opts.group` (the best-ranked copy of each), else of articles.
fn execute(
    searcher: &Searcher,
    query: &dyn Query,
    sort: Sort,
    opts: &SearchOptions,
) -> Result<(Vec<(f32, DocAddress)>, usize), SearchError> {
    if !opts.group {
        return execute_flat(searcher, query, sort, opts);
    }
    let want = opts.offset + opts.limit.max(1);
    // Copies of one story sit next to each other in the ranking: a few more than the page
    // usually suffice; fetch more while copies crowd the page out. Each try is a pass over
    // every match, and a longer list costs next to nothing in it: enough for five copies of
    // each story in the first.
    let mut fetch = want * 6 + 16;
    loop {
        let flat = SearchOptions {
            offset: 0,
            limit: fetch,
            ..*opts
        };
        let (docs, stories_matched) =
            top_docs(searcher, query, sort, &flat, stories::DistinctStories)?;
        let exhausted = docs.len() < fetch;
        let mut page = stories::first_of_each(searcher, docs)?;
        if page.len() >= want || exhausted {
            let total = stories_matched;
            page.truncate(want);
            let page = page.split_off(opts.offset.min(page.len()));
            return Ok((page, total));
        }
        fetch *= 4;
    }
}

/// [`execute`] without grouping.
fn execute_flat(
    searcher: &Searcher,
    query: &dyn Query,
    sort: Sort,
    opts: &SearchOptions,
) -> Result<(Vec<(f32, DocAddress)>, usize), SearchError> {
    top_docs(searcher, query, sort, opts, Count)
}

/// One page of (score, address) in `sort` order, and what `extra` collects over every match
/// in the same pass.
fn top_docs<C: Collector>(
    searcher: &Searcher,
    query: &dyn Query,
    sort: Sort,
    opts: &SearchOptions,
    extra: C,
) -> Result<(Ranked, C::Fruit), SearchError> {
    let limit = opts.limit.max(1);
    Ok(match sort {
        Sort::Relevance => {
            let top = TopDocs::with_limit(limit)
                .and_offset(opts.offset)
                .tweak_score(|segment: &tantivy::SegmentReader| {
                    let states = segment
                        .fast_fields()
                        .u64(TEXT_STATE)
                        .ok()
                        .map(|c| c.first_or_default_col(0));
                    move |doc, score: Score| match &states {
                        Some(s) if s.get_val(doc) != 0 => score * NO_TEXT_FACTOR,
                        _ => score,
                    }
                });
            searcher.search(query, &(top, extra))?
        }
        Sort::Date => {
            let top = TopDocs::with_limit(limit)
                .and_offset(opts.offset)
                .tweak_score(|segment: &tantivy::SegmentReader| {
                    let dates = segment
                        .fast_fields()
                        .i64(names::DATE)
                        .ok()
                        .map(|c| c.first_or_default_col(0));
                    move |doc, score| (dates.as_ref().map_or(0, |d| d.get_val(doc)), score)
                });
            let (docs, total): (Vec<(DateAndScore, DocAddress)>, C::Fruit) =
                searcher.search(query, &(top, extra))?;
            (
                docs.into_iter().map(|((_, score), a)| (score, a)).collect(),
                total,
            )
        }
    })
}

/// Builds a [`Hit`] from a stored document.
pub fn hit_from_doc(
    f: &Fields,
    doc: &TantivyDocument,
    score: f32,
    needles: &[Needle],
    excerpt_chars: usize,
) -> Hit {
    let stored = Stored::new(f, doc);
    let text = |field: Field| stored.text(field);
    let body = text(f.body);
    let state = stored.state();
    let excerpt = match state {
        TextState::Text => excerpt::excerpt(&body, needles, excerpt_chars),
        _ => Excerpt::unhighlighted(state.marker()),
    };
    Hit {
        key: text(f.key),
        id: text(f.id),
        title: text(f.title),
        url: text(f.url),
        source: text(f.source),
        date: stored.date(),
        score,
        excerpt,
        seq: stored.seq(),
        story: stored.story(),
        also: Vec::new(),
    }
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

/// Workaround for a tantivy 0.27.0 bug found by fuzzing (`fuzz/`, target `query_parser`;
/// regression test in tests/fuzz_regressions.rs). As a `MustNot` clause, a phrase scorer is asked
/// `seek_danger(target)` for a target *before* its current document (when the phrase's first
/// match in a segment comes after the first document the rest of the query matches), and
/// `PhraseScorer::seek_danger` has a `debug_assert!` against that: every debug build
/// (`cargo run -- chat`, `cargo test`) panicked on a query like `人工智能 -"全球治理"`. Release
/// builds answered correctly. This wrapper hides the phrase scorer's own `seek_danger`, so
/// tantivy uses `DocSet`'s default one, which never seeks backwards.
#[derive(Debug)]
struct ForwardOnly(Box<dyn Query>);

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

/// What to highlight in excerpts: the query's terms whole (never a lone character of a
/// word, never a function word), weighted by rarity; phrases count double.
pub fn needles(searcher: &Searcher, f: &Fields, q: &UserQuery) -> Vec<Needle> {
    needles_of(&coverage::term_stats(searcher, f, terms::terms(q)), q)
}

fn needles_of(stats: &[TermStat], q: &UserQuery) -> Vec<Needle> {
    let mut out: Vec<Needle> = stats
        .iter()
        .filter(|s| !s.missing)
        .map(|s| Needle {
            text: s.term.folded.clone(),
            weight: match s.term.kind {
                terms::TermKind::Phrase => s.weight * 2.0,
                _ => s.weight,
            },
        })
        .collect();
    // A single character typed on its own is what the user asked for: highlight it.
    for piece in &q.text {
        let mut chars = piece.chars();
        if let (Some(c), None) = (chars.next(), chars.next())
            && crate::text::is_cjk(c)
            && !is_function_word(piece)
        {
            out.push(Needle {
                text: piece.clone(),
                weight: 1.0,
            });
        }
    }
    out
}
