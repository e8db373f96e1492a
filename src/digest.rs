//! Digest selection and rendering: the articles that entered the index since a chat's last
//! digest, newest first, grouped by source.
//!
//! "New" is decided by when an article entered the index (its ingest sequence number), not by
//! its `date`: scrapes arrive late and out of order, and an article published last week but
//! collected today has never been shown, so it belongs in today's digest. What is *shown* is
//! the article's own `date`, the one readers care about.

use std::ops::Bound;

use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, Occur, Query, RangeQuery};
use tantivy::{DocAddress, Searcher, TantivyDocument, Term};

use crate::index::SearchIndex;
use crate::render::{TELEGRAM_MAX_CHARS, escape_html, linked_title, split_message};
use crate::search::{self, Hit, query};

/// Sort key of a digest: newest `date` first, then the latest indexed.
type DateAndSeq = (i64, u64);

/// Length of the one-line excerpt under each digest item.
pub const DIGEST_EXCERPT_CHARS: usize = 60;

/// Where a digest starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    /// After this ingest sequence number (the previous digest's cursor).
    Seq(u64),
    /// Articles indexed at or after this Unix time (a new subscription: the last 24 hours).
    Time(i64),
}

/// A selected digest.
#[derive(Debug, Clone)]
pub struct Digest {
    /// At most the requested number of articles, newest (by `date`) first.
    pub items: Vec<Hit>,
    /// Matching articles in all.
    pub total: usize,
    /// The highest ingest sequence number in the snapshot the digest was taken from: the next
    /// digest starts after it.
    pub cursor: Option<u64>,
}

/// Selects the digest from one consistent snapshot of the index.
pub fn select(
    index: &SearchIndex,
    since: Since,
    keywords: &str,
    max_items: usize,
) -> Result<Digest, tantivy::TantivyError> {
    let searcher = index.searcher();
    let f = index.fields();
    let window: Box<dyn Query> = match since {
        Since::Seq(seq) => Box::new(RangeQuery::new(
            Bound::Excluded(Term::from_field_u64(f.seq, seq)),
            Bound::Unbounded,
        )),
        Since::Time(t) => Box::new(RangeQuery::new(
            Bound::Included(Term::from_field_i64(f.indexed_at, t)),
            Bound::Unbounded,
        )),
    };
    let parsed = query::parse(keywords);
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, window)];
    if parsed.has_words() || parsed.has_filters() || !parsed.excluded.is_empty() {
        clauses.push((Occur::Must, search::build_query(f, &parsed)));
    }
    let q = BooleanQuery::new(clauses);
    let top =
        TopDocs::with_limit(max_items.max(1)).tweak_score(|segment: &tantivy::SegmentReader| {
            let dates = segment
                .fast_fields()
                .i64("date")
                .ok()
                .map(|c| c.first_or_default_col(0));
            let seqs = segment
                .fast_fields()
                .u64("seq")
                .ok()
                .map(|c| c.first_or_default_col(0));
            move |doc, _score| {
                (
                    dates.as_ref().map_or(0, |d| d.get_val(doc)),
                    seqs.as_ref().map_or(0, |s| s.get_val(doc)),
                )
            }
        });
    let (docs, total): (Vec<(DateAndSeq, DocAddress)>, usize) =
        searcher.search(&q, &(top, Count))?;
    let needles = search::needles(&searcher, f, &parsed);
    let mut items = Vec::with_capacity(docs.len());
    for (_, address) in docs {
        let doc: TantivyDocument = searcher.doc(address)?;
        items.push(search::hit_from_doc(
            f,
            &doc,
            0.0,
            &needles,
            DIGEST_EXCERPT_CHARS,
        ));
    }
    Ok(Digest {
        items,
        total,
        cursor: max_seq(&searcher),
    })
}

/// The highest ingest sequence number in the snapshot.
pub fn max_seq(searcher: &Searcher) -> Option<u64> {
    searcher
        .segment_readers()
        .iter()
        .filter_map(|s| s.fast_fields().u64("seq").ok())
        .filter(|c| c.num_docs() > 0)
        .map(|c| c.max_value())
        .max()
}

/// Renders a digest as one or more Telegram HTML messages (split between articles).
pub fn render(digest: &Digest, label: &str, keywords: &str) -> Vec<String> {
    let mut header = format!("📰 <b>简报 · {}</b>", escape_html(label));
    if !keywords.trim().is_empty() {
        header.push_str(&format!("（关键词：{}）", escape_html(keywords.trim())));
    }
    header.push_str(&format!("\n{} 篇新文章", digest.total));
    let mut blocks = vec![header];
    let mut sources: Vec<&str> = Vec::new();
    for hit in &digest.items {
        if !sources.contains(&hit.source.as_str()) {
            sources.push(hit.source.as_str());
        }
    }
    // One block per article (the source's name heads its first), so that a long digest is
    // split between articles, never inside one.
    for source in sources {
        let name = if source.trim().is_empty() {
            "其他来源"
        } else {
            source.trim()
        };
        for (i, hit) in digest
            .items
            .iter()
            .filter(|h| h.source == source)
            .enumerate()
        {
            let mut block = if i == 0 {
                format!("<b>【{}】</b>\n", escape_html(name))
            } else {
                String::new()
            };
            let date = hit
                .date
                .map(|d| format!(" · {}", d.format("%Y-%m-%d")))
                .unwrap_or_default();
            block.push_str(&format!(
                "• <b>{}</b>{date}",
                linked_title(&hit.title, &hit.url)
            ));
            let excerpt = hit.excerpt.html();
            if !excerpt.is_empty() {
                block.push_str(&format!("\n{excerpt}"));
            }
            blocks.push(block);
        }
    }
    let more = digest.total.saturating_sub(digest.items.len());
    if more > 0 {
        blocks.push(format!(
            "还有 {more} 篇。发送 /latest 20 查看最新文章，或用 /search 关键词 查找。"
        ));
    }
    split_message(&blocks.join("\n\n"), TELEGRAM_MAX_CHARS)
}

/// The note sent instead of an empty digest when DIGEST_SEND_EMPTY is on.
pub fn render_empty(label: &str) -> String {
    format!("📰 <b>简报 · {}</b>\n今天没有新文章。", escape_html(label))
}
