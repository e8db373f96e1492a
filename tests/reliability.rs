//! Reliability round 2: an idle `serve` against a fake that holds long polls the way Telegram
//! does, one chat's flood against everybody else, and the red-team findings (panics, replies
//! over 4096 characters, hostile files, sessions, group admins).

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use jianbao::config::Settings;
use serde_json::Value;
use support::{
    BotHarness, FakeApi, Fault, WAIT, callback_query, cli, inline_query, text_message, valid_html,
};

fn article(dir: &Path, name: &str, title: &str, date: &str, body: &str) {
    let text = format!(
        "---\ntitle: {title}\nurl: https://example.com/{name}\nsource: 新华社\ndate: {date}\n---\n\n{body}\n"
    );
    std::fs::write(dir.join(format!("{name}.txt")), text).unwrap();
}

fn write_corpus(dir: &Path) {
    article(
        dir,
        "ai",
        "人工智能治理新规发布",
        "2024-07-10",
        "全球人工智能治理需要各国合作，新规明确了责任。",
    );
    article(
        dir,
        "farm",
        "农业发展银行支持乡村振兴",
        "2024-07-09",
        "中国农业发展银行加大对乡村振兴的信贷支持。",
    );
    // Enough articles about one thing that a search has several pages.
    for i in 0..25 {
        article(
            dir,
            &format!("econ{i:02}"),
            &format!("经济观察第{i}期"),
            &format!("2024-06-{:02}", i + 1),
            &format!("第{i}期：经济运行总体平稳，经济结构持续优化。"),
        );
    }
}

/// The sendMessage calls to one chat so far.
fn sends_to(fake: &FakeApi, chat: i64) -> Vec<Value> {
    fake.requests_for("sendmessage")
        .into_iter()
        .filter(|r| r.params["chat_id"].as_i64() == Some(chat))
        .map(|r| r.params)
        .collect()
}

/// Waits until `chat` got at least `n` messages; returns them.
async fn wait_sends(fake: &FakeApi, chat: i64, n: usize, timeout: Duration) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let sent = sends_to(fake, chat);
        if sent.len() >= n {
            return sent;
        }
        assert!(
            started.elapsed() < timeout,
            "chat {chat}: {} of {n} messages within {timeout:?}",
            sent.len()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

// ---------------------------------------------------------------------------
// 1. An idle bot answers at once
// ---------------------------------------------------------------------------

/// The real binary, idle for longer than teloxide's default client timeout (17 s) and than its
/// own polling timeout, against a fake that holds each long poll as Telegram does: the next
/// message is answered within a second, and nothing is logged at ERROR.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_serve_answers_the_next_message_at_once_without_errors() {
    let fake = FakeApi::start().await;
    let seeds = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    write_corpus(seeds.path());
    let mut child = cli::command(seeds.path(), data.path(), &["serve"])
        .env("TELOXIDE_TOKEN", FakeApi::TOKEN)
        .env("TELOXIDE_API_URL", fake.url().to_string())
        .env("RUST_LOG", "info")
        .spawn()
        .expect("spawn jianbao serve");
    let stderr = cli::drain(child.stderr.take());
    let stdout = cli::drain(child.stdout.take());
    fake.wait_for("getupdates", 1, Duration::from_secs(60))
        .await;

    // Quiet for 45 s: at least one long poll ends empty (25 s), and a client with the
    // default 17 s timeout would have failed twice and be backing off.
    tokio::time::sleep(Duration::from_secs(45)).await;
    let polls_while_idle = fake.requests_for("getupdates").len();
    let pushed = Instant::now();
    fake.push_update(text_message(501, "private", 501, "/help"));
    let sent = wait_sends(&fake, 501, 1, Duration::from_secs(10)).await;
    let latency = pushed.elapsed();

    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "serve did not stop on SIGINT"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = String::from_utf8_lossy(&stderr.join().unwrap()).into_owned();
    let _ = stdout.join();
    assert!(valid_html(&sent[0]).contains("/search"));
    assert!(
        latency < Duration::from_secs(1),
        "answered {latency:?} after the message; log:\n{log}"
    );
    assert!(
        (2..=4).contains(&polls_while_idle),
        "{polls_while_idle} polls in 45 idle seconds (long polls of 25 s expected)"
    );
    let errors: Vec<&str> = log.lines().filter(|l| l.contains("ERROR")).collect();
    assert!(
        errors.is_empty(),
        "ERROR lines while idle:\n{}",
        errors.join("\n")
    );
    let warnings: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("polling failed"))
        .collect();
    assert!(
        warnings.is_empty(),
        "polling failed while idle:\n{}",
        warnings.join("\n")
    );
}

