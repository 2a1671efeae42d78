//! WARC 1.1 writing and reading: one gzip member per record.
//!
//! This module owns the byte layout of the `.warc.gz` files of the store:
//! each record is its own gzip member, so any record can be read, copied or
//! served from its offset and length alone, and concatenating files (or
//! members) gives a valid WARC file. It knows nothing of the index that
//! remembers those offsets, and it never fetches anything: the fetcher's
//! exchange arrives as an [`Exchange`], its body as bytes or as a file.
//!
//! No credential is written in clear: a target URI loses its user-info
//! (`user:password@`), and the values of the request headers that carry
//! credentials (`Authorization`, `Proxy-Authorization`, `Cookie`, and any
//! the caller names: those `citeguard.toml` sets) are written as
//! [`REDACTED`].
//!
//! A record is only ever appended whole. A process that dies mid-append
//! leaves an incomplete member at the tail; [`WarcWriter::create`] cuts it
//! off before appending again, so the file stays readable by other tools.

use std::borrow::Cow;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use flate2::{Compress, Compression, Crc, FlushCompress, Status};
use sha2::{Digest, Sha256};

use crate::base::time::rfc3339;
use crate::base::web::without_userinfo;

/// One HTTP request and its response, as the fetcher saw them.
#[derive(Debug, Clone, Copy)]
pub struct Exchange<'a> {
    pub target_uri: &'a str,
    pub date: DateTime<Utc>,
    pub method: &'a str,
    pub request_headers: &'a [(String, String)],
    /// As the status line spells it: "HTTP/1.1", "HTTP/2.0".
    pub http_version: &'a str,
    pub status: u16,
    /// The headers as received, but describing the body *after* reqwest
    /// decoded it (see [`stored_response_headers`]).
    pub response_headers: &'a [(String, String)],
    pub body: Body<'a>,
    pub ip: Option<&'a str>,
}

/// A response body: in memory, or in a file that is streamed (bodies can be
/// tens of megabytes, and are never read whole into memory from a file).
#[derive(Debug, Clone, Copy)]
pub enum Body<'a> {
    Bytes(&'a [u8]),
    File(&'a Path),
}

/// Where [`WarcWriter::write_exchange`] put the response record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The WARC file's name (no directory), as WACZ and CDX name it.
    pub file: String,
    /// Byte offset of the response record's gzip member in the file.
    pub offset: u64,
    /// Length in bytes of that gzip member.
    pub length: u64,
    /// `<urn:uuid:…>` of the response record.
    pub record_id: String,
    /// `sha256:<BASE32>` of the response body as stored.
    pub payload_digest: String,
}

/// How the first record of a capture is written.
#[derive(Debug, Clone, Copy)]
pub enum Capture<'a> {
    /// A `response` record with the whole body; `truncated` when the body
    /// was cut at the size cap (`WARC-Truncated: length`).
    Response { truncated: bool },
    /// A `revisit` record: the payload is the one `earlier` archived.
    Revisit {
        profile: Profile,
        earlier: &'a Earlier,
    },
}

/// The two revisit profiles of WARC 1.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// The body is byte for byte one archived before (same SHA-256).
    IdenticalPayloadDigest,
    /// The server answered "304 Not Modified" to a conditional request.
    ServerNotModified,
}

impl Profile {
    /// The `WARC-Profile` URI.
    pub fn uri(self) -> &'static str {
        match self {
            Profile::IdenticalPayloadDigest => {
                "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
            }
            Profile::ServerNotModified => {
                "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
            }
        }
    }
}

/// The earlier capture a `revisit` record refers to: always a `response`
/// record holding the payload, never another revisit, so a replay tool
/// finds the body in one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Earlier {
    /// Its `WARC-Record-ID`, when known.
    pub record_id: Option<String>,
    /// Its `WARC-Target-URI`.
    pub target_uri: String,
    /// Its `WARC-Date`.
    pub date: String,
    /// Its `WARC-Payload-Digest`.
    pub payload_digest: String,
}

impl Earlier {
    /// The capture holding the payload of the record with these WARC
    /// headers: the record itself when it is a `response`, the capture it
    /// refers to when it is a `revisit`; `None` for any other record, or
    /// one that lacks what a revisit must name.
    pub fn of(headers: &[(String, String)]) -> Option<Earlier> {
        let get = |name| header_value(headers, name).map(str::to_string);
        let payload_digest = get("WARC-Payload-Digest")?;
        match header_value(headers, "WARC-Type")? {
            "response" => Some(Earlier {
                record_id: get("WARC-Record-ID"),
                target_uri: get("WARC-Target-URI")?,
                date: get("WARC-Date")?,
                payload_digest,
            }),
            "revisit" => Some(Earlier {
                record_id: get("WARC-Refers-To"),
                target_uri: get("WARC-Refers-To-Target-URI")?,
                date: get("WARC-Refers-To-Date")?,
                payload_digest,
            }),
            _ => None,
        }
    }
}

/// One record read back: its WARC headers and its block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The version line, e.g. "WARC/1.1".
    pub version: String,
    pub headers: Vec<(String, String)>,
    pub block: Vec<u8>,
}

impl Record {
    /// The first header of that name (WARC field names are case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        header_value(&self.headers, name)
    }
}

/// The HTTP status, headers and body of a response block.
pub type HttpPayload<'a> = (u16, Vec<(String, String)>, &'a [u8]);

/// Appends records to one `.warc.gz` file.
#[derive(Debug)]
pub struct WarcWriter {
    file: File,
    name: String,
    /// Where the next record starts: the end of the last complete member.
    end: u64,
    encoder: Encoder,
}

/// Turns exchanges into records, as gzip members in memory, without a
/// file: the part of writing a WARC that costs CPU (hashing and
/// compressing the body), which a caller can run on any thread before
/// handing the result to the one `WarcWriter` of a file
/// ([`WarcWriter::append`]).
#[derive(Debug, Clone, Default)]
pub struct Encoder {
    /// Request headers written as [`REDACTED`], lower-case, beside
    /// [`SECRET_HEADERS`].
    secret_headers: Vec<String>,
}

/// A capture encoded by [`Encoder::encode`]: its first record (response
/// or revisit) and its request record, each one whole gzip member.
#[derive(Debug, Clone)]
pub struct Encoded {
    first: Vec<u8>,
    request: Vec<u8>,
    /// `<urn:uuid:…>` of the first record.
    pub record_id: String,
    /// `sha256:<BASE32>` of the payload.
    pub payload_digest: String,
}

/// Request headers that carry credentials, whoever set them (reqwest turns
/// a URL's user-info into `Authorization`): never written in clear.
pub const SECRET_HEADERS: [&str; 3] = ["authorization", "proxy-authorization", "cookie"];

/// What a secret header's value is written as.
pub const REDACTED: &str = "[redacted]";

impl WarcWriter {
    /// Opens `path` for appending, creating it (with a `warcinfo` record
    /// first) when it is new or empty. An incomplete gzip member left at the
    /// tail by an interrupted append is cut off first. The whole file is
    /// decompressed once to find where its last complete member ends.
    pub fn create(path: &Path) -> io::Result<WarcWriter> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let end = end_of_complete_members(&mut file)?;
        if file.metadata()?.len() != end {
            file.set_len(end)?;
            file.sync_data()?;
        }
        file.seek(SeekFrom::Start(end))?;
        let name = file_name(path);
        let mut writer = WarcWriter {
            file,
            name,
            end,
            encoder: Encoder::default(),
        };
        if end == 0 {
            writer.write_warcinfo(Utc::now())?;
        }
        Ok(writer)
    }

    /// Writes the `response` record of `ex`, then its `request` record
    /// (concurrent to the response). Either both are appended or, on an
    /// error, neither: the file is cut back to where it was.
    pub fn write_exchange(&mut self, ex: &Exchange) -> io::Result<Written> {
        self.write_capture(ex, &Capture::Response { truncated: false })
    }

    /// Writes the first record of `ex` as `capture` says (a `response`, or
    /// a `revisit` of an earlier capture), then its `request` record,
    /// concurrent to it. Either both are appended or, on an error,
    /// neither: the file is cut back to where it was.
    pub fn write_capture(&mut self, ex: &Exchange, capture: &Capture) -> io::Result<Written> {
        let encoded = self.encoder.encode(ex, capture)?;
        self.append(&encoded)
    }

    /// Appends a capture encoded before (by this writer's encoder, or a
    /// clone of it): both records or, on an error, neither (the file is
    /// cut back to where it was).
    pub fn append(&mut self, encoded: &Encoded) -> io::Result<Written> {
        let start = self.end;
        let written = self.append_members(&[&encoded.first, &encoded.request]);
        if let Err(err) = written {
            // Best effort: the error that stopped the write is the one
            // worth reporting, whatever happens while rolling back.
            let _ = self.rollback(start);
            return Err(err);
        }
        Ok(Written {
            file: self.name.clone(),
            offset: start,
            length: encoded.first.len() as u64,
            record_id: encoded.record_id.clone(),
            payload_digest: encoded.payload_digest.clone(),
        })
    }

    /// The encoder of this writer (with its redactions), for encoding
    /// captures elsewhere.
    /// The file's name (`<run>.warc.gz`), as index rows name it.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn encoder(&self) -> &Encoder {
        &self.encoder
    }

    /// Writes the values of these request headers (beside
    /// [`SECRET_HEADERS`]) as [`REDACTED`]: the headers `citeguard.toml`
    /// adds for a host, which may be a paywall's session.
    pub fn redact_headers<S: AsRef<str>>(&mut self, names: impl IntoIterator<Item = S>) {
        self.encoder.redact_headers(names);
    }

    /// Flushes and fsyncs what was written so far.
    pub fn sync(&mut self) -> io::Result<()> {
        self.file.flush()?;
        self.file.sync_data()
    }

    fn append_member(&mut self, member: &[u8]) -> io::Result<()> {
        self.append_members(&[member])
    }

    /// Appends whole members in one write where the system takes them all
    /// at once (a recheck's 304 is two small members: one system call
    /// rather than two), the rest after.
    fn append_members(&mut self, members: &[&[u8]]) -> io::Result<()> {
        let slices: Vec<io::IoSlice> = members.iter().map(|m| io::IoSlice::new(m)).collect();
        let mut done = loop {
            match self.file.write_vectored(&slices) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        for member in members {
            if done < member.len() {
                self.file
                    .write_all(member.get(done..).unwrap_or_default())?;
            }
            done = done.saturating_sub(member.len());
            self.end += member.len() as u64;
        }
        Ok(())
    }

    fn write_warcinfo(&mut self, now: DateTime<Utc>) -> io::Result<()> {
        let start = self.end;
        let mut block = Vec::new();
        push_field(
            &mut block,
            "software",
            &format!("citeguard/{}", env!("CARGO_PKG_VERSION")),
        );
        push_field(&mut block, "format", "WARC File Format 1.1");
        let id = new_record_id();
        let date = rfc3339(now);
        let digest = digest_label(&Sha256::digest(&block));
        let name = self.name.clone();
        let fields: Vec<(&str, Cow<str>)> = vec![
            ("WARC-Type", "warcinfo".into()),
            ("WARC-Record-ID", id.as_str().into()),
            ("WARC-Date", date.as_str().into()),
            ("WARC-Filename", clean(&name)),
            ("Content-Type", "application/warc-fields".into()),
            ("WARC-Block-Digest", digest.as_str().into()),
        ];
        if let Err(err) = member(&fields, &block, None).and_then(|m| self.append_member(&m)) {
            let _ = self.rollback(start);
            return Err(err);
        }
        Ok(())
    }

    fn rollback(&mut self, to: u64) -> io::Result<()> {
        self.file.set_len(to)?;
        self.file.seek(SeekFrom::Start(to))?;
        self.end = to;
        Ok(())
    }
}

