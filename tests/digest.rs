//! Daily digests end to end: a real tantivy index and a real SQLite file on temporary folders,
//! the real `Scheduler`, and delivery through the real `Outbox` to the fake Bot API server.
//!
//! The clock is the `now` passed to `Scheduler::run_due`. New subscriptions start with the
//! articles indexed in the 24 hours before `now`, and `indexed_at` is the real wall-clock time
//! of indexing, so the simulated days here lie a few days *before* the real time: every article
//! indexed by the test then counts as "indexed in the last 24 h" of the first digest (the
//! window has no upper bound), and later digests go by the cursor (ingest sequence) only.

mod support;

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Days, Duration, NaiveDate, NaiveTime, Timelike, Utc};
use chrono_tz::Tz;
use jianbao::app::App;
use jianbao::bot::Outbox;
use jianbao::config::Settings;
use jianbao::index::SearchIndex;
use jianbao::render::escape_html;
use jianbao::schedule;
use jianbao::scheduler::{self, Delivery, DigestSender, PassReport, Scheduler};
use jianbao::store::Store;
use support::{FakeApi, Fault};
use tempfile::TempDir;

const SHANGHAI: Tz = chrono_tz::Asia::Shanghai;
const NEW_YORK: Tz = chrono_tz::America::New_York;
const BERLIN: Tz = chrono_tz::Europe::Berlin;

