//! Self-contained offline pages: requisites found, inlined, scripts out.
//!
//! This module owns the "offline copy people can open": from a stored HTML
//! snapshot and its stored requisites (style sheets, images, fonts, icons),
//! one HTML file that renders in a browser with no network at all.
//! `requisites` says what a snapshot needs; the caller fetches and stores
//! those (and, for each style sheet, what `css_requisites` finds in it);
//! `render_offline` is then handed a lookup over what was stored.
//!
//! It never fetches anything and never reads files. The page it renders must
//! never load anything from the network: every requisite becomes a `data:`
//! URI or disappears, scripts and frames go, and a Content-Security-Policy
//! forbids whatever a rule here missed.
//!
//! The page is parsed and serialised with html5ever (through scraper); only
//! style sheets are rewritten as text, by the scanner at the end of this
//! file.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use data_encoding::BASE64;
use ego_tree::NodeId;
use ego_tree::iter::Edge;
use encoding_rs::{Encoding, UTF_8};
use html5ever::tendril::TendrilSink;
use html5ever::tree_builder::TreeBuilderOpts;
use html5ever::{Attribute, LocalName, ParseOpts, QualName, ns};
use scraper::node::{Element, Text};
use scraper::{Html, HtmlTreeSink, Node, StrTendril};
use url::Url;

use crate::base::web::{charset, essence, is_http};

/// What a requisite is for; it decides how the page uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequisiteKind {
    Stylesheet,
    Image,
    Font,
    Icon,
}

/// A resource a page needs to render: absolute, http or https, without a
/// fragment (servers never see fragments, so the store keys on the rest).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Requisite {
    pub url: Url,
    pub kind: RequisiteKind,
}

/// What the banner at the top of an offline copy says.
#[derive(Debug, Clone, Copy)]
pub struct Banner<'a> {
    /// The URL the snapshot was taken of.
    pub url: &'a str,
    /// When, as RFC 3339.
    pub taken_at: &'a str,
    /// The snapshot's SHA-256, in hex.
    pub sha256: &'a str,
    pub note: Option<&'a str>,
}

/// What the store holds for a requisite: its content type, if known, and
/// its bytes. `render_offline`'s lookup answers `None` for what was never
/// stored.
pub type Stored = (Option<String>, Vec<u8>);

type Lookup<'a> = dyn Fn(&Url) -> Option<Stored> + 'a;

/// The policy of every offline copy: nothing from the network, ever. Inline
/// styles are allowed because inlined style sheets are inline styles.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; img-src data:; \
    style-src 'unsafe-inline' data:; font-src data:; media-src data:";

/// Hosts of common analytics and advertising beacons whose images are
/// dropped. A heuristic, short on purpose: it catches the usual tracking
/// pixels, not every tracker. Nothing depends on it for safety: no image
/// loads from the network anyway, this only keeps beacons out of the list
/// of requisites and out of the page.
const TRACKER_HOSTS: &[&str] = &[
    "google-analytics.com",
    "googletagmanager.com",
    "doubleclick.net",
    "googlesyndication.com",
    "googleadservices.com",
    "scorecardresearch.com",
    "quantserve.com",
    "pixel.wp.com",
    "stats.wp.com",
    "bat.bing.com",
    "ct.pinterest.com",
    "px.ads.linkedin.com",
    "analytics.twitter.com",
];

/// How deep `@import`s are inlined: deeper ones (and cycles) are dropped.
const MAX_IMPORT_DEPTH: usize = 8;

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
    let mut skip: Option<NodeId> = None;
    for edge in doc.tree.root().traverse() {
        match edge {
            Edge::Open(node) => {
                if skip.is_some() {
                    continue;
                }
                match node.value() {
                    Node::Element(el) => {
                        if !matches!(fate(el, &base), Fate::Keep | Fate::Unwrap) {
                            skip = Some(node.id());
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
                }
            }
            Edge::Close(node) => {
                if skip == Some(node.id()) {
                    skip = None;
                }
            }
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

/// The snapshot as one self-contained HTML document that renders offline.
///
/// Scripts, `on…` handlers, `javascript:` URLs, frames, objects, video and
/// audio (these three leave a note saying what was there), refreshes,
/// `<base>`, resource hints and tracking pixels go. Style sheets become
/// `<style>` elements with their `@import`s inlined; images, icons, fonts
/// and background images become `data:` URIs; whatever `lookup` does not
/// have is left pointing at nothing. `<noscript>` content is shown, since no
/// script will run. Links become absolute so they still lead somewhere. A
/// Content-Security-Policy and a UTF-8 charset open `<head>`; a banner
/// naming the source opens `<body>`.
pub fn render_offline(
    html: &str,
    base: &Url,
    lookup: &dyn Fn(&Url) -> Option<Stored>,
    banner: &Banner,
) -> String {
    let mut doc = parse(html);
    let base = document_base(&doc, base);
    let mut renderer = Renderer {
        base,
        inliner: Inliner {
            lookup,
            data_uris: HashMap::new(),
        },
    };
    renderer.clean(&mut doc);
    open_head(&mut doc);
    open_body(&mut doc, banner);
    doc.html()
}

// ---------------------------------------------------------------------------
// Reading the page

/// Parses as a browser with scripting off would: `<noscript>` content is
/// then markup, not text, which is what an offline copy shows.
fn parse(html: &str) -> Html {
    let opts = ParseOpts {
        tree_builder: TreeBuilderOpts {
            scripting_enabled: false,
            ..Default::default()
        },
        ..Default::default()
    };
    html5ever::parse_document(HtmlTreeSink::new(Html::new_document()), opts).one(html)
}

/// An attribute by local name (so `xlink:href` answers to `href`).
fn attr<'e>(el: &'e Element, name: &str) -> Option<&'e str> {
    el.attrs
        .iter()
        .find(|(n, _)| &*n.local == name)
        .map(|(_, v)| &**v)
}

fn has_token(value: &str, token: &str) -> bool {
    value
        .split_ascii_whitespace()
        .any(|t| t.eq_ignore_ascii_case(token))
}

fn parent_name<'a>(node: ego_tree::NodeRef<'a, Node>) -> Option<&'a str> {
    node.parent()
        .and_then(|p| p.value().as_element().map(Element::name))
}

