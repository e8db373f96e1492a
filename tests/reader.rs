//! The reader on pages as scrapers write them: HTML tables whose cells must not glue, URLs in
//! Chinese sentences whose text must stay, template headings that must survive learned
//! chrome; and the promise that search never reports missing what the collection holds.

mod support;

use std::path::Path;

use jianbao::corpus;
use jianbao::fulltext;
use jianbao::index::SearchIndex;
use jianbao::search::{self, SearchOptions};
use proptest::prelude::*;
use support::cli::{run as jianbao, search_json, stdout};

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("write page");
}

/// An advisory as the table-heavy scrapers write it: an HTML table of label and value cells,
/// ids glued by the old reader (`CNNVD-…` next to `CVE-…` in neighbouring cells).
fn advisory(n: usize) -> String {
    format!(
        "---\ntitle: 第{n}号漏洞通告\nurl: https://cert.example/{n}\nsource: 某安全应急响应中心\ndate: 2024-09-{:02}\n---\n\n\
         # 第{n}号漏洞通告\n\n漏洞概述\n\n<table><tbody>\
         <tr><td><strong>漏洞名称</strong></td><td>组件{n}释放后重用漏洞</td></tr>\
         <tr><td>漏洞编号</td><td>QVD-2024-{:05},CVE-2024-{:05}</td></tr>\
         <tr><td>CNNVD-202203-{:04}</td><td>CVE-2022-{:04}</td><td>高危</td></tr>\
         <tr><th>Important</th><th>Windows</th><td>CVE-2024-{:05}</td><td>Windows&nbsp;Common Log File System</td></tr>\
         </tbody></table>\n\n官方补丁下载地址：\n\nhttps://patch.example.com/advisory/{n}\n",
        n % 28 + 1,
        38000 + n,
        43000 + n,
        1800 + n,
        1000 + n,
        49000 + n,
    )
}

/// Every id of every advisory is found, its own advisory first, and none is reported
/// missing; ids that are in no advisory are.
#[test]
fn ids_in_html_tables_are_found_and_absent_ids_are_flagged() {
    let seeds = tempfile::tempdir().expect("seeds");
    let data = tempfile::tempdir().expect("data");
    let (s, d) = (seeds.path(), data.path());
    for n in 0..12 {
        write(s, &format!("adv{n:02}.md"), &advisory(n));
    }
    assert!(jianbao(s, d, &["index"]).status.success());
    for n in 0..12 {
        for id in [
            format!("QVD-2024-{:05}", 38000 + n),
            format!("CVE-2024-{:05}", 43000 + n),
            format!("CNNVD-202203-{:04}", 1800 + n),
            format!("CVE-2022-{:04}", 1000 + n),
            format!("CVE-2024-{:05}", 49000 + n),
        ] {
            let v = search_json(s, d, &id);
            assert_eq!(v["missing"], serde_json::json!([]), "{id}: {v}");
            assert_eq!(v["hits"][0]["id"], format!("adv{n:02}"), "{id}: {v}");
            let excerpt = v["hits"][0]["excerpt"].as_str().expect("excerpt");
            assert!(!excerpt.contains("1821CVE"), "glued cells: {excerpt}");
        }
    }
    let v = search_json(s, d, "CVE-2031-99999");
    assert_eq!(v["missing"], serde_json::json!(["CVE-2031-99999"]), "{v}");

    // The archived text: rows with their cells apart, the bare patch link kept.
    let show = stdout(&jianbao(s, d, &["show", "adv03"]));
    assert!(
        show.contains("漏洞编号 | QVD-2024-38003,CVE-2024-43003"),
        "{show}"
    );
    assert!(
        show.contains("CNNVD-202203-1803 | CVE-2022-1003 | 高危"),
        "{show}"
    );
    assert!(show.contains("漏洞名称 | 组件3释放后重用漏洞"), "{show}");
    assert!(
        show.contains("官方补丁下载地址：\n\n<https://patch.example.com/advisory/3>"),
        "{show}"
    );
}

const URL_LINES: &str = "对http://www.a.com进行端口扫描之类的攻击行为已经没用了。\n\
代码修正了https://www.shielder.com/blog/2023/a-tale/中在解密MasterKey时的Bug，更具通用性\n\
POC可以在https://github.com/xpn/WAMBam上找到。\n\n参考链接：\n\nhttps://nvd.nist.gov/vuln/detail/CVE-2023-1234\n";

