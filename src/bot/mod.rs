//! The Telegram adapter: updates in, core calls, messages out. Everything it answers comes
//! from `app`; this module only knows the Bot API.

pub mod outbox;
pub mod pacer;
pub mod queue;
pub mod webhook;

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
pub use queue::{ChatQueues, InFlight, Job};

use crate::app::{App, CallbackOutcome, ChatKind, Incoming, command};
use crate::config::redact;
use crate::service::Updates;
use crate::service::health::{self, Signals};
use crate::service::metrics::metrics;

type HandlerResult = Result<(), anyhow::Error>;

/// The handler tree: messages, button presses, inline queries. Edited messages and channel
/// posts are not handled, so they cannot be used to slip commands past the checks.
pub fn handler_tree() -> UpdateHandler<anyhow::Error> {
    dptree::entry()
        .inspect(|update: Update| metrics().update(update_kind(&update)))
        .branch(Update::filter_message().endpoint(on_message))
        .branch(Update::filter_callback_query().endpoint(on_callback))
        .branch(Update::filter_inline_query().endpoint(on_inline))
}

async fn on_message(
    app: Arc<App>,
    outbox: Arc<Outbox>,
    queues: Arc<ChatQueues>,
    limit: Arc<CoreLimit>,
    msg: Message,
) -> HandlerResult {
    let received = std::time::Instant::now();
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
    if !queues.has_room(chat_id) {
        // This chat writes faster than it can be answered: no search for what would be
        // dropped anyway.
        if kind == ChatKind::Private || app.command_of(text).is_some() {
            queues.dropped(chat_id);
        }
        return Ok(());
    }
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
    let replies = limit
        .run(move || app.handle_message(&incoming, Utc::now()))
        .await?;
    // Handed over, not awaited: the chat's pace must not hold this chat's update worker.
    for reply in replies {
        if !queues.push_received(chat_id, Job::Send(reply), received) {
            queues.dropped(chat_id);
        }
    }
    Ok(())
}

/// In-flight button presses per chat, and inline queries per user (distinct types for
/// `dptree::deps!`).
pub struct Presses(InFlight);
pub struct InlineQueries(InFlight);

/// Bounds the core calls (searches, excerpts, SQLite) running at once on the blocking pool:
/// each may hold a few MB of folded text, and a burst of hundreds must queue, not all run.
pub struct CoreLimit(tokio::sync::Semaphore);

impl CoreLimit {
    pub fn new(permits: usize) -> Arc<CoreLimit> {
        Arc::new(CoreLimit(tokio::sync::Semaphore::new(permits.max(1))))
    }

    /// Two per core: searches are CPU-bound and short.
    pub fn for_this_machine() -> Arc<CoreLimit> {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self::new(cores * 2)
    }

    /// Runs `f` on the blocking pool once a permit is free.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, anyhow::Error> {
        let _permit = self.0.acquire().await?;
        Ok(tokio::task::spawn_blocking(f).await?)
    }
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

/// Button presses and inline queries each chat or user may have in progress at once.
pub const PRESSES_IN_FLIGHT: usize = 8;
pub const INLINE_IN_FLIGHT: usize = 2;

async fn on_callback(
    app: Arc<App>,
    outbox: Arc<Outbox>,
    queues: Arc<ChatQueues>,
    limit: Arc<CoreLimit>,
    presses: Arc<Presses>,
    q: CallbackQuery,
) -> HandlerResult {
    let key = q
        .message
        .as_ref()
        .map_or(q.from.id.0 as i64, |m| m.chat().id.0);
    let Some(guard) = presses.0.try_start(key) else {
        return Ok(()); // a flood of presses: Telegram gives up on these answers by itself
    };
    // Off the chat's update worker: the answer is a network call (see `InFlight`).
    tokio::spawn(async move {
        let _guard = guard;
        if let Err(e) = press(app, outbox, queues, limit, q).await {
            tracing::error!("button press failed: {e}");
        }
    });
    Ok(())
}

