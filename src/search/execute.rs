//! Stage 3 of a search, execution: the planned query → one page of ranked documents and the
//! number of matches (of stories, each story's best-ranked copy standing for it).

use tantivy::collector::{Collector, Count, TopDocs};
use tantivy::query::Query;
use tantivy::{DocAddress, Score, Searcher};

use super::plan::Queries;
use super::{SearchError, SearchOptions, Sort, stories};
use crate::index::schema::{TEXT_STATE, names};

/// Sort key of the date order: newest first, then the most relevant.
type DateAndScore = (i64, f32);
/// Documents in rank order, with their scores.
pub type Ranked = Vec<(f32, DocAddress)>;

/// A page without text (title only, deleted, anti-bot) scores this much of what it would: at
/// equal relevance an article with text comes first, and its title still finds it.
const NO_TEXT_FACTOR: f32 = 0.7;

/// What a search found: one page, in rank order.
pub struct Found {
    pub page: Ranked,
    /// Matches in all: of stories when grouping, else of articles.
    pub matched: usize,
    /// Found by the fallback query: articles with some of the terms, none with enough.
    pub partial: bool,
}

/// Runs the planned queries: the main one, and the fallback when the main one finds nothing.
pub fn execute(
    searcher: &Searcher,
    queries: &Queries,
    sort: Sort,
    opts: &SearchOptions,
) -> Result<Found, SearchError> {
    let (page, matched) = one_page(searcher, queries.main.as_ref(), sort, opts)?;
    if matched == 0
        && let Some(fallback) = &queries.fallback
    {
        let (page, matched) = one_page(searcher, fallback.as_ref(), sort, opts)?;
        return Ok(Found {
            page,
            matched,
            partial: matched > 0,
        });
    }
    Ok(Found {
        page,
        matched,
        partial: false,
    })
}

/// One page of a query's results (score, address) and the number of matches: of stories
/// when `opts.group` (the best-ranked copy of each), else of articles.
fn one_page(
    searcher: &Searcher,
    query: &dyn Query,
    sort: Sort,
    opts: &SearchOptions,
) -> Result<(Ranked, usize), SearchError> {
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

/// [`one_page`] without grouping.
fn execute_flat(
    searcher: &Searcher,
    query: &dyn Query,
    sort: Sort,
    opts: &SearchOptions,
) -> Result<(Ranked, usize), SearchError> {
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
