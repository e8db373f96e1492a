//! Pages that are not an article: what a scraper saved when the article was deleted, the
//! account blocked, or the site answered with an anti-bot check; and pages whose scrape kept
//! nothing but the title and the like-bar.
//!
//! Such a page is kept by its title (its date and URL still say that the article existed) and
//! marked as having no text: its body is not indexed, never an excerpt or a digest line, and a
//! reply shows [`TextState::marker`] instead.

/// Whether an article has text, and if not, why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TextState {
    #[default]
    Text,
    /// The scrape kept only the title (and page chrome).
    TitleOnly,
    /// The article was deleted by its author or the platform.
    Deleted,
    /// Blocked: a rules violation, complaints, a banned account.
    Blocked,
    /// The site answered with a verification or anti-bot page.
    Verification,
}

/// A status page is short: the message, a link or two, chrome. A longer body that quotes one
/// of the messages is an article about it.
const MAX_STATUS_CHARS: usize = 200;

/// Messages of status pages (WeChat's own wording, and the common ones of other platforms),
/// compared with whitespace removed.
const MESSAGES: &[(&str, TextState)] = &[
    ("该内容已被发布者删除", TextState::Deleted),
    ("此内容已被发布者删除", TextState::Deleted),
    ("该内容已被删除", TextState::Deleted),
    ("此内容已被删除", TextState::Deleted),
    ("该文章已被删除", TextState::Deleted),
    ("此文章已被删除", TextState::Deleted),
    ("内容已删除", TextState::Deleted),
    ("此内容因违规无法查看", TextState::Blocked),
    ("内容因违规无法查看", TextState::Blocked),
    ("此内容被多人投诉", TextState::Blocked),
    ("涉嫌违反相关法律法规和政策", TextState::Blocked),
    ("该公众号已被屏蔽", TextState::Blocked),
    ("此帐号已被屏蔽", TextState::Blocked),
    ("此账号已被屏蔽", TextState::Blocked),
    ("该账号已被封禁", TextState::Blocked),
    ("此帐号已被封禁", TextState::Blocked),
    ("该内容暂时无法查看", TextState::Blocked),
    ("当前环境异常", TextState::Verification),
    ("完成验证后即可继续访问", TextState::Verification),
    ("请完成安全验证", TextState::Verification),
    ("请输入验证码", TextState::Verification),
    ("访问过于频繁", TextState::Verification),
    ("操作过于频繁", TextState::Verification),
];

impl TextState {
    /// What a reply shows in place of the excerpt (empty for an article with text).
    pub fn marker(self) -> &'static str {
        match self {
            TextState::Text => "",
            TextState::TitleOnly => "（仅标题，正文未收录）",
            TextState::Deleted => "（原文已被删除，仅存标题）",
            TextState::Blocked => "（原文已无法查看，仅存标题）",
            TextState::Verification => "（抓取时遇到验证页面，正文未收录）",
        }
    }

    /// Its number in the index (a fast field).
    pub fn code(self) -> u64 {
        match self {
            TextState::Text => 0,
            TextState::TitleOnly => 1,
            TextState::Deleted => 2,
            TextState::Blocked => 3,
            TextState::Verification => 4,
        }
    }

    pub fn from_code(code: u64) -> TextState {
        match code {
            1 => TextState::TitleOnly,
            2 => TextState::Deleted,
            3 => TextState::Blocked,
            4 => TextState::Verification,
            _ => TextState::Text,
        }
    }

    /// A short name for logs and summaries.
    pub fn name(self) -> &'static str {
        match self {
            TextState::Text => "text",
            TextState::TitleOnly => "title only",
            TextState::Deleted => "deleted",
            TextState::Blocked => "blocked",
            TextState::Verification => "verification page",
        }
    }
}

/// The state of a cleaned body: no letter or digit at all is a title-only page; a short body
/// with a status message is that status; anything else is text.
pub fn classify(body: &str) -> TextState {
    let compact: String = body
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '\u{200b}'..='\u{200d}' | '\u{feff}'))
        .collect();
    if !compact.chars().any(char::is_alphanumeric) {
        return TextState::TitleOnly;
    }
    if compact.chars().count() <= MAX_STATUS_CHARS
        && let Some((_, state)) = MESSAGES.iter().find(|(m, _)| compact.contains(m))
    {
        return *state;
    }
    TextState::Text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_pages_empty_pages_and_articles() {
        assert_eq!(
            classify("该内容已被发布者删除\n微信公众平台运营中心"),
            TextState::Deleted
        );
        assert_eq!(
            classify("环境异常\n当前环境异常，完成验证后即可继续访问。\n去验证"),
            TextState::Verification
        );
        assert_eq!(classify("此内容因违规无法查看"), TextState::Blocked);
        assert_eq!(classify("：\n，\n，\n。"), TextState::TitleOnly);
        assert_eq!(classify(""), TextState::TitleOnly);
        assert_eq!(classify("\u{a0}\u{200b}\u{3000}"), TextState::TitleOnly);
        // An article that quotes a message is an article.
        let article = format!(
            "平台治理报告指出，{}部分文章显示“该内容已被发布者删除”。",
            "违规内容的处置流程包括审核、通知和申诉。".repeat(10)
        );
        assert_eq!(classify(&article), TextState::Text);
        assert_eq!(classify("短讯：今天开会。"), TextState::Text);
    }

    #[test]
    fn codes_round_trip() {
        for s in [
            TextState::Text,
            TextState::TitleOnly,
            TextState::Deleted,
            TextState::Blocked,
            TextState::Verification,
        ] {
            assert_eq!(TextState::from_code(s.code()), s);
            assert_eq!(s.marker().is_empty(), s == TextState::Text);
        }
    }
}
