//! Page chrome learned from the collection: a line that recurs across many articles of one
//! source (a backup site's banner `返回列表页`, an account's sign-off), or across many sources,
//! is not article text. The fixed WeChat list in [`super::clean`] catches the chrome we have
//! seen; this catches the chrome of scrapers and accounts we have not.
//!
//! Lines are compared by a key: the line with whitespace, NBSP, U+200B/C/D, U+FEFF and U+3000
//! removed and ASCII lowercased, hashed to 64 bits (stable across runs and versions: blake3).
//! Only lines of at most [`MAX_LINE_CHARS`] characters are candidates: chrome is a line of a
//! few words or a sign-off paragraph (`一直以来，360CERT对全球重要网络安全事件进行快速通报…`,
//! 110 characters); a longer paragraph is never compared.
//!
//! [`LineStats`] counts, per source, how many articles have each candidate line; it is kept
//! incrementally by the index (see `index::sync`), one [`ArticleLines`] per indexed article.
//! [`LineStats::learned`] applies the thresholds below and gives the [`Chrome`] set that
//! cleaning removes.
//!
//! What protects article text:
//! - a line must be in at least [`SOURCE_MIN_FILES`] articles: a line unique to an article,
//!   or shared by a few reposts, is never learned;
//! - and in a large share of its source's articles ([`SOURCE_SHARE`]): in a news source of
//!   19,594 articles the most common line, `央视网消息（新闻联播）：`, is in 13 % of them, and
//!   a recurring sentence such as `王毅参加会见。` in under 1 %; a banner is in all of them;
//! - across sources, a line must be in [`CROSS_MIN_SOURCES`] sources, [`CROSS_MIN_FILES`]
//!   articles, and a share [`CROSS_SHARE`] of those sources' articles: a heading such as
//!   `前言` or `总结` is in 8 of 122 sources of the WeChat collection but in few of their
//!   articles;
//! - only whole lines are compared, never sentences inside a paragraph.

use std::collections::HashSet;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

/// A candidate line, hashed (see the module comment).
pub type LineKey = u64;
/// A source (the front matter's `source`, trimmed and folded), hashed.
pub type SourceKey = u64;

/// Candidate lines have this many characters, after removing whitespace.
pub const MIN_LINE_CHARS: usize = 2;
pub const MAX_LINE_CHARS: usize = 200;

/// Learned chrome is not removed from an article when it would take more than this share of
/// an article of at least [`GUARD_MIN_CHARS`] characters: that is not chrome around a text but
/// the text itself, recurring (a source that posted the same notice again and again). A page
/// that is only a banner and a like-bar is short, and loses it all.
pub const GUARD_SHARE: f64 = 0.8;
pub const GUARD_MIN_CHARS: usize = 300;

/// A line is chrome of its source when it is in at least this many of the source's articles…
pub const SOURCE_MIN_FILES: u32 = 4;
/// …and in at least this share of them.
pub const SOURCE_SHARE: f64 = 0.4;

/// A long sentence (see [`is_long_sentence`]) is chrome of its source only when it is in at
/// least this many of the source's articles (and [`SOURCE_SHARE`] of them). Anyone whose files
/// end up in a scraped folder can write `source:` as they please: with [`SOURCE_MIN_FILES`],
/// three files naming a one-article source and repeating one of its sentences deleted that
/// sentence; now it takes nine, and a source of 25 articles ten. Banners and subscription
/// lines are short, and real chrome sentences recur on far more pages than this.
pub const SENTENCE_MIN_FILES: u32 = 10;

/// A line is chrome everywhere when it is in at least this many sources…
pub const CROSS_MIN_SOURCES: u32 = 5;
/// …and this many articles…
pub const CROSS_MIN_FILES: u32 = 20;
/// …and in this share of the articles of the sources it is in.
pub const CROSS_SHARE: f64 = 0.4;

/// Characters that are not part of a line's key.
fn is_ignored(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{a0}' | '\u{200b}'..='\u{200d}' | '\u{feff}' | '\u{3000}'
        )
}

