//! Every report format rendered from one report that holds every kind of
//! row and hostile text: each must keep its structure and escape what came
//! from a post or a server.

use citeguard::model::*;
use citeguard::report::{Format, RenderOptions, render};

fn row(
    post: &str,
    line: usize,
    url: Option<&str>,
    text: &str,
    verdict: Verdict,
    reason: Reason,
    status: Option<u16>,
) -> CitationResult {
    let kind = if url.is_some() {
        Kind::Link
    } else {
        Kind::Unlinked
    };
    CitationResult {
        status,
        ..CitationResult::new(
            post,
            line,
            url.map(String::from),
            text,
            kind,
            verdict,
            reason,
        )
    }
}

fn report() -> Report {
    let citations = vec![
        row(
            "posts/tajik.html",
            62,
            Some("http://www.nytimes.com/2010/08/24/world/asia/24tajik.html"),
            "NYT",
            Verdict::Dead,
            Reason::HttpStatus,
            Some(404),
        ),
        row(
            "posts/tajik.html",
            64,
            None,
            "reported by <b>AFP</b> & co",
            Verdict::Missing,
            Reason::NoLink,
            None,
        ),
        row(
            "posts/tajik.html",
            66,
            Some("http://tajikistanmonitor.blogspot.com/2010/08/x.html"),
            "Tajikistan Monitor",
            Verdict::Ok,
            Reason::Ok,
            Some(200),
        ),
        row(
            "posts/evil.md",
            3,
            Some("http://evil.example/\u{1b}[31mred\u{1b}[0m"),
            "<script>alert(1)</script> | *bold* [x](y)",
            Verdict::Unreachable,
            Reason::Http5xx,
            Some(503),
        ),
        row(
            "posts/evil.md",
            4,
            Some("mailto:desk@example.org"),
            "mail us",
            Verdict::Skipped,
            Reason::Scheme,
            None,
        ),
    ];
    let mut summary = Summary {
        sources: 4,
        ..Summary::default()
    };
    for c in &citations {
        summary.count(c.verdict);
    }
    Report {
        version: 1,
        run: RunInfo {
            id: "20261124T120000Z-0001".into(),
            started_at: "2026-11-24T12:00:00Z".into(),
            finished_at: "2026-11-24T12:00:05Z".into(),
        },
        summary,
        citations,
        recovered: Vec::new(),
        store: None,
    }
}

fn rendered(format: Format) -> String {
    let opts = RenderOptions {
        color: false,
        fail_on: vec![Verdict::Dead, Verdict::Changed, Verdict::Missing],
    };
    let mut out = Vec::new();
    render(&report(), format, &opts, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn text_never_carries_terminal_escapes_from_a_url() {
    let t = rendered(Format::Text);
    assert!(!t.contains('\u{1b}'), "{t}");
    assert!(t.contains("http://evil.example/[31mred[0m"));
    assert!(t.contains(
        "5 citations, 4 sources: 1 ok, 1 dead, 0 changed, 1 missing, 1 unreachable, 1 skipped"
    ));
}

#[test]
fn json_round_trips_to_the_same_report() {
    let j = rendered(Format::Json);
    let back: Report = serde_json::from_str(&j).unwrap();
    assert_eq!(back, report());
}

#[test]
fn markdown_is_an_issue_body_with_escaped_cells() {
    let m = rendered(Format::Markdown);
    assert!(
        m.starts_with("## citeguard: 3 of 5 citations need attention"),
        "{m}"
    );
    assert!(m.contains("### posts/tajik.html"));
    assert!(m.contains("| 62 | **dead** `http-status` | NYT | [http://www.nytimes.com/2010/08/24/world/asia/24tajik.html](http://www.nytimes.com/2010/08/24/world/asia/24tajik.html) |"), "{m}");
    assert!(!m.contains("<script>"), "{m}");
    assert!(
        m.contains("&lt;script&gt;alert\\(1\\)&lt;/script&gt; \\| \\*bold\\* \\[x\\]\\(y\\)"),
        "{m}"
    );
    assert!(!m.contains('\u{1b}'));
    // ok and skipped rows are not listed
    assert!(!m.contains("Tajikistan Monitor"));
    // every table row has the same number of unescaped cell separators
    for line in m.lines().filter(|l| l.contains("| **")) {
        let cells = line.replace("\\|", "").matches('|').count();
        assert_eq!(cells, 6, "{line}");
    }
}

#[test]
fn junit_is_xml_with_a_case_per_citation_and_failures_for_flagged_ones() {
    let x = rendered(Format::Junit);
    let mut reader = quick_xml::Reader::from_str(&x);
    let (mut cases, mut failures, mut skipped, mut located) = (0, 0, 0, Vec::new());
    loop {
        match reader.read_event().expect("well-formed XML") {
            quick_xml::events::Event::Eof => break,
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                match e.name().as_ref() {
                    b"testcase" => {
                        cases += 1;
                        let attr = |n: &str| {
                            e.try_get_attribute(n)
                                .unwrap()
                                .map(|a| a.unescape_value().unwrap().into_owned())
                        };
                        located.push((attr("file").unwrap(), attr("line").unwrap()));
                    }
                    b"failure" => failures += 1,
                    b"skipped" => skipped += 1,
                    _ => {}
                }
            }
            _ => {}
        }
    }
    assert_eq!(cases, 5);
    assert_eq!(failures, 2, "dead and missing fail");
    assert_eq!(skipped, 2, "unreachable and skipped are not failures");
    assert!(located.contains(&("posts/tajik.html".to_string(), "62".to_string())));
    assert!(
        x.contains("reported by &lt;b&gt;AFP&lt;/b&gt; &amp; co"),
        "{x}"
    );
    assert!(!x.contains("<script>"));
    assert!(!x.contains('\u{1b}'));
}

#[test]
fn sarif_locates_each_flagged_citation_at_its_post_and_line() {
    let v: serde_json::Value = serde_json::from_str(&rendered(Format::Sarif)).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 3, "dead, missing, unreachable");
    let dead = results
        .iter()
        .find(|r| r["ruleId"] == "dead/http-status")
        .unwrap();
    assert_eq!(dead["level"], "error");
    let loc = &dead["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "posts/tajik.html");
    assert_eq!(loc["region"]["startLine"], 62);
    let rules: Vec<&str> = v["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"missing/no-link"));
    assert!(!serde_json::to_string(&v).unwrap().contains('\u{1b}'));
}

#[test]
fn github_annotations_point_at_the_citing_line() {
    let mut out = Vec::new();
    citeguard::report::github::render(&report(), &[Verdict::Dead, Verdict::Missing], &mut out)
        .unwrap();
    let a = String::from_utf8(out).unwrap();
    assert!(a.lines().any(|l| l.starts_with("::error file=posts/tajik.html,line=62,title=citation dead%3A http-status::\"NYT\" http://www.nytimes.com")), "{a}");
    assert!(
        a.lines()
            .any(|l| l.starts_with("::warning file=posts/evil.md,line=3,")),
        "{a}"
    );
    assert_eq!(a.lines().count(), 3);
}