// ---------------------------------------------------------------------------
// 2. One chat's flood does not stall the others
// ---------------------------------------------------------------------------

/// One chat sends 1,000 messages at once. Another chat's search, a page press and an inline
/// query from others are answered within 2 s; the flooder gets a few answers and one notice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_chats_flood_does_not_stall_the_others() {
    let h = BotHarness::new(Settings::default(), write_corpus).await;
    let (flooder, other, presser) = (601, 602, 603);
    // The presser has a result message with buttons, from before the flood.
    let first = h.say(presser, "private", presser, "经济").await;
    let data = support::buttons(&first)
        .into_iter()
        .map(|(_, d)| d)
        .find(|d| d.starts_with("p:"))
        .expect("a next-page button");

    for i in 0..1000 {
        h.fake.push_update(text_message(
            flooder,
            "private",
            flooder,
            &format!("经济 {i}"),
        ));
    }
    // And presses and inline queries whose answers each take Telegram 200 ms: awaited one
    // after another in the flooder's worker, they would fill its queue and block everyone.
    for _ in 0..300 {
        h.fake.fail_next(
            "answercallbackquery",
            Fault::Hang(Duration::from_millis(200)),
        );
        h.fake
            .fail_next("answerinlinequery", Fault::Hang(Duration::from_millis(200)));
    }
    for i in 0..300 {
        h.fake
            .push_update(callback_query(flooder, flooder, 1, &format!("p:{i}:1:2")));
        h.fake
            .push_update(inline_query(flooder, &format!("经济 {i}")));
    }
    let pushed = Instant::now();
    h.fake
        .push_update(text_message(other, "private", other, "人工智能"));
    let reply = wait_sends(&h.fake, other, 1, Duration::from_secs(10)).await;
    let search_latency = pushed.elapsed();
    assert!(valid_html(&reply[0]).contains("人工智能"));
    let pressed = Instant::now();
    let update = callback_query(presser, presser, 1, &data);
    let id = update["callback_query"]["id"].clone();
    h.fake.push_update(update);
    let started = Instant::now();
    while !h
        .fake
        .requests_for("answercallbackquery")
        .iter()
        .any(|r| r.params["callback_query_id"] == id)
    {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "press not answered"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let press_latency = pressed.elapsed();

    let asked = Instant::now();
    h.fake.push_update(inline_query(604, "农业"));
    let started = Instant::now();
    while !h
        .fake
        .requests_for("answerinlinequery")
        .iter()
        .any(|r| r.params["results"].to_string().contains("农业"))
    {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "inline query not answered"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let inline_latency = asked.elapsed();

    assert!(
        search_latency < Duration::from_secs(2),
        "another chat's search answered after {search_latency:?}"
    );
    assert!(
        press_latency < Duration::from_secs(2),
        "a page press answered after {press_latency:?}"
    );
    assert!(
        inline_latency < Duration::from_secs(2),
        "an inline query answered after {inline_latency:?}"
    );

    // The flooder: a bounded number of answers, one notice among them, nothing after. Its
    // backlog drains at Telegram's pace (a burst of 3, then one a second).
    let started = Instant::now();
    let mut flood_replies = sends_to(&h.fake, flooder);
    let mut quiet_since = Instant::now();
    while started.elapsed() < Duration::from_secs(30)
        && quiet_since.elapsed() < Duration::from_secs(3)
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = sends_to(&h.fake, flooder);
        if now.len() != flood_replies.len() {
            quiet_since = Instant::now();
            flood_replies = now;
        }
    }
    let notices = flood_replies
        .iter()
        .filter(|p| p["text"].as_str().unwrap_or("").contains("消息太多"))
        .count();
    assert_eq!(notices, 1, "one flood notice");
    assert!(
        flood_replies.len() <= jianbao::bot::queue::MAX_BACKLOG + 8,
        "{} replies to 1,000 flood messages",
        flood_replies.len()
    );
    h.stop().await;
}

