//! The Telegram adapter: updates in, core calls, messages out. Everything it answers comes
//! from `app`; this module only knows the Bot API.

pub mod outbox;
pub mod pacer;

use std::sync::Arc;

use chrono::Utc;
use teloxide::dispatching::{ShutdownToken, UpdateHandler};
use teloxide::error_handlers::ErrorHandler;
use teloxide::prelude::*;
use teloxide::types::{
    BotCommand, InlineQueryResult, InlineQueryResultArticle, InputMessageContent,
    InputMessageContentText, ParseMode,
};
use teloxide::update_listeners::Polling;

pub use outbox::{Delivery, Outbox};

use crate::app::{App, CallbackOutcome, ChatKind, Incoming, command::MENU};
use crate::config::redact;

type HandlerResult = Result<(), anyhow::Error>;

/// The handler tree: messages, button presses, inline queries. Edited messages and channel
/// posts are not handled, so they cannot be used to slip commands past the checks.
pub fn handler_tree() -> UpdateHandler<anyhow::Error> {
    dptree::entry()
        .branch(Update::filter_message().endpoint(on_message))
        .branch(Update::filter_callback_query().endpoint(on_callback))
        .branch(Update::filter_inline_query().endpoint(on_inline))
}

async fn on_message(app: Arc<App>, outbox: Arc<Outbox>, msg: Message) -> HandlerResult {
    let Some(text) = msg.text() else {
        return Ok(());
    };
    let kind = if msg.chat.is_private() {
        ChatKind::Private
    } else if msg.chat.is_group() || msg.chat.is_supergroup() {
        ChatKind::Group
    } else {
        return Ok(());
    };
    let chat_id = msg.chat.id.0;
    // Anonymous group admins post as the group itself; their user id is Telegram's helper bot.
    let anonymous_admin = msg
        .sender_chat
        .as_ref()
        .is_some_and(|c| c.id == msg.chat.id);
    let Some(user_id) = msg.from.as_ref().map(|u| u.id.0 as i64) else {
        return Ok(());
    };
    let mut text = text.to_owned();
    if msg.forward_origin().is_some() {
        // A forwarded message is never a command: someone else wrote it.
        if kind == ChatKind::Group {
            return Ok(());
        }
        // Whitespace goes too: the command parser skips leading whitespace, so " /reindex"
        // or "/ /stats" would otherwise still parse as a command.
        text = text
            .trim_start_matches(|c: char| c == '/' || c.is_whitespace())
            .to_owned();
    }
    let sender_is_chat_admin = match kind {
        ChatKind::Private => true,
        ChatKind::Group if anonymous_admin => true,
        ChatKind::Group if app.needs_chat_admin_check(kind, &text) => {
            is_chat_admin(outbox.bot(), msg.chat.id, msg.from.as_ref()).await
        }
        ChatKind::Group => false,
    };
    let incoming = Incoming {
        chat_id,
        kind,
        user_id,
        text,
        sender_is_chat_admin,
    };
    let app2 = app.clone();
    // Searches and SQLite run on the blocking pool: a slow one never stalls other chats.
    let replies =
        tokio::task::spawn_blocking(move || app2.handle_message(&incoming, Utc::now())).await?;
    for reply in replies {
        outbox.send(chat_id, &reply).await;
    }
    Ok(())
}

async fn is_chat_admin(bot: &Bot, chat: ChatId, user: Option<&teloxide::types::User>) -> bool {
    let Some(user) = user else { return false };
    match bot.get_chat_member(chat, user.id).await {
        Ok(member) => member.is_privileged(),
        Err(e) => {
            tracing::warn!("getChatMember for chat {} failed: {e}", chat.0);
            false
        }
    }
}

async fn on_callback(app: Arc<App>, outbox: Arc<Outbox>, q: CallbackQuery) -> HandlerResult {
    let bot = outbox.bot().clone();
    let (Some(data), Some(message)) = (q.data.clone(), q.message.as_ref()) else {
        bot.answer_callback_query(q.id.clone())
            .text("这个按钮已失效，请重新搜索。")
            .await
            .ok();
        return Ok(());
    };
    let chat_id = message.chat().id.0;
    let message_id = message.id();
    let app2 = app.clone();
    let outcome = tokio::task::spawn_blocking(move || app2.handle_callback(chat_id, &data)).await?;
    match outcome {
        CallbackOutcome::Edit(reply) => {
            outbox.edit(chat_id, message_id, &reply).await;
            if let Err(e) = bot.answer_callback_query(q.id.clone()).await {
                tracing::warn!("answerCallbackQuery failed: {e}");
            }
        }
        CallbackOutcome::Notice(text) => {
            if let Err(e) = bot.answer_callback_query(q.id.clone()).text(text).await {
                tracing::warn!("answerCallbackQuery failed: {e}");
            }
        }
    }
    Ok(())
}

