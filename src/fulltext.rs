//! The archived full text of an article: WeChat originals disappear (`该内容已被发布者删除`),
//! but the collection keeps the cleaned text, and the bot hands it over on request.
//!
//! An article is named by its ingest number (`/read 123`, shown as `#123` beside results;
//! stable across restarts and rebuilds, see `index::ledger`) or by its id (the file name).

use chrono::NaiveDate;
use tantivy::collector::TopDocs;
use tantivy::query::TermQuery;
use tantivy::schema::IndexRecordOption;
use tantivy::{TantivyDocument, Term};

use crate::corpus::markup::{Link, links_from_stored};
use crate::corpus::status::TextState;
use crate::index::{SearchIndex, Stored};
use crate::render::{self, TELEGRAM_MAX_CHARS, escape_html, linked_title};

/// Longer articles go as a document instead of messages: four messages of text are already
/// a wall in a chat (and four sends at 1 message/s); a file is one message, opens in any
/// reader and keeps the whole text. About 12,000 characters: 9 in 10 news articles and most
/// WeChat posts are shorter and arrive as messages.
pub const MAX_MESSAGES: usize = 3;

/// One archived article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FullText {
    pub seq: u64,
    pub id: String,
    pub title: String,
    pub source: String,
    pub url: String,
    pub date: Option<NaiveDate>,
    pub state: TextState,
    /// Cleaned lines separated by `\n`.
    pub body: String,
    /// The body's links (byte ranges of it), in order.
    pub links: Vec<Link>,
}

/// How the text is to be delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Messages in Telegram HTML, in order, each within the limit.
    Messages(Vec<String>),
    /// A Markdown file, with a short HTML caption.
    Document {
        file_name: String,
        content: String,
        caption: String,
    },
}

/// Finds an article by ingest number (`123`, `#123`) or by id.
pub fn find(index: &SearchIndex, reference: &str) -> tantivy::Result<Option<FullText>> {
    let reference = reference.trim().trim_start_matches('#');
    if reference.is_empty() {
        return Ok(None);
    }
    let f = index.fields();
    let term = match reference.parse::<u64>() {
        Ok(seq) => Term::from_field_u64(f.seq, seq),
        Err(_) => Term::from_field_text(f.id, reference),
    };
    let searcher = index.searcher();
    let query = TermQuery::new(term, IndexRecordOption::Basic);
    let Some((_, address)) = searcher
        .search(&query, &TopDocs::with_limit(1).order_by_score())?
        .into_iter()
        .next()
    else {
        return Ok(None);
    };
    let doc: TantivyDocument = searcher.doc(address)?;
    let stored = Stored::new(f, &doc);
    let body = stored.text(f.body);
    let links = links_from_stored(&stored.text(f.links), &body);
    Ok(Some(FullText {
        seq: stored.seq(),
        id: stored.text(f.id),
        title: stored.text(f.title),
        source: stored.text(f.source),
        url: stored.text(f.url),
        date: stored.date(),
        state: stored.state(),
        body,
        links,
    }))
}

impl FullText {
    /// Whether there is text to hand over (not a deleted, blocked or title-only page).
    pub fn has_text(&self) -> bool {
        self.state == TextState::Text && self.body.chars().any(char::is_alphanumeric)
    }

    /// `标题` (linked), then `2024-07-10 · 来源 · #123`.
    fn header_html(&self) -> String {
        let mut meta: Vec<String> = Vec::new();
        if let Some(d) = self.date {
            meta.push(d.format("%Y-%m-%d").to_string());
        }
        if !self.source.trim().is_empty() {
            meta.push(render::source_label(&self.source));
        }
        meta.push(format!("#{}", self.seq));
        format!(
            "📄 <b>{}</b>\n{}",
            linked_title(&self.title, &self.url),
            meta.join(" · ")
        )
    }

