//! What a stored page needs to render offline: its style sheets, images,
//! fonts and icons, found in its markup and in style sheets.
//!
//! It owns the lists `requisites` and `css_requisites` return (in document
//! order, each URL once). It never fetches, never reads the store, and
//! never renders: it follows the rules of `policy`, as the renderer does,
//! so that what is found is what the renderer will look up.

use std::collections::HashSet;

use ego_tree::iter::Edge;

use crate::base::prune::Pruning;
use scraper::Node;
use scraper::node::Element;
use url::Url;

use super::css::{CssRefKind, scan_css};
use super::media::extension;
use super::policy::{Fate, document_base, fate, link_kind, resolve};
use super::srcset::best_candidate;
use super::tree::{attr, parent_name, parse};
use super::{Requisite, RequisiteKind};

/// The requisites of a page, in document order, each once: style sheets,
/// images (`src`, the best `srcset` candidate, `<picture>` sources,
/// `<input type=image>`, `background` attributes), icons, and what `<style>`
/// elements and `style` attributes name. Relative URLs are resolved against
/// the page's `<base href>` if it has one, else against `base`. Scripts,
/// frames, objects, video and audio are not requisites: the offline copy
/// drops them. Nor are the insides of style sheets: once a style sheet is
/// stored, `css_requisites` finds what it needs.
pub fn requisites(html: &str, base: &Url) -> Vec<Requisite> {
    let doc = parse(html);
    let base = document_base(&doc, base);
    let mut found = Found::default();
    let mut pruning = Pruning::default();
    for edge in doc.tree.root().traverse() {
        if pruning.hides(&edge) {
            continue;
        }
        match edge {
            Edge::Open(node) => match node.value() {
                Node::Element(el) => {
                    if !matches!(fate(el, &base), Fate::Keep | Fate::Unwrap) {
                        pruning.prune(node.id());
                        continue;
                    }
                    let in_picture = parent_name(node) == Some("picture");
                    element_requisites(el, in_picture, &base, &mut found);
                }
                Node::Text(t) if parent_name(node) == Some("style") => {
                    for r in css_requisites(t, &base) {
                        found.push(Some(r.url), r.kind);
                    }
                }
                _ => {}
            },
            Edge::Close(_) => {}
        }
    }
    found.list
}

/// What a style sheet (or a `style` attribute) needs, in order, each once:
/// `@import`ed sheets, `url(...)`s and the strings of `image-set()`. Fonts
/// are the URLs of `@font-face` rules and font files anywhere; `data:` URIs
/// and references within the document (`url(#clip)`) are not requisites.
pub fn css_requisites(css: &str, base: &Url) -> Vec<Requisite> {
    let mut found = Found::default();
    for r in scan_css(css) {
        let url = resolve(&r.target, base);
        let kind = match r.what {
            CssRefKind::Import { .. } => RequisiteKind::Stylesheet,
            CssRefKind::Url { font_face } => css_url_kind(url.as_ref(), font_face),
            CssRefKind::ImageSetString => RequisiteKind::Image,
        };
        found.push(url, kind);
    }
    found.list
}

/// Requisites in first-seen order, each URL once.
#[derive(Default)]
struct Found {
    seen: HashSet<Url>,
    list: Vec<Requisite>,
}

impl Found {
    pub(super) fn push(&mut self, url: Option<Url>, kind: RequisiteKind) {
        if let Some(url) = url
            && self.seen.insert(url.clone())
        {
            self.list.push(Requisite { url, kind });
        }
    }
}

fn element_requisites(el: &Element, in_picture: bool, base: &Url, found: &mut Found) {
    let image = RequisiteKind::Image;
    match el.name() {
        "link" => {
            if let Some(kind) = link_kind(el) {
                found.push(attr(el, "href").and_then(|h| resolve(h, base)), kind);
            }
        }
        "img" => {
            let src = attr(el, "src");
            found.push(src.and_then(|s| resolve(s, base)), image);
            let pick = attr(el, "srcset").and_then(|s| best_candidate(s, src));
            found.push(pick.and_then(|s| resolve(s, base)), image);
        }
        "source" if in_picture => {
            let pick = attr(el, "srcset").and_then(|s| best_candidate(s, None));
            found.push(pick.and_then(|s| resolve(s, base)), image);
        }
        "input" if attr(el, "type").is_some_and(|t| t.trim().eq_ignore_ascii_case("image")) => {
            found.push(attr(el, "src").and_then(|s| resolve(s, base)), image);
        }
        "image" | "feImage" => {
            found.push(attr(el, "href").and_then(|s| resolve(s, base)), image);
        }
        _ => {}
    }
    if let Some(bg) = attr(el, "background") {
        found.push(resolve(bg, base), image);
    }
    if let Some(style) = attr(el, "style") {
        for r in css_requisites(style, base) {
            found.push(Some(r.url), r.kind);
        }
    }
}

