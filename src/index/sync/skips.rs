//! Files a sync does not index: the skips remembered from one sync to the next in a process,
//! so an unchanged skipped file is not read again, and the log that names them without a
//! warning per file. The plan consults the first; the writing session fills both.

use std::collections::HashMap;

use crate::corpus::{SeedFile, Skip};

/// Files a sync skipped, by key, with the mtime and size they had. A later sync in the same
/// process does not read such a file again until it changes: a bot that rescans every minute
/// would otherwise re-read it, warn again and write an empty commit each time. A new process
/// starts empty, so every start reports the skipped files once.
#[derive(Debug, Default)]
pub(in crate::index) struct Skipped(pub(super) HashMap<String, SkippedFile>);

#[derive(Debug)]
pub(super) struct SkippedFile {
    mtime: u64,
    size: u64,
    /// Skipped as a copy of another file's article: depends on the other files, not only on
    /// its own bytes.
    duplicate: bool,
}

impl Skipped {
    pub(super) fn unchanged(&self, file: &SeedFile) -> bool {
        self.0
            .get(&file.key)
            .is_some_and(|s| s.mtime == file.mtime && s.size == file.size)
    }

    /// Remembers a skip that will hold as long as the file is unchanged. An unreadable file is
    /// not remembered: fixing its permissions does not change its mtime.
    pub(super) fn remember(&mut self, file: &SeedFile, skip: &Skip) {
        if !matches!(skip, Skip::Unreadable(_)) {
            let duplicate = matches!(skip, Skip::Duplicate { .. });
            let (mtime, size) = (file.mtime, file.size);
            self.0.insert(
                file.key.clone(),
                SkippedFile {
                    mtime,
                    size,
                    duplicate,
                },
            );
        }
    }

    /// Forgets the copies: once an indexed file changes or goes, the article it held may be
    /// the copy's to index.
    pub(super) fn forget_duplicates(&mut self) {
        self.0.retain(|_, s| !s.duplicate);
    }
}

/// Skipped files are named in a warning, the first [`SKIPS_NAMED`] of each reason; the rest
/// at debug level and in one summary line per reason. 78,316 duplicates were 78,316 WARN lines.
const SKIPS_NAMED: usize = 5;

#[derive(Default)]
pub(super) struct SkipLog {
    counts: std::collections::BTreeMap<&'static str, usize>,
}

impl SkipLog {
    pub(super) fn note(&mut self, key: &str, skip: &Skip) {
        let n = self.counts.entry(skip.reason()).or_default();
        *n += 1;
        if *n <= SKIPS_NAMED {
            tracing::warn!("seeds: skipping {key}: {skip}");
        } else {
            tracing::debug!("seeds: skipping {key}: {skip}");
        }
    }

    pub(super) fn summarize(&self) {
        for (reason, n) in &self.counts {
            if *n > SKIPS_NAMED {
                tracing::warn!(
                    "seeds: skipped {n} files as {reason} in all; {} more not named above (all of them at RUST_LOG=debug, or `jianbao index --verbose`)",
                    n - SKIPS_NAMED
                );
            }
        }
    }
}