impl Encoder {
    /// Writes the values of these request headers (beside
    /// [`SECRET_HEADERS`]) as [`REDACTED`].
    pub fn redact_headers<S: AsRef<str>>(&mut self, names: impl IntoIterator<Item = S>) {
        self.secret_headers
            .extend(names.into_iter().map(|n| n.as_ref().to_ascii_lowercase()));
    }

    /// A request header's value as written: [`REDACTED`] for a secret one.
    fn redacted<'v>(&self, name: &str, value: &'v str) -> &'v str {
        let secret = |h: &str| h.eq_ignore_ascii_case(name);
        if SECRET_HEADERS.iter().copied().any(secret)
            || self.secret_headers.iter().map(String::as_str).any(secret)
        {
            REDACTED
        } else {
            value
        }
    }

    /// The records of `ex` as `capture` says (a `response`, or a
    /// `revisit` of an earlier capture), then its `request` record,
    /// concurrent to it, as gzip members in memory.
    pub fn encode(&self, ex: &Exchange, capture: &Capture) -> io::Result<Encoded> {
        let first_id = new_record_id();
        let date = warc_date(ex.date);
        let plain = without_userinfo(ex.target_uri);
        let target = encode_uri(&plain);
        let (first, payload_digest) = match capture {
            Capture::Response { truncated } => {
                self.response(ex, &first_id, &date, &target, *truncated)?
            }
            Capture::Revisit { profile, earlier } => {
                self.revisit(ex, &first_id, &date, &target, *profile, earlier)?
            }
        };
        let request = self.request(ex, &first_id, &date, &target)?;
        Ok(Encoded {
            first,
            request,
            record_id: first_id,
            payload_digest,
        })
    }

    /// The `response` record: the status line, the headers as stored and
    /// the whole body. Returns its offset, length and payload digest.
    fn response(
        &self,
        ex: &Exchange,
        id: &str,
        date: &str,
        target: &str,
        truncated: bool,
    ) -> io::Result<(Vec<u8>, String)> {
        // The digests go in the headers, before the body, so the body is
        // read twice: once here to hash it and once to write it (when it is
        // re-hashed and must match, in case the file changed in between).
        let body_len = body_len(&ex.body)?;
        let head = http_head(ex, body_len);
        let (payload_hash, block_hash) = hash_body(&ex.body, body_len, &head)?;
        let payload_digest = digest_label(&payload_hash);
        let block_digest = digest_label(&block_hash);

        let mut fields: Vec<(&str, Cow<str>)> = vec![
            ("WARC-Type", "response".into()),
            ("WARC-Record-ID", id.into()),
            ("WARC-Date", date.into()),
            ("WARC-Target-URI", target.into()),
        ];
        if let Some(ip) = ex.ip {
            fields.push(("WARC-IP-Address", clean(ip)));
        }
        fields.push(("Content-Type", "application/http;msgtype=response".into()));
        fields.push(("WARC-Payload-Digest", payload_digest.as_str().into()));
        fields.push(("WARC-Block-Digest", block_digest.as_str().into()));
        if truncated {
            fields.push(("WARC-Truncated", "length".into()));
        }
        let member = member(&fields, &head, Some((&ex.body, body_len, &payload_hash)))?;
        Ok((member, payload_digest))
    }

    /// The `revisit` record of a payload archived before. For an identical
    /// payload the block is the response's status line and headers, cut
    /// before the body (`WARC-Truncated: length`, as the profile asks); for
    /// a "304 Not Modified" the block is empty, which the standard allows
    /// and which replay tools read as "the earlier capture's headers and
    /// body" (a block holding the 304 would be replayed as a 304). The
    /// body itself is not read: the payload digest is the earlier one's.
    fn revisit(
        &self,
        ex: &Exchange,
        id: &str,
        date: &str,
        target: &str,
        profile: Profile,
        earlier: &Earlier,
    ) -> io::Result<(Vec<u8>, String)> {
        let head = match profile {
            Profile::IdenticalPayloadDigest => http_head(ex, body_len(&ex.body)?),
            Profile::ServerNotModified => Vec::new(),
        };
        let block_digest = match head.is_empty() {
            true => EMPTY_DIGEST.clone(),
            false => digest_label(&Sha256::digest(&head)),
        };
        let mut fields: Vec<(&str, Cow<str>)> = vec![
            ("WARC-Type", "revisit".into()),
            ("WARC-Record-ID", id.into()),
            ("WARC-Date", date.into()),
            ("WARC-Target-URI", target.into()),
        ];
        if let Some(ip) = ex.ip {
            fields.push(("WARC-IP-Address", clean(ip)));
        }
        fields.push(("WARC-Profile", profile.uri().into()));
        if let Some(refers_to) = &earlier.record_id {
            fields.push(("WARC-Refers-To", clean(refers_to)));
        }
        fields.push((
            "WARC-Refers-To-Target-URI",
            encode_uri(&without_userinfo(&earlier.target_uri))
                .into_owned()
                .into(),
        ));
        fields.push(("WARC-Refers-To-Date", clean(&earlier.date)));
        if !head.is_empty() {
            fields.push(("Content-Type", "application/http;msgtype=response".into()));
            fields.push(("WARC-Truncated", "length".into()));
        }
        fields.push(("WARC-Payload-Digest", clean(&earlier.payload_digest)));
        fields.push(("WARC-Block-Digest", block_digest.as_str().into()));
        let member = member(&fields, &head, None)?;
        Ok((member, earlier.payload_digest.clone()))
    }

    /// The `request` record of the capture whose first record is
    /// `concurrent_to`: the request line and the headers sent.
    fn request(
        &self,
        ex: &Exchange,
        concurrent_to: &str,
        date: &str,
        target: &str,
    ) -> io::Result<Vec<u8>> {
        let request_id = new_record_id();
        let mut request = Vec::with_capacity(HEADER_ROOM);
        for (part, end) in [
            (clean(ex.method), " "),
            (request_target(target), " "),
            (clean(ex.http_version), "\r\n"),
        ] {
            request.extend_from_slice(part.as_bytes());
            request.extend_from_slice(end.as_bytes());
        }
        if header_value(ex.request_headers, "host").is_none()
            && let Some(host) = authority(target)
        {
            push_field(&mut request, "Host", host);
        }
        for (name, value) in ex.request_headers {
            push_field(&mut request, name, self.redacted(name, value));
        }
        request.extend_from_slice(b"\r\n");
        let request_digest = digest_label(&Sha256::digest(&request));
        let mut fields: Vec<(&str, Cow<str>)> = vec![
            ("WARC-Type", "request".into()),
            ("WARC-Record-ID", request_id.as_str().into()),
            ("WARC-Date", date.into()),
            ("WARC-Target-URI", target.into()),
            ("WARC-Concurrent-To", concurrent_to.into()),
        ];
        if let Some(ip) = ex.ip {
            fields.push(("WARC-IP-Address", clean(ip)));
        }
        fields.push(("Content-Type", "application/http;msgtype=request".into()));
        fields.push(("WARC-Block-Digest", request_digest.as_str().into()));
        member(&fields, &request, None)
    }
}

/// The gzip level of a record: a run compresses every page it fetches,
/// and the WARC file is the body's one copy. On the archive bench's pages
/// (52.9 MB of HTML, each page deflated on its own) zlib-rs keeps
/// 15.4 MB at level 1, 10.7 MB at 2, 9.8 MB at 3, 8.6 MB at 4 and 8.3 MB
/// at 6, level 4 in half level 6's time; level 4 keeps what miniz kept
/// at its level 3 (8.6 MB, which the store was sized on: within 1.5× of
/// wget's WARC) in less time.
const MEMBER_LEVEL: u32 = 4;

/// One record as one gzip member: the WARC header fields,
/// `Content-Length`, a blank line, `head` then the body (if any), then the
/// two CRLFs that end a record. The body is re-hashed as it is written and
/// must match the length and payload digest computed before.
fn member(
    fields: &[(&str, Cow<str>)],
    head: &[u8],
    body: Option<(&Body, u64, &[u8])>,
) -> io::Result<Vec<u8>> {
    let block_len = head.len() as u64 + body.map_or(0, |(_, len, _)| len);
    let mut header = Vec::with_capacity(HEADER_ROOM);
    header.extend_from_slice(b"WARC/1.1\r\n");
    for (name, value) in fields {
        push_field(&mut header, name, value);
    }
    push_field(&mut header, "Content-Length", &block_len.to_string());
    header.extend_from_slice(b"\r\n");
    let in_memory = match body {
        None => Some(&[][..]),
        Some((Body::Bytes(bytes), len, _)) if bytes.len() as u64 == len => Some(*bytes),
        Some(_) => None,
    };
    if let Some(bytes) = in_memory
        && header.len() + head.len() + bytes.len() + 4 <= SMALL_MEMBER
    {
        return small_member(&[&header, head, bytes, b"\r\n\r\n"]);
    }
    let mut gz = GzMember::new(header.len() + block_len as usize / 4 + 64);
    gz.write_all(&header)?;
    gz.write_all(head)?;
    if let Some((Body::Bytes(bytes), len, _)) = body {
        // Bytes in memory cannot change between hashing and writing.
        if bytes.len() as u64 != len {
            return Err(body_changed());
        }
        gz.write_all(bytes)?;
    } else if let Some((body, len, expected_hash)) = body {
        let reader = open_body(body)?;
        let mut hashing = HashingWriter::new(&mut gz, Sha256::new());
        let copied = io::copy(&mut reader.take(len), &mut hashing)?;
        let hash = hashing.digest();
        if copied != len || hash.as_slice() != expected_hash {
            return Err(body_changed());
        }
    }
    gz.write_all(b"\r\n\r\n")?;
    gz.finish()
}

