//! The offline copy of a realistic blog post: what it needs, and that the
//! page rendered from its stored requisites loads nothing from the network,
//! runs nothing, and still reads as the page did.

use std::collections::HashMap;

use citeguard::store::offline::{
    Banner, Requisite, RequisiteKind, css_requisites, render_offline, requisites,
};
use scraper::{ElementRef, Html, Selector};
use url::Url;

/// Where the snapshot was taken: a mirror, so that only `<base href>` makes
/// the page's relative references point at the blog.
const PAGE_URL: &str = "https://mirror.example.org/p/123";

const PAGE: &str = r##"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="windows-1252">
<meta http-equiv="refresh" content="30; url=https://example.com/elsewhere">
<base href="https://blog.example.com/posts/">
<title>On keeping sources</title>
<link rel="stylesheet" href="../css/site.css">
<link rel="stylesheet" href="https://cdn.example.net/never-stored.css">
<link rel="icon" href="/favicon.png">
<link rel="preload" href="/js/app.js" as="script">
<link rel="modulepreload" href="/js/module.js">
<link rel="dns-prefetch" href="//cdn.example.net">
<link rel="manifest" href="/site.webmanifest">
<link rel="canonical" href="https://blog.example.com/posts/keeping-sources">
<script src="https://cdn.example.net/analytics.js"></script>
<script>window.dataLayer = [];</script>
<style>
  @import "print.css" print;
  .hero { background-image: url('img/hero.png'); }
</style>
</head>
<body onload="init()">
<article>
<h1>On keeping sources</h1>
<p>Read <a href="other-post.html" onclick="track('other')">the other post</a>,
<a href="#notes">the notes</a> and <a href="javascript:openComments()">the comments</a>.</p>
<div class="hero" style="background: url(img/banner.png) no-repeat; min-height: 4em"></div>
<img src="img/chart.png" srcset="img/chart@2x.png 2x, img/chart@3x.png 3x" alt="A chart">
<img srcset="img/diagram-small.png 0.5x, img/diagram.png 1x, img/diagram@2x.png 2x" alt="A diagram">
<picture>
  <source srcset="img/photo.webp 1x, img/photo@2x.webp 2x" type="image/webp">
  <img src="img/photo.jpg" alt="A photo">
</picture>
<img src="https://www.google-analytics.com/collect?v=1&amp;t=pageview" alt="">
<img src="https://stats.example.org/pixel.gif" width="1" height="1" alt="">
<iframe src="https://www.youtube.com/embed/abc123" title="A talk about sources"></iframe>
<noscript><img src="img/fallback.png" alt="Fallback figure"></noscript>
<img src="img/missing.png" alt="Not stored">
<form action="/search"><input type="image" src="img/go.png" alt="Search"></form>
<video src="clip.mp4" controls></video>
<p id="notes">Notes.</p>
</article>
<script>document.write('<img src="https://ads.example.net/x.gif">');</script>
</body>
</html>
"##;

const SITE_CSS: &str = r#"@import url("fonts.css");
body { font-family: Body, serif; }
.logo { background: url(../img/logo.svg) no-repeat; }
/* url(commented-out.png) */
"#;

const FONTS_CSS: &str = r#"@font-face {
  font-family: Body;
  src: url("../fonts/body.woff2") format("woff2"), url(../fonts/body.ttf) format("truetype");
}
"#;

const PRINT_CSS: &str = "a::after { content: \" (\" attr(href) \")\"; }\n";

const LOGO_SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4" fill="#c00"/></svg>"##;

/// A real 1×1 PNG.
const PNG_1X1: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";

const SHA256: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn png() -> Vec<u8> {
    data_encoding::BASE64
        .decode(PNG_1X1.as_bytes())
        .expect("valid base64")
}

fn url(s: &str) -> Url {
    Url::parse(s).expect("test url")
}

fn blog(path: &str) -> Url {
    url(&format!("https://blog.example.com/{path}"))
}

type Stored = HashMap<Url, (Option<String>, Vec<u8>)>;

