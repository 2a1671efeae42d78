//! The archive end to end: `check` twice over the test web's pages that
//! change between runs, then `diff`, `accept`, `show`, `verify`, `export`,
//! the store's lock, a run killed with SIGKILL, and a full disk.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use crate::util::{CITEGUARD, Dir, json, stderr, stdout};
use crate::web::Web;
use crate::web::changing::QUOTE;

/// A post citing every kind of changing page of the web at `base`.
fn write_post(dir: &Dir, base: &str) {
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
    dir.write("post.html", html);
}

/// A post citing `/many/0` to `/many/{n-1}`.
fn write_many(dir: &Dir, web: &Web, n: usize) {
    let links: String = (0..n)
        .map(|i| {
            format!(
                "<p><a href=\"{}\">source {i}</a></p>\n",
                web.url(&format!("/many/{i}"))
            )
        })
        .collect();
    dir.write(
        "post.html",
        format!("<html><body><article>{links}</article></body></html>"),
    );
}

/// `check post.html` into `./store`, JSON out, plus `extra`.
fn check_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
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
        "store",
    ];
    args.extend(extra);
    args
}

fn check(dir: &Dir) -> Output {
    dir.run(check_args(&[]))
}

/// Every snapshot row of the store at `path`, read as `show` reads them.
fn snapshots(path: &Path) -> Vec<citeguard::store::SnapshotRow> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        use citeguard::store::{Access, Store};
        let store = Store::open(path, Access::Read).await.unwrap();
        let rows = store.index.all_snapshots().await.unwrap();
        store.close().await;
        rows
    })
}

/// The verdict and reason of the citation whose URL ends with `path`.
fn verdict(report: &serde_json::Value, path: &str) -> (String, String) {
    let c = citation(report, path);
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
        .unwrap_or_else(|| panic!("no citation of {path}"))
}

