//! Turning results into Telegram HTML (the one markup every front end renders from).

use crate::search::{Copy, Hit, SearchResults};

/// Telegram's limit on a message's text, counted after entity parsing (tags do not count).
pub const TELEGRAM_MAX_CHARS: usize = 4096;

pub use crate::html::{escape_html, safe_url};

/// Length of an HTML message as Telegram counts it: text after entity parsing, in UTF-16 code
/// units (tags do not count; `&lt;` counts as one).
pub fn visible_len(html: &str) -> usize {
    // Every entity decodes to one BMP character, so the plain text's UTF-16 length is it.
    html_to_plain(html).encode_utf16().count()
}

/// `<a href>` around the escaped title when the URL is usable, else the escaped title.
pub fn linked_title(title: &str, url: &str) -> String {
    let title = short_title(title);
    match safe_url(url) {
        Some(url) => format!(
            "<a href=\"{}\">{}</a>",
            escape_html(url),
            escape_html(&title)
        ),
        None => escape_html(&title),
    }
}

/// Longest title shown; a scraped "title" can be a whole paragraph.
const MAX_TITLE_CHARS: usize = 120;

fn short_title(title: &str) -> String {
    let title = title.trim();
    if title.is_empty() {
        return "（无标题）".to_owned();
    }
    if title.chars().count() <= MAX_TITLE_CHARS {
        return title.to_owned();
    }
    let mut short: String = title.chars().take(MAX_TITLE_CHARS - 1).collect();
    short.push('…');
    short
}

/// `2024-07-10 · 中国信息安全`, escaped.
/// Sources are names, not text: a seed's 10,000-character `source:` is cut to this.
pub const MAX_SOURCE_CHARS: usize = 60;

/// A source as shown (escaped, trimmed, capped with an ellipsis).
pub fn source_label(source: &str) -> String {
    let source = source.trim();
    let mut shown: String = source.chars().take(MAX_SOURCE_CHARS).collect();
    if shown.len() < source.len() {
        shown.push('…');
    }
    escape_html(&shown)
}

pub fn date_and_source(hit: &Hit) -> String {
    let date = hit.date.map(|d| d.format("%Y-%m-%d").to_string());
    let source = (!hit.source.trim().is_empty()).then(|| source_label(&hit.source));
    [date, source]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ")
}

/// One result block: number, bold linked title, date · source, excerpt, and the story's
/// other copies.
pub fn hit_block(number: usize, hit: &Hit, excerpt_chars: usize) -> String {
    let meta = date_and_source(hit);
    let excerpt = hit.excerpt.shortened(excerpt_chars).html();
    let mut out = format!("{number}. <b>{}</b>", linked_title(&hit.title, &hit.url));
    // The article's number, for `/read N`.
    out.push('\n');
    if !meta.is_empty() {
        out.push_str(&meta);
        out.push_str(" · ");
    }
    out.push_str(&format!("#{}", hit.seq));
    if !excerpt.is_empty() {
        out.push('\n');
        out.push_str(&excerpt);
    }
    if let Some(also) = also_line(&hit.also) {
        out.push('\n');
        out.push_str(&also);
    }
    out
}

/// Sources named in an `另见` line; the rest are counted.
const ALSO_NAMED: usize = 3;

/// `另见 2 个来源：A、B`, each source linked to its copy (`None` when there is no other copy).
pub fn also_line(also: &[Copy]) -> Option<String> {
    if also.is_empty() {
        return None;
    }
    let named: Vec<String> = also
        .iter()
        .take(ALSO_NAMED)
        .map(|c| {
            let name = if c.source.trim().is_empty() {
                "其他来源".to_owned()
            } else {
                c.source.trim().to_owned()
            };
            let shown: String = name.chars().take(24).collect();
            match safe_url(&c.url) {
                Some(url) => format!(
                    "<a href=\"{}\">{}</a>",
                    escape_html(url),
                    escape_html(&shown)
                ),
                None => escape_html(&shown),
            }
        })
        .collect();
    let more = if also.len() > ALSO_NAMED { " 等" } else { "" };
    Some(format!(
        "↪ 另见 {} 个来源：{}{more}",
        also.len(),
        named.join("、")
    ))
}

