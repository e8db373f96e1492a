//! The first step of reading a body: markdown with embedded HTML, parsed by real parsers into
//! one document model, a list of [`Line`]s (a paragraph's line, a heading, a list item, a
//! table row, a quote, a line of code), each of inline text with its links.
//!
//! Scrapers write both markdown and HTML, often in one page: tables mostly as HTML, sometimes
//! as markdown pipe tables, paragraphs as markdown, links as either. The markdown is parsed by
//! pulldown-cmark (CommonMark with GFM tables), which passes the embedded HTML through; its
//! output is parsed once more by html5ever (through scraper), the HTML5 parser of browsers,
//! which decodes every entity and recovers from broken markup as a browser would. The walk
//! over that tree builds the lines, so the structure of the page decides where text breaks,
//! not a regular expression:
//! - a block (paragraph, heading, list item, quote, `<div>`), a `<br>` and a table row end a
//!   line; a markdown soft break too, because scrapers write one line of the page per line;
//! - table cells are joined by ` | ` (`漏洞编号 | QVD-2024-38841`): a cell boundary is a word
//!   boundary for every tokenizer, and the row still reads as a row;
//! - `<script>`, `<style>`, comments, images and hidden elements are dropped;
//! - links keep their text and their target; a bare URL in the text is found by its grammar
//!   (linkify, ASCII only: a CJK character or full-width punctuation ends it) and kept as
//!   text, with the text around it.

use std::ops::Range;
use std::sync::LazyLock;

use ego_tree::iter::Edge;
use pulldown_cmark::{Event, Options, Parser};
use scraper::{Html, Node};

/// What kind of block a line comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Paragraph,
    Heading,
    /// A list item; its text starts with `• ` or its number (`3. `).
    Item,
    /// A table row; cells joined by [`CELL_SEPARATOR`].
    Row,
    Quote,
    Code,
}

/// Between the cells of a table row.
pub const CELL_SEPARATOR: &str = " | ";

/// A link over part of a line's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Byte range of the link's text in the line (or the article body).
    pub range: Range<usize>,
    pub href: String,
}

impl Link {
    /// Whether the link's text is its address (a bare URL written in the text): that text is
    /// kept out of the indexed words (see `corpus::Article::indexed_body`).
    pub fn is_bare(&self, text: &str) -> bool {
        text.get(self.range.clone())
            .is_some_and(|t| t == self.href || t.starts_with("www.") && self.href.ends_with(t))
    }
}

/// One line of an article: what a reader sees as a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub kind: Kind,
    pub text: String,
    /// Sorted, non-overlapping, within `text`.
    pub links: Vec<Link>,
    /// The number of the block the line is in: the lines of one paragraph (soft or `<br>`
    /// breaks) share it, a blank line between two lines makes them differ.
    pub block: u32,
}

impl Line {
    pub fn new(kind: Kind, text: &str) -> Line {
        Line {
            kind,
            text: text.to_owned(),
            links: Vec::new(),
            block: 0,
        }
    }

    /// Keeps the first `at` bytes (a char boundary); links past it go, one across it is cut.
    pub fn truncate(&mut self, at: usize) {
        self.text.truncate(at);
        self.links.retain_mut(|l| {
            l.range.end = l.range.end.min(at);
            l.range.start < l.range.end
        });
    }

    /// Drops the first `at` bytes (a char boundary).
    pub fn drop_prefix(&mut self, at: usize) {
        self.text.drain(..at);
        self.links.retain_mut(|l| {
            l.range.start = l.range.start.saturating_sub(at);
            l.range.end = l.range.end.saturating_sub(at);
            l.range.start < l.range.end
        });
    }

    /// Whether the line is links to other pages and little else (a related-articles list):
    /// four fifths of its text is the text of links that are not bare URLs.
    pub fn is_only_links(&self) -> bool {
        let linked: usize = self
            .links
            .iter()
            .filter(|l| !l.is_bare(&self.text))
            .map(|l| l.range.len())
            .sum();
        linked > 0 && linked * 10 >= self.text.trim().len() * 8
    }

    /// Removes a byte range of the text (char boundaries); links on it go, later ones move.
    pub fn remove_range(&mut self, range: Range<usize>) {
        let len = range.len();
        self.text.replace_range(range.clone(), "");
        self.links
            .retain(|l| l.range.end <= range.start || l.range.start >= range.end);
        for l in &mut self.links {
            if l.range.start >= range.end {
                l.range = l.range.start - len..l.range.end - len;
            }
        }
    }