/// The line as it is compared: ignored characters removed, ASCII lowercased.
pub fn normalize(line: &str) -> String {
    line.chars()
        .filter(|c| !is_ignored(*c))
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn hash(bytes: &[u8]) -> u64 {
    let digest = blake3::hash(bytes);
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest.as_bytes()[..8]);
    u64::from_le_bytes(first)
}

/// The key of a line, or `None` when it is too short or too long to be chrome.
pub fn line_key(line: &str) -> Option<LineKey> {
    // Most paragraphs of article text are longer: no copy for them.
    if line.len() > MAX_LINE_CHARS
        && line
            .chars()
            .filter(|c| !is_ignored(*c))
            .nth(MAX_LINE_CHARS)
            .is_some()
    {
        return None;
    }
    let normalized = normalize(line);
    let chars = normalized.chars().count();
    (MIN_LINE_CHARS..=MAX_LINE_CHARS)
        .contains(&chars)
        .then(|| hash(normalized.as_bytes()))
}

/// The key of each paragraph, computed once per article: both the counts and the removal of
/// learned chrome read them.
pub fn line_keys<P: AsRef<str>>(paragraphs: &[P]) -> Vec<Option<LineKey>> {
    paragraphs.iter().map(|p| line_key(p.as_ref())).collect()
}

pub fn source_key(source: &str) -> SourceKey {
    hash(crate::text::fold(source.trim()).as_bytes())
}

/// The entry of a line learned as one source's chrome, in a [`Chrome`] set: mixed so that it
/// cannot be taken for a line learned everywhere.
fn pair_entry(source: SourceKey, line: LineKey) -> u64 {
    let mut bytes = [0u8; 17];
    bytes[0] = b's';
    bytes[1..9].copy_from_slice(&source.to_le_bytes());
    bytes[9..].copy_from_slice(&line.to_le_bytes());
    hash(&bytes)
}

/// The entry of a line learned as one source's chrome on [`SENTENCE_MIN_FILES`] articles or
/// more: it may remove a long sentence.
fn sentence_entry(source: SourceKey, line: LineKey) -> u64 {
    let mut bytes = [0u8; 17];
    bytes[0] = b'S';
    bytes[1..9].copy_from_slice(&source.to_le_bytes());
    bytes[9..].copy_from_slice(&line.to_le_bytes());
    hash(&bytes)
}

/// The candidate lines of one article, as [`LineStats`] counts them: each distinct line once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArticleLines {
    pub source: SourceKey,
    pub lines: Vec<LineKey>,
}

impl ArticleLines {
    /// `keys`: the article's [`line_keys`].
    pub fn new(source: &str, keys: &[Option<LineKey>]) -> ArticleLines {
        let mut lines: Vec<LineKey> = keys.iter().flatten().copied().collect();
        lines.sort_unstable();
        lines.dedup();
        ArticleLines {
            source: source_key(source),
            lines,
        }
    }

    /// The lines as bytes, for storage.
    pub fn lines_blob(&self) -> Vec<u8> {
        self.lines.iter().flat_map(|k| k.to_le_bytes()).collect()
    }

    /// Inverse of [`ArticleLines::lines_blob`]; trailing bytes that are not a whole key are
    /// ignored.
    pub fn from_blob(source: SourceKey, blob: &[u8]) -> ArticleLines {
        let lines = blob
            .chunks_exact(8)
            .map(|c| {
                let mut b = [0u8; 8];
                b.copy_from_slice(c);
                u64::from_le_bytes(b)
            })
            .collect();
        ArticleLines { source, lines }
    }
}

/// A set of learned chrome lines, as cleaning uses it and as the index records which set its
/// documents were cleaned with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chrome {
    /// Line keys learned everywhere, and [`pair_entry`]s learned for one source.
    entries: HashSet<u64>,
    /// The [`sentence_entry`]s of the lines learned for one source on enough articles to
    /// remove a long sentence (a subset of the pairs, not counted as lines of their own).
    #[serde(default)]
    sentences: HashSet<u64>,
}

