//! Terminal output of the `index` and `search` commands.

use std::io::{BufRead, IsTerminal, Write};

use serde::Serialize;

use crate::corpus::boilerplate::Scope;
use crate::index::{LearnedLine, SearchIndex, SyncReport};
use crate::search::{self, Hit, SearchError, SearchOptions};

/// ANSI bold yellow for highlights on a terminal.
const ANSI_MARK: (&str, &str) = ("\x1b[1;33m", "\x1b[0m");
const ANSI_BOLD: (&str, &str) = ("\x1b[1m", "\x1b[0m");

/// The `index` command's summary.
pub fn print_sync_report(
    report: &SyncReport,
    verbose: bool,
    out: &mut impl Write,
) -> std::io::Result<()> {
    writeln!(
        out,
        "seeds: {} files, {} read; index: {} added, {} updated, {} deleted, {} unchanged, {} skipped; {} articles; {:.2} s",
        report.files,
        report.read,
        report.added,
        report.updated,
        report.deleted,
        report.unchanged,
        report.skipped.len(),
        report.total,
        report.elapsed.as_secs_f64()
    )?;
    let limit = if verbose {
        usize::MAX
    } else {
        NAMED_PER_REASON
    };
    let mut named: std::collections::BTreeMap<&str, usize> = Default::default();
    for (key, skip) in &report.skipped {
        let n = named.entry(skip.reason()).or_default();
        *n += 1;
        if *n <= limit {
            writeln!(out, "  skipped {}: {skip}", terminal_safe(key))?;
        }
    }
    for (reason, n) in named {
        if n > limit {
            writeln!(
                out,
                "  … {} more skipped as {reason} ({n} in all; --verbose names them)",
                n - limit
            )?;
        }
    }
    if !report.without_text.is_empty() {
        let mut by_state: std::collections::BTreeMap<&str, usize> = Default::default();
        for (_, state) in &report.without_text {
            *by_state.entry(state.name()).or_default() += 1;
        }
        let counts: Vec<String> = by_state.iter().map(|(s, n)| format!("{n} {s}")).collect();
        writeln!(
            out,
            "  kept by title, no article text: {} ({})",
            report.without_text.len(),
            counts.join(", ")
        )?;
        if verbose {
            for (key, state) in &report.without_text {
                writeln!(out, "    {}: {}", terminal_safe(key), state.name())?;
            }
        }
    }
    if report.chrome_lines > 0 || report.recleaned > 0 {
        writeln!(
            out,
            "  learned chrome: {} lines (`index --chrome` lists them); {} articles cleaned again",
            report.chrome_lines, report.recleaned
        )?;
    }
    Ok(())
}

/// The `index --chrome` list: learned chrome lines, most common first.
pub fn print_learned_chrome(lines: &[LearnedLine], out: &mut impl Write) -> std::io::Result<()> {
    writeln!(out, "learned chrome: {} lines", lines.len())?;
    for l in lines {
        let text = l.text.as_deref().unwrap_or("(text not recorded)");
        match l.scope {
            Scope::Source { files, of, .. } => writeln!(
                out,
                "  {files:>6}/{of:<6} {}: {text}",
                l.source.as_deref().unwrap_or("?")
            )?,
            Scope::Everywhere { sources, files } => {
                writeln!(out, "  {files:>6} in {sources} sources: {text}")?
            }
        }
    }
    Ok(())
}

/// Text from outside (a file name, a user's alert query) as a terminal may show it: control
/// characters and direction overrides removed, as the bot removes them from replies. An escape
/// sequence in a file name would otherwise retitle or clear the operator's terminal.
pub fn terminal_safe(text: &str) -> std::borrow::Cow<'_, str> {
    crate::text::strip_hidden_controls(text)
}

/// Skipped files named per reason by `index` without `--verbose`.
const NAMED_PER_REASON: usize = 10;

/// One line of `search --json`.
#[derive(Serialize)]
pub struct JsonResults<'a> {
    pub query: &'a str,
    /// Results that can be paged through (partial matches are cut to a few).
    pub total: usize,
    /// Articles that matched before partial matches were cut (equal to `total` otherwise).
    pub matched: usize,
    pub hits: Vec<JsonHit>,
    /// Terms of the query that no article contains, as written (empty when none).
    pub missing: Vec<String>,
    /// The hits cover fewer of the terms than a result normally must (nothing covered more).
    pub partial: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Serialize)]
pub struct JsonHit {
    pub id: String,
    pub title: String,
    pub url: String,
    pub source: String,
    pub date: Option<String>,
    pub score: f32,
    pub excerpt: String,
    /// The article's short number (`jianbao show 123`, `/read 123`).
    pub seq: u64,
    /// The story it belongs to: reposts share it.
    pub story: u64,
    /// The story's other copies (not listed as hits of their own unless `--all-copies`).
    pub also: Vec<JsonCopy>,
}

