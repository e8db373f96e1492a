//! Daily digests from the chat: `/subscribe`, `/unsubscribe`, `/subscription`, `/timezone`
//! (with suggestions for a misspelt zone) and `/digest`.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::texts::{echo, usage_hint};
use super::{App, Reply};
use crate::config::parse_time;
use crate::render::escape_html;
use crate::search;
use crate::subscriptions::Subscription;

impl App {
    pub(super) fn subscribe_reply(&self, chat_id: i64, args: &str, now: DateTime<Utc>) -> Reply {
        let mut parts = args.splitn(2, char::is_whitespace);
        let first = parts.next().unwrap_or_default();
        let (time, keywords) = match parse_time(first) {
            Some(t) => (Some(t), parts.next().unwrap_or_default().trim().to_owned()),
            None if first.contains(':') || first.contains('：') => {
                return Reply::text("时间格式不对，请用 HH:MM，例如 /subscribe 07:30");
            }
            None => (None, args.trim().to_owned()),
        };
        let keywords: String = keywords
            .chars()
            .take(search::query::MAX_QUERY_CHARS)
            .collect();
        if !keywords.is_empty() {
            let q = search::query::parse(&keywords);
            if !q.has_words() && !q.has_filters() {
                return Reply::text(format!("关键词里没有可搜索的词。\n{}", usage_hint()));
            }
        }
        match self.subscriptions.subscribe(chat_id, time, &keywords, now) {
            Ok(done) => {
                let verb = if done.updated {
                    "已更新订阅"
                } else {
                    "已订阅每日简报"
                };
                Reply::text(format!(
                    "✅ {verb}。\n{}",
                    self.describe_subscription(&done.subscription, now)
                ))
            }
            Err(e) => {
                tracing::error!("subscribe failed: {e}");
                Reply::text("订阅失败，请稍后再试。")
            }
        }
    }

    pub(super) fn unsubscribe_reply(&self, chat_id: i64) -> Reply {
        match self.subscriptions.unsubscribe(chat_id) {
            Ok(true) => Reply::text("已取消订阅。想再订阅时发送 /subscribe。"),
            Ok(false) => Reply::text("这个聊天没有订阅。发送 /subscribe 订阅每日简报。"),
            Err(e) => {
                tracing::error!("unsubscribe failed: {e}");
                Reply::text("操作失败，请稍后再试。")
            }
        }
    }

    pub(super) fn subscription_reply(&self, chat_id: i64, now: DateTime<Utc>) -> Reply {
        match self.subscriptions.get(chat_id) {
            Ok(Some(s)) if s.enabled => Reply::text(format!(
                "📬 <b>订阅设置</b>\n{}",
                self.describe_subscription(&s, now)
            )),
            Ok(Some(_)) => Reply::text("订阅因多次发送失败已暂停。发送 /subscribe 重新开启。"),
            Ok(None) => {
                Reply::text("这个聊天还没有订阅。发送 /subscribe [HH:MM] [关键词] 订阅每日简报。")
            }
            Err(e) => {
                tracing::error!("subscription lookup failed: {e}");
                Reply::text("出错了，请稍后再试。")
            }
        }
    }

    fn describe_subscription(&self, s: &Subscription, now: DateTime<Utc>) -> String {
        let next = self.subscriptions.next_due_of(s, now).with_timezone(&s.tz);
        let keywords = if s.keywords.is_empty() {
            "（全部文章）".to_owned()
        } else {
            escape_html(&s.keywords)
        };
        format!(
            "时间：每天 {}（{}）\n关键词：{}\n下次推送：{}",
            s.time.format("%H:%M"),
            escape_html(s.tz.name()),
            keywords,
            next.format("%Y-%m-%d %H:%M")
        )
    }

    pub(super) fn timezone_reply(&self, chat_id: i64, name: &str, now: DateTime<Utc>) -> Reply {
        let name = name.trim();
        if name.is_empty() {
            return Reply::text(
                "用法：/timezone 时区名，例如 /timezone Asia/Shanghai 或 /timezone Europe/Berlin",
            );
        }
        let Ok(tz) = Tz::from_str_insensitive(name) else {
            let suggestions = suggest_timezones(name);
            let hint = if suggestions.is_empty() {
                "请使用 IANA 时区名，例如 Asia/Shanghai、Asia/Taipei、Europe/London、America/New_York。".to_owned()
            } else {
                format!(
                    "你是不是想找：{}",
                    suggestions
                        .iter()
                        .map(|s| format!("<code>{}</code>", escape_html(s)))
                        .collect::<Vec<_>>()
                        .join("、")
                )
            };
            return Reply::text(format!(
                "不认识的时区「{}」。{hint}",
                escape_html(&echo(name, 64))
            ));
        };
        match self.subscriptions.set_timezone(chat_id, tz) {
            Ok(true) => {
                let sub = self.subscriptions.get(chat_id).ok().flatten();
                let details = sub
                    .map(|s| self.describe_subscription(&s, now))
                    .unwrap_or_default();
                Reply::text(format!(
                    "✅ 时区已设为 {}。\n{details}",
                    escape_html(tz.name())
                ))
            }
            Ok(false) => Reply::text(format!(
                "✅ 时区已设为 {}。\n这个聊天还没有订阅：发送 /subscribe [HH:MM] 订阅后，简报按这个时区推送。",
                escape_html(tz.name())
            )),
            Err(e) => {
                tracing::error!("timezone update failed: {e}");
                Reply::text("操作失败，请稍后再试。")
            }
        }
    }

    /// `/digest`: what the next digest would hold, now; the schedule and cursor stay as they are.
    pub(super) fn digest_now(&self, chat_id: i64, now: DateTime<Utc>) -> Vec<Reply> {
        match self.subscriptions.preview(chat_id, now) {
            Ok(composed) => composed.parts.into_iter().map(Reply::text).collect(),
            Err(e) => {
                tracing::error!("digest failed: {e}");
                vec![Reply::text("出错了，请稍后再试。")]
            }
        }
    }
}

fn suggest_timezones(input: &str) -> Vec<&'static str> {
    let needle = input.to_ascii_lowercase().replace(' ', "_");
    let city = needle.rsplit('/').next().unwrap_or(&needle).to_owned();
    // The first three characters (not bytes: `ab上海` has no byte 3 boundary).
    let prefix: String = city.chars().take(3).collect();
    let mut found: Vec<&'static str> = chrono_tz::TZ_VARIANTS
        .iter()
        .map(|tz| tz.name())
        .filter(|name| {
            let lower = name.to_ascii_lowercase();
            lower.contains(&needle)
                || (prefix.chars().count() >= 3
                    && lower
                        .rsplit('/')
                        .next()
                        .is_some_and(|c| c.starts_with(&prefix)))
        })
        .collect();
    found.sort_by_key(|n| n.len());
    found.truncate(5);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timezone_suggestions() {
        assert!(suggest_timezones("shanghai").contains(&"Asia/Shanghai"));
        assert!(suggest_timezones("Asia/Shangai").contains(&"Asia/Shanghai"));
    }

    #[test]
    fn timezone_suggestions_take_characters_not_bytes() {
        // Each of these panicked with "byte index 3 is not a char boundary".
        for input in ["ab上海", "aaé", "x/ab上", "上海", "é", "ééé"] {
            let _ = suggest_timezones(input);
        }
        assert!(suggest_timezones("shaé").contains(&"Asia/Shanghai"));
    }
}