// ---------------------------------------------------------------------------
// 3. Red-team findings
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_command_arguments_get_an_answer_within_telegrams_limit() {
    let h = BotHarness::new(Settings::default(), write_corpus).await;
    // These panicked the handler ("byte index 3 is not a char boundary"): no reply at all.
    for tz in ["ab上海", "aaé", "x/ab上"] {
        let reply = h.say(700, "private", 700, &format!("/timezone {tz}")).await;
        assert!(valid_html(&reply).contains("不认识的时区"), "{tz}");
    }
    // These echoed the input uncapped: Telegram refused the reply as too long.
    let long_tz = format!("/timezone {}", "x".repeat(4080));
    let reply = h.say(700, "private", 700, &long_tz).await;
    assert!(valid_html(&reply).contains("不认识的时区"));
    let long_command = format!("/{}", "y".repeat(4090));
    let reply = h.say(700, "private", 700, &long_command).await;
    assert!(valid_html(&reply).contains("不认识的命令"));
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_time_zone_set_before_subscribing_is_kept() {
    let h = BotHarness::new(Settings::default(), write_corpus).await;
    let reply = h.say(710, "private", 710, "/timezone Asia/Taipei").await;
    let text = valid_html(&reply);
    assert!(
        text.contains("Asia/Taipei") && text.contains("/subscribe"),
        "{text}"
    );
    let reply = h.say(710, "private", 710, "/subscribe 07:30").await;
    let text = valid_html(&reply);
    assert!(
        text.contains("07:30") && text.contains("Asia/Taipei"),
        "{text}"
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latest_shows_every_article_it_counts() {
    let h = BotHarness::new(Settings::default(), write_corpus).await;
    let before = h.fake.requests_for("sendmessage").len();
    h.fake
        .push_update(text_message(720, "private", 720, "/latest 20"));
    h.fake.wait_for("sendmessage", before + 1, WAIT).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let all: String = sends_to(&h.fake, 720)
        .iter()
        .map(valid_html)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(all.contains("最新 20 篇"), "{all}");
    // The 20 newest of the corpus: the two July articles and 经济观察 7–24.
    let mut titles = vec![
        "人工智能治理新规发布".to_owned(),
        "农业发展银行支持乡村振兴".to_owned(),
    ];
    titles.extend((7..25).map(|i| format!("经济观察第{i}期")));
    let missing: Vec<&String> = titles
        .iter()
        .filter(|t| !all.contains(t.as_str()))
        .collect();
    assert!(missing.is_empty(), "not shown: {missing:?}\n{all}");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inline_answers_are_personal_when_an_allowlist_is_set() {
    let settings = Settings {
        allowed_chat_ids: [730].into_iter().collect(),
        ..Settings::default()
    };
    let h = BotHarness::new(settings, write_corpus).await;
    h.fake.push_update(inline_query(730, "人工智能"));
    let answers = h.fake.wait_for("answerinlinequery", 1, WAIT).await;
    assert_eq!(answers[0].params["is_personal"], true);
    h.stop().await;

    let h = BotHarness::new(Settings::default(), write_corpus).await;
    h.fake.push_update(inline_query(731, "人工智能"));
    let answers = h.fake.wait_for("answerinlinequery", 1, WAIT).await;
    assert_ne!(
        answers[0].params["is_personal"], true,
        "a public bot's answers may be shared"
    );
    h.stop().await;
}

/// A real (not anonymous) group administrator changes the group's subscription; a member
/// may not; the fake answers getChatMember from its member list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_admins_from_the_member_list_change_the_subscription() {
    let h = BotHarness::new(Settings::default(), write_corpus).await;
    let group = -1_000_000_740;
    h.fake.set_chat_member_status(group, 741, "creator");
    h.fake.set_chat_member_status(group, 742, "administrator");
    h.fake.set_chat_member_status(group, 743, "member");
    h.fake.set_chat_member_status(group, 744, "restricted");
    let reply = h.say(group, "supergroup", 741, "/subscribe 08:15").await;
    assert!(valid_html(&reply).contains("08:15"));
    let reply = h
        .say(group, "supergroup", 742, "/timezone Europe/Berlin")
        .await;
    assert!(valid_html(&reply).contains("Europe/Berlin"));
    for user in [743, 744] {
        let reply = h.say(group, "supergroup", user, "/unsubscribe").await;
        assert!(valid_html(&reply).contains("群管理员"), "user {user}");
    }
    let asked: Vec<i64> = h
        .fake
        .requests_for("getchatmember")
        .iter()
        .filter_map(|r| r.params["user_id"].as_i64())
        .collect();
    assert_eq!(asked, [741, 742, 743, 744]);
    let reply = h.say(group, "supergroup", 742, "/unsubscribe").await;
    assert!(valid_html(&reply).contains("已取消订阅"));
    h.stop().await;
}

/// A FIFO put where a seed file was, after the scan saw a file: reading it must not block.
#[test]
fn a_fifo_swapped_in_for_a_seed_does_not_block_the_read() {
    let seeds = tempfile::tempdir().unwrap();
    let path = seeds.path().join("a.txt");
    std::fs::write(&path, "---\ntitle: 文章\n---\n正文。\n").unwrap();
    let files = jianbao::corpus::scan(seeds.path()).unwrap();
    assert_eq!(files.len(), 1);
    std::fs::remove_file(&path).unwrap();
    let c_path = std::ffi::CString::new(path.to_string_lossy().as_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o644) }, 0);
    let file = files.into_iter().next().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(jianbao::corpus::load(&file).map(|a| a.title));
    });
    let result = rx
        .recv_timeout(Duration::from_secs(5))
        .expect("reading a FIFO blocked");
    assert!(result.is_err(), "a FIFO is not an article: {result:?}");
}

