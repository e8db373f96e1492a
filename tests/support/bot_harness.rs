//! The whole bot in the test's process (index, store, `App`, outbox, dispatcher) against a
//! [`FakeApi`], with helpers that push updates and wait for the replies.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use jianbao::app::App;
use jianbao::bot::{Outbox, Running};
use jianbao::config::Settings;
use jianbao::index::SearchIndex;
use jianbao::store::Store;
use serde_json::Value;

use super::{FakeApi, check_telegram_html, text_message};

/// Long polling, or a webhook the fake posts updates to: the test crate `webhook_mode` runs
/// the acceptance tests of `bot.rs` with the webhook (the same tests, the other mode).
pub fn updates_mode() -> jianbao::service::Updates {
    if env!("CARGO_CRATE_NAME") != "webhook_mode" {
        return jianbao::service::Updates::Polling;
    }
    let port = super::http::free_port();
    jianbao::service::Updates::Webhook(jianbao::service::Webhook {
        url: url::Url::parse(&format!("http://127.0.0.1:{port}/tg/hook")).expect("a URL"),
        listen: ([127, 0, 0, 1], port).into(),
        secret: "test-secret_123".to_owned(),
    })
}

/// How long a test waits for a reply before it fails.
pub const WAIT: Duration = Duration::from_secs(10);

pub struct BotHarness {
    pub fake: FakeApi,
    running: Option<Running>,
    pub seeds: tempfile::TempDir,
    pub data: tempfile::TempDir,
}

impl BotHarness {
    /// Fresh seeds and data folders, `write_corpus` fills the seeds, the index is built and
    /// the bot started with `settings`.
    pub async fn new(settings: Settings, write_corpus: fn(&Path)) -> BotHarness {
        let seeds = tempfile::tempdir().expect("seeds folder");
        let data = tempfile::tempdir().expect("data folder");
        write_corpus(seeds.path());
        let fake = FakeApi::start().await;
        let mut h = BotHarness {
            fake,
            running: None,
            seeds,
            data,
        };
        h.start(settings).await;
        h
    }

    async fn start(&mut self, settings: Settings) {
        let index = Arc::new(SearchIndex::open(self.data.path()).expect("open index"));
        index.sync(self.seeds.path(), None).expect("sync index");
        let store = Arc::new(Store::open(self.data.path()).expect("open store"));
        let app = Arc::new(App::new(
            index,
            store,
            settings,
            self.seeds.path().to_path_buf(),
        ));
        let outbox = Arc::new(Outbox::new(self.fake.bot(), FakeApi::TOKEN.to_owned()));
        self.running = Some(
            jianbao::bot::start_with(
                app,
                outbox,
                FakeApi::TOKEN,
                &updates_mode(),
                jianbao::service::health::Signals::new(),
            )
            .await
            .expect("start bot"),
        );
    }

