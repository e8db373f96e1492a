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
