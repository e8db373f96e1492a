//! `jianbao chat`: the bot in a terminal, for people without a token. Same handlers and the
//! same HTML as on Telegram; only the transport differs. `>` and `<` press the page buttons
//! of the last reply; `/press N` presses button N.

use std::io::{BufRead, IsTerminal, Write};

use chrono::Utc;

use crate::app::{App, Button, CallbackOutcome, ChatKind, Incoming, Reply};

/// The console user's chat and user id (a private chat, with admin rights).
pub const CONSOLE_CHAT_ID: i64 = 1;

/// Renders Telegram HTML for a terminal: bold as bold (or plain), links as `text <url>`.
pub fn html_to_terminal(html: &str, color: bool) -> String {
    let mut out = String::new();
    let mut rest = html;
    let mut link: Vec<String> = Vec::new();
    while let Some(lt) = rest.find('<') {
        out.push_str(&decode(&rest[..lt]));
        let Some(gt) = rest[lt..].find('>') else {
            out.push_str(&decode(&rest[lt..]));
            rest = "";
            break;
        };
        let tag = &rest[lt + 1..lt + gt];
        rest = &rest[lt + gt + 1..];
        let name = tag
            .trim_start_matches('/')
            .split_whitespace()
            .next()
            .unwrap_or_default();
        let closing = tag.starts_with('/');
        match (name, closing) {
            ("b" | "strong", false) if color => out.push_str("\x1b[1m"),
            ("b" | "strong", true) if color => out.push_str("\x1b[22m"),
            ("code", false) if color => out.push_str("\x1b[36m"),
            ("code", true) if color => out.push_str("\x1b[39m"),
            ("a", false) => link.push(
                tag.split_once("href=\"")
                    .and_then(|(_, r)| r.split_once('"'))
                    .map(|(u, _)| decode(u))
                    .unwrap_or_default(),
            ),
            ("a", true) => {
                if let Some(url) = link.pop().filter(|u| !u.is_empty()) {
                    out.push_str(&format!(" <{url}>"));
                }
            }
            _ => {}
        }
    }
    out.push_str(&decode(rest));
    out
}

fn decode(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

fn print_reply(reply: &Reply, out: &mut impl Write, color: bool) -> std::io::Result<()> {
    writeln!(out, "{}", html_to_terminal(&reply.html, color))?;
    if let Some(document) = &reply.document {
        // What Telegram would show as an attached file: its name, then its text.
        writeln!(
            out,
            "📎 {}\n{}",
            document.file_name,
            document.content.trim_end()
        )?;
    }
    let all = all_buttons(reply);
    if !all.is_empty() {
        let labels: Vec<String> = all
            .iter()
            .enumerate()
            .map(|(i, b)| {
                format!(
                    "[{}] {}",
                    key_for(b).unwrap_or_else(|| (i + 1).to_string()),
                    b.label
                )
            })
            .collect();
        writeln!(out, "{}", labels.join("   "))?;
    }
    writeln!(out)
}

/// Buttons as they are numbered for `/press N`: the full-text row, then the page row.
fn all_buttons(reply: &Reply) -> Vec<Button> {
    reply
        .read_buttons
        .iter()
        .chain(&reply.buttons)
        .cloned()
        .collect()
}

fn key_for(button: &Button) -> Option<String> {
    if button.label.contains('◀') {
        Some("<".to_owned())
    } else if button.label.contains('▶') {
        Some(">".to_owned())
    } else {
        None
    }
}

/// Runs the console on stdin/stdout until end of input or `/quit`.
pub fn run(app: &App) -> std::io::Result<()> {
    let color = std::io::stdout().is_terminal();
    let interactive = std::io::stdin().is_terminal();
    let mut out = std::io::stdout().lock();
    if interactive {
        writeln!(
            out,
            "简报 chat — 像在 Telegram 私聊里一样输入（/help 查看命令，> 和 < 翻页，/quit 退出）\n"
        )?;
    }
    let mut last_buttons: Vec<Button> = Vec::new();
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    loop {
        if interactive {
            write!(out, "> ")?;
            out.flush()?;
        }
        let Some(line) = lines.next() else { break };
        let line = line?;
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        if text == "/quit" || text == "/exit" {
            break;
        }
        if !interactive {
            writeln!(out, "» {text}")?;
        }
        // `>`, `<` and `/press N` name a button of the last reply; `None`: not a press.
        let pressed = match text {
            ">" | "<" => Some(
                last_buttons
                    .iter()
                    .find(|b| key_for(b).as_deref() == Some(text))
                    .cloned(),
            ),
            _ if text == "/press" || text.starts_with("/press ") => Some(
                text["/press".len()..]
                    .trim()
                    .parse::<usize>()
                    .ok()
                    .and_then(|n| last_buttons.get(n.wrapping_sub(1)).cloned()),
            ),
            _ => None,
        };
        match pressed {
            Some(Some(button)) => {
                match app.handle_callback(CONSOLE_CHAT_ID, ChatKind::Private, &button.data) {
                    CallbackOutcome::Edit(reply) => {
                        print_reply(&reply, &mut out, color)?;
                        last_buttons = all_buttons(&reply);
                    }
                    CallbackOutcome::Notice(notice) => writeln!(out, "（{notice}）\n")?,
                    CallbackOutcome::Send(replies) => {
                        for reply in &replies {
                            print_reply(reply, &mut out, color)?;
                        }
                    }
                }
                continue;
            }
            Some(None) => {
                let note = match (text, last_buttons.len()) {
                    (">" | "<", _) => "没有可以按的翻页按钮".to_owned(),
                    (_, 0) => "上一条回复没有按钮".to_owned(),
                    (_, n) => format!("没有这个按钮：/press 1 到 /press {n}"),
                };
                writeln!(out, "（{note}）\n")?;
                continue;
            }
            None => {}
        }
        let msg = Incoming {
            chat_id: CONSOLE_CHAT_ID,
            kind: ChatKind::Private,
            user_id: CONSOLE_CHAT_ID,
            text: text.to_owned(),
            sender_is_chat_admin: true,
        };
        for reply in app.handle_message(&msg, Utc::now()) {
            print_reply(&reply, &mut out, color)?;
            if !all_buttons(&reply).is_empty() {
                last_buttons = all_buttons(&reply);
            }
        }
        // What the bot's rescan and alert pusher would do meanwhile, for a console chat that
        // has alerts: new files in the folder are indexed, and the matches are shown. (A
        // folder scan per line is not worth it otherwise: ~50 ms for 19,594 files.)
        if app.has_alerts(CONSOLE_CHAT_ID) {
            app.rescan();
            for reply in app.push_alerts_here(CONSOLE_CHAT_ID, Utc::now()) {
                print_reply(&reply, &mut out, color)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_rendering() {
        let html = "1. <b><a href=\"https://a.b/?x=1&amp;y=2\">标题 &lt;T&gt;</a></b>\n<b>词</b>";
        assert_eq!(
            html_to_terminal(html, false),
            "1. 标题 <T> <https://a.b/?x=1&y=2>\n词"
        );
    }
}
