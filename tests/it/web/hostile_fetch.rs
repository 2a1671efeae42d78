//! A hostile publisher: pages and hosts built to hurt the fetcher, one
//! path each, under `/hostile-fetch/`:
//!
//! - decompression bombs: [`gzip_bomb`] and [`brotli_bomb`] are real ones
//!   (a few KB that inflate to gigabytes), built here without ever holding
//!   what they inflate to; `/hostile-fetch/bomb.css` and `/hostile-fetch/bomb.html`
//!   serve them;
//! - `/hostile-fetch/deep`: an article followed by markup nested 100,000 deep;
//! - titles with numbers that are not statuses: `/hostile-fetch/area-code`
//!   ("Area code 410 gets an overlay"), `/hostile-fetch/commit` ("commit
//!   9a404be");
//! - redirects to other schemes: `/hostile-fetch/to-file`, `/hostile-fetch/to-data`,
//!   `/hostile-fetch/to-ftp`, `/hostile-fetch/to-mailto`;
//! - `/hostile-fetch/status999`: a status code no HTTP defines;
//! - for the SSRF tests: `/hostile-fetch/links-to?u=URL` (a page whose style
//!   sheet and image are at URL), `/hostile-fetch/redirect-to?u=URL` (a 302 to
//!   URL), and `/hostile-fetch/secret.css`, an "internal" style sheet with a
//!   marker that must never reach a copy.
//!
//! Two hosts misbehave as a whole: [`bomb_robots_on`] (its robots.txt is a
//! brotli bomb) and [`bomb_everything_on`] (every path but `/article` is a
//! gzip bomb: the soft-404 probe, a post, a sitemap, a TimeGate's answer).

use std::io::Write;
use std::sync::OnceLock;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::publisher::ARTICLE;
use super::{Asked, Web, html, redirect, serve};

/// What the bombs inflate to, in MiB.
pub const BOMB_MIB: usize = 2048;

/// The marker inside the "internal" style sheet.
pub const SECRET: &str = "internal-only-c0ffee";

/// `mib` MiB of zeros as a gzip member, built without holding them: one
/// MiB deflated with a full flush (which ends byte-aligned and refers to
/// nothing before it), repeated, then a final empty block and the trailer
/// with the CRC of the whole. About 1 KB per MiB.
pub fn gzip_bomb(mib: usize) -> Vec<u8> {
    use flate2::{Compress, Compression, Crc, FlushCompress};
    let zeros = vec![0u8; 1 << 20];
    let mut deflate = Compress::new(Compression::best(), false);
    let mut segment = Vec::with_capacity(64 * 1024);
    deflate
        .compress_vec(&zeros, &mut segment, FlushCompress::Full)
        .unwrap();
    assert_eq!(
        deflate.total_in(),
        zeros.len() as u64,
        "one call takes the MiB"
    );
    let mut end = Vec::with_capacity(64);
    deflate
        .compress_vec(&[], &mut end, FlushCompress::Finish)
        .unwrap();
    // The CRC of `mib` MiB of zeros, by doubling.
    let mut one = Crc::new();
    one.update(&zeros);
    let mut crc = Crc::new();
    let mut power = one;
    let mut n = mib;
    while n > 0 {
        if n & 1 == 1 {
            crc.combine(&power);
        }
        // `Crc` is not `Clone`; combined into an empty one, it is copied.
        let mut twice = Crc::new();
        twice.combine(&power);
        power.combine(&twice);
        n >>= 1;
    }
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    for _ in 0..mib {
        out.extend_from_slice(&segment);
    }
    out.extend_from_slice(&end);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&((mib as u64) << 20).to_le_bytes()[..4]);
    out
}

/// `mib` MiB of zeros as a brotli stream, built without holding them:
/// after a flush the encoder ends byte-aligned in a state that one more
/// MiB of zeros leaves unchanged, so that MiB's bytes are repeated; a last
/// empty meta-block (`0x03`) ends the stream.
pub fn brotli_bomb(mib: usize) -> Vec<u8> {
    assert!(mib >= 2);
    let zeros = vec![0u8; 1 << 20];
    let mut w = brotli::CompressorWriter::new(Vec::new(), 64 * 1024, 5, 22);
    let mut marks = Vec::new();
    for _ in 0..3 {
        w.write_all(&zeros).unwrap();
        w.flush().unwrap();
        marks.push(w.get_ref().len());
    }
    let bytes = w.get_ref().clone();
    let second = &bytes[marks[0]..marks[1]];
    let third = &bytes[marks[1]..marks[2]];
    assert_eq!(second, third, "the encoder's state repeats after a MiB");
    let mut out = bytes[..marks[0]].to_vec();
    for _ in 1..mib {
        out.extend_from_slice(second);
    }
    out.push(0x03);
    out
}

fn gzip_bomb_once() -> &'static [u8] {
    static BOMB: OnceLock<Vec<u8>> = OnceLock::new();
    BOMB.get_or_init(|| gzip_bomb(BOMB_MIB))
}

fn brotli_bomb_once() -> &'static [u8] {
    static BOMB: OnceLock<Vec<u8>> = OnceLock::new();
    BOMB.get_or_init(|| brotli_bomb(BOMB_MIB))
}

