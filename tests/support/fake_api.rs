//! A fake Telegram Bot API server for integration tests.
//!
//! Tests start one [`FakeApi`] per test and point a real teloxide `Bot` at it (`fake.bot()`). The fake
//! answers the methods the bot uses the way Telegram does, records every
//! request, and can inject the failures the bot has to survive (flood waits,
//! blocked users, migrated groups, server errors, hangs, malformed HTML).
//!
//! Everything lives in one process: axum serves on 127.0.0.1 on an ephemeral
//! port from a task of the test's own tokio runtime.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Once};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::sync::Notify;

use super::telegram_html::parse_telegram_html;

/// The bot's own user id, as answered by `getMe` and used as `from` of the
/// messages the bot sends.
pub const BOT_ID: i64 = 4242;
/// The bot's username, as answered by `getMe`.
pub const BOT_USERNAME: &str = "jianbao_test_bot";

/// Telegram's limit on a message's visible length (UTF-16 code units).
const MAX_MESSAGE_LEN: usize = 4096;
/// Telegram's limit on an inline button's callback data (bytes).
const MAX_CALLBACK_DATA: usize = 64;
/// The longest a `getUpdates` call waits for an update. Telegram holds a long poll for the
/// requested `timeout` (at most 50 s) and answers `[]` only then, so the fake does too: a
/// client whose HTTP timeout is shorter than its polling timeout fails here as it does there.
const MAX_POLL_WAIT: Duration = Duration::from_secs(50);

/// Makes reqwest clients that honour proxy variables (those built by
/// `Bot::new` / `Bot::from_env`, e.g. inside the application) bypass any
/// configured proxy for the fake's loopback address.
///
/// [`FakeApi::start`] calls it; tests that build a client before starting the
/// fake should call it first. Bots from [`FakeApi::bot`] need no environment:
/// their client has proxies disabled.
pub fn init() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: runs once per test binary, before the test's first HTTP
        // client is built; std serialises its own environment accesses and
        // nothing in these tests reads the environment through libc
        // concurrently.
        unsafe { std::env::set_var("NO_PROXY", "127.0.0.1,localhost") };
    });
}

/// A failure the fake answers instead of the normal result.
#[derive(Clone, Debug)]
pub enum Fault {
    /// 429 "Too Many Requests: retry after N" with `parameters.retry_after`.
    RetryAfter(u32),
    /// 403 "Forbidden: bot was blocked by the user".
    Blocked,
    /// 403 "Forbidden: bot was kicked from the group chat".
    Kicked,
    /// 400 "Bad Request: chat not found".
    ChatNotFound,
    /// 400 "Bad Request: group chat was upgraded to a supergroup chat" with
    /// `parameters.migrate_to_chat_id`.
    Migrate(i64),
    /// 500 "Internal Server Error". Note: teloxide sleeps 10 s before it
    /// reads any 5xx answer, so a test that sends through teloxide pays that.
    ServerError,
    /// Sleep this long, then answer normally.
    Hang(Duration),
}

impl Fault {
    /// The error answer for this fault; `None` for [`Fault::Hang`], which
    /// delays rather than fails.
    fn answer(&self) -> Option<Answer> {
        Some(match *self {
            Fault::RetryAfter(secs) => Answer::error_with(
                429,
                &format!("Too Many Requests: retry after {secs}"),
                json!({ "retry_after": secs }),
            ),
            Fault::Blocked => Answer::error(403, "Forbidden: bot was blocked by the user"),
            Fault::Kicked => Answer::error(403, "Forbidden: bot was kicked from the group chat"),
            Fault::ChatNotFound => Answer::error(400, "Bad Request: chat not found"),
            Fault::Migrate(to) => Answer::error_with(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                json!({ "migrate_to_chat_id": to }),
            ),
            Fault::ServerError => Answer::error(500, "Internal Server Error"),
            Fault::Hang(_) => return None,
        })
    }
}

/// One request the fake received.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// Lower-case method name, e.g. "sendmessage".
    pub method: String,
    /// The JSON body (`{}` when the body was empty or not JSON).
    pub params: Value,
    /// When the request arrived.
    pub at: Instant,
    /// The HTTP status the fake answered.
    pub status: u16,
}

/// Handle to a running fake Bot API server. Clones share the same server.
#[derive(Clone)]
pub struct FakeApi {
    inner: Arc<Inner>,
}

struct Inner {
    addr: SocketAddr,
    state: Mutex<ServerState>,
    /// Wakes long-polling `getUpdates` calls when an update is pushed.
    updates_pushed: Notify,
    /// Wakes `wait_for` when a request has been recorded.
    request_recorded: Notify,
}

#[derive(Default)]
struct ServerState {
    updates: VecDeque<Value>,
    last_update_id: i64,
    last_message_id: i32,
    requests: Vec<Recorded>,
    /// Queued faults per lower-case method name, FIFO.
    fail_next: HashMap<String, VecDeque<Fault>>,
    /// Persistent faults for sends and edits to a chat.
    chat_faults: HashMap<i64, Fault>,
    /// getChatMember answers by (chat_id, user_id); "member" when absent.
    member_status: HashMap<(i64, i64), String>,
    /// Global sendMessage limit per sliding second, if enforced.
    rate_limit: Option<u32>,
    /// Files sent are recorded by length only (benches that send hundreds of big files).
    forget_file_contents: bool,
    /// The webhook set with setWebhook: its URL and secret token. While one is set,
    /// getUpdates answers 409, as Telegram does.
    webhook: Option<(String, Option<String>)>,
    /// While a webhook is set: the queue of updates its delivery task posts, in order.
    deliveries: Option<tokio::sync::mpsc::UnboundedSender<Value>>,
    /// Acceptance times of sendMessage calls within the last second.
    recent_sends: VecDeque<Instant>,
    rate_violations: usize,
    /// Raw `text` of accepted sendMessage calls, in order.
    sent: Vec<(i64, String)>,
}