impl Chrome {
    /// No learned chrome (cleaning with the fixed list alone).
    pub fn none() -> Chrome {
        Chrome::default()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether `line` of an article from `source` is chrome.
    pub fn contains(&self, source: SourceKey, line: LineKey) -> bool {
        self.entries.contains(&line) || self.learned_in(source, line)
    }

    /// Whether `line` is chrome of `source` itself (not only learned across sources).
    fn learned_in(&self, source: SourceKey, line: LineKey) -> bool {
        self.entries.contains(&pair_entry(source, line))
    }

    /// Whether `line` is chrome of `source` on enough of its articles to remove a long sentence.
    fn learned_as_sentence_in(&self, source: SourceKey, line: LineKey) -> bool {
        self.sentences.contains(&sentence_entry(source, line))
    }

    /// Whether the article with these lines is cleaned differently under `self` and `other`.
    pub fn differs_for(&self, other: &Chrome, article: &ArticleLines) -> bool {
        article.lines.iter().any(|&l| {
            let scope = |c: &Chrome| {
                (
                    c.contains(article.source, l),
                    c.learned_in(article.source, l),
                    c.learned_as_sentence_in(article.source, l),
                )
            };
            scope(self) != scope(other)
        })
    }

    /// Removes the paragraphs that are chrome for `source` (`keys`: their [`line_keys`]);
    /// returns them with their keys. Nothing is removed when that would take most of a long
    /// article (see [`GUARD_SHARE`]).
    pub fn remove_from<P: Paragraph>(
        &self,
        source: SourceKey,
        paragraphs: &mut Vec<P>,
        keys: &[Option<LineKey>],
    ) -> Vec<(LineKey, String)> {
        if self.entries.is_empty() {
            return Vec::new();
        }
        // A long sentence is chrome only where its own source repeats it, on many articles: a
        // line learned across sources is a banner or a UI word, and a few files planted under
        // made-up sources, or under the victim's own name, must not be able to delete a
        // sentence from an article.
        let mut keys: Vec<Option<LineKey>> = keys
            .iter()
            .zip(paragraphs.iter())
            .map(|(k, p)| {
                k.filter(|&k| {
                    if is_long_sentence(p.as_ref()) {
                        self.learned_as_sentence_in(source, k)
                    } else {
                        self.contains(source, k)
                    }
                })
            })
            .collect();
        if keys.iter().all(Option::is_none) {
            return Vec::new();
        }
        keep_structure(paragraphs, &mut keys);
        // A line that is all there is of an article is its text: a source that posts the same
        // short notice again and again keeps it (the guard below does that for long ones). A
        // page of chrome alone has no sentence in it, and loses it all.
        if keys.iter().all(Option::is_some) && paragraphs.iter().any(|p| is_sentence(p.as_ref())) {
            return Vec::new();
        }
        let chars = |p: &P| p.as_ref().chars().count();
        let total: usize = paragraphs.iter().map(chars).sum();
        let chrome: usize = paragraphs
            .iter()
            .zip(&keys)
            .filter(|(_, k)| k.is_some())
            .map(|(p, _)| chars(p))
            .sum();
        if total >= GUARD_MIN_CHARS && chrome as f64 > GUARD_SHARE * total as f64 {
            return Vec::new();
        }
        let mut removed = Vec::new();
        let mut kept = Vec::with_capacity(paragraphs.len());
        for (p, k) in paragraphs.drain(..).zip(keys) {
            match k {
                Some(k) => removed.push((k, p.as_ref().to_owned())),
                None => kept.push(p),
            }
        }
        *paragraphs = kept;
        removed
    }
}

/// A line as learned chrome sees it: its text, and what it is in the article's structure.
pub trait Paragraph: AsRef<str> {
    /// A heading, or a table row of several cells.
    fn is_structural(&self) -> bool {
        false
    }
    /// A line that is links to other pages and nothing else (a related-articles list).
    fn is_only_links(&self) -> bool {
        false
    }
}

impl Paragraph for String {}

impl Paragraph for super::markup::Line {
    fn is_structural(&self) -> bool {
        use super::markup::{CELL_SEPARATOR, Kind};
        self.kind == Kind::Heading || self.kind == Kind::Row && self.text.contains(CELL_SEPARATOR)
    }
    fn is_only_links(&self) -> bool {
        super::markup::Line::is_only_links(self)
    }
}

/// `一、`, `（二）`, `3.`, `04`, `第五章`: a section's number at the start of a line.
static SECTION_NUMBER: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(
        r"^\s*([（(]?[一二三四五六七八九十]+[）)、.．]|[（(]\d{1,2}[）)]|\d{1,2}\s*[、.．]|0\d\s*$|\d{1,2}\s*$|第[一二三四五六七八九十\d]+[章节部分条])",
    )
    .expect("valid regex")
});

