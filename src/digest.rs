//! Digest selection and rendering: the articles that entered the index since a chat's last
//! digest, newest first, grouped by source.
//!
//! "New" is decided by when an article entered the index (its ingest sequence number), not by
//! its `date`: scrapes arrive late and out of order, and an article published last week but
//! collected today has never been shown, so it belongs in today's digest. What is *shown* is
//! the article's own `date`, the one readers care about.

use std::ops::Bound;

use std::collections::{HashMap, HashSet};

use tantivy::collector::DocSetCollector;
use tantivy::query::{BooleanQuery, Occur, Query, RangeQuery};
use tantivy::{DocAddress, Searcher, TantivyDocument, Term};

use crate::index::schema::names;
use crate::index::{Fields, SearchIndex};
use crate::render::{
    self, TELEGRAM_MAX_CHARS, escape_html, linked_title, split_message, visible_len,
};
use crate::search::{self, Hit, UserQuery, query};

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

impl Since {
    /// Whether an article with this ingest number and time is in the digest's window.
    fn holds(self, seq: u64, indexed_at: i64) -> bool {
        match self {
            Since::Seq(cursor) => seq > cursor,
            Since::Time(t) => indexed_at >= t,
        }
    }
}

/// A selected digest.
#[derive(Debug, Clone)]
pub struct Digest {
    /// At most the requested number of stories, newest (by `date`) first: each the story's
    /// first copy, with the others in its `also`.
    pub items: Vec<Hit>,
    /// Matching stories in all.
    pub total: usize,
    /// The highest ingest sequence number in the snapshot the digest was taken from: the next
    /// digest starts after it.
    pub cursor: Option<u64>,
}

/// A new story's entry, as the selection sees it: its first copy in the window.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    pub address: DocAddress,
    pub date: i64,
    pub seq: u64,
    pub story: u64,
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
    let parsed = query::parse(keywords);
    let mut entries = new_stories(&searcher, f, since, &parsed)?;
    let total = entries.len();
    entries.truncate(max_items.max(1));
    let needles = search::needles(&searcher, f, &parsed);
    Ok(Digest {
        items: hits(&searcher, f, &entries, &needles)?,
        total,
        cursor: max_seq(&searcher),
    })
}

/// The stories that are new since `since` and match `parsed` (the keyword filter), newest
/// (by `date`) first: one entry per story, its first copy in the window.
///
/// A story is new once: an article whose story already had a copy in the index before the
/// window (a repost arriving the day after the original was sent) is left out, and several
/// copies arriving in one window are one entry. With keywords, the earlier copy counts even
/// if it did not match them: reposts share their text, so it almost always did, and a story
/// is not news twice.
pub fn new_stories(
    searcher: &Searcher,
    f: &Fields,
    since: Since,
    parsed: &UserQuery,
) -> Result<Vec<Entry>, tantivy::TantivyError> {
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
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, window)];
    if parsed.has_words() || parsed.has_filters() || !parsed.excluded.is_empty() {
        clauses.push((Occur::Must, search::filter_query(f, parsed)));
    }
    let q = BooleanQuery::new(clauses);
    let rows = rows_of(searcher, searcher.search(&q, &DocSetCollector)?)?;
    let stories: HashSet<u64> = rows.iter().map(|r| r.story).collect();
    let old = stories_seen_before(searcher, &stories, since)?;
    // The first copy of each new story.
    let mut first: HashMap<u64, Entry> = HashMap::new();
    for row in rows.into_iter().filter(|r| !old.contains(&r.story)) {
        match first.get(&row.story) {
            Some(kept) if kept.seq <= row.seq => {}
            _ => {
                first.insert(row.story, row);
            }
        }
    }
    let mut entries: Vec<Entry> = first.into_values().collect();
    entries.sort_by_key(|r| std::cmp::Reverse((r.date, r.seq)));
    Ok(entries)
}

