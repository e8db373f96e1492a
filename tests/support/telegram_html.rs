//! Telegram's HTML parse mode, as a checker: which texts Telegram accepts and how long
//! their visible text is.
//!
//! An oracle written apart from `jianbao::render` on purpose, from Telegram's documented
//! rules, so the tests do not judge the renderer by its own reading of HTML. Plain `std`,
//! no dependencies: the fake Bot API (`fake_api.rs`) rejects messages with it the way
//! Telegram does, the integration tests check every reply with it, and the fuzz crate
//! (`fuzz/src/lib.rs`) includes this same file by path.

/// Checks `text` against Telegram's HTML parse mode.
///
/// Returns the visible length (UTF-16 code units, tags removed, entities
/// decoded) or why Telegram would answer "can't parse entities". Does not
/// enforce the 4096 limit: the server does, so callers can measure too.
pub fn check_telegram_html(text: &str) -> Result<usize, String> {
    parse_telegram_html(text).map(|visible| visible.encode_utf16().count())
}

/// Tags Telegram accepts. Closing tags must repeat the opening name
/// (`<b>…</strong>` is an error there too).
const ALLOWED_TAGS: &[&str] = &[
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "blockquote",
    "tg-spoiler",
    "span",
];

/// Parses Telegram HTML into its visible text, in one pass with no recursion
/// so any input is cheap and cannot overflow the stack.
pub fn parse_telegram_html(text: &str) -> Result<String, String> {
    let mut visible = String::with_capacity(text.len());
    let mut open: Vec<String> = Vec::new();
    let mut i = 0;
    // `i` only ever stops on '<', '&' (ASCII) or right after a tag/entity,
    // so it is always on a char boundary.
    while i < text.len() {
        let rest = &text[i..];
        if rest.starts_with('<') {
            i = parse_tag(text, i, &mut open)?;
        } else if rest.starts_with('&') {
            let (ch, next) = parse_entity(text, i)?;
            visible.push(ch);
            i = next;
        } else {
            let run = rest.find(['<', '&']).unwrap_or(rest.len());
            visible.push_str(&rest[..run]);
            i += run;
        }
    }
    match open.last() {
        Some(tag) => Err(format!(
            "Can't find end tag corresponding to start tag \"{tag}\""
        )),
        None => Ok(visible),
    }
}

/// Parses the tag starting at byte `start` (a '<'), updating the stack of
/// open tags; returns the byte index after its '>'.
fn parse_tag(text: &str, start: usize, open: &mut Vec<String>) -> Result<usize, String> {
    let bytes = text.as_bytes();
    let mut i = start + 1;
    let closing = bytes.get(i) == Some(&b'/');
    if closing {
        i += 1;
    }
    let name_start = i;
    while bytes
        .get(i)
        .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'-')
    {
        i += 1;
    }
    let name = text[name_start..i].to_ascii_lowercase();
    let shown = shorten(&name);

    if closing {
        skip_spaces(bytes, &mut i);
        if bytes.get(i) != Some(&b'>') {
            return Err(format!("Unclosed end tag at byte offset {start}"));
        }
        return match open.pop() {
            Some(expected) if expected == name => Ok(i + 1),
            Some(expected) => Err(format!(
                "Unmatched end tag at byte offset {start}, expected \"</{expected}>\", found \
                 \"</{shown}>\""
            )),
            None => Err(format!(
                "Unexpected end tag \"</{shown}>\" at byte offset {start}"
            )),
        };
    }

    if !ALLOWED_TAGS.contains(&name.as_str()) {
        return Err(format!(
            "Unsupported start tag \"{shown}\" at byte offset {start}"
        ));
    }

    let mut attrs: Vec<(String, Option<String>)> = Vec::new();
    loop {
        let before_space = i;
        skip_spaces(bytes, &mut i);
        match bytes.get(i) {
            None => return Err(format!("Unclosed start tag at byte offset {start}")),
            Some(b'>') => {
                i += 1;
                break;
            }
            Some(_) if i == before_space => {
                return Err(format!(
                    "Expected whitespace or '>' in start tag \"{shown}\" at byte offset {i}"
                ));
            }
            Some(_) => {}
        }
        let attr_start = i;
        while bytes
            .get(i)
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
        {
            i += 1;
        }
        if i == attr_start {
            return Err(format!(
                "Invalid attribute syntax in start tag \"{shown}\" at byte offset {i}"
            ));
        }
        let attr = text[attr_start..i].to_ascii_lowercase();
        let mut j = i;
        skip_spaces(bytes, &mut j);
        let value = if bytes.get(j) == Some(&b'=') {
            j += 1;
            skip_spaces(bytes, &mut j);
            if bytes.get(j) != Some(&b'"') {
                return Err(format!(
                    "Attribute value of \"{}\" must be in double quotes at byte offset {j}",
                    shorten(&attr)
                ));
            }
            let value_start = j + 1;
            let Some(len) = text[value_start..].find('"') else {
                return Err(format!("Unclosed attribute value at byte offset {j}"));
            };
            i = value_start + len + 1;
            Some(decode_entities(text, value_start, value_start + len)?)
        } else {
            None
        };
        attrs.push((attr, value));
    }

    check_attributes(&name, &attrs, start)?;
    open.push(name);
    Ok(i)
}

