//! The CLI on temporary folders: build, change, delete, re-sync, batch mode, bad files.

use std::io::Write;
use std::process::Stdio;

mod support;

use support::cli::{command, run as jianbao, search_ids, stdout};

fn article(title: &str, url: &str, body: &str) -> String {
    format!(
        "---\ntitle: {title}\nurl: {url}\nsource: 测试来源\ndate: 2024-07-10\nfetch_date: 2024-07-11T06:00:00\n---\n\n# {title}\n\n{body}\n"
    )
}

/// Writes `name` into `dir` as an article whose URL is made from the name.
fn write_article(dir: &std::path::Path, name: &str, title: &str, body: &str) {
    std::fs::write(
        dir.join(name),
        article(title, &format!("https://example.com/{name}"), body),
    )
    .unwrap();
}

#[test]
fn build_change_delete_resync() {
    let seeds = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let s = seeds.path();
    std::fs::write(
        s.join("a.txt"),
        article(
            "人工智能治理",
            "https://example.com/a",
            "全球人工智能治理需要合作。",
        ),
    )
    .unwrap();
    std::fs::write(
        s.join("b.md"),
        article(
            "农业发展",
            "https://example.com/b",
            "中国农业发展银行支持乡村振兴。",
        ),
    )
    .unwrap();
    std::fs::create_dir(s.join("sub")).unwrap();
    std::fs::write(
        s.join("sub/c.txt"),
        article("芯片产业", "https://example.com/c", "芯片产业链加快发展。"),
    )
    .unwrap();
    std::fs::write(s.join(".hidden.txt"), article("隐藏", "", "不应被索引")).unwrap();
    std::fs::write(s.join("notes.json"), "{}").unwrap();

    let out = jianbao(s, data.path(), &["index"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout(&out).contains("3 added"), "{}", stdout(&out));

    let out = jianbao(s, data.path(), &["index"]);
    assert!(
        stdout(&out).contains("0 read")
            && stdout(&out).contains("0 added, 0 updated, 0 deleted, 3 unchanged"),
        "{}",
        stdout(&out)
    );

    // Sub-word recall: 农业 finds 中国农业发展银行.
    assert_eq!(search_ids(s, data.path(), "农业"), vec!["b"]);

    // Change one file, delete another.
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(
        s.join("a.txt"),
        article("量子计算", "https://example.com/a", "量子计算取得突破。"),
    )
    .unwrap();
    std::fs::remove_file(s.join("sub/c.txt")).unwrap();
    let out = jianbao(s, data.path(), &["index"]);
    assert!(
        stdout(&out).contains("0 added, 1 updated, 1 deleted, 1 unchanged"),
        "{}",
        stdout(&out)
    );
    assert!(search_ids(s, data.path(), "人工智能").is_empty());
    assert_eq!(search_ids(s, data.path(), "量子"), vec!["a"]);
    assert!(search_ids(s, data.path(), "芯片").is_empty());
}

#[test]
fn bad_files_are_skipped_with_their_names_and_the_rest_indexed() {
    let seeds = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let s = seeds.path();
    std::fs::write(
        s.join("good.txt"),
        article("好文章", "https://example.com/good", "正常的内容。"),
    )
    .unwrap();
    std::fs::write(s.join("empty.txt"), "").unwrap();
    std::fs::write(s.join("blank.txt"), "  \n\n").unwrap();
    std::fs::write(s.join("binary.txt"), b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0").unwrap();
    std::fs::write(s.join("latin1.txt"), b"caf\xe9 \xff\xfe\xfd").unwrap();
    let gbk_text = article("国标编码", "https://example.com/gbk", "这是GBK编码的文章。");
    let (gbk, _, _) = encoding_rs::GB18030.encode(&gbk_text);
    std::fs::write(s.join("gbk.txt"), &gbk).unwrap();
    std::fs::write(
        s.join("dup.txt"),
        article(
            "好文章副本",
            "https://example.com/good?utm_source=x",
            "副本。",
        ),
    )
    .unwrap();
    let huge = "大".repeat(2_000_000);
    std::fs::write(s.join("huge.txt"), article("巨大", "", &huge)).unwrap();

    let out = jianbao(s, data.path(), &["index"]);
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(text.contains("2 added"), "{text}");
    for (name, reason) in [
        ("empty.txt", "empty"),
        ("blank.txt", "empty"),
        ("binary.txt", "binary"),
        ("latin1.txt", "not UTF-8"),
        ("huge.txt", "too large"),
        ("good.txt", "same article"),
    ] {
        let line = text.lines().find(|l| {
            l.contains(&format!("skipped {name}"))
                || (name == "good.txt" && l.contains("skipped dup.txt"))
        });
        assert!(line.is_some_and(|l| l.contains(reason)), "{name}: {text}");
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("binary.txt"),
        "warnings name the files: {stderr}"
    );
    assert_eq!(search_ids(s, data.path(), "国标编码"), vec!["gbk"]);
}

#[test]
fn batch_mode_answers_each_line_at_once() {
    let seeds = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let s = seeds.path();
    std::fs::write(
        s.join("x.txt"),
        article(
            "臺灣經濟",
            "https://example.com/x",
            "台湾经济数据发布。ＡＩ应用。",
        ),
    )
    .unwrap();
    let mut child = command(s, data.path(), &["search"])
        .stdin(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut reader = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut ask = |q: &str| -> serde_json::Value {
        writeln!(stdin, "{q}").unwrap();
        stdin.flush().unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(&mut reader, &mut line).unwrap();
        serde_json::from_str(&line).unwrap()
    };
    // Traditional and simplified, full-width and ASCII, meet.
    let v = ask("台湾 经济");
    assert_eq!(v["total"], 1);
    assert_eq!(v["hits"][0]["id"], "x");
    assert_eq!(v["hits"][0]["date"], "2024-07-10");
    assert_eq!(ask("ai")["total"], 1);
    // Junk is answered, never an error that stops the process.
    for junk in ["AND (", "title:", "\"", "*", "🙂", "", &"长".repeat(4000)] {
        let v = ask(junk);
        assert!(v["hits"].is_array(), "{junk}: {v}");
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

#[test]
fn query_syntax_filters() {
    let seeds = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let s = seeds.path();
    let with = |title: &str, source: &str, date: &str, body: &str| {
        format!("---\ntitle: {title}\nsource: {source}\ndate: {date}\n---\n{body}\n")
    };
    std::fs::write(
        s.join("1.txt"),
        with("数字经济发展", "甲报", "2024-06-01", "数字经济快速发展。"),
    )
    .unwrap();
    std::fs::write(
        s.join("2.txt"),
        with(
            "经济数字",
            "乙报",
            "2024-07-15",
            "经济中的数字很多，美国也有。",
        ),
    )
    .unwrap();
    std::fs::write(
        s.join("3.txt"),
        with("数字经济与美国", "甲报", "2024-08-01", "数字经济，美国。"),
    )
    .unwrap();
    let mut ids = search_ids(s, data.path(), "\"数字经济\"");
    ids.sort();
    assert_eq!(ids, vec!["1", "3"]);
    assert_eq!(search_ids(s, data.path(), "\"数字经济\" -美国"), vec!["1"]);
    assert_eq!(search_ids(s, data.path(), "数字 source:乙报"), vec!["2"]);
    let mut ids = search_ids(s, data.path(), "数字 after:2024-07-01");
    ids.sort();
    assert_eq!(ids, vec!["2", "3"]);
    assert_eq!(
        search_ids(s, data.path(), "数字 before:2024-07-01"),
        vec!["1"]
    );
    // Sort by date: newest first.
    let out = jianbao(
        s,
        data.path(),
        &["search", "--json", "--sort", "date", "数字"],
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["3", "2", "1"]);
}

#[test]
fn second_writer_gets_a_clear_error() {
    let seeds = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    std::fs::write(seeds.path().join("a.txt"), article("标题", "", "内容")).unwrap();
    assert!(
        jianbao(seeds.path(), data.path(), &["index"])
            .status
            .success()
    );
    // Hold tantivy's writer lock as another process would.
    let index = tantivy::Index::open_in_dir(data.path().join("index")).unwrap();
    let _writer: tantivy::IndexWriter = index.writer(15_000_000).unwrap();
    std::fs::write(seeds.path().join("b.txt"), article("新标题", "", "新内容")).unwrap();
    let out = jianbao(seeds.path(), data.path(), &["index"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("another jianbao process is writing the index")
    );
}

#[test]
fn incompatible_index_is_rebuilt() {
    let seeds = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    std::fs::write(seeds.path().join("a.txt"), article("标题", "", "内容")).unwrap();
    // An index from an "older version": a different schema.
    let mut schema = tantivy::schema::Schema::builder();
    let f = schema.add_text_field("old", tantivy::schema::TEXT);
    std::fs::create_dir_all(data.path().join("index")).unwrap();
    let index = tantivy::Index::create_in_dir(data.path().join("index"), schema.build()).unwrap();
    let mut w: tantivy::IndexWriter = index.writer(15_000_000).unwrap();
    w.add_document(tantivy::doc!(f => "x")).unwrap();
    w.commit().unwrap();
    drop(w);
    let out = jianbao(seeds.path(), data.path(), &["index"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout(&out).contains("1 added"));
}

/// Seeds for the precision tests: an article with an id, one full of its pieces, one with
/// a name, one with common words.
fn precision_seeds(s: &std::path::Path) {
    let write = |name: &str, title: &str, body: &str| write_article(s, name, title, body);
    write(
        "id.txt",
        "防火墙漏洞通告",
        "Palo Alto 防火墙的 CVE-2024-3400 漏洞已被利用，请尽快升级。",
    );
    write(
        "pieces.txt",
        "CVE 2024 年度漏洞汇总：CVE-2024-1709 等",
        "2024 年 CVE 漏洞超过 3400 个。CVE-2024-1709、CVE-2024-21887，cve 2024 cve 2024 3400。",
    );
    write(
        "name.txt",
        "座谈会召开",
        "会议由朱守谦主持，与会者讨论了发展规划。",
    );
    write(
        "common.txt",
        "协调发展",
        "推动区域协调发展。不存在的问题不会出现。",
    );
}

#[test]
fn an_exact_id_ranks_above_articles_with_its_pieces() {
    let seeds = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    precision_seeds(seeds.path());
    let ids = search_ids(seeds.path(), data.path(), "CVE-2024-3400");
    assert_eq!(ids.first().map(String::as_str), Some("id"), "{ids:?}");
    // Full-width and lower case are the same id.
    let ids = search_ids(seeds.path(), data.path(), "ｃｖｅ-2024-3400");
    assert_eq!(ids.first().map(String::as_str), Some("id"), "{ids:?}");
}

#[test]
fn terms_no_article_has_are_reported_as_written() {
    let seeds = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    precision_seeds(seeds.path());
    let (s, d) = (seeds.path(), data.path());

    // Every term missing: no fragments, just the terms.
    let v = support::cli::search_json(s, d, "CVE-2024-3401");
    assert_eq!(v["missing"], serde_json::json!(["CVE-2024-3401"]), "{v}");
    assert_eq!(v["total"], 0, "{v}");
    assert!(v["hits"].as_array().unwrap().is_empty(), "{v}");

    // Some missing: partial matches, and the missing ones named.
    let v = support::cli::search_json(s, d, "朱守谦 发展");
    assert_eq!(v["missing"], serde_json::json!([]), "{v}");
    let v = support::cli::search_json(s, d, "朱守廉 发展");
    assert_eq!(v["missing"], serde_json::json!(["朱守廉"]), "{v}");
    assert!(v["total"].as_u64().unwrap() >= 1, "{v}");
    let v = support::cli::search_json(s, d, "zzqqxx不存在的词");
    assert_eq!(v["missing"], serde_json::json!(["zzqqxx"]), "{v}");
    let v = support::cli::search_json(s, d, "ＺＺＱＱＸＸ");
    assert_eq!(v["missing"], serde_json::json!(["ＺＺＱＱＸＸ"]), "{v}");

    // A compound typed as one unit is one term: every piece is in some article, the whole
    // in none. It is named, and the articles with its pieces are the partial matches.
    let v = support::cli::search_json(s, d, "区域协调会议 发展");
    assert_eq!(v["missing"], serde_json::json!(["区域协调会议"]), "{v}");
    assert_eq!(v["hits"][0]["id"], "common", "{v}");
    let v = support::cli::search_json(s, d, "区域协调发展 推动");
    assert_eq!(v["missing"], serde_json::json!([]), "{v}");
    assert_eq!(v["hits"][0]["id"], "common", "{v}");
    // A question's runs are not units: its words are searched (and a word no article has,
    // `协调会议`, is named as before).
    let v = support::cli::search_json(s, d, "区域协调会议推动了什么？");
    assert_eq!(v["missing"], serde_json::json!(["协调会议"]), "{v}");
    assert_eq!(v["hits"][0]["id"], "common", "{v}");

    // A name jieba may cut differently inside the article is found, not missing.
    let v = support::cli::search_json(s, d, "朱守谦");
    assert_eq!(v["missing"], serde_json::json!([]), "{v}");
    assert_eq!(v["hits"][0]["id"], "name", "{v}");

    // Present everywhere: an empty list, on every line of batch mode too.
    let mut child = command(s, d, &["search"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all("发展\nCVE-2024-3401\n\"\n".as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["missing"], serde_json::json!([]));
    assert_eq!(lines[1]["missing"], serde_json::json!(["CVE-2024-3401"]));
    assert!(lines[2]["missing"].as_array().is_some(), "{}", lines[2]);
}

#[test]
fn highlights_are_whole_terms_never_lone_characters() {
    let seeds = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    precision_seeds(seeds.path());
    let out = jianbao(seeds.path(), data.path(), &["search", "zzqqxx不存在的词"]);
    let text = stdout(&out);
    assert!(text.contains("不[存在]的问题不会出现"), "{text}");
    assert!(!text.contains("[不]"), "{text}");
    assert!(text.contains("zzqqxx"), "{text}");
}

/// Deleted-article pages, anti-bot pages and scrapes of the title alone are kept by title,
/// marked, never shown as an excerpt, and rank below an article with text.
#[test]
fn pages_without_text_are_kept_by_title_and_marked() {
    let seeds = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let write =
        |name: &str, title: &str, body: &str| write_article(seeds.path(), name, title, body);
    write(
        "deleted.txt",
        "数据安全法实施细则解读",
        "该内容已被发布者删除\n\n[微信公众平台运营中心](https://mp.weixin.qq.com/x)\n\n：\n，\n。",
    );
    write(
        "check.txt",
        "数据安全 年度报告",
        "## 环境异常\n\n当前环境异常，完成验证后即可继续访问。\n\n去验证",
    );
    write("bare.txt", "数据安全 周报", "：\n，\n。\n\n赞\n在看");
    write(
        "full.txt",
        "数据安全 周报 第二期",
        "本期周报汇总了数据安全领域的新规和案例。",
    );
    let (s, d) = (seeds.path(), data.path());
    let out = jianbao(s, d, &["index"]);
    assert!(
        stdout(&out).contains(
            "kept by title, no article text: 3 (1 deleted, 1 title only, 1 verification page)"
        ),
        "{}",
        stdout(&out)
    );
    let v = support::cli::search_json(s, d, "数据安全");
    let hits = v["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 4, "{v}");
    assert_eq!(hits[0]["id"], "full", "{v}");
    let excerpt_of = |id: &str| {
        hits.iter()
            .find(|h| h["id"] == id)
            .map(|h| h["excerpt"].as_str().unwrap().to_owned())
            .unwrap()
    };
    assert_eq!(excerpt_of("deleted"), "（原文已被删除，仅存标题）");
    assert_eq!(excerpt_of("check"), "（抓取时遇到验证页面，正文未收录）");
    assert_eq!(excerpt_of("bare"), "（仅标题，正文未收录）");
    // The status message is not indexed as text.
    assert_eq!(support::cli::search_total(s, d, "运营中心"), 0);
    assert_eq!(support::cli::search_total(s, d, "完成验证"), 0);
    // The digest shows the marker too, never the page's text.
    let out = jianbao(s, d, &["digest", "--since", "2000-01-01"]);
    let text = stdout(&out);
    assert!(text.contains("（原文已被删除，仅存标题）"), "{text}");
    assert!(!text.contains("环境异常"), "{text}");
}

/// `iPhone 15` is one thing: the article with it comes first, one with `iPhone 14` and a 15
/// elsewhere is only a partial match, and a pair no article has is reported.
#[test]
fn a_name_and_its_version_match_together() {
    let seeds = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let write =
        |name: &str, title: &str, body: &str| write_article(seeds.path(), name, title, body);
    write(
        "apart.txt",
        "iPhone 14 降价",
        "iPhone 14 在 15 家门店降价，iPhone 14 iPhone 14。",
    );
    write(
        "exact.txt",
        "新品发布",
        "苹果今天发布 iPhone 15，售价不变。",
    );
    let (s, d) = (seeds.path(), data.path());
    let v = support::cli::search_json(s, d, "iPhone 15");
    assert_eq!(v["missing"], serde_json::json!([]), "{v}");
    let ids: Vec<&str> = v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["exact"], "{v}");
    let v = support::cli::search_json(s, d, "iPhone 14 15");
    assert_eq!(v["hits"][0]["id"], "apart", "{v}");
    // A pair no article has is reported as typed, and the articles with both pieces apart are
    // the partial matches; a pair whose piece is missing is not reported twice.
    let v = support::cli::search_json(s, d, "15 IPHONE");
    assert_eq!(v["missing"], serde_json::json!(["15 IPHONE"]), "{v}");
    assert_eq!(v["total"], 2, "{v}");
    let v = support::cli::search_json(s, d, "iPhone 16");
    assert_eq!(v["missing"], serde_json::json!(["16"]), "{v}");
}

/// Partial matches are a hint: at most ten, however many articles have the other terms.
#[test]
fn partial_matches_are_cut_to_the_most_relevant_few() {
    let seeds = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    for i in 0..15 {
        std::fs::write(
            seeds.path().join(format!("a{i:02}.txt")),
            article(
                &format!("第{i}篇"),
                &format!("https://example.com/{i}"),
                // Each its own: one line in every article of a source would be learned as chrome.
                &format!("推动区域协调发展的第{i}项措施。"),
            ),
        )
        .unwrap();
    }
    let (s, d) = (seeds.path(), data.path());
    let page = |p: &str| {
        let out = jianbao(
            s,
            d,
            &[
                "search",
                "--json",
                "--limit",
                "4",
                "--page",
                p,
                "朱守廉 发展",
            ],
        );
        serde_json::from_str::<serde_json::Value>(&stdout(&out)).unwrap()
    };
    let first = page("1");
    assert_eq!(first["missing"], serde_json::json!(["朱守廉"]), "{first}");
    assert_eq!(first["total"], 10, "{first}");
    assert_eq!(first["matched"], 15, "{first}");
    assert_eq!(page("3")["hits"].as_array().unwrap().len(), 2);
    assert!(page("4")["hits"].as_array().unwrap().is_empty());
    // A full match is never cut.
    let v = support::cli::search_json(s, d, "协调发展");
    assert_eq!(
        (v["total"].as_u64(), v["matched"].as_u64()),
        (Some(15), Some(15)),
        "{v}"
    );
}

/// A headline with every keyword outranks an article that only repeats them in its body.
#[test]
fn a_title_with_every_keyword_ranks_first() {
    let seeds = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let write =
        |name: &str, title: &str, body: &str| write_article(seeds.path(), name, title, body);
    write(
        "headline.txt",
        "商务部等部门今天联合发布关于半导体芯片产品出口管制的最新规定和实施细则",
        "商务部今天发布公告，自下月起实施新的管理办法，涉及多类产品。",
    );
    write("roundup.txt", "今日要闻", "芯片出口，芯片出口，芯片出口。");
    let ids = search_ids(seeds.path(), data.path(), "芯片 出口");
    assert_eq!(ids, ["headline", "roundup"]);
}

/// The digest's keyword filter is not the search's ranking: no coverage threshold, no
/// missing terms, just "contains one of the keywords whole". Ids are whole tokens there too.
#[test]
fn keyword_filter_keeps_taking_whole_keywords() {
    use jianbao::search::{self, query};
    use tantivy::collector::Count;
    let (searcher, f) = support::ram_index::ram_index(&[&[
        "---\ntitle: 一\n---\n人工智能治理。".as_bytes(),
        "---\ntitle: 二\n---\n智能工厂与人工背运。".as_bytes(),
        "---\ntitle: 三\n---\n漏洞 CVE-2024-3400 通告。".as_bytes(),
        "---\ntitle: 四\n---\ncve 2024 3400 汇总。".as_bytes(),
    ]]);
    let count = |keywords: &str| {
        searcher
            .search(&search::filter_query(&f, &query::parse(keywords)), &Count)
            .unwrap()
    };
    assert_eq!(count("人工智能"), 1);
    // Any one keyword is enough, even when the other is in no article.
    assert_eq!(count("人工智能 朱守谦"), 1);
    assert_eq!(count("CVE-2024-3400"), 1);
    assert_eq!(count("不存在的关键词"), 0);
}

/// The chat console presses buttons by number (`/press N`), turns pages with `>` / `<`, and
/// says so when there is no such button instead of taking `/press` for an unknown command.
#[test]
fn the_console_presses_buttons_and_names_missing_ones() {
    let seeds = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    write_article(
        seeds.path(),
        "a.txt",
        "量子通信进展",
        "量子通信网络覆盖多个城市。",
    );
    let mut child = command(seeds.path(), data.path(), &["chat"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "量子通信\n/press 1\n/press 9\n>").unwrap();
    drop(stdin);
    let out = stdout(&child.wait_with_output().unwrap());
    assert!(out.contains("📄 量子通信进展"), "the full text: {out}");
    assert!(out.contains("没有这个按钮：/press 1 到 /press 1"), "{out}");
    assert!(out.contains("没有可以按的翻页按钮"), "{out}");
    assert!(!out.contains("不认识的命令 /press"), "{out}");
}

/// File names and alert queries come from outside: their control characters never reach the
/// operator's terminal (an escape sequence would retitle or clear it).
#[test]
fn the_cli_prints_no_control_characters_from_file_names_or_alerts() {
    let seeds = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let (s, d) = (seeds.path(), data.path());
    std::fs::write(s.join("ok.txt"), "---\ntitle: 正常\n---\n\n正文。\n").unwrap();
    // Empty, so it is skipped and named.
    std::fs::write(s.join("\u{1b}]0;pwned\u{7}\u{1b}[2Jx.txt"), "").unwrap();
    let out = jianbao(s, d, &["index", "--verbose"]);
    let printed = stdout(&out);
    assert!(printed.contains("pwned"), "{printed}");
    assert!(
        !printed.contains('\u{1b}') && !printed.contains('\u{7}'),
        "{printed:?}"
    );

    let store = jianbao::store::Store::open(d).unwrap();
    store
        .add_alert(7, "\u{1b}]0;owned\u{7}雪豹", Some(0), 10, 0)
        .unwrap();
    drop(store);
    let printed = stdout(&jianbao(s, d, &["alerts"]));
    assert!(printed.contains("owned雪豹"), "{printed}");
    assert!(!printed.contains('\u{1b}'), "{printed:?}");
}
