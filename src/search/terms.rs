//! The terms of a query: the units a result is expected to contain whole, and that a reply
//! reports as missing when no article has them.
//!
//! - an **atom**: a Latin/digit token as one piece (`cve-2024-3400`, `gpt-4o`, `h20`, `5g`);
//! - a **word**: a jieba word of two or more CJK characters (`人工智能`, `举行`), or a short
//!   run typed on its own that jieba would cut into a lone character and a word (a name like
//!   `朱守谦` becomes `朱 / 守谦`; the user meant the three characters);
//! - a **phrase**: what the user put in quotes.
//!
//! Lone characters and function words are not terms: they still rank (BM25), but a result is
//! never required to have them, never credited for them and they are never highlighted.

use crate::text::{is_cjk, query_atoms};

use super::STOPWORDS;
use super::query::UserQuery;

/// More terms than this are not checked one by one (a pasted paragraph).
pub const MAX_TERMS: usize = 16;

/// A CJK run of at most this many characters, typed alone, is one term even when jieba cuts a
/// lone character off it (names: `朱守谦`, `王小川`).
const SHORT_RUN_CHARS: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TermKind {
    /// A Latin/digit token without joiners (`h20`, `5g`, `2024`): a whole term of the
    /// bigram fields.
    Atom,
    /// A Latin/digit token with joiners (`cve-2024-3400`): a term of the atoms field.
    CompoundAtom,
    /// Two or more CJK characters: their exact sequence (a phrase of their bigrams).
    Word,
    /// A quoted phrase.
    Phrase,
}

/// One term: folded (as it is searched) and as the user wrote it (as a reply quotes it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryTerm {
    pub folded: String,
    pub written: String,
    pub kind: TermKind,
}

/// The distinct terms of a query's free text and phrases, in the order typed.
pub fn terms(q: &UserQuery) -> Vec<QueryTerm> {
    let mut out: Vec<QueryTerm> = Vec::new();
    let mut push = |t: QueryTerm| {
        if out.len() < MAX_TERMS && !out.iter().any(|o| o.folded == t.folded) {
            out.push(t);
        }
    };
    for (i, folded) in q.text.iter().enumerate() {
        let written = q.text_written.get(i).map_or(folded.as_str(), |w| w.as_str());
        for t in piece_terms(folded, written) {
            push(t);
        }
    }
    for (i, folded) in q.phrases.iter().enumerate() {
        let written = q.phrases_written.get(i).map_or(folded.as_str(), |w| w.as_str());
        if folded.chars().any(char::is_alphanumeric) {
            push(QueryTerm {
                folded: folded.clone(),
                written: written.to_owned(),
                kind: TermKind::Phrase,
            });
        }
    }
    out
}

/// Terms of one whitespace-delimited piece, in text order.
fn piece_terms(folded: &str, written: &str) -> Vec<QueryTerm> {
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
        if STOPWORDS.contains(&atom.text) {
            continue;
        }
        let kind = if crate::text::is_compound(atom.text) {
            TermKind::CompoundAtom
        } else {
            TermKind::Atom
        };
        found.push((
            atom.start,
            QueryTerm {
                folded: atom.text.to_owned(),
                written: written_of(atom.start, atom.end),
                kind,
            },
        ));
    }
    for (start, end) in cjk_runs(folded) {
        for (a, b) in run_words(&folded[start..end]) {
            let (a, b) = (start + a, start + b);
            found.push((
                a,
                QueryTerm {
                    folded: folded[a..b].to_owned(),
                    written: written_of(a, b),
                    kind: TermKind::Word,
                },
            ));
        }
    }
    found.sort_by_key(|(start, _)| *start);
    found.into_iter().map(|(_, t)| t).collect()
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

/// Byte ranges (within `run`) of the words of one CJK run that are terms.
fn run_words(run: &str) -> Vec<(usize, usize)> {
    let tokens = crate::text::default_cut(run);
    let chars = run.chars().count();
    let is_stop = |w: &str| STOPWORDS.contains(&w);
    let lone_char = tokens.iter().any(|(a, b)| run[*a..*b].chars().count() == 1);
    let has_stop = tokens.iter().any(|(a, b)| is_stop(&run[*a..*b]));
    if (3..=SHORT_RUN_CHARS).contains(&chars) && lone_char && !has_stop {
        return vec![(0, run.len())];
    }
    tokens
        .into_iter()
        .filter(|(a, b)| run[*a..*b].chars().count() >= 2 && !is_stop(&run[*a..*b]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::query::parse;

    fn folded(q: &str) -> Vec<String> {
        terms(&parse(q)).into_iter().map(|t| t.folded).collect()
    }

    #[test]
    fn atoms_words_and_phrases() {
        let t = terms(&parse("ＣＶＥ-2024-3400 漏洞 GPT-4o \"全球治理\" -美国"));
        let got: Vec<(&str, &str, TermKind)> = t
            .iter()
            .map(|t| (t.folded.as_str(), t.written.as_str(), t.kind))
            .collect();
        assert_eq!(
            got,
            vec![
                ("cve-2024-3400", "ＣＶＥ-2024-3400", TermKind::CompoundAtom),
                ("漏洞", "漏洞", TermKind::Word),
                ("gpt-4o", "GPT-4o", TermKind::CompoundAtom),
                ("全球治理", "全球治理", TermKind::Phrase),
            ]
        );
    }

    #[test]
    fn mixed_pieces_split_into_latin_and_words() {
        assert_eq!(folded("zzqqxx不存在的词"), vec!["zzqqxx", "不存在"]);
        assert_eq!(folded("H20芯片"), vec!["h20", "芯片"]);
    }

    #[test]
    fn questions_drop_function_words_and_lone_characters() {
        let t = folded("首届比赛在哪里举行？");
        assert!(t.contains(&"比赛".to_owned()) && t.contains(&"举行".to_owned()), "{t:?}");
        assert!(!t.iter().any(|w| w == "哪里" || w == "在"), "{t:?}");
        assert!(t.iter().all(|w| w.chars().count() >= 2), "{t:?}");
    }

    #[test]
    fn a_short_name_typed_alone_is_one_term() {
        assert_eq!(folded("朱守谦 发展"), vec!["朱守谦", "发展"]);
        assert_eq!(terms(&parse("朱守謙"))[0].written, "朱守謙");
    }
}
