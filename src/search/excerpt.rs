//! Excerpts: the passage of a body that best matches the query, with the matched words marked.
//!
//! Our own highlighter instead of tantivy's `SnippetGenerator`: that one counts bytes, not
//! characters, and panics on the backwards offsets of jieba's search mode. Here matching is a
//! substring search of the query's words in the folded body, which is aligned character for
//! character with the original, so highlights land on the text as written (traditional
//! characters, full-width letters and all).

use std::ops::Range;

use crate::text::fold;

/// Default excerpt length in characters.
pub const EXCERPT_CHARS: usize = 120;

/// Characters shown before the first match, so the reader sees its context.
const LEAD_CHARS: usize = 24;

/// At most this many occurrences of one word are considered (a long body full of one word).
const MAX_OCCURRENCES: usize = 64;

/// A word to look for and how much finding it is worth (rarer words are worth more).
#[derive(Debug, Clone)]
pub struct Needle {
    pub finds: Finds,
    pub weight: f32,
    /// Marked in the excerpt. A hint (`false`) only helps choose the passage.
    pub highlight: bool,
}

/// What a needle finds in the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finds {
    /// This folded text.
    Text(String),
    /// Any number (`8公斤`, `1985年`, `二十年`): the answer to a question that asks how much,
    /// how long or when. It only counts in a sentence that also has a text needle (the
    /// question's subject), and is never highlighted.
    Number,
}

impl Needle {
    /// A highlighted text needle.
    pub fn text(text: impl Into<String>, weight: f32) -> Needle {
        Needle {
            finds: Finds::Text(text.into()),
            weight,
            highlight: true,
        }
    }

    /// A text needle that helps choose the passage but is not highlighted.
    pub fn hint(text: impl Into<String>, weight: f32) -> Needle {
        Needle {
            highlight: false,
            ..Needle::text(text, weight)
        }
    }

    /// The [`Finds::Number`] needle.
    pub fn number(weight: f32) -> Needle {
        Needle {
            finds: Finds::Number,
            weight,
            highlight: false,
        }
    }
}

/// A piece of body text with highlighted character ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Excerpt {
    pub text: String,
    /// Sorted, non-overlapping character ranges of `text`.
    pub highlights: Vec<Range<usize>>,
    /// The excerpt starts after the body's start / ends before the body's end.
    pub cut_start: bool,
    pub cut_end: bool,
}

impl Excerpt {
    /// A text shown as it is, nothing highlighted (the marker of a page without text).
    pub fn unhighlighted(text: &str) -> Excerpt {
        Excerpt {
            text: text.to_owned(),
            ..Excerpt::default()
        }
    }

    /// Splits the text into (piece, highlighted) runs.
    pub fn runs(&self) -> Vec<(&str, bool)> {
        let mut out = Vec::new();
        let byte_at = char_to_byte_map(&self.text);
        let mut pos = 0;
        for r in &self.highlights {
            if r.start > pos {
                out.push((&self.text[byte_at[pos]..byte_at[r.start]], false));
            }
            out.push((&self.text[byte_at[r.start]..byte_at[r.end]], true));
            pos = r.end;
        }
        let len = byte_at.len() - 1;
        if pos < len {
            out.push((&self.text[byte_at[pos]..], false));
        }
        out
    }

    /// Renders with `open`/`close` around highlights and `escape` applied to every piece.
    pub fn render(&self, open: &str, close: &str, escape: impl Fn(&str) -> String) -> String {
        let mut out = String::new();
        if self.cut_start {
            out.push('…');
        }
        for (piece, marked) in self.runs() {
            if marked {
                out.push_str(open);
                out.push_str(&escape(piece));
                out.push_str(close);
            } else {
                out.push_str(&escape(piece));
            }
        }
        if self.cut_end {
            out.push('…');
        }
        out
    }

    /// Plain text (no markup).
    pub fn plain(&self) -> String {
        self.render("", "", str::to_owned)
    }

