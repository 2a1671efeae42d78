//! The archive end to end: `check` twice over a local web whose pages change
//! between runs, then `diff`, `accept`, `show`, `verify`, `export`, the
//! store's lock, a run killed with SIGKILL, and a full disk.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

fn citeguard(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_citeguard"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A long article, so that one sentence is a small part of it.
fn article(topic: &str, extra: &str) -> String {
    let mut s = String::new();
    for i in 0..12 {
        s.push_str(&format!(
            "<p>Paragraph {i} on {topic}: the committee met again on day {i} and heard \
             evidence from engineers, farmers and officials about water levels, costs and \
             the schedule of the works in the valley downstream of the reservoir.</p>"
        ));
        if i == 5 {
            s.push_str(extra);
        }
    }
    s
}

const QUOTE: &str =
    "The government will not negotiate with the escaped prisoners under any circumstances";

/// The pages of the changing web, by phase (1: as cited, 2: a later day).
struct Web {
    phase: AtomicU32,
    loads: AtomicU32,
    not_modified: AtomicUsize,
    script_hits: AtomicUsize,
    requests: AtomicUsize,
    /// Pages served with a delay, for the kill test.
    slow: bool,
    /// Signals the test after this many requests.
    trip: Mutex<Option<(usize, tokio::sync::oneshot::Sender<()>)>>,
}

fn page(head: &str, body: &str) -> String {
    format!(
        "<!doctype html><html><head><meta charset=utf-8><title>T</title>{head}</head><body>\
         <nav><a href='/'>Home</a> <a href='/about'>About</a></nav><article>{body}</article>\
         <footer>Copyright the publisher</footer></body></html>"
    )
}

fn html(s: String) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], s).into_response()
}

async fn serve(State(web): State<Arc<Web>>, uri: Uri, headers: HeaderMap) -> Response {
    let n = web.requests.fetch_add(1, Ordering::SeqCst) + 1;
    {
        let mut trip = web.trip.lock().unwrap();
        if trip.as_ref().is_some_and(|(at, _)| n >= *at)
            && let Some((_, tx)) = trip.take()
        {
            let _ = tx.send(());
        }
    }
    if web.slow {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let phase = web.phase.load(Ordering::SeqCst);
    let load = web.loads.fetch_add(1, Ordering::SeqCst);
    match uri.path() {
        "/stable" => {
            // Bytes differ on every load; the text a reader sees does not.
            let head = "<link rel=stylesheet href=/style.css><script src=/track.js></script>";
            let body = format!(
                "<div class=ad>Advertisement {load}</div><form><input type=hidden name=csrf \
                 value=tok{load}x{phase}></form>{}<img src=/pixel.png alt=chart>\
                 <p class=stamp>Generated in {load} ms</p>",
                article("the Rogun dam", "")
            );
            html(page(head, &body))
        }
        "/drift" => html(page(
            "",
            &if phase == 1 {
                article("the Rogun dam", "")
            } else {
                "<p>This domain is for sale. Contact the broker for offers on premium names, \
                 hosting packages and parking pages.</p>"
                    .repeat(3)
            },
        )),
        "/quoted" => html(page(
            "",
            &article(
                "the prison escape",
                &if phase == 1 {
                    format!("<p>{QUOTE}, the minister said on Monday.</p>")
                } else {
                    String::new()
                },
            ),
        )),
        "/misquote" => html(page("", &article("the border", ""))),
        "/typed" => {
            if phase == 1 {
                html(page("", &article("the timeline", "")))
            } else {
                (
                    [(header::CONTENT_TYPE, "application/pdf")],
                    b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n".to_vec(),
                )
                    .into_response()
            }
        }
        "/etag" => {
            if headers
                .get(header::IF_NONE_MATCH)
                .is_some_and(|v| v.as_bytes() == b"\"v1\"")
            {
                web.not_modified.fetch_add(1, Ordering::SeqCst);
                return (StatusCode::NOT_MODIFIED, [(header::ETAG, "\"v1\"")]).into_response();
            }
            (
                [
                    (header::CONTENT_TYPE, "text/html"),
                    (header::ETAG, "\"v1\""),
                ],
                page("", &article("the archive", "")),
            )
                .into_response()
        }
        "/old-etag" => {
            (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, "/etag")]).into_response()
        }
        "/style.css" => (
            [(header::CONTENT_TYPE, "text/css")],
            "body { font-family: serif; background: url(/bg.png) }",
        )
            .into_response(),
        "/pixel.png" | "/bg.png" => {
            ([(header::CONTENT_TYPE, "image/png")], PNG.to_vec()).into_response()
        }
        "/track.js" => {
            web.script_hits.fetch_add(1, Ordering::SeqCst);
            ([(header::CONTENT_TYPE, "text/javascript")], "alert(1)").into_response()
        }
        p if p.starts_with("/many/") => html(page(
            "",
            &format!("{}<p>{}</p>", article(p, ""), "x".repeat(4000)),
        )),
        _ => (StatusCode::NOT_FOUND, "no such page").into_response(),
    }
}

