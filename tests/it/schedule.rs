//! Scheduled checks end to end: nightly runs over the test web, simulated
//! across days with the run clock injected (`CITEGUARD_NOW`), the report
//! command over the store, Memento replacements and Robust Links.

use crate::util::{Dir, json, stderr, stdout};
use crate::web::Web;

/// A nightly run, as the README sets it up.
const NIGHTLY: [&str; 12] = [
    "check",
    "post.md",
    "--new-only",
    "--format",
    "json",
    "--no-memento",
    "--retries",
    "0",
    "--host-delay",
    "0",
    "--store",
    "store",
];

fn night(n: u32) -> String {
    format!("2026-11-{:02}T03:00:00Z", n)
}

fn listed(report: &serde_json::Value) -> Vec<(String, String, String)> {
    report["citations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let url = c["url"].as_str().unwrap();
            (
                url[url.rfind('/').unwrap()..].to_string(),
                c["verdict"].as_str().unwrap().to_string(),
                c["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn owned(list: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    list.iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect()
}

#[test]
fn nightly_runs_report_breakage_once_and_a_flaky_host_is_dead_only_by_the_rule() {
    let web = Web::on("127.0.0.50");
    let base = web.base();
    let dir = Dir::new();
    dir.write(
        "post.md",
        format!(
            "Floods: [report]({base}/flaky). Dam: [statement]({base}/gone). \
             Also [this]({base}/fine).\n"
        ),
    );
    let nightly = |n: u32| dir.citeguard(NIGHTLY).now(&night(n)).run();

    // Night 1: all fine.
    let o = nightly(1);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    // Night 2: the flaky host is down and a page is removed. Both are new;
    // the 404 is dead at once, the 503 only unreachable.
    web.set_down(true);
    web.set_gone(true);
    let o = nightly(2);
    let r = json(&o);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        listed(&r),
        owned(&[
            ("/flaky", "unreachable", "http-5xx"),
            ("/gone", "dead", "http-status")
        ])
    );

    // Nights 3 and 4: still broken, so nothing is listed and nothing fails;
    // the report still says what is broken and since when. Three failing
    // checks span only two days by night 4: not dead yet.
    for n in [3, 4] {
        let o = nightly(n);
        let r = json(&o);
        assert_eq!(o.status.code(), Some(0), "night {n}: {r}");
        assert!(listed(&r).is_empty(), "night {n}: {r}");
        let still = r["still"].as_array().unwrap();
        assert_eq!(still.len(), 2, "night {n}: {r}");
        let flaky = still
            .iter()
            .find(|s| s["url"].as_str().unwrap().ends_with("/flaky"))
            .unwrap();
        assert_eq!(flaky["verdict"], "unreachable", "night {n}");
        assert_eq!(flaky["since"], night(2));
    }

    // The same report in text says so in words.
    let o = dir.run(["report", "--store", "store"]);
    let text = stdout(&o);
    assert!(text.contains("still broken"), "{text}");
    assert!(text.contains("since 2026-11-02"), "{text}");

    // Night 5: four failing checks over three days: now the rule says
    // dead, and that is new once.
    let o = nightly(5);
    let r = json(&o);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        listed(&r),
        owned(&[("/flaky", "dead", "persistent-failure")])
    );
    let o = nightly(6);
    assert_eq!(o.status.code(), Some(0));
    assert!(listed(&json(&o)).is_empty());

    // Night 7: the host is back: recovered, and listed as such.
    web.set_down(false);
    let o = nightly(7);
    let r = json(&o);
    assert_eq!(o.status.code(), Some(0));
    let recovered = r["recovered"].as_array().unwrap();
    assert_eq!(recovered.len(), 1, "{r}");
    assert!(recovered[0]["url"].as_str().unwrap().ends_with("/flaky"));
    assert_eq!(recovered[0]["was"], "dead");
}

#[test]
fn a_host_failing_all_day_is_not_dead_before_the_days_have_passed() {
    let web = Web::on("127.0.0.52");
    web.set_down(true);
    let dir = Dir::new();
    dir.write("post.md", format!("[report]({})\n", web.url("/flaky")));
    let mut args = NIGHTLY.to_vec();
    args.retain(|a| *a != "--new-only");
    for hour in 0..6 {
        let now = format!("2026-11-10T{:02}:00:00Z", hour * 4);
        let o = dir.citeguard(&args).now(&now).run();
        let r = json(&o);
        assert_eq!(
            listed(&r),
            owned(&[("/flaky", "unreachable", "http-5xx")]),
            "check {hour}"
        );
        assert_eq!(
            r["citations"][0]["history"]["consecutive_failures"],
            hour + 1
        );
    }
}

#[test]
fn a_dead_citation_gets_the_archived_copy_closest_to_the_post_date() {
    let web = Web::on("127.0.0.53");
    let base = web.base();
    web.set_gone(true);
    // An archive that redirects to a far capture and lists the others.
    let archive = Web::on("127.0.0.54");
    let gate = archive.url("/archive/lazy/");

    let dir = Dir::new();
    dir.write(
        "post.md",
        format!(
            "---\ntitle: Dam\ndate: 2010-08-26\n---\n\nThe [statement]({base}/gone) and \
             [the <b>report</b>]({base}/fine).\n"
        ),
    );
    let o = dir.run([
        "check",
        "post.md",
        "--format",
        "json",
        "--retries",
        "0",
        "--store",
        "store",
        "--memento-endpoint",
        &gate,
        "--robust-links",
    ]);
    let r = json(&o);
    let dead = r["citations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["verdict"] == "dead")
        .unwrap();
    let archived = dead["archived"]["url"].as_str().unwrap();
    assert!(archived.contains("/web/20100820120000/"), "{dead}");
    assert_eq!(dead["post_date"], "2010-08-26");
    let asked = archive.asked_dates();
    assert!(
        asked.iter().any(|a| a.contains("2010")),
        "Accept-Datetime carries the post's date: {asked:?}"
    );
    let fine = r["citations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["verdict"] == "ok")
        .unwrap();
    assert!(
        fine.get("archived").is_none(),
        "only dead ones get a replacement"
    );
    let err = stderr(&o);
    assert!(
        err.contains(&format!("data-originalurl=\"{base}/gone\""))
            && err.contains("data-versiondate=\"2010-08-20\""),
        "{err}"
    );

    // The text report offers the replacement.
    let o = dir.run(["report", "--store", "store"]);
    let text = stdout(&o);
    assert!(text.contains("suggested replacement"), "{text}");
    assert!(text.contains("/web/20100820120000/"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn report_renders_the_last_run_in_every_format_and_refuses_bad_stores() {
    let web = Web::on("127.0.0.55");
    web.set_gone(true);
    let dir = Dir::new();
    dir.write(
        "post.md",
        format!(
            "[gone]({}) and [fine]({})\n",
            web.url("/gone"),
            web.url("/fine")
        ),
    );
    let report = |extra: &[&str]| {
        let mut args = vec!["report", "--store", "store"];
        args.extend(extra);
        dir.run(&args)
    };

    // Before any run: no store, then a store with no finished run.
    let o = report(&[]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("no such store"), "{err}");
    assert_eq!(err.lines().count(), 1);
    let o = dir.run(["accept", "http://127.0.0.55/none", "--store", "store"]);
    assert_eq!(o.status.code(), Some(2));
    let o = report(&[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no finished run"));

    let o = dir.run([
        "check",
        "post.md",
        "--no-memento",
        "--retries",
        "0",
        "--store",
        "store",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let checked = json(&o);

    // The same run, with no network, in every format.
    for (format, marker) in [
        ("text", "dead"),
        ("json", "\"verdict\": \"dead\""),
        ("markdown", "- [ ]"),
        ("html", "<!doctype html>"),
        ("junit", "<testsuites"),
        ("sarif", "\"version\": \"2.1.0\""),
    ] {
        let o = report(&["--format", format]);
        assert_eq!(o.status.code(), Some(1), "{format}");
        let out = stdout(&o);
        assert!(
            out.to_lowercase().contains(&marker.to_lowercase()),
            "{format}: {out}"
        );
        if format == "json" {
            assert_eq!(json(&o)["run"]["id"], checked["run"]["id"]);
        }
    }

    // Usage errors: an unknown format, an output directory that is not there.
    let o = report(&["--format", "pdf"]);
    assert_eq!(o.status.code(), Some(2));
    let o = report(&["--output", "nowhere/r.html"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("nowhere") && err.contains("does not exist"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1);

    // A store written by a newer citeguard is refused, not misread.
    let index = dir.join("store/index.sqlite");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", index.display()))
        .await
        .unwrap();
    // (The run's row names its report; a report written in the row as
    // JSON, as older stores keep it, is read too.)
    let mut newer = checked.clone();
    newer["version"] = 99.into();
    sqlx::query("UPDATE runs SET report = $1 WHERE report IS NOT NULL")
        .bind(newer.to_string())
        .execute(&pool)
        .await
        .unwrap();
    let o = report(&[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("newer citeguard"));
    sqlx::query("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let o = report(&[]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("newer citeguard") && err.contains("schema 99"),
        "{err}"
    );
}
