//! WACZ 1.1 export: the WARCs, a CDXJ index, pages and a datapackage.
//!
//! This module owns the layout of an exported `.wacz` (a zip that replay
//! tools open as one web archive) and of an exported plain `.warc.gz`. It
//! takes the WARC files and what the index knows about their records as
//! arguments; it never opens the store's index itself. Every output is
//! written whole or not at all (`whole_file`), so a failure never leaves
//! half a file under the asked-for name.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};

use super::warc::HashingWriter;
use super::whole_file::WholeFile;
use crate::base::time::rfc3339;
use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use zip::CompressionMethod;
use zip::write::SimpleFileOptions;

/// One page of the archive, as `pages/pages.jsonl` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageEntry {
    pub url: String,
    pub ts: DateTime<Utc>,
    pub title: Option<String>,
}

/// One response record, as `indexes/index.cdxj` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CdxEntry {
    pub url: String,
    pub ts: DateTime<Utc>,
    pub mime: Option<String>,
    /// The HTTP status; 0 for a record that holds none (a revisit with an
    /// empty block), which the index then leaves out.
    pub status: u16,
    /// The record's payload digest, e.g. `sha256:<BASE32>`.
    pub digest: String,
    /// The WARC file's name (no directory): one of the exported WARCs.
    pub filename: String,
    /// Offset and length of the record's gzip member in that file.
    pub offset: u64,
    pub length: u64,
}

/// The WACZ spec version this writer follows (what `wacz validate` checks).
const WACZ_VERSION: &str = "1.1.1";

/// Writes `out` as a WACZ 1.1 file: each WARC under `archive/` (stored, not
/// re-compressed: replay tools read records by offset straight out of the
/// zip), `indexes/index.cdxj`, `pages/pages.jsonl`, `datapackage.json` (every
/// file with its SHA-256 and size) and `datapackage-digest.json`.
pub fn write_wacz(
    out: &Path,
    warcs: &[PathBuf],
    cdx: &[CdxEntry],
    pages: &[PageEntry],
    title: &str,
) -> io::Result<()> {
    write_wacz_parts(out, &WarcPart::all(warcs), cdx, pages, title)
}

/// What of one WARC file goes into an export: all of it, or some byte
/// ranges of it (its sound records, when others are damaged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WarcPart {
    pub path: PathBuf,
    /// `(offset, length)` ranges, in file order; `None` for the whole file.
    pub ranges: Option<Vec<(u64, u64)>>,
}

impl WarcPart {
    /// Each file whole.
    pub fn all(warcs: &[PathBuf]) -> Vec<WarcPart> {
        warcs
            .iter()
            .map(|path| WarcPart {
                path: path.clone(),
                ranges: None,
            })
            .collect()
    }

    /// How many bytes go out.
    fn size(&self) -> io::Result<u64> {
        match &self.ranges {
            None => Ok(std::fs::metadata(&self.path)?.len()),
            Some(ranges) => Ok(ranges.iter().map(|(_, len)| len).sum()),
        }
    }

    /// What goes out, as one stream (for indexing it as exported).
    pub fn reader(&self) -> io::Result<Box<dyn Read>> {
        let Some(ranges) = &self.ranges else {
            return Ok(Box::new(File::open(&self.path)?));
        };
        let mut out: Box<dyn Read> = Box::new(io::empty());
        for &(offset, length) in ranges {
            let mut file = File::open(&self.path)?;
            file.seek(io::SeekFrom::Start(offset))?;
            out = Box::new(out.chain(file.take(length)));
        }
        Ok(out)
    }

    /// Copies what goes out to `out`; returns the bytes copied.
    fn copy_to(&self, out: &mut dyn Write) -> io::Result<u64> {
        let mut file = File::open(&self.path)?;
        let Some(ranges) = &self.ranges else {
            return io::copy(&mut file, out);
        };
        let mut copied = 0;
        for &(offset, length) in ranges {
            file.seek(io::SeekFrom::Start(offset))?;
            let n = io::copy(&mut (&mut file).take(length), out)?;
            if n != length {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("{} changed during the export", self.path.display()),
                ));
            }
            copied += n;
        }
        Ok(copied)
    }
}