/// A 1x1 transparent PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];

async fn start(ip: &str, slow: bool) -> (Arc<Web>, String) {
    let web = Arc::new(Web {
        phase: AtomicU32::new(1),
        loads: AtomicU32::new(0),
        not_modified: AtomicUsize::new(0),
        script_hits: AtomicUsize::new(0),
        requests: AtomicUsize::new(0),
        slow,
        trip: Mutex::new(None),
    });
    let app = Router::new().fallback(serve).with_state(web.clone());
    let listener = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (web, format!("http://{addr}"))
}

fn write_post(dir: &Path, base: &str) {
    let html = format!(
        "<!doctype html><html><head><title>Prison break</title></head><body><article>\n\
         <p>The <a href=\"{base}/stable\">ministry statement</a> says so.</p>\n\
         <p>As <a href=\"{base}/drift\">the report on the dam</a> explains.</p>\n\
         <blockquote cite=\"{base}/quoted\"><p>{QUOTE}.</p></blockquote>\n\
         <p>See <a href=\"{base}/typed\">the timeline</a>.</p>\n\
         <p>See <a href=\"{base}/etag\">the archive page</a>.</p>\n\
         <p>And <a href=\"{base}/old-etag\">its old address</a>.</p>\n\
         <blockquote cite=\"{base}/misquote\"><p>The border will reopen next spring for all \
         traders and their trucks.</p></blockquote>\n\
         </article></body></html>\n"
    );
    std::fs::write(dir.join("post.html"), html).unwrap();
}

/// Runs a blocking command off the test's runtime (the web runs on it).
async fn run(args: Vec<String>, dir: PathBuf) -> Output {
    tokio::task::spawn_blocking(move || {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        citeguard(&a, &dir)
    })
    .await
    .unwrap()
}

