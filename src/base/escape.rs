//! Escaping text that came from a post, a server or the store, for where
//! it is shown: HTML, XML, and a terminal or plain-text report (control
//! characters dropped, so no text can steer a terminal). One function per
//! target; every renderer and every page writer uses these.

/// Drops control characters (terminal escapes among them) but tabs, so no
/// report can be steered by text that came from a post or a server.
pub fn strip_controls(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() || *c == '\t')
        .collect()
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
    }
}
