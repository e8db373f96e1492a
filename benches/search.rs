//! Index and search benchmark on a real corpus.
//!
//!     cargo bench --bench search -- ../shared/corpus/xwlb
//!
//! Measures: full index build (median of 3; s, docs/s, MB/s), no-change re-sync (median of 5),
//! search + excerpt latency p50/p99 over realistic queries drawn from the corpus (one hit per
//! story, and the same queries without grouping as the baseline), and the process's peak RSS.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use jianbao::index::SearchIndex;
use jianbao::search::{self, SearchOptions};

#[path = "common/queries.rs"]
mod queries;
use queries::queries;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .unwrap_or("0")
                    .parse::<f64>()
                    .unwrap_or(0.0)
            })
        })
        .unwrap_or(0.0)
        / 1024.0
}

fn corpus_bytes(dir: &Path) -> u64 {
    jianbao::corpus::scan(dir)
        .map(|files| files.iter().map(|f| f.size).sum())
        .unwrap_or(0)
}

fn main() {
    let corpus: PathBuf = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../shared/corpus/xwlb"));
    if !corpus.is_dir() {
        eprintln!(
            "corpus folder {} not found; pass it as the first argument",
            corpus.display()
        );
        std::process::exit(2);
    }
    let bytes = corpus_bytes(&corpus);
    jianbao::text::warm_up();

    let mut builds = Vec::new();
    let mut docs = 0;
    let mut rss_first_build = 0.0;
    let keep = tempfile::tempdir().expect("tempdir");
    for run in 0..3 {
        let data = if run == 2 {
            keep.path().to_path_buf()
        } else {
            tempfile::tempdir().expect("tempdir").keep()
        };
        let index = SearchIndex::open(&data).expect("open");
        let started = Instant::now();
        let report = index.sync(&corpus, None).expect("sync");
        builds.push(started.elapsed());
        docs = report.added;
        if run == 0 {
            // The process-wide peak after one build is what a bot process needs; later builds
            // in this same process only add allocator fragmentation.
            rss_first_build = peak_rss_mb();
        }
        drop(index);
        if run != 2 {
            let _ = std::fs::remove_dir_all(&data);
        }
    }
    let build = median(builds.clone());

    let index = SearchIndex::open(keep.path()).expect("open");
    let resyncs: Vec<Duration> = (0..5)
        .map(|_| {
            let started = Instant::now();
            let r = index.sync(&corpus, None).expect("sync");
            assert!(!r.changed());
            started.elapsed()
        })
        .collect();

    let qs = queries(&index, 240);
    let opts = SearchOptions {
        limit: 5,
        ..SearchOptions::default()
    };
    for q in &qs {
        let _ = search::search(&index, q, &opts); // warm caches
    }
    // Grouped (one hit per story, as users see it) and flat (every copy) interleaved, query by
    // query, so that the cost of grouping is measured against a baseline of the same run.
    let flat_opts = SearchOptions {
        group: false,
        ..opts
    };
    let mut lat = Vec::new();
    let mut flat_lat = Vec::new();
    let mut zero = 0;
    for _ in 0..3 {
        for q in &qs {
            let started = Instant::now();
            let _ = search::search(&index, q, &flat_opts);
            flat_lat.push(started.elapsed());
            let started = Instant::now();
            let r = search::search(&index, q, &opts);
            lat.push(started.elapsed());
            if r.map(|r| r.total == 0).unwrap_or(true) {
                zero += 1;
                if zero <= 5 {
                    eprintln!("zero hits: {q}");
                }
            }
        }
    }
    lat.sort();
    flat_lat.sort();
    let secs = build.as_secs_f64();
    println!(
        "corpus: {} ({docs} docs, {:.1} MB)",
        corpus.display(),
        bytes as f64 / 1e6
    );
    println!(
        "full build: median {:.2} s of 3 ({}), {:.0} docs/s, {:.1} MB/s",
        secs,
        builds
            .iter()
            .map(|d| format!("{:.2}", d.as_secs_f64()))
            .collect::<Vec<_>>()
            .join(", "),
        docs as f64 / secs,
        bytes as f64 / 1e6 / secs
    );
    println!(
        "no-change re-sync: median {:.3} s of 5",
        median(resyncs).as_secs_f64()
    );
    println!(
        "search+excerpt: {} queries x3, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, zero-hit {}",
        qs.len(),
        percentile(&lat, 0.5).as_secs_f64() * 1e3,
        percentile(&lat, 0.99).as_secs_f64() * 1e3,
        lat.last().map_or(0.0, |d| d.as_secs_f64() * 1e3),
        zero / 3
    );
    println!(
        "  the same queries without grouping (every copy a hit): p50 {:.2} ms, p99 {:.2} ms; grouped/flat p50 {:.3}, p99 {:.3}",
        percentile(&flat_lat, 0.5).as_secs_f64() * 1e3,
        percentile(&flat_lat, 0.99).as_secs_f64() * 1e3,
        percentile(&lat, 0.5).as_secs_f64() / percentile(&flat_lat, 0.5).as_secs_f64(),
        percentile(&lat, 0.99).as_secs_f64() / percentile(&flat_lat, 0.99).as_secs_f64()
    );
    // Digest and alert selection (one engine): a small window (the last 50 articles, what a
    // daily digest or an alert pass usually sees) and the whole index (a first digest after a
    // full import), without and with a keyword filter.
    let last = jianbao::digest::max_seq(&index.searcher()).unwrap_or(0);
    for (label, since) in [
        (
            "last 50 articles",
            jianbao::digest::Since::Seq(last.saturating_sub(50)),
        ),
        ("whole index", jianbao::digest::Since::Time(0)),
    ] {
        for keywords in ["", "经济"] {
            let times: Vec<Duration> = (0..7)
                .map(|_| {
                    let started = Instant::now();
                    let d = jianbao::digest::select(&index, since, keywords, 10).expect("digest");
                    assert!(d.total > 0 || !keywords.is_empty());
                    started.elapsed()
                })
                .collect();
            println!(
                "digest select, {label}, keywords {keywords:?}: median {:.2} ms of 7",
                median(times).as_secs_f64() * 1e3
            );
        }
    }
    println!(
        "peak RSS: {:.0} MB after the first build, {:.0} MB at the end (3 builds + queries in one process)",
        rss_first_build,
        peak_rss_mb()
    );
    println!("index size: {:.1} MB", index.size_on_disk() as f64 / 1e6);
}
