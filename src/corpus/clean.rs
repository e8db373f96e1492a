//! Body cleaning: keep the article's lines, drop the page chrome that scrapers of WeChat
//! public accounts and news sites leave around them (ads, UI words, bylines, title repeats).
//! The rules work on the lines of the document model ([`super::markup`]): markup is already
//! gone, links are kept beside the text.

use std::sync::LazyLock;

use chrono::NaiveDate;
use regex::Regex;

use super::markup::{self, Kind, Line, Link};

/// Once one of these appears in a cleaned line, the article is over and the WeChat page UI
/// begins: the line is kept up to the marker, and nothing after it.
const END_MARKERS: &[&str] = &[
    "预览时标签不可点",
    "微信扫一扫可打开此内容",
    "继续滑动看下一个",
    "向上滑动看下一个",
];

/// The same for two cleaned lines in a row (the QR-code box under an article).
const END_LINE_PAIRS: &[(&str, &str)] = &[("微信扫一扫", "关注该公众号")];

/// Lines that are UI, never content (compared after trimming).
const UI_LINES: &[&str] = &[
    "阅读原文",
    "微信扫一扫",
    "关注该公众号",
    "继续滑动看下一个",
    "轻触阅读原文",
    "向上滑动看下一个",
    "知道了",
    "使用小程序",
    "取消",
    "允许",
    "×",
    "分析",
    "使用完整服务",
    "视频",
    "小程序",
    "赞",
    "在看",
    "分享",
    "留言",
    "收藏",
    "听过",
    "写留言",
    "暂无留言",
    "已无更多数据",
    "喜欢此内容的人还喜欢",
    "，轻点两下取消赞",
    "，轻点两下取消在看",
    "轻点两下取消赞",
    "轻点两下取消在看",
    "预览时标签不可点",
    "点击上方蓝字关注我们",
    "点击蓝字 关注我们",
    "点击蓝字关注我们",
    "END",
    "- END -",
    "—END—",
    "原文链接",
    "往期推荐",
    "推荐阅读",
    "相关阅读",
    "长按识别二维码",
    "长按二维码关注",
];

/// Short lines containing one of these are subscription or promotion ads.
const AD_WORDS: &[&str] = &[
    "扫码订阅",
    "邮发代号",
    "征订热线",
    "欢迎关注",
    "倾力推荐",
    "点击下图",
    "了解详情",
    "扫码关注",
    "长按二维码",
    "识别二维码",
    "点击关注",
    "关注我们",
    "订阅号",
    "抖音号",
    "视频号",
    "投稿邮箱",
    "转载请注明",
    "点击阅读原文",
    // `戳“阅读原文”查看更多内容`, `[点击“阅读原文”了解详情]`: quoted, so not the word above.
    "阅读原文",
    "点个在看",
    "分享网络安全知识",
    "企业成长计划",
];
const AD_LINE_MAX_CHARS: usize = 40;

/// Headings of a list of other articles of the account (`往期回顾` and the titles under it),
/// compared without decoration (`【往期回顾】`, `- 往期推荐 -`).
const RELATED_HEADINGS: &[&str] = &[
    "往期回顾",
    "往期推荐",
    "往期精彩",
    "往期文章",
    "往期精选",
    "推荐阅读",
    "相关阅读",
    "延伸阅读",
    "前情回顾",
    "精彩回顾",
    "精彩推荐",
    "热文推荐",
    "热门文章",
    "历史文章",
    "精选文章",
    "年度精选文章",
    "相关推荐",
    "相关文章",
    "更多精彩",
    "猜你喜欢",
    "近期文章",
    "推荐文章",
    "阅读推荐",
    "往期热文",
    "热文回顾",
    "好文推荐",
    "精彩内容",
];

/// A title in such a list: a line of links, or a short line that is not a sentence.
const RELATED_TITLE_MAX_CHARS: usize = 60;

