//! Reading the seed folder: which files are articles, and each file turned into an [`Article`]
//! (decoded, front matter parsed, body cleaned) or a [`Skip`] that says why not.

pub mod boilerplate;
pub mod clean;
pub mod dates;
pub mod decode;
pub mod frontmatter;
pub mod identity;
pub mod markup;
pub mod status;

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use chrono::NaiveDate;

use boilerplate::{ArticleLines, Chrome, LineKey};

/// Files larger than this are skipped: no article is 5 MB of text, and one such file must not
/// stall indexing or exhaust memory.
pub const MAX_FILE_BYTES: u64 = 5 * 1024 * 1024;

/// A seed file found by [`scan`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedFile {
    /// Path relative to the seeds folder, with `/` separators: the file's key in the index.
    pub key: String,
    pub path: PathBuf,
    /// Modification time in nanoseconds since the epoch, and size: together they tell a sync
    /// whether the file changed.
    pub mtime: u64,
    pub size: u64,
    /// Device and inode of the file the scan vetted (for a symlink: its target, inside the
    /// folder), Unix only. When [`load`] opens another file at this path (replaced since the
    /// scan), it checks again that it is inside the folder: a symlink out of the folder
    /// swapped in after the scan is not read.
    pub identity: Option<(u64, u64)>,
}

/// One article, ready for indexing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Article {
    /// Path in the seeds folder without the extension ([`article_id`]).
    pub id: String,
    pub title: String,
    pub url: String,
    pub source: String,
    pub date: Option<NaiveDate>,
    pub fetch_date: Option<NaiveDate>,
    /// Cleaned lines, separated by `\n` (empty when `state` is not text): paragraphs' lines,
    /// headings, list items, table rows (cells joined by ` | `), code; bare URLs as written.
    pub body: String,
    /// The links of `body` (byte ranges of it), in order.
    pub links: Vec<markup::Link>,
    /// Whether the page has article text (a deleted article's page, an anti-bot page or a
    /// scrape of the title alone has none).
    pub state: status::TextState,
    /// Canonical URL for duplicate detection.
    pub url_key: Option<String>,
    /// The file's content identity ([`identity::content_key`]): follows a file without a URL
    /// when it is moved.
    pub content_key: String,
    /// Non-UTF-8 encoding the file was decoded from, if any.
    pub encoding: Option<&'static str>,
}

/// Why a seed file was not indexed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    Unreadable(String),
    TooLarge(u64),
    Empty,
    Binary,
    Undecodable,
    NoContent,
    Duplicate { of: String },
}

impl Skip {
    /// The reason without the details, for summaries (`duplicate`, `binary`).
    pub fn reason(&self) -> &'static str {
        match self {
            Skip::Unreadable(_) => "unreadable",
            Skip::TooLarge(_) => "too large",
            Skip::Empty => "empty",
            Skip::Binary => "binary",
            Skip::Undecodable => "undecodable",
            Skip::NoContent => "no content",
            Skip::Duplicate { .. } => "duplicate",
        }
    }
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Skip::Unreadable(e) => write!(f, "cannot be read: {e}"),
            Skip::TooLarge(n) => write!(f, "too large ({n} bytes, limit {MAX_FILE_BYTES})"),
            Skip::Empty => write!(f, "empty or blank"),
            Skip::Binary => write!(f, "binary, not text"),
            Skip::Undecodable => write!(f, "not UTF-8, UTF-16 or GB18030 text"),
            Skip::NoContent => write!(f, "no title and no text after cleaning"),
            Skip::Duplicate { of } => write!(f, "same article (URL) as {of}"),
        }
    }
}

/// Lists the `.txt` and `.md` files under `root`, recursively, sorted by key. Hidden files and
/// folders are ignored, and so are symlinks that lead outside `root` (a seed folder must not
/// be a way to read the rest of the disk).
///
/// Written on `std::fs::read_dir`: an entry's type comes with the listing and its metadata
/// from `fstatat` on the open folder, where a walk by full paths (walkdir) resolved every
/// path from the root again: 378 ms for 97,970 files, most of a re-sync.
pub fn scan(root: &Path) -> std::io::Result<Vec<SeedFile>> {
    let canonical_root = root.canonicalize()?;
    // The root itself must be listable: an error there is the caller's to report.
    let entries = std::fs::read_dir(&canonical_root)?;
    let mut files = Vec::new();
    scan_dir(&canonical_root, entries, "", &canonical_root, &mut files);
    files.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(files)
}

