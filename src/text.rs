//! Text analysis shared by documents and queries: folding (script, width, case) and the two
//! tokenizations the index uses (jieba search-mode words and overlapping CJK bigrams).
//!
//! Everything is folded *before* tokenizing, so a query typed in traditional characters, in
//! full-width letters or in another case meets the same terms as the documents.

use std::collections::HashMap;
use std::sync::LazyLock;

use ferrous_opencc::OpenCC;
use ferrous_opencc::config::BuiltinConfig;
use jieba_rs::Jieba;
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// Loading jieba's dictionary takes ~0.15 s: do it once per process.
static JIEBA: LazyLock<Jieba> = LazyLock::new(Jieba::new);

/// Forces the dictionary load now (start-up) rather than on the first query.
pub fn warm_up() {
    LazyLock::force(&JIEBA);
    LazyLock::force(&T2S_CHARS);
}

/// Folds one character for searching: full-width ASCII forms to ASCII, ideographic space to a
/// space, ASCII upper case to lower case. Traditional→simplified is done by [`fold`].
fn fold_width_case(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => {
            let ascii = char::from_u32(c as u32 - 0xFEE0).unwrap_or(c);
            ascii.to_ascii_lowercase()
        }
        '\u{3000}' => ' ',
        _ => c.to_ascii_lowercase(),
    }
}

/// OpenCC's traditional→simplified conversion (phrases first, then characters), with its
/// dictionaries embedded in the binary.
static T2S: LazyLock<Option<OpenCC>> = LazyLock::new(|| {
    OpenCC::from_config(BuiltinConfig::T2s)
        .inspect_err(|e| tracing::error!("traditional→simplified folding is off: {e}"))
        .ok()
});

/// Each ideograph that OpenCC converts on its own, with its simplified form. Built once from
/// the converter (~4,100 characters, ~20 ms): it says in one bit test per character whether
/// a text needs the converter at all (almost no simplified article does), and it is the
/// character-by-character fallback that keeps offsets aligned.
struct SingleChars {
    /// One bit per code point below [`SingleChars::LIMIT`]: converted on its own.
    bits: Vec<u64>,
    map: HashMap<char, char>,
}

impl SingleChars {
    /// Above the last CJK range.
    const LIMIT: u32 = 0x30000;

    fn build(converter: Option<&OpenCC>) -> SingleChars {
        let mut table = SingleChars {
            bits: vec![0; (Self::LIMIT / 64) as usize],
            map: HashMap::new(),
        };
        let Some(converter) = converter else {
            return table;
        };
        let mut buf = [0u8; 4];
        for c in CJK_RANGES
            .iter()
            .flat_map(|r| r.clone())
            .filter_map(char::from_u32)
        {
            let converted = converter.convert(c.encode_utf8(&mut buf));
            let mut chars = converted.chars();
            if let (Some(one), None) = (chars.next(), chars.next())
                && one != c
            {
                table.map.insert(c, one);
                let cp = c as u32;
                table.bits[(cp / 64) as usize] |= 1 << (cp % 64);
            }
        }
        table
    }

    fn converts(&self, c: char) -> bool {
        let cp = c as u32;
        cp < Self::LIMIT && self.bits[(cp / 64) as usize] & (1 << (cp % 64)) != 0
    }

    fn convert(&self, c: char) -> char {
        if self.converts(c) {
            *self.map.get(&c).unwrap_or(&c)
        } else {
            c
        }
    }
}

static T2S_CHARS: LazyLock<SingleChars> = LazyLock::new(|| SingleChars::build(T2S.as_ref()));

/// Folds text for indexing and querying. The result has exactly as many `char`s as the input,
/// one for one, so character offsets found in the folded text are valid in the original
/// (the excerpt highlighter relies on this).
pub fn fold(text: &str) -> String {
    let chars = &*T2S_CHARS;
    let simplified = match T2S.as_ref() {
        Some(converter) if text.chars().any(|c| chars.converts(c)) => {
            let converted = converter.convert(text);
            if converted.chars().count() == text.chars().count() {
                converted
            } else {
                // A phrase rule changed the length: convert character by character instead,
                // which keeps the alignment at the cost of phrase-level accuracy (rare).
                text.chars().map(|c| chars.convert(c)).collect()
            }
        }
        // Nothing to convert: a phrase rule needs at least one traditional character.
        _ => text.to_owned(),
    };
    simplified.chars().map(fold_width_case).collect()
}

