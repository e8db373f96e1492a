//! Running as a service: how updates arrive (long polling or a webhook), the health and
//! metrics endpoints, and the log format. Read from the environment by `serve`; nothing here
//! knows the conversation.

pub mod health;
pub mod metrics;

use std::net::SocketAddr;

use crate::config::{ConfigError, bad};

/// Where Telegram's updates come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Updates {
    /// `getUpdates` long polling (the default); any webhook is deleted first.
    Polling,
    /// Telegram posts them to `url`; the bot listens on `listen` and takes only posts that
    /// carry `secret`.
    Webhook(Webhook),
}

#[derive(Clone, PartialEq, Eq)]
pub struct Webhook {
    /// The public https URL Telegram posts to; its path is the path listened on.
    pub url: url::Url,
    pub listen: SocketAddr,
    pub secret: String,
}

impl std::fmt::Debug for Webhook {
    // The secret stays out of logs and error messages.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("url", &self.url.as_str())
            .field("listen", &self.listen)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// For people: one line per event.
    Text,
    /// One JSON object per line, for journald, Loki and the like.
    Json,
}

/// The service settings of `serve`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub updates: Updates,
    /// `/healthz` and `/metrics` listen here; off when unset.
    pub metrics_listen: Option<SocketAddr>,
}

impl Service {
    pub fn from_env() -> Result<Service, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Service, ConfigError> {
        let get = |k: &str| {
            get(k)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let updates = match get("WEBHOOK_URL") {
            None => Updates::Polling,
            Some(url) => {
                Updates::Webhook(webhook(&url, get("WEBHOOK_LISTEN"), get("WEBHOOK_SECRET"))?)
            }
        };
        let metrics_listen = get("METRICS_LISTEN")
            .map(|a| address("METRICS_LISTEN", &a))
            .transpose()?;
        Ok(Service {
            updates,
            metrics_listen,
        })
    }
}

/// `LOG_FORMAT`: `text` (default) or `json`.
pub fn log_format(value: Option<&str>) -> Result<LogFormat, ConfigError> {
    match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        None | Some("") | Some("text") => Ok(LogFormat::Text),
        Some("json") => Ok(LogFormat::Json),
        Some(other) => Err(bad(
            "LOG_FORMAT",
            format!("{other:?} is not a log format (text or json)"),
        )),
    }
}

fn webhook(
    url: &str,
    listen: Option<String>,
    secret: Option<String>,
) -> Result<Webhook, ConfigError> {
    let url = url::Url::parse(url).map_err(|e| bad("WEBHOOK_URL", format!("not a URL: {e}")))?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
        return Err(bad(
            "WEBHOOK_URL",
            "must be the public https URL Telegram posts to, like https://bot.example.com/telegram",
        ));
    }
    let listen = listen.ok_or_else(|| {
        bad(
            "WEBHOOK_LISTEN",
            "required with WEBHOOK_URL: the address:port to listen on, like 0.0.0.0:8443",
        )
    })?;
    let listen = address("WEBHOOK_LISTEN", &listen)?;
    let secret = secret.ok_or_else(|| {
        bad(
            "WEBHOOK_SECRET",
            "required with WEBHOOK_URL: 1-256 characters of A-Z, a-z, 0-9, _ and -; Telegram sends it with every update",
        )
    })?;
    let valid = (1..=256).contains(&secret.len())
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !valid {
        return Err(bad(
            "WEBHOOK_SECRET",
            "must be 1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule)",
        ));
    }
    Ok(Webhook {
        url,
        listen,
        secret,
    })
}

fn address(var: &'static str, text: &str) -> Result<SocketAddr, ConfigError> {
    text.parse().map_err(|_| {
        bad(
            var,
            format!("{text:?} is not an address:port like 127.0.0.1:9090 or 0.0.0.0:8443"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn with(pairs: &[(&str, &str)]) -> Result<Service, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Service::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn polling_and_no_metrics_by_default() {
        let s = with(&[]).unwrap();
        assert_eq!(s.updates, Updates::Polling);
        assert_eq!(s.metrics_listen, None);
    }

    #[test]
    fn a_webhook_needs_an_address_and_a_valid_secret() {
        let url = ("WEBHOOK_URL", "https://bot.example.com/tg/hook");
        let listen = ("WEBHOOK_LISTEN", "0.0.0.0:8443");
        assert_eq!(with(&[url]).unwrap_err().var, "WEBHOOK_LISTEN");
        assert_eq!(with(&[url, listen]).unwrap_err().var, "WEBHOOK_SECRET");
        for bad_secret in ["has space", "ünïcode", &"a".repeat(257)] {
            let e = with(&[url, listen, ("WEBHOOK_SECRET", bad_secret)]).unwrap_err();
            assert_eq!(e.var, "WEBHOOK_SECRET");
            assert!(!e.to_string().contains(bad_secret), "{e}");
        }
        let s = with(&[url, listen, ("WEBHOOK_SECRET", "s3cret_-X")]).unwrap();
        let Updates::Webhook(w) = s.updates else {
            panic!("a webhook")
        };
        assert_eq!(w.url.path(), "/tg/hook");
        assert!(!format!("{w:?}").contains("s3cret"));
        assert_eq!(
            with(&[("WEBHOOK_URL", "ftp://x")]).unwrap_err().var,
            "WEBHOOK_URL"
        );
        assert_eq!(
            with(&[("METRICS_LISTEN", "9090")]).unwrap_err().var,
            "METRICS_LISTEN"
        );
    }

    #[test]
    fn log_formats() {
        assert_eq!(log_format(None).unwrap(), LogFormat::Text);
        assert_eq!(log_format(Some("JSON")).unwrap(), LogFormat::Json);
        assert_eq!(log_format(Some("xml")).unwrap_err().var, "LOG_FORMAT");
    }
}
