//! Stage 1 of a search, analysis: the parsed query (`query.rs`) → the terms a result is expected
//! to contain whole, and what the query's words are (function words, question words).
//! Nothing here looks at the index.
//!
//! The terms of a query: the units a result is expected to contain whole, and that a reply
//! reports as missing when no article has them.
//!
//! - an **atom**: a Latin/digit token as one piece (`cve-2024-3400`, `gpt-4o`, `h20`, `5g`);
//! - a **word**: a jieba word of two or more CJK characters (`人工智能`, `举行`), or a short
//!   run typed on its own that jieba would cut into a lone character and a word (a name like
//!   `朱守谦` becomes `朱 / 守谦`; the user meant the three characters);
//! - a **unit**: outside questions, a run of 3 to 8 CJK characters typed as one thing that
//!   jieba cuts into words (`且末玉都机场`): its exact sequence; when no article has it, it is
//!   reported and its words stand in;
//! - a **phrase**: what the user put in quotes.
//!
//! Lone characters and function words are not terms: they still rank (BM25), but a result is
//! never required to have them, never credited for them and they are never highlighted.

use crate::text::{is_cjk, query_atoms};

use super::query::UserQuery;

/// Function words that say nothing about what is wanted; they still rank (BM25 gives them
/// little weight) but are not highlighted.
const STOPWORDS: &[&str] = &[
    "的",
    "了",
    "是",
    "在",
    "和",
    "与",
    "及",
    "或",
    "有",
    "为",
    "被",
    "把",
    "将",
    "对",
    "从",
    "由",
    "于",
    "以",
    "之",
    "也",
    "都",
    "而",
    "等",
    "吗",
    "呢",
    "吧",
    "啊",
    "么",
    "什么",
    "哪",
    "哪个",
    "哪些",
    "哪里",
    "谁",
    "怎么",
    "怎样",
    "如何",
    "为什么",
    "多少",
    "几",
    "是否",
    "这",
    "那",
    "这个",
    "那个",
    "一个",
    "用",
    "会",
    "能",
    "可以",
    // Question words: what is asked, not what the answer contains.
    "多大",
    "多长",
    "多久",
    "多高",
    "多远",
    "多少年",
    "何处",
    "何时",
    "何地",
    "何人",
    "为何",
    "哪儿",
    "哪位",
    "哪年",
    "哪一年",
    "哪种",
    "哪国",
    "几个",
    "几年",
    "几次",
    "怎么样",
    "什么样",
    "是什么",
    "叫什么",
    "a",
    "an",
    "the",
    "of",
    "and",
    "or",
    "to",
    "in",
    "is",
    "for",
    "on",
];

/// A function word ([`STOPWORDS`]) or a question word.
pub(crate) fn is_function_word(word: &str) -> bool {
    STOPWORDS.contains(&word) || is_question_word(word)
}

/// Question words jieba keeps as one word, by their shape rather than listed one by one:
/// `哪家`, `哪些地方`, `几类`, `第几名`, `多大`, `多长时间`, `需不需要`. They say what is asked,
/// never what the answer contains, so they are never required and never reported missing: on
/// the question set, 1,000 questions with an answer each, 60 reported one of them missing.
fn is_question_word(word: &str) -> bool {
    const HE: &[&str] = &[
        "何时", "何地", "何人", "何处", "何职", "何种", "何以", "何在", "何故", "何年", "因何",
        "为何", "如何", "有何",
    ];
    let c: Vec<char> = word.chars().collect();
    match c.as_slice() {
        ['哪', rest @ ..] => !rest.is_empty() && word != "哪吒",
        ['几', x] => *x != '何',
        ['第', '几', ..] => true,
        ['多', '少' | '长' | '久', ..] => true,
        ['多', x] => "大高远长久快重深宽厚".contains(*x),
        [a, '不' | '没', b, ..] => a == b,
        _ => HE.contains(&word) || matches!(word, "能否" | "可否" | "啥"),
    }
}

/// A parsed query and what analysis found in it.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub query: UserQuery,
    /// Its distinct terms, in the order typed.
    pub terms: Vec<QueryTerm>,
    /// Its length in words ([`query_length`]): keyword searches are short, questions long.
    pub length: usize,
    /// Its distinct CJK bigrams without a grammar or question character, in order: what a
    /// question's answer sentence may repeat across jieba's cuts (`被发` of `何时被发现`). The
    /// plan keeps those no present term holds as the excerpt's hints.
    pub bigrams: Vec<String>,
    /// Single CJK characters typed on their own, not function words: what the user asked for,
    /// highlighted although a lone character is never a term.
    pub lone_chars: Vec<String>,
    /// A question that asks how much, how many, how long or when (`有多长？`, `何时投入服务？`):
    /// its answer is a number, which the excerpt looks for near the question's words.
    pub wants_number: bool,
}