    /// Removes leading and trailing whitespace (links stay on their text).
    pub fn trim(&mut self) {
        let end = self.text.trim_end().len();
        self.truncate(end);
        let start = self.text.len() - self.text.trim_start().len();
        self.drop_prefix(start);
    }
}

impl AsRef<str> for Line {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

/// Links as the index stores them beside the body: `start\tend\thref` per line (byte
/// offsets in the body; a target never has whitespace, see [`usable_href`]).
pub fn links_to_stored(links: &[Link]) -> String {
    let mut out = String::new();
    for l in links {
        out.push_str(&format!("{}\t{}\t{}\n", l.range.start, l.range.end, l.href));
    }
    out
}

/// Inverse of [`links_to_stored`] for a body of `body_len` bytes: entries that do not parse,
/// fall outside the body or overlap an earlier one are left out.
pub fn links_from_stored(stored: &str, body: &str) -> Vec<Link> {
    let mut links: Vec<Link> = Vec::new();
    for entry in stored.lines() {
        let mut parts = entry.splitn(3, '\t');
        let (Some(start), Some(end), Some(href)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let (Ok(start), Ok(end)) = (start.parse::<usize>(), end.parse::<usize>()) else {
            continue;
        };
        let fits = start < end && body.get(start..end).is_some();
        let after_last = links.last().is_none_or(|l| l.range.end <= start);
        if fits && after_last && usable_href(href).is_some() {
            links.push(Link {
                range: start..end,
                href: href.to_owned(),
            });
        }
    }
    links
}

/// Elements whose content is never text: scripts, styles, embedded objects, forms' lists.
const DROPPED: &[&str] = &[
    "script", "style", "noscript", "template", "head", "title", "iframe", "object", "embed",
    "canvas", "svg", "math", "img", "video", "audio", "picture", "source", "input", "select",
    "textarea",
];

/// Elements that end a line (between cells of a table row: a space instead).
const BLOCKS: &[&str] = &[
    "p",
    "div",
    "section",
    "article",
    "header",
    "footer",
    "main",
    "aside",
    "nav",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "table",
    "thead",
    "tbody",
    "tfoot",
    "caption",
    "blockquote",
    "pre",
    "hr",
    "figure",
    "figcaption",
    "address",
    "details",
    "summary",
    "center",
    "form",
    "fieldset",
    "legend",
    "li",
    "tr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
];

/// Parses a markdown-ish body into lines (empty lines left out).
pub fn parse(body: &str) -> Vec<Line> {
    let html = markdown_to_html(body);
    let dom = Html::parse_fragment(&html);
    let mut walk = Walk::default();
    let mut skip_until: Option<ego_tree::NodeId> = None;
    for edge in dom.root_element().traverse() {
        match edge {
            Edge::Open(node) => {
                if skip_until.is_some() {
                    continue;
                }
                match node.value() {
                    Node::Text(text) => walk.text(text),
                    Node::Element(el) => {
                        if is_hidden(el) {
                            skip_until = Some(node.id());
                        } else {
                            walk.open(el);
                        }
                    }
                    _ => {}
                }
            }
            Edge::Close(node) => {
                if skip_until == Some(node.id()) {
                    skip_until = None;
                } else if skip_until.is_none()
                    && let Node::Element(el) = node.value()
                {
                    walk.close(el);
                }
            }
        }
    }
    walk.finish()
}

/// Markdown to HTML, with every soft break a `<br>`: a scraper's line is a line.
fn markdown_to_html(body: &str) -> String {
    let body = unindent(body);
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let events = Parser::new_ext(&body, options).map(|event| match event {
        Event::SoftBreak => Event::HardBreak,
        other => other,
    });
    let mut html = String::with_capacity(body.len() + body.len() / 4);
    pulldown_cmark::html::push_html(&mut html, events);
    html
}

/// The body with the indentation of its lines removed, outside fenced code: scrapers indent
/// prose (`    微信扫一扫`, a paragraph's first line), which CommonMark would read as an
/// indented code block, kept as written and out of reach of the cleaning rules. Code that
/// matters comes fenced (```` ``` ````) or as `<pre>`; nested lists become flat.
fn unindent(body: &str) -> std::borrow::Cow<'_, str> {
    if !body.contains("\n ") && !body.contains("\n\t") && !body.starts_with([' ', '\t']) {
        return std::borrow::Cow::Borrowed(body);
    }
    let mut out = String::with_capacity(body.len());
    let mut fence: Option<&str> = None;
    for line in body.split_inclusive('\n') {
        let trimmed = line.trim_start_matches([' ', '\t']);
        let marker = ["```", "~~~"].into_iter().find(|m| trimmed.starts_with(m));
        match (fence, marker) {
            (None, Some(m)) => fence = Some(m),
            (Some(f), Some(m)) if f == m => fence = None,
            _ => {}
        }
        out.push_str(if fence.is_some() && marker.is_none() {
            line
        } else {
            trimmed
        });
    }
    std::borrow::Cow::Owned(out)
}

/// Dropped elements, and elements a browser would not show.
fn is_hidden(el: &scraper::node::Element) -> bool {
    if DROPPED.contains(&el.name()) || el.attr("hidden").is_some() {
        return true;
    }
    if el.attr("aria-hidden") == Some("true") {
        return true;
    }
    el.attr("style").is_some_and(|style| {
        let style: String = style
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        style.contains("display:none") || style.contains("visibility:hidden")
    })
}

/// The state of the walk over the tree.
#[derive(Default)]
struct Walk {
    lines: Vec<Line>,
    /// The line being built.
    text: String,
    links: Vec<Link>,
    kind: Option<Kind>,
    /// Written before the line's first text (`• `, `3. `).
    prefix: Option<String>,
    /// Open links: where their text starts, and the target.
    open_links: Vec<(usize, Option<String>)>,
    /// The lists around the walk: `None` for a bulleted one, else the next number.
    lists: Vec<Option<u64>>,
    /// Depth of `<pre>` and of table cells.
    pre: u32,
    cells: u32,
    /// A cell with text ended: the next text of the row starts with [`CELL_SEPARATOR`].
    cell_ended: bool,
    quote: u32,
    /// The current block's number (see [`Line::block`]).
    block: u32,
}

impl Walk {
    fn open(&mut self, el: &scraper::node::Element) {
        let name = el.name();
        match name {
            "br" => self.soft_break(),
            "a" => {
                let href = el.attr("href").and_then(usable_href);
                self.open_links.push((self.text.len(), href));
            }
            "td" | "th" => {
                self.cells += 1;
            }
            "li" => {
                self.end_line();
                self.kind = Some(Kind::Item);
                self.prefix = Some(match self.lists.last_mut() {
                    Some(Some(n)) => {
                        *n += 1;
                        format!("{}. ", *n - 1)
                    }
                    _ => "• ".to_owned(),
                });
            }
            "ul" => {
                self.block();
                self.lists.push(None);
            }
            "ol" => {
                self.block();
                let start = el.attr("start").and_then(|s| s.trim().parse().ok());
                self.lists.push(Some(start.unwrap_or(1)));
            }
            "pre" => {
                self.block();
                self.pre += 1;
            }
            "blockquote" => {
                self.block();
                self.quote += 1;
            }
            "tr" => {
                self.end_line();
                self.kind = Some(Kind::Row);
                self.cell_ended = false;
            }
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                self.block();
                self.kind = Some(Kind::Heading);
            }
            _ if BLOCKS.contains(&name) => self.block(),
            _ => {}
        }
    }