/// Whether a line has the shape of a section marker: numbered, or introducing what follows
/// (`参考链接：`, `修复建议：`).
fn is_section_marker(line: &str) -> bool {
    let t = line.trim();
    t.chars().count() <= 40 && (SECTION_NUMBER.is_match(t) || t.ends_with(['：', ':']))
}

/// Learned lines that are the article's own structure stay: a source's template repeats its
/// section headings (`一、漏洞概述`, `参考链接：`, `修复建议`, `01`) and its tables' header
/// rows, but they organize each article. Told apart from chrome by shape and place:
/// - a table row of several cells is always kept;
/// - a heading, or a line shaped as a section marker (numbered, or ending in `：`), is kept
///   when the next line is text of the article (not learned chrome, not a list of links to
///   other pages): a banner or a sign-off leads to nothing of the article;
/// - a short line (a few words, no sentence punctuation) is kept when it stands between text
///   of the article, before and after: an account's name or a banner above the first
///   paragraph, or a sign-off below the last, does not.
fn keep_structure<P: Paragraph>(paragraphs: &[P], keys: &mut [Option<LineKey>]) {
    let first_text = keys.iter().position(Option::is_none);
    for i in (0..paragraphs.len()).rev() {
        if keys[i].is_none() {
            continue;
        }
        let p = &paragraphs[i];
        let text = p.as_ref();
        if p.is_structural() && text.contains(super::markup::CELL_SEPARATOR) {
            keys[i] = None;
            continue;
        }
        let leads_to_text = paragraphs
            .get(i + 1)
            .is_some_and(|next| keys[i + 1].is_none() && !next.is_only_links());
        if !leads_to_text {
            continue;
        }
        let marker = p.is_structural() || is_section_marker(text);
        let between_text = first_text.is_some_and(|f| f < i) && is_short_heading(text);
        if marker || between_text {
            keys[i] = None;
        }
    }
}

/// A sentence of at least [`LONG_SENTENCE_CHARS`] characters: never learned across sources.
fn is_long_sentence(line: &str) -> bool {
    line.chars().count() >= LONG_SENTENCE_CHARS && is_sentence(line)
}
const LONG_SENTENCE_CHARS: usize = 30;

/// A sentence: at least [`SENTENCE_MIN_CHARS`] characters ending a clause with `。！？`.
fn is_sentence(line: &str) -> bool {
    line.chars().count() >= SENTENCE_MIN_CHARS && line.contains(['。', '！', '？', '!', '?'])
}
const SENTENCE_MIN_CHARS: usize = 10;

/// A few words without sentence punctuation: `修复建议`, `时间线`.
fn is_short_heading(line: &str) -> bool {
    let t = line.trim();
    t.chars().count() <= 16 && !t.contains(['。', '！', '？', '，', '；', ',', '!', '?'])
}

/// Why a line is in the learned set, for reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Chrome of one source: in `files` of its `of` articles.
    Source {
        source: SourceKey,
        files: u32,
        of: u32,
    },
    /// Chrome everywhere: in `files` articles of `sources` sources.
    Everywhere { sources: u32, files: u32 },
}