/// Analyses a parsed query.
pub fn analyze(query: UserQuery) -> Analysis {
    Analysis {
        terms: terms(&query),
        length: query_length(&query),
        bigrams: plain_bigrams(&query),
        lone_chars: lone_chars(&query),
        wants_number: wants_number(&query),
        query,
    }
}

/// The [`Analysis::bigrams`] of a query.
fn plain_bigrams(q: &UserQuery) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for piece in &q.text {
        for b in crate::text::bigrams(piece) {
            let text = b.text;
            let cjk = text.chars().count() == 2 && text.chars().all(is_cjk);
            let asking = asks(text) || text.chars().any(is_grammar_or_question_char);
            if cjk && !asking && !out.iter().any(|t| t == text) {
                out.push(text.to_owned());
            }
        }
    }
    out
}

/// What a question asks when it asks for a number: an amount, a size, a duration, a date.
const NUMBER_QUESTIONS: &[&str] = &[
    "多少",
    "几",
    "多大",
    "多高",
    "多长",
    "多重",
    "多远",
    "多深",
    "多宽",
    "多厚",
    "多久",
    "何时",
    "何年",
    "哪年",
    "哪一年",
    "哪天",
    "哪一天",
    "什么时候",
    "什么时间",
    "时间",
    "日期",
    "年份",
];

/// Words with `几` that do not ask for a number: `几乎`, `几何`, `茶几`, and `哪几`, which asks
/// which ones (`精通哪几门语言`).
const NOT_ASKING_JI: &[&str] = &["几乎", "几何", "茶几", "几率", "哪几"];

/// The [`Analysis::wants_number`] of a query.
fn wants_number(q: &UserQuery) -> bool {
    if !is_question(q) {
        return false;
    }
    q.text.iter().any(|piece| {
        let mut text = piece.clone();
        for w in NOT_ASKING_JI {
            text = text.replace(w, "");
        }
        NUMBER_QUESTIONS.iter().any(|w| text.contains(w))
    })
}

/// The [`Analysis::lone_chars`] of a query.
fn lone_chars(q: &UserQuery) -> Vec<String> {
    q.text
        .iter()
        .filter(|piece| {
            let mut chars = piece.chars();
            matches!((chars.next(), chars.next()), (Some(c), None) if is_cjk(c))
                && !is_function_word(piece)
        })
        .cloned()
        .collect()
}

/// More terms than this are not checked one by one (a pasted paragraph).
pub const MAX_TERMS: usize = 16;

/// A CJK run of at most this many characters, typed alone, is one term even when jieba cuts a
/// lone character off it (names: `朱守谦`, `王小川`).
const SHORT_RUN_CHARS: usize = 4;

/// Outside questions, a CJK run of 3 to this many characters between spaces or punctuation is
/// a [`TermKind::Unit`]: what the user typed as one thing (`且末玉都机场`, `地球公民基金会`,
/// `塔吉克斯坦索莫尼`). Measured on the titles of cmrc-trial's 256 Wikipedia articles (the
/// names a user types): of the 176 all-Chinese ones of 3 or more characters, 85 % have at most
/// 6, 93 % at most 8, 98 % at most 10; a longer run is more and more often a sentence pasted or
/// typed without spaces, whose words the answer need not repeat in order.
const UNIT_MAX_CHARS: usize = 8;

/// Characters of grammar: as a word of a run, one makes it a sentence rather than a name, so
/// not a unit (`美国的芯片` is 美国 and 芯片; `准确与精密` stays one).
const GRAMMAR_CHARS: &[char] = &[
    '的', '了', '是', '在', '吗', '呢', '吧', '啊', '把', '被', '着', '过',
];

/// Characters of question words (`什么`, `哪里`, `谁`, `怎么`, `啥`).
const QUESTION_CHARS: &[char] = &['什', '么', '哪', '谁', '怎', '啥'];

