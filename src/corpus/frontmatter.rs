//! The `---` front matter of seed files. Real files are not strict YAML: values contain `: `
//! and `|`, may be quoted, may be missing, and the closing `---` is sometimes lost.

use std::collections::HashMap;

/// Front matter fields and the body that follows them.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FrontMatter {
    pub fields: HashMap<String, String>,
}

impl FrontMatter {
    /// A non-empty field value.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// Splits normalized text (LF line ends, no BOM) into front matter and body.
/// Without an opening `---` everything is body. Without a closing `---` the front matter ends
/// at the first line that is not `key: value`. With one, a line that is not a field continues
/// the previous field's value: scrapers write a title with line breaks as it is (11 of 829
/// WeChat pages), and the rest of its front matter must still count.
pub fn split(text: &str) -> (FrontMatter, &str) {
    let mut fm = FrontMatter::default();
    let Some(rest) = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---").filter(|r| r.trim().is_empty()))
    else {
        return (fm, text);
    };
    let closed = rest
        .lines()
        .take(MAX_FRONT_MATTER_LINES)
        .any(|l| is_closing(l.trim_end()));
    let mut last_key: Option<String> = None;
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        let content = line.trim_end_matches('\n');
        if is_closing(content.trim_end()) {
            return (fm, &rest[offset + line.len()..]);
        }
        match parse_line(content) {
            Some((key, value)) => {
                fm.fields.insert(key.clone(), value);
                last_key = Some(key);
            }
            None if content.trim().is_empty() => {}
            None if closed && last_key.is_some() => {
                if let Some(value) = last_key.as_ref().and_then(|k| fm.fields.get_mut(k)) {
                    value.push('\n');
                    value.push_str(content.trim());
                }
            }
            // Unclosed front matter: the body starts at the first line that is not a field.
            None => return (fm, &rest[offset..]),
        }
        offset += line.len();
    }
    (fm, "")
}

/// A closing `---` further down than this is a rule in the body, not the end of a front
/// matter.
const MAX_FRONT_MATTER_LINES: usize = 40;

fn is_closing(line: &str) -> bool {
    line == "---" || line == "..."
}

/// `key: value`, key made of ASCII letters, digits, `_` or `-`.
fn parse_line(line: &str) -> Option<(String, String)> {
    let (key, value) = line.split_once(':')?;
    let key = key.trim();
    if key.is_empty()
        || !key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return None;
    }
    // `https://…` on a line of its own (inside a title over several lines) is not a field.
    if value.starts_with("//") {
        return None;
    }
    Some((key.to_ascii_lowercase(), unquote(value.trim())))
}

/// Removes YAML-style quotes: `"..."` with backslash escapes, `'...'` with `''` for a quote.
fn unquote(value: &str) -> String {
    let quoted = |q: char| value.len() >= 2 && value.starts_with(q) && value.ends_with(q);
    if quoted('"') {
        let inner = &value[1..value.len() - 1];
        let mut out = String::with_capacity(inner.len());
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            }
        }
        out
    } else if quoted('\'') {
        value[1..value.len() - 1].replace("''", "'")
    } else {
        value.to_owned()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_title_with_line_breaks_keeps_the_rest_of_the_front_matter() {
        let text = "---\ntitle: 昨天操作失误。\n重新给大家发一下。\n\nPS：新年快乐！\nhttps://d3fense.tech\nurl: https://a.b/c\nsource: 汉客儿\ndate: 2023-01-23\n---\n正文";
        let (fm, body) = split(text);
        assert_eq!(
            fm.get("title"),
            Some("昨天操作失误。\n重新给大家发一下。\nPS：新年快乐！\nhttps://d3fense.tech")
        );
        assert_eq!(fm.get("source"), Some("汉客儿"));
        assert_eq!(fm.get("date"), Some("2023-01-23"));
        assert_eq!(body, "正文");
        // Unclosed: the body starts at the first line that is not a field, as before.
        let (fm, body) = split("---\ntitle: 标题\n正文第一段\n---\n");
        assert_eq!(fm.get("title"), Some("标题\n正文第一段"));
        assert_eq!(body, "");
        let (fm, body) = split("---\ntitle: 标题\n正文第一段\n");
        assert_eq!(fm.get("title"), Some("标题"));
        assert_eq!(body, "正文第一段\n");
    }

    use super::*;

    #[test]
    fn reads_fields_and_body() {
        let (fm, body) = split(
            "---\ntitle: 专家观点 | AI: 两翼\nurl: https://a.b/c?x=1\ndate: 2024-07-10\n---\n\n正文",
        );
        assert_eq!(fm.get("title"), Some("专家观点 | AI: 两翼"));
        assert_eq!(fm.get("url"), Some("https://a.b/c?x=1"));
        assert_eq!(body, "\n正文");
    }

    #[test]
    fn quotes_and_escapes() {
        let (fm, _) = split("---\ntitle: \"他说：\\\"好\\\"\"\nsource: '人民''日报'\nurl:\n---\n");
        assert_eq!(fm.get("title"), Some("他说：\"好\""));
        assert_eq!(fm.get("source"), Some("人民'日报"));
        assert_eq!(fm.get("url"), None);
    }

    #[test]
    fn unclosed_front_matter_is_read_as_far_as_it_goes() {
        let (fm, body) = split("---\ntitle: 标题\nsource: 来源\n# 标题\n正文第一段");
        assert_eq!(fm.get("source"), Some("来源"));
        assert_eq!(body, "# 标题\n正文第一段");
    }

    #[test]
    fn no_front_matter() {
        let (fm, body) = split("# 标题\n正文");
        assert!(fm.fields.is_empty());
        assert_eq!(body, "# 标题\n正文");
        let (_, body) = split("----- 分隔线 -----\n正文");
        assert!(body.starts_with("-----"));
    }
}
