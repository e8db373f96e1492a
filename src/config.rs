//! Settings from the environment (and `.env`, loaded by `main`). Every variable is documented
//! in `.env.example`; an invalid value stops start-up with a message naming the variable.

use std::collections::HashSet;
use std::env;

use chrono::NaiveTime;
use chrono_tz::Tz;

#[derive(Debug, thiserror::Error)]
#[error("{var}: {message}")]
pub struct ConfigError {
    pub var: &'static str,
    pub message: String,
}

pub(crate) fn bad(var: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        var,
        message: message.into(),
    }
}

/// Everything the bot and the digests need besides the folders (which clap reads).
#[derive(Debug, Clone)]
pub struct Settings {
    pub admin_ids: HashSet<i64>,
    /// Empty: the bot is public.
    pub allowed_chat_ids: HashSet<i64>,
    pub results_per_page: usize,
    pub digest_time: NaiveTime,
    pub default_tz: Tz,
    pub digest_max_items: usize,
    pub digest_send_empty: bool,
    pub seeds_rescan_secs: u64,
    /// Saved searches (/alert) one chat may have.
    pub alerts_per_chat: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            admin_ids: HashSet::new(),
            allowed_chat_ids: HashSet::new(),
            results_per_page: 5,
            digest_time: NaiveTime::from_hms_opt(8, 0, 0).unwrap_or_default(),
            default_tz: chrono_tz::Asia::Shanghai,
            digest_max_items: 10,
            digest_send_empty: false,
            seeds_rescan_secs: 60,
            alerts_per_chat: 10,
        }
    }
}

impl Settings {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Settings, ConfigError> {
        Self::from_lookup(|k| env::var(k).ok())
    }

    /// Reads the settings through `get` (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Settings, ConfigError> {
        let d = Settings::default();
        let get = |k: &str| {
            get(k)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        Ok(Settings {
            admin_ids: id_list("ADMIN_IDS", get("ADMIN_IDS"))?,
            allowed_chat_ids: id_list("ALLOWED_CHAT_IDS", get("ALLOWED_CHAT_IDS"))?,
            results_per_page: number(
                "RESULTS_PER_PAGE",
                get("RESULTS_PER_PAGE"),
                d.results_per_page,
                1..=10,
            )?,
            digest_time: match get("DIGEST_TIME") {
                Some(v) => parse_time(&v)
                    .ok_or_else(|| bad("DIGEST_TIME", format!("{v:?} is not a time like 08:00")))?,
                None => d.digest_time,
            },
            default_tz: match get("DEFAULT_TZ") {
                Some(v) => v.parse().map_err(|_| {
                    bad(
                        "DEFAULT_TZ",
                        format!("{v:?} is not an IANA time zone like Asia/Shanghai"),
                    )
                })?,
                None => d.default_tz,
            },
            digest_max_items: number(
                "DIGEST_MAX_ITEMS",
                get("DIGEST_MAX_ITEMS"),
                d.digest_max_items,
                1..=50,
            )?,
            digest_send_empty: match get("DIGEST_SEND_EMPTY").map(|v| v.to_ascii_lowercase()) {
                None => d.digest_send_empty,
                Some(v) if ["1", "true", "yes", "on"].contains(&v.as_str()) => true,
                Some(v) if ["0", "false", "no", "off"].contains(&v.as_str()) => false,
                Some(v) => {
                    return Err(bad(
                        "DIGEST_SEND_EMPTY",
                        format!("{v:?} is not true or false"),
                    ));
                }
            },
            seeds_rescan_secs: number(
                "SEEDS_RESCAN_SECS",
                get("SEEDS_RESCAN_SECS"),
                d.seeds_rescan_secs as usize,
                1..=86_400,
            )? as u64,
            alerts_per_chat: number(
                "ALERTS_PER_CHAT",
                get("ALERTS_PER_CHAT"),
                d.alerts_per_chat,
                1..=100,
            )?,
        })
    }

    pub fn is_admin(&self, user_id: i64) -> bool {
        self.admin_ids.contains(&user_id)
    }

    /// A chat may use the bot when there is no allowlist or it is on it.
    pub fn chat_allowed(&self, chat_id: i64) -> bool {
        self.allowed_chat_ids.is_empty() || self.allowed_chat_ids.contains(&chat_id)
    }

