//! `citeguard check` end to end: the binary over posts on disk that cite
//! the test web, as a user would run it.

use crate::util::{Dir, json, stderr};
use crate::web::Web;

/// A post citing each of `links` in a sentence of its own, and one source
/// named without a link.
fn write_post(dir: &Dir, name: &str, links: &[String]) {
    let items: String = links
        .iter()
        .map(|u| format!("<p>As <a href=\"{u}\">this report</a> says, it happened.</p>\n"))
        .collect();
    let html = format!(
        "<!doctype html><html><body><article>\n{items}<p>According to Reuters, more arrests followed on Monday.</p>\n</article></body></html>\n"
    );
    dir.write(name, html);
}

#[test]
fn json_report_follows_the_contract_and_flags_exit_1() {
    let web = Web::on("127.0.0.7");
    let dir = Dir::new();
    write_post(
        &dir,
        "post.html",
        &[
            web.url("/ok"),
            web.url("/gone404"),
            web.url("/moved"),
            "mailto:x@example.org".into(),
        ],
    );
    let out = dir.run(["check", "post.html", "--format", "json", "--retries", "0"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "stderr not quiet: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["version"], 1);
    for key in ["id", "started_at", "finished_at"] {
        assert!(v["run"][key].is_string(), "run.{key}");
    }
    let s = &v["summary"];
    assert_eq!(
        (s["citations"].as_u64(), s["sources"].as_u64()),
        (Some(5), Some(3))
    );
    assert_eq!(
        (
            s["ok"].as_u64(),
            s["dead"].as_u64(),
            s["missing"].as_u64(),
            s["skipped"].as_u64()
        ),
        (Some(2), Some(1), Some(1), Some(1))
    );
    let rows = v["citations"].as_array().unwrap();
    let by_url = |suffix: &str| {
        rows.iter()
            .find(|r| r["url"].as_str().is_some_and(|u| u.ends_with(suffix)))
            .unwrap()
            .clone()
    };
    let dead = by_url("/gone404");
    assert_eq!(
        (
            dead["verdict"].as_str(),
            dead["reason"].as_str(),
            dead["status"].as_u64()
        ),
        (Some("dead"), Some("http-status"), Some(404))
    );
    assert_eq!(dead["post"], "post.html");
    assert_eq!(dead["line"], 3);
    assert_eq!(dead["kind"], "link");
    let moved = by_url("/moved");
    assert_eq!(
        (moved["verdict"].as_str(), moved["reason"].as_str()),
        (Some("ok"), Some("moved"))
    );
    assert!(
        moved["final_url"]
            .as_str()
            .unwrap()
            .ends_with("/new-home/story")
    );
    assert_eq!(moved["redirects"][0]["status"], 301);
    let unlinked = rows.iter().find(|r| r["kind"] == "unlinked").unwrap();
    assert_eq!(
        (unlinked["verdict"].as_str(), unlinked["reason"].as_str()),
        (Some("missing"), Some("no-link"))
    );
    assert!(unlinked["url"].is_null());
}

#[test]
fn one_url_cited_by_many_posts_is_fetched_once() {
    let web = Web::on("127.0.0.8");
    let dir = Dir::new();
    for i in 0..20 {
        // The same source, written several ways.
        let links = vec![
            web.url("/ok"),
            format!("{}?utm_source=post{i}", web.url("/ok")),
            format!("{}#section-{i}", web.url("/ok")),
        ];
        write_post(&dir, &format!("post-{i}.html"), &links);
    }
    let out = dir.run(["check", ".", "--format", "json", "--fail-on", "dead"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["summary"]["citations"], 80);
    assert_eq!(v["summary"]["sources"], 1);
    assert_eq!(web.hits("/ok"), 1);
}

#[test]
fn text_report_groups_by_verdict_and_says_why_in_words() {
    let web = Web::on("127.0.0.9");
    let dir = Dir::new();
    write_post(
        &dir,
        "post.html",
        &[web.url("/gone410"), web.url("/soft404"), web.url("/ok")],
    );
    let out = dir.run(["check", "post.html"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text.contains("dead (2)"), "{text}");
    assert!(
        text.contains("the server says the page is gone (HTTP 410)"),
        "{text}"
    );
    assert!(
        text.contains("a \"not found\" page served as a success"),
        "{text}"
    );
    assert!(
        text.contains("4 citations, 3 sources: 1 ok, 2 dead, 0 changed, 1 missing"),
        "{text}"
    );
    assert!(!text.contains('\x1b'), "colour when not a terminal");
}

#[test]
fn an_unreadable_input_is_named_and_the_rest_still_checked() {
    let dir = Dir::new();
    dir.write("good.md", "Source: the [wire](mailto:desk@example.org).\n");
    let out = dir.run(["check", "missing.html", "good.md", "--format", "json"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("missing.html"), "{err}");
    let v = json(&out);
    assert_eq!(v["citations"][0]["post"], "good.md");
}

/// A post citing a domain that no longer exists, checked with the
/// resolver's answers set in `citeguard.toml`: the canary (a name that must
/// exist) resolves or not. No query leaves the machine.
fn check_a_vanished_domain(canary_resolves: bool) -> serde_json::Value {
    let dir = Dir::new();
    let canary = citeguard::fetch::resolve::CANARY;
    let answers = if canary_resolves {
        format!("no_such_host = [\"gone.example\"]\nresolve = {{ \"{canary}\" = \"127.0.0.1\" }}\n")
    } else {
        format!("no_such_host = [\"gone.example\", \"{canary}\"]\n")
    };
    dir.write("citeguard.toml", format!("[fetch]\n{answers}"));
    dir.write(
        "post.md",
        "The [ministry's statement](http://gone.example/2010/08/statement.html).\n",
    );
    let out = dir.run(["check", "post.md", "--no-store", "--format", "json"]);
    let report = json(&out);
    let expected = if canary_resolves { 1 } else { 0 };
    assert_eq!(out.status.code(), Some(expected), "{report}");
    report
}

#[test]
fn a_domain_that_no_longer_exists_is_dead_when_the_resolver_works() {
    let report = check_a_vanished_domain(true);
    let c = &report["citations"][0];
    assert_eq!(
        (c["verdict"].as_str(), c["reason"].as_str()),
        (Some("dead"), Some("dns")),
        "{c}"
    );
}

#[test]
fn an_offline_machine_never_makes_a_citation_dead() {
    let report = check_a_vanished_domain(false);
    let c = &report["citations"][0];
    assert_eq!(
        (c["verdict"].as_str(), c["reason"].as_str()),
        (Some("unreachable"), Some("dns-temporary")),
        "{c}"
    );
}