    /// Telegram HTML: `<b>` highlights, everything escaped.
    pub fn html(&self) -> String {
        self.render("<b>", "</b>", crate::html::escape_html)
    }

    /// Shortens to at most `max_chars` characters of text, keeping highlights whole when possible.
    pub fn shortened(&self, max_chars: usize) -> Excerpt {
        let len = self.text.chars().count();
        if len <= max_chars {
            return self.clone();
        }
        let text: String = self.text.chars().take(max_chars).collect();
        let highlights = self
            .highlights
            .iter()
            .filter(|r| r.start < max_chars)
            .map(|r| r.start..r.end.min(max_chars))
            .collect();
        Excerpt {
            text,
            highlights,
            cut_start: self.cut_start,
            cut_end: true,
        }
    }
}

/// Byte offset of each char, plus the total length at the end.
fn char_to_byte_map(text: &str) -> Vec<usize> {
    let mut map: Vec<usize> = text.char_indices().map(|(b, _)| b).collect();
    map.push(text.len());
    map
}

/// Only this much of a body is looked at for its excerpt. Folding and mapping a text costs
/// about 15 bytes per character: a whole 4.9 MB seed was 70 MB of transient memory per hit,
/// and 80 concurrent searches held over a gigabyte. Articles are far shorter (the news
/// corpus: median 410 characters); a long one shows a passage from its first 30,000.
pub const MAX_SCAN_CHARS: usize = 30_000;

/// Builds the excerpt of `body` (paragraphs separated by `\n`) for the given needles (folded).
pub fn excerpt(body: &str, needles: &[Needle], max_chars: usize) -> Excerpt {
    excerpt_titled(body, "", needles, max_chars)
}

/// [`excerpt`] of an article with a title. The title says what the article is about
/// (`马来穿山甲`); the excerpt should show what it does not (`天敌`): when the body has a
/// term the title lacks, the terms the title has do not choose the sentence (the first
/// sentence wins among equals). On the 1,000 questions of cmrc-trial, the answer was in the
/// right top hit's excerpt 0.787 → 0.868 of the time (0.5 of their weight: 0.819).
pub fn excerpt_titled(body: &str, title: &str, needles: &[Needle], max_chars: usize) -> Excerpt {
    let scanned = match body.char_indices().nth(MAX_SCAN_CHARS) {
        Some((cut, _)) => &body[..cut],
        None => body,
    };
    let mut ex = excerpt_of(scanned, &fold(title), needles, max_chars);
    if scanned.len() < body.len() {
        ex.cut_end = true;
    }
    ex
}

fn excerpt_of(body: &str, title: &str, needles: &[Needle], max_chars: usize) -> Excerpt {
    let max_chars = max_chars.max(10);
    let display: Vec<char> = body
        .chars()
        .map(|c| {
            if c == '\n' || c == '\r' || c == '\t' {
                ' '
            } else {
                c
            }
        })
        .collect();
    let folded = fold(body);
    let folded_bytes = char_to_byte_map(&folded);
    // `fold` keeps one char per char; if that ever failed, show the start without highlights.
    if folded_bytes.len() != display.len() + 1 {
        return window(&display, 0, max_chars, Vec::new());
    }
    let byte_to_char = |b: usize| folded_bytes.partition_point(|&x| x < b);

    let mut matches: Vec<(Range<usize>, usize)> = Vec::new();
    for (n, needle) in needles.iter().enumerate() {
        if needle.weight <= 0.0 {
            continue;
        }
        match &needle.finds {
            Finds::Text(text) if !text.is_empty() => {
                for (b, m) in folded
                    .match_indices(text.as_str())
                    .filter(|(b, m)| latin_bounded(&folded, *b, b + m.len()))
                    .take(MAX_OCCURRENCES)
                {
                    matches.push((byte_to_char(b)..byte_to_char(b + m.len()), n));
                }
            }
            Finds::Text(_) => {}
            Finds::Number => {
                matches.extend(numbers(&display).take(MAX_NUMBERS).map(|r| (r, n)));
            }
        }
    }
    if !matches
        .iter()
        .any(|(_, n)| needles[*n].finds != Finds::Number)
    {
        return window(&display, 0, max_chars, Vec::new());
    }
    matches.sort_by_key(|(r, _)| (r.start, r.end));

    let sentences = sentences(&display, body);
    // Terms the title has do not choose the sentence; when nothing else is found, the first
    // sentence with a match is the excerpt's.
    let choosing: Vec<Needle> = needles
        .iter()
        .map(|n| Needle {
            weight: if matches!(&n.finds, Finds::Text(t) if title.contains(t.as_str())) {
                0.0
            } else {
                n.weight
            },
            ..n.clone()
        })
        .collect();
    let best = best_sentence(&sentences, &matches, &choosing);
    let best_folded =
        &folded[folded_bytes[sentences[best].start]..folded_bytes[sentences[best].end]];
    let lead = lead_sentence(&display, &sentences, best, best_folded, max_chars);
    let shown = sentences[lead].start..sentences[best].end;
    let start = start_in(&display, shown, &matches, needles, max_chars);
    let second = second_fragment(
        &display,
        &sentences,
        &matches,
        &choosing,
        start,
        sentences[best].end,
        max_chars,
    );
    let ranges: Vec<Range<usize>> = matches
        .into_iter()
        .filter(|(_, n)| needles[*n].highlight)
        .map(|(r, _)| r)
        .collect();
    match second {
        Some((first, second)) => joined(&display, &[first, second], &ranges),
        None => window(&display, start, max_chars, ranges),
    }
}