pub(super) fn css_url_kind(url: Option<&Url>, font_face: bool) -> RequisiteKind {
    let font_file = url
        .and_then(extension)
        .is_some_and(|e| matches!(e.as_str(), "woff" | "woff2" | "ttf" | "otf" | "eot"));
    if font_face || font_file {
        RequisiteKind::Font
    } else {
        RequisiteKind::Image
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// The page the offline tests resolve against.
    pub(in crate::store::offline) fn base() -> Url {
        Url::parse("https://example.com/blog/post.html").expect("static url")
    }

    /// Requisites as (URL, kind) pairs, in order.
    pub(in crate::store::offline) fn urls(reqs: &[Requisite]) -> Vec<(&str, RequisiteKind)> {
        reqs.iter().map(|r| (r.url.as_str(), r.kind)).collect()
    }

    #[test]
    fn css_finds_quoted_unquoted_and_escaped_urls_but_not_comments_or_data() {
        let css = r#"
            /* .old { background: url(old.png) } */
            a { background: url( "a.png" ) }
            b { background: URL(b\(1\).png) }
            c { background: url('c.png#frag') }
            d { content: "url(not-a-url.png)"; background: url(data:image/png;base64,AAAA) }
            e { clip-path: url(#clip); background: myurl(x.png) }
            f { background-image: -webkit-image-set("f1.png" 1x, url(f2.png) 2x) }
        "#;
        assert_eq!(
            urls(&css_requisites(css, &base())),
            vec![
                ("https://example.com/blog/a.png", RequisiteKind::Image),
                ("https://example.com/blog/b(1).png", RequisiteKind::Image),
                ("https://example.com/blog/c.png", RequisiteKind::Image),
                ("https://example.com/blog/f1.png", RequisiteKind::Image),
                ("https://example.com/blog/f2.png", RequisiteKind::Image),
            ]
        );
    }

    #[test]
    fn css_imports_and_fonts_have_their_kinds() {
        let css = r#"@import "reset.css";
            @import url(print.css) print;
            @font-face { font-family: X; src: url(x.woff2) format("woff2"), url("/f/x") }
            .icon { background: url(icons.svg) }
            .other { src: url(late.ttf) }"#;
        assert_eq!(
            urls(&css_requisites(css, &base())),
            vec![
                (
                    "https://example.com/blog/reset.css",
                    RequisiteKind::Stylesheet
                ),
                (
                    "https://example.com/blog/print.css",
                    RequisiteKind::Stylesheet
                ),
                ("https://example.com/blog/x.woff2", RequisiteKind::Font),
                ("https://example.com/f/x", RequisiteKind::Font),
                ("https://example.com/blog/icons.svg", RequisiteKind::Image),
                ("https://example.com/blog/late.ttf", RequisiteKind::Font),
            ]
        );
    }

    #[test]
    fn css_bad_urls_and_hex_escapes_are_read_as_browsers_read_them() {
        // A bad URL (a quote inside an unquoted url) is ignored by browsers.
        let css = "a { background: url(bad\"one.png) } b { background: url(\\68 i.png) }";
        assert_eq!(
            urls(&css_requisites(css, &base())),
            vec![("https://example.com/blog/hi.png", RequisiteKind::Image)]
        );
    }

    #[test]
    fn base_href_decides_how_references_resolve() {
        let html = r#"<head><base href="https://cdn.example.org/assets/"></head>
            <body><img src="a.png"></body>"#;
        assert_eq!(
            urls(&requisites(html, &base())),
            vec![("https://cdn.example.org/assets/a.png", RequisiteKind::Image)]
        );
    }

    #[test]
    fn hints_scripts_media_and_frames_are_never_requisites() {
        let html = r#"<head>
            <link rel=preload href=app.js as=script><link rel=modulepreload href=m.js>
            <link rel=prefetch href=next.html><link rel="alternate stylesheet" href=alt.css>
            <script src=s.js></script></head><body>
            <video src=v.mp4 poster=p.png><source src=v.webm></video><audio src=a.mp3></audio>
            <iframe src=f.html></iframe><object data=o.swf><img src=fallback.png></object>
            <img src="https://www.google-analytics.com/collect?v=1"><img src=t.gif width=1 height=1>
            <img src=real.png width=1 height=300></body>"#;
        assert_eq!(
            urls(&requisites(html, &base())),
            vec![("https://example.com/blog/real.png", RequisiteKind::Image)]
        );
    }
}