/// [`write_wacz`] of some parts of the WARC files: the CDX entries must
/// give offsets within the parts as exported.
pub fn write_wacz_parts(
    out: &Path,
    warcs: &[WarcPart],
    cdx: &[CdxEntry],
    pages: &[PageEntry],
    title: &str,
) -> io::Result<()> {
    let paths: Vec<PathBuf> = warcs.iter().map(|w| w.path.clone()).collect();
    let names = warc_names(&paths)?;
    if let Some(entry) = cdx.iter().find(|e| !names.contains(&e.filename)) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "the index names {}, which is not among the WARC files exported",
                entry.filename
            ),
        ));
    }

    let now = Utc::now();
    let mtime = zip_time(now);
    let stored = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Stored)
        .last_modified_time(mtime)
        .unix_permissions(0o644);
    let deflated = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(mtime)
        .unix_permissions(0o644);

    let mut zip = zip::ZipWriter::new(WholeFile::create(out)?);
    let mut resources = Vec::new();

    for (warc, name) in warcs.iter().zip(&names) {
        let size = warc.size()?;
        let path = format!("archive/{name}");
        // Past 4 GiB a zip entry needs ZIP64 fields, which must be asked
        // for before the data is written.
        zip.start_file(&path, stored.large_file(size >= u64::from(u32::MAX)))?;
        let mut hashing = HashingWriter::new(&mut zip, Sha256::new());
        let copied = warc.copy_to(&mut hashing)?;
        resources.push(Resource::new(path, hex::encode(hashing.digest()), copied));
    }

    let index = cdxj(cdx);
    add_small(
        &mut zip,
        &mut resources,
        "indexes/index.cdxj",
        &index,
        deflated,
    )?;
    let pages = pages_jsonl(pages);
    add_small(
        &mut zip,
        &mut resources,
        "pages/pages.jsonl",
        &pages,
        deflated,
    )?;

    let package = DataPackage {
        profile: "data-package",
        title,
        created: rfc3339(now),
        wacz_version: WACZ_VERSION,
        software: format!("citeguard {}", env!("CARGO_PKG_VERSION")),
        resources,
    };
    let package = serde_json::to_vec_pretty(&package).map_err(io::Error::other)?;
    zip.start_file("datapackage.json", deflated)?;
    zip.write_all(&package)?;

    let digest = PackageDigest {
        path: "datapackage.json",
        hash: format!("sha256:{}", hex::encode(Sha256::digest(&package))),
    };
    let digest = serde_json::to_vec_pretty(&digest).map_err(io::Error::other)?;
    zip.start_file("datapackage-digest.json", deflated)?;
    zip.write_all(&digest)?;

    zip.finish()?.commit()
}

/// Writes the WARC files one after the other into `out`. Each record is a
/// gzip member of its own, and gzip members concatenate, so the result is
/// one valid `.warc.gz` (with each input's `warcinfo` record where it began).
pub fn concat_warcs(warcs: &[PathBuf], out: &Path) -> io::Result<()> {
    concat_parts(&WarcPart::all(warcs), out)
}

/// [`concat_warcs`] of some parts of the WARC files.
pub fn concat_parts(warcs: &[WarcPart], out: &Path) -> io::Result<()> {
    let mut file = WholeFile::create(out)?;
    for warc in warcs {
        warc.copy_to(&mut file)?;
    }
    file.commit()
}

/// The SURT form of a URL, the sort key of CDXJ lines, following the
/// convention of the WACZ replayers (wabac.js, pywb): scheme dropped, all
/// lowercase, a leading `www.` (or `www2.` …) dropped, host labels reversed
/// and joined by commas, a non-default port kept as `:port`, then `)`, the
/// path (`/` if empty) and the query with its parameters sorted by name.
/// The fragment is dropped. Not-HTTP URLs are returned unchanged, as those
/// tools do. `http://www.example.com/a?b` → `com,example)/a?b`.
pub fn surt(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => "80",
        "https" => "443",
        _ => return url.to_string(),
    };
    let rest = rest.split('#').next().unwrap_or_default();
    let rest = percent_encode_non_ascii(rest).to_lowercase();
    let split = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path_query) = rest.split_at(split);
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = split_port(host_port);
    let host = host.trim_end_matches('.');
    let host = strip_www(host);

    let mut key = if host.starts_with('[') {
        host.to_string()
    } else {
        host.split('.').rev().collect::<Vec<_>>().join(",")
    };
    if let Some(port) = port
        && port != default_port
        && !port.is_empty()
    {
        key.push(':');
        key.push_str(port);
    }
    key.push(')');
    let (path, query) = match path_query.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path_query, None),
    };
    key.push_str(if path.is_empty() { "/" } else { path });
    if let Some(query) = query.filter(|q| !q.is_empty()) {
        let mut params: Vec<&str> = query.split('&').collect();
        // Stable sort by name only, as URLSearchParams.sort() does: the
        // values of a repeated name keep their order.
        params.sort_by_key(|p| p.split('=').next().unwrap_or_default());
        key.push('?');
        key.push_str(&params.join("&"));
    }
    key
}