/// Paid-community ads (`欢迎加入我的知识星球…`), however long: the community's name with
/// one of these words.
const COMMUNITY_AD: (&str, &[&str]) = (
    "知识星球",
    &[
        "加入",
        "付费",
        "扫码",
        "二维码",
        "资料",
        "星球APP",
        "欢迎",
        "星主",
    ],
);

/// A disclaimer under an article (`…拥有对此文章的修改和解释权。如欲转载或传播此文章…`,
/// `由于传播、利用此文所提供的信息而造成的任何直接或者间接的后果及损失…`): a paragraph of at
/// most [`DISCLAIMER_MAX_CHARS`] with two of these phrases. One alone is a sentence an article
/// may well write (a law's `法律责任`, a report on `版权`).
const DISCLAIMER_MARKS: &[&str] = &[
    "修改和解释权",
    "转载或传播",
    "后果及损失",
    "后果和损失",
    "提供任何保证",
    "不为此",
    "仅供安全研究",
    "仅用于学习",
    "仅限于学习",
    "仅供学习",
    "均由使用者",
    "使用者本人负责",
    "不承担任何",
    "由于传播",
    "24小时内删除",
    "与本公众号无关",
    "法律及连带责任",
];
const DISCLAIMER_MAX_CHARS: usize = 400;
/// A heading of such a disclaimer (`**免责声明：**`), dropped with it.
const DISCLAIMER_HEADINGS: &[&str] = &["声明", "免责声明", "版权声明", "特别声明", "法律声明"];

/// The card above a reposted article (`以下文章来源于ISACA ，作者ISACA`), and the lines of
/// the card that follow it (at most this many): the account's name, `，作者…`, and the
/// account's description right after its name (at most [`REPOST_CARD_DESCRIPTION_CHARS`]).
const REPOST_CARD: &str = "以下文章来源于";
const REPOST_CARD_LINES: usize = 3;
const REPOST_CARD_DESCRIPTION_CHARS: usize = 150;

/// A list of other articles of the platform (`[title](https://mp.weixin.qq.com/s?…)`, one a
/// line), whatever its heading says: at least this many such lines in a row.
const RELATED_LINK_RUN: usize = 2;
/// Where a link to another article of the platform points.
const ARTICLE_LINK_HOSTS: &[&str] = &["mp.weixin.qq.com/s"];

/// A call to read the original at the end of a paragraph of a news roundup:
/// `…继续跟踪调查该软件。[点击“阅读原文”查看详情]`.
static READ_MORE_TAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"[\[【]\s*(点击|戳)?\s*[“"]?阅读原文[”"]?[^\]】]{0,12}[\]】]\s*$"#)
        .expect("valid regex")
});

/// Cleans a markdown-ish body into lines separated by `\n` (links as their text).
/// `title` and `source` lines repeated in the body are dropped, and so is a byline.
pub fn clean_body(body: &str, title: &str, source: &str) -> String {
    clean_article(body, title, source).text
}

/// [`clean_body`] with the links, and the date of the byline it removed, if it had one.
pub fn clean_article(body: &str, title: &str, source: &str) -> Cleaned {
    finish(paragraphs(body, title, source))
}

/// A cleaned body: its lines joined by `\n`, and its links (byte ranges of `text`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cleaned {
    pub text: String,
    pub links: Vec<Link>,
    /// The date of the byline removed from the top, if it had one.
    pub byline_date: Option<NaiveDate>,
}

/// The last step: the byline removed (its date kept), the lines joined by `\n`.
pub fn finish(mut lines: Vec<Line>) -> Cleaned {
    let byline_date = strip_byline(&mut lines);
    let mut text = String::with_capacity(lines.iter().map(|l| l.text.len() + 1).sum());
    let mut links = Vec::new();
    for line in lines {
        if !text.is_empty() {
            text.push('\n');
        }
        let at = text.len();
        links.extend(line.links.into_iter().map(|l| Link {
            range: l.range.start + at..l.range.end + at,
            href: l.href,
        }));
        text.push_str(&line.text);
    }
    Cleaned {
        text,
        links,
        byline_date,
    }
}

