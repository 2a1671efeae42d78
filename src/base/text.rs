//! Text as every stage handles it: slicing without splitting a character,
//! the line of a byte offset, and decoding a body or a file to UTF-8 under
//! the charset a server or a document names. Collecting, fetching, the
//! store and `show` decode through `decode_text`, so a page reads the same
//! wherever it is read.

use chardetng::EncodingDetector;
use encoding_rs::{Encoding, UTF_8};

/// The largest char boundary of `s` at or before byte `i` (`s.len()` past
/// the end), so `&s[..floor_char_boundary(s, i)]` never panics.
pub fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// How many line breaks (`\n`) the bytes hold.
pub fn newlines(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b == b'\n').count()
}

/// How many line breaks stand before byte `at` of `s` (all of them past the
/// end): a 1-based line is `first_line + newlines_before(s, at)`.
pub fn newlines_before(s: &str, at: usize) -> usize {
    newlines(&s.as_bytes()[..at.min(s.len())])
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
pub fn decode_text(bytes: Vec<u8>, charset_hint: Option<&str>) -> Result<String, String> {
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

/// `decode_text` of borrowed bytes: the bytes themselves when they are
/// already the text (valid UTF-8, no other charset named, not binary), so
/// that the common page is read without a copy; else what `decode_text`
/// makes of a copy. The same text either way.
pub fn decode_text_ref<'a>(
    bytes: &'a [u8],
    charset_hint: Option<&str>,
) -> Result<std::borrow::Cow<'a, str>, String> {
    if let Ok(s) = std::str::from_utf8(bytes)
        && !looks_binary(bytes)
        && charset_hint.is_none_or(is_utf8_label)
    {
        return Ok(std::borrow::Cow::Borrowed(
            s.strip_prefix('\u{feff}').unwrap_or(s),
        ));
    }
    decode_text(bytes.to_vec(), charset_hint).map(std::borrow::Cow::Owned)
}

/// NUL bytes, or many control characters, in the first 8 KB.
fn looks_binary(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(8192)];
    // Counted a block at a time into a byte, which the compiler turns
    // into vector instructions: every fetched page passes here.
    let controls: usize = head
        .chunks(128)
        .map(|block| {
            block
                .iter()
                .map(|&b| u8::from(b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C | 0x1B)))
                .fold(0u8, u8::wrapping_add) as usize
        })
        .sum();
    memchr::memchr(0, head).is_some()
        || controls * 20 > head.len().max(1)
        || binary_magic(head).is_some()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries_never_split_a_character() {
        let s = "aé€";
        assert_eq!(floor_char_boundary(s, 2), 1);
        assert_eq!(floor_char_boundary(s, 3), 3);
        assert_eq!(floor_char_boundary(s, 5), 3);
        assert_eq!(floor_char_boundary(s, 99), s.len());
    }

    #[test]
    fn lines_are_counted_before_an_offset() {
        let s = "one\ntwo\nthree";
        assert_eq!(newlines_before(s, 0), 0);
        assert_eq!(newlines_before(s, 4), 1);
        assert_eq!(newlines_before(s, 99), 2);
        assert_eq!(newlines(s.as_bytes()), 2);
    }

    #[test]
    fn declared_and_guessed_charsets_decode_to_utf8() {
        let latin1 = b"<html><head><meta charset=\"iso-8859-1\"></head><body>caf\xE9</body></html>";
        assert!(decode_text(latin1.to_vec(), None).unwrap().contains("café"));
        let utf16 = vec![0xFF, 0xFE, b'h', 0, b'i', 0];
        assert_eq!(decode_text(utf16, None).unwrap(), "hi");
        let png = decode_text(b"\x89PNG\r\n\x1a\n\0\0".to_vec(), None);
        assert!(png.unwrap_err().contains("PNG"));
        assert!(decode_text(b"abc\0\0\0def".to_vec(), None).is_err());
        // A charset named by the server wins over valid UTF-8 bytes.
        assert_eq!(
            decode_text(b"caf\xc3\xa9".to_vec(), Some("latin1")).unwrap(),
            "caf\u{c3}\u{a9}"
        );
        assert_eq!(decode_text(b"\xef\xbb\xbfhi".to_vec(), None).unwrap(), "hi");
    }

    #[test]
    fn borrowed_bytes_decode_to_the_same_text_and_are_not_copied_when_utf8() {
        let cases: &[(&[u8], Option<&str>)] = &[
            (b"<p>caf\xc3\xa9</p>", None),
            (b"<p>caf\xc3\xa9</p>", Some("utf-8")),
            (b"\xef\xbb\xbf<p>hi</p>", None),
            (b"caf\xc3\xa9", Some("latin1")),
            (b"<meta charset=\"iso-8859-1\"><p>caf\xE9", None),
            (b"\x89PNG\r\n\x1a\n\0\0", None),
            (b"abc\0\0\0def", None),
            (b"a\x01b\x02c\x03", None),
            (b"", None),
        ];
        for &(bytes, hint) in cases {
            let owned = decode_text(bytes.to_vec(), hint);
            let borrowed = decode_text_ref(bytes, hint).map(|t| t.into_owned());
            assert_eq!(borrowed, owned, "{bytes:?} {hint:?}");
        }
        let page = b"<title>t</title><p>plain</p>";
        assert!(matches!(
            decode_text_ref(page, None),
            Ok(std::borrow::Cow::Borrowed(_))
        ));
        // Control characters counted across the blocks, as before.
        let many = b"ab\x01".repeat(3000);
        assert!(looks_binary(&many));
        let few = b"abcdefghijklmnopqrstuvwxyz\x01".repeat(400);
        assert!(!looks_binary(&few));
    }
}
