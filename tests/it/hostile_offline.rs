//! Offline copies of hostile pages: nothing in them loads, navigates or
//! runs when a person opens them, the renderer never panics on any page,
//! and no failing run empties or truncates a file that `-o` names.
//!
//! The payloads are in `web::hostile`; the browser test opens the copies in
//! headless chromium with `tests/browser/open-offline.mjs`, and the server
//! the payloads point at records every request it gets.

use std::path::{Path, PathBuf};
use std::process::Command;

use citeguard::store::offline::{
    Banner, css_requisites, render_offline, requisites, sanitize_fragment,
};
use proptest::prelude::*;
use scraper::{Html, Selector};
use serde_json::Value;
use url::Url;

use crate::report_html::ensure_browser;
use crate::util::{Dir, root, stderr, stdout};
use crate::web::Web;
use crate::web::hostile::{self, FUZZED, PAYLOADS};

const BANNER: Banner<'static> = Banner {
    url: "https://example.org/cited",
    taken_at: "2026-11-01T03:00:00Z",
    sha256: "0123456789abcdef",
    note: None,
};

/// A real 1×1 PNG.
const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, b'I', b'H', b'D', b'R', 0, 0, 0,
    1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89,
];

/// The offline copy of `html` taken at `base`, with nothing stored.
fn render(html: &str, base: &str) -> String {
    let base = Url::parse(base).expect("test url");
    render_offline(html, &base, &|_: &Url| None, &BANNER)
}

/// The copy with every requisite "stored": style sheets as `css`, anything
/// else as a PNG; so inlining runs on whatever the page names.
fn render_stored(html: &str, css: &str) -> String {
    let base = Url::parse("https://example.org/dir/page.html").expect("test url");
    let lookup = |u: &Url| {
        if u.path().ends_with(".css") {
            Some((Some("text/css".to_string()), css.as_bytes().to_vec()))
        } else {
            Some((None, PNG.to_vec()))
        }
    };
    render_offline(html, &base, &lookup, &BANNER)
}

/// What a browser builds from the copy is what it would build again from
/// its own serialisation (no markup changes meaning on a second parse),
/// and the copy's body is a fixed point of the sanitizer.
fn assert_stable(out: &str) {
    let doc = Html::parse_document(out);
    let again = Html::parse_document(&doc.html());
    assert!(doc.tree == again.tree, "a second parse differs: {out}");
    // The body's content: from the banner on (the body's own start tag
    // may hold a `>` in an attribute value).
    let body = out
        .find("<div id=\"citeguard-banner\"")
        .map(|at| out[at..].trim_end_matches("</body></html>"))
        .expect("a banner");
    assert_eq!(
        canonical(&sanitize_fragment(body)),
        canonical(body),
        "sanitizing twice changes it: {body}"
    );
}

/// A fragment as its parsed tree, written with each element's attributes
/// in name order: what a second sanitizing may change without changing
/// meaning (it may write `rel` before or after `style`) is left out.
fn canonical(fragment: &str) -> String {
    let parsed = Html::parse_fragment(fragment);
    let mut out = String::new();
    for edge in parsed.root_element().traverse() {
        match edge {
            ego_tree::iter::Edge::Open(node) => match node.value() {
                scraper::Node::Element(el) => {
                    let mut attrs: Vec<_> = el.attrs().collect();
                    attrs.sort();
                    out.push_str(&format!("<{}{attrs:?}>", el.name()));
                }
                scraper::Node::Text(t) => out.push_str(t),
                other => out.push_str(&format!("{other:?}")),
            },
            ego_tree::iter::Edge::Close(node) => {
                if let scraper::Node::Element(el) = node.value() {
                    out.push_str(&format!("</{}>", el.name()));
                }
            }
        }
    }
    out
}

fn sel(s: &str) -> Selector {
    Selector::parse(s).expect("test selector")
}

// ---- the copies as documents ----

