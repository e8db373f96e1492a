//! Search quality: jianbao's ranking and a plain character-bigram OR baseline over the same
//! tantivy, on relevance sets, in one run; plus the set generators.
//!
//!     cargo bench --bench quality -- run SET_DIR...
//!     cargo bench --bench quality -- gen-titles CORPUS OUT N PARITY   # 2-3 title words
//!     cargo bench --bench quality -- gen-wechat CORPUS OUT N          # title words / body phrases
//!     cargo bench --bench quality -- gen-ids CORPUS OUT N             # ids in 1-3 articles + absent ones
//!     cargo bench --bench quality -- gen-names CORPUS OUT N           # names in 1 article + absent ones
//!     cargo bench --bench quality -- gen-compounds CORPUS FROM OUT N  # absent compound names
//!     cargo bench --bench quality -- gen-questions CORPUS OUT N       # questions with answers
//!
//! A set is a folder with `seeds/` (a folder or a symlink to a corpus: nothing is copied),
//! `queries.tsv` (`qid<TAB>query`), `qrels.tsv` (`qid<TAB>doc id`) and optionally
//! `absent.tsv` (`qid<TAB>query<TAB>term that occurs nowhere`). Indexes go to
//! /tmp/jianbao-quality/. Generated sets are deterministic (fixed seeds).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use jianbao::corpus;
use jianbao::index::SearchIndex;
use jianbao::search::{self, SearchOptions, analyze, query};
use jianbao::text::{BIGRAM_TOKENIZER, BigramTokenizer, bigrams, default_cut, fold, is_cjk};
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::{Index, TantivyDocument, Term, doc};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let arg = |i: usize| -> Res<&str> {
        args.get(i)
            .map(String::as_str)
            .ok_or_else(|| "missing argument (see benches/quality.rs)".into())
    };
    let num = |i: usize| -> Res<usize> { Ok(arg(i)?.parse()?) };
    match args.first().map(String::as_str) {
        Some("gen-titles") => gen_titles(arg(1)?, arg(2)?, num(3)?, num(4)?),
        Some("gen-wechat") => gen_wechat(arg(1)?, arg(2)?, num(3)?),
        Some("gen-ids") => gen_ids(arg(1)?, arg(2)?, num(3)?),
        Some("gen-names") => gen_names(arg(1)?, arg(2)?, num(3)?),
        Some("gen-questions") => gen_questions(arg(1)?, arg(2)?, num(3)?),
        Some("gen-compounds") => gen_compounds(arg(1)?, arg(2)?, arg(3)?, num(4)?),
        Some("run") => run_sets(&args[1..]),
        _ => {
            Err("usage: quality run SET... | gen-titles | gen-wechat | gen-ids | gen-names | gen-compounds | gen-questions".into())
        }
    }
}

// ---------- running ----------

struct Set {
    name: String,
    dir: PathBuf,
    queries: Vec<(String, String)>,
    qrels: HashMap<String, HashSet<String>>,
    absent: Vec<(String, String, String)>,
    /// `answers.tsv` (`qid<TAB>answer<TAB>answer…`): does the top hit's excerpt show one?
    answers: HashMap<String, Vec<String>>,
}

fn read_tsv(path: &Path) -> Res<Vec<Vec<String>>> {
    Ok(std::fs::read_to_string(path)?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect())
}

fn load_set(dir: &str) -> Res<Set> {
    let dir = PathBuf::from(dir);
    let queries = read_tsv(&dir.join("queries.tsv"))?
        .into_iter()
        .filter(|r| r.len() >= 2)
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    let mut qrels: HashMap<String, HashSet<String>> = HashMap::new();
    for r in read_tsv(&dir.join("qrels.tsv"))? {
        if r.len() >= 2 {
            qrels.entry(r[0].clone()).or_default().insert(r[1].clone());
        }
    }
    let absent_path = dir.join("absent.tsv");
    let absent = if absent_path.exists() {
        read_tsv(&absent_path)?
            .into_iter()
            .filter(|r| r.len() >= 3)
            .map(|r| (r[0].clone(), r[1].clone(), r[2].clone()))
            .collect()
    } else {
        Vec::new()
    };
    let answers_path = dir.join("answers.tsv");
    let answers = if answers_path.exists() {
        read_tsv(&answers_path)?
            .into_iter()
            .filter(|r| r.len() >= 2)
            .map(|r| (r[0].clone(), r[1..].iter().map(|a| squeeze(a)).collect()))
            .collect()
    } else {
        HashMap::new()
    };
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(Set {
        name,
        dir,
        queries,
        qrels,
        absent,
        answers,
    })
}

