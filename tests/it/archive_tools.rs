//! The archive's files, judged by the web-archiving community's own tools:
//! warcio must read every WARC record we write and pass its digests, and
//! `wacz validate` must accept our WACZ exports.
//!
//! The tools live in a Python venv that `.ci/setup-archive` creates
//! (`$CITEGUARD_PYTOOLS`, by default `~/.cache/citeguard/pytools`); these
//! tests run that script themselves when the venv is missing, so a plain
//! `cargo test` works on a fresh machine. Nothing here touches the network
//! apart from that script's package install.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use chrono::{TimeZone, Utc};
use citeguard::store::wacz::{CdxEntry, PageEntry, concat_warcs, write_wacz};
use citeguard::store::warc::{
    Body, Exchange, WarcWriter, Written, copy_member, http_payload, read_record,
};

use crate::util::{Dir, root, stderr};
use crate::web::Web;

/// The venv holding warcio, wacz and pywb, set up once per test binary
/// (`warc_replay` uses it too).
pub(crate) fn tools() -> &'static Path {
    static TOOLS: OnceLock<PathBuf> = OnceLock::new();
    TOOLS.get_or_init(|| {
        let venv = match std::env::var_os("CITEGUARD_PYTOOLS") {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => {
                let home = std::env::var_os("HOME").expect("HOME is set");
                Path::new(&home).join(".cache/citeguard/pytools")
            }
        };
        let tools = ["warcio", "wacz", "wb-manager", "wayback"];
        if !tools.iter().all(|t| venv.join("bin").join(t).is_file()) {
            let script = root().join(".ci/setup-archive");
            let status = Command::new("bash")
                .arg(&script)
                .status()
                .expect("bash runs .ci/setup-archive");
            assert!(status.success(), ".ci/setup-archive failed: {status}");
        }
        venv
    })
}

/// Runs one of the venv's tools; returns its output, stdout as text.
pub(crate) fn run(tool: &str, args: &[&str]) -> (Output, String) {
    let output = Command::new(tools().join("bin").join(tool))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {tool}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    (output, stdout)
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

/// `warcio check -v` passes the file and says "digest pass" for every
/// record, which means each one carried a digest and it was right.
fn assert_warcio_passes_every_digest(path: &Path, records: usize) {
    let (out, stdout) = run("warcio", &["check", "-v", path_str(path)]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "warcio check failed:\n{stdout}\n{stderr}"
    );
    assert_eq!(
        stdout.matches("digest pass").count(),
        records,
        "warcio check:\n{stdout}"
    );
    assert!(!stdout.contains("fail"), "warcio check:\n{stdout}");
    assert!(!stdout.contains("not checked"), "warcio check:\n{stdout}");
}

/// What `warcio index` lists: (type, target URI, HTTP status) per record.
fn warcio_index(path: &Path) -> Vec<(String, Option<String>, Option<String>)> {
    let (out, stdout) = run(
        "warcio",
        &[
            "index",
            "-f",
            "warc-type,warc-target-uri,http:status",
            path_str(path),
        ],
    );
    assert!(
        out.status.success(),
        "warcio index failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .map(|line| {
            let json: serde_json::Value = serde_json::from_str(line).unwrap();
            let field = |name: &str| json.get(name).and_then(|v| v.as_str()).map(String::from);
            (
                field("warc-type").unwrap_or_default(),
                field("warc-target-uri"),
                field("http:status"),
            )
        })
        .collect()
}

fn listed(
    rows: &[(&str, Option<&str>, Option<&str>)],
) -> Vec<(String, Option<String>, Option<String>)> {
    rows.iter()
        .map(|(t, u, s)| (t.to_string(), u.map(String::from), s.map(String::from)))
        .collect()
}

fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

