//! Sending to Telegram within its flood limits, and surviving its errors.
//!
//! Limits (about 1 message/s per chat, 20/min per group, 30/s overall) are enforced with
//! keyed token buckets that let a request go at once when there is room and wait only when
//! there is not; teloxide's `Throttle` adds ~250 ms to every message instead. 429 answers
//! are waited out and retried, so a message is delivered exactly once; a 5xx answer gets one
//! more try; a timeout is never retried (the message may have arrived).

use std::num::NonZeroU32;
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use teloxide::prelude::*;
use teloxide::types::{
    InlineKeyboardButton, InlineKeyboardMarkup, InputFile, LinkPreviewOptions, MessageId, ParseMode,
};
use teloxide::{ApiError, RequestError};

use super::pacer::{Pacer, Priority};
use crate::app::{Document, Reply};
use crate::config::redact;
use crate::render::html_to_plain;
use crate::service::metrics::metrics;
use crate::shelf::DocumentBytes;

pub use crate::scheduler::Delivery;

const MAX_RETRY_AFTER: u32 = 5;
/// A flood wait longer than this is not waited out by a send: a reply that late is no answer,
/// and a digest send fails and is retried by the scheduler (in minutes) instead of holding a
/// delivery task and its chat's queue for as long as Telegram asks.
const MAX_RETRY_WAIT: Duration = Duration::from_secs(60);
// teloxide itself waits 10 s before reporting a 5xx, so one more try is plenty.
const MAX_SERVER_RETRIES: u32 = 1;

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

pub struct Outbox {
    bot: Bot,
    token: String,
    global: Pacer,
    private_chats: DefaultKeyedRateLimiter<i64>,
    groups: DefaultKeyedRateLimiter<i64>,
}

impl Outbox {
    pub fn new(bot: Bot, token: String) -> Outbox {
        Self::with_limits(bot, token, 30)
    }

    /// `global_per_sec`: the overall limit (30 for Telegram).
    pub fn with_limits(bot: Bot, token: String, global_per_sec: u32) -> Outbox {
        let private = Quota::with_period(Duration::from_secs(1))
            .map_or(Quota::per_second(nz(1)), |q| q.allow_burst(nz(3)));
        let group = Quota::with_period(Duration::from_secs(3))
            .map_or(Quota::per_minute(nz(20)), |q| q.allow_burst(nz(3)));
        Outbox {
            bot,
            token,
            // Rate r with burst 2 puts at most r + 2 sends into any second: stay at or under the
            // limit while letting two replies that arrive together both go at once.
            global: Pacer::new(global_per_sec.saturating_sub(2).max(1), 2),
            private_chats: RateLimiter::keyed(private),
            groups: RateLimiter::keyed(group),
        }
    }

    pub fn bot(&self) -> &Bot {
        &self.bot
    }

    /// Waits until this chat, and the bot as a whole, may send one more message.
    async fn wait_turn(&self, chat_id: i64, priority: Priority) {
        if chat_id < 0 {
            self.groups.until_key_ready(&chat_id).await;
        } else {
            self.private_chats.until_key_ready(&chat_id).await;
        }
        self.global.acquire(priority, chat_id).await;
    }

    /// The bot is stopping: sends already waiting (digests among them) go in order of arrival,
    /// no longer replies first, so they finish and are recorded before the exit.
    pub fn stopping(&self) {
        self.global.stopping();
    }

    /// Forgets the buckets of chats that have been quiet (keeps memory flat).
    pub fn prune(&self) {
        self.private_chats.retain_recent();
        self.groups.retain_recent();
    }

    /// A reply to a user: goes before digest traffic.
    pub async fn send(&self, chat_id: i64, reply: &Reply) -> Delivery {
        self.send_with(chat_id, reply, Priority::Interactive).await
    }

    pub async fn send_with(&self, chat_id: i64, reply: &Reply, priority: Priority) -> Delivery {
        match self
            .send_once(chat_id, reply, Some(ParseMode::Html), priority)
            .await
        {
            Err(RequestError::Api(ApiError::CantParseEntities(e))) => {
                // Our HTML should always parse; if it ever does not, the user still gets the text.
                tracing::error!(
                    "chat {chat_id}: Telegram rejected our HTML ({e}); sending plain text"
                );
                let plain = Reply {
                    html: html_to_plain(&reply.html),
                    ..reply.clone()
                };
                let result = self.send_once(chat_id, &plain, None, priority).await;
                self.classify(chat_id, result)
            }
            other => self.classify(chat_id, other),
        }
    }