/// Direction overrides and NULs in a seed (a UTF-16 file read as bytes, a hostile title)
/// never reach the reader.
#[test]
fn control_and_direction_characters_never_reach_a_reply() {
    let seeds = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    // UTF-16 LE with a BOM, as some tools save text: U+0000 is then a character, not a
    // binary byte.
    // (A few control characters among much text: more than 1 % would make it binary.)
    let text = format!(
        "---\ntitle: 标题\u{202e}txt.exe\u{0}\nurl: https://example.com/rtl\nsource: 新华社\ndate: 2024-07-10\n---\n\n正文\u{2066}隐藏\u{2069}内容\u{0}，人工智能。{}\n",
        "补充说明。".repeat(60)
    );
    let mut bytes = vec![0xff, 0xfe];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    std::fs::write(seeds.path().join("rtl.txt"), bytes).unwrap();
    let out = cli::run(seeds.path(), data.path(), &["search", "--json", "人工智能"]);
    let text = cli::stdout(&out);
    let json: Value = serde_json::from_str(&text).unwrap();
    let hit = &json["hits"][0];
    for field in ["title", "excerpt"] {
        let value = hit[field].as_str().unwrap();
        assert!(
            !value.chars().any(jianbao::text::is_hidden_control),
            "{field}: {value:?}"
        );
    }
    assert_eq!(hit["title"], "标题txt.exe");
}

