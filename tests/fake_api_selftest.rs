//! Tests of the fake Bot API server itself, driven by the real teloxide
//! `Bot`: if these pass, a failing bot test points at the bot, not the fake.

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use teloxide::prelude::*;
use teloxide::types::{ChatMemberStatus, MessageEntityKind, MessageId, ParseMode, UpdateKind};
use teloxide::{ApiError, RequestError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use support::{FakeApi, Fault, check_telegram_html};

const SECOND: Duration = Duration::from_secs(1);
const FIVE_SECONDS: Duration = Duration::from_secs(5);

/// A Bot with the given token against the fake, without proxies.
fn bot_with_token(fake: &FakeApi, token: &str) -> Bot {
    let client = teloxide::net::default_reqwest_settings()
        .no_proxy()
        .build()
        .expect("reqwest client");
    Bot::with_client(token, client).set_api_url(fake.url())
}

/// A bare HTTP/1.1 POST, for answers teloxide would hide (status codes) or
/// delay (it sleeps 10 s before reading a 5xx). Returns (status, JSON body).
async fn raw_post(fake: &FakeApi, path: &str, body: &str) -> (u16, Value) {
    let addr = format!(
        "{}:{}",
        fake.url().host_str().expect("host"),
        fake.url().port().expect("port")
    );
    let mut stream = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect to fake");
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .await
        .expect("write request");
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .await
        .expect("read response");
    let response = String::from_utf8(response).expect("UTF-8 response");
    let (head, body) = response.split_once("\r\n\r\n").expect("HTTP head and body");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status code");
    let body = serde_json::from_str(body).expect("JSON body");
    (status, body)
}

fn method_path(method: &str) -> String {
    format!("/bot{}/{method}", FakeApi::TOKEN)
}

// ---------------------------------------------------------------------------
// Basic methods
// ---------------------------------------------------------------------------

#[tokio::test]
async fn get_me_parses_in_teloxide() {
    let fake = FakeApi::start().await;
    let me = fake.bot().get_me().await.expect("getMe");
    assert_eq!(me.username(), "jianbao_test_bot");
    assert_eq!(me.id, UserId(4242));
    assert!(me.is_bot);
    assert!(me.supports_inline_queries);

    let recorded = fake.requests_for("GetMe");
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].method, "getme");
    assert_eq!(recorded[0].status, 200);
}

#[tokio::test]
async fn other_methods_parse_in_teloxide() {
    let fake = FakeApi::start().await;
    let bot = fake.bot();

    let info = bot.get_webhook_info().await.expect("getWebhookInfo");
    assert!(info.url.is_none());
    bot.delete_webhook().await.expect("deleteWebhook");
    bot.set_my_commands(vec![teloxide::types::BotCommand::new("search", "Search")])
        .await
        .expect("setMyCommands");
    bot.answer_callback_query(teloxide::types::CallbackQueryId("1".into()))
        .await
        .expect("answerCallbackQuery");
    bot.answer_inline_query(teloxide::types::InlineQueryId("1".into()), vec![])
        .await
        .expect("answerInlineQuery");

    let edited = bot
        .edit_message_text(ChatId(42), MessageId(7), "<i>new</i>")
        .parse_mode(ParseMode::Html)
        .await
        .expect("editMessageText");
    assert_eq!(edited.id, MessageId(7));
    assert_eq!(edited.text(), Some("new"));
    assert!(edited.edit_date().is_some());

    let methods: Vec<String> = fake.requests().into_iter().map(|r| r.method).collect();
    assert_eq!(
        methods,
        [
            "getwebhookinfo",
            "deletewebhook",
            "setmycommands",
            "answercallbackquery",
            "answerinlinequery",
            "editmessagetext"
        ]
    );
}

