//! `export`: the archive's WARC files as the store holds them, and what the
//! index knows of their records turned into the CDX index and page list of
//! a WACZ. The layout of the exported files is `wacz.rs`'s; this file only
//! gathers their inputs from the store. It never writes the store.
//!
//! Nothing damaged is exported: every record is checked first (its gzip
//! member decompresses whole, its block matches its digest), a damaged one
//! is left out, and the caller is told which, so it can say so and fail.
//! Nothing secret is either: the URLs of the index and pages lose their
//! user-info, as the records' target URIs did when they were written.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::wacz::{CdxEntry, PageEntry, WarcPart};
use super::warc::Member;
use super::{SnapshotRow, Store};
use crate::base::web::without_userinfo;
use crate::error::{Error, Result};

/// What an export takes from the store: the sound parts of its WARC files,
/// and a line for each damaged record left out.
pub struct Contents {
    pub parts: Vec<WarcPart>,
    /// `warc/<file> at offset N (L bytes): why`, and the snapshot whose
    /// response it was, if any.
    pub left_out: Vec<String>,
    /// Per WARC file, its members as found.
    members: HashMap<String, Vec<Member>>,
    snapshots: Vec<SnapshotRow>,
}

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

/// Reads every WARC file of the store once, record by record, and keeps
/// what is sound.
pub async fn contents(store: &Store) -> Result<Contents> {
    let warcs = warc_files(store)?;
    let snapshots = store
        .index
        .all_snapshots()
        .await
        .map_err(|e| store.err(e))?;
    let mut responses: HashMap<(&str, u64), &SnapshotRow> = HashMap::new();
    for s in &snapshots {
        if let (Some(file), Some(offset)) = (&s.warc_file, s.warc_offset) {
            responses.insert((file.as_str(), offset), s);
        }
    }
    let mut parts = Vec::new();
    let mut left_out = Vec::new();
    let mut members = HashMap::new();
    for path in warcs {
        let name = file_name(&path);
        let found = super::warc::members(&path).map_err(|e| Error::io(&path, e))?;
        let damaged: Vec<&Member> = found.iter().filter(|m| m.damage.is_some()).collect();
        for m in &damaged {
            let of = match responses.get(&(name.as_str(), m.offset)) {
                Some(s) => format!(
                    " (the response of {} taken {})",
                    without_userinfo(&s.url),
                    s.fetched_at
                ),
                None => String::new(),
            };
            left_out.push(format!(
                "warc/{name} at offset {} ({} bytes){of}: {}",
                m.offset,
                m.length,
                m.damage.as_deref().unwrap_or_default()
            ));
        }
        let ranges = (!damaged.is_empty()).then(|| {
            found
                .iter()
                .filter(|m| m.damage.is_none())
                .map(|m| (m.offset, m.length))
                .collect()
        });
        parts.push(WarcPart { path, ranges });
        members.insert(name, found);
    }
    Ok(Contents {
        parts,
        left_out,
        members,
        snapshots,
    })
}

impl Contents {
    /// Where the record that starts at `offset` of `file` is in the
    /// export: its offset once the damaged records before it are left
    /// out; `None` when it is not a sound record.
    fn exported_offset(&self, file: &str, offset: u64) -> Option<u64> {
        let members = self.members.get(file)?;
        let i = members.binary_search_by_key(&offset, |m| m.offset).ok()?;
        if members[i].damage.is_some() {
            return None;
        }
        let dropped: u64 = members[..i]
            .iter()
            .filter(|m| m.damage.is_some())
            .map(|m| m.length)
            .sum();
        Some(offset - dropped)
    }
}

/// One WARC file holding every sound exchange of the archive.
pub fn write_warc(archive: &Contents, out: &Path) -> Result<()> {
    super::wacz::concat_parts(&archive.parts, out).map_err(|e| Error::io(out, e))
}

/// A WACZ package of the archive: its WARC files (their sound records),
/// with a CDX entry for every snapshot's record and a page for every HTML
/// source.
pub fn write_wacz(store: &Store, archive: &Contents, out: &Path) -> Result<()> {
    let located: Vec<SnapshotRow> = archive
        .snapshots
        .iter()
        .filter_map(|s| {
            let offset = archive.exported_offset(s.warc_file.as_deref()?, s.warc_offset?)?;
            Some(SnapshotRow {
                warc_offset: Some(offset),
                ..s.clone()
            })
        })
        .collect();
    let (cdx, pages) = cdx_and_pages(&located);
    let title = format!("citeguard archive of {}", store.root().display());
    super::wacz::write_wacz_parts(out, &archive.parts, &cdx, &pages, &title)
        .map_err(|e| Error::io(out, e))
}

/// What the WACZ indexes: each snapshot with a WARC record is a CDX entry
/// under the URL that answered (without user-info, as the record's target
/// URI); each HTML one is a page, once per URL (the first snapshot of it).
pub fn cdx_and_pages(snapshots: &[SnapshotRow]) -> (Vec<CdxEntry>, Vec<PageEntry>) {
    let mut cdx = Vec::new();
    let mut pages = Vec::new();
    let mut seen_pages = HashSet::new();
    for s in snapshots {
        let (Some(file), Some(offset), Some(length)) = (&s.warc_file, s.warc_offset, s.warc_length)
        else {
            continue;
        };
        let url = without_userinfo(s.final_url.as_deref().unwrap_or(&s.url)).into_owned();
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
        assert_eq!(contents.exported_offset("run1.warc.gz", a_offset), None);
        let b_offset = b.warc_offset.unwrap();
        assert_eq!(
            contents.exported_offset("run1.warc.gz", b_offset),
            Some(b_offset - a_length)
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
    fn the_index_of_a_wacz_carries_no_credentials() {
        let mut r = row(
            "http://alice:s3cretpass@a.example/",
            None,
            "text/html",
            true,
        );
        r.final_url = Some("http://bob:hunter2@a.example/home".into());
        let (cdx, pages) = cdx_and_pages(&[r]);
        assert_eq!(cdx[0].url, "http://a.example/home");
        assert_eq!(pages[0].url, "http://a.example/home");
    }
}