/// Code points of CJK ideographs (unified, extension A–F, compatibility).
const CJK_RANGES: [std::ops::RangeInclusive<u32>; 4] = [
    0x3400..=0x4DBF,
    0x4E00..=0x9FFF,
    0xF900..=0xFAFF,
    0x20000..=0x2FA1F,
];

/// CJK ideographs (unified, extension A–F, compatibility).
pub fn is_cjk(c: char) -> bool {
    let cp = c as u32;
    CJK_RANGES.iter().any(|r| r.contains(&cp))
}

/// A token worth indexing has at least one letter or digit: jieba also emits whitespace and
/// punctuation as tokens, and indexing those makes every query with a space match everything.
fn is_searchable(word: &str) -> bool {
    // Fast path: a CJK first character (the common case) is searchable.
    word.chars().next().is_some_and(is_cjk) || word.chars().any(char::is_alphanumeric)
}

/// Jieba search-mode words of already folded text (`人工智能` also yields `人工`, `智能`).
pub fn words(folded: &str) -> Vec<&str> {
    JIEBA
        .cut_for_search(folded, true)
        .into_iter()
        .map(|t| t.word)
        .filter(|w| is_searchable(w))
        .collect()
}

/// Byte ranges of jieba's default-mode words of folded text. With `hmm`, unknown character
/// sequences are joined into new words (names, but also `刘七是`); without, they stay single
/// characters and only dictionary words are longer.
pub fn default_cut(folded: &str, hmm: bool) -> Vec<(usize, usize)> {
    JIEBA
        .cut(folded, hmm)
        .into_iter()
        .map(|t| (t.byte_start, t.byte_end))
        .collect()
}

/// The words of a phrase as jieba's default mode cuts it, each with its character offset
/// (the position space of [`WordsTokenizer`]). Spaces next to CJK characters are dropped
/// first: `"全球 治理"` means the words side by side.
pub fn phrase_words(folded: &str) -> Vec<(usize, String)> {
    let chars: Vec<char> = folded.chars().collect();
    let compact: String = chars
        .iter()
        .enumerate()
        .filter(|&(i, c)| {
            !c.is_whitespace()
                || !(i > 0 && is_cjk(chars[i - 1]) || chars.get(i + 1).copied().is_some_and(is_cjk))
        })
        .map(|(_, c)| *c)
        .collect();
    JIEBA
        .cut(&compact, true)
        .into_iter()
        .filter(|t| is_searchable(t.word))
        .map(|t| (t.start, t.word.to_owned()))
        .collect()
}

/// A token with its byte range in the folded text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span<'a> {
    pub text: &'a str,
    pub start: usize,
    pub end: usize,
}

/// Overlapping CJK bigrams (a lone CJK character stays a unigram) and whole alphanumeric
/// words, in text order. Bigrams make phrase search an exact substring match and catch words
/// that jieba segments differently in a query and in a document.
pub fn bigrams(folded: &str) -> Vec<Span<'_>> {
    let mut pos = 0;
    std::iter::from_fn(|| next_bigram(folded, &mut pos)).collect()
}

