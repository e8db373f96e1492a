//! The conversation, independent of any transport: a message, button press or inline query
//! in, replies out. Telegram (`bot`) and the terminal (`console`) are thin adapters over it.
//! Every method here may block (search, SQLite): call it off the async runtime's workers.

pub mod command;

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::alerts::{self, Added, Alerts};
use crate::config::{Settings, parse_time};
use crate::fulltext;
use crate::index::SearchIndex;
use crate::render::{self, escape_html};
use crate::search::{self, SearchError, SearchOptions, SearchResults, Sort};
use crate::shelf::{DOCUMENT_BUDGET, Shelf};
use crate::store::Store;
use crate::subscriptions::{Subscription, Subscriptions};
use command::Access;
pub use command::Command;

/// Where a message came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatKind {
    Private,
    Group,
}

/// A text message, as the adapters see it.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub chat_id: i64,
    pub kind: ChatKind,
    pub user_id: i64,
    pub text: String,
    /// Whether the sender administers the group (asked of Telegram by the adapter, and only
    /// for commands that need it; always true in private chats).
    pub sender_is_chat_admin: bool,
}

/// An inline keyboard button.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Button {
    pub label: String,
    pub data: String,
}

/// A message to send (or to put in place of an old one), in Telegram HTML.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reply {
    pub html: String,
    /// One row of buttons (may be empty): page buttons.
    pub buttons: Vec<Button>,
    /// A row above them: the `📄` full-text button of each result on the page.
    pub read_buttons: Vec<Button>,
    /// Sent as a file, with `html` as its caption.
    pub document: Option<Document>,
}

/// A file to send (a long article's full text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub file_name: String,
    /// Shared by every reply carrying the same text (see `shelf`).
    pub content: Arc<str>,
}

impl Reply {
    pub fn text(html: impl Into<String>) -> Reply {
        Reply {
            html: html.into(),
            ..Reply::default()
        }
    }
}

/// What a button press does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackOutcome {
    /// Replace the message the button belongs to.
    Edit(Reply),
    /// Only show a short notice.
    Notice(String),
    /// Send new messages (a full text), after answering the press.
    Send(Vec<Reply>),
}

/// One inline-mode result.
#[derive(Debug, Clone)]
pub struct InlineArticle {
    pub id: String,
    pub title: String,
    pub description: String,
    pub html: String,
    pub url: String,
}

/// Shared state of the conversation.
pub struct App {
    index: Arc<SearchIndex>,
    /// Search sessions behind page buttons.
    store: Arc<Store>,
    subscriptions: Arc<Subscriptions>,
    alerts: Arc<Alerts>,
    settings: Settings,
    seeds_dir: PathBuf,
    /// Known after getMe; commands addressed to other bots are ignored.
    bot_username: RwLock<String>,
    /// Long full texts on their way out, one copy each.
    shelf: Shelf,
}

const NOT_ALLOWED: &str = "抱歉，这个机器人只对授权的聊天开放。";
const ADMINS_ONLY: &str = "抱歉，这个命令只有机器人管理员可以使用。";
const GROUP_ADMINS_ONLY: &str = "只有群管理员可以修改本群的订阅。";
const STALE_BUTTON: &str = "这个按钮已失效，请重新搜索。";
const GONE_ARTICLE: &str = "这篇文章已不在索引中（文件可能已被删除），请重新搜索。";

impl App {
    pub fn new(
        index: Arc<SearchIndex>,
        store: Arc<Store>,
        settings: Settings,
        seeds_dir: PathBuf,
    ) -> App {
        let subscriptions = Arc::new(Subscriptions::new(
            store.clone(),
            index.clone(),
            settings.clone(),
        ));
        let alerts = Arc::new(Alerts::new(store.clone(), index.clone(), settings.clone()));
        App {
            index,
            store,
            subscriptions,
            alerts,
            settings,
            seeds_dir,
            bot_username: RwLock::new(String::new()),
            shelf: Shelf::new(DOCUMENT_BUDGET),
        }
    }