#[tokio::test]
async fn get_chat_member_parses_every_status() {
    let fake = FakeApi::start().await;
    let bot = fake.bot();
    let chat = ChatId(-100_555);

    let member = bot
        .get_chat_member(chat, UserId(1))
        .await
        .expect("default status");
    assert_eq!(member.status(), ChatMemberStatus::Member);
    assert_eq!(member.user.id, UserId(1));
    assert!(!member.is_privileged());

    for (user, status, expected) in [
        (2, "creator", ChatMemberStatus::Owner),
        (3, "administrator", ChatMemberStatus::Administrator),
        (4, "restricted", ChatMemberStatus::Restricted),
        (5, "left", ChatMemberStatus::Left),
        (6, "kicked", ChatMemberStatus::Banned),
        (7, "member", ChatMemberStatus::Member),
    ] {
        fake.set_chat_member_status(chat.0, user, status);
        let member = bot
            .get_chat_member(chat, UserId(user as u64))
            .await
            .unwrap_or_else(|e| panic!("getChatMember {status}: {e:?}"));
        assert_eq!(member.status(), expected, "{status}");
        assert_eq!(
            member.is_privileged(),
            matches!(status, "creator" | "administrator")
        );
    }
    // Per chat: the same user elsewhere is still a plain member.
    let elsewhere = bot
        .get_chat_member(ChatId(-1), UserId(3))
        .await
        .expect("other chat");
    assert_eq!(elsewhere.status(), ChatMemberStatus::Member);
}

#[tokio::test]
#[should_panic(expected = "unknown status")]
async fn unknown_member_status_is_refused() {
    let fake = FakeApi::start().await;
    fake.set_chat_member_status(-1, 1, "owner");
}

#[tokio::test]
async fn http_level_answers() {
    let fake = FakeApi::start().await;

    // An empty body is no parameters.
    let (status, body) = raw_post(&fake, &method_path("getMe"), "").await;
    assert_eq!(status, 200);
    assert_eq!(body["result"]["has_main_web_app"], json!(false));

    let (status, body) = raw_post(&fake, "/bot1:wrong/getMe", "{}").await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        json!({"ok": false, "error_code": 401, "description": "Unauthorized"})
    );

    let (status, _) = raw_post(&fake, "/nonsense", "{}").await;
    assert_eq!(status, 404);

    let (status, body) = raw_post(&fake, &method_path("sendMessage"), "{not json").await;
    assert_eq!(status, 400);
    assert_eq!(body["ok"], json!(false));

    fake.fail_next("getme", Fault::ServerError);
    let (status, body) = raw_post(&fake, &method_path("getMe"), "{}").await;
    assert_eq!(status, 500);
    assert_eq!(body["description"], json!("Internal Server Error"));

    // Every request is recorded, failed ones with their status.
    let statuses: Vec<(String, u16)> = fake
        .requests()
        .into_iter()
        .map(|r| (r.method, r.status))
        .collect();
    assert_eq!(
        statuses,
        [
            ("getme".to_owned(), 200),
            ("getme".to_owned(), 401),
            ("/nonsense".to_owned(), 404),
            ("sendmessage".to_owned(), 400),
            ("getme".to_owned(), 500),
        ]
    );
}

#[tokio::test]
async fn wrong_token_is_invalid_token_in_teloxide() {
    let fake = FakeApi::start().await;
    let err = bot_with_token(&fake, "1:wrong")
        .get_me()
        .await
        .expect_err("wrong token");
    assert!(
        matches!(err, RequestError::Api(ApiError::InvalidToken)),
        "{err:?}"
    );
}

// ---------------------------------------------------------------------------
// sendMessage and HTML
// ---------------------------------------------------------------------------