/// A body that does not compress away to nothing: deterministic noise.
fn noise(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

const HTML: &[u8] = b"<!doctype html><html><head><title>A post</title></head>\
<body><p>Cited text.</p></body></html>";
const HTML_URI: &str = "https://blog.example.org/2024/post?id=7";
const PDF_URI: &str = "https://files.example.org/paper.pdf";
const IRI: &str = "https://example.org/café/naïve?q=ü";
const IRI_AS_URI: &str = "https://example.org/caf%C3%A9/na%C3%AFve?q=%C3%BC";

/// What one test archive holds, and where its responses went.
struct Archive {
    path: PathBuf,
    html: Written,
    pdf: Written,
    pdf_body: Vec<u8>,
    iri: Written,
}

/// Writes a small HTML page (from bytes, with the encoding headers of a
/// gzipped, chunked response), a ~3 MB PDF (streamed from a file, over
/// HTTP/2) and a page at a non-ASCII URL (a 404).
fn write_archive(dir: &Path, name: &str) -> Archive {
    let path = dir.join(name);
    let mut warc = WarcWriter::create(&path).unwrap();
    let date = Utc.with_ymd_and_hms(2024, 3, 1, 12, 30, 45).unwrap();
    let request = headers(&[
        ("User-Agent", "citeguard/test"),
        ("Accept", "*/*"),
        ("Accept-Encoding", "gzip, br"),
    ]);

    let html_headers = headers(&[
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Encoding", "gzip"),
        ("Transfer-Encoding", "chunked"),
        ("Content-Length", "61"),
        ("Cache-Control", "max-age=60"),
    ]);
    let html = warc
        .write_exchange(&Exchange {
            target_uri: HTML_URI,
            date,
            method: "GET",
            request_headers: &request,
            http_version: "HTTP/1.1",
            status: 200,
            response_headers: &html_headers,
            body: Body::Bytes(HTML),
            ip: Some("192.0.2.10"),
        })
        .unwrap();

    let pdf_body = noise(3 * 1024 * 1024 + 17);
    let spool = dir.join(format!("{name}.spool"));
    std::fs::write(&spool, &pdf_body).unwrap();
    let pdf_headers = headers(&[
        ("content-type", "application/pdf"),
        ("content-length", &pdf_body.len().to_string()),
    ]);
    let pdf = warc
        .write_exchange(&Exchange {
            target_uri: PDF_URI,
            date,
            method: "GET",
            request_headers: &request,
            http_version: "HTTP/2.0",
            status: 200,
            response_headers: &pdf_headers,
            body: Body::File(&spool),
            ip: Some("2001:db8::1"),
        })
        .unwrap();

    let missing_headers = headers(&[("Content-Type", "text/html")]);
    let iri = warc
        .write_exchange(&Exchange {
            target_uri: IRI,
            date,
            method: "GET",
            request_headers: &request,
            http_version: "HTTP/1.1",
            status: 404,
            response_headers: &missing_headers,
            body: Body::Bytes(b"<p>not here</p>"),
            ip: None,
        })
        .unwrap();
    warc.sync().unwrap();
    Archive {
        path,
        html,
        pdf,
        pdf_body,
        iri,
    }
}

fn expected_records() -> Vec<(String, Option<String>, Option<String>)> {
    listed(&[
        ("warcinfo", None, None),
        ("response", Some(HTML_URI), Some("200")),
        ("request", Some(HTML_URI), None),
        ("response", Some(PDF_URI), Some("200")),
        ("request", Some(PDF_URI), None),
        ("response", Some(IRI_AS_URI), Some("404")),
        ("request", Some(IRI_AS_URI), None),
    ])
}

#[test]
fn warcio_passes_the_digests_of_every_record_we_write() {
    let dir = Dir::new();
    let archive = write_archive(dir.path(), "run.warc.gz");
    assert_warcio_passes_every_digest(&archive.path, 7);
    assert_eq!(warcio_index(&archive.path), expected_records());
}

#[test]
fn replay_sees_the_decoded_body_without_the_encodings_reqwest_undid() {
    let dir = Dir::new();
    let archive = write_archive(dir.path(), "run.warc.gz");
    let file = path_str(&archive.path);

    // warcio's own view of the HTTP headers at the offset we recorded.
    let offset = archive.html.offset.to_string();
    let (out, stdout) = run("warcio", &["extract", "--headers", file, &offset]);
    assert!(out.status.success());
    let lower = stdout.to_lowercase();
    assert!(lower.contains("warc-type: response"), "{stdout}");
    assert!(!lower.contains("content-encoding"), "{stdout}");
    assert!(!lower.contains("transfer-encoding"), "{stdout}");
    assert!(
        stdout.contains(&format!("Content-Length: {}\r\n", HTML.len())),
        "{stdout}"
    );
    let (out, payload) = run("warcio", &["extract", "--payload", file, &offset]);
    assert!(out.status.success());
    assert_eq!(payload.as_bytes(), HTML);

    // The 3 MB body streamed from a file comes back byte for byte.
    let offset = archive.pdf.offset.to_string();
    let (out, _) = run("warcio", &["extract", "--payload", file, &offset]);
    assert!(out.status.success());
    assert!(out.stdout == archive.pdf_body, "the PDF payload differs");

    // Our own reader agrees, and the HTTP/2 status line is kept.
    let record = read_record(&archive.path, archive.pdf.offset).unwrap();
    assert_eq!(
        record.header("WARC-Payload-Digest"),
        Some(archive.pdf.payload_digest.as_str())
    );
    assert!(record.block.starts_with(b"HTTP/2.0 200 OK\r\n"));
    let (status, _, body) = http_payload(&record.block).unwrap();
    assert_eq!(status, 200);
    assert!(body == archive.pdf_body.as_slice());
    let iri = read_record(&archive.path, archive.iri.offset).unwrap();
    assert_eq!(iri.header("WARC-Target-URI"), Some(IRI_AS_URI));
}

#[test]
fn a_torn_last_record_is_cut_off_so_the_file_validates_again() {
    let dir = Dir::new();
    let path = dir.path().join("torn.warc.gz");
    let body = noise(50_000);
    let request = headers(&[("User-Agent", "citeguard/test")]);
    let response = headers(&[("Content-Type", "application/octet-stream")]);
    let exchange = |uri: &'static str| Exchange {
        target_uri: uri,
        date: Utc.with_ymd_and_hms(2024, 3, 2, 8, 0, 0).unwrap(),
        method: "GET",
        request_headers: &request,
        http_version: "HTTP/1.1",
        status: 200,
        response_headers: &response,
        body: Body::Bytes(&body),
        ip: None,
    };

    let mut warc = WarcWriter::create(&path).unwrap();
    warc.write_exchange(&exchange("https://a.example/1"))
        .unwrap();
    let second = warc
        .write_exchange(&exchange("https://a.example/2"))
        .unwrap();
    drop(warc);

    // A run killed mid-append: half a response member at the end.
    let mut half = Vec::new();
    copy_member(&path, second.offset, second.length, &mut half).unwrap();
    half.truncate(half.len() / 2);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(&half);
    std::fs::write(&path, &bytes).unwrap();
    // warcio still exits 0 here, but sees the torn record: a response it
    // cannot check, after the four whole ones.
    let (_, torn) = run("warcio", &["check", "-v", path_str(&path)]);
    assert!(torn.contains("digest present but not checked"), "{torn}");
    assert_eq!(warcio_index(&path).len(), 6);

    let mut warc = WarcWriter::create(&path).unwrap();
    warc.write_exchange(&exchange("https://a.example/3"))
        .unwrap();
    drop(warc);

    assert_warcio_passes_every_digest(&path, 7);
    let one = Some("https://a.example/1");
    let two = Some("https://a.example/2");
    let three = Some("https://a.example/3");
    assert_eq!(
        warcio_index(&path),
        listed(&[
            ("warcinfo", None, None),
            ("response", one, Some("200")),
            ("request", one, None),
            ("response", two, Some("200")),
            ("request", two, None),
            ("response", three, Some("200")),
            ("request", three, None),
        ])
    );
}