/// The thread of a fake from [`FakeApi::start_on_own_thread`].
pub struct FakeThread {
    stop: tokio::sync::oneshot::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl FakeThread {
    /// Shuts the fake's runtime down and waits for its thread.
    pub fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}

impl FakeApi {
    /// The token the fake accepts; any other token gets 401.
    pub const TOKEN: &'static str = "123456:TEST-token-SECRET";

    /// Starts the server on a thread and runtime of its own, as Telegram is another
    /// machine: a benchmark's bot runtime does not lend it workers. Stop it with
    /// [`FakeThread::stop`].
    pub fn start_on_own_thread() -> (FakeApi, FakeThread) {
        let (fake_tx, fake_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("fake runtime");
            rt.block_on(async move {
                let _ = fake_tx.send(FakeApi::start().await);
                let _ = stopped.await;
            });
        });
        let fake = fake_rx.recv().expect("fake Bot API started");
        (fake, FakeThread { stop, thread })
    }

    /// Starts the server on 127.0.0.1 (ephemeral port) on a task of the
    /// current tokio runtime.
    pub async fn start() -> FakeApi {
        init();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("fake Bot API: bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("fake Bot API: local address");
        let inner = Arc::new(Inner {
            addr,
            state: Mutex::new(ServerState::default()),
            updates_pushed: Notify::new(),
            request_recorded: Notify::new(),
        });
        // Every path goes to one handler: the method is part of the path and
        // a wrong token or path must still be answered (and recorded) the way
        // Telegram answers it.
        let app = Router::new()
            .fallback(handle_http)
            // Telegram takes uploads of up to 50 MB.
            .layer(axum::extract::DefaultBodyLimit::max(50 << 20))
            .with_state(inner.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("fake Bot API server stopped: {e}");
            }
        });
        FakeApi { inner }
    }

    /// The API base URL to give teloxide, e.g. `http://127.0.0.1:PORT/`.
    pub fn url(&self) -> url::Url {
        url::Url::parse(&format!("http://{}/", self.inner.addr))
            .expect("a socket address makes a valid URL")
    }

    /// A plain teloxide `Bot` using [`FakeApi::TOKEN`] against this fake.
    ///
    /// Its HTTP client ignores proxy settings, so it reaches the loopback
    /// address even where `HTTP_PROXY` is set.
    pub fn bot(&self) -> teloxide::Bot {
        let client = teloxide::net::default_reqwest_settings()
            .no_proxy()
            .build()
            .expect("build reqwest client");
        teloxide::Bot::with_client(Self::TOKEN, client).set_api_url(self.url())
    }

    /// Queues an update for `getUpdates`, giving it the next `update_id`
    /// (any `update_id` in `update` is overwritten).
    pub fn push_update(&self, mut update: Value) {
        {
            let mut st = self.state();
            st.last_update_id += 1;
            let id = st.last_update_id;
            match update.as_object_mut() {
                Some(obj) => {
                    obj.insert("update_id".into(), json!(id));
                }
                None => panic!("push_update: an update must be a JSON object, got {update}"),
            }
            // With a webhook set, Telegram posts the update instead of keeping it for
            // getUpdates.
            match &st.deliveries {
                Some(queue) => {
                    let _ = queue.send(update);
                }
                None => st.updates.push_back(update),
            }
        }
        self.inner.updates_pushed.notify_waiters();
    }

    /// All requests so far, in the order they were answered.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state().requests.clone()
    }

    /// The requests of one method (name matched case-insensitively).
    pub fn requests_for(&self, method: &str) -> Vec<Recorded> {
        let method = method.to_ascii_lowercase();
        self.state()
            .requests
            .iter()
            .filter(|r| r.method == method)
            .cloned()
            .collect()
    }

    /// Waits until at least `count` requests of `method` were answered
    /// (successfully or not) and returns them all.
    ///
    /// Panics after `timeout`, listing the methods seen, so a failing test
    /// says what the bot did instead.
    pub async fn wait_for(&self, method: &str, count: usize, timeout: Duration) -> Vec<Recorded> {
        let method = method.to_ascii_lowercase();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            // Register for the wake-up before looking, so a request recorded
            // between the look and the wait is not missed.
            let recorded = self.inner.request_recorded.notified();
            tokio::pin!(recorded);
            recorded.as_mut().enable();

            let found = self.requests_for(&method);
            if found.len() >= count {
                return found;
            }
            if tokio::time::timeout_at(deadline, recorded).await.is_err() {
                panic!(
                    "FakeApi::wait_for: expected at least {count} `{method}` request(s) within \
                     {timeout:?}, got {}; requests seen: {}",
                    found.len(),
                    self.describe_requests()
                );
            }
        }
    }

    /// Waits until the bot has taken every update pushed so far: teloxide asks for the next
    /// batch, confirming the earlier ones by its offset, only once the dispatcher has handed
    /// each of them to a worker. Panics after `timeout`.
    pub async fn wait_fetched(&self, timeout: Duration) {
        let last = self.state().last_update_id;
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let recorded = self.inner.request_recorded.notified();
            tokio::pin!(recorded);
            recorded.as_mut().enable();
            // Taken by a poll, or posted to the webhook (recorded as `webhook` with the
            // offset it confirms).
            let confirmed = self
                .requests_for("getupdates")
                .iter()
                .chain(self.requests_for("webhook").iter())
                .filter_map(|r| r.params["offset"].as_i64())
                .max()
                .unwrap_or(0);
            if confirmed > last {
                return;
            }
            if tokio::time::timeout_at(deadline, recorded).await.is_err() {
                panic!(
                    "FakeApi::wait_fetched: updates up to {last} not confirmed within {timeout:?} \
                     (highest offset {confirmed}); requests seen: {}",
                    self.describe_requests()
                );
            }
        }
    }

    /// Makes the next call of `method` fail with `fault`. Several calls queue
    /// up and are used in order.
    pub fn fail_next(&self, method: &str, fault: Fault) {
        self.state()
            .fail_next
            .entry(method.to_ascii_lowercase())
            .or_default()
            .push_back(fault);
    }

    /// Makes every sendMessage/editMessageText to `chat_id` fail with `fault`
    /// until cleared with `None`.
    pub fn fail_chat(&self, chat_id: i64, fault: Option<Fault>) {
        let mut st = self.state();
        match fault {
            Some(f) => st.chat_faults.insert(chat_id, f),
            None => st.chat_faults.remove(&chat_id),
        };
    }

    /// Sets what getChatMember answers for this user in this chat.
    ///
    /// `status` is one of Telegram's: "creator", "administrator", "member",
    /// "restricted", "left", "kicked". Panics on anything else, because
    /// teloxide could not parse the answer.
    pub fn set_chat_member_status(&self, chat_id: i64, user_id: i64, status: &str) {
        assert!(
            chat_member_json(user_id, status).is_some(),
            "set_chat_member_status: unknown status {status:?}; use creator, administrator, \
             member, restricted, left or kicked"
        );
        self.state()
            .member_status
            .insert((chat_id, user_id), status.to_owned());
    }

    /// Limits sendMessage overall: a send that would make more than
    /// `per_second` accepted sends within a sliding second gets 429 with
    /// retry_after 1.
    pub fn enforce_global_rate(&self, per_second: u32) {
        self.state().rate_limit = Some(per_second);
    }

    /// Records sent files by their length only, not their content.
    pub fn forget_file_contents(&self) {
        self.state().forget_file_contents = true;
    }

    /// The webhook set now (URL, secret token), if any.
    pub fn webhook(&self) -> Option<(String, Option<String>)> {
        self.state().webhook.clone()
    }

    /// How many 429s [`FakeApi::enforce_global_rate`] produced.
    pub fn rate_violations(&self) -> usize {
        self.state().rate_violations
    }

    /// The raw `text` parameter (HTML and all) of every accepted sendMessage
    /// to `chat_id`, in order.
    pub fn sent_texts(&self, chat_id: i64) -> Vec<String> {
        self.state()
            .sent
            .iter()
            .filter(|(chat, _)| *chat == chat_id)
            .map(|(_, text)| text.clone())
            .collect()
    }

    fn state(&self) -> MutexGuard<'_, ServerState> {
        self.inner.lock()
    }

    /// Summary for failure messages, e.g.
    /// "getme×1 (status 200), sendmessage×2 (status 200/429)".
    fn describe_requests(&self) -> String {
        let st = self.state();
        let mut order: Vec<&str> = Vec::new();
        let mut seen: HashMap<&str, Vec<u16>> = HashMap::new();
        for r in &st.requests {
            let statuses = seen.entry(r.method.as_str()).or_insert_with(|| {
                order.push(r.method.as_str());
                Vec::new()
            });
            statuses.push(r.status);
        }
        if order.is_empty() {
            return "none".into();
        }
        order
            .iter()
            .map(|m| {
                let mut statuses = seen[m].clone();
                statuses.sort_unstable();
                statuses.dedup();
                let statuses: Vec<String> = statuses.iter().map(u16::to_string).collect();
                format!("{m}×{} (status {})", seen[m].len(), statuses.join("/"))
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl Inner {
    /// Locks the state; a test that panicked while holding the lock must not
    /// turn every later call into a second, confusing panic.
    fn lock(&self) -> MutexGuard<'_, ServerState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn record(&self, method: &str, params: Value, at: Instant, status: u16) {
        self.lock().requests.push(Recorded {
            method: method.to_owned(),
            params,
            at,
            status,
        });
        self.request_recorded.notify_waiters();
    }
}

// ---------------------------------------------------------------------------
// HTTP handling
// ---------------------------------------------------------------------------

/// What the fake answers: an HTTP status and a Bot API JSON body.
struct Answer {
    status: u16,
    body: Value,
}

impl Answer {
    fn ok(result: Value) -> Answer {
        Answer {
            status: 200,
            body: json!({ "ok": true, "result": result }),
        }
    }

    fn error(status: u16, description: &str) -> Answer {
        Answer {
            status,
            body: json!({ "ok": false, "error_code": status, "description": description }),
        }
    }

    fn error_with(status: u16, description: &str, parameters: Value) -> Answer {
        Answer {
            status,
            body: json!({
                "ok": false,
                "error_code": status,
                "description": description,
                "parameters": parameters,
            }),
        }
    }

    fn bad_request(reason: &str) -> Answer {
        Answer::error(400, &format!("Bad Request: {reason}"))
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, axum::Json(self.body)).into_response()
    }
}

async fn handle_http(
    AxumState(inner): AxumState<Arc<Inner>>,
    uri: Uri,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Answer {
    let at = Instant::now();
    // The path is `/bot<TOKEN>/<Method>`; tolerate doubled slashes from an
    // API URL given with or without a trailing slash.
    let segments: Vec<String> = uri
        .path()
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let (token, method) = match segments.as_slice() {
        [bot_token, method] if bot_token.starts_with("bot") => {
            (&bot_token["bot".len()..], method.to_ascii_lowercase())
        }
        _ => {
            // Telegram answers an unknown path with 404 "Not Found".
            let answer = Answer::error(404, "Not Found");
            inner.record(uri.path(), json!({}), at, answer.status);
            return answer;
        }
    };

    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let params = match multipart_boundary(content_type) {
        Some(boundary) => parse_multipart(&body, &boundary),
        None => parse_body(&body),
    };
    let params = match params {
        Ok(params) if inner.lock().forget_file_contents => forget_file_contents(params),
        Ok(params) => params,
        Err(answer) => {
            inner.record(&method, json!({}), at, answer.status);
            return answer;
        }
    };

    if token != FakeApi::TOKEN {
        let answer = Answer::error(401, "Unauthorized");
        inner.record(&method, params, at, answer.status);
        return answer;
    }

    // Answer from a task of its own: when a client gives up on a hanging or
    // long-polling request, axum drops this future, and the request must
    // still be recorded.
    let task_inner = inner.clone();
    let task = tokio::spawn(async move { answer_method(&task_inner, &method, params, at).await });
    match task.await {
        Ok(answer) => answer,
        Err(e) => Answer::error(500, &format!("Internal Server Error: fake panicked: {e}")),
    }
}

/// An empty body means no parameters (teloxide sends none for e.g. getMe).
fn parse_body(body: &[u8]) -> Result<Value, Answer> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(Answer::bad_request(
            "the request body must be a JSON object",
        )),
        Err(e) => Err(Answer::bad_request(&format!(
            "the fake Bot API accepts only JSON bodies ({e})"
        ))),
    }
}