#[tokio::test]
async fn valid_html_is_accepted_and_recorded() {
    let fake = FakeApi::start().await;
    let bot = fake.bot();
    let html = r#"<b>简报</b> &lt;3 <a href="https://example.com/?a=1&amp;b=2">链接</a>"#;

    let sent = bot
        .send_message(ChatId(42), html)
        .parse_mode(ParseMode::Html)
        .await
        .expect("valid HTML");
    assert_eq!(sent.text(), Some("简报 <3 链接"));
    assert_eq!(sent.chat.id, ChatId(42));
    assert!(sent.chat.is_private());
    assert_eq!(sent.from.as_ref().map(|u| u.id), Some(UserId(4242)));

    let group = bot
        .send_message(ChatId(-1_001), "plain < text & more")
        .await
        .expect("plain text is not parsed");
    assert!(group.chat.is_supergroup());
    assert!(group.id.0 > sent.id.0, "message ids increase");

    let recorded = fake.requests_for("sendMessage");
    assert_eq!(recorded.len(), 2);
    assert_eq!(recorded[0].status, 200);
    assert_eq!(recorded[0].params["text"], json!(html));
    assert_eq!(recorded[0].params["chat_id"], json!(42));
    assert_eq!(fake.sent_texts(42), [html]);
    assert_eq!(fake.sent_texts(-1_001), ["plain < text & more"]);
    assert!(fake.sent_texts(7).is_empty());
}

#[tokio::test]
async fn invalid_html_is_rejected_like_telegram() {
    let fake = FakeApi::start().await;
    let bot = fake.bot();
    let bad = [
        "<b>x",
        "a < b",
        "<script>alert(1)</script>",
        "&foo;",
        "<b><i>x</b></i>",
    ];

    for text in bad {
        let err = bot
            .send_message(ChatId(42), text)
            .parse_mode(ParseMode::Html)
            .await
            .expect_err(text);
        match err {
            RequestError::Api(ApiError::CantParseEntities(description)) => {
                assert!(
                    description.starts_with("Bad Request: can't parse entities: "),
                    "{description}"
                );
            }
            other => panic!("{text:?}: expected CantParseEntities, got {other:?}"),
        }
    }
    let recorded = fake.requests_for("sendmessage");
    assert_eq!(recorded.len(), bad.len());
    assert!(recorded.iter().all(|r| r.status == 400));
    assert!(fake.sent_texts(42).is_empty());

    // The same checks guard edits.
    let err = bot
        .edit_message_text(ChatId(42), MessageId(1), "<b>x")
        .parse_mode(ParseMode::Html)
        .await
        .expect_err("bad edit");
    assert!(
        matches!(err, RequestError::Api(ApiError::CantParseEntities(_))),
        "{err:?}"
    );
}

#[tokio::test]
async fn message_length_is_enforced_on_visible_text() {
    let fake = FakeApi::start().await;
    let bot = fake.bot();

    // Tags do not count, entities count once: 4096 visible is fine.
    let at_limit = format!("<b>{}</b>", "&lt;".repeat(4096));
    bot.send_message(ChatId(1), at_limit)
        .parse_mode(ParseMode::Html)
        .await
        .expect("4096 visible characters");

    // Emoji take two UTF-16 units: 2049 of them are 4098.
    let err = bot
        .send_message(ChatId(1), "😀".repeat(2049))
        .await
        .expect_err("too long");
    assert!(
        matches!(err, RequestError::Api(ApiError::MessageIsTooLong)),
        "{err:?}"
    );

    let err = bot
        .edit_message_text(ChatId(1), MessageId(1), "a".repeat(4097))
        .await
        .expect_err("too long edit");
    assert!(
        matches!(err, RequestError::Api(ApiError::EditedMessageIsTooLong)),
        "{err:?}"
    );

    let err = bot
        .send_message(ChatId(1), "<b> </b>")
        .parse_mode(ParseMode::Html)
        .await
        .expect_err("empty");
    assert!(
        matches!(err, RequestError::Api(ApiError::MessageTextIsEmpty)),
        "{err:?}"
    );
    assert_eq!(fake.sent_texts(1).len(), 1);
}

#[tokio::test]
async fn oversized_callback_data_is_rejected() {
    use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};
    let fake = FakeApi::start().await;
    let bot = fake.bot();

    let ok = InlineKeyboardMarkup::new([[InlineKeyboardButton::callback("next", "p:2")]]);
    let sent = bot
        .send_message(ChatId(5), "page 1")
        .reply_markup(ok)
        .await
        .expect("valid buttons");
    assert!(sent.reply_markup().is_some(), "inline keyboard is echoed");

    let long = InlineKeyboardMarkup::new([[InlineKeyboardButton::callback("x", "d".repeat(65))]]);
    let err = bot
        .send_message(ChatId(5), "page 1")
        .reply_markup(long)
        .await
        .expect_err("65-byte callback data");
    assert!(
        matches!(err, RequestError::Api(ApiError::ButtonDataInvalid)),
        "{err:?}"
    );
}