/// How many articles of each source have each candidate line.
#[derive(Debug, Default, Clone)]
pub struct LineStats {
    /// Articles counted, per source.
    files: FxHashMap<SourceKey, u32>,
    /// Articles with the line, per (source, line).
    pairs: FxHashMap<(SourceKey, LineKey), u32>,
}

impl LineStats {
    pub fn add(&mut self, article: &ArticleLines) {
        *self.files.entry(article.source).or_default() += 1;
        for &line in &article.lines {
            *self.pairs.entry((article.source, line)).or_default() += 1;
        }
    }

    /// Undoes [`LineStats::add`] of the same lines.
    pub fn remove(&mut self, article: &ArticleLines) {
        decrement(&mut self.files, article.source);
        for &line in &article.lines {
            decrement(&mut self.pairs, (article.source, line));
        }
    }

    /// Every learned line, with why.
    pub fn learned_lines(&self) -> Vec<(LineKey, Scope)> {
        let mut out = Vec::new();
        // Per line, over the sources it is in: (sources, articles with it, those sources' articles).
        let mut across: FxHashMap<LineKey, (u32, u32, u32)> = FxHashMap::default();
        for (&(source, line), &files) in &self.pairs {
            let of = self.files.get(&source).copied().unwrap_or(0).max(files);
            if files >= SOURCE_MIN_FILES && f64::from(files) >= SOURCE_SHARE * f64::from(of) {
                out.push((line, Scope::Source { source, files, of }));
            }
            let a = across.entry(line).or_default();
            a.0 += 1;
            a.1 += files;
            a.2 += of;
        }
        for (line, (sources, files, of)) in across {
            if sources >= CROSS_MIN_SOURCES
                && files >= CROSS_MIN_FILES
                && f64::from(files) >= CROSS_SHARE * f64::from(of)
            {
                out.push((line, Scope::Everywhere { sources, files }));
            }
        }
        out
    }

    /// The learned set.
    pub fn learned(&self) -> Chrome {
        let mut chrome = Chrome::default();
        for (line, scope) in self.learned_lines() {
            match scope {
                Scope::Source { source, files, .. } => {
                    chrome.entries.insert(pair_entry(source, line));
                    if files >= SENTENCE_MIN_FILES {
                        chrome.sentences.insert(sentence_entry(source, line));
                    }
                }
                Scope::Everywhere { .. } => {
                    chrome.entries.insert(line);
                }
            }
        }
        chrome
    }
}

