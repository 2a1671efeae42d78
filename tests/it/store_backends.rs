//! The store on its other backends, end to end through the binary: the
//! index on a real PostgreSQL (`.ci/setup-postgres`, a cluster of our own
//! on 127.0.0.1:54329) and the copies on a real S3-compatible server
//! (`.ci/setup-s3`, moto on 127.0.0.1:54330). Each test runs the scripts
//! itself (once per test binary), then makes a database and a bucket of
//! its own, so tests never see each other's rows or objects.
//!
//! Every command runs on each combination over the loopback test web;
//! `verify` finds an object its rows name deleted or altered; a server
//! that is down is one line naming it.

use std::process::{Command, Output};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use sqlx::Connection;

use crate::util::{Dir, json, root, stderr, stdout};
use crate::web::Web;

/// Runs one of the project's setup scripts once and returns the URL it
/// prints last.
fn setup(script: &str, cell: &'static OnceLock<String>) -> &'static str {
    cell.get_or_init(|| {
        let out = Command::new("bash")
            .arg(root().join(".ci").join(script))
            .output()
            .unwrap_or_else(|e| panic!("bash runs .ci/{script}: {e}"));
        assert!(
            out.status.success(),
            ".ci/{script} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let url = text.lines().last().unwrap_or_default().trim().to_string();
        assert!(url.contains("127.0.0.1:"), ".ci/{script} printed {text}");
        url
    })
}

fn postgres_server() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    setup("setup-postgres", &URL)
}

pub(crate) fn s3_server() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    setup("setup-s3", &URL)
}

