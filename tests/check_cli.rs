//! `citeguard check` end to end: the binary over posts on disk that cite a
//! loopback web, as a user would run it.

mod common;

use std::process::Command;

use common::*;

fn citeguard(args: &[&str], dir: &std::path::Path) -> std::process::Output {
    // No test asks a real web archive.
    let mut args = args.to_vec();
    if args.first() == Some(&"check") {
        args.insert(1, "--no-memento");
    }
    Command::new(env!("CARGO_BIN_EXE_citeguard"))
        .args(&args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn write_post(dir: &std::path::Path, name: &str, links: &[String]) {
    let items: String = links
        .iter()
        .map(|u| format!("<p>As <a href=\"{u}\">this report</a> says, it happened.</p>\n"))
        .collect();
    let html = format!(
        "<!doctype html><html><body><article>\n{items}<p>According to Reuters, more arrests followed on Monday.</p>\n</article></body></html>\n"
    );
    std::fs::write(dir.join(name), html).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn json_report_follows_the_contract_and_flags_exit_1() {
    let web = publisher_on("127.0.0.7").await;
    let dir = tempfile::tempdir().unwrap();
    write_post(
        dir.path(),
        "post.html",
        &[
            web.url("/ok"),
            web.url("/gone404"),
            web.url("/moved"),
            "mailto:x@example.org".into(),
        ],
    );
    let out = tokio::task::spawn_blocking({
        let d = dir.path().to_path_buf();
        move || {
            citeguard(
                &["check", "post.html", "--format", "json", "--retries", "0"],
                &d,
            )
        }
    })
    .await
    .unwrap();
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

#[tokio::test(flavor = "multi_thread")]
async fn one_url_cited_by_many_posts_is_fetched_once() {
    let web = publisher_on("127.0.0.8").await;
    let dir = tempfile::tempdir().unwrap();
    for i in 0..20 {
        // The same source, written several ways.
        let links = vec![
            web.url("/ok"),
            format!("{}?utm_source=post{i}", web.url("/ok")),
            format!("{}#section-{i}", web.url("/ok")),
        ];
        write_post(dir.path(), &format!("post-{i}.html"), &links);
    }
    let out = tokio::task::spawn_blocking({
        let d = dir.path().to_path_buf();
        move || citeguard(&["check", ".", "--format", "json", "--fail-on", "dead"], &d)
    })
    .await
    .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["summary"]["citations"], 80);
    assert_eq!(v["summary"]["sources"], 1);
    assert_eq!(web.counters.hits("/ok"), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn text_report_groups_by_verdict_and_says_why_in_words() {
    let web = publisher_on("127.0.0.9").await;
    let dir = tempfile::tempdir().unwrap();
    write_post(
        dir.path(),
        "post.html",
        &[web.url("/gone410"), web.url("/soft404"), web.url("/ok")],
    );
    let out = tokio::task::spawn_blocking({
        let d = dir.path().to_path_buf();
        move || citeguard(&["check", "post.html"], &d)
    })
    .await
    .unwrap();
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
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("good.md"),
        "Source: the [wire](mailto:desk@example.org).\n",
    )
    .unwrap();
    let out = citeguard(
        &["check", "missing.html", "good.md", "--format", "json"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("missing.html"), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["citations"][0]["post"], "good.md");
}
