//! URL identity: one source cited ten times, written ten ways, is one source.
//!
//! Normalisation lowercases scheme and host (the `url` crate does this),
//! drops default ports, drops the fragment for fetching (the citation keeps
//! it), removes tracking parameters, and sorts nothing else: query order can
//! matter to a server, so it is kept.

use url::Url;

/// Which query parameters are not part of a source's identity.
#[derive(Debug, Clone, Default)]
pub struct NormalizeOptions {
    /// Parameter names; a trailing `*` matches a prefix (`utm_*`).
    pub strip_params: Vec<String>,
}

impl NormalizeOptions {
    pub fn from_config(config: &crate::config::CollectConfig) -> Self {
        NormalizeOptions {
            strip_params: config.strip_params.clone(),
        }
    }

    fn strips(&self, name: &str) -> bool {
        self.strip_params.iter().any(|p| match p.strip_suffix('*') {
            Some(prefix) => name.starts_with(prefix),
            None => name == p,
        })
    }
}

/// Parses and normalises a URL for identity, keeping its fragment.
pub fn normalize(raw: &str, opts: &NormalizeOptions) -> Option<Url> {
    let mut url = Url::parse(raw.trim()).ok()?;
    if url.cannot_be_a_base() {
        return Some(url);
    }
    // `Url` already drops the scheme's default port and lowercases the host.
    if url.query().is_some() {
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| !opts.strips(k))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if kept.is_empty() {
            url.set_query(None);
        } else if kept.len() != url.query_pairs().count() {
            url.query_pairs_mut().clear().extend_pairs(kept);
        }
    }
    if url.path().is_empty() {
        url.set_path("/");
    }
    Some(url)
}

/// The key a source is fetched and stored under: normalised, no fragment.
/// `None` when `raw` is not an absolute URL.
pub fn source_key(raw: &str, opts: &NormalizeOptions) -> Option<String> {
    let mut url = normalize(raw, opts)?;
    url.set_fragment(None);
    Some(url.into())
}

/// Whether an href holds template syntax (`{{ … }}`, `{% … %}`, `<%= … %>`,
/// `<?php … ?>`, `${…}`), written as is or percent-encoded: the source of
/// a page was read, and the URL is only known once the site is built. An
/// opening mark is enough: `href="{{ "/x/" | url }}"` reaches us cut at its
/// inner quote, as a browser reads it, and no URL holds these marks.
pub(crate) fn is_template(raw: &str) -> bool {
    const OPENERS: &[&str] = &[
        "{{", "{%", "<%", "<?", "${", "%7b%7b", "%7b%25", "%3c%25", "$%7b",
    ];
    let lower = raw.to_ascii_lowercase();
    OPENERS.iter().any(|o| lower.contains(o))
}

/// Whether `t` is an absolute http(s) URL written exactly as the `url`
/// crate writes it back once parsed, so that parsing it can be skipped:
/// most hrefs of a post are such URLs, and parsing each one was a twentieth
/// of collecting. Conservative: it says no to anything the parser might
/// rewrite (upper case, ports, user info, IDNA labels, numeric hosts, a
/// missing path, dot segments, characters it percent-encodes or reads as
/// separators, `%` not followed by two hex digits); those are parsed.
pub(crate) fn is_canonical_http(t: &str) -> bool {
    let rest = match t.strip_prefix("https://") {
        Some(r) => r,
        None => match t.strip_prefix("http://") {
            Some(r) => r,
            None => return false,
        },
    };
    let b = rest.as_bytes();
    let host_end = memchr::memchr3(b'/', b'?', b'#', b).unwrap_or(b.len());
    let host = &b[..host_end];
    // The path must be there: `https://host` is written back with a `/`.
    if b.get(host_end) != Some(&b'/') || !canonical_host(host) {
        return false;
    }
    let b = &b[host_end..];
    let mut part = Part::Path;
    let mut segment_start = 0;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => {}
            b'-' | b'.' | b'_' | b'~' | b'!' | b'$' | b'&' | b'(' | b')' | b'*' | b'+' | b','
            | b';' | b'=' | b':' | b'@' => {}
            b'%' => {
                let hex = |k: usize| b.get(k).is_some_and(u8::is_ascii_hexdigit);
                if !(hex(i + 1) && hex(i + 2)) {
                    return false;
                }
                // `%2e` is a dot to the parser's dot-segment test.
                if part == Part::Path && b[i + 1] == b'2' && b[i + 2] | 0x20 == b'e' {
                    return false;
                }
                i += 2;
            }
            b'/' => {
                if part == Part::Path {
                    if is_dot_segment(&b[segment_start..i]) {
                        return false;
                    }
                    segment_start = i + 1;
                }
            }
            b'?' => match part {
                Part::Path => {
                    if is_dot_segment(&b[segment_start..i]) {
                        return false;
                    }
                    part = Part::Query;
                }
                Part::Query | Part::Fragment => {}
            },
            b'#' => match part {
                Part::Path => {
                    if is_dot_segment(&b[segment_start..i]) {
                        return false;
                    }
                    part = Part::Fragment;
                }
                Part::Query => part = Part::Fragment,
                Part::Fragment => return false,
            },
            _ => return false,
        }
        i += 1;
    }
    part != Part::Path || !is_dot_segment(&b[segment_start..])
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Path,
    Query,
    Fragment,
}

