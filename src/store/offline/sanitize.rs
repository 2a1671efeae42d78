//! The last word on what an offline copy may hold: every part of it that
//! came from the page passes through an allow-list sanitizer (ammonia, on
//! html5ever) before it is written.
//!
//! The renderer before it cleans for fidelity: it inlines what the store
//! holds, rewrites style sheets and drops what cannot work offline. This
//! module is for safety, and it trusts none of that: what is not on its
//! lists goes, whatever the renderer left. It keeps what a reading copy
//! needs (text and its structure, tables, images as `data:` URIs, inline
//! styles and style sheets, SVG drawings) and drops scripts, handlers,
//! forms and their controls, `<meta>`, `<base>`, `<link>`, frames, objects
//! and MathML. Ammonia parses as a browser does, namespaces included, and
//! removes any element whose namespace would change when the output is
//! parsed again: that is what stops mutation XSS (markup that a first parse
//! reads as text, and the browser's parse of the output as elements).
//!
//! It never fetches, never looks anything up, and never rewrites a
//! reference: a reference it does not accept is removed, not repaired.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use super::css::{CssRefKind, scan_css};
use super::policy::is_data_uri;

/// Elements an offline reading copy keeps: HTML text and structure,
/// tables, images, style sheets, and SVG drawing elements. No form, no
/// control, no frame, no media (the renderer leaves notes for those), no
/// MathML (its text stays), no `<title>` (the copy's own is in its head),
/// no SVG `foreignObject`, animation or `feImage`.
const TAGS: &[&str] = &[
    // Text and structure.
    "a",
    "abbr",
    "acronym",
    "address",
    "article",
    "aside",
    "b",
    "bdi",
    "bdo",
    "big",
    "blockquote",
    "br",
    "caption",
    "center",
    "cite",
    "code",
    "col",
    "colgroup",
    "data",
    "dd",
    "del",
    "details",
    "dfn",
    "div",
    "dl",
    "dt",
    "em",
    "fieldset",
    "figcaption",
    "figure",
    "font",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hgroup",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "legend",
    "li",
    "main",
    "mark",
    "nav",
    "ol",
    "p",
    "picture",
    "pre",
    "q",
    "rp",
    "rt",
    "rtc",
    "ruby",
    "s",
    "samp",
    "section",
    "small",
    "source",
    "span",
    "strike",
    "strong",
    "style",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "time",
    "tr",
    "tt",
    "u",
    "ul",
    "var",
    "wbr",
    // SVG drawings.
    "svg",
    "g",
    "defs",
    "symbol",
    "use",
    "path",
    "circle",
    "ellipse",
    "line",
    "polyline",
    "polygon",
    "rect",
    "text",
    "tspan",
    "textPath",
    "desc",
    "image",
    "linearGradient",
    "radialGradient",
    "stop",
    "clipPath",
    "mask",
    "pattern",
    "marker",
    "filter",
    "feBlend",
    "feColorMatrix",
    "feComposite",
    "feDropShadow",
    "feFlood",
    "feGaussianBlur",
    "feMerge",
    "feMergeNode",
    "feMorphology",
    "feOffset",
];

/// Attributes any kept element may have.
const GENERIC_ATTRIBUTES: &[&str] = &[
    "class",
    "dir",
    "hidden",
    "id",
    "lang",
    "role",
    "style",
    "title",
    "translate",
];

const GENERIC_PREFIXES: &[&str] = &["aria-", "data-"];

/// Attributes of SVG drawing elements: geometry and presentation.
const SVG_ATTRIBUTES: &[&str] = &[
    "viewBox",
    "width",
    "height",
    "x",
    "y",
    "x1",
    "x2",
    "y1",
    "y2",
    "cx",
    "cy",
    "r",
    "rx",
    "ry",
    "fx",
    "fy",
    "fr",
    "d",
    "points",
    "pathLength",
    "transform",
    "preserveAspectRatio",
    "version",
    "fill",
    "fill-opacity",
    "fill-rule",
    "stroke",
    "stroke-width",
    "stroke-opacity",
    "stroke-linecap",
    "stroke-linejoin",
    "stroke-dasharray",
    "stroke-dashoffset",
    "stroke-miterlimit",
    "opacity",
    "color",
    "display",
    "visibility",
    "overflow",
    "vector-effect",
    "shape-rendering",
    "text-rendering",
    "paint-order",
    "font-family",
    "font-size",
    "font-weight",
    "font-style",
    "text-anchor",
    "dominant-baseline",
    "alignment-baseline",
    "letter-spacing",
    "word-spacing",
    "dx",
    "dy",
    "rotate",
    "textLength",
    "lengthAdjust",
    "startOffset",
    "gradientUnits",
    "gradientTransform",
    "spreadMethod",
    "offset",
    "stop-color",
    "stop-opacity",
    "clip-path",
    "clip-rule",
    "clipPathUnits",
    "mask",
    "maskUnits",
    "maskContentUnits",
    "patternUnits",
    "patternContentUnits",
    "patternTransform",
    "markerWidth",
    "markerHeight",
    "markerUnits",
    "refX",
    "refY",
    "orient",
    "marker-start",
    "marker-mid",
    "marker-end",
    "filter",
    "filterUnits",
    "primitiveUnits",
    "in",
    "in2",
    "result",
    "stdDeviation",
    "mode",
    "operator",
    "k1",
    "k2",
    "k3",
    "k4",
    "type",
    "values",
    "flood-color",
    "flood-opacity",
    "radius",
    "href",
];