/// Leading lines examined for a byline.
const MAX_BYLINE_LINES: usize = 6;

/// Marks of an account's own article, written above it (`原创` then the author's name).
const BYLINE_MARKERS: &[&str] = &["原创", "转载", "翻译", "首发", "独家", "原创首发"];

/// `作者：张三`, `来源 | 新华社`, `文/李四`: a role and a name, short.
static ROLE_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(作者|来源|编辑|责编|责任编辑|撰文|撰稿|文|图|图片|出品|策划|审核|审校|校对|记者|通讯员|编译|排版|美编|供稿)\s*[:：|｜/]\s*[^。！？；]{1,40}$",
    )
    .expect("valid regex")
});

/// Someone, a date and maybe a time (`安全客 2023-10-26 18:22`, `作者 公众号 2024-05-06
/// 10:00`), then possibly the first sentence on the same line.
static DATED_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?P<who>[^。！？；，,]{0,30}?)\s*(?P<date>\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?)(?P<time>\s+\d{1,2}:\d{2}(:\d{2})?)?\s*(?P<rest>.*)$",
    )
    .expect("valid regex")
});

/// Removes the byline at the top of the paragraphs and returns its date. The byline is the
/// leading run of short lines (names: `肖茜`, `QAX CERT`), markers (`原创`), role lines
/// (`文 | 清华大学…副院长 肖茜`) and dated lines (`安全客 2023-10-26 18:22`), if the run has a
/// marker, a role line or a date: short lines alone are a heading, not a byline. A line with a
/// sentence ends it: a paragraph that starts with a date (`2024年5月6日，国务院…`) is text.
fn strip_byline(paragraphs: &mut Vec<Line>) -> Option<NaiveDate> {
    let mut date = None;
    let mut signed = false;
    let mut run = 0;
    // Where the first sentence starts, when it shares its line with the byline.
    let mut rest_of_line = None;
    for line in paragraphs.iter().take(MAX_BYLINE_LINES) {
        if line.kind == Kind::Code || line.kind == Kind::Row {
            break;
        }
        let t = line.text.as_str();
        if is_byline_marker(t) || ROLE_LINE.is_match(t) {
            signed = true;
        } else if let Some(c) = DATED_LINE.captures(t)
            && (c.name("time").is_some() || c["rest"].is_empty())
            && !continues_a_sentence(&c["who"])
        {
            signed = true;
            date = date.or_else(|| super::dates::parse_date(&c["date"]));
            let rest = c.name("rest").map_or("", |m| m.as_str());
            if !rest.trim().is_empty() {
                let offset = t.len() - rest.len();
                rest_of_line = Some(offset);
                break;
            }
        } else if !is_short_name(t) {
            break;
        }
        run += 1;
    }
    if !signed {
        return None;
    }
    if let Some(offset) = rest_of_line {
        paragraphs[run].drop_prefix(offset);
        paragraphs[run].trim();
    }
    paragraphs.drain(..run);
    date
}

/// Whether the words before a date end in a way that makes the date part of a sentence
/// (`会议于 2024-05-06 10:00 在北京召开。`), not a byline's.
fn continues_a_sentence(who: &str) -> bool {
    who.trim_end().ends_with([
        '于', '在', '将', '从', '至', '到', '自', '和', '与', '及', '为', '是', '的', '截', '止',
        '已', '共', '每',
    ])
}

/// `原创`, or `原创：张三` / `原创 张三 某公众号` (the names after it short).
fn is_byline_marker(line: &str) -> bool {
    BYLINE_MARKERS.iter().any(|m| {
        line.strip_prefix(m).is_some_and(|rest| {
            rest.is_empty() || rest.starts_with([' ', ':', '：']) && rest.chars().count() <= 30
        })
    })
}

/// A line that can be a name: short, no sentence punctuation.
fn is_short_name(line: &str) -> bool {
    line.chars().count() <= 16 && !line.contains(['。', '！', '？', '，', '；', ','])
}

