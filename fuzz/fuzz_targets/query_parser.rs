//! Arbitrary text → `query::parse` → `build_query` (and `filter_query`): never panics. The query is also run on a
//! small real index (ranked and date-sorted, with needles and excerpts as `search::run` does),
//! since some tantivy queries only fail when they are executed. The index is built in memory
//! with one indexing thread, so its segment layout (and so every crash) is reproducible.
#![no_main]

use std::sync::LazyLock;

use jianbao::index::Fields;
use jianbao::search::{self, query};
use jianbao_fuzz::ram_index::ram_index;
use libfuzzer_sys::fuzz_target;
use tantivy::collector::{Count, TopDocs};
use tantivy::{Searcher, TantivyDocument};

/// Two segments: the seed article and three small ones, then two more.
const SEGMENTS: &[&[&[u8]]] = &[
    &[
        include_bytes!("../../seeds/000_0f03e1939e23d3b0.txt"),
        "---\ntitle: 臺灣 ＡＩ 人工智能治理\nsource: 新闻联播\ndate: 2024-07-01\n---\n人工智能与经济。machine learning 🙂".as_bytes(),
        "---\ntitle: 贸易战\nsource: 中国信息安全\ndate: 2023-01-02\n---\n人工智能的全球治理，数字经济。美国".as_bytes(),
        "---\ntitle: 第三篇\n---\n美国 \"全球 治理\" after:2024 source:x 全球治理全球治理".as_bytes(),
    ],
    &[
        "---\ntitle: 数字经济\nsource: 新闻联播\ndate: 2024-08-01\n---\n数字经济 全球 治理 𠀀 ＡＢＣ".as_bytes(),
        "没有标题的正文：人工智能".as_bytes(),
    ],
];

static INDEX: LazyLock<(Searcher, Fields)> = LazyLock::new(|| ram_index(SEGMENTS));

fuzz_target!(|input: &str| {
    let (searcher, f) = &*INDEX;
    let parsed = query::parse(input);
    let q = search::build_query(f, &parsed);
    let (top, _count) = searcher
        .search(&q, &(TopDocs::with_limit(10).order_by_score(), Count))
        .unwrap();
    // Date order, as `search::run` sorts a query without words.
    let by_date = TopDocs::with_limit(10).tweak_score(|segment: &tantivy::SegmentReader| {
        let dates = segment
            .fast_fields()
            .i64("date")
            .unwrap()
            .first_or_default_col(0);
        move |doc, score| (dates.get_val(doc), score)
    });
    let _ = searcher.search(&q, &by_date).unwrap();
    // The same input as a subscription's keyword filter.
    let _ = searcher
        .search(&search::filter_query(f, &parsed), &Count)
        .unwrap();
    let needles = search::needles(searcher, f, &parsed);
    for (score, address) in top {
        let doc: TantivyDocument = searcher.doc(address).unwrap();
        let hit = search::hit_from_doc(f, &doc, score, &needles, search::EXCERPT_CHARS);
        let _ = hit.excerpt.html();
    }
});
