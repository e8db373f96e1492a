//! Property tests: whatever the documents and the query, replies are valid Telegram HTML
//! within 4096 characters, and splitting keeps every part valid.

mod support;

use chrono::NaiveDate;
use jianbao::corpus::status::TextState;
use jianbao::digest::{self, Digest};
use jianbao::render::{TELEGRAM_MAX_CHARS, results_page, split_message};
use jianbao::search::excerpt::{Needle, excerpt, excerpt_titled};
use jianbao::search::{Hit, SearchResults, query};
use proptest::prelude::*;
use support::check_telegram_html;

/// Text with the characters that break replies: markup, entities, emoji, rare CJK, newlines.
fn hostile_text(max: usize) -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("<".to_owned()),
        Just(">".to_owned()),
        Just("&".to_owned()),
        Just("&amp;".to_owned()),
        Just("\"".to_owned()),
        Just("<b>".to_owned()),
        Just("</a>".to_owned()),
        Just("🙂".to_owned()),
        Just("𠀀".to_owned()),
        Just("\n".to_owned()),
        Just("人工智能".to_owned()),
        Just("臺灣".to_owned()),
        Just("ＡＩ".to_owned()),
        "[a-z ]{1,8}",
        "\\PC{1,6}",
    ];
    prop::collection::vec(piece, 0..max).prop_map(|v| v.concat())
}

fn hit(title: String, source: String, url: String, body: String, query_text: &str) -> Hit {
    // The query's words to highlight, and its bigrams as hints (choosing, not highlighted).
    let folded = jianbao::text::fold(query_text);
    let mut needles: Vec<Needle> = jianbao::text::words(&folded)
        .into_iter()
        .map(|w| Needle::text(w, 1.0))
        .collect();
    needles.extend(
        jianbao::text::bigrams(&folded)
            .into_iter()
            .map(|b| Needle::hint(b.text, 0.5)),
    );
    // Questions that ask how much or when also look for numbers.
    needles.push(Needle::number(0.5));
    let excerpt = if body.is_empty() {
        jianbao::search::Excerpt::unhighlighted(TextState::Deleted.marker())
    } else {
        excerpt_titled(&body, &title, &needles, 240)
    };
    Hit {
        key: "k".into(),
        id: "id".into(),
        title,
        url,
        source,
        date: NaiveDate::from_ymd_opt(2024, 7, 10),
        score: 1.0,
        // A page without text shows its marker instead of an excerpt.
        excerpt,
        seq: 7,
        story: 7,
        also: Vec::new(),
    }
}