/// A file field's content replaced by its length in bytes (`content_len`).
fn forget_file_contents(mut params: Value) -> Value {
    if let Some(obj) = params.as_object_mut() {
        for field in obj.values_mut() {
            if let Some(content) = field.get("content").and_then(Value::as_str) {
                let len = content.len();
                field["content"] = Value::Null;
                field["content_len"] = json!(len);
            }
        }
    }
    params
}

/// The boundary of a `multipart/form-data` body (files: sendDocument).
fn multipart_boundary(content_type: &str) -> Option<String> {
    let rest = content_type.trim().strip_prefix("multipart/form-data")?;
    rest.split(';')
        .filter_map(|p| p.trim().strip_prefix("boundary="))
        .map(|b| b.trim_matches('"').to_owned())
        .next()
}

/// A multipart body as the same JSON object a JSON body would give: text fields as values
/// (JSON where they parse as an object or array, e.g. `reply_markup`), a file field as
/// `{"file_name", "content"}` (content as UTF-8 text, lossily).
fn parse_multipart(body: &[u8], boundary: &str) -> Result<Value, Answer> {
    let delimiter = format!("--{boundary}");
    let text = String::from_utf8_lossy(body);
    let mut params = serde_json::Map::new();
    for part in text.split(delimiter.as_str()).skip(1) {
        if part.starts_with("--") {
            break;
        }
        let part = part.strip_prefix("\r\n").unwrap_or(part);
        let Some((head, value)) = part.split_once("\r\n\r\n") else {
            return Err(Answer::bad_request("malformed multipart part"));
        };
        let value = value.strip_suffix("\r\n").unwrap_or(value);
        let attr = |name: &str| {
            head.split(';')
                .filter_map(|p| p.trim().strip_prefix(&format!("{name}=")))
                .map(|v| v.trim_matches('"').to_owned())
                .next()
        };
        let Some(name) = attr("name") else {
            return Err(Answer::bad_request("multipart part without a name"));
        };
        let field = match attr("filename").or_else(|| attr("filename*")) {
            Some(file_name) => json!({ "file_name": file_name, "content": value }),
            None => match serde_json::from_str::<Value>(value) {
                Ok(v @ (Value::Object(_) | Value::Array(_))) => v,
                _ => Value::String(value.to_owned()),
            },
        };
        params.insert(name, field);
    }
    // teloxide names a file part at random and points to it: `"document": "attach://<name>"`.
    let attached: Vec<(String, String)> = params
        .iter()
        .filter_map(|(k, v)| {
            let part = v.as_str()?.strip_prefix("attach://")?;
            Some((k.clone(), part.to_owned()))
        })
        .collect();
    for (field, part) in attached {
        if let Some(file) = params.remove(&part) {
            params.insert(field, file);
        }
    }
    Ok(Value::Object(params))
}