    /// The whole article as HTML messages: header, then the paragraphs, split between
    /// paragraphs (a paragraph longer than a message is cut at a sentence or line end).
    pub fn messages(&self) -> Vec<String> {
        if !self.has_text() {
            let marker = self.state.marker();
            let marker = if self.state == TextState::Text {
                "（仅标题，正文未收录）"
            } else {
                marker
            };
            return vec![format!(
                "{}\n\n{}\n这篇文章没有收录正文，只能打开原文链接。",
                self.header_html(),
                escape_html(marker)
            )];
        }
        let paragraphs: Vec<String> = self
            .lines()
            .map(|(line, links)| linked_line(line, links, LinkStyle::Html))
            .collect();
        let html = format!("{}\n\n{}", self.header_html(), paragraphs.join("\n\n"));
        render::split_message(&html, TELEGRAM_MAX_CHARS)
    }

    /// Messages when they are few, else a document; always a document in a group, so that
    /// one member's request is one message there.
    /// Builds only what is sent: a text too long for `MAX_MESSAGES` (more characters than they
    /// hold) goes as a document without its messages being built first.
    pub fn delivery(&self, in_group: bool) -> Delivery {
        if !self.has_text() {
            return Delivery::Messages(self.messages());
        }
        let may_fit = !in_group && self.body.chars().count() <= MAX_MESSAGES * TELEGRAM_MAX_CHARS;
        if may_fit {
            let messages = self.messages();
            if messages.len() <= MAX_MESSAGES {
                return Delivery::Messages(messages);
            }
        }
        Delivery::Document {
            file_name: self.file_name(),
            content: self.markdown(),
            caption: format!(
                "{}\n全文 {} 字，见附件。",
                self.header_html(),
                self.body.chars().filter(|c| !c.is_whitespace()).count()
            ),
        }
    }

    /// `123-标题.md`, without characters that file systems or Telegram clients dislike.
    pub fn file_name(&self) -> String {
        let title: String = self
            .title
            .chars()
            .filter(|c| !c.is_control() && !"/\\:*?\"<>|#%&{}$!'@+`=".contains(*c))
            .take(40)
            .collect();
        let title = title.trim();
        if title.is_empty() {
            format!("{}.md", self.seq)
        } else {
            format!("{}-{}.md", self.seq, title.replace(' ', "_"))
        }
    }

    /// The article as Markdown: title, date, source, link, then the paragraphs.
    pub fn markdown(&self) -> String {
        let mut out = format!("# {}\n\n", self.title.trim());
        if let Some(d) = self.date {
            out.push_str(&format!("- 日期：{}\n", d.format("%Y-%m-%d")));
        }
        if !self.source.trim().is_empty() {
            out.push_str(&format!("- 来源：{}\n", self.source.trim()));
        }
        if !self.url.trim().is_empty() {
            out.push_str(&format!("- 原文：{}\n", self.url.trim()));
        }
        out.push('\n');
        for (line, links) in self.lines() {
            out.push_str(&linked_line(line, links, LinkStyle::Markdown));
            out.push_str("\n\n");
        }
        out
    }

    /// The body's non-empty lines, each with its links (ranges relative to the line). The
    /// links are in order, so one pass over them serves all lines.
    fn lines(&self) -> impl Iterator<Item = (&str, Vec<Link>)> {
        let mut at = 0;
        let mut links = self.links.iter().peekable();
        self.body.split('\n').filter_map(move |line| {
            let (start, end) = (at, at + line.len());
            at = end + 1;
            let mut mine = Vec::new();
            while let Some(l) = links.next_if(|l| l.range.start < end + 1) {
                if l.range.start >= start && l.range.end <= end {
                    mine.push(Link {
                        range: l.range.start - start..l.range.end - start,
                        href: l.href.clone(),
                    });
                }
            }
            (!line.trim().is_empty()).then_some((line, mine))
        })
    }

    /// Plain text for a terminal (`jianbao show`).
    pub fn plain(&self) -> String {
        if !self.has_text() {
            return render::html_to_plain(&self.messages().join("\n\n"));
        }
        self.markdown()
    }
}

/// How a line's links are written.
#[derive(Clone, Copy)]
enum LinkStyle {
    /// Telegram HTML: `<a href="…">text</a>`, the rest escaped.
    Html,
    /// Markdown: `[text](url)`, a bare URL as `<url>`.
    Markdown,
}

