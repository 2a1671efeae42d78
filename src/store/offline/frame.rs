//! What citeguard adds around a page: the charset and the
//! Content-Security-Policy that open `<head>`, and the banner that opens
//! `<body>` saying what the copy is, of what, and when it was taken.
//!
//! It owns these additions and their look. It never changes what the page
//! itself holds.

use scraper::Html;
use url::Url;

use super::tree::{find_element, new_element, new_text};
use super::{Banner, CONTENT_SECURITY_POLICY};
use crate::base::web::is_http;

/// The banner's look, inline so the page's own styles hardly touch it.
/// Sticky rather than fixed: it stays on screen while reading, like a fixed
/// bar, but takes its own room, so it never hides the page's first lines.
const BANNER_STYLE: &str = "position:sticky;top:0;left:0;right:0;z-index:2147483647;\
    box-sizing:border-box;width:100%;margin:0;padding:8px 14px;\
    background:#fff4c2;color:#1f1f1f;border-bottom:2px solid #c79a00;\
    font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;text-align:left;\
    letter-spacing:normal;text-transform:none";

const BANNER_LINK_STYLE: &str =
    "color:#0b4fa8;text-decoration:underline;word-break:break-all";

const BANNER_CODE_STYLE: &str = "font:13px ui-monospace,Menlo,Consolas,monospace";

/// Puts the charset and the Content-Security-Policy first in `<head>`: a
/// meta policy only governs what comes after it.
pub(super) fn open_head(doc: &mut Html) {
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
pub(super) fn open_body(doc: &mut Html, banner: &Banner) {
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
