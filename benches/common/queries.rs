//! Queries for the benches (`search`, `scale`; `bot_latency` takes the fixed list), included by path.

use jianbao::index::SearchIndex;

/// Keyword queries people send a news search: phrases, exclusions, filters, questions,
/// traditional characters.
pub const FIXED: &[&str] = &[
    "人工智能",
    "国务院常务会议",
    "乡村振兴 农业",
    "\"高质量发展\"",
    "一带一路 合作",
    "芯片 -美国",
    "新能源汽车 出口",
    "臺灣 經濟",
    "习近平 会见",
    "防汛 救灾",
    "source:新闻联播 科技",
    "数字经济 after:2025-01-01",
    "疫情防控",
    "怎样推动消费增长？",
    "今年粮食产量是多少",
    "AI 大模型",
    "碳达峰 碳中和",
    "外贸 稳增长",
    "航天 发射 成功",
    "教育 改革",
];

/// Queries a user of a news search would type: title keywords, two-word combinations,
/// questions, phrases, filters, traditional characters.
pub fn queries(index: &SearchIndex, n: usize) -> Vec<String> {
    let searcher = index.searcher();
    let f = index.fields();
    let mut titles = Vec::new();
    let all = searcher
        .search(
            &tantivy::query::AllQuery,
            &tantivy::collector::TopDocs::with_limit(5000).order_by_score(),
        )
        .unwrap_or_default();
    for (i, (_, addr)) in all.iter().enumerate() {
        if i % 25 != 0 {
            continue;
        }
        let Ok(doc) = searcher.doc::<tantivy::TantivyDocument>(*addr) else {
            continue;
        };
        use tantivy::schema::Value;
        let title = doc
            .get_first(f.title)
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        // `[v003] 标题` in the scale volumes: the tag is not what a user types.
        let title = title.split_once("] ").map_or(title, |(_, t)| t);
        titles.push(title.to_owned());
    }
    let mut out: Vec<String> = FIXED.iter().map(|s| s.to_string()).collect();
    for t in titles {
        let words: Vec<&str> = jianbao::text::words(&t)
            .into_iter()
            .filter(|w| w.chars().count() >= 2)
            .collect();
        match out.len() % 3 {
            0 if words.len() >= 2 => out.push(format!("{} {}", words[0], words[words.len() - 1])),
            1 if !words.is_empty() => out.push(words[words.len() / 2].to_owned()),
            _ => out.push(t.chars().take(12).collect()),
        }
        if out.len() >= n {
            break;
        }
    }
    out
}
