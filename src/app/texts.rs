//! Fixed texts (`/start`, `/help`, the usage hint) and the shaping every reply goes through:
//! quoting the user's input back at a bounded length, and splitting replies longer than
//! Telegram allows.

use super::{App, Reply, command};
use crate::render::{self, escape_html};

/// At most `max` characters of what the user typed, for quoting it back: a reply that echoes
/// a 4,000-character argument would pass Telegram's limit and never arrive.
pub(super) fn echo(text: &str, max: usize) -> String {
    let mut chars = text.chars();
    let mut shown: String = chars.by_ref().take(max).collect();
    if chars.next().is_some() {
        shown.push('…');
    }
    shown
}

/// Every reply within Telegram's 4096 characters: one that is longer (whatever produced it)
/// is split at paragraph or sentence ends; its buttons go with the last part.
pub(super) fn fit_replies(replies: Vec<Reply>) -> Vec<Reply> {
    let mut out = Vec::with_capacity(replies.len());
    for reply in replies {
        if render::visible_len(&reply.html) <= render::TELEGRAM_MAX_CHARS {
            out.push(reply);
            continue;
        }
        let mut parts = render::split_message(&reply.html, render::TELEGRAM_MAX_CHARS);
        let last = parts.pop();
        out.extend(parts.into_iter().map(Reply::text));
        if let Some(last) = last {
            out.push(Reply {
                html: last,
                ..reply
            });
        }
    }
    out
}

pub fn usage_hint() -> String {
    "请在命令后写上要搜索的词，例如：<code>/search 人工智能 治理</code>\n\
     也可以用：<code>\"完整短语\"</code>、<code>-排除词</code>、<code>source:来源</code>、<code>after:2024-07-01</code>、<code>before:2024-08-01</code>"
        .to_owned()
}

impl App {
    /// `/start`.
    pub(super) fn start_reply(&self) -> Reply {
        Reply::text(start_text())
    }

    /// `/help`: the commands (from the command table) and the search syntax.
    pub(super) fn help_reply(&self) -> Reply {
        Reply::text(help_text())
    }
}

fn start_text() -> String {
    "👋 我是<b>简报</b>：搜索收集的中文文章，并每天推送新文章简报。\n\n\
     直接发给我要找的词就能搜索，例如：<code>人工智能 治理</code>\n\
     订阅每日简报：/subscribe 08:00\n\
     全部命令和搜索语法：/help"
        .to_owned()
}

fn help_text() -> String {
    format!(
        "<b>命令</b>\n{}\n{}",
        escape_html(&command::help_lines()),
        SYNTAX_HELP
    )
}

/// The second half of `/help`.
const SYNTAX_HELP: &str = "<b>搜索语法</b>\n\
     <code>人工智能 治理</code> — 按相关度排序，匹配越多越靠前\n\
     <code>\"数字经济\"</code> — 必须包含完整短语\n\
     <code>芯片 -美国</code> — 排除包含某词的文章\n\
     <code>source:新闻联播</code> — 只看某个来源\n\
     <code>after:2024-07-01 before:2024-08-01</code> — 按日期筛选\n\
     繁体、全角字母和大小写都能搜到。\n\n\
     在任何聊天里输入 @机器人名 关键词 可以分享搜索结果。";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::Button;

    #[test]
    fn echoed_input_is_capped() {
        assert_eq!(echo("abc", 5), "abc");
        assert_eq!(echo("上海上海上海", 2), "上海…");
    }

    #[test]
    fn long_replies_are_split_and_keep_their_buttons() {
        let button = Button {
            label: "下一页 ▶".into(),
            data: "p:1:2:2".into(),
        };
        let long = Reply {
            html: format!("<b>标题</b>\n{}", "很长的一段话。".repeat(1500)),
            buttons: vec![button.clone()],
            ..Reply::default()
        };
        let parts = fit_replies(vec![long]);
        assert!(parts.len() > 1);
        for p in &parts {
            assert!(render::visible_len(&p.html) <= render::TELEGRAM_MAX_CHARS);
        }
        assert_eq!(parts.last().map(|p| p.buttons.clone()), Some(vec![button]));
        assert!(
            parts[..parts.len() - 1]
                .iter()
                .all(|p| p.buttons.is_empty())
        );
    }
}