/// Text glued after a URL stays, in the index and in the archived text, where the URL is a
/// link; the URL's host and path pieces are searchable.
#[test]
fn text_around_urls_is_kept_and_urls_are_findable() {
    let seeds = tempfile::tempdir().expect("seeds");
    let data = tempfile::tempdir().expect("data");
    let (s, d) = (seeds.path(), data.path());
    write(
        s,
        "urls.md",
        &format!("---\ntitle: 一篇技术文章\nsource: 技术号\n---\n\n{URL_LINES}"),
    );
    write(
        s,
        "other.md",
        "---\ntitle: 另一篇\n---\n\n这是另一篇文章的正文，和网址无关。\n",
    );
    assert!(jianbao(s, d, &["index"]).status.success());
    for query in [
        "\"进行端口扫描之类的攻击行为\"",
        "\"中在解密MasterKey时的Bug\"",
        "\"上找到\"",
        "WAMBam",
        "github.com/xpn",
        "shielder.com",
    ] {
        let v = search_json(s, d, query);
        assert_eq!(v["hits"][0]["id"], "urls", "{query}: {v}");
        assert_eq!(v["missing"], serde_json::json!([]), "{query}: {v}");
    }
    let show = stdout(&jianbao(s, d, &["show", "urls"]));
    for line in [
        "对<http://www.a.com>进行端口扫描之类的攻击行为已经没用了。",
        "代码修正了<https://www.shielder.com/blog/2023/a-tale/>中在解密MasterKey时的Bug，更具通用性",
        "POC可以在<https://github.com/xpn/WAMBam>上找到。",
        "参考链接：",
        "<https://nvd.nist.gov/vuln/detail/CVE-2023-1234>",
    ] {
        assert!(show.contains(line), "{line} not in:\n{show}");
    }
}

/// A source's template repeats its banner, its section headings and its table header: the
/// banner is learned and goes, the headings and the header row stay in the archived text.
#[test]
fn template_headings_survive_where_a_learned_banner_does_not() {
    let seeds = tempfile::tempdir().expect("seeds");
    let data = tempfile::tempdir().expect("data");
    let (s, d) = (seeds.path(), data.path());
    for n in 0..8 {
        let page = format!(
            "---\ntitle: 周报第{n}期\nsource: 模板号\n---\n\n本站内容自动备份仅供学习交流\n\n\
             一、漏洞概述\n\n本期第{n}个漏洞影响组件{n}号，攻击者可以远程执行代码。\n\n\
             | 组件 | 影响版本 | 安全版本 |\n| --- | --- | --- |\n| 组件{n} | < {n}.0 | >= {n}.1 |\n\n\
             修复建议\n\n请升级组件{n}到最新版本，并检查第{n}号日志。\n\n参考链接：\n\nhttps://vendor.example/{n}\n\n\
             本站内容自动备份仅供学习交流\n"
        );
        write(s, &format!("w{n}.md"), &page);
    }
    let out = jianbao(s, d, &["index"]);
    assert!(out.status.success());
    let show = stdout(&jianbao(s, d, &["show", "w5"]));
    assert!(!show.contains("本站内容自动备份"), "banner kept:\n{show}");
    for kept in [
        "一、漏洞概述",
        "组件 | 影响版本 | 安全版本",
        "修复建议",
        "参考链接：",
        "<https://vendor.example/5>",
    ] {
        assert!(show.contains(kept), "{kept} lost:\n{show}");
    }
}

/// Pages with tables, lists, links and URLs inside sentences, for the property below.
fn generated_page(n: usize, words: &[String]) -> String {
    let w = |i: usize| words[(n * 7 + i) % words.len()].as_str();
    format!(
        "---\ntitle: 生成{n}\nsource: 源{}\n---\n\n{}{}https://ex{n}.example.com/p/{}{}。\n\n\
         <table><tr><td>{}</td><td>CVE-2025-{:05}</td><td>{}</td></tr><tr><th>KB50{:05}</th><td>{}</td></tr></table>\n\n\
         - {}{}\n- [{}](https://link.example/{n})\n\n| {} | {} |\n| --- | --- |\n| XVE-2025-{:04} | {} |\n",
        n % 3,
        w(0),
        w(1),
        w(2),
        w(3),
        w(4),
        10000 + n,
        w(5),
        n,
        w(6),
        w(7),
        w(8),
        w(9),
        w(10),
        w(11),
        n,
        w(12),
    )
}

/// The terms a user could copy from an article's text: its ids, and the CJK runs between
/// punctuation (typed as one unit), cut to at most 8 characters.
fn terms_of(text: &str) -> Vec<String> {
    let mut terms = Vec::new();
    let id = regex::Regex::new(r"(?i)\b(cve|kb|xve|cnvd|cnnvd|qvd)-?\d[\d-]*\d").expect("re");
    terms.extend(id.find_iter(text).map(|m| m.as_str().to_owned()));
    for run in text.split(|c: char| !jianbao::text::is_cjk(c)) {
        let chars: Vec<char> = run.chars().collect();
        if chars.len() >= 2 {
            terms.push(chars.iter().take(8).collect());
        }
    }
    terms
}