/// The URL relative references resolve against: the first `<base href>`
/// (as browsers use it) if it is http(s), else the snapshot's own URL.
fn document_base(doc: &Html, base: &Url) -> Url {
    doc.tree
        .root()
        .descendants()
        .filter_map(|n| n.value().as_element())
        .find(|el| el.name() == "base" && attr(el, "href").is_some())
        .and_then(|el| base.join(attr(el, "href")?.trim()).ok())
        .filter(|u| is_http(u.as_str()))
        .unwrap_or_else(|| base.clone())
}

/// A reference as a requisite's URL: resolved, http(s) only, no fragment.
/// Empty references and those within the document (`#x`) are not fetched.
fn resolve(raw: &str, base: &Url) -> Option<Url> {
    let raw = raw.trim_matches(|c: char| c.is_ascii_whitespace());
    if raw.is_empty() || raw.starts_with('#') {
        return None;
    }
    let mut url = base.join(raw).ok().filter(|u| is_http(u.as_str()))?;
    url.set_fragment(None);
    Some(url)
}

fn is_data_uri(raw: &str) -> bool {
    raw.trim_start()
        .get(..5)
        .is_some_and(|s| s.eq_ignore_ascii_case("data:"))
}

/// `javascript:` and `vbscript:` URLs, spelled as browsers read them
/// (leading controls and spaces ignored, tabs and newlines anywhere).
fn is_script_url(raw: &str) -> bool {
    let cleaned: String = raw
        .trim_start_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .take(11)
        .collect::<String>()
        .to_ascii_lowercase();
    cleaned.starts_with("javascript:") || cleaned.starts_with("vbscript:")
}

/// Requisites in first-seen order, each URL once.
#[derive(Default)]
struct Found {
    seen: HashSet<Url>,
    list: Vec<Requisite>,
}

impl Found {
    fn push(&mut self, url: Option<Url>, kind: RequisiteKind) {
        if let Some(url) = url
            && self.seen.insert(url.clone())
        {
            self.list.push(Requisite { url, kind });
        }
    }
}