/// A record of at most this many bytes (most requests, revisits and
/// redirects: a few hundred bytes each, two or more per fetch) is one
/// gzip member deflated whole by libdeflate (`small_member`); a longer one
/// is streamed through zlib-rs (`GzMember`). On a request record of 689
/// bytes libdeflate took about half zlib-rs's time at level 4 for the
/// same deflated size: what zlib-rs spends on so little input is
/// resetting its streaming state and building Huffman trees. On pages it
/// keeps 4% more than zlib-rs at the same speed, so pages stay on zlib-rs.
const SMALL_MEMBER: usize = 4 * 1024;

/// libdeflate's level for small records: 1. On a request record of 710
/// bytes its levels 1 to 6 all deflate to 481 bytes (a few hundred bytes
/// hold few repeats to find), but level 1 took 11.6 µs against level 4's
/// 20.6 µs: most of a small record's time is libdeflate clearing its
/// match finder's hash tables, which are smaller at level 1 (128 KiB
/// against 192 KiB). A recheck writes two such records per 304.
const SMALL_LEVEL: i32 = 1;

/// A thread's libdeflate compressor, with the buffers it reads from and
/// writes to, kept between records (`SMALL_MEMBER` bytes at most each).
struct Small {
    compressor: libdeflater::Compressor,
    input: Vec<u8>,
    output: Vec<u8>,
}

thread_local! {
    /// Each thread's libdeflate compressor and buffers, allocated once.
    static SMALL: std::cell::RefCell<Option<Small>> = const { std::cell::RefCell::new(None) };
}

/// One gzip member of `parts`, deflated whole by the thread's libdeflate
/// compressor (`SMALL_MEMBER`), returned in a vector of its own length.
fn small_member(parts: &[&[u8]]) -> io::Result<Vec<u8>> {
    SMALL.with(|cell| {
        let mut cell = cell.borrow_mut();
        let small = cell.get_or_insert_with(|| {
            let level = libdeflater::CompressionLvl::new(SMALL_LEVEL)
                .unwrap_or_else(|_| libdeflater::CompressionLvl::default());
            Small {
                compressor: libdeflater::Compressor::new(level),
                input: Vec::new(),
                output: Vec::new(),
            }
        });
        small.input.clear();
        for part in parts {
            small.input.extend_from_slice(part);
        }
        // Zeroed once as it grows, then reused as it is.
        let bound = small.compressor.gzip_compress_bound(small.input.len());
        if small.output.len() < bound {
            small.output.resize(bound, 0);
        }
        let n = small
            .compressor
            .gzip_compress(&small.input, &mut small.output)
            .map_err(|e| io::Error::other(format!("deflate: {e:?}")))?;
        let member = small.output.get(..n).unwrap_or_default().to_vec();
        // A longer input than `member` gives leaves no large buffers
        // behind.
        if small.input.capacity() > 2 * SMALL_MEMBER {
            small.input = Vec::new();
            small.output = Vec::new();
        }
        Ok(member)
    })
}

thread_local! {
    /// Each thread's deflate state, reset for every member: a fresh one
    /// per record (a run writes two or more records per fetch, most of
    /// them a few hundred bytes) costs more to allocate and clear than the
    /// record costs to compress.
    static DEFLATE: std::cell::RefCell<Option<Compress>> = const { std::cell::RefCell::new(None) };
}

/// One gzip member (RFC 1952) written into memory at `MEMBER_LEVEL`, with
/// the thread's reused deflate state.
struct GzMember {
    out: Vec<u8>,
    crc: Crc,
    deflate: Compress,
}

impl GzMember {
    /// The gzip header: deflate, no name, no time, unknown OS.
    const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];

    fn new(capacity: usize) -> GzMember {
        let deflate = DEFLATE
            .with(|d| d.borrow_mut().take())
            .map(|mut d| {
                d.reset();
                d
            })
            .unwrap_or_else(|| Compress::new(Compression::new(MEMBER_LEVEL), false));
        let mut out = Vec::with_capacity(capacity.max(64));
        out.extend_from_slice(&Self::HEADER);
        GzMember {
            out,
            crc: Crc::new(),
            deflate,
        }
    }

    /// Deflates `input` into `out`, to the end of the stream when `flush`
    /// is `Finish`.
    fn deflate(&mut self, mut input: &[u8], flush: FlushCompress) -> io::Result<()> {
        loop {
            if self.out.capacity() - self.out.len() < 256 {
                self.out.reserve(self.out.len().max(1024));
            }
            let before = self.deflate.total_in();
            let status = self
                .deflate
                .compress_vec(input, &mut self.out, flush)
                .map_err(io::Error::other)?;
            let used = usize::try_from(self.deflate.total_in() - before).unwrap_or(input.len());
            input = input.get(used..).unwrap_or_default();
            let room = self.out.len() < self.out.capacity();
            match (status, flush) {
                (Status::StreamEnd, _) => return Ok(()),
                (_, FlushCompress::Finish) => {}
                _ if input.is_empty() && room => return Ok(()),
                _ => {}
            }
        }
    }

    /// The member, whole: the deflate stream ended, then the CRC-32 and
    /// the length of what was written. The deflate state goes back to the
    /// thread for the next member.
    fn finish(mut self) -> io::Result<Vec<u8>> {
        self.deflate(&[], FlushCompress::Finish)?;
        self.out.extend_from_slice(&self.crc.sum().to_le_bytes());
        self.out.extend_from_slice(&self.crc.amount().to_le_bytes());
        let GzMember { out, deflate, .. } = self;
        DEFLATE.with(|d| *d.borrow_mut() = Some(deflate));
        Ok(out)
    }
}

impl Write for GzMember {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.crc.update(buf);
        self.deflate(buf, FlushCompress::None)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Reads the record whose gzip member starts at `offset`.
pub fn read_record(path: &Path, offset: u64) -> io::Result<Record> {
    Ok(read_member(path, offset)?.0)
}

/// The WARC headers of the record at `offset`, without reading its block
/// (which may hold a body of megabytes).
pub fn read_headers(path: &Path, offset: u64) -> io::Result<Vec<(String, String)>> {
    let mut file = File::open(path)?;
    if let Some(head) = quick_head(&file, offset) {
        return Ok(read_head(&mut &head[..], offset)?.1);
    }
    file.seek(SeekFrom::Start(offset))?;
    let gz = flate2::bufread::GzDecoder::new(BufReader::new(file));
    let mut reader = BufReader::new(gz);
    Ok(read_head(&mut reader, offset)?.1)
}

thread_local! {
    /// Each thread's inflate state for `quick_head`, reset for every read.
    static INFLATE: std::cell::RefCell<Option<flate2::Decompress>> = const { std::cell::RefCell::new(None) };
}

/// The start of the record at `offset`, inflated up to the blank line
/// that ends its WARC headers, from one read of the file's first bytes
/// there and the thread's reused inflate state: a recheck reads the
/// headers of one earlier record per page it confirms. `None` when that
/// is not enough (a member with gzip header fields, headers longer than
/// the bytes read, damage): `read_headers` then reads the member as a
/// stream, and says what is wrong with it.
fn quick_head(file: &File, offset: u64) -> Option<Vec<u8>> {
    use std::os::unix::fs::FileExt;
    const READ: usize = 8 * 1024;
    let mut raw = vec![0; READ];
    let mut got = 0;
    while got < READ {
        match file.read_at(&mut raw[got..], offset + got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    // Members as `GzMember` (and flate2's encoder) write them: deflate,
    // no optional fields.
    let deflated = match raw.get(..got)? {
        [0x1f, 0x8b, 8, 0, _, _, _, _, _, _, rest @ ..] => rest,
        _ => return None,
    };
    let mut inflate = INFLATE
        .with(|d| d.borrow_mut().take())
        .map(|mut d| {
            d.reset(false);
            d
        })
        .unwrap_or_else(|| flate2::Decompress::new(false));
    let mut out = Vec::with_capacity(1024);
    let mut input = deflated;
    let found = loop {
        let (before_in, before_out) = (inflate.total_in(), out.len());
        let status = inflate.decompress_vec(input, &mut out, flate2::FlushDecompress::None);
        let used = usize::try_from(inflate.total_in() - before_in).unwrap_or(input.len());
        input = input.get(used..).unwrap_or_default();
        if let Some(end) = find(&out, b"\r\n\r\n") {
            out.truncate(end + 4);
            break true;
        }
        let stuck = used == 0 && out.len() == before_out;
        match status {
            Ok(Status::Ok)
                if !stuck
                    && out.len() < 64 * 1024
                    && (!input.is_empty() || out.len() == out.capacity()) =>
            {
                if out.len() == out.capacity() {
                    out.reserve(out.len());
                }
            }
            _ => break false,
        }
    };
    INFLATE.with(|d| *d.borrow_mut() = Some(inflate));
    found.then_some(out)
}

/// The record whose gzip member starts at `offset`, and the length of that
/// member: the next record starts at `offset` plus that length.
pub fn read_member(path: &Path, offset: u64) -> io::Result<(Record, u64)> {
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(offset))?;
    let mut counting = CountingBufRead {
        inner: BufReader::new(file),
        pos: offset,
    };
    let gz = flate2::bufread::GzDecoder::new(&mut counting);
    let mut reader = BufReader::new(gz);
    let (version, headers) = read_head(&mut reader, offset)?;
    let length: u64 = header_value(&headers, "content-length")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| {
            invalid(format!(
                "no Content-Length in the record at offset {offset}"
            ))
        })?;
    // Read through `take` rather than allocating `length` bytes up front:
    // a damaged header must not make us allocate gigabytes.
    let mut block = Vec::new();
    (&mut reader).take(length).read_to_end(&mut block)?;
    if block.len() as u64 != length {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("the record at offset {offset} is shorter than its Content-Length"),
        ));
    }
    // The rest of the member (the closing CRLFs and the gzip trailer), so
    // that `counting` stops exactly where the member ends.
    io::copy(&mut reader, &mut io::sink())?;
    drop(reader);
    let member_len = counting.pos - offset;
    let record = Record {
        version,
        headers,
        block,
    };
    Ok((record, member_len))
}

