//! Digest fan-out: 1,000 subscribed private chats all due at once, delivered by the real
//! `Scheduler` through the real `Outbox` (production limits, `Outbox::new`) to the fake Bot
//! API, which answers 429 to any send that would make more than 30 accepted sends within a
//! sliding second (`enforce_global_rate(30)`).
//!
//!     cargo bench --bench fanout [-- ../shared/corpus/xwlb]
//!
//! With a corpus folder the digests come from the real corpus (indexing it takes ~5 s, not
//! timed); without one, from a few generated articles. Either way every chat is owed one
//! digest: the simulated day is three days before the real date, every subscription was
//! created an hour before that day's 08:00 (Asia/Shanghai), `now` is 08:01, and every article
//! was indexed after `now − 24 h` (it is indexed "now", in real time), so every digest has
//! items. Three in four chats have no keywords, one in four a broad keyword.
//!
//! Timed: one `Scheduler::run_due(now)` call, wall clock. Ideal: 1000 sends at 30/s = 33.3 s.
//! Checked (exit status 1 on failure): the pass reports 1000 delivered, every chat got exactly
//! one accepted sendMessage, and a second pass at the same `now` sends nothing.

// tests/support/mod.rs carries its own `#![allow(dead_code)]` (an outer one here would be a
// clippy::duplicated_attributes warning, an error in .ci/run).
#[path = "../tests/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{Days, NaiveTime, Utc};
use jianbao::app::App;
use jianbao::bot::Outbox;
use jianbao::config::Settings;
use jianbao::index::SearchIndex;
use jianbao::schedule;
use jianbao::scheduler::{DigestSender, Scheduler};
use jianbao::store::Store;
use support::FakeApi;

const CHATS: i64 = 1000;
const GLOBAL_LIMIT: u32 = 30;
const KEYWORDS: [&str; 4] = ["经济", "发展", "合作", "科技"];

fn write_seeds(dir: &Path) {
    let topics = [
        (
            "人工智能治理新规发布",
            "全球人工智能治理需要各国合作，科技发展要安全可控。",
        ),
        (
            "农业发展银行支持乡村振兴",
            "中国农业发展银行加大信贷支持，促进乡村经济发展。",
        ),
        (
            "芯片产业链加快发展",
            "国内芯片产业链协同，科技创新带动经济增长。",
        ),
        (
            "外贸稳中有进",
            "一季度进出口保持增长，国际经贸合作不断深化，经济发展韧性强。",
        ),
        (
            "新能源汽车出口创新高",
            "新能源汽车产业科技含量提升，对外合作扩大，助力经济发展。",
        ),
        (
            "防汛救灾工作有序开展",
            "各地加强防汛救灾合作，保障经济社会发展和人民安全。",
        ),
    ];
    for i in 0..24 {
        let (title, body) = topics[i % topics.len()];
        let text = format!(
            "---\ntitle: {title}（{i}）\nurl: https://example.com/a/{i}\nsource: 新闻联播\ndate: 2025-03-{:02}\n---\n\n# {title}\n\n{body}第{i}篇。\n",
            i + 1
        );
        std::fs::write(dir.join(format!("a{i:02}.txt")), text).expect("write seed");
    }
}

/// Largest number of timestamps within any window shorter than one second.
fn max_per_second(times: &[Instant]) -> usize {
    let mut best = 0;
    let mut start = 0;
    for end in 0..times.len() {
        while times[end].duration_since(times[start]) >= Duration::from_secs(1) {
            start += 1;
        }
        best = best.max(end - start + 1);
    }
    best
}