/// What the offline copy does with an element; `requisites` and
/// `render_offline` share it so that they agree on what is needed.
enum Fate {
    Keep,
    /// Gone with all it holds.
    Drop,
    /// Gone, what it holds kept in its place.
    Unwrap,
    /// Gone, a note saying what was there in its place.
    Replace(&'static str),
}

fn fate(el: &Element, base: &Url) -> Fate {
    match el.name() {
        "script" => Fate::Drop,
        "noscript" => Fate::Unwrap,
        "iframe" | "frame" | "portal" | "fencedframe" => Fate::Replace("Embedded frame"),
        "embed" | "object" | "applet" => Fate::Replace("Embedded object"),
        "video" => Fate::Replace("Video"),
        "audio" => Fate::Replace("Audio"),
        "base" => Fate::Drop,
        "meta" => {
            let equiv = attr(el, "http-equiv").unwrap_or("").trim();
            let dropped = [
                "refresh",
                "content-security-policy",
                "content-type",
                "set-cookie",
            ]
            .iter()
            .any(|e| equiv.eq_ignore_ascii_case(e));
            // The copy declares its own charset: it is UTF-8 whatever the
            // page was.
            if dropped || attr(el, "charset").is_some() {
                Fate::Drop
            } else {
                Fate::Keep
            }
        }
        // A `<link>` is inlined (style sheet, icon) or goes: nothing else of
        // it helps an offline reader, and resource hints and manifests would
        // reach the network.
        "link" if link_kind(el).is_none() => Fate::Drop,
        "img" if is_tracker(el, base) => Fate::Drop,
        _ => Fate::Keep,
    }
}

fn link_kind(el: &Element) -> Option<RequisiteKind> {
    let rel = attr(el, "rel").unwrap_or("");
    if has_token(rel, "stylesheet") && !has_token(rel, "alternate") {
        Some(RequisiteKind::Stylesheet)
    } else if has_token(rel, "icon") {
        Some(RequisiteKind::Icon)
    } else {
        None
    }
}

/// A tracking pixel: an image declared 1×1 (or 0) in both directions, or
/// one served by a known beacon host (see `TRACKER_HOSTS`).
fn is_tracker(el: &Element, base: &Url) -> bool {
    let dimension = |name| {
        attr(el, name).and_then(|v| v.trim().trim_end_matches("px").trim().parse::<f64>().ok())
    };
    if let (Some(w), Some(h)) = (dimension("width"), dimension("height"))
        && w <= 1.0
        && h <= 1.0
    {
        return true;
    }
    let srcset_pick = attr(el, "srcset").and_then(|s| best_candidate(s, None));
    [attr(el, "src"), srcset_pick]
        .into_iter()
        .flatten()
        .filter_map(|raw| base.join(raw.trim()).ok())
        .any(|url| {
            url.host_str().is_some_and(|host| {
                TRACKER_HOSTS.iter().any(|t| {
                    host == *t || (host.ends_with(t) && host[..host.len() - t.len()].ends_with('.'))
                })
            })
        })
}

/// The candidate of a `srcset` an offline copy keeps: the one closest to
/// 1x (the first on a tie); if the set only gives widths, its first. An
/// `<img>`'s `src` counts as the 1x candidate when the set has density
/// descriptors, as it does in browsers.
fn best_candidate<'a>(srcset: &'a str, src: Option<&'a str>) -> Option<&'a str> {
    let mut candidates = srcset_candidates(srcset);
    let has_density = candidates.iter().any(|(_, d)| d.is_some());
    if let Some(src) = src.map(str::trim).filter(|s| !s.is_empty())
        && has_density
    {
        candidates.push((src, Some(1.0)));
    }
    let closest = candidates
        .iter()
        .filter_map(|&(url, d)| d.map(|d| (url, (d - 1.0).abs())))
        .fold(None, |best: Option<(&str, f64)>, (url, off)| match best {
            Some((_, b)) if b <= off => best,
            _ => Some((url, off)),
        });
    closest
        .map(|(url, _)| url)
        .or_else(|| candidates.first().map(|&(url, _)| url))
}

/// The candidates of a `srcset` with their density (`None` for a width
/// descriptor), as `base::srcset` parses them (commas inside URLs survive).
fn srcset_candidates(set: &str) -> Vec<(&str, Option<f64>)> {
    crate::base::srcset::parse(set)
        .iter()
        .map(|c| (c.url, c.density()))
        .collect()
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

// ---------------------------------------------------------------------------
// Rendering the page

/// Looks requisites up once each and turns them into `data:` URIs and
/// inlined style sheets.
struct Inliner<'l> {
    lookup: &'l Lookup<'l>,
    data_uris: HashMap<Url, Option<String>>,
}

impl Inliner<'_> {
    /// A stored requisite as a `data:` URI; `None` when it was not stored or
    /// what was stored is a web page (an error page stored in its stead).
    fn data_uri(&mut self, url: &Url, kind: RequisiteKind) -> Option<String> {
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
    fn stylesheet(&self, url: &Url) -> Option<String> {
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
    fn css(&mut self, css: &str, base: &Url, depth: usize, stack: &mut Vec<Url>) -> String {
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

fn css_url_kind(url: Option<&Url>, font_face: bool) -> RequisiteKind {
    let font_file = url
        .and_then(extension)
        .is_some_and(|e| matches!(e.as_str(), "woff" | "woff2" | "ttf" | "otf" | "eot"));
    if font_face || font_file {
        RequisiteKind::Font
    } else {
        RequisiteKind::Image
    }
}

struct Renderer<'l> {
    base: Url,
    inliner: Inliner<'l>,
}

/// What becomes of a kept element after its attributes are rewritten.
enum Outcome {
    Keep,
    Drop,
    /// A `<link rel=stylesheet>` that becomes a `<style>` with this text.
    Style(String, Option<String>),
}

impl Renderer<'_> {
    /// Walks the whole tree in document order (with a stack, not recursion:
    /// pages can nest deeper than a thread's stack).
    fn clean(&mut self, doc: &mut Html) {
        let mut stack = child_ids(doc, doc.tree.root().id());
        stack.reverse();
        while let Some(id) = stack.pop() {
            let Some(node) = doc.tree.get(id) else {
                continue;
            };
            let fate = match node.value() {
                Node::Element(el) => fate(el, &self.base),
                Node::Comment(c) => {
                    // Conditional comments are the one place where old IE
                    // reads markup (scripts included) inside a comment.
                    let c = c.trim_start();
                    if c.starts_with("[if") || c.contains("[endif]") {
                        detach(doc, id);
                    }
                    continue;
                }
                // A `<template>`'s content hangs under a fragment node.
                Node::Fragment => {
                    let mut kids = child_ids(doc, id);
                    kids.reverse();
                    stack.extend(kids);
                    continue;
                }
                _ => continue,
            };
            match fate {
                Fate::Drop => detach(doc, id),
                Fate::Unwrap => {
                    let kids = child_ids(doc, id);
                    if let Some(mut n) = doc.tree.get_mut(id) {
                        for &k in &kids {
                            n.insert_id_before(k);
                        }
                    }
                    detach(doc, id);
                    stack.extend(kids.into_iter().rev());
                }
                Fate::Replace(what) => self.replace_with_note(doc, id, what),
                Fate::Keep => {
                    match self.rewrite_element(doc, id) {
                        Outcome::Keep => {}
                        Outcome::Drop => {
                            detach(doc, id);
                            continue;
                        }
                        Outcome::Style(css, media) => {
                            let mut attrs = Vec::new();
                            if let Some(m) = media.as_deref() {
                                attrs.push(("media", m));
                            }
                            let style = new_element("style", &attrs);
                            if let Some(mut n) = doc.tree.get_mut(id) {
                                n.insert_before(style)
                                    .append(new_text(&guard_style_text(&css)));
                            }
                            detach(doc, id);
                            continue;
                        }
                    }
                    if is_element_named(doc, id, "style") {
                        self.rewrite_style_element(doc, id);
                        continue;
                    }
                    let mut kids = child_ids(doc, id);
                    kids.reverse();
                    stack.extend(kids);
                }
            }
        }
    }

    /// Rewrites a kept element's attributes; says whether it stays.
    fn rewrite_element(&mut self, doc: &mut Html, id: NodeId) -> Outcome {
        let (el, in_picture) = match doc.tree.get(id) {
            Some(node) => match node.value() {
                Node::Element(el) => (el.clone(), parent_name(node) == Some("picture")),
                _ => return Outcome::Keep,
            },
            None => return Outcome::Keep,
        };
        let mut attrs = el.attrs.clone();
        let name = el.name();
        let is_svg = el.name.ns == ns!(svg);

        // Nothing that runs or reports: handlers, script URLs, pings.
        attrs.retain(|(n, v)| {
            let local: &str = &n.local;
            let handler = local.len() > 2 && starts_with_ci(local, "on");
            let script_url = matches!(
                local,
                "href"
                    | "src"
                    | "action"
                    | "formaction"
                    | "data"
                    | "poster"
                    | "background"
                    | "cite"
                    | "srcset"
                    | "lowsrc"
                    | "dynsrc"
                    | "to"
                    | "from"
                    | "values"
            ) && is_script_url(v);
            !(handler || script_url || matches!(local, "ping" | "manifest" | "nonce"))
        });

        let mut outcome = Outcome::Keep;
        match name {
            "a" | "area" => self.absolute(&mut attrs, "href"),
            "form" => self.absolute(&mut attrs, "action"),
            "button" | "input" => self.absolute(&mut attrs, "formaction"),
            _ => {}
        }
        match name {
            "link" => {
                let href = get(&attrs, "href").map(str::to_string);
                let url = href.as_deref().and_then(|h| resolve(h, &self.base));
                match link_kind(&el) {
                    Some(RequisiteKind::Stylesheet) => {
                        outcome = match url.and_then(|u| {
                            let text = self.inliner.stylesheet(&u)?;
                            Some(self.inliner.css(&text, &u, 1, &mut vec![u.clone()]))
                        }) {
                            Some(css) => {
                                Outcome::Style(css, get(&attrs, "media").map(str::to_string))
                            }
                            None => Outcome::Drop,
                        };
                    }
                    Some(kind) => match url.and_then(|u| self.inliner.data_uri(&u, kind)) {
                        Some(data) => set(&mut attrs, "href", &data),
                        None if href.as_deref().is_some_and(is_data_uri) => {}
                        None => outcome = Outcome::Drop,
                    },
                    None => outcome = Outcome::Drop,
                }
            }
            "img" => {
                let src = get(&attrs, "src").map(str::to_string);
                let pick = get(&attrs, "srcset")
                    .and_then(|s| best_candidate(s, src.as_deref()))
                    .map(str::to_string);
                match self.pick_image([src, pick]) {
                    Some(data) => set(&mut attrs, "src", &data),
                    None => remove(&mut attrs, "src"),
                }
                for a in ["srcset", "sizes", "lowsrc", "dynsrc"] {
                    remove(&mut attrs, a);
                }
            }
            "source" if in_picture => {
                let pick = get(&attrs, "srcset")
                    .and_then(|s| best_candidate(s, None))
                    .map(str::to_string);
                match self.pick_image([pick, None]) {
                    Some(data) => {
                        set(&mut attrs, "srcset", &data);
                        remove(&mut attrs, "sizes");
                        remove(&mut attrs, "src");
                    }
                    // Without it the `<img>` of the `<picture>` shows.
                    None => outcome = Outcome::Drop,
                }
            }
            "input" => {
                let src = get(&attrs, "src").map(str::to_string);
                match self.pick_image([src, None]) {
                    Some(data) => set(&mut attrs, "src", &data),
                    None => remove(&mut attrs, "src"),
                }
            }
            "image" | "feImage" if is_svg => {
                let href = get(&attrs, "href").map(str::to_string);
                let data = self.pick_image([href, None]);
                // `href` and `xlink:href` both go; one comes back inline.
                remove(&mut attrs, "href");
                if let Some(data) = data {
                    set(&mut attrs, "href", &data);
                }
            }
            // SVG `<use>` may point into another document; within this one
            // it still works.
            "use"
                if is_svg
                    && get(&attrs, "href").is_some_and(|h| !h.trim_start().starts_with('#')) =>
            {
                remove(&mut attrs, "href");
            }
            _ => {}
        }
        if let Some(bg) = get(&attrs, "background").map(str::to_string) {
            match self.pick_image([Some(bg), None]) {
                Some(data) => set(&mut attrs, "background", &data),
                None => remove(&mut attrs, "background"),
            }
        }
        if let Some(style) = get(&attrs, "style").map(str::to_string) {
            let css = self.inliner.css(&style, &self.base, 0, &mut Vec::new());
            set(&mut attrs, "style", &css);
        }
        // SVG presentation attributes (`fill`, `filter`, `mask`, …) take
        // `url()`s as style sheets do.
        if is_svg {
            for (n, v) in attrs.iter_mut() {
                if &*n.local != "style" && v.to_ascii_lowercase().contains("url(") {
                    let css = self.inliner.css(v, &self.base, 0, &mut Vec::new());
                    *v = StrTendril::from(css);
                }
            }
        }
        if let Some(mut n) = doc.tree.get_mut(id)
            && let Node::Element(e) = n.value()
        {
            e.attrs = attrs;
            // A page made of frames has no body: its frames' notes need one.
            if e.name() == "frameset" {
                e.name = html_name("body");
                e.attrs
                    .retain(|(n, _)| !matches!(&*n.local, "rows" | "cols"));
            }
        }
        outcome
    }

    /// The first of an image's references that is stored, as a `data:` URI;
    /// failing that, a `data:` URI the page already had.
    fn pick_image(&mut self, refs: [Option<String>; 2]) -> Option<String> {
        let refs: Vec<String> = refs.into_iter().flatten().collect();
        refs.iter()
            .filter(|r| !is_data_uri(r))
            .find_map(|r| {
                let url = resolve(r, &self.base)?;
                self.inliner.data_uri(&url, RequisiteKind::Image)
            })
            .or_else(|| {
                refs.iter()
                    .find(|r| is_data_uri(r))
                    .map(|r| r.trim().to_string())
            })
    }

    /// Makes a link absolute, so it still leads somewhere from a file on
    /// disk; links within the page (`#x`) stay as they are.
    fn absolute(&self, attrs: &mut [(QualName, StrTendril)], name: &str) {
        for (_, v) in attrs.iter_mut().filter(|(n, _)| &*n.local == name) {
            let raw = v.trim();
            if raw.is_empty() || raw.starts_with('#') {
                continue;
            }
            if let Ok(url) = self.base.join(raw) {
                *v = StrTendril::from(url.as_str());
            }
        }
    }

    fn rewrite_style_element(&mut self, doc: &mut Html, id: NodeId) {
        let kids = child_ids(doc, id);
        let text: String = kids
            .iter()
            .filter_map(|&k| doc.tree.get(k)?.value().as_text().map(|t| t.to_string()))
            .collect();
        let css = self.inliner.css(&text, &self.base, 0, &mut Vec::new());
        for k in kids {
            detach(doc, k);
        }
        if let Some(mut n) = doc.tree.get_mut(id) {
            n.append(new_text(&guard_style_text(&css)));
        }
    }

    /// Replaces a frame, object, video or audio with a short note saying
    /// what was there, with a link to it (unless the note would sit inside
    /// a link, where a second one would break the markup).
    fn replace_with_note(&mut self, doc: &mut Html, id: NodeId, what: &'static str) {
        let Some(node) = doc.tree.get(id) else {
            return;
        };
        let Some(el) = node.value().as_element() else {
            return;
        };
        let in_anchor = node
            .ancestors()
            .any(|a| a.value().as_element().is_some_and(|e| e.name() == "a"));
        let source_child = node
            .children()
            .filter_map(|c| c.value().as_element())
            .find(|c| c.name() == "source")
            .and_then(|c| attr(c, "src"));
        let target = attr(el, "src")
            .or(attr(el, "data"))
            .or(source_child)
            .and_then(|s| self.base.join(s.trim()).ok())
            .filter(|u| is_http(u.as_str()));
        let title = attr(el, "title")
            .or(attr(el, "aria-label"))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string);

        let mut text = format!("{what} not kept in this offline copy");
        if let Some(t) = &title {
            text.push_str(&format!(" (“{t}”)"));
        }
        let note = new_element(
            "span",
            &[("class", "citeguard-removed"), ("style", NOTE_STYLE)],
        );
        let Some(mut n) = doc.tree.get_mut(id) else {
            return;
        };
        let mut note = n.insert_before(note);
        match target {
            Some(url) if !in_anchor => {
                note.append(new_text(&format!("{text}: ")));
                note.append(new_element("a", &[("href", url.as_str())]))
                    .append(new_text(url.as_str()));
            }
            Some(url) => {
                note.append(new_text(&format!("{text}: {url}")));
            }
            None => {
                note.append(new_text(&format!("{text}.")));
            }
        }
        detach(doc, id);
    }
}

const NOTE_STYLE: &str = "display:inline-block;margin:4px 0;padding:6px 10px;\
    border:1px dashed #888;background:#f4f4f4;color:#333;\
    font:13px/1.4 system-ui,sans-serif";

/// The banner's look, inline so the page's own styles hardly touch it.
/// Sticky rather than fixed: it stays on screen while reading, like a fixed
/// bar, but takes its own room, so it never hides the page's first lines.
const BANNER_STYLE: &str = "position:sticky;top:0;left:0;right:0;z-index:2147483647;\
    box-sizing:border-box;width:100%;margin:0;padding:8px 14px;\
    background:#fff4c2;color:#1f1f1f;border-bottom:2px solid #c79a00;\
    font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;text-align:left;\
    letter-spacing:normal;text-transform:none";

const BANNER_LINK_STYLE: &str = "color:#0b4fa8;text-decoration:underline;word-break:break-all";

const BANNER_CODE_STYLE: &str = "font:13px ui-monospace,Menlo,Consolas,monospace";

/// Puts the charset and the Content-Security-Policy first in `<head>`: a
/// meta policy only governs what comes after it.
fn open_head(doc: &mut Html) {
    let head = match find_element(doc, "head") {
        Some(h) => h,
        None => {
            let Some(html) = find_element(doc, "html") else {
                return;
            };
            let Some(mut h) = doc.tree.get_mut(html) else {
                return;
            };
            h.prepend(new_element("head", &[])).id()
        }
    };
    if let Some(mut h) = doc.tree.get_mut(head) {
        h.prepend(new_element(
            "meta",
            &[
                ("http-equiv", "Content-Security-Policy"),
                ("content", CONTENT_SECURITY_POLICY),
            ],
        ));
        h.prepend(new_element("meta", &[("charset", "utf-8")]));
    }
}

/// Puts the banner first in `<body>`.
fn open_body(doc: &mut Html, banner: &Banner) {
    let body = match find_element(doc, "body") {
        Some(b) => b,
        None => {
            let Some(html) = find_element(doc, "html") else {
                return;
            };
            let Some(mut h) = doc.tree.get_mut(html) else {
                return;
            };
            h.append(new_element("body", &[])).id()
        }
    };
    let Some(mut body) = doc.tree.get_mut(body) else {
        return;
    };
    let mut div = body.prepend(new_element(
        "div",
        &[
            ("id", "citeguard-banner"),
            ("role", "note"),
            ("style", BANNER_STYLE),
        ],
    ));
    div.append(new_text("Offline copy of "));
    match Url::parse(banner.url).ok().filter(|u| is_http(u.as_str())) {
        Some(_) => {
            div.append(new_element(
                "a",
                &[("href", banner.url), ("style", BANNER_LINK_STYLE)],
            ))
            .append(new_text(banner.url));
        }
        // Never a link to something that is not a web page (`javascript:`).
        None => {
            div.append(new_text(banner.url));
        }
    }
    div.append(new_text(" taken "));
    div.append(new_element("time", &[("datetime", banner.taken_at)]))
        .append(new_text(&display_time(banner.taken_at)));
    div.append(new_text(" by citeguard · sha256 "));
    let short: String = banner.sha256.chars().take(12).collect();
    div.append(new_element(
        "code",
        &[("title", banner.sha256), ("style", BANNER_CODE_STYLE)],
    ))
    .append(new_text(&short));
    if let Some(note) = banner.note.filter(|n| !n.trim().is_empty()) {
        div.append(new_element(
            "div",
            &[("class", "citeguard-note"), ("style", "margin-top:2px")],
        ))
        .append(new_text(note));
    }
}

/// `2024-05-01 12:30 UTC` for an RFC 3339 time; anything else as given.
fn display_time(rfc3339: &str) -> String {
    crate::base::time::parse_rfc3339(rfc3339.trim())
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|_| rfc3339.to_string())
}

