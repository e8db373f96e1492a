//! Bot commands, each declared once in [`COMMANDS`]: its name and aliases, its arguments, its
//! help line, its menu entry, who may use it, and its handler. The parser, `/help`, Telegram's
//! command menu and the dispatch all read that table, so a new command is one entry here (and
//! the `App` method it calls).

use chrono::{DateTime, Utc};

use super::{App, Incoming, Reply};

/// What a command does with the message, its argument text and the time.
pub type Handler = fn(&App, &Incoming, &str, DateTime<Utc>) -> Vec<Reply>;

/// Who may use a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Anyone,
    /// The bot's administrators (ADMIN_IDS).
    BotAdmins,
    /// In a group, its administrators: the command changes the chat's subscription.
    ChatAdmins,
}

/// One command.
pub struct Spec {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    /// Written after the name in `/help` (`[HH:MM] [关键词]`).
    pub args: &'static str,
    /// The `/help` line (`None`: not listed).
    pub help: Option<&'static str>,
    /// Telegram's command menu (`None`: not in the menu).
    pub menu: Option<&'static str>,
    pub access: Access,
    /// Still answered in a chat removed from ALLOWED_CHAT_IDS (a revoked chat may leave:
    /// `/unsubscribe`, and list and remove its alerts).
    pub when_revoked: bool,
    pub handler: Handler,
}

impl std::fmt::Debug for Spec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "/{}", self.name)
    }
}

/// Specs are static: one is the same command as another when it has the same name.
impl PartialEq for Spec {
    fn eq(&self, other: &Spec) -> bool {
        self.name == other.name
    }
}

impl Eq for Spec {}

const fn spec(name: &'static str, handler: Handler) -> Spec {
    Spec {
        name,
        aliases: &[],
        args: "",
        help: None,
        menu: None,
        access: Access::Anyone,
        when_revoked: false,
        handler,
    }
}

/// Every command, in the order of `/help` and the menu.
pub static COMMANDS: &[Spec] = &[
    Spec {
        aliases: &["s"],
        args: "关键词",
        help: Some("搜索（私聊里直接发文字也可以）"),
        menu: Some("搜索文章：/search 关键词"),
        ..spec("search", |app, msg, args, now| {
            vec![app.search_reply(msg.chat_id, args, now)]
        })
    },
    Spec {
        aliases: &["new"],
        args: "[数量] [source:来源]",
        help: Some("最新文章"),
        menu: Some("最新文章：/latest [数量] [source:来源]"),
        ..spec("latest", |app, _, args, _| app.latest_reply(args))
    },
    Spec {
        aliases: &["full"],
        args: "编号",
        help: Some("阅读全文（编号是每篇文章后的 #数字；搜索结果下的 📄 按钮也可以）"),
        menu: Some("阅读全文：/read 编号"),
        ..spec("read", |app, msg, args, _| app.read_replies(args, msg.kind))
    },
    Spec {
        args: "[HH:MM] [关键词]",
        help: Some("订阅每日简报（可只推送含任一关键词的文章）"),
        menu: Some("订阅每日简报：/subscribe [HH:MM] [关键词]"),
        access: Access::ChatAdmins,
        ..spec("subscribe", |app, msg, args, now| {
            vec![app.subscribe_reply(msg.chat_id, args, now)]
        })
    },
    Spec {
        help: Some("查看订阅和下次推送时间"),
        menu: Some("查看订阅设置"),
        ..spec("subscription", |app, msg, _, now| {
            vec![app.subscription_reply(msg.chat_id, now)]
        })
    },
    Spec {
        aliases: &["tz"],
        args: "时区",
        help: Some("例如 /timezone Asia/Taipei"),
        menu: Some("设置时区：/timezone Asia/Shanghai"),
        access: Access::ChatAdmins,
        ..spec("timezone", |app, msg, args, now| {
            vec![app.timezone_reply(msg.chat_id, args, now)]
        })
    },
    Spec {
        args: "关键词",
        help: Some("保存提醒：新文章符合时立即推送（写法同 /search）"),
        menu: Some("新文章提醒：/alert 关键词"),
        access: Access::ChatAdmins,
        ..spec("alert", |app, msg, args, now| {
            vec![app.alert_reply(msg.chat_id, args, now)]
        })
    },
    Spec {
        help: Some("查看已保存的提醒"),
        menu: Some("查看提醒"),
        when_revoked: true,
        ..spec("alerts", |app, msg, _, _| {
            vec![app.alerts_reply(msg.chat_id)]
        })
    },
    Spec {
        args: "编号",
        help: Some("删除一个提醒"),
        menu: Some("删除提醒：/unalert 编号"),
        access: Access::ChatAdmins,
        when_revoked: true,
        ..spec("unalert", |app, msg, args, _| {
            vec![app.unalert_reply(msg.chat_id, args)]
        })
    },
    Spec {
        help: Some("立即查看简报"),
        menu: Some("立即查看简报"),
        ..spec("digest", |app, msg, _, now| {
            app.digest_now(msg.chat_id, now)
        })
    },
    Spec {
        help: Some("取消订阅"),
        menu: Some("取消订阅"),
        access: Access::ChatAdmins,
        when_revoked: true,
        ..spec("unsubscribe", |app, msg, _, _| {
            vec![app.unsubscribe_reply(msg.chat_id)]
        })
    },
    Spec {
        menu: Some("帮助与搜索语法"),
        ..spec("help", |app, _, _, _| vec![app.help_reply()])
    },
    Spec {
        menu: Some("开始"),
        ..spec("start", |app, _, _, _| vec![app.start_reply()])
    },
    Spec {
        access: Access::BotAdmins,
        ..spec("stats", |app, _, _, _| vec![app.stats_reply()])
    },
    Spec {
        access: Access::BotAdmins,
        ..spec("reindex", |app, _, _, _| vec![app.reindex_reply()])
    },
];