/// Decodes `%XX` escapes in a path segment, in case a client encodes the
/// token's ':'; malformed escapes are kept as they are.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn answer_method(inner: &Arc<Inner>, method: &str, params: Value, at: Instant) -> Answer {
    // Faults come first, in the order: queued per-method, per-chat, rate.
    let queued = inner
        .lock()
        .fail_next
        .get_mut(method)
        .and_then(VecDeque::pop_front);
    if let Some(fault) = queued {
        match fault.answer() {
            Some(answer) => {
                inner.record(method, params, at, answer.status);
                return answer;
            }
            None => hang(&fault).await,
        }
    }

    if method == "getupdates" && inner.lock().webhook.is_some() {
        let answer = Answer::error(
            409,
            "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
        );
        inner.record(method, params, at, answer.status);
        return answer;
    }
    if method == "getupdates" {
        // A long poll is recorded when it arrives, as Telegram sees it: tests wait for "the
        // bot is polling" and read the offset it confirms without waiting out the poll.
        inner.record(method, params.clone(), at, 200);
        return get_updates(inner, &params).await;
    }
    let answer = match method {
        "sendmessage" | "editmessagetext" => {
            let chat_fault =
                chat_id_of(&params).and_then(|chat| inner.lock().chat_faults.get(&chat).cloned());
            match chat_fault.as_ref().map(|f| (f, f.answer())) {
                Some((_, Some(answer))) => answer,
                Some((fault, None)) => {
                    hang(fault).await;
                    send_or_edit(inner, method, &params)
                }
                None => send_or_edit(inner, method, &params),
            }
        }
        "senddocument" => send_document(inner, &params),
        _ => simple_method(inner, method, &params),
    };
    inner.record(method, params, at, answer.status);
    answer
}