#[test]
fn every_hostile_payload_renders_to_a_stable_copy_with_nothing_that_loads() {
    let evil = "http://127.0.0.71:9";
    for (name, markup) in PAYLOADS {
        let page = hostile::payload(markup, evil);
        let out = render(&page, &format!("{evil}/hostile/{name}"));
        assert_stable(&out);
        let doc = Html::parse_document(&out);
        let http_equiv: Vec<&str> = doc
            .select(&sel("meta[http-equiv]"))
            .filter_map(|m| m.value().attr("http-equiv"))
            .collect();
        assert_eq!(http_equiv, ["Content-Security-Policy"], "{name}: {out}");
        for forbidden in [
            "form",
            "input",
            "button",
            "base",
            "math",
            "script",
            "iframe",
            "object",
            "embed",
            "video",
            "audio",
            "link:not([rel=icon])",
            "template",
            "noscript",
            "foreignObject",
            "animate",
            "set",
        ] {
            assert_eq!(
                doc.select(&sel(forbidden)).count(),
                0,
                "{name}: <{forbidden}> in {out}"
            );
        }
        // The evil server is named only by links a person may follow (the
        // notes that say what was removed are links too), in text and in
        // inline images.
        for el in doc.select(&sel("*")) {
            for (attr, value) in el.value().attrs() {
                let names_evil = value.contains("127.0.0.71");
                let link = el.value().name() == "a" && attr == "href";
                let text = matches!(attr, "title" | "alt" | "id" | "class");
                // An image loads nothing of its own (an SVG one included).
                let inline_image = attr == "src" && value.starts_with("data:image/");
                assert!(
                    !names_evil || link || text || inline_image,
                    "{name}: <{} {attr}={value:?}>",
                    el.value().name()
                );
                assert!(!attr.starts_with("on"), "{name}: handler {attr}");
            }
        }
        for style in doc.select(&sel("style")) {
            let css: String = style.text().collect();
            // Text that names the server is inert; a reference would load.
            let lower = css.to_ascii_lowercase();
            for (at, _) in lower.match_indices("url(") {
                let rest = lower[at + 4..].trim_start_matches(['"', '\'', ' ']);
                assert!(
                    rest.starts_with("data:") || rest.starts_with(')') || rest.starts_with('#'),
                    "{name}: {css}"
                );
            }
            assert!(!css.contains("@import"), "{name}: {css}");
        }
    }
}

#[test]
fn sanitizing_a_payload_twice_changes_nothing() {
    for (name, markup) in PAYLOADS {
        let once = sanitize_fragment(&hostile::payload(markup, "http://127.0.0.71:9"));
        assert_eq!(sanitize_fragment(&once), once, "{name}");
        let doc = Html::parse_fragment(&once);
        assert!(
            doc.tree == Html::parse_fragment(&doc.html()).tree,
            "{name}: {once}"
        );
    }
}

#[test]
fn the_fuzzed_page_that_panicked_renders() {
    let out = render(FUZZED, "http://127.0.0.71:9/hostile/fuzzed");
    assert!(out.contains("citeguard-banner"), "{out}");
    assert_stable(&out);
    let _ = requisites(FUZZED, &Url::parse("http://127.0.0.71:9/").unwrap());
}

// ---- the renderer never panics ----