    /// Whether an allowlist is set (answers then depend on who asks).
    pub fn restricted(&self) -> bool {
        !self.allowed_chat_ids.is_empty()
    }
}

/// `HH:MM` (also `H:MM`, full-width digits and colon).
pub fn parse_time(text: &str) -> Option<NaiveTime> {
    let folded = crate::text::fold(text.trim());
    let (h, m) = folded.split_once(':')?;
    NaiveTime::from_hms_opt(h.parse().ok()?, m.parse().ok()?, 0)
}

fn id_list(var: &'static str, value: Option<String>) -> Result<HashSet<i64>, ConfigError> {
    let Some(value) = value else {
        return Ok(HashSet::new());
    };
    value
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<i64>()
                .map_err(|_| bad(var, format!("{s:?} is not a numeric Telegram id")))
        })
        .collect()
}

fn number(
    var: &'static str,
    value: Option<String>,
    default: usize,
    range: std::ops::RangeInclusive<usize>,
) -> Result<usize, ConfigError> {
    let Some(value) = value else {
        return Ok(default);
    };
    match value.parse::<usize>() {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(bad(
            var,
            format!(
                "{value:?} is not a number from {} to {}",
                range.start(),
                range.end()
            ),
        )),
    }
}

/// The bot token, required by `serve`, never printed.
pub fn token() -> Result<String, ConfigError> {
    match env::var("TELOXIDE_TOKEN") {
        Ok(t) if !t.trim().is_empty() => {
            let t = t.trim().to_owned();
            if !t.contains(':') {
                return Err(bad(
                    "TELOXIDE_TOKEN",
                    "does not look like a bot token (expected 123456:ABC…)",
                ));
            }
            Ok(t)
        }
        _ => Err(bad(
            "TELOXIDE_TOKEN",
            "not set. Get a token from @BotFather and put TELOXIDE_TOKEN=… in the environment or in a .env file \
             next to where you run jianbao (see .env.example). Without a token, try `jianbao chat`.",
        )),
    }
}

/// Optional Bot API server URL (a local server, or a fake one in tests).
pub fn api_url() -> Result<Option<url::Url>, ConfigError> {
    match env::var("TELOXIDE_API_URL") {
        Ok(v) if !v.trim().is_empty() => match url::Url::parse(v.trim()) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(Some(url)),
            // "localhost:8081" parses with the scheme "localhost", and teloxide panics on such
            // a URL at the first request: refuse it here with a message instead.
            Ok(url) => Err(bad(
                "TELOXIDE_API_URL",
                format!(
                    "not an http(s) URL (scheme {:?}); write it like http://127.0.0.1:8081/",
                    url.scheme()
                ),
            )),
            Err(e) => Err(bad("TELOXIDE_API_URL", format!("not a URL: {e}"))),
        },
        _ => Ok(None),
    }
}

/// Removes the token from text that may contain it (error messages, URLs), wherever it appears.
pub fn redact(text: &str, token: &str) -> String {
    if token.is_empty() {
        text.to_owned()
    } else {
        text.replace(token, "<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn with(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_and_values() {
        let s = with(&[]).unwrap();
        assert_eq!(s.results_per_page, 5);
        assert_eq!(s.default_tz, chrono_tz::Asia::Shanghai);
        let s = with(&[
            ("ADMIN_IDS", "1, 2,-3"),
            ("DIGEST_TIME", "７：３０"),
            ("DIGEST_SEND_EMPTY", "yes"),
        ])
        .unwrap();
        assert!(s.is_admin(-3));
        assert_eq!(s.digest_time, NaiveTime::from_hms_opt(7, 30, 0).unwrap());
        assert!(s.digest_send_empty);
    }

    #[test]
    fn invalid_values_name_the_variable() {
        for (k, v) in [
            ("ADMIN_IDS", "abc"),
            ("RESULTS_PER_PAGE", "0"),
            ("DEFAULT_TZ", "Mars/Base"),
            ("DIGEST_TIME", "25:00"),
            ("DIGEST_SEND_EMPTY", "maybe"),
        ] {
            let e = with(&[(k, v)]).unwrap_err();
            assert_eq!(e.var, k);
            assert!(e.to_string().starts_with(k));
        }
    }
}