// ---------------------------------------------------------------------------
// Tree helpers

fn html_name(local: &str) -> QualName {
    QualName::new(None, ns!(html), LocalName::from(local))
}

fn new_element(name: &str, attrs: &[(&str, &str)]) -> Node {
    let attrs = attrs
        .iter()
        .map(|(n, v)| Attribute {
            name: QualName::new(None, ns!(), LocalName::from(*n)),
            value: (*v).into(),
        })
        .collect();
    // scraper's own constructor: the one the parser uses, so the element's
    // attributes are ordered as scraper's look-ups expect.
    Node::Element(Element::new(html_name(name), attrs))
}

fn new_text(text: &str) -> Node {
    Node::Text(Text { text: text.into() })
}

fn child_ids(doc: &Html, id: NodeId) -> Vec<NodeId> {
    doc.tree
        .get(id)
        .map(|n| n.children().map(|c| c.id()).collect())
        .unwrap_or_default()
}

fn detach(doc: &mut Html, id: NodeId) {
    if let Some(mut n) = doc.tree.get_mut(id) {
        n.detach();
    }
}

fn is_element_named(doc: &Html, id: NodeId, name: &str) -> bool {
    doc.tree
        .get(id)
        .and_then(|n| n.value().as_element().map(|e| e.name() == name))
        .unwrap_or(false)
}