/// A name no other test (of this process or another) uses.
fn unique(kind: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "cg-{kind}-{}-{}-{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// A fresh, empty database on the test cluster; its URL.
pub(crate) fn database() -> String {
    let server = postgres_server();
    let name = unique("db").replace('-', "_");
    block_on(async {
        let mut conn = sqlx::postgres::PgConnection::connect(server)
            .await
            .expect("connect to the test cluster");
        sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("create a database");
    });
    let base = server.rsplit_once('/').unwrap().0;
    format!("{base}/{name}")
}

/// A fresh, empty bucket on the test S3 server; its name.
pub(crate) fn bucket() -> String {
    let endpoint = s3_server();
    let name = unique("b");
    block_on(async {
        let status = reqwest::Client::new()
            .put(format!("{endpoint}/{name}"))
            .send()
            .await
            .expect("reach the S3 server")
            .status();
        assert!(status.is_success(), "create bucket {name}: {status}");
    });
    name
}

/// Runs `citeguard ARGS` in `dir` with the S3 test credentials set and
/// nothing else from the caller's AWS environment.
fn run(dir: &Dir, args: &[&str]) -> Output {
    let mut cmd = dir.citeguard(args).command();
    s3_env(&mut cmd);
    cmd.output().expect("run citeguard")
}

/// The S3 test credentials set on a command, and nothing else from the
/// caller's AWS environment.
pub(crate) fn s3_env(cmd: &mut std::process::Command) {
    for v in [
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_S3",
        "AWS_DEFAULT_REGION",
    ] {
        cmd.env_remove(v);
    }
    cmd.env("AWS_ACCESS_KEY_ID", "citeguard-test")
        .env("AWS_SECRET_ACCESS_KEY", "citeguard-test-secret")
        .env("AWS_REGION", "us-east-1");
}

/// A post citing pages of the test web that change between runs.
pub(crate) fn write_post(dir: &Dir, web: &Web) {
    let html = format!(
        "<!doctype html><html><body><article>\n\
         <p>The <a href=\"{0}/stable\">ministry statement</a> says so.</p>\n\
         <p>As <a href=\"{0}/drift\">the report on the dam</a> explains.</p>\n\
         <p>See <a href=\"{0}/etag\">the archive page</a>.</p>\n\
         <p>And <a href=\"{0}/typed\">the timeline</a>.</p>\n\
         </article></body></html>\n",
        web.base()
    );
    dir.write("post.html", html);
}

/// The verdicts of a JSON report, by URL path, with nothing that names a
/// store (snapshot paths, run ids, times).
fn verdicts(report: &serde_json::Value) -> Vec<(String, String, String)> {
    let mut rows: Vec<_> = report["citations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["url"].as_str().unwrap_or_default().to_string(),
                c["verdict"].as_str().unwrap().to_string(),
                c["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    rows.sort();
    rows
}

/// A directory with `post.html` citing `web`, checked once on `store`;
/// the check's output.
fn checked_once(web: &Web, store: &[&str]) -> (Dir, Output) {
    let dir = Dir::new();
    write_post(&dir, web);
    let first = check(&dir, store);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    (dir, first)
}

fn check(dir: &Dir, store: &[&str]) -> Output {
    let mut args = vec![
        "check",
        "post.html",
        "--format",
        "json",
        "--retries",
        "0",
        "--host-delay",
        "0",
    ];
    args.extend(store);
    run(dir, &args)
}

/// Every command on one store, named by `store` (its flags); the same
/// runs on an embedded store beside it give the same verdicts.
fn every_command_on(web: &Web, store: &[&str]) -> Dir {
    let dir = Dir::new();
    write_post(&dir, web);
    let embedded = ["--store", "embedded"];

    let first = check(&dir, store);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let local = check(&dir, &embedded);
    assert_eq!(verdicts(&json(&first)), verdicts(&json(&local)));

    web.change_pages();
    let second = check(&dir, store);
    assert_eq!(second.status.code(), Some(1), "{}", stderr(&second));
    let local = check(&dir, &embedded);
    let r2 = json(&second);
    assert_eq!(verdicts(&r2), verdicts(&json(&local)));
    assert!(
        verdicts(&r2)
            .iter()
            .any(|(p, v, _)| p.ends_with("/drift") && v == "changed"),
        "{r2}"
    );

    let with = |args: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        v.extend(store.iter().map(|s| s.to_string()));
        v
    };
    let go = |args: Vec<String>| -> Output {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        run(&dir, &a)
    };

    let report = go(with(&["report", "--format", "json"]));
    assert_eq!(report.status.code(), Some(1), "{}", stderr(&report));
    assert_eq!(json(&report)["run"]["id"], r2["run"]["id"]);

    // An HTML report carries the offline copies, read back from the store.
    let html = go(with(&[
        "report",
        "--format",
        "html",
        "--output",
        "report.html",
    ]));
    assert_eq!(html.status.code(), Some(1), "{}", stderr(&html));
    let pages = std::fs::read_dir(dir.join("report-offline"))
        .unwrap()
        .count();
    assert_eq!(pages, 4, "one offline page per baseline");

    let drift = web.url("/drift");
    let diff = go(with(&["diff", &drift]));
    let text = stdout(&diff);
    assert!(
        text.contains("[-") && text.contains("{+"),
        "{text}{}",
        stderr(&diff)
    );

    let shown = go(with(&["show", &drift, "--as", "text", "--at", "baseline"]));
    assert_eq!(shown.status.code(), Some(0), "{}", stderr(&shown));
    assert!(!stdout(&shown).is_empty());
    let page = go(with(&["show", &web.url("/stable"), "--as", "html"]));
    assert!(stdout(&page).contains("Offline copy"), "{}", stderr(&page));
    let warc = go(with(&["show", &drift, "--as", "warc"]));
    assert_eq!(warc.status.code(), Some(0), "{}", stderr(&warc));
    assert_eq!(&warc.stdout[..2], b"\x1f\x8b", "gzipped WARC records");

    let accept = go(with(&["accept", &drift]));
    assert_eq!(accept.status.code(), Some(0), "{}", stderr(&accept));
    let after = go(with(&["diff", &drift]));
    assert!(
        stdout(&after).contains("the texts are the same"),
        "{}",
        stdout(&after)
    );

    let verify = go(with(&["verify"]));
    assert_eq!(
        verify.status.code(),
        Some(0),
        "{}{}",
        stdout(&verify),
        stderr(&verify)
    );
    let export = go(with(&["export", "--wacz", "archive.wacz"]));
    assert_eq!(export.status.code(), Some(0), "{}", stderr(&export));
    let export = go(with(&["export", "--warc", "archive.warc.gz"]));
    assert_eq!(export.status.code(), Some(0), "{}", stderr(&export));
    let embedded_export = run(
        &dir,
        &[
            "export",
            "--warc",
            "embedded.warc.gz",
            "--store",
            "embedded",
        ],
    );
    assert_eq!(embedded_export.status.code(), Some(0));
    assert!(std::fs::metadata(dir.join("archive.wacz")).unwrap().len() > 1000);
    let warcs = |name: &str| {
        let mut bytes = Vec::new();
        let f = std::fs::File::open(dir.join(name)).unwrap();
        std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(f), &mut bytes).unwrap();
        bytes
            .windows(b"WARC-Type: response".len())
            .filter(|w| w == b"WARC-Type: response")
            .count()
    };
    assert_eq!(
        warcs("archive.warc.gz"),
        warcs("embedded.warc.gz"),
        "the same captures as the embedded store's"
    );
    dir
}

#[test]
fn every_command_works_with_the_index_on_postgres_and_the_copies_in_a_directory() {
    let web = Web::on("127.0.0.131");
    let db = database();
    let store = ["--store", db.as_str(), "--objects", "copies"];
    let dir = every_command_on(&web, &store);
    assert!(dir.join("copies/objects").is_dir());
    assert!(!dir.join("copies/index.sqlite").exists());
}

#[test]
fn every_command_works_with_the_index_on_postgres_and_the_copies_on_s3() {
    let web = Web::on("127.0.0.136");
    let db = database();
    let objects = format!("s3://{}/citeguard/archive", bucket());
    let store = [
        "--store",
        db.as_str(),
        "--objects",
        objects.as_str(),
        "--s3-endpoint",
        s3_server(),
    ];
    let dir = every_command_on(&web, &store);
    assert!(!dir.join("copies").exists(), "nothing kept locally");
    let names = s3_names(&objects);
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("citeguard/archive/objects/"))
            && names
                .iter()
                .any(|n| n.starts_with("citeguard/archive/warc/")),
        "{names:?}"
    );
}

