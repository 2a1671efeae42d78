//! Reading inputs: walking directories, reading files and stdin under a size
//! cap, refusing binary data, decoding any charset to UTF-8, and telling the
//! formats apart by content as well as by extension.
//!
//! It never parses a post and never touches the network.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use chardetng::EncodingDetector;
use encoding_rs::{Encoding, UTF_8};

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
    let mut children: Vec<(PathBuf, bool)> = Vec::new();
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
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_symlink() && fs::metadata(entry.path()).is_ok_and(|m| m.is_dir()) {
            continue;
        }
        let is_dir = kind.is_dir();
        if is_dir && VCS_DIRS.contains(&name.as_ref()) {
            continue;
        }
        children.push((entry.path(), is_dir));
    }
    children.sort();
    for (path, is_dir) in children {
        if is_dir {
            walk(&path, out, on_error);
        } else if extension(&path).is_some_and(|e| POST_EXTENSIONS.contains(&e.as_str())) {
            out.push(path);
        }
    }
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

/// Reads a file, refusing it before reading when it is over `cap` bytes.
pub(crate) fn read_file(path: &Path, cap: u64) -> Result<Vec<u8>, String> {
    let meta = fs::metadata(path).map_err(|e| e.to_string())?;
    if meta.is_dir() {
        return Err("is a directory".into());
    }
    if meta.len() > cap {
        return Err(too_big(meta.len(), cap));
    }
    let file = fs::File::open(path).map_err(|e| e.to_string())?;
    read_capped(file, cap)
}

/// Reads a stream to its end, or fails once it passes `cap` bytes.
pub(crate) fn read_capped(r: impl Read, cap: u64) -> Result<Vec<u8>, String> {
    let mut buf = Vec::new();
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

/// Names the kind of binary file the bytes start like, if any.
fn binary_magic(b: &[u8]) -> Option<&'static str> {
    const MAGIC: &[(&[u8], &str)] = &[
        (b"\x89PNG", "a PNG image"),
        (b"\xFF\xD8\xFF", "a JPEG image"),
        (b"GIF8", "a GIF image"),
        (b"%PDF", "a PDF document"),
        (b"PK\x03\x04", "a ZIP archive"),
        (b"\x1F\x8B", "gzip-compressed data"),
        (b"BZh", "bzip2-compressed data"),
        (b"\xFD7zXZ", "xz-compressed data"),
        (b"\x7FELF", "an executable"),
        (b"RIFF", "a RIFF media file"),
        (b"OggS", "an Ogg media file"),
        (b"SQLite format 3", "an SQLite database"),
    ];
    MAGIC
        .iter()
        .find(|(m, _)| b.starts_with(m))
        .map(|&(_, n)| n)
}

/// Decodes bytes to text: BOM first, then the charset the server or the
/// caller names, UTF-8 when the bytes are valid UTF-8, then the charset the
/// document declares (`<meta charset>`, `<?xml encoding?>`), then a guess.
/// Binary data is refused.
pub(crate) fn decode(bytes: Vec<u8>, charset_hint: Option<&str>) -> Result<String, String> {
    let bytes = match String::from_utf8(bytes) {
        // The common case, without a copy; still checked for binary data.
        Ok(mut s) if !looks_binary(s.as_bytes()) && charset_hint.is_none_or(is_utf8_label) => {
            if s.starts_with('\u{feff}') {
                s.drain(..3);
            }
            return Ok(s);
        }
        Ok(s) => s.into_bytes(),
        Err(e) => e.into_bytes(),
    };
    let bytes = &bytes[..];
    if let Some((enc, bom_len)) = Encoding::for_bom(bytes) {
        let (text, _) = enc.decode_without_bom_handling(&bytes[bom_len..]);
        return Ok(text.into_owned());
    }
    if let Some(kind) = binary_magic(bytes) {
        return Err(format!("binary file ({kind}), not a post"));
    }
    if looks_binary(bytes) {
        return Err("binary file (not text), not a post".into());
    }
    let hinted = charset_hint.and_then(|l| Encoding::for_label(l.trim().as_bytes()));
    if let Some(enc) = hinted
        && enc != UTF_8
    {
        let (text, _) = enc.decode_without_bom_handling(bytes);
        return Ok(text.into_owned());
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Ok(s.to_string());
    }
    let enc = declared_charset(bytes).unwrap_or_else(|| {
        let mut det = EncodingDetector::new();
        det.feed(bytes, true);
        det.guess(None, true)
    });
    let (text, _) = enc.decode_without_bom_handling(bytes);
    Ok(text.into_owned())
}

/// NUL bytes, or many control characters, in the first 8 KB.
fn looks_binary(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(8192)];
    let controls = head
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C | 0x1B))
        .count();
    head.contains(&0) || controls * 20 > head.len().max(1) || binary_magic(head).is_some()
}

fn is_utf8_label(label: &str) -> bool {
    Encoding::for_label(label.trim().as_bytes()).is_none_or(|e| e == UTF_8)
}

/// The charset a document declares in its first KB: `<meta charset=…>`,
/// `<meta http-equiv content="…; charset=…">` or `<?xml encoding="…"?>`.
fn declared_charset(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(2048)];
    let lower: Vec<u8> = head.iter().map(|b| b.to_ascii_lowercase()).collect();
    for key in [&b"charset="[..], &b"encoding="[..]] {
        let Some(p) = lower.windows(key.len()).position(|w| w == key) else {
            continue;
        };
        let rest = &head[p + key.len()..];
        let rest = rest
            .strip_prefix(b"\"")
            .or_else(|| rest.strip_prefix(b"'"))
            .unwrap_or(rest);
        let end = rest
            .iter()
            .position(|&b| matches!(b, b'"' | b'\'' | b';' | b'>' | b' ' | b'/' | b'?'))
            .unwrap_or(rest.len());
        if let Some(enc) = Encoding::for_label(&rest[..end]) {
            return Some(enc);
        }
    }
    None
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
        } else if s.len() >= 9 && s[..9].eq_ignore_ascii_case("<!doctype") {
            let rest = &s[9..];
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
            let head = &text[..super::analyze::floor_boundary(text, 65536)];
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
    let head = &text[..super::analyze::floor_boundary(text, 4096)];
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

    #[test]
    fn declared_and_guessed_charsets_decode_to_utf8() {
        let latin1 = b"<html><head><meta charset=\"iso-8859-1\"></head><body>caf\xE9</body></html>";
        assert!(decode(latin1.to_vec(), None).unwrap().contains("café"));
        let utf16 = vec![0xFF, 0xFE, b'h', 0, b'i', 0];
        assert_eq!(decode(utf16, None).unwrap(), "hi");
        let png = decode(b"\x89PNG\r\n\x1a\n\0\0".to_vec(), None);
        assert!(png.unwrap_err().contains("PNG"));
        assert!(decode(b"abc\0\0\0def".to_vec(), None).is_err());
        // A charset named by the server wins over valid UTF-8 bytes.
        assert_eq!(
            decode(b"caf\xc3\xa9".to_vec(), Some("latin1")).unwrap(),
            "caf\u{c3}\u{a9}"
        );
        assert_eq!(decode(b"\xef\xbb\xbfhi".to_vec(), None).unwrap(), "hi");
    }
}
