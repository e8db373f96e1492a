//! Helpers shared by the fuzz targets in `fuzz_targets/`.

/// Telegram's HTML parse mode as a checker: the same file the integration tests use.
#[path = "../../tests/support/telegram_html.rs"]
pub mod html;

/// An in-memory index with a chosen segment layout: the same file the regression tests use.
#[path = "../../tests/support/ram_index.rs"]
pub mod ram_index;

use chrono::NaiveDate;
use jianbao::search::Hit;
use jianbao::search::excerpt::{Needle, excerpt};
use jianbao::text::{fold, words};

/// The page chrome that `corpus::parse` promises to remove (README, "Seed files").
pub const CHROME_MARKERS: &[&str] = &["预览时标签不可点", "微信扫一扫", "轻点两下取消赞"];

/// Needles the way search builds them for a query: its folded jieba words.
pub fn needles_for(query: &str) -> Vec<Needle> {
    words(&fold(query))
        .into_iter()
        .map(|w| Needle::text(w, 1.0))
        .collect()
}

/// A hit the way `search::hit_from_doc` builds one, from loose parts.
pub fn make_hit(
    title: &str,
    source: &str,
    url: &str,
    body: &str,
    date_days: Option<u16>,
    needles: &[Needle],
    excerpt_chars: usize,
) -> Hit {
    Hit {
        key: "k".into(),
        id: "id".into(),
        title: title.to_owned(),
        url: url.to_owned(),
        source: source.to_owned(),
        // Days from 2000-01-01: a valid date, so `date_and_source` always has one to format.
        date: date_days.and_then(|d| {
            NaiveDate::from_ymd_opt(2000, 1, 1)?.checked_add_days(chrono::Days::new(d.into()))
        }),
        score: 1.0,
        // An empty body stands for a page without text: the marker instead of an excerpt.
        excerpt: if body.is_empty() {
            jianbao::search::Excerpt::unhighlighted(
                jianbao::corpus::status::TextState::Deleted.marker(),
            )
        } else {
            excerpt(body, needles, excerpt_chars)
        },
        seq: 7,
        story: 7,
        also: Vec::new(),
    }
}

/// Panics with the offending HTML when `html` is not valid Telegram HTML or is over `max`
/// visible characters.
pub fn assert_valid_html(what: &str, html: &str, max: usize) {
    match html::check_telegram_html(html) {
        Ok(len) => assert!(len <= max, "{what}: {len} > {max} visible chars: {html:?}"),
        Err(e) => panic!("{what}: invalid Telegram HTML: {e}: {html:?}"),
    }
}