fn gzipped(content_type: &'static str) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_ENCODING, "gzip"),
        ],
        gzip_bomb_once(),
    )
        .into_response()
}

fn brotlied(content_type: &'static str) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_ENCODING, "br"),
        ],
        brotli_bomb_once(),
    )
        .into_response()
}

/// A host whose robots.txt is a brotli bomb, with the article at
/// `/article` (and nothing elsewhere).
pub fn bomb_robots_on(ip: &str) -> Web {
    serve(
        ip,
        Router::new()
            .route(
                "/robots.txt",
                axum::routing::get(|| async { brotlied("text/plain") }),
            )
            .route(
                "/article",
                axum::routing::get(|| async { html(StatusCode::OK, ARTICLE) }),
            )
            .fallback(|| async { StatusCode::NOT_FOUND }),
    )
}

/// A host where `/article` is an ordinary page and every other path a 200
/// gzip bomb: what the soft-404 probe, a post or sitemap read by URL and a
/// TimeGate's answer meet there. It has no robots.txt.
pub fn bomb_everything_on(ip: &str) -> Web {
    serve(
        ip,
        Router::new()
            .route(
                "/article",
                axum::routing::get(|| async { html(StatusCode::OK, ARTICLE) }),
            )
            .route(
                "/robots.txt",
                axum::routing::get(|| async { StatusCode::NOT_FOUND }),
            )
            .route(
                "/sitemap.xml",
                axum::routing::get(|| async { gzipped("application/xml") }),
            )
            .fallback(|| async { gzipped("text/html; charset=utf-8") }),
    )
}

/// A page that looks fine, then nests 100,000 `<div>`s.
pub fn deep_page() -> String {
    format!(
        "<!doctype html><html><head><title>Nested</title></head><body><article><h1>Nested</h1><p>The start of a page that goes on far too deep.</p>{}</article></body></html>",
        "<div>".repeat(100_000)
    )
}

fn query_url(asked: &Asked) -> String {
    asked
        .uri
        .query()
        .and_then(|q| q.strip_prefix("u="))
        .map(|u| {
            url::form_urlencoded::parse(format!("u={u}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        })
        .unwrap_or_default()
}

pub fn answer(asked: &Asked) -> Option<Response> {
    let titled = |title: &str| {
        html(
            StatusCode::OK,
            format!(
                "<!doctype html><html><head><title>{title}</title></head><body><article><h1>{title}</h1><p>A short news item with a number in its title.</p></article></body></html>"
            ),
        )
    };
    let r = match asked.path() {
        "/hostile-fetch/bomb.css" => gzipped("text/css"),
        "/hostile-fetch/bomb.html" => brotlied("text/html; charset=utf-8"),
        "/hostile-fetch/deep" => html(StatusCode::OK, deep_page()),
        "/hostile-fetch/area-code" => titled("Area code 410 gets an overlay"),
        "/hostile-fetch/commit" => titled("Parser crash fixed in commit 9a404be"),
        "/hostile-fetch/to-file" => redirect(StatusCode::FOUND, "file:///etc/passwd"),
        "/hostile-fetch/to-data" => redirect(StatusCode::FOUND, "data:text/html,<h1>hi</h1>"),
        "/hostile-fetch/to-ftp" => redirect(
            StatusCode::MOVED_PERMANENTLY,
            "ftp://files.example/story.txt",
        ),
        "/hostile-fetch/to-mailto" => redirect(StatusCode::FOUND, "mailto:editor@example.org"),
        "/hostile-fetch/status999" => html(
            StatusCode::from_u16(999).unwrap(),
            "<title>Request denied</title>",
        ),
        "/hostile-fetch/links-to" => {
            let u = query_url(asked);
            html(
                StatusCode::OK,
                format!(
                    "<!doctype html><html><head><title>A public page</title><link rel=stylesheet href=\"{u}\"></head><body><article><h1>A public page</h1><p>It asks for a style sheet and an image on someone else's network.</p><img src=\"{u}\"></article></body></html>"
                ),
            )
        }
        "/hostile-fetch/redirect-to" => redirect(StatusCode::FOUND, &query_url(asked)),
        "/hostile-fetch/secret.css" => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/css")],
            format!("body::after {{ content: \"{SECRET}\" }}"),
        )
            .into_response(),
        _ => return None,
    };
    Some(r)
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn the_gzip_bomb_is_a_valid_gzip_of_that_many_zeros() {
        let bomb = gzip_bomb(3);
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&bomb[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out.len(), 3 << 20);
        assert!(out.iter().all(|&b| b == 0));
        assert!(gzip_bomb(BOMB_MIB).len() < 4 << 20);
    }

    #[test]
    fn the_brotli_bomb_is_a_valid_brotli_stream_of_that_many_zeros() {
        let bomb = brotli_bomb(3);
        let mut out = Vec::new();
        brotli::Decompressor::new(&bomb[..], 4096)
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out.len(), 3 << 20);
        assert!(out.iter().all(|&b| b == 0));
        assert!(brotli_bomb(BOMB_MIB).len() < 256 << 10);
    }
}
