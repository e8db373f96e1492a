//! (body, needles, max) → `excerpt`: never panics, at most `max(10, max)` characters, highlight
//! ranges sorted and inside the text, `.html()` (also shortened) is valid Telegram HTML.
#![no_main]

use arbitrary::Arbitrary;
use jianbao::search::excerpt::{Needle, excerpt};
use jianbao::text::fold;
use jianbao_fuzz::assert_valid_html;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    body: String,
    /// Needle text, whether to fold it first (search always does), weight.
    needles: Vec<(String, bool, u8)>,
    max: u16,
    shorten: u16,
}

fuzz_target!(|input: Input| {
    let needles: Vec<Needle> = input
        .needles
        .iter()
        .take(8)
        .map(|(text, folded, weight)| {
            let text = if *folded { fold(text) } else { text.clone() };
            let w = f32::from(*weight) / 16.0;
            // By the weight's byte: a sixth of the needles numbers, half hints.
            match *weight % 6 {
                0 => Needle::number(w),
                1 | 3 | 5 => Needle::hint(text, w),
                _ => Needle::text(text, w),
            }
        })
        .collect();
    let max = usize::from(input.max);
    let e = excerpt(&input.body, &needles, max);
    let len = e.text.chars().count();
    assert!(len <= max.max(10), "{len} chars > max {max}: {e:?}");
    let mut last_end = 0;
    for r in &e.highlights {
        assert!(
            r.start < r.end && r.start >= last_end && r.end <= len,
            "bad ranges {e:?}"
        );
        last_end = r.end;
    }
    assert_valid_html("excerpt", &e.html(), usize::MAX);
    let _ = e.plain();
    let short = e.shortened(usize::from(input.shorten));
    assert!(short.text.chars().count() <= usize::from(input.shorten).max(len));
    assert_valid_html("shortened excerpt", &short.html(), usize::MAX);
});