/// A character of grammar or of a question word: a query bigram with one says nothing of
/// the answer (`的将` of `谁的将领`; `为食` of `以什么为食` does).
fn is_grammar_or_question_char(c: char) -> bool {
    GRAMMAR_CHARS.contains(&c) || QUESTION_CHARS.contains(&c)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TermKind {
    /// A Latin/digit token without joiners (`h20`, `5g`, `2024`): a whole term of the
    /// bigram fields.
    Atom,
    /// A Latin/digit token with joiners (`cve-2024-3400`): a term of the atoms field.
    CompoundAtom,
    /// Two or more CJK characters: their exact sequence (a phrase of their bigrams).
    Word,
    /// Characters jieba left alone, side by side inside a longer run (an unknown name:
    /// `黄华麒是哪个大学毕业的`). Searched like a word; when no article has them together, the
    /// longest parts that some article has stand in (see `plan::term_stats`), because
    /// the run may also hold a character of the next word (`魏舒史称`).
    LoneChars,
    /// A quoted phrase.
    Phrase,
    /// A CJK run typed as one thing that jieba cuts into several words (`且末玉都机场` →
    /// 且末 / 玉都 / 机场): an article covers it only with the exact sequence. When no article
    /// has it, it is reported missing and its words ([`QueryTerm::pieces`]) stand in, so the
    /// articles with them are offered as partial matches.
    Unit,
    /// Two Latin/digit pieces typed side by side, one of them with a digit (`iPhone 15`,
    /// `Windows 11`, `Qwen 2.5`): a product and its version are one thing, searched as the
    /// phrase. The pieces stay terms of their own, so when no article has the pair, the
    /// articles with both pieces apart are the partial matches.
    LatinPair,
}

/// One term: folded (as it is searched) and as the user wrote it (as a reply quotes it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryTerm {
    pub folded: String,
    pub written: String,
    pub kind: TermKind,
    /// Of a [`TermKind::Unit`]: its words, as terms. Empty for every other kind.
    pub pieces: Vec<QueryTerm>,
}

impl QueryTerm {
    pub fn new(folded: String, written: String, kind: TermKind) -> QueryTerm {
        QueryTerm {
            folded,
            written,
            kind,
            pieces: Vec::new(),
        }
    }
}

/// The distinct terms of a query's free text and phrases, in the order typed.
pub fn terms(q: &UserQuery) -> Vec<QueryTerm> {
    let units = !is_question(q);
    let mut out: Vec<QueryTerm> = Vec::new();
    let mut push = |t: QueryTerm| {
        if out.len() < MAX_TERMS && !out.iter().any(|o| o.folded == t.folded) {
            out.push(t);
        }
    };
    for (i, folded) in q.text.iter().enumerate() {
        let written = q
            .text_written
            .get(i)
            .map_or(folded.as_str(), |w| w.as_str());
        for t in piece_terms(folded, written, units) {
            push(t);
        }
    }
    for i in 1..q.text.len() {
        let written = |i: usize| q.text_written.get(i).unwrap_or(&q.text[i]).as_str();
        if let Some(t) = latin_pair((&q.text[i - 1], written(i - 1)), (&q.text[i], written(i))) {
            push(t);
        }
    }
    for (i, folded) in q.phrases.iter().enumerate() {
        let written = q
            .phrases_written
            .get(i)
            .map_or(folded.as_str(), |w| w.as_str());
        if folded.chars().any(char::is_alphanumeric) {
            push(QueryTerm::new(
                folded.clone(),
                written.to_owned(),
                TermKind::Phrase,
            ));
        }
    }
    out
}

/// The [`TermKind::LatinPair`] of two adjacent pieces (folded, written), if they are one.
fn latin_pair(a: (&str, &str), b: (&str, &str)) -> Option<QueryTerm> {
    let is_latin = |piece: &str| {
        let atoms = query_atoms(piece);
        atoms.len() == 1 && atoms[0].text.len() == piece.len() && !is_function_word(piece)
    };
    let has_digit = |piece: &str| piece.chars().any(|c| c.is_ascii_digit());
    (is_latin(a.0) && is_latin(b.0) && (has_digit(a.0) || has_digit(b.0))).then(|| {
        QueryTerm::new(
            format!("{} {}", a.0, b.0),
            format!("{} {}", a.1, b.1),
            TermKind::LatinPair,
        )
    })
}

/// How long the query is, in words: every Latin token and every jieba word of the free text,
/// function words and lone characters included. A keyword search is short (`芯片 出口`: 2), a
/// question long (`元皇后的儿子叫什么？`: 6) even when few of its words are terms.
pub fn query_length(q: &UserQuery) -> usize {
    q.text
        .iter()
        .map(|piece| {
            let cjk: usize = cjk_runs(piece)
                .into_iter()
                .map(|(a, b)| crate::text::default_cut(&piece[a..b], false).len())
                .sum();
            query_atoms(piece).len() + cjk
        })
        .sum()
}

