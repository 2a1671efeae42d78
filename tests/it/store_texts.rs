//! A baseline stored with its text hashes deferred has them kept once a
//! comparison makes its text, on both index backends (SQLite, and
//! PostgreSQL from `.ci/setup-postgres`): a later run compares the hashes
//! and never reads the baseline's record again.
//!
//! The observable is the rows, and the baseline's record itself: after
//! the second run the records of both baselines are damaged in place (the
//! WARC file stays, so the run still takes them for whole). In the third
//! run the page whose baseline has its hashes kept is judged on them
//! (similarity 1.0); the page whose baseline is still deferred has to make
//! its text from the damaged record, cannot, and is reported
//! `missing`/`snapshot-lost` (had the first read its record, it would have
//! been reported so too). `verify` then names both damaged records, and
//! the next run says both baselines are lost.

use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::Output;

use citeguard::store::{Access, SnapshotRow, Store};

use crate::util::{Dir, json, stderr, stdout};
use crate::web::Web;

fn write_post(dir: &Dir, web: &Web) {
    let html = format!(
        "<!doctype html><html><body><article>\n\
         <p>The <a href=\"{0}/churn\">ministry statement</a> says so.</p>\n\
         <p>As <a href=\"{0}/drift\">the report on the dam</a> explains.</p>\n\
         </article></body></html>\n",
        web.base()
    );
    dir.write("post.html", html);
}

fn check(dir: &Dir, store: &[&str]) -> Output {
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
    ];
    args.extend(store);
    dir.run(args)
}

/// The store's config as `check` reads it from `store` (its flags), with
/// a directory of copies resolved under `dir`.
fn config(dir: &Dir, store: &[&str]) -> citeguard::config::Config {
    let mut config = citeguard::config::Config::default();
    let at = |s: &str| -> PathBuf {
        if s.contains("://") {
            PathBuf::from(s)
        } else {
            dir.join(s)
        }
    };
    for pair in store.chunks(2) {
        match pair {
            ["--store", s] => config.store = at(s),
            ["--objects", o] => config.objects = Some(at(o).to_string_lossy().into_owned()),
            _ => panic!("unexpected store flags {pair:?}"),
        }
    }
    config
}

/// The baseline of the cited page at `url`, as the index holds it, and
/// where its WARC record is on disk.
fn baseline(config: &citeguard::config::Config, url: &str) -> (SnapshotRow, PathBuf, u64) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = Store::open_config(config, Access::Read).await.unwrap();
        let source = store.index.find_source(url).await.unwrap().unwrap();
        let row = store.index.baseline(source.id).await.unwrap().unwrap();
        let (path, offset) = store.warc_record(
            row.warc_file.as_deref().unwrap(),
            row.warc_offset.unwrap(),
            row.warc_length,
        );
        store.close().await;
        (row, path, offset)
    })
}

/// Overwrites the middle of the gzip member at `offset` (`length` bytes)
/// in place: the file stays, the record no longer reads back.
fn damage(path: &Path, offset: u64, length: u64) {
    let mut f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.seek(SeekFrom::Start(offset + length / 2)).unwrap();
    f.write_all(&[0xa5; 24]).unwrap();
    f.sync_all().unwrap();
}

fn citation<'a>(report: &'a serde_json::Value, path: &str) -> &'a serde_json::Value {
    report["citations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["url"].as_str().unwrap_or_default().ends_with(path))
        .unwrap()
}

fn similarity(report: &serde_json::Value, path: &str) -> Option<f64> {
    citation(report, path)["similarity"].as_f64()
}