fn main() -> ExitCode {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let corpus: Option<PathBuf> = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .map(PathBuf::from);
    let generated = tempfile::tempdir().expect("tempdir");
    let seeds = match &corpus {
        Some(dir) if dir.is_dir() => dir.clone(),
        Some(dir) => {
            eprintln!("corpus folder {} not found", dir.display());
            return ExitCode::from(2);
        }
        None => {
            write_seeds(generated.path());
            generated.path().to_path_buf()
        }
    };

    jianbao::text::warm_up();
    let data = tempfile::tempdir().expect("tempdir");
    let index = Arc::new(SearchIndex::open(data.path()).expect("open index"));
    let started = Instant::now();
    let synced = index.sync(&seeds, None).expect("index the seeds");
    let indexed_in = started.elapsed();
    let store = Arc::new(Store::open(data.path()).expect("open store"));
    let app = Arc::new(App::new(
        index,
        store.clone(),
        Settings::default(),
        seeds.clone(),
    ));

    // Three days before today (Shanghai), 08:00 there; subscribed an hour before.
    let tz = chrono_tz::Asia::Shanghai;
    let eight = NaiveTime::from_hms_opt(8, 0, 0).expect("08:00");
    let day = schedule::local_date(tz, Utc::now())
        .checked_sub_days(Days::new(3))
        .expect("a date");
    let due = schedule::local_instant(tz, day, eight);
    let now = due + chrono::Duration::minutes(1);
    let created = (due - chrono::Duration::hours(1)).timestamp();
    for chat in 1..=CHATS {
        let keywords = if chat % 4 == 0 {
            KEYWORDS[(chat / 4) as usize % KEYWORDS.len()]
        } else {
            ""
        };
        store
            .upsert_subscription(chat, eight, tz, keywords, created)
            .expect("subscribe");
    }

    // The fake Bot API on a thread of its own (Telegram is another machine).
    let (fake, fake_thread) = FakeApi::start_on_own_thread();
    fake.enforce_global_rate(GLOBAL_LIMIT);

    // The scheduler on the runtime `serve` uses, sending through the production outbox.
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let sender: Arc<dyn DigestSender> =
        Arc::new(Outbox::new(fake.bot(), FakeApi::TOKEN.to_owned()));
    let scheduler = Scheduler::new(app.subscriptions(), sender);
    let started = Instant::now();
    let (report, _next) = rt.block_on(scheduler.run_due(now));
    let wall = started.elapsed();
    let (again, _) = rt.block_on(scheduler.run_due(now));

    let requests = fake.requests_for("sendmessage");
    let accepted: Vec<Instant> = {
        let mut v: Vec<Instant> = requests
            .iter()
            .filter(|r| r.status == 200)
            .map(|r| r.at)
            .collect();
        v.sort();
        v
    };
    let other_status = requests
        .iter()
        .filter(|r| r.status != 200 && r.status != 429)
        .count();
    let violations = fake.rate_violations();
    let mut failures = Vec::new();
    if report.delivered != CHATS as usize {
        failures.push(format!(
            "the pass reported {report:?}, expected {CHATS} delivered"
        ));
    }
    let mut wrong = 0;
    for chat in 1..=CHATS {
        let n = fake.sent_texts(chat).len();
        if n != 1 {
            wrong += 1;
            if wrong <= 10 {
                failures.push(format!("chat {chat} got {n} messages, expected exactly 1"));
            }
        }
    }
    if wrong > 10 {
        failures.push(format!(
            "… {} chats in all without exactly one message",
            wrong
        ));
    }
    if accepted.len() != CHATS as usize {
        failures.push(format!(
            "{} sendMessage accepted in all, expected {CHATS}",
            accepted.len()
        ));
    }
    if again.delivered != 0 || fake.requests_for("sendmessage").len() != requests.len() {
        failures.push(format!(
            "a second pass at the same time delivered again: {again:?}"
        ));
    }
    if other_status > 0 {
        failures.push(format!(
            "{other_status} sendMessage answered with an error other than 429"
        ));
    }

    let ideal = CHATS as f64 / f64::from(GLOBAL_LIMIT);
    let span = match (accepted.first(), accepted.last()) {
        (Some(a), Some(b)) => b.duration_since(*a),
        _ => Duration::ZERO,
    };
    let first_send = accepted
        .first()
        .map_or(Duration::ZERO, |a| a.saturating_duration_since(started));
    let mean_gap = span.as_secs_f64() * 1e3 / (accepted.len().max(2) - 1) as f64;
    println!(
        "fanout: {} chats due at once; seeds: {} ({} articles, indexed in {:.1} s); Outbox::new (production limits); fake enforces {}/s",
        CHATS,
        corpus
            .as_ref()
            .map_or("generated".to_owned(), |c| c.display().to_string()),
        synced.added,
        indexed_in.as_secs_f64(),
        GLOBAL_LIMIT
    );
    println!(
        "delivered: {} (pass report: {} delivered, {} empty, {} failed); chats with exactly one message: {}/{}",
        accepted.len(),
        report.delivered,
        report.empty,
        report.failed,
        CHATS - wrong,
        CHATS
    );
    println!(
        "429 answers: {violations} (goal 0); busiest sliding second: {} accepted sends",
        max_per_second(&accepted)
    );
    println!(
        "wall time of run_due: {:.2} s = {:.3} x ideal {:.1} s ({}; goal <= 1.10); first send after {:.0} ms, first->last send {:.2} s, mean gap {:.2} ms",
        wall.as_secs_f64(),
        wall.as_secs_f64() / ideal,
        ideal,
        if wall.as_secs_f64() / ideal <= 1.10 {
            "within 10 %"
        } else {
            "NOT within 10 %"
        },
        first_send.as_secs_f64() * 1e3,
        span.as_secs_f64(),
        mean_gap
    );
    println!(
        "second pass at the same time: {} delivered",
        again.delivered
    );

    fake_thread.stop();
    if failures.is_empty() {
        println!(
            "check: every chat got exactly one digest, no error answers, nothing sent twice: OK"
        );
        ExitCode::SUCCESS
    } else {
        println!("check FAILED:");
        for f in &failures {
            println!("  {f}");
        }
        ExitCode::FAILURE
    }
}