/// Terms of one whitespace-delimited piece, in text order.
fn piece_terms(folded: &str, written: &str, units: bool) -> Vec<QueryTerm> {
    // Byte offset in `folded` → char index, which is also the char index in `written`.
    let written_chars: Vec<char> = written.chars().collect();
    let written_of = |start: usize, end: usize| -> String {
        let a = folded[..start].chars().count();
        let b = a + folded[start..end].chars().count();
        match written_chars.get(a..b) {
            Some(chars) => chars.iter().collect(),
            None => folded[start..end].to_owned(),
        }
    };
    let mut found: Vec<(usize, QueryTerm)> = Vec::new();
    for atom in query_atoms(folded) {
        if is_function_word(atom.text) {
            continue;
        }
        let kind = if crate::text::is_compound(atom.text) {
            TermKind::CompoundAtom
        } else {
            TermKind::Atom
        };
        found.push((
            atom.start,
            QueryTerm::new(atom.text.to_owned(), written_of(atom.start, atom.end), kind),
        ));
    }
    for (start, end) in cjk_runs(folded) {
        let run = &folded[start..end];
        // One cut of the run serves its words and the unit test.
        let tokens = crate::text::default_cut(run, false);
        let words: Vec<(usize, QueryTerm)> = run_words(run, &tokens)
            .into_iter()
            .map(|(a, b, kind)| {
                let (a, b) = (start + a, start + b);
                (
                    a,
                    QueryTerm::new(folded[a..b].to_owned(), written_of(a, b), kind),
                )
            })
            .collect();
        if units && is_unit(run, &tokens, words.iter().map(|(_, w)| w)) {
            let mut unit = QueryTerm::new(
                folded[start..end].to_owned(),
                written_of(start, end),
                TermKind::Unit,
            );
            unit.pieces = words.into_iter().map(|(_, w)| w).collect();
            found.push((start, unit));
        } else {
            found.extend(words);
        }
    }
    found.sort_by_key(|(start, _)| *start);
    found.into_iter().map(|(_, t)| t).collect()
}

/// Whether a CJK run (its words as [`run_words`] found them) is a [`TermKind::Unit`]: 3 to
/// [`UNIT_MAX_CHARS`] characters that jieba cuts into several pieces, none of them a word
/// that makes a sentence.
fn is_unit<'a>(
    run: &str,
    tokens: &[(usize, usize)],
    words: impl Iterator<Item = &'a QueryTerm>,
) -> bool {
    let chars = run.chars().count();
    if !(3..=UNIT_MAX_CHARS).contains(&chars) {
        return false;
    }
    // A run that is one word is that word. A run of lone characters (`安般守意经`: jieba
    // knows none of its words) is a unit: as lone characters, its parts that some article has
    // would stand in for it unreported (see `plan::term_stats`).
    let words: Vec<&QueryTerm> = words.collect();
    if let [word] = words.as_slice()
        && word.folded == run
        && word.kind != TermKind::LoneChars
    {
        return false;
    }
    let grammar = |&(a, b): &(usize, usize)| {
        let mut chars = run[a..b].chars();
        matches!((chars.next(), chars.next()), (Some(c), None) if GRAMMAR_CHARS.contains(&c))
    };
    tokens.len() >= 2 && !tokens.iter().any(grammar)
}

/// A query that asks something (a question word anywhere, or a question mark): its runs are
/// not units. `首届比赛在哪里举行？` is searched by its words, which the answer need not
/// repeat side by side.
pub fn is_question(q: &UserQuery) -> bool {
    q.text.iter().any(|piece| {
        piece.contains(['?', '？'])
            || cjk_runs(piece).into_iter().any(|(start, end)| {
                let run = &piece[start..end];
                crate::text::default_cut(run, false)
                    .into_iter()
                    .any(|(a, b)| asks(&run[a..b]))
            })
    })
}

/// A word that asks: the question words, and the particles and pronouns of a question.
fn asks(word: &str) -> bool {
    is_question_word(word)
        || word.contains("什么")
        || word.contains("怎么")
        || matches!(
            word,
            "谁" | "几" | "吗" | "呢" | "哪" | "多少" | "是否" | "如何" | "怎样" | "为何" | "啥"
        )
}

