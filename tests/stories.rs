//! Reposts grouped into one story, and the archived full text: the CLI, the digest and the
//! real teloxide dispatcher against the fake Bot API.

mod support;

use std::path::Path;

use jianbao::config::Settings;
use support::{BotHarness, WAIT, buttons, callback_query, valid_html};

/// A news story of about 600 characters, its own text for each topic (a generator seeded by
/// the topic: every paragraph different, as in real articles).
fn story_text(topic: &str) -> String {
    const POOL: &str = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动\
        同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严";
    let pool: Vec<char> = POOL.chars().collect();
    let mut state = topic.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let mut next = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        pool[(state >> 33) as usize % pool.len()]
    };
    (0..8)
        .map(|i| {
            let words: String = (0..70).map(|_| next()).collect();
            format!("{topic}第{i}段：{words}。")
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn page(title: &str, url: &str, source: &str, date: &str, body: &str) -> String {
    format!("---\ntitle: {title}\nurl: {url}\nsource: {source}\ndate: {date}\n---\n\n{body}\n")
}

/// The original, two reposts with their own header and footer, and three different articles
/// from one template (same headings, different news).
/// Writes `name` as another copy of the quantum-network story (URL from the name), its body
/// followed by `tail`.
fn write_repost(dir: &Path, name: &str, source: &str, date: &str, tail: &str) {
    let body = story_text("量子通信网络");
    let text = page(
        "量子通信网络建设取得进展",
        &format!("https://example.com/{name}"),
        source,
        date,
        &format!("{body}{tail}"),
    );
    std::fs::write(dir.join(name), text).expect("write");
}

fn write_corpus(dir: &Path) {
    let body = story_text("量子通信网络");
    let w = |name: &str, text: String| std::fs::write(dir.join(name), text).expect("write");
    w(
        "a_original.txt",
        page(
            "量子通信网络建设取得进展",
            "https://example.com/a",
            "科技日报",
            "2024-07-01",
            &body,
        ),
    );
    w(
        "b_repost.txt",
        page(
            "转载｜量子通信网络建设取得进展",
            "https://example.com/b",
            "安全圈",
            "2024-07-02",
            &format!(
                "本文转载自科技日报，版权归原作者所有。\n\n{body}\n\n往期推荐：网络安全周报第十期\n\n点赞在看，分享给更多朋友。"
            ),
        ),
    );
    w(
        "c_repost.txt",
        page(
            "量子通信网络建设取得进展",
            "https://example.com/c",
            "信息化观察",
            "2024-07-03",
            &format!("来源：科技日报\n\n{body}\n\n扫码关注我们，获取更多资讯。"),
        ),
    );
    for (i, topic) in ["秋粮收购", "防汛抗旱", "中小学开学"].iter().enumerate() {
        w(
            &format!("t{i}_bulletin.txt"),
            page(
                "国内联播快讯",
                &format!("https://example.com/t{i}"),
                "新闻联播",
                &format!("2024-07-1{i}"),
                &format!("国内联播快讯\n\n{}", story_text(topic)),
            ),
        );
    }
}

#[test]
fn reposts_are_one_hit_and_templated_articles_are_not() {
    let seeds = tempfile::tempdir().expect("seeds");
    let data = tempfile::tempdir().expect("data");
    write_corpus(seeds.path());
    let found = support::cli::search_json(seeds.path(), data.path(), "量子通信网络");
    let hits = found["hits"].as_array().expect("hits");
    assert_eq!(found["total"], 1, "{found}");
    assert_eq!(hits.len(), 1, "{found}");
    let also: Vec<&str> = hits[0]["also"]
        .as_array()
        .expect("also")
        .iter()
        .filter_map(|c| c["source"].as_str())
        .collect();
    assert_eq!(also.len(), 2, "{found}");
    for source in ["科技日报", "安全圈", "信息化观察"] {
        assert!(
            hits[0]["source"] == source || also.contains(&source),
            "{source} in {found}"
        );
    }
    // Every copy with --all-copies.
    let all = support::cli::run(
        seeds.path(),
        data.path(),
        &["search", "--json", "--all-copies", "量子通信网络"],
    );
    let all: serde_json::Value = serde_json::from_slice(&all.stdout).expect("json");
    assert_eq!(all["total"], 3, "{all}");

    // Same template, different news: three stories.
    let bulletins = support::cli::search_json(seeds.path(), data.path(), "国内联播快讯");
    assert_eq!(bulletins["total"], 3, "{bulletins}");
    for hit in bulletins["hits"].as_array().expect("hits") {
        assert!(hit["also"].as_array().expect("also").is_empty(), "{hit}");
    }
}

#[test]
fn a_story_is_new_once_in_digests() {
    let seeds = tempfile::tempdir().expect("seeds");
    let data = tempfile::tempdir().expect("data");
    write_corpus(seeds.path());
    let index = jianbao::index::SearchIndex::open(data.path()).expect("open");
    index.sync(seeds.path(), None).expect("sync");
    let all =
        jianbao::digest::select(&index, jianbao::digest::Since::Time(0), "", 50).expect("digest");
    // Three copies of one story and three bulletins: four entries.
    assert_eq!(all.total, 4);
    let story = all
        .items
        .iter()
        .find(|h| h.title.contains("量子"))
        .expect("the story");
    assert_eq!(story.also.len(), 2);
    let html = jianbao::digest::render(&all, "2024-07-10", "").join("\n");
    assert!(html.contains("另见 2 个来源"), "{html}");
    assert_eq!(
        html.matches("量子通信网络建设取得进展").count(),
        1,
        "{html}"
    );

    // The digest is sent; the next day another repost arrives: not news again.
    let cursor = all.cursor.expect("cursor");
    write_repost(
        seeds.path(),
        "d_late_repost.txt",
        "晚到的号",
        "2024-07-04",
        "",
    );
    std::fs::write(
        seeds.path().join("e_new.txt"),
        page(
            "全新的报道",
            "https://example.com/e",
            "科技日报",
            "2024-07-04",
            &story_text("深海探测器"),
        ),
    )
    .expect("write");
    index.sync(seeds.path(), None).expect("sync");
    let next = jianbao::digest::select(&index, jianbao::digest::Since::Seq(cursor), "", 50)
        .expect("digest");
    let titles: Vec<&str> = next.items.iter().map(|h| h.title.as_str()).collect();
    assert_eq!(titles, vec!["全新的报道"], "{titles:?}");
    assert_eq!(next.total, 1);
}

/// A short seed, and a long one (more than three messages of text).
fn write_fulltext_corpus(dir: &Path) {
    let seed = std::fs::read_dir("seeds")
        .expect("the repository's seeds")
        .flatten()
        .find(|e| e.path().extension().is_some_and(|x| x == "txt"))
        .expect("a seed file");
    std::fs::copy(seed.path(), dir.join("seed.txt")).expect("copy the seed");
    let long: Vec<String> = (0..600)
        .map(|i| format!("长文第{i}段：人工智能治理需要各方共同参与 <b>和</b> & 协作。"))
        .collect();
    std::fs::write(
        dir.join("long.txt"),
        page(
            "人工智能长篇报告",
            "https://example.com/long",
            "研究院",
            "2024-07-05",
            &long.join("\n\n"),
        ),
    )
    .expect("write");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_text_arrives_as_html_or_as_a_document() {
    let h = BotHarness::new(Settings::default(), write_fulltext_corpus).await;
    // The seed article: its 📄 button sends its text, in order, as valid HTML.
    let reply = h.say(70, "private", 70, "全球治理 两翼齐飞").await;
    let read: Vec<(String, String)> = buttons(&reply)
        .into_iter()
        .filter(|(label, _)| label.starts_with('📄'))
        .collect();
    assert_eq!(read.len(), 1, "{reply}");
    assert!(read[0].1.len() <= 64);
    let before = h.fake.requests_for("sendmessage").len();
    h.press(vec![callback_query(70, 70, 1, &read[0].1)]).await;
    let sent = h.fake.wait_for("sendmessage", before + 1, WAIT).await;
    let first = valid_html(&sent[before].params);
    assert!(first.starts_with("📄 <b><a href="), "{first}");
    assert!(first.contains("AI全球治理"), "{first}");
    // The seed's own paragraphs, in order, and none of its page chrome.
    let sent_text: String = sent[before..]
        .iter()
        .map(|r| valid_html(&r.params))
        .collect::<Vec<_>>()
        .join("\n");
    let first_paragraph = sent_text.find("第78届联合国大会").expect("first paragraph");
    let later_paragraph = sent_text.find("一体两翼").expect("a later paragraph");
    assert!(first_paragraph < later_paragraph, "{sent_text}");
    assert!(!sent_text.contains("微信扫一扫"), "{sent_text}");

    // The long article: a document with every paragraph.
    let before_docs = h.fake.requests_for("senddocument").len();
    // Files are numbered in name order: long.txt is 0, seed.txt 1.
    let answers = h.press(vec![callback_query(70, 70, 1, "r:0")]).await;
    assert!(answers[0].get("text").is_none(), "{answers:?}");
    let docs = h.fake.wait_for("senddocument", before_docs + 1, WAIT).await;
    let doc = &docs[before_docs].params;
    let content = doc["document"]["content"]
        .as_str()
        .unwrap_or_else(|| panic!("no file content in {doc}"));
    let name = doc["document"]["file_name"].as_str().expect("name");
    assert!(name.ends_with(".md"), "{name}");
    let mut last = 0;
    for i in 0..600 {
        let at = content
            .find(&format!("长文第{i}段："))
            .unwrap_or_else(|| panic!("paragraph {i}"));
        assert!(at >= last);
        last = at;
    }
    assert!(support::check_telegram_html(doc["caption"].as_str().expect("caption")).is_ok());

    // Forged and stale buttons get a notice.
    for (data, notice) in [("r:999999", "不在索引"), ("r:abc", "失效"), ("r:", "失效")] {
        let answers = h.press(vec![callback_query(70, 70, 1, data)]).await;
        assert!(
            answers[0]["text"]
                .as_str()
                .is_some_and(|t| t.contains(notice)),
            "{data}: {answers:?}"
        );
    }

    // In a group, even a short article is one document.
    let before_docs = h.fake.requests_for("senddocument").len();
    h.fake
        .push_update(support::text_message(-100_700, "supergroup", 71, "/read 1"));
    h.fake.wait_for("senddocument", before_docs + 1, WAIT).await;

    // /read of a number that is not there.
    let reply = h.say(70, "private", 70, "/read 424242").await;
    assert!(valid_html(&reply).contains("没有编号为"), "{reply}");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_story_is_one_entry_in_latest_and_inline_results() {
    let h = BotHarness::new(Settings::default(), write_corpus).await;
    // Six files, four stories: /latest 10 lists four, the story once with its other sources.
    let reply = h.say(80, "private", 80, "/latest 10").await;
    let text = valid_html(&reply);
    assert!(text.contains("最新 4 篇"), "{text}");
    assert_eq!(
        text.matches("量子通信网络建设取得进展").count(),
        1,
        "{text}"
    );
    assert!(text.contains("另见 2 个来源"), "{text}");

    h.fake
        .push_update(support::inline_query(80, "量子通信网络"));
    let answers = h.fake.wait_for("answerinlinequery", 1, WAIT).await;
    let results = answers[0].params["results"].as_array().expect("results");
    assert_eq!(results.len(), 1, "{results:?}");
    let message = results[0]["input_message_content"]["message_text"]
        .as_str()
        .expect("text");
    support::check_telegram_html(message).expect("valid HTML");
    assert!(message.contains("另见 2 个来源"), "{message}");
    h.stop().await;
}

#[test]
fn removing_the_first_copy_keeps_the_story_and_new_reposts_join_it() {
    let seeds = tempfile::tempdir().expect("seeds");
    let data = tempfile::tempdir().expect("data");
    write_corpus(seeds.path());
    // The query finds one story, with `also` other copies listed; its id.
    let one_story = |also: usize| {
        let found = support::cli::search_json(seeds.path(), data.path(), "量子通信网络");
        assert_eq!(found["total"], 1, "{found}");
        let listed = found["hits"][0]["also"].as_array().map(Vec::len);
        assert_eq!(listed, Some(also), "{found}");
        found["hits"][0]["story"].clone()
    };
    let story = one_story(2);

    // The original goes: the two reposts are still one story, under the same id.
    std::fs::remove_file(seeds.path().join("a_original.txt")).expect("remove");
    assert_eq!(one_story(1), story);

    // A new repost arriving later joins it; a restart (a new process) sees the same grouping.
    write_repost(
        seeds.path(),
        "z_repost.txt",
        "后来的号",
        "2024-07-05",
        "\n\n欢迎关注",
    );
    assert_eq!(one_story(2), story);
}

/// A paragraph longer than a message (6,000 characters, 400 sentences) arrives whole through
/// `/read`: split at sentence ends over the messages, not cut.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paragraph_longer_than_a_message_arrives_whole() {
    let h = BotHarness::new(Settings::default(), |dir: &Path| {
        let paragraph: String = (0..400)
            .map(|i| format!("这是第{i:03}个编号的句子。"))
            .collect();
        std::fs::write(
            dir.join("para.txt"),
            format!("---\ntitle: 一段长文\nurl: https://example.com/p\n---\n\n{paragraph}\n"),
        )
        .expect("write");
    })
    .await;
    let before = h.fake.requests_for("sendmessage").len();
    h.fake
        .push_update(support::text_message(80, "private", 80, "/read 0"));
    // The header, then the paragraph in two pieces.
    let sent = h.fake.wait_for("sendmessage", before + 3, WAIT).await;
    let text: String = sent[before..]
        .iter()
        .map(|r| valid_html(&r.params))
        .collect::<Vec<_>>()
        .concat();
    for i in 0..400 {
        assert!(
            text.contains(&format!("这是第{i:03}个编号的句子。")),
            "sentence {i} lost"
        );
    }
    h.stop().await;
}

/// Round 3, finding 7: many chats reading the same long article share one copy of the
/// document, however many replies carry it.
#[test]
fn readers_of_one_long_article_share_one_copy() {
    use jianbao::app::{App, ChatKind, Incoming};
    use std::sync::Arc;
    let seeds = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    write_fulltext_corpus(seeds.path());
    let index = Arc::new(jianbao::index::SearchIndex::open(data.path()).unwrap());
    index.sync(seeds.path(), None).unwrap();
    let store = Arc::new(jianbao::store::Store::open(data.path()).unwrap());
    let app = App::new(
        index,
        store,
        Settings::default(),
        seeds.path().to_path_buf(),
    );
    let read = |chat: i64| {
        let replies = app.handle_message(
            &Incoming {
                chat_id: chat,
                kind: if chat < 0 {
                    ChatKind::Group
                } else {
                    ChatKind::Private
                },
                user_id: 7,
                text: "/read long".to_owned(),
                sender_is_chat_admin: true,
            },
            chrono::Utc::now(),
        );
        assert_eq!(replies.len(), 1);
        replies[0].document.clone().expect("a document").content
    };
    let copies: Vec<_> = (1..=20).chain([-100]).map(read).collect();
    assert!(copies[0].contains("长文第599段"));
    assert!(copies.iter().all(|c| Arc::ptr_eq(c, &copies[0])));
}