    fn close(&mut self, el: &scraper::node::Element) {
        let name = el.name();
        match name {
            "a" => {
                if let Some((start, href)) = self.open_links.pop() {
                    self.add_link(start, href);
                }
            }
            "td" | "th" => {
                self.cells = self.cells.saturating_sub(1);
                if self.text.chars().any(|c| !c.is_whitespace()) {
                    self.cell_ended = true;
                }
            }
            "tr" => {
                self.end_line();
                self.cells = 0;
            }
            "ul" | "ol" => {
                self.block();
                self.lists.pop();
            }
            "pre" => {
                self.block();
                self.pre = self.pre.saturating_sub(1);
            }
            "blockquote" => {
                self.block();
                self.quote = self.quote.saturating_sub(1);
            }
            _ if BLOCKS.contains(&name) => self.block(),
            _ => {}
        }
    }

    /// A link over the text written since `start`, when it has text and a usable target.
    fn add_link(&mut self, start: usize, href: Option<String>) {
        let Some(href) = href else { return };
        let range = trim_range(&self.text, start..self.text.len());
        if range.is_empty() {
            return;
        }
        // A link inside a link (broken markup): the outer one is not recorded over it.
        if self.links.last().is_some_and(|l| l.range.end > range.start) {
            return;
        }
        self.links.push(Link { range, href });
    }

