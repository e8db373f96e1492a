//! `jianbao serve` as a service (the real binary against the fake Bot API): webhook mode with
//! its secret, `/healthz` and `/metrics`, JSON logs, and a clean stop.

mod support;

use std::net::SocketAddr;
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use support::http::{free_port, request, try_request};
use support::{FakeApi, cli, text_message, valid_html};
use teloxide::prelude::Requester;

const SECRET: &str = "hook-Secret_42";

fn write_corpus(dir: &Path) {
    std::fs::write(
        dir.join("ai.txt"),
        "---\ntitle: 人工智能治理新规发布\nurl: https://example.com/ai\nsource: 新华社\ndate: 2024-07-10\n---\n\n全球人工智能治理需要各国合作。\n",
    )
    .expect("write");
}

struct Served {
    child: Child,
    stderr: std::thread::JoinHandle<Vec<u8>>,
    hook: SocketAddr,
    metrics: SocketAddr,
}

impl Served {
    /// SIGTERM; returns how long it took to exit and the log.
    fn stop(mut self) -> (Duration, String) {
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let started = Instant::now();
        while self.child.try_wait().expect("wait").is_none() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "serve did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let took = started.elapsed();
        let log = String::from_utf8_lossy(&self.stderr.join().expect("log")).into_owned();
        (took, log)
    }
}

/// `serve` in webhook mode with metrics and JSON logs; returns once the webhook is set.
async fn serve_webhook(fake: &FakeApi, seeds: &Path, data: &Path) -> Served {
    let hook: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let metrics: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let mut child = cli::command(seeds, data, &["serve"])
        .env("TELOXIDE_TOKEN", FakeApi::TOKEN)
        .env("TELOXIDE_API_URL", fake.url().to_string())
        .env("WEBHOOK_URL", format!("http://{hook}/tg/hook"))
        .env("WEBHOOK_LISTEN", hook.to_string())
        .env("WEBHOOK_SECRET", SECRET)
        .env("METRICS_LISTEN", metrics.to_string())
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .spawn()
        .expect("spawn serve");
    let stderr = cli::drain(child.stderr.take());
    let _ = cli::drain(child.stdout.take());
    let started = Instant::now();
    while fake.webhook().is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no setWebhook within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The metrics listener starts on its own task: setWebhook may come before it is bound.
    while try_request(metrics, "GET", "/healthz", &[], b"")
        .await
        .is_err()
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no /healthz listener within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Served {
        child,
        stderr,
        hook,
        metrics,
    }
}

async fn post(addr: SocketAddr, secret: Option<&str>, body: &[u8]) -> u16 {
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(s) = secret {
        headers.push(("X-Telegram-Bot-Api-Secret-Token", s));
    }
    request(addr, "POST", "/tg/hook", &headers, body).await.0
}

