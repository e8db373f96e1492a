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
//!
//!     cargo bench --bench soak -- ../shared/corpus/xwlb --idle 30,60,120,300
//!
//! Idle mode instead: quiet periods of the given seconds, each followed by a burst of five
//! searches from five chats; the fake holds long polls as Telegram does. Reports the reply
//! latency after each quiet period, the getUpdates calls it took, and the ERROR and WARN
//! lines the bot logged (a bot whose polling client times out before its long poll shows
//! late answers and one ERROR per idle poll here).

//!     cargo bench --bench soak -- --read
//!
//! Readers mode: a folder with one 4.9 MB article; 50 chats each ask `/read` of it 10 times at
//! once (500 documents to send at Telegram's pace). Reports the bot's RSS idle and at its peak
//! (`VmHWM`), and how the 500 requests were answered. Each upload takes the fake a second.

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
    proc_status_kb(pid, "VmRSS:")
}

/// A `/proc/PID/status` figure in kB (`VmRSS:`, `VmHWM:` the peak).
fn proc_status_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
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
    let idle: Option<Vec<u64>> = args
        .iter()
        .position(|a| a == "--idle")
        .and_then(|i| args.get(i + 1))
        .map(|list| {
            list.split(',')
                .filter_map(|n| n.trim().parse().ok())
                .collect()
        });
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    if args.iter().any(|a| a == "--read") {
        return runtime.block_on(readers_run());
    }
    match idle {
        Some(periods) => runtime.block_on(idle_run(corpus, periods)),
        None => runtime.block_on(run(corpus, minutes)),
    }
}

/// `jianbao serve` on `corpus` against `fake`, logging at `log` to `stderr`.
fn spawn_serve(
    corpus: &std::path::Path,
    data: &std::path::Path,
    fake: &FakeApi,
    log: &str,
    stderr: Stdio,
) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_jianbao"))
        .arg("--seeds-dir")
        .arg(corpus)
        .arg("--data-dir")
        .arg(data)
        .arg("serve")
        .env("TELOXIDE_TOKEN", FakeApi::TOKEN)
        .env("TELOXIDE_API_URL", fake.url().to_string())
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("RUST_LOG", log)
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("spawn jianbao serve")
}

/// Counts the ERROR and WARN lines of the bot's log while passing them through.
fn tee_log(stderr: std::process::ChildStderr) -> std::sync::Arc<std::sync::Mutex<(usize, usize)>> {
    use std::io::BufRead;
    let counts = std::sync::Arc::new(std::sync::Mutex::new((0usize, 0usize)));
    let c = counts.clone();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            eprintln!("{line}");
            if let Ok(mut c) = c.lock() {
                if line.contains("ERROR") {
                    c.0 += 1;
                } else if line.contains("WARN") {
                    c.1 += 1;
                }
            }
        }
    });
    counts
}