/// Tokens that make markup hard to read: tags of every namespace and kind
/// of content, attributes that reference, quotes, entities, comments.
fn markup_token() -> impl Strategy<Value = String> {
    let tokens: &[&str] = &[
        "<",
        ">",
        "</",
        "/>",
        "=",
        "\"",
        "'",
        " ",
        "\n",
        "&",
        "&amp;",
        "&#x3c;",
        "&#",
        ";",
        "<!--",
        "-->",
        "<![CDATA[",
        "]]>",
        "<!DOCTYPE html>",
        "<?xml ?>",
        "П",
        "\u{0}",
        "\u{FEFF}",
        "a",
        "p",
        "b",
        "i",
        "table",
        "tr",
        "td",
        "caption",
        "math",
        "mtext",
        "mglyph",
        "mi",
        "annotation-xml",
        "svg",
        "foreignObject",
        "desc",
        "title",
        "style",
        "script",
        "noscript",
        "template",
        "select",
        "option",
        "form",
        "input",
        "button",
        "textarea",
        "xmp",
        "plaintext",
        "iframe",
        "frameset",
        "frame",
        "img",
        "link",
        "meta",
        "base",
        "picture",
        "source",
        "video",
        "object",
        "embed",
        "body",
        "head",
        "html",
        " href=",
        " src=",
        " srcset=",
        " style=",
        " onload=",
        " xlink:href=",
        " background=",
        " http-equiv=refresh",
        " content=",
        " rel=stylesheet",
        " rel=icon",
        " type=image",
        " action=",
        "javascript:x()",
        "data:text/html,x",
        "url(x.png)",
        "x.png 2x, y.png 1x",
        "//h/x.css",
        "#frag",
    ];
    prop::sample::select(tokens).prop_map(str::to_string)
}

fn markup_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(markup_token(), 0..80).prop_map(|t| t.concat())
}

fn tag() -> impl Strategy<Value = &'static str> {
    prop::sample::select(
        &[
            "a",
            "p",
            "div",
            "b",
            "i",
            "table",
            "tbody",
            "tr",
            "td",
            "ul",
            "li",
            "math",
            "mtext",
            "mglyph",
            "mi",
            "annotation-xml",
            "svg",
            "g",
            "a",
            "image",
            "use",
            "foreignObject",
            "style",
            "noscript",
            "template",
            "select",
            "form",
            "input",
            "img",
            "link",
            "meta",
            "base",
            "picture",
            "source",
            "iframe",
            "object",
            "video",
            "audio",
            "frameset",
            "frame",
            "head",
            "body",
            "title",
            "textarea",
            "xmp",
            "script",
            "details",
            "summary",
        ][..],
    )
}

fn attribute() -> impl Strategy<Value = String> {
    let names = prop::sample::select(
        &[
            "href",
            "src",
            "srcset",
            "style",
            "onload",
            "onerror",
            "xlink:href",
            "background",
            "http-equiv",
            "content",
            "rel",
            "type",
            "action",
            "formaction",
            "data",
            "poster",
            "width",
            "height",
            "media",
            "fill",
            "attributeName",
            "to",
            "values",
            "id",
            "class",
        ][..],
    );
    let values = prop::sample::select(
        &[
            "",
            "x.png",
            "a.css",
            "http://127.0.0.1:9/x",
            "//127.0.0.1:9/y",
            "javascript:x()",
            " JaVa\tScRiPt:x()",
            "data:text/html,<b>",
            "data:image/png;base64,AA==",
            "url(x.png)",
            "url(\"a.css\")",
            "background:url(x.png)",
            "x.png 2x, y.png 1x",
            "1",
            "stylesheet",
            "icon",
            "image",
            "refresh",
            "0;url=http://127.0.0.1:9/",
            "#f",
            "\"><img src=x>",
            "'",
            "П&amp;",
        ][..],
    );
    (names, values).prop_map(|(n, v)| format!(" {n}=\"{}\"", v.replace('"', "&quot;")))
}

fn text() -> impl Strategy<Value = String> {
    prop::sample::select(
        &[
            "",
            "text",
            " ",
            "&",
            "<",
            "П",
            "a{b:url(c.png)}",
            "</style>",
        ][..],
    )
    .prop_map(str::to_string)
}

