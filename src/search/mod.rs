//! Running a user's query against the index, in stages that hand their result forward:
//! `query` (syntax) → `analyze` (terms) → `plan` (what the index knows of them, the tantivy
//! queries; `coverage` scores) → `execute` (one ranked page, stories folded) → `present` (hits
//! and excerpts). [`run`] calls them in order; this file holds only the types they share.

pub mod analyze;
pub mod coverage;
pub mod excerpt;
pub mod execute;
mod forward_only;
pub mod plan;
pub mod present;
pub mod query;
pub mod stories;

use chrono::NaiveDate;
use tantivy::Searcher;

pub use excerpt::{EXCERPT_CHARS, Excerpt, Needle};
pub use plan::{build_query, filter_query};
pub use present::{hit_from_doc, needles};
pub use query::UserQuery;

use crate::index::SearchIndex;

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

/// Runs a parsed query on a given searcher (a consistent snapshot), stage by stage: analyze
/// (terms), plan (lookups and tantivy queries), execute (one ranked page), present (hits).
pub fn run(
    index: &SearchIndex,
    searcher: &Searcher,
    parsed: UserQuery,
    opts: &SearchOptions,
) -> Result<SearchResults, SearchError> {
    if !(parsed.has_words() || opts.allow_empty || parsed.has_filters()) {
        return Err(SearchError::NoWords);
    }
    let f = index.fields();
    let analysis = analyze::analyze(parsed);
    let plan = plan::plan(searcher, f, &analysis, opts.sort);
    let mut results = SearchResults {
        offset: opts.offset,
        missing: plan.missing(),
        ..SearchResults::default()
    };
    if let Some(queries) = &plan.queries {
        let found = execute::execute(searcher, queries, plan.sort, opts)?;
        results.partial = found.partial;
        results.matched = found.matched;
        let (mut page, mut total) = (found.page, found.matched);
        if (results.partial || !results.missing.is_empty()) && total > MAX_PARTIAL_HITS {
            total = MAX_PARTIAL_HITS;
            page.truncate(MAX_PARTIAL_HITS.saturating_sub(opts.offset));
        }
        results.total = total;
        results.hits = present::hits(searcher, f, &analysis, &plan, page, opts.excerpt_chars)?;
    }
    results.query = analysis.query;
    Ok(results)
}