    /// Stops the bot and starts it again on the same folders (a process restart, minus
    /// the process).
    pub async fn restart(&mut self, settings: Settings) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
        self.start(settings).await;
    }

    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
    }

    /// Sends a text update and returns the next sendMessage call's params.
    pub async fn say(&self, chat_id: i64, chat_type: &str, user_id: i64, text: &str) -> Value {
        let before = self.fake.requests_for("sendmessage").len();
        self.fake
            .push_update(text_message(chat_id, chat_type, user_id, text));
        let sent = self.fake.wait_for("sendmessage", before + 1, WAIT).await;
        sent[before].params.clone()
    }

    /// Pushes an update and returns the text of the next sendMessage, checked by
    /// [`valid_html`].
    pub async fn reply_to(&self, update: Value) -> String {
        let before = self.fake.requests_for("sendmessage").len();
        self.fake.push_update(update);
        let sent = self.fake.wait_for("sendmessage", before + 1, WAIT).await;
        valid_html(&sent[before].params)
    }

    /// Sends a text update and checks that no message is sent in reply.
    pub async fn say_nothing_back(&self, chat_id: i64, chat_type: &str, text: &str) {
        let before = self.fake.requests_for("sendmessage").len();
        self.fake
            .push_update(text_message(chat_id, chat_type, 7, text));
        // The update was fetched and dispatched; give its handler a moment.
        self.fake.wait_fetched(WAIT).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(
            self.fake.requests_for("sendmessage").len(),
            before,
            "unexpected reply to {text:?}"
        );
    }

    /// Pushes `ignored`, then `sentinel` (an update in the same chat that is answered):
    /// updates of one chat are handled in order, so once the sentinel's reply is out the
    /// ignored updates were handled too. Asserts that the sentinel's was the only reply and
    /// returns it.
    pub async fn ignored_then(&self, ignored: Vec<Value>, sentinel: Value) -> String {
        let before = self.fake.requests_for("sendmessage").len();
        for update in ignored {
            self.fake.push_update(update);
        }
        self.fake.push_update(sentinel);
        let sent = self.fake.wait_for("sendmessage", before + 1, WAIT).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let all = self.fake.requests_for("sendmessage");
        assert_eq!(
            all.len(),
            before + 1,
            "only the sentinel is answered; replies: {:#?}",
            all[before..]
                .iter()
                .map(|r| r.params["text"].clone())
                .collect::<Vec<_>>()
        );
        valid_html(&sent[before].params)
    }

    /// Pushes updates of chats that get no sentinel (channels) and checks that no message,
    /// edit or Bot API call other than polling follows.
    pub async fn ignored(&self, updates: Vec<Value>) {
        // Start-up calls (getMe, setMyCommands, deleteWebhook) are over once polling began.
        self.fake.wait_for("getupdates", 1, WAIT).await;
        let calls_before = self.non_polling_calls();
        for update in updates {
            self.fake.push_update(update);
        }
        self.fake.wait_fetched(WAIT).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(self.non_polling_calls(), calls_before);
    }

    /// Every Bot API call so far but `getUpdates`, as "method params".
    pub fn non_polling_calls(&self) -> Vec<String> {
        self.fake
            .requests()
            .into_iter()
            .filter(|r| r.method != "getupdates")
            .map(|r| format!("{} {}", r.method, r.params))
            .collect()
    }

    /// Pushes callback queries and returns the answerCallbackQuery params of each, in order.
    /// They go in groups of half what one chat may have in progress at once (more are a
    /// flood the bot drops without answering; half, because a task ends a moment after its
    /// answer was recorded here), each group answered before the next.
    pub async fn press(&self, updates: Vec<Value>) -> Vec<Value> {
        let mut all = Vec::new();
        for chunk in updates.chunks(jianbao::bot::PRESSES_IN_FLIGHT / 2) {
            all.extend(self.press_together(chunk.to_vec()).await);
        }
        all
    }

    async fn press_together(&self, updates: Vec<Value>) -> Vec<Value> {
        let ids: Vec<String> = updates
            .iter()
            .map(|u| {
                u["callback_query"]["id"]
                    .as_str()
                    .expect("callback id")
                    .to_owned()
            })
            .collect();
        let before = self.fake.requests_for("answercallbackquery").len();
        for update in updates {
            self.fake.push_update(update);
        }
        let answers = self
            .fake
            .wait_for("answercallbackquery", before + ids.len(), WAIT)
            .await;
        ids.iter()
            .map(|id| {
                answers
                    .iter()
                    .find(|a| a.params["callback_query_id"] == id.as_str())
                    .unwrap_or_else(|| panic!("callback query {id} not answered"))
                    .params
                    .clone()
            })
            .collect()
    }
}

/// The text of a sendMessage/editMessageText call, after checking that it is HTML parse
/// mode, valid for Telegram and within 4096 visible characters.
pub fn valid_html(params: &Value) -> String {
    let text = params["text"].as_str().expect("text").to_owned();
    assert_eq!(params["parse_mode"], "HTML");
    let len = check_telegram_html(&text).unwrap_or_else(|e| panic!("invalid HTML ({e}):\n{text}"));
    assert!(len <= 4096, "{len} characters");
    text
}

/// The inline keyboard of a message, as (label, callback data) pairs.
pub fn buttons(params: &Value) -> Vec<(String, String)> {
    params["reply_markup"]["inline_keyboard"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .flat_map(|r| r.as_array().into_iter().flatten())
                .map(|b| {
                    (
                        b["text"].as_str().unwrap_or_default().to_owned(),
                        b["callback_data"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The bot as a benchmark runs it: the fake Bot API on a thread and runtime of its own
/// (Telegram is another machine), the bot on a multi-thread runtime as in `serve`.
pub struct BenchBot {
    pub fake: FakeApi,
    pub fake_thread: super::FakeThread,
    pub rt: tokio::runtime::Runtime,
    pub outbox: Arc<Outbox>,
    pub running: Running,
}

impl BenchBot {
    pub fn start(app: Arc<App>) -> BenchBot {
        let (fake, fake_thread) = FakeApi::start_on_own_thread();
        let rt = tokio::runtime::Runtime::new().expect("bot runtime");
        let outbox = Arc::new(Outbox::new(fake.bot(), FakeApi::TOKEN.to_owned()));
        let running = rt
            .block_on(jianbao::bot::start(app, outbox.clone(), FakeApi::TOKEN))
            .expect("start the bot");
        BenchBot {
            fake,
            fake_thread,
            rt,
            outbox,
            running,
        }
    }
}
