//! Fidelity of the archived text: how much of each article the reader keeps and how little
//! page chrome, against reference bodies (`benches/fidelity/`, which builds the sets and
//! scores them).
//!
//! ```sh
//! python3 benches/fidelity/make_set.py /tmp/fidelity-syn --n 300 --seed 1
//! python3 benches/fidelity/wechat_refs.py ../shared/corpus/wechat /tmp/fidelity-wechat
//! cargo bench --bench fidelity -- /tmp/fidelity-syn /tmp/fidelity-wechat
//! ```
//!
//! For each set: its `pages/` are indexed as the bot indexes a folder (learned chrome
//! included), the archived text of each page in `manifest.tsv` is written to
//! `SET/archived/<name>.txt` as `jianbao show` prints it without its header, and
//! `score.py` prints precision, recall and F1 for the archived text and the uncleaned page
//! in the same run, per split, with the worst pages. The reader's time per page is printed
//! too (median of the pages, parse and clean only).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use jianbao::corpus;
use jianbao::fulltext;
use jianbao::index::SearchIndex;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn main() -> Res<()> {
    let sets: Vec<PathBuf> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .collect();
    if sets.is_empty() {
        eprintln!("usage: cargo bench --bench fidelity -- SET_DIR [SET_DIR ...]");
        std::process::exit(2);
    }
    for set in &sets {
        run(set)?;
    }
    Ok(())
}

fn run(set: &Path) -> Res<()> {
    println!("== {}", set.display());
    let pages = std::fs::canonicalize(set.join("pages"))?;
    let data = tempfile::tempdir()?;
    let index = SearchIndex::open(data.path())?;
    let started = Instant::now();
    let report = index.sync(&pages, None)?;
    println!(
        "indexed {} files in {:.2} s, {} learned chrome lines",
        report.files,
        started.elapsed().as_secs_f64(),
        report.chrome_lines
    );
    let out = set.join("archived");
    std::fs::create_dir_all(&out)?;
    let manifest = std::fs::read_to_string(set.join("manifest.tsv"))?;
    let mut times = Vec::new();
    let mut missing = 0;
    for line in manifest.lines().skip(1) {
        let Some(name) = line.split('\t').next() else {
            continue;
        };
        let stem = name.trim_end_matches(".txt");
        let text = match fulltext::find(&index, stem)? {
            Some(full) if full.has_text() => body_of(&full.markdown()),
            _ => {
                missing += 1;
                String::new()
            }
        };
        std::fs::write(out.join(format!("{stem}.txt")), text)?;
        let bytes = std::fs::read(pages.join(format!("{stem}.txt")))?;
        let t = Instant::now();
        let _ = corpus::parse(stem, &bytes);
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    let median = times.get(times.len() / 2).copied().unwrap_or(0.0);
    println!(
        "reader: median {median:.3} ms a page ({} pages, {missing} without archived text)",
        times.len()
    );
    let status = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/fidelity/score.py"))
        .arg(set)
        .arg(&out)
        .args(["--worst", "8"])
        .status()?;
    if !status.success() {
        return Err(format!("score.py failed on {}", set.display()).into());
    }
    Ok(())
}

/// The article's lines from `FullText::markdown`, without its header (`# title`, then the
/// `- 日期：`, `- 来源：`, `- 原文：` lines).
fn body_of(markdown: &str) -> String {
    let mut lines = markdown.lines().skip(1).peekable();
    while let Some(line) = lines.peek() {
        let header = ["- 日期：", "- 来源：", "- 原文："]
            .iter()
            .any(|h| line.starts_with(h));
        if line.trim().is_empty() || header {
            lines.next();
        } else {
            break;
        }
    }
    lines.collect::<Vec<_>>().join("\n")
}
