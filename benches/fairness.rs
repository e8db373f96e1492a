//! Fairness under a flood of many chats: does a chat with one message get its answer while
//! fifty others flood the bot? The real bot (dispatcher, per-chat queues, `Outbox::new` with
//! Telegram's limits) against the fake Bot API on its own thread, on a real corpus.
//!
//!     cargo bench --bench fairness -- ../shared/corpus/xwlb
//!
//! 1. `CHATS` private chats each send `PER_CHAT` searches at once (each chat's backlog keeps
//!    10 of them and drops the rest with one notice).
//! 2. When the flood has been answering for `LONE_AFTER`, `LONE` new chats, one every
//!    `LONE_EVERY`, each send one search: the user "in the middle" of the flood.
//!
//! Reported: push→reply of the lone chats (median, max), the first reply of every flooding
//! chat (median, max), sends in all and the rate the fake saw, and whether any lone chat got
//! no reply. Exit status 1 if a lone chat got none.

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jianbao::app::App;
use jianbao::config::Settings;
use jianbao::index::SearchIndex;
use jianbao::store::Store;
use support::bot_harness::BenchBot;
use support::text_message;

const CHATS: i64 = 50;
const PER_CHAT: usize = 30;
const LONE: i64 = 10;
const LONE_AFTER: Duration = Duration::from_secs(3);
const LONE_EVERY: Duration = Duration::from_millis(700);
const WAIT: Duration = Duration::from_secs(60);
const FLOOD_BASE: i64 = 10_000;
const LONE_BASE: i64 = 20_000;

const WORDS: [&str; 10] = [
    "经济", "改革", "合作", "发展", "科技", "农业", "教育", "国际", "会议", "创新",
];

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median_max(mut v: Vec<Duration>) -> String {
    if v.is_empty() {
        return "none".to_owned();
    }
    v.sort();
    format!(
        "median {:.0} ms, max {:.0} ms (n = {})",
        ms(v[v.len() / 2]),
        ms(v[v.len() - 1]),
        v.len()
    )
}

fn main() -> ExitCode {
    let corpus: PathBuf = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../shared/corpus/xwlb"));
    if !corpus.is_dir() {
        eprintln!("corpus folder {} not found", corpus.display());
        return ExitCode::from(2);
    }
    jianbao::text::warm_up();
    let data = tempfile::tempdir().expect("tempdir");
    let index = Arc::new(SearchIndex::open(data.path()).expect("open index"));
    let synced = index.sync(&corpus, None).expect("index the corpus");
    println!("corpus: {} ({} docs)", corpus.display(), synced.added);
    let store = Arc::new(Store::open(data.path()).expect("open store"));
    let app = Arc::new(App::new(index, store, Settings::default(), corpus.clone()));
    let bot = BenchBot::start(app);
    let fake = bot.fake.clone();
    let driver = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("driver runtime");

    let (lone, first, sends, span, missing) = driver.block_on(async {
        fake.wait_for("getupdates", 1, WAIT).await;
        let start = Instant::now();
        for round in 0..PER_CHAT {
            for chat in 0..CHATS {
                let q = format!(
                    "{} {}",
                    WORDS[round % WORDS.len()],
                    WORDS[chat as usize % 10]
                );
                fake.push_update(text_message(
                    FLOOD_BASE + chat,
                    "private",
                    FLOOD_BASE + chat,
                    &q,
                ));
            }
        }
        tokio::time::sleep(LONE_AFTER).await;
        let mut pushed = Vec::new();
        for i in 0..LONE {
            let chat = LONE_BASE + i;
            pushed.push((chat, Instant::now()));
            fake.push_update(text_message(chat, "private", chat, WORDS[i as usize % 10]));
            tokio::time::sleep(LONE_EVERY).await;
        }
        // Every chat's backlog: 10 replies and a notice per flooding chat, one per lone chat.
        let want = CHATS as usize * 11 + LONE as usize;
        let deadline = Instant::now() + WAIT;
        let all = loop {
            let all = fake.requests_for("sendmessage");
            if all.len() >= want || Instant::now() > deadline {
                break all;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let to = |chat: i64| {
            all.iter()
                .find(|r| r.params["chat_id"].as_i64() == Some(chat))
        };
        let mut lone = Vec::new();
        let mut missing = 0;
        for (chat, at) in &pushed {
            match to(*chat) {
                Some(r) => lone.push(r.at.duration_since(*at)),
                None => missing += 1,
            }
        }
        if std::env::var_os("FAIRNESS_TRACE").is_some() {
            for c in 0..CHATS {
                let times: Vec<String> = all
                    .iter()
                    .filter(|r| r.params["chat_id"].as_i64() == Some(FLOOD_BASE + c))
                    .map(|r| format!("{:.1}", r.at.duration_since(start).as_secs_f64()))
                    .collect();
                eprintln!("chat {c}: {}", times.join(" "));
            }
        }
        let first: Vec<Duration> = (0..CHATS)
            .filter_map(|c| to(FLOOD_BASE + c).map(|r| r.at.duration_since(start)))
            .collect();
        let span = all
            .last()
            .map_or(Duration::ZERO, |r| r.at.duration_since(start));
        (lone, first, all.len(), span, missing)
    });
    bot.rt.block_on(bot.running.stop());
    println!(
        "flood: {CHATS} chats x {PER_CHAT} searches at once; {LONE} lone chats with one search each, from {:.0} s, one every {} ms",
        LONE_AFTER.as_secs_f64(),
        LONE_EVERY.as_millis()
    );
    println!("  lone chat push→reply:        {}", median_max(lone));
    println!("  flooding chats' first reply: {}", median_max(first));
    println!(
        "  sends: {sends} in {:.1} s ({:.1}/s)",
        span.as_secs_f64(),
        sends as f64 / span.as_secs_f64().max(0.001)
    );
    if missing > 0 {
        println!("  FAIL: {missing} lone chats got no reply");
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
