//! Alerts (saved searches) end to end: the real rescan task (folder watcher), the alert
//! pusher, the production outbox and the real teloxide dispatcher, against the fake Bot API on
//! a thread of its own (Telegram is another machine).
//!
//!     cargo bench --bench alerts -- ../shared/corpus/xwlb [BASE_FILES]
//!
//! 1. **File → alert latency.** BASE_FILES (default 2,000) articles of the corpus are copied
//!    into a fresh seeds folder and indexed; 100 chats each save an alert with a word of its
//!    own. Then 100 files are written one at a time, each matching one chat's alert; timed
//!    from the file's write to the fake's record of that chat's sendMessage (watcher debounce,
//!    sync, matching, send). p50/p99/max.
//! 2. **Fan-out beside searches.** 1,000 chats save `/alert 芯片`; one matching file lands;
//!    while the pusher sends 1,000 alerts through the shared outbox (bulk priority, 30/s
//!    overall), a user search from a new private chat arrives every 250 ms on average
//!    (irregular gaps, so that arrivals fall anywhere in the outbox's pacing slots) through the real
//!    dispatcher. Timed: each search's update push → its reply's sendMessage record; and the
//!    fan-out's wall time. Every alert chat must get exactly one message.

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use jianbao::app::{App, ChatKind, Incoming};
use jianbao::config::Settings;
use jianbao::index::SearchIndex;
use jianbao::scheduler::DigestSender;
use jianbao::store::Store;
use support::bot_harness::BenchBot;
use support::text_message;

const LATENCY_FILES: usize = 100;
const FAN_OUT_CHATS: i64 = 1000;
const SEARCH_PACE: Duration = Duration::from_millis(250);
const SEARCHES: usize = 80;

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)].as_secs_f64() * 1e3
}

fn copy_base(corpus: &Path, to: &Path, n: usize) -> usize {
    let mut names: Vec<PathBuf> = std::fs::read_dir(corpus)
        .expect("read corpus")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    names.sort();
    names.truncate(n);
    for p in &names {
        let name = p.file_name().expect("a file name");
        std::fs::copy(p, to.join(name)).expect("copy");
    }
    names.len()
}

