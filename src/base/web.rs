//! Small facts about URLs and HTTP headers that collecting, fetching, the
//! store and the reports all need: whether a URL is a web address, a
//! content type's essence and charset, whether an href only jumps within
//! its page, and the user-info (credentials) to remove from a URL before
//! it is shown or archived. Pure string rules: nothing here parses a page
//! or touches the network.

use std::borrow::Cow;

/// Whether `url` is an http(s) URL: it starts with `http://` or `https://`,
/// in any case. Callers trim first when the text may carry white space.
/// (A parsed `url::Url` passes its `as_str()`.)
pub fn is_http(url: &str) -> bool {
    let head = |p: &str| {
        url.get(..p.len())
            .is_some_and(|h| h.eq_ignore_ascii_case(p))
    };
    head("http://") || head("https://")
}

/// A content type's essence, lower-cased: `Text/HTML; charset=x` →
/// `text/html`. Empty when the header is empty.
pub fn essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// The `charset` parameter of a content type, unquoted, as written:
/// `text/html; charset="ISO-8859-1"` → `ISO-8859-1`.
pub fn charset(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| v.trim().trim_matches('"').to_string())
    })
}

/// Whether an href only jumps within its page (`#notes`, a footnote mark,
/// a table of contents): not a citation. `#` alone is a placeholder, and
/// `#!` is a hash-bang route of a script-driven site, not a jump: both are
/// kept, to be reported as empty links.
pub fn is_in_page_jump(href: &str) -> bool {
    let t = href.trim();
    t.len() > 1 && t.starts_with('#') && t != "#!"
}

/// `text` with the user-info removed from every `scheme://user:pass@host`
/// in it: a URL, or a message or anchor text that quotes one. Credentials
/// a post wrote into a link are needed to fetch it, never to show or
/// archive it. Borrowed when there was none.
pub fn without_userinfo(text: &str) -> Cow<'_, str> {
    let mut out = String::new();
    let mut done = 0;
    let mut from = 0;
    while let Some(i) = text[from..].find("://") {
        let start = from + i + 3;
        let rest = &text[start..];
        let end = rest
            .find(|c: char| {
                matches!(c, '/' | '?' | '#' | '\\' | '"' | '\'' | '<' | '>' | '`')
                    || c.is_whitespace()
            })
            .unwrap_or(rest.len());
        if let Some(at) = rest[..end].rfind('@') {
            out.push_str(&text[done..start]);
            done = start + at + 1;
        }
        from = start + end;
    }
    if done == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[done..]);
    Cow::Owned(out)
}

/// Whether a URL carries user-info (`user:password@`).
pub fn has_userinfo(url: &str) -> bool {
    matches!(without_userinfo(url), Cow::Owned(_))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_info_is_removed_from_urls_and_from_text_quoting_them() {
        assert_eq!(
            without_userinfo("http://alice:s3cretpass@host.test:8080/p?q=a@b#f@g"),
            "http://host.test:8080/p?q=a@b#f@g"
        );
        assert_eq!(
            without_userinfo("https://token@host.test"),
            "https://host.test"
        );
        assert_eq!(
            without_userinfo("https://a@b@host.test/"),
            "https://host.test/"
        );
        assert!(matches!(
            without_userinfo("https://host.test/a@b"),
            Cow::Borrowed(_)
        ));
        assert_eq!(
            without_userinfo(
                "error sending request for url (http://alice:pw@h.test/x): see 'ftp://u:p@f.test' \
                 and mail bob@example.org"
            ),
            "error sending request for url (http://h.test/x): see 'ftp://f.test' and mail \
             bob@example.org"
        );
        assert_eq!(
            without_userinfo("citeguard show 'http://alice:pw@h.test/'"),
            "citeguard show 'http://h.test/'"
        );
        assert!(has_userinfo("http://alice:pw@h.test/"));
        assert!(!has_userinfo("mailto:alice@h.test"));
        assert!(!has_userinfo("http://h.test/"));
    }

    #[test]
    fn web_addresses_are_http_or_https_in_any_case() {
        assert!(is_http("http://example.org/"));
        assert!(is_http("HTTPS://example.org/"));
        assert!(!is_http("https:/example.org/"));
        assert!(!is_http("javascript:alert(1)"));
        assert!(!is_http("ftp://example.org/"));
        assert!(!is_http(" http://example.org/"));
        assert!(!is_http("http"));
        assert!(!is_http("é"));
    }

    #[test]
    fn content_types_split_into_essence_and_charset() {
        assert_eq!(essence("Text/HTML; charset=ISO-8859-1"), "text/html");
        assert_eq!(essence(""), "");
        assert_eq!(
            charset("text/html; Charset=\"ISO-8859-1\"").as_deref(),
            Some("ISO-8859-1")
        );
        assert_eq!(charset("text/html"), None);
        assert_eq!(charset("charset=utf-8"), None);
    }

    #[test]
    fn only_fragments_jump_within_the_page() {
        assert!(is_in_page_jump("#fn1"));
        assert!(is_in_page_jump("  #top "));
        assert!(!is_in_page_jump("#"));
        assert!(!is_in_page_jump("#!"));
        assert!(!is_in_page_jump(""));
        assert!(!is_in_page_jump("/page#fn1"));
    }
}
