//! Arbitrary file bytes → `corpus::parse`: never panics; an article's body has no WeChat page
//! chrome and no markdown image left.
//!
//! What "no chrome" means (README, "Seed files"): "预览时标签不可点" ends the article, so it never
//! appears in a body; "微信扫一扫" and "轻点两下取消赞" are UI lines, so no paragraph *is* one
//! (an article may well say "用微信扫一扫下方二维码"). "No image" means no complete `![alt](url)`:
//! a lone `![` that opens no image is text as written.
//!
//! Then boilerplate learning (`corpus::boilerplate`): the page's candidate lines are counted
//! as if its source had posted it `SENTENCE_MIN_FILES` (10) times, so every one of them is
//! learned, long sentences included (they need that many), and the page is
//! read again with that set. It must parse again, and no learned line is left in its body,
//! unless the guard kept the text whole (then the body is the first one) or the line is the
//! article's structure (a table row of several cells, or a line followed by another line: text,
//! or structure itself; README, "Structure is not chrome").
//!
//! Links (`Article::links`) lie within the body, on character boundaries, in order.
#![no_main]

use std::sync::LazyLock;

use jianbao::corpus::boilerplate::{self, Chrome, LineStats};
use libfuzzer_sys::fuzz_target;
use regex::Regex;

static IMAGE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"!\[[^\]]*\]\([^)]*\)").unwrap());

fuzz_target!(|data: &[u8]| {
    let Ok(parsed) = jianbao::corpus::parse_with("id", data, &Chrome::none()) else {
        return;
    };
    if let Some(lines) = &parsed.lines {
        let mut stats = LineStats::default();
        for _ in 0..boilerplate::SENTENCE_MIN_FILES {
            stats.add(lines);
        }
        let chrome = stats.learned();
        let again = jianbao::corpus::parse_with("id", data, &chrome).expect("parses again");
        let body = &again.article.body;
        if *body != parsed.article.body {
            let learned = |line: &str| {
                boilerplate::line_key(line).is_some_and(|k| chrome.contains(lines.source, k))
            };
            let body_lines: Vec<&str> = body.lines().collect();
            // From the end: a learned line may stay when it is a table row, or leads to a line
            // that is text or itself stayed (a heading over a sub-heading over text).
            let mut leads = false;
            for line in body_lines.iter().rev() {
                let row = line.contains(jianbao::corpus::markup::CELL_SEPARATOR);
                assert!(
                    !learned(line) || row || leads,
                    "learned line {line:?} left in body {body:?}"
                );
                leads = true;
            }
        }
    }
    let article = parsed.article;
    let body = &article.body;
    assert!(
        !body.contains("预览时标签不可点"),
        "end marker left in body {body:?}"
    );
    for line in body.lines() {
        let ui = line.trim().trim_start_matches('，');
        assert!(
            ui != "微信扫一扫" && ui != "轻点两下取消赞",
            "chrome line {line:?} left in body {body:?}"
        );
        assert!(
            !IMAGE.is_match(line),
            "image {line:?} left in body {body:?}"
        );
    }
    let mut end = 0;
    for link in &article.links {
        assert!(link.range.start >= end, "links overlap: {:?}", article.links);
        assert!(
            body.get(link.range.clone()).is_some_and(|t| !t.is_empty()),
            "link {link:?} outside body {body:?}"
        );
        end = link.range.end;
    }
    // Front matter fields are made single-line (`one_line`): they go into one-line UI.
    for field in [&article.title, &article.source, &article.url] {
        assert!(!field.contains('\n'), "line break in {field:?}");
    }
});
