//! Seed reading on pages of other scrapers than the one the fixed chrome list was written for:
//! a backup site's banner, learned from the collection (`corpus::boilerplate`) as files come
//! and go; bylines in markdown; HTML tables. And the real WeChat scrapes in
//! `../shared/corpus/wechat` when they are beside the checkout.

mod support;

use std::path::Path;

use support::cli::{run as jianbao, search_json, search_total, stdout};

const BANNER: [&str; 2] = ["返回列表页", "小懒自动备份，仅供查阅学习"];

/// A page of the backup site: its banner, the article, its footer.
fn backup_page(account: &str, n: usize, text: &str) -> String {
    format!(
        "---\ntitle: {account}第{n}期安全周报\nurl: https://backup.example/{account}/{n}\nsource: {account}\ndate: 2024-03-{:02}\n---\n\n[{}](https://backup.example/list)\n\n{}\n\n# {account}第{n}期安全周报\n\n{text}\n\n本文由备份站自动抓取，版权归原作者所有\n",
        n % 28 + 1,
        BANNER[0],
        BANNER[1],
    )
}

/// The distinct sentence of page `n`: a made-up code no other page has, and words.
fn unique_sentence(n: usize) -> String {
    format!("编号QX{n:04}的设备在第{n}轮测试中出现了异常重启，工程师记录了日志。")
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("write page");
}

