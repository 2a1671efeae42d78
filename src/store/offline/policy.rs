//! The rules an offline copy lives by, shared by finding requisites and by
//! rendering so that the two always agree: which elements go (and how),
//! which `<link>`s are requisites, which images are tracking pixels, which
//! URLs are scripts, and how references resolve.
//!
//! It owns these decisions only: it never changes a tree, never looks a
//! requisite up and never writes markup.

use scraper::Html;
use scraper::node::Element;
use url::Url;

use super::RequisiteKind;
use super::srcset::best_candidate;
use super::tree::{attr, has_token};
use crate::base::web::is_http;

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

/// The URL relative references resolve against: the first `<base href>`
/// (as browsers use it) if it is http(s), else the snapshot's own URL.
pub(super) fn document_base(doc: &Html, base: &Url) -> Url {
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
pub(super) fn resolve(raw: &str, base: &Url) -> Option<Url> {
    let raw = raw.trim_matches(|c: char| c.is_ascii_whitespace());
    if raw.is_empty() || raw.starts_with('#') {
        return None;
    }
    let mut url = base.join(raw).ok().filter(|u| is_http(u.as_str()))?;
    url.set_fragment(None);
    Some(url)
}

pub(super) fn is_data_uri(raw: &str) -> bool {
    raw.trim_start()
        .get(..5)
        .is_some_and(|s| s.eq_ignore_ascii_case("data:"))
}

/// `javascript:` and `vbscript:` URLs, spelled as browsers read them
/// (leading controls and spaces ignored, tabs and newlines anywhere).
pub(super) fn is_script_url(raw: &str) -> bool {
    let cleaned: String = raw
        .trim_start_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .take(11)
        .collect::<String>()
        .to_ascii_lowercase();
    cleaned.starts_with("javascript:") || cleaned.starts_with("vbscript:")
}

/// What the offline copy does with an element; `requisites` and
/// `render_offline` share it so that they agree on what is needed.
pub(super) enum Fate {
    Keep,
    /// Gone with all it holds.
    Drop,
    /// Gone, what it holds kept in its place.
    Unwrap,
    /// Gone, a note saying what was there in its place.
    Replace(&'static str),
}

pub(super) fn fate(el: &Element, base: &Url) -> Fate {
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

pub(super) fn link_kind(el: &Element) -> Option<RequisiteKind> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_urls_are_caught_however_they_are_spelled() {
        assert!(is_script_url("javascript:alert(1)"));
        assert!(is_script_url("  JavaScript:void(0)"));
        assert!(is_script_url("java\tscript:x"));
        assert!(is_script_url("\u{1}vbscript:x"));
        assert!(!is_script_url("https://example.com/javascript:"));
        assert!(!is_script_url("/javascript/intro.html"));
    }
}
