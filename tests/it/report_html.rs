//! The HTML report of the sample report, read as text and used in a real
//! browser.
//!
//! The browser test renders the report to a file and runs
//! `tests/browser/check-report.mjs` in headless chromium (installed by
//! `.ci/setup-browser` when missing), which clicks, types and sorts, blocks
//! and counts any request that is not a local file, and prints what it saw.

use std::path::Path;
use std::process::Command;

use citeguard::model::*;
use citeguard::report::{Format, RenderOptions, render, strip_controls};
use serde_json::Value;

use crate::sample::{EVIL_POST, MONITOR, NYT, NYT_ARCHIVED, STORE, report};
use crate::util::{Dir, root};

fn html() -> String {
    let mut out = Vec::new();
    render(&report(), Format::Html, &RenderOptions::default(), &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// `post:line` of a row, the key the browser test compares by.
fn key(post: &str, line: usize) -> String {
    format!("{}:{line}", strip_controls(post))
}

/// Every row's key, filtered and ordered by the given rules.
fn expected(
    keep: impl Fn(&CitationResult) -> bool,
    order: impl Fn(&CitationResult, &CitationResult) -> std::cmp::Ordering,
) -> Vec<String> {
    let report = report();
    let mut rows: Vec<&CitationResult> = report.citations.iter().filter(|c| keep(c)).collect();
    rows.sort_by(|a, b| order(a, b));
    rows.iter().map(|c| key(&c.post, c.line)).collect()
}

/// Worst first, as the page orders rows until a column head is clicked.
fn rank(v: Verdict) -> u8 {
    match v {
        Verdict::Dead => 5,
        Verdict::Missing => 4,
        Verdict::Changed => 3,
        Verdict::Unreachable => 2,
        Verdict::Skipped => 1,
        Verdict::Ok => 0,
    }
}

fn by_where(a: &CitationResult, b: &CitationResult) -> std::cmp::Ordering {
    strip_controls(&a.post)
        .cmp(&strip_controls(&b.post))
        .then(a.line.cmp(&b.line))
}

fn by_verdict(a: &CitationResult, b: &CitationResult) -> std::cmp::Ordering {
    rank(b.verdict)
        .cmp(&rank(a.verdict))
        .then_with(|| by_where(a, b))
}

fn by_url(a: &CitationResult, b: &CitationResult) -> std::cmp::Ordering {
    let url = |c: &CitationResult| c.url.as_deref().map(strip_controls).unwrap_or_default();
    url(a).cmp(&url(b)).then_with(|| by_where(a, b))
}

// ---- the page as text ----

#[test]
fn html_escapes_every_tag_and_quote_that_came_from_a_post() {
    let h = html();
    // Ours is the only script element, and no injected tag survives.
    assert_eq!(h.matches("<script").count(), 1, "{h}");
    assert!(!h.contains("<img"), "{h}");
    assert!(!h.contains("<i>tagged"), "{h}");
    assert!(h.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(h.contains("&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"));
    assert!(h.contains("it&#39;s &quot;quoted&quot; &amp; &lt;i&gt;tagged&lt;/i&gt;"));
    assert!(h.contains("<option value=\"posts/&lt;img src=x onerror=alert(5)&gt;.md\">"));
    assert!(h.contains("&lt;b&gt;be&lt;/b&gt; | forgotten"));
}

#[test]
fn html_never_carries_terminal_escapes() {
    let h = html();
    assert!(!h.contains('\u{1b}'));
    assert!(h.contains("http://evil.example/[31mred[0m"));
}

#[test]
fn html_links_only_http_sources_and_the_store() {
    let h = html();
    let href = regex::Regex::new(r#"href="([^"]*)""#).unwrap();
    let hrefs: Vec<&str> = href
        .captures_iter(&h)
        .map(|c| c.get(1).unwrap().as_str())
        .collect();
    assert!(!hrefs.is_empty());
    for u in &hrefs {
        assert!(
            u.starts_with("http://") || u.starts_with("https://") || u.starts_with(STORE),
            "unexpected link {u}"
        );
    }
    assert!(!h.contains("href=\"javascript"));
    assert!(!h.contains("href=\"mailto"));
    assert!(h.contains("rel=\"noopener noreferrer\" target=\"_blank\""));
    // The offline copy: the command to show it and a link into the store.
    assert!(h.contains(&format!(
        "<code>citeguard show &#39;{NYT}&#39; --as html</code>"
    )));
    assert!(h.contains(&format!("href=\"{STORE}/objects/aa/{}\"", "a".repeat(62))));
}

#[test]
fn html_holds_no_url_but_the_citations_and_their_copies() {
    let h = html();
    let r = report();
    let mut allowed: Vec<String> = r
        .citations
        .iter()
        .flat_map(|c| {
            [
                c.url.clone(),
                c.final_url.clone(),
                c.archived.as_ref().map(|a| a.url.clone()),
            ]
        })
        .flatten()
        .map(|u| strip_controls(&u))
        .collect();
    allowed.extend(r.recovered.iter().map(|x| strip_controls(&x.url)));
    let any_url = regex::Regex::new(r#"(?i)https?://[^\s"'<>&]+"#).unwrap();
    for m in any_url.find_iter(&h) {
        assert!(
            allowed.iter().any(|a| a.starts_with(m.as_str())),
            "a URL that no citation gave: {}",
            m.as_str()
        );
    }
    // Nothing is loaded: no stylesheet, script or image from anywhere, and
    // the page's policy says so too.
    assert!(h.contains("content=\"default-src 'none'; style-src 'sha256-"));
    assert!(!h.contains("<link"));
    assert!(!h.contains(" src=\""));
    assert!(!h.contains("<iframe"));
    assert!(!h.contains("@import"));
}

#[test]
fn html_says_why_with_the_store_evidence() {
    let h = html();
    assert!(h.contains("404 since 2026-11-02, 3 checks"), "{h}");
    // The short form names no cause: the full sentence follows it.
    assert!(
        h.contains("3 checks</p><p class=\"more\">the server says the page is gone (HTTP 404"),
        "{h}"
    );
    assert!(h.contains("still broken since 2026-11-02"));
    assert!(h.contains("text 41% similar to the copy of 2010-08-25"));
    assert!(h.contains("quoted passage no longer on the page"));
    assert!(h.contains("About 25 prisoners escaped"));
    assert!(h.contains(&format!(
        "suggested replacement: <a href=\"{NYT_ARCHIVED}\" rel=\"noopener noreferrer\" target=\"_blank\">archived copy of 2010-08-25</a>"
    )));
    assert!(h.contains("<span class=\"change change-new\">new</span>"));
    assert!(h.contains("<details class=\"diff\">"));
    assert!(h.contains("<del>turn up the heat on the administration</del>"));
    assert!(h.contains("<ins>&lt;b&gt;be&lt;/b&gt; | forgotten `soon`</ins>"));
    assert!(h.contains("Recovered since last run"));
    assert!(h.contains(MONITOR));
    assert!(h.contains(&format!("<code>{STORE}</code>")));
    assert!(h.contains("20261124T120000Z-0001"));
}

#[test]
fn html_lists_flagged_citations_first() {
    let h = html();
    let line = regex::Regex::new(r#"<tr class="row [^"]*" data-verdict="[^"]*" data-rank="\d+" data-post="([^"]*)" data-line="(\d+)""#).unwrap();
    let got: Vec<String> = line
        .captures_iter(&h)
        .map(|c| format!("{}:{}", unescape(&c[1]), &c[2]))
        .collect();
    assert_eq!(got, expected(|_| true, by_verdict));
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

// ---- the page in a browser ----

/// Installs chromium and playwright-core with the project's own script
/// when either is missing.
pub(crate) fn ensure_browser() {
    let root = root();
    if Path::new("/usr/bin/chromium").exists()
        && root
            .join("tests/browser/node_modules/playwright-core")
            .is_dir()
    {
        return;
    }
    let status = Command::new("bash")
        .arg(root.join(".ci/setup-browser"))
        .current_dir(&root)
        .status()
        .expect("running .ci/setup-browser");
    assert!(status.success(), ".ci/setup-browser failed: {status}");
}

fn rows_of(step: &Value) -> Vec<String> {
    step["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            key(
                r["post"].as_str().unwrap(),
                r["line"].as_u64().unwrap() as usize,
            )
        })
        .collect()
}

fn step<'a>(result: &'a Value, name: &str) -> &'a Value {
    result["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no step {name} in {result}"))
}

fn assert_clean(result: &Value, pass: &str) {
    let p = &result[pass];
    for field in ["requests", "dialogs", "errors", "console"] {
        assert_eq!(
            p[field].as_array().map(Vec::len),
            Some(0),
            "{pass}.{field} should be empty: {}",
            p[field]
        );
    }
}

#[test]
fn html_report_filters_searches_and_sorts_in_chromium_offline() {
    ensure_browser();
    let dir = Dir::new();
    let file = dir.write("report.html", html());
    let url = format!("file://{}", file.display());
    let out = Command::new("node")
        .arg(root().join("tests/browser/check-report.mjs"))
        .arg(&url)
        .current_dir(root().join("tests/browser"))
        .output()
        .expect("running node");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "check-report.mjs failed: {stderr}");
    let result: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));

    // Nothing left the machine, nothing alerted, nothing broke: as shipped,
    // with the page's policy bypassed (escaping alone), and without scripts.
    assert_clean(&result, "shipped");
    assert_clean(&result, "no_csp");
    assert_clean(&result, "no_js");

    let all = expected(|_| true, by_verdict);
    assert_eq!(rows_of(step(&result, "initial")), all);
    assert_eq!(result["shown"], "12 of 12 citations shown");
    assert_eq!(result["controls_visible"], true);
    assert_eq!(
        rows_of(step(&result, "dead")),
        expected(|c| c.verdict == Verdict::Dead, by_verdict)
    );
    assert_eq!(
        rows_of(step(&result, "dead")),
        [
            key(EVIL_POST, 1),
            key("posts/evil.md", 5),
            key("posts/tajik.html", 62)
        ]
    );
    assert_eq!(
        rows_of(step(&result, "dead+changed")),
        expected(
            |c| matches!(c.verdict, Verdict::Dead | Verdict::Changed),
            by_verdict
        )
    );
    assert_eq!(rows_of(step(&result, "all")), all);
    assert_eq!(
        rows_of(step(&result, "search:tajik")),
        expected(|c| c.post == "posts/tajik.html", by_verdict)
    );
    assert_eq!(
        rows_of(step(&result, "search:similar")),
        [key("posts/tajik.html", 68)]
    );

    let by_url_rows = rows_of(step(&result, "sort:url"));
    assert_eq!(by_url_rows, expected(|_| true, by_url));
    assert_ne!(by_url_rows, all);
    let mut reversed = by_url_rows.clone();
    reversed.reverse();
    assert_eq!(rows_of(step(&result, "sort:url-desc")), reversed);
    assert_eq!(
        rows_of(step(&result, "sort:where")),
        expected(|_| true, by_where)
    );
    assert_eq!(rows_of(step(&result, "post:first")), [key(EVIL_POST, 1)]);

    // The URL with terminal escapes reached the page without them.
    let urls: Vec<&str> = step(&result, "initial")["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["url"].as_str())
        .collect();
    assert!(urls.contains(&"http://evil.example/[31mred[0m"), "{urls:?}");

    // Without scripting every row is there and the dead controls are not.
    assert_eq!(result["no_js"]["rows"], 12);
    assert_eq!(result["no_js"]["controls_visible"], false);
    assert_eq!(result["no_csp"]["rows"], 12);
}