/// The first step of cleaning: the body parsed into lines ([`markup::parse`]), without the
/// fixed list of chrome and without lines that repeat the title or the source. Learned chrome
/// (`boilerplate`) is removed from these before [`finish`].
pub fn paragraphs(body: &str, title: &str, source: &str) -> Vec<Line> {
    let title_key = compact(title);
    let source_key = compact(source);
    let mut paragraphs: Vec<Line> = Vec::new();
    // The second line of a pair whose first line was the previous one, and its block.
    let mut pair_end: Option<(&str, u32)> = None;
    let mut around = Around::default();
    for mut line in markup::parse(body) {
        // Markers are looked for in the parsed text, so markup cannot hide one: fuzzing found
        // `预览时<span>标签不可点`, joined only once the tag is gone.
        cut_read_more_tail(&mut line);
        if pair_end == Some((line.text.as_str(), line.block)) {
            break;
        }
        pair_end = END_LINE_PAIRS
            .iter()
            .find(|(first, _)| line.text == *first)
            .map(|&(_, second)| (second, line.block));
        let end = END_MARKERS.iter().filter_map(|m| line.text.find(m)).min();
        if let Some(pos) = end {
            line.truncate(pos);
            line.trim();
        }
        // Code is kept as written: `}` is a line of a program, not a leftover of the UI.
        // `around` sees every other line, chrome or not: a list's heading is in the fixed list.
        let keep = line.kind == Kind::Code || !around.drops(&line) && !is_chrome(&line.text);
        let disclaimer = keep && line.kind != Kind::Code && is_disclaimer(&line.text);
        if disclaimer
            && paragraphs
                .last()
                .is_some_and(|p| DISCLAIMER_HEADINGS.contains(&compact(&p.text).as_str()))
        {
            paragraphs.pop();
        }
        if !line.text.is_empty() && keep && !disclaimer {
            push_paragraph(&mut paragraphs, line, &title_key, &source_key);
        }
        if end.is_some() {
            break;
        }
    }
    drop_related_link_runs(&mut paragraphs);
    paragraphs
}

/// Adds a cleaned, non-chrome line unless it only repeats the title or the source.
fn push_paragraph(paragraphs: &mut Vec<Line>, line: Line, title_key: &str, source_key: &str) {
    let key = compact(&line.text);
    let repeats = |k: &str| !k.is_empty() && key == k;
    // Before the first paragraph, a line of a title written over several lines (the heading
    // `# 昨天操作失误…` / `重新给大家发一下。` of a multi-line front-matter title).
    let title_piece =
        paragraphs.is_empty() && key.chars().count() >= 4 && title_key.contains(key.as_str());
    if key.is_empty() || repeats(title_key) || repeats(source_key) || title_piece {
        return;
    }
    paragraphs.push(line);
}

/// Chrome that spans several lines: a related-articles list under its heading, a repost card.
#[derive(Default)]
struct Around {
    /// Inside a related-articles list.
    related: bool,
    /// Inside a repost card.
    card: Option<Card>,
}

/// The rest of a repost card.
struct Card {
    /// Lines still to look at.
    left: usize,
    /// The account it names.
    account: String,
    /// The previous line was the account's name: its description may follow.
    after_name: bool,
}

/// Removes runs of lines that are each a link to another article of the platform (a
/// related-articles list under any heading), with the short heading above the run.
fn drop_related_link_runs(paragraphs: &mut Vec<Line>) {
    let is_article_link = |l: &Line| {
        l.is_only_links()
            && l.links
                .iter()
                .all(|k| ARTICLE_LINK_HOSTS.iter().any(|h| k.href.contains(h)))
    };
    let mut drop = vec![false; paragraphs.len()];
    let mut i = 0;
    while i < paragraphs.len() {
        let run = paragraphs[i..]
            .iter()
            .take_while(|l| is_article_link(l))
            .count();
        if run >= RELATED_LINK_RUN {
            drop[i..i + run].iter_mut().for_each(|d| *d = true);
            if i > 0 && is_short_name(&paragraphs[i - 1].text) && paragraphs[i - 1].links.is_empty()
            {
                drop[i - 1] = true;
            }
        }
        i += run.max(1);
    }
    if drop.contains(&true) {
        let mut flags = drop.into_iter();
        paragraphs.retain(|_| !flags.next().unwrap_or(false));
    }
}