#[derive(Serialize)]
pub struct JsonCopy {
    pub id: String,
    pub seq: u64,
    pub title: String,
    pub source: String,
    pub url: String,
    pub date: Option<String>,
}

impl From<&Hit> for JsonHit {
    fn from(h: &Hit) -> Self {
        JsonHit {
            id: h.id.clone(),
            title: h.title.clone(),
            url: h.url.clone(),
            source: h.source.clone(),
            date: h.date.map(|d| d.format("%Y-%m-%d").to_string()),
            score: h.score,
            excerpt: h.excerpt.plain(),
            seq: h.seq,
            story: h.story,
            also: h
                .also
                .iter()
                .map(|c| JsonCopy {
                    id: c.id.clone(),
                    seq: c.seq,
                    title: c.title.clone(),
                    source: c.source.clone(),
                    url: c.url.clone(),
                    date: c.date.map(|d| d.format("%Y-%m-%d").to_string()),
                })
                .collect(),
        }
    }
}

/// Answers one query as a JSON object.
pub fn search_json(index: &SearchIndex, query: &str, opts: &SearchOptions) -> String {
    let result = match search::search(index, query, opts) {
        Ok(r) => JsonResults {
            query,
            total: r.total,
            matched: r.matched,
            hits: r.hits.iter().map(JsonHit::from).collect(),
            missing: r.missing,
            partial: r.partial,
            error: None,
        },
        Err(e) => JsonResults {
            query,
            total: 0,
            matched: 0,
            hits: Vec::new(),
            missing: Vec::new(),
            partial: false,
            error: Some(e.to_string()),
        },
    };
    serde_json::to_string(&result).unwrap_or_else(|_| "{}".to_owned())
}

/// Batch mode: one query per stdin line, one JSON line per query, flushed at once.
pub fn search_batch(index: &SearchIndex, opts: &SearchOptions) -> std::io::Result<()> {
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let line = line?;
        writeln!(
            stdout,
            "{}",
            search_json(index, line.trim_end_matches('\r'), opts)
        )?;
        stdout.flush()?;
    }
    Ok(())
}

/// Readable results for a person.
pub fn search_readable(
    index: &SearchIndex,
    query: &str,
    opts: &SearchOptions,
    out: &mut impl Write,
) -> std::io::Result<bool> {
    let color = std::io::stdout().is_terminal();
    let results = match search::search(index, query, opts) {
        Ok(r) => r,
        Err(SearchError::NoWords) => {
            writeln!(out, "{}", crate::render::USAGE_HINT_PLAIN)?;
            return Ok(false);
        }
        Err(e) => return Err(std::io::Error::other(e)),
    };
    let pages = results.total.div_ceil(opts.limit.max(1));
    if let Some(note) = crate::render::missing_note_plain(&results) {
        writeln!(out, "{note}")?;
    }
    writeln!(
        out,
        "{} 篇 · 第 {}/{} 页",
        results.total,
        opts.offset / opts.limit.max(1) + 1,
        pages.max(1)
    )?;
    for (i, hit) in results.hits.iter().enumerate() {
        let (b0, b1) = if color { ANSI_BOLD } else { ("", "") };
        let (m0, m1) = if color { ANSI_MARK } else { ("[", "]") };
        writeln!(out, "\n{}. {b0}{}{b1}", results.offset + i + 1, hit.title)?;
        let meta: Vec<String> = [
            hit.date.map(|d| d.to_string()),
            Some(hit.source.clone()),
            Some(hit.url.clone()),
        ]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect();
        writeln!(out, "   {}", meta.join(" · "))?;
        writeln!(out, "   {}", hit.excerpt.render(m0, m1, str::to_owned))?;
        if !hit.also.is_empty() {
            let sources: Vec<String> = hit
                .also
                .iter()
                .map(|c| format!("{} #{}", c.source.trim(), c.seq))
                .collect();
            writeln!(
                out,
                "   另见 {} 个来源：{}",
                hit.also.len(),
                sources.join("、")
            )?;
        }
        writeln!(out, "   全文：jianbao show {}", hit.seq)?;
    }
    if results.hits.is_empty() {
        writeln!(out, "没有找到结果。试试更少或更短的词。")?;
    }
    Ok(!results.hits.is_empty())
}

/// A progress bar on stderr, only when stderr is a terminal.
pub struct ProgressBar(indicatif::ProgressBar);

pub fn progress_bar() -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(0);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} files {elapsed}")
    {
        bar.set_style(style);
    }
    Some(ProgressBar(bar))
}

impl ProgressBar {
    pub fn callback(&self) -> Box<crate::index::Progress> {
        let bar = self.0.clone();
        Box::new(move |done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        })
    }

    pub fn finish(self) {
        self.0.finish_and_clear();
    }
}