/// A page of search results as one Telegram HTML message, never over the limit: excerpts are
/// shortened until it fits.
pub fn results_page(
    query_text: &str,
    results: &SearchResults,
    page: usize,
    pages: usize,
) -> String {
    let query_shown: String = query_text.chars().take(80).collect();
    let ellipsis = if query_text.chars().count() > 80 {
        "…"
    } else {
        ""
    };
    let mut header = format!(
        "🔎 <b>{}{ellipsis}</b>\n共 {} 篇 · 第 {}/{} 页",
        escape_html(&query_shown),
        results.total,
        page,
        pages.max(1)
    );
    if let Some(note) = missing_note(results) {
        header.push('\n');
        header.push_str(&note);
    }
    let mut excerpt_chars = crate::search::EXCERPT_CHARS * 2;
    loop {
        let blocks: Vec<String> = results
            .hits
            .iter()
            .enumerate()
            .map(|(i, hit)| hit_block(results.offset + i + 1, hit, excerpt_chars))
            .collect();
        let html = format!("{header}\n\n{}", blocks.join("\n\n"));
        if visible_len(&html) <= TELEGRAM_MAX_CHARS || excerpt_chars == 0 {
            return html;
        }
        excerpt_chars /= 2;
    }
}

/// Longest list of missing terms quoted back (a pasted paragraph can have many).
const MAX_MISSING_SHOWN: usize = 5;

/// `「A」「B」`, escaped, at most [`MAX_MISSING_SHOWN`] terms.
fn quoted_terms(terms: &[String]) -> String {
    let mut out: String = terms
        .iter()
        .take(MAX_MISSING_SHOWN)
        .map(|t| {
            format!(
                "「{}」",
                escape_html(&t.chars().take(40).collect::<String>())
            )
        })
        .collect();
    if terms.len() > MAX_MISSING_SHOWN {
        out.push('…');
    }
    out
}

/// What a page of results lacks, in HTML: the terms no article has (and that what follows are
/// partial matches without them), or that no article has all the terms together.
pub fn missing_note(results: &SearchResults) -> Option<String> {
    if !results.missing.is_empty() {
        let mut note = format!("⚠️ 没有找到含{}的文章", quoted_terms(&results.missing));
        if results.total > 0 {
            note.push_str("，以下是不含这些词的部分匹配");
            note.push_str(&cut_note(results));
        }
        note.push('。');
        return Some(note);
    }
    results.partial.then(|| {
        format!(
            "⚠️ 没有文章同时包含所有的词，以下是部分匹配{}。",
            cut_note(results)
        )
    })
}

/// `（共 9025 篇，只列出最相关的 10 篇）` when partial matches were cut.
fn cut_note(results: &SearchResults) -> String {
    if results.matched > results.total {
        format!(
            "（共 {} 篇，只列出最相关的 {} 篇）",
            results.matched, results.total
        )
    } else {
        String::new()
    }
}

/// [`missing_note`] as plain text (terminal, inline descriptions).
pub fn missing_note_plain(results: &SearchResults) -> Option<String> {
    missing_note(results).map(|n| html_to_plain(&n))
}

/// The reply when no article has any of the query's terms: which ones, and what to try.
pub fn all_missing_reply(missing: &[String]) -> String {
    format!(
        "没有找到含{}的文章。\n试试：检查拼写，或换用更少、更常见的词（繁体和简体已自动互通，不必另搜）。",
        quoted_terms(missing)
    )
}

