//! Every report format but HTML rendered from the sample report: each must
//! keep its structure, say what happened in words and escape what came
//! from a post or a server.

use citeguard::model::*;
use citeguard::report::{Format, RenderOptions, render};

use crate::sample::{EURASIANET, MONITOR, NYT, NYT_ARCHIVED, STORE, report};

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
    assert!(t.contains("http://back.example/[2J|*x*  (was dead)"), "{t}");
    assert!(t.trim_end().lines().last().unwrap().starts_with(
        "12 citations, 11 sources: 1 ok, 3 dead, 3 changed, 2 missing, 1 unreachable, 2 skipped"
    ));
    assert!(
        t.trim_end()
            .ends_with("; since last run: 5 new, 3 still flagged, 2 recovered"),
        "{t}"
    );
}

#[test]
fn text_in_colour_paints_only_with_its_own_escapes() {
    let opts = RenderOptions {
        color: true,
        fail_on: Vec::new(),
    };
    let mut out = Vec::new();
    render(&report(), Format::Text, &opts, &mut out).unwrap();
    let t = String::from_utf8(out).unwrap();
    assert!(t.contains("\u{1b}[31mdead\u{1b}[0m"), "{t}");
    assert!(t.contains("http://evil.example/[31mred[0m\n"), "{t}");
    let ours = ["1m", "2m", "31m", "32m", "33m", "35m", "36m", "1;33m", "0m"];
    for (i, _) in t.match_indices('\u{1b}') {
        let rest = &t[i + 1..];
        assert!(
            ours.iter()
                .any(|code| rest.starts_with(&format!("[{code}"))),
            "a foreign escape at {i}: {:?}",
            &t[i..(i + 12).min(t.len())]
        );
    }
}

#[test]
fn text_groups_each_post_by_verdict_most_severe_first() {
    let t = rendered(Format::Text);
    let tajik = &t[t
        .find("posts/tajik.html  (7 citations, 6 need attention)")
        .expect(&t)..];
    let at = |s: &str| tajik.find(s).unwrap_or_else(|| panic!("{s} in {tajik}"));
    assert!(at("  dead (1)") < at("  missing (2)"));
    assert!(at("  missing (2)") < at("  changed (3)"));
    assert!(at("  changed (3)") < at("  ok (1)"));
    assert!(t.find("posts/evil.md").unwrap() < t.find("posts/tajik.html").unwrap());
}

#[test]
fn text_says_why_since_when_and_where_the_copies_are() {
    let t = rendered(Format::Text);
    for words in [
        "    line 62    NYT  [still broken since 2026-11-02]",
        "the server says the page is gone (HTTP 404 since 2026-11-02, 3 checks)",
        &format!("suggested replacement: {NYT_ARCHIVED} (archived 2010-08-25)"),
        &format!("offline copy of 2010-08-25: citeguard show '{NYT}' --as html"),
        "    line 68    Eurasianet  [new]",
        "text 41% similar to the copy of 2010-08-25",
        "removed: \"turn up the heat on the administration\"",
        "added: \"<b>be</b> | forgotten `soon`\"",
        "quoted passage no longer on the page: \"About 25 prisoners escaped\"",
        "was an article on 2010-08-25, now application/pdf",
        "the stored copy is gone or corrupt",
        "unreachable on 3 checks since 2026-11-02 (last: connection refused)",
        "    line 64    reported by <b>AFP</b> & co  [still missing]",
        "    line 66    Tajikistan Monitor  [recovered]",
        "recovered since last run (2)",
        &format!("  posts/tajik.html  {MONITOR}  (was unreachable)"),
    ] {
        assert!(t.contains(words), "{words:?} in\n{t}");
    }
    // ok and skipped rows need nothing: no offline copy or replacement
    let ok = &t[t.find("line 66").unwrap()..];
    assert!(!ok.lines().take(3).any(|l| l.contains("offline copy")));
}

#[test]
fn json_round_trips_to_the_same_report() {
    let j = rendered(Format::Json);
    let back: Report = serde_json::from_str(&j).unwrap();
    assert_eq!(back, report());
}

#[test]
fn json_carries_history_changes_copies_diffs_and_recoveries() {
    let v: serde_json::Value = serde_json::from_str(&rendered(Format::Json)).unwrap();
    let rows = v["citations"].as_array().unwrap();
    let at = |line: u64| rows.iter().find(|r| r["line"] == line).unwrap();
    let nyt = at(62);
    assert_eq!(nyt["history"]["failing_since"], "2026-11-02T03:00:00Z");
    assert_eq!(nyt["history"]["consecutive_failures"], 3);
    assert_eq!(nyt["change"], "still");
    assert_eq!(nyt["archived"]["url"], NYT_ARCHIVED);
    assert_eq!(nyt["archived"]["datetime"], "2010-08-25T00:00:00Z");
    assert_eq!(nyt["offline"]["baseline_at"], "2010-08-25T09:00:00Z");
    assert_eq!(
        nyt["offline"]["show"],
        format!("citeguard show '{NYT}' --as html")
    );
    assert_eq!(nyt["post_date"], "2010-08-25");
    let drift = at(68);
    assert_eq!(drift["change"], "new");
    assert_eq!(drift["diff"][1]["op"], "delete");
    assert_eq!(drift["diff"][2]["op"], "insert");
    assert_eq!(at(66)["change"], "recovered");
    // fields without a value are left out, not null
    assert!(at(4).get("offline").is_none() && at(4).get("diff").is_none());
    assert_eq!(v["recovered"][1]["was"], "dead");
    assert_eq!(v["recovered"][0]["url"], MONITOR);
    assert_eq!(v["store"], STORE);
}