fn find_element(doc: &Html, name: &str) -> Option<NodeId> {
    // From the root: nodes the parser or this module detached are still in
    // the tree's arena.
    doc.tree
        .root()
        .descendants()
        .find(|n| {
            n.value()
                .as_element()
                .is_some_and(|e| e.name() == name && e.name.ns == ns!(html))
        })
        .map(|n| n.id())
}

fn get<'a>(attrs: &'a [(QualName, StrTendril)], name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(n, _)| &*n.local == name)
        .map(|(_, v)| &**v)
}

/// Sets an attribute, keeping the list sorted as scraper's `attr` expects.
fn set(attrs: &mut Vec<(QualName, StrTendril)>, name: &str, value: &str) {
    if let Some((_, v)) = attrs.iter_mut().find(|(n, _)| &*n.local == name) {
        *v = value.into();
    } else {
        attrs.push((
            QualName::new(None, ns!(), LocalName::from(name)),
            value.into(),
        ));
        attrs.sort_by(|a, b| a.0.cmp(&b.0));
    }
}

fn remove(attrs: &mut Vec<(QualName, StrTendril)>, name: &str) {
    attrs.retain(|(n, _)| &*n.local != name);
}

/// The serializer writes a `<style>`'s text as it is, so a style sheet
/// holding `</style` would end the element and let markup in. `\/` is a CSS
/// escape of `/`, so the sheet means the same.
fn guard_style_text(css: &str) -> String {
    let b = css.as_bytes();
    let mut out = String::with_capacity(css.len());
    let mut last = 0;
    for (i, _) in css.match_indices("</") {
        if b.get(i + 2..i + 7)
            .is_some_and(|s| s.eq_ignore_ascii_case(b"style"))
        {
            out.push_str(&css[last..=i]);
            out.push('\\');
            last = i + 1;
        }
    }
    out.push_str(&css[last..]);
    out
}