fn hits(query_text: String) -> impl Strategy<Value = (String, Vec<Hit>)> {
    let one = (
        hostile_text(60),
        hostile_text(10),
        prop_oneof![
            Just(String::new()),
            Just("https://a.b/?x=1&y=<2>".to_owned()),
            "\\PC{0,30}"
        ],
        hostile_text(400),
    );
    prop::collection::vec(one, 0..10).prop_map(move |v| {
        let hs = v
            .into_iter()
            .map(|(t, s, u, b)| hit(t, s, u, b, &query_text))
            .collect();
        (query_text.clone(), hs)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    #[test]
    fn results_pages_are_valid_html_within_the_limit(
        (q, hs) in hostile_text(40).prop_flat_map(hits),
        missing in prop::collection::vec(hostile_text(8), 0..8),
        partial in any::<bool>(),
        cut in 0usize..100_000,
    ) {
        let results = SearchResults {
            query: query::parse(&q),
            total: hs.len() * 7,
            offset: 0,
            matched: hs.len() * 7 + cut,
            hits: hs,
            missing,
            partial,
        };
        let html = results_page(&q, &results, 1, 7);
        let len = check_telegram_html(&html).map_err(|e| TestCaseError::fail(format!("{e}: {html}")))?;
        prop_assert!(len <= TELEGRAM_MAX_CHARS);
    }

    #[test]
    fn split_parts_are_valid_and_fit(blocks in prop::collection::vec(hostile_text(300), 1..40), max in 200usize..4096) {
        let html = blocks.iter().map(|b| format!("<b>{}</b>\n{}", jianbao::render::escape_html(b), jianbao::render::escape_html(b))).collect::<Vec<_>>().join("\n\n");
        for part in split_message(&html, max) {
            let len = check_telegram_html(&part).map_err(|e| TestCaseError::fail(format!("{e}: {part}")))?;
            prop_assert!(len <= max, "{} > {}", len, max);
        }
    }

    #[test]
    fn replies_with_missing_terms_are_valid_html(missing in prop::collection::vec(hostile_text(12), 1..10), total in 0usize..3) {
        let reply = jianbao::render::all_missing_reply(&missing);
        let len = check_telegram_html(&reply).map_err(|e| TestCaseError::fail(format!("{e}: {reply}")))?;
        prop_assert!(len <= TELEGRAM_MAX_CHARS);
        let results = SearchResults { total, missing, ..SearchResults::default() };
        let note = jianbao::render::missing_note(&results).unwrap_or_default();
        check_telegram_html(&note).map_err(|e| TestCaseError::fail(format!("{e}: {note}")))?;
        prop_assert!(!note.is_empty());
    }

    #[test]
    fn digests_are_valid_html((q, hs) in hostile_text(10).prop_flat_map(hits), total_extra in 0usize..100) {
        let total = hs.len() + total_extra;
        let d = Digest { items: hs, total, cursor: Some(1) };
        for part in digest::render(&d, "2024-07-10", &q) {
            let len = check_telegram_html(&part).map_err(|e| TestCaseError::fail(format!("{e}: {part}")))?;
            prop_assert!(len <= TELEGRAM_MAX_CHARS);
        }
    }

    #[test]
    fn queries_never_panic(q in "\\PC{0,300}") {
        let parsed = query::parse(&q);
        let (_, fields) = jianbao::index::schema::build();
        let _ = jianbao::search::build_query(&fields, &parsed);
    }

    #[test]
    fn excerpts_never_panic_and_stay_short(body in hostile_text(200), needle in "\\PC{0,6}", n in 1usize..300) {
        let e = excerpt(&body, &[Needle::text(jianbao::text::fold(&needle), 1.0), Needle::number(0.5)], n);
        prop_assert!(e.text.chars().count() <= n.max(10));
        check_telegram_html(&e.html()).map_err(|err| TestCaseError::fail(format!("{err}: {}", e.html())))?;
    }
}

/// A page of hostile text with links, tables, lists and bare URLs, as a scraper writes it.
/// A real index on disk of hostile articles (markup, entities, emoji, traditional characters,
/// sentence ends inside brackets, compounds), built once for the whole-path property below.
fn hostile_index() -> &'static (tempfile::TempDir, jianbao::index::SearchIndex) {
    static INDEX: std::sync::OnceLock<(tempfile::TempDir, jianbao::index::SearchIndex)> =
        std::sync::OnceLock::new();
    INDEX.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let seeds = dir.path().join("seeds");
        std::fs::create_dir_all(&seeds).expect("seeds");
        let bodies = [
            "马来穿山甲是东南亚的一种穿山甲。牠们的天敌有虎及云豹！<b>粗体</b> & 实体 &amp; 😀",
            "《卡拉OK.LIVE！‧台北‧我》是张雨生的第六张专辑。因此<i>销量</i>不高；但“口碑”很好？",
            "且末机场位于新疆。玉都的 <a href=\"x\">链接</a> 与 CVE-2024-3400 漏洞通告。\n\n第二段（未闭合的括号",
            "臺灣經濟發展。區域協調發展！𠀀𠀁 <script>x</script> 「引號。內的句號」結束。",
            "首届比赛于1990年举行。赛后，他结束了运动生涯。&lt;tag&gt; <<>> \" ' `",
        ];
        for (i, body) in bodies.iter().enumerate() {
            let text = format!(
                "---\ntitle: 标题{i} <b>&amp;\nurl: https://a.b/{i}?x=1&y=<2>\nsource: 来源<{i}>\ndate: 2024-07-1{i}\n---\n{body}\n"
            );
            std::fs::write(seeds.join(format!("a{i}.txt")), text).expect("write");
        }
        let index = jianbao::index::SearchIndex::open(&dir.path().join("data")).expect("open");
        index.sync(&seeds, None).expect("sync");
        (dir, index)
    })
}