async fn press(
    app: Arc<App>,
    outbox: Arc<Outbox>,
    queues: Arc<ChatQueues>,
    limit: Arc<CoreLimit>,
    q: CallbackQuery,
) -> HandlerResult {
    let bot = outbox.bot().clone();
    let (Some(data), Some(message)) = (q.data.clone(), q.message.as_ref()) else {
        answer_callback(&bot, &q, Some("这个按钮已失效，请重新搜索。".to_owned())).await;
        return Ok(());
    };
    let chat_id = message.chat().id.0;
    let kind = if message.chat().is_private() {
        ChatKind::Private
    } else {
        ChatKind::Group
    };
    let message_id = message.id();
    if !queues.has_room(chat_id) {
        answer_callback(&bot, &q, Some("操作太频繁，请稍等再按。".to_owned())).await;
        return Ok(());
    }
    let outcome = limit
        .run(move || app.handle_callback(chat_id, kind, &data))
        .await?;
    match outcome {
        CallbackOutcome::Edit(reply) => {
            // Answered first: Telegram shows a spinner until then, and the edit waits for the
            // chat's send pace.
            answer_callback(&bot, &q, None).await;
            queues.push(chat_id, Job::Edit(message_id, reply));
        }
        CallbackOutcome::Notice(text) => answer_callback(&bot, &q, Some(text)).await,
        CallbackOutcome::Send(replies) => {
            answer_callback(&bot, &q, None).await;
            for reply in replies {
                if !queues.push(chat_id, Job::Send(reply)) {
                    break;
                }
            }
        }
    }
    Ok(())
}

async fn answer_callback(bot: &Bot, q: &CallbackQuery, text: Option<String>) {
    let mut req = bot.answer_callback_query(q.id.clone());
    if let Some(text) = text {
        req = req.text(text);
    }
    if let Err(e) = req.await {
        tracing::warn!("answerCallbackQuery failed: {e}");
    }
}

async fn on_inline(
    app: Arc<App>,
    outbox: Arc<Outbox>,
    limit: Arc<CoreLimit>,
    inline: Arc<InlineQueries>,
    q: InlineQuery,
) -> HandlerResult {
    let Some(guard) = inline.0.try_start(q.from.id.0 as i64) else {
        return Ok(()); // typing faster than we answer: the next query supersedes this one
    };
    tokio::spawn(async move {
        let _guard = guard;
        if let Err(e) = answer_inline(app, outbox, limit, q).await {
            tracing::error!("inline query failed: {e}");
        }
    });
    Ok(())
}

async fn answer_inline(
    app: Arc<App>,
    outbox: Arc<Outbox>,
    limit: Arc<CoreLimit>,
    q: InlineQuery,
) -> HandlerResult {
    let user_id = q.from.id.0 as i64;
    let query = q.query.clone();
    let personal = app.settings().restricted();
    let articles = limit
        .run(move || app.handle_inline(user_id, &query))
        .await?;
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
        // With an allowlist the answer depends on who asks: Telegram must not hand one
        // user's cached results to another.
        .is_personal(personal)
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
    /// Polling errors are retried by teloxide (a network blip is not an error of ours).
    warn_only: bool,
    /// Hears of failed polls.
    signals: Option<Arc<Signals>>,
}

impl<E: std::fmt::Debug + Send + Sync + 'static> ErrorHandler<E> for RedactingErrorHandler {
    fn handle_error(self: Arc<Self>, error: E) -> futures_util::future::BoxFuture<'static, ()> {
        let text = redact(&format!("{error:?}"), &self.token);
        if let Some(signals) = &self.signals {
            signals.poll_failed(text.clone());
            metrics().api_errors.with_label_values(&["polling"]).inc();
        }
        if self.warn_only {
            tracing::warn!("{}: {text}", self.what);
        } else {
            tracing::error!("{}: {text}", self.what);
        }
        Box::pin(async {})
    }
}

/// How long a stop waits for the handlers in flight.
pub const STOP_GRACE: std::time::Duration = std::time::Duration::from_secs(4);
/// How long queued replies are still sent after a stop: about 110 at Telegram's overall pace
/// (28/s); what is still queued then is dropped, and the count logged.
pub const REPLY_DRAIN: std::time::Duration = std::time::Duration::from_secs(4);

/// A running bot.
pub struct Running {
    shutdown: ShutdownToken,
    handle: tokio::task::JoinHandle<()>,
    /// The webhook's HTTP server (webhook mode).
    server: Option<tokio::task::JoinHandle<()>>,
    /// The replies waiting to be sent, drained (for [`REPLY_DRAIN`] at most) on stop.
    queues: Arc<ChatQueues>,
}

