//! Per-chat reply queues. A handler hands its replies over and returns at once, so one chat's
//! send pace (about one message a second) never holds teloxide's dispatcher, which would
//! otherwise stop delivering updates to every chat once that chat's worker queue is full.
//!
//! Each chat has a short backlog. A chat that writes faster than it can be answered has its
//! excess dropped before any search runs, with one notice per flood; edits of the same message
//! (page presses) are coalesced into the newest one.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use teloxide::types::MessageId;

use super::{Delivery, Outbox};
use crate::app::Reply;
use crate::service::metrics::metrics;

/// Replies that may wait for one chat. Telegram lets a chat receive about one message a
/// second, so ten queued replies are ten seconds of backlog (a pasted list of queries still
/// gets all its answers): anything beyond that is a flood, not a conversation.
pub const MAX_BACKLOG: usize = 10;

/// Told once to a chat whose messages are being dropped.
pub const FLOOD_NOTICE: &str =
    "消息太多了，我跳过了一部分。请等我回复完再发，或把几个词合成一次搜索。";

/// One thing to deliver to a chat.
#[derive(Debug, Clone)]
pub enum Job {
    Send(Reply),
    Edit(MessageId, Reply),
}

#[derive(Default)]
struct ChatState {
    /// Each job with when its update reached the handler (for the reply latency metric).
    jobs: VecDeque<(Job, Instant)>,
    /// A reply is being delivered right now (it no longer sits in `jobs`).
    busy: bool,
    /// The flood notice is queued or sent for this backlog; cleared when the chat catches up.
    noticed: bool,
}

impl ChatState {
    fn load(&self) -> usize {
        self.jobs.len() + usize::from(self.busy)
    }
}

/// The queues of all chats with something to deliver; a chat's entry goes when it is empty.
pub struct ChatQueues {
    outbox: Arc<Outbox>,
    chats: Mutex<HashMap<i64, ChatState>>,
}

impl ChatQueues {
    pub fn new(outbox: Arc<Outbox>) -> Arc<ChatQueues> {
        Arc::new(ChatQueues {
            outbox,
            chats: Mutex::new(HashMap::new()),
        })
    }

    fn chats(&self) -> MutexGuard<'_, HashMap<i64, ChatState>> {
        self.chats.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether another reply for this chat would still be delivered. Checked before the
    /// (expensive) answer is computed, so a flood costs no searches.
    pub fn has_room(&self, chat_id: i64) -> bool {
        self.chats()
            .get(&chat_id)
            .is_none_or(|s| s.load() < MAX_BACKLOG)
    }

    /// Queues a job. Returns false (and drops it) when the chat's backlog is full; an edit of
    /// a message that already has an edit waiting replaces that edit instead.
    pub fn push(self: &Arc<Self>, chat_id: i64, job: Job) -> bool {
        self.push_received(chat_id, job, Instant::now())
    }

    /// [`ChatQueues::push`] of the answer to an update that reached its handler at `received`.
    pub fn push_received(self: &Arc<Self>, chat_id: i64, job: Job, received: Instant) -> bool {
        let mut chats = self.chats();
        let fresh = !chats.contains_key(&chat_id);
        let state = chats.entry(chat_id).or_default();
        if let Job::Edit(id, reply) = &job {
            let pending = state
                .jobs
                .iter_mut()
                .find(|(j, _)| matches!(j, Job::Edit(other, _) if other == id));
            if let Some((Job::Edit(_, old), _)) = pending {
                *old = reply.clone();
                return true;
            }
        }
        if state.load() >= MAX_BACKLOG {
            return false;
        }
        state.jobs.push_back((job, received));
        if fresh {
            self.spawn_drain(chat_id);
        }
        true
    }

    /// Waits until every queued reply is sent, `within` at most; returns how many were still
    /// queued then (their drain tasks end with the runtime).
    pub async fn settle(&self, within: std::time::Duration) -> usize {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left: usize = self.chats().values().map(ChatState::load).sum();
            if left == 0 || tokio::time::Instant::now() >= deadline {
                return left;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// A message was dropped: tell the chat once per flood. The notice may go past the
    /// backlog limit by one, so the flooder learns why answers stopped.
    pub fn dropped(self: &Arc<Self>, chat_id: i64) {
        let mut chats = self.chats();
        let fresh = !chats.contains_key(&chat_id);
        let state = chats.entry(chat_id).or_default();
        metrics().flood_dropped.inc();
        if state.noticed {
            return;
        }
        state.noticed = true;
        tracing::info!("chat {chat_id}: too many messages, dropping the excess");
        state
            .jobs
            .push_back((Job::Send(Reply::text(FLOOD_NOTICE)), Instant::now()));
        if fresh {
            self.spawn_drain(chat_id);
        }
    }

    /// One task per chat with a backlog: it delivers the jobs in order at the chat's pace
    /// and ends (removing the entry) when the backlog is empty.
    fn spawn_drain(self: &Arc<Self>, chat_id: i64) {
        let queues = self.clone();
        tokio::spawn(async move {
            while let Some((job, received)) = queues.next_job(chat_id) {
                let delivery = match job {
                    Job::Send(reply) => queues.outbox.send(chat_id, &reply).await,
                    Job::Edit(id, reply) => queues.outbox.edit(chat_id, id, &reply).await,
                };
                if matches!(delivery, Delivery::Sent(_)) {
                    metrics()
                        .reply_seconds
                        .observe(received.elapsed().as_secs_f64());
                }
            }
        });
    }

    /// The next job of a chat, or None after removing the chat's empty entry (under the same
    /// lock as `push`, so a job pushed meanwhile starts a new drain task).
    fn next_job(&self, chat_id: i64) -> Option<(Job, Instant)> {
        let mut chats = self.chats();
        let state = chats.get_mut(&chat_id)?;
        match state.jobs.pop_front() {
            Some(job) => {
                state.busy = true;
                Some(job)
            }
            None => {
                chats.remove(&chat_id);
                None
            }
        }
    }
}

/// Work that runs beside a chat's update worker (button presses, inline queries): each costs
/// a network answer, and awaited one after another in the worker a flood of them would fill
/// its queue and block the dispatcher for everybody. Each key (chat or user) may have a few
/// such tasks running; more are dropped (Telegram stops waiting for those answers anyway).
pub struct InFlight {
    max_per_key: usize,
    running: Arc<Mutex<HashMap<i64, usize>>>,
}

/// Ends one task of a key when dropped.
pub struct InFlightGuard {
    key: i64,
    running: Arc<Mutex<HashMap<i64, usize>>>,
}

impl InFlight {
    pub fn new(max_per_key: usize) -> InFlight {
        InFlight {
            max_per_key: max_per_key.max(1),
            running: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// A guard for one more task of `key`, or None when it has its share running.
    pub fn try_start(&self, key: i64) -> Option<InFlightGuard> {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        let n = running.entry(key).or_insert(0);
        if *n >= self.max_per_key {
            return None;
        }
        *n += 1;
        Some(InFlightGuard {
            key,
            running: self.running.clone(),
        })
    }
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = running.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                running.remove(&self.key);
            }
        }
    }
}