fn three_runs(web: &Web, store: &[&str]) {
    let dir = Dir::new();
    write_post(&dir, web);
    let config = config(&dir, store);
    let (churn, drift) = (web.url("/churn"), web.url("/drift"));

    let first = check(&dir, store);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    for url in [&churn, &drift] {
        let (row, _, _) = baseline(&config, url);
        assert_eq!(row.text_sha256.as_deref(), Some("deferred"), "{url}");
        assert_eq!(row.norm_sha256, None);
    }

    // `/churn`'s bytes differ on every load, its text never: run 2 compares its text
    // with the baseline's, made from the baseline's record, and keeps the
    // baseline's hashes. `/drift` is the same bytes: nothing compared.
    let second = check(&dir, store);
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
    let r2 = json(&second);
    assert_eq!(similarity(&r2, "/churn"), Some(1.0), "{r2}");
    let (kept, churn_at, churn_offset) = baseline(&config, &churn);
    let sha = kept.text_sha256.clone().unwrap();
    assert!(
        sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit()),
        "{sha}"
    );
    assert!(kept.norm_sha256.as_ref().is_some_and(|n| n.len() == 64));
    let (still, drift_at, drift_offset) = baseline(&config, &drift);
    assert_eq!(still.text_sha256.as_deref(), Some("deferred"));

    let mut verify = vec!["verify"];
    verify.extend(store);
    let verified = dir.run(&verify);
    assert_eq!(
        verified.status.code(),
        Some(0),
        "{}{}",
        stdout(&verified),
        stderr(&verified)
    );

    // Both baselines' records damaged in place; the pages change again.
    damage(&churn_at, churn_offset, kept.warc_length.unwrap());
    damage(&drift_at, drift_offset, still.warc_length.unwrap());
    web.change_pages();
    let third = check(&dir, store);
    let r3 = json(&third);
    // Judged on the kept hashes: the baseline's record was not read.
    assert_eq!(similarity(&r3, "/churn"), Some(1.0), "{r3}");
    assert_eq!(citation(&r3, "/churn")["verdict"], "ok", "{r3}");
    // The control: a deferred baseline's text must be made from its
    // record, which no longer reads back: the copy the citation relies on
    // is lost, and the report says so (not a silent `ok`).
    assert_eq!(similarity(&r3, "/drift"), None, "{r3}");
    let lost = citation(&r3, "/drift");
    assert_eq!(
        (lost["verdict"].as_str(), lost["reason"].as_str()),
        (Some("missing"), Some("snapshot-lost")),
        "{r3}"
    );
    assert!(
        lost["detail"]
            .as_str()
            .is_some_and(|d| d.contains(&still.body_sha256[..12])),
        "{lost}"
    );
    assert_eq!(third.status.code(), Some(1), "{}", stderr(&third));
    assert_eq!(baseline(&config, &churn).0, kept, "kept as it was");

    // `verify` names both damaged records and marks them; the next run
    // says both baselines are lost, the one judged on its hashes too.
    let verified = dir.run(&verify);
    assert_eq!(verified.status.code(), Some(1), "{}", stderr(&verified));
    let listing = stdout(&verified);
    for (row, url) in [(&kept, &churn), (&still, &drift)] {
        let at = format!(
            "{} at {} ({url})",
            row.warc_file.as_deref().unwrap(),
            row.warc_offset.unwrap()
        );
        assert!(listing.contains(&at), "{at} not in {listing}");
    }
    let fourth = check(&dir, store);
    let r4 = json(&fourth);
    for path in ["/churn", "/drift"] {
        let c = citation(&r4, path);
        assert_eq!(
            (c["verdict"].as_str(), c["reason"].as_str()),
            (Some("missing"), Some("snapshot-lost")),
            "{path}: {r4}"
        );
    }
}

#[test]
fn a_deferred_baselines_text_hashes_are_kept_and_not_made_again_on_sqlite() {
    let web = Web::on("127.0.0.171");
    three_runs(&web, &["--store", "store"]);
}

#[test]
fn a_deferred_baselines_text_hashes_are_kept_and_not_made_again_on_postgres() {
    let web = Web::on("127.0.0.172");
    let db = crate::store_backends::database();
    three_runs(&web, &["--store", db.as_str(), "--objects", "copies"]);
}
