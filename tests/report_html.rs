//! The HTML report, read as text and used in a real browser. One report
//! holds every verdict, a store's evidence (history, offline copies, a diff,
//! an archived copy, a recovered citation) and hostile text: a `<script>`
//! anchor text, a post named like a tag, a URL with terminal escapes, a
//! `javascript:` link.
//!
//! The browser test renders the report to a file and runs
//! `tests/browser/check-report.mjs` in headless chromium (installed by
//! `.ci/setup-browser` when missing), which clicks, types and sorts, blocks
//! and counts any request that is not a local file, and prints what it saw.

use std::path::{Path, PathBuf};
use std::process::Command;

use citeguard::model::*;
use citeguard::report::{Format, RenderOptions, render, strip_controls};
use citeguard::schedule::Change;
use serde_json::Value;

const STORE: &str = "/var/lib/citeguard/store";
const NYT: &str = "http://www.nytimes.com/2010/08/24/world/asia/24tajik.html";
const NYT_ARCHIVED: &str = "http://web.archive.org/web/20100826000000/http://www.nytimes.com/2010/08/24/world/asia/24tajik.html";
const RFERL: &str = "https://www.rferl.org/a/tajikistan-prison-break/2131.html";
const ANSI_URL: &str = "http://evil.example/\u{1b}[31mred\u{1b}[0m";
const EVIL_POST: &str = "posts/<img src=x onerror=alert(5)>.md";
const RECOVERED: &str = "https://eurasianet.org/tajikistan-prison-break";

fn row(
    post: &str,
    line: usize,
    url: Option<&str>,
    text: &str,
    verdict: Verdict,
    reason: Reason,
) -> CitationResult {
    let kind = if url.is_some() {
        Kind::Link
    } else {
        Kind::Unlinked
    };
    CitationResult::new(
        post,
        line,
        url.map(String::from),
        text,
        kind,
        verdict,
        reason,
    )
}

