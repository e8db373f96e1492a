//! Saved searches from the chat: `/alert`, `/alerts`, `/unalert`, and the pushes the console
//! shows in place of the Telegram pusher.

use chrono::{DateTime, Utc};

use super::texts::{echo, usage_hint};
use super::{App, Reply};
use crate::alerts::{self, Added};
use crate::render::escape_html;

impl App {
    /// `/alert 关键词`: saves a search; new matching articles are pushed to the chat.
    pub(super) fn alert_reply(&self, chat_id: i64, args: &str, now: DateTime<Utc>) -> Reply {
        if args.trim().is_empty() {
            return Reply::text(
                "用法：/alert 关键词（和 /search 的写法一样），例如 <code>/alert 人工智能 芯片</code>。\n有新文章符合时会立即推送。发送 /alerts 查看已保存的提醒。",
            );
        }
        match self.alerts.add(chat_id, args, now) {
            Ok(Added::Saved { number }) => Reply::text(format!(
                "🔔 已保存提醒 {number}：「{}」。\n之后收录的新文章中含任一关键词的会立即推送给你（已有的文章不推送）。发送 /alerts 查看，/unalert {number} 删除。",
                escape_html(&echo(args.trim(), 80))
            )),
            Ok(Added::Full { limit }) => Reply::text(format!(
                "每个聊天最多保存 {limit} 个提醒。先用 /alerts 查看，再用 /unalert 编号 删除不需要的。"
            )),
            Ok(Added::NoWords) => Reply::text(format!("提醒里没有可搜索的词。\n{}", usage_hint())),
            Err(e) => {
                tracing::error!("alert failed: {e}");
                Reply::text("保存失败，请稍后再试。")
            }
        }
    }

    pub(super) fn alerts_reply(&self, chat_id: i64) -> Reply {
        match self.alerts.list(chat_id) {
            Ok(list) if list.is_empty() => Reply::text(
                "这个聊天还没有提醒。发送 /alert 关键词 保存一个，有新文章符合时立即推送。",
            ),
            Ok(list) => {
                let lines: Vec<String> = list
                    .iter()
                    .enumerate()
                    .map(|(i, a)| format!("{}. {}", i + 1, escape_html(&echo(&a.query, 80))))
                    .collect();
                Reply::text(format!(
                    "🔔 <b>提醒</b>（{} 个）\n{}\n\n删除：/unalert 编号",
                    list.len(),
                    lines.join("\n")
                ))
            }
            Err(e) => {
                tracing::error!("alerts failed: {e}");
                Reply::text("出错了，请稍后再试。")
            }
        }
    }

    pub(super) fn unalert_reply(&self, chat_id: i64, args: &str) -> Reply {
        let Ok(number) = args.trim().parse::<usize>() else {
            return Reply::text("用法：/unalert 编号（/alerts 里的数字），例如 /unalert 1");
        };
        match self.alerts.remove(chat_id, number) {
            Ok(Some(alert)) => Reply::text(format!(
                "已删除提醒 {number}：「{}」。",
                escape_html(&echo(&alert.query, 80))
            )),
            Ok(None) => Reply::text(format!("没有编号为 {number} 的提醒。发送 /alerts 查看。")),
            Err(e) => {
                tracing::error!("unalert failed: {e}");
                Reply::text("操作失败，请稍后再试。")
            }
        }
    }

    /// Whether the chat has saved searches.
    pub fn has_alerts(&self, chat_id: i64) -> bool {
        self.alerts.list(chat_id).is_ok_and(|l| !l.is_empty())
    }

    /// What the alerts would push to `chat_id` now, recorded as sent: the console shows it
    /// after each line (there is no pusher without Telegram).
    pub fn push_alerts_here(&self, chat_id: i64, now: DateTime<Utc>) -> Vec<Reply> {
        let bundles = match self.alerts.pending(Some(chat_id)) {
            Ok(b) => b,
            Err(e) => {
                tracing::error!("alerts: {e}");
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        for bundle in bundles {
            out.extend(alerts::render(&bundle).into_iter().map(Reply::text));
            if let Err(e) = self.alerts.record(chat_id, &bundle, now) {
                tracing::error!("alerts: {e}");
            }
        }
        out
    }
}