/// jianbao's index of a set's seeds, shared by sets over the same corpus.
fn jianbao_index(seeds: &Path) -> Res<SearchIndex> {
    let canonical = std::fs::canonicalize(seeds)?;
    let key = blake3::hash(canonical.to_string_lossy().as_bytes()).to_hex()[..12].to_owned();
    let data = PathBuf::from("/tmp/jianbao-quality").join(key);
    let index = SearchIndex::open(&data)?;
    index.sync(&canonical, None)?;
    Ok(index)
}

/// The baseline: one field with the overlapping CJK bigrams (and whole Latin words) of title
/// and body, queried by an OR of the query's bigrams, BM25. Built from jianbao's stored
/// documents, so both systems see the same articles.
struct Baseline {
    index: Index,
    text: tantivy::schema::Field,
    id: tantivy::schema::Field,
}

fn baseline(from: &SearchIndex) -> Res<Baseline> {
    let mut b = Schema::builder();
    let text = b.add_text_field(
        "text",
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(BIGRAM_TOKENIZER)
                .set_index_option(IndexRecordOption::WithFreqs),
        ),
    );
    let id = b.add_text_field("id", STRING | STORED);
    let index = Index::create_in_ram(b.build());
    index
        .tokenizers()
        .register(BIGRAM_TOKENIZER, BigramTokenizer);
    let mut writer: tantivy::IndexWriter = index.writer(200_000_000)?;
    let searcher = from.searcher();
    let f = from.fields();
    for segment in searcher.segment_readers() {
        let store = segment.get_store_reader(64)?;
        for doc_id in segment.doc_ids_alive() {
            let d: TantivyDocument = store.get(doc_id)?;
            let get = |field| {
                d.get_first(field)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_owned()
            };
            let body = format!("{}\n{}", fold(&get(f.title)), fold(&get(f.body)));
            writer.add_document(doc!(text => body, id => get(f.id)))?;
        }
    }
    writer.commit()?;
    Ok(Baseline { index, text, id })
}

impl Baseline {
    fn search(&self, searcher: &tantivy::Searcher, q: &str) -> Res<Vec<String>> {
        let folded = fold(q);
        let mut seen = HashSet::new();
        let clauses: Vec<(Occur, Box<dyn Query>)> = bigrams(&folded)
            .into_iter()
            .filter(|b| seen.insert(b.text.to_owned()))
            .map(|b| {
                let tq = TermQuery::new(
                    Term::from_field_text(self.text, b.text),
                    IndexRecordOption::WithFreqs,
                );
                (Occur::Should, Box::new(tq) as Box<dyn Query>)
            })
            .collect();
        if clauses.is_empty() {
            return Ok(Vec::new());
        }
        let top = searcher.search(
            &BooleanQuery::new(clauses),
            &TopDocs::with_limit(10).order_by_score(),
        )?;
        top.into_iter()
            .map(|(_, a)| {
                let d: TantivyDocument = searcher.doc(a)?;
                Ok(d.get_first(self.id)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_owned())
            })
            .collect()
    }
}

#[derive(Default)]
struct Scores {
    n: usize,
    mrr: f64,
    r1: usize,
    r10: usize,
    zero: usize,
}