/// The version line and the WARC header fields of a record, read up to
/// the blank line that ends them.
fn read_head(
    reader: &mut impl BufRead,
    offset: u64,
) -> io::Result<(String, Vec<(String, String)>)> {
    let version =
        read_line(reader)?.ok_or_else(|| invalid(format!("no WARC record at offset {offset}")))?;
    if !version.starts_with("WARC/") {
        return Err(invalid(format!("no WARC record at offset {offset}")));
    }
    let mut headers: Vec<(String, String)> = Vec::new();
    loop {
        let line = read_line(reader)?
            .ok_or_else(|| invalid(format!("WARC headers cut short at offset {offset}")))?;
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            // A continuation line folds into the previous field.
            match headers.last_mut() {
                Some((_, value)) => {
                    value.push(' ');
                    value.push_str(line.trim());
                }
                None => return Err(invalid(format!("bad WARC header at offset {offset}"))),
            }
            continue;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| invalid(format!("bad WARC header at offset {offset}")))?;
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
    Ok((version, headers))
}

/// A `response` or `revisit` record as a replay index lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indexed {
    /// `response` or `revisit`.
    pub record_type: String,
    pub target_uri: String,
    /// The `WARC-Date`, as written.
    pub date: String,
    /// The HTTP status; `None` for a revisit whose block is empty.
    pub status: Option<u16>,
    /// The essence of the HTTP `Content-Type`, if the response had one.
    pub mime: Option<String>,
    pub payload_digest: Option<String>,
    /// Where the record's gzip member is in the file.
    pub offset: u64,
    pub length: u64,
}

/// Every `response` and `revisit` record of a WARC file, in order: what a
/// replay index (CDXJ) lists. Each member is decompressed once, to find
/// where it ends; only the start of a block (the HTTP head) is kept.
pub fn index_file(path: &Path) -> io::Result<Vec<Indexed>> {
    index_reader(File::open(path)?)
}

/// [`index_file`] of WARC bytes read from `input` (some members of a file,
/// as an export takes them): offsets count from the first byte read.
pub fn index_reader(input: impl Read) -> io::Result<Vec<Indexed>> {
    const HTTP_HEAD_BYTES: u64 = 64 * 1024;
    let mut counting = CountingBufRead {
        inner: BufReader::with_capacity(64 * 1024, input),
        pos: 0,
    };
    let mut out = Vec::new();
    while !counting.fill_buf()?.is_empty() {
        let offset = counting.pos;
        let mut reader = BufReader::new(flate2::bufread::GzDecoder::new(&mut counting));
        let (_, headers) = read_head(&mut reader, offset)?;
        let record_type = header_value(&headers, "WARC-Type").unwrap_or_default();
        let listed = matches!(record_type, "response" | "revisit");
        let mut http = None;
        if listed {
            let length: u64 = header_value(&headers, "content-length")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            let mut start = Vec::new();
            (&mut reader)
                .take(length.min(HTTP_HEAD_BYTES))
                .read_to_end(&mut start)?;
            http = http_payload(&start)
                .ok()
                .map(|(status, headers, _)| (status, headers));
        }
        io::copy(&mut reader, &mut io::sink())?;
        drop(reader);
        if !listed {
            continue;
        }
        let get = |name| header_value(&headers, name).map(str::to_string);
        out.push(Indexed {
            record_type: record_type.to_string(),
            target_uri: get("WARC-Target-URI").unwrap_or_default(),
            date: get("WARC-Date").unwrap_or_default(),
            status: http.as_ref().map(|(status, _)| *status),
            mime: http
                .as_ref()
                .and_then(|(_, h)| header_value(h, "content-type"))
                .map(crate::base::web::essence),
            payload_digest: get("WARC-Payload-Digest"),
            offset,
            length: counting.pos - offset,
        });
    }
    Ok(out)
}

/// Splits an HTTP response block (status line, headers, blank line, body)
/// into the status, the headers and the body.
pub fn http_payload(block: &[u8]) -> io::Result<HttpPayload<'_>> {
    let (head, body) = match find(block, b"\r\n\r\n") {
        Some(i) => (&block[..i], &block[i + 4..]),
        None => match find(block, b"\n\n") {
            Some(i) => (&block[..i], &block[i + 2..]),
            None => return Err(invalid("no end of HTTP headers in the block")),
        },
    };
    let head = String::from_utf8_lossy(head);
    let mut lines = head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.split_whitespace();
    let status = match (parts.next(), parts.next()) {
        (Some(version), Some(code)) if version.starts_with("HTTP/") => code.parse::<u16>().ok(),
        _ => None,
    }
    .ok_or_else(|| invalid(format!("not an HTTP status line: {status_line:?}")))?;
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in lines {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = headers.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
            continue;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_string(), value.trim().to_string()));
        }
    }
    Ok((status, headers, body))
}

/// Copies the raw gzip member at `offset..offset + length` to `out`: a
/// complete single-record WARC file of its own.
pub fn copy_member(path: &Path, offset: u64, length: u64, out: &mut dyn Write) -> io::Result<()> {
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(offset))?;
    let copied = io::copy(&mut file.take(length), out)?;
    if copied != length {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!(
                "{} ends before the record at offset {offset} (length {length})",
                path.display()
            ),
        ));
    }
    Ok(())
}

/// One gzip member of a WARC file, as [`members`] found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub offset: u64,
    pub length: u64,
    /// Why the member cannot be trusted; `None` when it is sound.
    pub damage: Option<String>,
}

/// Every member of a `.warc.gz` file, each checked as [`check_record_at`]
/// checks one. A damaged stretch is one member with `damage` set, reaching
/// to where the next complete member starts (or to the end of the file),
/// so that the sound members around it can still be used.
pub fn members(path: &Path) -> io::Result<Vec<Member>> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    let mut out = Vec::new();
    let mut offset = 0;
    while offset < len {
        file.seek(SeekFrom::Start(offset))?;
        let mut reader = CountingBufRead {
            inner: BufReader::with_capacity(64 * 1024, &mut file),
            pos: offset,
        };
        match check_member(&mut reader) {
            Ok(_) => {
                out.push(Member {
                    offset,
                    length: reader.pos - offset,
                    damage: None,
                });
                offset = reader.pos;
            }
            Err(err) if is_damage(&err) => {
                drop(reader);
                let next = complete_member_after(&mut file, offset + 1)?.unwrap_or(len);
                out.push(Member {
                    offset,
                    length: next - offset,
                    damage: Some(err.to_string()),
                });
                offset = next;
            }
            Err(err) => return Err(err),
        }
    }
    Ok(out)
}

/// Checks the record whose gzip member is `offset..offset + length` of
/// `path`: the member decompresses whole (gzip's CRC-32 and length match),
/// it holds exactly one WARC record, and the record's block matches its
/// `WARC-Block-Digest`. Returns the record's WARC headers; damage is an
/// `InvalidData` (or `UnexpectedEof`) error saying what is wrong.
pub fn check_record_at(path: &Path, offset: u64, length: u64) -> io::Result<Vec<(String, String)>> {
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(offset))?;
    let mut reader = CountingBufRead {
        inner: BufReader::new(file.take(length)),
        pos: 0,
    };
    let headers = check_member(&mut reader)?;
    if reader.pos != length {
        return Err(invalid(format!(
            "the record at offset {offset} is not one gzip member of {length} bytes"
        )));
    }
    Ok(headers)
}

/// [`check_record_at`] for a member already in memory (what `show --as
/// warc` is about to serve).
pub fn check_record_bytes(member: &[u8]) -> io::Result<Vec<(String, String)>> {
    let mut reader = CountingBufRead {
        inner: member,
        pos: 0,
    };
    let headers = check_member(&mut reader)?;
    if reader.pos != member.len() as u64 {
        return Err(invalid(
            "more than one gzip member where one record was expected",
        ));
    }
    Ok(headers)
}

/// Reads one gzip member to its end (so that its CRC-32 is checked) and
/// checks the one WARC record in it; returns the record's headers.
fn check_member(input: &mut impl BufRead) -> io::Result<Vec<(String, String)>> {
    let mut member = BufReader::new(flate2::bufread::GzDecoder::new(input));
    let headers = check_record(&mut member)?;
    let mut tail = Vec::new();
    (&mut member).take(64).read_to_end(&mut tail)?;
    if tail != b"\r\n\r\n" {
        return Err(invalid(
            "the record does not end where its Content-Length says",
        ));
    }
    Ok(headers)
}

/// The WARC headers of a record, with its block hashed against its
/// `WARC-Block-Digest` (a `sha256:` one; other algorithms are not
/// checked).
fn check_record(r: &mut impl BufRead) -> io::Result<Vec<(String, String)>> {
    let version = read_line(r)?.ok_or_else(|| invalid("an empty gzip member"))?;
    if !version.starts_with("WARC/") {
        return Err(invalid("not a WARC record"));
    }
    let mut headers: Vec<(String, String)> = Vec::new();
    loop {
        let line = read_line(r)?.ok_or_else(|| invalid("WARC headers cut short"))?;
        if line.is_empty() {
            break;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| invalid("a WARC header line without a colon"))?;
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
    let length: u64 = header_value(&headers, "content-length")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| invalid("no Content-Length"))?;
    let mut hashing = HashingWriter::new(io::sink(), Sha256::new());
    let copied = io::copy(&mut r.take(length), &mut hashing)?;
    if copied != length {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the record's block is shorter than its Content-Length",
        ));
    }
    let digest = digest_label(&hashing.digest());
    if let Some(want) = header_value(&headers, "WARC-Block-Digest")
        && want
            .get(..7)
            .is_some_and(|a| a.eq_ignore_ascii_case("sha256:"))
        && !want[7..].eq_ignore_ascii_case(&digest[7..])
    {
        return Err(invalid(
            "the record's block does not match its WARC-Block-Digest",
        ));
    }
    Ok(headers)
}

/// The response headers as stored. reqwest has already undone any
/// `Content-Encoding` and `Transfer-Encoding` when the fetcher hands the body
/// over, so those headers no longer describe the stored bytes: kept, they
/// make replay tools try to gunzip or de-chunk a plain body. They are
/// dropped, and `Content-Length` is set to the stored body's length (added
/// if the server sent none, e.g. for a chunked response).
pub fn stored_response_headers(
    headers: &[(String, String)],
    body_len: u64,
) -> Vec<(String, String)> {
    let mut out = Vec::with_capacity(headers.len() + 1);
    let mut has_length = false;
    for (name, value) in headers {
        if name.eq_ignore_ascii_case("content-encoding")
            || name.eq_ignore_ascii_case("transfer-encoding")
        {
            continue;
        }
        if name.eq_ignore_ascii_case("content-length") {
            if !has_length {
                out.push((name.clone(), body_len.to_string()));
                has_length = true;
            }
            continue;
        }
        out.push((name.clone(), value.clone()));
    }
    if !has_length {
        out.push(("Content-Length".to_string(), body_len.to_string()));
    }
    out
}

