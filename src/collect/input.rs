//! Reading inputs: walking directories, reading files and stdin under a size
//! cap, and telling the formats apart by content as well as by extension.
//! (Decoding to UTF-8, binary data refused, is `base::text::decode_text`.)
//!
//! It never parses a post and never touches the network.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The formats a post or a list of posts comes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Html,
    Markdown,
    Text,
    Rss,
    Atom,
    Wxr,
    Sitemap,
}

/// Extensions taken from a directory; other files there (images, styles,
/// scripts) are not posts and are passed over silently.
const POST_EXTENSIONS: &[&str] = &[
    "html", "htm", "xhtml", "shtml", "md", "markdown", "mdown", "mkd", "mkdn", "txt", "text",
    "xml", "rss", "atom",
];

/// Directories never walked into, besides hidden ones.
const VCS_DIRS: &[&str] = &["CVS", "_darcs", "node_modules"];

/// Lists the post files under a directory, recursively, sorted by path so
/// that runs are reproducible. Hidden and version-control directories are
/// skipped. Unreadable subdirectories are reported through `on_error`.
pub(crate) fn walk(
    dir: &Path,
    out: &mut Vec<PathBuf>,
    on_error: &mut dyn FnMut(PathBuf, std::io::Error),
) {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            on_error(dir.to_path_buf(), e);
            return;
        }
    };
    let mut children: Vec<(PathBuf, fs::FileType)> = Vec::new();
    for entry in entries {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                on_error(dir.to_path_buf(), e);
                continue;
            }
        };
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') {
            continue;
        }
        // A linked post is a post, but a linked directory is not walked:
        // links can loop.
        let Ok(mut kind) = entry.file_type() else {
            continue;
        };
        if kind.is_symlink() {
            // What the link points to; a dangling link is passed over.
            match fs::metadata(entry.path()) {
                Ok(m) if m.is_dir() => continue,
                Ok(m) => kind = m.file_type(),
                Err(_) => continue,
            }
        }
        let is_dir = kind.is_dir();
        if is_dir && VCS_DIRS.contains(&name.as_ref()) {
            continue;
        }
        children.push((entry.path(), kind));
    }
    children.sort_by(|a, b| a.0.cmp(&b.0));
    for (path, kind) in children {
        if kind.is_dir() {
            walk(&path, out, on_error);
        } else if extension(&path).is_some_and(|e| POST_EXTENSIONS.contains(&e.as_str())) {
            // A FIFO, socket or device named like a post is never opened:
            // reading a FIFO would wait for a writer forever.
            match not_regular(kind) {
                Some(what) => on_error(path, std::io::Error::other(skipped_line(what))),
                None => out.push(path),
            }
        }
    }
}

/// What a file that is not a regular file is, in words; `None` for a
/// regular file.
fn not_regular(kind: fs::FileType) -> Option<&'static str> {
    if kind.is_file() {
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return Some("a FIFO (named pipe)");
        }
        if kind.is_socket() {
            return Some("a socket");
        }
        if kind.is_block_device() || kind.is_char_device() {
            return Some("a device");
        }
    }
    if kind.is_dir() {
        return Some("a directory");
    }
    Some("not a regular file")
}

fn skipped_line(what: &str) -> String {
    format!("{what}, not a regular file; skipped without reading (use - for standard input)")
}

pub(crate) fn extension(path: &Path) -> Option<String> {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
}

/// A size in words a person reads.
pub(crate) fn human_size(n: u64) -> String {
    const MB: f64 = 1024.0 * 1024.0;
    if n as f64 >= MB {
        format!("{:.1} MB", n as f64 / MB)
    } else if n >= 1024 {
        format!("{:.1} KB", n as f64 / 1024.0)
    } else {
        format!("{n} bytes")
    }
}

fn too_big(len: u64, cap: u64) -> String {
    format!(
        "{} is over the {} input size limit (collect.max_file_size); not read",
        human_size(len),
        human_size(cap)
    )
}

/// Reads a regular file, refusing it before reading when it is over `cap`
/// bytes. Anything else (a directory, a FIFO, a socket, a device) is
/// refused without being opened for reading.
pub(crate) fn read_file(path: &Path, cap: u64) -> Result<Vec<u8>, String> {
    let meta = fs::metadata(path).map_err(|e| e.to_string())?;
    if meta.is_dir() {
        return Err("is a directory".into());
    }
    if let Some(what) = not_regular(meta.file_type()) {
        return Err(skipped_line(what));
    }
    if meta.len() > cap {
        return Err(too_big(meta.len(), cap));
    }
    let file = open_regular(path).map_err(|e| e.to_string())?;
    // Checked again on the open file: the path may have changed since.
    let meta = file.metadata().map_err(|e| e.to_string())?;
    if let Some(what) = not_regular(meta.file_type()) {
        return Err(skipped_line(what));
    }
    // Room for the whole file at once (and the byte that would tell it
    // grew past the cap): reading into a growing buffer copied each post
    // several times.
    let room = usize::try_from(meta.len().min(cap).saturating_add(1)).unwrap_or(0);
    read_capped_into(file, cap, Vec::with_capacity(room))
}

/// Opens a file for reading without blocking: should the path have become
/// a FIFO after it was looked at, the open returns at once instead of
/// waiting for a writer (non-blocking changes nothing for regular files).
fn open_regular(path: &Path) -> std::io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    options.open(path)
}

/// Reads a stream to its end, or fails once it passes `cap` bytes.
pub(crate) fn read_capped(r: impl Read, cap: u64) -> Result<Vec<u8>, String> {
    read_capped_into(r, cap, Vec::new())
}

