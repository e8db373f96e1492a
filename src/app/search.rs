//! Searching from the chat: a query's first page, the page buttons under it (their data and
//! the callbacks they send), inline mode, and `/latest`. Kept together because the page
//! buttons only make sense with the saved search session the first page created.

use chrono::{DateTime, Utc};

use super::read::{parse_read_data, read_buttons};
use super::texts::usage_hint;
use super::{App, Button, CallbackOutcome, ChatKind, InlineArticle, NOT_ALLOWED, Reply};
use crate::render::{self, escape_html};
use crate::search::{self, SearchError, SearchOptions, SearchResults, Sort};

const STALE_BUTTON: &str = "这个按钮已失效，请重新搜索。";
const GONE_ARTICLE: &str = "这篇文章已不在索引中（文件可能已被删除），请重新搜索。";

impl App {
    pub(super) fn search_reply(&self, chat_id: i64, query: &str, now: DateTime<Utc>) -> Reply {
        let per_page = self.settings.results_per_page;
        let opts = SearchOptions {
            limit: per_page,
            ..SearchOptions::default()
        };
        match search::search(&self.index, query, &opts) {
            Err(SearchError::NoWords) => Reply::text(usage_hint()),
            Err(e) => {
                tracing::error!("search failed: {e}");
                Reply::text("搜索出错了，请稍后再试。")
            }
            Ok(results) if results.total == 0 && !results.missing.is_empty() => {
                Reply::text(render::all_missing_reply(&results.missing))
            }
            Ok(results) if results.total == 0 => Reply::text(no_results_text(query)),
            Ok(results) => {
                let pages = results.total.div_ceil(per_page);
                // Only searches with more pages need a saved session behind their buttons.
                let saved = if pages > 1 {
                    match self
                        .store
                        .save_search(chat_id, query, Sort::Relevance, now.timestamp())
                    {
                        Ok(s) => Some(s),
                        Err(e) => {
                            tracing::error!("cannot save search session: {e}");
                            None
                        }
                    }
                } else {
                    None
                };
                let buttons = saved
                    .map(|s| page_buttons(s.id, s.nonce, 1, pages))
                    .unwrap_or_default();
                Reply {
                    html: render::results_page(query, &results, 1, pages),
                    buttons,
                    read_buttons: read_buttons(&results),
                    document: None,
                }
            }
        }
    }

    /// A page button was pressed. Its data is untrusted: anything malformed, unknown or
    /// forged gets the stale-button notice.
    pub fn handle_callback(&self, chat_id: i64, kind: ChatKind, data: &str) -> CallbackOutcome {
        if !self.settings.chat_allowed(chat_id) {
            return CallbackOutcome::Notice(NOT_ALLOWED.to_owned());
        }
        if let Some(seq) = parse_read_data(data) {
            return match self.full_text(&seq.to_string(), kind) {
                Some(replies) => CallbackOutcome::Send(replies),
                None => CallbackOutcome::Notice(GONE_ARTICLE.to_owned()),
            };
        }
        let Some((id, nonce, page)) = parse_page_data(data) else {
            return CallbackOutcome::Notice(STALE_BUTTON.to_owned());
        };
        let saved = match self.store.load_search(chat_id, id, nonce) {
            Ok(Some(s)) => s,
            Ok(None) => return CallbackOutcome::Notice(STALE_BUTTON.to_owned()),
            Err(e) => {
                tracing::error!("cannot load search session: {e}");
                return CallbackOutcome::Notice("出错了，请重新搜索。".to_owned());
            }
        };
        let per_page = self.settings.results_per_page;
        let sort = saved.sort;
        let run = |page: usize| {
            let opts = SearchOptions {
                limit: per_page,
                offset: (page - 1) * per_page,
                sort,
                ..SearchOptions::default()
            };
            search::search(&self.index, &saved.query, &opts)
        };
        let mut page = page.max(1);
        let mut results: SearchResults = match run(page) {
            Ok(r) => r,
            Err(_) => return CallbackOutcome::Notice(STALE_BUTTON.to_owned()),
        };
        let pages = results.total.div_ceil(per_page);
        if pages == 0 {
            return CallbackOutcome::Notice("这个搜索已经没有结果了。".to_owned());
        }
        if page > pages {
            // The index shrank since the search: show its last page.
            page = pages;
            results = match run(page) {
                Ok(r) => r,
                Err(_) => return CallbackOutcome::Notice(STALE_BUTTON.to_owned()),
            };
        }
        CallbackOutcome::Edit(Reply {
            html: render::results_page(&saved.query, &results, page, pages),
            buttons: page_buttons(saved.id, saved.nonce, page, pages),
            read_buttons: read_buttons(&results),
            document: None,
        })
    }

