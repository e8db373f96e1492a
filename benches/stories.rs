//! Story grouping (reposts as one story) measured on a labelled set of article pairs.
//!
//!     python3 benches/stories/make_pairs.py /tmp/stories
//!     cargo bench --bench stories -- /tmp/stories [/tmp/stories2 …]
//!
//! For each set (`seeds/` and `pairs.tsv`: `id_a  id_b  same|diff  kind`) it prints
//! 1. the pairwise decision of `jianbao::story` (signatures of the cleaned, folded bodies
//!    as the indexer computes them): precision and recall of "same story" for a range of
//!    containment bars, the configured one marked;
//! 2. the grouping the real indexer makes (a tantivy index built from `seeds/` in a temporary
//!    folder): two articles are grouped when they end up with the same `story`. This is
//!    what users see; it can differ from (1) by chaining (A joins B's story, C joins A's).
//!
//! Per kind: how many pairs were judged the same.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use jianbao::corpus;
use jianbao::index::SearchIndex;
use jianbao::story::{self, SAME_STORY, Signature};
use jianbao::text::fold;
use tantivy::schema::Value;

struct Pair {
    a: String,
    b: String,
    same: bool,
    kind: String,
}

fn read_pairs(dir: &Path) -> Vec<Pair> {
    let text = std::fs::read_to_string(dir.join("pairs.tsv")).expect("pairs.tsv");
    text.lines()
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            (cols.len() >= 4 && !l.starts_with('#')).then(|| Pair {
                a: cols[0].to_owned(),
                b: cols[1].to_owned(),
                same: cols[2] == "same",
                kind: cols[3].to_owned(),
            })
        })
        .collect()
}

#[derive(Default, Clone, Copy)]
struct Counts {
    tp: usize,
    fp: usize,
    fn_: usize,
    tn: usize,
}

impl Counts {
    fn add(&mut self, truth: bool, said: bool) {
        match (truth, said) {
            (true, true) => self.tp += 1,
            (false, true) => self.fp += 1,
            (true, false) => self.fn_ += 1,
            (false, false) => self.tn += 1,
        }
    }
    fn precision(&self) -> f64 {
        self.tp as f64 / (self.tp + self.fp).max(1) as f64
    }
    fn recall(&self) -> f64 {
        self.tp as f64 / (self.tp + self.fn_).max(1) as f64
    }
}

fn report(title: &str, pairs: &[Pair], said: impl Fn(&Pair) -> bool) {
    let mut all = Counts::default();
    let mut kinds: BTreeMap<(&str, bool), (usize, usize)> = BTreeMap::new();
    let mut wrong = Vec::new();
    for p in pairs {
        let s = said(p);
        all.add(p.same, s);
        let k = kinds.entry((p.kind.as_str(), p.same)).or_default();
        k.0 += usize::from(s);
        k.1 += 1;
        if s != p.same {
            wrong.push(format!(
                "{} {} {} ({})",
                p.kind,
                p.a,
                p.b,
                if p.same { "missed" } else { "merged" }
            ));
        }
    }
    println!(
        "{title}: precision {:.3}  recall {:.3}  (tp {} fp {} fn {} tn {})",
        all.precision(),
        all.recall(),
        all.tp,
        all.fp,
        all.fn_,
        all.tn
    );
    for ((kind, same), (yes, n)) in kinds {
        let label = if same { "same" } else { "diff" };
        println!("    {label} {kind:<20} judged same {yes:>4} / {n}");
    }
    for w in wrong.iter().filter(|w| w.ends_with("(merged)")) {
        println!("    merged by mistake: {w}");
    }
}

type Dated = (Option<Signature>, Option<chrono::NaiveDate>);

fn signatures(seeds: &Path) -> HashMap<String, Dated> {
    let files = corpus::scan(seeds).expect("scan seeds");
    files
        .iter()
        .filter_map(|f| {
            let article = corpus::load(f).ok()?;
            let sig = (article.state == corpus::status::TextState::Text)
                .then(|| Signature::of_text(&fold(&article.body)))
                .flatten();
            Some((article.id, (sig, article.date)))
        })
        .collect()
}

fn index_stories(seeds: &Path) -> HashMap<String, u64> {
    let data = tempfile::tempdir().expect("tempdir");
    let index = SearchIndex::open(data.path()).expect("open index");
    let started = std::time::Instant::now();
    let report = index.sync(seeds, None).expect("sync");
    println!(
        "index: {} articles in {:.2} s",
        report.total,
        started.elapsed().as_secs_f64()
    );
    let f = index.fields().clone();
    let searcher = index.searcher();
    let mut out = HashMap::new();
    for (ord, segment) in searcher.segment_readers().iter().enumerate() {
        for doc in segment.doc_ids_alive() {
            let d: tantivy::TantivyDocument = searcher
                .doc(tantivy::DocAddress::new(ord as u32, doc))
                .expect("doc");
            let id = d
                .get_first(f.id)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned();
            let story = d
                .get_first(f.story)
                .and_then(|v| v.as_u64())
                .unwrap_or(u64::MAX);
            out.insert(id, story);
        }
    }
    out
}

fn main() {
    let dirs: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if dirs.is_empty() {
        eprintln!(
            "usage: cargo bench --bench stories -- SET_DIR…  (make one with benches/stories/make_pairs.py)"
        );
        std::process::exit(2);
    }
    for dir in dirs {
        let dir = Path::new(&dir);
        let pairs = read_pairs(dir);
        let seeds = dir.join("seeds");
        println!("== {} ({} pairs)", dir.display(), pairs.len());
        let sigs = signatures(&seeds);
        let containment = |p: &Pair| -> f32 {
            match (sigs.get(&p.a), sigs.get(&p.b)) {
                (Some((Some(a), _)), Some((Some(b), _))) => a.containment(b),
                _ => 0.0,
            }
        };
        let decided = |p: &Pair| -> bool {
            match (sigs.get(&p.a), sigs.get(&p.b)) {
                (Some((Some(a), ad)), Some((Some(b), bd))) => story::same_story(a, *ad, b, *bd),
                _ => false,
            }
        };
        println!("containment alone, whatever the dates:\nbar    precision recall");
        for bar in [0.7f32, 0.75, 0.8, 0.85, 0.88, 0.9, 0.92, 0.95, 0.98] {
            let mut c = Counts::default();
            for p in &pairs {
                c.add(p.same, containment(p) >= bar);
            }
            let mark = if (bar - SAME_STORY).abs() < 1e-6 {
                "  ← configured"
            } else {
                ""
            };
            println!(
                "{bar:.2}   {:.3}     {:.3}{mark}",
                c.precision(),
                c.recall()
            );
        }
        report(
            &format!(
                "pairwise, the configured rule ({SAME_STORY} within {} days, else {})",
                story::NEAR_DAYS,
                story::SAME_STORY_FAR
            ),
            &pairs,
            decided,
        );
        let stories = index_stories(&seeds);
        report(
            "indexer's stories",
            &pairs,
            |p| matches!((stories.get(&p.a), stories.get(&p.b)), (Some(a), Some(b)) if a == b),
        );
        println!();
    }
}