/// A second fragment is not shown in less room than this.
const FRAGMENT_MIN_CHARS: usize = 24;

/// When a term the user typed is in the article but far from the chosen sentence (and not in
/// its title: `needles` here are weighed for choosing, the title's at 0), the chosen
/// sentence (whole) and a fragment around the term, in body order: (first, second) character
/// ranges, shown joined by `…`. The sentence is never cut for it: the fragment takes the room
/// the sentence leaves (what would otherwise show the text after it).
fn second_fragment(
    display: &[char],
    sentences: &[Range<usize>],
    matches: &[(Range<usize>, usize)],
    needles: &[Needle],
    start: usize,
    sentence_end: usize,
    max_chars: usize,
) -> Option<(Range<usize>, Range<usize>)> {
    let end = (start + max_chars).min(display.len());
    let shown = |n: usize| {
        matches
            .iter()
            .any(|(r, m)| *m == n && r.start >= start && r.end <= end)
    };
    let lacking = matches
        .iter()
        .filter(|(_, n)| needles[*n].highlight && needles[*n].weight > 0.0 && !shown(*n))
        .max_by(|a, b| needles[a.1].weight.total_cmp(&needles[b.1].weight))?;
    let room = max_chars.checked_sub(sentence_end.checked_sub(start)? + 1)?;
    if room < FRAGMENT_MIN_CHARS {
        return None;
    }
    let r = &lacking.0;
    let sentence = &sentences[sentences
        .partition_point(|s| s.end <= r.start)
        .min(sentences.len() - 1)];
    let from = snap_to_clause(display, r.start.saturating_sub(LEAD_CHARS / 2), r.start)
        .max(sentence.start)
        .max(r.start.saturating_sub(LEAD_CHARS));
    let to = (from + room)
        .min(sentence.end.max(r.end))
        .min(display.len());
    let first = start..sentence_end;
    let second = from..to;
    if second.end <= first.start {
        Some((second, first))
    } else if second.start >= first.end {
        Some((first, second))
    } else {
        None
    }
}

/// At most this many numbers of a body are considered.
const MAX_NUMBERS: usize = 256;