/// Which attributes each tag takes: `a` needs `href`, `span` is only a
/// spoiler, `blockquote` may be `expandable`, `code` may name a language.
fn check_attributes(
    tag: &str,
    attrs: &[(String, Option<String>)],
    start: usize,
) -> Result<(), String> {
    let allowed: &[&str] = match tag {
        "a" => &["href"],
        "span" => &["class"],
        "blockquote" => &["expandable"],
        "code" => &["class"],
        _ => &[],
    };
    for (attr, _) in attrs {
        if !allowed.contains(&attr.as_str()) {
            return Err(format!(
                "Unsupported attribute \"{}\" in start tag \"{tag}\" at byte offset {start}",
                shorten(attr)
            ));
        }
    }
    let value_of = |name: &str| {
        attrs
            .iter()
            .find(|(a, _)| a == name)
            .and_then(|(_, v)| v.as_deref())
    };
    match tag {
        "a" if value_of("href").is_none() => Err(format!(
            "Tag \"a\" must have an href=\"…\" attribute at byte offset {start}"
        )),
        "span" if value_of("class") != Some("tg-spoiler") => Err(format!(
            "Tag \"span\" must have class=\"tg-spoiler\" at byte offset {start}"
        )),
        _ => Ok(()),
    }
}

/// Decodes `text[from..to]` (an attribute value): entities follow the same
/// rules as in the text.
fn decode_entities(text: &str, from: usize, to: usize) -> Result<String, String> {
    let mut out = String::with_capacity(to - from);
    let mut i = from;
    while i < to {
        let rest = &text[i..to];
        if rest.starts_with('&') {
            let (ch, next) = parse_entity(text, i)?;
            if next > to {
                return Err(format!("Unterminated character entity at byte offset {i}"));
            }
            out.push(ch);
            i = next;
        } else {
            let run = rest.find('&').unwrap_or(rest.len());
            out.push_str(&rest[..run]);
            i += run;
        }
    }
    Ok(out)
}

/// Parses the entity starting at byte `start` (an '&'); returns the decoded
/// character and the byte index after its ';'.
fn parse_entity(text: &str, start: usize) -> Result<(char, usize), String> {
    let bad = || {
        Err(format!(
            "'&' at byte offset {start} does not start an entity (&lt; &gt; &amp; &quot; &#N; \
             &#xH;); escape it as &amp;"
        ))
    };
    // The longest entity is "&#x10FFFF;" / "&#1114111;": look no further, so
    // a stray '&' in a long text costs nothing.
    let window = &text.as_bytes()[start + 1..];
    let Some(semi) = window.iter().take(10).position(|b| *b == b';') else {
        return bad();
    };
    // ';' is ASCII, so this slice ends on a char boundary.
    let name = &text[start + 1..start + 1 + semi];
    let next = start + 1 + semi + 1;
    let code = match name {
        "lt" => return Ok(('<', next)),
        "gt" => return Ok(('>', next)),
        "amp" => return Ok(('&', next)),
        "quot" => return Ok(('"', next)),
        _ => {
            let digits_hex = name
                .strip_prefix("#x")
                .or_else(|| name.strip_prefix("#X"))
                .map(|h| (h, 16));
            let digits_dec = name.strip_prefix('#').map(|d| (d, 10));
            match digits_hex.or(digits_dec) {
                Some((digits, radix))
                    if !digits.is_empty() && digits.chars().all(|c| c.is_digit(radix)) =>
                {
                    u32::from_str_radix(digits, radix).ok()
                }
                _ => return bad(),
            }
        }
    };
    match code.filter(|c| *c != 0).and_then(char::from_u32) {
        Some(ch) => Ok((ch, next)),
        None => Err(format!(
            "Invalid character reference &{name}; at byte offset {start}"
        )),
    }
}

fn skip_spaces(bytes: &[u8], i: &mut usize) {
    while bytes.get(*i).is_some_and(u8::is_ascii_whitespace) {
        *i += 1;
    }
}

/// Keeps error messages short when a "tag name" is a long run of text.
fn shorten(s: &str) -> String {
    if s.len() <= 32 {
        s.to_owned()
    } else {
        let cut = (0..=32).rev().find(|c| s.is_char_boundary(*c)).unwrap_or(0);
        format!("{}…", &s[..cut])
    }
}
