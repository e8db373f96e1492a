//! Escaping for Telegram's HTML parse mode: the one piece of HTML that the core below the
//! renderer needs (excerpts render their own highlights), kept here so that `search` does not
//! depend on `render`, which depends on `search`.

/// Escapes text for Telegram's HTML parse mode (and for attribute values).
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            // Whatever the text came from (a seed, a query): never shown to a reader.
            c if crate::text::is_hidden_control(c) => {}
            _ => out.push(c),
        }
    }
    out
}

/// Only http(s) links are put in `href`; anything else would be rejected or unsafe. The
/// reader keeps link targets by the same rule (`corpus::markup`).
pub fn safe_url(url: &str) -> Option<&str> {
    let url = url.trim();
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    (lower.starts_with("http://") || lower.starts_with("https://")).then_some(url)
}
