//! The bot-wide send rate (Telegram: about 30 messages per second), shared fairly.
//!
//! A plain rate limiter is no queue: every waiter races for the next slot, and under a flood of
//! fifty chats a chat with one message could lose that race for ten seconds. Here waiters
//! queue, and each free slot goes to the first of them in this order:
//! 1. a reply to a user before digest fan-out traffic, so a search at 08:00 does not wait
//!    behind a thousand digests;
//! 2. among replies, the chat that was sent the least lately (a decaying count of its sends),
//!    so a chat with one waiting reply goes before a flooding chat's eleventh: round robin
//!    across chats, whatever their backlog;
//! 3. then the order of arrival.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// Who is sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// A reply to something a user just did.
    Interactive,
    /// Digests: may wait.
    Bulk,
}

/// How fast a chat's count of recent sends fades: after this long it is down to 1/e. A chat
/// flooding at its own limit (1/s) holds a count of about this many seconds.
const LOAD_FADES: Duration = Duration::from_secs(10);

/// Chats remembered before the quiet ones are forgotten (keeps memory flat).
const REMEMBERED_CHATS: usize = 4096;

/// GCRA pacing: one slot every `period`, up to `burst` at once. With rate r and burst b, no
/// sliding second holds more than r + b sends.
pub struct Pacer {
    period: Duration,
    burst: u32,
    state: Mutex<State>,
}

/// A waiter's place: (class, the chat's recent sends, arrival). Smallest goes first.
type Place = (u8, u32, u64);

struct State {
    /// Theoretical arrival time of the next send.
    tat: Instant,
    /// Everybody waiting for a slot, in the order they will get one; each is woken when it
    /// comes first.
    waiting: BTreeMap<Place, Arc<Notify>>,
    arrivals: u64,
    /// Per chat: its decaying count of sends and when it was last updated.
    load: HashMap<i64, (f64, Instant)>,
    /// Stopping: slots go by arrival alone, so digest sends already under way are not held
    /// behind the replies drained at the stop (a send cut off by the exit after it reached
    /// Telegram, but before it was recorded, would be sent again at the next start).
    stopping: bool,
}

impl State {
    fn load_of(&self, chat_id: i64, now: Instant) -> f64 {
        self.load
            .get(&chat_id)
            .map_or(0.0, |(n, at)| faded(*n, now.duration_since(*at)))
    }

    fn count_send(&mut self, chat_id: i64, now: Instant) {
        let n = self.load_of(chat_id, now) + 1.0;
        self.load.insert(chat_id, (n, now));
        if self.load.len() > REMEMBERED_CHATS {
            self.load
                .retain(|_, (n, at)| faded(*n, now.duration_since(*at)) >= 0.5);
        }
    }

    /// Whoever gets the next slot.
    fn first(&self) -> Option<&Place> {
        if self.stopping {
            self.waiting.keys().min_by_key(|p| p.2)
        } else {
            self.waiting.keys().next()
        }
    }

    /// Wakes whoever is first now (it may take the slot, or sleep until it is due).
    fn wake_first(&self) {
        if let Some(first) = self.first().and_then(|p| self.waiting.get(p)) {
            first.notify_one();
        }
    }
}

fn faded(n: f64, after: Duration) -> f64 {
    n * (-after.as_secs_f64() / LOAD_FADES.as_secs_f64()).exp()
}

/// Takes a waiter out of the queue however its wait ends (a slot, or its future dropped when
/// a send is cancelled), and wakes the next one.
struct Ticket<'a> {
    pacer: &'a Pacer,
    place: Place,
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        let mut s = self.pacer.state();
        s.waiting.remove(&self.place);
        s.wake_first();
    }
}