/// Splits a message at block boundaries (`\n\n`) so that each part fits; a single block that
/// is still too long is cut at a line end, and a line longer than a message at its sentence
/// ends ([`split_html_line`]). Nothing is dropped; never cut inside a tag or an entity.
pub fn split_message(html: &str, max: usize) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    // Visible length of `current`, kept up to date rather than recounted.
    let mut current_len = 0;
    let push = |parts: &mut Vec<String>, current: &mut String, current_len: &mut usize| {
        if !current.is_empty() {
            parts.push(std::mem::take(current));
        }
        *current_len = 0;
    };
    for block in html.split("\n\n") {
        let block_len = visible_len(block);
        if current.is_empty() && block_len <= max {
            current.push_str(block);
            current_len = block_len;
            continue;
        }
        if !current.is_empty() && current_len + 2 + block_len <= max {
            current.push_str("\n\n");
            current.push_str(block);
            current_len += 2 + block_len;
            continue;
        }
        push(&mut parts, &mut current, &mut current_len);
        if block_len <= max {
            current.push_str(block);
            current_len = block_len;
            continue;
        }
        for line in block.split('\n') {
            let line_len = visible_len(line);
            if current.is_empty() && line_len <= max {
                current.push_str(line);
                current_len = line_len;
            } else if !current.is_empty() && current_len + 1 + line_len <= max {
                current.push('\n');
                current.push_str(line);
                current_len += 1 + line_len;
            } else {
                push(&mut parts, &mut current, &mut current_len);
                if line_len <= max {
                    current.push_str(line);
                    current_len = line_len;
                } else {
                    let mut pieces = split_html_line(line, max);
                    current = pieces.pop().unwrap_or_default();
                    current_len = visible_len(&current);
                    parts.extend(pieces);
                }
            }
        }
    }
    push(&mut parts, &mut current, &mut current_len);
    balance_tags(parts)
}

/// Makes every part well-formed on its own: a tag still open where a part ends is closed there
/// and opened again at the start of the next part; a closing tag whose opening was dropped (a
/// cut line lost its markup) is removed.
fn balance_tags(parts: Vec<String>) -> Vec<String> {
    let mut carried: Vec<String> = Vec::new();
    let mut out = Vec::with_capacity(parts.len());
    for part in parts {
        let text = format!("{}{part}", carried.concat());
        let mut open: Vec<String> = Vec::new();
        let mut fixed = String::with_capacity(text.len() + 16);
        let mut rest = text.as_str();
        while let Some(lt) = rest.find('<') {
            fixed.push_str(&rest[..lt]);
            let Some(gt) = rest[lt..].find('>') else {
                rest = &rest[lt..];
                break;
            };
            let tag = &rest[lt..lt + gt + 1];
            rest = &rest[lt + gt + 1..];
            if let Some(name) = tag.strip_prefix("</") {
                let name = name.trim_end_matches('>');
                if open.last().is_some_and(|o| tag_name(o) == name) {
                    open.pop();
                    fixed.push_str(tag);
                }
            } else {
                open.push(tag.to_owned());
                fixed.push_str(tag);
            }
        }
        fixed.push_str(rest);
        for tag in open.iter().rev() {
            fixed.push_str(&format!("</{}>", tag_name(tag)));
        }
        carried = open;
        out.push(fixed);
    }
    out
}

fn tag_name(tag: &str) -> &str {
    let inner = tag.trim_start_matches('<').trim_end_matches('>');
    inner.split_whitespace().next().unwrap_or(inner)
}

/// Last resort for one over-long line: drop its markup and cut its text.
/// Where a sentence ends (a piece may end after one of these).
const SENTENCE_ENDS: &[char] = &['。', '！', '？', '；', '!', '?', ';', '…'];
/// Where a clause ends, when a sentence is longer than a piece.
const CLAUSE_ENDS: &[char] = &['，', '、', '：', ',', ':', ' '];