fn scan_dir(
    dir: &Path,
    entries: std::fs::ReadDir,
    prefix: &str,
    root: &Path,
    files: &mut Vec<SeedFile>,
) {
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) => {
                tracing::warn!("seeds: cannot list {}: {err}", dir.display());
                continue;
            }
        };
        let name = entry.file_name();
        if is_hidden(&name) {
            continue;
        }
        let Ok(file_type) = entry.file_type() else {
            continue;
        };
        let name = name.to_string_lossy();
        let key = if prefix.is_empty() {
            name.into_owned()
        } else {
            format!("{prefix}/{name}")
        };
        let path = entry.path();
        // A symlink is never followed into a folder (a link to `/` must not make us read
        // the disk); a symlinked file inside the folder is read.
        if file_type.is_dir() {
            match std::fs::read_dir(&path) {
                Ok(sub) => scan_dir(&path, sub, &key, root, files),
                Err(err) => tracing::warn!("seeds: cannot list {}: {err}", path.display()),
            }
            continue;
        }
        if let Some(file) = seed_file(path, key, file_type.is_symlink(), root, || entry.metadata())
        {
            files.push(file);
        }
    }
}

/// The listing entry of the file at `path` (`key` in the folder `root`), or `None` when it is
/// not a seed file: another extension, a symlink out of the folder, not a regular file.
/// `metadata`: the entry's own metadata (of the link itself for a symlink).
fn seed_file(
    path: PathBuf,
    key: String,
    is_symlink: bool,
    root: &Path,
    metadata: impl FnOnce() -> std::io::Result<std::fs::Metadata>,
) -> Option<SeedFile> {
    if !has_seed_extension(&path) {
        return None;
    }
    let metadata = if is_symlink {
        match path.canonicalize() {
            Ok(target) if target.starts_with(root) => std::fs::metadata(&target),
            _ => {
                tracing::warn!(
                    "seeds: skipping {}: symlink leads outside the seeds folder",
                    path.display()
                );
                return None;
            }
        }
    } else {
        metadata()
    };
    let metadata = metadata.ok().filter(std::fs::Metadata::is_file)?;
    let mtime = metadata
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as u64);
    Some(SeedFile {
        key,
        path,
        mtime,
        size: metadata.len(),
        identity: file_identity(&metadata),
    })
}

/// Brings a listing made by [`scan`] of `root` up to date for the paths a folder watcher
/// reported, each looked at again, without walking the folder (the walk and its 97,970 stat
/// calls were most of a one-file re-sync). `None` when the listing cannot be patched that
/// way (a folder appeared, went or was renamed; a path outside the folder): scan instead.
pub fn rescan_paths(root: &Path, files: &mut Vec<SeedFile>, paths: &[PathBuf]) -> Option<()> {
    let canonical_root = root.canonicalize().ok()?;
    for path in paths {
        let relative = path
            .strip_prefix(&canonical_root)
            .or_else(|_| path.strip_prefix(root))
            .ok()?;
        let mut parts = Vec::new();
        for part in relative.components() {
            match part {
                std::path::Component::Normal(name) => parts.push(name),
                std::path::Component::CurDir => {}
                _ => return None,
            }
        }
        if parts.is_empty() {
            return None;
        }
        if parts.iter().any(|name| is_hidden(name)) {
            continue;
        }
        let key = parts
            .iter()
            .map(|name| name.to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        let full: PathBuf = parts.iter().fold(canonical_root.clone(), |p, n| p.join(n));
        let at = files.binary_search_by(|f| f.key.as_str().cmp(&key));
        let entry = match std::fs::symlink_metadata(&full) {
            Ok(m) if m.is_dir() => return None,
            Ok(m) => seed_file(
                full,
                key.clone(),
                m.file_type().is_symlink(),
                &canonical_root,
                || Ok(m),
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // A folder that went: the files under it went with it. The listing is sorted,
                // so they would start where `key/` would be inserted.
                let inside = format!("{key}/");
                let first = files.partition_point(|f| f.key < inside);
                if files.get(first).is_some_and(|f| f.key.starts_with(&inside)) {
                    return None;
                }
                None
            }
            Err(_) => return None,
        };
        match (at, entry) {
            (Ok(i), Some(file)) => files[i] = file,
            (Err(i), Some(file)) => files.insert(i, file),
            (Ok(i), None) => {
                files.remove(i);
            }
            (Err(_), None) => {}
        }
    }
    Some(())
}

#[cfg(unix)]
fn file_identity(metadata: &std::fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((metadata.dev(), metadata.ino()))
}

#[cfg(not(unix))]
fn file_identity(_metadata: &std::fs::Metadata) -> Option<(u64, u64)> {
    None
}

/// Whether the file opened at `file.path` (`opened`: its metadata) is a file inside the seeds
/// folder: the path, resolved now, is under the folder (`file.path` is the canonical folder
/// joined with the key) and names that same file.
fn opened_inside(file: &SeedFile, opened: &std::fs::Metadata) -> bool {
    let Some(root) = file.path.ancestors().nth(file.key.split('/').count()) else {
        return false;
    };
    match file.path.canonicalize() {
        Ok(target) if target.starts_with(root) => std::fs::metadata(&target)
            .is_ok_and(|m| m.is_file() && file_identity(&m) == file_identity(opened)),
        _ => false,
    }
}

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.to_string_lossy().starts_with('.')
}

