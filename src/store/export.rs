//! `export`: the archive's WARC files as the store holds them, and for a
//! WACZ, the CDX index of every capture in them (responses and revisits:
//! redirects, error pages and 304s too) and the page list the index's
//! snapshots give. The layout of the exported files is `wacz.rs`'s; this
//! file only gathers their inputs from the store. It never writes the
//! store.
//!
//! Nothing damaged is exported: every record is checked first (its gzip
//! member decompresses whole, its block matches its digest), a damaged one
//! is left out, and the caller is told which, so it can say so and fail;
//! the CDX index is made from the records as exported. Nothing secret is
//! either: the pages' URLs lose their user-info, as the records' target
//! URIs did when they were written.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::wacz::{CdxEntry, PageEntry, WarcPart};
use super::{SnapshotRow, Store};
use crate::base::web::without_userinfo;
use crate::error::{Error, Result};

/// What an export takes from the store: the sound records of its WARC
/// files, and a line for each damaged one left out.
pub struct Contents {
    pub parts: Vec<WarcPart>,
    /// `warc/<file> at offset N (L bytes)`, the snapshot whose response it
    /// was if any, and what is wrong with it.
    pub left_out: Vec<String>,
    /// The snapshots whose records are exported.
    snapshots: Vec<SnapshotRow>,
}

/// The store's WARC files, in order (run ids sort by time); an error when
/// nothing has been archived yet.
pub fn warc_files(store: &Store) -> Result<Vec<PathBuf>> {
    let mut warcs: Vec<PathBuf> = store
        .warc_files()?
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".warc.gz"))
        .collect();
    warcs.sort();
    if warcs.is_empty() {
        return Err(store.err("nothing archived yet (run `citeguard check` first)"));
    }
    Ok(warcs)
}

/// Reads every WARC file of the store once, record by record, and keeps
/// what is sound.
pub async fn contents(store: &Store) -> Result<Contents> {
    let warcs = warc_files(store)?;
    let all = store
        .index
        .all_snapshots()
        .await
        .map_err(|e| store.err(e))?;
    let mut parts = Vec::new();
    let mut left_out = Vec::new();
    let mut dropped: HashSet<(String, u64)> = HashSet::new();
    for path in warcs {
        let name = file_name(&path);
        let found = super::warc::members(&path).map_err(|e| Error::io(&path, e))?;
        let mut ranges = Vec::new();
        for m in &found {
            let Some(why) = &m.damage else {
                ranges.push((m.offset, m.length));
                continue;
            };
            let of = match all
                .iter()
                .find(|s| s.warc_file.as_deref() == Some(&name) && s.warc_offset == Some(m.offset))
            {
                Some(s) => format!(
                    " (the response of {} taken {})",
                    without_userinfo(&s.url),
                    s.fetched_at
                ),
                None => String::new(),
            };
            left_out.push(format!(
                "warc/{name} at offset {} ({} bytes){of}: {why}",
                m.offset, m.length
            ));
            dropped.insert((name.clone(), m.offset));
        }
        let whole = ranges.len() == found.len();
        parts.push(WarcPart {
            path,
            ranges: (!whole).then_some(ranges),
        });
    }
    let snapshots = all
        .into_iter()
        .filter(|s| match (&s.warc_file, s.warc_offset) {
            (Some(f), Some(o)) => !dropped.contains(&(f.clone(), o)),
            _ => true,
        })
        .collect();
    Ok(Contents {
        parts,
        left_out,
        snapshots,
    })
}

/// One WARC file holding every sound exchange of the archive.
pub fn write_warc(contents: &Contents, out: &Path) -> Result<()> {
    super::wacz::concat_parts(&contents.parts, out).map_err(|e| Error::io(out, e))
}