// ---------------------------------------------------------------------------
// Faults
// ---------------------------------------------------------------------------

#[tokio::test]
async fn queued_faults_map_to_teloxide_errors() {
    let fake = FakeApi::start().await;
    let bot = fake.bot();
    let send = || bot.send_message(ChatId(42), "hi");

    fake.fail_next("sendMessage", Fault::RetryAfter(1));
    fake.fail_next("SENDMESSAGE", Fault::Blocked);
    fake.fail_next("sendmessage", Fault::Migrate(-100_123));
    fake.fail_next("sendmessage", Fault::ChatNotFound);
    fake.fail_next("sendmessage", Fault::Kicked);

    let err = send().await.expect_err("retry after");
    assert!(
        matches!(err, RequestError::RetryAfter(s) if s.seconds() == 1),
        "{err:?}"
    );
    let err = send().await.expect_err("blocked");
    assert!(
        matches!(err, RequestError::Api(ApiError::BotBlocked)),
        "{err:?}"
    );
    let err = send().await.expect_err("migrated");
    assert!(
        matches!(err, RequestError::MigrateToChatId(ChatId(-100_123))),
        "{err:?}"
    );
    let err = send().await.expect_err("chat not found");
    assert!(
        matches!(err, RequestError::Api(ApiError::ChatNotFound)),
        "{err:?}"
    );
    let err = send().await.expect_err("kicked");
    assert!(
        matches!(&err, RequestError::Api(ApiError::Unknown(d)) if d.contains("kicked")),
        "{err:?}"
    );
    // The queue is used up: the next send goes through.
    send().await.expect("queue drained");

    let statuses: Vec<u16> = fake
        .requests_for("sendmessage")
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [429, 403, 400, 400, 403, 200]);
    assert_eq!(fake.sent_texts(42), ["hi"]);
    // Faults queued for one method leave the others alone.
    fake.fail_next("getme", Fault::Blocked);
    send().await.expect("getMe fault does not hit sendMessage");
}

#[tokio::test]
async fn chat_faults_persist_until_cleared() {
    let fake = FakeApi::start().await;
    let bot = fake.bot();
    fake.fail_chat(-1_009, Some(Fault::Blocked));

    for _ in 0..2 {
        let err = bot
            .send_message(ChatId(-1_009), "x")
            .await
            .expect_err("blocked chat");
        assert!(
            matches!(err, RequestError::Api(ApiError::BotBlocked)),
            "{err:?}"
        );
    }
    let err = bot
        .edit_message_text(ChatId(-1_009), MessageId(3), "x")
        .await
        .expect_err("edits too");
    assert!(
        matches!(err, RequestError::Api(ApiError::BotBlocked)),
        "{err:?}"
    );
    bot.send_message(ChatId(-1_008), "x")
        .await
        .expect("other chats work");

    // A queued fault comes before the chat's own.
    fake.fail_next("sendmessage", Fault::RetryAfter(2));
    let err = bot
        .send_message(ChatId(-1_009), "x")
        .await
        .expect_err("queued first");
    assert!(matches!(err, RequestError::RetryAfter(_)), "{err:?}");

    fake.fail_chat(-1_009, None);
    bot.send_message(ChatId(-1_009), "back")
        .await
        .expect("cleared");
    assert_eq!(fake.sent_texts(-1_009), ["back"]);
}

#[tokio::test]
async fn hang_delays_then_answers() {
    let fake = FakeApi::start().await;
    let bot = fake.bot();
    fake.fail_next("sendmessage", Fault::Hang(Duration::from_millis(300)));

    let started = Instant::now();
    bot.send_message(ChatId(1), "slow")
        .await
        .expect("answered after the hang");
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(fake.sent_texts(1), ["slow"]);
}

