//! Arbitrary hits and query → `results_page` is valid Telegram HTML within 4096 characters;
//! `split_message` of arbitrary escaped blocks gives valid parts within the limit;
//! `digest::render` gives valid, non-blank parts within 4096 characters; `/latest`'s page (up
//! to 20 hit blocks, first part of `split_message`, as in `app::App`) too.
#![no_main]

use arbitrary::Arbitrary;
use jianbao::digest::{self, Digest};
use jianbao::render::{
    TELEGRAM_MAX_CHARS, escape_html, hit_block, html_to_plain, linked_title, results_page,
    split_message,
};
use jianbao::search::{SearchResults, query};
use jianbao_fuzz::{assert_valid_html, make_hit, needles_for};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct HitIn {
    title: String,
    source: String,
    /// Prefixed with `https://` when `http` is set, so links are made too.
    url: String,
    http: bool,
    body: String,
    date: Option<u16>,
}

#[derive(Arbitrary, Debug)]
enum Block {
    Plain(String),
    Bold(String, String),
    Link(String, String),
}

#[derive(Arbitrary, Debug)]
struct Input {
    query: String,
    hits: Vec<HitIn>,
    excerpt_chars: u8,
    offset: u16,
    page: u8,
    pages: u8,
    total_extra: u16,
    label: String,
    blocks: Vec<Block>,
    max: u16,
}

/// Scraped fields are stored the way `corpus::parse` leaves them: on one line.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fuzz_target!(|input: Input| {
    let needles = needles_for(&input.query);
    // A search page shows at most 10 results (RESULTS_PER_PAGE is 1–10), `/latest` 20.
    let hits: Vec<_> = input
        .hits
        .iter()
        .take(20)
        .map(|h| {
            let url = if h.http {
                format!("https://{}", h.url)
            } else {
                h.url.clone()
            };
            make_hit(
                &one_line(&h.title),
                &one_line(&h.source),
                &one_line(&url),
                &h.body,
                h.date,
                &needles,
                usize::from(input.excerpt_chars).max(1) * 2,
            )
        })
        .collect();
    let total = hits.len() + usize::from(input.total_extra);

    let results = SearchResults {
        query: query::parse(&input.query),
        total,
        offset: usize::from(input.offset),
        hits: hits.iter().take(10).cloned().collect(),
        // Missing terms and a cut of partial matches, from the query's own words.
        missing: input
            .query
            .split_whitespace()
            .take(usize::from(input.total_extra % 4))
            .map(str::to_owned)
            .collect(),
        partial: input.total_extra % 2 == 1,
        matched: total + usize::from(input.offset),
    };
    let page = results_page(
        &input.query,
        &results,
        usize::from(input.page),
        usize::from(input.pages),
    );
    assert_valid_html("results_page", &page, TELEGRAM_MAX_CHARS);

    // `/latest` (a copy of what `app::App` does with its hits).
    if !hits.is_empty() {
        let blocks: Vec<String> = hits
            .iter()
            .enumerate()
            .map(|(i, h)| hit_block(i + 1, h, jianbao::search::EXCERPT_CHARS))
            .collect();
        let html = format!(
            "🆕 <b>最新 {} 篇</b>（共 {} 篇）\n\n{}",
            hits.len(),
            total,
            blocks.join("\n\n")
        );
        let first = split_message(&html, TELEGRAM_MAX_CHARS).swap_remove(0);
        assert_valid_html("latest", &first, TELEGRAM_MAX_CHARS);
    }

    let d = Digest {
        items: hits,
        total,
        cursor: Some(1),
    };
    for part in digest::render(&d, &input.label, &input.query) {
        assert_valid_html("digest part", &part, TELEGRAM_MAX_CHARS);
        // Telegram refuses a message whose text is empty or blank.
        assert!(
            !html_to_plain(&part).trim().is_empty(),
            "blank digest part {part:?}"
        );
    }

    if !input.blocks.is_empty() {
        let html = input
            .blocks
            .iter()
            .take(64)
            .map(|b| match b {
                Block::Plain(t) => escape_html(t),
                Block::Bold(t, body) => format!("<b>{}</b>\n{}", escape_html(t), escape_html(body)),
                Block::Link(t, url) => {
                    format!(
                        "• <b>{}</b>",
                        linked_title(t, &format!("https://{}", one_line(url)))
                    )
                }
            })
            .collect::<Vec<_>>()
            .join("\n\n");
        let max = usize::from(input.max % 4096) + 1;
        for part in split_message(&html, max) {
            assert_valid_html("split part", &part, max);
        }
    }
});
