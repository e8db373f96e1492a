//! The real teloxide dispatcher against a fake Bot API server on 127.0.0.1.

mod support;

use std::path::Path;
use std::time::Duration;

use jianbao::config::Settings;
use support::{
    BotHarness, FakeApi, Fault, WAIT, buttons, callback_query, check_telegram_html, inline_query,
    text_message, valid_html,
};

/// The page buttons of a message (not its full-text buttons).
fn page_buttons(params: &serde_json::Value) -> Vec<(String, String)> {
    buttons(params)
        .into_iter()
        .filter(|(_, data)| data.starts_with("p:"))
        .collect()
}

fn write_corpus(dir: &Path) {
    for i in 0..12 {
        let body = format!("第{i}篇：人工智能发展与治理。全球合作推动人工智能安全。其他内容{i}。");
        let text = format!(
            "---\ntitle: 人工智能新闻 <{i}> & \"标题\"\nurl: https://example.com/ai/{i}?a=1&b=2\nsource: 测试<来源>\ndate: 2024-07-{:02}\n---\n\n{body}\n",
            i + 1
        );
        std::fs::write(dir.join(format!("ai{i:02}.txt")), text).unwrap();
    }
    std::fs::write(dir.join("farm.txt"), "---\ntitle: 农业银行\nsource: 财经\ndate: 2024-06-01\n---\n中国农业发展银行支持乡村振兴。\n").unwrap();
    let long_title = "超长标题".repeat(500);
    std::fs::write(
        dir.join("long.txt"),
        format!(
            "---\ntitle: {long_title}\nsource: 长\n---\n人工智能{}\n",
            "正文很长。".repeat(3000)
        ),
    )
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_reply_is_valid_html_with_pages_that_survive_a_restart() {
    let mut h = BotHarness::new(Settings::default(), write_corpus).await;
    let reply = h.say(10, "private", 10, "人工智能").await;
    let text = valid_html(&reply);
    assert!(text.contains("第 1/3 页"), "{text}");
    assert!(text.contains("<a href=\"https://example.com/ai/"), "{text}");
    assert!(
        text.contains("&lt;") && text.contains("&amp;"),
        "titles are escaped: {text}"
    );
    assert!(
        text.contains("<b>人工智能</b>"),
        "matched words highlighted: {text}"
    );
    assert_eq!(reply["link_preview_options"]["is_disabled"], true);
    let b = page_buttons(&reply);
    assert_eq!(b.len(), 1);
    assert!(b[0].1.len() <= 64);
    // A full-text button for each of the page's five results.
    assert_eq!(buttons(&reply).len(), 6);

    // Next page: the same message is edited, the callback answered.
    let message_id = 1;
    h.fake
        .push_update(callback_query(10, 10, message_id, &b[0].1));
    let edits = h.fake.wait_for("editmessagetext", 1, WAIT).await;
    let page2 = valid_html(&edits[0].params);
    assert!(page2.contains("第 2/3 页"), "{page2}");
    assert_eq!(
        page_buttons(&edits[0].params).len(),
        2,
        "both buttons on a middle page"
    );
    h.fake.wait_for("answercallbackquery", 1, WAIT).await;

    // The bot restarts; the buttons keep working.
    h.restart(Settings::default()).await;
    let next = buttons(&edits[0].params)
        .into_iter()
        .find(|(l, _)| l.contains('▶'))
        .unwrap();
    h.fake
        .push_update(callback_query(10, 10, message_id, &next.1));
    let edits = h.fake.wait_for("editmessagetext", 2, WAIT).await;
    assert!(valid_html(&edits[1].params).contains("第 3/3 页"));
    h.fake.wait_for("answercallbackquery", 2, WAIT).await;

    // A forged or stale button gets a notice, not silence.
    for forged in ["p:999:1:2", "garbage", "p:1:2:3:4"] {
        let before = h.fake.requests_for("answercallbackquery").len();
        h.fake
            .push_update(callback_query(10, 10, message_id, forged));
        let answers = h
            .fake
            .wait_for("answercallbackquery", before + 1, WAIT)
            .await;
        assert!(
            answers[before].params["text"]
                .as_str()
                .is_some_and(|t| t.contains("失效")),
            "{forged}"
        );
    }
    assert_eq!(h.fake.requests_for("editmessagetext").len(), 2);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_queries_get_valid_replies() {
    let h = BotHarness::new(Settings::default(), write_corpus).await;
    let long = "人工智能".repeat(750);
    let cases = [
        "/search",
        "AND (",
        "title:",
        "\"",
        "*",
        "🙂🙂",
        "<b>",
        "&amp;",
        long.as_str(),
        "不存在的词语组合xyzzy",
        "超长标题",
    ];
    for (i, q) in cases.iter().enumerate() {
        let reply = h.say(100 + i as i64, "private", 100 + i as i64, q).await;
        let text = valid_html(&reply);
        if *q == "/search" || *q == "🙂🙂" || *q == "*" || *q == "\"" {
            assert!(text.contains("/search"), "usage hint for {q:?}: {text}");
        }
        if q.starts_with("不存在") {
            assert!(text.contains("没有找到"), "{text}");
        }
    }
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_answer_commands_only_and_ignore_other_bots() {
    let h = BotHarness::new(Settings::default(), write_corpus).await;
    let reply = h
        .say(-200, "supergroup", 7, "/search@jianbao_test_bot 农业")
        .await;
    assert!(valid_html(&reply).contains("农业银行"));
    h.say_nothing_back(-200, "supergroup", "/search@other_bot 农业")
        .await;
    h.say_nothing_back(-200, "supergroup", "人工智能").await;
    h.say_nothing_back(-200, "supergroup", "/unknowncommand")
        .await;
    let reply = h.say(-200, "group", 7, "/help").await;
    assert!(valid_html(&reply).contains("source:"));
    // Changing the group's subscription needs its administrators.
    let reply = h.say(-200, "supergroup", 7, "/subscribe 08:00").await;
    assert!(valid_html(&reply).contains("群管理员"));
    h.fake.set_chat_member_status(-200, 8, "administrator");
    let reply = h.say(-200, "supergroup", 8, "/subscribe 09:30").await;
    assert!(valid_html(&reply).contains("09:30"));
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inline_mode_answers_with_articles() {
    let h = BotHarness::new(Settings::default(), write_corpus).await;
    h.fake.push_update(inline_query(10, "人工智能"));
    let answers = h.fake.wait_for("answerinlinequery", 1, WAIT).await;
    let results = answers[0].params["results"].as_array().unwrap();
    assert!(!results.is_empty() && results.len() <= 10);
    for r in results {
        assert_eq!(r["type"], "article");
        assert!(r["id"].as_str().unwrap().len() <= 64);
        let content = &r["input_message_content"];
        assert_eq!(content["parse_mode"], "HTML");
        check_telegram_html(content["message_text"].as_str().unwrap()).unwrap();
        assert!(r["description"].as_str().unwrap().contains("2024-07"));
    }
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flood_wait_is_honoured_and_the_reply_delivered_once() {
    let h = BotHarness::new(Settings::default(), write_corpus).await;
    h.fake.fail_next("sendmessage", Fault::RetryAfter(1));
    h.fake.push_update(text_message(20, "private", 20, "农业"));
    let calls = h.fake.wait_for("sendmessage", 2, WAIT).await;
    assert_eq!(calls[0].status, 429);
    assert_eq!(calls[1].status, 200);
    assert!(
        calls[1].at.duration_since(calls[0].at) >= Duration::from_millis(900),
        "waited retry_after"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(h.fake.sent_texts(20).len(), 1);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocked_and_failing_chats_do_not_stop_the_others() {
    let h = BotHarness::new(Settings::default(), write_corpus).await;
    h.fake.fail_chat(30, Some(Fault::Blocked));
    h.fake.push_update(text_message(30, "private", 30, "农业"));
    h.fake.wait_for("sendmessage", 1, WAIT).await;
    // Only one attempt for a blocked chat: no retry storm.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(h.fake.requests_for("sendmessage").len(), 1);
    let reply = h.say(31, "private", 31, "农业").await;
    assert!(valid_html(&reply).contains("农业银行"));
    // A 500: the reply still arrives (teloxide itself waits 10 s before a retry is possible).
    h.fake.fail_next("sendmessage", Fault::ServerError);
    h.fake.push_update(text_message(32, "private", 32, "农业"));
    let calls = h
        .fake
        .wait_for("sendmessage", 4, Duration::from_secs(30))
        .await;
    assert_eq!(calls[2].status, 500);
    assert_eq!(calls[3].status, 200);
    assert_eq!(h.fake.sent_texts(32).len(), 1);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowlist_and_admin_gate() {
    let settings = Settings {
        allowed_chat_ids: [40, -400].into_iter().collect(),
        admin_ids: [41].into_iter().collect(),
        ..Settings::default()
    };
    let h = BotHarness::new(settings, write_corpus).await;
    let refused = h.say(50, "private", 50, "农业").await;
    assert!(valid_html(&refused).contains("授权"));
    let ok = h.say(40, "private", 40, "农业").await;
    assert!(valid_html(&ok).contains("农业银行"));
    let not_admin = h.say(40, "private", 40, "/stats").await;
    assert!(valid_html(&not_admin).contains("管理员"));
    let admin = h.say(-400, "supergroup", 41, "/stats").await;
    assert!(valid_html(&admin).contains("文章"));
    let reindex = h.say(-400, "supergroup", 41, "/reindex").await;
    assert!(valid_html(&reindex).contains("同步完成"));
    // Inline queries from users outside the allowlist get nothing.
    h.fake.push_update(inline_query(50, "农业"));
    let answers = h.fake.wait_for("answerinlinequery", 1, WAIT).await;
    assert!(answers[0].params["results"].as_array().unwrap().is_empty());
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_never_appears_in_replies() {
    let h = BotHarness::new(Settings::default(), write_corpus).await;
    for r in h.fake.requests() {
        assert!(!r.params.to_string().contains(FakeApi::TOKEN));
    }
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_name_the_terms_no_article_has() {
    let h = BotHarness::new(Settings::default(), write_corpus).await;
    // Nothing has the id: "not found" with a hint, no pages of fragments.
    let reply = h.say(30, "private", 30, "/search CVE-2024-3400").await;
    let text = valid_html(&reply);
    assert!(
        text.contains("没有找到含「CVE-2024-3400」的文章") && text.contains("拼写"),
        "{text}"
    );
    assert!(!text.contains("<a href"), "no results listed: {text}");
    assert!(buttons(&reply).is_empty());

    // One term missing: partial matches, labelled as lacking it.
    let reply = h.say(30, "private", 30, "朱守谦 人工智能").await;
    let text = valid_html(&reply);
    assert!(
        text.contains("没有找到含「朱守谦」的文章，以下是不含这些词的部分匹配"),
        "{text}"
    );
    assert!(text.contains("<b>人工智能</b>"), "{text}");

    // Escaped when the missing term is markup.
    let reply = h.say(30, "private", 30, "<b>zzqq</b>").await;
    let text = valid_html(&reply);
    assert!(
        text.contains("「&lt;b&gt;zzqq&lt;/b&gt;」") || text.contains("「zzqq」"),
        "{text}"
    );

    // Inline mode says it too.
    h.fake.push_update(inline_query(30, "CVE-2024-3400"));
    let answers = h.fake.wait_for("answerinlinequery", 1, WAIT).await;
    let results = answers[0].params["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{results:?}");
    assert!(
        results[0]["title"]
            .as_str()
            .unwrap()
            .contains("没有找到含「CVE-2024-3400」"),
        "{results:?}"
    );
    check_telegram_html(
        results[0]["input_message_content"]["message_text"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    h.stop().await;
}