fn article(title: &str, body: &str, i: usize) -> String {
    format!(
        "---\ntitle: {title}\nurl: https://example.com/alert/{i}\nsource: 基准\ndate: 2024-07-20\n---\n\n{body}\n"
    )
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let corpus = PathBuf::from(
        args.first()
            .cloned()
            .unwrap_or_else(|| "../shared/corpus/xwlb".to_owned()),
    );
    let base: usize = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(2000);
    if !corpus.is_dir() {
        eprintln!("corpus folder {} not found", corpus.display());
        return ExitCode::from(2);
    }
    jianbao::text::warm_up();
    let seeds = tempfile::tempdir().expect("seeds");
    let data = tempfile::tempdir().expect("data");
    let copied = copy_base(&corpus, seeds.path(), base);
    let index = Arc::new(SearchIndex::open(data.path()).expect("open index"));
    index.sync(seeds.path(), None).expect("index");
    let store = Arc::new(Store::open(data.path()).expect("store"));
    let app = Arc::new(App::new(
        index.clone(),
        store.clone(),
        Settings::default(),
        seeds.path().to_path_buf(),
    ));
    println!(
        "alerts bench: {copied} base articles of {}, fake Bot API on its own thread",
        corpus.display()
    );

    // The fake Bot API on a thread of its own, the bot on the runtime `serve` uses.
    let BenchBot {
        fake,
        fake_thread,
        rt: bot_rt,
        outbox,
        running,
    } = BenchBot::start(app.clone());
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let alerts = app.alerts();
    let arrived = alerts.clone();
    let sender: Arc<dyn DigestSender> = outbox.clone();
    let tasks = vec![
        bot_rt.spawn(jianbao::alerts::run(alerts, sender, stop_rx.clone())),
        bot_rt.spawn(jianbao::rescan::run(
            index.clone(),
            seeds.path().to_path_buf(),
            Duration::from_secs(60),
            Arc::new(move || arrived.articles_arrived()),
            stop_rx,
        )),
    ];
    // Let the watcher start.
    std::thread::sleep(Duration::from_secs(1));
    let mut failures = Vec::new();

    // 1. One file at a time, each for one chat's alert.
    let say = |chat: i64, text: &str| {
        let msg = Incoming {
            chat_id: chat,
            kind: ChatKind::Private,
            user_id: chat,
            text: text.to_owned(),
            sender_is_chat_admin: true,
        };
        app.handle_message(&msg, Utc::now())
    };
    let codes: Vec<String> = (0..LATENCY_FILES)
        .map(|i| format!("甲乙代号{i:03}"))
        .collect();
    for (i, code) in codes.iter().enumerate() {
        say(700_000 + i as i64, &format!("/alert {code}"));
    }
    let mut latencies = Vec::new();
    for (i, code) in codes.iter().enumerate() {
        let chat = 700_000 + i as i64;
        let path = seeds.path().join(format!("latency{i:03}.txt"));
        let text = article(
            &format!("{code}项目进展"),
            &format!("{code}项目今天公布了新的进展，第{i}期工程开工。"),
            i,
        );
        let written = Instant::now();
        std::fs::write(&path, text).expect("write");
        let deadline = written + Duration::from_secs(30);
        loop {
            let found = fake
                .requests_for("sendmessage")
                .into_iter()
                .find(|r| r.params["chat_id"].as_i64() == Some(chat));
            if let Some(r) = found {
                latencies.push(r.at.duration_since(written));
                break;
            }
            if Instant::now() > deadline {
                failures.push(format!("file {i}: no alert within 30 s"));
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    latencies.sort();
    println!(
        "file written -> alert sendMessage, {} files one at a time: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms (watcher debounce {} ms included)",
        latencies.len(),
        pct(&latencies, 0.5),
        pct(&latencies, 0.99),
        pct(&latencies, 1.0),
        jianbao::rescan::DEBOUNCE.as_millis()
    );

    // 2. 1,000 chats with the same alert, and user searches meanwhile.
    let after = jianbao::digest::max_seq(&index.searcher());
    let chats: Vec<i64> = (1..=FAN_OUT_CHATS).map(|i| 8_000_000 + i).collect();
    for &c in &chats {
        store
            .add_alert(c, "芯片", after, 10, Utc::now().timestamp())
            .expect("add")
            .expect("saved");
    }
    let base_sends = fake.requests_for("sendmessage").len();
    let fan_out_started = Instant::now();
    std::fs::write(
        seeds.path().join("chip.txt"),
        article("芯片工厂投产", "国产芯片工厂今天投产。", 100_000),
    )
    .expect("write");
    let driver = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("driver runtime");
    let search_chats: Vec<i64> = (0..SEARCHES as i64).map(|i| 9_000_000 + i).collect();
    let pushed: Vec<(i64, Instant)> = driver.block_on(async {
        // Searches start once the fan-out is under way.
        while fake.requests_for("sendmessage").len() < base_sends + 30 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let mut pushed = Vec::new();
        // Irregular gaps (150–350 ms, 250 on average): a fixed 250 ms pace is exactly 7 of
        // the outbox's 35.7 ms slots and would always land at the same point of a slot.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for (i, &chat) in search_chats.iter().enumerate() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let gap = SEARCH_PACE - Duration::from_millis(100) + Duration::from_millis(state % 201);
            tokio::time::sleep(gap).await;
            let q = ["经济 发展", "乡村振兴", "人工智能", "科技创新"][i % 4];
            let push = Instant::now();
            fake.push_update(text_message(chat, "private", chat, q));
            pushed.push((chat, push));
        }
        pushed
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    while chats.iter().any(|c| fake.sent_texts(*c).is_empty()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let fan_out = fan_out_started.elapsed();
    std::thread::sleep(Duration::from_millis(500));
    let sent = fake.requests_for("sendmessage");
    let mut replies = Vec::new();
    for (chat, push) in &pushed {
        let to_chat: Vec<_> = sent
            .iter()
            .filter(|r| r.params["chat_id"].as_i64() == Some(*chat))
            .collect();
        if to_chat.len() == 1 {
            replies.push(to_chat[0].at.duration_since(*push));
        } else {
            failures.push(format!("search chat {chat}: {} replies", to_chat.len()));
        }
    }
    let exactly_once = chats
        .iter()
        .filter(|c| fake.sent_texts(**c).len() == 1)
        .count();
    if exactly_once != chats.len() {
        failures.push(format!(
            "{} of {} alert chats got exactly one message",
            exactly_once,
            chats.len()
        ));
    }
    replies.sort();
    println!(
        "fan-out: {} chats with the same alert, all sent in {:.1} s ({:.1}/s), {} got exactly one message",
        chats.len(),
        fan_out.as_secs_f64(),
        chats.len() as f64 / fan_out.as_secs_f64(),
        exactly_once
    );
    println!(
        "  {} searches from new chats meanwhile, one every {} ms on average (irregular): push -> reply p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        replies.len(),
        SEARCH_PACE.as_millis(),
        pct(&replies, 0.5),
        pct(&replies, 0.99),
        pct(&replies, 1.0)
    );

    let _ = stop.send(true);
    bot_rt.block_on(async {
        for t in tasks {
            let _ = t.await;
        }
        running.stop().await;
    });
    fake_thread.stop();
    if failures.is_empty() {
        println!("check: every alert arrived once, every search got one reply: OK");
        ExitCode::SUCCESS
    } else {
        for f in &failures {
            println!("FAILED: {f}");
        }
        ExitCode::from(1)
    }
}