// ---------------------------------------------------------------------------
// Bytes: media types and text

/// The media type of a stored requisite: what its bytes say when they say
/// it clearly (servers mislabel fonts and images often), else the declared
/// type, else the file extension.
fn media_type(declared: Option<&str>, bytes: &[u8], url: &Url, kind: RequisiteKind) -> String {
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
fn declared_type(content_type: &str) -> Option<String> {
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

fn extension(url: &Url) -> Option<String> {
    let last = url.path_segments()?.next_back()?;
    let (_, ext) = last.rsplit_once('.')?;
    Some(ext.to_ascii_lowercase())
}

/// A style sheet's text: its BOM, else the declared charset, else its
/// `@charset` rule, else UTF-8 (as browsers decide, minus the page's
/// encoding, which the store does not keep).
fn decode_css(content_type: Option<&str>, bytes: &[u8]) -> String {
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

fn starts_with_ci(s: &str, prefix: &str) -> bool {
    s.get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
}

/// The index of the `)` closing the `(` at `open`.
fn matching_paren(s: &str, open: usize) -> Option<usize> {
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

// ---------------------------------------------------------------------------
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
struct CssRef {
    /// What to replace: a whole `url(...)`, one string of an `image-set()`,
    /// or a whole `@import` rule.
    span: Range<usize>,
    /// The reference, CSS escapes undone.
    target: String,
    what: CssRefKind,
}

#[derive(Debug, PartialEq)]
enum CssRefKind {
    Url {
        font_face: bool,
    },
    ImageSetString,
    /// `conditions`: what follows the URL up to the `;`.
    Import {
        conditions: Range<usize>,
    },
}

fn scan_css(css: &str) -> Vec<CssRef> {
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
            b'\\' => i = skip_escape(css, i),
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
                let name = &css[i + 1..end];
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
            c if is_name_byte(c) && !c.is_ascii_digit() => {
                let end = name_end(css, i);
                let name = &css[i..end];
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
        } else if b[i] == b'\\' && b.get(i + 1).is_some_and(|&c| c != b'\n') {
            i = skip_escape(css, i);
        } else {
            break;
        }
    }
    i
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
            if !css[j..end].eq_ignore_ascii_case("url") || b.get(end) != Some(&b'(') {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://example.com/blog/post.html").expect("static url")
    }

    fn urls(reqs: &[Requisite]) -> Vec<(&str, RequisiteKind)> {
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
            let mut inliner = Inliner {
                lookup: &inliner_lookup,
                data_uris: HashMap::new(),
            };
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
        let mut inliner = Inliner {
            lookup: &lookup,
            data_uris: HashMap::new(),
        };
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

    #[test]
    fn srcset_pick_is_the_candidate_closest_to_1x() {
        assert_eq!(
            best_candidate("a.png 2x, b.png 1x, c.png 3x", None),
            Some("b.png")
        );
        assert_eq!(
            best_candidate("a.png 2x, c.png 3x", Some("src.png")),
            Some("src.png")
        );
        assert_eq!(
            best_candidate("a.png 0.5x, b.png 1.5x", None),
            Some("a.png")
        );
        assert_eq!(
            best_candidate("a.png 300w, b.png 600w", Some("s.png")),
            Some("a.png")
        );
        assert_eq!(best_candidate("b.png", None), Some("b.png"));
        // Commas inside URLs survive.
        assert_eq!(
            best_candidate(
                "https://i.example/w_300,h_200/x.jpg 2x, https://i.example/w_150,h_100/x.jpg",
                None
            ),
            Some("https://i.example/w_150,h_100/x.jpg")
        );
        assert_eq!(best_candidate("  ,  ", None), None);
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

    #[test]
    fn script_urls_are_caught_however_they_are_spelled() {
        assert!(is_script_url("javascript:alert(1)"));
        assert!(is_script_url("  JavaScript:void(0)"));
        assert!(is_script_url("java\tscript:x"));
        assert!(is_script_url("\u{1}vbscript:x"));
        assert!(!is_script_url("https://example.com/javascript:"));
        assert!(!is_script_url("/javascript/intro.html"));
    }

    #[test]
    fn style_text_cannot_close_its_element() {
        assert_eq!(
            guard_style_text("a{} </style><script>x</script> </STYLE"),
            "a{} <\\/style><script>x</script> <\\/STYLE"
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

    fn render_with(html: &str, stored: &[(&str, &[u8])]) -> String {
        let lookup = |u: &Url| {
            stored
                .iter()
                .find(|(s, _)| *s == u.as_str())
                .map(|(_, b)| (None, b.to_vec()))
        };
        let banner = Banner {
            url: "https://example.com/blog/post.html",
            taken_at: "2024-01-02T03:04:05Z",
            sha256: "ab",
            note: None,
        };
        render_offline(html, &base(), &lookup, &banner)
    }

    #[test]
    fn svg_references_outside_the_document_go() {
        let html = r##"<body><svg>
            <image xlink:href="pic.png" width="4" height="4"/>
            <image href="https://elsewhere.example/gone.png"/>
            <rect fill="url(https://elsewhere.example/p.svg#g)" stroke="url(#local)"/>
            <use href="https://elsewhere.example/s.svg#i"/><use href="#local"/>
        </svg></body>"##;
        let out = render_with(html, &[("https://example.com/blog/pic.png", b"GIF89a;")]);
        let doc = Html::parse_document(&out);
        let sel = |s| scraper::Selector::parse(s).expect("static selector");
        let hrefs: Vec<Option<&str>> = doc
            .select(&sel("image"))
            .map(|e| attr(e.value(), "href"))
            .collect();
        assert_eq!(
            hrefs,
            vec![Some("data:image/gif;base64,R0lGODlhOw=="), None]
        );
        assert!(!out.contains("elsewhere"), "{out}");
        assert!(out.contains(r#"fill="url()""#) && out.contains(r##"stroke="url(#local)""##));
        assert!(out.contains(r##"<use href="#local">"##));
    }

    #[test]
    fn odd_attribute_names_are_read_safely() {
        let out = render_with(r#"<p €x="1" ön="2" ONCLICK="x()" on="3">t</p>"#, &[]);
        assert!(out.contains(r#"<p on="3" ön="2" €x="1">t</p>"#), "{out}");
    }

    #[test]
    fn a_page_of_frames_becomes_a_body_of_notes() {
        let html = r#"<html><head></head><frameset cols="50%,50%" onload="x()">
            <frame src="left.html" title="Menu"><frame src="right.html"></frameset></html>"#;
        let out = render_with(html, &[]);
        let doc = Html::parse_document(&out);
        let sel = |s| scraper::Selector::parse(s).expect("static selector");
        assert_eq!(doc.select(&sel("body > #citeguard-banner")).count(), 1);
        let notes: Vec<String> = doc
            .select(&sel("body > .citeguard-removed a"))
            .map(|a| a.text().collect())
            .collect();
        assert_eq!(
            notes,
            [
                "https://example.com/blog/left.html",
                "https://example.com/blog/right.html"
            ]
        );
        assert!(!out.contains("frameset") && !out.contains("onload"));
    }

    #[test]
    fn template_content_is_cleaned_too() {
        let html = r#"<body><template><img src="in-template.png" onerror="x()"><script>x()</script></template></body>"#;
        assert_eq!(
            urls(&requisites(html, &base())),
            vec![(
                "https://example.com/blog/in-template.png",
                RequisiteKind::Image
            )]
        );
        let out = render_with(html, &[]);
        assert!(out.contains("<template><img></template>"), "{out}");
    }

    #[test]
    fn noscript_content_is_shown_and_handlers_go() {
        let html = r#"<body onload="x()"><noscript><p id=ns>Enable JS</p></noscript>
            <a href="javascript:go()" onclick="go()">go</a>
            <svg><a xlink:href="javascript:x()"><text>t</text></a><script>x()</script></svg></body>"#;
        let lookup = |_: &Url| None;
        let banner = Banner {
            url: "javascript:alert(1)",
            taken_at: "not a date",
            sha256: "ab",
            note: None,
        };
        let out = render_offline(html, &base(), &lookup, &banner);
        assert!(!out.contains("noscript"));
        assert!(out.contains("<p id=\"ns\">Enable JS</p>"));
        assert!(!out.to_ascii_lowercase().contains("javascript:x"));
        assert!(!out.contains("go()"));
        assert!(!out.contains("x()"));
        assert!(!out.contains("onload"));
        // A banner URL that is not a web page is text, never a link.
        let doc = Html::parse_document(&out);
        let banner = doc
            .select(&scraper::Selector::parse("#citeguard-banner").expect("static selector"))
            .next()
            .expect("banner");
        assert!(
            banner
                .text()
                .collect::<String>()
                .starts_with("Offline copy of javascript:alert(1) taken not a date")
        );
        assert!(
            banner
                .select(&scraper::Selector::parse("a").expect("static selector"))
                .next()
                .is_none()
        );
    }
}