/// A line longer than `max` visible characters, in pieces that fit: each ends after the last
/// sentence end that fits, else the last clause end, else where it is full. Never inside a tag
/// or an entity; a tag open at a cut is closed and opened again by `balance_tags`.
fn split_html_line(line: &str, max: usize) -> Vec<String> {
    let max = max.max(1);
    let mut pieces = Vec::new();
    let mut start = 0;
    // Visible length of the piece so far, and the last places it may end (byte, length).
    let mut len = 0;
    let mut sentence: Option<(usize, usize)> = None;
    let mut clause: Option<(usize, usize)> = None;
    let mut chars = line.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let (end, width) = match c {
            // A tag is invisible, an entity one character: both are skipped whole.
            '<' | '&' => {
                let (closer, width) = if c == '<' { ('>', 0) } else { (';', 1) };
                let close = line[at..].find(closer).map_or(line.len(), |i| at + i + 1);
                while chars.peek().is_some_and(|&(i, _)| i < close) {
                    chars.next();
                }
                (close, width)
            }
            _ => (at + c.len_utf8(), c.len_utf16()),
        };
        if width > max {
            // A character wider than a whole message (an emoji under a limit of 1): what
            // stands for it is `…`; no limit Telegram has gets here.
            if at > start {
                pieces.push(line[start..at].to_owned());
            }
            pieces.push("…".to_owned());
            start = end;
            len = 0;
            sentence = None;
            clause = None;
            continue;
        }
        // A loop: after a cut at an early sentence end, what is left with this character
        // may still not fit (`。` then 44 characters and an emoji under a limit of 45).
        while width > 0 && len + width > max && at > start {
            let (cut, cut_len) = sentence.or(clause).unwrap_or((at, len));
            pieces.push(line[start..cut].to_owned());
            start = cut;
            len -= cut_len;
            // A clause end after the sentence end cut at is still a place to cut.
            clause = clause
                .filter(|&(b, _)| b > cut)
                .map(|(b, l)| (b, l - cut_len));
            sentence = None;
        }
        len += width;
        if SENTENCE_ENDS.contains(&c) {
            sentence = Some((end, len));
        } else if CLAUSE_ENDS.contains(&c) {
            clause = Some((end, len));
        }
    }
    pieces.push(line[start..].to_owned());
    pieces
}

/// Text of an HTML fragment, entities decoded, tags dropped.
pub fn html_to_plain(html: &str) -> String {
    let mut out = String::new();
    let mut chars = html.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '<' => {
                for c in chars.by_ref() {
                    if c == '>' {
                        break;
                    }
                }
            }
            '&' => {
                let mut entity = String::new();
                for c in chars.by_ref() {
                    if c == ';' {
                        break;
                    }
                    entity.push(c);
                }
                out.push(match entity.as_str() {
                    "lt" => '<',
                    "gt" => '>',
                    "amp" => '&',
                    "quot" => '"',
                    _ => '?',
                });
            }
            _ => out.push(c),
        }
    }
    out
}

/// Shown when a query has nothing to search for.
pub const USAGE_HINT_PLAIN: &str = "请输入要搜索的词，例如：人工智能 治理\n\
也可以用：\"完整短语\"  -排除词  source:来源  after:2024-07-01  before:2024-08-01";

