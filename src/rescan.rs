//! Picking up new, changed and removed seed files while the bot runs: a folder watcher for
//! promptness, and a periodic rescan as the safety net (watchers miss events on some file
//! systems). Syncs run on the blocking pool; searches keep using the previous snapshot until
//! the commit lands.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use notify::{RecursiveMode, Watcher};

use crate::index::SearchIndex;

/// Quiet time after a file event before syncing, so a copy of many files is one sync. Short:
/// a file dropped in is searchable this long plus the sync (~0.1 s at 97,970 files) later.
pub const DEBOUNCE: Duration = Duration::from_millis(200);

/// More changed paths than this in one burst are synced with a walk of the folder.
const MAX_PATHS: usize = 1_000;

/// The paths changed in a burst of events, or `None` when the folder must be walked (a
/// watcher that lost events, too many paths).
type Changed = Option<Vec<PathBuf>>;

fn absorb(changed: &mut Changed, event: Changed) {
    match (changed.as_mut(), event) {
        (Some(paths), Some(more)) if paths.len() + more.len() <= MAX_PATHS => paths.extend(more),
        _ => *changed = None,
    }
}

/// Called after a sync that changed the index (alerts look for new matches then).
pub type OnChange = Arc<dyn Fn() + Send + Sync>;

pub async fn run(
    index: Arc<SearchIndex>,
    seeds_dir: PathBuf,
    every: Duration,
    on_change: OnChange,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Changed>();
    let on_event = move |event: notify::Result<notify::Event>| match event {
        Ok(e) if e.kind.is_access() => {}
        Ok(e) if e.need_rescan() || e.paths.is_empty() => {
            let _ = tx.send(None);
        }
        Ok(e) => {
            let _ = tx.send(Some(e.paths));
        }
        Err(_) => {
            let _ = tx.send(None);
        }
    };
    // Never follow symlinks: a link to `/` in the seeds folder must not make us watch the disk.
    let config = notify::Config::default().with_follow_symlinks(false);
    let watcher = notify::RecommendedWatcher::new(on_event, config);
    let _watcher = match watcher {
        Ok(mut w) => match w.watch(&seeds_dir, RecursiveMode::Recursive) {
            Ok(()) => Some(w),
            Err(e) => {
                tracing::warn!(
                    "cannot watch {}: {e}; rescanning every {} s",
                    seeds_dir.display(),
                    every.as_secs()
                );
                None
            }
        },
        Err(e) => {
            tracing::warn!(
                "no file watcher: {e}; rescanning every {} s",
                every.as_secs()
            );
            None
        }
    };
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await; // the first tick is immediate; start-up already synced
    loop {
        // The periodic rescan walks the folder; events name the paths to look at again.
        let changed: Changed = tokio::select! {
            _ = ticker.tick() => None,
            Some(first) = rx.recv() => {
                let mut changed = Some(Vec::new());
                absorb(&mut changed, first);
                // Let a burst of events settle.
                while let Ok(Some(next)) = tokio::time::timeout(DEBOUNCE, rx.recv()).await {
                    absorb(&mut changed, next);
                }
                changed
            }
            _ = stop.changed() => return,
        };
        let (index, dir) = (index.clone(), seeds_dir.clone());
        let sync = tokio::task::spawn_blocking(move || match changed {
            Some(paths) => index.sync_paths(&dir, &paths),
            None => index.sync(&dir, None),
        });
        // A stop request does not wait for a sync in progress: the index stays at its last
        // commit (a sync commits once, at its end) and the next start syncs again.
        let result = tokio::select! {
            r = sync => r,
            _ = stop.changed() => return,
        };
        match result {
            Ok(Ok(report)) if report.changed() => {
                tracing::info!(
                    "seeds changed: {} added, {} updated, {} deleted, {} skipped",
                    report.added,
                    report.updated,
                    report.deleted,
                    report.skipped.len()
                );
                on_change();
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::error!("sync failed: {e}"),
            Err(e) => tracing::error!("sync task failed: {e}"),
        }
    }
}