#[test]
fn every_command_works_with_an_embedded_index_and_the_copies_on_s3() {
    let web = Web::on("127.0.0.137");
    let objects = format!("s3://{}", bucket());
    let store = [
        "--store",
        "index-here",
        "--objects",
        objects.as_str(),
        "--s3-endpoint",
        s3_server(),
    ];
    let dir = every_command_on(&web, &store);
    assert!(dir.join("index-here/index.sqlite").is_file());
    assert!(!dir.join("index-here/objects").exists());
    assert!(!dir.join("index-here/warc").exists());
}

#[test]
fn every_command_works_with_an_embedded_index_and_the_copies_in_another_directory() {
    let web = Web::on("127.0.0.141");
    let store = ["--store", "index-here", "--objects", "copies-there"];
    let dir = every_command_on(&web, &store);
    assert!(dir.join("index-here/index.sqlite").is_file());
    assert!(dir.join("copies-there/warc").is_dir());
    assert!(!dir.join("index-here/warc").exists());
    // The index's directory is still the one-writer lock.
    let held = std::fs::File::open(dir.join("index-here")).unwrap();
    held.try_lock().unwrap();
    let out = check(&dir, &store);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("another citeguard run"),
        "{}",
        stderr(&out)
    );
}

/// Every blob name in an `s3://bucket/prefix`.
fn s3_names(objects: &str) -> Vec<String> {
    let spec = citeguard::store::blobs::S3Spec::parse(objects).unwrap();
    let body = block_on(async {
        reqwest::get(format!("{}/{}?list-type=2", s3_server(), spec.bucket))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    body.split("<Key>")
        .skip(1)
        .filter_map(|k| k.split("</Key>").next())
        .map(String::from)
        .collect()
}

#[test]
fn verify_finds_an_s3_copy_gone_or_altered_that_the_postgres_rows_name() {
    let web = Web::on("127.0.0.138");
    let db = database();
    let bucket = bucket();
    let objects = format!("s3://{bucket}/p");
    let store = [
        "--store",
        db.as_str(),
        "--objects",
        objects.as_str(),
        "--s3-endpoint",
        s3_server(),
    ];
    let (dir, _) = checked_once(&web, &store);

    // The WARC file holding a source's body gone from S3: what the
    // PostgreSQL rows name is checked on S3, and every source whose
    // record was in it is named.
    let mut spec = citeguard::store::blobs::S3Spec::parse(&objects).unwrap();
    spec.endpoint = Some(s3_server().to_string());
    let blobs = citeguard::store::blobs::Blobs::s3(&spec, Some(&test_credentials())).unwrap();
    let (warc, _, _) = warc_of(&db, "/etag");
    block_on(async {
        blobs.delete(&format!("warc/{warc}")).await.unwrap();
    });
    let out = verify_finding_damage(&dir, &store);
    assert!(
        out.lines()
            .any(|l| l.starts_with(&format!("warc: {warc}")) && l.contains("/etag")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with(&format!("missing: warc/{warc}")) && l.contains("body of")),
        "{out}"
    );

    // `show` refuses the damaged copy in one line rather than serve it.
    let mut show = vec!["show", "--as", "text"];
    let drift = web.url("/drift");
    show.push(&drift);
    show.extend(store);
    let shown = run(&dir, &show);
    assert_eq!(shown.status.code(), Some(2), "{}", stdout(&shown));
    assert!(stderr(&shown).contains("damaged"), "{}", stderr(&shown));
}

fn test_credentials() -> citeguard::config::S3Credentials {
    citeguard::config::S3Credentials {
        access_key_id: "citeguard-test".into(),
        secret_access_key: "citeguard-test-secret".into(),
        session_token: None,
    }
}

/// Where the body of the source whose URL ends with `path` is, as the
/// PostgreSQL rows name it: its WARC file, the record's offset and length.
fn warc_of(db: &str, path: &str) -> (String, u64, u64) {
    block_on(async {
        let mut conn = sqlx::postgres::PgConnection::connect(db).await.unwrap();
        sqlx::query(
            "SELECT s.warc_file, s.warc_offset, s.warc_length FROM snapshots s \
             JOIN sources src ON src.id = s.source_id WHERE src.url LIKE $1",
        )
        .bind(format!("%{path}"))
        .fetch_one(&mut conn)
        .await
        .map(|r| {
            use sqlx::Row;
            let offset: i64 = r.get(1);
            let length: i64 = r.get(2);
            (r.get::<String, _>(0), offset as u64, length as u64)
        })
        .unwrap()
    })
}

#[test]
fn unreachable_s3_storage_is_one_line_naming_it() {
    let db = database();
    let dir = Dir::new();
    write_post(&dir, &Web::on("127.0.0.139"));
    for (store, objects) in [
        (db.as_str(), "s3://cg-nowhere/p"),
        ("embedded", "s3://cg-nowhere/p"),
    ] {
        for cmd in ["check", "verify"] {
            let mut args = vec![cmd];
            if cmd == "check" {
                args.extend(["post.html", "--retries", "0"]);
            }
            args.extend([
                "--store",
                store,
                "--objects",
                objects,
                "--s3-endpoint",
                "http://127.0.0.1:9",
            ]);
            let out = run(&dir, &args);
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(2), "{cmd}: {err}");
            assert_eq!(err.lines().count(), 1, "{cmd}: {err}");
            assert!(err.contains("s3://cg-nowhere/p"), "{cmd}: {err}");
        }
    }
}

#[test]
fn verify_finds_a_copy_gone_or_altered_that_the_postgres_rows_name() {
    let web = Web::on("127.0.0.132");
    let db = database();
    let store = ["--store", db.as_str(), "--objects", "copies"];
    let (dir, _) = checked_once(&web, &store);

    // A byte flipped in the middle of one source's WARC record: verify
    // names the record and its source, and no other source.
    let (file, offset, length) = warc_of(&db, "/drift");
    let path = dir.join(format!("copies/warc/{file}"));
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[(offset + length / 2) as usize] ^= 0x55;
    std::fs::write(&path, &bytes).unwrap();

    let out = verify_finding_damage(&dir, &store);
    let named: Vec<&str> = out.lines().filter(|l| l.contains("/drift")).collect();
    assert!(
        named
            .iter()
            .any(|l| l.starts_with(&format!("warc: {file} at {offset} "))),
        "{out}"
    );
    assert!(!out.contains("/stable"), "{out}");
}

#[test]
fn one_writer_at_a_time_on_a_postgres_index_while_readers_read() {
    let web = Web::on("127.0.0.133");
    let db = database();
    let store = ["--store", db.as_str(), "--objects", "copies"];
    let (dir, first) = checked_once(&web, &store);

    // Another writer, on another machine as far as we know: it holds the
    // index's writer lock on its session.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut other = rt.block_on(async {
        let mut conn = sqlx::postgres::PgConnection::connect(&db).await.unwrap();
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(citeguard::store::index::PG_LOCK)
            .execute(&mut conn)
            .await
            .unwrap();
        conn
    });
    let stable = web.url("/stable");
    for cmd in ["check", "accept", "verify"] {
        let mut args = match cmd {
            "check" => vec!["check", "post.html", "--retries", "0"],
            "accept" => vec!["accept", stable.as_str()],
            _ => vec!["verify"],
        };
        args.extend(store);
        let out = run(&dir, &args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{cmd}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains("another citeguard run is writing to this index"),
            "{err}"
        );
    }
    let mut report = vec!["report", "--format", "json"];
    report.extend(store);
    let read = run(&dir, &report);
    assert_eq!(
        read.status.code(),
        Some(0),
        "readers take no lock: {}",
        stderr(&read)
    );
    assert_eq!(json(&read)["run"]["id"], json(&first)["run"]["id"]);

    rt.block_on(async {
        sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(citeguard::store::index::PG_LOCK)
            .execute(&mut other)
            .await
            .unwrap();
    });
    let second = check(&dir, &store);
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
    assert!(
        !dir.join("copies/tmp").read_dir().unwrap().any(|_| true),
        "each writer's own directory is gone"
    );
}