#[test]
fn one_copied_member_and_concatenated_files_are_valid_warcs() {
    let dir = Dir::new();
    let first = write_archive(dir.path(), "first.warc.gz");
    let second = write_archive(dir.path(), "second.warc.gz");

    // `show --as warc`: one response record on its own.
    let single = dir.path().join("single.warc.gz");
    let mut out = std::fs::File::create(&single).unwrap();
    copy_member(&first.path, first.html.offset, first.html.length, &mut out).unwrap();
    drop(out);
    assert_warcio_passes_every_digest(&single, 1);
    assert_eq!(
        warcio_index(&single),
        listed(&[("response", Some(HTML_URI), Some("200"))])
    );

    // `export --warc`: every file, one after the other.
    let all = dir.path().join("all.warc.gz");
    concat_warcs(&[first.path.clone(), second.path.clone()], &all).unwrap();
    assert_warcio_passes_every_digest(&all, 14);
    let mut expected = expected_records();
    expected.extend(expected_records());
    assert_eq!(warcio_index(&all), expected);
}

#[test]
fn wacz_validate_accepts_our_export() {
    let dir = Dir::new();
    let first = write_archive(dir.path(), "run-1.warc.gz");
    let second = write_archive(dir.path(), "run-2.warc.gz");
    let ts = Utc.with_ymd_and_hms(2024, 3, 1, 12, 30, 45).unwrap();
    let entry = |url: &str, mime: &str, status: u16, w: &Written| CdxEntry {
        url: url.to_string(),
        ts,
        mime: Some(mime.to_string()),
        status,
        digest: w.payload_digest.clone(),
        filename: w.file.clone(),
        offset: w.offset,
        length: w.length,
    };
    let mut cdx = Vec::new();
    for a in [&first, &second] {
        cdx.push(entry(HTML_URI, "text/html", 200, &a.html));
        cdx.push(entry(PDF_URI, "application/pdf", 200, &a.pdf));
        cdx.push(entry(IRI_AS_URI, "text/html", 404, &a.iri));
    }
    let pages = vec![
        PageEntry {
            url: HTML_URI.to_string(),
            ts,
            title: Some("A post".to_string()),
        },
        PageEntry {
            url: PDF_URI.to_string(),
            ts,
            title: None,
        },
    ];
    let out = dir.path().join("citations.wacz");
    write_wacz(
        &out,
        &[first.path.clone(), second.path.clone()],
        &cdx,
        &pages,
        "Citations",
    )
    .unwrap();

    let (status, stdout) = run("wacz", &["validate", "-f", path_str(&out)]);
    assert!(status.status.success(), "wacz validate:\n{stdout}");
    assert!(
        stdout.contains("Validation succeeded"),
        "wacz validate:\n{stdout}"
    );

    // The validator does check: one flipped byte in a stored WARC fails it.
    let tampered = dir.path().join("tampered.wacz");
    copy_zip_flipping_a_byte(&out, &tampered, "archive/run-1.warc.gz");
    let (status, stdout) = run("wacz", &["validate", "-f", path_str(&tampered)]);
    assert!(
        !status.status.success() || !stdout.contains("Validation succeeded"),
        "wacz validate accepted a tampered file:\n{stdout}"
    );

    // Our index agrees with the reference indexer on where every response
    // is: same records, same offsets and lengths, same files.
    let (out_idx, reference) = run(
        "cdxj-indexer",
        &[path_str(&first.path), path_str(&second.path)],
    );
    assert!(out_idx.status.success());
    let mut theirs: Vec<(String, String, String, String)> = reference
        .lines()
        .map(|line| {
            let json: serde_json::Value =
                serde_json::from_str(line.splitn(3, ' ').nth(2).unwrap()).unwrap();
            let field = |n: &str| json[n].as_str().unwrap_or_default().to_string();
            (
                field("url"),
                field("filename"),
                field("offset"),
                field("length"),
            )
        })
        .collect();
    let mut ours: Vec<(String, String, String, String)> = cdx
        .iter()
        .map(|e| {
            (
                e.url.clone(),
                e.filename.clone(),
                e.offset.to_string(),
                e.length.to_string(),
            )
        })
        .collect();
    theirs.sort();
    ours.sort();
    assert_eq!(ours, theirs);
}