fn eight() -> NaiveTime {
    NaiveTime::from_hms_opt(8, 0, 0).unwrap()
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn ymd(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// The local date in `tz`, `days` days before the real current date.
fn days_ago(tz: Tz, days: u64) -> NaiveDate {
    schedule::local_date(tz, Utc::now())
        .checked_sub_days(Days::new(days))
        .unwrap()
}

/// 08:00 local on `date` in `tz`.
fn eight_on(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    schedule::local_instant(tz, date, eight())
}

fn plus_days(date: NaiveDate, days: u64) -> NaiveDate {
    date.checked_add_days(Days::new(days)).unwrap()
}

/// The label a digest for `date` carries in its header.
fn label(date: NaiveDate) -> String {
    format!("简报 · {}", date.format("%Y-%m-%d"))
}

// ---------------------------------------------------------------------------
// Seeds
// ---------------------------------------------------------------------------

/// A seed file as the scrapers write them (see tests/cli.rs).
fn seed(dir: &Path, name: &str, title: &str, source: &str, date: &str, body: &str) {
    let text = format!(
        "---\ntitle: {title}\nurl: https://example.com/{name}\nsource: {source}\ndate: {date}\nfetch_date: 2024-07-11T06:00:00\n---\n\n# {title}\n\n{body}\n"
    );
    std::fs::write(dir.join(format!("{name}.txt")), text).unwrap();
}

/// Three everyday articles on distinct topics.
fn seed_basic(dir: &Path) {
    seed(
        dir,
        "ai",
        "人工智能治理新规发布",
        "新华社",
        "2024-07-10",
        "全球人工智能治理需要各国合作，新规明确了责任。",
    );
    seed(
        dir,
        "farm",
        "农业发展银行支持乡村振兴",
        "人民日报",
        "2024-07-09",
        "中国农业发展银行加大对乡村振兴的信贷支持。",
    );
    seed(
        dir,
        "chip",
        "芯片产业链加快发展",
        "新华社",
        "2024-07-08",
        "国内芯片产业链上下游协同，产能稳步提升。",
    );
}

const BASIC_TITLES: [&str; 3] = [
    "人工智能治理新规发布",
    "农业发展银行支持乡村振兴",
    "芯片产业链加快发展",
];

// ---------------------------------------------------------------------------
// A running bot (index, store, app, scheduler) on a data folder
// ---------------------------------------------------------------------------

struct Bot {
    index: Arc<SearchIndex>,
    store: Arc<Store>,
    app: Arc<App>,
    scheduler: Scheduler,
}

/// Folders that outlive a `Bot`, as DATA_DIR and the seeds folder outlive the process.
struct Dirs {
    seeds: TempDir,
    data: TempDir,
}

impl Dirs {
    fn new() -> Dirs {
        Dirs {
            seeds: tempfile::tempdir().unwrap(),
            data: tempfile::tempdir().unwrap(),
        }
    }

    fn seeds(&self) -> &Path {
        self.seeds.path()
    }
}

/// Starts the bot the way `serve` does: open the index, sync it with the seeds folder, open the
/// store, build the app and the scheduler (sending through the fake Bot API).
fn start(dirs: &Dirs, settings: Settings, fake: &FakeApi) -> Bot {
    tokio::task::block_in_place(|| {
        let index = Arc::new(SearchIndex::open(dirs.data.path()).unwrap());
        index.sync(dirs.seeds(), None).unwrap();
        let store = Arc::new(Store::open(dirs.data.path()).unwrap());
        let app = Arc::new(App::new(
            index.clone(),
            store.clone(),
            settings,
            dirs.seeds().to_path_buf(),
        ));
        let sender: Arc<dyn DigestSender> = Arc::new(Outbox::with_limits(
            fake.bot(),
            FakeApi::TOKEN.to_owned(),
            30,
        ));
        let scheduler = Scheduler::new(app.subscriptions(), sender);
        Bot {
            index,
            store,
            app,
            scheduler,
        }
    })
}

/// Another scheduler over the same index and store but with other settings.
fn with_settings(bot: &Bot, settings: Settings, fake: &FakeApi) -> Scheduler {
    let app = Arc::new(App::new(
        bot.index.clone(),
        bot.store.clone(),
        settings,
        bot.app.seeds_dir().to_path_buf(),
    ));
    let sender: Arc<dyn DigestSender> = Arc::new(Outbox::with_limits(
        fake.bot(),
        FakeApi::TOKEN.to_owned(),
        30,
    ));
    Scheduler::new(app.subscriptions(), sender)
}

impl Bot {
    fn subscribe(&self, chat_id: i64, tz: &str, keywords: &str, created_at: DateTime<Utc>) {
        self.store
            .upsert_subscription(
                chat_id,
                chrono::NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
                tz.parse().unwrap(),
                keywords,
                created_at.timestamp(),
            )
            .unwrap();
    }

    async fn run(&self, now: DateTime<Utc>) -> (PassReport, Option<DateTime<Utc>>) {
        self.scheduler.run_due(now).await
    }

    /// What the rescan task does when files change.
    fn rescan(&self) {
        let report =
            tokio::task::block_in_place(|| self.index.sync(self.app.seeds_dir(), None).unwrap());
        assert!(
            report.changed(),
            "the rescan should have found the new files: {report:?}"
        );
    }

    fn cursor(&self, chat_id: i64) -> Option<u64> {
        self.store
            .subscription(chat_id)
            .unwrap()
            .unwrap()
            .cursor_seq
    }

    fn last_delivery(&self, chat_id: i64) -> Option<String> {
        self.store
            .last_delivery_date(chat_id)
            .unwrap()
            .map(|d| d.to_string())
    }
}

fn delivered(n: usize) -> PassReport {
    PassReport {
        delivered: n,
        ..PassReport::default()
    }
}

fn nothing() -> PassReport {
    PassReport::default()
}

/// Every sendMessage the fake received (accepted or refused by an injected fault) is valid
/// Telegram HTML, sent as HTML, and within the 4096-character limit.
fn assert_all_messages_valid(fake: &FakeApi) {
    let requests = fake.requests_for("sendmessage");
    for r in &requests {
        let text = r.params["text"].as_str().expect("sendMessage has a text");
        assert_eq!(
            r.params["parse_mode"].as_str(),
            Some("HTML"),
            "digests are sent as HTML"
        );
        match support::check_telegram_html(text) {
            Ok(len) => assert!(len <= 4096, "message of {len} visible characters: {text}"),
            Err(e) => panic!("Telegram would reject this message ({e}):\n{text}"),
        }
    }
    // (A plain-text resend, the outbox's fallback after "can't parse entities", would have
    // failed the parse_mode check above.)
}

/// Number of sendMessage requests (accepted or not) addressed to `chat_id`.
fn sends_to(fake: &FakeApi, chat_id: i64) -> Vec<u16> {
    fake.requests_for("sendmessage")
        .iter()
        .filter(|r| r.params["chat_id"].as_i64() == Some(chat_id))
        .map(|r| r.status)
        .collect()
}

fn settings() -> Settings {
    Settings::default()
}

fn settings_send_empty() -> Settings {
    Settings {
        digest_send_empty: true,
        ..Settings::default()
    }
}

// ---------------------------------------------------------------------------
// 1. Two time zones
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_chat_gets_its_digest_at_its_own_local_time_exactly_once() {
    let fake = FakeApi::start().await;
    let dirs = Dirs::new();
    seed_basic(dirs.seeds());
    let bot = start(&dirs, settings(), &fake);
    let (a, b, c) = (1001, 1002, 1003);

    let day = days_ago(SHANGHAI, 3);
    let t_a = eight_on(SHANGHAI, day); // 00:00Z
    let t_b = eight_on(NEW_YORK, day); // 12:00Z or 13:00Z, the same UTC day
    assert!(t_a + Duration::hours(11) < t_b);
    bot.subscribe(a, "Asia/Shanghai", "", t_a - Duration::hours(1));
    bot.subscribe(b, "America/New_York", "", t_a - Duration::hours(1));
    // C subscribes after today's 08:00 in Shanghai: its first digest is tomorrow's.
    bot.subscribe(c, "Asia/Shanghai", "", t_a + Duration::minutes(30));

    // Just before A's time nobody is owed anything; the next wake-up is A's 08:00.
    assert_eq!(
        bot.run(t_a - Duration::minutes(1)).await,
        (nothing(), Some(t_a))
    );

    // A's 08:00 has passed, B's has not: only A.
    let (report, next) = bot.run(t_a + Duration::minutes(1)).await;
    assert_eq!(report, delivered(1));
    assert_eq!(next, Some(t_b), "next wake-up: B's 08:00 in New York");
    let sent_a = fake.sent_texts(a);
    assert_eq!(sent_a.len(), 1);
    assert!(sent_a[0].contains(&label(day)), "{}", sent_a[0]);
    for title in BASIC_TITLES {
        assert!(
            sent_a[0].contains(title),
            "{title} missing from {}",
            sent_a[0]
        );
    }
    assert!(fake.sent_texts(b).is_empty());

    // Again at the same instant and later the same day: nothing more.
    assert_eq!(bot.run(t_a + Duration::minutes(1)).await.0, nothing());
    assert_eq!(bot.run(t_a + Duration::hours(3)).await.0, nothing());
    assert!(
        scheduler::owed(
            &bot.app.subscriptions(),
            &bot.store.subscription(c).unwrap().unwrap(),
            t_a + Duration::hours(3)
        )
        .is_none()
    );

    // B's 08:00 in New York: only B, with the same local date.
    let (report, next) = bot.run(t_b + Duration::minutes(1)).await;
    assert_eq!(report, delivered(1));
    assert_eq!(
        next,
        Some(t_a + Duration::days(1)),
        "next wake-up: tomorrow 08:00 in Shanghai"
    );
    let sent_b = fake.sent_texts(b);
    assert_eq!(sent_b.len(), 1);
    assert!(sent_b[0].contains(&label(day)), "{}", sent_b[0]);
    assert!(sent_b[0].contains(BASIC_TITLES[0]));

    // Repeated passes the same local day (in both zones) send nothing.
    assert_eq!(bot.run(t_b + Duration::minutes(1)).await.0, nothing());
    assert_eq!(bot.run(t_b + Duration::hours(10)).await.0, nothing());
    assert_eq!(
        (
            fake.sent_texts(a).len(),
            fake.sent_texts(b).len(),
            fake.sent_texts(c).len()
        ),
        (1, 1, 0)
    );
    assert_eq!(
        bot.last_delivery(a).as_deref(),
        Some(day.to_string().as_str())
    );
    assert_eq!(
        bot.last_delivery(b).as_deref(),
        Some(day.to_string().as_str())
    );

    // Next day in Shanghai: C gets its first digest; A has nothing new (no message).
    let (report, _) = bot
        .run(t_a + Duration::days(1) + Duration::minutes(1))
        .await;
    assert_eq!(
        report,
        PassReport {
            delivered: 1,
            empty: 1,
            ..PassReport::default()
        }
    );
    let sent_c = fake.sent_texts(c);
    assert_eq!(sent_c.len(), 1);
    assert!(
        sent_c[0].contains(&label(plus_days(day, 1))),
        "{}",
        sent_c[0]
    );
    assert_eq!((fake.sent_texts(a).len(), fake.sent_texts(b).len()), (1, 1));
    assert_all_messages_valid(&fake);
}

// ---------------------------------------------------------------------------
// 2. Daylight-saving changes
// ---------------------------------------------------------------------------

#[test]
fn due_times_stay_at_local_eight_across_dst_changes() {
    let t = eight();
    // (zone, an instant, the next due time after it)
    let next_due = [
        // New York springs forward on 2024-03-10: 08:00 EST is 13:00Z, 08:00 EDT is 12:00Z.
        (NEW_YORK, "2024-03-09T12:59:00Z", "2024-03-09T13:00:00Z"),
        (NEW_YORK, "2024-03-09T13:00:00Z", "2024-03-10T12:00:00Z"),
        // It falls back on 2024-11-03: 12:00Z (EDT) then 13:00Z (EST), 25 hours apart.
        (NEW_YORK, "2024-11-02T12:00:00Z", "2024-11-03T13:00:00Z"),
        // Berlin: 07:00Z (CET) → 06:00Z (CEST) on 2024-03-31, back on 2024-10-27.
        (BERLIN, "2024-03-30T07:00:00Z", "2024-03-31T06:00:00Z"),
        (BERLIN, "2024-10-26T06:00:00Z", "2024-10-27T07:00:00Z"),
    ];
    for (tz, at, due) in next_due {
        assert_eq!(
            schedule::next_due(tz, t, utc(at)),
            utc(due),
            "{tz} after {at}"
        );
    }
    // (zone, an instant, the local date whose digest is owed then)
    let owed = [
        // 23 hours after the last digest, not 24: at 12:00Z (08:00 EDT) the 10th is owed.
        (NEW_YORK, "2024-03-10T11:59:00Z", "2024-03-09"),
        (NEW_YORK, "2024-03-10T12:00:00Z", "2024-03-10"),
        (NEW_YORK, "2024-03-10T12:30:00Z", "2024-03-10"),
        // 25 hours: at 12:30Z (07:30 EST) the 3rd is not owed yet.
        (NEW_YORK, "2024-11-03T12:30:00Z", "2024-11-02"),
        (NEW_YORK, "2024-11-03T13:00:00Z", "2024-11-03"),
        (BERLIN, "2024-10-27T06:30:00Z", "2024-10-26"),
    ];
    for (tz, at, date) in owed {
        assert_eq!(
            schedule::owed_date(tz, t, utc(at)),
            ymd(date),
            "{tz} at {at}"
        );
    }
    for (date, instant) in [
        ("2024-03-09", "2024-03-09T13:00:00Z"),
        ("2024-03-10", "2024-03-10T12:00:00Z"),
    ] {
        assert_eq!(
            schedule::local_instant(NEW_YORK, ymd(date), t),
            utc(instant)
        );
    }

    // A whole year, day after day, in zones with and without DST (and the southern
    // hemisphere): every due time is 08:00 local, every local date exactly once, and the
    // owed date switches exactly at the due time.
    let zones = [
        NEW_YORK,
        BERLIN,
        SHANGHAI,
        chrono_tz::Australia::Sydney,
        chrono_tz::Europe::London,
    ];
    for tz in zones {
        let mut at = utc("2024-01-01T12:00:00Z");
        let mut last_date: Option<NaiveDate> = None;
        for _ in 0..366 {
            let due = schedule::next_due(tz, t, at);
            let local = due.with_timezone(&tz);
            assert_eq!(
                (local.hour(), local.minute()),
                (8, 0),
                "{tz}: due at {local}"
            );
            let date = local.date_naive();
            if let Some(prev) = last_date {
                assert_eq!(
                    date,
                    plus_days(prev, 1),
                    "{tz}: a day skipped or repeated at {local}"
                );
            }
            assert_eq!(schedule::owed_date(tz, t, due), date, "{tz} at {due}");
            assert_eq!(
                schedule::owed_date(tz, t, due - Duration::seconds(1)),
                date.pred_opt().unwrap(),
                "{tz} at {due}"
            );
            last_date = Some(date);
            at = due;
        }
    }

    // A time that does not exist on the spring-forward day (02:30) and one that happens twice
    // on the fall-back day (01:30): still one digest per local date.
    for (time, start) in [
        ("02:30", "2024-03-08T00:00:00Z"),
        ("01:30", "2024-11-01T00:00:00Z"),
    ] {
        let t = jianbao::config::parse_time(time).unwrap();
        let mut at = utc(start);
        let mut dates = Vec::new();
        for _ in 0..5 {
            at = schedule::next_due(NEW_YORK, t, at);
            dates.push(at.with_timezone(&NEW_YORK).date_naive());
        }
        let expected: Vec<NaiveDate> = (0..5).map(|i| plus_days(dates[0], i)).collect();
        assert_eq!(dates, expected, "{time}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduler_delivers_at_local_eight_on_both_sides_of_dst_changes() {
    let fake = FakeApi::start().await;
    let dirs = Dirs::new();
    seed_basic(dirs.seeds());
    // An empty day still sends a note, so every owed digest shows up as a message.
    let bot = start(&dirs, settings_send_empty(), &fake);
    let ny = 2001;
    bot.subscribe(ny, "America/New_York", "", utc("2024-03-09T00:00:00Z"));
    let sub = || bot.store.subscription(ny).unwrap().unwrap();

    // Saturday 2024-03-09, EST: due at 13:00Z.
    assert_eq!(
        scheduler::owed(
            &bot.app.subscriptions(),
            &sub(),
            utc("2024-03-09T12:59:00Z")
        ),
        None
    );
    assert_eq!(
        bot.run(utc("2024-03-09T12:59:00Z")).await,
        (nothing(), Some(utc("2024-03-09T13:00:00Z")))
    );
    assert_eq!(
        scheduler::owed(
            &bot.app.subscriptions(),
            &sub(),
            utc("2024-03-09T13:00:00Z")
        ),
        Some(ymd("2024-03-09"))
    );
    let (report, next) = bot.run(utc("2024-03-09T13:00:00Z")).await;
    assert_eq!(report, delivered(1));
    // Sunday 2024-03-10 is in EDT: 08:00 local is 12:00Z, 23 hours later.
    assert_eq!(next, Some(utc("2024-03-10T12:00:00Z")));
    assert_eq!(
        scheduler::owed(
            &bot.app.subscriptions(),
            &sub(),
            utc("2024-03-10T11:59:00Z")
        ),
        None
    );
    assert_eq!(bot.run(utc("2024-03-10T11:59:00Z")).await.0, nothing());
    assert_eq!(
        scheduler::owed(
            &bot.app.subscriptions(),
            &sub(),
            utc("2024-03-10T12:00:00Z")
        ),
        Some(ymd("2024-03-10"))
    );
    let (report, next) = bot.run(utc("2024-03-10T12:00:00Z")).await;
    assert_eq!(report, delivered(1));
    assert_eq!(next, Some(utc("2024-03-11T12:00:00Z")));
    // What would have been "24 hours later" (13:00Z) sends nothing more.
    assert_eq!(bot.run(utc("2024-03-10T13:00:00Z")).await.0, nothing());
    let sent = fake.sent_texts(ny);
    assert_eq!(sent.len(), 2);
    assert!(
        sent[0].contains(&label(ymd("2024-03-09"))) && sent[0].contains(BASIC_TITLES[0]),
        "{}",
        sent[0]
    );
    assert!(
        sent[1].contains(&label(ymd("2024-03-10"))) && sent[1].contains("今天没有新文章"),
        "{}",
        sent[1]
    );

    // Berlin, fall back on 2024-10-27: 06:00Z (CEST) then 07:00Z (CET).
    bot.store.delete_subscription(ny).unwrap();
    let berlin = 2002;
    bot.subscribe(berlin, "Europe/Berlin", "", utc("2024-10-26T00:00:00Z"));
    let sub = || bot.store.subscription(berlin).unwrap().unwrap();
    let (report, next) = bot.run(utc("2024-10-26T06:00:00Z")).await;
    assert_eq!(report, delivered(1));
    assert_eq!(next, Some(utc("2024-10-27T07:00:00Z")), "25 hours later");
    // 06:00Z on the 27th is 07:00 CET: not yet.
    assert_eq!(
        scheduler::owed(
            &bot.app.subscriptions(),
            &sub(),
            utc("2024-10-27T06:30:00Z")
        ),
        None
    );
    assert_eq!(bot.run(utc("2024-10-27T06:30:00Z")).await.0, nothing());
    assert_eq!(
        scheduler::owed(
            &bot.app.subscriptions(),
            &sub(),
            utc("2024-10-27T07:00:00Z")
        ),
        Some(ymd("2024-10-27"))
    );
    assert_eq!(bot.run(utc("2024-10-27T07:00:00Z")).await.0, delivered(1));
    let sent = fake.sent_texts(berlin);
    assert_eq!(sent.len(), 2);
    assert!(sent[0].contains(&label(ymd("2024-10-26"))), "{}", sent[0]);
    assert!(sent[1].contains(&label(ymd("2024-10-27"))), "{}", sent[1]);
    assert_all_messages_valid(&fake);
}

// ---------------------------------------------------------------------------
// 3. Restarts
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarts_never_send_a_day_twice_and_downtime_owes_one_digest() {
    let fake = FakeApi::start().await;
    let dirs = Dirs::new();
    seed_basic(dirs.seeds());
    let chat = 3001;
    let day = days_ago(SHANGHAI, 6);
    let t = eight_on(SHANGHAI, day);

    // Run 1 stops before the due time.
    {
        let bot = start(&dirs, settings(), &fake);
        bot.subscribe(chat, "Asia/Shanghai", "", t - Duration::hours(1));
        assert_eq!(
            bot.run(t - Duration::minutes(10)).await,
            (nothing(), Some(t))
        );
    }
    // Run 2 starts after it (the bot was down at 08:00): the day's digest is sent at start-up.
    {
        let bot = start(&dirs, settings(), &fake);
        let (report, next) = bot.run(t + Duration::hours(2)).await;
        assert_eq!(report, delivered(1));
        assert_eq!(next, Some(t + Duration::days(1)));
        assert!(bot.cursor(chat).is_some());
    }
    let first = fake.sent_texts(chat);
    assert_eq!(first.len(), 1);
    assert!(first[0].contains(&label(day)));
    // Runs 3 and 4, the same day: the reopened SQLite file knows the digest went out.
    for later in [Duration::hours(2), Duration::hours(5)] {
        let bot = start(&dirs, settings(), &fake);
        assert_eq!(
            bot.last_delivery(chat).as_deref(),
            Some(day.to_string().as_str())
        );
        assert_eq!(
            bot.run(t + later).await,
            (nothing(), Some(t + Duration::days(1)))
        );
    }
    assert_eq!(fake.sent_texts(chat).len(), 1);

    // Down for several days while the scrapers add files; start-up syncs, then one digest.
    seed(
        dirs.seeds(),
        "new1",
        "量子计算取得突破",
        "科技日报",
        "2024-07-12",
        "量子计算机完成新的实验。",
    );
    seed(
        dirs.seeds(),
        "new2",
        "新能源汽车销量增长",
        "经济日报",
        "2024-07-11",
        "新能源汽车销量同比增长三成。",
    );
    let back = plus_days(day, 4);
    {
        let bot = start(&dirs, settings(), &fake);
        let (report, next) = bot.run(eight_on(SHANGHAI, back) + Duration::hours(3)).await;
        assert_eq!(
            report,
            delivered(1),
            "one digest for the whole downtime, not one per missed day"
        );
        assert_eq!(next, Some(eight_on(SHANGHAI, plus_days(back, 1))));
        assert_eq!(
            bot.run(eight_on(SHANGHAI, back) + Duration::hours(4))
                .await
                .0,
            nothing()
        );
        assert_eq!(
            bot.last_delivery(chat).as_deref(),
            Some(back.to_string().as_str())
        );
    }
    let sent = fake.sent_texts(chat);
    assert_eq!(sent.len(), 2);
    let catch_up = &sent[1];
    assert!(catch_up.contains(&label(back)), "{catch_up}");
    assert!(
        catch_up.contains("量子计算取得突破") && catch_up.contains("新能源汽车销量增长"),
        "{catch_up}"
    );
    for old in BASIC_TITLES {
        assert!(
            !catch_up.contains(old),
            "{old} was already sent: {catch_up}"
        );
    }
    assert!(catch_up.contains("2 篇新文章"), "{catch_up}");
    // And after yet another restart that day, still nothing.
    let bot = start(&dirs, settings(), &fake);
    assert_eq!(
        bot.run(eight_on(SHANGHAI, back) + Duration::hours(8))
            .await
            .0,
        nothing()
    );
    assert_eq!(fake.sent_texts(chat).len(), 2);
    assert_all_messages_valid(&fake);
}

// ---------------------------------------------------------------------------
// 4. Keyword filter
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyword_subscriptions_get_only_matching_articles() {
    let fake = FakeApi::start().await;
    let dirs = Dirs::new();
    seed_basic(dirs.seeds());
    seed(
        dirs.seeds(),
        "ai2",
        "大模型安全评测",
        "科技日报",
        "2024-07-07",
        "人工智能大模型的安全评测体系逐步建立。",
    );
    // Shares words and characters with 人工智能 (智能, 人工) but not the keyword itself.
    seed(
        dirs.seeds(),
        "factory",
        "钢铁企业建设智能工厂",
        "经济日报",
        "2024-07-08",
        "车间里的人工搬运改由机器完成。",
    );
    let bot = start(&dirs, settings(), &fake);
    let (all, ai, none) = (4001, 4002, 4003);
    let day = days_ago(SHANGHAI, 3);
    let t = eight_on(SHANGHAI, day);
    bot.subscribe(all, "Asia/Shanghai", "", t - Duration::days(1));
    bot.subscribe(ai, "Asia/Shanghai", "人工智能", t - Duration::days(1));
    bot.subscribe(none, "Asia/Shanghai", "区块链", t - Duration::days(1));

    let (report, _) = bot.run(t + Duration::minutes(5)).await;
    assert_eq!(
        report,
        PassReport {
            delivered: 2,
            empty: 1,
            ..PassReport::default()
        }
    );
    let everything = &fake.sent_texts(all)[0];
    for title in BASIC_TITLES
        .iter()
        .chain(&["大模型安全评测", "钢铁企业建设智能工厂"])
    {
        assert!(everything.contains(title), "{title}: {everything}");
    }
    let filtered = fake.sent_texts(ai);
    assert_eq!(filtered.len(), 1);
    let filtered = &filtered[0];
    assert!(filtered.contains("关键词：人工智能"), "{filtered}");
    assert!(
        filtered.contains("人工智能治理新规发布") && filtered.contains("大模型安全评测"),
        "{filtered}"
    );
    assert!(
        !filtered.contains("农业发展银行")
            && !filtered.contains("芯片产业链")
            && !filtered.contains("智能工厂"),
        "{filtered}"
    );
    assert!(filtered.contains("2 篇新文章"), "{filtered}");
    // No match: no message, but the day counts as done.
    assert!(fake.sent_texts(none).is_empty());
    assert_eq!(
        bot.last_delivery(none).as_deref(),
        Some(day.to_string().as_str())
    );

    // The next day, a new article of each kind: the filter still applies, to new ones only.
    seed(
        dirs.seeds(),
        "ai3",
        "人工智能助力医疗诊断",
        "健康报",
        "2024-07-13",
        "医院引入人工智能辅助诊断。",
    );
    seed(
        dirs.seeds(),
        "farm2",
        "夏粮收购进展顺利",
        "农民日报",
        "2024-07-13",
        "各地夏粮收购有序推进。",
    );
    bot.rescan();
    let (report, _) = bot.run(t + Duration::days(1) + Duration::minutes(5)).await;
    assert_eq!(
        report,
        PassReport {
            delivered: 2,
            empty: 1,
            ..PassReport::default()
        }
    );
    let filtered = &fake.sent_texts(ai)[1];
    assert!(filtered.contains("人工智能助力医疗诊断"), "{filtered}");
    assert!(
        !filtered.contains("夏粮收购") && !filtered.contains("人工智能治理新规发布"),
        "{filtered}"
    );
    let everything = &fake.sent_texts(all)[1];
    assert!(
        everything.contains("人工智能助力医疗诊断") && everything.contains("夏粮收购进展顺利"),
        "{everything}"
    );
    assert_all_messages_valid(&fake);
}

// ---------------------------------------------------------------------------
// 5. Empty days
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_days_send_nothing_or_a_note_and_are_not_retried() {
    let fake = FakeApi::start().await;
    let dirs = Dirs::new();
    seed_basic(dirs.seeds());
    seed(
        dirs.seeds(),
        "quantum",
        "量子通信网络建成",
        "科技日报",
        "2024-07-10",
        "量子通信骨干网正式投入使用。",
    );
    let bot = start(&dirs, settings(), &fake);
    let (plain, quantum) = (5001, 5002);
    let day1 = days_ago(SHANGHAI, 6);
    let due = |n: u64| eight_on(SHANGHAI, plus_days(day1, n));
    bot.subscribe(plain, "Asia/Shanghai", "", due(0) - Duration::hours(1));
    bot.subscribe(
        quantum,
        "Asia/Shanghai",
        "量子",
        due(0) - Duration::hours(1),
    );

    assert_eq!(bot.run(due(0) + Duration::minutes(1)).await.0, delivered(2));
    let cursor1 = bot.cursor(plain);
    assert!(cursor1.is_some());
    assert_eq!(bot.cursor(quantum), cursor1);
    let requests_after_day1 = fake.requests_for("sendmessage").len();
    assert_eq!(requests_after_day1, 2);

    // Day 2, nothing new: no message, both recorded as done, next wake-up is tomorrow (no retry).
    let (report, next) = bot.run(due(1) + Duration::minutes(1)).await;
    assert_eq!(
        report,
        PassReport {
            empty: 2,
            ..PassReport::default()
        }
    );
    assert_eq!(next, Some(due(2)), "an empty day is not a failure to retry");
    assert_eq!(
        bot.last_delivery(plain).as_deref(),
        Some(plus_days(day1, 1).to_string().as_str())
    );
    assert_eq!(
        bot.last_delivery(quantum).as_deref(),
        Some(plus_days(day1, 1).to_string().as_str())
    );
    assert_eq!(
        bot.run(due(1) + Duration::minutes(6)).await,
        (nothing(), Some(due(2)))
    );
    assert_eq!(bot.run(due(1) + Duration::hours(6)).await.0, nothing());
    assert_eq!(fake.requests_for("sendmessage").len(), requests_after_day1);

    // Day 3, one new article that the keyword chat does not want: its day is empty, but its
    // cursor moves past the new article all the same.
    seed(
        dirs.seeds(),
        "rail",
        "高铁新线开通运营",
        "人民日报",
        "2024-07-14",
        "又一条高速铁路开通。",
    );
    bot.rescan();
    let (report, next) = bot.run(due(2) + Duration::minutes(1)).await;
    assert_eq!(
        report,
        PassReport {
            delivered: 1,
            empty: 1,
            ..PassReport::default()
        }
    );
    assert_eq!(next, Some(due(3)));
    let cursor3 = bot.cursor(plain);
    assert!(cursor3 > cursor1, "{cursor3:?} > {cursor1:?}");
    assert_eq!(
        bot.cursor(quantum),
        cursor3,
        "an empty digest still advances the cursor"
    );
    assert!(fake.sent_texts(plain)[1].contains("高铁新线开通运营"));
    assert_eq!(fake.sent_texts(quantum).len(), 1);

    // Day 4 with DIGEST_SEND_EMPTY on: both get the short note, once.
    let loud = with_settings(&bot, settings_send_empty(), &fake);
    assert_eq!(
        loud.run_due(due(3) + Duration::minutes(1)).await.0,
        delivered(2)
    );
    assert_eq!(loud.run_due(due(3) + Duration::hours(1)).await.0, nothing());
    for chat in [plain, quantum] {
        let sent = fake.sent_texts(chat);
        let note = sent.last().unwrap();
        assert!(
            note.contains("今天没有新文章") && note.contains(&label(plus_days(day1, 3))),
            "{note}"
        );
        assert!(support::check_telegram_html(note).is_ok());
    }
    assert_eq!(
        (fake.sent_texts(plain).len(), fake.sent_texts(quantum).len()),
        (3, 2)
    );
    assert_eq!(bot.cursor(plain), cursor3);
    assert_all_messages_valid(&fake);
}

// ---------------------------------------------------------------------------
// 6. Chats that blocked the bot
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocked_chats_are_disabled_after_three_failed_days_while_others_are_served() {
    let fake = FakeApi::start().await;
    let dirs = Dirs::new();
    seed_basic(dirs.seeds());
    let bot = start(&dirs, settings_send_empty(), &fake);
    // Blocked by the user, a chat that no longer exists; one that is fine; one that blocks,
    // unblocks and blocks again. (Kicked from a group: see the test below.)
    let (blocked, missing, fine, flaky) = (6001, 6003, 6004, 6005);
    let gone = [(blocked, Fault::Blocked), (missing, Fault::ChatNotFound)];
    let day1 = days_ago(SHANGHAI, 8);
    let due = |n: u64| eight_on(SHANGHAI, plus_days(day1, n));
    for chat in [blocked, missing, fine, flaky] {
        bot.subscribe(chat, "Asia/Shanghai", "", due(0) - Duration::hours(1));
    }
    for (chat, fault) in &gone {
        fake.fail_chat(*chat, Some(fault.clone()));
    }
    fake.fail_chat(flaky, Some(Fault::Blocked));
    let failures = |chat| bot.store.subscription(chat).unwrap().unwrap().failures;
    let strikes = || [blocked, missing, flaky].map(failures);

    // Day 1: three chats fail (one strike each), one is served.
    let (report, next) = bot.run(due(0) + Duration::minutes(1)).await;
    assert_eq!(
        report,
        PassReport {
            delivered: 1,
            failed: 3,
            ..PassReport::default()
        }
    );
    assert!(next.is_some_and(|n| n <= due(1)), "{next:?}");
    assert_eq!(strikes(), [1, 1, 1]);

    // Day 2: the same.
    let (report, _) = bot.run(due(1) + Duration::minutes(1)).await;
    assert_eq!(
        report,
        PassReport {
            delivered: 1,
            failed: 3,
            ..PassReport::default()
        }
    );
    assert_eq!(strikes(), [2, 2, 2]);

    // Day 3: the flaky chat unblocked the bot: it gets its digest and its count starts over;
    // the two others fail a third time and are disabled.
    fake.fail_chat(flaky, None);
    let (report, _) = bot.run(due(2) + Duration::minutes(1)).await;
    assert_eq!(
        report,
        PassReport {
            delivered: 2,
            disabled: 2,
            ..PassReport::default()
        }
    );
    for (chat, _) in &gone {
        let sub = bot
            .store
            .subscription(*chat)
            .unwrap()
            .expect("a disabled subscription is kept");
        assert!(!sub.enabled && sub.failures == 3, "{sub:?}");
    }
    assert_eq!(failures(flaky), 0);
    let active: Vec<i64> = bot
        .store
        .active_subscriptions()
        .unwrap()
        .iter()
        .map(|s| s.chat_id)
        .collect();
    assert_eq!(active, vec![fine, flaky]);

    // Day 4: the disabled chats are not tried again; the flaky one blocks again (one strike).
    fake.fail_chat(flaky, Some(Fault::Blocked));
    let (report, _) = bot.run(due(3) + Duration::minutes(1)).await;
    assert_eq!(
        report,
        PassReport {
            delivered: 1,
            failed: 1,
            ..PassReport::default()
        }
    );
    let flaky_sub = bot.store.subscription(flaky).unwrap().unwrap();
    assert!(
        flaky_sub.enabled && flaky_sub.failures == 1,
        "{flaky_sub:?}"
    );

    assert_eq!(
        sends_to(&fake, blocked),
        vec![403; 3],
        "one try per day, none after disabling"
    );
    assert_eq!(sends_to(&fake, missing), vec![400; 3]);
    assert_eq!(
        fake.sent_texts(fine).len(),
        4,
        "the other chat got every day's digest"
    );
    assert_eq!(fake.sent_texts(flaky).len(), 1);
    assert_all_messages_valid(&fake);
}

/// Telegram answers a bot kicked from a basic group with 403 "Forbidden: bot was kicked from
/// the group chat". teloxide 0.17 has no variant for that text (its `BotKicked` expects
/// "Unauthorized: bot was kicked from a chat"), so it arrives as `ApiError::Unknown`, which
/// the outbox must recognise as "gone" by its 403 "Forbidden" text, or the subscription would
/// never collect a strike and be retried forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_that_kicked_the_bot_is_disabled_after_three_failed_days() {
    let fake = FakeApi::start().await;
    let dirs = Dirs::new();
    seed_basic(dirs.seeds());
    let bot = start(&dirs, settings_send_empty(), &fake);
    let kicked = -6002;
    let day1 = days_ago(SHANGHAI, 8);
    let due = |n: u64| eight_on(SHANGHAI, plus_days(day1, n));
    bot.subscribe(kicked, "Asia/Shanghai", "", due(0) - Duration::hours(1));
    fake.fail_chat(kicked, Some(Fault::Kicked));
    for n in 0..3 {
        bot.run(due(n) + Duration::minutes(1)).await;
        let sub = bot.store.subscription(kicked).unwrap().unwrap();
        assert_eq!(sub.failures, n as u32 + 1, "a 403 is a strike: {sub:?}");
    }
    assert!(!bot.store.subscription(kicked).unwrap().unwrap().enabled);
    assert_eq!(bot.run(due(3) + Duration::minutes(1)).await.0, nothing());
    assert_eq!(sends_to(&fake, kicked), vec![403; 3]);
}

// ---------------------------------------------------------------------------
// 7. A group that became a supergroup
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_migrated_group_gets_its_digest_at_the_new_id_and_keeps_it() {
    let fake = FakeApi::start().await;
    let dirs = Dirs::new();
    seed_basic(dirs.seeds());
    let bot = start(&dirs, settings(), &fake);
    let (group, supergroup) = (-555, -100999);
    let day = days_ago(SHANGHAI, 4);
    let t = eight_on(SHANGHAI, day);
    bot.subscribe(group, "Asia/Shanghai", "", t - Duration::hours(1));

    fake.fail_next("sendmessage", Fault::Migrate(supergroup));
    let (report, next) = bot.run(t + Duration::minutes(1)).await;
    assert_eq!(
        report,
        PassReport {
            migrated: 1,
            ..PassReport::default()
        }
    );
    assert_eq!(next, Some(t + Duration::days(1)));
    assert_eq!(sends_to(&fake, group), vec![400]);
    assert_eq!(sends_to(&fake, supergroup), vec![200]);
    assert!(fake.sent_texts(group).is_empty());
    let sent = fake.sent_texts(supergroup);
    assert_eq!(sent.len(), 1);
    assert!(
        sent[0].contains(&label(day)) && sent[0].contains(BASIC_TITLES[0]),
        "{}",
        sent[0]
    );

    assert!(bot.store.subscription(group).unwrap().is_none());
    let moved = bot
        .store
        .subscription(supergroup)
        .unwrap()
        .expect("the subscription moved");
    assert_eq!(
        (
            moved.time.format("%H:%M").to_string(),
            moved.tz.name(),
            moved.enabled
        ),
        ("08:00".to_owned(), "Asia/Shanghai", true)
    );
    assert!(moved.cursor_seq.is_some());
    assert_eq!(
        bot.last_delivery(supergroup).as_deref(),
        Some(day.to_string().as_str())
    );
    assert_eq!(bot.last_delivery(group), None);

    // Not again the same day; the next day's digest goes straight to the supergroup.
    assert_eq!(bot.run(t + Duration::hours(2)).await.0, nothing());
    seed(
        dirs.seeds(),
        "late",
        "城市更新行动方案公布",
        "人民日报",
        "2024-07-15",
        "多地公布城市更新行动方案。",
    );
    bot.rescan();
    assert_eq!(
        bot.run(t + Duration::days(1) + Duration::minutes(1))
            .await
            .0,
        delivered(1)
    );
    assert_eq!(sends_to(&fake, group), vec![400]);
    let sent = fake.sent_texts(supergroup);
    assert_eq!(sent.len(), 2);
    assert!(
        sent[1].contains("城市更新行动方案公布") && !sent[1].contains(BASIC_TITLES[0]),
        "{}",
        sent[1]
    );
    assert_all_messages_valid(&fake);
}

// ---------------------------------------------------------------------------
// 8. Files added while the bot runs
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_added_while_running_is_in_the_next_digest_only() {
    let fake = FakeApi::start().await;
    let dirs = Dirs::new();
    seed_basic(dirs.seeds());
    let bot = start(&dirs, settings(), &fake);
    let chat = 8001;
    let day = days_ago(SHANGHAI, 3);
    let t = eight_on(SHANGHAI, day);
    bot.subscribe(chat, "Asia/Shanghai", "", t - Duration::hours(1));

    assert_eq!(bot.run(t + Duration::minutes(1)).await.0, delivered(1));
    // Collected today, published years ago: new to the index, so it is in the next digest,
    // shown with its own publication date.
    seed(
        dirs.seeds(),
        "old-news",
        "旧闻新收：三峡工程回顾",
        "档案",
        "2019-05-20",
        "三峡工程建设历程回顾。",
    );
    bot.rescan();
    // Not before the next due time.
    assert_eq!(bot.run(t + Duration::hours(5)).await.0, nothing());
    assert_eq!(
        bot.run(t + Duration::days(1) + Duration::minutes(1))
            .await
            .0,
        delivered(1)
    );
    let sent = fake.sent_texts(chat);
    assert_eq!(sent.len(), 2);
    let second = &sent[1];
    assert!(
        second.contains("旧闻新收：三峡工程回顾") && second.contains("2019-05-20"),
        "{second}"
    );
    assert!(
        second.contains("1 篇新文章") && second.contains("【档案】"),
        "{second}"
    );
    for old in BASIC_TITLES {
        assert!(
            !second.contains(old),
            "{old} was in yesterday's digest: {second}"
        );
    }
    assert_all_messages_valid(&fake);
}

/// Files moved within the folder (one with a URL, one without) are not new: the next digest
/// has only what really arrived.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moved_files_are_not_in_the_next_digest() {
    let fake = FakeApi::start().await;
    let dirs = Dirs::new();
    seed_basic(dirs.seeds());
    std::fs::write(
        dirs.seeds().join("memo.txt"),
        "---\ntitle: 内部备忘录要点\nsource: 办公室\ndate: 2024-07-10\n---\n\n备忘录记录了会议的主要决定。\n",
    )
    .unwrap();
    let bot = start(&dirs, settings(), &fake);
    let chat = 8002;
    let day = days_ago(SHANGHAI, 3);
    let t = eight_on(SHANGHAI, day);
    bot.subscribe(chat, "Asia/Shanghai", "", t - Duration::hours(1));
    assert_eq!(bot.run(t + Duration::minutes(1)).await.0, delivered(1));
    assert!(fake.sent_texts(chat)[0].contains("内部备忘录要点"));

    let moved = dirs.seeds().join("2024");
    std::fs::create_dir(&moved).unwrap();
    for name in ["ai.txt", "memo.txt"] {
        std::fs::rename(dirs.seeds().join(name), moved.join(name)).unwrap();
    }
    seed(
        dirs.seeds(),
        "late",
        "城市更新行动方案公布",
        "人民日报",
        "2024-07-15",
        "多地公布城市更新行动方案。",
    );
    bot.rescan();
    assert_eq!(
        bot.run(t + Duration::days(1) + Duration::minutes(1))
            .await
            .0,
        delivered(1)
    );
    let sent = fake.sent_texts(chat);
    assert_eq!(sent.len(), 2);
    assert!(sent[1].contains("城市更新行动方案公布"), "{}", sent[1]);
    for old in ["内部备忘录要点", BASIC_TITLES[0]] {
        assert!(
            !sent[1].contains(old),
            "{old} sent again after a move: {}",
            sent[1]
        );
    }
}

// ---------------------------------------------------------------------------
// 9. Long digests
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_digest_is_split_between_articles_into_valid_messages() {
    let fake = FakeApi::start().await;
    let dirs = Dirs::new();
    let sources = ["新华社", "人民日报", "经济<观察>&报"];
    let base = ymd("2024-01-01");
    for i in 0..60u64 {
        // Titles longer than the 120 characters shown, with characters that must be escaped.
        let title = format!(
            "第{i:02}篇：关于<数据&安全>与“数字经济”的长篇深度报道{}",
            "发展".repeat(70)
        );
        let body = format!(
            "正文{i:02}号，{}",
            "我国数字经济规模持续扩大，数据要素市场建设加快推进。".repeat(80)
        );
        let date = plus_days(base, i).to_string();
        seed(
            dirs.seeds(),
            &format!("long{i:02}"),
            &title,
            sources[i as usize % 3],
            &date,
            &body,
        );
    }
    let bot = start(
        &dirs,
        Settings {
            digest_max_items: 50,
            ..Settings::default()
        },
        &fake,
    );
    let chat = 9001;
    let day = days_ago(SHANGHAI, 3);
    let t = eight_on(SHANGHAI, day);
    bot.subscribe(chat, "Asia/Shanghai", "", t - Duration::hours(1));

    assert_eq!(bot.run(t + Duration::minutes(1)).await.0, delivered(1));
    let parts = fake.sent_texts(chat);
    assert!(parts.len() >= 2, "{} part(s)", parts.len());
    assert_eq!(sends_to(&fake, chat), vec![200; parts.len()]);
    for part in &parts {
        let len = support::check_telegram_html(part).unwrap_or_else(|e| panic!("{e}: {part}"));
        assert!(len <= 4096, "{len}");
    }
    assert!(
        parts[0].contains(&label(day)) && parts[0].contains("60 篇新文章"),
        "{}",
        parts[0]
    );
    assert!(
        parts.last().unwrap().contains("还有 10 篇"),
        "{}",
        parts.last().unwrap()
    );

    // The 50 newest articles, each once, whole (title, date and excerpt in the same message);
    // the 10 oldest are left for "还有 10 篇".
    for i in 0..60u64 {
        let marker = format!("第{i:02}篇");
        let holding: Vec<&String> = parts.iter().filter(|p| p.contains(&marker)).collect();
        if i < 10 {
            assert!(
                holding.is_empty(),
                "{marker} is among the oldest and should not be shown"
            );
            continue;
        }
        assert_eq!(holding.len(), 1, "{marker} in {} messages", holding.len());
        assert_eq!(holding[0].matches(&marker).count(), 1);
        let date = plus_days(base, i).to_string();
        assert!(
            holding[0].contains(&format!("正文{i:02}号")),
            "{marker}'s excerpt is not next to it"
        );
        assert!(
            holding[0].contains(&date),
            "{marker}'s date is not next to it"
        );
    }
    // Every message after the first begins with a source heading, and then an article: the
    // source's first, or one further down its group under the heading marked continued.
    for (n, part) in parts.iter().enumerate().skip(1) {
        let (heading, rest) = part.split_once('\n').unwrap_or((part, ""));
        assert!(
            heading.starts_with("<b>【") && rest.starts_with("• "),
            "message {n} does not start with a heading and an article: {part}"
        );
        let i: usize = rest["• ".len()..]
            .split_once("第")
            .and_then(|(_, r)| r.get(..2))
            .and_then(|d| d.parse().ok())
            .unwrap_or_else(|| panic!("no article number in {rest}"));
        let source = escape_html(sources[i % 3]);
        assert!(
            heading == format!("<b>【{source}】</b>")
                || heading == format!("<b>【{source}】（续）</b>"),
            "message {n} starts with article {i} of {source} under {heading}"
        );
    }
    assert!(
        parts
            .iter()
            .any(|p| p.starts_with("<b>【") && p.contains("】（续）</b>\n• ")),
        "no message continues a source's group: the case above went untested"
    );
    // Grouped by source, each heading once, newest first within a source; the newest
    // article's source comes first.
    let all = parts.join("\n\n");
    let headings = [
        "<b>【新华社】</b>",
        "<b>【人民日报】</b>",
        "<b>【经济&lt;观察&gt;&amp;报】</b>",
    ];
    for heading in headings {
        assert_eq!(all.matches(heading).count(), 1, "{heading}");
    }
    let newest_heading = all.find(headings[59 % 3]).unwrap();
    assert!(
        headings
            .iter()
            .all(|h| all.find(h).unwrap() >= newest_heading),
        "the newest article's source comes first"
    );
    let shown: Vec<u64> = (10..60u64).collect();
    for s in 0..3 {
        let positions: Vec<usize> = shown
            .iter()
            .filter(|i| **i as usize % 3 == s)
            .map(|i| all.find(&format!("第{i:02}篇")).unwrap())
            .collect();
        assert!(
            positions.windows(2).all(|w| w[0] > w[1]),
            "source {s}: not newest first"
        );
    }
    assert_all_messages_valid(&fake);
}

// ---------------------------------------------------------------------------
// Transient failures and many chats
// ---------------------------------------------------------------------------

/// Sends through the real outbox, except that the first `fail` sends to `chat` end as a
/// transient failure (as a timeout or a 5xx would; teloxide waits 10 s before it reports a
/// real 5xx, too long for a test) without reaching the server.
struct Flaky {
    outbox: Outbox,
    chat: i64,
    fail: std::sync::atomic::AtomicUsize,
}

impl DigestSender for Flaky {
    fn send_html(
        &self,
        chat_id: i64,
        html: String,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Delivery> + Send + '_>> {
        Box::pin(async move {
            use std::sync::atomic::Ordering;
            if chat_id == self.chat
                && self
                    .fail
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok()
            {
                return Delivery::Failed("simulated timeout".to_owned());
            }
            self.outbox.send_html(chat_id, html).await
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transient_failure_is_retried_soon_and_delivered_once() {
    let fake = FakeApi::start().await;
    let dirs = Dirs::new();
    seed_basic(dirs.seeds());
    let bot = start(&dirs, settings(), &fake);
    let (flaky, fine) = (10001, 10002);
    let day = days_ago(SHANGHAI, 3);
    let t = eight_on(SHANGHAI, day);
    bot.subscribe(flaky, "Asia/Shanghai", "", t - Duration::hours(1));
    bot.subscribe(fine, "Asia/Shanghai", "", t - Duration::hours(1));
    let outbox = Outbox::with_limits(fake.bot(), FakeApi::TOKEN.to_owned(), 30);
    let sender = Flaky {
        outbox,
        chat: flaky,
        fail: std::sync::atomic::AtomicUsize::new(2),
    };
    let scheduler = Scheduler::new(bot.app.subscriptions(), Arc::new(sender));

    let now = t + Duration::minutes(1);
    let (report, next) = scheduler.run_due(now).await;
    assert_eq!(
        report,
        PassReport {
            delivered: 1,
            failed: 1,
            ..PassReport::default()
        }
    );
    let retry = now + Duration::from_std(scheduler::RETRY_AFTER_FAILURE).unwrap();
    assert_eq!(
        next,
        Some(retry),
        "a transient failure is retried soon, not tomorrow"
    );
    assert_eq!(
        bot.last_delivery(flaky),
        None,
        "not recorded: it was not sent"
    );
    assert_eq!(
        bot.store.subscription(flaky).unwrap().unwrap().failures,
        0,
        "transient failures do not count towards disabling"
    );

    // Fails once more, then goes through; the chat that had its digest gets nothing more.
    assert_eq!(
        scheduler.run_due(retry).await.0,
        PassReport {
            failed: 1,
            ..PassReport::default()
        }
    );
    let retry = retry + Duration::from_std(scheduler::RETRY_AFTER_FAILURE).unwrap();
    let (report, next) = scheduler.run_due(retry).await;
    assert_eq!(report, delivered(1));
    assert_eq!(next, Some(t + Duration::days(1)));
    assert_eq!(
        scheduler.run_due(retry + Duration::hours(1)).await.0,
        nothing()
    );
    let sent = fake.sent_texts(flaky);
    assert_eq!(sent.len(), 1);
    assert!(
        sent[0].contains(&label(day)) && sent[0].contains(BASIC_TITLES[0]),
        "{}",
        sent[0]
    );
    assert_eq!(fake.sent_texts(fine).len(), 1);
    assert_eq!(
        bot.last_delivery(flaky).as_deref(),
        Some(day.to_string().as_str())
    );
    assert_all_messages_valid(&fake);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_chats_due_at_once_each_get_one_digest() {
    let fake = FakeApi::start().await;
    fake.enforce_global_rate(30);
    let dirs = Dirs::new();
    seed_basic(dirs.seeds());
    let bot = start(&dirs, settings(), &fake);
    let day = days_ago(SHANGHAI, 3);
    let t = eight_on(SHANGHAI, day);
    let chats: Vec<i64> = (0..60).map(|i| 20_000 + i).collect();
    for chat in &chats {
        bot.subscribe(*chat, "Asia/Shanghai", "", t - Duration::hours(1));
    }
    // The fake answers 429 to a send over 30 in any sliding second; the outbox waits those out,
    // so every chat still gets its digest exactly once.
    let (report, _) = bot.run(t + Duration::minutes(1)).await;
    assert_eq!(report, delivered(chats.len()));
    for chat in &chats {
        assert_eq!(fake.sent_texts(*chat).len(), 1, "chat {chat}");
    }
    assert_eq!(bot.run(t + Duration::hours(1)).await.0, nothing());
    assert_all_messages_valid(&fake);
}

// ---------------------------------------------------------------------------
// Revoked chats and lost indexes (reliability round 2)
// ---------------------------------------------------------------------------

/// A chat removed from ALLOWED_CHAT_IDS gets no more digests, and may still unsubscribe.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_chat_gets_no_digest_and_can_still_unsubscribe() {
    let fake = FakeApi::start().await;
    let dirs = Dirs::new();
    seed_basic(dirs.seeds());
    let (kept, revoked) = (3001, 3002);
    let allowed = |ids: &[i64]| Settings {
        allowed_chat_ids: ids.iter().copied().collect(),
        ..Settings::default()
    };
    let bot = start(&dirs, allowed(&[kept, revoked]), &fake);
    let day = days_ago(SHANGHAI, 3);
    let t = eight_on(SHANGHAI, day);
    bot.subscribe(kept, "Asia/Shanghai", "", t - Duration::hours(1));
    bot.subscribe(revoked, "Asia/Shanghai", "", t - Duration::hours(1));

    // The operator removes `revoked` from the allowlist and restarts.
    let scheduler = with_settings(&bot, allowed(&[kept]), &fake);
    let (report, _) = scheduler.run_due(t + Duration::minutes(1)).await;
    assert_eq!(report, delivered(1));
    assert_eq!(fake.sent_texts(kept).len(), 1);
    assert!(
        fake.sent_texts(revoked).is_empty(),
        "a revoked chat got a digest"
    );
    // Its next due time does not wake the scheduler either.
    assert_eq!(
        scheduler.next_due(t + Duration::minutes(1)),
        Some(eight_on(SHANGHAI, plus_days(day, 1)))
    );

    let app = App::new(
        bot.index.clone(),
        bot.store.clone(),
        allowed(&[kept]),
        dirs.seeds().to_path_buf(),
    );
    let leave = jianbao::app::Incoming {
        chat_id: revoked,
        kind: jianbao::app::ChatKind::Private,
        user_id: revoked,
        text: "/unsubscribe".to_owned(),
        sender_is_chat_admin: true,
    };
    let replies = tokio::task::block_in_place(|| app.handle_message(&leave, Utc::now()));
    assert!(replies[0].html.contains("已取消订阅"), "{:?}", replies[0]);
    assert!(bot.store.subscription(revoked).unwrap().is_none());
    // Anything else stays refused.
    let search = jianbao::app::Incoming {
        text: "人工智能".to_owned(),
        ..leave
    };
    let replies = tokio::task::block_in_place(|| app.handle_message(&search, Utc::now()));
    assert!(replies[0].html.contains("授权"), "{:?}", replies[0]);
}

/// The index folder is lost and rebuilt: digests go on from where they were, neither
/// skipping the articles that arrive meanwhile nor resending the old ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuilt_index_keeps_ingest_numbers_for_digests() {
    let fake = FakeApi::start().await;
    let dirs = Dirs::new();
    // Old articles sort after the new ones by name: a rebuild that numbered the files afresh
    // in name order would give the new ones the low numbers (hidden) and the old ones the
    // high numbers (resent).
    for i in 0..3 {
        seed(
            dirs.seeds(),
            &format!("z_old{i}"),
            &format!("旧文章{i}"),
            "新华社",
            "2024-07-08",
            "已经推送过的旧文章。",
        );
    }
    let bot = start(&dirs, settings(), &fake);
    let chat = 4001;
    let day = days_ago(SHANGHAI, 3);
    let t = eight_on(SHANGHAI, day);
    bot.subscribe(chat, "Asia/Shanghai", "", t - Duration::hours(1));
    assert_eq!(bot.run(t + Duration::minutes(1)).await.0, delivered(1));
    let cursor = bot.cursor(chat);
    assert!(cursor.is_some());
    drop(bot);

    // The index is lost; two articles arrive; the bot starts again and rebuilds.
    std::fs::remove_dir_all(dirs.data.path().join("index")).unwrap();
    for i in 0..2 {
        seed(
            dirs.seeds(),
            &format!("a_new{i}"),
            &format!("新文章{i}"),
            "人民日报",
            "2024-07-12",
            "重建索引之后才到的新文章。",
        );
    }
    let bot = start(&dirs, settings(), &fake);
    assert_eq!(bot.index.num_docs(), 5);
    let next_day = eight_on(SHANGHAI, plus_days(day, 1));
    bot.run(next_day + Duration::minutes(1)).await;
    let sent = fake.sent_texts(chat);
    assert_eq!(sent.len(), 2, "one digest a day");
    for i in 0..2 {
        assert!(sent[1].contains(&format!("新文章{i}")), "{}", sent[1]);
    }
    for i in 0..3 {
        assert!(
            !sent[1].contains(&format!("旧文章{i}")),
            "resent after the rebuild: {}",
            sent[1]
        );
    }
    assert!(bot.cursor(chat) > cursor);
}