fn excerpts(v: &serde_json::Value) -> Vec<String> {
    v["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|h| h["excerpt"].as_str().expect("excerpt").to_owned())
        .collect()
}

/// A heavily templated source: every page has the banner, a templated heading and footer,
/// shared paragraphs, and one sentence of its own. After learning, the banner and the footer
/// are gone from search and excerpts, and every page's own sentence is still found.
#[test]
fn a_templated_sources_banner_is_learned_and_no_article_text_is_lost() {
    let seeds = tempfile::tempdir().expect("seeds");
    let data = tempfile::tempdir().expect("data");
    let (s, d) = (seeds.path(), data.path());
    let page = |n: usize| {
        let text = format!(
            "一、本周概述\n\n本周共收录漏洞情报若干条，以下为重点内容。\n\n{}请及时更新补丁。\n\n二、处置建议\n\n请及时更新补丁。",
            unique_sentence(n)
        );
        backup_page("懒人安全", n, &text)
    };
    // Three pages: too few to learn anything; the banner is text.
    for n in 0..3 {
        write(s, &format!("p{n:02}.md"), &page(n));
    }
    let out = jianbao(s, d, &["index"]);
    assert!(out.status.success());
    assert_eq!(search_total(s, d, "小懒自动备份"), 3);

    // Thirty pages: the banner and the footer are learned, and the first three pages, indexed
    // before, are cleaned again.
    for n in 3..30 {
        write(s, &format!("p{n:02}.md"), &page(n));
    }
    let out = jianbao(s, d, &["index", "--chrome"]);
    let text = stdout(&out);
    assert!(text.contains("articles cleaned again"), "{text}");
    assert!(
        text.contains("30/30     懒人安全: 小懒自动备份，仅供查阅学习"),
        "{text}"
    );
    assert!(text.contains("本文由备份站自动抓取"), "{text}");
    for chrome in ["小懒自动备份", "返回列表页", "备份站自动抓取"] {
        assert_eq!(search_total(s, d, chrome), 0, "{chrome} is still indexed");
    }
    for n in 0..30 {
        let v = search_json(s, d, &format!("QX{n:04}"));
        let hits = v["hits"].as_array().expect("hits");
        assert_eq!(hits.len(), 1, "QX{n:04}: {v}");
        assert_eq!(hits[0]["id"], format!("p{n:02}"), "{v}");
        let excerpt = hits[0]["excerpt"].as_str().expect("excerpt");
        assert!(excerpt.contains(&format!("QX{n:04}")), "{excerpt}");
        assert!(
            !excerpt.contains("返回列表页") && !excerpt.contains("小懒"),
            "{excerpt}"
        );
    }
    // The templated lines are learned; a common sentence inside a paragraph is text: the line
    // `请及时更新补丁。` is chrome, the same sentence after each page's own is not.
    assert!(
        text.contains("30/30     懒人安全: 请及时更新补丁。"),
        "{text}"
    );
    assert_eq!(search_total(s, d, "及时更新补丁"), 30);
    assert_eq!(search_total(s, d, "异常重启 工程师"), 30);

    // The ledger is lost (its rows are the counts): the next sync reads every page with text
    // again, counts it, and learns the same lines.
    for name in ["ingest.sqlite3", "ingest.sqlite3-wal", "ingest.sqlite3-shm"] {
        let _ = std::fs::remove_file(d.join(name));
    }
    let out = jianbao(s, d, &["index", "--chrome"]);
    let text = stdout(&out);
    assert!(text.contains("30 read"), "{text}");
    assert!(
        text.contains("30/30     懒人安全: 小懒自动备份，仅供查阅学习"),
        "{text}"
    );
    assert_eq!(search_total(s, d, "小懒自动备份"), 0);
    // Nothing changed: nothing is read.
    let out = jianbao(s, d, &["index"]);
    assert!(stdout(&out).contains(" 0 read"), "{}", stdout(&out));

    // The source shrinks to three pages: the banner is text again, in those pages only.
    for n in 3..30 {
        std::fs::remove_file(s.join(format!("p{n:02}.md"))).expect("remove");
    }
    let out = jianbao(s, d, &["index"]);
    assert!(stdout(&out).contains("27 deleted"), "{}", stdout(&out));
    assert_eq!(search_total(s, d, "小懒自动备份"), 3);
}

/// The backup site serves many accounts, most with a page or two: its banner is learned
/// everywhere, and a new account's first page is cleaned of it too.
#[test]
fn a_banner_across_many_accounts_is_learned_everywhere() {
    let seeds = tempfile::tempdir().expect("seeds");
    let data = tempfile::tempdir().expect("data");
    let (s, d) = (seeds.path(), data.path());
    for a in 0..12 {
        for n in 0..2 {
            let text = format!("账号{a}的文章{n}。{}", unique_sentence(a * 10 + n));
            write(
                s,
                &format!("a{a:02}_{n}.md"),
                &backup_page(&format!("账号{a}"), n, &text),
            );
        }
    }
    let out = jianbao(s, d, &["index", "--chrome"]);
    let text = stdout(&out);
    assert!(
        text.contains("in 12 sources: 小懒自动备份，仅供查阅学习"),
        "{text}"
    );
    write(
        s,
        "new.md",
        &backup_page(
            "新账号",
            1,
            &format!("新账号的第一篇。{}", unique_sentence(999)),
        ),
    );
    jianbao(s, d, &["index"]);
    let v = search_json(s, d, "QX0999");
    let excerpt = excerpts(&v).concat();
    assert!(
        excerpt.contains("QX0999") && !excerpt.contains("小懒") && !excerpt.contains("返回列表页"),
        "{v}"
    );
    assert_eq!(search_total(s, d, "返回列表页"), 0);
}

/// A scraper that writes the byline in markdown and no `date` in the front matter, and one
/// that keeps the page's HTML tables.
#[test]
fn markdown_bylines_and_html_tables() {
    let seeds = tempfile::tempdir().expect("seeds");
    let data = tempfile::tempdir().expect("data");
    let (s, d) = (seeds.path(), data.path());
    write(
        s,
        "byline.md",
        "---\ntitle: 数据出境新规解读\nurl: https://news.example/1\nsource: 法规观察\n---\n\n**原创** *张三* [法规观察](https://news.example)\n\n*2024-05-06 10:00*\n\n数据出境安全评估办法明确了申报的条件和流程。\n",
    );
    write(
        s,
        "table.md",
        "---\ntitle: 漏洞通告：某路由器远程命令执行\nurl: https://cert.example/2\nsource: 某CERT\ndate: 2024-06-01\n---\n\n<table><tr><th>漏洞编号</th><th>危害等级</th></tr>\n<tr><td>CVE-2024-31337</td><td>高危</td></tr></table>\n\n| 影响版本 | 修复版本 |\n| --- | --- |\n| 1.0 至 2.3 | 2.4 |\n\n攻击者可以通过构造的请求在设备上执行任意命令。\n",
    );
    let out = jianbao(s, d, &["index"]);
    assert!(out.status.success());

    let v = search_json(s, d, "数据出境");
    let hit = &v["hits"][0];
    assert_eq!(hit["date"], "2024-05-06", "the byline's date: {v}");
    let excerpt = hit["excerpt"].as_str().expect("excerpt");
    assert!(excerpt.starts_with("数据出境安全评估办法"), "{excerpt}");

    let v = search_json(s, d, "CVE-2024-31337");
    assert_eq!(v["hits"][0]["id"], "table", "{v}");
    let excerpt = v["hits"][0]["excerpt"].as_str().expect("excerpt");
    assert!(
        !excerpt.contains('<') && !excerpt.contains("td>"),
        "{excerpt}"
    );
    assert_eq!(search_total(s, d, "任意命令"), 1);
}

/// The real scrapes, when `../shared/corpus/wechat` is beside the checkout (or
/// `JIANBAO_WECHAT_CORPUS` names them): status pages are kept by title and marked, no hit has
/// a blank excerpt or a status message, and the learned chrome is never shown.
#[test]
fn real_wechat_scrapes() {
    let corpus = std::env::var_os("JIANBAO_WECHAT_CORPUS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/wechat"));
    if !corpus.is_dir() {
        eprintln!(
            "real_wechat_scrapes: {} not found, not run",
            corpus.display()
        );
        return;
    }
    let data = tempfile::tempdir().expect("data");
    let d = data.path();
    let out = jianbao(&corpus, d, &["index", "--chrome"]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("kept by title, no article text"), "{text}");
    assert!(
        text.contains("安全圈: 支持「安全圈」就点个三连吧！"),
        "{text}"
    );
    for query in [
        "漏洞",
        "安全",
        "勒索",
        "数据",
        "攻击",
        "人工智能",
        "安全圈",
        "360CERT",
    ] {
        let v = search_json(&corpus, d, query);
        for excerpt in excerpts(&v) {
            assert!(!excerpt.trim().is_empty(), "{query}: blank excerpt in {v}");
            for chrome in [
                "该内容已被发布者删除",
                "环境异常",
                "去验证",
                "微信扫一扫",
                "轻点两下",
                "支持「安全圈」就点个三连吧",
                "网罗圈内热点 专注网络安全",
                "今后特制报告将不再提供公开下载",
            ] {
                assert!(!excerpt.contains(chrome), "{query}: {chrome} in {excerpt}");
            }
        }
    }
}