/// The entries as hits (stored fields, excerpt, the story's other copies).
pub fn hits(
    searcher: &Searcher,
    f: &Fields,
    entries: &[Entry],
    needles: &[search::Needle],
) -> Result<Vec<Hit>, tantivy::TantivyError> {
    let mut items = Vec::with_capacity(entries.len());
    for entry in entries {
        let doc: TantivyDocument = searcher.doc(entry.address)?;
        let mut hit = search::hit_from_doc(f, &doc, 0.0, needles, DIGEST_EXCERPT_CHARS);
        hit.also = search::stories::copies(searcher, f, hit.story, entry.address)?;
        items.push(hit);
    }
    Ok(items)
}

/// Date, ingest number and story of each matching document, from the fast fields.
fn rows_of(
    searcher: &Searcher,
    matches: HashSet<DocAddress>,
) -> Result<Vec<Entry>, tantivy::TantivyError> {
    let mut columns = HashMap::new();
    let mut rows = Vec::with_capacity(matches.len());
    for address in matches {
        let (dates, seqs, stories) = match columns.entry(address.segment_ord) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let ff = searcher.segment_reader(address.segment_ord).fast_fields();
                e.insert((
                    ff.i64(names::DATE)?,
                    ff.u64(names::SEQ)?,
                    ff.u64(names::STORY)?,
                ))
            }
        };
        let seq = seqs.first(address.doc_id).unwrap_or(0);
        rows.push(Entry {
            address,
            date: dates.first(address.doc_id).unwrap_or(0),
            seq,
            story: stories.first(address.doc_id).unwrap_or(seq),
        });
    }
    Ok(rows)
}

/// The stories among `stories` with a live copy outside the window: in the index before it.
fn stories_seen_before(
    searcher: &Searcher,
    stories: &HashSet<u64>,
    since: Since,
) -> Result<HashSet<u64>, tantivy::TantivyError> {
    let mut old = HashSet::new();
    for segment in searcher.segment_readers() {
        let ff = segment.fast_fields();
        let (seqs, times, story) = (
            ff.u64(names::SEQ)?,
            ff.i64(names::INDEXED_AT)?,
            ff.u64(names::STORY)?,
        );
        for doc in segment.doc_ids_alive() {
            let Some(s) = story.first(doc) else { continue };
            if stories.contains(&s)
                && !since.holds(seqs.first(doc).unwrap_or(0), times.first(doc).unwrap_or(0))
            {
                old.insert(s);
            }
        }
    }
    Ok(old)
}

/// The highest ingest sequence number in the snapshot.
pub fn max_seq(searcher: &Searcher) -> Option<u64> {
    searcher
        .segment_readers()
        .iter()
        .filter_map(|s| s.fast_fields().u64(names::SEQ).ok())
        .filter(|c| c.num_docs() > 0)
        .map(|c| c.max_value())
        .max()
}

/// Renders a digest as one or more Telegram HTML messages, split between articles. A message
/// that starts inside a source's group repeats its heading, marked as continued, so every
/// article is read under its source.
pub fn render(digest: &Digest, label: &str, keywords: &str) -> Vec<String> {
    let mut header = format!("📰 <b>简报 · {}</b>", escape_html(label));
    if !keywords.trim().is_empty() {
        header.push_str(&format!("（关键词：{}）", escape_html(keywords.trim())));
    }
    header.push_str(&format!("\n{} 篇新文章", digest.total));
    let mut blocks = vec![Block {
        html: header,
        continued: None,
    }];
    for source in sources_in_order(&digest.items) {
        let heading = if source.trim().is_empty() {
            "其他来源".to_owned()
        } else {
            render::source_label(source)
        };
        let items = digest.items.iter().filter(|h| h.source == source);
        for (i, hit) in items.enumerate() {
            let item = article_line(hit);
            // The first article carries the heading itself; the others carry it only when a
            // message starts with them.
            blocks.push(if i == 0 {
                Block {
                    html: format!("<b>【{heading}】</b>\n{item}"),
                    continued: None,
                }
            } else {
                Block {
                    html: item,
                    continued: Some(format!("<b>【{heading}】（续）</b>")),
                }
            });
        }
    }
    let more = digest.total.saturating_sub(digest.items.len());
    if more > 0 {
        blocks.push(Block {
            html: format!(
                "还有 {more} 篇。发送 /latest 20 查看最新文章，或用 /search 关键词 查找。"
            ),
            continued: None,
        });
    }
    pack(&blocks, TELEGRAM_MAX_CHARS)
}

