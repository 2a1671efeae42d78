//! The style sheet scanner: finds the references in CSS text (`url()`s,
//! `image-set()` strings, `@import` rules) with the span each covers, so a
//! caller can list them or replace them in place.
//!
//! It owns reading CSS just well enough not to be fooled (comments, strings,
//! escapes, bad URLs, `@font-face` blocks). It never resolves a URL, never
//! decides what is fetched or inlined, and never re-serialises a sheet:
//! everything it does not point at is the caller's to copy byte for byte.

use std::ops::Range;

// The style sheet scanner
//
// Written by hand: the CSS parsers available (cssparser and the crates on
// it) parse to re-serialise, which normalises a sheet and rejects or loses
// the hacks and errors real sites ship, and none rewrites `url()`s in place.
// This scanner only needs to find references, so it walks the text once,
// knowing just enough CSS to not be fooled: comments, quoted strings,
// escapes, `url()` quoted or not (and bad ones), `image-set()` strings,
// `@import` and `@font-face` blocks. Everything it does not replace is
// copied through byte for byte.

/// A reference found in a style sheet.
#[derive(Debug, PartialEq)]
pub(super) struct CssRef {
    /// What to replace: a whole `url(...)`, one string of an `image-set()`,
    /// or a whole `@import` rule.
    pub(super) span: Range<usize>,
    /// The reference, CSS escapes undone.
    pub(super) target: String,
    pub(super) what: CssRefKind,
}

#[derive(Debug, PartialEq)]
pub(super) enum CssRefKind {
    Url {
        font_face: bool,
    },
    ImageSetString,
    /// `conditions`: what follows the URL up to the `;`.
    Import {
        conditions: Range<usize>,
    },
}

pub(super) fn scan_css(css: &str) -> Vec<CssRef> {
    let b = css.as_bytes();
    let mut refs = Vec::new();
    let mut i = 0;
    let mut braces = 0usize;
    // The brace depth of the `@font-face` block being read.
    let mut font_face: Option<usize> = None;
    let mut font_face_next = false;
    // One entry per open parenthesis: is it an `image-set(`?
    let mut parens: Vec<bool> = Vec::new();
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'*') => i = skip_comment(css, i),
            b'"' | b'\'' => {
                let (end, value) = read_string(css, i);
                if parens.last() == Some(&true) {
                    refs.push(CssRef {
                        span: i..end,
                        target: value,
                        what: CssRefKind::ImageSetString,
                    });
                }
                i = end;
            }
            b'\\' if !starts_escape(css, i) => i = skip_escape(css, i),
            b'{' => {
                braces += 1;
                if font_face_next {
                    font_face = Some(braces);
                    font_face_next = false;
                }
                parens.clear();
                i += 1;
            }
            b'}' => {
                if font_face == Some(braces) {
                    font_face = None;
                }
                braces = braces.saturating_sub(1);
                font_face_next = false;
                parens.clear();
                i += 1;
            }
            b'(' => {
                parens.push(false);
                i += 1;
            }
            b')' => {
                parens.pop();
                i += 1;
            }
            b'@' => {
                let end = name_end(css, i + 1);
                let name = unescaped(css, i + 1, end);
                if name.eq_ignore_ascii_case("import")
                    && let Some((r, next)) = read_import(css, i, end)
                {
                    refs.push(r);
                    i = next;
                    continue;
                }
                if name.eq_ignore_ascii_case("font-face") {
                    font_face_next = true;
                }
                i = end;
            }
            b'#' => i = name_end(css, i + 1),
            c if (is_name_byte(c) && !c.is_ascii_digit()) || starts_escape(css, i) => {
                let end = name_end(css, i);
                let name = unescaped(css, i, end);
                if b.get(end) == Some(&b'(') {
                    if name.eq_ignore_ascii_case("url") {
                        match read_url(css, end + 1) {
                            UrlToken::Url(span_end, target) => {
                                refs.push(CssRef {
                                    span: i..span_end,
                                    target,
                                    what: CssRefKind::Url {
                                        font_face: font_face.is_some(),
                                    },
                                });
                                i = span_end;
                                continue;
                            }
                            UrlToken::Bad(span_end) => {
                                i = span_end;
                                continue;
                            }
                            UrlToken::Function => {}
                        }
                    }
                    let image_set = name.eq_ignore_ascii_case("image-set")
                        || name.eq_ignore_ascii_case("-webkit-image-set");
                    parens.push(image_set);
                    i = end + 1;
                    continue;
                }
                i = end;
            }
            _ => i += 1,
        }
    }
    refs
}

/// Bytes that may be part of a CSS name (escapes are handled apart).
fn is_name_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c >= 0x80
}

fn is_css_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
}