    fn text(&mut self, text: &str) {
        if self.pre > 0 {
            let mut first = true;
            for piece in text.split('\n') {
                if !first {
                    self.end_line_in_block();
                }
                first = false;
                self.kind.get_or_insert(Kind::Code);
                self.push(piece);
            }
            return;
        }
        // Whitespace (NBSP and U+3000 included) is one space, as a browser shows it.
        let leading = text.starts_with(char::is_whitespace);
        let trailing = text.ends_with(char::is_whitespace);
        let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if (leading || collapsed.is_empty()) && !self.text.is_empty() && !self.text.ends_with(' ') {
            self.text.push(' ');
        }
        if collapsed.is_empty() {
            return;
        }
        let collapsed = if collapsed.contains("**") {
            collapsed.replace("**", "")
        } else {
            collapsed
        };
        if self.cell_ended && self.cells > 0 {
            let trimmed = self.text.trim_end().len();
            self.text.truncate(trimmed);
            self.text.push_str(CELL_SEPARATOR);
            self.cell_ended = false;
            self.push(collapsed.trim_start());
        } else {
            self.push(&collapsed);
        }
        if trailing {
            self.text.push(' ');
        }
    }

    /// Appends text to the line, after its prefix if this is its first text.
    fn push(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        if self.text.trim().is_empty()
            && !text.trim().is_empty()
            && let Some(prefix) = self.prefix.take()
        {
            self.text.clear();
            self.text.push_str(&prefix);
            for (start, _) in &mut self.open_links {
                *start = self.text.len();
            }
        }
        self.text.push_str(text);
    }

    /// A `<br>`: a new line, except inside a table cell (a space there).
    fn soft_break(&mut self) {
        if self.cells > 0 {
            if !self.text.ends_with(' ') {
                self.text.push(' ');
            }
        } else if self.pre > 0 {
            self.end_line_in_block();
            self.kind = Some(Kind::Code);
        } else {
            let kind = self.kind;
            self.end_line_in_block();
            // The lines of one heading or item stay of its kind.
            self.kind = kind.filter(|k| !matches!(k, Kind::Row));
            if self.kind == Some(Kind::Item) {
                self.prefix = None;
            }
        }
    }

    /// The boundary of a block: a new line, except inside a table cell.
    fn block(&mut self) {
        if self.cells > 0 {
            if !self.text.is_empty() && !self.text.ends_with(' ') {
                self.text.push(' ');
            }
        } else {
            self.end_line();
        }
    }

    /// Finishes the line being built (nothing when it has no text), and its block.
    fn end_line(&mut self) {
        self.end_line_in_block();
        self.block += 1;
    }

    /// Finishes the line being built; the next one is in the same block.
    fn end_line_in_block(&mut self) {
        // Links still open (a line break inside a link) cover what they have so far.
        let open: Vec<(usize, Option<String>)> = self.open_links.clone();
        for (start, href) in open {
            self.add_link(start, href);
        }
        for (start, _) in &mut self.open_links {
            *start = 0;
        }
        let kind = self.kind.take().unwrap_or(if self.quote > 0 {
            Kind::Quote
        } else {
            Kind::Paragraph
        });
        self.prefix = None;
        self.cell_ended = false;
        let mut line = Line {
            kind,
            text: std::mem::take(&mut self.text),
            links: std::mem::take(&mut self.links),
            block: self.block,
        };
        // Images are never text, not even in code (the reader's promise: no `![…](…)` left).
        remove_literal_images(&mut line);
        if kind != Kind::Code {
            find_bare_urls(&mut line);
            line.trim();
        } else {
            let end = line.text.trim_end().len();
            line.truncate(end);
        }
        if !line.text.trim().is_empty() {
            self.lines.push(line);
        }
    }

    fn finish(mut self) -> Vec<Line> {
        self.end_line();
        self.lines
    }
}