/// Finds the end of the last complete gzip member, reading from the start.
/// A member that runs into the end of the file, or bytes that are not a
/// member at all, are an interrupted append and will be cut off. A damaged
/// member *followed by complete ones* is not: cutting there would throw
/// away good records, so that is an error for a human to look at.
fn end_of_complete_members(file: &mut File) -> io::Result<u64> {
    file.seek(SeekFrom::Start(0))?;
    let mut reader = CountingBufRead {
        inner: BufReader::with_capacity(64 * 1024, &mut *file),
        pos: 0,
    };
    let mut good_end = 0;
    loop {
        if reader.fill_buf()?.is_empty() {
            return Ok(good_end);
        }
        let mut member = flate2::bufread::GzDecoder::new(&mut reader);
        match io::copy(&mut member, &mut io::sink()) {
            Ok(_) => good_end = reader.pos,
            Err(err) if is_damage(&err) => break,
            Err(err) => return Err(err),
        }
    }
    drop(reader);
    if let Some(later) = complete_member_after(file, good_end + 1)? {
        return Err(invalid(format!(
            "damaged record at offset {good_end}, followed by a complete one at offset \
             {later}; not appending to this file"
        )));
    }
    Ok(good_end)
}

/// The offset of the first complete gzip member that starts at or after
/// `from`, if any.
fn complete_member_after(file: &mut File, from: u64) -> io::Result<Option<u64>> {
    let len = file.metadata()?.len();
    let mut candidate = from;
    while candidate + 3 <= len {
        // Find the next gzip magic (1f 8b, method 08) at or after `candidate`.
        file.seek(SeekFrom::Start(candidate))?;
        let mut reader = CountingBufRead {
            inner: BufReader::with_capacity(64 * 1024, &mut *file),
            pos: candidate,
        };
        let found = loop {
            let buf = reader.fill_buf()?;
            if buf.len() < 3 {
                break None;
            }
            match find(buf, &[0x1f, 0x8b, 0x08]) {
                Some(i) => break Some(reader.pos + i as u64),
                None => {
                    let skip = buf.len() - 2;
                    reader.consume(skip);
                }
            }
        };
        drop(reader);
        let Some(start) = found else {
            return Ok(None);
        };
        file.seek(SeekFrom::Start(start))?;
        let mut member = flate2::bufread::GzDecoder::new(BufReader::new(&mut *file));
        match io::copy(&mut member, &mut io::sink()) {
            Ok(_) => return Ok(Some(start)),
            Err(err) if is_damage(&err) => candidate = start + 1,
            Err(err) => return Err(err),
        }
    }
    Ok(None)
}

/// Errors that mean "these bytes are not a complete gzip member", as
/// opposed to the disk failing.
fn is_damage(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::UnexpectedEof | io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData
    )
}

/// A `BufRead` that counts what its consumer consumed: after a gzip member
/// is decoded from it, `pos` is exactly where that member ended.
struct CountingBufRead<R> {
    inner: R,
    pos: u64,
}

impl<R: BufRead> Read for CountingBufRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: BufRead> BufRead for CountingBufRead<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        self.pos += amt as u64;
        self.inner.consume(amt);
    }
}

/// Hashes what passes through it (the WARC writer, the WACZ export and
/// objects written as a stream).
pub(crate) struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
}

impl<W: Write> HashingWriter<W> {
    pub(crate) fn new(inner: W, hasher: Sha256) -> Self {
        HashingWriter { inner, hasher }
    }

    /// The digest of everything written through it.
    pub(crate) fn digest(self) -> Vec<u8> {
        self.hasher.finalize().to_vec()
    }

    /// The writer it wrote to, and the digest of everything written.
    pub(crate) fn into_parts(self) -> (W, Vec<u8>) {
        (self.inner, self.hasher.finalize().to_vec())
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn open_body<'a>(body: &Body<'a>) -> io::Result<Box<dyn Read + 'a>> {
    Ok(match *body {
        Body::Bytes(bytes) => Box::new(bytes),
        Body::File(path) => Box::new(File::open(path)?),
    })
}

/// The body's length: what the headers will announce before it is read.
fn body_len(body: &Body) -> io::Result<u64> {
    match *body {
        Body::Bytes(bytes) => Ok(bytes.len() as u64),
        Body::File(path) => Ok(std::fs::metadata(path)?.len()),
    }
}

/// The SHA-256 of the body (the payload digest) and of `head` followed by
/// the body (the block digest), in one streamed read of the body.
fn hash_body(body: &Body, len: u64, head: &[u8]) -> io::Result<(Vec<u8>, Vec<u8>)> {
    let mut payload = Sha256::new();
    let mut block = Sha256::new();
    block.update(head);
    // Bytes in memory are hashed where they are, not copied through a
    // buffer first.
    if let Body::Bytes(bytes) = *body {
        if bytes.len() as u64 != len {
            return Err(body_changed());
        }
        payload.update(bytes);
        block.update(bytes);
        return Ok((payload.finalize().to_vec(), block.finalize().to_vec()));
    }
    let mut reader = open_body(body)?;
    let mut buf = vec![0; 64 * 1024];
    let mut seen = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        payload.update(&buf[..n]);
        block.update(&buf[..n]);
        seen += n as u64;
    }
    if seen != len {
        return Err(body_changed());
    }
    Ok((payload.finalize().to_vec(), block.finalize().to_vec()))
}

fn body_changed() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        "the response body changed while it was being archived",
    )
}

/// The status line and the headers as stored, with the blank line that
/// ends them: a response block up to its body.
fn http_head(ex: &Exchange, body_len: u64) -> Vec<u8> {
    let mut head = status_line(ex.http_version, ex.status);
    for (name, value) in stored_response_headers(ex.response_headers, body_len) {
        push_field(&mut head, &name, &value);
    }
    head.extend_from_slice(b"\r\n");
    head
}

/// The `WARC-Payload-Digest` of a body whose SHA-256 is `hex` (as the
/// store names objects); `None` when `hex` is not a SHA-256.
pub fn payload_digest_of(hex_sha256: &str) -> Option<String> {
    let raw = hex::decode(hex_sha256).ok()?;
    (raw.len() == 32).then(|| digest_label(&raw))
}

/// `sha256:` and the uppercase, padded base32 of the raw digest: the form
/// WARC tools write. warcio compares it as a string of the same length as
/// its own (padded) base32, so the padding must stay.
fn digest_label(raw: &[u8]) -> String {
    format!("sha256:{}", data_encoding::BASE32.encode(raw))
}

/// A fresh `<urn:uuid:…>` record id: a random (version 4) UUID.
fn new_record_id() -> String {
    let mut bits: u128 = rand::random();
    bits = (bits & !(0xf << 76)) | (0x4 << 76); // version 4
    bits = (bits & !(0x3 << 62)) | (0x2 << 62); // RFC 4122 variant
    // Written without `format!`: a recheck makes two ids per source.
    let mut hex = [0u8; 32];
    // Sixteen bytes always fill thirty-two digits.
    let _ = hex::encode_to_slice(bits.to_be_bytes(), &mut hex);
    let hex = std::str::from_utf8(&hex).unwrap_or_default();
    let mut id = String::with_capacity(47);
    id.push_str("<urn:uuid:");
    for (i, group) in [0..8, 8..12, 12..16, 16..20, 20..32]
        .into_iter()
        .enumerate()
    {
        if i > 0 {
            id.push('-');
        }
        id.push_str(hex.get(group).unwrap_or_default());
    }
    id.push('>');
    id
}

/// Room for a small record's header fields, so that they are written
/// without growing their buffer.
const HEADER_ROOM: usize = 768;

/// The `WARC-Block-Digest` of an empty block (a 304's revisit).
static EMPTY_DIGEST: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| digest_label(&Sha256::digest(b"")));

/// `WARC-Date` of a time stamp: the last one formatted is kept per thread
/// (a run stamps every record with its one clock).
fn warc_date(t: DateTime<Utc>) -> String {
    thread_local! {
        static LAST: std::cell::RefCell<Option<(DateTime<Utc>, String)>> =
            const { std::cell::RefCell::new(None) };
    }
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        match &*last {
            Some((at, text)) if *at == t => text.clone(),
            _ => {
                let text = rfc3339(t);
                *last = Some((t, text.clone()));
                text
            }
        }
    })
}

/// The URI as a header value and request target: bytes outside printable
/// ASCII (an IRI's UTF-8, spaces, controls) are percent-encoded, so the
/// field is plain ASCII whatever the caller passed.
fn encode_uri(uri: &str) -> Cow<'_, str> {
    if uri.bytes().all(|b| b.is_ascii_graphic()) {
        return Cow::Borrowed(uri);
    }
    let mut out = String::with_capacity(uri.len() + 16);
    for b in uri.bytes() {
        if b.is_ascii_graphic() {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Cow::Owned(out)
}

/// `scheme://authority` → the authority, if the URI has one.
fn authority(uri: &str) -> Option<&str> {
    let rest = uri.split_once("://")?.1;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let auth = &rest[..end];
    // Userinfo never goes in a Host header.
    let auth = auth.rsplit_once('@').map_or(auth, |(_, host)| host);
    (!auth.is_empty()).then_some(auth)
}

/// The request-target of the request line: path and query, no fragment;
/// an empty path is "/".
fn request_target(uri: &str) -> Cow<'_, str> {
    let Some((_, rest)) = uri.split_once("://") else {
        return Cow::Borrowed(uri);
    };
    let rest = rest.split('#').next().unwrap_or_default();
    match rest.find(['/', '?']) {
        Some(i) if rest[i..].starts_with('?') => Cow::Owned(format!("/{}", &rest[i..])),
        Some(i) => Cow::Borrowed(&rest[i..]),
        None => Cow::Borrowed("/"),
    }
}

fn status_line(http_version: &str, status: u16) -> Vec<u8> {
    let reason = reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    format!("{} {status} {reason}\r\n", clean(http_version)).into_bytes()
}

/// `Name: value` CRLF. A CR or LF inside would end the field early and
/// shift the record's framing, so they become spaces.
fn push_field(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(clean(name).as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(clean(value).as_bytes());
    out.extend_from_slice(b"\r\n");
}

fn clean(s: &str) -> Cow<'_, str> {
    if memchr::memchr2(b'\r', b'\n', s.as_bytes()).is_some() {
        Cow::Owned(s.replace(['\r', '\n'], " "))
    } else {
        Cow::Borrowed(s)
    }
}

