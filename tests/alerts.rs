//! Saved searches (/alert) pushed when new files land: the real rescan task (folder watcher),
//! the alert pusher and the production outbox against the fake Bot API, real SQLite and a
//! real tantivy index.

mod support;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use jianbao::app::{App, ChatKind, Incoming};
use jianbao::bot::Outbox;
use jianbao::config::Settings;
use jianbao::index::SearchIndex;
use jianbao::scheduler::DigestSender;
use jianbao::store::Store;
use support::{FakeApi, check_telegram_html};

fn page(title: &str, url: &str, body: &str) -> String {
    format!("---\ntitle: {title}\nurl: {url}\nsource: 科技日报\ndate: 2024-07-20\n---\n\n{body}\n")
}

fn write(dir: &Path, name: &str, title: &str, body: &str) {
    let url = format!("https://example.com/{name}");
    std::fs::write(dir.join(format!("{name}.txt")), page(title, &url, body)).expect("write");
}

/// One old article that matches the alert and one that does not.
fn old_corpus(dir: &Path) {
    write(dir, "old", "量子通信旧闻", "去年的量子通信试验网络报道。");
    write(dir, "farm", "秋粮收购", "各地秋粮收购进度过半。");
}

fn message(chat_id: i64, kind: ChatKind, admin: bool, text: &str) -> Incoming {
    Incoming {
        chat_id,
        kind,
        user_id: chat_id.abs(),
        text: text.to_owned(),
        sender_is_chat_admin: admin,
    }
}

/// The app on the folders, the index synced (as `serve` starts).
fn app_on(seeds: &Path, data: &Path, settings: Settings) -> App {
    tokio::task::block_in_place(|| {
        let index = Arc::new(SearchIndex::open(data).expect("open index"));
        index.sync(seeds, None).expect("sync");
        let store = Arc::new(Store::open(data).expect("open store"));
        App::new(index, store, settings, seeds.to_path_buf())
    })
}

/// The production outbox (30/s overall) to the fake.
fn outbox_to(fake: &FakeApi) -> Arc<dyn DigestSender> {
    Arc::new(Outbox::with_limits(
        fake.bot(),
        FakeApi::TOKEN.to_owned(),
        30,
    ))
}

/// The bot's background tasks as `serve` runs them: rescan (watcher) and the alert pusher.
struct Running {
    app: Arc<App>,
    stop: tokio::sync::watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

async fn start(seeds: &Path, data: &Path, settings: Settings, fake: &FakeApi) -> Running {
    let app = Arc::new(app_on(seeds, data, settings));
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let outbox = outbox_to(fake);
    let alerts = app.alerts();
    let arrived = alerts.clone();
    let tasks = vec![
        tokio::spawn(jianbao::alerts::run(alerts, outbox, stop_rx.clone())),
        tokio::spawn(jianbao::rescan::run(
            app.index(),
            seeds.to_path_buf(),
            // The watcher reacts within a second; the periodic rescan covers a file written
            // before the watcher was set up (the task starts in the background).
            Duration::from_secs(2),
            Arc::new(move || arrived.articles_arrived()),
            stop_rx,
        )),
    ];
    Running { app, stop, tasks }
}

impl Running {
    async fn stop(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }

