//! Body cleaning: keep the article's paragraphs, drop the page chrome that scrapers of WeChat
//! public accounts and news sites leave around them (images, ads, UI words).

use std::borrow::Cow;
use std::sync::LazyLock;

use chrono::NaiveDate;
use regex::Regex;

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

static IMAGE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"!\[[^\]]*\]\([^)]*\)").expect("valid regex"));
static LINK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\[([^\]]*)\]\([^)]*\)").expect("valid regex"));
static TAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"</?[A-Za-z][^<>]*>").expect("valid regex"));
/// A call to read the original at the end of a paragraph of a news roundup:
/// `…继续跟踪调查该软件。[点击“阅读原文”查看详情]`.
static READ_MORE_TAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"[\[【]\s*(点击|戳)?\s*[“"]?阅读原文[”"]?[^\]】]{0,12}[\]】]\s*$"#)
        .expect("valid regex")
});
static BARE_URL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"https?://\S+").expect("valid regex"));

/// Cleans a markdown-ish body into paragraphs separated by `\n`.
/// `title` and `source` lines repeated in the body are dropped, and so is a byline.
pub fn clean_body(body: &str, title: &str, source: &str) -> String {
    clean_article(body, title, source).0
}

/// [`clean_body`], and the date of the byline it removed, if it had one.
pub fn clean_article(body: &str, title: &str, source: &str) -> (String, Option<NaiveDate>) {
    finish(paragraphs(body, title, source))
}

/// The last step: the byline removed (its date returned), the paragraphs joined by `\n`.
pub fn finish(mut paragraphs: Vec<String>) -> (String, Option<NaiveDate>) {
    let date = strip_byline(&mut paragraphs);
    (paragraphs.join("\n"), date)
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
fn strip_byline(paragraphs: &mut Vec<String>) -> Option<NaiveDate> {
    let mut date = None;
    let mut signed = false;
    let mut run = 0;
    // The first sentence, when it shares its line with the byline.
    let mut rest_of_line = None;
    for line in paragraphs.iter().take(MAX_BYLINE_LINES) {
        let t = line.trim();
        if is_byline_marker(t) || ROLE_LINE.is_match(t) {
            signed = true;
        } else if let Some(c) = DATED_LINE.captures(t)
            && (c.name("time").is_some() || c["rest"].is_empty())
            && !continues_a_sentence(&c["who"])
        {
            signed = true;
            date = date.or_else(|| super::dates::parse_date(&c["date"]));
            let rest = c["rest"].trim();
            if !rest.is_empty() {
                rest_of_line = Some(rest.to_owned());
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
    if let Some(rest) = rest_of_line {
        paragraphs[run] = rest;
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

/// The first step of cleaning: the body's lines without markup and without the fixed list of
/// chrome, and without lines that repeat the title or the source. Learned chrome
/// (`boilerplate`) is removed from these before [`finish`].
pub fn paragraphs(body: &str, title: &str, source: &str) -> Vec<String> {
    let title_key = compact(title);
    let source_key = compact(source);
    let mut paragraphs: Vec<String> = Vec::new();
    // The second line of a pair whose first line was the previous one.
    let mut pair_end: Option<&str> = None;
    for raw in body.lines() {
        // Markers are looked for after cleaning, so markup cannot hide one: fuzzing found
        // `预览时<span>标签不可点`, joined only once the tag is removed.
        let mut line = clean_line(raw);
        if pair_end == Some(line.as_str()) {
            break;
        }
        pair_end = END_LINE_PAIRS
            .iter()
            .find(|(first, _)| line == *first)
            .map(|&(_, second)| second);
        let end = END_MARKERS.iter().filter_map(|m| line.find(m)).min();
        if let Some(pos) = end {
            line.truncate(pos);
            line.truncate(line.trim_end().len());
        }
        if !line.is_empty() && !is_chrome(&line) {
            push_paragraph(&mut paragraphs, line, &title_key, &source_key);
        }
        if end.is_some() {
            break;
        }
    }
    paragraphs
}

/// Adds a cleaned, non-chrome line unless it only repeats the title or the source.
fn push_paragraph(paragraphs: &mut Vec<String>, line: String, title_key: &str, source_key: &str) {
    let key = compact(&line);
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

/// Strips markdown images, links (keeping their text), HTML tags, bare URLs, emphasis and
/// heading markers from one line.
fn clean_line(raw: &str) -> String {
    // Entities first, then trimming: `微信扫一扫&nbsp;` is the UI line with a space after it
    // (found by fuzzing).
    let mut line = html_unescape(&strip_markup(raw));
    if line.contains("阅读原文")
        && let Some(m) = READ_MORE_TAIL.find(&line)
    {
        line.truncate(m.start());
    }
    // A line in italics (`*2024-05-06 10:00*`, `*张三*`) is its text.
    let line = line
        .trim()
        .trim_start_matches('#')
        .trim_start_matches('>')
        .trim();
    match line.strip_prefix('*').and_then(|l| l.strip_suffix('*')) {
        Some(inner) if !inner.is_empty() => inner.trim().to_owned(),
        _ => line.to_owned(),
    }
}

/// Passes over a line at most: markup nested deeper than this is left as text.
const MAX_MARKUP_PASSES: usize = 16;

/// Removes markup until none is left. One pass can put together what another pass then
/// matches: fuzzing (seed_reader) found images joined by removing a tag, a bare URL or
/// emphasis (`![a]<i></i>(b)`, `![a]**(b)`, `![http://] ](u)`) and by unwrapping a link inside
/// an image's text. Every pass that changes the line makes it shorter, so this ends.
fn strip_markup(raw: &str) -> Cow<'_, str> {
    let mut line = Cow::Borrowed(raw);
    for _ in 0..MAX_MARKUP_PASSES {
        let before = line.len();
        if line.contains("](") {
            replace_all(&mut line, &IMAGE, "");
            replace_all(&mut line, &LINK, "$1");
        }
        if line.contains('<') {
            replace_all(&mut line, &TAG, "");
        }
        if line.contains("http") {
            replace_all(&mut line, &BARE_URL, "");
        }
        if line.contains("**") || line.contains("__") {
            line = line.replace("**", "").replace("__", "").into();
        }
        if line.len() == before {
            break;
        }
    }
    line
}

/// `re.replace_all` in place, copying the line only when something matched.
fn replace_all(line: &mut Cow<'_, str>, re: &Regex, with: &str) {
    if let Cow::Owned(replaced) = re.replace_all(line, with) {
        *line = Cow::Owned(replaced);
    }
}

fn html_unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    s.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
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
                "正文。\n**微信扫一扫**\n<p>关注该公众号</p>\n推荐阅读文章",
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
        assert_eq!(
            clean_line("见[这里](http://x.y/z)和<span style=\"a\">正文</span>"),
            "见这里和正文"
        );
        assert_eq!(clean_line("## **小标题**"), "小标题");
        assert_eq!(clean_line("*2024-05-06 10:00*"), "2024-05-06 10:00");
        assert_eq!(clean_line("A &amp; B &lt;c&gt;"), "A & B <c>");
        assert_eq!(
            clean_line("研究人员还在继续跟踪调查该软件。[点击“阅读原文”查看详情]"),
            "研究人员还在继续跟踪调查该软件。"
        );
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
