//! Security: admin commands and the allowlist cannot be bypassed (edited and forwarded
//! messages, channel posts, anonymous group admins, forged button data); callback data and
//! inline queries are untrusted input; the token never reaches logs, exit messages or replies,
//! even on HTTP errors with RUST_LOG=trace; seed files cannot make the bot read outside
//! SEEDS_DIR (symlinks out of the folder, symlink loops, files swapped after the scan).

mod support;

use std::path::Path;
use std::process::{Child, Command};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use jianbao::config::Settings;
use serde_json::{Value, json};
use support::{
    BotHarness, FakeApi, Fault, WAIT, callback_query, check_telegram_html, cli, inline_query,
    text_message, valid_html,
};

/// In ADMIN_IDS.
const ADMIN: i64 = 41;
/// Not in ADMIN_IDS.
const USER: i64 = 7;
/// The user Telegram puts in `from` of a message an anonymous group admin posts.
const GROUP_ANONYMOUS_BOT: i64 = 1_087_968_824;

const NOT_ALLOWED: &str = "授权";
const ADMINS_ONLY: &str = "机器人管理员";
const GROUP_ADMINS_ONLY: &str = "群管理员";
const STALE: &str = "失效";
const REINDEXED: &str = "同步完成";
const STATS: &str = "统计";

// ---------------------------------------------------------------------------
// In-process bot against the fake Bot API
// ---------------------------------------------------------------------------

