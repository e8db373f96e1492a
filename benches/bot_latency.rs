//! Search-reply latency of the real bot (teloxide dispatcher + `Outbox`) against the fake Bot
//! API server, on a real corpus.
//!
//!     cargo bench --bench bot_latency -- ../shared/corpus/xwlb
//!
//! Three threads, as in production where Telegram is another machine:
//! - the fake Bot API server runs on a current-thread tokio runtime of its own thread;
//! - the bot runs on a default multi-thread runtime (the one `serve` builds), with the
//!   production `Outbox::new` limits (30/s overall: paced at 28/s with a burst of 2, user
//!   replies ahead of digests);
//! - this driver runs on the main thread's own current-thread runtime.
//!
//! What is timed, per message (all `Instant`s of one process, so directly comparable):
//! - `push`: just before `FakeApi::push_update`. The bot is idle in a long poll at that moment.
//! - `handout`: when the driver sees the fake record the bot's *next* getUpdates call, which
//!   the bot makes once the dispatcher has taken the update (the fake records a long poll
//!   when it arrives, as Telegram would see it). It can only be late, which would make
//!   `handout→reply` look shorter: `push→reply` bounds it from above. After the run every
//!   hand-out is checked: that getUpdates must confirm exactly that update
//!   (`offset = update_id + 1`).
//! - `reply`: the `at` of the fake's record of the matching sendMessage, taken when the
//!   request (headers and JSON body) has been received, before it is parsed or answered.
//!
//! Scenarios (each message from a new private chat, so the per-chat limits never apply):
//! 1. paced: one message every 40 ms (25/s, under the 30/s global limit), each waiting for its
//!    reply; 20 warm-up queries first. Neither flood limit is what is measured here.
//!    Latency = handout→reply (also push→reply and push→handout).
//! 2. paced at 20 ms (50/s offered, over the 30/s limit), each message still waiting for its
//!    reply before the next is sent: shows what the outbox's global pacing adds.
//! 3. open loop: random (Poisson) arrivals at 8/s on average, not waiting for replies; the
//!    traffic of a busy bot, well under the limit on average. Latency = push→reply.
//! 4. burst: 100 new chats send at once; latency = push→reply; each must get exactly one reply.
//! 5. during a digest fan-out: 400 digests are due and delivered by the real `Scheduler`
//!    through the same outbox (as `serve` shares it) while searches arrive every 250 ms.
//!
//! For every reply the bench also looks at the gap to the previous send the fake received: a
//! slow reply that arrived ~35.7 ms (1/28 s) after the previous send was held by the outbox's
//! global pacing, which is how the "held" counts and the "slowest" lists below are explained.
//!
//! Then, for reference, `App::handle_message` (search + render + saving the page session, no
//! Telegram) is timed in-process over the same queries, to show where the time goes.
//!
//! Exits with status 1 if any message got no reply, more than one reply, or a reply to the
//! wrong chat.

// tests/support/mod.rs carries its own `#![allow(dead_code)]` (an outer one here would be a
// clippy::duplicated_attributes warning, an error in .ci/run).
#[path = "../tests/support/mod.rs"]
mod support;

// Only its fixed list: this bench builds its own forms from the titles.
#[allow(dead_code)]
#[path = "common/queries.rs"]
mod queries;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use jianbao::app::{App, ChatKind, Incoming};
use jianbao::config::Settings;
use jianbao::index::SearchIndex;
use jianbao::scheduler::Scheduler;
use jianbao::store::Store;
use support::bot_harness::BenchBot;
use support::{FakeApi, text_message};

const WAIT: Duration = Duration::from_secs(20);
const WARM_UP: usize = 20;
const PACED: usize = 320;
const PACED_FAST: usize = 100;
const BURST: usize = 100;
const PACE: Duration = Duration::from_millis(40);
const PACE_FAST: Duration = Duration::from_millis(20);
const POISSON: usize = 200;
const POISSON_RATE: f64 = 8.0;
/// Searches sent while a digest fan-out is running, one every `DURING_PACE`.
const DURING: usize = 40;
const DURING_PACE: Duration = Duration::from_millis(250);
const DIGEST_CHATS: i64 = 400;

