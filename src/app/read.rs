//! Reading an article's full text: `/read`, the `📄` buttons under search results (their
//! data), and handing over a long text as a file within the shelf's budget.

use super::texts::echo;
use super::{App, Button, ChatKind, Document, Reply};
use crate::fulltext;
use crate::render::escape_html;
use crate::search::SearchResults;

impl App {
    /// `/read 123`: the archived text of an article.
    pub(super) fn read_replies(&self, args: &str, kind: ChatKind) -> Vec<Reply> {
        let reference = args.split_whitespace().next().unwrap_or_default();
        if reference.is_empty() {
            return vec![Reply::text(
                "用法：/read 编号，例如 <code>/read 123</code>。编号是搜索结果、/latest 和简报里每篇文章后的 #数字。",
            )];
        }
        match self.full_text(reference, kind) {
            Some(replies) => replies,
            None => vec![Reply::text(format!(
                "没有编号为「{}」的文章：它可能已从文件夹中删除。请重新搜索。",
                escape_html(&echo(reference, 32))
            ))],
        }
    }

    /// The replies that hand over an article's text; `None` when there is no such article.
    pub(super) fn full_text(&self, reference: &str, kind: ChatKind) -> Option<Vec<Reply>> {
        let article = match fulltext::find(&self.index, reference) {
            Ok(found) => found?,
            Err(e) => {
                tracing::error!("full text lookup failed: {e}");
                return Some(vec![Reply::text("出错了，请稍后再试。")]);
            }
        };
        Some(match article.delivery(kind == ChatKind::Group) {
            fulltext::Delivery::Messages(messages) => {
                messages.into_iter().map(Reply::text).collect()
            }
            fulltext::Delivery::Document {
                file_name,
                content,
                caption,
            } => match self.shelf.share(content) {
                Some(content) => vec![Reply {
                    html: caption,
                    document: Some(Document { file_name, content }),
                    ..Reply::default()
                }],
                None => {
                    tracing::warn!(
                        "long texts waiting to be sent fill their budget; /read deferred"
                    );
                    vec![Reply::text(format!(
                        "很多人正在读长文，请一分钟后再试：<code>/read {}</code>",
                        article.seq
                    ))]
                }
            },
        })
    }
}

/// `r:<ingest number>`: the full text of one article. Not secret (the number is shown beside
/// every result) and stable across restarts, so it needs no saved session.
fn read_data(seq: u64) -> String {
    format!("r:{seq}")
}

pub(super) fn parse_read_data(data: &str) -> Option<u64> {
    let digits = data.strip_prefix("r:")?;
    (!digits.is_empty() && digits.len() <= 20 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

/// `📄 1` … one full-text button per result on the page, numbered as the results are.
pub(super) fn read_buttons(results: &SearchResults) -> Vec<Button> {
    results
        .hits
        .iter()
        .enumerate()
        .map(|(i, hit)| Button {
            label: format!("📄 {}", results.offset + i + 1),
            data: read_data(hit.seq),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_data_is_short_and_strict() {
        assert_eq!(parse_read_data(&read_data(u64::MAX)), Some(u64::MAX));
        assert!(read_data(u64::MAX).len() <= 64);
        for forged in [
            "",
            "r:",
            "r:-1",
            "r:1a",
            "r: 1",
            "x:1",
            "r:99999999999999999999999",
        ] {
            assert_eq!(parse_read_data(forged), None, "{forged}");
        }
    }
}