fn has_seed_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("txt") || e.eq_ignore_ascii_case("md"))
}

/// Opens for reading without blocking: opening a FIFO with no writer blocks in `open` itself,
/// before its type could be checked. Reads of a regular file ignore the flag.
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    options.open(path)
}

/// Reads and parses one seed file (with the fixed chrome list only).
pub fn load(file: &SeedFile) -> Result<Article, Skip> {
    load_with(file, &Chrome::none()).map(|p| p.article)
}

/// Reads and parses one seed file, removing `chrome` learned from the collection.
pub fn load_with(file: &SeedFile, chrome: &Chrome) -> Result<Parsed, Skip> {
    if file.size > MAX_FILE_BYTES {
        return Err(Skip::TooLarge(file.size));
    }
    let unreadable = |e: std::io::Error| Skip::Unreadable(e.kind().to_string());
    let mut opened = open_nonblocking(&file.path).map_err(unreadable)?;
    let metadata = opened.metadata().map_err(unreadable)?;
    // The type is checked on the handle: a FIFO or device swapped in after the scan would
    // otherwise block the read (and the whole sync) for good.
    if !metadata.is_file() {
        return Err(Skip::Unreadable(
            "not a regular file (replaced since the scan)".to_owned(),
        ));
    }
    // Opening follows the path again: if the file was replaced since the scan, read it only
    // if what was opened is still inside the folder (a new version saved by a rename is; a
    // symlink out of the folder swapped in after the scan is not).
    if file_identity(&metadata) != file.identity && !opened_inside(file, &metadata) {
        return Err(Skip::Unreadable(
            "replaced since the scan by something that is not a file in the seeds folder"
                .to_owned(),
        ));
    }
    let mut bytes = Vec::new();
    // At most one byte over the limit: a file that grew since the scan is not read whole.
    (&mut opened)
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(Skip::TooLarge(metadata.len().max(bytes.len() as u64)));
    }
    parse_with(&article_id(&file.key), &bytes, chrome)
}

/// The id of the article at `key`: its path in the folder without the extension
/// (`a/news.txt` → `a/news`, `news.txt` → `news`), unique as the path is: two folders may
/// both hold a `news.txt`.
pub fn article_id(key: &str) -> String {
    let path = Path::new(key);
    match path.extension() {
        Some(ext) => key[..key.len() - ext.len() - 1].to_owned(),
        None => key.to_owned(),
    }
}

/// An article, and what boilerplate learning needs to know of it.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub article: Article,
    /// Its candidate chrome lines (before any learned chrome was removed), for an article with
    /// text; a status page or an empty scrape teaches nothing.
    pub lines: Option<ArticleLines>,
    /// The lines removed as learned chrome, with their keys (for the report of learned lines).
    pub chrome_removed: Vec<(LineKey, String)>,
}

/// Parses a seed file's bytes (with the fixed chrome list only); `id` is the file name
/// without extension.
pub fn parse(id: &str, bytes: &[u8]) -> Result<Article, Skip> {
    parse_with(id, bytes, &Chrome::none()).map(|p| p.article)
}