async fn hang(fault: &Fault) {
    if let Fault::Hang(d) = fault {
        tokio::time::sleep(*d).await;
    }
}

/// Posts updates to the webhook one after another, as Telegram does, with the secret token;
/// each post is recorded as `webhook` (`offset`: the next update id, as a poll would confirm;
/// `status`: the bot's answer). Ends when the webhook is deleted or replaced.
async fn deliver(
    inner: Arc<Inner>,
    url: String,
    secret: Option<String>,
    mut queue: tokio::sync::mpsc::UnboundedReceiver<Value>,
) {
    let Ok(parsed) = url::Url::parse(&url) else {
        return;
    };
    let Some(addr) = parsed
        .socket_addrs(|| Some(80))
        .ok()
        .and_then(|a| a.into_iter().next())
    else {
        return;
    };
    // Like Telegram with several connections (its default `max_connections` is 40): updates
    // of one chat in order, chats independently of each other.
    let connections = Arc::new(tokio::sync::Semaphore::new(40));
    let mut chats: HashMap<i64, tokio::sync::mpsc::UnboundedSender<Value>> = HashMap::new();
    while let Some(update) = queue.recv().await {
        let key = update_chat_key(&update);
        let worker = chats.entry(key).or_insert_with(|| {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Value>();
            let (inner, parsed, secret, connections) = (
                inner.clone(),
                parsed.clone(),
                secret.clone(),
                connections.clone(),
            );
            tokio::spawn(async move {
                while let Some(update) = rx.recv().await {
                    let _permit = connections.acquire().await;
                    post_update(&inner, addr, parsed.path(), secret.as_deref(), update).await;
                }
            });
            tx
        });
        let _ = worker.send(update);
    }
}

/// The chat (or, without one, the user) an update belongs to.
fn update_chat_key(update: &Value) -> i64 {
    for kind in [
        "message",
        "edited_message",
        "callback_query",
        "inline_query",
    ] {
        let u = &update[kind];
        if let Some(id) = u["chat"]["id"]
            .as_i64()
            .or_else(|| u["message"]["chat"]["id"].as_i64())
            .or_else(|| u["from"]["id"].as_i64())
        {
            return id;
        }
    }
    0
}