#[tokio::test]
async fn hang_is_recorded_even_if_client_gives_up() {
    let fake = FakeApi::start().await;
    fake.fail_next("getme", Fault::Hang(Duration::from_millis(200)));
    let bot = fake.bot();
    let gave_up = tokio::time::timeout(Duration::from_millis(50), bot.get_me()).await;
    assert!(gave_up.is_err(), "client timed out first");
    let recorded = fake.wait_for("getme", 1, FIVE_SECONDS).await;
    assert_eq!(recorded[0].status, 200);
}

#[tokio::test]
async fn global_rate_is_enforced_over_a_sliding_second() {
    let fake = FakeApi::start().await;
    let bot = fake.bot();
    fake.enforce_global_rate(3);

    let mut retry_afters = 0;
    for i in 0..5 {
        match bot.send_message(ChatId(i + 1), format!("m{i}")).await {
            Ok(_) => {}
            Err(RequestError::RetryAfter(s)) => {
                assert_eq!(s.seconds(), 1);
                retry_afters += 1;
            }
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(retry_afters, 2);
    assert_eq!(fake.rate_violations(), 2);

    // Rejected sends do not use up the rate.
    tokio::time::sleep(Duration::from_millis(1050)).await;
    for i in 0..3 {
        bot.send_message(ChatId(10), format!("later {i}"))
            .await
            .expect("window has moved on");
    }
    assert_eq!(fake.rate_violations(), 2);
    assert_eq!(fake.sent_texts(10).len(), 3);
}

// ---------------------------------------------------------------------------
// Updates
// ---------------------------------------------------------------------------

#[tokio::test]
async fn update_builders_parse_in_teloxide() {
    let fake = FakeApi::start().await;
    let bot = fake.bot();
    fake.push_update(support::text_message(7, "private", 7, "/search 中文 词"));
    fake.push_update(support::text_message(-5, "group", 7, "hello"));
    fake.push_update(support::text_message(
        -1_005,
        "supergroup",
        7,
        "/s😀@jianbao_test_bot x",
    ));
    fake.push_update(support::callback_query(-1_005, 7, 3, "p:2"));
    let mut iq = support::inline_query(7, "关键词");
    iq["update_id"] = json!(999); // overwritten by push_update
    fake.push_update(iq);

    let updates = bot.get_updates().await.expect("getUpdates");
    let ids: Vec<u32> = updates.iter().map(|u| u.id.0).collect();
    assert_eq!(ids, [1, 2, 3, 4, 5]);

    let UpdateKind::Message(command) = &updates[0].kind else {
        panic!("{:?}", updates[0].kind)
    };
    assert_eq!(command.text(), Some("/search 中文 词"));
    assert!(command.chat.is_private());
    assert_eq!(command.from.as_ref().map(|u| u.id), Some(UserId(7)));
    let entities = command.entities().expect("entities");
    assert_eq!(entities.len(), 1);
    assert_eq!(entities[0].kind, MessageEntityKind::BotCommand);
    assert_eq!((entities[0].offset, entities[0].length), (0, 7));

    let UpdateKind::Message(group) = &updates[1].kind else {
        panic!("{:?}", updates[1].kind)
    };
    assert!(group.chat.is_group());
    assert!(group.entities().is_none_or(|e| e.is_empty()));
    assert!(group.id.0 > command.id.0);

    let UpdateKind::Message(emoji_command) = &updates[2].kind else {
        panic!("{:?}", updates[2].kind)
    };
    assert!(emoji_command.chat.is_supergroup());
    // "/s😀@jianbao_test_bot": the emoji takes two UTF-16 units.
    assert_eq!(emoji_command.entities().expect("entities")[0].length, 21);

    let UpdateKind::CallbackQuery(q) = &updates[3].kind else {
        panic!("{:?}", updates[3].kind)
    };
    assert_eq!(q.data.as_deref(), Some("p:2"));
    let message = q.regular_message().expect("accessible message");
    assert_eq!(message.id, MessageId(3));
    assert_eq!(message.chat.id, ChatId(-1_005));

    let UpdateKind::InlineQuery(q) = &updates[4].kind else {
        panic!("{:?}", updates[4].kind)
    };
    assert_eq!(q.query, "关键词");
    assert_eq!(q.from.id, UserId(7));
}

#[tokio::test]
async fn get_updates_honours_offset_and_long_polls() {
    let fake = FakeApi::start().await;
    let bot = fake.bot();
    fake.push_update(support::text_message(1, "private", 1, "a"));
    fake.push_update(support::text_message(1, "private", 1, "b"));

    // Without an offset nothing is confirmed.
    assert_eq!(bot.get_updates().await.expect("first").len(), 2);
    assert_eq!(bot.get_updates().await.expect("again").len(), 2);
    // An offset drops what lies below it, for good.
    let rest = bot.get_updates().offset(2).await.expect("offset");
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].id.0, 2);
    assert_eq!(bot.get_updates().await.expect("after offset").len(), 1);

    // Nothing queued: the poll is held for the timeout asked (as Telegram holds it), then
    // answered empty.
    let started = Instant::now();
    let none = bot.get_updates().offset(3).timeout(2).await.expect("empty");
    assert!(none.is_empty());
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(1900) && waited < Duration::from_secs(4),
        "{waited:?}"
    );
    // The poll was recorded when it arrived, with what it asked.
    let polls = fake.requests_for("getupdates");
    assert_eq!(
        polls.last().map(|r| r.params["timeout"].clone()),
        Some(2.into())
    );

    // A push wakes a waiting poll at once.
    let pusher = fake.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        pusher.push_update(support::text_message(1, "private", 1, "c"));
    });
    let started = Instant::now();
    let woken = bot
        .get_updates()
        .offset(3)
        .timeout(30)
        .await
        .expect("woken");
    assert_eq!(woken.len(), 1);
    assert!(
        started.elapsed() < Duration::from_millis(600),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn dispatcher_receives_updates_and_replies() {
    let fake = FakeApi::start().await;
    let handler = Update::filter_message().endpoint(|bot: Bot, msg: Message| async move {
        let text = msg.text().unwrap_or_default();
        bot.send_message(msg.chat.id, format!("echo: {text}"))
            .await?;
        respond(())
    });
    let mut dispatcher = Dispatcher::builder(fake.bot(), handler).build();
    let shutdown = dispatcher.shutdown_token();
    let running = tokio::spawn(async move { dispatcher.dispatch().await });

    // Shutting down before dispatching has begun is an error, so wait until
    // the dispatcher polls.
    fake.wait_for("getupdates", 1, FIVE_SECONDS).await;
    fake.push_update(support::text_message(77, "private", 77, "你好 <b>"));
    let sends = fake.wait_for("sendmessage", 1, FIVE_SECONDS).await;
    assert_eq!(sends[0].status, 200);
    assert_eq!(fake.sent_texts(77), ["echo: 你好 <b>"]);

    shutdown.shutdown().expect("dispatcher is running").await;
    tokio::time::timeout(FIVE_SECONDS, running)
        .await
        .expect("dispatcher stops")
        .expect("dispatcher task");

    // The update was confirmed with the next poll's offset, so it is not
    // delivered twice.
    let polls = fake.requests_for("getupdates");
    assert!(
        polls.iter().any(|r| r.params["offset"].as_i64() == Some(2)),
        "{polls:?}"
    );
    assert_eq!(fake.requests_for("getme").len(), 1);
}

#[tokio::test]
#[should_panic(expected = "requests seen: getme×1 (status 200)")]
async fn wait_for_timeout_lists_what_was_seen() {
    let fake = FakeApi::start().await;
    fake.bot().get_me().await.expect("getMe");
    fake.wait_for("sendmessage", 1, Duration::from_millis(50))
        .await;
}

// ---------------------------------------------------------------------------
// check_telegram_html
// ---------------------------------------------------------------------------

#[test]
fn html_valid_markup_counts_visible_text() {
    let cases: &[(&str, usize)] = &[
        ("plain", 5),
        ("", 0),
        ("<b>bold <i>it</i></b>", 7),
        (
            "<strong>a</strong><em>b</em><ins>c</ins><strike>d</strike><del>e</del>",
            5,
        ),
        ("<u>u</u> <s>s</s> <tg-spoiler>x</tg-spoiler>", 5),
        (r#"<span class="tg-spoiler">秘密</span>"#, 2),
        (r#"<a href="https://example.com/?q=1&amp;p=2">link</a>"#, 4),
        (
            "<pre><code class=\"language-rust\">fn x() {}</code></pre>",
            9,
        ),
        (
            "<blockquote expandable>引用</blockquote><blockquote>q</blockquote>",
            3,
        ),
        ("<B>case</B>", 4),
        ("&lt;", 1),
        ("a &amp; b &gt; c &quot;d&quot;", 13),
        ("&#60;&#x3C;&#X3c;", 3),
        ("&#x1F600;", 2),
        ("😀", 2),
        ("中文简报", 4),
        ("a > b", 5),
        ("line\nbreak", 10),
    ];
    for (html, expected) in cases {
        assert_eq!(check_telegram_html(html), Ok(*expected), "{html}");
    }
}

#[test]
fn html_errors_are_reported() {
    let bad = [
        "<b>x",
        "a < b",
        "<",
        "x <3",
        "<script>",
        "<br>",
        "<b/>",
        "&foo;",
        "AT&T",
        "&",
        "&#;",
        "&#xD800;",
        "&#0;",
        "&#1114112;",
        "&lt",
        "<b><i>x</b></i>",
        "</b>",
        "<b>x</strong>",
        "<a>x</a>",
        "<a href=https://x>x</a>",
        "<a href='x'>x</a>",
        r#"<a href="x>x</a>"#,
        r#"<a href="?a=1&b=2">x</a>"#,
        "<span>x</span>",
        r#"<span class="other">x</span>"#,
        r#"<b class="x">x</b>"#,
        r#"<a href="x"title="y">x</a>"#,
        "<b",
        "</b",
        "< b>x</b>",
    ];
    for html in bad {
        let result = check_telegram_html(html);
        assert!(result.is_err(), "{html:?} should fail, got {result:?}");
    }
    let reason = check_telegram_html("x <script>").expect_err("script");
    assert!(reason.contains("script"), "{reason}");
}

#[test]
fn html_length_is_reported_not_limited() {
    assert_eq!(check_telegram_html(&"a".repeat(5000)), Ok(5000));
    assert_eq!(
        check_telegram_html(&format!("<b>{}</b>", "&amp;".repeat(5000))),
        Ok(5000)
    );
}

#[test]
fn html_checker_never_panics_and_is_fast() {
    // Deterministic pseudo-random strings built from the pieces that steer
    // the parser, including multi-byte characters next to '&' and '<'.
    let pieces = [
        "<",
        ">",
        "&",
        "#",
        "x",
        ";",
        "\"",
        "=",
        "/",
        " ",
        "b",
        "a",
        "href",
        "span",
        "class",
        "tg-spoiler",
        "lt",
        "amp",
        "中",
        "😀",
        "1",
        "F",
        "<b>",
        "</b>",
        "&#",
        "\n",
        "é",
    ];
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) as usize
    };
    for _ in 0..20_000 {
        let len = next() % 24;
        let text: String = (0..len).map(|_| pieces[next() % pieces.len()]).collect();
        let _ = check_telegram_html(&text);
    }

    // Large inputs stay linear: deep nesting, many entities, stray '&'.
    let started = Instant::now();
    let deep = format!("{}x{}", "<b>".repeat(50_000), "</b>".repeat(50_000));
    assert_eq!(check_telegram_html(&deep), Ok(1));
    let entities = "&lt;".repeat(200_000);
    assert_eq!(check_telegram_html(&entities), Ok(200_000));
    let long_tag = format!("<{}", "b".repeat(200_000));
    assert!(check_telegram_html(&long_tag).is_err());
    let chinese = "简报".repeat(200_000);
    assert_eq!(check_telegram_html(&chinese), Ok(400_000));
    assert!(started.elapsed() < 5 * SECOND, "{:?}", started.elapsed());
}
