//! The offline page itself: the snapshot's tree cleaned element by element
//! (scripts, handlers, frames and media out, links absolute, requisites
//! inlined through `inline`), framed by `frame`.
//!
//! It owns the walk over the tree and what becomes of each element's
//! attributes. It never fetches, never reads files, and never decides on
//! its own what is safe to keep: `policy` decides what goes.

use ego_tree::NodeId;
use html5ever::{QualName, ns};
use scraper::{Html, Node, StrTendril};
use url::Url;

use super::Banner;
use super::frame::page;
use super::inline::Inliner;
use super::policy::{Fate, document_base, fate, is_data_uri, is_script_url, link_kind, resolve};
use super::srcset::best_candidate;
use super::tree::{
    attr, child_ids, detach, get, html_name, is_element_named, new_element, new_text, parent_name,
    parse, remove, set, starts_with_ci,
};
use super::{RequisiteKind, Stored};
use crate::base::web::is_http;

///
/// Scripts, `on…` handlers, `javascript:` URLs, frames, objects, video and
/// audio (these three leave a note saying what was there), refreshes,
/// `<base>`, resource hints and tracking pixels go. Style sheets become
/// `<style>` elements with their `@import`s inlined; images, icons, fonts
/// and background images become `data:` URIs; whatever `lookup` does not
/// have is left pointing at nothing. `<noscript>` content is shown, since no
/// script will run. Links become absolute so they still lead somewhere. A
/// Content-Security-Policy and a UTF-8 charset open `<head>`; a banner
/// naming the source opens `<body>`. Whatever came from the page then
/// passes the allow-list of `sanitize`: forms, `<meta>`, MathML and
/// anything else not on it go, whatever the steps before missed.
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
        inliner: Inliner::new(lookup),
    };
    renderer.clean(&mut doc);
    page(&doc, banner)
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
    pub(super) fn clean(&mut self, doc: &mut Html) {
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
            // An image button stays an image: the copy has no forms.
            if e.name() == "input"
                && attr(e, "type").is_some_and(|t| t.trim().eq_ignore_ascii_case("image"))
            {
                e.name = html_name("img");
            }
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
    pub(super) fn absolute(&self, attrs: &mut [(QualName, StrTendril)], name: &str) {
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

#[cfg(test)]
mod tests {
    use super::super::requisites;
    use super::super::requisites::tests::{base, urls};
    use super::*;

    #[test]
    fn style_text_cannot_close_its_element() {
        assert_eq!(
            guard_style_text("a{} </style><script>x</script> </STYLE"),
            "a{} <\\/style><script>x</script> <\\/STYLE"
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
        // None is on the allow-list: the element stays, bare.
        assert!(out.contains("<p>t</p>"), "{out}");
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
        // Never shown, so never kept: a template is not on the allow-list.
        assert!(!out.contains("template") && !out.contains("x()"), "{out}");
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