/// `![alt](src)` that the parsers read as text (inside an HTML block, or put together from
/// pieces around a tag: `![a]<i></i>(b)`): an image all the same, never article text. Removed
/// until none is left (removing one can join another; each pass shortens the line).
fn remove_literal_images(line: &mut Line) {
    // An image, or a link without text (`[](https://…)`, a picture's link, also cut short by
    // the scraper without its `)`).
    static IMAGE: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(r"!\[[^\]]*\]\([^)]*\)|\[\]\([^)\s]*\)?").expect("valid regex")
    });
    if !line.text.contains("![") && !line.text.contains("[](") {
        return;
    }
    while let Some(m) = IMAGE.find(&line.text) {
        line.remove_range(m.range());
    }
}

/// `range` without the whitespace at its ends.
fn trim_range(text: &str, range: Range<usize>) -> Range<usize> {
    let piece = &text[range.clone()];
    let start = range.start + (piece.len() - piece.trim_start().len());
    let end = range.start + piece.trim_end().len();
    start..end.max(start)
}

/// A link target worth keeping: a web address, by the rule replies use (not `mailto:` or
/// `javascript:`, not a page anchor, not a path relative to a page we do not have).
fn usable_href(href: &str) -> Option<String> {
    crate::html::safe_url(href)
        .filter(|url| !url.chars().any(char::is_whitespace))
        .map(str::to_owned)
}

static FINDER: LazyLock<linkify::LinkFinder> = LazyLock::new(|| {
    let mut finder = linkify::LinkFinder::new();
    finder
        .kinds(&[linkify::LinkKind::Url])
        .url_must_have_scheme(false)
        .url_can_be_iri(false);
    finder
});