fn decrement<K: std::hash::Hash + Eq>(map: &mut FxHashMap<K, u32>, key: K) {
    if let Some(n) = map.get_mut(&key) {
        *n -= 1;
        if *n == 0 {
            map.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn article(source: &str, lines: &[&str]) -> ArticleLines {
        let paragraphs: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        ArticleLines::new(source, &line_keys(&paragraphs))
    }

    fn remove(
        chrome: &Chrome,
        source: &str,
        paragraphs: &mut Vec<String>,
    ) -> Vec<(LineKey, String)> {
        let keys = line_keys(paragraphs);
        chrome.remove_from(source_key(source), paragraphs, &keys)
    }

    #[test]
    fn keys_ignore_spacing_and_case() {
        assert_eq!(
            line_key("返回 列表页"),
            line_key("返回\u{a0}列表页\u{200b}")
        );
        assert_eq!(line_key("QAX CERT"), line_key("qax\u{3000}cert"));
        assert_eq!(line_key("一"), None);
        assert_eq!(line_key(&"长".repeat(MAX_LINE_CHARS + 1)), None);
    }

    #[test]
    fn a_banner_on_every_page_of_a_source_is_learned_and_unique_lines_are_not() {
        let mut stats = LineStats::default();
        for i in 0..6 {
            let unique = format!("第{i}篇文章独有的一句话。");
            stats.add(&article("备份站", &["返回列表页", &unique]));
        }
        let chrome = stats.learned();
        let src = source_key("备份站");
        assert!(chrome.contains(src, line_key("返回列表页").unwrap()));
        assert!(!chrome.contains(src, line_key("第0篇文章独有的一句话。").unwrap()));
        // Another source's same line is its own business.
        assert!(!chrome.contains(source_key("别处"), line_key("返回列表页").unwrap()));
        // Removed again: nothing is learned.
        for i in 0..6 {
            let unique = format!("第{i}篇文章独有的一句话。");
            stats.remove(&article("备份站", &["返回列表页", &unique]));
        }
        assert!(stats.learned().is_empty());
    }

    #[test]
    fn a_few_reposts_and_rare_lines_are_not_learned() {
        let mut stats = LineStats::default();
        // The same story three times, among 20 articles of the source.
        for i in 0..20 {
            let line = if i < 3 {
                "转载的同一段话。".to_owned()
            } else {
                format!("正文{i}")
            };
            stats.add(&article("新闻", &[&line]));
        }
        // A heading in one article of each of 8 sources with 10 articles each.
        for s in 0..8 {
            for i in 0..10 {
                let lines = if i == 0 {
                    vec!["前言"]
                } else {
                    vec!["其他"]
                };
                stats.add(&article(&format!("号{s}"), &lines));
            }
        }
        let learned = stats.learned_lines();
        let heading = line_key("前言").unwrap();
        let repost = line_key("转载的同一段话。").unwrap();
        assert!(
            learned.iter().all(|(l, _)| *l != heading && *l != repost),
            "{learned:?}"
        );
    }

    #[test]
    fn a_line_on_the_pages_of_many_small_sources_is_learned_everywhere() {
        let mut stats = LineStats::default();
        for s in 0..CROSS_MIN_FILES {
            stats.add(&article(
                &format!("号{s}"),
                &["小懒自动备份，仅供查阅学习", "正文"],
            ));
        }
        let key = line_key("小懒自动备份，仅供查阅学习").unwrap();
        assert!(stats.learned().contains(source_key("没见过的号"), key));
    }

    #[test]
    fn removing_chrome_keeps_other_lines_in_order() {
        let mut stats = LineStats::default();
        for _ in 0..4 {
            stats.add(&article("站", &["返回列表页"]));
        }
        let chrome = stats.learned();
        let mut paragraphs = vec![
            "返回 列表页".to_owned(),
            "第一段。".to_owned(),
            "第二段。".to_owned(),
        ];
        let removed = remove(&chrome, "站", &mut paragraphs);
        assert_eq!(
            removed,
            [(line_key("返回列表页").unwrap(), "返回 列表页".to_owned())]
        );
        assert_eq!(paragraphs, ["第一段。", "第二段。"]);
    }

    #[test]
    fn a_text_that_recurs_whole_is_not_removed_from_itself() {
        // Two paragraphs of 175 characters, posted five times.
        let first =
            "关于开展网络安全检查工作的通知，各单位应当按照要求完成自查并报送结果。".repeat(5);
        let second =
            "检查范围包括关键信息基础设施、重要信息系统和数据处理活动等方面内容。".repeat(5);
        let mut stats = LineStats::default();
        for _ in 0..5 {
            stats.add(&article("通知号", &[&first, &second, "返回列表页"]));
        }
        let chrome = stats.learned();
        let mut paragraphs = vec![
            first,
            second,
            "返回列表页".to_owned(),
            "一句新话。".to_owned(),
        ];
        assert!(remove(&chrome, "通知号", &mut paragraphs).is_empty());
        assert_eq!(paragraphs.len(), 4);
        // A short page of chrome alone loses it all.
        let mut page = vec!["返回列表页".to_owned()];
        assert_eq!(remove(&chrome, "通知号", &mut page).len(), 1);
        assert!(page.is_empty());
    }

    #[test]
    fn blobs_round_trip() {
        let a = article("s", &["甲乙", "丙丁"]);
        assert_eq!(ArticleLines::from_blob(a.source, &a.lines_blob()), a);
    }
}