/// What the store holds for the page: everything but `img/missing.png`,
/// `fonts/body.ttf` and the CDN's style sheet. Content types are as sloppy
/// as real servers': missing, generic, or right.
fn stored() -> Stored {
    let text = |ct: Option<&str>, s: &str| (ct.map(str::to_string), s.as_bytes().to_vec());
    let image = |ct: Option<&str>| (ct.map(str::to_string), png());
    let mut woff2 = b"wOF2\x00\x01\x00\x00".to_vec();
    woff2.extend_from_slice(&[0u8; 40]);
    let mut webp = b"RIFF\x1a\x00\x00\x00WEBPVP8L".to_vec();
    webp.extend_from_slice(&[0u8; 14]);
    let jpeg =
        b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xFF\xD9".to_vec();
    HashMap::from([
        (
            blog("css/site.css"),
            text(Some("text/css; charset=utf-8"), SITE_CSS),
        ),
        (blog("css/fonts.css"), text(None, FONTS_CSS)),
        (blog("posts/print.css"), text(Some("text/css"), PRINT_CSS)),
        (blog("img/logo.svg"), text(None, LOGO_SVG)),
        (
            blog("fonts/body.woff2"),
            (Some("application/octet-stream".into()), woff2),
        ),
        (blog("favicon.png"), image(Some("image/png"))),
        (
            blog("posts/img/hero.png"),
            image(Some("application/octet-stream")),
        ),
        (blog("posts/img/banner.png"), image(None)),
        (blog("posts/img/chart.png"), image(Some("image/png"))),
        (blog("posts/img/diagram.png"), image(None)),
        (blog("posts/img/photo.webp"), (None, webp)),
        (
            blog("posts/img/photo.jpg"),
            (Some("image/jpeg".into()), jpeg),
        ),
        (blog("posts/img/fallback.png"), image(None)),
        (blog("posts/img/go.png"), image(None)),
    ])
}

fn banner() -> Banner<'static> {
    Banner {
        url: PAGE_URL,
        taken_at: "2024-05-01T14:30:00+02:00",
        sha256: SHA256,
        note: Some("Cited in “Why links rot” <draft>"),
    }
}

fn render(stored: &Stored) -> (String, Html) {
    let lookup = |u: &Url| stored.get(u).cloned();
    let out = render_offline(PAGE, &url(PAGE_URL), &lookup, &banner());
    let doc = Html::parse_document(&out);
    (out, doc)
}

fn sel(s: &str) -> Selector {
    Selector::parse(s).expect("test selector")
}

fn all<'a>(doc: &'a Html, s: &str) -> Vec<ElementRef<'a>> {
    doc.select(&sel(s)).collect()
}

fn style_texts(doc: &Html) -> Vec<String> {
    let mut css: Vec<String> = all(doc, "style")
        .iter()
        .map(|s| s.text().collect())
        .collect();
    css.extend(
        all(doc, "[style]")
            .iter()
            .filter_map(|e| e.value().attr("style").map(str::to_string)),
    );
    css
}

/// Asserts the rendered page can load nothing: no scripts, no handlers, no
/// network URL anywhere but in links (`<a href>`, a form's target), every
/// CSS `url()` inline or empty.
fn assert_loads_nothing(out: &str, doc: &Html) {
    assert!(!out.to_ascii_lowercase().contains("<script"), "{out}");
    assert!(all(doc, "script, iframe, embed, object, video, audio, base").is_empty());
    assert!(
        all(
            doc,
            "meta[http-equiv=refresh], link[rel=preload], link[rel=modulepreload]"
        )
        .is_empty()
    );
    for el in all(doc, "*") {
        for (name, value) in el.value().attrs() {
            assert!(
                !name.starts_with("on"),
                "handler {name} left on <{}>",
                el.value().name()
            );
            assert!(
                !value
                    .trim_start()
                    .to_ascii_lowercase()
                    .starts_with("javascript:"),
                "script URL in {name}"
            );
            let network =
                value.contains("http:") || value.contains("https:") || value.starts_with("//");
            // Links navigate when clicked; they load nothing.
            let navigation = matches!((el.value().name(), name), ("a", "href"));
            if network && !navigation {
                // The CSP's text names no URL; anything else with one loads.
                panic!(
                    "<{} {name}={value:?}> names a network URL",
                    el.value().name()
                );
            }
        }
    }
    for css in style_texts(doc) {
        let css = without_comments(&css);
        for (at, _) in css.match_indices("url(") {
            let rest = &css[at + 4..];
            assert!(
                rest.starts_with("\"data:") || rest.starts_with(')') || rest.starts_with('#'),
                "a CSS url() that could load: {}",
                &rest[..rest.len().min(60)]
            );
        }
        assert!(!css.contains("@import"), "{css}");
    }
}

/// CSS with its comments cut out (what is in them never loads).
fn without_comments(css: &str) -> String {
    let mut out = String::new();
    let mut rest = css;
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        rest = rest[start + 2..]
            .split_once("*/")
            .map_or("", |(_, after)| after);
    }
    out.push_str(rest);
    out
}