fn header_value<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn read_line(reader: &mut impl BufRead) -> io::Result<Option<String>> {
    let mut line = Vec::new();
    // Header lines are short; a "line" of megabytes is not a WARC header.
    let n = reader.take(64 * 1024).read_until(b'\n', &mut line)?;
    if n == 0 {
        return Ok(None);
    }
    if line.last() != Some(&b'\n') {
        return Err(invalid("WARC header line too long or cut short"));
    }
    line.pop();
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(Some(String::from_utf8_lossy(&line).into_owned()))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| PathBuf::from(path).display().to_string())
}

fn invalid(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use flate2::read::MultiGzDecoder;

    fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    fn exchange<'a>(
        uri: &'a str,
        req: &'a [(String, String)],
        resp: &'a [(String, String)],
        body: Body<'a>,
    ) -> Exchange<'a> {
        Exchange {
            target_uri: uri,
            date: Utc.with_ymd_and_hms(2024, 5, 6, 7, 8, 9).unwrap(),
            method: "GET",
            request_headers: req,
            http_version: "HTTP/1.1",
            status: 200,
            response_headers: resp,
            body,
            ip: Some("127.0.0.1"),
        }
    }

    fn write_one(w: &mut WarcWriter, uri: &str, body: &[u8]) -> Written {
        let req = headers(&[("User-Agent", "citeguard-test")]);
        let resp = headers(&[("Content-Type", "text/html")]);
        w.write_exchange(&exchange(uri, &req, &resp, Body::Bytes(body)))
            .unwrap()
    }

    /// Every record of the file, decompressed as one stream: the WARC-Type
    /// of each, in order.
    fn record_types(path: &Path) -> Vec<String> {
        let mut all = Vec::new();
        MultiGzDecoder::new(File::open(path).unwrap())
            .read_to_end(&mut all)
            .unwrap();
        let text = String::from_utf8_lossy(&all);
        text.split("\r\n")
            .filter_map(|l| l.strip_prefix("WARC-Type: "))
            .map(str::to_string)
            .collect()
    }

    fn sha256_label(bytes: &[u8]) -> String {
        digest_label(&Sha256::digest(bytes))
    }

    #[test]
    fn record_ids_are_random_version_4_uuids() {
        let a = new_record_id();
        let b = new_record_id();
        assert_ne!(a, b);
        let uuid = a
            .strip_prefix("<urn:uuid:")
            .and_then(|s| s.strip_suffix('>'))
            .unwrap();
        let groups: Vec<&str> = uuid.split('-').collect();
        assert_eq!(
            groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(groups[2].starts_with('4'));
        assert!(matches!(groups[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'));
        assert!(
            uuid.bytes()
                .all(|b| b == b'-' || b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
            "{a}"
        );
    }

    #[test]
    fn a_records_date_is_its_own_time_stamp_whatever_was_formatted_before() {
        let t1 = Utc.with_ymd_and_hms(2026, 11, 29, 5, 51, 50).unwrap();
        let t2 = Utc.with_ymd_and_hms(2010, 3, 4, 0, 0, 9).unwrap();
        for t in [t1, t1, t2, t1, t2, t2] {
            assert_eq!(warc_date(t), rfc3339(t));
        }
        assert_eq!(warc_date(t2), "2010-03-04T00:00:09Z");
    }

    #[test]
    fn a_new_file_starts_with_warcinfo_naming_the_software_and_format() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.warc.gz");
        let w = WarcWriter::create(&path).unwrap();
        drop(w);
        let info = read_record(&path, 0).unwrap();
        assert_eq!(info.version, "WARC/1.1");
        assert_eq!(info.header("warc-type"), Some("warcinfo"));
        assert_eq!(info.header("WARC-Filename"), Some("run.warc.gz"));
        assert_eq!(
            info.header("WARC-Block-Digest"),
            Some(sha256_label(&info.block).as_str())
        );
        let fields = String::from_utf8(info.block).unwrap();
        assert!(fields.contains(&format!(
            "software: citeguard/{}\r\n",
            env!("CARGO_PKG_VERSION")
        )));
        assert!(fields.contains("format: WARC File Format 1.1\r\n"));
        // Reopening an existing file adds no second warcinfo.
        drop(WarcWriter::create(&path).unwrap());
        assert_eq!(record_types(&path), ["warcinfo"]);
    }

    #[test]
    fn response_record_is_one_member_with_digests_length_and_closing_crlfs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.warc.gz");
        let mut w = WarcWriter::create(&path).unwrap();
        let body = b"<html><title>Hi</title></html>";
        let written = write_one(&mut w, "https://example.org/page?x=1", body);
        w.sync().unwrap();

        assert_eq!(written.file, "a.warc.gz");
        assert_eq!(written.payload_digest, sha256_label(body));
        let rec = read_record(&path, written.offset).unwrap();
        assert_eq!(rec.header("WARC-Type"), Some("response"));
        assert_eq!(
            rec.header("WARC-Record-ID"),
            Some(written.record_id.as_str())
        );
        assert_eq!(rec.header("WARC-Date"), Some("2024-05-06T07:08:09Z"));
        assert_eq!(
            rec.header("WARC-Target-URI"),
            Some("https://example.org/page?x=1")
        );
        assert_eq!(rec.header("WARC-IP-Address"), Some("127.0.0.1"));
        assert_eq!(
            rec.header("Content-Type"),
            Some("application/http;msgtype=response")
        );
        assert_eq!(
            rec.header("Content-Length"),
            Some(rec.block.len().to_string().as_str())
        );
        assert_eq!(
            rec.header("WARC-Block-Digest"),
            Some(sha256_label(&rec.block).as_str())
        );
        assert_eq!(
            rec.header("WARC-Payload-Digest"),
            Some(written.payload_digest.as_str())
        );
        assert!(rec.block.starts_with(b"HTTP/1.1 200 OK\r\n"));

        // The member holds exactly one record, ending in CRLF CRLF.
        let mut raw = Vec::new();
        copy_member(&path, written.offset, written.length, &mut raw).unwrap();
        let mut member = Vec::new();
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut member)
            .unwrap();
        assert!(member.starts_with(b"WARC/1.1\r\n"));
        assert!(member.ends_with(&[&rec.block[..], b"\r\n\r\n"].concat()));

        // The request follows, concurrent to the response.
        let req = read_record(&path, written.offset + written.length).unwrap();
        assert_eq!(req.header("WARC-Type"), Some("request"));
        assert_eq!(
            req.header("WARC-Concurrent-To"),
            Some(written.record_id.as_str())
        );
        assert_eq!(
            req.header("Content-Type"),
            Some("application/http;msgtype=request")
        );
        assert_eq!(
            req.header("WARC-Block-Digest"),
            Some(sha256_label(&req.block).as_str())
        );
        let request = String::from_utf8(req.block).unwrap();
        assert!(request.starts_with("GET /page?x=1 HTTP/1.1\r\nHost: example.org\r\n"));
        assert!(request.ends_with("User-Agent: citeguard-test\r\n\r\n"));
        assert_eq!(record_types(&path), ["warcinfo", "response", "request"]);
    }

    #[test]
    fn an_identical_payload_is_a_revisit_holding_only_the_headers_and_naming_the_first_capture() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.warc.gz");
        let mut w = WarcWriter::create(&path).unwrap();
        let body = b"<p>the same bytes under two addresses</p>";
        let first = write_one(&mut w, "http://a.test/one", body);
        let response = read_record(&path, first.offset).unwrap();
        let earlier = Earlier::of(&response.headers).unwrap();
        assert_eq!(earlier.record_id.as_deref(), Some(first.record_id.as_str()));
        assert_eq!(earlier.target_uri, "http://a.test/one");
        assert_eq!(earlier.payload_digest, sha256_label(body));

        let req = headers(&[]);
        let resp = headers(&[("Content-Type", "text/html")]);
        let mut ex = exchange("http://a.test/two", &req, &resp, Body::Bytes(body));
        ex.date = Utc.with_ymd_and_hms(2024, 5, 7, 0, 0, 0).unwrap();
        let capture = Capture::Revisit {
            profile: Profile::IdenticalPayloadDigest,
            earlier: &earlier,
        };
        let second = w.write_capture(&ex, &capture).unwrap();
        assert_eq!(second.payload_digest, earlier.payload_digest);
        let (revisit, len) = read_member(&path, second.offset).unwrap();
        assert_eq!(len, second.length);
        let h = |name| revisit.header(name).unwrap();
        assert_eq!(h("WARC-Type"), "revisit");
        assert_eq!(
            h("WARC-Profile"),
            "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
        );
        assert_eq!(h("WARC-Target-URI"), "http://a.test/two");
        assert_eq!(h("WARC-Date"), "2024-05-07T00:00:00Z");
        assert_eq!(h("WARC-Refers-To"), first.record_id);
        assert_eq!(h("WARC-Refers-To-Target-URI"), "http://a.test/one");
        assert_eq!(h("WARC-Refers-To-Date"), "2024-05-06T07:08:09Z");
        assert_eq!(h("WARC-Payload-Digest"), sha256_label(body));
        assert_eq!(h("WARC-Truncated"), "length");
        assert_eq!(h("WARC-Block-Digest"), sha256_label(&revisit.block));
        // The block is the response up to its body, which is not repeated.
        let (status, got, payload) = http_payload(&revisit.block).unwrap();
        assert_eq!((status, payload), (200, &b""[..]));
        assert!(got.contains(&("Content-Length".into(), body.len().to_string())));

        // A revisit of the revisit names the first capture, never itself.
        assert_eq!(Earlier::of(&revisit.headers), Some(earlier.clone()));
        let request = read_record(&path, second.offset + second.length).unwrap();
        assert_eq!(request.header("WARC-Type"), Some("request"));
        assert_eq!(
            request.header("WARC-Concurrent-To"),
            Some(second.record_id.as_str())
        );
        assert_eq!(
            record_types(&path),
            ["warcinfo", "response", "request", "revisit", "request"]
        );
    }

    #[test]
    fn a_not_modified_answer_is_a_revisit_with_an_empty_block_and_the_earlier_payload() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.warc.gz");
        let mut w = WarcWriter::create(&path).unwrap();
        let first = write_one(&mut w, "http://a.test/etag", b"<p>version one</p>");
        let earlier = Earlier::of(&read_record(&path, first.offset).unwrap().headers).unwrap();
        let req = headers(&[("If-None-Match", "\"v1\"")]);
        let resp = headers(&[("ETag", "\"v1\"")]);
        let mut ex = exchange("http://a.test/etag", &req, &resp, Body::Bytes(b""));
        ex.status = 304;
        let capture = Capture::Revisit {
            profile: Profile::ServerNotModified,
            earlier: &earlier,
        };
        let written = w.write_capture(&ex, &capture).unwrap();
        let revisit = read_record(&path, written.offset).unwrap();
        assert_eq!(
            revisit.header("WARC-Profile"),
            Some("http://netpreserve.org/warc/1.1/revisit/server-not-modified")
        );
        assert_eq!(revisit.header("Content-Length"), Some("0"));
        assert!(revisit.block.is_empty());
        assert_eq!(revisit.header("Content-Type"), None, "no block, no type");
        assert_eq!(
            revisit.header("WARC-Payload-Digest"),
            Some(earlier.payload_digest.as_str())
        );
        assert_eq!(
            revisit.header("WARC-Refers-To-Date"),
            Some(earlier.date.as_str())
        );
        let request = String::from_utf8(
            read_record(&path, written.offset + written.length)
                .unwrap()
                .block,
        )
        .unwrap();
        assert!(request.contains("If-None-Match: \"v1\"\r\n"), "{request}");
    }

    #[test]
    fn a_body_cut_at_the_size_cap_is_a_truncated_response() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.warc.gz");
        let mut w = WarcWriter::create(&path).unwrap();
        let req = headers(&[]);
        let ex = exchange(
            "http://a.test/big",
            &req,
            &req,
            Body::Bytes(b"the first part"),
        );
        let cut = w
            .write_capture(&ex, &Capture::Response { truncated: true })
            .unwrap();
        let whole = w.write_exchange(&ex).unwrap();
        let cut = read_record(&path, cut.offset).unwrap();
        assert_eq!(cut.header("WARC-Truncated"), Some("length"));
        assert_eq!(
            read_record(&path, whole.offset)
                .unwrap()
                .header("WARC-Truncated"),
            None
        );
    }

    #[test]
    fn small_records_are_deflated_whole_and_large_ones_streamed_both_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.warc.gz");
        let mut w = WarcWriter::create(&path).unwrap();
        let req = headers(&[("User-Agent", "citeguard-test")]);
        let resp = headers(&[("Content-Type", "text/html")]);
        let small_body = b"<p>short</p>".to_vec();
        let large_body: Vec<u8> = (0..SMALL_MEMBER * 3)
            .map(|i| b"abcdefghij"[(i * 7 + i / 13) % 10])
            .collect();
        let mut at = Vec::new();
        for body in [&small_body, &large_body] {
            let ex = exchange("http://a.test/p", &req, &resp, Body::Bytes(body));
            let written = w.write_exchange(&ex).unwrap();
            // The response, then its request (small either way).
            let (response, len) = read_member(&path, written.offset).unwrap();
            let (_, _, payload) = http_payload(&response.block).unwrap();
            assert_eq!(payload, &body[..]);
            assert_eq!(
                read_headers(&path, written.offset).unwrap(),
                response.headers,
                "the quick read of the headers"
            );
            let (request, _) = read_member(&path, written.offset + len).unwrap();
            assert_eq!(request.header("WARC-Type"), Some("request"));
            at.push((written.offset, len));
        }
        // The small response's member is libdeflate's deflate of its
        // plain record (deterministic), the large one is streamed.
        let bytes = std::fs::read(&path).unwrap();
        let member_at =
            |(offset, len): (u64, u64)| &bytes[offset as usize..(offset + len) as usize];
        let plain = |m: &[u8]| {
            let mut out = Vec::new();
            MultiGzDecoder::new(m).read_to_end(&mut out).unwrap();
            out
        };
        let small = member_at(at[0]);
        assert_eq!(small_member(&[&plain(small)]).unwrap(), small);
        assert!(plain(member_at(at[1])).len() > SMALL_MEMBER);
        assert_eq!(small[..4], [0x1f, 0x8b, 8, 0], "no optional gzip fields");
        // The whole file reads as one gzip stream of valid records.
        let mut all = Vec::new();
        MultiGzDecoder::new(&bytes[..])
            .read_to_end(&mut all)
            .unwrap();
        assert_eq!(find(&all, &large_body).map(|_| ()), Some(()));
        assert_eq!(members(&path).unwrap().len(), 5, "warcinfo and two pairs");
    }

    #[test]
    fn credentials_sent_never_reach_a_request_record_in_clear() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.warc.gz");
        let mut w = WarcWriter::create(&path).unwrap();
        let req = headers(&[
            ("Authorization", "Bearer s3cr3t"),
            ("cookie", "session=s3cr3t"),
            ("Accept", "text/html"),
        ]);
        let ex = exchange("http://a.test/", &req, &[], Body::Bytes(b"x"));
        let written = w.write_exchange(&ex).unwrap();
        let (request, _) = read_member(&path, written.offset + written.length).unwrap();
        let text = String::from_utf8(request.block).unwrap();
        assert!(!text.contains("s3cr3t"), "{text}");
        assert!(text.contains("Authorization: [redacted]\r\n"), "{text}");
        assert!(text.contains("cookie: [redacted]\r\n"), "{text}");
        assert!(text.contains("Accept: text/html\r\n"), "{text}");
    }

    #[test]
    fn read_member_says_where_the_next_record_starts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.warc.gz");
        let mut w = WarcWriter::create(&path).unwrap();
        let written = write_one(&mut w, "http://a.test/1", &[b'y'; 70_000]);
        let (response, len) = read_member(&path, written.offset).unwrap();
        assert_eq!(len, written.length);
        assert_eq!(response.header("WARC-Type"), Some("response"));
        let (request, len) = read_member(&path, written.offset + written.length).unwrap();
        assert_eq!(request.header("WARC-Type"), Some("request"));
        assert_eq!(
            written.offset + written.length + len,
            std::fs::metadata(&path).unwrap().len()
        );
        let headers = read_headers(&path, written.offset).unwrap();
        assert_eq!(headers, response.headers);
        assert_eq!(
            payload_digest_of(&"ab".repeat(32)).map(|d| d.len()),
            Some(63)
        );
        assert_eq!(payload_digest_of("not hex"), None);
    }

    #[test]
    fn headers_are_read_quickly_and_a_member_with_gzip_fields_the_long_way() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.warc.gz");
        let mut w = WarcWriter::create(&path).unwrap();
        // A long field: the headers end past the first output buffer.
        let long = format!("http://a.test/{}", "x".repeat(5_000));
        let first = write_one(&mut w, &long, &[b'y'; 70_000]);
        let second = write_one(&mut w, "http://a.test/2", b"two");
        drop(w);
        let file = File::open(&path).unwrap();
        for at in [first.offset, second.offset] {
            let (record, _) = read_member(&path, at).unwrap();
            let quick = quick_head(&file, at).expect("our members are read quickly");
            assert!(quick.ends_with(b"\r\n\r\n"));
            assert_eq!(read_head(&mut &quick[..], at).unwrap().1, record.headers);
            assert_eq!(read_headers(&path, at).unwrap(), record.headers);
        }
        assert_eq!(quick_head(&file, first.offset + 1), None);

        // The same record in a member with a file name (another writer's
        // gzip): read as a stream.
        let mut plain = Vec::new();
        let mut member = Vec::new();
        copy_member(&path, second.offset, second.length, &mut member).unwrap();
        flate2::read::GzDecoder::new(&member[..])
            .read_to_end(&mut plain)
            .unwrap();
        let mut gz = flate2::GzBuilder::new()
            .filename("record")
            .write(Vec::new(), Compression::default());
        gz.write_all(&plain).unwrap();
        let other = dir.path().join("b.warc.gz");
        std::fs::write(&other, gz.finish().unwrap()).unwrap();
        assert_eq!(quick_head(&File::open(&other).unwrap(), 0), None);
        assert_eq!(
            read_headers(&other, 0).unwrap(),
            read_member(&path, second.offset).unwrap().0.headers
        );
    }

    #[test]
    fn encodings_reqwest_undid_are_dropped_and_length_is_the_stored_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.warc.gz");
        let mut w = WarcWriter::create(&path).unwrap();
        let req = headers(&[]);
        let resp = headers(&[
            ("Content-Type", "text/plain"),
            ("Content-Encoding", "gzip"),
            ("Transfer-Encoding", "chunked"),
            ("content-length", "12"),
            ("Set-Cookie", "a=b"),
        ]);
        let body = b"decoded body, longer than the gzip";
        let written = w
            .write_exchange(&exchange(
                "http://example.org/",
                &req,
                &resp,
                Body::Bytes(body),
            ))
            .unwrap();
        let rec = read_record(&path, written.offset).unwrap();
        let (status, got, payload) = http_payload(&rec.block).unwrap();
        assert_eq!(status, 200);
        assert_eq!(payload, body);
        assert_eq!(
            got,
            headers(&[
                ("Content-Type", "text/plain"),
                ("content-length", &body.len().to_string()),
                ("Set-Cookie", "a=b"),
            ])
        );
        // No Content-Length at all (chunked): one is added.
        let added = stored_response_headers(&headers(&[("Transfer-Encoding", "chunked")]), 5);
        assert_eq!(added, headers(&[("Content-Length", "5")]));
    }

    #[test]
    fn a_file_body_is_archived_like_the_same_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.warc.gz");
        let body: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let spool = dir.path().join("body");
        std::fs::write(&spool, &body).unwrap();
        let mut w = WarcWriter::create(&path).unwrap();
        let req = headers(&[]);
        let resp = headers(&[]);
        let from_file = w
            .write_exchange(&exchange(
                "http://a.test/f",
                &req,
                &resp,
                Body::File(&spool),
            ))
            .unwrap();
        let from_bytes = w
            .write_exchange(&exchange(
                "http://a.test/f",
                &req,
                &resp,
                Body::Bytes(&body),
            ))
            .unwrap();
        assert_eq!(from_file.payload_digest, from_bytes.payload_digest);
        let a = read_record(&path, from_file.offset).unwrap();
        let b = read_record(&path, from_bytes.offset).unwrap();
        assert_eq!(a.block, b.block);
        assert_eq!(http_payload(&a.block).unwrap().2, &body[..]);
    }

    #[test]
    fn a_failed_write_leaves_the_file_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.warc.gz");
        let mut w = WarcWriter::create(&path).unwrap();
        write_one(&mut w, "http://a.test/1", b"one");
        let len = std::fs::metadata(&path).unwrap().len();
        let missing = dir.path().join("no-such-spool-file");
        let req = headers(&[]);
        let err = w
            .write_exchange(&exchange(
                "http://a.test/2",
                &req,
                &req,
                Body::File(&missing),
            ))
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), len);
        let next = write_one(&mut w, "http://a.test/3", b"three");
        assert_eq!(next.offset, len);
        assert_eq!(
            record_types(&path),
            ["warcinfo", "response", "request", "response", "request"]
        );
    }

    #[test]
    fn an_interrupted_append_is_cut_off_when_the_file_is_reopened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.warc.gz");
        let mut w = WarcWriter::create(&path).unwrap();
        write_one(&mut w, "http://a.test/1", b"one");
        let second = write_one(&mut w, "http://a.test/2", b"two");
        drop(w);
        let good_len = std::fs::metadata(&path).unwrap().len();

        // Half of a member, as a process killed mid-append leaves it.
        let mut member = Vec::new();
        copy_member(&path, second.offset, second.length, &mut member).unwrap();
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&member[..member.len() / 2]).unwrap();
        drop(f);

        let mut w = WarcWriter::create(&path).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), good_len);
        let third = write_one(&mut w, "http://a.test/3", b"three");
        assert_eq!(third.offset, good_len);
        drop(w);
        assert_eq!(
            record_types(&path),
            [
                "warcinfo", "response", "request", "response", "request", "response", "request"
            ]
        );
        let rec = read_record(&path, third.offset).unwrap();
        assert_eq!(http_payload(&rec.block).unwrap().2, b"three");
    }

    #[test]
    fn garbage_after_the_last_record_is_cut_off() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.warc.gz");
        let mut w = WarcWriter::create(&path).unwrap();
        write_one(&mut w, "http://a.test/1", b"one");
        drop(w);
        let good_len = std::fs::metadata(&path).unwrap().len();
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"\x1f\x8b\x08 not really gzip").unwrap();
        drop(f);
        drop(WarcWriter::create(&path).unwrap());
        assert_eq!(std::fs::metadata(&path).unwrap().len(), good_len);

        // A file holding only a torn warcinfo starts again from scratch.
        let torn = dir.path().join("b.warc.gz");
        std::fs::write(&torn, &std::fs::read(&path).unwrap()[..20]).unwrap();
        drop(WarcWriter::create(&torn).unwrap());
        assert_eq!(record_types(&torn), ["warcinfo"]);
    }

    #[test]
    fn damage_before_good_records_is_refused_not_cut() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.warc.gz");
        let mut w = WarcWriter::create(&path).unwrap();
        let first = write_one(&mut w, "http://a.test/1", &[b'x'; 5000]);
        write_one(&mut w, "http://a.test/2", b"two");
        drop(w);
        let mut bytes = std::fs::read(&path).unwrap();
        let middle = (first.offset + first.length / 2) as usize;
        bytes[middle] ^= 0xff;
        std::fs::write(&path, &bytes).unwrap();

        let err = WarcWriter::create(&path).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("damaged record"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
    }

    #[test]
    fn http_payload_splits_status_headers_and_body() {
        let block = b"HTTP/2.0 404 Not Found\r\nContent-Type: text/html\r\nX-Long: a\r\n b\r\n\r\n<p>gone</p>\r\n\r\n";
        let (status, headers, body) = http_payload(block).unwrap();
        assert_eq!(status, 404);
        assert_eq!(
            headers,
            vec![
                ("Content-Type".to_string(), "text/html".to_string()),
                ("X-Long".to_string(), "a b".to_string()),
            ]
        );
        // The body is everything after the blank line, CRLFs included.
        assert_eq!(body, b"<p>gone</p>\r\n\r\n");

        let (status, headers, body) = http_payload(b"HTTP/1.1 204\r\n\r\n").unwrap();
        assert_eq!((status, headers.len(), body.len()), (204, 0, 0));

        assert!(http_payload(b"not http\r\n\r\nbody").is_err());
        assert!(http_payload(b"HTTP/1.1 200 OK\r\nno end").is_err());
    }

    #[test]
    fn target_uri_and_request_target_are_plain_ascii() {
        assert_eq!(
            encode_uri("https://a.test/café x"),
            "https://a.test/caf%C3%A9%20x"
        );
        assert_eq!(encode_uri("https://a.test/%C3%A9"), "https://a.test/%C3%A9");
        assert_eq!(request_target("https://a.test"), "/");
        assert_eq!(request_target("https://a.test?q=1"), "/?q=1");
        assert_eq!(request_target("https://a.test/p/q?r#frag"), "/p/q?r");
        assert_eq!(authority("https://user@a.test:8443/x"), Some("a.test:8443"));
        assert_eq!(status_line("HTTP/1.1", 599), b"HTTP/1.1 599 \r\n");
        let mut field = Vec::new();
        push_field(&mut field, "X-Evil", "a\r\nWARC-Type: forged");
        assert_eq!(field, b"X-Evil: a  WARC-Type: forged\r\n");
    }

    #[test]
    fn read_record_rejects_an_offset_that_is_not_a_record() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.warc.gz");
        let mut w = WarcWriter::create(&path).unwrap();
        let written = write_one(&mut w, "http://a.test/1", b"one");
        assert!(read_record(&path, written.offset + 1).is_err());
        let mut out = Vec::new();
        let err = copy_member(&path, written.offset, 1 << 20, &mut out).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn members_are_checked_and_a_damaged_one_is_fenced_off() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.warc.gz");
        let mut w = WarcWriter::create(&path).unwrap();
        let first = write_one(&mut w, "http://a.test/1", &[b'x'; 5000]);
        let second = write_one(&mut w, "http://a.test/2", b"two");
        drop(w);
        let sound = members(&path).unwrap();
        assert_eq!(sound.len(), 5, "warcinfo and two pairs: {sound:?}");
        assert!(sound.iter().all(|m| m.damage.is_none()));
        assert_eq!(
            (sound[1].offset, sound[1].length),
            (first.offset, first.length)
        );
        check_record_at(&path, first.offset, first.length).unwrap();

        let mut bytes = std::fs::read(&path).unwrap();
        bytes[(first.offset + first.length / 2) as usize] ^= 0x55;
        std::fs::write(&path, &bytes).unwrap();
        let found = members(&path).unwrap();
        let damaged: Vec<_> = found.iter().filter(|m| m.damage.is_some()).collect();
        assert_eq!(damaged.len(), 1, "{found:?}");
        assert_eq!(
            (damaged[0].offset, damaged[0].length),
            (first.offset, first.length)
        );
        assert!(
            found
                .iter()
                .any(|m| m.offset == second.offset && m.damage.is_none())
        );
        assert!(check_record_at(&path, first.offset, first.length).is_err());
        check_record_at(&path, second.offset, second.length).unwrap();
    }

    #[test]
    fn a_record_whose_block_does_not_match_its_digest_is_damaged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.warc.gz");
        let mut w = WarcWriter::create(&path).unwrap();
        let written = write_one(&mut w, "http://a.test/1", b"the body as fetched");
        drop(w);
        // The member re-made with one byte of the body changed: gzip is
        // whole, the record is not.
        let mut member = Vec::new();
        copy_member(&path, written.offset, written.length, &mut member).unwrap();
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(&member[..])
            .read_to_end(&mut plain)
            .unwrap();
        let at = find(&plain, b"as fetched").unwrap();
        plain[at] = b'A';
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), Compression::fast());
        gz.write_all(&plain).unwrap();
        let forged = gz.finish().unwrap();
        let err = check_record_bytes(&forged).unwrap_err();
        assert!(err.to_string().contains("WARC-Block-Digest"), "{err}");
        check_record_bytes(&member).unwrap();
        let two = [member.clone(), member].concat();
        assert!(check_record_bytes(&two).is_err(), "one record, one member");
    }

    #[test]
    fn a_file_cut_short_ends_in_one_damaged_member() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.warc.gz");
        let mut w = WarcWriter::create(&path).unwrap();
        let written = write_one(&mut w, "http://a.test/1", b"one");
        drop(w);
        let len = std::fs::metadata(&path).unwrap().len();
        let cut = written.offset + written.length + 10;
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(cut)
            .unwrap();
        assert!(cut < len);
        let found = members(&path).unwrap();
        let last = found.last().unwrap();
        assert_eq!(last.offset, written.offset + written.length);
        assert_eq!(last.length, 10);
        assert!(last.damage.is_some());
        assert!(found[..found.len() - 1].iter().all(|m| m.damage.is_none()));
    }

    #[test]
    fn no_credential_is_written_in_clear() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.warc.gz");
        let mut w = WarcWriter::create(&path).unwrap();
        w.redact_headers(["X-Paywall-Session"]);
        let req = headers(&[
            ("Authorization", "Basic YWxpY2U6czNjcmV0cGFzcw=="),
            ("cookie", "session=s3cretcookie"),
            ("Proxy-Authorization", "Basic cHJveHk6cHc="),
            ("x-paywall-session", "s3cretsession"),
            ("User-Agent", "citeguard-test"),
        ]);
        let resp = headers(&[("Content-Type", "text/html")]);
        let written = w
            .write_exchange(&exchange(
                "http://alice:s3cretpass@a.test:8080/p",
                &req,
                &resp,
                Body::Bytes(b"<p>x</p>"),
            ))
            .unwrap();
        drop(w);
        let mut all = Vec::new();
        MultiGzDecoder::new(File::open(&path).unwrap())
            .read_to_end(&mut all)
            .unwrap();
        let all = String::from_utf8_lossy(&all);
        for secret in ["s3cret", "YWxpY2U6", "cHJveHk6cHc", "alice"] {
            assert!(!all.contains(secret), "{secret} in {all}");
        }
        let response = read_record(&path, written.offset).unwrap();
        assert_eq!(
            response.header("WARC-Target-URI"),
            Some("http://a.test:8080/p")
        );
        let request = read_record(&path, written.offset + written.length).unwrap();
        let block = String::from_utf8(request.block).unwrap();
        assert!(
            block.contains(&format!("Authorization: {REDACTED}\r\n")),
            "{block}"
        );
        assert!(
            block.contains(&format!("cookie: {REDACTED}\r\n")),
            "{block}"
        );
        assert!(
            block.contains(&format!("x-paywall-session: {REDACTED}\r\n")),
            "{block}"
        );
        assert!(block.contains("User-Agent: citeguard-test\r\n"), "{block}");
        assert!(
            block.starts_with("GET /p HTTP/1.1\r\nHost: a.test:8080\r\n"),
            "{block}"
        );
    }
}