/// The CDXJ index: `<surt> <14-digit timestamp> <json>` per record, sorted
/// as plain bytes (the order replay tools binary-search in).
fn cdxj(entries: &[CdxEntry]) -> Vec<u8> {
    let mut lines: Vec<String> = entries
        .iter()
        .map(|e| {
            // Numbers as strings, as pywb and py-wacz write them.
            let fields = CdxFields {
                url: &e.url,
                mime: e.mime.as_deref(),
                status: (e.status != 0).then(|| e.status.to_string()),
                digest: &e.digest,
                length: e.length.to_string(),
                offset: e.offset.to_string(),
                filename: &e.filename,
            };
            let json = serde_json::to_string(&fields).unwrap_or_default();
            format!("{} {} {json}\n", surt(&e.url), e.ts.format("%Y%m%d%H%M%S"))
        })
        .collect();
    lines.sort();
    lines.concat().into_bytes()
}

fn pages_jsonl(pages: &[PageEntry]) -> Vec<u8> {
    let mut out = String::from(r#"{"format":"json-pages-1.0","id":"pages","title":"All Pages"}"#);
    out.push('\n');
    for (i, page) in pages.iter().enumerate() {
        let ts = rfc3339(page.ts);
        // Page ids are optional in WACZ but a line without one (and without
        // a title) reads as a blank row to `wacz validate`'s table check, so
        // every page gets one: stable for the same list of pages.
        let id = Sha256::digest(format!("{i} {ts} {}", page.url));
        let line = PageLine {
            id: hex::encode(&id[..16]),
            url: &page.url,
            ts,
            title: page.title.as_deref(),
        };
        out.push_str(&serde_json::to_string(&line).unwrap_or_default());
        out.push('\n');
    }
    out.into_bytes()
}

#[derive(Serialize)]
struct CdxFields<'a> {
    url: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    mime: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<String>,
    digest: &'a str,
    length: String,
    offset: String,
    filename: &'a str,
}

#[derive(Serialize)]
struct PageLine<'a> {
    id: String,
    url: &'a str,
    ts: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
}

#[derive(Serialize)]
struct DataPackage<'a> {
    profile: &'static str,
    title: &'a str,
    created: String,
    wacz_version: &'static str,
    software: String,
    resources: Vec<Resource>,
}

#[derive(Serialize)]
struct Resource {
    name: String,
    path: String,
    hash: String,
    bytes: u64,
}

impl Resource {
    fn new(path: String, sha256_hex: String, bytes: u64) -> Resource {
        Resource {
            name: resource_name(&path),
            path,
            hash: format!("sha256:{sha256_hex}"),
            bytes,
        }
    }
}

#[derive(Serialize)]
struct PackageDigest {
    path: &'static str,
    hash: String,
}

/// A data package resource name: the file's name, lowercase, limited to the
/// characters the Data Package spec allows (`a-z 0-9 - _ . /`).
fn resource_name(path: &str) -> String {
    let base = path.rsplit('/').next().unwrap_or(path);
    base.to_lowercase()
        .chars()
        .map(|c| match c {
            'a'..='z' | '0'..='9' | '-' | '_' | '.' => c,
            _ => '-',
        })
        .collect()
}

fn add_small(
    zip: &mut zip::ZipWriter<WholeFile>,
    resources: &mut Vec<Resource>,
    path: &str,
    bytes: &[u8],
    options: SimpleFileOptions,
) -> io::Result<()> {
    zip.start_file(path, options)?;
    zip.write_all(bytes)?;
    resources.push(Resource::new(
        path.to_string(),
        hex::encode(Sha256::digest(bytes)),
        bytes.len() as u64,
    ));
    Ok(())
}

/// The WARCs' file names, which become `archive/<name>`: each must have one
/// and no two may be the same.
fn warc_names(warcs: &[PathBuf]) -> io::Result<Vec<String>> {
    let mut seen = HashSet::new();
    let mut names = Vec::with_capacity(warcs.len());
    for warc in warcs {
        let name = warc
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{}: not a WARC file name", warc.display()),
                )
            })?
            .to_string();
        if !seen.insert(name.clone()) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("two WARC files are named {name}"),
            ));
        }
        names.push(name);
    }
    Ok(names)
}