impl Scores {
    fn add(&mut self, ids: &[String], relevant: Option<&HashSet<String>>) {
        self.n += 1;
        self.zero += ids.is_empty() as usize;
        if let Some(rank) = ids
            .iter()
            .take(10)
            .position(|id| relevant.is_some_and(|r| r.contains(id)))
        {
            self.mrr += 1.0 / (rank + 1) as f64;
            self.r1 += (rank == 0) as usize;
            self.r10 += 1;
        }
    }
    fn row(&self, set: &str, system: &str, extra: &str) -> String {
        let n = self.n.max(1) as f64;
        format!(
            "| {set} | {system} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {extra} |",
            self.n,
            self.mrr / n,
            self.r1 as f64 / n,
            self.r10 as f64 / n,
            self.zero as f64 / n
        )
    }
}

/// Text without whitespace (as `answer_in_excerpt.py` compares).
fn squeeze(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

fn run_sets(dirs: &[String]) -> Res<()> {
    // Absent terms listed in `missing` (of the absent-term queries), then how many judged
    // queries (each has an answer) reported some term missing. Last column, for sets with
    // answers: the share of right top hits whose excerpt (as a reply shows it) holds one.
    println!(
        "| set | system | queries | MRR@10 | R@1 | R@10 | zero-hit | absent flagged / judged with missing | answer in top hit's excerpt |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for dir in dirs {
        let set = load_set(dir)?;
        let t0 = Instant::now();
        let index = jianbao_index(&set.dir.join("seeds"))?;
        let base = baseline(&index)?;
        let base_searcher = base.index.reader()?.searcher();
        let opts = SearchOptions {
            limit: 10,
            ..SearchOptions::default()
        };
        // The same ranking with every copy of a story as a hit of its own (before stories).
        let flat_opts = SearchOptions {
            group: false,
            ..opts
        };
        let (mut ours, mut theirs) = (Scores::default(), Scores::default());
        let mut flat = Scores::default();
        // Judged queries (every one has an answer) that still report a missing term.
        let mut false_missing = 0;
        // Right top hits, and those whose excerpt shows an answer.
        let (mut right_top, mut shown) = (0, 0);
        for (qid, q) in &set.queries {
            let ids: Vec<String> = match search::search(&index, q, &opts) {
                Ok(r) => {
                    if let (Some(answers), Some(top)) = (set.answers.get(qid), r.hits.first())
                        && set.qrels.get(qid).is_some_and(|j| j.contains(&top.id))
                    {
                        right_top += 1;
                        let excerpt = squeeze(&top.excerpt.plain());
                        shown += answers.iter().any(|a| excerpt.contains(a.as_str())) as usize;
                    }
                    if !r.missing.is_empty() {
                        false_missing += 1;
                        if std::env::var_os("QUALITY_LOSSES").is_some() {
                            eprintln!("missing {qid} {q}: {:?}", r.missing);
                        }
                    }
                    // A judged article folded into another copy of its story is found at
                    // that hit's rank: the reader sees it there, under 另见.
                    let judged = set.qrels.get(qid);
                    r.hits
                        .into_iter()
                        .map(|h| {
                            std::iter::once(h.id.clone())
                                .chain(h.also.iter().map(|c| c.id.clone()))
                                .find(|id| judged.is_some_and(|j| j.contains(id)))
                                .unwrap_or(h.id)
                        })
                        .collect()
                }
                Err(_) => Vec::new(),
            };
            let flat_ids: Vec<String> = search::search(&index, q, &flat_opts)
                .map(|r| r.hits.into_iter().map(|h| h.id).collect())
                .unwrap_or_default();
            flat.add(&flat_ids, set.qrels.get(qid));
            let base_ids = base.search(&base_searcher, q)?;
            if std::env::var_os("QUALITY_LOSSES").is_some() {
                let rank = |v: &[String]| {
                    v.iter()
                        .position(|id| set.qrels.get(qid).is_some_and(|r| r.contains(id)))
                };
                let (a, b) = (rank(&ids), rank(&base_ids));
                if a.map_or(99, |x| x) > b.map_or(99, |x| x) {
                    eprintln!(
                        "loss {qid} {q}: jianbao {a:?} baseline {b:?} top {:?}",
                        ids.first()
                    );
                }
            }
            ours.add(&ids, set.qrels.get(qid));
            theirs.add(&base_ids, set.qrels.get(qid));
        }
        let (mut flagged, mut base_empty) = (0, 0);
        for (_, q, expected) in &set.absent {
            if let Ok(r) = search::search(&index, q, &opts)
                && r.missing.iter().any(|m| m == expected)
            {
                flagged += 1;
            }
            base_empty += base.search(&base_searcher, q)?.is_empty() as usize;
        }
        let n_absent = set.absent.len();
        let (mut ours_extra, theirs_extra) = if n_absent > 0 {
            (
                format!("{flagged}/{n_absent}"),
                format!("0/{n_absent} (no hits: {base_empty})"),
            )
        } else {
            (String::new(), String::new())
        };
        if !set.queries.is_empty() {
            ours_extra = format!("{ours_extra} {false_missing}").trim().to_owned();
        }
        if !set.answers.is_empty() {
            ours_extra = format!(
                "{ours_extra} | {:.3} ({shown}/{right_top})",
                shown as f64 / right_top.max(1) as f64
            );
        } else {
            ours_extra.push_str(" |");
        }
        if !set.queries.is_empty() {
            println!("{}", ours.row(&set.name, "jianbao", &ours_extra));
            println!("{}", flat.row(&set.name, "jianbao, every copy", " |"));
            println!(
                "{}",
                theirs.row(&set.name, "bigram OR", &format!("{theirs_extra} |"))
            );
        } else {
            println!("| {} | jianbao | 0 | | | | | {ours_extra} |", set.name);
        }
        eprintln!("{}: {:.1} s", set.name, t0.elapsed().as_secs_f64());
    }
    Ok(())
}

// ---------- generators ----------

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

struct Doc {
    id: String,
    title: String,
    /// Folded title + body.
    folded: String,
    body: String,
}

fn read_corpus(root: &str) -> Res<Vec<Doc>> {
    let mut files = corpus::scan(Path::new(root))?;
    files.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(files
        .iter()
        .filter_map(|f| corpus::load(f).ok())
        .map(|a| Doc {
            folded: fold(&format!("{}\n{}", a.title, a.body)),
            id: a.id,
            title: a.title,
            body: a.body,
        })
        .collect())
}

fn write_set(
    corpus_dir: &str,
    out: &str,
    queries: &[(String, Vec<String>)],
    absent: &[(String, String)],
) -> Res<()> {
    std::fs::create_dir_all(out)?;
    let seeds = Path::new(out).join("seeds");
    if !seeds.exists() {
        std::os::unix::fs::symlink(std::fs::canonicalize(corpus_dir)?, &seeds)?;
    }
    let mut q = String::new();
    let mut r = String::new();
    for (i, (text, rel)) in queries.iter().enumerate() {
        q.push_str(&format!("q{i}\t{text}\n"));
        for id in rel {
            r.push_str(&format!("q{i}\t{id}\n"));
        }
    }
    std::fs::write(Path::new(out).join("queries.tsv"), q)?;
    std::fs::write(Path::new(out).join("qrels.tsv"), r)?;
    if !absent.is_empty() {
        let a: String = absent
            .iter()
            .enumerate()
            .map(|(i, (query, term))| format!("a{i}\t{query}\t{term}\n"))
            .collect();
        std::fs::write(Path::new(out).join("absent.tsv"), a)?;
    }
    println!("{out}: {} queries, {} absent", queries.len(), absent.len());
    Ok(())
}

/// 2-3 of a title's words (in title order), as a user who remembers the headline types them.
fn title_words(title: &str, rng: &mut Rng) -> Option<String> {
    // A title's short runs are units of a query; the words a user picks are their pieces.
    let words: Vec<String> = analyze::terms(&query::parse(title))
        .into_iter()
        .flat_map(|t| match t.kind {
            analyze::TermKind::Unit => t.pieces,
            _ => vec![t],
        })
        .filter(|t| t.kind == analyze::TermKind::Word)
        .map(|t| t.written)
        .collect();
    if words.len() < 2 {
        return None;
    }
    let k = (2 + rng.below(2)).min(words.len());
    let mut picked: Vec<usize> = Vec::new();
    while picked.len() < k {
        let i = rng.below(words.len());
        if !picked.contains(&i) {
            picked.push(i);
        }
    }
    picked.sort();
    Some(
        picked
            .into_iter()
            .map(|i| words[i].clone())
            .collect::<Vec<_>>()
            .join(" "),
    )
}

/// Known-item queries from the titles of every other article (`parity` 0 or 1 picks which
/// half, so one half can be kept out of tuning).
fn gen_titles(corpus_dir: &str, out: &str, n: usize, parity: usize) -> Res<()> {
    let docs = read_corpus(corpus_dir)?;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ parity as u64);
    let mut title_count: HashMap<&str, usize> = HashMap::new();
    for d in &docs {
        *title_count.entry(d.title.trim()).or_default() += 1;
    }
    let half: Vec<&Doc> = docs
        .iter()
        .enumerate()
        .filter(|(i, d)| i % 2 == parity && title_count[d.title.trim()] == 1)
        .map(|(_, d)| d)
        .collect();
    let mut queries = Vec::new();
    let mut tries = 0;
    while queries.len() < n && tries < n * 20 {
        tries += 1;
        let d = half[rng.below(half.len())];
        if let Some(q) = title_words(&d.title, &mut rng)
            && !queries.iter().any(|(qq, _)| *qq == q)
        {
            queries.push((q, vec![d.id.clone()]));
        }
    }
    write_set(corpus_dir, out, &queries, &[])
}