/// A WACZ package of the archive: the sound records of its WARC files,
/// with a CDX entry for every response and revisit record among them and a
/// page for every HTML source.
pub fn write_wacz(store: &Store, contents: &Contents, out: &Path) -> Result<()> {
    let pages = pages(&contents.snapshots);
    let mut cdx = Vec::new();
    for part in &contents.parts {
        cdx.extend(cdx_of_part(part).map_err(|e| Error::io(&part.path, e))?);
    }
    let title = format!("citeguard archive of {}", store.root().display());
    super::wacz::write_wacz_parts(out, &contents.parts, &cdx, &pages, &title)
        .map_err(|e| Error::io(out, e))
}

/// A CDX entry for every response and revisit record of one WARC file, as
/// replay tools index them: a revisit's type is `warc/revisit`, its digest
/// the payload's it refers to, and its status absent (0) when its block
/// is empty (a 304's).
pub fn cdx_of(path: &Path) -> std::io::Result<Vec<CdxEntry>> {
    cdx_of_part(&WarcPart {
        path: path.to_path_buf(),
        ranges: None,
    })
}

/// [`cdx_of`] the records of a WARC file that go out, at their offsets in
/// the exported file.
fn cdx_of_part(part: &WarcPart) -> std::io::Result<Vec<CdxEntry>> {
    let filename = file_name(&part.path);
    Ok(super::warc::index_reader(part.reader()?)?
        .into_iter()
        .map(|r| CdxEntry {
            ts: time(&r.date),
            mime: if r.record_type == "revisit" {
                Some("warc/revisit".to_string())
            } else {
                r.mime
            },
            status: r.status.unwrap_or(0),
            digest: r.payload_digest.unwrap_or_default(),
            filename: filename.clone(),
            offset: r.offset,
            length: r.length,
            url: r.target_uri,
        })
        .collect())
}