    fn say(&self, msg: Incoming) -> String {
        tokio::task::block_in_place(|| {
            self.app
                .handle_message(&msg, Utc::now())
                .into_iter()
                .map(|r| r.html)
                .collect::<Vec<_>>()
                .join("\n")
        })
    }
}

/// Waits until `chat` has been sent `count` messages.
async fn wait_sent(fake: &FakeApi, chat: i64, count: usize) -> Vec<String> {
    let started = Instant::now();
    loop {
        let sent = fake.sent_texts(chat);
        if sent.len() >= count || started.elapsed() > Duration::from_secs(15) {
            return sent;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_fires_once_for_a_new_file_and_survives_a_restart() {
    let seeds = tempfile::tempdir().expect("seeds");
    let data = tempfile::tempdir().expect("data");
    old_corpus(seeds.path());
    let fake = FakeApi::start().await;
    let chat = 501;
    let bot = start(seeds.path(), data.path(), Settings::default(), &fake).await;
    let saved = bot.say(message(chat, ChatKind::Private, true, "/alert 量子通信"));
    assert!(saved.contains("已保存提醒 1"), "{saved}");

    // A matching file and one that does not match land in the folder.
    write(
        seeds.path(),
        "q1",
        "量子通信干线开通",
        "全长两千公里的量子通信干线今天开通。",
    );
    write(seeds.path(), "x1", "防汛抗旱", "各地做好防汛准备。");
    let sent = wait_sent(&fake, chat, 1).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].contains("量子通信干线开通"), "{}", sent[0]);
    assert!(
        !sent[0].contains("量子通信旧闻"),
        "an old article: {}",
        sent[0]
    );
    assert!(!sent[0].contains("防汛"), "{}", sent[0]);
    assert!(sent[0].contains("匹配 1.「量子通信」"), "{}", sent[0]);

    // More files arrive: another pass, nothing sent again.
    write(seeds.path(), "x2", "中小学开学", "秋季学期开学。");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(fake.sent_texts(chat).len(), 1);

    // A restart: the first pass finds nothing new for the chat.
    bot.stop().await;
    let bot = start(seeds.path(), data.path(), Settings::default(), &fake).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(fake.sent_texts(chat).len(), 1, "repeated after a restart");

    // The next matching file is sent, alone.
    write(
        seeds.path(),
        "q2",
        "量子通信卫星发射",
        "新一代量子通信卫星成功发射。",
    );
    let sent = wait_sent(&fake, chat, 2).await;
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(
        sent[1].contains("量子通信卫星发射") && !sent[1].contains("干线开通"),
        "{}",
        sent[1]
    );
    bot.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_matches_arrive_bundled_in_at_most_two_messages() {
    let seeds = tempfile::tempdir().expect("seeds");
    let data = tempfile::tempdir().expect("data");
    old_corpus(seeds.path());
    let fake = FakeApi::start().await;
    let (app, chat) = (app_on(seeds.path(), data.path(), Settings::default()), 502);
    let saved = tokio::task::block_in_place(|| {
        app.handle_message(
            &message(chat, ChatKind::Private, true, "/alert 芯片"),
            Utc::now(),
        )
    });
    assert!(saved[0].html.contains("已保存提醒"));
    for i in 0..50 {
        write(
            seeds.path(),
            &format!("chip{i:02}"),
            &format!("芯片产业第{i}号新闻：新工厂投产"),
            &format!("第{i}家芯片工厂今天投产，年产晶圆{i}万片。"),
        );
    }
    assert!(tokio::task::block_in_place(|| app.rescan()));
    let outbox = outbox_to(&fake);
    let mut last = std::collections::HashMap::new();
    let chats = jianbao::alerts::push_once(&app.alerts(), &outbox, &mut last).await;
    assert_eq!(chats, 1);
    let sent = fake.sent_texts(chat);
    assert!((1..=2).contains(&sent.len()), "{} messages", sent.len());
    let all = sent.join("\n");
    for i in 0..50 {
        assert!(
            all.contains(&format!("芯片产业第{i}号新闻")),
            "article {i} missing"
        );
    }
    for request in fake.requests_for("sendmessage") {
        let text = request.params["text"].as_str().expect("text");
        let len = check_telegram_html(text).expect("valid HTML");
        assert!(len <= 4096);
    }
    // A second pass at once: nothing left to send.
    let again = jianbao::alerts::push_once(&app.alerts(), &outbox, &mut last).await;
    assert_eq!(again, 0);
    assert_eq!(fake.sent_texts(chat).len(), sent.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_need_their_admins_and_chats_have_a_limit() {
    let seeds = tempfile::tempdir().expect("seeds");
    let data = tempfile::tempdir().expect("data");
    old_corpus(seeds.path());
    let settings = Settings {
        alerts_per_chat: 2,
        ..Settings::default()
    };
    let app = app_on(seeds.path(), data.path(), settings);
    let group = -100_503;
    let say = |admin: bool, text: &str| {
        tokio::task::block_in_place(|| {
            app.handle_message(&message(group, ChatKind::Group, admin, text), Utc::now())
                .into_iter()
                .map(|r| r.html)
                .collect::<Vec<_>>()
                .join("\n")
        })
    };
    assert!(say(false, "/alert 量子").contains("只有群管理员"));
    assert!(say(true, "/alert 量子").contains("已保存提醒 1"));
    assert!(say(true, "/alert 芯片").contains("已保存提醒 2"));
    assert!(say(true, "/alert 卫星").contains("最多保存 2 个"));
    // Anyone may look; only admins remove.
    let list = say(false, "/alerts");
    assert!(
        list.contains("1. 量子") && list.contains("2. 芯片"),
        "{list}"
    );
    assert!(say(false, "/unalert 1").contains("只有群管理员"));
    assert!(say(true, "/unalert 1").contains("已删除提醒 1"));
    assert!(say(true, "/unalert 9").contains("没有编号为 9"));
    let list = say(false, "/alerts");
    assert!(list.contains("1. 芯片") && !list.contains("量子"), "{list}");
    assert!(say(true, "/alert").contains("用法"));
}

/// The real dispatcher asks Telegram (the fake's getChatMember) who administers the group.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_group_only_administrators_save_alerts_through_the_bot() {
    let h = support::BotHarness::new(Settings::default(), old_corpus).await;
    let (group, member, admin) = (-100_504, 61, 62);
    h.fake.set_chat_member_status(group, member, "member");
    h.fake.set_chat_member_status(group, admin, "administrator");
    let refused = h.say(group, "supergroup", member, "/alert 量子").await;
    assert!(
        support::valid_html(&refused).contains("只有群管理员"),
        "{refused}"
    );
    let saved = h.say(group, "supergroup", admin, "/alert 量子").await;
    assert!(
        support::valid_html(&saved).contains("已保存提醒 1"),
        "{saved}"
    );
    let listed = h.say(group, "supergroup", member, "/alerts").await;
    assert!(support::valid_html(&listed).contains("1. 量子"), "{listed}");
    h.stop().await;
}

/// Blocked: one strike for the day and no retry that day; the alert stays until three days.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_chat_gets_one_strike_a_day() {
    let seeds = tempfile::tempdir().expect("seeds");
    let data = tempfile::tempdir().expect("data");
    old_corpus(seeds.path());
    let fake = FakeApi::start().await;
    let app = app_on(seeds.path(), data.path(), Settings::default());
    let chat = 505;
    tokio::task::block_in_place(|| {
        app.handle_message(
            &message(chat, ChatKind::Private, true, "/alert 量子通信"),
            Utc::now(),
        );
        write(
            seeds.path(),
            "q",
            "量子通信干线开通",
            "量子通信干线今天开通。",
        );
        assert!(app.rescan());
    });
    fake.fail_chat(chat, Some(support::Fault::Blocked));
    let outbox = outbox_to(&fake);
    let mut last = std::collections::HashMap::new();
    assert_eq!(
        jianbao::alerts::push_once(&app.alerts(), &outbox, &mut last).await,
        0
    );
    let tried = fake.requests_for("sendmessage").len();
    assert_eq!(tried, 1);
    // The same day: not tried again, and the alert is kept.
    assert_eq!(
        jianbao::alerts::push_once(&app.alerts(), &outbox, &mut last).await,
        0
    );
    assert_eq!(fake.requests_for("sendmessage").len(), tried);
    assert_eq!(app.alerts().list(chat).expect("list").len(), 1);
}

/// More matches than one bundle holds: the rest come in the next pass, none lost or repeated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matches_beyond_one_bundle_come_in_the_next_pass() {
    let seeds = tempfile::tempdir().expect("seeds");
    let data = tempfile::tempdir().expect("data");
    old_corpus(seeds.path());
    let fake = FakeApi::start().await;
    let app = app_on(seeds.path(), data.path(), Settings::default());
    let chat = 506;
    let n = jianbao::alerts::MAX_ITEMS_PER_PASS + 20;
    tokio::task::block_in_place(|| {
        app.handle_message(
            &message(chat, ChatKind::Private, true, "/alert 芯片"),
            Utc::now(),
        );
        for i in 0..n {
            write(
                seeds.path(),
                &format!("chip{i:03}"),
                &format!("芯片新闻第{i:03}号"),
                &format!("第{i}家芯片工厂今天投产，年产晶圆{i}万片。"),
            );
        }
        assert!(app.rescan());
    });
    let outbox = outbox_to(&fake);
    let alerts = app.alerts();
    assert_eq!(
        jianbao::alerts::push_once(&alerts, &outbox, &mut Default::default()).await,
        1
    );
    let first = fake.sent_texts(chat).join("\n");
    assert!(first.contains("还有 20 篇"), "{first}");
    // The next pass (a new minute): the other 20.
    assert_eq!(
        jianbao::alerts::push_once(&alerts, &outbox, &mut Default::default()).await,
        1
    );
    assert_eq!(
        jianbao::alerts::push_once(&alerts, &outbox, &mut Default::default()).await,
        0
    );
    let all = fake.sent_texts(chat).join("\n");
    for i in 0..n {
        let title = format!("芯片新闻第{i:03}号");
        assert_eq!(all.matches(&title).count(), 1, "{title}");
    }
}

/// A chat removed from ALLOWED_CHAT_IDS is pushed nothing, not even what arrived while the bot
/// was down, and may still list and remove its alerts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_chat_is_pushed_nothing_and_may_remove_its_alerts() {
    let seeds = tempfile::tempdir().expect("seeds");
    let data = tempfile::tempdir().expect("data");
    old_corpus(seeds.path());
    let fake = FakeApi::start().await;
    let (chat, other) = (503, 504);
    let bot = start(seeds.path(), data.path(), Settings::default(), &fake).await;
    for c in [chat, other] {
        let saved = bot.say(message(c, ChatKind::Private, true, "/alert 雪豹"));
        assert!(saved.contains("已保存提醒 1"), "{saved}");
    }
    bot.stop().await;

    // Revoked while the bot was down; a matching file arrives meanwhile, and one after.
    write(seeds.path(), "s1", "雪豹现身祁连山", "红外相机拍到雪豹。");
    let revoked = Settings {
        allowed_chat_ids: [other].into_iter().collect(),
        ..Settings::default()
    };
    let bot = start(seeds.path(), data.path(), revoked, &fake).await;
    write(seeds.path(), "s2", "雪豹保护区扩大", "雪豹保护区面积扩大。");
    let sent = wait_sent(&fake, other, 1).await;
    assert!(!sent.is_empty(), "the allowed chat is still served");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        fake.sent_texts(chat),
        Vec::<String>::new(),
        "pushed to a revoked chat"
    );