/// Attributes of HTML elements, by element.
fn html_attributes() -> HashMap<&'static str, HashSet<&'static str>> {
    let table_cell = [
        "abbr",
        "align",
        "valign",
        "colspan",
        "rowspan",
        "headers",
        "scope",
        "width",
        "height",
        "bgcolor",
        "nowrap",
        "background",
    ];
    let rows = ["align", "valign", "bgcolor", "background"];
    let by_element: &[(&str, &[&str])] = &[
        ("a", &["href", "hreflang", "name"]),
        (
            "img",
            &[
                "src", "alt", "width", "height", "align", "border", "hspace", "vspace",
            ],
        ),
        ("source", &["srcset", "type", "media", "width", "height"]),
        ("style", &["media"]),
        (
            "table",
            &[
                "align",
                "border",
                "cellpadding",
                "cellspacing",
                "width",
                "bgcolor",
                "summary",
                "frame",
                "rules",
                "background",
            ],
        ),
        ("td", &table_cell),
        ("th", &table_cell),
        ("tr", &rows),
        ("tbody", &rows),
        ("thead", &rows),
        ("tfoot", &rows),
        ("col", &["span", "width", "align", "valign"]),
        ("colgroup", &["span", "width", "align", "valign"]),
        ("caption", &["align"]),
        ("ol", &["start", "reversed", "type"]),
        ("ul", &["type"]),
        ("li", &["value", "type"]),
        ("blockquote", &["cite"]),
        ("q", &["cite"]),
        ("del", &["cite", "datetime"]),
        ("ins", &["cite", "datetime"]),
        ("time", &["datetime"]),
        ("data", &["value"]),
        ("details", &["open"]),
        ("font", &["color", "face", "size"]),
        ("hr", &["align", "size", "width", "noshade", "color"]),
        ("p", &["align"]),
        ("div", &["align"]),
        ("h1", &["align"]),
        ("h2", &["align"]),
        ("h3", &["align"]),
        ("h4", &["align"]),
        ("h5", &["align"]),
        ("h6", &["align"]),
    ];
    by_element
        .iter()
        .map(|(el, attrs)| (*el, attrs.iter().copied().collect()))
        .collect()
}

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut attributes = html_attributes();
    let svg: HashSet<&str> = SVG_ATTRIBUTES.iter().copied().collect();
    for tag in TAGS.iter().skip_while(|t| **t != "svg") {
        attributes.entry(tag).or_default().extend(&svg);
    }
    let mut b = ammonia::Builder::default();
    b.tags(TAGS.iter().copied().collect())
        // Nothing's content is dropped whole: disallowed elements are
        // removed and their text kept. Scripts never reach here (the
        // renderer drops them), and if one did, its text would be text.
        .clean_content_tags(HashSet::new())
        .generic_attributes(GENERIC_ATTRIBUTES.iter().copied().collect())
        .generic_attribute_prefixes(GENERIC_PREFIXES.iter().copied().collect())
        .tag_attributes(attributes)
        // `data:` for images; `keep` narrows each attribute further.
        .url_schemes(["http", "https", "mailto", "data"].into_iter().collect())
        .attribute_filter(keep)
        .strip_comments(true);
    b
});

/// A fragment of the page (what goes in `<body>`, or the page's `<style>`
/// elements), sanitized: what it returns parses back to itself, in a
/// `<body>` as in a `<div>`.
pub(super) fn fragment(html: &str) -> String {
    SANITIZER.clean(html).to_string()
}

/// Whether an attribute stays, given its value: every reference must point
/// within the page or be inline, and links lead only to web pages and mail.
fn keep<'u>(element: &str, attribute: &str, value: &'u str) -> Option<Cow<'u, str>> {
    let ok = match attribute {
        "href" if element == "a" => is_link(value),
        "href" if element == "image" => is_data_image(value) || is_local(value),
        "href" => is_local(value),
        "src" | "background" => is_data_image(value),
        // One `data:` candidate and nothing else: the renderer's choice.
        "srcset" => is_data_image(value) && !value.trim().contains(char::is_whitespace),
        "cite" => is_web(value),
        "style" => loads_nothing(value),
        // SVG presentation attributes take `url()`s as CSS does.
        _ if value.to_ascii_lowercase().contains("url(") => loads_nothing(value),
        _ => true,
    };
    ok.then_some(Cow::Borrowed(value))
}