/// A result without its number (inline mode).
pub fn hit_block_unnumbered(hit: &Hit, excerpt_chars: usize) -> String {
    let block = hit_block(0, hit, excerpt_chars);
    block.strip_prefix("0. ").unwrap_or(&block).to_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_character_wider_than_the_limit_stands_as_an_ellipsis() {
        // Found by fuzzing (reply_renderer): an emoji is two UTF-16 units, wider than a limit
        // of one.
        for part in split_message("人淥 \u{1F819}x", 1) {
            assert!(visible_len(&part) <= 1, "{part:?}");
        }
    }

    #[test]
    fn a_paragraph_longer_than_a_message_is_split_at_sentences_and_loses_nothing() {
        let sentences: Vec<String> = (0..400)
            .map(|i| format!("第{i}句：这是一段很长的正文 <b>&amp;</b>。"))
            .collect();
        let paragraph = escape_html(&sentences.concat());
        let html = format!(
            "<b>标题</b>\n\n{paragraph}\n\n<a href=\"https://x.y/\">{}</a>",
            "链".repeat(5000)
        );
        let parts = split_message(&html, TELEGRAM_MAX_CHARS);
        assert!(parts.len() >= 3, "{}", parts.len());
        let plain: String = parts.iter().map(|p| html_to_plain(p)).collect();
        for s in &sentences {
            assert!(plain.contains(s.as_str()), "{s} lost");
        }
        assert_eq!(plain.matches('链').count(), 5000);
        for p in &parts {
            assert!(visible_len(p) <= TELEGRAM_MAX_CHARS);
        }
        // Cuts fall after a sentence end where there is one.
        assert!(
            html_to_plain(&parts[1]).trim_end().ends_with('。'),
            "{}",
            parts[1]
        );
    }

    use super::*;

    #[test]
    fn a_cut_at_an_early_sentence_end_still_fits() {
        // Found by the property test: a sentence end at the start, then a line that fills
        // the limit, then an emoji (two UTF-16 units).
        let line = format!("。{}🙂🙂一一", "一".repeat(44));
        for part in split_message(&line, 45) {
            assert!(
                visible_len(&part) <= 45,
                "{} > 45: {part}",
                visible_len(&part)
            );
        }
    }

    #[test]
    fn escaping_and_length() {
        assert_eq!(escape_html("<b>&\"x\""), "&lt;b&gt;&amp;&quot;x&quot;");
        assert_eq!(visible_len("<b>中文</b>&lt;"), 3);
        assert_eq!(visible_len("🙂"), 2);
    }

    #[test]
    fn links_only_for_http() {
        assert_eq!(linked_title("<T>", "javascript:alert(1)"), "&lt;T&gt;");
        assert_eq!(
            linked_title("T", "https://a.b/?x=1&y=\"2\""),
            "<a href=\"https://a.b/?x=1&amp;y=&quot;2&quot;\">T</a>"
        );
    }

    #[test]
    fn missing_terms_are_quoted_escaped_and_labelled() {
        let mut results = SearchResults {
            missing: vec!["CVE-2024-3400".into(), "<b>".into()],
            ..SearchResults::default()
        };
        assert_eq!(
            missing_note(&results).as_deref(),
            Some("⚠️ 没有找到含「CVE-2024-3400」「&lt;b&gt;」的文章。")
        );
        results.total = 3;
        assert!(missing_note(&results).is_some_and(|n| n.contains("部分匹配")));
        results.missing.clear();
        assert_eq!(missing_note(&results), None);
        results.partial = true;
        assert!(missing_note(&results).is_some_and(|n| n.contains("部分匹配")));
        assert!(missing_note(&results).is_some_and(|n| !n.contains("只列出")));
        // Cut partial matches say how many there were.
        results.matched = 9025;
        results.total = 10;
        assert_eq!(
            missing_note(&results).as_deref(),
            Some(
                "⚠️ 没有文章同时包含所有的词，以下是部分匹配（共 9025 篇，只列出最相关的 10 篇）。"
            )
        );
        let reply = all_missing_reply(&["zzqqxx".into()]);
        assert!(
            reply.contains("「zzqqxx」") && reply.contains("拼写"),
            "{reply}"
        );
    }

    #[test]
    fn splitting_respects_limit_and_blocks() {
        let block = "<b>标题</b>\n".to_owned() + &"正文".repeat(300);
        let html = vec![block; 10].join("\n\n");
        let parts = split_message(&html, 1000);
        assert!(parts.len() > 1);
        for p in &parts {
            assert!(visible_len(p) <= 1000, "{}", visible_len(p));
            assert_eq!(p.matches("<b>").count(), p.matches("</b>").count());
        }
        let long_line = "字".repeat(5000);
        for p in split_message(&long_line, 4096) {
            assert!(visible_len(&p) <= 4096);
        }
    }
}
