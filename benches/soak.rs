//! Load and soak: the real `jianbao serve` process against a fake Bot API server on 127.0.0.1
//! that enforces 30 sendMessage calls per second.
//!
//!     cargo bench --bench soak -- ../shared/corpus/xwlb [--minutes 10]
//!
//! 1. Load: 1,000 searches from 100 chats at once (10 each). Every one must be answered exactly
//!    once, with no 429 (the bot stays within the flood limits by itself).
//! 2. Soak: for `--minutes` (default 10), a steady mix of searches, page-button presses and
//!    inline queries from 200 chats. The bot's RSS (its own process, read from /proc) is
//!    sampled every 15 s; the report gives the first, peak and last sample and the growth.

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use support::{FakeApi, callback_query, inline_query, text_message};

const QUERIES: &[&str] = &[
    "人工智能",
    "国务院常务会议",
    "\"高质量发展\"",
    "乡村振兴 农业",
    "臺灣 經濟",
    "一带一路 合作",
    "芯片 -美国",
    "source:新闻联播 科技",
    "数字经济 after:2025-01-01",
    "怎样推动消费增长？",
    "防汛 救灾",
    "航天 发射",
    "碳达峰 碳中和",
    "外贸 稳增长",
    "教育 改革",
    "习近平 会见",
    "新能源汽车 出口",
    "疫情防控",
    "粮食 产量",
    "AI 大模型",
];

fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let corpus = args
        .iter()
        .find(|a| !a.starts_with("--") && !a.chars().all(|c| c.is_ascii_digit()))
        .map(PathBuf::from);
    let corpus = corpus.unwrap_or_else(|| PathBuf::from("../shared/corpus/xwlb"));
    let minutes: u64 = args
        .iter()
        .position(|a| a == "--minutes")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(10);
    if !corpus.is_dir() {
        eprintln!("corpus folder {} not found", corpus.display());
        return ExitCode::from(2);
    }
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(run(corpus, minutes))
}

async fn run(corpus: PathBuf, minutes: u64) -> ExitCode {
    let fake = FakeApi::start().await;
    fake.enforce_global_rate(30);
    let data = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_jianbao"))
        .args([
            "--seeds-dir",
            corpus.to_str().unwrap_or("."),
            "--data-dir",
            data.path().to_str().unwrap_or("."),
            "serve",
        ])
        .env("TELOXIDE_TOKEN", FakeApi::TOKEN)
        .env("TELOXIDE_API_URL", fake.url().to_string())
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn jianbao serve");
    let pid = child.id();
    // Serving once it polls (after indexing the corpus).
    fake.wait_for("getupdates", 1, Duration::from_secs(120))
        .await;
    println!(
        "soak: jianbao serve (pid {pid}) on {}; fake Bot API enforces 30 msg/s",
        corpus.display()
    );
    println!(
        "RSS after start-up (index built): {} MB",
        rss_kb(pid) / 1024
    );

    // 1. 1,000 searches from 100 chats at once.
    let started = Instant::now();
    for round in 0..10 {
        for chat in 0..100i64 {
            let q = QUERIES[(chat as usize + round) % QUERIES.len()];
            fake.push_update(text_message(1_000 + chat, "private", 1_000 + chat, q));
        }
    }
    let deadline = Instant::now() + Duration::from_secs(180);
    while fake
        .requests_for("sendmessage")
        .iter()
        .filter(|r| r.status == 200)
        .count()
        < 1000
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let per_chat: Vec<usize> = (0..100).map(|c| fake.sent_texts(1_000 + c).len()).collect();
    let answered: usize = per_chat.iter().sum();
    let load_ok = per_chat.iter().all(|&n| n == 10);
    println!(
        "load: 1000 searches from 100 chats at once -> {answered} answered in {:.1} s ({:.1}/s), every chat exactly 10: {}, 429 answers: {}",
        started.elapsed().as_secs_f64(),
        answered as f64 / started.elapsed().as_secs_f64(),
        if load_ok { "yes" } else { "NO" },
        fake.rate_violations()
    );
    println!("RSS after the load: {} MB", rss_kb(pid) / 1024);

    // 2. Soak: ~12 actions/s, mixed.
    let soak_started = Instant::now();
    let mut samples: Vec<(u64, u64)> = vec![(0, rss_kb(pid))];
    let mut next_sample = Duration::from_secs(15);
    let mut i: u64 = 0;
    let mut searches = 0;
    let mut presses = 0;
    let mut inlines = 0;
    while soak_started.elapsed() < Duration::from_secs(minutes * 60) {
        let chat = 5_000 + (i % 200) as i64;
        let q = QUERIES[(i as usize * 7) % QUERIES.len()];
        match i % 6 {
            0..=2 => {
                fake.push_update(text_message(chat, "private", chat, q));
                searches += 1;
            }
            3 | 4 => {
                // The newest page button sent to this chat, if any.
                let data = fake
                    .requests_for("sendmessage")
                    .iter()
                    .rev()
                    .take(400)
                    .find(|r| r.params["chat_id"].as_i64() == Some(chat))
                    .and_then(|r| {
                        r.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
                            .as_str()
                            .map(str::to_owned)
                    });
                if let Some(data) = data {
                    fake.push_update(callback_query(chat, chat, 1, &data));
                    presses += 1;
                }
            }
            _ => {
                fake.push_update(inline_query(chat, q));
                inlines += 1;
            }
        }
        i += 1;
        tokio::time::sleep(Duration::from_millis(80)).await;
        if soak_started.elapsed() >= next_sample {
            samples.push((soak_started.elapsed().as_secs(), rss_kb(pid)));
            next_sample += Duration::from_secs(15);
        }
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    samples.push((soak_started.elapsed().as_secs(), rss_kb(pid)));
    let alive = child.try_wait().map(|s| s.is_none()).unwrap_or(false);
    let _ = child.kill();
    let _ = child.wait();

    let first = samples[0].1;
    let peak = samples.iter().map(|s| s.1).max().unwrap_or(0);
    let last = samples.last().map_or(0, |s| s.1);
    // Growth over the second half, where caches are warm: what a leak would show.
    let mid = samples[samples.len() / 2].1;
    println!(
        "soak: {minutes} min, {searches} searches, {presses} page presses, {inlines} inline queries; bot alive at the end: {alive}"
    );
    println!(
        "RSS: first {} MB, peak {} MB, last {} MB; growth over the soak {:+.1} MB, over its second half {:+.1} MB",
        first / 1024,
        peak / 1024,
        last / 1024,
        (last as f64 - first as f64) / 1024.0,
        (last as f64 - mid as f64) / 1024.0
    );
    println!(
        "RSS samples (s:MB): {}",
        samples
            .iter()
            .map(|(t, kb)| format!("{t}:{}", kb / 1024))
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!("429 answers over the whole run: {}", fake.rate_violations());
    if load_ok && alive && fake.rate_violations() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