/// Records the bare URLs of a line's text (outside its links) as links to themselves: with a
/// scheme (`https://…`), or a host starting with `www.`. Without one, `example.com` or
/// `config.php` are as likely file names as addresses.
fn find_bare_urls(line: &mut Line) {
    if !line.text.contains("http") && !line.text.contains("www.") {
        return;
    }
    let mut found = Vec::new();
    for link in FINDER.links(&line.text) {
        let start = link.start();
        // linkify reads on over non-ASCII in a path (`…/a-tale/中在解密…`); an address in
        // Chinese text ends at its first non-ASCII character, then loses trailing punctuation.
        let url = link.as_str();
        let url = &url[..url.find(|c: char| !c.is_ascii()).unwrap_or(url.len())];
        let url = url.trim_end_matches(['.', ',', ';', ':', '!', '?', '\'', '"']);
        let url = if url.ends_with(')') && url.matches('(').count() < url.matches(')').count() {
            &url[..url.len() - 1]
        } else {
            url
        };
        let end = start + url.len();
        if !url.contains('.') {
            continue;
        }
        let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
        let has_scheme = lower.starts_with("http://") || lower.starts_with("https://");
        if !has_scheme && !lower.starts_with("www.") {
            continue;
        }
        if line
            .links
            .iter()
            .any(|l| l.range.start < end && start < l.range.end)
        {
            continue;
        }
        let href = if has_scheme {
            url.to_owned()
        } else {
            format!("http://{url}")
        };
        found.push(Link {
            range: start..end,
            href,
        });
    }
    if !found.is_empty() {
        line.links.extend(found);
        line.links.sort_by_key(|l| l.range.start);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(body: &str) -> Vec<String> {
        parse(body).into_iter().map(|l| l.text).collect()
    }

    #[test]
    fn html_table_cells_stay_apart() {
        let body = "<table><tbody><tr><td>漏洞编号</td><td>QVD-2024-38841,CVE-2024-43102</td></tr>\
                    <tr><th>CNNVD-202203-1821</th><td><span>CVE-2022-1011</span></td><td>高危</td></tr>\
                    <tr><td></td><td>a&nbsp;&amp;&#x4E2D;<br>b</td></tr></tbody></table>";
        let lines = parse(body);
        let t: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(
            t,
            [
                "漏洞编号 | QVD-2024-38841,CVE-2024-43102",
                "CNNVD-202203-1821 | CVE-2022-1011 | 高危",
                "a &中 b"
            ]
        );
        assert!(lines.iter().all(|l| l.kind == Kind::Row));
    }

    #[test]
    fn markdown_pipe_tables_and_lists() {
        let body =
            "| 组件 | 影响版本 |\n| --- | --- |\n| nginx | < 1.2 |\n\n- 一\n- 二\n\n3. 三\n4. 四";
        assert_eq!(
            texts(body),
            [
                "组件 | 影响版本",
                "nginx | < 1.2",
                "• 一",
                "• 二",
                "3. 三",
                "4. 四"
            ]
        );
    }

    #[test]
    fn bare_urls_end_where_urls_end() {
        let lines = parse(
            "对http://www.a.com进行端口扫描之类的攻击行为已经没用了。\nPOC可以在https://github.com/xpn/WAMBam上找到。",
        );
        assert_eq!(
            lines[0].text,
            "对http://www.a.com进行端口扫描之类的攻击行为已经没用了。"
        );
        assert_eq!(lines[0].links[0].href, "http://www.a.com");
        assert!(lines[0].links[0].is_bare(&lines[0].text));
        assert_eq!(lines[1].links[0].href, "https://github.com/xpn/WAMBam");
        let lines = parse("见 (https://a.com/x_(y)). 和 https://b.com/z，完");
        let hrefs: Vec<&str> = lines[0].links.iter().map(|l| l.href.as_str()).collect();
        assert_eq!(hrefs, ["https://a.com/x_(y)", "https://b.com/z"]);
        let lines = parse("代码修正了https://www.shielder.com/a-tale/中在解密MasterKey时的Bug");
        assert_eq!(lines[0].links[0].href, "https://www.shielder.com/a-tale/");
    }

    #[test]
    fn links_keep_text_and_target_images_go() {
        let lines = parse(
            "见[这里](http://x.y/z)和<a href=\"https://a.b/c\">正文</a>![cover](http://i/j.png)<img src=x>",
        );
        assert_eq!(lines.len(), 1);
        let l = &lines[0];
        assert_eq!(l.text, "见这里和正文");
        assert_eq!(&l.text[l.links[0].range.clone()], "这里");
        assert_eq!(l.links[0].href, "http://x.y/z");
        assert_eq!(&l.text[l.links[1].range.clone()], "正文");
        assert!(!l.links[1].is_bare(&l.text));
    }

    #[test]
    fn soft_breaks_blocks_and_hidden_content() {
        assert_eq!(
            texts("微信扫一扫\n关注该公众号"),
            ["微信扫一扫", "关注该公众号"]
        );
        assert_eq!(
            texts(
                "<div>一<script>x()</script><style>p{}</style><!-- c --><span style=\"display: none\">藏</span>二</div><p>三</p>"
            ),
            ["一二", "三"]
        );
        assert_eq!(texts("## **小标题**"), ["小标题"]);
        assert_eq!(parse("## 小标题")[0].kind, Kind::Heading);
        assert_eq!(texts("*2024-05-06 10:00*"), ["2024-05-06 10:00"]);
        assert_eq!(texts("A &amp; B &lt;c&gt;"), ["A & B <c>"]);
        assert_eq!(
            texts("| |\n| --- |\n| ****声明：****文章 |"),
            ["声明：文章"]
        );
    }

    #[test]
    fn indented_prose_is_prose() {
        let lines = parse("    微信扫一扫\n\n\t正文第一段。\n\n```\n    indented code\n```");
        let t: Vec<(&str, Kind)> = lines.iter().map(|l| (l.text.as_str(), l.kind)).collect();
        assert_eq!(
            t,
            [
                ("微信扫一扫", Kind::Paragraph),
                ("正文第一段。", Kind::Paragraph),
                ("    indented code", Kind::Code)
            ]
        );
    }

    #[test]
    fn code_keeps_its_lines() {
        let lines = parse("```\nif a {\n    <b>x</b>\n}\n```");
        let t: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(t, ["if a {", "    <b>x</b>", "}"]);
        assert!(lines.iter().all(|l| l.kind == Kind::Code));
    }

    #[test]
    fn hostile_input_does_not_panic() {
        for s in [
            "](",
            "![",
            "<",
            "<<>>",
            "[]()",
            "![](",
            "&",
            "http://",
            "#####",
            "\u{0}",
            "<a href=",
            "<a href='http://x'><a href='http://y'>t</a></a>",
            "<table><td>a<table><td>b",
            "<li><li>",
            "<ol start=-5><li>x",
            "[a](http://x\n\ny)",
        ] {
            let _ = parse(s);
        }
        let deep = "<div>".repeat(20_000) + "x";
        assert_eq!(texts(&deep), ["x"]);
    }
}