/// Byte ranges of the maximal runs of CJK characters.
fn cjk_runs(text: &str) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    let mut start = None;
    for (b, c) in text.char_indices() {
        match (is_cjk(c), start) {
            (true, None) => start = Some(b),
            (false, Some(s)) => {
                runs.push((s, b));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        runs.push((s, text.len()));
    }
    runs
}

/// Byte ranges (within `run`) of the words of one CJK run that are terms: the dictionary
/// words of two or more characters, and each sequence of two or more lone characters (an
/// unknown name: `刘七`, `黄华麒`). jieba's HMM would join those too, but it also joins the
/// next function word (`刘七是`), a term no article has.
fn run_words(run: &str, tokens: &[(usize, usize)]) -> Vec<(usize, usize, TermKind)> {
    let chars = run.chars().count();
    let is_stop = |&(a, b): &(usize, usize)| is_function_word(&run[a..b]);
    let is_lone = |&(a, b): &(usize, usize)| run[a..b].chars().count() == 1;
    if (3..=SHORT_RUN_CHARS).contains(&chars)
        && tokens.iter().any(is_lone)
        && !tokens.iter().any(is_stop)
    {
        return vec![(0, run.len(), TermKind::Word)];
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let t = tokens[i];
        if is_stop(&t) {
            i += 1;
            continue;
        }
        if !is_lone(&t) {
            // jieba keeps some questions as one word (`什么游戏`): the thing asked about is
            // the rest.
            let start = match run[t.0..t.1].strip_prefix("什么") {
                Some(rest) if rest.chars().count() >= 2 => t.1 - rest.len(),
                _ => t.0,
            };
            out.push((start, t.1, TermKind::Word));
            i += 1;
            continue;
        }
        // Lone characters side by side, a function character inside included (`乍都节`), but
        // none at the end (`刘七是` → `刘七`).
        let mut j = i + 1;
        while j < tokens.len() && is_lone(&tokens[j]) {
            j += 1;
        }
        let mut end = j;
        while end > i + 1 && is_stop(&tokens[end - 1]) {
            end -= 1;
        }
        if end - i >= 2 && !is_function_word(&run[t.0..tokens[end - 1].1]) {
            out.push((t.0, tokens[end - 1].1, TermKind::LoneChars));
        }
        i = j;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::query::parse;

    fn folded(q: &str) -> Vec<String> {
        terms(&parse(q)).into_iter().map(|t| t.folded).collect()
    }

    /// (folded, written, kind) of each term.
    fn described(q: &str) -> Vec<(String, String, TermKind)> {
        terms(&parse(q))
            .into_iter()
            .map(|t| (t.folded, t.written, t.kind))
            .collect()
    }

    fn triples(v: &[(&str, &str, TermKind)]) -> Vec<(String, String, TermKind)> {
        v.iter()
            .map(|(f, w, k)| (f.to_string(), w.to_string(), *k))
            .collect()
    }

    #[test]
    fn a_name_and_its_version_are_also_one_term() {
        assert_eq!(
            described("iPhone 15 续航"),
            triples(&[
                ("iphone", "iPhone", TermKind::Atom),
                ("15", "15", TermKind::Atom),
                ("续航", "续航", TermKind::Word),
                ("iphone 15", "iPhone 15", TermKind::LatinPair),
            ])
        );
        // Words without a digit, or a CJK neighbour, are not pairs.
        assert!(
            !terms(&parse("Palo Alto"))
                .iter()
                .any(|t| t.kind == TermKind::LatinPair)
        );
        assert!(
            !terms(&parse("芯片 15"))
                .iter()
                .any(|t| t.kind == TermKind::LatinPair)
        );
    }

    #[test]
    fn question_words_are_not_terms() {
        assert_eq!(folded("学校总占地面积有多大？"), ["学校", "占地面积"]);
        assert_eq!(
            folded("南田县的范围包括哪些地方？"),
            ["南田", "范围", "包括"]
        );
        assert_eq!(folded("在此监禁者主要分为几类？"), ["监禁", "主要", "分为"]);
        assert_eq!(folded("代码需不需要修改"), ["代码", "修改"]);
        assert_eq!(folded("比赛获得第几名"), ["比赛", "获得"]);
        assert_eq!(
            folded("独孤剑是什么游戏的男主角"),
            ["独孤", "游戏", "男主角"]
        );
        // Names and words of the same shape stay.
        assert_eq!(
            folded("哪吒 几内亚 几何 多元"),
            ["哪吒", "几内亚", "几何", "多元"]
        );
    }

    #[test]
    fn atoms_words_and_phrases() {
        assert_eq!(
            described("ＣＶＥ-2024-3400 漏洞 GPT-4o \"全球治理\" -美国"),
            triples(&[
                ("cve-2024-3400", "ＣＶＥ-2024-3400", TermKind::CompoundAtom),
                ("漏洞", "漏洞", TermKind::Word),
                ("gpt-4o", "GPT-4o", TermKind::CompoundAtom),
                ("全球治理", "全球治理", TermKind::Phrase),
            ])
        );
    }

    #[test]
    fn mixed_pieces_split_into_latin_and_words() {
        assert_eq!(folded("zzqqxx不存在的词"), vec!["zzqqxx", "存在"]);
        assert_eq!(folded("H20芯片"), vec!["h20", "芯片"]);
    }

    #[test]
    fn questions_drop_function_words_and_lone_characters() {
        let t = folded("首届比赛在哪里举行？");
        assert!(
            t.contains(&"比赛".to_owned()) && t.contains(&"举行".to_owned()),
            "{t:?}"
        );
        assert!(!t.iter().any(|w| w == "哪里" || w == "在"), "{t:?}");
        assert!(t.iter().all(|w| w.chars().count() >= 2), "{t:?}");
    }

    #[test]
    fn unknown_names_in_questions_are_terms_without_the_next_word() {
        let t = folded("刘七是怎么死的？");
        assert_eq!(t, vec!["刘七"]);
        assert_eq!(
            terms(&parse("刘七是怎么死的？"))[0].kind,
            TermKind::LoneChars
        );
        assert_eq!(query_length(&parse("刘七是怎么死的？")), 6);
        assert_eq!(query_length(&parse("芯片 出口")), 2);
        assert_eq!(folded("乍都节公园位于什么地方？")[0], "乍都节");
        let t = folded("黄华麒是哪个大学毕业的？");
        assert!(t.contains(&"黄华麒".to_owned()), "{t:?}");
    }

    #[test]
    fn a_run_typed_as_one_unit_is_one_term_with_its_pieces() {
        let t = terms(&parse("且末玉都机场 国际"));
        assert_eq!(t[0].kind, TermKind::Unit);
        assert_eq!(t[0].folded, "且末玉都机场");
        let pieces: Vec<&str> = t[0].pieces.iter().map(|p| p.folded.as_str()).collect();
        assert!(pieces.contains(&"机场"), "{pieces:?}");
        assert_eq!(t[1].folded, "国际");
        // Written as typed, traditional included.
        assert_eq!(
            terms(&parse("地球公民基金會 合作"))[0].written,
            "地球公民基金會"
        );
        // Between punctuation too.
        assert_eq!(terms(&parse("现代食品工程，国际"))[0].kind, TermKind::Unit);
        // Characters jieba leaves alone, all of them: one unit, not parts.
        assert_eq!(terms(&parse("安般守意经 改革"))[0].kind, TermKind::Unit);
    }

    #[test]
    fn questions_sentences_and_long_runs_are_not_units() {
        for q in [
            "首届比赛在哪里举行？",
            "现代食品工程是什么",
            "美国的芯片 出口",
            "粮食总产量连续十年稳定在一点三万亿斤以上",
        ] {
            let t = terms(&parse(q));
            assert!(t.iter().all(|t| t.kind != TermKind::Unit), "{q}: {t:?}");
        }
        assert!(is_question(&parse("首届比赛在哪里举行")));
        assert!(!is_question(&parse("准确与精密 改革")));
    }

    #[test]
    fn a_short_name_typed_alone_is_one_term() {
        assert_eq!(folded("朱守谦 发展"), vec!["朱守谦", "发展"]);
        assert_eq!(terms(&parse("朱守謙"))[0].written, "朱守謙");
    }

    #[test]
    fn questions_for_an_amount_or_a_time_want_a_number() {
        for q in [
            "尤金袋鼠的体重大约是多少？",
            "内台航路有几种？",
            "东关街有多长？",
            "211系是何时投入服务的？",
            "《鳄鱼泪》第一次播出是什么时候？",
        ] {
            assert!(analyze(parse(q)).wants_number, "{q}");
        }
        for q in [
            "夏尔精通哪几门语言？",
            "几乎所有人都知道吗",
            "黄鳍紫鱼的身体是什么颜色的？",
            "时间 管理",
        ] {
            assert!(!analyze(parse(q)).wants_number, "{q}");
        }
    }
}