async fn post_update(
    inner: &Arc<Inner>,
    addr: SocketAddr,
    path: &str,
    secret: Option<&str>,
    update: Value,
) {
    let id = update["update_id"].as_i64().unwrap_or(0);
    let body = update.to_string();
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(s) = secret {
        headers.push(("X-Telegram-Bot-Api-Secret-Token", s));
    }
    // Telegram keeps an update it could not deliver and tries again: a bot that is down (a
    // stop, then a restart) gets it when it is back. When the webhook is deleted meanwhile,
    // the update goes back to getUpdates; after two minutes it is dropped.
    let started = Instant::now();
    let status = loop {
        match super::http::try_request(addr, "POST", path, &headers, body.as_bytes()).await {
            Ok((status, _)) => break status,
            Err(_) if started.elapsed() > Duration::from_secs(120) => return,
            Err(_) => {
                {
                    let mut st = inner.lock();
                    if st.webhook.is_none() {
                        // Deleted: the update waits for getUpdates again.
                        st.updates.push_back(update);
                        drop(st);
                        inner.updates_pushed.notify_waiters();
                        return;
                    }
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
    };
    inner.record(
        "webhook",
        json!({ "offset": id + 1, "update": update }),
        Instant::now(),
        status,
    );
}

/// Methods answered from fixed data or the configured chat members.
fn simple_method(inner: &Arc<Inner>, method: &str, params: &Value) -> Answer {
    match method {
        "getme" => Answer::ok(json!({
            "id": BOT_ID,
            "is_bot": true,
            "first_name": "Jianbao Test",
            "username": BOT_USERNAME,
            "can_join_groups": true,
            "can_read_all_group_messages": false,
            "supports_inline_queries": true,
            "can_connect_to_business": false,
            "has_main_web_app": false,
        })),
        "getwebhookinfo" => {
            let url = inner.lock().webhook.as_ref().map(|(u, _)| u.clone());
            Answer::ok(json!({
                "url": url.unwrap_or_default(),
                "has_custom_certificate": false,
                "pending_update_count": 0,
            }))
        }
        "setwebhook" => {
            let Some(url) = params.get("url").and_then(Value::as_str) else {
                return Answer::bad_request("url is required");
            };
            let secret = params
                .get("secret_token")
                .and_then(Value::as_str)
                .map(str::to_owned);
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            let mut st = inner.lock();
            // What was waiting for getUpdates goes to the webhook now.
            for update in st.updates.drain(..) {
                let _ = tx.send(update);
            }
            st.webhook = Some((url.to_owned(), secret.clone()));
            st.deliveries = Some(tx);
            drop(st);
            tokio::spawn(deliver(inner.clone(), url.to_owned(), secret, rx));
            Answer::ok(json!(true))
        }
        "deletewebhook" => {
            let mut st = inner.lock();
            st.webhook = None;
            st.deliveries = None;
            Answer::ok(json!(true))
        }
        "getchatmember" => {
            let (Some(chat), Some(user)) = (chat_id_of(params), int_param(params, "user_id"))
            else {
                return Answer::bad_request("chat_id and user_id are required");
            };
            let status = inner
                .lock()
                .member_status
                .get(&(chat, user))
                .cloned()
                .unwrap_or_else(|| "member".to_owned());
            match chat_member_json(user, &status) {
                Some(member) => Answer::ok(member),
                None => Answer::error(500, "Internal Server Error: bad member status"),
            }
        }
        // answerCallbackQuery, answerInlineQuery, setMyCommands,
        // deleteWebhook, deleteMyCommands and everything else the fake does
        // not model: Telegram answers `true` for most of them.
        _ => Answer::ok(json!(true)),
    }
}

/// Long polling: answers at once when updates are queued, otherwise waits
/// for a push (at most [`MAX_POLL_WAIT`]) and then answers `[]`.
async fn get_updates(inner: &Inner, params: &Value) -> Answer {
    let offset = int_param(params, "offset");
    let limit = int_param(params, "limit")
        .filter(|l| (1..=100).contains(l))
        .unwrap_or(100) as usize;
    let wait = int_param(params, "timeout")
        .map(|s| Duration::from_secs(s.max(0) as u64))
        .unwrap_or(Duration::ZERO)
        .min(MAX_POLL_WAIT);
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        // Register before looking so a push in between still wakes us.
        let pushed = inner.updates_pushed.notified();
        tokio::pin!(pushed);
        pushed.as_mut().enable();
        {
            let mut st = inner.lock();
            // An offset confirms every update below it: Telegram forgets them.
            if let Some(offset) = offset {
                while st
                    .updates
                    .front()
                    .and_then(|u| u["update_id"].as_i64())
                    .is_some_and(|id| id < offset)
                {
                    st.updates.pop_front();
                }
            }
            if !st.updates.is_empty() {
                let batch: Vec<Value> = st.updates.iter().take(limit).cloned().collect();
                return Answer::ok(Value::Array(batch));
            }
        }
        if tokio::time::timeout_at(deadline, pushed).await.is_err() {
            return Answer::ok(json!([]));
        }
    }
}

/// What a valid sendMessage/editMessageText asks for.
struct TextRequest<'a> {
    chat_id: Option<i64>,
    message_id: Option<i64>,
    /// Editing a message sent via inline mode: answered with `true`.
    inline: bool,
    text: &'a str,
    visible: String,
}

/// Checks the parameters of sendMessage/editMessageText the way Telegram
/// does: ids, HTML, emptiness, length, inline buttons.
fn validate_text_request<'a>(params: &'a Value, is_send: bool) -> Result<TextRequest<'a>, Answer> {
    let inline = !is_send
        && params
            .get("inline_message_id")
            .is_some_and(Value::is_string);
    let chat_id = chat_id_of(params);
    if chat_id.is_none() && !inline {
        // Non-numeric ids ("@channel") name chats the fake does not know.
        return Err(match params.get("chat_id") {
            None | Some(Value::Null) => Answer::bad_request("chat_id is empty"),
            Some(_) => Answer::bad_request("chat not found"),
        });
    }
    let message_id = int_param(params, "message_id");
    if !is_send && !inline && message_id.is_none() {
        return Err(Answer::bad_request("message identifier is not specified"));
    }

    let Some(text) = params.get("text").and_then(Value::as_str) else {
        return Err(Answer::bad_request("message text is empty"));
    };
    let is_html = params
        .get("parse_mode")
        .and_then(Value::as_str)
        .is_some_and(|m| m.eq_ignore_ascii_case("html"));
    let visible = if is_html {
        parse_telegram_html(text)
            .map_err(|reason| Answer::bad_request(&format!("can't parse entities: {reason}")))?
    } else {
        text.to_owned()
    };
    if visible.trim().is_empty() {
        return Err(Answer::bad_request("message text is empty"));
    }
    if visible.encode_utf16().count() > MAX_MESSAGE_LEN {
        // Telegram words the same problem differently for edits.
        return Err(if is_send {
            Answer::bad_request("message is too long")
        } else {
            Answer::bad_request("MESSAGE_TOO_LONG")
        });
    }
    check_reply_markup(params)?;
    Ok(TextRequest {
        chat_id,
        message_id,
        inline,
        text,
        visible,
    })
}