#[test]
fn a_changing_web_is_judged_on_its_text_and_the_archive_serves_it() {
    let web = Web::on("127.0.0.40");
    let base = web.base();
    let dir = Dir::new();
    let store = dir.join("store");
    write_post(&dir, &base);

    // Run 1: everything is as cited; every source gets its baseline.
    let first = check(&dir);
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
    assert_eq!(web.hits("/track.js"), 0, "scripts are never fetched");

    // Run 2: a later day. Cosmetic churn, real changes, a 304.
    web.change_pages();
    let second = check(&dir);
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
        web.not_modified(),
        2,
        "a recheck is conditional, behind a redirect too"
    );
    let history = &citation(&r2, "/drift")["history"];
    assert_eq!(history["checks"], 2);
    assert_eq!(citation(&r2, "/drift")["change"], "new");

    // A person reads the diff, then accepts the new text.
    let diff = dir.run(["diff", &format!("{base}/drift"), "--store", "store"]);
    let text = stdout(&diff);
    assert!(text.contains("[-") && text.contains("{+"), "{text}");
    assert!(
        text.contains("committee") && text.contains("broker"),
        "{text}"
    );
    let accept = dir.run(["accept", &format!("{base}/drift"), "--store", "store"]);
    assert_eq!(accept.status.code(), Some(0), "{}", stderr(&accept));
    let third = check(&dir);
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
    let page = dir.run([
        "show",
        &format!("{base}/stable"),
        "--as",
        "html",
        "--at",
        "baseline",
        "--store",
        "store",
    ]);
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
    let text = dir.run([
        "show",
        &format!("{base}/drift"),
        "--as",
        "text",
        "--at",
        "2000-01-01",
        "--store",
        "store",
    ]);
    assert_eq!(text.status.code(), Some(2), "no snapshot that old");
    assert!(stderr(&text).contains("no snapshot at or before 2000-01-01"));

    // `report` renders the last run again, without the network.
    let again = dir.run(["report", "--format", "json", "--store", "store"]);
    assert_eq!(json(&again)["run"]["id"], r3["run"]["id"]);

    // An HTML report carries the offline copies beside it, linked.
    std::fs::create_dir_all(dir.join("out")).unwrap();
    let html_report = dir.run([
        "report",
        "--format",
        "html",
        "--output",
        "out/report.html",
        "--store",
        "store",
    ]);
    assert_eq!(
        html_report.status.code(),
        Some(1),
        "{}",
        stderr(&html_report)
    );
    let page = dir.read("out/report.html");
    assert!(
        page.contains("href=\"report-offline/"),
        "the report links its copies"
    );
    let copies: Vec<_> = std::fs::read_dir(dir.join("out/report-offline"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(copies.len(), 6, "one page per stored baseline");
    for c in copies {
        let html = std::fs::read_to_string(c.path()).unwrap();
        assert!(html.contains("Offline copy") && !html.contains("<script"));
    }

    // verify passes; then the bodies' one copy lost (the first run's WARC
    // file deleted) is caught, and the next check says the baseline is lost.
    let ok = dir.run(["verify", "--store", "store"]);
    assert_eq!(ok.status.code(), Some(0), "{}{}", stdout(&ok), stderr(&ok));
    let typed = citation(&r3, "/typed")["snapshot"]
        .as_str()
        .unwrap()
        .to_string();
    let stable = citation(&r3, "/stable")["snapshot"]
        .as_str()
        .unwrap()
        .to_string();
    let baselines: Vec<_> = snapshots(&store)
        .into_iter()
        .filter(|s| s.body_sha256 == typed || s.body_sha256 == stable)
        .collect();
    assert_eq!(baselines.len(), 2, "{baselines:?}");
    assert!(
        !store
            .join("objects")
            .join(&typed[..2])
            .join(&typed[2..])
            .exists(),
        "a body is kept once, in its WARC record, not as an object"
    );
    let file = baselines[0].warc_file.clone().unwrap();
    assert_eq!(baselines[1].warc_file.as_deref(), Some(file.as_str()));
    std::fs::remove_file(store.join("warc").join(&file)).unwrap();
    let bad = dir.run(["verify", "--store", "store"]);
    assert_eq!(bad.status.code(), Some(1));
    let listing = stdout(&bad);
    for s in &baselines {
        assert!(
            listing.contains(&format!(
                "missing: warc/{file} at {} (body of {}",
                s.warc_offset.unwrap(),
                s.url
            )),
            "{listing}"
        );
    }
    let fourth = check(&dir);
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

#[test]
fn a_second_run_on_a_locked_store_is_refused() {
    let dir = Dir::new();
    let store = dir.join("store");
    std::fs::create_dir_all(&store).unwrap();
    dir.write("post.md", "No links here.\n");
    let lock = std::fs::File::options()
        .write(true)
        .create(true)
        .truncate(false)
        .open(store.join("lock"))
        .unwrap();
    lock.lock().unwrap();
    let o = dir.run(["check", "post.md", "--no-memento", "--store", "store"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("another citeguard run is writing to this store"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    drop(lock);
    let o = dir.run(["check", "post.md", "--no-memento", "--store", "store"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn a_run_killed_at_any_point_leaves_a_store_that_verifies_and_carries_on() {
    let web = Web::on("127.0.0.41");
    // Slow answers, so that runs are killed midway.
    web.set_delay(Duration::from_millis(20));
    let dir = Dir::new();
    let store = dir.join("store");
    write_many(&dir, &web, 120);
    for kill_after in [1usize, 15, 60, 110] {
        let tripped = web.after_requests(kill_after);
        let mut child = dir
            .citeguard(check_args(&["--per-host", "4"]))
            .spawn_quiet();
        tripped
            .recv_timeout(Duration::from_secs(60))
            .expect("the run reaches the web");
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let v = dir.run(["verify", "--store", "store"]);
        assert_eq!(
            v.status.code(),
            Some(0),
            "after a kill at request {kill_after}: {}{}",
            stdout(&v),
            stderr(&v)
        );
        assert_eq!(
            half_kept(&store),
            Vec::<String>::new(),
            "after a kill at request {kill_after}, the index holds whole batches only"
        );
    }
    let last = check(&dir);
    assert_eq!(last.status.code(), Some(0), "{}", stderr(&last));
    let r = json(&last);
    assert_eq!(r["summary"]["ok"], 120);
    let v = dir.run(["verify", "--store", "store"]);
    assert_eq!(v.status.code(), Some(0), "{}", stdout(&v));
    assert!(
        std::fs::read_dir(store.join("tmp"))
            .unwrap()
            .next()
            .is_none(),
        "nothing is left half-written"
    );
}

/// What a batch commits together, found apart in the index at `store`:
/// a snapshot no check names, a source whose count of checks is not the
/// number of its check rows (its history saved without its check, or the
/// other way round), a checked source with a stored copy but no baseline.
fn half_kept(store: &Path) -> Vec<String> {
    use sqlx::Row;
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let opts = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(store.join("index.sqlite"))
            .read_only(true);
        let pool = sqlx::SqlitePool::connect_with(opts).await.unwrap();
        let mut found = Vec::new();
        for (what, sql) in [
            (
                "snapshots without their check",
                "SELECT COUNT(*) FROM snapshots s \
                 WHERE NOT EXISTS (SELECT 1 FROM checks c WHERE c.snapshot_id = s.id)",
            ),
            (
                "sources whose history and checks disagree",
                "SELECT COUNT(*) FROM sources src WHERE src.checks != \
                 (SELECT COUNT(*) FROM checks c WHERE c.source_id = src.id)",
            ),
            (
                "copies without a baseline",
                "SELECT COUNT(*) FROM checks c WHERE c.snapshot_id IS NOT NULL AND NOT EXISTS \
                 (SELECT 1 FROM baselines b WHERE b.source_id = c.source_id)",
            ),
        ] {
            let n: i64 = sqlx::query(sql).fetch_one(&pool).await.unwrap().get(0);
            if n != 0 {
                found.push(format!("{n} {what}"));
            }
        }
        pool.close().await;
        found
    })
}

/// Runs `script` in a private mount namespace where `$STORE` is a tiny
/// tmpfs: a disk that fills, without touching the machine's disks. The
/// script runs the binary as `$CITEGUARD`, in the environment `util` gives
/// every run.
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
        .env("CITEGUARD", CITEGUARD)
        .env("NO_COLOR", "1")
        .env_remove("CITEGUARD_NOW")
        .env_remove("GITHUB_ACTIONS")
        .current_dir(dir)
        .output()
        .unwrap()
}

#[test]
fn a_full_disk_is_one_clear_error_and_leaves_no_half_object() {
    let web = Web::on("127.0.0.42");
    let dir = Dir::new();
    let store = dir.join("store");
    std::fs::create_dir_all(&store).unwrap();
    write_many(&dir, &web, 200);
    let script = "\"$CITEGUARD\" check post.html --no-memento --retries 0 --host-delay 0 \
                  --store \"$STORE\" --format json > /dev/null 2> check.err; \
                  echo \"check=$?\"; \
                  \"$CITEGUARD\" verify --store \"$STORE\" > verify.out 2>&1; echo \"verify=$?\"; \
                  ls \"$STORE/warc\" > /dev/null && echo listed";
    let o = with_small_disk(script, &store, 600, dir.path());
    let out = stdout(&o);
    assert_ne!(
        o.status.code(),
        Some(97),
        "could not mount a tmpfs: {}",
        stderr(&o)
    );
    let err = dir.read("check.err");
    let verify = dir.read("verify.out");
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

/// A body the fetch holds whole in memory is stored without a spool file;
/// one longer than that (`/long`, about 700 KiB) is spooled, and either is
/// archived byte for byte, with no spool file left behind.
#[test]
fn short_and_long_bodies_are_archived_whole_and_leave_no_spool_file() {
    let web = Web::on("127.0.0.46");
    let dir = Dir::new();
    dir.write(
        "post.html",
        format!(
            "<html><body><article><p><a href=\"{}\">the inquiry</a> and \
             <a href=\"{}\">a short page</a></p></article></body></html>",
            web.url("/long"),
            web.url("/fine")
        ),
    );
    let run = check(&dir);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let long = crate::web::changing::long_page();
    assert!(long.len() > 512 * 1024, "longer than a fetch's head");
    for (path, min) in [("/long", long.len()), ("/fine", 1)] {
        let shown = dir.run(["show", &web.url(path), "--as", "raw", "--store", "store"]);
        assert_eq!(shown.status.code(), Some(0), "{}", stderr(&shown));
        assert!(
            shown.stdout.len() >= min,
            "{path}: {} bytes",
            shown.stdout.len()
        );
        if path == "/long" {
            assert!(
                shown.stdout == long.as_bytes(),
                "/long archived byte for byte"
            );
        } else {
            assert!(stdout(&shown).contains("A page that stays."));
        }
    }
    let rows = snapshots(&dir.join("store"));
    let row = rows.iter().find(|r| r.url.ends_with("/long")).unwrap();
    assert_eq!((row.size, row.truncated), (long.len() as u64, false));
    let spool: Vec<_> = std::fs::read_dir(dir.join("store").join("tmp"))
        .map(|d| d.map(|e| e.unwrap().file_name()).collect())
        .unwrap_or_default();
    assert!(spool.is_empty(), "spool files left: {spool:?}");
    let verify = dir.run(["verify", "--store", "store"]);
    assert_eq!(verify.status.code(), Some(0), "{}", stdout(&verify));
}