    /// One message, with flood-limit and server-error retries.
    async fn send_once(
        &self,
        chat_id: i64,
        reply: &Reply,
        mode: Option<ParseMode>,
        priority: Priority,
    ) -> Result<MessageId, RequestError> {
        if let Some(document) = &reply.document {
            return self
                .send_document(chat_id, reply, document, mode, priority)
                .await;
        }
        self.with_retries(chat_id, priority, || {
            let req = self
                .bot
                .send_message(ChatId(chat_id), reply.html.clone())
                .link_preview_options(no_preview());
            let req = with_mode_and_buttons!(req, mode, reply);
            async move { req.await.map(|m| m.id) }
        })
        .await
    }

    /// A file with the reply's HTML as its caption (a long article's full text).
    async fn send_document(
        &self,
        chat_id: i64,
        reply: &Reply,
        document: &Document,
        mode: Option<ParseMode>,
        priority: Priority,
    ) -> Result<MessageId, RequestError> {
        self.with_retries(chat_id, priority, || {
            // The shared copy itself, not a copy per send (see `shelf`).
            let bytes = bytes::Bytes::from_owner(DocumentBytes(document.content.clone()));
            let file = InputFile::memory(bytes).file_name(document.file_name.clone());
            let req = self
                .bot
                .send_document(ChatId(chat_id), file)
                .caption(reply.html.clone());
            let req = with_mode_and_buttons!(req, mode, reply);
            async move { req.await.map(|m| m.id) }
        })
        .await
    }

    /// Replaces a message's text and buttons (page turns).
    pub async fn edit(&self, chat_id: i64, message_id: MessageId, reply: &Reply) -> Delivery {
        let result = self
            .with_retries(chat_id, Priority::Interactive, || {
                let mut req = self
                    .bot
                    .edit_message_text(ChatId(chat_id), message_id, reply.html.clone())
                    .parse_mode(ParseMode::Html)
                    .link_preview_options(no_preview());
                if let Some(markup) = keyboard(reply) {
                    req = req.reply_markup(markup);
                }
                async move { req.await.map(|m| m.id) }
            })
            .await;
        match result {
            // Pressing the same page twice: nothing to change, nothing wrong.
            Err(RequestError::Api(ApiError::MessageNotModified)) => Delivery::Sent(message_id.0),
            other => self.classify(chat_id, other),
        }
    }

    async fn with_retries<T, F, Fut>(
        &self,
        chat_id: i64,
        priority: Priority,
        mut make: F,
    ) -> Result<T, RequestError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, RequestError>>,
    {
        let mut flood_waits = 0;
        let mut server_errors = 0;
        loop {
            self.wait_turn(chat_id, priority).await;
            let result = make().await;
            if let Err(e) = &result {
                metrics()
                    .api_errors
                    .with_label_values(&[error_kind(e)])
                    .inc();
            }
            match result {
                Err(RequestError::RetryAfter(wait))
                    if flood_waits < MAX_RETRY_AFTER && wait.duration() <= MAX_RETRY_WAIT =>
                {
                    flood_waits += 1;
                    metrics().retry_after_waits.inc();
                    metrics()
                        .retry_after_seconds
                        .inc_by(wait.duration().as_secs_f64());
                    tracing::warn!(
                        "chat {chat_id}: flood limit, retrying after {} s",
                        wait.seconds()
                    );
                    tokio::time::sleep(wait.duration()).await;
                }
                Err(e) if is_server_error(&e) && server_errors < MAX_SERVER_RETRIES => {
                    server_errors += 1;
                    tracing::warn!(
                        "chat {chat_id}: Telegram server error ({}), retry {server_errors}",
                        redact(&e.to_string(), &self.token)
                    );
                    tokio::time::sleep(Duration::from_millis(500 * u64::from(server_errors))).await;
                }
                other => return other,
            }
        }
    }

