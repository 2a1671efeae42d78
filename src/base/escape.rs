//! Escaping text that came from a post, a server or the store, for where
//! it is shown: HTML, XML, and a terminal or plain-text report (control
//! characters dropped, so no text can steer a terminal). One function per
//! target; every renderer and every page writer uses these.

/// Drops control characters (terminal escapes among them) but tabs, and the
/// bidi controls that reorder what a reader sees, so no report can be
/// steered by text that came from a post or a server.
pub fn strip_controls(s: &str) -> String {
    s.chars()
        .filter(|&c| (!c.is_control() || c == '\t') && !is_bidi_control(c))
        .collect()
}

/// The invisible characters that reorder the text around them (embeddings,
/// overrides and isolates: U+202A–U+202E, U+2066–U+2069) or break a line
/// where a reader sees none (U+2028, U+2029): a file name or an anchor text
/// holding one can make a line read as something it is not.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}')
}

/// Text from a post or a file name, made safe to print as (part of) one
/// line on a terminal or in a CI log, with nothing lost: control
/// characters (newlines, ESC, DEL, C1) and bidi controls are written as
/// escapes (`\n`, `\t`, `\x1b`, `\u{202e}`), and a `::` that would start
/// the line (a GitHub Actions workflow command such as `::warning`) has its
/// first colon escaped (`\x3a:`). Borrowed when there is nothing to escape.
pub fn visible(s: &str) -> std::borrow::Cow<'_, str> {
    use std::fmt::Write;
    let command = s.trim_start().starts_with("::");
    if !command && !s.chars().any(|c| c.is_control() || is_bidi_control(c)) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    let lead = s.len() - s.trim_start().len();
    for (i, c) in s.char_indices() {
        match c {
            ':' if command && i == lead => out.push_str("\\x3a"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x80 && c.is_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if c.is_control() || is_bidi_control(c) => {
                let _ = write!(out, "\\u{{{:04x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Escapes text for HTML content and double- or single-quoted attribute
/// values.
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes for XML text and attributes: as for HTML (`&#39;` is XML too),
/// after tabs and line breaks become spaces (an attribute value would fold
/// them anyway) and the characters XML 1.0 forbids are dropped.
pub fn xml(s: &str) -> String {
    let allowed: String = s
        .chars()
        .filter_map(|c| match c {
            '\t' | '\n' | '\r' => Some(' '),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => None,
            c => Some(c),
        })
        .collect();
    html(&allowed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_markup_and_both_quotes() {
        assert_eq!(
            html("<a href='x'>\"&"),
            "&lt;a href=&#39;x&#39;&gt;&quot;&amp;"
        );
    }

    #[test]
    fn xml_escapes_markup_and_drops_what_xml_forbids() {
        assert_eq!(
            xml("a<b>&'\"\tc\u{1}\u{FFFF}"),
            "a&lt;b&gt;&amp;&#39;&quot; c"
        );
    }

    #[test]
    fn controls_are_dropped_but_tabs() {
        assert_eq!(strip_controls("a\u{1b}[31mb\tc\nd"), "a[31mb\tcd");
        assert_eq!(strip_controls("txt.\u{202e}lmth"), "txt.lmth");
    }

    #[test]
    fn visible_escapes_controls_bidi_and_workflow_commands_and_keeps_the_rest() {
        assert_eq!(visible("posts/Привет мир.md"), "posts/Привет мир.md");
        assert!(matches!(visible("plain"), std::borrow::Cow::Borrowed(_)));
        assert_eq!(
            visible("a\nb\u{1b}[31m\tc\u{7f}\u{85}"),
            "a\\nb\\x1b[31m\\tc\\x7f\\u{0085}"
        );
        assert_eq!(visible("evil\u{202e}dm.txt"), "evil\\u{202e}dm.txt");
        assert_eq!(visible("::warning::x.md"), "\\x3a:warning::x.md");
        assert_eq!(visible("  ::error::x"), "  \\x3a:error::x");
        assert_eq!(visible("a::b"), "a::b");
        assert_eq!(visible("x\n::warning::y"), "x\\n::warning::y");
    }
}