fn is_dot_segment(s: &[u8]) -> bool {
    s == b"." || s == b".."
}

/// A host the parser keeps as written: lower-case ASCII labels of letters,
/// digits and hyphens, none empty, none an IDNA (`xn--`) label, the last
/// starting with a letter (a last label of digits, or `0x…`, makes the
/// host an IPv4 address, which the parser rewrites).
fn canonical_host(host: &[u8]) -> bool {
    if host.is_empty() {
        return false;
    }
    let mut last = &host[..0];
    for label in host.split(|&c| c == b'.') {
        if label.is_empty()
            || label.starts_with(b"xn--")
            || !label
                .iter()
                .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        {
            return false;
        }
        last = label;
    }
    last.first().is_some_and(u8::is_ascii_lowercase)
}

/// How a reference that is not an absolute URL is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Relative {
    /// `//host/path`: the scheme of the page it is on.
    Scheme,
    /// `/path`: the root of the site it is on.
    Root,
    /// `path`, `../path`, `?query`: the page's own place.
    Document,
}

/// How `raw` is relative, or `None` when it is an absolute URL (or not a
/// URL at all).
pub(crate) fn relative(raw: &str) -> Option<Relative> {
    let t = raw.trim();
    match Url::parse(t) {
        Err(url::ParseError::RelativeUrlWithoutBase) => {}
        _ => return None,
    }
    Some(if t.starts_with("//") || t.starts_with("\\\\") {
        Relative::Scheme
    } else if t.starts_with(['/', '\\']) {
        Relative::Root
    } else {
        Relative::Document
    })
}

/// A root-relative reference resolved under a local site's root directory
/// (`root` is its `file:` URL, ending in `/`), as the web server serving
/// that directory would: `..` never climbs above the root.
pub(crate) fn under_root(raw: &str, root: &Url) -> Option<Url> {
    // Resolved on a stand-in site first, so `..` stops at its root.
    let stand_in = Url::parse("http://root.invalid/").ok()?;
    let on_site = stand_in.join(raw.trim()).ok()?;
    if on_site.host_str() != Some("root.invalid") {
        return None;
    }
    // "./" keeps a first segment with a colon from reading as a scheme.
    let path = format!("./{}", on_site.path().trim_start_matches('/'));
    let mut url = root.join(&path).ok()?;
    url.set_query(on_site.query());
    url.set_fragment(on_site.fragment());
    Some(url)
}

/// The local file a `file:` URL names, if it exists: the file itself (a
/// directory stands for its index page), or the file with `.html` added,
/// as static site servers answer `/post` with `post.html`.
pub fn local_file(url: &Url) -> Option<std::path::PathBuf> {
    let path = url.to_file_path().ok()?;
    if path.exists() {
        return Some(path);
    }
    let mut html = path.into_os_string();
    html.push(".html");
    let html = std::path::PathBuf::from(html);
    html.is_file().then_some(html)
}

/// Whether a URL's scheme is one citeguard fetches.
pub fn is_fetchable(url: &Url) -> bool {
    crate::base::web::is_http(url.as_str())
}

