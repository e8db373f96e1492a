//! The bot-wide send rate (Telegram: about 30 messages per second) with priorities: a reply
//! to a user goes before digest fan-out traffic, so a search at 08:00 does not queue behind a
//! thousand digests. A plain rate limiter is no queue: every waiter races for the next slot.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Who is sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// A reply to something a user just did.
    Interactive,
    /// Digests: may wait.
    Bulk,
}

/// GCRA pacing: one slot every `period`, up to `burst` at once. With rate r and burst b, no
/// sliding second holds more than r + b sends.
pub struct Pacer {
    period: Duration,
    burst: u32,
    state: Mutex<State>,
}

struct State {
    /// Theoretical arrival time of the next send.
    tat: Instant,
    /// Interactive senders waiting for a slot; bulk senders step aside while any are.
    interactive_waiting: usize,
}

impl Pacer {
    /// `per_second` sends per second on average, `burst` at once.
    pub fn new(per_second: u32, burst: u32) -> Pacer {
        Pacer {
            period: Duration::from_secs(1) / per_second.max(1),
            burst: burst.max(1),
            state: Mutex::new(State {
                tat: Instant::now(),
                interactive_waiting: 0,
            }),
        }
    }

    /// Waits for a slot.
    pub async fn acquire(&self, priority: Priority) {
        let mut registered = false;
        loop {
            let wait = {
                let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
                let now = Instant::now();
                // Bulk sends never use the burst allowance: a user's reply arriving during a
                // fan-out finds it free and goes at once, instead of waiting up to one slot
                // (35.7 ms) behind bulk traffic that keeps the bucket empty. Bulk still gets
                // the full rate, one send per period.
                let tolerance = match priority {
                    Priority::Interactive => self.period * (self.burst - 1),
                    Priority::Bulk => Duration::ZERO,
                };
                let ready = s.tat <= now + tolerance;
                if priority == Priority::Bulk && s.interactive_waiting > 0 {
                    Some(self.period / 2)
                } else if ready {
                    s.tat = s.tat.max(now) + self.period;
                    if registered {
                        s.interactive_waiting -= 1;
                    }
                    None
                } else {
                    if priority == Priority::Interactive && !registered {
                        s.interactive_waiting += 1;
                        registered = true;
                    }
                    Some(s.tat - tolerance - now)
                }
            };
            match wait {
                None => return,
                Some(d) => tokio::time::sleep(d).await,
            }
        }
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
            pacer.acquire(Priority::Bulk).await;
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
                bulk.acquire(Priority::Bulk).await;
            }
        });
        tokio::time::sleep(Duration::from_millis(230)).await;
        let started = Instant::now();
        pacer.acquire(Priority::Interactive).await;
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
        pacer.acquire(Priority::Bulk).await;
        let order = std::sync::Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for i in 0..5 {
            let (p, o) = (pacer.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                p.acquire(Priority::Bulk).await;
                o.lock().unwrap().push(format!("bulk{i}"));
            }));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
        let (p, o) = (pacer.clone(), order.clone());
        tasks.push(tokio::spawn(async move {
            p.acquire(Priority::Interactive).await;
            o.lock().unwrap().push("interactive".to_owned());
        }));
        for t in tasks {
            t.await.unwrap();
        }
        let order = order.lock().unwrap();
        let pos = order.iter().position(|s| s == "interactive").unwrap();
        assert!(pos <= 1, "{order:?}");
    }
}