#[test]
fn markdown_is_an_issue_body_with_escaped_cells() {
    let m = rendered(Format::Markdown);
    assert!(
        m.starts_with("## citeguard: 9 of 12 citations need attention\n"),
        "{m}"
    );
    assert!(m.contains("Since the last run: **5 new**, 3 still flagged, 2 recovered."));
    assert!(m.contains("### posts/tajik.html"));
    assert!(!m.contains("<script>") && !m.contains("<b>"), "{m}");
    assert!(
        m.contains("&lt;script&gt;alert\\(1\\)&lt;/script&gt; \\| \\*bold\\* \\[x\\]\\(y\\)"),
        "{m}"
    );
    assert!(!m.contains('\u{1b}'));
    // ok and skipped rows are not listed
    assert!(!m.contains("Tajikistan Monitor") && !m.contains("mail us"));
    // the counts table keeps its shape
    let counts: Vec<&str> = m.lines().filter(|l| l.starts_with('|')).collect();
    assert_eq!(counts.len(), 3);
    for line in counts {
        assert_eq!(line.replace("\\|", "").matches('|').count(), 8, "{line}");
    }
}

#[test]
fn markdown_puts_what_is_new_first_then_a_task_list_per_post() {
    let m = rendered(Format::Markdown);
    let at = |s: &str| m.find(s).unwrap_or_else(|| panic!("{s:?} in\n{m}"));
    assert!(at("### New since last run") < at("### posts/tajik.html"));
    assert!(at("### posts/tajik.html") < at("### Recovered since last run"));
    assert!(m.contains(&format!(
        "- [ ] line 62: **dead** `http-status` [NYT]({NYT}) — the server says the page is gone \\(HTTP 404 since 2026-11-02, 3 checks\\) *(still broken since 2026-11-02)*; suggested replacement: [https://web.archive.org/web/20100825000000/http://www.nytim…]({NYT_ARCHIVED}) (archived 2010-08-25); offline copy of 2010-08-25: `citeguard show '{NYT}' --as html`\n"
    )), "{m}");
    assert!(m.contains(&format!(
        "- [ ] posts/tajik.html, line 68: **changed** `content-drift` [Eurasianet]({EURASIANET}) — text 41% similar to the copy of 2010-08-25;"
    )), "{m}");
    assert!(
        m.contains("  - added: \"&lt;b&gt;be&lt;/b&gt; \\| forgotten \\`soon\\`\"\n"),
        "{m}"
    );
    assert!(m.contains("was an article on 2010-08-25, now application/pdf"));
    assert!(m.contains(&format!(
        "- [x] posts/tajik.html: [{MONITOR}]({MONITOR}) (was **unreachable**)"
    )));
    // each flagged citation has exactly one checkbox
    assert_eq!(m.matches("- [ ] ").count(), 9, "{m}");
    assert_eq!(m.matches("line 62:").count(), 1);
}

#[test]
fn markdown_escapes_code_spans_mentions_and_links_from_hostile_sources() {
    let m = rendered(Format::Markdown);
    // backticks in a command cannot close its code span
    assert!(
        m.contains("``citeguard show 'http://down.example/`whoami`' --as html``"),
        "{m}"
    );
    // an anchor text cannot run code, mention a team or reference an issue
    assert!(
        m.contains(
            "[\\`rm -rf /\\` @\u{2060}admins \\#\u{2060}1](http://down.example/%60whoami%60)"
        ),
        "{m}"
    );
    assert!(!m.contains("@admins") && !m.contains("#1"));
    // an archive's answer that is no web address is shown, never linked
    assert!(
        m.contains("suggested replacement: `javascript:alert(1)`"),
        "{m}"
    );
    assert!(!m.contains("](javascript:"));
    // a pipe in a URL cannot split anything; controls are gone
    assert!(m.contains("(http://back.example/[2J%7C*x*)"), "{m}");
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
    assert_eq!(cases, 12);
    assert_eq!(failures, 8, "dead, changed and missing fail");
    assert_eq!(skipped, 3, "unreachable and skipped are not failures");
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
    assert_eq!(results.len(), 9, "dead, changed, missing, unreachable");
    let dead = results
        .iter()
        .find(|r| {
            r["ruleId"] == "dead/http-status"
                && r["message"]["text"].as_str().unwrap().contains(NYT)
        })
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
    assert_eq!(a.lines().count(), 9);
}