/// Parses a seed file's bytes, removing `chrome` learned from the collection.
pub fn parse_with(id: &str, bytes: &[u8], chrome: &Chrome) -> Result<Parsed, Skip> {
    let (text, encoding) = decode::decode(bytes).map_err(|e| match e {
        decode::DecodeError::Binary => Skip::Binary,
        decode::DecodeError::Undecodable => Skip::Undecodable,
    })?;
    if text.trim().is_empty() {
        return Err(Skip::Empty);
    }
    // NULs, other control characters and direction overrides are never article text.
    let text = crate::text::strip_hidden_controls(&text);
    let text = normalize_newlines(text.trim_start_matches('\u{feff}'));
    let (fm, body) = frontmatter::split(&text);
    let title = fm
        .get("title")
        .map(one_line)
        .or_else(|| first_heading(body))
        .unwrap_or_else(|| id.to_owned());
    let source = fm.get("source").map(one_line).unwrap_or_default();
    let url = fm.get("url").map(one_line).unwrap_or_default();
    let fetch_date = fm.get("fetch_date").and_then(dates::parse_date);
    let mut paragraphs = clean::paragraphs(body, &title, &source);
    // A status page is recognized before learned chrome is removed (its message, common to
    // many pages, could be learned), and teaches nothing.
    let status_page = status::classify_paragraphs(&paragraphs);
    let (lines, chrome_removed) = if status_page == status::TextState::Text {
        let keys = boilerplate::line_keys(&paragraphs);
        let lines = ArticleLines::new(&source, &keys);
        let removed = chrome.remove_from(lines.source, &mut paragraphs, &keys);
        (Some(lines), removed)
    } else {
        (None, Vec::new())
    };
    let clean::Cleaned {
        text: mut body,
        mut links,
        byline_date,
    } = clean::finish(paragraphs);
    // The order of trust: the front matter's date, the byline's, the day it was fetched.
    let date = fm
        .get("date")
        .and_then(dates::parse_date)
        .or(byline_date)
        .or(fetch_date);
    if body.is_empty() && title.trim().is_empty() {
        return Err(Skip::NoContent);
    }
    let state = match status_page {
        status::TextState::Text => status::classify(&body),
        page => page,
    };
    if state != status::TextState::Text {
        body.clear();
        links.clear();
    }
    let article = Article {
        id: id.to_owned(),
        url_key: identity::url_key(&url),
        content_key: identity::content_key(bytes),
        title,
        url,
        source,
        date,
        fetch_date,
        body,
        links,
        state,
        encoding,
    };
    Ok(Parsed {
        article,
        lines,
        chrome_removed,
    })
}

impl Article {
    /// The body as the word fields index it: bare URLs left out of the words (an address is
    /// not prose, and its pieces would match common words), and instead, on a last line, the
    /// pieces of each address a reader may search for ([`url_terms`]).
    pub fn indexed_body(&self) -> std::borrow::Cow<'_, str> {
        let bare: Vec<&markup::Link> = self
            .links
            .iter()
            .filter(|l| l.is_bare(&self.body))
            .collect();
        if bare.is_empty() {
            return std::borrow::Cow::Borrowed(&self.body);
        }
        let mut out = String::with_capacity(self.body.len() + 64);
        let mut at = 0;
        for link in &bare {
            out.push_str(&self.body[at..link.range.start]);
            // A space, so the words on either side of the address stay apart.
            out.push(' ');
            at = link.range.end;
        }
        out.push_str(&self.body[at..]);
        out.push('\n');
        let mut terms: Vec<String> = bare.iter().flat_map(|l| url_terms(&l.href)).collect();
        terms.sort();
        terms.dedup();
        out.push_str(&terms.join(" "));
        std::borrow::Cow::Owned(out)
    }
}

/// What of an address is searchable: its host without `www.` (`github.com`), the host with the
/// first one to three path segments (`github.com/xpn`, `github.com/xpn/wambam`), and each path
/// segment of letters and digits (`xpn`, `wambam`). Queries, fragments and the scheme are not.
pub fn url_terms(href: &str) -> Vec<String> {
    let Ok(url) = url::Url::parse(href) else {
        return Vec::new();
    };
    let Some(host) = url.host_str() else {
        return Vec::new();
    };
    let host = host.strip_prefix("www.").unwrap_or(host).to_owned();
    let mut terms = vec![host.clone()];
    let segments: Vec<&str> = url
        .path_segments()
        .map(|s| s.filter(|p| !p.is_empty()).collect())
        .unwrap_or_default();
    let mut prefix = host;
    for segment in segments.iter().take(3) {
        prefix = format!("{prefix}/{segment}");
        terms.push(prefix.clone());
    }
    terms.extend(
        segments
            .iter()
            .filter(|p| p.chars().any(|c| c.is_ascii_alphanumeric()) && !p.contains('%'))
            .map(|p| (*p).to_owned()),
    );
    terms
}

