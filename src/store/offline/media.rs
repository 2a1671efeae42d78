//! Bytes of stored requisites: their media type (sniffed from the bytes
//! first, servers mislabel often) and the text of a style sheet under its
//! charset.
//!
//! It owns these two judgements and nothing else: it never looks at markup,
//! never resolves a URL beyond reading its file extension, and never
//! decides whether something is inlined.

use encoding_rs::{Encoding, UTF_8};
use url::Url;

use super::RequisiteKind;
use crate::base::web::{charset, essence};

/// The media type of a stored requisite: what its bytes say when they say
/// it clearly (servers mislabel fonts and images often), else the declared
/// type, else the file extension.
pub(super) fn media_type(
    declared: Option<&str>,
    bytes: &[u8],
    url: &Url,
    kind: RequisiteKind,
) -> String {
    if let Some(t) = sniff(bytes) {
        return t.to_string();
    }
    if let Some(t) = declared.and_then(declared_type) {
        return t;
    }
    let by_extension = extension(url).and_then(|e| {
        Some(match e.as_str() {
            "png" => "image/png",
            "jpg" | "jpeg" => "image/jpeg",
            "gif" => "image/gif",
            "webp" => "image/webp",
            "avif" => "image/avif",
            "svg" => "image/svg+xml",
            "ico" => "image/x-icon",
            "bmp" => "image/bmp",
            "woff" => "font/woff",
            "woff2" => "font/woff2",
            "ttf" => "font/ttf",
            "otf" => "font/otf",
            "eot" => "application/vnd.ms-fontobject",
            "css" => "text/css",
            _ => return None,
        })
    });
    by_extension
        .unwrap_or(match kind {
            RequisiteKind::Stylesheet => "text/css",
            _ => "application/octet-stream",
        })
        .to_string()
}

/// The declared content type's essence, if it names something specific.
pub(super) fn declared_type(content_type: &str) -> Option<String> {
    let essence = essence(content_type);
    let clean = essence.contains('/')
        && essence
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-/".contains(&b));
    let generic = matches!(
        essence.as_str(),
        "application/octet-stream" | "binary/octet-stream" | "application/unknown" | "text/plain"
    );
    (clean && !generic).then_some(essence)
}

/// Recognises the formats an offline page inlines by their first bytes.
fn sniff(b: &[u8]) -> Option<&'static str> {
    let at = |i: usize, sig: &[u8]| b.get(i..i + sig.len()) == Some(sig);
    let kind = if at(0, b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if at(0, b"\xFF\xD8\xFF") {
        "image/jpeg"
    } else if at(0, b"GIF87a") || at(0, b"GIF89a") {
        "image/gif"
    } else if at(0, b"RIFF") && at(8, b"WEBP") {
        "image/webp"
    } else if at(4, b"ftypavif") || at(4, b"ftypavis") {
        "image/avif"
    } else if at(0, b"\x00\x00\x01\x00") || at(0, b"\x00\x00\x02\x00") {
        "image/x-icon"
    } else if at(0, b"wOF2") {
        "font/woff2"
    } else if at(0, b"wOFF") {
        "font/woff"
    } else if at(0, b"OTTO") {
        "font/otf"
    } else if at(0, b"\x00\x01\x00\x00") || at(0, b"true") {
        "font/ttf"
    } else if looks_like_svg(b) {
        "image/svg+xml"
    } else {
        return None;
    };
    Some(kind)
}

fn looks_like_svg(b: &[u8]) -> bool {
    let head = &b[..b.len().min(1024)];
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    text.trim_start().starts_with('<') && text.contains("<svg")
}

pub(super) fn extension(url: &Url) -> Option<String> {
    let last = url.path_segments()?.next_back()?;
    let (_, ext) = last.rsplit_once('.')?;
    Some(ext.to_ascii_lowercase())
}

/// A style sheet's text: its BOM, else the declared charset, else its
/// `@charset` rule, else UTF-8 (as browsers decide, minus the page's
/// encoding, which the store does not keep).
pub(super) fn decode_css(content_type: Option<&str>, bytes: &[u8]) -> String {
    if let Some((enc, bom)) = Encoding::for_bom(bytes) {
        return enc
            .decode_without_bom_handling(&bytes[bom..])
            .0
            .into_owned();
    }
    let declared = content_type.and_then(charset);
    let rule = bytes
        .strip_prefix(b"@charset \"")
        .and_then(|rest| rest.iter().position(|&c| c == b'"').map(|end| &rest[..end]))
        .map(|label| String::from_utf8_lossy(label).into_owned());
    let enc = declared
        .or(rule)
        .and_then(|label| Encoding::for_label(label.as_bytes()))
        // A UTF-16 label on bytes without a BOM is wrong; CSS reads UTF-8.
        .map(|e| e.output_encoding())
        .unwrap_or(UTF_8);
    enc.decode_without_bom_handling(bytes).0.into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://example.com/blog/post.html").expect("static url")
    }

    #[test]
    fn formats_are_sniffed_from_bytes_before_labels() {
        let u = base();
        let img = RequisiteKind::Image;
        assert_eq!(
            media_type(Some("text/plain"), b"\x89PNG\r\n\x1a\nxx", &u, img),
            "image/png"
        );
        assert_eq!(media_type(None, b"\xFF\xD8\xFF\xE0", &u, img), "image/jpeg");
        assert_eq!(media_type(None, b"GIF89a..", &u, img), "image/gif");
        assert_eq!(
            media_type(None, b"RIFF\0\0\0\0WEBPVP8 ", &u, img),
            "image/webp"
        );
        assert_eq!(
            media_type(None, b"\0\0\x01\0\x01\0", &u, img),
            "image/x-icon"
        );
        assert_eq!(
            media_type(None, b"wOF2\0\x01", &u, RequisiteKind::Font),
            "font/woff2"
        );
        assert_eq!(
            media_type(None, b"wOFF\0\x01", &u, RequisiteKind::Font),
            "font/woff"
        );
        assert_eq!(
            media_type(None, b"\0\x01\0\0\0\x10", &u, RequisiteKind::Font),
            "font/ttf"
        );
        assert_eq!(
            media_type(None, b"OTTO\0\x10", &u, RequisiteKind::Font),
            "font/otf"
        );
        assert_eq!(
            media_type(
                None,
                b"<?xml version=\"1.0\"?>\n<svg xmlns=\"x\"/>",
                &u,
                img
            ),
            "image/svg+xml"
        );
        assert_eq!(
            media_type(Some("image/png; charset=binary"), b"????", &u, img),
            "image/png"
        );
        let woff = Url::parse("https://example.com/f.woff2").expect("static url");
        assert_eq!(
            media_type(Some("application/octet-stream"), b"????", &woff, img),
            "font/woff2"
        );
    }
}