/// A link a person may follow: to a web page, a mail address, or a place
/// in this page.
fn is_link(value: &str) -> bool {
    is_local(value) || is_web(value) || has_scheme(value, "mailto:")
}

fn is_web(value: &str) -> bool {
    url::Url::parse(value.trim()).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
}

fn is_local(value: &str) -> bool {
    value.trim_start().starts_with('#')
}

fn is_data_image(value: &str) -> bool {
    has_scheme(value, "data:image/")
}

pub(super) fn has_scheme(value: &str, prefix: &str) -> bool {
    value
        .trim_start()
        .get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
}

/// CSS (a `style` attribute, an SVG `fill`) whose every reference is
/// inline, within the page or empty, with no `@import`: the renderer has
/// made it so, and this checks it did.
pub(super) fn loads_nothing(css: &str) -> bool {
    scan_css(css).iter().all(|r| {
        let target = r.target.trim();
        match r.what {
            CssRefKind::Import { .. } => false,
            CssRefKind::Url { .. } => {
                target.is_empty() || target.starts_with('#') || is_data_uri(target)
            }
            CssRefKind::ImageSetString => target.is_empty() || is_data_uri(target),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stable(html: &str) -> String {
        let once = fragment(html);
        assert_eq!(fragment(&once), once, "sanitizing {html:?} twice");
        once
    }

    #[test]
    fn mathml_that_would_reparse_a_style_text_as_markup_goes() {
        let out = stable(
            r#"<math><mtext><table><mglyph><style><meta http-equiv="refresh" content="0;url=http://127.0.0.1:9/x">"#,
        );
        assert!(!out.contains("<math") && !out.contains("<mglyph"), "{out}");
        // What is left is inert: the style element's text, in an HTML table.
        assert!(!out.contains("<meta") || out.contains("<style>"), "{out}");
    }

    #[test]
    fn forms_controls_meta_base_and_frames_go_their_text_stays() {
        let out = stable(
            r#"<form action="http://127.0.0.1:9/"><button formaction="http://127.0.0.1:9/">Go</button><input name=q></form><meta http-equiv=refresh content=0><base href="http://127.0.0.1:9/"><iframe srcdoc="<p>x"></iframe><object data="http://127.0.0.1:9/"></object>"#,
        );
        assert_eq!(out, "Go");
    }

    #[test]
    fn references_must_be_inline_or_within_the_page() {
        let out = stable(
            r##"<img src="http://127.0.0.1:9/a.png" alt=a><img src="data:image/png;base64,AA==" alt=b><a href="javascript:x()">j</a><a href="data:text/html,x">d</a><a href="https://example.org/">w</a><a href="#n">n</a><svg><use href="http://127.0.0.1:9/s.svg#i"/><use href="#i"/><image href="http://127.0.0.1:9/i.png"/><rect fill="url(http://127.0.0.1:9/f)"/></svg><p style="background:url(http://127.0.0.1:9/b)">p</p><img src="data:image/png;base64,AA==" srcset="http://127.0.0.1:9/2.png 2x">"##,
        );
        assert!(!out.contains("127.0.0.1"), "{out}");
        assert!(
            !out.contains("javascript") && !out.contains("text/html"),
            "{out}"
        );
        assert!(
            out.contains(r#"<img src="data:image/png;base64,AA==" alt="b">"#),
            "{out}"
        );
        assert!(out.contains(r#"href="https://example.org/""#), "{out}");
        assert!(out.contains(r##"<use href="#i">"##), "{out}");
    }

    #[test]
    fn a_reading_copy_keeps_its_text_tables_images_and_styles() {
        let html = r#"<style media="print">p{color:red}</style><article class="post"><h1 align="center">T</h1><table border="1"><tbody><tr><td colspan="2">c</td></tr></tbody></table><picture><source srcset="data:image/webp;base64,AA==" type="image/webp"><img src="data:image/png;base64,AA==" alt="x"></picture><svg viewBox="0 0 4 4"><path d="M0 0h4v4z" fill="url(#g)"></path></svg></article>"#;
        assert_eq!(stable(html), html);
    }

    #[test]
    fn css_that_loads_is_caught() {
        assert!(loads_nothing(
            "a{background:url(data:image/png,x)} b{mask:url(#m)}"
        ));
        assert!(!loads_nothing("a{background:url(//127.0.0.1:9/x)}"));
        assert!(!loads_nothing("@import 'x.css';"));
        assert!(!loads_nothing("a{background:image-set('x.png' 1x)}"));
    }
}