fn read_capped_into(r: impl Read, cap: u64, mut buf: Vec<u8>) -> Result<Vec<u8>, String> {
    r.take(cap.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(|e| e.to_string())?;
    if buf.len() as u64 > cap {
        return Err(format!(
            "more than the {} input size limit (collect.max_file_size); not read",
            human_size(cap)
        ));
    }
    Ok(buf)
}

/// `s` after `prefix` (ASCII, matched in any case), if it starts with it.
/// Compares bytes, so a first character of any width is fine.
fn strip_prefix_ci<'s>(s: &'s str, prefix: &str) -> Option<&'s str> {
    let head = s.as_bytes().get(..prefix.len())?;
    // An ASCII prefix matched: the byte after it starts a character.
    head.eq_ignore_ascii_case(prefix.as_bytes())
        .then(|| s.get(prefix.len()..))
        .flatten()
}

/// The name of the first element of a document, lower-cased, skipping the
/// XML declaration, comments, processing instructions and the doctype.
pub(crate) fn root_element(text: &str) -> Option<String> {
    let mut s = text.trim_start_matches('\u{feff}').trim_start();
    loop {
        if let Some(rest) = s.strip_prefix("<!--") {
            s = rest.split_once("-->")?.1.trim_start();
        } else if s.starts_with("<?") {
            s = s.split_once("?>")?.1.trim_start();
        } else if let Some(rest) = strip_prefix_ci(s, "<!doctype") {
            if rest
                .trim_start()
                .get(..4)
                .is_some_and(|h| h.eq_ignore_ascii_case("html"))
            {
                return Some("html".into());
            }
            s = rest.split_once('>')?.1.trim_start();
        } else {
            break;
        }
    }
    let rest = s.strip_prefix('<')?;
    let name: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || matches!(c, ':' | '-' | '_'))
        .collect();
    (!name.is_empty()).then(|| name.to_ascii_lowercase())
}

const HTML_ROOTS: &[&str] = &[
    "html",
    "head",
    "body",
    "div",
    "p",
    "article",
    "main",
    "section",
    "header",
    "meta",
    "title",
    "link",
    "a",
    "h1",
    "h2",
    "h3",
    "table",
    "ul",
    "blockquote",
    "img",
    "span",
    "script",
    "style",
];

/// Tells a document's format by its content, then by its extension.
pub(crate) fn sniff(text: &str, ext: Option<&str>) -> Result<Format, String> {
    let root = root_element(text);
    match root.as_deref() {
        Some("rss") | Some("rdf:rdf") | Some("channel") => {
            let head = &text[..crate::base::text::floor_char_boundary(text, 65536)];
            return Ok(
                if head.contains("wordpress.org/export/") || head.contains("<wp:wxr_version") {
                    Format::Wxr
                } else {
                    Format::Rss
                },
            );
        }
        Some("feed") => return Ok(Format::Atom),
        Some("urlset") | Some("sitemapindex") => return Ok(Format::Sitemap),
        _ => {}
    }
    let ext = ext.unwrap_or("");
    match ext {
        "xml" | "rss" | "atom" => {
            return Err(match root {
                Some(r) if r == "html" => {
                    "an HTML page, not XML: expected an RSS or Atom feed, a sitemap or a WXR export"
                        .into()
                }
                Some(r) => format!(
                    "XML with root <{r}> is not an RSS or Atom feed, a sitemap or a WXR export"
                ),
                None => "not XML: expected an RSS or Atom feed, a sitemap or a WXR export".into(),
            });
        }
        "md" | "markdown" | "mdown" | "mkd" | "mkdn" => return Ok(Format::Markdown),
        "html" | "htm" | "xhtml" | "shtml" => return Ok(Format::Html),
        _ => {}
    }
    if root.as_deref().is_some_and(|r| HTML_ROOTS.contains(&r)) {
        return Ok(Format::Html);
    }
    if ext == "txt" || ext == "text" {
        return Ok(Format::Text);
    }
    let head = &text[..crate::base::text::floor_char_boundary(text, 4096)];
    let lower = head.to_ascii_lowercase();
    if ["<p>", "<a href", "<div", "<br", "</p>", "<html", "<body"]
        .iter()
        .any(|t| lower.contains(t))
    {
        return Ok(Format::Html);
    }
    if head.starts_with("---\n")
        || head.starts_with("---\r\n")
        || head.starts_with("+++\n")
        || head.contains("](http")
        || head.contains("](/")
        || head.starts_with("# ")
        || head.contains("\n# ")
        || head.contains("\n## ")
        || head.contains("\n> ")
    {
        return Ok(Format::Markdown);
    }
    Ok(Format::Text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_apart_by_content_before_extension() {
        assert_eq!(
            sniff(
                "<?xml version=\"1.0\"?>\n<rss version=\"2.0\">",
                Some("txt")
            ),
            Ok(Format::Rss)
        );
        assert_eq!(
            sniff(
                "<!-- x --><feed xmlns=\"http://www.w3.org/2005/Atom\">",
                None
            ),
            Ok(Format::Atom)
        );
        assert_eq!(sniff("<urlset>", Some("html")), Ok(Format::Sitemap));
        assert_eq!(
            sniff("<!DOCTYPE html><html>", Some("txt")),
            Ok(Format::Html)
        );
        assert_eq!(sniff("Hello\n\n<p>x</p>", None), Ok(Format::Html));
        assert_eq!(sniff("---\ntitle: x\n---\nHi", None), Ok(Format::Markdown));
        assert_eq!(sniff("Just words.", None), Ok(Format::Text));
        assert!(sniff("{\"json\": true}", Some("xml")).is_err());
    }
}