/// Pages built as trees of the tags above, closed or not.
fn page() -> impl Strategy<Value = String> {
    text().prop_recursive(6, 96, 6, |inner| {
        (
            tag(),
            prop::collection::vec(attribute(), 0..4),
            prop::collection::vec(inner, 0..6),
            any::<bool>(),
        )
            .prop_map(|(tag, attrs, kids, close)| {
                let end = if close {
                    format!("</{tag}>")
                } else {
                    String::new()
                };
                format!("<{tag}{}>{}{end}", attrs.concat(), kids.concat())
            })
    })
}

/// Style sheets of the tokens that steer the style sheet scanner.
fn css_soup() -> impl Strategy<Value = String> {
    let tokens: &[&str] = &[
        "url(",
        ")",
        "(",
        "\"",
        "'",
        "\\",
        "\\75 ",
        "\\72",
        "u\\72l(",
        "@import ",
        "@\\69mport ",
        "@font-face",
        "@media ",
        "print",
        "layer(",
        "supports(",
        "{",
        "}",
        ";",
        ":",
        ",",
        "/*",
        "*/",
        "image-set(",
        "-webkit-image-set(",
        "x.png",
        "a.css",
        "f.woff2",
        "data:",
        "#f",
        " ",
        "\n",
        "\r",
        "\u{c}",
        "1x",
        "é",
        "\u{1F600}",
        "</style>",
        "<!--",
        "-->",
        "\u{0}",
    ];
    prop::collection::vec(prop::sample::select(tokens), 0..60).prop_map(|t| t.concat())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 192,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_renderer_never_panics_on_any_text(s in any::<String>()) {
        let out = render_stored(&s, "p{}");
        prop_assert!(out.contains("citeguard-banner"));
        let _ = requisites(&s, &Url::parse("https://example.org/").unwrap());
        let _ = css_requisites(&s, &Url::parse("https://example.org/").unwrap());
    }

    #[test]
    fn the_renderer_never_panics_on_markup_soup(s in markup_soup()) {
        let out = render_stored(&s, "@import 'a.css'; p{background:url(x.png)}");
        assert_stable(&out);
    }

    #[test]
    fn the_renderer_never_panics_on_generated_pages(p in page()) {
        let out = render_stored(&p, "@font-face{src:url(f.woff2)} p{background:url(x.png)}");
        assert_stable(&out);
    }

    #[test]
    fn the_renderer_never_panics_on_style_sheets(css in css_soup()) {
        let _ = css_requisites(&css, &Url::parse("https://example.org/").unwrap());
        let page = format!(
            "<link rel=stylesheet href=a.css><style>{css}</style><p style=\"{}\">p</p><svg><rect fill=\"{}\"/></svg>",
            css.replace('"', "&quot;"),
            css.replace('"', "&quot;"),
        );
        let out = render_stored(&page, &css);
        assert_stable(&out);
    }
}

// ---- in a browser ----

/// The copies, opened in chromium by `open-offline.mjs`: what each did.
fn open_in_chromium(files: &[PathBuf]) -> Value {
    ensure_browser();
    let urls: Vec<String> = files
        .iter()
        .map(|f| format!("file://{}", f.display()))
        .collect();
    let out = Command::new("node")
        .arg(root().join("tests/browser/open-offline.mjs"))
        .args(&urls)
        .current_dir(root().join("tests/browser"))
        .output()
        .expect("running node");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "open-offline.mjs failed: {err}");
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// A store with the hostile pages checked, and what its commands wrote:
/// the `show --as html` copy of every payload on one page and of the
/// fuzzed page, the report, and the report's offline pages.
fn checked_hostile_store(web: &Web, dir: &Dir) -> Vec<PathBuf> {
    let all = web.url("/hostile/all");
    let fuzzed = web.url("/hostile/fuzzed");
    dir.write("post.md", format!("Cited: <{all}> and <{fuzzed}>.\n"));
    let check = dir.run([
        "check",
        "post.md",
        "--store",
        "s",
        "--format",
        "html",
        "-o",
        "report.html",
    ]);
    let code = check.status.code();
    assert!(
        matches!(code, Some(0 | 1)),
        "check: {code:?} {}",
        stderr(&check)
    );
    let mut files = vec![dir.join("report.html")];
    for (url, name) in [(&all, "all.html"), (&fuzzed, "fuzzed.html")] {
        let show = dir.run(["show", url, "--store", "s", "--as", "html", "-o", name]);
        assert_eq!(show.status.code(), Some(0), "show {url}: {}", stderr(&show));
        files.push(dir.join(name));
    }
    let pages = std::fs::read_dir(dir.join("report-offline")).expect("report-offline/");
    files.extend(pages.map(|p| p.unwrap().path()));
    files
}

