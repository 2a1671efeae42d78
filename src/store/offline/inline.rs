//! Stored requisites made part of the page: images, icons and fonts as
//! `data:` URIs, style sheets as text with every reference inlined or
//! emptied and every `@import` replaced by what it imports.
//!
//! It owns looking requisites up (once each) and rewriting CSS through the
//! scanner in `css`. It never touches markup and never fetches: what the
//! lookup does not have points at nothing.

use std::collections::HashMap;

use data_encoding::BASE64;
use url::Url;

use super::css::{CssRefKind, matching_paren, scan_css};
use super::media::{declared_type, decode_css, media_type};
use super::policy::{is_data_uri, resolve};
use super::requisites::css_url_kind;
use super::tree::starts_with_ci;
use super::{Lookup, RequisiteKind};

/// How deep `@import`s are inlined: deeper ones (and cycles) are dropped.
const MAX_IMPORT_DEPTH: usize = 8;

// Rendering the page

/// Looks requisites up once each and turns them into `data:` URIs and
/// inlined style sheets.
pub(super) struct Inliner<'l> {
    lookup: &'l Lookup<'l>,
    data_uris: HashMap<Url, Option<String>>,
}

impl<'l> Inliner<'l> {
    pub(super) fn new(lookup: &'l Lookup<'l>) -> Inliner<'l> {
        Inliner {
            lookup,
            data_uris: HashMap::new(),
        }
    }

    /// A stored requisite as a `data:` URI; `None` when it was not stored or
    /// what was stored is a web page (an error page stored in its stead).
    pub(super) fn data_uri(&mut self, url: &Url, kind: RequisiteKind) -> Option<String> {
        if let Some(known) = self.data_uris.get(url) {
            return known.clone();
        }
        let uri = (self.lookup)(url).and_then(|(content_type, bytes)| {
            let mime = media_type(content_type.as_deref(), &bytes, url, kind);
            (!matches!(mime.as_str(), "text/html" | "application/xhtml+xml"))
                .then(|| format!("data:{mime};base64,{}", BASE64.encode(&bytes)))
        });
        self.data_uris.insert(url.clone(), uri.clone());
        uri
    }

    /// A stored style sheet as text, or `None` if it was not stored or is
    /// a web page.
    pub(super) fn stylesheet(&self, url: &Url) -> Option<String> {
        let (content_type, bytes) = (self.lookup)(url)?;
        let declared = content_type.as_deref().and_then(declared_type);
        if matches!(
            declared.as_deref(),
            Some("text/html" | "application/xhtml+xml")
        ) {
            return None;
        }
        Some(decode_css(content_type.as_deref(), &bytes))
    }

    /// A style sheet with every reference inlined or emptied, `@import`s
    /// replaced by what they import (in their `@media`, `@supports` and
    /// `@layer`), `depth` levels deep at most; `stack` holds the sheets being
    /// inlined, so a cycle stops.
    pub(super) fn css(
        &mut self,
        css: &str,
        base: &Url,
        depth: usize,
        stack: &mut Vec<Url>,
    ) -> String {
        let mut out = String::with_capacity(css.len());
        let mut last = 0;
        for r in scan_css(css) {
            out.push_str(&css[last..r.span.start]);
            last = r.span.end;
            let target = r.target.trim_matches(|c: char| c.is_ascii_whitespace());
            match r.what {
                CssRefKind::Url { font_face } => {
                    if target.is_empty() || target.starts_with('#') || is_data_uri(target) {
                        out.push_str(&css[r.span]);
                        continue;
                    }
                    let url = resolve(target, base);
                    let kind = css_url_kind(url.as_ref(), font_face);
                    match url.and_then(|u| self.data_uri(&u, kind)) {
                        Some(data) => {
                            out.push_str("url(\"");
                            out.push_str(&data);
                            out.push_str("\")");
                        }
                        None => out.push_str("url()"),
                    }
                }
                CssRefKind::ImageSetString => {
                    if is_data_uri(target) {
                        out.push_str(&css[r.span]);
                        continue;
                    }
                    let data = resolve(target, base)
                        .and_then(|u| self.data_uri(&u, RequisiteKind::Image))
                        .unwrap_or_default();
                    out.push('"');
                    out.push_str(&data);
                    out.push('"');
                }
                CssRefKind::Import { conditions } => {
                    let Some(url) = resolve(target, base) else {
                        continue;
                    };
                    if depth >= MAX_IMPORT_DEPTH || stack.contains(&url) {
                        continue;
                    }
                    // An import that was not stored goes with its rule.
                    let Some(text) = self.stylesheet(&url) else {
                        continue;
                    };
                    stack.push(url.clone());
                    let inner = self.css(&text, &url, depth + 1, stack);
                    stack.pop();
                    out.push_str(&wrap_import(&inner, &css[conditions]));
                }
            }
        }
        out.push_str(&css[last..]);
        out
    }
}