/// The hostile index answers (so the property below searches something).
#[test]
fn the_hostile_index_answers() {
    let (_, index) = hostile_index();
    let opts = jianbao::search::SearchOptions::default();
    let r = jianbao::search::search(index, "马来穿山甲的天敌是什么？", &opts).expect("search");
    assert!(r.hits[0].excerpt.plain().contains("天敌"), "{:?}", r.hits);
    let r = jianbao::search::search(index, "且末玉都机场 国际", &opts).expect("search");
    assert_eq!(
        r.missing,
        vec!["且末玉都机场".to_owned(), "国际".to_owned()]
    );
    assert!(
        !r.hits.is_empty(),
        "the pieces (且末, 机场) are partial matches"
    );
    let r = jianbao::search::search(index, "张雨生 专辑", &opts).expect("search");
    assert!(
        r.hits[0]
            .excerpt
            .plain()
            .contains("《卡拉OK.LIVE！‧台北‧我》"),
        "{:?}",
        r.hits
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// The whole query path (analysis, units, hints, the excerpt's sentence) on a real index:
    /// whatever is typed, the reply is valid Telegram HTML within the limit.
    #[test]
    fn searched_replies_are_valid_html(
        q in prop_oneof![
            hostile_text(30),
            Just("且末玉都机场 国际".to_owned()),
            Just("马来穿山甲的天敌是什么？".to_owned()),
            Just("臺灣經濟 <b>".to_owned()),
            "[且末玉都机场天敌销量比赛<>&\"？。！ ]{1,20}",
        ],
    ) {
        let (_, index) = hostile_index();
        let opts = jianbao::search::SearchOptions::default();
        if let Ok(results) = jianbao::search::search(index, &q, &opts) {
            let html = results_page(&q, &results, 1, 7);
            let len = check_telegram_html(&html).map_err(|e| TestCaseError::fail(format!("{e}: {html}")))?;
            prop_assert!(len <= TELEGRAM_MAX_CHARS);
        }
    }
}

fn hostile_page() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        hostile_text(6),
        Just("https://a.example.com/x?y=1&z=<2>".to_owned()),
        Just("对http://www.a.com进行扫描".to_owned()),
        Just("[链接<b>](https://b.example/\"q\")".to_owned()),
        Just("<a href=\"https://c.example/a&amp;b\">文&lt;字</a>".to_owned()),
        Just("<table><tr><td>编号</td><td>CVE-2024-1234</td></tr></table>".to_owned()),
        Just("\n| a | b |\n| --- | --- |\n| <c> | &d |\n".to_owned()),
        Just("\n- 列表\n- [项](https://d.example)\n".to_owned()),
        Just("\n\n".to_owned()),
    ];
    prop::collection::vec(piece, 1..40)
        .prop_map(|v| format!("---\ntitle: t\n---\n\n{}", v.concat()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// The full text of any page, links included, is valid Telegram HTML in every message, and
    /// its Markdown keeps every link's target.
    #[test]
    fn full_texts_with_links_are_valid_html(page in hostile_page()) {
        let Ok(article) = jianbao::corpus::parse("p", page.as_bytes()) else {
            return Ok(());
        };
        let full = jianbao::fulltext::FullText {
            seq: 1,
            id: article.id.clone(),
            title: article.title.clone(),
            source: article.source.clone(),
            url: article.url.clone(),
            date: article.date,
            state: article.state,
            body: article.body.clone(),
            links: article.links.clone(),
        };
        for message in full.messages() {
            prop_assert!(check_telegram_html(&message).is_ok(), "{:?}: {:?}", message, check_telegram_html(&message));
            prop_assert!(jianbao::render::visible_len(&message) <= TELEGRAM_MAX_CHARS);
        }
        let markdown = full.markdown();
        for link in &article.links {
            let href = link.href.replace('>', "%3E").replace(')', "%29");
            prop_assert!(markdown.contains(&href), "{} lost from {}", link.href, markdown);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// A line longer than a message is split, never cut: the parts hold every character of it,
    /// in order, each part valid and within the limit.
    #[test]
    fn long_lines_are_split_without_losing_text(
        text in prop::collection::vec(prop_oneof![
            Just("。".to_owned()), Just("，".to_owned()), Just(" ".to_owned()),
            Just("<b>".to_owned()), Just("&".to_owned()), Just("🙂".to_owned()),
            "[\\u{4e00}-\\u{9fa5}]{1,40}", "[a-z]{1,12}",
        ], 50..400).prop_map(|v| v.concat()),
        bold in any::<bool>(),
        max in 40usize..400,
    ) {
        let escaped = jianbao::render::escape_html(&text);
        let line = if bold { format!("<b>{escaped}</b>") } else { escaped };
        let parts = split_message(&line, max);
        let plain: String = parts.iter().map(|p| jianbao::render::html_to_plain(p)).collect();
        prop_assert_eq!(plain, text.replace(['\n'], ""));
        for p in &parts {
            prop_assert!(check_telegram_html(p).is_ok(), "{:?}", p);
            prop_assert!(jianbao::render::visible_len(p) <= max, "{} > {}", jianbao::render::visible_len(p), max);
        }
    }
}