#[test]
fn hostile_copies_neither_load_nor_navigate_in_chromium() {
    let web = Web::on("127.0.0.71");
    let dir = Dir::new();
    let mut files = checked_hostile_store(&web, &dir);
    assert!(files.len() >= 5, "{files:?}");
    for (name, markup) in PAYLOADS {
        let page = hostile::payload(markup, &web.base());
        let out = render(&page, &web.url(&format!("/hostile/{name}")));
        files.push(dir.write(&format!("payload-{name}.html"), out));
    }
    // Whatever reaches the server from here on came from a copy.
    let before = web.requests();
    let result = open_in_chromium(&files);
    let mut problems = Vec::new();
    for file in &files {
        let url = format!("file://{}", file.display());
        let name = file.file_name().unwrap().to_string_lossy();
        for pass in ["shipped", "no_csp"] {
            let seen = &result[&url][pass];
            for what in ["requests", "navigations", "dialogs", "popups"] {
                let list = seen[what].as_array().map(Vec::len);
                if list != Some(0) {
                    problems.push(format!("{name} ({pass}): {what} {}", seen[what]));
                }
            }
            let dom = &seen["dom"];
            for (what, want) in [("forms", 0), ("bases", 0), ("math", 0), ("frames", 0)] {
                if dom[what] != want {
                    problems.push(format!("{name} ({pass}): {what} = {}", dom[what]));
                }
            }
            if dom["metas"] != serde_json::json!(["Content-Security-Policy"]) {
                problems.push(format!("{name} ({pass}): metas {}", dom["metas"]));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(web.requests(), before, "the server was reached");
}

// ---- no panic from the commands ----

#[test]
fn the_fuzzed_page_is_shown_reported_and_checked_without_a_panic() {
    let web = Web::on("127.0.0.72");
    let dir = Dir::new();
    let url = web.url("/hostile/fuzzed");
    dir.write("post.md", format!("<{url}>\n"));
    let check = dir.run([
        "check",
        "post.md",
        "--store",
        "s",
        "--format",
        "html",
        "-o",
        "check.html",
    ]);
    assert!(
        matches!(check.status.code(), Some(0 | 1)),
        "{}",
        stderr(&check)
    );
    let report = dir.run([
        "report",
        "--store",
        "s",
        "--format",
        "html",
        "-o",
        "report.html",
    ]);
    assert!(
        matches!(report.status.code(), Some(0 | 1)),
        "{}",
        stderr(&report)
    );
    assert!(dir.read("report.html").contains("<html"));
    let show = dir.run(["show", &url, "--store", "s", "--as", "html"]);
    assert_eq!(show.status.code(), Some(0), "{}", stderr(&show));
    assert!(stdout(&show).contains("citeguard-banner"));
}

// ---- `-o FILE` is written whole or not at all ----

/// The directory's entries, so that a test sees any temporary file left.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Runs citeguard with `args` and `-o file`, which must fail (exit 2) and
/// leave `file` in `dir` as it was before the run.
fn fails_keeping(dir: &Dir, args: &[&str], file: &str) {
    let before = dir.read(file);
    let run = dir.run(args.iter().copied().chain(["-o", file]));
    assert_eq!(run.status.code(), Some(2), "{}", stderr(&run));
    assert_eq!(dir.read(file), before, "{args:?} changed {file}");
}

#[test]
fn a_failing_check_leaves_the_existing_report_as_it_was() {
    let dir = Dir::new();
    dir.write("post.md", "<http://127.0.0.73:9/x>\n");
    dir.write("report.html", "last night's report");
    // A store that cannot be opened: the run fails after its output is open.
    dir.write("not-a-store", "a file");
    let args = [
        "check",
        "post.md",
        "--store",
        "not-a-store",
        "--format",
        "html",
    ];
    fails_keeping(&dir, &args, "report.html");
    assert_eq!(
        entries(dir.path()),
        ["not-a-store", "post.md", "report.html"]
    );
}

#[test]
fn a_failing_report_leaves_the_existing_output_as_it_was() {
    let dir = Dir::new();
    dir.write("report.json", "{\"kept\": true}");
    std::fs::create_dir(dir.join("empty-store")).unwrap();
    for format in ["json", "html"] {
        let args = ["report", "--store", "empty-store", "--format", format];
        fails_keeping(&dir, &args, "report.json");
    }
    assert_eq!(dir.read("report.json"), "{\"kept\": true}");
    assert!(!entries(dir.path()).iter().any(|e| e.starts_with('.')));
}

#[test]
fn a_failing_show_or_export_leaves_the_existing_file_as_it_was() {
    let web = Web::on("127.0.0.74");
    let dir = Dir::new();
    dir.write("post.md", format!("<{}>\n", web.url("/ok")));
    let check = dir.run(["check", "post.md", "--store", "s"]);
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
    dir.write("copy.html", "an older copy");
    let show = [
        "show",
        "https://never.example/",
        "--store",
        "s",
        "--as",
        "html",
    ];
    fails_keeping(&dir, &show, "copy.html");
    assert_eq!(dir.read("copy.html"), "an older copy");

    std::fs::create_dir(dir.join("empty-store")).unwrap();
    dir.write("all.warc.gz", "an older archive");
    let export = dir.run(["export", "--store", "empty-store", "--warc", "all.warc.gz"]);
    assert_eq!(export.status.code(), Some(2), "{}", stderr(&export));
    assert_eq!(dir.read("all.warc.gz"), "an older archive");
    assert!(!entries(dir.path()).iter().any(|e| e.starts_with('.')));
}

#[test]
fn a_finished_run_replaces_the_whole_file() {
    let web = Web::on("127.0.0.75");
    let dir = Dir::new();
    let url = web.url("/ok");
    dir.write("post.md", format!("<{url}>\n"));
    let long = "x".repeat(1 << 20);
    dir.write("report.txt", &long);
    dir.write("copy.html", &long);
    let check = dir.run(["check", "post.md", "--store", "s", "-o", "report.txt"]);
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
    assert!(dir.read("report.txt").contains(&url));
    assert!(!dir.read("report.txt").contains("xxx"));
    let show = dir.run([
        "show",
        &url,
        "--store",
        "s",
        "--as",
        "html",
        "-o",
        "copy.html",
    ]);
    assert_eq!(show.status.code(), Some(0), "{}", stderr(&show));
    let shown = dir.run(["show", &url, "--store", "s", "--as", "html"]);
    assert_eq!(dir.read("copy.html"), stdout(&shown));
    assert!(!entries(dir.path()).iter().any(|e| e.starts_with('.')));
    assert!(stdout(&shown).contains("Prison break"));
}

#[test]
fn a_deeply_nested_page_renders_without_overflowing_the_stack() {
    // Deep enough for any recursion over the tree to overflow a test
    // thread's stack; html5ever's parse of it is already slow (quadratic in
    // the depth), so no deeper.
    let depth = 3_000;
    let page = format!(
        "{}deep{}",
        "<div><span>".repeat(depth),
        "</span></div>".repeat(depth)
    );
    let out = render(&page, "http://127.0.0.71:9/deep");
    assert!(out.contains("deep"));
}