/// A line with its links written in `style`.
fn linked_line(line: &str, links: Vec<Link>, style: LinkStyle) -> String {
    let mut out = String::with_capacity(line.len() + 32);
    let mut at = 0;
    let plain = |out: &mut String, text: &str| match style {
        LinkStyle::Html => out.push_str(&escape_html(text)),
        LinkStyle::Markdown => out.push_str(text),
    };
    for link in links {
        let (Some(before), Some(text)) =
            (line.get(at..link.range.start), line.get(link.range.clone()))
        else {
            continue;
        };
        plain(&mut out, before);
        match (style, render::safe_url(&link.href)) {
            (LinkStyle::Html, Some(url)) => out.push_str(&format!(
                "<a href=\"{}\">{}</a>",
                escape_html(url),
                escape_html(text)
            )),
            (LinkStyle::Markdown, Some(url)) if link.is_bare(line) => {
                out.push_str(&format!("<{}>", url.replace('>', "%3E")))
            }
            (LinkStyle::Markdown, Some(url)) => out.push_str(&format!(
                "[{}]({})",
                text.replace(']', "\\]"),
                url.replace(')', "%29")
            )),
            (_, None) => plain(&mut out, text),
        }
        at = link.range.end;
    }
    plain(&mut out, line.get(at..).unwrap_or(""));
    out.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn article(body: String) -> FullText {
        FullText {
            seq: 42,
            id: "a".into(),
            title: "标题 <T>".into(),
            source: "来源".into(),
            url: "https://example.com/a?x=1&y=2".into(),
            date: NaiveDate::from_ymd_opt(2024, 7, 10),
            state: TextState::Text,
            body,
            links: Vec::new(),
        }
    }

    #[test]
    fn links_are_links_in_messages_and_documents() {
        let mut a =
            article("官方补丁下载地址：\nhttps://a.b/p?x=1&y=2\n详见[公告]和 <正文>".into());
        let second = a.body.find("https").expect("url");
        let note = a.body.find("公告").expect("note");
        a.links = vec![
            Link {
                range: second..second + "https://a.b/p?x=1&y=2".len(),
                href: "https://a.b/p?x=1&y=2".into(),
            },
            Link {
                range: note..note + "公告".len(),
                href: "https://c.d/e".into(),
            },
        ];
        let html = a.messages().join("\n");
        assert!(html.contains("官方补丁下载地址：\n\n<a href=\"https://a.b/p?x=1&amp;y=2\">https://a.b/p?x=1&amp;y=2</a>"), "{html}");
        assert!(
            html.contains("详见[<a href=\"https://c.d/e\">公告</a>]和 &lt;正文&gt;"),
            "{html}"
        );
        let md = a.markdown();
        assert!(md.contains("<https://a.b/p?x=1&y=2>"), "{md}");
        assert!(md.contains("详见[[公告](https://c.d/e)]和 <正文>"), "{md}");
    }

    #[test]
    fn paragraphs_arrive_in_order_within_the_limit() {
        let body: Vec<String> = (0..400)
            .map(|i| format!("第{i}段：这是一段正文 <b>不是标签</b> & 符号。"))
            .collect();
        let a = article(body.join("\n"));
        let messages = a.messages();
        assert!(messages.len() > 1);
        let joined = messages.join("\n\n");
        let mut last = 0;
        for i in 0..400 {
            let at = joined.find(&format!("第{i}段：")).expect("every paragraph");
            assert!(at >= last, "paragraph {i} out of order");
            last = at;
        }
        for m in &messages {
            assert!(render::visible_len(m) <= TELEGRAM_MAX_CHARS);
            assert!(!m.contains("<b>不是标签</b>"));
        }
        assert!(matches!(a.delivery(false), Delivery::Document { .. }));
    }

    #[test]
    fn short_articles_are_messages_except_in_groups() {
        let a = article("一段。\n两段。".into());
        assert_eq!(a.delivery(false), Delivery::Messages(a.messages()));
        match a.delivery(true) {
            Delivery::Document {
                file_name, content, ..
            } => {
                assert!(file_name.starts_with("42-") && file_name.ends_with(".md"));
                assert!(content.contains("一段。\n\n两段。"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_page_without_text_says_so() {
        let mut a = article(String::new());
        a.state = TextState::Deleted;
        let m = a.messages();
        assert_eq!(m.len(), 1);
        assert!(m[0].contains("没有收录正文"), "{}", m[0]);
        assert_eq!(a.delivery(true), Delivery::Messages(m));
    }
}