/// sendMessage and editMessageText after the per-method and per-chat
/// faults: the global rate limit (sends only), validation, and the
/// resulting Message.
fn send_or_edit(inner: &Inner, method: &str, params: &Value) -> Answer {
    let is_send = method == "sendmessage";
    // Validated before taking the lock, applied after the rate check: a
    // flood wait takes precedence, and only accepted sends use up the rate.
    let validated = validate_text_request(params, is_send);

    let mut st = inner.lock();
    if is_send && let Some(limit) = st.rate_limit {
        // Sliding window over the times sends were accepted. Taken now, not
        // at arrival, so a hung request cannot land out of order in it.
        let at = Instant::now();
        while st
            .recent_sends
            .front()
            .is_some_and(|t| at.saturating_duration_since(*t) >= Duration::from_secs(1))
        {
            st.recent_sends.pop_front();
        }
        if st.recent_sends.len() >= limit as usize {
            st.rate_violations += 1;
            return Answer::error_with(
                429,
                "Too Many Requests: retry after 1",
                json!({ "retry_after": 1 }),
            );
        }
        if validated.is_ok() {
            st.recent_sends.push_back(at);
        }
    }
    let request = match validated {
        Ok(request) => request,
        Err(answer) => return answer,
    };
    if request.inline {
        return Answer::ok(json!(true));
    }

    let chat_id = request.chat_id.unwrap_or_default();
    let message_id = if is_send {
        st.last_message_id += 1;
        st.sent.push((chat_id, request.text.to_owned()));
        i64::from(st.last_message_id)
    } else {
        request.message_id.unwrap_or_default()
    };
    drop(st);

    let mut message = json!({
        "message_id": message_id,
        "date": unix_now(),
        "chat": chat_json(chat_id, if chat_id > 0 { "private" } else { "supergroup" }),
        "from": bot_user_json(),
        "text": request.visible,
    });
    if !is_send {
        message["edit_date"] = json!(unix_now());
    }
    // Echo an inline keyboard so the returned Message carries it, as
    // Telegram's does; other keyboards do not belong on a Message.
    if let Some(markup) = params.get("reply_markup")
        && markup.get("inline_keyboard").is_some()
    {
        message["reply_markup"] = markup.clone();
    }
    Answer::ok(message)
}

/// Telegram's limit on a caption, counted after entity parsing.
const MAX_CAPTION: usize = 1024;

/// sendDocument: a file (multipart) with an optional HTML caption, validated as Telegram
/// does; the answer is a Message with a `document`.
fn send_document(inner: &Inner, params: &Value) -> Answer {
    let Some(chat_id) = chat_id_of(params) else {
        return Answer::bad_request("chat_id is empty");
    };
    let Some(document) = params.get("document") else {
        return Answer::bad_request("there is no document in the request");
    };
    let Some(file_name) = document.get("file_name").and_then(Value::as_str) else {
        return Answer::bad_request("wrong file identifier/HTTP URL specified");
    };
    let caption = params.get("caption").and_then(Value::as_str).unwrap_or("");
    let is_html = params
        .get("parse_mode")
        .and_then(Value::as_str)
        .is_some_and(|m| m.eq_ignore_ascii_case("html"));
    let visible = if is_html {
        match parse_telegram_html(caption) {
            Ok(v) => v,
            Err(reason) => {
                return Answer::bad_request(&format!("can't parse entities: {reason}"));
            }
        }
    } else {
        caption.to_owned()
    };
    if visible.encode_utf16().count() > MAX_CAPTION {
        return Answer::bad_request("message caption is too long");
    }
    if let Err(answer) = check_reply_markup(params) {
        return answer;
    }
    let mut st = inner.lock();
    st.last_message_id += 1;
    let message_id = i64::from(st.last_message_id);
    drop(st);
    Answer::ok(json!({
        "message_id": message_id,
        "date": unix_now(),
        "chat": chat_json(chat_id, if chat_id > 0 { "private" } else { "supergroup" }),
        "from": bot_user_json(),
        "caption": visible,
        "document": {
            "file_id": format!("doc{message_id}"),
            "file_unique_id": format!("u{message_id}"),
            "file_name": file_name,
            "mime_type": "text/markdown",
            "file_size": document.get("content").and_then(Value::as_str).map_or(0, str::len),
        },
    }))
}

/// Telegram rejects inline buttons whose callback data is empty or longer
/// than 64 bytes; bots that build data from titles hit this.
fn check_reply_markup(params: &Value) -> Result<(), Answer> {
    let rows = params
        .get("reply_markup")
        .and_then(|m| m.get("inline_keyboard"))
        .and_then(Value::as_array);
    for button in rows
        .into_iter()
        .flatten()
        .flat_map(|row| row.as_array().map(|r| r.iter()).into_iter().flatten())
    {
        if let Some(data) = button.get("callback_data") {
            let len = data.as_str().map_or(0, str::len);
            if len == 0 || len > MAX_CALLBACK_DATA {
                return Err(Answer::bad_request("BUTTON_DATA_INVALID"));
            }
        }
    }
    Ok(())
}