/// Known-item queries over scraped pages: title words, or a phrase of 8-12 characters from
/// the body (what a reader remembers of a paragraph). Every page with the phrase is relevant.
fn gen_wechat(corpus_dir: &str, out: &str, n: usize) -> Res<()> {
    let docs: Vec<Doc> = read_corpus(corpus_dir)?
        .into_iter()
        .filter(|d| d.body.chars().count() >= 300)
        .collect();
    let mut rng = Rng(0x5151_2024);
    let mut queries: Vec<(String, Vec<String>)> = Vec::new();
    let mut tries = 0;
    while queries.len() < n && tries < n * 20 {
        tries += 1;
        let d = &docs[rng.below(docs.len())];
        let by_title = queries.len().is_multiple_of(2);
        let q = if by_title {
            title_words(&d.title, &mut rng)
        } else {
            body_phrase(&d.body, &mut rng)
        };
        let Some(q) = q else { continue };
        if queries.iter().any(|(qq, _)| *qq == q) {
            continue;
        }
        let rel: Vec<String> = if by_title {
            vec![d.id.clone()]
        } else {
            let folded = fold(&q);
            docs.iter()
                .filter(|o| o.folded.contains(&folded))
                .map(|o| o.id.clone())
                .collect()
        };
        queries.push((q, rel));
    }
    write_set(corpus_dir, out, &queries, &[])
}