/// A seed whose `source:` is 10,000 characters long: the digest heading shows a name, not
/// a wall of text.
#[test]
fn a_huge_source_name_is_cut_in_digests() {
    let seeds = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let source = "长".repeat(10_000);
    let text = format!(
        "---\ntitle: 来源很长的文章\nurl: https://example.com/long\nsource: {source}\ndate: 2024-07-10\n---\n\n正文。\n"
    );
    std::fs::write(seeds.path().join("long.txt"), text).unwrap();
    let out = cli::run(
        seeds.path(),
        data.path(),
        &["digest", "--since", "2000-01-01"],
    );
    let printed = cli::stdout(&out);
    assert!(printed.contains("来源很长的文章"), "{printed}");
    let longest_run = printed
        .lines()
        .map(|l| l.matches('长').count())
        .max()
        .unwrap_or(0);
    assert!(
        longest_run <= jianbao::render::MAX_SOURCE_CHARS,
        "a line with {longest_run} characters of the source"
    );
}

/// A flood wait of an hour is not slept through: the send fails at once (the scheduler tries
/// a digest again later), a short one is waited out and delivered once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_hour_long_flood_wait_is_not_slept_through() {
    let fake = FakeApi::start().await;
    let outbox = jianbao::bot::Outbox::new(fake.bot(), FakeApi::TOKEN.to_owned());
    let reply = jianbao::app::Reply::text("你好");
    fake.fail_next("sendmessage", support::Fault::RetryAfter(3600));
    let started = Instant::now();
    let result = outbox.send(900, &reply).await;
    assert!(
        matches!(result, jianbao::bot::Delivery::Failed(_)),
        "{result:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    fake.fail_next("sendmessage", support::Fault::RetryAfter(1));
    let result = outbox.send(901, &reply).await;
    assert!(
        matches!(result, jianbao::bot::Delivery::Sent(_)),
        "{result:?}"
    );
    assert_eq!(fake.sent_texts(901).len(), 1);
}

// ---------------------------------------------------------------------------
// Round 3, finding 8: fairness across many flooding chats
// ---------------------------------------------------------------------------

/// 50 chats each send 30 searches at once, more than Telegram's 30 messages a second can
/// answer. The slots go round robin: every chat gets its first answer before any chat gets its
/// fourth, and a chat that sends one message in the middle of the flood goes before the
/// flooders' next replies (counted in sends, not seconds, so a slow machine cannot flake it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_flooding_chats_are_served_round_robin() {
    let h = BotHarness::new(Settings::default(), write_corpus).await;
    let flooders: Vec<i64> = (0..50).map(|i| 7_000 + i).collect();
    for round in 0..30 {
        for chat in &flooders {
            h.fake.push_update(text_message(
                *chat,
                "private",
                *chat,
                &format!("经济 {round}"),
            ));
        }
    }
    // The flood is being answered at the global rate.
    h.fake.wait_for("sendmessage", 120, WAIT).await;
    let lone = 7_999;
    let before = h.fake.requests_for("sendmessage").len();
    h.fake
        .push_update(text_message(lone, "private", lone, "人工智能"));
    wait_sends(&h.fake, lone, 1, Duration::from_secs(30)).await;
    let sends = h.fake.requests_for("sendmessage");
    let lone_at = sends
        .iter()
        .position(|r| r.params["chat_id"].as_i64() == Some(lone))
        .expect("the lone chat's reply");
    // Its search takes a moment, during which the flood goes on at 28 a second.
    let others_first = lone_at - before;
    assert!(
        others_first <= 28,
        "{others_first} flood replies went before the lone chat's only one"
    );
    // Every flooder's first reply came before any flooder's fourth.
    let mut seen = std::collections::HashMap::<i64, usize>::new();
    let mut fourth_at = None;
    let mut first_at = Vec::new();
    for (i, r) in sends.iter().enumerate() {
        let Some(chat) = r.params["chat_id"].as_i64() else {
            continue;
        };
        let n = seen.entry(chat).or_default();
        *n += 1;
        if *n == 1 && flooders.contains(&chat) {
            first_at.push(i);
        }
        if *n == 4 && fourth_at.is_none() {
            fourth_at = Some(i);
        }
    }
    assert_eq!(first_at.len(), flooders.len(), "every flooder was answered");
    let last_first = first_at.iter().max().copied().unwrap_or(0);
    assert!(
        fourth_at.is_none_or(|f| last_first < f),
        "a chat's fourth reply (send {fourth_at:?}) went before another's first (send {last_first})"
    );
    h.stop().await;
}