    let listed = bot.say(message(chat, ChatKind::Private, true, "/alerts"));
    assert!(listed.contains("雪豹"), "{listed}");
    let removed = bot.say(message(chat, ChatKind::Private, true, "/unalert 1"));
    assert!(!removed.contains("只对授权的聊天开放"), "{removed}");
    let searched = bot.say(message(chat, ChatKind::Private, true, "雪豹"));
    assert!(searched.contains("只对授权的聊天开放"), "{searched}");
    bot.stop().await;
}

/// Delivers every call but the `fail`-th (0-based), which fails as a 5xx would.
struct FailOne {
    inner: Arc<dyn DigestSender>,
    calls: std::sync::atomic::AtomicUsize,
    fail: usize,
}

impl DigestSender for FailOne {
    fn send_html(
        &self,
        chat_id: i64,
        html: String,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = jianbao::scheduler::Delivery> + Send + '_>,
    > {
        let n = self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if n == self.fail {
            return Box::pin(async { jianbao::scheduler::Delivery::Failed("injected 5xx".into()) });
        }
        self.inner.send_html(chat_id, html)
    }
}

/// A bundle of two messages whose second is refused: the first is recorded as it is
/// accepted, and the next pass sends only what it did not hold: every article once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accepted_part_of_a_bundle_is_never_sent_again() {
    let seeds = tempfile::tempdir().expect("seeds");
    let data = tempfile::tempdir().expect("data");
    old_corpus(seeds.path());
    let fake = FakeApi::start().await;
    let (app, chat) = (app_on(seeds.path(), data.path(), Settings::default()), 505);
    tokio::task::block_in_place(|| {
        app.handle_message(
            &message(chat, ChatKind::Private, true, "/alert 芯片"),
            Utc::now(),
        )
    });
    for i in 0..50 {
        write(
            seeds.path(),
            &format!("chip{i:02}"),
            &format!(
                "芯片产业第{i}号新闻：新工厂投产，产能扩大到原来的数倍之多，全年订单已经排满，明年继续扩建二期工程"
            ),
            &format!("第{i}家芯片工厂今天投产，年产晶圆{i}万片。"),
        );
    }
    assert!(tokio::task::block_in_place(|| app.rescan()));
    let failing: Arc<dyn DigestSender> = Arc::new(FailOne {
        inner: outbox_to(&fake),
        calls: Default::default(),
        fail: 1,
    });
    let mut last = std::collections::HashMap::new();
    let delivered = jianbao::alerts::push_once(&app.alerts(), &failing, &mut last).await;
    assert_eq!(delivered, 0, "the bundle was not delivered whole");
    let first = fake.sent_texts(chat);
    assert_eq!(first.len(), 1, "the first part went");
    // The next pass, with a sender that works.
    let outbox = outbox_to(&fake);
    jianbao::alerts::push_once(&app.alerts(), &outbox, &mut last).await;
    let all = fake.sent_texts(chat).join("\n");
    for i in 0..50 {
        let title = format!("芯片产业第{i}号新闻");
        assert_eq!(all.matches(&title).count(), 1, "article {i}: {all}");
    }
}

