//! `export`: the archive's WARC files as the store holds them, and what the
//! index knows of their records turned into the CDX index and page list of
//! a WACZ. The layout of the exported files is `wacz.rs`'s; this file only
//! gathers their inputs from the store. It never writes the store.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::wacz::{CdxEntry, PageEntry};
use super::{SnapshotRow, Store};
use crate::error::{Error, Result};

/// The store's WARC files, in order (run ids sort by time); an error when
/// nothing has been archived yet.
pub fn warc_files(store: &Store) -> Result<Vec<PathBuf>> {
    let mut warcs: Vec<PathBuf> = std::fs::read_dir(store.warc_dir())
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.to_string_lossy().ends_with(".warc.gz"))
                .collect()
        })
        .unwrap_or_default();
    warcs.sort();
    if warcs.is_empty() {
        return Err(store.err("nothing archived yet (run `citeguard check` first)"));
    }
    Ok(warcs)
}

/// One WARC file holding every exchange of the archive.
pub fn write_warc(warcs: &[PathBuf], out: &Path) -> Result<()> {
    super::wacz::concat_warcs(warcs, out).map_err(|e| Error::io(out, e))
}

/// A WACZ package of the archive: its WARC files, with a CDX entry for
/// every snapshot's record and a page for every HTML source.
pub async fn write_wacz(store: &Store, warcs: &[PathBuf], out: &Path) -> Result<()> {
    let snapshots = store
        .index
        .all_snapshots()
        .await
        .map_err(|e| store.err(e))?;
    let (cdx, pages) = cdx_and_pages(&snapshots);
    let title = format!("citeguard archive of {}", store.root().display());
    super::wacz::write_wacz(out, warcs, &cdx, &pages, &title).map_err(|e| Error::io(out, e))
}

/// What the WACZ indexes: each snapshot with a WARC record is a CDX entry
/// under the URL that answered; each HTML one is a page, once per URL
/// (the first snapshot of it).
pub fn cdx_and_pages(snapshots: &[SnapshotRow]) -> (Vec<CdxEntry>, Vec<PageEntry>) {
    let mut cdx = Vec::new();
    let mut pages = Vec::new();
    let mut seen_pages = HashSet::new();
    for s in snapshots {
        let (Some(file), Some(offset), Some(length)) = (&s.warc_file, s.warc_offset, s.warc_length)
        else {
            continue;
        };
        let url = s.final_url.clone().unwrap_or_else(|| s.url.clone());
        cdx.push(CdxEntry {
            url: url.clone(),
            ts: time(&s.fetched_at),
            mime: s.content_type.clone(),
            status: s.status,
            digest: format!("sha256:{}", s.body_sha256),
            filename: file.clone(),
            offset,
            length,
        });
        let is_page = crate::compare::content_family(s.content_type.as_deref()) == "html";
        if is_page && seen_pages.insert(url.clone()) {
            pages.push(PageEntry {
                url,
                ts: time(&s.fetched_at),
                title: None,
            });
        }
    }
    (cdx, pages)
}

/// A time the index holds, or the epoch for what is not a time stamp.
fn time(s: &str) -> DateTime<Utc> {
    crate::base::time::parse_rfc3339(s).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::{self, Snap};

    fn row(url: &str, final_url: Option<&str>, mime: &str, warc: bool) -> SnapshotRow {
        SnapshotRow {
            id: 1,
            source_id: 1,
            url: url.into(),
            run_id: "run1".into(),
            fetched_at: "2026-11-01T03:00:00Z".into(),
            status: 200,
            final_url: final_url.map(str::to_string),
            content_type: Some(mime.into()),
            charset: None,
            size: 3,
            truncated: false,
            body_sha256: "ab".repeat(32),
            text_sha256: None,
            norm_sha256: None,
            etag: None,
            last_modified: None,
            warc_file: warc.then(|| "run1.warc.gz".into()),
            warc_offset: warc.then_some(100),
            warc_length: warc.then_some(50),
        }
    }

    #[test]
    fn each_record_is_indexed_under_the_url_that_answered_and_each_html_url_is_one_page() {
        let snapshots = [
            row(
                "https://a.example/",
                Some("https://a.example/home"),
                "text/html",
                true,
            ),
            row(
                "https://a.example/",
                Some("https://a.example/home"),
                "text/html",
                true,
            ),
            row("https://a.example/s.css", None, "text/css", true),
            row("https://b.example/", None, "text/html", false),
        ];
        let (cdx, pages) = cdx_and_pages(&snapshots);
        let urls: Vec<_> = cdx.iter().map(|c| c.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://a.example/home",
                "https://a.example/home",
                "https://a.example/s.css"
            ],
            "a snapshot without a record is not indexed"
        );
        assert_eq!(cdx[0].digest, format!("sha256:{}", "ab".repeat(32)));
        assert_eq!(
            (cdx[0].filename.as_str(), cdx[0].offset, cdx[0].length),
            ("run1.warc.gz", 100, 50)
        );
        assert_eq!(cdx[0].ts.to_rfc3339(), "2026-11-01T03:00:00+00:00");
        let pages: Vec<_> = pages.iter().map(|p| p.url.as_str()).collect();
        assert_eq!(pages, ["https://a.example/home"]);
    }

    #[tokio::test]
    async fn an_empty_store_has_nothing_to_export() {
        let (_dir, store) = testing::store().await;
        let err = warc_files(&store).unwrap_err().to_string();
        assert!(err.contains("nothing archived yet"), "{err}");
    }

    #[tokio::test]
    async fn the_warc_files_are_listed_in_run_order() {
        let (_dir, store) = testing::store().await;
        for run in ["20261102T030000Z-0001", "20261101T030000Z-0002"] {
            let snap = Snap {
                warc: true,
                ..Snap::html("https://example.org/", "2026-11-01T03:00:00Z", "<p>x</p>")
            };
            testing::put(&store, run, &snap).await;
        }
        std::fs::write(store.warc_dir().join("notes.txt"), "not a WARC").unwrap();
        let names: Vec<_> = warc_files(&store)
            .unwrap()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "20261101T030000Z-0002.warc.gz",
                "20261102T030000Z-0001.warc.gz"
            ]
        );
    }
}