    /// Inline mode: up to 10 articles (the newest when the query is empty).
    pub fn handle_inline(&self, user_id: i64, query: &str) -> Vec<InlineArticle> {
        if !self.settings.chat_allowed(user_id) {
            return Vec::new();
        }
        let opts = SearchOptions {
            limit: 10,
            allow_empty: query.trim().is_empty(),
            ..SearchOptions::default()
        };
        let results = match search::search(&self.index, query, &opts) {
            Ok(r) => r,
            Err(_) => return Vec::new(),
        };
        if results.hits.is_empty() && !results.missing.is_empty() {
            return vec![missing_article(&results.missing)];
        }
        let note = render::missing_note_plain(&results);
        results
            .hits
            .iter()
            .map(|hit| {
                let meta = render::html_to_plain(&render::date_and_source(hit));
                let excerpt = hit.excerpt.shortened(80).plain();
                InlineArticle {
                    id: blake3::hash(hit.key.as_bytes()).to_hex()[..32].to_owned(),
                    title: if hit.title.trim().is_empty() {
                        "（无标题）".to_owned()
                    } else {
                        hit.title.chars().take(200).collect()
                    },
                    description: [note.clone().unwrap_or_default(), meta, excerpt]
                        .into_iter()
                        .filter(|s| !s.is_empty())
                        .collect::<Vec<_>>()
                        .join(" · "),
                    html: render::hit_block_unnumbered(hit, search::EXCERPT_CHARS * 2),
                    url: render::safe_url(&hit.url).unwrap_or_default().to_owned(),
                }
            })
            .collect()
    }

    pub(super) fn latest_reply(&self, args: &str) -> Vec<Reply> {
        let mut words = args.split_whitespace();
        let (count, rest) = match words.next().map(|w| w.parse::<usize>()) {
            Some(Ok(n)) => (n.clamp(1, 20), words.collect::<Vec<_>>().join(" ")),
            _ => (5, args.to_owned()),
        };
        let opts = SearchOptions {
            limit: count,
            sort: Sort::Date,
            allow_empty: true,
            ..SearchOptions::default()
        };
        match search::search(&self.index, &rest, &opts) {
            Ok(results) if !results.hits.is_empty() => {
                let blocks: Vec<String> = results
                    .hits
                    .iter()
                    .enumerate()
                    .map(|(i, h)| render::hit_block(i + 1, h, search::EXCERPT_CHARS))
                    .collect();
                let html = format!(
                    "🆕 <b>最新 {} 篇</b>（共 {} 篇）\n\n{}",
                    results.hits.len(),
                    results.total,
                    blocks.join("\n\n")
                );
                // Every article the header counts is shown: as many messages as it takes.
                render::split_message(&html, render::TELEGRAM_MAX_CHARS)
                    .into_iter()
                    .map(Reply::text)
                    .collect()
            }
            Ok(_) => vec![Reply::text("没有找到文章。")],
            Err(e) => {
                tracing::error!("latest failed: {e}");
                vec![Reply::text("出错了，请稍后再试。")]
            }
        }
    }
}

/// Inline mode's answer when no article has any of the terms: one article saying so.
fn missing_article(missing: &[String]) -> InlineArticle {
    let html = render::all_missing_reply(missing);
    let plain = render::html_to_plain(&html);
    let (title, hint) = plain.split_once('\n').unwrap_or((plain.as_str(), ""));
    InlineArticle {
        id: "missing".to_owned(),
        title: title.chars().take(200).collect(),
        description: hint.to_owned(),
        html,
        url: String::new(),
    }
}

/// `p:<search id>:<nonce>:<page>`: at most 40 bytes whatever the query.
fn page_data(id: i64, nonce: u32, page: usize) -> String {
    format!("p:{id}:{nonce}:{page}")
}

fn parse_page_data(data: &str) -> Option<(i64, u32, usize)> {
    let mut parts = data.strip_prefix("p:")?.split(':');
    let id = parts.next()?.parse().ok()?;
    let nonce = parts.next()?.parse().ok()?;
    let page: usize = parts.next()?.parse().ok()?;
    (parts.next().is_none() && (1..=10_000).contains(&page)).then_some((id, nonce, page))
}

fn page_buttons(id: i64, nonce: u32, page: usize, pages: usize) -> Vec<Button> {
    let mut buttons = Vec::new();
    if page > 1 {
        buttons.push(Button {
            label: "◀ 上一页".to_owned(),
            data: page_data(id, nonce, page - 1),
        });
    }
    if page < pages {
        buttons.push(Button {
            label: "下一页 ▶".to_owned(),
            data: page_data(id, nonce, page + 1),
        });
    }
    buttons
}

fn no_results_text(query: &str) -> String {
    let shown: String = query.chars().take(80).collect();
    format!(
        "没有找到与「{}」相关的文章。\n试试：换个说法或更少的词、去掉引号和 source:/after: 等条件，或发送 /latest 看看最新文章。",
        escape_html(shown.trim())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_data_is_short_and_strict() {
        let d = page_data(i64::MAX, u32::MAX, 10_000);
        assert!(d.len() <= 64);
        assert_eq!(parse_page_data(&d), Some((i64::MAX, u32::MAX, 10_000)));
        for forged in [
            "",
            "p:",
            "p:1:2",
            "p:1:2:0",
            "p:1:2:3:4",
            "p:a:b:c",
            "x:1:2:3",
            "p:1:2:99999999999999999999",
        ] {
            assert_eq!(parse_page_data(forged), None, "{forged}");
        }
    }
}