/// A file moved or renamed in the folder (same URL, same text) keeps its number: the alert
/// is not sent again, and the number in the first alert still opens it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renamed_file_keeps_its_number_and_is_not_sent_again() {
    let seeds = tempfile::tempdir().expect("seeds");
    let data = tempfile::tempdir().expect("data");
    old_corpus(seeds.path());
    let fake = FakeApi::start().await;
    let chat = 506;
    let bot = start(seeds.path(), data.path(), Settings::default(), &fake).await;
    let saved = bot.say(message(chat, ChatKind::Private, true, "/alert 白鲸"));
    assert!(saved.contains("已保存提醒 1"), "{saved}");
    write(
        seeds.path(),
        "whale",
        "白鲸回到北极海湾",
        "一群白鲸回到了北极海湾。",
    );
    let sent = wait_sent(&fake, chat, 1).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    let index = bot.app.index();
    let before = tokio::task::block_in_place(|| {
        jianbao::fulltext::find(&index, "whale")
            .expect("find")
            .expect("indexed")
            .seq
    });

    std::fs::rename(
        seeds.path().join("whale.txt"),
        seeds.path().join("2025-whale.txt"),
    )
    .expect("rename");
    let started = Instant::now();
    let after = loop {
        let found = tokio::task::block_in_place(|| {
            jianbao::fulltext::find(&index, "2025-whale").expect("find")
        });
        if let Some(f) = found {
            break f.seq;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the renamed file was not indexed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(after, before, "a new number for the same article");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        fake.sent_texts(chat).len(),
        1,
        "sent again after the rename"
    );
    let read = bot.say(message(
        chat,
        ChatKind::Private,
        true,
        &format!("/read {before}"),
    ));
    assert!(read.contains("白鲸回到北极海湾"), "{read}");
    bot.stop().await;
}

