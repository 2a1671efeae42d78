//! Scheduled checks end to end: nightly runs over a local web, simulated
//! across days with the run clock injected (`CITEGUARD_NOW`), the report
//! command over the store, Memento replacements and Robust Links.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

fn citeguard(args: &[String], dir: &Path, now: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_citeguard"));
    cmd.args(args).current_dir(dir).env("NO_COLOR", "1");
    match now {
        Some(t) => cmd.env("CITEGUARD_NOW", t),
        None => cmd.env_remove("CITEGUARD_NOW"),
    };
    cmd.output().unwrap()
}

async fn run(args: Vec<String>, dir: PathBuf, now: Option<String>) -> Output {
    tokio::task::spawn_blocking(move || citeguard(&args, &dir, now.as_deref()))
        .await
        .unwrap()
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\nstderr: {}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

/// A publisher whose flaky host fails while `down` is set, and whose
/// `/gone` page is removed while `gone` is set.
struct Web {
    down: AtomicBool,
    gone: AtomicBool,
}

async fn serve(State(web): State<Arc<Web>>, uri: Uri) -> Response {
    let page = |t: &str| {
        (
            [(header::CONTENT_TYPE, "text/html")],
            format!(
                "<html><body><article><p>{}</p></article></body></html>",
                t.repeat(30)
            ),
        )
            .into_response()
    };
    match uri.path() {
        "/flaky" if web.down.load(Ordering::SeqCst) => {
            (StatusCode::SERVICE_UNAVAILABLE, "try later").into_response()
        }
        "/flaky" => page("The flaky host's report on the floods. "),
        "/gone" if web.gone.load(Ordering::SeqCst) => {
            (StatusCode::NOT_FOUND, "no such page").into_response()
        }
        "/gone" => page("The ministry's statement on the dam. "),
        "/fine" => page("A page that stays. "),
        _ => (StatusCode::NOT_FOUND, "no such page").into_response(),
    }
}

async fn start(ip: &str) -> (Arc<Web>, String) {
    let web = Arc::new(Web {
        down: AtomicBool::new(false),
        gone: AtomicBool::new(false),
    });
    let app = Router::new().fallback(serve).with_state(web.clone());
    let listener = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (web, format!("http://{addr}"))
}

fn nightly(store: &Path) -> Vec<String> {
    let mut v = strings(&[
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
    ]);
    v.push(store.display().to_string());
    v
}

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

#[tokio::test(flavor = "multi_thread")]
async fn nightly_runs_report_breakage_once_and_a_flaky_host_is_dead_only_by_the_rule() {
    let (web, base) = start("127.0.0.50").await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    let store = d.join("store");
    std::fs::write(
        d.join("post.md"),
        format!(
            "Floods: [report]({base}/flaky). Dam: [statement]({base}/gone). \
             Also [this]({base}/fine).\n"
        ),
    )
    .unwrap();

    // Night 1: all fine.
    let o = run(nightly(&store), d.clone(), Some(night(1))).await;
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    // Night 2: the flaky host is down and a page is removed. Both are new;
    // the 404 is dead at once, the 503 only unreachable.
    web.down.store(true, Ordering::SeqCst);
    web.gone.store(true, Ordering::SeqCst);
    let o = run(nightly(&store), d.clone(), Some(night(2))).await;
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
        let o = run(nightly(&store), d.clone(), Some(night(n))).await;
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
    let o = run(
        strings(&["report", "--store", store.to_str().unwrap()]),
        d.clone(),
        None,
    )
    .await;
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("still broken"), "{text}");
    assert!(text.contains("since 2026-11-02"), "{text}");

    // Night 5: four failing checks over three days: now the rule says
    // dead, and that is new once.
    let o = run(nightly(&store), d.clone(), Some(night(5))).await;
    let r = json(&o);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        listed(&r),
        owned(&[("/flaky", "dead", "persistent-failure")])
    );
    let o = run(nightly(&store), d.clone(), Some(night(6))).await;
    assert_eq!(o.status.code(), Some(0));
    assert!(listed(&json(&o)).is_empty());

    // Night 7: the host is back: recovered, and listed as such.
    web.down.store(false, Ordering::SeqCst);
    let o = run(nightly(&store), d.clone(), Some(night(7))).await;
    let r = json(&o);
    assert_eq!(o.status.code(), Some(0));
    let recovered = r["recovered"].as_array().unwrap();
    assert_eq!(recovered.len(), 1, "{r}");
    assert!(recovered[0]["url"].as_str().unwrap().ends_with("/flaky"));
    assert_eq!(recovered[0]["was"], "dead");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_host_failing_all_day_is_not_dead_before_the_days_have_passed() {
    let (web, base) = start("127.0.0.52").await;
    web.down.store(true, Ordering::SeqCst);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    let store = d.join("store");
    std::fs::write(d.join("post.md"), format!("[report]({base}/flaky)\n")).unwrap();
    for hour in 0..6 {
        let mut args = nightly(&store);
        args.retain(|a| a != "--new-only");
        let now = format!("2026-11-10T{:02}:00:00Z", hour * 4);
        let o = run(args, d.clone(), Some(now)).await;
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

/// A Memento TimeGate: every URL has copies from 2009, 2010 and 2020.
async fn timegate(
    State(seen): State<Arc<Mutex<Vec<String>>>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let path = uri.path().trim_start_matches('/');
    if let Some(rest) = path.strip_prefix("web/") {
        // A memento itself.
        let stamp = &rest[..14];
        let date = chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%d%H%M%S")
            .unwrap()
            .and_utc();
        return (
            [("memento-datetime", httpdate::fmt_http_date(date.into()))],
            "archived",
        )
            .into_response();
    }
    if let Some(asked) = headers.get("accept-datetime").and_then(|v| v.to_str().ok()) {
        seen.lock().unwrap().push(asked.to_string());
    }
    let original = path.strip_prefix("gate/").unwrap_or(path);
    let links: Vec<String> = ["20090301000000", "20100825120000", "20200101000000"]
        .iter()
        .map(|s| {
            let t = chrono::NaiveDateTime::parse_from_str(s, "%Y%m%d%H%M%S")
                .unwrap()
                .and_utc();
            format!(
                "<http://{host}/web/{s}/{original}>; rel=\"memento\"; datetime=\"{}\"",
                httpdate::fmt_http_date(t.into())
            )
        })
        .collect();
    (
        StatusCode::FOUND,
        [
            (
                header::LOCATION,
                format!("http://{host}/web/20200101000000/{original}"),
            ),
            (header::LINK, links.join(", ")),
        ],
    )
        .into_response()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dead_citation_gets_the_archived_copy_closest_to_the_post_date() {
    let (web, base) = start("127.0.0.53").await;
    web.gone.store(true, Ordering::SeqCst);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let app = Router::new().fallback(timegate).with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind(("127.0.0.54", 0))
        .await
        .unwrap();
    let gate = format!("http://{}/gate/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    std::fs::write(
        d.join("post.md"),
        format!(
            "---\ntitle: Dam\ndate: 2010-08-26\n---\n\nThe [statement]({base}/gone) and \
             [the <b>report</b>]({base}/fine).\n"
        ),
    )
    .unwrap();
    let args = vec![
        "check".to_string(),
        "post.md".into(),
        "--format".into(),
        "json".into(),
        "--retries".into(),
        "0".into(),
        "--store".into(),
        "store".into(),
        "--memento-endpoint".into(),
        gate.clone(),
        "--robust-links".into(),
    ];
    let o = run(args, d.clone(), None).await;
    let r = json(&o);
    let dead = r["citations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["verdict"] == "dead")
        .unwrap();
    let archived = dead["archived"]["url"].as_str().unwrap();
    assert!(archived.contains("/web/20100825120000/"), "{dead}");
    assert_eq!(dead["post_date"], "2010-08-26");
    assert!(
        seen.lock().unwrap().iter().any(|a| a.contains("2010")),
        "Accept-Datetime carries the post's date: {:?}",
        seen.lock().unwrap()
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
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!("data-originalurl=\"{base}/gone\""))
            && err.contains("data-versiondate=\"2010-08-25\""),
        "{err}"
    );

    // The text report offers the replacement.
    let o = run(strings(&["report", "--store", "store"]), d.clone(), None).await;
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("suggested replacement"), "{text}");
    assert!(text.contains("/web/20100825120000/"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn report_renders_the_last_run_in_every_format_and_refuses_bad_stores() {
    let (web, base) = start("127.0.0.55").await;
    web.gone.store(true, Ordering::SeqCst);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    std::fs::write(
        d.join("post.md"),
        format!("[gone]({base}/gone) and [fine]({base}/fine)\n"),
    )
    .unwrap();

    // Before any run: no store, then a store with no finished run.
    let o = run(strings(&["report", "--store", "store"]), d.clone(), None).await;
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("no such store"), "{err}");
    assert_eq!(err.lines().count(), 1);
    let o = run(
        strings(&["accept", "http://127.0.0.55/none", "--store", "store"]),
        d.clone(),
        None,
    )
    .await;
    assert_eq!(o.status.code(), Some(2));
    let o = run(strings(&["report", "--store", "store"]), d.clone(), None).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no finished run"));

    let mut check = strings(&["check", "post.md", "--no-memento", "--retries", "0"]);
    check.extend(strings(&["--store", "store", "--format", "json"]));
    let o = run(check, d.clone(), None).await;
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
        let o = run(
            strings(&["report", "--store", "store", "--format", format]),
            d.clone(),
            None,
        )
        .await;
        assert_eq!(o.status.code(), Some(1), "{format}");
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            out.to_lowercase().contains(&marker.to_lowercase()),
            "{format}: {out}"
        );
        if format == "json" {
            assert_eq!(json(&o)["run"]["id"], checked["run"]["id"]);
        }
    }

    // Usage errors: an unknown format, an output directory that is not there.
    let o = run(
        strings(&["report", "--store", "store", "--format", "pdf"]),
        d.clone(),
        None,
    )
    .await;
    assert_eq!(o.status.code(), Some(2));
    let o = run(
        strings(&["report", "--store", "store", "--output", "nowhere/r.html"]),
        d.clone(),
        None,
    )
    .await;
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("nowhere") && err.contains("does not exist"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1);

    // A store written by a newer citeguard is refused, not misread.
    let index = d.join("store/index.sqlite");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", index.display()))
        .await
        .unwrap();
    sqlx::query("UPDATE runs SET report = replace(report, '\"version\":1', '\"version\":99')")
        .execute(&pool)
        .await
        .unwrap();
    let o = run(strings(&["report", "--store", "store"]), d.clone(), None).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("newer citeguard"));
    sqlx::query("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let o = run(strings(&["report", "--store", "store"]), d.clone(), None).await;
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("newer citeguard") && err.contains("schema 99"),
        "{err}"
    );
}