impl Pacer {
    /// `per_second` sends per second on average, `burst` at once.
    pub fn new(per_second: u32, burst: u32) -> Pacer {
        Pacer {
            period: Duration::from_secs(1) / per_second.max(1),
            burst: burst.max(1),
            state: Mutex::new(State {
                tat: Instant::now(),
                waiting: BTreeMap::new(),
                arrivals: 0,
                load: HashMap::new(),
                stopping: false,
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The bot is stopping: from now on slots go in order of arrival (see `State::stopping`).
    pub fn stopping(&self) {
        let mut s = self.state();
        s.stopping = true;
        s.wake_first();
    }

    /// Waits for a slot to send one message to `chat_id`.
    pub async fn acquire(&self, priority: Priority, chat_id: i64) {
        // Bulk sends never use the burst allowance: a user's reply arriving during a fan-out
        // finds it free and goes at once, instead of waiting up to one slot (35.7 ms) behind
        // bulk traffic that keeps the bucket empty. Bulk still gets the full rate.
        let tolerance = match priority {
            Priority::Interactive => self.period * (self.burst - 1),
            Priority::Bulk => Duration::ZERO,
        };
        let notify = Arc::new(Notify::new());
        let ticket = {
            let mut s = self.state();
            let now = Instant::now();
            s.arrivals += 1;
            let place = match priority {
                // Whole sends: chats within one send of each other take turns by arrival.
                Priority::Interactive => (0, s.load_of(chat_id, now) as u32, s.arrivals),
                Priority::Bulk => (1, 0, s.arrivals),
            };
            s.waiting.insert(place, notify.clone());
            Ticket { pacer: self, place }
        };
        loop {
            let wait = {
                let mut s = self.state();
                let now = Instant::now();
                let first = s.first() == Some(&ticket.place);
                if !first {
                    None
                } else if s.tat <= now + tolerance {
                    s.tat = s.tat.max(now) + self.period;
                    if priority == Priority::Interactive {
                        s.count_send(chat_id, now);
                    }
                    break;
                } else {
                    Some(s.tat - tolerance - now)
                }
            };
            match wait {
                // Not first: woken when someone ahead leaves, or a newcomer goes ahead.
                None => notify.notified().await,
                // First: due at a known time, unless someone more urgent arrives meanwhile
                // (it is then first and takes the slot when due; this waiter looks again).
                Some(d) => {
                    tokio::select! {
                        _ = tokio::time::sleep(d) => {}
                        _ = notify.notified() => {}
                    }
                }
            }
        }
        drop(ticket);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Lower bounds only: sleeping never ends early, so these cannot flake on a busy machine.
    #[tokio::test]
    async fn never_faster_than_the_rate() {
        let pacer = Pacer::new(50, 2);
        let start = Instant::now();
        for _ in 0..12 {
            pacer.acquire(Priority::Bulk, 1).await;
        }
        // Two at once, then one every 20 ms.
        assert!(
            start.elapsed() >= Duration::from_millis(195),
            "{:?}",
            start.elapsed()
        );
    }

    #[tokio::test]
    async fn a_reply_during_a_bulk_fan_out_goes_at_once() {
        let pacer = std::sync::Arc::new(Pacer::new(20, 2));
        let bulk = pacer.clone();
        let fan_out = tokio::spawn(async move {
            for _ in 0..20 {
                bulk.acquire(Priority::Bulk, 1).await;
            }
        });
        tokio::time::sleep(Duration::from_millis(230)).await;
        let started = Instant::now();
        pacer.acquire(Priority::Interactive, 2).await;
        // One slot is 50 ms: the reply did not wait for one.
        assert!(
            started.elapsed() < Duration::from_millis(20),
            "{:?}",
            started.elapsed()
        );
        fan_out.abort();
    }

    #[tokio::test]
    async fn interactive_goes_before_waiting_bulk() {
        let pacer = std::sync::Arc::new(Pacer::new(20, 1));
        pacer.acquire(Priority::Bulk, 1).await;
        let order = std::sync::Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for i in 0..5 {
            let (p, o) = (pacer.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                p.acquire(Priority::Bulk, 1).await;
                o.lock().unwrap().push(format!("bulk{i}"));
            }));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
        let (p, o) = (pacer.clone(), order.clone());
        tasks.push(tokio::spawn(async move {
            p.acquire(Priority::Interactive, 2).await;
            o.lock().unwrap().push("interactive".to_owned());
        }));
        for t in tasks {
            t.await.unwrap();
        }
        let order = order.lock().unwrap();
        let pos = order.iter().position(|s| s == "interactive").unwrap();
        assert!(pos <= 1, "{order:?}");
    }

    #[tokio::test]
    async fn a_chat_with_one_reply_goes_before_a_flooding_chats_next() {
        // One slot a second: everybody queues.
        let pacer = std::sync::Arc::new(Pacer::new(1, 1));
        // Chat 1 has been answered three times lately.
        pacer.acquire(Priority::Interactive, 1).await;
        for _ in 0..2 {
            pacer.state().count_send(1, Instant::now());
        }
        let order = std::sync::Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        // Chat 1's next two replies queue first, then chat 2's only one.
        for (i, chat) in [(0, 1), (1, 1), (2, 2)] {
            let (p, o) = (pacer.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                p.acquire(Priority::Interactive, chat).await;
                o.lock().unwrap().push(chat);
            }));
            tokio::time::sleep(Duration::from_millis(5 + i)).await;
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), vec![2, 1, 1]);
    }

    #[tokio::test]
    async fn a_cancelled_wait_leaves_the_queue() {
        let pacer = std::sync::Arc::new(Pacer::new(10, 1));
        pacer.acquire(Priority::Interactive, 1).await;
        let p = pacer.clone();
        let cancelled = tokio::spawn(async move { p.acquire(Priority::Interactive, 1).await });
        tokio::time::sleep(Duration::from_millis(5)).await;
        cancelled.abort();
        let _ = cancelled.await;
        assert!(pacer.state().waiting.is_empty());
        // The next waiter is not stuck behind it.
        tokio::time::timeout(
            Duration::from_secs(5),
            pacer.acquire(Priority::Interactive, 3),
        )
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn when_stopping_waiting_digests_are_not_held_behind_replies() {
        let pacer = std::sync::Arc::new(Pacer::new(20, 1));
        pacer.acquire(Priority::Bulk, 1).await;
        let order = std::sync::Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        // A digest waits first, then replies arrive.
        for (i, priority) in [Priority::Bulk, Priority::Interactive, Priority::Interactive]
            .into_iter()
            .enumerate()
        {
            let (p, o) = (pacer.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                p.acquire(priority, 10 + i as i64).await;
                o.lock().unwrap().push(priority);
            }));
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        pacer.stopping();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(order.lock().unwrap()[0], Priority::Bulk);
    }
}