/// Wraps an imported sheet in the conditions of its `@import`:
/// `layer(x)`, `supports(...)` and a media query list.
fn wrap_import(css: &str, conditions: &str) -> String {
    let mut rest = conditions.trim();
    let mut layer: Option<&str> = None;
    let mut supports: Option<&str> = None;
    if starts_with_ci(rest, "layer(") {
        if let Some(close) = matching_paren(rest, 5) {
            layer = Some(rest[6..close].trim());
            rest = rest[close + 1..].trim_start();
        }
    } else if starts_with_ci(rest, "layer")
        && rest[5..]
            .chars()
            .next()
            .is_none_or(|c| c.is_ascii_whitespace())
    {
        layer = Some("");
        rest = rest[5..].trim_start();
    }
    if starts_with_ci(rest, "supports(")
        && let Some(close) = matching_paren(rest, 8)
    {
        supports = Some(rest[9..close].trim());
        rest = rest[close + 1..].trim_start();
    }
    let media = rest.trim();
    let mut out = css.to_string();
    if !media.is_empty() && !media.eq_ignore_ascii_case("all") {
        out = format!("@media {media} {{\n{out}\n}}");
    }
    if let Some(s) = supports {
        out = format!("@supports ({s}) {{\n{out}\n}}");
    }
    match layer {
        Some("") => out = format!("@layer {{\n{out}\n}}"),
        Some(name) => out = format!("@layer {name} {{\n{out}\n}}"),
        None => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::css_requisites;
    use super::*;

    fn base() -> Url {
        Url::parse("https://example.com/blog/post.html").expect("static url")
    }

    #[test]
    fn css_scanner_survives_unfinished_and_odd_input() {
        let odd = [
            "url(",
            "url(\"",
            "@import",
            "@import url(",
            "/*",
            "\\",
            "a{b:url(x\\",
            "é\\é url(ü.png",
            "@import 'a.css' layer(",
            "url('a\\\n b')",
            "\u{1F600}url(\u{1F600})\\\u{1F600}",
        ];
        for css in odd {
            let _ = css_requisites(css, &base());
            let inliner_lookup = |_: &Url| None;
            let mut inliner = Inliner::new(&inliner_lookup);
            let _ = inliner.css(css, &base(), 0, &mut Vec::new());
        }
    }

    #[test]
    fn css_rewrite_inlines_what_is_stored_and_empties_the_rest() {
        let png = b"\x89PNG\r\n\x1a\n0000".to_vec();
        let lookup = move |u: &Url| match u.path() {
            "/blog/a.png" => Some((None, png.clone())),
            "/blog/print.css" => Some((
                Some("text/css".to_string()),
                b".p { background: url(a.png) }".to_vec(),
            )),
            "/blog/loop.css" => Some((None, b"@import 'loop.css'; .l{}".to_vec())),
            _ => None,
        };
        let mut inliner = Inliner::new(&lookup);
        let css = "@import url(print.css) print;\n@import 'gone.css';\n@import 'loop.css';\n\
                   a { background: url(a.png) } b { background: url(gone.png) } \
                   c { background: url(data:x) } d { mask: url(#m) }";
        let out = inliner.css(css, &base(), 0, &mut Vec::new());
        assert!(out.starts_with("@media print {\n.p { background: url(\"data:image/png;base64,"));
        assert!(!out.contains("@import"), "{out}");
        assert!(out.contains(".l{}"));
        assert!(out.contains("b { background: url() }"));
        assert!(out.contains("url(data:x)"));
        assert!(out.contains("url(#m)"));
        assert!(!out.contains("gone"));
    }

    #[test]
    fn import_conditions_become_layer_supports_and_media_blocks() {
        assert_eq!(wrap_import("x{}", ""), "x{}");
        assert_eq!(
            wrap_import("x{}", " screen and (min-width: 40em)"),
            "@media screen and (min-width: 40em) {\nx{}\n}"
        );
        assert_eq!(
            wrap_import("x{}", "layer(base) supports(display: grid) print"),
            "@layer base {\n@supports (display: grid) {\n@media print {\nx{}\n}\n}\n}"
        );
        assert_eq!(wrap_import("x{}", "layer"), "@layer {\nx{}\n}");
    }
}
