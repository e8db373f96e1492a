//! The acceptance tests of `bot.rs` in webhook mode: the fake Bot API posts every update to
//! the bot's webhook with the secret token (as Telegram does) instead of handing it to
//! `getUpdates`; `support::bot_harness::updates_mode` picks the mode by this crate's name.

// Each included test file declares its own `mod support;`: the helpers are compiled once per
// file here, as they are once per test crate elsewhere.
#![allow(clippy::duplicate_mod)]

#[path = "bot.rs"]
mod acceptance;

/// The reliability tests too (flood notices, per-chat queues, round robin); those that run
/// the `jianbao` binary itself stay in polling mode.
#[path = "reliability.rs"]
mod reliability;

mod support;

use jianbao::config::Settings;

/// The mode really is the webhook: updates were posted, none polled once it was set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_arrive_by_the_webhook() {
    let h = support::BotHarness::new(Settings::default(), |dir| {
        std::fs::write(
            dir.join("a.txt"),
            "---\ntitle: 人工智能治理\nurl: https://example.com/a\nsource: 新华社\n---\n\n人工智能治理需要合作。\n",
        )
        .expect("write");
    })
    .await;
    let (url, secret) = h.fake.webhook().expect("a webhook is set");
    assert!(url.ends_with("/tg/hook"), "{url}");
    assert_eq!(secret.as_deref(), Some("test-secret_123"));
    let reply = h.say(42, "private", 42, "人工智能").await;
    assert!(support::valid_html(&reply).contains("人工智能治理"));
    let posted = h.fake.requests_for("webhook");
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0].status, 200);
    assert!(h.fake.requests_for("getupdates").is_empty());
    h.stop().await;
}