/// The next bigram or word at or after byte `*pos`; advances `*pos`.
fn next_bigram<'a>(text: &'a str, pos: &mut usize) -> Option<Span<'a>> {
    loop {
        let rest = text.get(*pos..)?;
        let mut chars = rest.char_indices();
        let (_, c) = chars.next()?;
        let start = *pos;
        if is_cjk(c) {
            let first_len = c.len_utf8();
            match chars.next() {
                Some((_, d)) if is_cjk(d) => {
                    // Bigram; the next one starts at the second character.
                    *pos = start + first_len;
                    let end = *pos + d.len_utf8();
                    return Some(Span {
                        text: &text[start..end],
                        start,
                        end,
                    });
                }
                _ => {
                    *pos = start + first_len;
                    // A lone character, unless it ends a run (then the last bigram covered it).
                    let preceded_by_cjk = text[..start].chars().next_back().is_some_and(is_cjk);
                    if !preceded_by_cjk {
                        return Some(Span {
                            text: &text[start..*pos],
                            start,
                            end: *pos,
                        });
                    }
                }
            }
        } else if c.is_alphanumeric() {
            let len: usize = rest
                .chars()
                .take_while(|&d| d.is_alphanumeric() && !is_cjk(d))
                .map(char::len_utf8)
                .sum();
            *pos = start + len;
            return Some(Span {
                text: &text[start..*pos],
                start,
                end: *pos,
            });
        } else {
            *pos = start + c.len_utf8();
        }
    }
}

/// Characters that join Latin letters and digits into one identifier: `cve-2024-3400`,
/// `gpt-4o`, `v1.2.3`, `zhang.san@example.com`, `c++`-like names with a following letter.
const ID_JOINERS: &[char] = &['-', '_', '.', '@', '+'];
/// Characters that join the pieces of a URL or path (`https://a.com/x?id=1`).
const URL_JOINERS: &[char] = &['/', ':', '?', '=', '&', '#', '%', '~'];

/// A Latin letter or digit (any script's alphanumerics except CJK ideographs).
fn is_latin_alnum(c: char) -> bool {
    c.is_alphanumeric() && !is_cjk(c)
}

/// Maximal runs of Latin letters and digits, where a sequence of `joiners` between two
/// alphanumerics continues the run (a trailing `.` or `-` is left out).
fn latin_runs<'a>(text: &'a str, joiners: &dyn Fn(char) -> bool) -> Vec<Span<'a>> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let byte_at = |i: usize| chars.get(i).map_or(text.len(), |c| c.0);
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !is_latin_alnum(chars[i].1) {
            i += 1;
            continue;
        }
        let start = i;
        let mut end = i + 1;
        loop {
            let mut k = end;
            while k < chars.len() && joiners(chars[k].1) {
                k += 1;
            }
            if k < chars.len() && is_latin_alnum(chars[k].1) {
                end = k + 1;
            } else {
                break;
            }
        }
        let (b0, b1) = (byte_at(start), byte_at(end));
        out.push(Span {
            text: &text[b0..b1],
            start: b0,
            end: b1,
        });
        i = end;
    }
    out
}

/// True when a Latin run is made of several pieces (`cve-2024-3400`, not `h20`).
pub fn is_compound(run: &str) -> bool {
    !run.chars().all(is_latin_alnum)
}

/// The Latin/digit tokens of a query, whole (`cve-2024-3400`, `gpt-4o`, `5g`, `h20`, a URL).
pub fn query_atoms(folded: &str) -> Vec<Span<'_>> {
    latin_runs(folded, &|c| {
        ID_JOINERS.contains(&c) || URL_JOINERS.contains(&c)
    })
}

/// What the atoms field indexes: every compound Latin/digit run whole, and inside a URL or
/// path also its identifier-like pieces (`nvd.nist.gov`, `cve-2024-3400` of a link), so an id
/// is found whether it was written alone or inside a link. Simple runs (`h20`, `2024`) are
/// already whole terms of the bigram fields.
pub fn atoms(folded: &str) -> Vec<Span<'_>> {
    let mut out = Vec::new();
    for run in query_atoms(folded) {
        let has_url_joiner = run.text.contains(URL_JOINERS);
        if !has_url_joiner {
            let compound = is_compound(run.text);
            if compound {
                out.push(run.clone());
            }
            ids_inside(&run, &mut out);
            continue;
        }
        out.push(run.clone());
        for piece in latin_runs(run.text, &|c| ID_JOINERS.contains(&c)) {
            let piece = Span {
                text: piece.text,
                start: run.start + piece.start,
                end: run.start + piece.end,
            };
            if is_compound(piece.text) {
                out.push(piece.clone());
            }
            ids_inside(&piece, &mut out);
        }
    }
    out
}