/// A command for this bot, with its argument text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Known(&'static Spec, String),
    /// `/whatever`: named, but not one of ours.
    Unknown(String),
}

impl Command {
    /// Who may use it (an unknown command: anyone, to be told it is unknown).
    pub fn access(&self) -> Access {
        match self {
            Command::Known(spec, _) => spec.access,
            Command::Unknown(_) => Access::Anyone,
        }
    }

    /// Commands that change a chat's subscription: in groups only its administrators may.
    pub fn changes_subscription(&self) -> bool {
        self.access() == Access::ChatAdmins
    }

    pub fn when_revoked(&self) -> bool {
        matches!(self, Command::Known(spec, _) if spec.when_revoked)
    }
}

/// The command menu registered with setMyCommands.
pub fn menu() -> impl Iterator<Item = (&'static str, &'static str)> {
    COMMANDS
        .iter()
        .filter_map(|s| s.menu.map(|text| (s.name, text)))
}

/// The `/help` lines of the commands, `/name args — help`.
pub fn help_lines() -> String {
    COMMANDS
        .iter()
        .filter_map(|s| {
            let help = s.help?;
            let args = if s.args.is_empty() {
                String::new()
            } else {
                format!(" {}", s.args)
            };
            Some(format!("/{}{args} — {help}\n", s.name))
        })
        .collect()
}

/// Parses a message as a command. `None`: not a command, or a command for another bot.
pub fn parse(text: &str, bot_username: &str) -> Option<Command> {
    let text = text.trim_start();
    let rest = text.strip_prefix('/')?;
    let (head, args) = match rest.find(char::is_whitespace) {
        Some(i) => (&rest[..i], rest[i..].trim()),
        None => (rest, ""),
    };
    let (name, target) = match head.split_once('@') {
        Some((name, target)) => (name, Some(target)),
        None => (head, None),
    };
    if let Some(target) = target
        && !target.eq_ignore_ascii_case(bot_username.trim_start_matches('@'))
    {
        return None;
    }
    let lower = name.to_ascii_lowercase();
    Some(
        match COMMANDS
            .iter()
            .find(|s| s.name == lower || s.aliases.contains(&lower.as_str()))
        {
            Some(spec) => Command::Known(spec, args.to_owned()),
            None => Command::Unknown(name.to_owned()),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(name: &str, args: &str) -> Option<Command> {
        let spec = COMMANDS.iter().find(|s| s.name == name)?;
        Some(Command::Known(spec, args.to_owned()))
    }

    #[test]
    fn forms() {
        assert_eq!(
            parse("/search 人工智能", "bot"),
            known("search", "人工智能")
        );
        assert_eq!(
            parse("/search@Bot 人工 智能", "bot"),
            known("search", "人工 智能")
        );
        assert_eq!(parse("/search@other_bot x", "bot"), None);
        assert_eq!(parse("/HELP", "bot"), known("help", ""));
        assert_eq!(parse("/search\n多行", "bot"), known("search", "多行"));
        assert_eq!(
            parse("/tz Asia/Taipei", "bot"),
            known("timezone", "Asia/Taipei")
        );
        assert_eq!(parse("人工智能", "bot"), None);
        assert_eq!(parse("/", "bot"), Some(Command::Unknown(String::new())));
        assert_eq!(parse("/foo", "bot"), Some(Command::Unknown("foo".into())));
    }

    #[test]
    fn names_are_unique_and_valid_for_telegram() {
        let mut seen = std::collections::HashSet::new();
        for s in COMMANDS {
            for name in std::iter::once(&s.name).chain(s.aliases) {
                assert!(seen.insert(*name), "/{name} declared twice");
                // Telegram: 1-32 characters, lowercase letters, digits and underscores.
                assert!(
                    !name.is_empty()
                        && name.len() <= 32
                        && name
                            .bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                    "/{name}"
                );
            }
            // Admin commands stay out of the menu and the help.
            if s.access == Access::BotAdmins {
                assert!(s.menu.is_none() && s.help.is_none(), "/{}", s.name);
            }
        }
        assert!(help_lines().contains("/read 编号 — 阅读全文"));
        assert!(menu().any(|(name, _)| name == "unsubscribe"));
    }
}