#[test]
fn requisites_are_the_stylesheets_images_fonts_and_icons_in_document_order() {
    let found = requisites(PAGE, &url(PAGE_URL));
    let expected = vec![
        (blog("css/site.css"), RequisiteKind::Stylesheet),
        (
            url("https://cdn.example.net/never-stored.css"),
            RequisiteKind::Stylesheet,
        ),
        (blog("favicon.png"), RequisiteKind::Icon),
        (blog("posts/print.css"), RequisiteKind::Stylesheet),
        (blog("posts/img/hero.png"), RequisiteKind::Image),
        (blog("posts/img/banner.png"), RequisiteKind::Image),
        // `src` is the 1x candidate of its `srcset`: no other is needed.
        (blog("posts/img/chart.png"), RequisiteKind::Image),
        (blog("posts/img/diagram.png"), RequisiteKind::Image),
        (blog("posts/img/photo.webp"), RequisiteKind::Image),
        (blog("posts/img/photo.jpg"), RequisiteKind::Image),
        (blog("posts/img/fallback.png"), RequisiteKind::Image),
        (blog("posts/img/missing.png"), RequisiteKind::Image),
        (blog("posts/img/go.png"), RequisiteKind::Image),
    ];
    let expected: Vec<Requisite> = expected
        .into_iter()
        .map(|(url, kind)| Requisite { url, kind })
        .collect();
    assert_eq!(found, expected);
    assert!(!found.iter().any(|r| r.url.path().ends_with(".js")));
}

#[test]
fn stylesheet_requisites_resolve_against_the_stylesheet() {
    let site = css_requisites(SITE_CSS, &blog("css/site.css"));
    assert_eq!(
        site,
        vec![
            Requisite {
                url: blog("css/fonts.css"),
                kind: RequisiteKind::Stylesheet
            },
            Requisite {
                url: blog("img/logo.svg"),
                kind: RequisiteKind::Image
            },
        ]
    );
    let fonts = css_requisites(FONTS_CSS, &blog("css/fonts.css"));
    assert_eq!(
        fonts,
        vec![
            Requisite {
                url: blog("fonts/body.woff2"),
                kind: RequisiteKind::Font
            },
            Requisite {
                url: blog("fonts/body.ttf"),
                kind: RequisiteKind::Font
            },
        ]
    );
}

#[test]
fn offline_copy_is_self_contained_and_loads_nothing() {
    let (out, doc) = render(&stored());
    assert_loads_nothing(&out, &doc);

    // Style sheets are inline, `@import`s inlined inside them (with their
    // media), fonts and background images are data: URIs.
    let css = style_texts(&doc).join("\n");
    assert!(css.contains("font-family: Body, serif"));
    assert!(css.contains("url(\"data:font/woff2;base64,"), "{css}");
    assert!(css.contains("url(\"data:image/svg+xml;base64,"));
    assert!(css.contains("@media print {\na::after"));
    assert!(css.contains(".hero { background-image: url(\"data:image/png;base64,"));
    assert!(
        css.contains("/* url(commented-out.png) */"),
        "comments are copied through"
    );
    // The font that was not stored points at nothing.
    assert!(css.contains("url() format(\"truetype\")"));
    let hero = all(&doc, "div.hero")[0]
        .value()
        .attr("style")
        .expect("style kept");
    assert!(hero.starts_with("background: url(\"data:image/png;base64,"));
    assert!(hero.ends_with("no-repeat; min-height: 4em"));

    // Only the icon survives of the links, inline.
    let links = all(&doc, "link");
    assert_eq!(links.len(), 1);
    assert_eq!(links[0].value().attr("rel"), Some("icon"));
    let png_uri = format!("data:image/png;base64,{PNG_1X1}");
    assert_eq!(links[0].value().attr("href"), Some(png_uri.as_str()));

    // Images are data: URIs; the tracking pixels and the missing one are not.
    let srcs: Vec<(Option<&str>, Option<&str>)> = all(&doc, "article img")
        .iter()
        .map(|i| (i.value().attr("alt"), i.value().attr("src")))
        .collect();
    let alts: Vec<Option<&str>> = srcs.iter().map(|(a, _)| *a).collect();
    assert_eq!(
        alts,
        [
            "A chart",
            "A diagram",
            "A photo",
            "Fallback figure",
            "Not stored",
            "Search"
        ]
        .map(Some)
    );
    for (alt, src) in &srcs {
        match *alt {
            Some("Not stored") => assert_eq!(*src, None, "a missing image has no src"),
            Some("A photo") => {
                assert!(src.is_some_and(|s| s.starts_with("data:image/jpeg;base64,")))
            }
            _ => assert_eq!(*src, Some(png_uri.as_str()), "{alt:?}"),
        }
    }
    assert!(all(&doc, "img[srcset], img[sizes]").is_empty());
    let source = all(&doc, "picture > source");
    assert_eq!(source.len(), 1);
    assert!(
        source[0]
            .value()
            .attr("srcset")
            .is_some_and(|s| s.starts_with("data:image/webp;base64,"))
    );
    assert_eq!(source[0].value().attr("type"), Some("image/webp"));
    // The image button is an image: the copy has no forms or controls.
    assert!(all(&doc, "form, input, button").is_empty());
    assert!(!out.contains("google-analytics") && !out.contains("pixel.gif"));

    // The frame and the video leave a note with a link to what they showed.
    let notes = all(&doc, ".citeguard-removed");
    assert_eq!(notes.len(), 2);
    let frame_note: String = notes[0].text().collect();
    assert!(
        frame_note
            .starts_with("Embedded frame not kept in this offline copy (“A talk about sources”)")
    );
    let link = notes[0]
        .select(&sel("a"))
        .next()
        .expect("link to the frame");
    assert_eq!(
        link.value().attr("href"),
        Some("https://www.youtube.com/embed/abc123")
    );
    assert!(
        notes[1]
            .text()
            .collect::<String>()
            .starts_with("Video not kept")
    );

    // Links still lead where they did; script links lead nowhere.
    let anchors: Vec<(String, Option<&str>)> = all(&doc, "article p > a")
        .iter()
        .map(|a| (a.text().collect(), a.value().attr("href")))
        .collect();
    assert_eq!(
        anchors,
        vec![
            (
                "the other post".to_string(),
                Some("https://blog.example.com/posts/other-post.html")
            ),
            ("the notes".to_string(), Some("#notes")),
            ("the comments".to_string(), None),
        ]
    );
    assert_eq!(
        all(&doc, "title")[0].text().collect::<String>(),
        "On keeping sources"
    );
}