/// Well-known identifier shapes, folded (lowercase): vulnerability ids (CVE, CNVD and
/// CNVD-C, CNNVD, QVD, AVD, XVE, GHSA, ZDI, VMSA, RHSA, USN, DSA, PYSEC, RUSTSEC), weakness
/// classes (CWE), Microsoft knowledge-base articles and bulletins (KB, MS). Scraped text glues
/// them to their neighbours (`1821cve-2022-1011`, `windowscve-2024-49088windows`,
/// `编号cve-2024-1234` is already apart); [`atoms`] indexes each one found inside a longer run
/// as a whole id too. The list is in README ("Search").
static ID_SHAPES: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(
        r"cve-\d{4}-\d{4,7}|cnvd-(?:c-)?\d{4}-\d{3,7}|cnnvd-\d{4,6}-\d{1,6}|(?:qvd|avd|xve)-\d{4}-\d{2,7}|ghsa(?:-[2-9cfghjmpqrvwx]{4}){3}|zdi-(?:can-)?\d{2}-\d{3,5}|vmsa-\d{4}-\d{4}|rhsa-\d{4}:\d{4,5}|usn-\d{4,5}-\d{1,2}|dsa-\d{4,5}-\d{1,2}|(?:py|rust)sec-\d{4}-\d{1,5}|cwe-\d{1,4}|kb\d{6,7}|ms\d{2}-\d{3}",
    )
    .expect("valid regex")
});

/// The ids of [`ID_SHAPES`] inside `run` that are not the whole run.
fn ids_inside<'a>(run: &Span<'a>, out: &mut Vec<Span<'a>>) {
    let text = run.text;
    if text.len() < 7 || !text.bytes().any(|b| b.is_ascii_digit()) {
        return;
    }
    for m in ID_SHAPES.find_iter(text) {
        if m.len() < text.len() {
            out.push(Span {
                text: m.as_str(),
                start: run.start + m.start(),
                end: run.start + m.end(),
            });
        }
    }
}

/// Name under which [`AtomsTokenizer`] is registered with tantivy.
pub const ATOMS_TOKENIZER: &str = "jb_atoms";

/// Tantivy tokenizer over [`atoms`]. Input must already be [`fold`]ed.
#[derive(Clone, Default)]
pub struct AtomsTokenizer;

/// Token stream over the atoms of one text, computed up front (they are few).
pub struct AtomsTokenStream {
    atoms: std::vec::IntoIter<(usize, usize, String)>,
    ordinal: usize,
    token: Token,
}

impl TokenStream for AtomsTokenStream {
    fn advance(&mut self) -> bool {
        let Some((start, end, text)) = self.atoms.next() else {
            return false;
        };
        self.token.text = text;
        self.token.offset_from = start;
        self.token.offset_to = end;
        self.token.position = self.ordinal;
        self.ordinal += 1;
        true
    }
    fn token(&self) -> &Token {
        &self.token
    }
    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

impl Tokenizer for AtomsTokenizer {
    type TokenStream<'a> = AtomsTokenStream;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> AtomsTokenStream {
        let atoms: Vec<(usize, usize, String)> = atoms(text)
            .into_iter()
            .map(|s| (s.start, s.end, s.text.to_owned()))
            .collect();
        AtomsTokenStream {
            atoms: atoms.into_iter(),
            ordinal: 0,
            token: Token::default(),
        }
    }
}

/// Name under which [`WordsTokenizer`] is registered with tantivy.
pub const WORDS_TOKENIZER: &str = "jb_words";
/// Name under which [`BigramTokenizer`] is registered with tantivy.
pub const BIGRAM_TOKENIZER: &str = "jb_bigram";

/// Tantivy tokenizer over jieba search-mode words. Input must already be [`fold`]ed.
#[derive(Clone, Default)]
pub struct WordsTokenizer;

/// Tantivy tokenizer over [`bigrams`]. Input must already be [`fold`]ed.
#[derive(Clone, Default)]
pub struct BigramTokenizer;

