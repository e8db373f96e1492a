//! Bot commands: the menu and the parser (`/search@BotName words` included).

/// A command with its argument text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Start,
    Help,
    Search(String),
    Latest(String),
    Read(String),
    Stats,
    Reindex,
    Subscribe(String),
    Unsubscribe,
    Subscription,
    Timezone(String),
    Digest,
    Unknown(String),
}

/// The command menu registered with setMyCommands (admin commands are left out).
pub const MENU: &[(&str, &str)] = &[
    ("search", "搜索文章：/search 关键词"),
    ("latest", "最新文章：/latest [数量] [source:来源]"),
    ("read", "阅读全文：/read 编号"),
    ("subscribe", "订阅每日简报：/subscribe [HH:MM] [关键词]"),
    ("subscription", "查看订阅设置"),
    ("unsubscribe", "取消订阅"),
    ("timezone", "设置时区：/timezone Asia/Shanghai"),
    ("digest", "立即查看简报"),
    ("help", "帮助与搜索语法"),
    ("start", "开始"),
];

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
    let args = args.to_owned();
    Some(match name.to_ascii_lowercase().as_str() {
        "start" => Command::Start,
        "help" => Command::Help,
        "search" | "s" => Command::Search(args),
        "latest" | "new" => Command::Latest(args),
        "read" | "full" => Command::Read(args),
        "stats" => Command::Stats,
        "reindex" => Command::Reindex,
        "subscribe" => Command::Subscribe(args),
        "unsubscribe" => Command::Unsubscribe,
        "subscription" => Command::Subscription,
        "timezone" | "tz" => Command::Timezone(args),
        "digest" => Command::Digest,
        _ => Command::Unknown(name.to_owned()),
    })
}

impl Command {
    /// Commands that change a chat's subscription: in groups only its administrators may.
    pub fn changes_subscription(&self) -> bool {
        matches!(
            self,
            Command::Subscribe(_) | Command::Unsubscribe | Command::Timezone(_)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        assert_eq!(
            parse("/search 人工智能", "bot"),
            Some(Command::Search("人工智能".into()))
        );
        assert_eq!(
            parse("/search@Bot 人工 智能", "bot"),
            Some(Command::Search("人工 智能".into()))
        );
        assert_eq!(parse("/search@other_bot x", "bot"), None);
        assert_eq!(parse("/HELP", "bot"), Some(Command::Help));
        assert_eq!(
            parse("/search\n多行", "bot"),
            Some(Command::Search("多行".into()))
        );
        assert_eq!(parse("人工智能", "bot"), None);
        assert_eq!(parse("/", "bot"), Some(Command::Unknown(String::new())));
        assert_eq!(parse("/foo", "bot"), Some(Command::Unknown("foo".into())));
    }
}