impl Around {
    /// Whether `line` is part of such chrome (the state moves on with each line).
    fn drops(&mut self, line: &Line) -> bool {
        let text = line.text.as_str();
        let compact = compact(text);
        if RELATED_HEADINGS.contains(&compact.as_str()) {
            self.related = true;
            return true;
        }
        if self.related {
            let title = line.is_only_links()
                || text.chars().count() <= RELATED_TITLE_MAX_CHARS
                    && !text.trim_end().ends_with(['。', '！', '？', '；'])
                    && !text.contains('。');
            if title {
                return true;
            }
            self.related = false;
        }
        if let Some(rest) = text.trim_start().strip_prefix(REPOST_CARD) {
            let account: String = rest
                .split([' ', '，', ',', '|'])
                .next()
                .unwrap_or("")
                .trim()
                .to_owned();
            self.card = Some(Card {
                left: REPOST_CARD_LINES,
                account,
                after_name: false,
            });
            return true;
        }
        if let Some(card) = self.card.take() {
            let of_card = is_short_name(text)
                || !card.account.is_empty() && text.contains(&card.account)
                || text
                    .trim_start_matches(['，', ',', ' '])
                    .starts_with("作者");
            let description = card.after_name
                && text.chars().count() <= REPOST_CARD_DESCRIPTION_CHARS
                && !of_card;
            if of_card || description {
                if card.left > 1 && !description {
                    self.card = Some(Card {
                        left: card.left - 1,
                        after_name: compact == self::compact(&card.account),
                        account: card.account,
                    });
                }
                return true;
            }
        }
        let (name, words) = COMMUNITY_AD;
        text.contains(name) && words.iter().any(|w| text.contains(w))
    }
}

/// `…继续跟踪调查该软件。[点击“阅读原文”查看详情]`: the call to read the original goes.
fn cut_read_more_tail(line: &mut Line) {
    if line.text.contains("阅读原文")
        && let Some(m) = READ_MORE_TAIL.find(&line.text)
    {
        let at = m.start();
        line.truncate(at);
        line.trim();
    }
}

/// See [`DISCLAIMER_MARKS`].
fn is_disclaimer(line: &str) -> bool {
    line.contains(['权', '责', '供', '传', '删', '关', '保', '损'])
        && line.chars().count() <= DISCLAIMER_MAX_CHARS
        && DISCLAIMER_MARKS
            .iter()
            .filter(|m| line.contains(*m))
            .count()
            >= 2
}

fn is_chrome(line: &str) -> bool {
    if UI_LINES.contains(&line) {
        return true;
    }
    // A run of lone punctuation (`，` `。` `：`) is left over from the UI's hidden buttons.
    if !line.chars().any(char::is_alphanumeric) {
        return true;
    }
    line.chars().count() <= AD_LINE_MAX_CHARS && AD_WORDS.iter().any(|w| line.contains(w))
}