async fn idle_run(corpus: PathBuf, periods: Vec<u64>) -> ExitCode {
    let fake = FakeApi::start().await;
    let data = tempfile::tempdir().expect("tempdir");
    let mut child = spawn_serve(&corpus, data.path(), &fake, "info", Stdio::piped());
    let log = tee_log(child.stderr.take().expect("stderr"));
    fake.wait_for("getupdates", 1, Duration::from_secs(120))
        .await;
    println!(
        "idle: jianbao serve on {}; periods {periods:?} s",
        corpus.display()
    );
    println!(
        "| quiet (s) | getUpdates during it | replies | median latency | max latency | ERROR lines | WARN lines |"
    );
    println!("|---|---|---|---|---|---|---|");
    let mut all_ok = true;
    let mut chat = 50_000i64;
    for quiet in periods {
        let (errors_before, warns_before) = log.lock().map(|c| *c).unwrap_or_default();
        let polls_before = fake.requests_for("getupdates").len();
        tokio::time::sleep(Duration::from_secs(quiet)).await;
        let polls = fake.requests_for("getupdates").len() - polls_before;
        let mut latencies = Vec::new();
        for q in QUERIES.iter().take(5) {
            chat += 1;
            let pushed = Instant::now();
            fake.push_update(text_message(chat, "private", chat, q));
            let deadline = pushed + Duration::from_secs(120);
            while fake.sent_texts(chat).is_empty() && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            latencies.push(pushed.elapsed());
        }
        latencies.sort();
        let (errors, warns) = log.lock().map(|c| *c).unwrap_or_default();
        let max = latencies.last().copied().unwrap_or_default();
        all_ok &= max < Duration::from_secs(1) && errors == errors_before;
        println!(
            "| {quiet} | {polls} | {} | {:.0} ms | {:.0} ms | {} | {} |",
            latencies.len(),
            latencies[latencies.len() / 2].as_secs_f64() * 1000.0,
            max.as_secs_f64() * 1000.0,
            errors - errors_before,
            warns - warns_before
        );
    }
    let _ = child.kill();
    let _ = child.wait();
    if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

async fn run(corpus: PathBuf, minutes: u64) -> ExitCode {
    let fake = FakeApi::start().await;
    fake.enforce_global_rate(30);
    let data = tempfile::tempdir().expect("tempdir");
    let mut child = spawn_serve(&corpus, data.path(), &fake, "warn", Stdio::inherit());
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

/// 50 chats × 10 `/read` of a 4.9 MB article at once.
async fn readers_run() -> ExitCode {
    const CHATS: i64 = 50;
    const EACH: usize = 10;
    let corpus = tempfile::tempdir().expect("tempdir");
    let paragraph = "这是一篇很长的报告，记录了各地推进改革的做法和经验。".repeat(12);
    let body: Vec<String> = (0..5_100)
        .map(|i| format!("第{i}段：{paragraph}"))
        .collect();
    let text = format!(
        "---\ntitle: 长篇报告\nurl: https://example.com/long\nsource: 研究院\ndate: 2024-07-05\n---\n\n{}\n",
        body.join("\n\n")
    );
    std::fs::write(corpus.path().join("long.txt"), &text).expect("write the article");
    let fake = FakeApi::start().await;
    fake.forget_file_contents();
    // An upload of 4.8 MB takes Telegram about a second (40 Mbit/s).
    for _ in 0..CHATS as usize * EACH {
        fake.fail_next("senddocument", support::Fault::Hang(Duration::from_secs(1)));
    }
    let data = tempfile::tempdir().expect("tempdir");
    let mut child = spawn_serve(corpus.path(), data.path(), &fake, "warn", Stdio::inherit());
    let pid = child.id();
    fake.wait_for("getupdates", 1, Duration::from_secs(120))
        .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle = rss_kb(pid);
    println!(
        "readers: jianbao serve (pid {pid}); one article of {:.1} MB; {CHATS} chats x {EACH} /read at once",
        text.len() as f64 / 1e6
    );
    let started = Instant::now();
    for _ in 0..EACH {
        for chat in 0..CHATS {
            fake.push_update(text_message(
                5_000 + chat,
                "private",
                5_000 + chat,
                "/read long",
            ));
        }
    }
    let want = CHATS as usize * EACH;
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut peak_sampled = 0;
    let (docs, texts) = loop {
        peak_sampled = peak_sampled.max(rss_kb(pid));
        let docs = fake.requests_for("senddocument").len();
        let texts = fake.requests_for("sendmessage").len();
        if docs + texts >= want || Instant::now() > deadline {
            break (docs, texts);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let elapsed = started.elapsed();
    if let Some(r) = fake.requests_for("sendmessage").first() {
        println!("a text reply: {}", r.params["text"]);
    }
    let peak = proc_status_kb(pid, "VmHWM:");
    let _ = child.kill();
    let _ = child.wait();
    println!("RSS idle (index built): {} MB", idle / 1024);
    println!(
        "RSS peak: {} MB (VmHWM; highest 200 ms sample {} MB)",
        peak / 1024,
        peak_sampled / 1024
    );
    println!(
        "answered: {docs} documents, {texts} text replies (flood notices, 'try again'), in {:.1} s",
        elapsed.as_secs_f64()
    );
    ExitCode::SUCCESS
}