/// Token stream over jieba's output: one reused tantivy token, no allocation per token.
pub struct WordsTokenStream<'a> {
    words: std::vec::IntoIter<jieba_rs::Token<'a>>,
    token: Token,
}

impl TokenStream for WordsTokenStream<'_> {
    fn advance(&mut self) -> bool {
        for w in self.words.by_ref() {
            if !is_searchable(w.word) {
                continue;
            }
            self.token.text.clear();
            self.token.text.push_str(w.word);
            self.token.offset_from = w.byte_start;
            self.token.offset_to = w.byte_end;
            // Position = character offset: search mode's sub-words then share the position
            // space of the whole words, so a phrase can be matched with explicit offsets.
            self.token.position = w.start;
            return true;
        }
        false
    }
    fn token(&self) -> &Token {
        &self.token
    }
    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

impl Tokenizer for WordsTokenizer {
    type TokenStream<'a> = WordsTokenStream<'a>;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordsTokenStream<'a> {
        let mut words = JIEBA.cut_for_search(text, true);
        // Search mode emits a word's parts before the word; order by offset so positions
        // never go backwards.
        words.sort_by_key(|t| (t.start, t.end));
        WordsTokenStream {
            words: words.into_iter(),
            token: Token::default(),
        }
    }
}

/// Token stream over [`bigrams`], computed lazily.
pub struct BigramTokenStream<'a> {
    text: &'a str,
    pos: usize,
    ordinal: usize,
    /// Byte end of the previous token: a token that does not overlap it starts a new run.
    last_end: usize,
    token: Token,
}

impl TokenStream for BigramTokenStream<'_> {
    fn advance(&mut self) -> bool {
        let Some(span) = next_bigram(self.text, &mut self.pos) else {
            return false;
        };
        self.token.text.clear();
        self.token.text.push_str(span.text);
        self.token.offset_from = span.start;
        self.token.offset_to = span.end;
        // Overlapping bigrams of one run take consecutive positions; a new run skips one, so
        // a phrase of bigrams (a word's exact character sequence) never spans a break.
        if self.ordinal > 0 && span.start >= self.last_end {
            self.ordinal += 1;
        }
        self.last_end = span.end;
        self.token.position = self.ordinal;
        self.ordinal += 1;
        true
    }
    fn token(&self) -> &Token {
        &self.token
    }
    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

impl Tokenizer for BigramTokenizer {
    type TokenStream<'a> = BigramTokenStream<'a>;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> BigramTokenStream<'a> {
        BigramTokenStream {
            text,
            pos: 0,
            ordinal: 0,
            last_end: 0,
            token: Token::default(),
        }
    }
}

