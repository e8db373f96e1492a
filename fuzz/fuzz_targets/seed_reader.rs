//! Arbitrary file bytes → `corpus::parse`: never panics; an article's body has no WeChat page
//! chrome and no markdown image left.
//!
//! What "no chrome" means (README, "Seed files"): "预览时标签不可点" ends the article, so it never
//! appears in a body; "微信扫一扫" and "轻点两下取消赞" are UI lines, so no paragraph *is* one
//! (an article may well say "用微信扫一扫下方二维码"). "No image" means no complete `![alt](url)`:
//! a lone `![` that opens no image is text as written.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use regex::Regex;

static IMAGE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"!\[[^\]]*\]\([^)]*\)").unwrap());

fuzz_target!(|data: &[u8]| {
    let Ok(article) = jianbao::corpus::parse("id", data) else {
        return;
    };
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
    // Front matter fields are made single-line (`one_line`): they go into one-line UI.
    for field in [&article.title, &article.source, &article.url] {
        assert!(!field.contains('\n'), "line break in {field:?}");
    }
});