fn report() -> Report {
    let tajik = "posts/tajik.html";
    let reading = "posts/reading.md";
    let evil = "posts/evil.md";
    let citations = vec![
        CitationResult {
            status: Some(404),
            history: Some(SourceHistory {
                first_seen: Some("2026-10-01T03:00:00Z".into()),
                last_ok: Some("2026-11-01T03:00:00Z".into()),
                consecutive_failures: 3,
                failing_since: Some("2026-11-02T03:00:00Z".into()),
                checks: 12,
            }),
            change: Some(Change::Still),
            offline: Some(Offline {
                baseline: Some("ab".repeat(32)),
                baseline_at: Some("2010-08-25T10:00:00Z".into()),
                latest: None,
                latest_at: None,
                show: format!("citeguard show {NYT}"),
                path: Some(format!("objects/ab/{}", "ab".repeat(31))),
                page: None,
            }),
            archived: Some(Memento {
                url: NYT_ARCHIVED.into(),
                datetime: "2010-08-26T00:00:00Z".into(),
            }),
            post_date: Some("2010-08-25".into()),
            ..row(
                tajik,
                62,
                Some(NYT),
                "NYT",
                Verdict::Dead,
                Reason::HttpStatus,
            )
        },
        row(
            tajik,
            64,
            None,
            "reported by AFP",
            Verdict::Missing,
            Reason::NoLink,
        ),
        CitationResult {
            status: Some(200),
            ..row(
                tajik,
                66,
                Some("http://tajikistanmonitor.blogspot.com/2010/08/x.html"),
                "Tajikistan Monitor",
                Verdict::Ok,
                Reason::Ok,
            )
        },
        CitationResult {
            status: Some(200),
            similarity: Some(0.41),
            change: Some(Change::New),
            offline: Some(Offline {
                baseline_at: Some("2010-08-25T09:00:00Z".into()),
                show: format!("citeguard show {RFERL}"),
                ..Offline::default()
            }),
            diff: vec![
                DiffSpan {
                    op: DiffOp::Equal,
                    text: "Twenty-five militants ".into(),
                },
                DiffSpan {
                    op: DiffOp::Delete,
                    text: "escaped from a prison <b>".into(),
                },
                DiffSpan {
                    op: DiffOp::Insert,
                    text: "were moved to another prison".into(),
                },
                DiffSpan {
                    op: DiffOp::Equal,
                    text: " in Dushanbe.".into(),
                },
            ],
            ..row(
                tajik,
                70,
                Some(RFERL),
                "Radio Free Europe",
                Verdict::Changed,
                Reason::ContentDrift,
            )
        },
        CitationResult {
            change: Some(Change::New),
            ..row(
                reading,
                3,
                Some("https://gone.example/essay"),
                "an essay",
                Verdict::Dead,
                Reason::Dns,
            )
        },
        CitationResult {
            quote: Some("Cite what you read, not what you heard.".into()),
            quote_found: Some(false),
            ..row(
                reading,
                5,
                Some("https://essays.example.org/on-citing"),
                "On citing",
                Verdict::Changed,
                Reason::QuoteMissing,
            )
        },
        CitationResult {
            detail: Some("mailto".into()),
            ..row(
                reading,
                8,
                Some("mailto:desk@example.org"),
                "write to us",
                Verdict::Skipped,
                Reason::Scheme,
            )
        },
        row(
            reading,
            10,
            Some("https://www.rust-lang.org/"),
            "Rust",
            Verdict::Ok,
            Reason::Ok,
        ),
        CitationResult {
            status: Some(503),
            ..row(
                evil,
                3,
                Some(ANSI_URL),
                "<script>alert(1)</script>",
                Verdict::Unreachable,
                Reason::Http5xx,
            )
        },
        CitationResult {
            detail: Some("javascript".into()),
            ..row(
                evil,
                4,
                Some("javascript:alert(3)"),
                "\"><img src=x onerror=alert(2)>",
                Verdict::Skipped,
                Reason::Scheme,
            )
        },
        CitationResult {
            status: Some(410),
            ..row(
                EVIL_POST,
                1,
                Some("https://x.example/'\"><script>alert(6)</script>"),
                "it's \"quoted\" & <i>tagged</i>",
                Verdict::Dead,
                Reason::HttpStatus,
            )
        },
    ];
    let mut summary = Summary {
        sources: 10,
        ..Summary::default()
    };
    for c in &citations {
        summary.count(c.verdict);
    }
    Report {
        version: Report::VERSION,
        run: RunInfo {
            id: "20261124T120000Z-0001".into(),
            started_at: "2026-11-24T12:00:00Z".into(),
            finished_at: "2026-11-24T12:00:05Z".into(),
        },
        summary,
        citations,
        still: Vec::new(),
        recovered: vec![Recovered {
            post: "posts/tajik.html".into(),
            url: RECOVERED.into(),
            was: Verdict::Dead,
        }],
        store: Some(STORE.into()),
    }
}

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
    assert!(h.contains("escaped from a prison &lt;b&gt;"));
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
    assert!(h.contains(&format!("<code>citeguard show {NYT}</code>")));
    assert!(h.contains(&format!("href=\"{STORE}/objects/ab/{}\"", "ab".repeat(31))));
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
    allowed.extend(r.recovered.iter().map(|x| x.url.clone()));
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
    assert!(h.contains("Cite what you read, not what you heard."));
    assert!(h.contains(&format!(
        "suggested replacement: <a href=\"{NYT_ARCHIVED}\" rel=\"noopener noreferrer\" target=\"_blank\">archived copy of 2010-08-26</a>"
    )));
    assert!(h.contains("<span class=\"change change-new\">new</span>"));
    assert!(h.contains("<details class=\"diff\">"));
    assert!(h.contains("<del>escaped from a prison &lt;b&gt;</del>"));
    assert!(h.contains("<ins>were moved to another prison</ins>"));
    assert!(h.contains("Recovered since last run"));
    assert!(h.contains(RECOVERED));
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

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Installs chromium and playwright-core with the project's own script
/// when either is missing.
fn ensure_browser() {
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
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.html");
    std::fs::write(&file, html()).unwrap();
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
    assert_eq!(result["shown"], "11 of 11 citations shown");
    assert_eq!(result["controls_visible"], true);
    assert_eq!(
        rows_of(step(&result, "dead")),
        expected(|c| c.verdict == Verdict::Dead, by_verdict)
    );
    assert_eq!(
        rows_of(step(&result, "dead")),
        [
            key(EVIL_POST, 1),
            key("posts/reading.md", 3),
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
        [key("posts/tajik.html", 70)]
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
    assert_eq!(result["no_js"]["rows"], 11);
    assert_eq!(result["no_js"]["controls_visible"], false);
    assert_eq!(result["no_csp"]["rows"], 11);
}
