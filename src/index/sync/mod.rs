//! Incremental sync of the index with the seeds folder.
//!
//! A file is known by its path relative to the seeds folder; its mtime and size tell whether it
//! changed. Parsing runs on worker threads; documents are added in key order so that, of two
//! files with the same article URL, the first by name always wins.
//!
//! One file per stage, each handing its result to the next: `existing` reads what the index
//! holds, `plan` lists the folder and diffs it against that, `session` carries the plan out
//! (reading on worker threads in `prepare`, writing documents through `writer`, committing in
//! `checkpoint`, re-cleaning in `reclean`, remembering and logging skips in `skips`). This file
//! keeps `run`, which drives them, and what it reports.

mod checkpoint;
mod existing;
mod plan;
mod prepare;
mod reclean;
mod session;
mod skips;
mod writer;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::learning::LineBook;
use super::{IndexError, SearchIndex};
use crate::corpus::Skip;
use crate::corpus::status::TextState;
pub(super) use checkpoint::CHECKPOINT_DOCS;
use existing::read_existing;
use plan::{Listing, counted, diff, list};
use session::Session;
pub(super) use skips::Skipped;
pub use writer::document;

/// Where a sync's time went, logged at debug level (`RUST_LOG=jianbao=debug`).
struct Phases {
    last: Instant,
    spent: Vec<(&'static str, Duration)>,
}

impl Phases {
    fn start(at: Instant) -> Phases {
        Phases {
            last: at,
            spent: Vec::new(),
        }
    }

    fn mark(&mut self, phase: &'static str) {
        let now = Instant::now();
        self.spent.push((phase, now - self.last));
        self.last = now;
    }