#[test]
fn an_unreachable_postgres_is_one_line_naming_it() {
    let dir = Dir::new();
    write_post(&dir, &Web::on("127.0.0.134"));
    for args in [
        &[
            "verify",
            "--store",
            "postgres://citeguard:secret@127.0.0.1:9/none",
            "--objects",
            "c",
        ][..],
        &[
            "check",
            "post.html",
            "--store",
            "postgres://citeguard:secret@127.0.0.1:9/none",
            "--objects",
            "c",
        ],
    ] {
        let out = run(&dir, args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains("postgres://citeguard@127.0.0.1:9/none")
                && err.contains("PostgreSQL")
                && err.contains("refused"),
            "{err}"
        );
        assert!(!err.contains("secret"), "no password in messages: {err}");
    }
    let postgres = postgres_server();
    let out = run(&dir, &["report", "--store", postgres, "--objects", "c"]);
    assert!(
        stderr(&out).contains("no citeguard index in this database"),
        "{}",
        stderr(&out)
    );
    let out = run(&dir, &["check", "post.html", "--store", postgres]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--objects"), "{}", stderr(&out));
}

/// A PostgreSQL server of the test's own (the project's script, on
/// another port and data directory), to stop while a run uses it.
struct OwnCluster {
    url: String,
    data: std::path::PathBuf,
}

impl OwnCluster {
    fn start(port: u16) -> OwnCluster {
        let data = std::path::PathBuf::from(format!("/var/tmp/citeguard-pg-own/{port}"));
        let out = Command::new("bash")
            .arg(root().join(".ci/setup-postgres"))
            .env("CITEGUARD_PG_PORT", port.to_string())
            .env("CITEGUARD_PG_DATA", &data)
            .output()
            .expect("bash runs .ci/setup-postgres");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let url = String::from_utf8_lossy(&out.stdout).trim().to_string();
        OwnCluster { url, data }
    }

    /// Stops the server at once, as a crash or a cut network would.
    fn stop(&self) {
        let pg_ctl = std::fs::read_dir("/usr/lib/postgresql")
            .unwrap()
            .flatten()
            .map(|v| v.path().join("bin/pg_ctl"))
            .find(|p| p.is_file())
            .expect("pg_ctl is installed");
        let as_root = std::fs::metadata("/proc/self")
            .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
            .unwrap_or(false);
        let mut cmd = if as_root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&pg_ctl);
            c
        } else {
            Command::new(&pg_ctl)
        };
        let status = cmd
            .arg("-D")
            .arg(&self.data)
            .args(["stop", "-m", "immediate"])
            .output()
            .expect("run pg_ctl");
        assert!(
            status.status.success(),
            "{}",
            String::from_utf8_lossy(&status.stderr)
        );
    }
}