/// The acceptance run: registered with the secret, forged posts refused and not
/// answered, a real update answered within 2 s, replays and bad bodies refused, `/healthz` 200,
/// `/metrics` counting, JSON logs without the token or the secret, a stop within 10 s that
/// deletes the webhook.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_mode_with_health_metrics_and_json_logs() {
    let fake = FakeApi::start().await;
    let seeds = tempfile::tempdir().expect("seeds");
    let data = tempfile::tempdir().expect("data");
    write_corpus(seeds.path());
    let served = serve_webhook(&fake, seeds.path(), data.path()).await;
    let (url, secret) = fake.webhook().expect("webhook");
    assert_eq!(url, format!("http://{}/tg/hook", served.hook));
    assert_eq!(secret.as_deref(), Some(SECRET));
    assert!(fake.requests_for("getupdates").is_empty());

    // Forged: no secret, a wrong one. Refused, and nothing is answered.
    let update = |id: i64, chat: i64, text: &str| {
        let mut u = text_message(chat, "private", chat, text);
        u["update_id"] = id.into();
        u.to_string().into_bytes()
    };
    assert_eq!(
        post(served.hook, None, &update(9001, 71, "人工智能")).await,
        401
    );
    assert_eq!(
        post(served.hook, Some("wrong"), &update(9002, 72, "人工智能")).await,
        401
    );
    // Not an update, and a 1 MB body.
    assert_eq!(post(served.hook, Some(SECRET), b"{not json").await, 400);
    assert_eq!(post(served.hook, Some(SECRET), b"{\"a\": 1}").await, 400);
    let huge = format!(
        "{{\"update_id\": 9003, \"x\": \"{}\"}}",
        "a".repeat(1 << 20)
    );
    assert_eq!(post(served.hook, Some(SECRET), huge.as_bytes()).await, 413);
    assert_eq!(
        request(served.hook, "GET", "/tg/hook", &[], b"").await.0,
        405
    );

    // A real update, answered within 2 s; its replay is acknowledged and dropped.
    let pushed = Instant::now();
    assert_eq!(
        post(served.hook, Some(SECRET), &update(9004, 73, "人工智能")).await,
        200
    );
    let sent = fake
        .wait_for("sendmessage", 1, Duration::from_secs(10))
        .await;
    assert!(
        pushed.elapsed() < Duration::from_secs(2),
        "{:?}",
        pushed.elapsed()
    );
    assert_eq!(sent[0].params["chat_id"], 73);
    assert!(valid_html(&sent[0].params).contains("人工智能治理"));
    assert_eq!(
        post(served.hook, Some(SECRET), &update(9004, 73, "人工智能")).await,
        200
    );
    // And the fake's own post (as Telegram) of a pushed update.
    fake.push_update(text_message(74, "private", 74, "/help"));
    fake.wait_for("sendmessage", 2, Duration::from_secs(10))
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let to = |chat: i64| {
        fake.requests_for("sendmessage")
            .iter()
            .filter(|r| r.params["chat_id"] == chat)
            .count()
    };
    assert_eq!((to(71), to(72), to(73), to(74)), (0, 0, 1, 1));

    // Health and metrics.
    let started = Instant::now();
    let health = loop {
        let h = request(served.metrics, "GET", "/healthz", &[], b"").await;
        if h.0 == 200 || started.elapsed() > Duration::from_secs(10) {
            break h;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(health, (200, "ok\n".to_owned()));
    let (status, text) = request(served.metrics, "GET", "/metrics", &[], b"").await;
    assert_eq!(status, 200);
    assert!(
        text.contains("jianbao_updates_total{kind=\"message\"} 2"),
        "two updates handled (the replay and the forged ones are not):\n{text}"
    );
    assert!(text.contains("jianbao_articles 1"), "{text}");
    assert!(text.contains("jianbao_reply_seconds_count 2"), "{text}");

    let (took, log) = served.stop();
    assert!(took < Duration::from_secs(10), "stopped in {took:?}");
    assert!(fake.webhook().is_none(), "the webhook was not deleted");
    assert!(
        !log.contains(FakeApi::TOKEN) && !log.contains(SECRET),
        "{log}"
    );
    let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(lines.len() > 3, "{log}");
    for line in lines {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(
            v["level"].is_string() && v["fields"]["message"].is_string(),
            "{line}"
        );
    }
}

/// `/healthz` says why when updates can no longer arrive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_is_503_with_the_reason_when_updates_cannot_arrive() {
    let fake = FakeApi::start().await;
    let seeds = tempfile::tempdir().expect("seeds");
    let data = tempfile::tempdir().expect("data");
    write_corpus(seeds.path());
    let served = serve_webhook(&fake, seeds.path(), data.path()).await;
    let ok = request(served.metrics, "GET", "/healthz", &[], b"").await;
    assert_eq!(ok.0, 200, "{ok:?}");
    // The webhook deleted behind the bot's back: updates no longer arrive.
    fake.bot().delete_webhook().await.expect("deleteWebhook");
    let started = Instant::now();
    let health = loop {
        let h = request(served.metrics, "GET", "/healthz", &[], b"").await;
        if h.0 == 503 || started.elapsed() > Duration::from_secs(45) {
            break h;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(health.0, 503, "{health:?}");
    assert!(health.1.contains("webhook is not set"), "{health:?}");
    served.stop();
}

/// Polling again after webhook mode deletes the webhook (Telegram refuses getUpdates while
/// one is set), and a bad webhook configuration stops the start with the variable named.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn back_to_polling_deletes_the_webhook_and_bad_settings_are_named() {
    let fake = FakeApi::start().await;
    let seeds = tempfile::tempdir().expect("seeds");
    let data = tempfile::tempdir().expect("data");
    write_corpus(seeds.path());
    for (secret, named) in [
        (None, "WEBHOOK_SECRET"),
        (Some("has space"), "WEBHOOK_SECRET"),
    ] {
        let mut cmd = cli::command(seeds.path(), data.path(), &["serve"]);
        cmd.env("TELOXIDE_TOKEN", FakeApi::TOKEN)
            .env("TELOXIDE_API_URL", fake.url().to_string())
            .env("WEBHOOK_URL", "https://bot.example.com/hook")
            .env("WEBHOOK_LISTEN", "127.0.0.1:0")
            .env_remove("WEBHOOK_SECRET");
        if let Some(s) = secret {
            cmd.env("WEBHOOK_SECRET", s);
        }
        let out = cmd.output().expect("run serve");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(err.contains(named), "{err}");
    }
    fake.bot()
        .set_webhook(url::Url::parse("https://bot.example.com/old").expect("url"))
        .await
        .expect("setWebhook");
    let mut child = cli::command(seeds.path(), data.path(), &["serve"])
        .env("TELOXIDE_TOKEN", FakeApi::TOKEN)
        .env("TELOXIDE_API_URL", fake.url().to_string())
        .spawn()
        .expect("spawn serve");
    let _stderr = cli::drain(child.stderr.take());
    fake.wait_for("deletewebhook", 1, Duration::from_secs(60))
        .await;
    assert!(fake.webhook().is_none());
    fake.push_update(text_message(81, "private", 81, "人工智能"));
    let sent = fake
        .wait_for("sendmessage", 1, Duration::from_secs(10))
        .await;
    assert_eq!(sent[0].params["chat_id"], 81);
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let _ = child.wait();
}

/// `serve` on `seeds`/`data` in polling mode, or in webhook mode on `hook`.
fn spawn_serve(fake: &FakeApi, seeds: &Path, data: &Path, hook: Option<SocketAddr>) -> Child {
    let mut cmd = cli::command(seeds, data, &["serve"]);
    cmd.env("TELOXIDE_TOKEN", FakeApi::TOKEN)
        .env("TELOXIDE_API_URL", fake.url().to_string())
        .env("RUST_LOG", "info");
    if let Some(hook) = hook {
        cmd.env("WEBHOOK_URL", format!("http://{hook}/tg/hook"))
            .env("WEBHOOK_LISTEN", hook.to_string())
            .env("WEBHOOK_SECRET", SECRET);
    }
    cmd.spawn().expect("spawn serve")
}

/// Digests sent to `chat` that the fake accepted.
fn digests_to(fake: &FakeApi, chat: i64) -> usize {
    fake.sent_texts(chat)
        .iter()
        .filter(|t| t.contains("简报"))
        .count()
}

/// SIGTERM in the middle of a 300-chat digest fan-out and a 20-chat flood: the process exits
/// within 10 s; after a restart every chat has had its digest exactly once and every
/// flooding chat an answer.
async fn a_stop_during_a_fan_out_loses_and_doubles_nothing(webhook: bool) {
    const CHATS: i64 = 300;
    let fake = FakeApi::start().await;
    fake.enforce_global_rate(30);
    let seeds = tempfile::tempdir().expect("seeds");
    let data = tempfile::tempdir().expect("data");
    write_corpus(seeds.path());
    {
        let store = jianbao::store::Store::open(data.path()).expect("store");
        let created = chrono::Utc::now().timestamp() - 3 * 86_400;
        for chat in 0..CHATS {
            store
                .upsert_subscription(
                    30_000 + chat,
                    chrono::NaiveTime::MIN,
                    chrono_tz::UTC,
                    "",
                    created,
                )
                .expect("subscribe");
        }
    }
    let hook: Option<SocketAddr> = webhook.then(|| ([127, 0, 0, 1], free_port()).into());
    let mut child = spawn_serve(&fake, seeds.path(), data.path(), hook);
    let stderr = cli::drain(child.stderr.take());
    // The fan-out is under way: a fifth of the digests sent.
    let started = Instant::now();
    while (0..CHATS)
        .map(|c| digests_to(&fake, 30_000 + c))
        .sum::<usize>()
        < 60
    {
        assert!(started.elapsed() < Duration::from_secs(60), "no fan-out");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for round in 0..10 {
        for chat in 0..20 {
            fake.push_update(text_message(
                40_000 + chat,
                "private",
                40_000 + chat,
                &format!("人工智能 {round}"),
            ));
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let stopping = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        assert!(
            stopping.elapsed() < Duration::from_secs(20),
            "serve did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let took = stopping.elapsed();
    let log = String::from_utf8_lossy(&stderr.join().expect("log")).into_owned();
    assert!(took < Duration::from_secs(10), "stopped in {took:?}\n{log}");
    let before: usize = (0..CHATS).map(|c| digests_to(&fake, 30_000 + c)).sum();
    assert!(
        before < CHATS as usize,
        "the stop came after the fan-out ({before})"
    );

    let mut child = spawn_serve(&fake, seeds.path(), data.path(), hook);
    let _stderr = cli::drain(child.stderr.take());
    let started = Instant::now();
    while (0..CHATS)
        .filter(|c| digests_to(&fake, 30_000 + c) > 0)
        .count()
        < CHATS as usize
    {
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "digests missing after the restart"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Every flooding chat is answered (its excess is dropped by design, with one notice).
    let started = Instant::now();
    let unanswered = || -> Vec<i64> {
        (0..20)
            .map(|c| 40_000 + c)
            .filter(|&c| fake.sent_texts(c).is_empty())
            .collect()
    };
    while !unanswered().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "flooding chats never answered: {:?}",
            unanswered()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let _ = child.wait();
    let doubled: Vec<i64> = (0..CHATS)
        .filter(|c| digests_to(&fake, 30_000 + c) != 1)
        .collect();
    assert!(
        doubled.is_empty(),
        "chats without exactly one digest: {doubled:?}"
    );
    assert_eq!(fake.rate_violations(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_during_a_fan_out_in_polling_mode() {
    a_stop_during_a_fan_out_loses_and_doubles_nothing(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_during_a_fan_out_in_webhook_mode() {
    a_stop_during_a_fan_out_loses_and_doubles_nothing(true).await;
}