impl Running {
    /// Stops polling and waits for handlers in flight, [`STOP_GRACE`] at most: a handler stuck
    /// on the network must not keep the process from ending (the service manager would kill
    /// it anyway, without the shutdown log).
    pub async fn stop(self) {
        let handle = self.handle;
        let abort = handle.abort_handle();
        let shutdown = self.shutdown;
        let server = self.server;
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
            if let Some(server) = server {
                let _ = server.await;
            }
        };
        if tokio::time::timeout(STOP_GRACE, stopped).await.is_err() {
            tracing::warn!(
                "handlers still running {} s after the stop request; abandoning them",
                STOP_GRACE.as_secs()
            );
            abort.abort();
        }
        let left = self.queues.settle(REPLY_DRAIN).await;
        if left > 0 {
            tracing::warn!(
                "{left} queued replies not sent within {} s of the stop; dropped",
                REPLY_DRAIN.as_secs()
            );
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

/// How long a `getUpdates` call may wait for an update. Long polls keep an idle bot to a
/// couple of requests a minute and still hand over a message the moment it arrives.
pub const POLL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(25);
/// The polling client's own timeout must outlast the poll: teloxide's default client gives
/// up after 17 s, so every idle 25 s poll ended in a timeout, an ERROR line and teloxide's
/// back-off (up to 64 s without polling, the late answers after a quiet spell).
pub const POLL_CLIENT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(40);

/// A bot for long polling only: same token and server as `bot`, a client that waits longer
/// than [`POLL_TIMEOUT`]. Sends keep the short default timeout (a stuck send fails fast).
fn polling_bot(bot: &Bot) -> anyhow::Result<Bot> {
    let client = teloxide::net::default_reqwest_settings()
        .timeout(POLL_CLIENT_TIMEOUT)
        .build()
        .map_err(|e| anyhow::anyhow!("cannot build the HTTP client for polling: {e}"))?;
    Ok(Bot::with_client(bot.token(), client).set_api_url(bot.api_url()))
}

/// Updates of one chat are handled in order, each chat by its own worker; inline queries,
/// which have no chat, by their sender's, so one user's typing never queues behind another's.
fn worker_key(update: &Update) -> Option<i64> {
    update
        .chat()
        .map(|c| c.id.0)
        .or_else(|| update.from().map(|u| u.id.0 as i64))
}

/// Starts the bot on long polling: learns its name, registers the command menu, then polls.
pub async fn start(app: Arc<App>, outbox: Arc<Outbox>, token: &str) -> anyhow::Result<Running> {
    start_with(app, outbox, token, &Updates::Polling, Signals::new()).await
}

/// Starts the bot with updates from `updates` (long polling or a webhook); `signals` hears of
/// failed polls (for `/healthz`).
pub async fn start_with(
    app: Arc<App>,
    outbox: Arc<Outbox>,
    token: &str,
    updates: &Updates,
    signals: Arc<Signals>,
) -> anyhow::Result<Running> {
    let bot = outbox.bot().clone();
    let me = bot.get_me().await.map_err(|e| {
        anyhow::anyhow!(
            "cannot reach the Bot API (getMe): {}",
            redact(&e.to_string(), token)
        )
    })?;
    app.set_bot_username(me.username());
    tracing::info!("logged in as @{}", me.username());
    let commands: Vec<BotCommand> = command::menu()
        .map(|(name, desc)| BotCommand::new(name, desc))
        .collect();
    if let Err(e) = bot.set_my_commands(commands).await {
        tracing::warn!(
            "setMyCommands failed (the command menu stays as it was): {}",
            redact(&e.to_string(), token)
        );
    }
    let queues = ChatQueues::new(outbox.clone());
    let limit = CoreLimit::for_this_machine();
    let poller = polling_bot(&bot)?;
    let dispatcher = Dispatcher::builder(poller.clone(), handler_tree())
        .dependencies(dptree::deps![
            app,
            outbox,
            queues.clone(),
            limit,
            Arc::new(Presses(InFlight::new(PRESSES_IN_FLIGHT))),
            Arc::new(InlineQueries(InFlight::new(INLINE_IN_FLIGHT)))
        ])
        .distribution_function(worker_key)
        .default_handler(|_| async {})
        .error_handler(Arc::new(RedactingErrorHandler {
            token: token.to_owned(),
            what: "update handler failed",
            warn_only: false,
            signals: None,
        }))
        .build();
    let shutdown = dispatcher.shutdown_token();
    let listener_errors = Arc::new(RedactingErrorHandler {
        token: token.to_owned(),
        what: "polling failed (retrying)",
        warn_only: true,
        signals: Some(signals),
    });
    match updates {
        Updates::Polling => {
            // Telegram refuses getUpdates while a webhook is set: coming back from webhook
            // mode deletes it (pending updates are kept and polled).
            let listener = Polling::builder(poller)
                .timeout(POLL_TIMEOUT)
                .delete_webhook()
                .await
                .build();
            Ok(Running {
                shutdown,
                handle: dispatch(dispatcher, listener, listener_errors),
                server: None,
                queues,
            })
        }
        Updates::Webhook(hook) => {
            // Listening before the hook is registered: Telegram may post at once.
            let tcp = tokio::net::TcpListener::bind(hook.listen)
                .await
                .map_err(|e| {
                    anyhow::anyhow!("WEBHOOK_LISTEN {}: cannot listen: {e}", hook.listen)
                })?;
            let (listener, stopped, router) = webhook::listener(&bot, hook, token).await?;
            // Serves until the listener is stopped (the dispatcher's shutdown), which deletes
            // the webhook: Telegram keeps what arrives meanwhile for the next start.
            let server = tokio::spawn(async move {
                if let Err(e) = axum::serve(tcp, router)
                    .with_graceful_shutdown(stopped)
                    .await
                {
                    tracing::error!("webhook server failed: {e}");
                }
            });
            Ok(Running {
                shutdown,
                handle: dispatch(dispatcher, listener, listener_errors),
                server: Some(server),
                queues,
            })
        }
    }
}

/// Runs the dispatcher on updates from `listener` (polling or the webhook) in a task of its own.
fn dispatch<L>(
    mut dispatcher: Dispatcher<Bot, anyhow::Error, i64>,
    listener: L,
    errors: Arc<RedactingErrorHandler>,
) -> tokio::task::JoinHandle<()>
where
    L: teloxide::update_listeners::UpdateListener + Send + 'static,
    L::Err: std::fmt::Debug + Send + Sync + 'static,
{
    tokio::spawn(async move {
        dispatcher.dispatch_with_listener(listener, errors).await;
    })
}

/// Probes the Bot API every `PROBE_EVERY` (`getWebhookInfo`) for `/healthz`: it answers, and
/// its webhook is what `updates` expects, with no delivery error since the last update.
pub async fn probe(
    bot: Bot,
    token: String,
    updates: Updates,
    signals: Arc<Signals>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        match bot.get_webhook_info().await {
            Ok(info) => signals.probed(webhook_problem(&info, &updates)),
            Err(e) => signals.probe_failed(redact(&e.to_string(), &token)),
        }
        tokio::select! {
            _ = tokio::time::sleep(health::PROBE_EVERY) => {}
            _ = stop.changed() => return,
        }
    }
}

/// What a `getWebhookInfo` answer says is wrong for `updates`, if anything.
fn webhook_problem(info: &teloxide::types::WebhookInfo, updates: &Updates) -> Option<String> {
    match updates {
        Updates::Polling => info
            .url
            .as_ref()
            .map(|url| format!("a webhook is set ({url}): polling gets nothing")),
        Updates::Webhook(hook) => {
            if info.url.as_ref() != Some(&hook.url) {
                return Some("the webhook is not set at Telegram".to_owned());
            }
            let last_update = metrics().last_update_timestamp.get();
            match (info.last_error_date, &info.last_error_message) {
                (Some(at), Some(message)) if at.timestamp() > last_update => Some(format!(
                    "Telegram could not deliver to the webhook at {at}: {message}"
                )),
                _ => None,
            }
        }
    }
}

/// The kind of an update, as the metrics count it.
fn update_kind(update: &Update) -> &'static str {
    use teloxide::types::UpdateKind;
    match &update.kind {
        UpdateKind::Message(_) => "message",
        UpdateKind::CallbackQuery(_) => "callback_query",
        UpdateKind::InlineQuery(_) => "inline_query",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn core_calls_run_at_most_the_permits_at_once() {
        let limit = CoreLimit::new(3);
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..24 {
            let (limit, running, most) = (limit.clone(), running.clone(), most.clone());
            tasks.push(tokio::spawn(async move {
                limit
                    .run(move || {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        running.fetch_sub(1, Ordering::SeqCst);
                    })
                    .await
            }));
        }
        for t in tasks {
            t.await.expect("task").expect("core call");
        }
        assert_eq!(most.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn inline_queries_get_their_senders_worker() {
        // From text, as teloxide reads updates (its parser needs a string source).
        let update: Update = serde_json::from_str(
            r#"{"update_id": 1, "inline_query": {"id": "q1",
                "from": {"id": 77, "is_bot": false, "first_name": "U"},
                "query": "人工智能", "offset": ""}}"#,
        )
        .expect("an inline query update");
        assert_eq!(worker_key(&update), Some(77));
    }
}