// ---------------------------------------------------------------------------
// Queries
// ---------------------------------------------------------------------------

/// Queries people send a news-search bot: the classic keyword queries, then forms built
/// from corpus titles (two words, one word, a title prefix, a question, a source filter, a
/// date filter, a quoted phrase, the /search command), all distinct.
fn queries(index: &SearchIndex, n: usize) -> Vec<String> {
    // The search benches' list, and forms only a bot gets.
    let fixed = queries::FIXED.iter().copied().chain([
        "/search 生态环境 保护",
        "科技创新 after:2024-06-01",
        "中美关系",
        "民营经济",
    ]);
    let mut out: Vec<String> = fixed.map(str::to_owned).collect();
    let searcher = index.searcher();
    let f = index.fields();
    let total = index.num_docs().max(1) as usize;
    let all = searcher
        .search(
            &tantivy::query::AllQuery,
            &tantivy::collector::TopDocs::with_limit(total).order_by_score(),
        )
        .unwrap_or_default();
    let stride = (all.len() / (n * 2).max(1)).max(1);
    let mut seen: std::collections::HashSet<String> = out.iter().cloned().collect();
    let mut form = 0usize;
    for (_, addr) in all.iter().step_by(stride) {
        if out.len() >= n {
            break;
        }
        let Ok(doc) = searcher.doc::<tantivy::TantivyDocument>(*addr) else {
            continue;
        };
        use tantivy::schema::Value;
        let title = doc
            .get_first(f.title)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned();
        let folded = jianbao::text::fold(&title);
        let mut words: Vec<&str> = jianbao::text::words(&folded)
            .into_iter()
            .filter(|w| w.chars().count() >= 2)
            .collect();
        words.dedup();
        if words.len() < 2 {
            continue;
        }
        let (a, b, mid) = (words[0], words[words.len() - 1], words[words.len() / 2]);
        let q = match form % 8 {
            0 => format!("{a} {b}"),
            1 => mid.to_owned(),
            2 => title.chars().take(12).collect(),
            3 => format!("{mid}有哪些新进展？"),
            4 => format!("source:新闻联播 {mid}"),
            5 => format!("{a} after:2025-01-01"),
            6 => format!("\"{mid}\""),
            _ => format!("/search {a} {b}"),
        };
        form += 1;
        if seen.insert(q.clone()) {
            out.push(q);
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Statistics
// ---------------------------------------------------------------------------

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Nearest-rank percentile of sorted durations.
fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn summary(mut v: Vec<Duration>) -> String {
    v.sort();
    format!(
        "p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2} ms  (n={})",
        ms(pct(&v, 0.50)),
        ms(pct(&v, 0.90)),
        ms(pct(&v, 0.99)),
        ms(v.last().copied().unwrap_or_default()),
        v.len()
    )
}

// ---------------------------------------------------------------------------
// Driving the bot
// ---------------------------------------------------------------------------

struct Sample {
    chat_id: i64,
    query: String,
    update_id: i64,
    push: Instant,
    /// Not observed in the open-loop scenario.
    handout: Option<Instant>,
    reply: Instant,
    /// Index of the getUpdates record seen as the hand-out.
    handout_record: Option<usize>,
    kind: ReplyKind,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum ReplyKind {
    Results,
    NoResults,
    Other,
}

fn kind_of(params: &serde_json::Value) -> ReplyKind {
    let text = params["text"].as_str().unwrap_or_default();
    if text.starts_with("🔎") {
        ReplyKind::Results
    } else if text.starts_with("没有找到") {
        ReplyKind::NoResults
    } else {
        ReplyKind::Other
    }
}

struct Driver {
    fake: FakeApi,
    store: Arc<Store>,
    next_chat: i64,
    next_update_id: i64,
    /// sendMessage records expected so far (every message gets exactly one reply).
    replies: usize,
    failures: Vec<String>,
}

impl Driver {
    fn new_chat(&mut self) -> i64 {
        self.next_chat += 1;
        self.next_chat
    }

    /// Sends one message from a new private chat and waits for its reply.
    async fn one(&mut self, text: &str) -> Option<Sample> {
        let chat_id = self.new_chat();
        let gu_before = self.fake.requests_for("getupdates").len();
        let update = text_message(chat_id, "private", chat_id, text);
        let push = Instant::now();
        self.fake.push_update(update);
        self.next_update_id += 1;
        let update_id = self.next_update_id;
        self.fake.wait_for("getupdates", gu_before + 1, WAIT).await;
        let handout = Instant::now();
        let sent = self
            .fake
            .wait_for("sendmessage", self.replies + 1, WAIT)
            .await;
        self.replies += 1;
        let rec = &sent[self.replies - 1];
        if rec.params["chat_id"].as_i64() != Some(chat_id) || sent.len() != self.replies {
            self.failures.push(format!(
                "query {text:?} from chat {chat_id}: reply went to {} ({} replies, {} expected)",
                rec.params["chat_id"],
                sent.len(),
                self.replies
            ));
            return None;
        }
        if rec.status != 200 {
            self.failures.push(format!(
                "query {text:?}: the fake answered sendMessage with {}",
                rec.status
            ));
        }
        Some(Sample {
            chat_id,
            query: text.to_owned(),
            update_id,
            push,
            handout: Some(handout),
            reply: rec.at,
            handout_record: Some(gu_before),
            kind: kind_of(&rec.params),
        })
    }

    /// One message every `pace` (start to start), each waiting for its reply.
    async fn paced(&mut self, qs: &[String], pace: Duration) -> Vec<Sample> {
        let start = tokio::time::Instant::now();
        let mut out = Vec::new();
        for (i, q) in qs.iter().enumerate() {
            tokio::time::sleep_until(start + pace * i as u32).await;
            if let Some(s) = self.one(q).await {
                out.push(s);
            }
        }
        out
    }

    /// Checks that each sample's hand-out record really carried its update: the bot's next
    /// getUpdates confirms it (`offset = update_id + 1`). Returns the number that did not.
    async fn misattributed(&self, samples: &[Sample]) -> usize {
        // The fake records a long poll when it arrives: the poll after the hand-out is there
        // once the update was taken.
        let last = samples
            .iter()
            .filter_map(|s| s.handout_record)
            .max()
            .unwrap_or(0);
        self.fake
            .wait_for("getupdates", last + 1, Duration::from_secs(5))
            .await;
        let polls = self.fake.requests_for("getupdates");
        samples
            .iter()
            .filter(|s| {
                let Some(record) = s.handout_record else {
                    return false;
                };
                polls.get(record).and_then(|r| r.params["offset"].as_i64()) != Some(s.update_id + 1)
            })
            .count()
    }

    /// Open loop: messages from new chats at random (Poisson) times, `rate` per second on
    /// average, not waiting for replies. Latency = push→reply.
    async fn poisson(&mut self, qs: &[String], rate: f64) -> Vec<Sample> {
        // xorshift64*: a fixed seed, so every run offers the same arrival pattern.
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut uniform = move || {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            ((state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        };
        let mut at = Duration::ZERO;
        let mut offsets = Vec::with_capacity(qs.len());
        for _ in qs {
            offsets.push(at);
            at += Duration::from_secs_f64(-uniform().ln() / rate);
        }
        let start = tokio::time::Instant::now();
        let mut pushed = Vec::with_capacity(qs.len());
        for (q, offset) in qs.iter().zip(offsets) {
            tokio::time::sleep_until(start + offset).await;
            let chat_id = self.new_chat();
            let update = text_message(chat_id, "private", chat_id, q);
            let push = Instant::now();
            self.fake.push_update(update);
            self.next_update_id += 1;
            pushed.push((chat_id, q.clone(), self.next_update_id, push));
        }
        let want = self.replies + qs.len();
        let deadline = Instant::now() + WAIT;
        while self.fake.requests_for("sendmessage").len() < want && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let sent = self.fake.requests_for("sendmessage");
        let mine = &sent[self.replies.min(sent.len())..];
        let mut out = Vec::new();
        for (chat_id, query, update_id, push) in pushed {
            let to_chat: Vec<_> = mine
                .iter()
                .filter(|r| r.params["chat_id"].as_i64() == Some(chat_id))
                .collect();
            if to_chat.len() != 1 {
                self.failures.push(format!(
                    "open loop: chat {chat_id} got {} replies, expected exactly 1",
                    to_chat.len()
                ));
                continue;
            }
            out.push(Sample {
                chat_id,
                query,
                update_id,
                push,
                handout: None,
                reply: to_chat[0].at,
                handout_record: None,
                kind: kind_of(&to_chat[0].params),
            });
        }
        self.replies = sent.len();
        out
    }

    /// Searches from new chats while the scheduler delivers `DIGEST_CHATS` digests through the
    /// same outbox (digest time, 08:00, is when many people read and search). Returns the
    /// searches' push→reply latencies, the pass's wall time and its delivered count.
    async fn during_digests(
        &mut self,
        qs: &[String],
        bot: &tokio::runtime::Handle,
        scheduler: Scheduler,
    ) -> (Vec<Duration>, Duration, usize, f64) {
        // Every chat owed one digest: subscribed before 08:00 three days ago, `now` 08:01.
        let tz = chrono_tz::Asia::Shanghai;
        let eight = chrono::NaiveTime::from_hms_opt(8, 0, 0).expect("08:00");
        let day = jianbao::schedule::local_date(tz, Utc::now())
            .checked_sub_days(chrono::Days::new(3))
            .expect("a date");
        let due = jianbao::schedule::local_instant(tz, day, eight);
        let digest_chats: Vec<i64> = (1..=DIGEST_CHATS).map(|i| 5_000_000 + i).collect();
        for chat in &digest_chats {
            self.store
                .upsert_subscription(
                    *chat,
                    eight,
                    tz,
                    "",
                    (due - chrono::Duration::hours(1)).timestamp(),
                )
                .expect("subscribe");
        }
        let base = self.fake.requests_for("sendmessage").len();
        let started = Instant::now();
        let pass =
            bot.spawn(async move { scheduler.run_due(due + chrono::Duration::minutes(1)).await });
        tokio::time::sleep(Duration::from_secs(1)).await;
        let start = tokio::time::Instant::now();
        let mut pushed = Vec::new();
        for (i, q) in qs.iter().enumerate() {
            tokio::time::sleep_until(start + DURING_PACE * i as u32).await;
            let chat_id = self.new_chat();
            let update = text_message(chat_id, "private", chat_id, q);
            let push = Instant::now();
            self.fake.push_update(update);
            self.next_update_id += 1;
            pushed.push((chat_id, push));
        }
        let (report, _) = pass.await.expect("digest pass");
        let wall = started.elapsed();
        let deadline = Instant::now() + WAIT;
        while self.fake.requests_for("sendmessage").len() < base + qs.len() + digest_chats.len()
            && Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let sent = self.fake.requests_for("sendmessage");
        let mine = &sent[base.min(sent.len())..];
        let mut lat = Vec::new();
        for (chat_id, push) in pushed {
            let to_chat: Vec<_> = mine
                .iter()
                .filter(|r| r.params["chat_id"].as_i64() == Some(chat_id))
                .collect();
            if to_chat.len() == 1 {
                lat.push(to_chat[0].at.duration_since(push));
            } else {
                self.failures.push(format!(
                    "during digests: chat {chat_id} got {} replies, expected exactly 1",
                    to_chat.len()
                ));
            }
        }
        let wrong = digest_chats
            .iter()
            .filter(|c| self.fake.sent_texts(**c).len() != 1)
            .count();
        if wrong > 0 || report.delivered != digest_chats.len() {
            self.failures.push(format!(
                "during digests: pass {report:?}; {wrong} digest chats without exactly one message"
            ));
        }
        if mine.len() != qs.len() + digest_chats.len() {
            self.failures.push(format!(
                "during digests: {} sendMessage requests, expected {}",
                mine.len(),
                qs.len() + digest_chats.len()
            ));
        }
        let mut times: Vec<Instant> = mine.iter().map(|r| r.at).collect();
        times.sort();
        let rate = match (times.first(), times.last()) {
            (Some(a), Some(b)) if b > a => {
                (times.len() - 1) as f64 / b.duration_since(*a).as_secs_f64()
            }
            _ => 0.0,
        };
        self.replies = sent.len();
        (lat, wall, report.delivered, rate)
    }

    /// `n` new chats send at once. Returns (per-chat push→reply, first push→last reply,
    /// getUpdates batches used).
    async fn burst(&mut self, qs: &[String]) -> (Vec<Duration>, Duration, usize) {
        let gu_before = self.fake.requests_for("getupdates").len();
        let chats: Vec<i64> = qs.iter().map(|_| self.new_chat()).collect();
        let mut pushed = Vec::with_capacity(qs.len());
        let updates: Vec<_> = chats
            .iter()
            .zip(qs)
            .map(|(chat, q)| text_message(*chat, "private", *chat, q))
            .collect();
        for update in updates {
            pushed.push(Instant::now());
            self.fake.push_update(update);
            self.next_update_id += 1;
        }
        let first_update = self.next_update_id - qs.len() as i64 + 1;
        // Poll rather than wake on every record: fewer copies of the record list.
        let want = self.replies + qs.len();
        let deadline = Instant::now() + WAIT;
        let sent = loop {
            let sent = self.fake.requests_for("sendmessage");
            if sent.len() >= want || Instant::now() > deadline {
                break sent;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        // Anything extra (duplicates) would show up shortly after.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let sent_after = self.fake.requests_for("sendmessage");
        let burst_sent = &sent_after[self.replies.min(sent_after.len())..];
        let mut lat = Vec::new();
        let mut last = pushed[0];
        for (i, chat) in chats.iter().enumerate() {
            let to_chat: Vec<_> = burst_sent
                .iter()
                .filter(|r| r.params["chat_id"].as_i64() == Some(*chat))
                .collect();
            let accepted = self.fake.sent_texts(*chat).len();
            if to_chat.len() != 1 || accepted != 1 {
                self.failures.push(format!(
                    "burst: chat {chat} got {} sendMessage requests ({accepted} accepted), expected exactly 1",
                    to_chat.len()
                ));
                continue;
            }
            lat.push(to_chat[0].at.duration_since(pushed[i]));
            last = last.max(to_chat[0].at);
        }
        if burst_sent.len() != qs.len() {
            self.failures.push(format!(
                "burst: {} sendMessage requests in all, expected {}",
                burst_sent.len(),
                qs.len()
            ));
        }
        self.replies = sent_after.len();
        let _ = sent;
        // getUpdates calls that handed out part of the burst: the polls after them confirm it.
        let polls = self.fake.requests_for("getupdates");
        let batches = polls[gu_before..]
            .windows(2)
            .filter(|w| {
                let before = w[0].params["offset"].as_i64().unwrap_or(0);
                let after = w[1].params["offset"].as_i64().unwrap_or(0);
                after > before && after > first_update
            })
            .count();
        (lat, last.duration_since(pushed[0]), batches)
    }
}

/// The send before `reply` at the fake (any chat), if any.
fn previous_send(all_sends: &[Instant], reply: Instant) -> Option<Instant> {
    let i = all_sends.partition_point(|t| *t < reply);
    i.checked_sub(1).map(|j| all_sends[j])
}

/// The outbox paces sends at one per 1/28 s (35.7 ms) beyond a burst of 2: a reply that reached
/// the fake 34.7–37 ms after the previous send, later than it would otherwise, was held by it.
fn held_by_pacing(all_sends: &[Instant], s: &Sample, latency: Duration) -> bool {
    let gap = previous_send(all_sends, s.reply).map(|p| s.reply.duration_since(p));
    latency > Duration::from_millis(5)
        && gap.is_some_and(|g| {
            (Duration::from_micros(34_700)..Duration::from_millis(37)).contains(&g)
        })
}

fn report(label: &str, samples: &[Sample], all_sends: &[Instant]) {
    let push_to_reply: Vec<Duration> = samples
        .iter()
        .map(|s| s.reply.duration_since(s.push))
        .collect();
    let handout_to_reply: Vec<Duration> = samples
        .iter()
        .filter_map(|s| s.handout.map(|h| s.reply.saturating_duration_since(h)))
        .collect();
    let push_to_handout: Vec<Duration> = samples
        .iter()
        .filter_map(|s| s.handout.map(|h| h.duration_since(s.push)))
        .collect();
    let results = samples
        .iter()
        .filter(|s| s.kind == ReplyKind::Results)
        .count();
    let none = samples
        .iter()
        .filter(|s| s.kind == ReplyKind::NoResults)
        .count();
    let other = samples.len() - results - none;
    let chats = samples
        .iter()
        .map(|s| s.chat_id)
        .collect::<std::collections::HashSet<_>>()
        .len();
    println!(
        "{label}: {} messages from {chats} new private chats ({results} result pages, {none} no-result, {other} other)",
        samples.len()
    );
    if !handout_to_reply.is_empty() {
        println!("  handout -> reply  {}", summary(handout_to_reply));
    }
    println!("  push -> reply     {}", summary(push_to_reply));
    if !push_to_handout.is_empty() {
        println!("  push -> handout   {}", summary(push_to_handout));
    }
    let latency = |s: &Sample| {
        s.reply
            .saturating_duration_since(s.handout.unwrap_or(s.push))
    };
    let held = samples
        .iter()
        .filter(|s| held_by_pacing(all_sends, s, latency(s)))
        .count();
    println!(
        "  held by the outbox's global pacing (35.7 ms per send): {held} of {}",
        samples.len()
    );
    let mut slowest: Vec<&Sample> = samples.iter().collect();
    slowest.sort_by_key(|s| std::cmp::Reverse(latency(s)));
    let shown: Vec<String> = slowest
        .iter()
        .take(4)
        .map(|s| {
            let gap = previous_send(all_sends, s.reply)
                .map_or(f64::NAN, |p| ms(s.reply.duration_since(p)));
            format!(
                "{:.1} ms (prev send {:.1} ms before) {:?}",
                ms(latency(s)),
                gap,
                s.query
            )
        })
        .collect();
    println!("  slowest: {}", shown.join("; "));
}

// ---------------------------------------------------------------------------

fn main() -> ExitCode {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let corpus: PathBuf = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../shared/corpus/xwlb"));
    if !corpus.is_dir() {
        eprintln!(
            "corpus folder {} not found; pass it as the first argument",
            corpus.display()
        );
        return ExitCode::from(2);
    }

    jianbao::text::warm_up();
    let data = tempfile::tempdir().expect("tempdir");
    let index = Arc::new(SearchIndex::open(data.path()).expect("open index"));
    let started = Instant::now();
    let synced = index.sync(&corpus, None).expect("index the corpus");
    println!(
        "corpus: {} ({} docs indexed in {:.1} s)",
        corpus.display(),
        synced.added,
        started.elapsed().as_secs_f64()
    );
    let needed = WARM_UP + PACED + PACED_FAST + POISSON + BURST + DURING;
    let qs = queries(&index, needed);
    if qs.len() < needed {
        eprintln!("only {} distinct queries could be built", qs.len());
        return ExitCode::from(2);
    }
    let (warm, rest) = qs.split_at(WARM_UP);
    let (paced_qs, rest) = rest.split_at(PACED);
    let (fast_qs, rest) = rest.split_at(PACED_FAST);
    let (poisson_qs, rest) = rest.split_at(POISSON);
    let (burst_qs, during_qs) = rest.split_at(BURST);

    let store = Arc::new(Store::open(data.path()).expect("open store"));
    let app = Arc::new(App::new(
        index,
        store.clone(),
        Settings::default(),
        corpus.clone(),
    ));

    // The fake Bot API on a thread of its own, the bot on the runtime `serve` uses.
    let BenchBot {
        fake,
        fake_thread,
        rt: bot_rt,
        outbox,
        running,
    } = BenchBot::start(app.clone());
    // The digest scheduler shares the outbox, as in `serve`.
    let scheduler = Scheduler::new(app.subscriptions(), outbox.clone());

    let driver_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("driver runtime");
    let mut d = Driver {
        fake: fake.clone(),
        store,
        next_chat: 100_000,
        next_update_id: 0,
        replies: 0,
        failures: Vec::new(),
    };
    let bot_handle = bot_rt.handle().clone();
    let (paced, fast, poisson, burst, misattributed, during) = driver_rt.block_on(async {
        // The bot's first poll, then the warm-up.
        d.fake.wait_for("getupdates", 1, WAIT).await;
        d.paced(warm, PACE).await;
        // A pause between phases, so no reply of one phase is paced behind the last of the
        // previous one.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let paced = d.paced(paced_qs, PACE).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let fast = d.paced(fast_qs, PACE_FAST).await;
        let mut mis = d.misattributed(&paced).await;
        mis += d.misattributed(&fast).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let poisson = d.poisson(poisson_qs, POISSON_RATE).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let burst = d.burst(burst_qs).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let during = d.during_digests(during_qs, &bot_handle, scheduler).await;
        (paced, fast, poisson, burst, mis, during)
    });
    bot_rt.block_on(running.stop());
    let mut all_sends: Vec<Instant> = fake
        .requests_for("sendmessage")
        .iter()
        .map(|r| r.at)
        .collect();
    all_sends.sort();

    // Where the time goes: the core alone (search, render, page session), same queries.
    let mut core = Vec::new();
    for (i, q) in paced_qs.iter().enumerate() {
        let incoming = Incoming {
            chat_id: 900_000 + i as i64,
            kind: ChatKind::Private,
            user_id: 900_000 + i as i64,
            text: q.clone(),
            sender_is_chat_admin: true,
        };
        let t = Instant::now();
        let replies = app.handle_message(&incoming, Utc::now());
        core.push(t.elapsed());
        assert_eq!(replies.len(), 1);
    }

    println!();
    println!(
        "bot_latency: real dispatcher + Outbox::new (30/s) -> fake Bot API on its own thread; {} warm-up queries first",
        WARM_UP
    );
    report(
        &format!(
            "paced, one message every {} ms (under the 30/s limit)",
            PACE.as_millis()
        ),
        &paced,
        &all_sends,
    );
    report(
        &format!(
            "paced, one message every {} ms (50/s offered: over the 30/s limit)",
            PACE_FAST.as_millis()
        ),
        &fast,
        &all_sends,
    );
    report(
        &format!(
            "open loop, random (Poisson) arrivals at {POISSON_RATE}/s on average (under the 30/s limit)"
        ),
        &poisson,
        &all_sends,
    );
    let (burst_lat, burst_total, batches) = burst;
    let mut sorted = burst_lat.clone();
    sorted.sort();
    println!(
        "burst: {} chats at once -> {} got exactly one reply; handed out in {} getUpdates batch(es)",
        BURST,
        burst_lat.len(),
        batches
    );
    println!(
        "  push -> reply     p50 {:.1}  p99 {:.1}  max {:.1} ms; first push -> last reply {:.2} s (floor at 28 sends/s after a burst of 2: {:.2} s)",
        ms(pct(&sorted, 0.5)),
        ms(pct(&sorted, 0.99)),
        ms(sorted.last().copied().unwrap_or_default()),
        burst_total.as_secs_f64(),
        (BURST - 2) as f64 / 28.0
    );
    let (during_lat, during_wall, during_delivered, during_rate) = during;
    let mut sorted = during_lat.clone();
    sorted.sort();
    println!(
        "during a digest fan-out ({} chats, same outbox; {} delivered in {:.2} s, all sends at {:.1}/s): {} searches from new chats, one every {} ms",
        DIGEST_CHATS,
        during_delivered,
        during_wall.as_secs_f64(),
        during_rate,
        sorted.len(),
        DURING_PACE.as_millis()
    );
    println!(
        "  push -> reply     p50 {:.1}  p90 {:.1}  p99 {:.1}  max {:.1} ms",
        ms(pct(&sorted, 0.5)),
        ms(pct(&sorted, 0.9)),
        ms(pct(&sorted, 0.99)),
        ms(sorted.last().copied().unwrap_or_default())
    );
    println!(
        "App::handle_message alone (search+render+session, no Telegram), same {} queries: {}",
        paced_qs.len(),
        summary(core)
    );
    println!(
        "hand-outs checked against the next getUpdates offset: {} of {} confirmed",
        paced.len() + fast.len() - misattributed,
        paced.len() + fast.len()
    );

    fake_thread.stop();
    if d.failures.is_empty() {
        println!("check: every message got exactly one reply, to its own chat: OK");
        ExitCode::SUCCESS
    } else {
        println!("check FAILED:");
        for f in &d.failures {
            println!("  {f}");
        }
        ExitCode::FAILURE
    }
}
