//! Pages that are not an article: what a scraper saved when the article was deleted, the
//! account blocked, or the site answered with an anti-bot check; and pages whose scrape kept
//! nothing but the title and the like-bar.
//!
//! Such a page is kept by its title (its date and URL still say that the article existed) and
//! marked as having no text: its body is not indexed, never an excerpt or a digest line, and a
//! reply shows [`TextState::marker`] instead.

/// Whether an article has text, and if not, why. The discriminant is its number in the
/// index (a fast field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(u64)]
pub enum TextState {
    #[default]
    Text = 0,
    /// The scrape kept only the title (and page chrome).
    TitleOnly = 1,
    /// The article was deleted by its author or the platform.
    Deleted = 2,
    /// Blocked: a rules violation, complaints, a banned account.
    Blocked = 3,
    /// The site answered with a verification or anti-bot page.
    Verification = 4,
}

const ALL: [TextState; 5] = [
    TextState::Text,
    TextState::TitleOnly,
    TextState::Deleted,
    TextState::Blocked,
    TextState::Verification,
];

/// A status page is short: the message, a link or two, chrome. A longer body that quotes one
/// of the messages is an article about it.
const MAX_STATUS_CHARS: usize = 200;

/// Messages of status pages (WeChat's own wording, and the common ones of other platforms),
/// compared with whitespace removed. `该内容…` and `此内容…` both contain `内容…`.
const MESSAGES: &[(&str, TextState)] = &[
    ("内容已被发布者删除", TextState::Deleted),
    ("内容已被删除", TextState::Deleted),
    ("文章已被删除", TextState::Deleted),
    ("内容已删除", TextState::Deleted),
    ("内容因违规无法查看", TextState::Blocked),
    ("内容被多人投诉", TextState::Blocked),
    ("涉嫌违反相关法律法规和政策", TextState::Blocked),
    ("号已被屏蔽", TextState::Blocked),
    ("号已被封禁", TextState::Blocked),
    ("内容暂时无法查看", TextState::Blocked),
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

    /// Its number in the index.
    pub fn code(self) -> u64 {
        self as u64
    }

    /// The state of a number from the index; an unknown number is text.
    pub fn from_code(code: u64) -> TextState {
        ALL.into_iter()
            .find(|s| s.code() == code)
            .unwrap_or_default()
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

fn is_space(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{200b}'..='\u{200d}' | '\u{feff}')
}

/// The state of a cleaned body: no letter or digit at all is a title-only page; a short body
/// with a status message is that status; anything else is text. A long body is decided
/// without copying it: this runs on every article indexed.
pub fn classify(body: &str) -> TextState {
    classify_chars(|| body.chars())
}

/// [`classify`] of the paragraphs a body is joined from, without joining them.
pub fn classify_paragraphs<P: AsRef<str>>(paragraphs: &[P]) -> TextState {
    classify_chars(|| paragraphs.iter().flat_map(|p| p.as_ref().chars()))
}

fn classify_chars<I: Iterator<Item = char>>(chars: impl Fn() -> I) -> TextState {
    if !chars().any(char::is_alphanumeric) {
        return TextState::TitleOnly;
    }
    if chars()
        .filter(|c| !is_space(*c))
        .nth(MAX_STATUS_CHARS)
        .is_some()
    {
        return TextState::Text;
    }
    let compact: String = chars().filter(|c| !is_space(*c)).collect();
    MESSAGES
        .iter()
        .find(|(m, _)| compact.contains(m))
        .map_or(TextState::Text, |(_, state)| *state)
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
        let page = [
            "该内容已被发布者删除".to_owned(),
            "微信公众平台运营中心".to_owned(),
        ];
        assert_eq!(classify_paragraphs(&page), TextState::Deleted);
    }

    #[test]
    fn codes_round_trip() {
        for s in ALL {
            assert_eq!(TextState::from_code(s.code()), s);
            assert_eq!(TextState::from_code(99), TextState::Text);
            assert_eq!(s.marker().is_empty(), s == TextState::Text);
        }
    }
}
