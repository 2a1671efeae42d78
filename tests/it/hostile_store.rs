//! The store under attack: objects, WARC records and the index damaged on
//! disk, a store on a read-only disk or where a file is, its lock file
//! deleted under a running check, and credentials in cited URLs and in
//! `citeguard.toml` that must reach no report, WARC record or WACZ.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use citeguard::store::{Access, SnapshotRow, Store};
use flate2::read::MultiGzDecoder;
use sha2::{Digest, Sha256};

use crate::util::{CITEGUARD, Dir, json, stderr, stdout};
use crate::web::Web;

/// `check post.html` into `./store`, JSON out, no retries, plus `extra`.
fn check(dir: &Dir, extra: &[&str]) -> Output {
    let mut args = vec![
        "check",
        "post.html",
        "--format",
        "json",
        "--retries",
        "0",
        "--host-delay",
        "0",
        "--store",
        "store",
    ];
    args.extend(extra);
    dir.run(args)
}

/// A post citing each of `urls`.
fn write_post(dir: &Dir, urls: &[String]) {
    let links: String = urls
        .iter()
        .enumerate()
        .map(|(i, u)| format!("<p>See <a href=\"{u}\">source {i}</a>.</p>\n"))
        .collect();
    dir.write(
        "post.html",
        format!("<html><body><article>{links}</article></body></html>"),
    );
}

/// Every snapshot row of the store at `path`, read through the library.
fn snapshots(path: &Path) -> Vec<SnapshotRow> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = Store::open(path, Access::Read).await.unwrap();
        let rows = store.index.all_snapshots().await.unwrap();
        store.close().await;
        rows
    })
}

fn snapshot_of(path: &Path, url_ends: &str) -> SnapshotRow {
    snapshots(path)
        .into_iter()
        .find(|s| s.url.ends_with(url_ends))
        .unwrap_or_else(|| panic!("no snapshot of {url_ends}"))
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// One line on stderr, exit 2, naming what is wrong.
fn one_line_error(o: &Output, says: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.contains(says), "{err}");
}

// ----- integrity