    fn log(&self) {
        let parts: Vec<String> = self
            .spent
            .iter()
            .map(|(p, d)| format!("{p} {:.0} ms", d.as_secs_f64() * 1e3))
            .collect();
        tracing::debug!("sync: {}", parts.join(", "));
    }
}

/// Called with (files done, files to read).
pub type Progress = dyn Fn(usize, usize) + Sync;

/// What a sync did.
#[derive(Debug, Default, Clone)]
pub struct SyncReport {
    /// Seed files found.
    pub files: usize,
    /// Files read and parsed (new or changed).
    pub read: usize,
    pub added: usize,
    pub updated: usize,
    pub deleted: usize,
    pub unchanged: usize,
    /// Files not indexed, with the reason.
    pub skipped: Vec<(String, Skip)>,
    /// Files read now that are kept by title only: no article text (see `corpus::status`).
    pub without_text: Vec<(String, TextState)>,
    /// Articles read again and re-indexed because the learned chrome changed for them.
    pub recleaned: usize,
    /// Lines in the learned chrome set afterwards (see `corpus::boilerplate`).
    pub chrome_lines: usize,
    /// Articles in the index afterwards.
    pub total: u64,
    pub bytes_read: u64,
    pub elapsed: Duration,
}

impl SyncReport {
    pub fn changed(&self) -> bool {
        self.added + self.updated + self.deleted > 0
    }
}

/// What syncs in one process carry from one to the next.
#[derive(Debug, Default)]
pub(super) struct SyncState {
    pub(super) skipped: Skipped,
    pub(super) lines: LineBook,
    /// The folder as the last sync listed it, for a sync told which paths changed.
    pub(super) listing: Option<Listing>,
}

/// Brings the index in line with `seeds_dir`. The phases, in order: scan the folder, diff it
/// against the index, read and clean what changed (adding it with its story), learn the chrome
/// from the new counts and re-clean what it changes, commit.
pub(super) fn run(
    index: &SearchIndex,
    seeds_dir: &Path,
    progress: Option<&Progress>,
    state: &mut SyncState,
    changed_paths: Option<&[PathBuf]>,
) -> Result<SyncReport, IndexError> {
    let started = Instant::now();
    let mut phases = Phases::start(started);
    let files = list(seeds_dir, changed_paths, state.listing.take())?;
    phases.mark("scan");
    let existing = read_existing(index).map_err(|source| index.tantivy_error(source))?;
    phases.mark("index state");
    // The last commit's payload, read once: it is also the start of this sync's.
    let mut info = index.commit_info();
    // The learned chrome the documents in the index were cleaned with.
    let chrome = std::mem::take(&mut info.chrome);
    let counted = counted(index, &mut state.lines, &info, &existing)?;
    let plan = diff(&files, &existing, counted, &mut state.skipped);
    let mut report = plan.report();
    if plan.nothing_to_do() {
        report.total = index.num_docs();
        report.chrome_lines = chrome.len();
    } else {
        let mut session = Session::open(index, &plan, &chrome, info, state, report)?;
        phases.mark("chrome counts");
        session.continue_numbers()?;
        session.remove()?;
        session.read(progress)?;
        phases.mark("read and add");
        let learned = session.learn_and_reclean()?;
        phases.mark("learn and re-clean");
        session.commit(learned)?;
        phases.mark("commit");
        report = session.wait_merges()?;
        phases.mark("merges");
        phases.log();
    }
    report.elapsed = started.elapsed();
    state.listing = Some(Listing {
        root: seeds_dir.to_path_buf(),
        files,
    });
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::super::SearchIndex;
    use super::super::schema::names;

    fn article(title: &str, url: &str) -> String {
        format!("---\ntitle: {title}\nurl: {url}\nsource: 测试\n---\n{title}的正文。\n")
    }

    #[test]
    fn skipped_files_are_read_again_only_when_they_or_their_originals_change() {
        let seeds = tempfile::tempdir().expect("seeds");
        let data = tempfile::tempdir().expect("data");
        let s = seeds.path();
        let write = |name: &str, bytes: &[u8]| std::fs::write(s.join(name), bytes).expect("write");
        write(
            "a.txt",
            article("甲", "https://example.com/same").as_bytes(),
        );
        write(
            "b.txt",
            article("乙", "https://example.com/same").as_bytes(),
        );
        write("binary.txt", &[0u8, 159, 146, 150, 0, 1, 2, 3]);
        write(
            "good.txt",
            article("丙", "https://example.com/other").as_bytes(),
        );
        let index = SearchIndex::open(data.path()).expect("open");

        let first = index.sync(s, None).expect("sync");
        assert_eq!((first.added, first.skipped.len()), (2, 2), "{first:?}");
        let synced_at = index.commit_info().synced_at;

        // Nothing changed: nothing is read, warned about or committed.
        let second = index.sync(s, None).expect("sync");
        assert_eq!((second.read, second.skipped.len()), (0, 0), "{second:?}");
        assert!(!second.changed());
        assert_eq!(index.commit_info().synced_at, synced_at);

        // The original goes: its copy is read again and takes its place.
        std::fs::remove_file(s.join("a.txt")).expect("remove");
        let third = index.sync(s, None).expect("sync");
        assert_eq!((third.deleted, third.added), (1, 1), "{third:?}");

        // The binary file is fixed: read again and indexed.
        write(
            "binary.txt",
            article("丁", "https://example.com/fixed").as_bytes(),
        );
        let fourth = index.sync(s, None).expect("sync");
        assert_eq!((fourth.read, fourth.added), (1, 1), "{fourth:?}");
        assert_eq!(fourth.total, 3);
    }

    /// A sync told which paths changed looks only at those: they are indexed, and a change
    /// elsewhere waits for the next walk of the folder.
    #[test]
    fn a_sync_of_reported_paths_does_not_walk_the_folder() {
        let seeds = tempfile::tempdir().expect("seeds");
        let data = tempfile::tempdir().expect("data");
        let s = seeds.path();
        let write = |name: &str, title: &str| {
            let url = format!("https://example.com/{name}");
            std::fs::write(s.join(name), article(title, &url)).expect("write");
        };
        write("a.txt", "甲");
        write("b.txt", "乙");
        let index = SearchIndex::open(data.path()).expect("open");
        // The first sync walks the folder: there is no listing yet.
        let first = index.sync_paths(s, &[s.join("a.txt")]).expect("sync");
        assert_eq!(first.added, 2, "{first:?}");

        write("c.txt", "丙");
        write("unreported.txt", "丁");
        std::fs::remove_file(s.join("b.txt")).expect("remove");
        let reported = [s.join("c.txt"), s.join("b.txt")];
        let second = index.sync_paths(s, &reported).expect("sync");
        assert_eq!((second.added, second.deleted), (1, 1), "{second:?}");
        assert_eq!(second.total, 2);

        // The periodic walk finds what no event reported.
        let third = index.sync(s, None).expect("sync");
        assert_eq!((third.added, third.total), (1, 3), "{third:?}");
    }

    /// A sync that commits as it goes gives the same index as one commit: every article once,
    /// distinct ingest numbers, reposts in one story across the commits, the learned banner
    /// out of every article (re-cleaning reaches the articles of earlier commits).
    #[test]
    fn checkpoints_commit_a_large_sync_as_it_goes() {
        let seeds = tempfile::tempdir().expect("seeds");
        let data = tempfile::tempdir().expect("data");
        // Long enough to carry a story signature (150 distinct 3-grams and more).
        let body: String = (0..60)
            .map(|k| format!("第{k}条：城市更新推进老旧小区改造与地下管网建设，方案编号{k}。"))
            .collect();
        for i in 0..40 {
            // Every tenth file reposts the first one's article.
            let text = if i % 10 == 0 {
                body.clone()
            } else {
                format!("第{i}篇。{}", "内容".repeat(i + 1))
            };
            let page = format!(
                "---\ntitle: 文章{i}\nurl: https://example.com/{i}\nsource: 来源\n---\n本站内容自动备份，仅供查阅学习\n\n{text}\n"
            );
            std::fs::write(seeds.path().join(format!("{i:03}.txt")), page).expect("write");
        }
        let mut index = SearchIndex::open(data.path()).expect("open");
        index.set_checkpoint_every(7);
        // What another process sees while the sync runs, once 30 files were handed over.
        let seen_mid_sync = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(u64::MAX));
        let seen = std::sync::Arc::clone(&seen_mid_sync);
        let index_dir = data.path().join("index");
        let progress = move |done: usize, _: usize| {
            if done == 30 {
                let committed = tantivy::Index::open_in_dir(&index_dir)
                    .and_then(|i| i.reader())
                    .map(|r| r.searcher().num_docs())
                    .expect("read the index mid-sync");
                seen.store(committed, std::sync::atomic::Ordering::SeqCst);
            }
        };
        let report = index.sync(seeds.path(), Some(&progress)).expect("sync");
        assert_eq!((report.added, report.total), (40, 40), "{report:?}");
        let mid = seen_mid_sync.load(std::sync::atomic::Ordering::SeqCst);
        assert!((21..40).contains(&mid), "committed by the 30th file: {mid}");
        let searcher = index.searcher();
        let mut seqs = Vec::new();
        let mut stories = std::collections::HashMap::new();
        for segment in searcher.segment_readers() {
            let ff = segment.fast_fields();
            let seq = ff.u64(names::SEQ).expect("seq");
            let story = ff.u64(names::STORY).expect("story");
            for doc in segment.doc_ids_alive() {
                let s = seq.first(doc).expect("seq");
                seqs.push(s);
                stories.insert(s, story.first(doc).expect("story"));
            }
        }
        seqs.sort_unstable();
        assert_eq!(seqs, (0..40).collect::<Vec<u64>>(), "each number once");
        // Files 0, 10, 20, 30 (numbers 0, 10, 20, 30) are one story, started by the first.
        for repost in [10, 20, 30] {
            assert_eq!(stories[&repost], 0, "repost #{repost}");
        }
        assert_eq!(stories[&5], 5);
        let hits = crate::search::search(&index, "自动备份", &Default::default()).expect("search");
        assert_eq!(
            hits.total, 0,
            "the banner is learned and removed everywhere"
        );
    }
}