fn body_phrase(body: &str, rng: &mut Rng) -> Option<String> {
    let chars: Vec<char> = body.chars().collect();
    for _ in 0..20 {
        let len = 8 + rng.below(5);
        let start = rng.below(chars.len().saturating_sub(len));
        let piece = chars.get(start..start + len)?;
        if piece.iter().all(|&c| is_cjk(c)) {
            return Some(piece.iter().collect());
        }
    }
    None
}

/// Which of `needles` occur in which documents (substring of the folded text).
fn occurrences(docs: &[Doc], needles: &[String]) -> Res<Vec<Vec<usize>>> {
    let mut found = vec![Vec::new(); needles.len()];
    if needles.is_empty() {
        return Ok(found);
    }
    let pattern = needles
        .iter()
        .map(|n| regex::escape(n))
        .collect::<Vec<_>>()
        .join("|");
    let re = regex::Regex::new(&pattern)?;
    let index: HashMap<&str, usize> = needles
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    for (d, doc) in docs.iter().enumerate() {
        let mut seen = HashSet::new();
        for m in re.find_iter(&doc.folded) {
            if let Some(&i) = index.get(m.as_str())
                && seen.insert(i)
            {
                found[i].push(d);
            }
        }
    }
    Ok(found)
}

/// Ids (CVE numbers, versions, product codes) that occur in 1-3 articles, each a query whose
/// relevant articles are those; and mutations of them (other digits) that occur nowhere.
fn gen_ids(corpus_dir: &str, out: &str, n: usize) -> Res<()> {
    let docs = read_corpus(corpus_dir)?;
    let mut df: BTreeMap<String, HashSet<usize>> = BTreeMap::new();
    for (d, doc) in docs.iter().enumerate() {
        for atom in jianbao::text::query_atoms(&doc.folded) {
            let t = atom.text;
            let good = (6..=30).contains(&t.len())
                && t.chars().any(|c| c.is_ascii_digit())
                && t.chars().any(|c| c.is_ascii_alphabetic())
                && !t.contains(['/', ':', '@', '?', '=', '&', '%', '#', '~']);
            if good {
                df.entry(t.to_owned()).or_default().insert(d);
            }
        }
    }
    let mut candidates: Vec<&String> = df
        .iter()
        .filter(|(_, ds)| (1..=3).contains(&ds.len()))
        .map(|(t, _)| t)
        .collect();
    let mut rng = Rng(0xC0E_2024_3400);
    let mut picked: Vec<String> = Vec::new();
    // Up to half CVE numbers (what a security reader types most), the rest anything else.
    let (cves, others): (Vec<&String>, Vec<&String>) =
        candidates.drain(..).partition(|t| t.starts_with("cve-"));
    for (pool, want) in [(&cves, n / 2), (&others, n)] {
        let mut pool: Vec<&String> = pool.clone();
        while picked.len() < want && !pool.is_empty() {
            picked.push(pool.swap_remove(rng.below(pool.len())).clone());
        }
    }
    picked.truncate(n);
    let written = |t: &str| {
        if let Some(rest) = t.strip_prefix("cve-") {
            format!("CVE-{}", rest)
        } else {
            t.to_owned()
        }
    };
    let queries: Vec<(String, Vec<String>)> = picked
        .iter()
        .map(|t| {
            (
                written(t),
                df[t].iter().map(|&d| docs[d].id.clone()).collect(),
            )
        })
        .collect();
    let mutated: Vec<String> = picked.iter().map(|t| mutate_digits(t, &mut rng)).collect();
    let seen = occurrences(&docs, &mutated)?;
    let absent: Vec<(String, String)> = mutated
        .iter()
        .zip(&seen)
        .filter(|(m, s)| s.is_empty() && !df.contains_key(*m))
        .map(|(m, _)| (written(m), written(m)))
        .collect();
    write_set(corpus_dir, out, &queries, &absent)
}