fn int_param(params: &Value, name: &str) -> Option<i64> {
    match params.get(name)? {
        Value::Number(n) => n.as_i64(),
        // Telegram accepts numbers given as strings.
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn chat_id_of(params: &Value) -> Option<i64> {
    int_param(params, "chat_id")
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn bot_user_json() -> Value {
    json!({
        "id": BOT_ID,
        "is_bot": true,
        "first_name": "Jianbao Test",
        "username": BOT_USERNAME,
    })
}

fn tester_json(user_id: i64) -> Value {
    json!({
        "id": user_id,
        "is_bot": false,
        "first_name": "Tester",
        "username": "tester",
    })
}

/// A Chat object teloxide parses: `type` decides the variant, private chats
/// carry a first name and the others a title.
fn chat_json(chat_id: i64, chat_type: &str) -> Value {
    if chat_type == "private" {
        json!({ "id": chat_id, "type": "private", "first_name": "Tester" })
    } else {
        json!({ "id": chat_id, "type": chat_type, "title": "Test Group" })
    }
}

/// A ChatMember object with every field teloxide requires for `status`;
/// `None` for a status teloxide does not know.
fn chat_member_json(user_id: i64, status: &str) -> Option<Value> {
    let mut member = json!({
        "status": status,
        "user": { "id": user_id, "is_bot": false, "first_name": "Tester" },
    });
    let extra = match status {
        "creator" => json!({ "is_anonymous": false }),
        "administrator" => json!({
            "is_anonymous": false,
            "can_be_edited": false,
            "can_manage_chat": true,
            "can_change_info": true,
            "can_post_messages": false,
            "can_edit_messages": false,
            "can_delete_messages": true,
            "can_post_stories": false,
            "can_edit_stories": false,
            "can_delete_stories": false,
            "can_manage_video_chats": true,
            "can_invite_users": true,
            "can_restrict_members": true,
            "can_pin_messages": true,
            "can_manage_topics": false,
            "can_promote_members": false,
        }),
        "member" | "left" => json!({}),
        "restricted" => json!({
            "until_date": 0,
            "is_member": true,
            "can_send_messages": false,
            "can_send_audios": false,
            "can_send_documents": false,
            "can_send_photos": false,
            "can_send_videos": false,
            "can_send_video_notes": false,
            "can_send_voice_notes": false,
            "can_send_other_messages": false,
            "can_add_web_page_previews": false,
            "can_change_info": false,
            "can_invite_users": false,
            "can_pin_messages": false,
            "can_manage_topics": false,
            "can_send_polls": false,
        }),
        "kicked" => json!({ "until_date": 0 }),
        _ => return None,
    };
    if let (Some(m), Value::Object(extra)) = (member.as_object_mut(), extra) {
        m.extend(extra);
    }
    Some(member)
}

// ---------------------------------------------------------------------------
// Update builders
// ---------------------------------------------------------------------------

/// Incoming message ids start high so they never collide with the ids the
/// fake gives the bot's own messages (which start at 1).
static NEXT_INCOMING_MESSAGE_ID: AtomicI32 = AtomicI32::new(1_000_000);
static NEXT_QUERY_ID: AtomicU64 = AtomicU64::new(1);

/// An update with a text message from user `user_id` (first name "Tester",
/// username "tester") in chat `chat_id` of type `chat_type` ("private",
/// "group" or "supergroup"). A text starting with '/' gets a `bot_command`
/// entity over its first word, as Telegram adds one.
pub fn text_message(chat_id: i64, chat_type: &str, user_id: i64, text: &str) -> Value {
    let message_id = NEXT_INCOMING_MESSAGE_ID.fetch_add(1, Ordering::Relaxed);
    let mut message = json!({
        "message_id": message_id,
        "date": unix_now(),
        "chat": chat_json(chat_id, chat_type),
        "from": tester_json(user_id),
        "text": text,
    });
    if text.starts_with('/') {
        let command = text.split_whitespace().next().unwrap_or(text);
        message["entities"] = json!([{
            "type": "bot_command",
            "offset": 0,
            "length": command.encode_utf16().count(),
        }]);
    }
    json!({ "message": message })
}

/// An update with a press on an inline button with `data` under the bot's
/// message `message_id` in chat `chat_id`.
pub fn callback_query(chat_id: i64, user_id: i64, message_id: i32, data: &str) -> Value {
    let id = NEXT_QUERY_ID.fetch_add(1, Ordering::Relaxed);
    let chat_type = if chat_id > 0 { "private" } else { "supergroup" };
    json!({
        "callback_query": {
            "id": format!("cbq-{id}"),
            "from": tester_json(user_id),
            "chat_instance": format!("instance-{chat_id}"),
            "data": data,
            "message": {
                "message_id": message_id,
                "date": unix_now(),
                "chat": chat_json(chat_id, chat_type),
                "from": bot_user_json(),
                "text": "…",
            },
        }
    })
}

/// An update with an inline query `query` from user `user_id`.
pub fn inline_query(user_id: i64, query: &str) -> Value {
    let id = NEXT_QUERY_ID.fetch_add(1, Ordering::Relaxed);
    json!({
        "inline_query": {
            "id": format!("iq-{id}"),
            "from": tester_json(user_id),
            "query": query,
            "offset": "",
        }
    })
}
