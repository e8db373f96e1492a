//! Scale curve of indexing and search, with a naive tantivy baseline built in the same run.
//!
//!     cargo build --release
//!     for n in 1 5 10; do python3 ../shared/corpus/make_scale.py $n /tmp/scale$n; done
//!     cargo bench --bench scale -- /tmp/scale1 /tmp/scale5 /tmp/scale10
//!
//! For each folder, in this order, each build in a child process of its own (so its peak RSS
//! is its own, read from `wait4`):
//! - **jianbao**: `target/release/jianbao index` on an empty data folder (build time, docs/s,
//!   peak RSS, index size); `index` again with nothing changed; `index` after one file changed
//!   (both wall time of the whole command: process start, folder walk, commit); the first answer
//!   of `search` in a new process; a changed file as the bot's folder watcher syncs it
//!   (`SearchIndex::sync_paths` in a warm process, until a search finds it); then search +
//!   excerpt p50/p99 in this process over the search bench's queries (`benches/common/queries.rs`,
//!   200), with the slowest on stderr.
//! - `--search-only DATA_DIR`: only the search part, on an index built before.
//! - **naive tantivy**: this bench run as a child with `--naive SEEDS OUT`: tantivy 0.27 with
//!   jieba's search-mode tokenizer (what `tantivy-jieba` does: `Jieba::tokenize(text,
//!   TokenizeMode::Search, true)`), the front matter's title and the raw body as two stored
//!   text fields with positions, default writer (50 MB budget, tantivy's thread count), one
//!   commit. No cleaning, no folding, no dedup: the floor of "index these files with tantivy".
//!
//! Prints one table row per folder; `naive/jianbao` above 1 means jianbao builds faster.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use jianbao::index::SearchIndex;
use jianbao::search::{self, SearchOptions};

#[path = "common/queries.rs"]
mod queries;
use queries::queries;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--naive") {
        let (Some(seeds), Some(out)) = (args.get(1), args.get(2)) else {
            eprintln!("--naive SEEDS OUT");
            std::process::exit(2);
        };
        naive::build(Path::new(seeds), Path::new(out));
        return;
    }
    if args.first().map(String::as_str) == Some("--search-only") {
        let Some(data) = args.get(1) else {
            eprintln!("--search-only DATA_DIR");
            std::process::exit(2);
        };
        let index = SearchIndex::open(Path::new(data)).expect("open");
        let (p50, p99) = search_latency(&index);
        println!(
            "search p50 {:.2} ms, p99 {:.2} ms over {} documents",
            p50.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3,
            index.num_docs()
        );
        return;
    }
    let dirs: Vec<PathBuf> = args
        .iter()
        .filter(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .collect();
    if dirs.is_empty() || dirs.iter().any(|d| !d.is_dir()) {
        eprintln!(
            "pass corpus folders, e.g. /tmp/scale1 /tmp/scale5 (../shared/corpus/make_scale.py)"
        );
        std::process::exit(2);
    }
    let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/jianbao");
    if !bin.is_file() {
        eprintln!(
            "{} not found: run `cargo build --release` first",
            bin.display()
        );
        std::process::exit(2);
    }
    println!(
        "| corpus | docs | jianbao build | docs/s | peak RSS | index | naive build | naive RSS | naive/jianbao | no-change re-sync | one-change re-sync | one change seen (watcher) | first answer | search p50 / p99 |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for dir in &dirs {
        row(&bin, dir);
    }
}