async fn on_inline(app: Arc<App>, outbox: Arc<Outbox>, q: InlineQuery) -> HandlerResult {
    let user_id = q.from.id.0 as i64;
    let query = q.query.clone();
    let app2 = app.clone();
    let articles = tokio::task::spawn_blocking(move || app2.handle_inline(user_id, &query)).await?;
    let results: Vec<InlineQueryResult> = articles
        .into_iter()
        .map(|a| {
            let content = InputMessageContentText::new(a.html)
                .parse_mode(ParseMode::Html)
                .link_preview_options(outbox::link_preview_off());
            let mut article =
                InlineQueryResultArticle::new(a.id, a.title, InputMessageContent::Text(content))
                    .description(a.description);
            if let Ok(url) = a.url.parse() {
                article = article.url(url);
            }
            InlineQueryResult::Article(article)
        })
        .collect();
    if let Err(e) = outbox
        .bot()
        .answer_inline_query(q.id.clone(), results)
        .cache_time(30)
        .await
    {
        tracing::warn!("answerInlineQuery failed: {e}");
    }
    Ok(())
}

/// Logs handler and polling errors with the token removed.
struct RedactingErrorHandler {
    token: String,
    what: &'static str,
}

impl<E: std::fmt::Debug + Send + Sync + 'static> ErrorHandler<E> for RedactingErrorHandler {
    fn handle_error(self: Arc<Self>, error: E) -> futures_util::future::BoxFuture<'static, ()> {
        tracing::error!(
            "{}: {}",
            self.what,
            redact(&format!("{error:?}"), &self.token)
        );
        Box::pin(async {})
    }
}

/// How long a stop waits for the handlers in flight.
pub const STOP_GRACE: std::time::Duration = std::time::Duration::from_secs(15);

/// A running bot.
pub struct Running {
    shutdown: ShutdownToken,
    handle: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stops polling and waits for handlers in flight, [`STOP_GRACE`] at most: a handler stuck
    /// on the network must not keep the process from ending (the service manager would kill
    /// it anyway, without the shutdown log).
    pub async fn stop(self) {
        let handle = self.handle;
        let abort = handle.abort_handle();
        let shutdown = self.shutdown;
        let stopped = async move {
            // Before dispatching has started, shutdown() refuses: retry briefly.
            for _ in 0..200 {
                match shutdown.shutdown() {
                    Ok(done) => {
                        done.await;
                        break;
                    }
                    Err(_) => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
                }
            }
            let _ = handle.await;
        };
        if tokio::time::timeout(STOP_GRACE, stopped).await.is_err() {
            tracing::warn!(
                "handlers still running {} s after the stop request; abandoning them",
                STOP_GRACE.as_secs()
            );
            abort.abort();
        }
    }

    pub fn shutdown_token(&self) -> ShutdownToken {
        self.shutdown.clone()
    }

    /// Waits until the dispatcher ends (after a shutdown or a signal).
    pub async fn wait(self) {
        let _ = self.handle.await;
    }
}

/// Starts the bot: learns its name, registers the command menu, then polls.
pub async fn start(app: Arc<App>, outbox: Arc<Outbox>, token: &str) -> anyhow::Result<Running> {
    let bot = outbox.bot().clone();
    let me = bot.get_me().await.map_err(|e| {
        anyhow::anyhow!(
            "cannot reach the Bot API (getMe): {}",
            redact(&e.to_string(), token)
        )
    })?;
    app.set_bot_username(me.username());
    tracing::info!("logged in as @{}", me.username());
    let commands: Vec<BotCommand> = MENU
        .iter()
        .map(|(name, desc)| BotCommand::new(*name, *desc))
        .collect();
    if let Err(e) = bot.set_my_commands(commands).await {
        tracing::warn!(
            "setMyCommands failed (the command menu stays as it was): {}",
            redact(&e.to_string(), token)
        );
    }
    let mut dispatcher = Dispatcher::builder(bot.clone(), handler_tree())
        .dependencies(dptree::deps![app, outbox])
        .default_handler(|_| async {})
        .error_handler(Arc::new(RedactingErrorHandler {
            token: token.to_owned(),
            what: "update handler failed",
        }))
        .build();
    let shutdown = dispatcher.shutdown_token();
    let listener = Polling::builder(bot)
        .timeout(std::time::Duration::from_secs(25))
        .build();
    let listener_errors = Arc::new(RedactingErrorHandler {
        token: token.to_owned(),
        what: "polling failed",
    });
    let handle = tokio::spawn(async move {
        dispatcher
            .dispatch_with_listener(listener, listener_errors)
            .await;
    });
    Ok(Running { shutdown, handle })
}