/// Replaces the last run of digits with other digits of the same length.
fn mutate_digits(t: &str, rng: &mut Rng) -> String {
    let chars: Vec<char> = t.chars().collect();
    let Some(end) = chars.iter().rposition(|c| c.is_ascii_digit()) else {
        return format!("{t}9");
    };
    let mut start = end;
    while start > 0 && chars[start - 1].is_ascii_digit() {
        start -= 1;
    }
    let mut out: Vec<char> = chars.clone();
    for c in &mut out[start..=end] {
        *c = char::from(b'0' + rng.below(10) as u8);
    }
    if out == chars {
        out[end] = if chars[end] == '9' { '8' } else { '9' };
    }
    out.into_iter().collect()
}

const SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔汤";
const GIVEN: &str =
    "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华建国文玉兰红林峰鹏辉俊波宇浩凯嘉";
const COMMON_WORDS: [&str; 5] = ["发展", "合作", "会议", "经济", "建设"];

/// Three-character names (a surname, then two characters jieba keeps with it) that occur in
/// exactly one article: queries for that article. Mutated names (one character changed) that
/// occur nowhere, with a common word: `朱守谦 发展` must report 朱守谦 missing.
fn gen_names(corpus_dir: &str, out: &str, n: usize) -> Res<()> {
    let docs = read_corpus(corpus_dir)?;
    let mut df: HashMap<String, HashSet<usize>> = HashMap::new();
    for (d, doc) in docs.iter().enumerate() {
        for (a, b) in default_cut(&doc.folded, true) {
            let w = &doc.folded[a..b];
            let chars: Vec<char> = w.chars().collect();
            if chars.len() == 3 && SURNAMES.contains(chars[0]) && chars.iter().all(|&c| is_cjk(c)) {
                df.entry(w.to_owned()).or_default().insert(d);
            }
        }
    }
    let mut candidates: Vec<String> = df
        .iter()
        .filter(|(_, ds)| ds.len() == 1)
        .map(|(w, _)| w.clone())
        .collect();
    candidates.sort();
    let mut rng = Rng(0x2A5_0C1);
    let mut picked = Vec::new();
    while picked.len() < (n * 2).min(candidates.len()) {
        let w = candidates.swap_remove(rng.below(candidates.len()));
        picked.push(w);
    }
    // As substrings, not just as jieba tokens: exactly one article.
    let seen = occurrences(&docs, &picked)?;
    let queries: Vec<(String, Vec<String>)> = picked
        .iter()
        .zip(&seen)
        .filter(|(_, s)| s.len() == 1)
        .take(n)
        .map(|(w, s)| (w.clone(), vec![docs[s[0]].id.clone()]))
        .collect();
    let given: Vec<char> = GIVEN.chars().collect();
    let mutated: Vec<String> = queries
        .iter()
        .map(|(w, _)| {
            let mut chars: Vec<char> = w.chars().collect();
            chars[2] = given[rng.below(given.len())];
            chars.into_iter().collect()
        })
        .collect();
    let seen = occurrences(&docs, &mutated)?;
    let mut absent: Vec<(String, String)> = mutated
        .iter()
        .zip(&seen)
        .filter(|(_, s)| s.is_empty())
        .enumerate()
        .map(|(i, (m, _))| {
            (
                format!("{m} {}", COMMON_WORDS[i % COMMON_WORDS.len()]),
                m.clone(),
            )
        })
        .collect();
    absent.push(("zzqqxx不存在的词".to_owned(), "zzqqxx".to_owned()));
    write_set(corpus_dir, out, &queries, &absent)
}

