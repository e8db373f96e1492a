//! Inputs found by the cargo-fuzz targets in `fuzz/` (see fuzz/README.md), replayed through
//! the same code paths as ordinary tests so that CI keeps them fixed.

mod support;

use jianbao::search::{self, query};
use support::ram_index::ram_index;
use tantivy::collector::{Count, TopDocs};

/// What `fuzz_targets/seed_reader.rs` checks of a parsed article.
fn assert_clean_article(bytes: &[u8]) {
    let Ok(article) = jianbao::corpus::parse("id", bytes) else {
        return;
    };
    let body = &article.body;
    assert!(!body.contains("预览时标签不可点"), "{body:?}");
    for line in body.lines() {
        let ui = line.trim().trim_start_matches('，');
        assert!(ui != "微信扫一扫" && ui != "轻点两下取消赞", "{body:?}");
        // A complete markdown image `![…](…)`.
        let image = line.find("![").is_some_and(|i| {
            let rest = &line[i + 2..];
            rest.find("](")
                .is_some_and(|j| !rest[..j].contains(']') && rest[j..].contains(')'))
        });
        assert!(!image, "image left in {body:?}");
    }
}

/// seed_reader: removing a bare URL, a tag or emphasis joined the pieces of a markdown image
/// that the image pass had already gone over, and the image was left in the body.
#[test]
fn seed_reader_image_joined_by_later_cleaning() {
    for input in [
        "![http://] ](u)",
        "![a]<i></i>(b)",
        "![a]**(b)",
        "正文![图]__(https://mmbiz.qpic.cn/x.png)正文",
    ] {
        assert_clean_article(input.as_bytes());
    }
    // A second round: unwrapping links and removing tags inside an image's text made another
    // image, after the one extra pass there was then.
    assert_clean_article(
        b"![!<b>c(l)\xa8n(d) !)/**c][(u<b>c(l)\xa8n(d) !)/**c][(u)](l)\xa8n'clWd*[c](d)clo\xf3]d\n[!)](l)\xa8n'clWd*[c](d)clo\xf3]d\n[![i(u])bs",
    );
    // Nested as deep as anyone writes, and deeper.
    assert_clean_article("![![![a](b)](c)](d)".as_bytes());
    assert_clean_article("![[[[a](b)](c)](d)](e)".as_bytes());
}

/// seed_reader (after the parser-based reader): an image written in an indented line, which
/// CommonMark reads as code, was kept as written.
#[test]
fn seed_reader_image_in_an_indented_line() {
    assert_clean_article(b"\x09\x09\x09\x09\x09\x09\x09\x09\x09\x09\x09\x09\x09\x09\x09\x09\x09\x09\x09\x09\xe8\xae\xbf\xe9\x97\xae\xe8\xbf\x87\xe4ry![](yyyyyyyyyyyyyyyyyyyyyA<sk+kkkk Kkkkkkkkkkp(])!()![!]])!];\x9c\xe8??????---y![](yyyyyyyyyyyyyyyyyyyyyA<sk+kkkk Kkkkkkkkkkpan><sp>\x0a<\xe5\x8f\xb7\xe5\xb7\xb2\x9c\xe8?????????????????\xba\x8e\xe9\xa2\x91\xe7\xb9\x81\x09\x09\x09\x09\x09\x09\x5c\x09\x09\x09\x09\x09???\x09\x09\x09\x09\x06\x09\x09\x09\x09???????????????sppan><><sps\x09\x09\x09\x09\x09\x09\x09\x09\x09\x09\x09\x06\x09\x09\x09\x09\x09\x09\x09\x09\x09\x09\x09\x09\x09\x09\x09\x09\x09\x09\x0c4\xef\xbd\x8e](__\x0c--pan>--\x0a-t");
    assert_clean_article(b"\t\t\t\tx![](y)z\n\n```\n![](in-code)\n```");
}

/// seed_reader: an end marker split by a tag (`预览时<span>标签不可点`) was looked for before
/// the tag was removed, so the joined marker and the WeChat UI after it stayed in the body.
#[test]
fn seed_reader_end_marker_joined_by_tag_removal() {
    let crash = b"\n-r\xe9\xa2\x84\xe8\xa7\x88\xe6\x97\xb6<span>\xe6\xa0\x87\xe7\xad\xbe\xe4\xb8\x8d\xe5\x8f\xaf\xe7\x82\xb9u--ltp:/";
    assert_clean_article(crash);
    let page = "---\ntitle: 标题\n---\n正文第一段。\n结尾一句预览时<span>标签不可点</span>\n微信扫一扫\n关注该公众号\n留言区\n";
    let article = jianbao::corpus::parse("id", page.as_bytes()).expect("parses");
    assert_eq!(article.body, "正文第一段。\n结尾一句");
}

/// seed_reader: entities were decoded after trimming, so `微信扫一扫&nbsp;` became the UI line
/// with trailing spaces and was not recognised as one.
#[test]
fn seed_reader_ui_line_with_an_entity_space() {
    assert_clean_article(
        b"---\ntite  T                    ;\t\r\t\turm: \td\nurl\r\t\t2&nbsp;\t\r\t\turl: \t &nbsp;\t\r\xe5\xbe\xae\xe4\xbf\xa1\xe6\x89\xab\xe4\xb8\x80\xe6\x89\xab   &nbsp;\t\r\t\t2&nbsp;\t\rc* u\n\n",
    );
    let page = "---\ntitle: 标题\n---\n正文。\n&nbsp;微信扫一扫&nbsp;\n**轻点两下取消赞**&nbsp;\n";
    let article = jianbao::corpus::parse("id", page.as_bytes()).expect("parses");
    assert_eq!(article.body, "正文。");
}

/// query_parser: an excluded phrase (`-"全球治理"`: two words, so a tantivy `PhraseQuery`) whose
/// first match in a segment comes after the first document the rest of the query matches.
/// tantivy 0.27's exclusion then asks the phrase scorer to seek backwards, which trips a
/// `debug_assert!` in `PhraseScorer::seek_danger`: every debug build (`cargo run -- chat`,
/// `cargo test`) panicked on such a query.
#[test]
fn query_parser_excluded_phrase_after_first_candidate() {
    // One segment, in this order.
    let (searcher, f) = ram_index(&[&[
        "---\ntitle: 第一篇\n---\n人工智能与经济。".as_bytes(),
        "---\ntitle: 第二篇\n---\n人工智能的全球治理。".as_bytes(),
        "---\ntitle: 第三篇\n---\n人工智能。".as_bytes(),
    ]]);
    assert_eq!(searcher.segment_readers().len(), 1);
    for input in [
        "人工智能 -\"全球治理\"",
        "-全球治理 人工智能",
        "人工智能 -\"全球 治理\" -\"人工智能的全球治理\"",
        "source:x -全球治理",
    ] {
        let parsed = query::parse(input);
        let q = search::build_query(&f, &parsed);
        let (top, count) = searcher
            .search(&q, &(TopDocs::with_limit(10).order_by_score(), Count))
            .unwrap();
        if input.starts_with("人工智能") || input.starts_with('-') {
            assert_eq!(count, 2, "{input}: {top:?}");
        }
    }
}
