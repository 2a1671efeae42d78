//! For the store's unit tests only: a store in a temporary directory, and
//! snapshots put into it the way a run puts them (object, text, WARC
//! record, index row). Never built outside `cargo test`.

use super::index::NewSnapshot;
use super::warc::{Body, Exchange, WarcWriter};
use super::{Access, SnapshotRow, Store};
use crate::model::{Check, Reason, Verdict};

/// A writable store in a fresh temporary directory, which lives as long as
/// the returned guard.
pub async fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = Store::open(&dir.path().join("snapshots"), Access::Write)
        .await
        .expect("a new store opens");
    (dir, store)
}

/// What to store for one snapshot.
pub struct Snap<'a> {
    pub url: &'a str,
    pub fetched_at: &'a str,
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
    /// The extracted main text, if one is kept.
    pub text: Option<&'a str>,
    /// Whether a WARC record is written for it.
    pub warc: bool,
}

impl<'a> Snap<'a> {
    pub fn html(url: &'a str, fetched_at: &'a str, body: &'a str) -> Snap<'a> {
        Snap {
            url,
            fetched_at,
            content_type: Some("text/html"),
            body: body.as_bytes(),
            text: None,
            warc: false,
        }
    }
}

/// Stores a snapshot of `snap.url` in run `run`, and returns its row.
pub async fn put(store: &Store, run: &str, snap: &Snap<'_>) -> SnapshotRow {
    let body_sha = store.objects.put_bytes(snap.body).expect("the body");
    let text_sha = snap
        .text
        .map(|t| store.objects.put_bytes(t.as_bytes()).expect("the text"));
    let written = snap.warc.then(|| {
        let dir = store.warc_dir();
        std::fs::create_dir_all(&dir).expect("warc/");
        let mut w = WarcWriter::create(&dir.join(format!("{run}.warc.gz"))).expect("a WARC");
        let headers = [("Content-Type".to_string(), "text/html".to_string())];
        let written = w
            .write_exchange(&Exchange {
                target_uri: snap.url,
                date: chrono::Utc::now(),
                method: "GET",
                request_headers: &[],
                http_version: "HTTP/1.1",
                status: 200,
                response_headers: &headers,
                body: Body::Bytes(snap.body),
                ip: None,
            })
            .expect("a record");
        w.sync().expect("synced");
        written
    });
    let source = store.index.source(snap.url).await.expect("a source row");
    let id = store
        .index
        .insert_snapshot(
            source.id,
            &NewSnapshot {
                run_id: run,
                fetched_at: snap.fetched_at,
                status: 200,
                final_url: None,
                content_type: snap.content_type,
                charset: None,
                size: snap.body.len() as u64,
                truncated: false,
                body_sha256: &body_sha,
                text_sha256: text_sha.as_deref(),
                norm_sha256: None,
                etag: None,
                last_modified: None,
                warc_file: written.as_ref().map(|w| w.file.as_str()),
                warc_offset: written.as_ref().map(|w| w.offset),
                warc_length: written.as_ref().map(|w| w.length),
            },
        )
        .await
        .expect("a snapshot row");
    store
        .index
        .snapshot(id)
        .await
        .expect("read back")
        .expect("just stored")
}

/// A check as the fetcher hands it over, of `url`.
pub fn check(url: &str, verdict: Verdict, reason: Reason, status: Option<u16>) -> Check {
    Check {
        url: url.into(),
        verdict,
        reason,
        status,
        final_url: None,
        redirects: Vec::new(),
        content_type: None,
        attempts: 1,
        elapsed_ms: 1,
        detail: None,
        checked_at: String::new(),
    }
}

/// A cited passage of some length, and a page that has nothing in common
/// with it.
pub const CITED: &str = "The minister said on Tuesday that the new dam on the river would be \
    finished by the spring, and that the villages below it would be moved to higher ground \
    before the water rose.";
pub const OTHER: &str = "Our shop sells garden furniture, barbecues and outdoor lighting at \
    prices you will love, with free delivery on every order over fifty pounds this summer.";
