//! Webhook mode: Telegram posts updates to `WEBHOOK_URL`. teloxide's axum webhook registers it
//! (`setWebhook` with the secret) and turns posts into updates; a guard in front of it takes
//! only what Telegram would send:
//! - a POST carrying `X-Telegram-Bot-Api-Secret-Token` equal to `WEBHOOK_SECRET` (else 401,
//!   compared in constant time, never processed);
//! - a body of at most [`MAX_UPDATE_BYTES`] (else 413) that is an update (else 400; the body
//!   is not logged, as teloxide would);
//! - an `update_id` not seen lately: Telegram re-posts an update it got no answer for, and a
//!   replay must not be handled twice (answered 200, dropped).

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use teloxide::prelude::*;
use teloxide::update_listeners::UpdateListener;
use teloxide::update_listeners::webhooks;

use crate::config::redact;
use crate::service::Webhook;

/// Updates are small (a message is at most 4,096 characters); a body larger than this is not
/// one.
pub const MAX_UPDATE_BYTES: usize = 256 * 1024;

/// Update ids remembered to refuse replays.
const REMEMBERED_UPDATES: usize = 10_000;

/// Registers the webhook and returns the update listener, the future that ends when the
/// listener is stopped (and deletes the webhook), and the guarded router to serve.
pub async fn listener(
    bot: &Bot,
    hook: &Webhook,
    token: &str,
) -> anyhow::Result<(
    impl UpdateListener<Err = std::convert::Infallible> + use<>,
    impl std::future::Future<Output = ()> + Send + use<>,
    Router,
)> {
    let options =
        webhooks::Options::new(hook.listen, hook.url.clone()).secret_token(hook.secret.clone());
    let (listener, stopped, router) = webhooks::axum_to_router(bot.clone(), options)
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "setWebhook failed: {}",
                redact(&redact(&e.to_string(), token), &hook.secret)
            )
        })?;
    let guard = Arc::new(Guard {
        secret: hook.secret.clone(),
        seen: Mutex::new(Seen::default()),
    });
    let router = router.layer(axum::middleware::from_fn_with_state(guard, check));
    tracing::info!(
        "webhook set: Telegram posts to {} (listening on {})",
        hook.url,
        hook.listen
    );
    Ok((listener, stopped, router))
}

struct Guard {
    secret: String,
    seen: Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    ids: HashSet<i64>,
    order: VecDeque<i64>,
}

impl Seen {
    /// Records `id`; false when it was seen already.
    fn first_time(&mut self, id: i64) -> bool {
        if !self.ids.insert(id) {
            return false;
        }
        self.order.push_back(id);
        if self.order.len() > REMEMBERED_UPDATES
            && let Some(old) = self.order.pop_front()
        {
            self.ids.remove(&old);
        }
        true
    }
}

async fn check(State(guard): State<Arc<Guard>>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let given = request
        .headers()
        .get("x-telegram-bot-api-secret-token")
        .map(|v| v.as_bytes().to_vec());
    if !given.is_some_and(|g| same(&g, guard.secret.as_bytes())) {
        tracing::warn!("webhook: a post without the right secret token, refused");
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_UPDATE_BYTES).await else {
        tracing::warn!("webhook: a body over {MAX_UPDATE_BYTES} bytes, refused");
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let update_id = match serde_json::from_slice::<Update>(&bytes) {
        Ok(update) => update.id.0,
        Err(e) => {
            tracing::warn!(
                "webhook: a body of {} bytes that is not an update ({}), refused",
                bytes.len(),
                e.classify_name()
            );
            return StatusCode::BAD_REQUEST.into_response();
        }
    };
    let first = guard
        .seen
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .first_time(i64::from(update_id));
    if !first {
        tracing::info!("webhook: update {update_id} delivered again; already handled");
        return StatusCode::OK.into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// Constant-time comparison (the secret must not leak through timing).
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

trait Classify {
    fn classify_name(&self) -> &'static str;
}

impl Classify for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "unreadable",
            serde_json::error::Category::Syntax => "not JSON",
            serde_json::error::Category::Data => "not an update",
            serde_json::error::Category::Eof => "cut short",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replays_are_seen_and_memory_is_bounded() {
        let mut seen = Seen::default();
        assert!(seen.first_time(1));
        assert!(!seen.first_time(1));
        for id in 2..(REMEMBERED_UPDATES as i64 + 10) {
            seen.first_time(id);
        }
        assert!(seen.ids.len() <= REMEMBERED_UPDATES);
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"ab", b"abc"));
    }
}
