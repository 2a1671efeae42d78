//! Small facts about URLs and HTTP headers that collecting, fetching, the
//! store and the reports all need: whether a URL is a web address, a
//! content type's essence and charset, and whether an href only jumps
//! within its page. Pure string rules: nothing here parses a page or
//! touches the network.

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

#[cfg(test)]
mod tests {
    use super::*;

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