fn check_args(store: &Path, extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = [
        "check",
        "post.html",
        "--format",
        "json",
        "--no-memento",
        "--retries",
        "0",
        "--host-delay",
        "0",
        "--store",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.push(store.display().to_string());
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// The verdict and reason of the citation whose URL ends with `path`.
fn verdict(report: &serde_json::Value, path: &str) -> (String, String) {
    let c = report["citations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["url"].as_str().is_some_and(|u| u.ends_with(path)))
        .unwrap_or_else(|| panic!("no citation of {path}"));
    (
        c["verdict"].as_str().unwrap().to_string(),
        c["reason"].as_str().unwrap().to_string(),
    )
}

fn citation<'a>(report: &'a serde_json::Value, path: &str) -> &'a serde_json::Value {
    report["citations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["url"].as_str().is_some_and(|u| u.ends_with(path)))
        .unwrap()
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\nstderr: {}", stdout(o), stderr(o)))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_changing_web_is_judged_on_its_text_and_the_archive_serves_it() {
    let (web, base) = start("127.0.0.40", false).await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    let store = d.join("store");
    write_post(&d, &base);

    // Run 1: everything is as cited; every source gets its baseline.
    let first = run(check_args(&store, &[]), d.clone()).await;
    let r1 = json(&first);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    for p in [
        "/stable",
        "/drift",
        "/quoted",
        "/typed",
        "/etag",
        "/misquote",
    ] {
        assert_eq!(verdict(&r1, p), ("ok".into(), "ok".into()), "{p}");
        assert!(
            citation(&r1, p)["snapshot"].is_string(),
            "{p} has a baseline"
        );
    }
    assert_eq!(citation(&r1, "/quoted")["quote_found"], true);
    let misquote = citation(&r1, "/misquote");
    assert_eq!(misquote["quote_found"], false);
    assert!(
        misquote["detail"].as_str().unwrap().contains("misquote"),
        "{misquote}"
    );
    assert_eq!(
        web.script_hits.load(Ordering::SeqCst),
        0,
        "scripts are never fetched"
    );

    // Run 2: a later day. Cosmetic churn, real changes, a 304.
    web.phase.store(2, Ordering::SeqCst);
    let second = run(check_args(&store, &[]), d.clone()).await;
    let r2 = json(&second);
    assert_eq!(second.status.code(), Some(1), "{}", stderr(&second));
    assert_eq!(verdict(&r2, "/stable"), ("ok".into(), "ok".into()));
    let sim = citation(&r2, "/stable")["similarity"].as_f64().unwrap();
    assert!(sim > 0.9, "cosmetic churn only: {sim}");
    assert_eq!(
        verdict(&r2, "/drift"),
        ("changed".into(), "content-drift".into())
    );
    assert!(citation(&r2, "/drift")["similarity"].as_f64().unwrap() < 0.5);
    assert!(
        !citation(&r2, "/drift")["diff"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        verdict(&r2, "/quoted"),
        ("changed".into(), "quote-missing".into())
    );
    assert_eq!(citation(&r2, "/quoted")["quote_found"], false);
    assert_eq!(
        verdict(&r2, "/typed"),
        ("changed".into(), "type-changed".into())
    );
    assert_eq!(verdict(&r2, "/etag"), ("ok".into(), "ok".into()));
    assert_eq!(
        web.not_modified.load(Ordering::SeqCst),
        2,
        "a recheck is conditional, behind a redirect too"
    );
    let history = &citation(&r2, "/drift")["history"];
    assert_eq!(history["checks"], 2);
    assert_eq!(citation(&r2, "/drift")["change"], "new");

    // A person reads the diff, then accepts the new text.
    let diff = run(
        args(&[
            "diff",
            &format!("{base}/drift"),
            "--store",
            store.to_str().unwrap(),
        ]),
        d.clone(),
    )
    .await;
    let text = stdout(&diff);
    assert!(text.contains("[-") && text.contains("{+"), "{text}");
    assert!(
        text.contains("committee") && text.contains("broker"),
        "{text}"
    );
    let accept = run(
        args(&[
            "accept",
            &format!("{base}/drift"),
            "--store",
            store.to_str().unwrap(),
        ]),
        d.clone(),
    )
    .await;
    assert_eq!(accept.status.code(), Some(0), "{}", stderr(&accept));
    let third = run(check_args(&store, &[]), d.clone()).await;
    let r3 = json(&third);
    assert_eq!(verdict(&r3, "/drift"), ("ok".into(), "ok".into()));
    assert_eq!(
        verdict(&r3, "/quoted"),
        ("changed".into(), "quote-missing".into()),
        "still changed until accepted"
    );
    assert_eq!(citation(&r3, "/quoted")["change"], "still");

    // The offline copy opens with no network: styles and images inlined,
    // scripts gone, a banner saying what it is.
    let page = run(
        args(&[
            "show",
            &format!("{base}/stable"),
            "--as",
            "html",
            "--at",
            "baseline",
            "--store",
            store.to_str().unwrap(),
        ]),
        d.clone(),
    )
    .await;
    assert_eq!(page.status.code(), Some(0), "{}", stderr(&page));
    let html = stdout(&page);
    assert!(!html.contains("<script"), "scripts are removed");
    assert!(
        html.contains("font-family: serif"),
        "the stylesheet is inlined"
    );
    assert!(
        html.contains("data:image/png;base64,"),
        "images are inlined"
    );
    assert!(html.contains("Offline copy"), "the banner is there");
    assert!(!html.contains("src=\"http"), "nothing loads from the web");
    let text = run(
        args(&[
            "show",
            &format!("{base}/drift"),
            "--as",
            "text",
            "--at",
            "2000-01-01",
            "--store",
            store.to_str().unwrap(),
        ]),
        d.clone(),
    )
    .await;
    assert_eq!(text.status.code(), Some(2), "no snapshot that old");
    assert!(stderr(&text).contains("no snapshot at or before 2000-01-01"));

    // `report` renders the last run again, without the network.
    let again = run(
        args(&[
            "report",
            "--format",
            "json",
            "--store",
            store.to_str().unwrap(),
        ]),
        d.clone(),
    )
    .await;
    assert_eq!(json(&again)["run"]["id"], r3["run"]["id"]);

    // An HTML report carries the offline copies beside it, linked.
    std::fs::create_dir_all(d.join("out")).unwrap();
    let html_report = run(
        args(&[
            "report",
            "--format",
            "html",
            "--output",
            "out/report.html",
            "--store",
            store.to_str().unwrap(),
        ]),
        d.clone(),
    )
    .await;
    assert_eq!(
        html_report.status.code(),
        Some(1),
        "{}",
        stderr(&html_report)
    );
    let page = std::fs::read_to_string(d.join("out/report.html")).unwrap();
    assert!(
        page.contains("href=\"report-offline/"),
        "the report links its copies"
    );
    let copies: Vec<_> = std::fs::read_dir(d.join("out/report-offline"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(copies.len(), 6, "one page per stored baseline");
    for c in copies {
        let html = std::fs::read_to_string(c.path()).unwrap();
        assert!(html.contains("Offline copy") && !html.contains("<script"));
    }

    // verify passes; then an object deleted and another altered are caught,
    // and the next check says the baseline is lost.
    let ok = run(
        args(&["verify", "--store", store.to_str().unwrap()]),
        d.clone(),
    )
    .await;
    assert_eq!(ok.status.code(), Some(0), "{}{}", stdout(&ok), stderr(&ok));
    let typed = citation(&r3, "/typed")["snapshot"]
        .as_str()
        .unwrap()
        .to_string();
    let stable = citation(&r3, "/stable")["snapshot"]
        .as_str()
        .unwrap()
        .to_string();
    let object = |sha: &str| store.join("objects").join(&sha[..2]).join(&sha[2..]);
    std::fs::remove_file(object(&typed)).unwrap();
    let mut bytes = std::fs::read(object(&stable)).unwrap();
    bytes[100] ^= 0x20;
    std::fs::write(object(&stable), bytes).unwrap();
    let bad = run(
        args(&["verify", "--store", store.to_str().unwrap()]),
        d.clone(),
    )
    .await;
    assert_eq!(bad.status.code(), Some(1));
    let listing = stdout(&bad);
    assert!(
        listing.contains(&format!("missing: objects/{}/{}", &typed[..2], &typed[2..])),
        "{listing}"
    );
    assert!(
        listing.contains(&format!(
            "corrupt: objects/{}/{}",
            &stable[..2],
            &stable[2..]
        )),
        "{listing}"
    );
    let fourth = run(check_args(&store, &[]), d.clone()).await;
    let r4 = json(&fourth);
    assert_eq!(
        verdict(&r4, "/typed"),
        ("missing".into(), "snapshot-lost".into())
    );
    assert_eq!(
        verdict(&r4, "/stable"),
        ("missing".into(), "snapshot-lost".into())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_run_on_a_locked_store_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    std::fs::create_dir_all(&store).unwrap();
    std::fs::write(dir.path().join("post.md"), "No links here.\n").unwrap();
    let lock = std::fs::File::options()
        .write(true)
        .create(true)
        .truncate(false)
        .open(store.join("lock"))
        .unwrap();
    lock.lock().unwrap();
    let o = citeguard(
        &[
            "check",
            "post.md",
            "--no-memento",
            "--store",
            store.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("another citeguard run is writing to this store"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    drop(lock);
    let o = citeguard(
        &[
            "check",
            "post.md",
            "--no-memento",
            "--store",
            store.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_killed_at_any_point_leaves_a_store_that_verifies_and_carries_on() {
    let (web, base) = start("127.0.0.41", true).await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    let store = d.join("store");
    let links: String = (0..120)
        .map(|i| format!("<p><a href=\"{base}/many/{i}\">source {i}</a></p>\n"))
        .collect();
    std::fs::write(
        d.join("post.html"),
        format!("<html><body><article>{links}</article></body></html>"),
    )
    .unwrap();
    for kill_after in [1usize, 15, 60, 110] {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let seen = web.requests.load(Ordering::SeqCst);
        *web.trip.lock().unwrap() = Some((seen + kill_after, tx));
        let mut child = Command::new(env!("CARGO_BIN_EXE_citeguard"))
            .args(check_args(&store, &["--per-host", "4"]))
            .current_dir(&d)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        rx.await.unwrap();
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let v = run(
            args(&["verify", "--store", store.to_str().unwrap()]),
            d.clone(),
        )
        .await;
        assert_eq!(
            v.status.code(),
            Some(0),
            "after a kill at request {kill_after}: {}{}",
            stdout(&v),
            stderr(&v)
        );
    }
    let last = run(check_args(&store, &[]), d.clone()).await;
    assert_eq!(last.status.code(), Some(0), "{}", stderr(&last));
    let r = json(&last);
    assert_eq!(r["summary"]["ok"], 120);
    let v = run(
        args(&["verify", "--store", store.to_str().unwrap()]),
        d.clone(),
    )
    .await;
    assert_eq!(v.status.code(), Some(0), "{}", stdout(&v));
    assert!(
        std::fs::read_dir(store.join("tmp"))
            .unwrap()
            .next()
            .is_none(),
        "nothing is left half-written"
    );
}

/// Runs `script` in a private mount namespace where `$STORE` is a tiny
/// tmpfs: a disk that fills, without touching the machine's disks.
fn with_small_disk(script: &str, store: &Path, kib: u32, dir: &Path) -> Output {
    let full =
        format!("set -u; mount -t tmpfs -o size={kib}k tmpfs \"$STORE\" || exit 97; {script}");
    // As root, a mount namespace of our own; otherwise a user namespace
    // that maps us to root in it.
    let root = Command::new("id").arg("-u").output().unwrap().stdout == b"0\n";
    let mut cmd = Command::new("unshare");
    if root {
        cmd.arg("-m");
    } else {
        cmd.arg("-rm");
    }
    cmd.args(["--propagation", "private", "sh", "-c", &full])
        .env("STORE", store)
        .env("CITEGUARD", env!("CARGO_BIN_EXE_citeguard"))
        .env("NO_COLOR", "1")
        .current_dir(dir)
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_disk_is_one_clear_error_and_leaves_no_half_object() {
    let (_web, base) = start("127.0.0.42", false).await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    let store = d.join("store");
    std::fs::create_dir_all(&store).unwrap();
    let links: String = (0..200)
        .map(|i| format!("<p><a href=\"{base}/many/{i}\">source {i}</a></p>\n"))
        .collect();
    std::fs::write(
        d.join("post.html"),
        format!("<html><body><article>{links}</article></body></html>"),
    )
    .unwrap();
    let script = "\"$CITEGUARD\" check post.html --no-memento --retries 0 --host-delay 0 \
                  --store \"$STORE\" --format json > /dev/null 2> check.err; \
                  echo \"check=$?\"; \
                  \"$CITEGUARD\" verify --store \"$STORE\" > verify.out 2>&1; echo \"verify=$?\"; \
                  ls \"$STORE/objects\" > /dev/null && echo listed";
    let o = tokio::task::spawn_blocking(move || with_small_disk(script, &store, 600, &d))
        .await
        .unwrap();
    let out = stdout(&o);
    assert_ne!(
        o.status.code(),
        Some(97),
        "could not mount a tmpfs: {}",
        stderr(&o)
    );
    let err = std::fs::read_to_string(dir.path().join("check.err")).unwrap();
    let verify = std::fs::read_to_string(dir.path().join("verify.out")).unwrap();
    assert!(out.contains("check=2"), "{out} / {err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(
        err.contains("No space left on device") || err.contains("disk is full"),
        "{err}"
    );
    assert!(err.contains("store"), "names the store: {err}");
    assert!(out.contains("verify=0"), "the store stays valid: {verify}");
    assert!(out.contains("listed"), "{out}");
}
