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
/// at the first line that is not `key: value`.
pub fn split(text: &str) -> (FrontMatter, &str) {
    let mut fm = FrontMatter::default();
    let Some(rest) = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---").filter(|r| r.trim().is_empty()))
    else {
        return (fm, text);
    };
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        let content = line.trim_end_matches('\n');
        if content.trim_end() == "---" || content.trim_end() == "..." {
            return (fm, &rest[offset + line.len()..]);
        }
        match parse_line(content) {
            Some((key, value)) => {
                fm.fields.insert(key, value);
            }
            None if content.trim().is_empty() => {}
            // Unclosed front matter: the body starts at the first line that is not a field.
            None => return (fm, &rest[offset..]),
        }
        offset += line.len();
    }
    (fm, "")
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