/// Every two adjacent characters of a text.
fn two_chars(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars.windows(2).map(|w| w.iter().collect()).collect()
}

/// Common news words a compound is typed with.
const NEWS_WORDS: [&str; 10] = [
    "国际", "合作", "改革", "建设", "发展", "经济", "会议", "安全", "创新", "文化",
];

/// Compound names that occur in no article of CORPUS, each typed with a common news word
/// (`且末玉都机场 国际`): `missing` must list the compound. FROM is where the names come from:
/// a folder of another collection (the titles of its articles: `德国环境与自然保护联盟`), or
/// `join` (two or three words of CORPUS's titles that never stand side by side there:
/// `且末` + `玉都` + `机场`). Only compounds jieba cuts into several pieces, one at least of
/// them (or two adjacent characters, for a run jieba knows no word of: `安般守意经`) in some
/// article: what a check word by word misses.
fn gen_compounds(corpus_dir: &str, from: &str, out: &str, n: usize) -> Res<()> {
    let docs = read_corpus(corpus_dir)?;
    let mut rng = Rng(0xC0_4D0_u64 ^ from.len() as u64);
    let mut vocab: Vec<String> = Vec::new();
    let mut seen = HashSet::new();
    for d in &docs {
        let t = fold(&d.title);
        for (a, b) in default_cut(&t, false) {
            let w = &t[a..b];
            let len = w.chars().count();
            if (2..=3).contains(&len) && w.chars().all(is_cjk) && seen.insert(w.to_owned()) {
                vocab.push(w.to_owned());
            }
        }
    }
    let candidates: Vec<String> = if from == "join" {
        (0..n * 20)
            .map(|_| {
                let k = 2 + rng.below(2);
                (0..k)
                    .map(|_| vocab[rng.below(vocab.len())].clone())
                    .collect()
            })
            .collect()
    } else {
        let mut titles: Vec<String> = read_corpus(from)?
            .into_iter()
            .map(|d| d.title.trim().to_owned())
            .collect();
        titles.sort();
        titles.dedup();
        titles
    };
    let good = |c: &String| {
        let len = c.chars().count();
        let f = fold(c);
        let pieces = default_cut(&f, false);
        (3..=8).contains(&len)
            && f.chars().all(is_cjk)
            && pieces.len() >= 2
            && (pieces
                .iter()
                .any(|&(a, b)| f[a..b].chars().count() >= 2 && seen.contains(&f[a..b]))
                || two_chars(&f).iter().any(|w| seen.contains(w)))
    };
    let mut picked: Vec<String> = candidates.into_iter().filter(good).collect();
    // Absent as a substring of any article (title or body), not just as a jieba token.
    let found = occurrences(&docs, &picked.iter().map(|c| fold(c)).collect::<Vec<_>>())?;
    picked = picked
        .into_iter()
        .zip(found)
        .filter(|(_, f)| f.is_empty())
        .map(|(c, _)| c)
        .collect();
    let mut absent = Vec::new();
    while absent.len() < n && !picked.is_empty() {
        let c = picked.swap_remove(rng.below(picked.len()));
        // The alternation above may hide a needle behind an overlapping one: check each.
        let f = fold(&c);
        if docs.iter().any(|d| d.folded.contains(&f)) {
            continue;
        }
        let word = NEWS_WORDS[absent.len() % NEWS_WORDS.len()];
        absent.push((format!("{c} {word}"), c));
    }
    write_set(corpus_dir, out, &[], &absent)
}