/// The same for a file without a URL: it is known by its content, and a move keeps its number.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moved_file_without_a_url_keeps_its_number_and_is_not_sent_again() {
    let seeds = tempfile::tempdir().expect("seeds");
    let data = tempfile::tempdir().expect("data");
    old_corpus(seeds.path());
    let fake = FakeApi::start().await;
    let chat = 507;
    let bot = start(seeds.path(), data.path(), Settings::default(), &fake).await;
    let saved = bot.say(message(chat, ChatKind::Private, true, "/alert 海豹"));
    assert!(saved.contains("已保存提醒 1"), "{saved}");
    std::fs::write(
        seeds.path().join("seal.txt"),
        "---\ntitle: 海豹回到海湾\nsource: 本地记者\ndate: 2025-03-01\n---\n\n一群海豹回到了海湾。\n",
    )
    .expect("write");
    let sent = wait_sent(&fake, chat, 1).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    let index = bot.app.index();
    let before = tokio::task::block_in_place(|| {
        jianbao::fulltext::find(&index, "seal")
            .expect("find")
            .expect("indexed")
            .seq
    });
    std::fs::create_dir(seeds.path().join("2025")).expect("mkdir");
    std::fs::rename(
        seeds.path().join("seal.txt"),
        seeds.path().join("2025").join("seal.txt"),
    )
    .expect("move");
    let started = Instant::now();
    let after = loop {
        let found = tokio::task::block_in_place(|| {
            jianbao::fulltext::find(&index, "2025/seal").expect("find")
        });
        if let Some(f) = found {
            break f.seq;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the moved file was not indexed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(after, before, "a new number for the same article");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(fake.sent_texts(chat).len(), 1, "sent again after the move");
    bot.stop().await;
}

/// An article arriving during a chat's 20 s spacing is sent when the spacing ends, not at the
/// next minute's pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_article_arriving_during_the_spacing_goes_when_it_ends() {
    let seeds = tempfile::tempdir().expect("seeds");
    let data = tempfile::tempdir().expect("data");
    old_corpus(seeds.path());
    let fake = FakeApi::start().await;
    let chat = 507;
    let bot = start(seeds.path(), data.path(), Settings::default(), &fake).await;
    bot.say(message(chat, ChatKind::Private, true, "/alert 熊猫"));
    write(
        seeds.path(),
        "p1",
        "大熊猫基地迎来新生幼崽",
        "基地迎来一只大熊猫幼崽。",
    );
    assert_eq!(wait_sent(&fake, chat, 1).await.len(), 1);
    let first = Instant::now();
    tokio::time::sleep(Duration::from_secs(2)).await;
    write(
        seeds.path(),
        "p2",
        "大熊猫国家公园扩容",
        "大熊猫国家公园面积扩大。",
    );
    let started = Instant::now();
    loop {
        if fake.sent_texts(chat).len() >= 2 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(40),
            "not sent when the spacing ended"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let waited = first.elapsed();
    assert!(
        waited >= jianbao::alerts::MIN_INTERVAL && waited < Duration::from_secs(30),
        "second bundle after {waited:?}"
    );
    bot.stop().await;
}

/// Too many matches at once are one summary (the newest few and the search that lists them
/// all), not a hundred messages; nothing of them is pushed afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_matches_is_one_summary() {
    let seeds = tempfile::tempdir().expect("seeds");
    let data = tempfile::tempdir().expect("data");
    old_corpus(seeds.path());
    let fake = FakeApi::start().await;
    let (app, chat) = (app_on(seeds.path(), data.path(), Settings::default()), 508);
    tokio::task::block_in_place(|| {
        app.handle_message(
            &message(chat, ChatKind::Private, true, "/alert 光伏"),
            Utc::now(),
        )
    });
    let n = jianbao::alerts::SUMMARY_OVER + 10;
    for i in 0..n {
        write(
            seeds.path(),
            &format!("pv{i:03}"),
            &format!("光伏电站第{i}期并网"),
            &format!("第{i}座光伏电站今天并网发电。"),
        );
    }
    assert!(tokio::task::block_in_place(|| app.rescan()));
    let outbox = outbox_to(&fake);
    let mut last = std::collections::HashMap::new();
    assert_eq!(
        jianbao::alerts::push_once(&app.alerts(), &outbox, &mut last).await,
        1
    );
    let sent = fake.sent_texts(chat);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].contains(&format!("{n} 篇新文章")), "{}", sent[0]);
    assert!(sent[0].contains("/search 光伏"), "{}", sent[0]);
    assert_eq!(
        sent[0].matches("光伏电站第").count(),
        jianbao::alerts::SUMMARY_ITEMS
    );
    check_telegram_html(&sent[0]).expect("valid HTML");
    // Later passes push nothing of them.
    last.clear();
    assert_eq!(
        jianbao::alerts::push_once(&app.alerts(), &outbox, &mut last).await,
        0
    );
    assert_eq!(fake.sent_texts(chat).len(), 1);
}