/// Asserts that no term drawn from the indexed articles' text is reported missing.
fn assert_nothing_denied(seeds: &Path, data: &Path, most: usize) {
    let index = SearchIndex::open(data).expect("open");
    index.sync(seeds, None).expect("sync");
    let mut checked = 0;
    let mut files = corpus::scan(seeds).expect("scan");
    files.truncate(most);
    for file in &files {
        // The text as indexed (learned chrome removed), as the bot hands it over.
        let stem = file.key.trim_end_matches(".txt").trim_end_matches(".md");
        let Some(article) = fulltext::find(&index, stem).expect("find") else {
            continue;
        };
        for term in terms_of(&article.body).into_iter().take(6) {
            let r = search::search(&index, &term, &SearchOptions::default()).expect("search");
            assert!(
                r.missing.is_empty(),
                "{term:?} from {} reported missing: {:?}",
                file.key,
                r.missing
            );
            checked += 1;
        }
    }
    assert!(checked > 0, "no term checked");
}

/// Never deny what is there: ids, words and typed runs from generated pages with tables.
#[test]
fn terms_from_generated_pages_are_never_reported_missing() {
    let words: Vec<String> = [
        "网络安全",
        "数据跨境",
        "漏洞通告",
        "补丁更新",
        "远程代码执行",
        "人工智能",
        "治理体系",
        "应急响应",
        "供应链",
        "勒索软件",
        "零日漏洞",
        "身份认证",
        "访问控制",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let seeds = tempfile::tempdir().expect("seeds");
    let data = tempfile::tempdir().expect("data");
    for n in 0..24 {
        write(
            seeds.path(),
            &format!("g{n:02}.md"),
            &generated_page(n, &words),
        );
    }
    assert_nothing_denied(seeds.path(), data.path(), usize::MAX);
}

/// The same over the real WeChat scrapes, when they are beside the checkout (or
/// `JIANBAO_WECHAT_CORPUS` names them).
#[test]
fn terms_from_real_scrapes_are_never_reported_missing() {
    let corpus = std::env::var_os("JIANBAO_WECHAT_CORPUS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/wechat"));
    if !corpus.is_dir() {
        eprintln!("{} not found, not run", corpus.display());
        return;
    }
    let data = tempfile::tempdir().expect("data");
    assert_nothing_denied(&corpus, data.path(), 150);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever follows a URL on a line is in the body and in the indexed text.
    #[test]
    fn text_after_a_url_is_indexed(
        before in "[\\u{4e00}-\\u{9fa5}]{0,6}",
        path in "[a-z0-9/_.-]{0,12}",
        after in "[\\u{4e00}-\\u{9fa5}]{1,8}[。，）」]?[\\u{4e00}-\\u{9fa5}a-z]{0,6}",
    ) {
        let page = format!("---\ntitle: t\n---\n\n{before}https://host.example.com/{path}{after}\n");
        let article = corpus::parse("x", page.as_bytes()).expect("parses");
        let tail: String = after.chars().skip_while(|c| !jianbao::text::is_cjk(*c)).collect();
        prop_assert!(article.body.contains(&tail), "{:?} lost from {:?}", tail, article.body);
        prop_assert!(article.indexed_body().contains(&tail));
        prop_assert!(!article.indexed_body().contains("https://"));
    }
}

