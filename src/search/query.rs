//! What users type, turned into a structured query. Nothing a user types is a syntax error:
//! unknown syntax is searched as words.
//!
//! Forms: words and whole questions (ranked by BM25 over their words), `"a phrase"` (required,
//! exact), `-word` / `-"phrase"` (excluded), `source:名称`, `after:2024-07-01` (that day and
//! later), `before:2024-08-01` (earlier days only).

use chrono::NaiveDate;

use crate::corpus::dates::parse_date;
use crate::text::fold;

/// Longer input is cut: a pasted page is not a query, and every word costs a clause.
pub const MAX_QUERY_CHARS: usize = 256;

/// A parsed query; all strings are folded (simplified, half-width, lower case).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserQuery {
    /// Free text pieces, ranked by their words.
    pub text: Vec<String>,
    /// Required phrases.
    pub phrases: Vec<String>,
    /// `text` and `phrases` as the user wrote them (before folding), one for one and char for
    /// char: what a reply quotes back ("no article has 「ＣＶＥ-2024-3400」").
    pub text_written: Vec<String>,
    pub phrases_written: Vec<String>,
    /// Excluded words or phrases.
    pub excluded: Vec<String>,
    pub source: Option<String>,
    pub after: Option<NaiveDate>,
    pub before: Option<NaiveDate>,
}

impl UserQuery {
    /// True when the query has something to rank by.
    pub fn has_words(&self) -> bool {
        self.text
            .iter()
            .chain(&self.phrases)
            .any(|t| t.chars().any(char::is_alphanumeric))
    }

    /// True when the query restricts the result set without words (source or dates).
    pub fn has_filters(&self) -> bool {
        self.source.is_some() || self.after.is_some() || self.before.is_some()
    }
}

const OPEN_QUOTES: &[char] = &['"', '“', '”', '「', '『', '«', '„'];
const CLOSE_QUOTES: &[char] = &['"', '”', '“', '」', '』', '»'];

/// Parses user input.
pub fn parse(input: &str) -> UserQuery {
    let cut: String = input.chars().take(MAX_QUERY_CHARS).collect();
    let folded = fold(&cut);
    let chars: Vec<char> = folded.chars().collect();
    // `fold` maps char to char, so an index into `chars` is one into the original too.
    let written: Vec<char> = cut.chars().collect();
    let written_at = |picked: &[usize]| -> String {
        picked
            .iter()
            .map(|&i| written.get(i).copied().unwrap_or(chars[i]))
            .collect()
    };
    let mut q = UserQuery::default();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_whitespace() {
            i += 1;
            continue;
        }
        let negated = chars[i] == '-'
            && chars
                .get(i + 1)
                .is_some_and(|c| !c.is_whitespace() && *c != '-');
        if negated {
            i += 1;
        }
        let (picked, quoted, next) = read_piece(&chars, i);
        i = next;
        let piece: String = picked.iter().map(|&k| chars[k]).collect();
        if piece.is_empty() {
            continue;
        }
        if negated {
            q.excluded.push(piece);
        } else if quoted {
            q.phrases.push(piece);
            q.phrases_written.push(written_at(&picked));
        } else if !apply_filter(&mut q, &piece) {
            q.text.push(piece);
            q.text_written.push(written_at(&picked));
        }
    }
    q
}