#[test]
fn a_postgres_lost_mid_run_is_one_line_naming_it() {
    postgres_server();
    let cluster = OwnCluster::start(54339);
    let name = unique("lost").replace('-', "_");
    block_on(async {
        let mut conn = sqlx::postgres::PgConnection::connect(&cluster.url)
            .await
            .unwrap();
        sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .unwrap();
    });
    let db = format!("{}/{name}", cluster.url.rsplit_once('/').unwrap().0);
    let web = Web::on("127.0.0.140");
    web.set_delay(std::time::Duration::from_millis(100));
    let links: String = (0..60)
        .map(|i| {
            format!(
                "<p><a href=\"{}\">source {i}</a></p>\n",
                web.url(&format!("/many/{i}"))
            )
        })
        .collect();
    let dir = Dir::new();
    dir.write(
        "post.html",
        format!("<html><body><article>{links}</article></body></html>"),
    );
    let seen = web.after_requests(10);
    let mut cmd = dir
        .citeguard([
            "check",
            "post.html",
            "--store",
            &db,
            "--objects",
            "copies",
            "--host-delay",
            "0",
            "--per-host",
            "2",
            "--retries",
            "0",
            "--quiet",
        ])
        .command();
    let child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    seen.recv().unwrap();
    cluster.stop();
    let out = child.wait_with_output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(&db), "names the index: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn a_newer_schema_on_postgres_is_refused() {
    let db = database();
    let dir = Dir::new();
    write_post(&dir, &Web::on("127.0.0.135"));
    let first = check(&dir, &["--store", &db, "--objects", "c"]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    block_on(async {
        let mut conn = sqlx::postgres::PgConnection::connect(&db).await.unwrap();
        sqlx::raw_sql("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
            .execute(&mut conn)
            .await
            .unwrap();
    });
    for args in [
        &["check", "post.html", "--store", &db, "--objects", "c"][..],
        &["report", "--store", &db, "--objects", "c"],
    ] {
        let out = run(&dir, args);
        assert_eq!(out.status.code(), Some(2));
        assert!(stderr(&out).contains("newer citeguard"), "{}", stderr(&out));
    }
}

#[test]
fn blobs_on_s3_are_put_read_by_range_listed_and_deleted() {
    use citeguard::store::blobs::{Blobs, S3Spec};
    let endpoint = s3_server();
    let bucket = bucket();
    let mut spec = S3Spec::parse(&format!("s3://{bucket}/some/prefix")).unwrap();
    spec.endpoint = Some(endpoint.to_string());
    let creds = test_credentials();
    let blobs = Blobs::s3(&spec, Some(&creds)).unwrap();
    let big: Vec<u8> = (0..(9u32 << 20)).map(|i| (i % 253) as u8).collect();
    let dir = Dir::new();
    let file = dir.write("big.warc.gz", &big);
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            blobs
                .put("objects/ab/cd", b"hello world".to_vec())
                .await
                .unwrap();
            assert_eq!(blobs.get("objects/ab/cd").await.unwrap(), b"hello world");
            assert_eq!(
                blobs.get_range("objects/ab/cd", 6..11).await.unwrap(),
                b"world"
            );
            assert_eq!(blobs.size("objects/ab/cd").await.unwrap(), Some(11));
            assert_eq!(blobs.size("objects/ab/none").await.unwrap(), None);
            let err = blobs.get("objects/ab/none").await.unwrap_err();
            assert!(err.is_not_found(), "{err}");
            assert!(
                err.to_string()
                    .starts_with(&format!("s3://{bucket}/some/prefix"))
            );

            // Past one part: a multipart upload, whole or nothing.
            blobs.put_file("warc/run.warc.gz", &file).await.unwrap();
            assert_eq!(blobs.get("warc/run.warc.gz").await.unwrap(), big);
            assert_eq!(
                blobs
                    .get_range("warc/run.warc.gz", 5_000_000..5_000_010)
                    .await
                    .unwrap(),
                &big[5_000_000..5_000_010]
            );
            assert_eq!(
                blobs.list("objects").await.unwrap(),
                vec![("objects/ab/cd".to_string(), 11)]
            );
            assert_eq!(blobs.list("").await.unwrap().len(), 2);
            blobs.delete("objects/ab/cd").await.unwrap();
            blobs.delete("objects/ab/cd").await.unwrap();
            assert!(!blobs.exists("objects/ab/cd").await.unwrap());
            assert_eq!(
                citeguard::store::blobs::wait(blobs.size("warc/run.warc.gz")).unwrap(),
                Some(big.len() as u64)
            );
        });

    // A server that is not there: one line, naming the store.
    let mut gone = spec.clone();
    gone.endpoint = Some("http://127.0.0.1:9".into());
    let blobs = Blobs::s3(&gone, Some(&creds)).unwrap();
    let err = block_on(blobs.get("objects/ab/cd")).unwrap_err();
    assert!(!err.is_not_found());
    let line = err.to_string();
    assert!(
        line.starts_with(&format!("s3://{bucket}/some/prefix: objects/ab/cd: ")),
        "{line}"
    );
    assert!(!line.contains('\n'), "{line}");
}