/// A zip time stamp (local-time-free MS-DOS fields, 1980 to 2107).
fn zip_time(t: DateTime<Utc>) -> zip::DateTime {
    let fields = (
        u16::try_from(t.year()).unwrap_or(1980),
        t.month() as u8,
        t.day() as u8,
        t.hour() as u8,
        t.minute() as u8,
        t.second() as u8,
    );
    zip::DateTime::from_date_and_time(fields.0, fields.1, fields.2, fields.3, fields.4, fields.5)
        .unwrap_or_default()
}

fn split_port(host_port: &str) -> (&str, Option<&str>) {
    if host_port.starts_with('[') {
        // IPv6 literal: the port, if any, follows the closing bracket.
        return match host_port.find(']') {
            Some(end) => {
                let (host, rest) = host_port.split_at(end + 1);
                (host, rest.strip_prefix(':'))
            }
            None => (host_port, None),
        };
    }
    match host_port.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (host_port, None),
    }
}

/// Drops a leading `www.` or `www<digits>.`.
fn strip_www(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix("www") {
        let rest = rest.trim_start_matches(|c: char| c.is_ascii_digit());
        if let Some(rest) = rest.strip_prefix('.')
            && !rest.is_empty()
        {
            return rest;
        }
    }
    host
}

/// An IRI's non-ASCII characters as percent-encoded UTF-8, so an IRI and
/// its encoded URI get the same key.
fn percent_encode_non_ascii(s: &str) -> std::borrow::Cow<'_, str> {
    if s.is_ascii() {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for b in s.bytes() {
        if b.is_ascii() {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use std::io::Read;

    fn ts(s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, s).unwrap()
    }

    fn entry(url: &str, second: u32, file: &str, offset: u64) -> CdxEntry {
        CdxEntry {
            url: url.to_string(),
            ts: ts(second),
            mime: Some("text/html".to_string()),
            status: 200,
            digest: "sha256:ABC".to_string(),
            filename: file.to_string(),
            offset,
            length: 10,
        }
    }

    #[test]
    fn surt_reverses_the_host_and_drops_scheme_and_www() {
        assert_eq!(surt("http://www.example.com/a?b"), "com,example)/a?b");
        assert_eq!(surt("https://Example.COM"), "com,example)/");
        assert_eq!(surt("https://www2.example.com/"), "com,example)/");
        assert_eq!(surt("https://wwwx.example.com/"), "com,example,wwwx)/");
        assert_eq!(
            surt("https://sub.example.co.uk/A/B.html"),
            "uk,co,example,sub)/a/b.html"
        );
        assert_eq!(surt("http://example.com:80/"), "com,example)/");
        assert_eq!(surt("https://example.com:443/"), "com,example)/");
        assert_eq!(surt("http://example.com:8080/x"), "com,example:8080)/x");
        assert_eq!(surt("http://user:pw@example.com/x#frag"), "com,example)/x");
        assert_eq!(
            surt("http://example.com/?b=2&a=1&b=1"),
            "com,example)/?a=1&b=2&b=1"
        );
        assert_eq!(surt("http://example.com/?"), "com,example)/");
        assert_eq!(surt("http://127.0.0.1:3000/p"), "1,0,0,127:3000)/p");
        assert_eq!(surt("http://[::1]:8080/p"), "[::1]:8080)/p");
        assert_eq!(
            surt("https://example.com/caf%C3%A9"),
            "com,example)/caf%c3%a9"
        );
        assert_eq!(surt("https://example.com/café"), "com,example)/caf%c3%a9");
        assert_eq!(
            surt("mailto:someone@example.com"),
            "mailto:someone@example.com"
        );
    }

    #[test]
    fn cdxj_lines_are_sorted_with_surt_timestamp_and_json() {
        let lines = cdxj(&[
            entry("https://b.example/", 9, "r.warc.gz", 500),
            entry("https://a.example/x", 5, "r.warc.gz", 100),
            entry("https://a.example/x", 1, "r.warc.gz", 300),
        ]);
        let text = String::from_utf8(lines).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("example,a)/x 20240102030401 {"));
        assert!(lines[1].starts_with("example,a)/x 20240102030405 {"));
        assert!(lines[2].starts_with("example,b)/ 20240102030409 {"));
        let json: serde_json::Value =
            serde_json::from_str(lines[0].splitn(3, ' ').nth(2).unwrap()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "url": "https://a.example/x", "mime": "text/html", "status": "200",
                "digest": "sha256:ABC", "length": "10", "offset": "300",
                "filename": "r.warc.gz"
            })
        );
    }

    #[test]
    fn pages_start_with_the_json_pages_header() {
        let pages = pages_jsonl(&[
            PageEntry {
                url: "https://a.example/".into(),
                ts: ts(1),
                title: Some("A \"quoted\" title".into()),
            },
            PageEntry {
                url: "https://b.example/".into(),
                ts: ts(2),
                title: None,
            },
        ]);
        let text = String::from_utf8(pages).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(
            lines[0],
            serde_json::json!({"format": "json-pages-1.0", "id": "pages", "title": "All Pages"})
        );
        let id = |line: &serde_json::Value| line["id"].as_str().unwrap().to_string();
        assert_eq!(id(&lines[1]).len(), 32);
        assert_ne!(id(&lines[1]), id(&lines[2]));
        assert_eq!(
            lines[1],
            serde_json::json!({"id": id(&lines[1]), "url": "https://a.example/", "ts": "2024-01-02T03:04:01Z", "title": "A \"quoted\" title"})
        );
        assert_eq!(
            lines[2],
            serde_json::json!({"id": id(&lines[2]), "url": "https://b.example/", "ts": "2024-01-02T03:04:02Z"})
        );
    }

    #[test]
    fn wacz_stores_warcs_uncompressed_and_lists_every_file_with_its_hash() {
        let dir = tempfile::tempdir().unwrap();
        let warc = dir.path().join("Run-1.warc.gz");
        std::fs::write(&warc, b"pretend gzip members").unwrap();
        let out = dir.path().join("out.wacz");
        write_wacz(
            &out,
            std::slice::from_ref(&warc),
            &[entry("https://a.example/", 1, "Run-1.warc.gz", 0)],
            &[],
            "My archive",
        )
        .unwrap();

        let mut zip = zip::ZipArchive::new(File::open(&out).unwrap()).unwrap();
        let names: Vec<String> = zip.file_names().map(str::to_string).collect();
        assert_eq!(
            names,
            [
                "archive/Run-1.warc.gz",
                "indexes/index.cdxj",
                "pages/pages.jsonl",
                "datapackage.json",
                "datapackage-digest.json"
            ]
        );
        let stored = zip.by_name("archive/Run-1.warc.gz").unwrap();
        assert_eq!(stored.compression(), CompressionMethod::Stored);
        drop(stored);

        let mut package = Vec::new();
        zip.by_name("datapackage.json")
            .unwrap()
            .read_to_end(&mut package)
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&package).unwrap();
        assert_eq!(json["profile"], "data-package");
        assert_eq!(json["wacz_version"], "1.1.1");
        assert_eq!(json["title"], "My archive");
        let resources = json["resources"].as_array().unwrap();
        assert_eq!(resources.len(), 3);
        for res in resources {
            let path = res["path"].as_str().unwrap();
            let mut bytes = Vec::new();
            zip.by_name(path).unwrap().read_to_end(&mut bytes).unwrap();
            assert_eq!(
                res["hash"],
                format!("sha256:{}", hex::encode(Sha256::digest(&bytes)))
            );
            assert_eq!(res["bytes"], bytes.len());
        }
        assert_eq!(resources[0]["name"], "run-1.warc.gz");

        let mut digest = String::new();
        zip.by_name("datapackage-digest.json")
            .unwrap()
            .read_to_string(&mut digest)
            .unwrap();
        let digest: serde_json::Value = serde_json::from_str(&digest).unwrap();
        assert_eq!(
            digest["hash"],
            format!("sha256:{}", hex::encode(Sha256::digest(&package)))
        );
    }

    #[test]
    fn a_refused_export_leaves_no_file_behind() {
        let dir = tempfile::tempdir().unwrap();
        let warc = dir.path().join("a.warc.gz");
        std::fs::write(&warc, b"x").unwrap();
        let out = dir.path().join("out.wacz");
        let err = write_wacz(
            &out,
            std::slice::from_ref(&warc),
            &[entry("https://a.example/", 1, "other.warc.gz", 0)],
            &[],
            "t",
        )
        .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        let missing = dir.path().join("missing.warc.gz");
        assert!(write_wacz(&out, std::slice::from_ref(&missing), &[], &[], "t").is_err());
        assert!(concat_warcs(&[warc.clone(), missing], &out).is_err());
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["a.warc.gz"]);
    }

    #[test]
    fn concatenated_warcs_hold_each_file_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.warc.gz");
        let b = dir.path().join("b.warc.gz");
        std::fs::write(&a, b"first ").unwrap();
        std::fs::write(&b, b"second").unwrap();
        let out = dir.path().join("all.warc.gz");
        std::fs::write(&out, b"old contents are replaced").unwrap();
        concat_warcs(&[a, b], &out).unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), b"first second");
    }
}
