//! The document around the page: citeguard's own head (the charset and
//! the Content-Security-Policy first, then the page's title, icon and
//! style sheets) and the banner that opens `<body>` saying what the copy
//! is, of what, and when it was taken.
//!
//! It owns the shape of the written document and the banner's look. It
//! never changes what the page holds: the page's parts reach the document
//! only through `sanitize`, whose output it writes as it is.

use ego_tree::NodeId;
use scraper::{ElementRef, Html};
use url::Url;

use super::policy::link_kind;
use super::sanitize::{self, has_scheme, loads_nothing};
use super::tree::{attr, find_element, new_element, new_text, outer_html};
use super::{Banner, CONTENT_SECURITY_POLICY, RequisiteKind};
use crate::base::web::is_http;

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

/// The offline page as one document: a head of citeguard's own (charset
/// and Content-Security-Policy first, since a meta policy governs only what
/// follows it; then the page's title, icon and style sheets), and a body
/// that opens with the banner. What came from the page passes through
/// `sanitize` on its way: the style sheets, the body's content, and the
/// few attributes of `<html>` and `<body>` that are kept.
pub(super) fn page(doc: &Html, banner: &Banner) -> String {
    let mut out = String::new();
    if doc.tree.root().children().any(|n| n.value().is_doctype()) {
        out.push_str("<!DOCTYPE html>");
    }
    let kept = |id: Option<NodeId>, names: &[&str]| -> Vec<(String, String)> {
        let Some(el) = id.and_then(|id| doc.tree.get(id)?.value().as_element()) else {
            return Vec::new();
        };
        names
            .iter()
            .filter_map(|&n| Some((n.to_string(), attr(el, n)?.to_string())))
            .filter(|(n, v)| n != "style" || loads_nothing(v))
            .collect()
    };
    let html = find_element(doc, "html");
    let head = find_element(doc, "head");
    let body = find_element(doc, "body");

    out.push_str(&start_tag("html", &kept(html, &["lang", "dir"])));
    out.push_str("<head>");
    let csp = [
        ("http-equiv", "Content-Security-Policy"),
        ("content", CONTENT_SECURITY_POLICY),
    ];
    out.push_str(&outer_html("meta", &[("charset", "utf-8")], None));
    out.push_str(&outer_html("meta", &csp, None));
    let head_elements: Vec<ElementRef> = head
        .and_then(|h| doc.tree.get(h))
        .map(|h| h.children().filter_map(ElementRef::wrap).collect())
        .unwrap_or_default();
    let title = head_elements
        .iter()
        .find(|e| e.value().name() == "title")
        .map(|t| t.text().collect::<String>());
    if let Some(title) = title {
        out.push_str(&outer_html("title", &[], Some(&title)));
    }
    let icon = head_elements
        .iter()
        .filter(|e| e.value().name() == "link" && link_kind(e.value()) == Some(RequisiteKind::Icon))
        .find_map(|e| attr(e.value(), "href").filter(|h| has_scheme(h, "data:image/")));
    if let Some(href) = icon {
        out.push_str(&outer_html(
            "link",
            &[("rel", "icon"), ("href", href)],
            None,
        ));
    }
    let styles: String = head_elements
        .iter()
        .filter(|e| e.value().name() == "style")
        .map(|e| e.html())
        .collect();
    out.push_str(&sanitize::fragment(&styles));
    out.push_str("</head>");

    let body_attributes = kept(body, &["class", "id", "lang", "dir", "style"]);
    out.push_str(&start_tag("body", &body_attributes));
    let content = body
        .and_then(|b| doc.tree.get(b))
        .and_then(ElementRef::wrap)
        .map(|b| b.inner_html())
        .unwrap_or_default();
    out.push_str(&sanitize::fragment(&(banner_html(banner) + &content)));
    out.push_str("</body></html>");
    out
}

/// An element's start tag as the serializer writes it, with these
/// attributes.
fn start_tag(name: &str, attributes: &[(String, String)]) -> String {
    let attributes: Vec<(&str, &str)> = attributes
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let whole = outer_html(name, &attributes, None);
    whole
        .strip_suffix(&format!("</{name}>"))
        .unwrap_or(&whole)
        .to_string()
}

/// The banner saying what the copy is: of what, when, which bytes.
fn banner_html(banner: &Banner) -> String {
    let mut doc = Html::new_document();
    let root = doc.tree.root().id();
    let Some(mut root) = doc.tree.get_mut(root) else {
        return String::new();
    };
    let mut div = root.append(new_element(
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
    let id = div.id();
    doc.tree
        .get(id)
        .and_then(ElementRef::wrap)
        .map(|e| e.html())
        .unwrap_or_default()
}

/// `2024-05-01 12:30 UTC` for an RFC 3339 time; anything else as given.
fn display_time(rfc3339: &str) -> String {
    crate::base::time::parse_rfc3339(rfc3339.trim())
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|_| rfc3339.to_string())
}