/// Runs `verify` on `store` (its flags), which must find damage (exit 1),
/// and returns what it printed.
fn verify_finding_damage(dir: &Dir, store: &[&str]) -> String {
    let mut args = vec!["verify"];
    args.extend(store);
    let verify = run(dir, &args);
    let out = stdout(&verify);
    assert_eq!(verify.status.code(), Some(1), "{out}{}", stderr(&verify));
    out
}

#[test]
fn states_and_first_captures_read_together_are_those_read_one_by_one() {
    use citeguard::store::Access;
    use citeguard::store::index::Index;
    let db = database();
    let web = Web::on("127.0.0.197");
    let store = ["--store", db.as_str(), "--objects", "c"];
    let (dir, _) = checked_once(&web, &store);
    let again = check(&dir, &store);
    assert_ne!(again.status.code(), Some(2), "{}", stderr(&again));
    block_on(async {
        let mut conn = sqlx::postgres::PgConnection::connect(&db).await.unwrap();
        // One body marked damaged, as `verify` marks it.
        sqlx::raw_sql(
            "INSERT INTO damaged (sha256, found_at, health) \
             SELECT body_sha256, '2026-11-28T00:00:00Z', 'missing' FROM snapshots \
             ORDER BY id LIMIT 1",
        )
        .execute(&mut conn)
        .await
        .unwrap();
        let mut urls: Vec<String> = sqlx::query_scalar("SELECT url FROM sources ORDER BY id")
            .fetch_all(&mut conn)
            .await
            .unwrap();
        let known = urls.len();
        assert!(known >= 4, "{urls:?}");
        urls.push(format!("{}/never-cited-before", web.base()));
        urls.push(urls[0].clone());
        let shas: Vec<String> = sqlx::query_scalar(
            "SELECT body_sha256 FROM snapshots GROUP BY body_sha256 ORDER BY min(id)",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();

        let index = Index::open_postgres(&db, Access::Share).await.unwrap();
        let together = index.source_states(&urls).await.unwrap();
        assert_eq!(together.len(), urls.len());
        for (url, t) in urls.iter().zip(&together) {
            let one = index.source_state(url).await.unwrap();
            assert_eq!(&t.source.url, url);
            assert_eq!(
                (&t.source, &t.latest, &t.baseline),
                (&one.source, &one.latest, &one.baseline),
                "{url}"
            );
            let (mut a, mut b) = (t.damaged.clone(), one.damaged.clone());
            a.sort();
            b.sort();
            assert_eq!(a, b, "{url}");
        }
        assert!(
            together
                .iter()
                .any(|s| s.latest.is_some() && s.baseline.is_some())
        );
        assert!(together.iter().any(|s| !s.damaged.is_empty()));
        let new = &together[known];
        assert!(new.latest.is_none() && new.baseline.is_none() && new.damaged.is_empty());
        assert_eq!(together[known + 1].source, together[0].source);

        let mut asked = shas.clone();
        asked.push("0".repeat(64));
        let firsts = index.first_snapshots_with_bodies(&asked).await.unwrap();
        assert_eq!(firsts.len(), asked.len());
        for (sha, first) in asked.iter().zip(&firsts) {
            assert_eq!(
                first,
                &index.first_snapshot_with_body(sha).await.unwrap(),
                "{sha}"
            );
        }
        assert!(firsts[..shas.len()].iter().all(Option::is_some));
        assert!(firsts[shas.len()].is_none());
    });
}