/// Where the name starting at `i` ends (escapes included).
fn name_end(css: &str, mut i: usize) -> usize {
    let b = css.as_bytes();
    while i < b.len() {
        if is_name_byte(b[i]) {
            i += 1;
        } else if starts_escape(css, i) {
            i = unescape_at(css, i).1;
        } else {
            break;
        }
    }
    i
}

/// Whether a valid escape (a `\\` not followed by a newline) starts at
/// `i`: it starts a name, as a letter would.
fn starts_escape(css: &str, i: usize) -> bool {
    let b = css.as_bytes();
    b.get(i) == Some(&b'\\')
        && b.get(i + 1)
            .is_some_and(|&c| !matches!(c, b'\n' | b'\r' | b'\x0c'))
}

/// The name between `start` and `end` with its escapes undone, as CSS
/// compares names: `u\\72l(` and `\\75 rl(` are both `url(`, and
/// `@\\69mport` is `@import`.
fn unescaped(css: &str, start: usize, end: usize) -> std::borrow::Cow<'_, str> {
    let raw = &css[start..end];
    if !raw.contains('\\') {
        return raw.into();
    }
    let mut name = String::new();
    let mut i = start;
    while i < end {
        if starts_escape(css, i) {
            let (c, next) = unescape_at(css, i);
            name.push(c);
            i = next;
        } else {
            let c = css[i..].chars().next().unwrap_or('\u{FFFD}');
            name.push(c);
            i += c.len_utf8();
        }
    }
    name.into()
}

/// Past the comment opening at `i`; an unclosed comment runs to the end.
fn skip_comment(css: &str, i: usize) -> usize {
    css[i + 2..].find("*/").map_or(css.len(), |e| i + 2 + e + 2)
}

/// Past the escape (`\` and one whole character) at `i`.
fn skip_escape(css: &str, i: usize) -> usize {
    css[i + 1..]
        .chars()
        .next()
        .map_or(css.len(), |c| i + 1 + c.len_utf8())
}

/// The character an escape at `i` stands for, and where the escape ends.
/// The caller has checked that a character other than a newline follows.
fn unescape_at(css: &str, i: usize) -> (char, usize) {
    let rest = &css[i + 1..];
    let hex = rest
        .bytes()
        .take(6)
        .take_while(u8::is_ascii_hexdigit)
        .count();
    if hex == 0 {
        let c = rest.chars().next().unwrap_or('\u{FFFD}');
        return (c, i + 1 + c.len_utf8());
    }
    let code = u32::from_str_radix(&rest[..hex], 16).unwrap_or(0xFFFD);
    let c = char::from_u32(code)
        .filter(|&c| c != '\0')
        .unwrap_or('\u{FFFD}');
    let mut end = i + 1 + hex;
    // One white space after a hex escape belongs to it (`\r\n` is one).
    if css[end..].starts_with("\r\n") {
        end += 2;
    } else if css.as_bytes().get(end).is_some_and(|&b| is_css_space(b)) {
        end += 1;
    }
    (c, end)
}

/// The string opening at `i`: where it ends and its value. A string ends at
/// its closing quote, at the end of the sheet, or (a bad string) before a
/// newline, as CSS reads it.
fn read_string(css: &str, i: usize) -> (usize, String) {
    let b = css.as_bytes();
    let quote = b[i];
    let mut value = String::new();
    let mut j = i + 1;
    while j < b.len() {
        match b[j] {
            c if c == quote => return (j + 1, value),
            b'\n' | b'\r' | b'\x0c' => return (j, value),
            b'\\' => match b.get(j + 1) {
                None => j += 1,
                Some(b'\n' | b'\x0c') => j += 2,
                Some(b'\r') => j += if b.get(j + 2) == Some(&b'\n') { 3 } else { 2 },
                Some(_) => {
                    let (c, next) = unescape_at(css, j);
                    value.push(c);
                    j = next;
                }
            },
            _ => {
                let c = css[j..].chars().next().unwrap_or('\u{FFFD}');
                value.push(c);
                j += c.len_utf8();
            }
        }
    }
    (b.len(), value)
}

enum UrlToken {
    /// A reference: where the token ends and its value.
    Url(usize, String),
    /// A bad URL, which CSS ignores: where its remnants end.
    Bad(usize),
    /// `url(` followed by something that is not a URL: read on as a
    /// function.
    Function,
}