#[test]
fn head_opens_with_charset_and_policy_and_body_with_the_banner() {
    let (_, doc) = render(&stored());
    let head = all(&doc, "head")[0];
    let first: Vec<ElementRef> = head.child_elements().take(2).collect();
    assert_eq!(first[0].value().name(), "meta");
    assert_eq!(first[0].value().attr("charset"), Some("utf-8"));
    assert_eq!(
        first[1].value().attr("http-equiv"),
        Some("Content-Security-Policy")
    );
    assert_eq!(
        first[1].value().attr("content"),
        Some(
            "default-src 'none'; img-src data:; style-src 'unsafe-inline' data:; \
             font-src data:; media-src data:; form-action 'none'; base-uri 'none'"
        )
    );
    // The page's own charset is gone: the copy is UTF-8.
    assert_eq!(all(&doc, "meta[charset]").len(), 1);

    let body = all(&doc, "body")[0];
    let banner = body.child_elements().next().expect("banner");
    assert_eq!(banner.value().id(), Some("citeguard-banner"));
    let text: String = banner.text().collect();
    assert!(
        text.starts_with(
            "Offline copy of https://mirror.example.org/p/123 taken 2024-05-01 12:30 UTC \
             by citeguard · sha256 0123456789ab"
        ),
        "{text}"
    );
    assert!(text.ends_with("Cited in “Why links rot” <draft>"), "{text}");
    let link = banner.select(&sel("a")).next().expect("the URL is a link");
    assert_eq!(link.value().attr("href"), Some(PAGE_URL));
    let time = banner.select(&sel("time")).next().expect("a time element");
    assert_eq!(
        time.value().attr("datetime"),
        Some("2024-05-01T14:30:00+02:00")
    );
    assert!(
        banner
            .value()
            .attr("style")
            .is_some_and(|s| s.contains("position:sticky"))
    );
}

#[test]
fn offline_copy_is_a_well_formed_document_that_survives_a_reparse() {
    let (out, doc) = render(&stored());
    assert!(out.starts_with("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"));
    assert!(out.trim_end().ends_with("</html>"));
    assert!(doc.errors.is_empty(), "{:?}", doc.errors);
    // What a browser parses is what it would parse again from its own
    // serialisation: nothing in the copy changes meaning on a second parse.
    let again = Html::parse_document(&doc.html());
    assert!(doc.tree == again.tree, "{out}");
}

#[test]
fn nothing_stored_still_loads_nothing_and_keeps_the_text() {
    let (out, doc) = render(&Stored::new());
    assert_loads_nothing(&out, &doc);
    assert!(all(&doc, "link").is_empty());
    assert!(all(&doc, "img[src], input[src], picture source").is_empty());
    let alts: Vec<&str> = all(&doc, "img")
        .iter()
        .filter_map(|i| i.value().attr("alt"))
        .collect();
    assert!(alts.contains(&"A chart") && alts.contains(&"Not stored"));
    assert!(all(&doc, "#citeguard-banner").len() == 1);
    assert!(
        doc.root_element()
            .text()
            .any(|t| t.contains("On keeping sources"))
    );
}