/// Text without spaces or punctuation, for comparing a line with the title.
fn compact(s: &str) -> String {
    s.chars().filter(|c| c.is_alphanumeric()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean_article(body: &str, title: &str, source: &str) -> (String, Option<NaiveDate>) {
        let c = super::clean_article(body, title, source);
        (c.text, c.byline_date)
    }

    #[test]
    fn bylines_are_not_the_start_of_the_text() {
        let (body, date) = clean_article("原创\n\nQAX CERT\n\n漏洞通告正文。", "t", "奇安信 CERT");
        assert_eq!((body.as_str(), date), ("漏洞通告正文。", None));
        let (body, date) = clean_article(
            "安全客   2023-10-26 18:22 CVE-2023-4966 是一个敏感信息泄露漏洞。",
            "t",
            "s",
        );
        assert_eq!(body, "CVE-2023-4966 是一个敏感信息泄露漏洞。");
        assert_eq!(date, NaiveDate::from_ymd_opt(2023, 10, 26));
        let (body, date) = clean_article(
            "作者 公众号 2024-05-06 10:00\n作者：张三\n来源｜新华社\n正文第一段。",
            "t",
            "s",
        );
        assert_eq!(body, "正文第一段。");
        assert_eq!(date, NaiveDate::from_ymd_opt(2024, 5, 6));
        // The seed's own: the author's name, then `文 | affiliation name`.
        let (body, _) = clean_article(
            "肖茜\n文 | 清华大学人工智能国际治理研究院副院长 肖茜\n第78届联合国大会日前通过决议。",
            "t",
            "s",
        );
        assert_eq!(body, "第78届联合国大会日前通过决议。");
        // Short lines without a marker, a role or a date are a heading: kept.
        let text = "导读\n本文介绍三项新规。";
        assert_eq!(clean_body(text, "t", "s"), text);
        // A paragraph that starts with a date is text.
        let text = "2024年5月6日，国务院召开常务会议。\n会议指出……";
        assert_eq!(clean_article(text, "t", "s"), (text.to_owned(), None));
        // A date inside the first sentence is text.
        let text = "会议于 2024-05-06 10:00 在北京召开。\n会议指出……";
        assert_eq!(clean_article(text, "t", "s"), (text.to_owned(), None));
        // Only at the top.
        let text = "第一段。\n作者：张三";
        assert_eq!(clean_body(text, "t", "s"), text);
    }

    #[test]
    fn a_title_heading_over_several_lines_is_dropped() {
        let body = "# 昨天操作失误，二维码领不了红包封面。\n重新给大家发一下。\n新年快乐！\n\n红包封面在这里领取。\n新年快乐！";
        let cleaned = clean_body(
            body,
            "昨天操作失误，二维码领不了红包封面。 重新给大家发一下。 新年快乐！",
            "汉客儿",
        );
        // The heading goes; a later line that happens to repeat part of the title stays.
        assert_eq!(cleaned, "红包封面在这里领取。\n新年快乐！");
    }

    #[test]
    fn seed_chrome_is_removed() {
        let seed = include_str!("../../seeds/000_0f03e1939e23d3b0.txt");
        let body = seed.split("\n---\n").nth(1).unwrap();
        let cleaned = clean_body(
            body,
            "专家观点 | AI全球治理，应追求“两翼齐飞”",
            "中国信息安全",
        );
        for chrome in [
            "预览时标签不可点",
            "微信扫一扫",
            "轻点两下取消赞",
            "扫码订阅",
            "邮发代号",
            "征订热线",
            "mmbiz",
            "![",
            "](",
            "**",
            "取消\n允许",
            "\n，\n",
            "专家观点 | AI全球治理",
            "点击下图",
            "抖音号",
        ] {
            assert!(
                !cleaned.contains(chrome),
                "chrome {chrome:?} left in:\n{cleaned}"
            );
        }
        assert!(cleaned.contains("第78届联合国大会日前协商一致通过中国主提的加强人工智能"));
        assert!(cleaned.contains("构建公正有效的人工智能全球治理体系。"));
    }

    #[test]
    fn the_article_ends_at_a_marker_however_it_is_written() {
        for (body, expected) in [
            ("正文。\n微信扫一扫\n关注该公众号\n推荐阅读文章", "正文。"),
            (
                "正文。\n**微信扫一扫**<br><span>关注该公众号</span>\n推荐阅读文章",
                "正文。",
            ),
            (
                "正文。\n结尾预览时<span>标签</span>不可点\n推荐阅读文章",
                "正文。\n结尾",
            ),
            ("正文。\n继续滑动看下一个\n推荐阅读文章", "正文。"),
            // Not an end: the pair's lines apart.
            (
                "正文。\n微信扫一扫\n\n关注该公众号\n下一段。",
                "正文。\n下一段。",
            ),
        ] {
            assert_eq!(clean_body(body, "", ""), expected, "{body}");
        }
    }

    #[test]
    fn links_keep_text_and_tags_go() {
        let c = super::clean_article(
            "见[这里](http://x.y/z)和<span style=\"a\">正文</span>",
            "",
            "",
        );
        assert_eq!(c.text, "见这里和正文");
        assert_eq!(c.links[0].href, "http://x.y/z");
        assert_eq!(clean_body("## **小标题**", "", ""), "小标题");
        assert_eq!(clean_body("第一段。\n*张三*", "", ""), "第一段。\n张三");
        assert_eq!(clean_body("A &amp; B &lt;c&gt;", "", ""), "A & B <c>");
        assert_eq!(
            clean_body(
                "研究人员还在继续跟踪调查该软件。[点击“阅读原文”查看详情]",
                "",
                ""
            ),
            "研究人员还在继续跟踪调查该软件。"
        );
    }

    #[test]
    fn a_byline_sharing_its_line_keeps_the_links_of_the_sentence() {
        let c = super::clean_article(
            "安全客 2023-10-26 18:22 详见[公告](https://a.b/c)。\n下一段 https://www.example.com/f 完。",
            "t",
            "s",
        );
        assert_eq!(c.text, "详见公告。\n下一段 https://www.example.com/f 完。");
        assert_eq!(&c.text[c.links[0].range.clone()], "公告");
        assert_eq!(
            &c.text[c.links[1].range.clone()],
            "https://www.example.com/f"
        );
    }

    #[test]
    fn related_lists_repost_cards_and_community_ads_go() {
        let body = "以下文章来源于ISACA ，作者ISACA\nISACA\n享誉全球的专业技术组织ISACA，致力于推动全球技术领域的人才。\n\n\
                    正文第一段。\n\n欢迎加入我的知识星球，我们一起往前走，每日都会更新，微信识别二维码付费即可加入，如不满意，72 小时内可在 App 内无条件退款。\n\n\
                    正文第二段。\n\n**往期回顾**\n\n[一款bp神器](https://mp.weixin.qq.com/s/a)\n\n挖掘有回显ssrf的隐藏payload\n\n\
                    这是一句结语。";
        assert_eq!(
            clean_body(body, "t", "s"),
            "正文第一段。\n正文第二段。\n这是一句结语。"
        );
    }

    #[test]
    fn disclaimers_go_with_their_heading_a_law_does_not() {
        let body = "正文。\n\n**免责声明：**\n\n由于传播、利用此文所提供的信息而造成的任何直接或者间接的后果及损失，均由使用者本人负责。\n\n\
                    第六章 法律责任\n\n违反本法规定的，依法承担法律责任。";
        assert_eq!(
            clean_body(body, "t", "s"),
            "正文。\n第六章 法律责任\n违反本法规定的，依法承担法律责任。"
        );
    }

    #[test]
    fn lists_of_links_to_other_articles_go_references_stay() {
        let body = "正文。\n\n阅读\n\n[甲文](https://mp.weixin.qq.com/s?a=1)\n\n[乙文](https://mp.weixin.qq.com/s?a=2)\n\n\
                    参考\n\n[规范](https://www.rfc-editor.org/rfc/rfc3986)\n\n[草案](https://datatracker.ietf.org/x)";
        assert_eq!(clean_body(body, "t", "s"), "正文。\n参考\n规范\n草案");
        let card = "以下文章来源于ANVA反病毒联盟\n\n**ANVA反病毒联盟**\n\n中国反网络病毒联盟，依托国家互联网应急中心成立。\n\n正文第一段。";
        assert_eq!(clean_body(card, "t", "s"), "正文第一段。");
    }

    #[test]
    fn hostile_lines_do_not_panic() {
        for s in [
            "](", "![", "<", "<<>>", "[]()", "![](", "&", "http://", "#####", "\u{0}",
        ] {
            let _ = clean_body(s, "", "");
        }
    }
}