    fn classify(&self, chat_id: i64, result: Result<MessageId, RequestError>) -> Delivery {
        match result {
            Ok(id) => Delivery::Sent(id.0),
            Err(RequestError::MigrateToChatId(new)) => {
                tracing::info!("chat {chat_id} became supergroup {}", new.0);
                Delivery::Migrated(new.0)
            }
            Err(RequestError::Api(e)) if is_gone(&e) || is_forbidden(&e) => {
                tracing::warn!("chat {chat_id} is unreachable: {e}");
                Delivery::Gone(e.to_string())
            }
            Err(e) => {
                let text = redact(&e.to_string(), &self.token);
                tracing::warn!("chat {chat_id}: send failed: {text}");
                Delivery::Failed(text)
            }
        }
    }
}

/// The kind of a failed Bot API call, as the metrics count it.
fn error_kind(e: &RequestError) -> &'static str {
    match e {
        RequestError::RetryAfter(_) => "retry_after",
        RequestError::MigrateToChatId(_) => "migrated",
        RequestError::Api(api) if is_gone(api) => "chat_gone",
        RequestError::Api(api) if is_forbidden(api) => "forbidden",
        e if is_server_error(e) => "server",
        RequestError::Network(_) | RequestError::Io(_) => "network",
        RequestError::Api(_) => "bad_request",
        _ => "other",
    }
}

fn is_gone(e: &ApiError) -> bool {
    matches!(
        e,
        ApiError::BotBlocked
            | ApiError::BotKicked
            | ApiError::BotKickedFromSupergroup
            | ApiError::BotKickedFromChannel
            | ApiError::ChatNotFound
            | ApiError::UserDeactivated
            | ApiError::CantInitiateConversation
            | ApiError::CantTalkWithBots
            | ApiError::GroupDeactivated
            | ApiError::NotEnoughRightsToPostMessages
    )
}

/// Any 403 means the bot may not write there, including forms teloxide has no variant for
/// ("bot was kicked from the group chat").
fn is_forbidden(e: &ApiError) -> bool {
    matches!(e, ApiError::Unknown(text) if text.starts_with("Forbidden"))
}

fn is_server_error(e: &RequestError) -> bool {
    match e {
        RequestError::Api(ApiError::Unknown(text)) => {
            let t = text.to_ascii_lowercase();
            t.contains("internal server error")
                || t.contains("bad gateway")
                || t.contains("gateway")
                || t.contains("service unavailable")
        }
        // A connection that never reached Telegram can be retried; a timeout cannot (the
        // message may have been delivered).
        RequestError::Network(e) => e.is_connect(),
        RequestError::InvalidJson { .. } => false,
        _ => false,
    }
}

fn no_preview() -> LinkPreviewOptions {
    LinkPreviewOptions {
        is_disabled: true,
        url: None,
        prefer_small_media: false,
        prefer_large_media: false,
        show_above_text: false,
    }
}

/// Sets the reply's parse mode (none: plain text) and buttons on a send request.
/// `sendMessage` and `sendDocument` have these setters under different traits, hence a macro.
macro_rules! with_mode_and_buttons {
    ($req:expr, $mode:expr, $reply:expr) => {{
        let mut req = $req;
        if let Some(mode) = $mode {
            req = req.parse_mode(mode);
        }
        if let Some(markup) = keyboard($reply) {
            req = req.reply_markup(markup);
        }
        req
    }};
}
use with_mode_and_buttons;

/// The full-text buttons in a row above the page buttons.
fn keyboard(reply: &Reply) -> Option<InlineKeyboardMarkup> {
    let rows: Vec<Vec<InlineKeyboardButton>> = [&reply.read_buttons, &reply.buttons]
        .into_iter()
        .filter(|row| !row.is_empty())
        .map(|row| {
            row.iter()
                .map(|b| InlineKeyboardButton::callback(b.label.clone(), b.data.clone()))
                .collect()
        })
        .collect();
    (!rows.is_empty()).then(|| InlineKeyboardMarkup::new(rows))
}

/// Link previews off, for inline results too.
pub fn link_preview_off() -> LinkPreviewOptions {
    no_preview()
}

impl crate::scheduler::DigestSender for Outbox {
    fn send_html(
        &self,
        chat_id: i64,
        html: String,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Delivery> + Send + '_>> {
        Box::pin(async move {
            let reply = Reply::text(html);
            self.send_with(chat_id, &reply, Priority::Bulk).await
        })
    }
}