/// Questions over news articles, as a reader asks about a figure half remembered: a sentence
/// of an article with its one number (and unit) replaced by 多少 and about a third of its
/// other words left out (`粮食总产量达到多少`). The article is the question's relevant
/// document, the number its answer (`answers.tsv`). Only numbers that occur once in the
/// article, so the excerpt must show the right sentence to show the answer.
fn gen_questions(corpus_dir: &str, out: &str, n: usize) -> Res<()> {
    let docs = read_corpus(corpus_dir)?;
    let number = regex::Regex::new(
        r"\d+(?:\.\d+)?(?:万|亿)?多?(?:人|元|吨|个|家|项|公里|千米|米|亩|户|件|台|辆|座|所|次|条|名|%)",
    )?;
    let mut rng = Rng(0x51_7E57);
    let (mut queries, mut answers) = (Vec::new(), Vec::new());
    let mut tries = 0;
    while queries.len() < n && tries < n * 50 {
        tries += 1;
        let d = &docs[rng.below(docs.len())];
        let sentences: Vec<&str> = d
            .body
            .split(['。', '！', '？', '\n'])
            .filter(|s| (15..=80).contains(&s.chars().count()))
            .collect();
        if sentences.is_empty() {
            continue;
        }
        let s = sentences[rng.below(sentences.len())];
        let found: Vec<regex::Match> = number.find_iter(s).collect();
        let [m] = found.as_slice() else {
            continue;
        };
        if d.body.matches(m.as_str()).count() != 1 {
            continue;
        }
        let mut keep = |part: &str| -> String {
            default_cut(part, false)
                .into_iter()
                .filter(|_| rng.below(3) != 0)
                .map(|(a, b)| &part[a..b])
                .collect()
        };
        let q = format!("{}多少{}？", keep(&s[..m.start()]), keep(&s[m.end()..]));
        if q.chars().count() < 8 || queries.iter().any(|(qq, _)| *qq == q) {
            continue;
        }
        queries.push((q, vec![d.id.clone()]));
        answers.push(m.as_str().to_owned());
    }
    write_set(corpus_dir, out, &queries, &[])?;
    let a: String = answers
        .iter()
        .enumerate()
        .map(|(i, a)| format!("q{i}\t{a}\n"))
        .collect();
    std::fs::write(Path::new(out).join("answers.tsv"), a)?;
    Ok(())
}