fn row(bin: &Path, corpus: &Path) {
    let work = tempfile::tempdir().expect("tempdir");
    let data = work.path().join("data");
    let jianbao = |args: &[&str]| {
        let mut cmd = Command::new(bin);
        cmd.arg("--seeds-dir")
            .arg(corpus)
            .arg("--data-dir")
            .arg(&data)
            .args(args)
            .env("RUST_LOG", "error");
        cmd
    };
    let build = run(&mut jianbao(&["index"]));
    let searcher_index = SearchIndex::open(&data).expect("open");
    let docs = searcher_index.num_docs();
    let index_mb = dir_bytes(&data.join("index")) as f64 / 1e6;
    drop(searcher_index);

    let naive_out = work.path().join("naive");
    let naive = run(Command::new(std::env::current_exe().expect("exe"))
        .arg("--naive")
        .arg(corpus)
        .arg(&naive_out));

    let no_change = run(&mut jianbao(&["index"]));
    let changed_file = first_file(corpus);
    let original = std::fs::read(&changed_file).expect("read");
    let mut edited = original.clone();
    edited.extend_from_slice("\n（基准测试改动的一行）\n".as_bytes());
    std::fs::write(&changed_file, &edited).expect("write");
    let one_change = run(&mut jianbao(&["index"]));
    std::fs::write(&changed_file, &original).expect("restore");
    let _ = run(&mut jianbao(&["index"]));
    let first_answer = run(&mut jianbao(&["search", "--json", "人工智能"]));

    let index = SearchIndex::open(&data).expect("open");
    let watched = watched_change(&index, corpus, &changed_file);
    let (p50, p99) = search_latency(&index);
    println!(
        "| {} | {docs} | {:.1} s | {:.0} | {} MB | {index_mb:.0} MB | {:.1} s | {} MB | {:.2} | {:.2} s | {:.2} s | {:.0} ms | {:.2} s | {:.2} / {:.2} ms |",
        corpus.display(),
        build.wall.as_secs_f64(),
        docs as f64 / build.wall.as_secs_f64(),
        build.rss_mb,
        naive.wall.as_secs_f64(),
        naive.rss_mb,
        naive.wall.as_secs_f64() / build.wall.as_secs_f64(),
        no_change.wall.as_secs_f64(),
        one_change.wall.as_secs_f64(),
        watched.as_secs_f64() * 1e3,
        first_answer.wall.as_secs_f64(),
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
    );
}

/// What a running bot does when its folder watcher reports one changed file: the sync of that
/// path (in a process that has synced before, as a bot has), until a search finds the new
/// text. Median of five changes; the watcher's debounce (`rescan::DEBOUNCE`) comes on top.
fn watched_change(index: &SearchIndex, corpus: &Path, file: &Path) -> Duration {
    index.sync(corpus, None).expect("warm sync");
    let original = std::fs::read(file).expect("read");
    let mut times = Vec::new();
    for (i, marker) in ["甲", "乙", "丙", "丁", "戊"].iter().enumerate() {
        let mut edited = original.clone();
        let word = format!("观测标记{marker}{marker}号");
        edited.extend_from_slice(format!("\n{word}\n").as_bytes());
        std::fs::write(file, &edited).expect("write");
        let started = Instant::now();
        let report = index
            .sync_paths(corpus, &[file.to_path_buf()])
            .expect("sync");
        let found = search::search(index, &format!("\"{word}\""), &SearchOptions::default())
            .expect("search");
        times.push(started.elapsed());
        assert_eq!((report.updated, found.total), (1, 1), "change {i} seen");
    }
    std::fs::write(file, &original).expect("restore");
    index
        .sync_paths(corpus, &[file.to_path_buf()])
        .expect("sync");
    times.sort();
    times[times.len() / 2]
}

struct Measured {
    wall: Duration,
    rss_mb: u64,
}

/// Runs a child to its end; its wall time and peak RSS (`wait4`'s `ru_maxrss`, in KB).
fn run(cmd: &mut Command) -> Measured {
    let started = Instant::now();
    let child = cmd
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our child, not yet reaped (`child` is never waited on); the pointers
    // are to live locals.
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = started.elapsed();
    assert_eq!(reaped, pid, "wait4");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{cmd:?} failed: {status}"
    );
    std::mem::forget(child);
    Measured {
        wall,
        rss_mb: usage.ru_maxrss as u64 / 1024,
    }
}

fn first_file(dir: &Path) -> PathBuf {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt" || e == "md"))
        .collect();
    files.sort();
    files.into_iter().nth(100).expect("a seed file")
}

fn dir_bytes(dir: &Path) -> u64 {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum()
}