#[test]
fn a_damaged_body_is_found_refused_and_kept_again_by_the_next_check() {
    let web = Web::on("127.0.0.50");
    let dir = Dir::new();
    let store = dir.join("store");
    // A page whose bytes are the same on every load.
    write_post(&dir, &[web.url("/ok")]);
    let first = check(&dir, &[]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let snap = snapshot_of(&store, "/ok");
    let url = web.url("/ok");
    let whole = dir
        .run(["show", &url, "--as", "raw", "--store", "store"])
        .stdout;
    assert_eq!(sha256(&whole), snap.body_sha256);
    // The body's one copy is its response record: one byte of it flipped.
    let warc = store.join("warc").join(snap.warc_file.as_deref().unwrap());
    let mut bytes = std::fs::read(&warc).unwrap();
    let (offset, length) = (snap.warc_offset.unwrap(), snap.warc_length.unwrap());
    bytes[(offset + length / 2) as usize] ^= 0x55;
    std::fs::write(&warc, &bytes).unwrap();

    let v = dir.run(["verify", "--store", "store"]);
    assert_eq!(v.status.code(), Some(1), "{}", stdout(&v));
    let listing = stdout(&v);
    let record = format!("{} at {offset}", snap.warc_file.as_deref().unwrap());
    assert!(
        listing.contains(&format!("corrupt: warc/{record} (body of {url}")),
        "{listing}"
    );
    for form in ["raw", "html"] {
        let o = dir.run(["show", &url, "--as", form, "--store", "store"]);
        one_line_error(&o, "is damaged");
        assert!(o.stdout.is_empty(), "{form}: no broken bytes are served");
    }

    // The same page fetched again: marked damaged, its bytes are written
    // whole again (a response record, not a revisit of the damaged one),
    // so the body is sound again and the mark is cleared; the damaged
    // record itself stays, named, as records are never rewritten.
    let second = check(&dir, &[]);
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
    let raw = dir.run(["show", &url, "--as", "raw", "--store", "store"]);
    assert_eq!(raw.status.code(), Some(0), "{}", stderr(&raw));
    assert_eq!(raw.stdout, whole);
    let v = dir.run(["verify", "--store", "store"]);
    let listing = stdout(&v);
    assert!(!listing.contains("corrupt: "), "{listing}");
    assert!(listing.contains(&format!("warc: {record}")), "{listing}");
}

#[test]
fn a_damaged_warc_record_is_refused_by_show_and_left_out_of_every_export() {
    let web = Web::on("127.0.0.51");
    let dir = Dir::new();
    let store = dir.join("store");
    write_post(&dir, &[web.url("/stable"), web.url("/fine")]);
    let first = check(&dir, &[]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let damaged = snapshot_of(&store, "/stable");
    let sound = snapshot_of(&store, "/fine");
    let warc = store
        .join("warc")
        .join(damaged.warc_file.as_deref().unwrap());
    let mut bytes = std::fs::read(&warc).unwrap();
    let (offset, length) = (damaged.warc_offset.unwrap(), damaged.warc_length.unwrap());
    bytes[(offset + length / 2) as usize] ^= 0x55;
    std::fs::write(&warc, &bytes).unwrap();

    let v = dir.run(["verify", "--store", "store"]);
    assert_eq!(v.status.code(), Some(1), "{}", stdout(&v));
    assert!(stdout(&v).contains("warc: "), "{}", stdout(&v));

    let o = dir.run([
        "show",
        &web.url("/stable"),
        "--as",
        "warc",
        "--store",
        "store",
    ]);
    one_line_error(&o, "is damaged");
    assert!(o.stdout.is_empty());
    let o = dir.run([
        "show",
        &web.url("/fine"),
        "--as",
        "warc",
        "--store",
        "store",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    // export: every sound record goes out, the damaged one is named and
    // left out, and the exit code says something is missing.
    let o = dir.run(["export", "--warc", "all.warc.gz", "--store", "store"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("left out a damaged record")
            && err.contains(&format!("at offset {offset}"))
            && err.contains("/stable"),
        "{err}"
    );
    let members = citeguard::store::warc::members(&dir.join("all.warc.gz")).unwrap();
    assert!(members.iter().all(|m| m.damage.is_none()), "{members:?}");
    let responses: Vec<String> = members
        .iter()
        .map(|m| citeguard::store::warc::read_record(&dir.join("all.warc.gz"), m.offset).unwrap())
        .filter(|r| r.header("WARC-Type") == Some("response"))
        .filter_map(|r| r.header("WARC-Target-URI").map(str::to_string))
        .collect();
    assert!(responses.contains(&web.url("/fine")), "{responses:?}");
    assert!(!responses.contains(&web.url("/stable")), "{responses:?}");

    let o = dir.run(["export", "--wacz", "all.wacz", "--store", "store"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("left out a damaged record"));
    let entries = unzip(&dir.join("all.wacz"));
    let cdx = &entries["indexes/index.cdxj"];
    let cdx = String::from_utf8_lossy(cdx);
    assert!(!cdx.contains("/stable"), "{cdx}");
    // The sound record is where the re-made index says.
    let line = cdx.lines().find(|l| l.contains("/fine")).unwrap();
    let fields: serde_json::Value = serde_json::from_str(
        line.split_once(" {")
            .map(|(_, j)| format!("{{{j}"))
            .unwrap()
            .as_str(),
    )
    .unwrap();
    let at: u64 = fields["offset"].as_str().unwrap().parse().unwrap();
    let name = format!("archive/{}", sound.warc_file.as_deref().unwrap());
    let record = &entries[&name][at as usize..];
    let text = gunzip_one(record);
    assert!(
        text.starts_with("WARC/1.1\r\n") && text.contains(&web.url("/fine")),
        "{text}"
    );
}

#[test]
fn a_damaged_index_is_reported_and_never_written_to() {
    let web = Web::on("127.0.0.52");
    let dir = Dir::new();
    let store = dir.join("store");
    let urls: Vec<String> = (0..40).map(|i| web.url(&format!("/many/{i}"))).collect();
    write_post(&dir, &urls);
    let first = check(&dir, &[]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let index = store.join("index.sqlite");
    let wal = std::fs::metadata(store.join("index.sqlite-wal")).map_or(0, |m| m.len());
    assert_eq!(wal, 0, "the writer leaves the whole index in the main file");
    // A page of the citations table overwritten: the file still opens,
    // and every other table reads.
    let bytes = damage_root_page(&index, "citations");

    let v = dir.run(["verify", "--store", "store"]);
    assert_eq!(v.status.code(), Some(1), "{}{}", stdout(&v), stderr(&v));
    assert!(stdout(&v).contains("index: "), "{}", stdout(&v));

    let o = check(&dir, &[]);
    one_line_error(&o, "fails SQLite's integrity check");
    assert!(stderr(&o).contains("nothing was written"), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    assert_eq!(
        std::fs::read(&index).unwrap(),
        bytes,
        "not one byte written"
    );
    let o = dir.run(["accept", &urls[0], "--store", "store"]);
    one_line_error(&o, "fails SQLite's integrity check");
}

#[test]
fn damage_that_keeps_the_index_files_time_stops_a_run_and_the_next_one_checks_first() {
    let web = Web::on("127.0.0.58");
    let dir = Dir::new();
    let store = dir.join("store");
    let urls: Vec<String> = (0..40).map(|i| web.url(&format!("/many/{i}"))).collect();
    write_post(&dir, &urls);
    let first = check(&dir, &[]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let index = store.join("index.sqlite");
    let mark = store.join("index.sqlite-closed");
    assert!(mark.is_file(), "a clean close leaves its mark");

    // Damage below the file system's notice: a page of the citations
    // table overwritten, the file's time put back. The next run trusts
    // the file as its last writer closed it, and meets the damage only
    // where it writes the run's citations, at its end.
    let closed_at = std::fs::metadata(&index).unwrap().modified().unwrap();
    damage_root_page(&index, "citations");
    std::fs::File::options()
        .write(true)
        .open(&index)
        .unwrap()
        .set_modified(closed_at)
        .unwrap();
    let o = check(&dir, &[]);
    one_line_error(&o, "store");
    assert!(!mark.exists(), "a run that failed leaves no mark");

    // So the next writer reads every page first, and writes nothing.
    let o = check(&dir, &[]);
    one_line_error(&o, "fails SQLite's integrity check");
    let v = dir.run(["verify", "--store", "store"]);
    assert_eq!(v.status.code(), Some(1), "{}{}", stdout(&v), stderr(&v));
}

/// Overwrites the root page of a table of the index behind SQLite's back;
/// gives the file's bytes as it leaves them.
fn damage_root_page(index: &Path, table: &str) -> Vec<u8> {
    let page = root_page(index, table);
    let mut bytes = std::fs::read(index).unwrap();
    let size = u16::from_be_bytes([bytes[16], bytes[17]]) as usize;
    let start = (page - 1) * size;
    bytes[start..start + size].fill(0xa5);
    std::fs::write(index, &bytes).unwrap();
    bytes
}

/// The root page of a table, read from the schema (page 1) of a database
/// file.
fn root_page(index: &Path, table: &str) -> usize {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        use sqlx::{ConnectOptions, Row};
        let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(index)
            .read_only(true)
            .connect()
            .await
            .unwrap();
        let page: i64 = sqlx::query("SELECT rootpage FROM sqlite_master WHERE name = $1")
            .bind(table)
            .fetch_one(&mut conn)
            .await
            .unwrap()
            .get(0);
        page as usize
    })
}

/// Runs `script` with `$STORE` bind-mounted read-only, in a private mount
/// namespace (as root, or as root of a user namespace).
fn with_read_only_store(script: &str, store: &Path, dir: &Path) -> Output {
    let full = format!(
        "set -u; mount --bind \"$STORE\" \"$STORE\" && mount -o remount,bind,ro \"$STORE\" \
         || exit 97; {script}"
    );
    let root = Command::new("id").arg("-u").output().unwrap().stdout == b"0\n";
    let mut cmd = Command::new("unshare");
    cmd.arg(if root { "-m" } else { "-rm" });
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
fn every_reader_works_on_a_read_only_store() {
    let web = Web::on("127.0.0.53");
    let dir = Dir::new();
    let store = dir.join("store");
    write_post(&dir, &[web.url("/stable")]);
    let first = check(&dir, &[]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let url = web.url("/stable");
    let script = format!(
        "touch \"$STORE/x\" 2>/dev/null && echo writable; \
         \"$CITEGUARD\" report --format json --store \"$STORE\" > report.json 2> report.err; \
         echo \"report=$?\"; \
         \"$CITEGUARD\" show {url} --as text --store \"$STORE\" > show.txt 2> show.err; \
         echo \"show=$?\"; \
         \"$CITEGUARD\" diff {url} --store \"$STORE\" > diff.txt 2> diff.err; echo \"diff=$?\"; \
         \"$CITEGUARD\" export --warc all.warc.gz --store \"$STORE\" 2> export.err; \
         echo \"export=$?\"; \
         \"$CITEGUARD\" check post.html --no-memento --store \"$STORE\" > /dev/null \
         2> check.err; echo \"check=$?\""
    );
    let o = with_read_only_store(&script, &store, dir.path());
    assert_ne!(
        o.status.code(),
        Some(97),
        "no read-only mount: {}",
        stderr(&o)
    );
    let out = stdout(&o);
    assert!(!out.contains("writable"), "the store is read-only: {out}");
    for (step, err) in [
        ("report=0", "report.err"),
        ("show=0", "show.err"),
        ("diff=0", "diff.err"),
        ("export=0", "export.err"),
    ] {
        assert!(out.contains(step), "{out}: {}", dir.read(err));
    }
    assert_eq!(
        dir.read("report.json")
            .matches("\"verdict\": \"ok\"")
            .count(),
        1
    );
    assert!(!dir.read("show.txt").is_empty());
    assert!(out.contains("check=2"), "a writer is refused: {out}");
    let err = dir.read("check.err");
    assert_eq!(err.lines().count(), 1, "{err}");
}

/// `check` prints the report while the store keeps it: a store that cannot
/// keep the report (its objects directory turned into a file) still gives
/// the whole report on stdout, then one line naming the store and exit 2;
/// a report written with `--output` is put in place only once the store
/// kept it, so the file keeps what it held.
#[test]
fn a_report_the_store_cannot_keep_is_printed_and_the_run_fails_in_one_line() {
    let web = Web::on("127.0.0.57");
    let dir = Dir::new();
    write_post(&dir, &[web.url("/stable")]);
    let first = check(&dir, &["--no-memento"]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let objects = dir.join("store/objects");
    std::fs::remove_dir_all(&objects).unwrap();
    std::fs::write(&objects, "not a directory").unwrap();

    let o = check(&dir, &["--no-memento"]);
    one_line_error(&o, "store");
    assert!(stderr(&o).contains("report"), "{}", stderr(&o));
    let report = json(&o);
    let rows = report["citations"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{report}");
    assert_eq!(rows[0]["url"], web.url("/stable"));
    assert_eq!(rows[0]["verdict"], "ok");

    dir.write("kept.json", "what the last good run wrote");
    let o = check(&dir, &["--no-memento", "--output", "kept.json"]);
    one_line_error(&o, "store");
    assert!(o.stdout.is_empty(), "{}", stdout(&o));
    assert_eq!(dir.read("kept.json"), "what the last good run wrote");
}

#[test]
fn a_store_path_that_is_a_file_is_one_clear_line() {
    let dir = Dir::new();
    dir.write("store", "not a store");
    dir.write("post.html", "<p>No links.</p>");
    for args in [
        vec!["check", "post.html", "--store", "store"],
        vec!["report", "--store", "store"],
        vec!["verify", "--store", "store"],
        vec!["export", "--warc", "x.warc.gz", "--store", "store"],
    ] {
        let o = dir.run(&args);
        one_line_error(&o, "not a directory");
        assert!(!stderr(&o).contains("os error"), "{args:?}: {}", stderr(&o));
    }
}

// ----- the lock

#[test]
fn deleting_the_lock_file_lets_no_second_writer_in_and_the_first_run_finishes() {
    let web = Web::on("127.0.0.54");
    web.set_delay(Duration::from_millis(500));
    let dir = Dir::new();
    let store = dir.join("store");
    let urls: Vec<String> = (0..8).map(|i| web.url(&format!("/many/{i}"))).collect();
    write_post(&dir, &urls);
    let reached = web.after_requests(2);
    let mut cmd = dir
        .citeguard([
            "check",
            "post.html",
            "--format",
            "json",
            "--per-host",
            "1",
            "--host-delay",
            "0",
            "--store",
            "store",
        ])
        .command();
    let mut first = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    reached
        .recv_timeout(Duration::from_secs(60))
        .expect("the first run reaches the web");

    // Whatever a person might take for a stale lock goes.
    let _ = std::fs::remove_file(store.join("lock"));
    let second = check(&dir, &[]);
    assert!(
        first.try_wait().unwrap().is_none(),
        "the first run was still running when the second was refused"
    );
    one_line_error(&second, "another citeguard run is writing to this store");
    assert!(
        stderr(&second).contains(&format!("(pid {})", first.id())),
        "names the writer: {}",
        stderr(&second)
    );

    let first = first.wait_with_output().unwrap();
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert_eq!(json(&first)["summary"]["ok"], 8);
    let v = dir.run(["verify", "--store", "store"]);
    assert_eq!(v.status.code(), Some(0), "{}", stdout(&v));
    assert!(!store.join("lock").exists(), "no lock file is left behind");
    assert!(
        std::fs::read_dir(store.join("tmp"))
            .unwrap()
            .next()
            .is_none(),
        "each writer's temporary directory goes with it"
    );
}

// ----- secrets

const SECRETS: [&str; 5] = [
    "s3cretpass",
    "alice",
    "c00kies3cret",
    "t0kens3cret",
    "paywalls3cret",
];

fn assert_no_secret(what: &str, text: &str) {
    for s in SECRETS {
        assert!(!text.contains(s), "{what} holds {s}:\n{text}");
    }
    // reqwest sends a URL's user-info as Basic authorization.
    assert!(!text.contains("YWxpY2U6czNjcmV0cGFzcw"), "{what}:\n{text}");
}

fn gunzip(bytes: &[u8]) -> String {
    let mut out = Vec::new();
    MultiGzDecoder::new(bytes).read_to_end(&mut out).unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

fn gunzip_one(bytes: &[u8]) -> String {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

fn unzip(path: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut out = std::collections::BTreeMap::new();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).unwrap();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        out.insert(entry.name().to_string(), bytes);
    }
    out
}

#[test]
fn credentials_reach_no_report_warc_record_wacz_or_web_archive() {
    let web = Web::on("127.0.0.55");
    let dir = Dir::new();
    let host = web.addr.ip().to_string();
    dir.write(
        "citeguard.toml",
        format!(
            "[hosts.\"{host}\"]\nheaders = {{ Cookie = \"session=c00kies3cret\", \
             Authorization = \"Bearer t0kens3cret\", X-Paywall = \"paywalls3cret\" }}\n"
        ),
    );
    let with_credentials = |path: &str| format!("http://alice:s3cretpass@{}{path}", web.addr);
    write_post(
        &dir,
        &[
            with_credentials("/stable"),
            with_credentials("/no-such-page"),
        ],
    );
    let archive = format!("--memento-endpoint={}", web.url("/archive/gate/"));
    let mut cmd = dir
        .citeguard([
            "check",
            "post.html",
            "--retries",
            "0",
            "--host-delay",
            "0",
            "--store",
            "store",
            &archive,
        ])
        .command();
    let checked = cmd.env("GITHUB_ACTIONS", "true").output().unwrap();
    assert_eq!(checked.status.code(), Some(1), "{}", stderr(&checked));
    assert_no_secret("the text report", &stdout(&checked));
    assert_no_secret("the annotations", &stderr(&checked));
    assert!(stderr(&checked).contains("::error file=post.html"));
    assert!(stdout(&checked).contains("credentials removed"));
    assert_eq!(web.hits_under("/archive/gate/http://127."), 1);
    assert_eq!(
        web.hits_under("/archive/gate/http://alice"),
        0,
        "the web archive is never told the credentials"
    );

    for format in ["text", "json", "markdown", "html", "junit", "sarif"] {
        let o = dir.run(["report", "--format", format, "--store", "store"]);
        assert_eq!(o.status.code(), Some(1), "{format}: {}", stderr(&o));
        let out = stdout(&o);
        assert_no_secret(format, &out);
        assert!(
            out.contains("credentials removed") || format == "json",
            "{format} says the URL carried credentials:\n{out}"
        );
        assert!(out.contains(&web.url("/no-such-page")), "{format}:\n{out}");
    }
    let report = json(&dir.run(["report", "--format", "json", "--store", "store"]));
    for c in report["citations"].as_array().unwrap() {
        assert_eq!(c["credentials"], true, "{c}");
    }

    // The HTML report with its offline pages.
    let o = dir.run([
        "report",
        "--format",
        "html",
        "--output",
        "report.html",
        "--store",
        "store",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    for page in std::fs::read_dir(dir.join("report-offline")).unwrap() {
        let page = page.unwrap().path();
        assert_no_secret("an offline page", &std::fs::read_to_string(&page).unwrap());
    }

    // Every WARC record of the store, as stored and as exported.
    let mut records = String::new();
    for f in std::fs::read_dir(dir.join("store/warc")).unwrap() {
        records.push_str(&gunzip(&std::fs::read(f.unwrap().path()).unwrap()));
    }
    assert_no_secret("the WARC records", &records);
    let lower = records.to_ascii_lowercase();
    for header in ["cookie", "authorization", "x-paywall"] {
        assert!(
            lower.contains(&format!("\r\n{header}: [redacted]\r\n")),
            "{header}: {records}"
        );
    }
    assert!(records.contains(&format!("WARC-Target-URI: {}", web.url("/stable"))));

    let stable = web.url("/stable");
    let o = dir.run(["show", &stable, "--as", "warc", "--store", "store"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "shown by the URL the report prints: {}",
        stderr(&o)
    );
    assert_no_secret("show --as warc", &gunzip(&o.stdout));

    let o = dir.run(["export", "--warc", "all.warc.gz", "--store", "store"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_no_secret(
        "export --warc",
        &gunzip(&std::fs::read(dir.join("all.warc.gz")).unwrap()),
    );
    let o = dir.run(["export", "--wacz", "all.wacz", "--store", "store"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for (name, bytes) in unzip(&dir.join("all.wacz")) {
        let text = if name.ends_with(".gz") {
            gunzip(&bytes)
        } else {
            String::from_utf8_lossy(&bytes).into_owned()
        };
        assert_no_secret(&name, &text);
    }
}