fn normalize_newlines(text: &str) -> String {
    if text.contains('\r') {
        text.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        text.to_owned()
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn first_heading(body: &str) -> Option<String> {
    body.lines()
        .find_map(|l| l.trim().strip_prefix("# "))
        .map(|t| one_line(&clean::clean_body(t, "", "")))
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys_and_stamps(files: &[SeedFile]) -> Vec<(String, u64, u64)> {
        files
            .iter()
            .map(|f| (f.key.clone(), f.mtime, f.size))
            .collect()
    }

    #[test]
    fn a_listing_patched_for_changed_paths_equals_a_new_scan() {
        let dir = tempfile::tempdir().expect("dir");
        let root = dir.path();
        std::fs::create_dir(root.join("sub")).expect("sub");
        for name in ["a.txt", "b.md", "sub/c.txt", "gone.txt", "old.txt"] {
            std::fs::write(root.join(name), name).expect("write");
        }
        let mut files = scan(root).expect("scan");
        std::fs::write(root.join("a.txt"), "changed, longer").expect("write");
        std::fs::write(root.join("sub/new.txt"), "new").expect("write");
        std::fs::write(root.join("notes.pdf"), "not a seed").expect("write");
        std::fs::write(root.join(".hidden.txt"), "hidden").expect("write");
        std::fs::remove_file(root.join("gone.txt")).expect("remove");
        std::fs::rename(root.join("old.txt"), root.join("renamed.txt")).expect("rename");
        let reported: Vec<PathBuf> = [
            "a.txt",
            "sub/new.txt",
            "notes.pdf",
            ".hidden.txt",
            "gone.txt",
            "old.txt",
            "renamed.txt",
            "never-existed.txt",
        ]
        .iter()
        .map(|n| root.join(n))
        .collect();
        assert!(rescan_paths(root, &mut files, &reported).is_some());
        assert_eq!(
            keys_and_stamps(&files),
            keys_and_stamps(&scan(root).expect("scan"))
        );
    }

    #[test]
    fn folders_and_outside_paths_need_a_walk() {
        let dir = tempfile::tempdir().expect("dir");
        let root = dir.path();
        std::fs::create_dir(root.join("sub")).expect("sub");
        std::fs::write(root.join("sub/c.txt"), "c").expect("write");
        let files = scan(root).expect("scan");
        // A folder appeared (moved in with its files).
        std::fs::create_dir(root.join("new")).expect("new");
        assert!(rescan_paths(root, &mut files.clone(), &[root.join("new")]).is_none());
        // A folder went.
        std::fs::remove_dir_all(root.join("sub")).expect("remove");
        assert!(rescan_paths(root, &mut files.clone(), &[root.join("sub")]).is_none());
        // Not under the folder, or the folder itself.
        let elsewhere = tempfile::tempdir().expect("elsewhere");
        let outside = elsewhere.path().join("x.txt");
        assert!(rescan_paths(root, &mut files.clone(), &[outside]).is_none());
        assert!(rescan_paths(root, &mut files.clone(), &[root.to_path_buf()]).is_none());
    }

    #[test]
    fn seed_document_parses() {
        let a = parse(
            "000_0f03e1939e23d3b0",
            include_bytes!("../../seeds/000_0f03e1939e23d3b0.txt"),
        )
        .unwrap();
        assert_eq!(a.title, "专家观点 | AI全球治理，应追求“两翼齐飞”");
        assert_eq!(a.source, "中国信息安全");
        assert_eq!(a.date, NaiveDate::from_ymd_opt(2024, 7, 10));
        assert_eq!(a.fetch_date, NaiveDate::from_ymd_opt(2025, 10, 6));
        assert_eq!(
            a.url_key.as_deref(),
            Some("wx:MzA5MzE5MDAzOA==:2664219335:4")
        );
        // The byline (`肖茜` / `文 | …副院长 肖茜`) is not the start of the text.
        assert!(
            a.body.starts_with("第78届联合国大会"),
            "{}",
            a.body.chars().take(60).collect::<String>()
        );
    }

    #[test]
    fn bom_crlf_and_no_front_matter() {
        let a = parse("x", "\u{feff}# 标题一\r\n\r\n正文。\r\n".as_bytes()).unwrap();
        assert_eq!(a.title, "标题一");
        assert_eq!(a.body, "正文。");
        let b = parse("file-name", "只有正文".as_bytes()).unwrap();
        assert_eq!(b.title, "file-name");
        assert_eq!(b.date, None);
    }

    #[test]
    fn bad_files_say_why() {
        assert_eq!(parse("e", b""), Err(Skip::Empty));
        assert_eq!(parse("e", b" \n\t\r\n"), Err(Skip::Empty));
        assert_eq!(parse("b", b"\x00\x01\x02binary"), Err(Skip::Binary));
        assert_eq!(parse("u", b"\xff\xfe\x00\xd8"), Err(Skip::Undecodable));
    }

    #[test]
    fn missing_date_falls_back_to_fetch_date() {
        let a = parse(
            "x",
            "---\ntitle: t\nfetch_date: 2024/3/22\n---\n正文".as_bytes(),
        )
        .unwrap();
        assert_eq!(a.date, NaiveDate::from_ymd_opt(2024, 3, 22));
    }
}