/// Median and p99 of search + excerpt over the search bench's queries.
fn search_latency(index: &SearchIndex) -> (Duration, Duration) {
    let qs = queries(index, 200);
    let opts = SearchOptions {
        limit: 5,
        ..SearchOptions::default()
    };
    for q in &qs {
        let _ = search::search(index, q, &opts);
    }
    let mut lat: Vec<Duration> = Vec::new();
    for _ in 0..3 {
        for q in &qs {
            let started = Instant::now();
            let _ = search::search(index, q, &opts);
            lat.push(started.elapsed());
        }
    }
    // The slowest queries (each one's worst of three), on stderr: where to look first.
    let mut worst: Vec<(Duration, &String)> = qs
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let runs = (0..3).map(|r| lat[r * qs.len() + i]);
            (runs.max().unwrap_or_default(), q)
        })
        .collect();
    worst.sort_by_key(|w| std::cmp::Reverse(w.0));
    for (t, q) in worst.iter().take(8) {
        eprintln!("  slowest: {:.2} ms  {q}", t.as_secs_f64() * 1e3);
    }
    lat.sort();
    let at = |p: f64| lat[((lat.len() as f64 - 1.0) * p).round() as usize];
    (at(0.5), at(0.99))
}

/// The naive baseline (see the module comment).
mod naive {
    use std::path::Path;

    use jieba_rs::{Jieba, TokenizeMode};
    use tantivy::schema::{IndexRecordOption, STORED, Schema, TextFieldIndexing, TextOptions};
    use tantivy::tokenizer::{Token, TokenStream, Tokenizer};
    use tantivy::{Index, TantivyDocument};

    static JIEBA: std::sync::LazyLock<Jieba> = std::sync::LazyLock::new(Jieba::new);

    #[derive(Clone)]
    struct JiebaTokenizer;

    struct JiebaStream {
        tokens: Vec<Token>,
        i: usize,
    }

    impl Tokenizer for JiebaTokenizer {
        type TokenStream<'a> = JiebaStream;
        fn token_stream<'a>(&'a mut self, text: &'a str) -> JiebaStream {
            let tokens = JIEBA
                .tokenize(text, TokenizeMode::Search, true)
                .into_iter()
                .enumerate()
                .map(|(position, t)| Token {
                    offset_from: t.byte_start,
                    offset_to: t.byte_end,
                    position,
                    text: t.word.to_owned(),
                    position_length: 1,
                })
                .collect();
            JiebaStream { tokens, i: 0 }
        }
    }

    impl TokenStream for JiebaStream {
        fn advance(&mut self) -> bool {
            self.i += 1;
            self.i <= self.tokens.len()
        }
        fn token(&self) -> &Token {
            &self.tokens[self.i - 1]
        }
        fn token_mut(&mut self) -> &mut Token {
            &mut self.tokens[self.i - 1]
        }
    }

    pub fn build(seeds: &Path, out: &Path) {
        let mut schema = Schema::builder();
        let text = TextOptions::default()
            .set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer("jieba")
                    .set_index_option(IndexRecordOption::WithFreqsAndPositions),
            )
            .set_stored();
        let title = schema.add_text_field("title", text.clone());
        let body = schema.add_text_field("body", text);
        let id = schema.add_text_field("id", STORED);
        std::fs::create_dir_all(out).expect("out");
        let index = Index::create_in_dir(out, schema.build()).expect("index");
        index.tokenizers().register("jieba", JiebaTokenizer);
        let mut writer: tantivy::IndexWriter<TantivyDocument> =
            index.writer(50_000_000).expect("writer");
        let mut files: Vec<_> = walkdir::WalkDir::new(seeds)
            .into_iter()
            .flatten()
            .filter(|e| e.file_type().is_file())
            .map(|e| e.into_path())
            .collect();
        files.sort();
        for path in files {
            let Ok(raw) = std::fs::read_to_string(&path) else {
                continue;
            };
            let (front, text) = match raw
                .strip_prefix("---\n")
                .and_then(|r| r.split_once("\n---\n"))
            {
                Some((f, b)) => (f, b),
                None => ("", raw.as_str()),
            };
            let t = front
                .lines()
                .find_map(|l| l.strip_prefix("title:"))
                .unwrap_or_default()
                .trim();
            let mut doc = TantivyDocument::default();
            doc.add_text(title, t);
            doc.add_text(body, text);
            doc.add_text(id, path.to_string_lossy());
            writer.add_document(doc).expect("add");
        }
        writer.commit().expect("commit");
        writer.wait_merging_threads().expect("merge");
    }
}