/// Reads a quoted phrase or a whitespace-delimited word starting at `i`: the indices of its
/// characters, whether it was quoted, and where reading goes on. A `key:"quoted value"` is
/// read as one piece. An unclosed quote runs to the end of the input.
fn read_piece(chars: &[char], mut i: usize) -> (Vec<usize>, bool, usize) {
    if OPEN_QUOTES.contains(&chars[i]) {
        let mut start = i + 1;
        let mut end = start;
        while end < chars.len() && !CLOSE_QUOTES.contains(&chars[end]) {
            end += 1;
        }
        let next = end + 1;
        while start < end && chars[start].is_whitespace() {
            start += 1;
        }
        while end > start && chars[end - 1].is_whitespace() {
            end -= 1;
        }
        return ((start..end).collect(), true, next);
    }
    let mut out = Vec::new();
    while i < chars.len() && !chars[i].is_whitespace() {
        if OPEN_QUOTES.contains(&chars[i]) && out.last().is_some_and(|&k| chars[k] == ':') {
            let (value, _, next) = read_piece(chars, i);
            out.extend(value);
            return (out, false, next);
        }
        out.push(i);
        i += 1;
    }
    (out, false, i)
}

/// Applies `source:`, `after:` and `before:`; false when `piece` is not a (valid) filter.
fn apply_filter(q: &mut UserQuery, piece: &str) -> bool {
    let Some((key, value)) = piece.split_once(':') else {
        return false;
    };
    let value = value.trim();
    if value.is_empty() {
        return false;
    }
    match key {
        "source" | "来源" | "src" => {
            q.source = Some(value.to_owned());
            true
        }
        "after" | "since" | "from" => parse_date(value).map(|d| q.after = Some(d)).is_some(),
        "before" | "until" => parse_date(value).map(|d| q.before = Some(d)).is_some(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_phrases_exclusions_filters() {
        let q = parse(
            "人工智能 \"全球 治理\" -美国 source:中国信息安全 after:2024-07-01 before:2024/8/1",
        );
        assert_eq!(q.text, vec!["人工智能"]);
        assert_eq!(q.phrases, vec!["全球 治理"]);
        assert_eq!(q.excluded, vec!["美国"]);
        assert_eq!(q.source.as_deref(), Some("中国信息安全"));
        assert_eq!(q.after, NaiveDate::from_ymd_opt(2024, 7, 1));
        assert_eq!(q.before, NaiveDate::from_ymd_opt(2024, 8, 1));
    }

    #[test]
    fn full_width_and_chinese_quotes() {
        let q = parse("“数字经济”　ｓｏｕｒｃｅ：新闻联播");
        assert_eq!(q.phrases, vec!["数字经济"]);
        assert_eq!(q.source.as_deref(), Some("新闻联播"));
        let q = parse("source:\"中国 信息安全\" 治理");
        assert_eq!(q.source.as_deref(), Some("中国 信息安全"));
        assert_eq!(q.text, vec!["治理"]);
    }

    #[test]
    fn junk_is_just_words() {
        for junk in [
            "AND (",
            "title:",
            "\"",
            "*",
            "🙂",
            "-",
            "--",
            "after:yesterday",
            ":",
            "-\"",
            "source:",
        ] {
            let q = parse(junk);
            assert!(q.source.is_none() && q.after.is_none(), "{junk}: {q:?}");
        }
        assert!(!parse("\"").has_words());
        assert!(!parse("🙂 *").has_words());
        assert!(parse("after:yesterday").has_words());
        assert!(parse("AND (").has_words());
    }

    #[test]
    fn long_input_is_cut() {
        let q = parse(&"人工智能".repeat(1000));
        assert!(q.text.iter().map(|t| t.chars().count()).sum::<usize>() <= MAX_QUERY_CHARS);
    }

    #[test]
    fn traditional_is_folded() {
        assert_eq!(parse("臺灣").text, vec!["台湾"]);
    }

    #[test]
    fn keeps_what_the_user_wrote() {
        let q = parse("ＣＶＥ-2024-3400 \"臺灣 經濟\" source:x 朱守謙");
        assert_eq!(q.text, vec!["cve-2024-3400", "朱守谦"]);
        assert_eq!(q.text_written, vec!["ＣＶＥ-2024-3400", "朱守謙"]);
        assert_eq!(q.phrases, vec!["台湾 经济"]);
        assert_eq!(q.phrases_written, vec!["臺灣 經濟"]);
    }
}
