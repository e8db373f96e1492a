//! What the bot's administrators (and the rescan task) do: `/stats`, `/reindex`, and syncing
//! the index with the seeds folder.

use chrono::DateTime;

use super::{App, Reply};
use crate::render::escape_html;

impl App {
    pub(super) fn stats_reply(&self) -> Reply {
        let info = self.index.commit_info();
        let tz = self.settings.default_tz;
        let last_sync = DateTime::from_timestamp(info.synced_at, 0)
            .filter(|_| info.synced_at > 0)
            .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_else(|| "—".to_owned());
        let subscribers = self.subscriptions.count().unwrap_or(0);
        let sources = crate::index::count_sources(&self.index.searcher());
        Reply::text(format!(
            "📊 <b>统计</b>\n文章：{}\n来源：{}\n索引大小：{:.1} MB\n上次同步：{} ({})\n订阅：{}",
            self.index.num_docs(),
            sources,
            self.index.size_on_disk() as f64 / 1_048_576.0,
            last_sync,
            escape_html(tz.name()),
            subscribers
        ))
    }

    pub(super) fn reindex_reply(&self) -> Reply {
        match self.index.sync(&self.seeds_dir, None) {
            Ok(r) => {
                let mut text = format!(
                    "✅ 同步完成：新增 {}，更新 {}，删除 {}，未变 {}，跳过 {}；共 {} 篇，用时 {:.2} 秒。",
                    r.added,
                    r.updated,
                    r.deleted,
                    r.unchanged,
                    r.skipped.len(),
                    r.total,
                    r.elapsed.as_secs_f64()
                );
                for (key, reason) in r.skipped.iter().take(10) {
                    text.push_str(&format!(
                        "\n• {}：{}",
                        escape_html(key),
                        escape_html(&reason.to_string())
                    ));
                }
                Reply::text(text)
            }
            Err(e) => Reply::text(format!("同步失败：{}", escape_html(&e.to_string()))),
        }
    }

    /// Syncs the index with the seeds folder (what the bot's rescan task does); true when it
    /// changed.
    pub fn rescan(&self) -> bool {
        match self.index.sync(&self.seeds_dir, None) {
            Ok(report) => report.changed(),
            Err(e) => {
                tracing::error!("sync failed: {e}");
                false
            }
        }
    }
}