/// Character ranges of the numbers of a text: runs of digits (`8`, `1985`, `２０`), and runs
/// of two or more Chinese numerals (`二十`, `十二`, `三千`), or one before a unit of time,
/// age or count (`三年`, `五岁`, `两种`). `一` alone (`一种`, `一个`) is not a number here.
fn numbers(chars: &[char]) -> impl Iterator<Item = Range<usize>> + '_ {
    let digit = |c: char| c.is_ascii_digit() || ('０'..='９').contains(&c);
    let numeral = |c: char| "〇零一二两三四五六七八九十百千万亿".contains(c);
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < chars.len() {
            let start = i;
            if digit(chars[i]) {
                while i < chars.len() && digit(chars[i]) {
                    i += 1;
                }
                return Some(start..i);
            }
            if numeral(chars[i]) {
                while i < chars.len() && numeral(chars[i]) {
                    i += 1;
                }
                let unit = chars
                    .get(i)
                    .is_some_and(|c| "年月日天岁次倍届名位种类个条项".contains(*c));
                let lone_one = i - start == 1 && chars[start] == '一';
                if (i - start >= 2 || unit) && !lone_one {
                    return Some(start..i);
                }
                continue;
            }
            i += 1;
        }
        None
    })
}

/// Where a sentence ends (the character is its last).
fn ends_sentence(c: char) -> bool {
    matches!(c, '。' | '！' | '？' | '!' | '?' | '；' | ';' | '\n')
}

/// Character ranges of the body's sentences (and lines), in order; never empty. A sentence
/// end inside brackets or quotes (`《卡拉OK.LIVE！‧台北‧我》`) does not end the sentence.
fn sentences(display: &[char], body: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut depth = 0usize;
    for (i, c) in body.chars().enumerate() {
        match c {
            '《' | '「' | '『' | '“' | '（' | '【' => depth += 1,
            '》' | '」' | '』' | '”' | '）' | '】' => depth = depth.saturating_sub(1),
            _ => {}
        }
        // A line always ends one (an unclosed bracket must not swallow the article).
        if c == '\n' || (depth == 0 && ends_sentence(c)) {
            depth = 0;
            if i + 1 > start {
                out.push(start..i + 1);
            }
            start = i + 1;
        }
    }
    if start < display.len() || out.is_empty() {
        out.push(start..display.len());
    }
    out
}

/// Words that open a sentence continuing the one before: its cause (`因此`), its contrast
/// (`但`), what came next (`赛后`, `此时`), a pronoun for what the one before named (`他`,
/// `其`, `这`). Such a sentence is shown with the one before, which a question about it
/// (`为什么…`) is usually about. The times and pronouns moved answer | top1 0.882 → 0.884 on
/// cmrc-trial, 0.880 → 0.881 on cmrc-trial-trad (held out).
const CONTINUATIONS: &[&str] = &[
    "因此", "所以", "因而", "于是", "故", "但", "然而", "不过", "后来", "此后", "之后", "随后",
    "赛后", "其后", "此时", "当时", "这时", "届时", "同时", "他", "她", "其", "这", "此",
];

/// A sentence shorter than this (`降居顺成宫。`) is a fragment of the one before, which says
/// what it is about: shown from there. Answer | top1 on cmrc-trial 0.884 → 0.885, cmrc-trial-x
/// 0.885 → 0.887, cmrc-trial-trad (held out) 0.883 → 0.884; 8 and 10 did the same, 16 and 24
/// nothing (as many lost as gained).
const SHORT_SENTENCE_CHARS: usize = 12;

/// The sentence the excerpt starts at: the chosen one, or the one before when the chosen one
/// continues it or is short, and both fit. `best_folded` is the chosen sentence folded, so
/// `後來` and `這` open a continuation as `后来` and `这` do.
fn lead_sentence(
    display: &[char],
    sentences: &[Range<usize>],
    best: usize,
    best_folded: &str,
    max_chars: usize,
) -> usize {
    let Some(prev) = best.checked_sub(1).map(|p| &sentences[p]) else {
        return best;
    };
    let opening = best_folded.trim_start();
    let continues = CONTINUATIONS.iter().any(|w| opening.starts_with(w))
        || sentences[best].len() < SHORT_SENTENCE_CHARS;
    // Lines show as spaces: a sentence ending in one ended its line.
    let on_one_line = display[prev.clone()].last().is_some_and(|c| *c != ' ');
    if continues && on_one_line && prev.len() <= max_chars * 3 / 4 {
        best - 1
    } else {
        best
    }
}

