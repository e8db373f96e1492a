//! The conversation, independent of any transport: a message, button press or inline query
//! in, replies out. Telegram (`bot`) and the terminal (`console`) are thin adapters over it.
//! Every method here may block (search, SQLite): call it off the async runtime's workers.
//!
//! This file holds the types the adapters see, the `App` itself and the dispatch of a message
//! to its command; each concern's replies live in their own file, as more `impl App` blocks.

mod admin;
mod alerts;
pub mod command;
mod read;
mod search;
mod subscriptions;
mod texts;

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};

use crate::alerts::Alerts;
use crate::config::Settings;
use crate::index::SearchIndex;
use crate::render::escape_html;
use crate::shelf::{DOCUMENT_BUDGET, Shelf};
use crate::store::Store;
use crate::subscriptions::Subscriptions;
use command::Access;
pub use command::Command;
pub use texts::usage_hint;
use texts::{echo, fit_replies};

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
}