/// Characters that must never reach a reader: control characters (a NUL from a UTF-16 file
/// read as bytes, escape sequences) and the bidirectional overrides and isolates that can
/// flip a line's direction and disguise what follows. Line breaks and tabs are kept.
pub fn is_hidden_control(c: char) -> bool {
    (c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{061c}')
}

/// `text` without [`is_hidden_control`] characters (borrowed when it has none).
pub fn strip_hidden_controls(text: &str) -> std::borrow::Cow<'_, str> {
    if text.chars().any(is_hidden_control) {
        std::borrow::Cow::Owned(text.chars().filter(|c| !is_hidden_control(*c)).collect())
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_width_case_and_script_one_to_one() {
        assert_eq!(fold("ＡＩ２０２４ Ai"), "ai2024 ai");
        assert!(fold("臺灣的人工智慧").starts_with("台湾的人工"));
        let original = "這是一個測試：ＯＫ";
        assert_eq!(fold(original).chars().count(), original.chars().count());
    }

    #[test]
    fn converts_phrases_where_characters_alone_would_be_wrong() {
        // Character by character 畫 is 画 (计画); OpenCC's phrase table knows 計畫 is 计划.
        assert_eq!(fold("計畫"), "计划");
        assert_eq!(fold("乾隆年間"), "乾隆年间");
        assert_eq!(fold("乾燥"), "干燥");
        // Simplified text, the common case, is left as it is.
        let simplified = "国务院常务会议研究乡村振兴、著作权保护";
        assert_eq!(fold(simplified), simplified);
    }

    #[test]
    fn traditional_and_simplified_meet() {
        assert_eq!(words(&fold("國務院")), words(&fold("国务院")));
        let folded = fold("臺灣的經濟");
        assert!(words(&folded).contains(&"台湾"), "{folded}");
    }

    #[test]
    fn search_mode_emits_sub_words_and_drops_punctuation() {
        let folded = fold("中国农业发展银行， 人工智能！");
        let w = words(&folded);
        assert!(w.contains(&"农业"), "{w:?}");
        assert!(w.contains(&"智能"), "{w:?}");
        assert!(
            w.iter().all(|t| t.chars().any(char::is_alphanumeric)),
            "{w:?}"
        );
    }

    #[test]
    fn phrase_words_have_char_offsets() {
        assert_eq!(
            phrase_words("全球 治理"),
            vec![(0, "全球".to_owned()), (2, "治理".to_owned())]
        );
        assert_eq!(
            phrase_words("machine learning"),
            vec![(0, "machine".to_owned()), (8, "learning".to_owned())]
        );
    }

    #[test]
    fn words_stream_positions_never_go_backwards() {
        let mut tokenizer = WordsTokenizer;
        let mut stream = tokenizer.token_stream("中华人民共和国国务院总理，人工智能治理");
        let mut last = 0;
        while stream.advance() {
            assert!(stream.token().position >= last);
            last = stream.token().position;
        }
    }

    #[test]
    fn atoms_keep_ids_whole() {
        fn texts(v: Vec<Span<'_>>) -> Vec<&str> {
            v.into_iter().map(|s| s.text).collect()
        }
        assert_eq!(
            texts(query_atoms("漏洞cve-2024-3400和gpt-4o、h20，5g.")),
            vec!["cve-2024-3400", "gpt-4o", "h20", "5g"]
        );
        assert_eq!(
            texts(atoms(
                "见 https://nvd.nist.gov/vuln/cve-2024-3400。版本 1.2.3, ok"
            )),
            vec![
                "https://nvd.nist.gov/vuln/cve-2024-3400",
                "nvd.nist.gov",
                "cve-2024-3400",
                "1.2.3"
            ]
        );
        assert_eq!(
            texts(atoms("zhang.san@example.com")),
            vec!["zhang.san@example.com"]
        );
        assert!(atoms("h20 2024 人工智能").is_empty());
        // Ids glued to their neighbours are found inside the run, whole.
        for (glued, id) in [
            ("1821cve-2022-1011", "cve-2022-1011"),
            ("windowscve-2024-49088windows", "cve-2024-49088"),
            (
                "漏洞cnnvd-202203-1821cve-2022-1011高危",
                "cnnvd-202203-1821",
            ),
            ("updatekb5034441", "kb5034441"),
            ("公告ms17-010a", "ms17-010"),
            ("xghsa-wrx5-rp7m-mm49", "ghsa-wrx5-rp7m-mm49"),
        ] {
            assert!(texts(atoms(glued)).contains(&id), "{glued}: {id}");
        }
        assert!(is_compound("cve-2024") && !is_compound("h20"));
    }

    #[test]
    fn bigram_positions_skip_between_runs() {
        let mut tokenizer = BigramTokenizer;
        let mut stream = tokenizer.token_stream("人工智能。守谦");
        let mut positions = Vec::new();
        while stream.advance() {
            positions.push((stream.token().text.clone(), stream.token().position));
        }
        let p: Vec<usize> = positions.iter().map(|(_, p)| *p).collect();
        assert_eq!(p, vec![0, 1, 2, 4], "{positions:?}");
    }

    #[test]
    fn bigrams_of_runs_and_words() {
        let b: Vec<&str> = bigrams("人工智能，国 ai2024治理")
            .into_iter()
            .map(|s| s.text)
            .collect();
        assert_eq!(b, vec!["人工", "工智", "智能", "国", "ai2024", "治理"]);
        assert!(bigrams("").is_empty());
        assert!(bigrams("，。！ 🙂").is_empty());
    }
}