/// The sentence whose matches are worth the most: each needle's weight once (a repeat adds a
/// tenth), times how few of the body's sentences have it. The article was chosen for all its
/// terms; among its sentences, the one with the term the others lack (`现任校长` in an article
/// that names its `公理高中书院` in every sentence) holds the answer. The earliest of equals:
/// an article names and defines its subject first.
fn best_sentence(
    sentences: &[Range<usize>],
    matches: &[(Range<usize>, usize)],
    needles: &[Needle],
) -> usize {
    let in_sentence = |m: &(Range<usize>, usize)| sentences.partition_point(|s| s.end <= m.0.start);
    // How many sentences have each needle.
    let mut last = vec![usize::MAX; needles.len()];
    let mut spread = vec![0usize; needles.len()];
    for m in matches {
        let s = in_sentence(m);
        if last[m.1] != s {
            last[m.1] = s;
            spread[m.1] += 1;
        }
    }
    let total = sentences.len() as f32;
    let worth: Vec<f32> = needles
        .iter()
        .zip(&spread)
        .map(|(n, &k)| n.weight * (1.0 + total / k.max(1) as f32).ln())
        .collect();
    let first_match = matches
        .iter()
        .find(|m| needles[m.1].finds != Finds::Number)
        .map_or(0, |m| sentences.partition_point(|s| s.end <= m.0.start));
    let mut best = (0.0f32, first_match);
    let mut seen = vec![false; needles.len()];
    let mut m = 0;
    for (i, sentence) in sentences.iter().enumerate() {
        seen.iter_mut().for_each(|s| *s = false);
        while m < matches.len() && matches[m].0.start < sentence.start {
            m += 1;
        }
        let (mut score, mut number, mut anchored) = (0.0, 0.0f32, false);
        for (r, n) in matches[m..]
            .iter()
            .take_while(|(r, _)| r.start < sentence.end)
        {
            if r.end > sentence.end {
                continue;
            }
            if needles[*n].finds == Finds::Number {
                number = number.max(worth[*n]);
                continue;
            }
            anchored = true;
            score += if seen[*n] { 0.1 } else { 1.0 } * worth[*n];
            seen[*n] = true;
        }
        if anchored {
            score += number;
        }
        if score > best.0 {
            best = (score, i);
        }
    }
    best.1
}

/// Where the excerpt of `sentence` starts: at the sentence when it fits (what follows fills
/// the rest), else at the best window of its matches, moved back to the start of its clause.
fn start_in(
    display: &[char],
    sentence: Range<usize>,
    matches: &[(Range<usize>, usize)],
    needles: &[Needle],
    max_chars: usize,
) -> usize {
    if sentence.len() <= max_chars {
        return sentence.start;
    }
    let inner: Vec<(Range<usize>, usize)> = matches
        .iter()
        .filter(|(r, _)| r.start >= sentence.start && r.end <= sentence.end)
        .cloned()
        .collect();
    if inner.is_empty() {
        return sentence.start;
    }
    let start = best_window_start(&inner, needles, max_chars).max(sentence.start);
    let first = inner
        .iter()
        .find(|(r, _)| r.start >= start)
        .map_or(start, |(r, _)| r.start);
    snap_to_clause(display, start, first).max(sentence.start)
}

/// A match that starts or ends with a Latin letter or digit must not continue a longer Latin
/// token: `h20` is not marked inside `h200`, `cve-2024-3400` not inside `cve-2024-34001`.
fn latin_bounded(text: &str, start: usize, end: usize) -> bool {
    let latin = |c: char| c.is_alphanumeric() && !crate::text::is_cjk(c);
    let first = text[start..end].chars().next();
    let last = text[start..end].chars().next_back();
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    let continues_before = first.is_some_and(latin) && before.is_some_and(latin);
    let continues_after = last.is_some_and(latin) && after.is_some_and(latin);
    !continues_before && !continues_after
}