    /// The subscription service (the scheduler's, too).
    pub fn subscriptions(&self) -> Arc<Subscriptions> {
        self.subscriptions.clone()
    }

    /// The index the conversation searches (the rescan task syncs it).
    pub fn index(&self) -> Arc<SearchIndex> {
        self.index.clone()
    }

    /// The saved searches (the pusher's, too).
    pub fn alerts(&self) -> Arc<Alerts> {
        self.alerts.clone()
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn seeds_dir(&self) -> &std::path::Path {
        &self.seeds_dir
    }

    pub fn set_bot_username(&self, name: &str) {
        if let Ok(mut guard) = self.bot_username.write() {
            *guard = name.to_owned();
        }
    }

    fn bot_username(&self) -> String {
        self.bot_username
            .read()
            .map(|g| g.clone())
            .unwrap_or_default()
    }

    /// The command in `text`, if it is one for this bot.
    pub fn command_of(&self, text: &str) -> Option<Command> {
        command::parse(text, &self.bot_username())
    }

    /// Whether the adapter must ask Telegram if the sender administers the group.
    pub fn needs_chat_admin_check(&self, kind: ChatKind, text: &str) -> bool {
        kind == ChatKind::Group
            && self
                .command_of(text)
                .is_some_and(|c| c.changes_subscription())
    }

    /// Answers a text message. Groups get answers to commands only.
    pub fn handle_message(&self, msg: &Incoming, now: DateTime<Utc>) -> Vec<Reply> {
        let command = self.command_of(&msg.text);
        if msg.kind == ChatKind::Group && command.is_none() {
            return Vec::new();
        }
        // A revoked chat may still leave: /unsubscribe always works (for those who may
        // change the chat's subscription).
        let leaving = command.as_ref().is_some_and(Command::when_revoked);
        if !self.settings.chat_allowed(msg.chat_id) && !leaving {
            return vec![Reply::text(NOT_ALLOWED)];
        }
        fit_replies(self.answer(msg, command, now))
    }

    fn answer(&self, msg: &Incoming, command: Option<Command>, now: DateTime<Utc>) -> Vec<Reply> {
        let Some(command) = command else {
            return vec![self.search_reply(msg.chat_id, &msg.text, now)];
        };
        match command {
            Command::Unknown(_) if msg.kind == ChatKind::Group => Vec::new(),
            Command::Unknown(name) => vec![Reply::text(format!(
                "不认识的命令 /{}。发送 /help 查看可用命令。",
                escape_html(&echo(&name, 32))
            ))],
            Command::Known(spec, args) => match spec.access {
                Access::BotAdmins if !self.settings.is_admin(msg.user_id) => {
                    vec![Reply::text(ADMINS_ONLY)]
                }
                Access::ChatAdmins if !msg.sender_is_chat_admin => {
                    vec![Reply::text(GROUP_ADMINS_ONLY)]
                }
                _ => (spec.handler)(self, msg, &args, now),
            },
        }
    }

    // ---- search and pages ----

    fn search_reply(&self, chat_id: i64, query: &str, now: DateTime<Utc>) -> Reply {
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

    fn latest_reply(&self, args: &str) -> Vec<Reply> {
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

    // ---- alerts ----

    /// `/alert 关键词`: saves a search; new matching articles are pushed to the chat.
    fn alert_reply(&self, chat_id: i64, args: &str, now: DateTime<Utc>) -> Reply {
        if args.trim().is_empty() {
            return Reply::text(
                "用法：/alert 关键词（和 /search 的写法一样），例如 <code>/alert 人工智能 芯片</code>。\n有新文章符合时会立即推送。发送 /alerts 查看已保存的提醒。",
            );
        }
        match self.alerts.add(chat_id, args, now) {
            Ok(Added::Saved { number }) => Reply::text(format!(
                "🔔 已保存提醒 {number}：「{}」。\n之后收录的新文章中含任一关键词的会立即推送给你（已有的文章不推送）。发送 /alerts 查看，/unalert {number} 删除。",
                escape_html(&echo(args.trim(), 80))
            )),
            Ok(Added::Full { limit }) => Reply::text(format!(
                "每个聊天最多保存 {limit} 个提醒。先用 /alerts 查看，再用 /unalert 编号 删除不需要的。"
            )),
            Ok(Added::NoWords) => Reply::text(format!("提醒里没有可搜索的词。\n{}", usage_hint())),
            Err(e) => {
                tracing::error!("alert failed: {e}");
                Reply::text("保存失败，请稍后再试。")
            }
        }
    }

    fn alerts_reply(&self, chat_id: i64) -> Reply {
        match self.alerts.list(chat_id) {
            Ok(list) if list.is_empty() => Reply::text(
                "这个聊天还没有提醒。发送 /alert 关键词 保存一个，有新文章符合时立即推送。",
            ),
            Ok(list) => {
                let lines: Vec<String> = list
                    .iter()
                    .enumerate()
                    .map(|(i, a)| format!("{}. {}", i + 1, escape_html(&echo(&a.query, 80))))
                    .collect();
                Reply::text(format!(
                    "🔔 <b>提醒</b>（{} 个）\n{}\n\n删除：/unalert 编号",
                    list.len(),
                    lines.join("\n")
                ))
            }
            Err(e) => {
                tracing::error!("alerts failed: {e}");
                Reply::text("出错了，请稍后再试。")
            }
        }
    }

    fn unalert_reply(&self, chat_id: i64, args: &str) -> Reply {
        let Ok(number) = args.trim().parse::<usize>() else {
            return Reply::text("用法：/unalert 编号（/alerts 里的数字），例如 /unalert 1");
        };
        match self.alerts.remove(chat_id, number) {
            Ok(Some(alert)) => Reply::text(format!(
                "已删除提醒 {number}：「{}」。",
                escape_html(&echo(&alert.query, 80))
            )),
            Ok(None) => Reply::text(format!("没有编号为 {number} 的提醒。发送 /alerts 查看。")),
            Err(e) => {
                tracing::error!("unalert failed: {e}");
                Reply::text("操作失败，请稍后再试。")
            }
        }
    }

    /// Whether the chat has saved searches.
    pub fn has_alerts(&self, chat_id: i64) -> bool {
        self.alerts.list(chat_id).is_ok_and(|l| !l.is_empty())
    }

    /// Syncs the index with the seeds folder (what the bot's rescan task does); true when it
    /// changed.
    pub fn rescan(&self) -> bool {
        match self.index.sync(&self.seeds_dir, None) {
            Ok(report) => report.changed(),
            Err(e) => {
                tracing::error!("sync failed: {e}");
                false
            }
        }
    }

    /// What the alerts would push to `chat_id` now, recorded as sent: the console shows it
    /// after each line (there is no pusher without Telegram).
    pub fn push_alerts_here(&self, chat_id: i64, now: DateTime<Utc>) -> Vec<Reply> {
        let bundles = match self.alerts.pending(Some(chat_id)) {
            Ok(b) => b,
            Err(e) => {
                tracing::error!("alerts: {e}");
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        for bundle in bundles {
            out.extend(alerts::render(&bundle).into_iter().map(Reply::text));
            if let Err(e) = self.alerts.record(chat_id, &bundle, now) {
                tracing::error!("alerts: {e}");
            }
        }
        out
    }

    // ---- full text ----

    /// `/read 123`: the archived text of an article.
    fn read_replies(&self, args: &str, kind: ChatKind) -> Vec<Reply> {
        let reference = args.split_whitespace().next().unwrap_or_default();
        if reference.is_empty() {
            return vec![Reply::text(
                "用法：/read 编号，例如 <code>/read 123</code>。编号是搜索结果、/latest 和简报里每篇文章后的 #数字。",
            )];
        }
        match self.full_text(reference, kind) {
            Some(replies) => replies,
            None => vec![Reply::text(format!(
                "没有编号为「{}」的文章：它可能已从文件夹中删除。请重新搜索。",
                escape_html(&echo(reference, 32))
            ))],
        }
    }

    /// The replies that hand over an article's text; `None` when there is no such article.
    fn full_text(&self, reference: &str, kind: ChatKind) -> Option<Vec<Reply>> {
        let article = match fulltext::find(&self.index, reference) {
            Ok(found) => found?,
            Err(e) => {
                tracing::error!("full text lookup failed: {e}");
                return Some(vec![Reply::text("出错了，请稍后再试。")]);
            }
        };
        Some(match article.delivery(kind == ChatKind::Group) {
            fulltext::Delivery::Messages(messages) => {
                messages.into_iter().map(Reply::text).collect()
            }
            fulltext::Delivery::Document {
                file_name,
                content,
                caption,
            } => match self.shelf.share(content) {
                Some(content) => vec![Reply {
                    html: caption,
                    document: Some(Document { file_name, content }),
                    ..Reply::default()
                }],
                None => {
                    tracing::warn!(
                        "long texts waiting to be sent fill their budget; /read deferred"
                    );
                    vec![Reply::text(format!(
                        "很多人正在读长文，请一分钟后再试：<code>/read {}</code>",
                        article.seq
                    ))]
                }
            },
        })
    }

    // ---- admin ----

    fn stats_reply(&self) -> Reply {
        let info = self.index.commit_info();
        let tz = self.settings.default_tz;
        let last_sync = DateTime::from_timestamp(info.synced_at, 0)
            .filter(|_| info.synced_at > 0)
            .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_else(|| "—".to_owned());
        let subscribers = self.subscriptions.count().unwrap_or(0);
        let sources = crate::index::count_sources(&self.index.searcher());
        Reply::text(format!(
            "📊 <b>统计</b>\n文章：{}\n来源：{}\n索引大小：{:.1} MB\n上次同步：{} ({})\n订阅：{}",
            self.index.num_docs(),
            sources,
            self.index.size_on_disk() as f64 / 1_048_576.0,
            last_sync,
            escape_html(tz.name()),
            subscribers
        ))
    }

    fn reindex_reply(&self) -> Reply {
        match self.index.sync(&self.seeds_dir, None) {
            Ok(r) => {
                let mut text = format!(
                    "✅ 同步完成：新增 {}，更新 {}，删除 {}，未变 {}，跳过 {}；共 {} 篇，用时 {:.2} 秒。",
                    r.added,
                    r.updated,
                    r.deleted,
                    r.unchanged,
                    r.skipped.len(),
                    r.total,
                    r.elapsed.as_secs_f64()
                );
                for (key, reason) in r.skipped.iter().take(10) {
                    text.push_str(&format!(
                        "\n• {}：{}",
                        escape_html(key),
                        escape_html(&reason.to_string())
                    ));
                }
                Reply::text(text)
            }
            Err(e) => Reply::text(format!("同步失败：{}", escape_html(&e.to_string()))),
        }
    }

    // ---- subscriptions ----

    fn subscribe_reply(&self, chat_id: i64, args: &str, now: DateTime<Utc>) -> Reply {
        let mut parts = args.splitn(2, char::is_whitespace);
        let first = parts.next().unwrap_or_default();
        let (time, keywords) = match parse_time(first) {
            Some(t) => (Some(t), parts.next().unwrap_or_default().trim().to_owned()),
            None if first.contains(':') || first.contains('：') => {
                return Reply::text("时间格式不对，请用 HH:MM，例如 /subscribe 07:30");
            }
            None => (None, args.trim().to_owned()),
        };
        let keywords: String = keywords
            .chars()
            .take(search::query::MAX_QUERY_CHARS)
            .collect();
        if !keywords.is_empty() {
            let q = search::query::parse(&keywords);
            if !q.has_words() && !q.has_filters() {
                return Reply::text(format!("关键词里没有可搜索的词。\n{}", usage_hint()));
            }
        }
        match self.subscriptions.subscribe(chat_id, time, &keywords, now) {
            Ok(done) => {
                let verb = if done.updated {
                    "已更新订阅"
                } else {
                    "已订阅每日简报"
                };
                Reply::text(format!(
                    "✅ {verb}。\n{}",
                    self.describe_subscription(&done.subscription, now)
                ))
            }
            Err(e) => {
                tracing::error!("subscribe failed: {e}");
                Reply::text("订阅失败，请稍后再试。")
            }
        }
    }

    fn unsubscribe_reply(&self, chat_id: i64) -> Reply {
        match self.subscriptions.unsubscribe(chat_id) {
            Ok(true) => Reply::text("已取消订阅。想再订阅时发送 /subscribe。"),
            Ok(false) => Reply::text("这个聊天没有订阅。发送 /subscribe 订阅每日简报。"),
            Err(e) => {
                tracing::error!("unsubscribe failed: {e}");
                Reply::text("操作失败，请稍后再试。")
            }
        }
    }

    fn subscription_reply(&self, chat_id: i64, now: DateTime<Utc>) -> Reply {
        match self.subscriptions.get(chat_id) {
            Ok(Some(s)) if s.enabled => Reply::text(format!(
                "📬 <b>订阅设置</b>\n{}",
                self.describe_subscription(&s, now)
            )),
            Ok(Some(_)) => Reply::text("订阅因多次发送失败已暂停。发送 /subscribe 重新开启。"),
            Ok(None) => {
                Reply::text("这个聊天还没有订阅。发送 /subscribe [HH:MM] [关键词] 订阅每日简报。")
            }
            Err(e) => {
                tracing::error!("subscription lookup failed: {e}");
                Reply::text("出错了，请稍后再试。")
            }
        }
    }

    fn describe_subscription(&self, s: &Subscription, now: DateTime<Utc>) -> String {
        let next = self.subscriptions.next_due_of(s, now).with_timezone(&s.tz);
        let keywords = if s.keywords.is_empty() {
            "（全部文章）".to_owned()
        } else {
            escape_html(&s.keywords)
        };
        format!(
            "时间：每天 {}（{}）\n关键词：{}\n下次推送：{}",
            s.time.format("%H:%M"),
            escape_html(s.tz.name()),
            keywords,
            next.format("%Y-%m-%d %H:%M")
        )
    }

    fn timezone_reply(&self, chat_id: i64, name: &str, now: DateTime<Utc>) -> Reply {
        let name = name.trim();
        if name.is_empty() {
            return Reply::text(
                "用法：/timezone 时区名，例如 /timezone Asia/Shanghai 或 /timezone Europe/Berlin",
            );
        }
        let Ok(tz) = Tz::from_str_insensitive(name) else {
            let suggestions = suggest_timezones(name);
            let hint = if suggestions.is_empty() {
                "请使用 IANA 时区名，例如 Asia/Shanghai、Asia/Taipei、Europe/London、America/New_York。".to_owned()
            } else {
                format!(
                    "你是不是想找：{}",
                    suggestions
                        .iter()
                        .map(|s| format!("<code>{}</code>", escape_html(s)))
                        .collect::<Vec<_>>()
                        .join("、")
                )
            };
            return Reply::text(format!(
                "不认识的时区「{}」。{hint}",
                escape_html(&echo(name, 64))
            ));
        };
        match self.subscriptions.set_timezone(chat_id, tz) {
            Ok(true) => {
                let sub = self.subscriptions.get(chat_id).ok().flatten();
                let details = sub
                    .map(|s| self.describe_subscription(&s, now))
                    .unwrap_or_default();
                Reply::text(format!(
                    "✅ 时区已设为 {}。\n{details}",
                    escape_html(tz.name())
                ))
            }
            Ok(false) => Reply::text(format!(
                "✅ 时区已设为 {}。\n这个聊天还没有订阅：发送 /subscribe [HH:MM] 订阅后，简报按这个时区推送。",
                escape_html(tz.name())
            )),
            Err(e) => {
                tracing::error!("timezone update failed: {e}");
                Reply::text("操作失败，请稍后再试。")
            }
        }
    }

    /// `/digest`: what the next digest would hold, now; the schedule and cursor stay as they are.
    fn digest_now(&self, chat_id: i64, now: DateTime<Utc>) -> Vec<Reply> {
        match self.subscriptions.preview(chat_id, now) {
            Ok(composed) => composed.parts.into_iter().map(Reply::text).collect(),
            Err(e) => {
                tracing::error!("digest failed: {e}");
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

/// `r:<ingest number>`: the full text of one article. Not secret (the number is shown beside
/// every result) and stable across restarts, so it needs no saved session.
fn read_data(seq: u64) -> String {
    format!("r:{seq}")
}

fn parse_read_data(data: &str) -> Option<u64> {
    let digits = data.strip_prefix("r:")?;
    (!digits.is_empty() && digits.len() <= 20 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

/// `📄 1` … one full-text button per result on the page, numbered as the results are.
fn read_buttons(results: &SearchResults) -> Vec<Button> {
    results
        .hits
        .iter()
        .enumerate()
        .map(|(i, hit)| Button {
            label: format!("📄 {}", results.offset + i + 1),
            data: read_data(hit.seq),
        })
        .collect()
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

/// At most `max` characters of what the user typed, for quoting it back: a reply that echoes
/// a 4,000-character argument would pass Telegram's limit and never arrive.
fn echo(text: &str, max: usize) -> String {
    let mut chars = text.chars();
    let mut shown: String = chars.by_ref().take(max).collect();
    if chars.next().is_some() {
        shown.push('…');
    }
    shown
}

fn suggest_timezones(input: &str) -> Vec<&'static str> {
    let needle = input.to_ascii_lowercase().replace(' ', "_");
    let city = needle.rsplit('/').next().unwrap_or(&needle).to_owned();
    // The first three characters (not bytes: `ab上海` has no byte 3 boundary).
    let prefix: String = city.chars().take(3).collect();
    let mut found: Vec<&'static str> = chrono_tz::TZ_VARIANTS
        .iter()
        .map(|tz| tz.name())
        .filter(|name| {
            let lower = name.to_ascii_lowercase();
            lower.contains(&needle)
                || (prefix.chars().count() >= 3
                    && lower
                        .rsplit('/')
                        .next()
                        .is_some_and(|c| c.starts_with(&prefix)))
        })
        .collect();
    found.sort_by_key(|n| n.len());
    found.truncate(5);
    found
}

/// Every reply within Telegram's 4096 characters: one that is longer (whatever produced it)
/// is split at paragraph or sentence ends; its buttons go with the last part.
fn fit_replies(replies: Vec<Reply>) -> Vec<Reply> {
    let mut out = Vec::with_capacity(replies.len());
    for reply in replies {
        if render::visible_len(&reply.html) <= render::TELEGRAM_MAX_CHARS {
            out.push(reply);
            continue;
        }
        let mut parts = render::split_message(&reply.html, render::TELEGRAM_MAX_CHARS);
        let last = parts.pop();
        out.extend(parts.into_iter().map(Reply::text));
        if let Some(last) = last {
            out.push(Reply {
                html: last,
                ..reply
            });
        }
    }
    out
}

pub fn usage_hint() -> String {
    "请在命令后写上要搜索的词，例如：<code>/search 人工智能 治理</code>\n\
     也可以用：<code>\"完整短语\"</code>、<code>-排除词</code>、<code>source:来源</code>、<code>after:2024-07-01</code>、<code>before:2024-08-01</code>"
        .to_owned()
}

fn no_results_text(query: &str) -> String {
    let shown: String = query.chars().take(80).collect();
    format!(
        "没有找到与「{}」相关的文章。\n试试：换个说法或更少的词、去掉引号和 source:/after: 等条件，或发送 /latest 看看最新文章。",
        escape_html(shown.trim())
    )
}

fn start_text() -> String {
    "👋 我是<b>简报</b>：搜索收集的中文文章，并每天推送新文章简报。\n\n\
     直接发给我要找的词就能搜索，例如：<code>人工智能 治理</code>\n\
     订阅每日简报：/subscribe 08:00\n\
     全部命令和搜索语法：/help"
        .to_owned()
}

fn help_text() -> String {
    format!(
        "<b>命令</b>\n{}\n{}",
        escape_html(&command::help_lines()),
        SYNTAX_HELP
    )
}

/// The second half of `/help`.
const SYNTAX_HELP: &str = "<b>搜索语法</b>\n\
     <code>人工智能 治理</code> — 按相关度排序，匹配越多越靠前\n\
     <code>\"数字经济\"</code> — 必须包含完整短语\n\
     <code>芯片 -美国</code> — 排除包含某词的文章\n\
     <code>source:新闻联播</code> — 只看某个来源\n\
     <code>after:2024-07-01 before:2024-08-01</code> — 按日期筛选\n\
     繁体、全角字母和大小写都能搜到。\n\n\
     在任何聊天里输入 @机器人名 关键词 可以分享搜索结果。";

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

    #[test]
    fn read_data_is_short_and_strict() {
        assert_eq!(parse_read_data(&read_data(u64::MAX)), Some(u64::MAX));
        assert!(read_data(u64::MAX).len() <= 64);
        for forged in [
            "",
            "r:",
            "r:-1",
            "r:1a",
            "r: 1",
            "x:1",
            "r:99999999999999999999999",
        ] {
            assert_eq!(parse_read_data(forged), None, "{forged}");
        }
    }

    #[test]
    fn timezone_suggestions() {
        assert!(suggest_timezones("shanghai").contains(&"Asia/Shanghai"));
        assert!(suggest_timezones("Asia/Shangai").contains(&"Asia/Shanghai"));
    }

    #[test]
    fn timezone_suggestions_take_characters_not_bytes() {
        // Each of these panicked with "byte index 3 is not a char boundary".
        for input in ["ab上海", "aaé", "x/ab上", "上海", "é", "ééé"] {
            let _ = suggest_timezones(input);
        }
        assert!(suggest_timezones("shaé").contains(&"Asia/Shanghai"));
    }

    #[test]
    fn echoed_input_is_capped() {
        assert_eq!(echo("abc", 5), "abc");
        assert_eq!(echo("上海上海上海", 2), "上海…");
    }

    #[test]
    fn long_replies_are_split_and_keep_their_buttons() {
        let button = Button {
            label: "下一页 ▶".into(),
            data: "p:1:2:2".into(),
        };
        let long = Reply {
            html: format!("<b>标题</b>\n{}", "很长的一段话。".repeat(1500)),
            buttons: vec![button.clone()],
            ..Reply::default()
        };
        let parts = fit_replies(vec![long]);
        assert!(parts.len() > 1);
        for p in &parts {
            assert!(render::visible_len(&p.html) <= render::TELEGRAM_MAX_CHARS);
        }
        assert_eq!(parts.last().map(|p| p.buttons.clone()), Some(vec![button]));
        assert!(
            parts[..parts.len() - 1]
                .iter()
                .all(|p| p.buttons.is_empty())
        );
    }
}