/// Reads what follows `url(` at `i`.
fn read_url(css: &str, i: usize) -> UrlToken {
    let b = css.as_bytes();
    let skip_space = |mut k: usize| {
        while k < b.len() && is_css_space(b[k]) {
            k += 1;
        }
        k
    };
    let j = skip_space(i);
    if j < b.len() && (b[j] == b'"' || b[j] == b'\'') {
        let (end, value) = read_string(css, j);
        let k = skip_space(end);
        return match b.get(k) {
            Some(b')') => UrlToken::Url(k + 1, value),
            None => UrlToken::Url(b.len(), value),
            Some(_) => UrlToken::Function,
        };
    }
    let mut value = String::new();
    let mut k = j;
    while k < b.len() {
        match b[k] {
            b')' => return UrlToken::Url(k + 1, value),
            c if is_css_space(c) => {
                k = skip_space(k);
                return match b.get(k) {
                    Some(b')') => UrlToken::Url(k + 1, value),
                    None => UrlToken::Url(b.len(), value),
                    Some(_) => UrlToken::Bad(bad_url_end(css, k)),
                };
            }
            b'"' | b'\'' | b'(' => return UrlToken::Bad(bad_url_end(css, k)),
            b'\\' => {
                if matches!(b.get(k + 1), None | Some(b'\n' | b'\r' | b'\x0c')) {
                    return UrlToken::Bad(bad_url_end(css, k + 1));
                }
                let (c, next) = unescape_at(css, k);
                value.push(c);
                k = next;
            }
            c if c < 0x20 || c == 0x7f => return UrlToken::Bad(bad_url_end(css, k)),
            _ => {
                let c = css[k..].chars().next().unwrap_or('\u{FFFD}');
                value.push(c);
                k += c.len_utf8();
            }
        }
    }
    UrlToken::Url(b.len(), value)
}

/// Past the remnants of a bad URL: up to and including the next `)` that
/// is not escaped.
fn bad_url_end(css: &str, mut k: usize) -> usize {
    let b = css.as_bytes();
    while k < b.len() {
        match b[k] {
            b')' => return k + 1,
            b'\\' => k = skip_escape(css, k),
            _ => k += 1,
        }
    }
    b.len()
}

/// The `@import` rule whose `@` is at `at` and whose name ends at
/// `after_name`: its reference, and where the rule ends (past its `;`).
fn read_import(css: &str, at: usize, after_name: usize) -> Option<(CssRef, usize)> {
    let b = css.as_bytes();
    let mut j = after_name;
    loop {
        while j < b.len() && is_css_space(b[j]) {
            j += 1;
        }
        if b.get(j) == Some(&b'/') && b.get(j + 1) == Some(&b'*') {
            j = skip_comment(css, j);
        } else {
            break;
        }
    }
    let (token_end, target) = match b.get(j)? {
        b'"' | b'\'' => read_string(css, j),
        _ => {
            let end = name_end(css, j);
            if !unescaped(css, j, end).eq_ignore_ascii_case("url") || b.get(end) != Some(&b'(') {
                return None;
            }
            match read_url(css, end + 1) {
                UrlToken::Url(e, v) => (e, v),
                _ => return None,
            }
        }
    };
    let mut k = token_end;
    let mut depth = 0usize;
    while k < b.len() {
        match b[k] {
            b'"' | b'\'' => k = read_string(css, k).0,
            b'/' if b.get(k + 1) == Some(&b'*') => k = skip_comment(css, k),
            b'\\' => k = skip_escape(css, k),
            b'(' => {
                depth += 1;
                k += 1;
            }
            b')' => {
                depth = depth.saturating_sub(1);
                k += 1;
            }
            b';' | b'{' | b'}' if depth == 0 => break,
            _ => k += 1,
        }
    }
    let rule_end = if b.get(k) == Some(&b';') { k + 1 } else { k };
    Some((
        CssRef {
            span: at..rule_end,
            target,
            what: CssRefKind::Import {
                conditions: token_end..k,
            },
        },
        rule_end,
    ))
}

/// The index of the `)` closing the `(` at `open`.
pub(super) fn matching_paren(s: &str, open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in s.char_indices().skip_while(|&(i, _)| i < open) {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_found_with_their_spans() {
        let css = "a{background:url(x.png)} @import 'y.css' print;";
        let refs = scan_css(css);
        assert_eq!(refs.len(), 2);
        assert_eq!(&css[refs[0].span.clone()], "url(x.png)");
        assert_eq!(refs[0].target, "x.png");
        assert_eq!(&css[refs[1].span.clone()], "@import 'y.css' print;");
    }

    #[test]
    fn escaped_names_are_the_names_they_spell() {
        let css = r"a{background:u\72l(1.png)} b{background:\75 rl(2.png)} @\69mport '3.css'; @import \55RL(4.css);";
        let targets: Vec<String> = scan_css(css).into_iter().map(|r| r.target).collect();
        assert_eq!(targets, ["1.png", "2.png", "3.css", "4.css"]);
    }

    #[test]
    fn parentheses_are_matched() {
        assert_eq!(matching_paren("a(b(c)d)e", 1), Some(7));
        assert_eq!(matching_paren("a(b", 1), None);
    }
}