/// The window start whose `max_chars` cover the most valuable set of distinct needles.
fn best_window_start(
    matches: &[(Range<usize>, usize)],
    needles: &[Needle],
    max_chars: usize,
) -> usize {
    let mut best = (f32::MIN, 0usize);
    let mut seen = vec![false; needles.len()];
    for (i, (first, _)) in matches.iter().enumerate() {
        let start = first.start.saturating_sub(LEAD_CHARS);
        let end = start + max_chars;
        seen.iter_mut().for_each(|s| *s = false);
        let mut score = 0.0;
        for (r, n) in &matches[i..] {
            if r.end > end {
                break;
            }
            if !seen[*n] {
                seen[*n] = true;
                score += needles[*n].weight;
            } else {
                score += needles[*n].weight * 0.1;
            }
        }
        if score > best.0 {
            best = (score, start);
        }
    }
    best.1
}

/// Moves the start to the beginning of the clause that holds the first match, when that is
/// not far before it, so the excerpt does not open mid-clause.
fn snap_to_clause(chars: &[char], start: usize, first_match: usize) -> usize {
    let first_match = first_match.min(chars.len());
    if start == 0 || first_match == 0 {
        return start;
    }
    let earliest = first_match.saturating_sub(LEAD_CHARS * 2);
    (earliest..first_match)
        .rev()
        .find(|&i| {
            matches!(
                chars[i],
                '。' | '！' | '？' | '!' | '?' | ';' | '；' | ' ' | '，' | ','
            )
        })
        .map_or(start, |i| i + 1)
}

fn window(chars: &[char], start: usize, max_chars: usize, ranges: Vec<Range<usize>>) -> Excerpt {
    let start = start.min(chars.len());
    let end = (start + max_chars).min(chars.len());
    joined(chars, std::slice::from_ref(&(start..end)), &ranges)
}