/// Two folders may each hold a `news.txt`: ids are paths without the extension, unique, and
/// `show` accepts what search prints.
#[test]
fn the_same_file_name_in_two_folders_is_two_articles() {
    let seeds = tempfile::tempdir().expect("seeds");
    let data = tempfile::tempdir().expect("data");
    let (s, d) = (seeds.path(), data.path());
    for (dir, text) in [("a", "甲地的水稻丰收。"), ("b", "乙地的水稻减产。")] {
        std::fs::create_dir(s.join(dir)).expect("dir");
        write(
            &s.join(dir),
            "news.txt",
            &format!("---\ntitle: {dir}地新闻\nurl: https://example.com/{dir}\n---\n\n{text}\n"),
        );
    }
    assert!(jianbao(s, d, &["index"]).status.success());
    let v = search_json(s, d, "水稻");
    let mut ids: Vec<&str> = v["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|h| h["id"].as_str().expect("id"))
        .collect();
    ids.sort();
    assert_eq!(ids, ["a/news", "b/news"], "{v}");
    assert!(stdout(&jianbao(s, d, &["show", "a/news"])).contains("甲地的水稻丰收"));
    assert!(stdout(&jianbao(s, d, &["show", "b/news"])).contains("乙地的水稻减产"));
}

/// A source that posts the same short notice again and again keeps it: the notice is learned
/// as a recurring line, but it is all there is of each article, so it stays their text.
#[test]
fn a_source_repeating_one_short_notice_keeps_it() {
    let seeds = tempfile::tempdir().expect("seeds");
    let data = tempfile::tempdir().expect("data");
    let (s, d) = (seeds.path(), data.path());
    let notice = "本周六上午九点至十一点系统维护，期间暂停办理线上业务，请提前安排。";
    for n in 0..6 {
        write(
            s,
            &format!("n{n}.md"),
            &format!(
                "---\ntitle: 维护通知{n}\nsource: 某服务中心\nurl: https://notice.example/{n}\n---\n\n{notice}\n"
            ),
        );
    }
    for n in 0..6 {
        write(
            s,
            &format!("o{n}.md"),
            &format!(
                "---\ntitle: 其他{n}\nsource: 另一来源\n---\n\n第{n}篇其他文章的正文，讲的是别的事情。\n"
            ),
        );
    }
    assert!(jianbao(s, d, &["index"]).status.success());
    let show = stdout(&jianbao(s, d, &["show", "n3"]));
    assert!(show.contains(notice), "{show}");
    assert!(!show.contains("仅标题"), "{show}");
    let v = search_json(s, d, "\"暂停办理线上业务\"");
    assert_eq!(v["total"], 6, "{v}");
}

/// Files planted under made-up sources, each repeating a sentence of another source's article,
/// make that sentence a line learned across sources; a long sentence is chrome only where its
/// own source repeats it, so the victim's article keeps it (before: 19 planted files removed
/// it from the index and from `show`).
#[test]
fn planted_files_cannot_censor_a_sentence_of_another_source() {
    let seeds = tempfile::tempdir().expect("seeds");
    let data = tempfile::tempdir().expect("data");
    let (s, d) = (seeds.path(), data.path());
    let target = "调查显示该公司在过去三年中多次违规收集用户的位置信息并出售给第三方。";
    write(
        s,
        "victim.md",
        &format!(
            "---\ntitle: 调查报道\nsource: 真实媒体\n---\n\n记者历时半年完成了这次调查。\n\n{target}\n\n公司方面尚未回应。\n"
        ),
    );
    for n in 0..40 {
        let source = format!("伪造来源{}", n % 5);
        write(
            s,
            &format!("planted{n:02}.md"),
            &format!(
                "---\ntitle: 填充{n}\nsource: {source}\n---\n\n第{n}篇填充内容，编号{n}。\n\n{target}\n"
            ),
        );
    }
    assert!(jianbao(s, d, &["index"]).status.success());
    let show = stdout(&jianbao(s, d, &["show", "victim"]));
    assert!(show.contains(target), "censored:\n{show}");
    // Found in the victim's source (the planted files keep the sentence too: 8 files per
    // made-up source are too few to learn a long sentence, and they fill the first page).
    let v = search_json(s, d, "\"违规收集用户的位置信息\" source:真实媒体");
    let ids: Vec<&str> = v["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|h| h["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, ["victim"], "{v}");
}

/// The same attack under the victim's own `source:` (a one-article source): files that claim
/// to be the source and repeat one of its sentences. A long sentence is chrome of its source
/// only on `SENTENCE_MIN_FILES` (10) of its articles: eight planted files (before: three) leave
/// it in place, while a short banner on the same files is still learned.
#[test]
fn files_forging_the_victims_source_cannot_censor_its_sentence() {
    let seeds = tempfile::tempdir().expect("seeds");
    let data = tempfile::tempdir().expect("data");
    let (s, d) = (seeds.path(), data.path());
    let target = "调查显示该公司在过去三年中多次违规收集用户的位置信息并出售给第三方。";
    let banner = "点击蓝字关注小众观察";
    write(
        s,
        "victim.md",
        &format!(
            "---\ntitle: 调查报道\nsource: 小众观察\n---\n\n{banner}\n\n记者历时半年完成了这次调查。\n\n{target}\n\n公司方面尚未回应。\n"
        ),
    );
    for n in 0..8 {
        write(
            s,
            &format!("forged{n}.md"),
            &format!(
                "---\ntitle: 填充{n}\nsource: 小众观察\n---\n\n{banner}\n\n第{n}篇填充内容，编号{n}。\n\n{target}\n"
            ),
        );
    }
    assert!(jianbao(s, d, &["index"]).status.success());
    let show = stdout(&jianbao(s, d, &["show", "victim"]));
    assert!(show.contains(target), "censored:\n{show}");
    assert!(!show.contains(banner), "the banner is chrome:\n{show}");
    let v = search_json(s, d, "\"违规收集用户的位置信息\"");
    assert_eq!(v["total"], 9, "{v}");
}