/// Twelve AI articles (three pages of five), one with hostile markup everywhere, one farm one.
fn write_corpus(dir: &Path) {
    for i in 0..12 {
        let text = format!(
            "---\ntitle: 人工智能新闻{i}\nurl: https://example.com/ai/{i}\nsource: 测试\ndate: 2024-07-{:02}\n---\n\n第{i}篇：人工智能发展与治理。全球合作推动人工智能安全。\n",
            i + 1
        );
        std::fs::write(dir.join(format!("ai{i:02}.txt")), text).unwrap();
    }
    std::fs::write(
        dir.join("hostile.txt"),
        "---\ntitle: <script>alert(1)</script> 人工智能 </b> & \"引号\" <a href=\"x\">\nurl: javascript:alert(1)\nsource: <i>来源</i> &amp;\ndate: 2024-08-01\n---\n\n人工智能 <b>粗体</b> &lt; & <tg-spoiler>剧透</tg-spoiler> </code> 结束。\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("farm.txt"),
        "---\ntitle: 农业银行\nsource: 财经\ndate: 2024-06-01\n---\n中国农业发展银行支持乡村振兴。\n",
    )
    .unwrap();
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn user_json(id: i64) -> Value {
    json!({ "id": id, "is_bot": false, "first_name": "Someone" })
}

/// `update` (from `text_message`) as an edit of that message.
fn edited(update: Value) -> Value {
    let mut message = update["message"].clone();
    message["edit_date"] = json!(unix_now());
    json!({ "edited_message": message })
}

/// `update` (from `text_message`) as forwarded from a message `author` wrote.
fn forwarded(mut update: Value, author: i64) -> Value {
    update["message"]["forward_origin"] = json!({
        "type": "user",
        "sender_user": user_json(author),
        "date": unix_now() - 3600,
    });
    update
}

/// A message an anonymous administrator of supergroup `chat_id` posts: `sender_chat` is the
/// group itself, `from` is Telegram's GroupAnonymousBot.
fn anonymous_admin(chat_id: i64, text: &str) -> Value {
    let mut update = text_message(chat_id, "supergroup", GROUP_ANONYMOUS_BOT, text);
    update["message"]["from"] = json!({
        "id": GROUP_ANONYMOUS_BOT,
        "is_bot": true,
        "first_name": "Group",
        "username": "GroupAnonymousBot",
    });
    update["message"]["sender_chat"] =
        json!({ "id": chat_id, "type": "supergroup", "title": "Test Group" });
    update
}

fn admin_settings() -> Settings {
    Settings {
        admin_ids: [ADMIN].into_iter().collect(),
        ..Settings::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edited_messages_are_not_handled() {
    let h = BotHarness::new(admin_settings(), write_corpus).await;
    for (chat, chat_type) in [(ADMIN, "private"), (-300, "supergroup")] {
        let mut ignored = Vec::new();
        for user in [USER, ADMIN] {
            for text in ["/stats", "/reindex", "/subscribe 08:00", "人工智能"] {
                ignored.push(edited(text_message(chat, chat_type, user, text)));
            }
        }
        let help = h
            .ignored_then(ignored, text_message(chat, chat_type, ADMIN, "/help"))
            .await;
        assert!(help.contains("/subscribe"), "{help}");
    }
    assert!(h.fake.requests_for("getchatmember").is_empty());
    // The same message, not edited, is a valid update the bot answers: the edits above were
    // understood and left alone, not dropped as unparseable.
    let stats = h
        .reply_to(text_message(ADMIN, "private", ADMIN, "/stats"))
        .await;
    assert!(stats.contains(STATS), "{stats}");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_commands_are_never_run() {
    let h = BotHarness::new(admin_settings(), write_corpus).await;
    // Private chat: a forwarded command is searched as text, never run, whoever forwards it
    // and whoever wrote it, with leading spaces or slashes too.
    for (forwarder, author) in [(USER, ADMIN), (ADMIN, USER), (ADMIN, ADMIN)] {
        for text in [
            "/reindex",
            "/stats",
            " /reindex",
            "\n/stats",
            "//reindex",
            "/ /reindex",
            "/reindex@jianbao_test_bot",
        ] {
            let update = forwarded(text_message(forwarder, "private", forwarder, text), author);
            let reply = h.reply_to(update).await;
            assert!(
                !reply.contains(REINDEXED)
                    && !reply.contains(STATS)
                    && !reply.contains(ADMINS_ONLY),
                "forwarded {text:?} (by {forwarder}, written by {author}) ran as a command: {reply}"
            );
        }
        let update = forwarded(
            text_message(forwarder, "private", forwarder, "/subscribe 08:00"),
            author,
        );
        let reply = h.reply_to(update).await;
        assert!(!reply.contains("已订阅"), "{reply}");
    }
    // A forwarded article is still searched.
    let update = forwarded(text_message(USER, "private", USER, "农业"), ADMIN);
    assert!(h.reply_to(update).await.contains("农业银行"));

    // Group: forwarded text is ignored altogether.
    let chat = -310;
    h.fake.set_chat_member_status(chat, ADMIN, "administrator");
    let ignored = ["/stats", "/reindex", " /stats", "/subscribe 08:00", "/help"]
        .iter()
        .flat_map(|text| {
            [USER, ADMIN].map(|by| forwarded(text_message(chat, "supergroup", by, text), ADMIN))
        })
        .collect();
    let help = h
        .ignored_then(ignored, text_message(chat, "supergroup", USER, "/help"))
        .await;
    assert!(help.contains("/subscribe"));
    assert!(h.fake.requests_for("getchatmember").is_empty());
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channel_posts_are_ignored() {
    let h = BotHarness::new(admin_settings(), write_corpus).await;
    let channel = json!({ "id": -100_777, "type": "channel", "title": "Channel" });
    let post = |text: &str, n: i64| {
        json!({
            "message_id": 5000 + n,
            "date": unix_now(),
            "chat": channel,
            "sender_chat": channel,
            "text": text,
            "entities": [{ "type": "bot_command", "offset": 0, "length": text.len() }],
        })
    };
    let mut updates = vec![
        json!({ "channel_post": post("/stats", 1) }),
        json!({ "channel_post": post("/reindex", 2) }),
        json!({ "edited_channel_post": post("/stats", 3) }),
    ];
    // A message update in a channel chat (Telegram sends channel_post; the handler must not
    // rely on that) from an admin: still ignored.
    let mut forged = post("/stats", 4);
    forged["from"] = user_json(ADMIN);
    updates.push(json!({ "message": forged }));
    h.ignored(updates).await;
    // The bot still answers elsewhere.
    let help = h
        .reply_to(text_message(USER, "private", USER, "/help"))
        .await;
    assert!(help.contains("/subscribe"));
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_group_admins_are_group_admins_but_not_bot_admins() {
    let mut h = BotHarness::new(admin_settings(), write_corpus).await;
    let group = -600;
    let stats = h.reply_to(anonymous_admin(group, "/stats")).await;
    assert!(stats.contains(ADMINS_ONLY), "{stats}");
    let reindex = h.reply_to(anonymous_admin(group, "/reindex")).await;
    assert!(reindex.contains(ADMINS_ONLY), "{reindex}");
    let subscribed = h.reply_to(anonymous_admin(group, "/subscribe 08:00")).await;
    assert!(subscribed.contains("已订阅每日简报"), "{subscribed}");
    let unsubscribed = h.reply_to(anonymous_admin(group, "/unsubscribe")).await;
    assert!(unsubscribed.contains("已取消订阅"), "{unsubscribed}");
    // Nobody had to be asked: the group itself speaks.
    assert!(h.fake.requests_for("getchatmember").is_empty());

    // A member posting as a channel of theirs (sender_chat is not the group; `from` is
    // Telegram's Channel_Bot) is no group admin.
    let mut as_channel = anonymous_admin(group, "/subscribe 08:00");
    as_channel["message"]["from"] = json!({
        "id": 136_817_688, "is_bot": true, "first_name": "Channel", "username": "Channel_Bot",
    });
    as_channel["message"]["sender_chat"] =
        json!({ "id": -100_555, "type": "channel", "title": "Someone's channel" });
    let refused = h.reply_to(as_channel).await;
    assert!(refused.contains(GROUP_ADMINS_ONLY), "{refused}");
    // Nor is a plain member.
    let refused = h
        .reply_to(text_message(group, "supergroup", USER, "/subscribe 08:00"))
        .await;
    assert!(refused.contains(GROUP_ADMINS_ONLY), "{refused}");

    // With an allowlist, a group not on it is refused whoever speaks.
    h.restart(Settings {
        admin_ids: [ADMIN].into_iter().collect(),
        allowed_chat_ids: [group].into_iter().collect(),
        ..Settings::default()
    })
    .await;
    for text in ["/subscribe 08:00", "/stats", "/search 人工智能", "/digest"] {
        let refused = h.reply_to(anonymous_admin(-601, text)).await;
        assert!(refused.contains(NOT_ALLOWED), "{text}: {refused}");
    }
    let refused = h
        .reply_to(text_message(-601, "supergroup", ADMIN, "/stats"))
        .await;
    assert!(refused.contains(NOT_ALLOWED), "{refused}");
    let subscribed = h.reply_to(anonymous_admin(group, "/subscribe 09:00")).await;
    assert!(subscribed.contains("09:00"), "{subscribed}");
    h.stop().await;
}

/// Deterministic "random" strings of at most 64 bytes: controls, separators, digits, CJK,
/// emoji, NUL.
fn random_data(seed: u64, count: usize) -> Vec<String> {
    let pool: Vec<char> = "\0\u{1}\n\t :;p P-+0123456789abcxyz%&<>\"'\\/人工智能🙂\u{202e}\u{feff}"
        .chars()
        .collect();
    let mut state = seed;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as usize
    };
    (0..count)
        .map(|_| {
            let mut s = String::new();
            let len = 1 + next() % 40;
            for _ in 0..len {
                let c = pool[next() % pool.len()];
                if s.len() + c.len_utf8() > 64 {
                    break;
                }
                s.push(c);
            }
            s
        })
        .collect()
}

fn press_in(chat_id: i64, message_id: i32, data: &str) -> Value {
    callback_query(chat_id, chat_id.abs(), message_id, data)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_callback_data_gets_a_notice_and_never_an_edit() {
    // 10 and 11 are allowed, 12 is not.
    let settings = Settings {
        allowed_chat_ids: [10, 11].into_iter().collect(),
        ..Settings::default()
    };
    let h = BotHarness::new(settings, write_corpus).await;
    let before = h.fake.requests_for("sendmessage").len();
    h.fake
        .push_update(text_message(10, "private", 10, "人工智能"));
    let sent = h.fake.wait_for("sendmessage", before + 1, WAIT).await;
    let first_page = valid_html(&sent[before].params);
    assert!(first_page.contains("第 1/3 页"), "{first_page}");
    // The page button (the row above it holds the full-text buttons).
    let data = support::buttons(&sent[before].params)
        .into_iter()
        .map(|(_, d)| d)
        .find(|d| d.starts_with("p:"))
        .unwrap();
    let parts: Vec<&str> = data.split(':').collect();
    assert_eq!(parts.len(), 4, "{data}");
    let (id, nonce): (i64, u32) = (parts[1].parse().unwrap(), parts[2].parse().unwrap());
    let message_id = 1; // the fake numbers the bot's messages from 1

    let mut forged: Vec<String> = random_data(0x5eed, 40);
    forged.extend([
        String::new(),
        "p".repeat(64),
        format!("p:{}", "9".repeat(62)),
        format!(
            "p:{id}:{nonce}:{}",
            "9".repeat(64 - 4 - id.to_string().len() - nonce.to_string().len() - 1)
        ),
        format!("p:{id}:{}:2", nonce.wrapping_add(1)),
        format!("p:{id}:{}:2", nonce ^ 1),
        format!("p:{id}:0:2"),
        format!("p:{}:{nonce}:2", id + 1),
        format!("p:{}:{nonce}:2", id - 1),
        format!("p:0:{nonce}:2"),
        format!("p:-{id}:{nonce}:2"),
        format!("p:{id}:-{nonce}:2"),
        format!("p:{id}:{}:2", u64::from(nonce) + (1 << 32)),
        format!("p:{id}:{nonce}:0"),
        format!("p:{id}:{nonce}:-1"),
        format!("p:{id}:{nonce}:-9223372036854775808"),
        format!("p:{id}:{nonce}:10001"),
        format!("p:{id}:{nonce}:18446744073709551616"),
        format!("p:{id}:{nonce}:2:"),
        format!("p:{id}:{nonce}:2:3"),
        format!("p:{id}:{nonce}: 2"),
        format!("p:{id}:{nonce}:2 "),
        format!("p:{id}:{nonce}:２"),
        format!("P:{id}:{nonce}:2"),
        format!(" p:{id}:{nonce}:2"),
        format!("p:{id}:{nonce}"),
        format!("p::{nonce}:2"),
        format!("p:{id}::2"),
        format!("p:{}:{nonce}:2", i64::MAX),
        format!("p:{}:{nonce}:2", i64::MIN),
    ]);
    for d in &forged {
        assert!(d.len() <= 64, "{d:?} is {} bytes", d.len());
    }
    let edits_before = h.fake.requests_for("editmessagetext").len();
    let answers = h
        .press(forged.iter().map(|d| press_in(10, message_id, d)).collect())
        .await;
    for (d, answer) in forged.iter().zip(&answers) {
        let text = answer["text"].as_str().unwrap_or_default();
        assert!(text.contains(STALE), "{d:?}: {answer}");
    }

    // The same in a chat off the allowlist: refused before the data is even looked at, and
    // the genuine data is refused there too.
    let mut off_list = forged[..5].to_vec();
    off_list.push(data.clone());
    let answers = h
        .press(off_list.iter().map(|d| press_in(12, 5, d)).collect())
        .await;
    for (d, answer) in off_list.iter().zip(&answers) {
        let text = answer["text"].as_str().unwrap_or_default();
        assert!(text.contains(NOT_ALLOWED), "{d:?}: {answer}");
    }

    // A press with no message (a button under an inline-mode message), with no data (a game
    // button) or on an inaccessible message: a notice too.
    let no_message = |n: u32, data: &str| {
        json!({ "callback_query": {
            "id": format!("cbq-inline-{n}"),
            "from": user_json(10),
            "chat_instance": "instance-inline",
            "inline_message_id": "AgAAAHNzAAAAAAAA",
            "data": data,
        }})
    };
    let mut no_data = press_in(10, message_id, "x");
    no_data["callback_query"]["id"] = json!("cbq-game-1");
    let cq = no_data["callback_query"].as_object_mut().unwrap();
    cq.remove("data");
    cq.insert("game_short_name".into(), json!("game"));
    let mut inaccessible = press_in(10, message_id, &format!("p:{id}:{}:2", nonce ^ 1));
    inaccessible["callback_query"]["id"] = json!("cbq-inaccessible-1");
    inaccessible["callback_query"]["message"] = json!({
        "chat": { "id": 10, "type": "private", "first_name": "Tester" },
        "message_id": message_id,
        "date": 0,
    });
    let answers = h
        .press(vec![
            no_message(1, &data),
            no_message(2, "garbage"),
            no_data,
            inaccessible,
        ])
        .await;
    for answer in &answers {
        assert!(
            answer["text"].as_str().is_some_and(|t| t.contains(STALE)),
            "{answer}"
        );
    }
    assert_eq!(
        h.fake.requests_for("editmessagetext").len(),
        edits_before,
        "no forged press edited a message"
    );

    // Control: the genuine button works.
    let answers = h.press(vec![press_in(10, message_id, &data)]).await;
    assert!(answers[0].get("text").is_none(), "{}", answers[0]);
    let edits = h
        .fake
        .wait_for("editmessagetext", edits_before + 1, WAIT)
        .await;
    assert!(valid_html(&edits[edits_before].params).contains("第 2/3 页"));

    // With the right id and nonce, a page past the end (up to the 10 000 cap) shows the last
    // page: the index may have shrunk since the search. Beyond the cap: a notice.
    h.press(vec![press_in(
        10,
        message_id,
        &format!("p:{id}:{nonce}:10000"),
    )])
    .await;
    let edits = h
        .fake
        .wait_for("editmessagetext", edits_before + 2, WAIT)
        .await;
    assert!(valid_html(&edits[edits_before + 1].params).contains("第 3/3 页"));

    // Another allowed chat pressing this chat's button data (id and nonce included): search
    // sessions are bound to the chat they were made in, so it gets the stale-button notice and
    // nothing is edited.
    let answers = h.press(vec![press_in(11, 7, &data)]).await;
    assert!(
        answers[0]["text"]
            .as_str()
            .is_some_and(|t| t.contains("失效")),
        "{:?}",
        answers[0]
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        h.fake.requests_for("editmessagetext").len(),
        edits_before + 2
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_inline_queries_are_answered_with_valid_html() {
    let h = BotHarness::new(Settings::default(), write_corpus).await;
    let html = "<b>人工智能</b> <a href=\"javascript:alert(1)\">&amp;</a> </i>&#0;<script>";
    let long_html: String = html.chars().cycle().take(300).collect();
    let queries = [
        long_html.as_str(),
        "<script>alert(1)</script>",
        "人工智能 & < > \" '",
        "\"人工智能",
        "source:<i>来源</i> &amp;",
        "after:9999-99-99 人工智能",
        "\u{202e}人工智能\u{0}",
        "",
        "   ",
        "-",
        "🙂",
    ];
    let ids = [
        "q".repeat(200),
        "0123456789".repeat(20),
        "<b>&amp;\"'".repeat(20),
        "x".to_owned(),
    ];
    let mut expected = 0;
    for (i, query) in queries.iter().enumerate() {
        let id = format!("{}{i}", ids[i % ids.len()]);
        let mut update = inline_query(10, query);
        update["inline_query"]["id"] = json!(id);
        h.fake.push_update(update);
        expected += 1;
        let answers = h.fake.wait_for("answerinlinequery", expected, WAIT).await;
        let answer = answers
            .iter()
            .find(|a| a.params["inline_query_id"] == id.as_str())
            .unwrap_or_else(|| panic!("inline query {query:?} not answered"));
        assert_eq!(answer.status, 200, "{query:?}: {}", answer.params);
        let results = answer.params["results"].as_array().unwrap();
        assert!(results.len() <= 10);
        for r in results {
            assert_eq!(r["type"], "article");
            let rid = r["id"].as_str().unwrap();
            assert!(!rid.is_empty() && rid.len() <= 64, "{rid}");
            assert!(!r["title"].as_str().unwrap().trim().is_empty());
            let content = &r["input_message_content"];
            assert_eq!(content["parse_mode"], "HTML");
            let text = content["message_text"].as_str().unwrap();
            let len = check_telegram_html(text)
                .unwrap_or_else(|e| panic!("{query:?}: invalid HTML ({e}):\n{text}"));
            assert!(len <= 4096);
            if let Some(url) = r.get("url").and_then(Value::as_str) {
                assert!(
                    url.starts_with("https://") || url.starts_with("http://"),
                    "{url}"
                );
            }
            assert!(!text.contains("javascript:"), "{text}");
        }
        if query.contains("人工智能") && !query.starts_with("after:") {
            assert!(!results.is_empty(), "{query:?}");
        }
    }
    // The hostile article's markup arrives escaped.
    h.fake
        .push_update(inline_query(10, "script alert 人工智能"));
    let answers = h
        .fake
        .wait_for("answerinlinequery", expected + 1, WAIT)
        .await;
    let all = answers[expected].params["results"].to_string();
    assert!(all.contains("&lt;script&gt;"), "{all}");
    h.stop().await;
}

// ---------------------------------------------------------------------------
// The token and the logs: `jianbao serve` as a child process
// ---------------------------------------------------------------------------

/// A child whose stdout and stderr are drained as it runs (trace logs fill any pipe).
struct Served {
    child: Child,
    stdout: std::thread::JoinHandle<Vec<u8>>,
    stderr: std::thread::JoinHandle<Vec<u8>>,
}

fn serve(seeds: &Path, data: &Path, envs: &[(&str, &str)]) -> Served {
    let mut cmd = cli::command(seeds, data, &["serve"]);
    cmd.env("RUST_LOG", "trace").env("SEEDS_RESCAN_SECS", "1");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn jianbao serve");
    let stdout = cli::drain(child.stdout.take());
    let stderr = cli::drain(child.stderr.take());
    Served {
        child,
        stdout,
        stderr,
    }
}

impl Served {
    /// Waits up to `timeout` for the process to end by itself.
    async fn exits_within(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }

    /// SIGTERM (a clean stop, so shutdown logs are checked too), SIGKILL if that hangs.
    async fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        if self.exits_within(Duration::from_secs(20)).await.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    /// Everything the process wrote, stdout then stderr.
    fn output(self) -> (String, String) {
        let out = String::from_utf8_lossy(&self.stdout.join().unwrap()).into_owned();
        let err = String::from_utf8_lossy(&self.stderr.join().unwrap()).into_owned();
        (out, err)
    }
}

fn assert_no_token(case: &str, token: &str, stdout: &str, stderr: &str) {
    let secret = token.split_once(':').unwrap().1;
    for (name, text) in [("stdout", stdout), ("stderr", stderr)] {
        for needle in [token, secret] {
            if let Some(at) = text.find(needle) {
                let start = text[..at].rfind('\n').map_or(0, |n| n + 1);
                let end = text[at..].find('\n').map_or(text.len(), |n| at + n);
                panic!("{case}: the token is in {name}:\n{}", &text[start..end]);
            }
        }
    }
}

fn small_seeds() -> tempfile::TempDir {
    let seeds = tempfile::tempdir().unwrap();
    write_corpus(seeds.path());
    seeds
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_up_failures_keep_the_token_out_of_the_exit_message_and_logs() {
    let fake = FakeApi::start().await;
    let seeds = small_seeds();
    let url = fake.url().to_string();
    let wrong = "987654:WRONG-token-SECRET";
    let cases: Vec<(&str, String, String, Option<Fault>)> = vec![
        // 401 from getMe.
        ("wrong token", wrong.into(), url.clone(), None),
        // 403 / 400 from getMe with the right token.
        (
            "getMe 403",
            FakeApi::TOKEN.into(),
            url.clone(),
            Some(Fault::Kicked),
        ),
        (
            "getMe 400",
            FakeApi::TOKEN.into(),
            url.clone(),
            Some(Fault::ChatNotFound),
        ),
        // Nothing listens: a connection error, whose message names the URL.
        (
            "closed port",
            FakeApi::TOKEN.into(),
            "http://127.0.0.1:9/".into(),
            None,
        ),
        // Under a path teloxide's own token hiding does not recognise.
        (
            "closed port, path",
            FakeApi::TOKEN.into(),
            "http://127.0.0.1:9/tg/api/".into(),
            None,
        ),
        // Not an http(s) URL: refused with a message, not a panic.
        (
            "no scheme",
            FakeApi::TOKEN.into(),
            "localhost:9".into(),
            None,
        ),
        // A token with spaces around it (from a .env file) is still scrubbed.
        ("padded token", format!("  {wrong}  "), url.clone(), None),
    ];
    for (case, token, api_url, fault) in cases {
        if let Some(fault) = fault {
            fake.fail_next("getme", fault);
        }
        let data = tempfile::tempdir().unwrap();
        let mut served = serve(
            seeds.path(),
            data.path(),
            &[("TELOXIDE_TOKEN", &token), ("TELOXIDE_API_URL", &api_url)],
        );
        let status = served.exits_within(Duration::from_secs(30)).await;
        if status.is_none() {
            served.stop().await;
        }
        let (stdout, stderr) = served.output();
        let status = status.unwrap_or_else(|| panic!("{case}: still running\n{stderr}"));
        assert!(!status.success(), "{case}: {status}\n{stderr}");
        assert_eq!(
            status.code(),
            Some(1),
            "{case}: exits with an error, not a panic\n{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{case}: {stderr}");
        let last = stderr.lines().last().unwrap_or_default();
        assert!(last.starts_with("error: "), "{case}: {last}");
        if case == "no scheme" {
            assert!(last.contains("TELOXIDE_API_URL"), "{case}: {last}");
        } else {
            assert!(last.contains("getMe"), "{case}: {last}");
            assert!(stderr.contains("TRACE"), "{case}: RUST_LOG=trace is on");
        }
        assert_no_token(case, token.trim(), &stdout, &stderr);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_errors_while_serving_keep_the_token_out_of_the_logs() {
    let fake = FakeApi::start().await;
    let seeds = small_seeds();
    let data = tempfile::tempdir().unwrap();
    fake.fail_next("setmycommands", Fault::Kicked);
    fake.fail_next("getupdates", Fault::ChatNotFound);
    fake.fail_next("getupdates", Fault::RetryAfter(1));
    let url = fake.url().to_string();
    let mut served = serve(
        seeds.path(),
        data.path(),
        &[
            ("TELOXIDE_TOKEN", FakeApi::TOKEN),
            ("TELOXIDE_API_URL", &url),
        ],
    );
    // Polling got over its two faults.
    let started = Instant::now();
    while !fake
        .requests_for("getupdates")
        .iter()
        .any(|r| r.status == 200)
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no successful poll"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // 403 on a reply.
    fake.fail_chat(70, Some(Fault::Blocked));
    fake.push_update(text_message(70, "private", 70, "人工智能"));
    fake.wait_for("sendmessage", 1, WAIT).await;
    // 400 on answerCallbackQuery and answerInlineQuery.
    fake.fail_next("answercallbackquery", Fault::ChatNotFound);
    fake.push_update(callback_query(71, 71, 1, "forged"));
    fake.wait_for("answercallbackquery", 1, WAIT).await;
    fake.fail_next("answerinlinequery", Fault::ChatNotFound);
    fake.push_update(inline_query(71, "人工智能"));
    fake.wait_for("answerinlinequery", 1, WAIT).await;
    // 500 on a reply, then the retry succeeds (teloxide waits 10 s on a 5xx).
    fake.fail_next("sendmessage", Fault::ServerError);
    fake.push_update(text_message(72, "private", 72, "农业"));
    let sends = fake
        .wait_for("sendmessage", 3, Duration::from_secs(40))
        .await;
    assert_eq!(sends[1].status, 500);
    served.stop().await;
    let (stdout, stderr) = served.output();
    assert!(stderr.contains("TRACE"), "RUST_LOG=trace is on");
    assert!(stderr.contains("polling failed"), "{stderr}");
    assert!(stderr.contains("setMyCommands failed"), "{stderr}");
    assert_no_token("serving", FakeApi::TOKEN, &stdout, &stderr);
    for r in fake.requests() {
        assert!(
            !r.params.to_string().contains(FakeApi::TOKEN),
            "the token was sent in {}: {}",
            r.method,
            r.params
        );
    }
}

/// A misbehaving Bot API server (think of a reverse proxy in front of a local Bot API server)
/// whose errors echo the request path, token and all: Apache-style HTML 404 pages, JSON error
/// descriptions. teloxide hides the token in URLs of network errors, not in what a server
/// answers, so here only jianbao's own scrubbing keeps it out of the logs.
///
/// getMe: ok (or the 404 page with `fail_get_me`). getUpdates: first a message, a group
/// command, a button press and an inline query; then in turn 401 with the path, a dropped
/// connection, the 404 page. Replies, answers and getChatMember: 400 with the path.
async fn echoing_api(
    listener: tokio::net::TcpListener,
    fail_get_me: bool,
    seen: Arc<std::sync::Mutex<Vec<String>>>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let polls = Arc::new(AtomicUsize::new(0));
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            return;
        };
        let (polls, seen) = (polls.clone(), seen.clone());
        tokio::spawn(async move {
            let mut buf: Vec<u8> = Vec::new();
            loop {
                let head_end = loop {
                    if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break p + 4;
                    }
                    let mut chunk = [0u8; 4096];
                    match stream.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse().ok())?
                    })
                    .unwrap_or(0);
                while buf.len() < head_end + length {
                    let mut chunk = [0u8; 4096];
                    match stream.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                buf.drain(..head_end + length);
                let path = head
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or_default()
                    .to_owned();
                let method = path
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                seen.lock().unwrap().push(method.clone());
                let json_error = |code: u16, what: &str| {
                    let body = json!({
                        "ok": false,
                        "error_code": code,
                        "description": format!("{what}: no route for {path}"),
                    });
                    (
                        format!("{code} {what}"),
                        "application/json",
                        body.to_string(),
                    )
                };
                let not_found_page = || {
                    (
                        "404 Not Found".to_owned(),
                        "text/html",
                        format!(
                            "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head><title>404 Not Found</title></head><body>\n<h1>Not Found</h1>\n<p>The requested URL {path} was not found on this server.</p>\n</body></html>\n"
                        ),
                    )
                };
                let ok = |result: Value| {
                    let body = json!({ "ok": true, "result": result });
                    ("200 OK".to_owned(), "application/json", body.to_string())
                };
                let (status, content_type, body) = match method.as_str() {
                    "getme" if fail_get_me => not_found_page(),
                    "getme" => ok(json!({
                        "id": 4242, "is_bot": true, "first_name": "Echo",
                        "username": "echo_bot", "can_join_groups": true,
                        "can_read_all_group_messages": false, "supports_inline_queries": true,
                        "can_connect_to_business": false, "has_main_web_app": false,
                    })),
                    "getupdates" => match polls.fetch_add(1, Ordering::SeqCst) {
                        0 => {
                            let mut updates = vec![
                                text_message(80, "private", 80, "人工智能"),
                                text_message(-800, "supergroup", 81, "/subscribe 08:00"),
                                callback_query(82, 82, 1, "forged"),
                                inline_query(83, "人工智能"),
                            ];
                            for (i, u) in updates.iter_mut().enumerate() {
                                u["update_id"] = json!(i + 1);
                            }
                            ok(Value::Array(updates))
                        }
                        n if n % 3 == 1 => json_error(401, "Unauthorized"),
                        n if n % 3 == 2 => return, // drop the connection mid-request
                        _ => not_found_page(),
                    },
                    "sendmessage"
                    | "answercallbackquery"
                    | "answerinlinequery"
                    | "getchatmember"
                    | "setmycommands" => json_error(400, "Bad Request"),
                    _ => ok(json!(true)),
                };
                let response = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
                if stream.write_all(response.as_bytes()).await.is_err() {
                    return;
                }
            }
        });
    }
}

async fn start_echoing_api(fail_get_me: bool) -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    tokio::spawn(echoing_api(listener, fail_get_me, seen.clone()));
    (format!("http://{addr}/telegram/api/"), seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_echoing_the_token_in_its_errors_does_not_leak_it() {
    let seeds = small_seeds();

    // getMe answered by a 404 page that names the URL: the exit message.
    let (url, _) = start_echoing_api(true).await;
    let data = tempfile::tempdir().unwrap();
    let mut served = serve(
        seeds.path(),
        data.path(),
        &[
            ("TELOXIDE_TOKEN", FakeApi::TOKEN),
            ("TELOXIDE_API_URL", &url),
        ],
    );
    let status = served.exits_within(Duration::from_secs(30)).await;
    if status.is_none() {
        served.stop().await;
    }
    let (stdout, stderr) = served.output();
    assert_eq!(status.and_then(|s| s.code()), Some(1), "{stderr}");
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.contains("getMe") && last.contains("<redacted>"),
        "{last}"
    );
    assert_no_token("getMe 404 page", FakeApi::TOKEN, &stdout, &stderr);

    // Serving: every request that can fail fails with the path in the answer.
    let (url, seen) = start_echoing_api(false).await;
    let data = tempfile::tempdir().unwrap();
    let mut served = serve(
        seeds.path(),
        data.path(),
        &[
            ("TELOXIDE_TOKEN", FakeApi::TOKEN),
            ("TELOXIDE_API_URL", &url),
        ],
    );
    let count = |method: &str| seen.lock().unwrap().iter().filter(|m| *m == method).count();
    let started = Instant::now();
    // Poll 4 gets the 404 page (teloxide backs off 2 s, then 4 s, between failed polls).
    while !(count("getupdates") >= 4
        && count("sendmessage") >= 1
        && count("getchatmember") >= 1
        && count("answercallbackquery") >= 1
        && count("answerinlinequery") >= 1)
    {
        assert!(
            started.elapsed() < Duration::from_secs(40),
            "requests seen: {:?}",
            seen.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    served.stop().await;
    let (stdout, stderr) = served.output();
    for what in [
        "setMyCommands failed",
        "polling failed",
        "getChatMember for chat -800 failed",
        "answerCallbackQuery failed",
        "answerInlineQuery failed",
        "chat 80: send failed",
    ] {
        // Each failure was logged, with the echoed token scrubbed.
        assert!(
            stderr
                .lines()
                .any(|l| l.contains(what) && l.contains("<redacted>")),
            "no {what:?} with the token scrubbed in the logs:\n{}",
            stderr
                .lines()
                .filter(|l| !l.contains("TRACE") && !l.contains("DEBUG"))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    assert_no_token("echoing server", FakeApi::TOKEN, &stdout, &stderr);
}

// ---------------------------------------------------------------------------
// Seed folder escapes
// ---------------------------------------------------------------------------

#[cfg(unix)]
mod seeds {
    use std::os::unix::fs::symlink;
    use std::process::Command;

    use super::support::cli::{run as jianbao, search_total};

    /// The body of a seed file as `load` reads it now.
    fn body_of(file: &jianbao::corpus::SeedFile) -> String {
        jianbao::corpus::load(file)
            .unwrap_or_else(|skip| panic!("{}: {skip}", file.key))
            .body
    }

    fn article(marker: &str, url: &str) -> String {
        format!(
            "---\ntitle: 文章 {marker}\nurl: {url}\nsource: 测试\ndate: 2024-07-10\n---\n\n{marker} 出现在正文里。\n"
        )
    }

    #[test]
    fn symlinks_out_of_the_folder_and_loops_are_not_followed() {
        let outside = tempfile::tempdir().unwrap();
        let seeds = tempfile::tempdir().unwrap();
        let data = tempfile::tempdir().unwrap();
        let (o, s) = (outside.path(), seeds.path());
        std::fs::write(o.join("secret.txt"), article("outsidefilemarker", "")).unwrap();
        std::fs::create_dir(o.join("dir")).unwrap();
        std::fs::write(o.join("dir/inner.txt"), article("outsidedirmarker", "")).unwrap();

        std::fs::write(
            s.join("normal.txt"),
            article("insidenormalmarker", "https://example.com/n"),
        )
        .unwrap();
        std::fs::create_dir(s.join("sub")).unwrap();
        std::fs::write(s.join("sub/plain.md"), article("insideplainmarker", "")).unwrap();
        // Out of the folder: a file, a directory, relative and absolute, a device.
        symlink(o.join("secret.txt"), s.join("abs.txt")).unwrap();
        let outside_name = o.file_name().unwrap().to_str().unwrap();
        symlink(format!("../{outside_name}/secret.txt"), s.join("rel.txt")).unwrap();
        symlink(o.join("dir"), s.join("outdir")).unwrap();
        symlink(o.join("dir"), s.join("outdir.txt")).unwrap();
        symlink(format!("../../{outside_name}/dir"), s.join("sub/up")).unwrap();
        symlink("/dev/zero", s.join("zero.txt")).unwrap();
        // Loops: a directory linking to itself and to its parent, a file to itself, two files
        // to each other, a dangling link.
        symlink(".", s.join("loop")).unwrap();
        symlink("..", s.join("sub/parent")).unwrap();
        symlink("self.txt", s.join("self.txt")).unwrap();
        symlink("b.txt", s.join("a.txt")).unwrap();
        symlink("a.txt", s.join("b.txt")).unwrap();
        symlink("missing.txt", s.join("dangling.txt")).unwrap();
        // Inside the folder: a file link (same URL as its target), a link to a file without
        // a URL, a directory link.
        symlink("normal.txt", s.join("alias.txt")).unwrap();
        symlink("sub/plain.md", s.join("plain-alias.txt")).unwrap();
        symlink("sub", s.join("sublink")).unwrap();
        // A FIFO, and a link to it: opening one for reading would block forever.
        let fifo = Command::new("mkfifo").arg(s.join("pipe.txt")).status();
        if fifo.is_ok_and(|s| s.success()) {
            symlink("pipe.txt", s.join("pipe-link.txt")).unwrap();
        }

        let keys: Vec<String> = jianbao::corpus::scan(s)
            .unwrap()
            .into_iter()
            .map(|f| f.key)
            .collect();
        assert_eq!(
            keys,
            ["alias.txt", "normal.txt", "plain-alias.txt", "sub/plain.md"],
            "only the real files and the links that stay inside"
        );

        let out = jianbao(s, data.path(), &["index"]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(stdout.contains("seeds: 4 files"), "{stdout}");
        assert!(
            stderr.contains("abs.txt") && stderr.contains("symlink leads outside"),
            "escapes are reported: {stderr}"
        );
        assert_eq!(search_total(s, data.path(), "outsidefilemarker"), 0);
        assert_eq!(search_total(s, data.path(), "outsidedirmarker"), 0);
        assert_eq!(
            search_total(s, data.path(), "insidenormalmarker"),
            1,
            "{stdout}"
        );
        // The link to normal.txt is the same article (same URL): skipped as a duplicate.
        assert!(
            stdout.contains("skipped normal.txt: same article (URL) as alias.txt")
                || stdout.contains("skipped alias.txt: same article (URL) as normal.txt"),
            "{stdout}"
        );
        // A link to a file without a URL is indexed under both names (like a copy would be).
        assert_eq!(
            search_total(s, data.path(), "insideplainmarker"),
            2,
            "{stdout}"
        );
    }

    #[test]
    fn a_file_swapped_for_a_symlink_after_the_scan_is_not_read() {
        let outside = tempfile::tempdir().unwrap();
        let seeds = tempfile::tempdir().unwrap();
        let (o, s) = (outside.path(), seeds.path());
        std::fs::write(o.join("secret.txt"), article("outsideswapmarker", "")).unwrap();
        std::fs::write(s.join("plain.txt"), article("insideone", "")).unwrap();
        std::fs::write(s.join("target.txt"), article("insidetwo", "")).unwrap();
        symlink("target.txt", s.join("link.txt")).unwrap();

        let files = jianbao::corpus::scan(s).unwrap();
        let file = |key: &str| files.iter().find(|f| f.key == key).unwrap().clone();
        let (plain, link) = (file("plain.txt"), file("link.txt"));
        // Read as scanned: fine.
        assert!(body_of(&plain).contains("insideone"));
        assert!(body_of(&link).contains("insidetwo"));

        // Between the scan and the read, both are turned into links out of the folder.
        std::fs::remove_file(s.join("plain.txt")).unwrap();
        symlink(o.join("secret.txt"), s.join("plain.txt")).unwrap();
        std::fs::remove_file(s.join("link.txt")).unwrap();
        symlink(o.join("secret.txt"), s.join("link.txt")).unwrap();
        for f in [&plain, &link] {
            match jianbao::corpus::load(f) {
                Ok(article) => assert!(
                    !article.body.contains("outsideswapmarker"),
                    "{} was read outside the folder",
                    f.key
                ),
                Err(skip) => assert!(
                    skip.to_string().contains("not a file in the seeds folder"),
                    "{skip}"
                ),
            }
        }
        // A legitimate replacement (a new version saved by a rename) is still read.
        std::fs::write(s.join("new.tmp"), article("insidethree", "")).unwrap();
        std::fs::rename(s.join("new.tmp"), s.join("plain.txt")).unwrap();
        assert!(body_of(&plain).contains("insidethree"));
        std::fs::remove_file(s.join("link.txt")).unwrap();
        symlink("plain.txt", s.join("link.txt")).unwrap();
        assert!(body_of(&link).contains("insidethree"));
    }
}