/// Ranges of the body, in order, joined by `…` (one range is a plain window), the spaces at
/// their edges left out, with the highlights that fall in them.
fn joined(chars: &[char], parts: &[Range<usize>], ranges: &[Range<usize>]) -> Excerpt {
    let mut text = String::new();
    let mut highlights: Vec<Range<usize>> = Vec::new();
    // Characters in `text` so far.
    let mut len = 0;
    for (i, part) in parts.iter().enumerate() {
        let mut s = part.start;
        while s < part.end && chars[s] == ' ' {
            s += 1;
        }
        let mut e = part.end;
        while e > s && chars[e - 1] == ' ' {
            e -= 1;
        }
        if i > 0 {
            text.push('…');
            len += 1;
        }
        text.extend(&chars[s..e]);
        for r in ranges {
            let (a, b) = (r.start.max(s), r.end.min(e));
            if a >= b {
                continue;
            }
            let (a, b) = (a - s + len, b - s + len);
            match highlights.last_mut() {
                Some(last) if a <= last.end => last.end = last.end.max(b),
                _ => highlights.push(a..b),
            }
        }
        len += e - s;
    }
    Excerpt {
        text,
        highlights,
        cut_start: parts.first().is_some_and(|p| p.start > 0),
        cut_end: parts.last().is_some_and(|p| p.end < chars.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn needles(words: &[&str]) -> Vec<Needle> {
        words.iter().map(|w| Needle::text(fold(w), 1.0)).collect()
    }

    #[test]
    fn only_the_start_of_a_huge_body_is_scanned() {
        let needles = [Needle::text("目标", 1.0)];
        let near = format!(
            "{}目标{}",
            "甲".repeat(100),
            "乙".repeat(MAX_SCAN_CHARS * 3)
        );
        let e = excerpt(&near, &needles, 60);
        assert!(e.plain().contains("目标") && !e.highlights.is_empty() && e.cut_end);
        // Past the scanned part the word is not looked for (the work is bounded).
        let far = format!("{}目标", "甲".repeat(MAX_SCAN_CHARS + 10));
        let e = excerpt(&far, &needles, 60);
        assert!(e.highlights.is_empty() && e.cut_end);
        assert!(e.text.chars().count() <= 60);
    }

    #[test]
    fn highlights_overlapping_sub_words_as_one() {
        let e = excerpt(
            "我们研究人工智能的治理。",
            &needles(&["人工", "智能", "人工智能"]),
            100,
        );
        assert_eq!(e.html(), "我们研究<b>人工智能</b>的治理。");
    }

    #[test]
    fn latin_needles_match_whole_tokens_only() {
        let e = excerpt(
            "H200 不是 H20，见 CVE-2024-34001 与 CVE-2024-3400。",
            &needles(&["h20", "cve-2024-3400"]),
            100,
        );
        assert_eq!(
            e.html(),
            "H200 不是 <b>H20</b>，见 CVE-2024-34001 与 <b>CVE-2024-3400</b>。"
        );
    }

    #[test]
    fn finds_the_passage_far_into_the_body() {
        let body = format!(
            "{}关键词在这里出现。{}",
            "无关内容。".repeat(100),
            "尾巴。".repeat(100)
        );
        let e = excerpt(&body, &needles(&["关键词"]), 60);
        assert!(e.cut_start && e.cut_end);
        assert!(e.plain().contains("关键词"), "{}", e.plain());
        assert!(e.text.chars().count() <= 60);
    }

    #[test]
    fn the_sentence_with_what_the_title_lacks_is_shown() {
        let body = format!(
            "马来穿山甲是东南亚的一种穿山甲。{}马来穿山甲的天敌有虎及云豹。{}",
            "马来穿山甲分布在森林中，体长约一米。".repeat(6),
            "尾巴。".repeat(20)
        );
        let n = needles(&["马来穿山甲", "天敌"]);
        let e = excerpt_titled(&body, "马来穿山甲", &n, 40);
        assert!(e.plain().contains("天敌有虎及云豹"), "{}", e.plain());
        // Without a title, the sentence with both terms still wins over the first.
        let e = excerpt(&body, &n, 40);
        assert!(e.plain().contains("天敌有虎及云豹"), "{}", e.plain());
        // Only the title's terms in the body: the first sentence that has one.
        let e = excerpt_titled(&body, "马来穿山甲的天敌", &n, 40);
        assert!(e.plain().starts_with("马来穿山甲是东南亚"), "{}", e.plain());
    }

    #[test]
    fn terms_far_apart_show_as_two_fragments() {
        let body = format!(
            "芯片产业稳步发展。{}今年出口增长两成，创下新高。{}",
            "无关的内容在这里。".repeat(20),
            "尾声。".repeat(10)
        );
        let mut n = needles(&["芯片", "出口"]);
        n[0].weight = 2.0;
        let e = excerpt(&body, &n, 60);
        assert_eq!(
            e.html(),
            "<b>芯片</b>产业稳步发展。…今年<b>出口</b>增长两成，创下新高。…"
        );
        assert!(e.text.chars().count() <= 60);
        // A term the title shows is not fetched from afar.
        let e = excerpt_titled(&body, "出口", &n, 60);
        assert!(!e.plain().contains("出口"), "{}", e.plain());
    }

    #[test]
    fn hints_choose_but_are_not_highlighted() {
        let body = "甲乙丙丁。首届比赛于一九九零年举行。戊己庚辛。";
        let mut n = needles(&["比赛"]);
        n.push(Needle::hint("举行", 1.0));
        let e = excerpt(body, &n, 30);
        assert_eq!(e.html(), "…首届<b>比赛</b>于一九九零年举行。戊己庚辛。");
    }

    #[test]
    fn no_match_gives_the_start() {
        let e = excerpt("第一段。\n第二段。", &needles(&["没有"]), 100);
        assert_eq!(e.plain(), "第一段。 第二段。");
        assert!(e.highlights.is_empty());
    }

    #[test]
    fn highlights_traditional_text_as_written_and_escapes() {
        let e = excerpt("<臺灣> & 經濟", &needles(&["台湾"]), 100);
        assert_eq!(e.html(), "&lt;<b>臺灣</b>&gt; &amp; 經濟");
    }

    #[test]
    fn hostile_text_never_panics() {
        let hostile = [
            "",
            "\u{0}",
            "🙂🙂🙂",
            "a\u{301}\u{301}",
            "\n\n\n",
            "𠀀𠀁𠀂",
            "ＡＢＣ",
        ];
        for body in hostile {
            for n in [&["🙂"][..], &["a"], &[""], &["𠀁"], &["ｂ"]] {
                let e = excerpt(body, &needles(n), 3);
                let _ = (e.html(), e.plain(), e.shortened(1).html());
            }
        }
    }

    #[test]
    fn shortening_keeps_valid_ranges() {
        let e = excerpt("人工智能人工智能人工智能", &needles(&["智能"]), 100).shortened(5);
        assert_eq!(e.text.chars().count(), 5);
        assert!(e.highlights.iter().all(|r| r.end <= 5));
        assert!(e.html().ends_with('…'));
    }

    #[test]
    fn numbers_are_digits_and_chinese_numerals_with_a_unit() {
        let chars: Vec<char> = "约8公斤，二十年，两种，一种，三千，第一次，１９８５年"
            .chars()
            .collect();
        let found: Vec<String> = numbers(&chars).map(|r| chars[r].iter().collect()).collect();
        assert_eq!(found, ["8", "二十", "两", "三千", "１９８５"]);
    }

    #[test]
    fn a_number_chooses_among_sentences_with_the_subject_only() {
        let body = "袋鼠分布在澳洲南部岛屿。一些数字123出现在这里。袋鼠很细小，约只有8公斤重。";
        let mut n = needles(&["袋鼠"]);
        // Without the number needle, the first sentence with the subject.
        assert!(excerpt(body, &n, 14).text.starts_with("袋鼠分布"));
        n.push(Needle::number(1.0));
        let e = excerpt(body, &n, 14);
        assert!(e.text.starts_with("袋鼠很细小"), "{e:?}");
        // The number is not highlighted.
        assert_eq!(e.html(), "…<b>袋鼠</b>很细小，约只有8公斤重。");
        // A number alone (no subject) chooses nothing.
        let e = excerpt("甲乙丙丁戊己庚辛壬癸。12。", &[Needle::number(1.0)], 10);
        assert_eq!(
            (e.text.as_str(), e.cut_start),
            ("甲乙丙丁戊己庚辛壬癸", false)
        );
    }

    #[test]
    fn a_continuing_sentence_is_shown_with_the_one_before() {
        let body = "甲乙丙丁戊己庚辛壬癸。韩遂逝世了。此时他投降曹操。子丑寅卯辰巳午未申酉。";
        let e = excerpt(body, &needles(&["投降"]), 20);
        assert!(e.text.starts_with("韩遂逝世了。"), "{e:?}");
        // Traditional text opens a continuation as simplified text does.
        let body = "甲乙丙丁戊己庚辛壬癸。韓遂逝世了。後來成公英投降。子丑寅卯辰巳午未申酉。";
        let e = excerpt(body, &needles(&["投降"]), 20);
        assert!(e.text.starts_with("韓遂逝世了。"), "{e:?}");
        // Any other sentence starts at itself.
        let body = "甲乙丙丁戊己庚辛壬癸。韩遂逝世了。成公英率部众投降了曹操的大军。子丑寅卯辰巳午未申酉。";
        let e = excerpt(body, &needles(&["投降"]), 20);
        assert!(e.text.starts_with("成公英率部众"), "{e:?}");
    }

    #[test]
    fn a_short_sentence_is_shown_with_the_one_before() {
        let body =
            "甲乙丙丁戊己庚辛壬癸。皇后听闻奇药而被贬，降居。子丑寅卯辰巳午未申酉。降居顺成宫。";
        let e = excerpt(body, &needles(&["顺成宫"]), 30);
        assert!(e.text.starts_with("子丑寅卯"), "{e:?}");
    }
}