/// Copies a zip entry by entry, flipping one byte in the middle of `victim`.
fn copy_zip_flipping_a_byte(from: &Path, to: &Path, victim: &str) {
    use std::io::{Read, Write};
    let mut zip = zip::ZipArchive::new(std::fs::File::open(from).unwrap()).unwrap();
    let mut out = zip::ZipWriter::new(std::fs::File::create(to).unwrap());
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).unwrap();
        let name = entry.name().to_string();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        if name == victim {
            let middle = bytes.len() / 2;
            bytes[middle] ^= 0x01;
        }
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        out.start_file(name, options).unwrap();
        out.write_all(&bytes).unwrap();
    }
    out.finish().unwrap();
}

/// The whole path a user takes: `check` archives a loopback web into a
/// store, `export` writes one WARC and one WACZ, and the community's tools
/// accept both.
#[test]
fn a_checked_store_exports_a_warc_and_a_wacz_the_tools_accept() {
    let web = Web::on("127.0.0.43");
    let dir = Dir::new();
    dir.write(
        "post.md",
        format!(
            "See [the story]({}) and [the old address]({}).\n",
            web.url("/ok"),
            web.url("/moved")
        ),
    );
    let check = dir.run(["check", "post.md", "--no-memento", "--store", "store"]);
    let warc = dir.run(["export", "--warc", "all.warc.gz", "--store", "store"]);
    let wacz = dir.run(["export", "--wacz", "all.wacz", "--store", "store"]);
    let nowhere = dir.run([
        "export",
        "--wacz",
        "no/such/dir/all.wacz",
        "--store",
        "store",
    ]);
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
    assert_eq!(warc.status.code(), Some(0), "{}", stderr(&warc));
    assert_eq!(wacz.status.code(), Some(0), "{}", stderr(&wacz));
    assert_eq!(nowhere.status.code(), Some(2));
    assert!(stderr(&nowhere).contains("does not exist"));

    let warc_path = dir.path().join("all.warc.gz");
    let (o, text) = run("warcio", &["check", "-v", path_str(&warc_path)]);
    assert!(o.status.success(), "warcio check: {text}");
    assert!(text.contains("digest pass"), "{text}");
    let index = warcio_index(&warc_path);
    // The two pages share their bytes: one is a response, the other a
    // revisit of it, whichever came back first.
    let responses: Vec<_> = index
        .iter()
        .filter(|(t, _, _)| t == "response" || t == "revisit")
        .filter_map(|(_, uri, _)| uri.clone())
        .collect();
    assert!(responses.contains(&web.url("/ok")), "{responses:?}");
    assert!(
        responses.contains(&web.url("/new-home/story")),
        "{responses:?}"
    );

    let wacz_path = dir.path().join("all.wacz");
    let (o, text) = run("wacz", &["validate", "-f", path_str(&wacz_path)]);
    assert!(
        o.status.success(),
        "wacz validate: {text}{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