/// One article (or the header, or the closing line) of a digest.
struct Block {
    html: String,
    /// What heads this block when a message starts with it: its source, continued (`None`
    /// for a block that names its source itself, or has none).
    continued: Option<String>,
}

/// Sources in the order of their newest article.
fn sources_in_order(items: &[Hit]) -> Vec<&str> {
    let mut sources: Vec<&str> = Vec::new();
    for hit in items {
        if !sources.contains(&hit.source.as_str()) {
            sources.push(hit.source.as_str());
        }
    }
    sources
}

/// `• title · date` and the excerpt under it.
fn article_line(hit: &Hit) -> String {
    let date = hit
        .date
        .map(|d| format!(" · {}", d.format("%Y-%m-%d")))
        .unwrap_or_default();
    let mut line = format!(
        "• <b>{}</b>{date} · #{}",
        linked_title(&hit.title, &hit.url),
        hit.seq
    );
    let excerpt = hit.excerpt.html();
    if !excerpt.is_empty() {
        line.push_str(&format!("\n{excerpt}"));
    }
    if let Some(also) = render::also_line(&hit.also) {
        line.push_str(&format!("\n{also}"));
    }
    line
}

/// Packs blocks into messages of at most `max` visible characters, a blank line between
/// blocks; a message that starts with a block that has a continuation heading gets it first
/// (the first message starts with the digest's header, which has none).
/// A block too long for any message (not expected: titles and excerpts are capped) is left to
/// `split_message`, which cuts it at line ends.
fn pack(blocks: &[Block], max: usize) -> Vec<String> {
    let mut messages: Vec<String> = Vec::new();
    let mut current = String::new();
    // Visible length of `current`: blocks are whole elements, so lengths add up.
    let mut current_len = 0;
    for block in blocks {
        let block_len = visible_len(&block.html);
        if !current.is_empty() {
            if current_len + 2 + block_len <= max {
                current.push_str("\n\n");
                current.push_str(&block.html);
                current_len += 2 + block_len;
                continue;
            }
            messages.push(std::mem::take(&mut current));
        }
        current = match &block.continued {
            Some(heading) => format!("{heading}\n{}", block.html),
            None => block.html.clone(),
        };
        current_len = visible_len(&current);
    }
    if !current.is_empty() {
        messages.push(current);
    }
    messages
        .iter()
        .flat_map(|m| split_message(m, max))
        .collect()
}

/// What to send when nothing is new.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenEmpty {
    /// The short "nothing new today" note (`/digest`, the CLI, DIGEST_SEND_EMPTY).
    Note,
    /// Nothing at all (a scheduled digest by default).
    Nothing,
}

/// A digest ready to send: its messages, and what the delivery record needs.
#[derive(Debug, Clone)]
pub struct Composed {
    /// Telegram HTML messages, in order (none when empty and [`WhenEmpty::Nothing`]).
    pub parts: Vec<String>,
    /// Stories listed.
    pub items: usize,
    /// Where the next digest starts (see [`Digest::cursor`]).
    pub cursor: Option<u64>,
}

/// The one digest flow, for the scheduler, `/digest` and `jianbao digest`: select what is new
/// since `since` (matching `keywords`), render it under the `label` (the local date), or the
/// empty note.
pub fn compose(
    index: &SearchIndex,
    since: Since,
    keywords: &str,
    max_items: usize,
    label: &str,
    when_empty: WhenEmpty,
) -> Result<Composed, tantivy::TantivyError> {
    let digest = select(index, since, keywords, max_items)?;
    let parts = match (digest.items.is_empty(), when_empty) {
        (false, _) => render(&digest, label, keywords),
        (true, WhenEmpty::Note) => vec![render_empty(label)],
        (true, WhenEmpty::Nothing) => Vec::new(),
    };
    Ok(Composed {
        parts,
        items: digest.items.len(),
        cursor: digest.cursor,
    })
}

/// The note sent instead of an empty digest when DIGEST_SEND_EMPTY is on.
pub fn render_empty(label: &str) -> String {
    format!("📰 <b>简报 · {}</b>\n今天没有新文章。", escape_html(label))
}