impl crate::model::Citation {
    /// The URL used to fetch this citation's source: normalised for
    /// identity, fragment dropped. `None` when there is nothing to fetch.
    /// (Declared here, not in `model`: URL identity is collect's rule.)
    pub fn source_url(&self, opts: &NormalizeOptions) -> Option<String> {
        self.url.as_deref().and_then(|u| source_key(u, opts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> NormalizeOptions {
        NormalizeOptions::from_config(&crate::config::CollectConfig::default())
    }

    #[test]
    fn canonical_http_urls_are_those_the_parser_keeps() {
        let kept = [
            "https://www.bbc.co.uk/2015/01/year-but-are-3523-12.html",
            "http://example.com/",
            "https://a-b.example/x/y?q=1&r=%41#frag:ment",
            "https://example.com/a.b/..c/.d?x=/./#/../",
            "https://example.com/%7Euser/(1)*+,;=:@!$",
        ];
        for t in kept {
            assert!(is_canonical_http(t), "{t}");
            assert_eq!(Url::parse(t).unwrap().as_str(), t);
        }
        // Each of these the parser writes differently, or refuses.
        let parsed = [
            "https://example.com",
            "HTTPS://example.com/",
            "https://Example.com/",
            "https://example.com:443/",
            "https://user@example.com/",
            "https://xn--bcher-kva.example/",
            "https://127.0.0.1/",
            "https://example.0x1f/",
            "https://example..com/",
            "https://example.com/a/../b",
            "https://example.com/a/./b",
            "https://example.com/a/..",
            "https://example.com/a/%2e%2E/b",
            "https://example.com/a b",
            "https://example.com/a\\b",
            "https://example.com/{x}",
            "https://example.com/?q='x'",
            "https://example.com/%zz",
            "https://example.com/#a#b",
            "https://example.com/é",
            "ftp://example.com/",
            "//example.com/",
            "/x",
        ];
        for t in parsed {
            assert!(!is_canonical_http(t), "{t}");
        }
    }

    #[test]
    fn one_source_written_many_ways_has_one_key() {
        let a = source_key(
            "HTTPS://WWW.NYTimes.com:443/2010/08/25/world/asia/25tajik.html#x",
            &opts(),
        );
        let b = source_key(
            "https://www.nytimes.com/2010/08/25/world/asia/25tajik.html?utm_source=feed&utm_medium=rss",
            &opts(),
        );
        let c = source_key(
            "https://www.nytimes.com/2010/08/25/world/asia/25tajik.html?fbclid=abc",
            &opts(),
        );
        assert_eq!(
            a.as_deref(),
            Some("https://www.nytimes.com/2010/08/25/world/asia/25tajik.html")
        );
        assert_eq!(a, b);
        assert_eq!(a, c);
    }

    #[test]
    fn meaningful_query_parameters_stay_in_order() {
        let k = source_key("http://example.com/view?b=2&utm_campaign=x&a=1", &opts()).unwrap();
        assert_eq!(k, "http://example.com/view?b=2&a=1");
    }

    #[test]
    fn template_syntax_is_told_from_urls() {
        for t in [
            "{{ \"/x/\" | url }}",
            "{{ site.baseurl }}/a",
            "{% link _posts/a.md %}",
            "<%= post.url %>",
            "<?php the_permalink(); ?>",
            "${base}/a",
            "%7B%7B%20site.url%20%7D%7D/a",
            "{{< ref \"a.md\" >}}",
            "{{ ",
        ] {
            assert!(is_template(t), "{t}");
        }
        for u in [
            "https://example.org/a?q={x",
            "/a/b",
            "https://example.org/%7Bid%7D",
            "$HOME",
        ] {
            assert!(!is_template(u), "{u}");
        }
    }

    #[test]
    fn relative_references_are_told_apart() {
        assert_eq!(relative("//cdn.example/a.js"), Some(Relative::Scheme));
        assert_eq!(relative("/graphics/a.png"), Some(Relative::Root));
        assert_eq!(relative("../a.html"), Some(Relative::Document));
        assert_eq!(relative("?page=2"), Some(Relative::Document));
        assert_eq!(relative("https://example.org/"), None);
        assert_eq!(relative("mailto:a@example.org"), None);
    }

    #[test]
    fn root_relative_links_stay_under_the_root() {
        let root = Url::parse("file:///srv/site/").unwrap();
        let at = |r: &str| under_root(r, &root).map(String::from);
        assert_eq!(
            at("/graphics/a b.png?x=1#top").as_deref(),
            Some("file:///srv/site/graphics/a%20b.png?x=1#top")
        );
        assert_eq!(
            at("/../../etc/passwd").as_deref(),
            Some("file:///srv/site/etc/passwd")
        );
        assert_eq!(at("/a:b/c").as_deref(), Some("file:///srv/site/a:b/c"));
        assert_eq!(at("//other.example/x"), None);
    }

    #[test]
    fn normalize_keeps_the_fragment_for_the_record() {
        let u = normalize("http://Example.com:80#sec", &opts()).unwrap();
        assert_eq!(u.as_str(), "http://example.com/#sec");
    }
}