/// The WACZ's pages: each HTML snapshot with a WARC record, under the URL
/// that answered, once per URL (the first snapshot of it).
pub fn pages(snapshots: &[SnapshotRow]) -> Vec<PageEntry> {
    let mut pages = Vec::new();
    let mut seen_pages = HashSet::new();
    for s in snapshots {
        if s.warc_file.is_none() {
            continue;
        }
        let url = without_userinfo(s.final_url.as_deref().unwrap_or(&s.url)).into_owned();
        let is_page = crate::compare::content_family(s.content_type.as_deref()) == "html";
        if is_page && seen_pages.insert(url.clone()) {
            pages.push(PageEntry {
                url,
                ts: time(&s.fetched_at),
                title: None,
            });
        }
    }
    pages
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
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
            warc_record_id: None,
        }
    }

    #[test]
    fn each_html_url_with_a_record_is_one_page_under_the_url_that_answered() {
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
        let pages = pages(&snapshots);
        let urls: Vec<_> = pages.iter().map(|p| p.url.as_str()).collect();
        assert_eq!(urls, ["https://a.example/home"]);
        assert_eq!(pages[0].ts.to_rfc3339(), "2026-11-01T03:00:00+00:00");
    }

    #[test]
    fn every_response_and_revisit_of_a_warc_file_is_indexed_where_it_is() {
        use crate::store::warc::{Body, Capture, Earlier, Exchange, Profile, WarcWriter};
        use chrono::TimeZone;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run1.warc.gz");
        let mut w = WarcWriter::create(&path).unwrap();
        let date = Utc.with_ymd_and_hms(2026, 11, 1, 3, 0, 0).unwrap();
        let html = vec![(
            "Content-Type".to_string(),
            "text/html; charset=utf-8".to_string(),
        )];
        let moved = vec![("Location".to_string(), "/new".to_string())];
        let ex = |uri, status, headers, body| Exchange {
            target_uri: uri,
            date,
            method: "GET",
            request_headers: &[],
            http_version: "HTTP/1.1",
            status,
            response_headers: headers,
            body: Body::Bytes(body),
            ip: None,
        };
        let redirect = w
            .write_exchange(&ex("https://a.example/old", 301, &moved, b""))
            .unwrap();
        let page = w
            .write_exchange(&ex("https://a.example/new", 200, &html, b"<p>page</p>"))
            .unwrap();
        let earlier = Earlier {
            record_id: Some(page.record_id.clone()),
            target_uri: "https://a.example/new".into(),
            date: "2026-11-01T03:00:00Z".into(),
            payload_digest: page.payload_digest.clone(),
        };
        let not_modified = w
            .write_capture(
                &ex("https://a.example/new", 304, &[], b""),
                &Capture::Revisit {
                    profile: Profile::ServerNotModified,
                    earlier: &earlier,
                },
            )
            .unwrap();
        w.sync().unwrap();

        let cdx = cdx_of(&path).unwrap();
        let listed: Vec<_> = cdx
            .iter()
            .map(|c| {
                (
                    c.url.as_str(),
                    c.status,
                    c.mime.as_deref(),
                    c.offset,
                    c.length,
                )
            })
            .collect();
        assert_eq!(
            listed,
            [
                (
                    "https://a.example/old",
                    301,
                    None,
                    redirect.offset,
                    redirect.length
                ),
                (
                    "https://a.example/new",
                    200,
                    Some("text/html"),
                    page.offset,
                    page.length
                ),
                (
                    "https://a.example/new",
                    0,
                    Some("warc/revisit"),
                    not_modified.offset,
                    not_modified.length
                ),
            ],
            "requests and the warcinfo are not indexed"
        );
        assert!(cdx.iter().all(|c| c.filename == "run1.warc.gz"));
        assert_eq!(cdx[1].digest, page.payload_digest);
        assert_eq!(cdx[2].digest, page.payload_digest, "the revisit's payload");
        assert_eq!(cdx[1].ts, date);
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

    #[tokio::test]
    async fn a_damaged_record_is_left_out_named_and_the_rest_re_indexed() {
        let (dir, store) = testing::store().await;
        let at = "2026-11-01T03:00:00Z";
        let snap = |url| Snap {
            warc: true,
            ..Snap::html(url, at, "<p>x</p>")
        };
        let a = testing::put(&store, "run1", &snap("https://example.org/a")).await;
        let b = testing::put(&store, "run1", &snap("https://example.org/b")).await;
        let path = store.warc_dir().join("run1.warc.gz");
        let mut bytes = std::fs::read(&path).unwrap();
        let (a_offset, a_length) = (a.warc_offset.unwrap(), a.warc_length.unwrap());
        bytes[(a_offset + a_length / 2) as usize] ^= 0x55;
        std::fs::write(&path, &bytes).unwrap();

        let contents = contents(&store).await.unwrap();
        assert_eq!(contents.left_out.len(), 1, "{:?}", contents.left_out);
        let line = &contents.left_out[0];
        assert!(
            line.starts_with(&format!(
                "warc/run1.warc.gz at offset {a_offset} ({a_length} bytes)"
            )) && line.contains("the response of https://example.org/a taken"),
            "{line}"
        );
        let cdx = cdx_of_part(&contents.parts[0]).unwrap();
        let urls: Vec<_> = cdx.iter().map(|c| (c.url.as_str(), c.offset)).collect();
        let b_offset = b.warc_offset.unwrap();
        assert_eq!(urls, [("https://example.org/b", b_offset - a_length)]);
        assert_eq!(
            pages(&contents.snapshots)
                .iter()
                .map(|p| p.url.as_str())
                .collect::<Vec<_>>(),
            ["https://example.org/b"]
        );

        let out = dir.path().join("all.warc.gz");
        write_warc(&contents, &out).unwrap();
        let exported = crate::store::warc::members(&out).unwrap();
        assert!(exported.iter().all(|m| m.damage.is_none()), "{exported:?}");
        let record = crate::store::warc::read_record(&out, b_offset - a_length).unwrap();
        assert_eq!(
            record.header("WARC-Target-URI"),
            Some("https://example.org/b")
        );
    }

    #[test]
    fn the_pages_of_a_wacz_carry_no_credentials() {
        let mut r = row(
            "http://alice:s3cretpass@a.example/",
            None,
            "text/html",
            true,
        );
        r.final_url = Some("http://bob:hunter2@a.example/home".into());
        assert_eq!(pages(&[r])[0].url, "http://a.example/home");
    }
}
