//! The publisher that misbehaves in every way, one path each: what the
//! fetcher's verdicts are tested against.

use std::convert::Infallible;
use std::io::Write;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{Asked, html, redirect};

pub const ARTICLE: &str = "<!doctype html><html><head><title>Prison break in Dushanbe</title></head><body><nav><a href='/'>Home</a></nav><article><h1>Prison break in Dushanbe</h1><p>About 25 prisoners escaped from a detention centre in the Tajik capital on Sunday night, killing several guards. The escape could turn up the heat on the administration, which has struggled over the past year.</p></article></body></html>";

const SOFT_404: &str = "<!doctype html><html><head><title>Page not found | The Daily</title></head><body><h1>Sorry, we couldn't find that page</h1><p>Try our search.</p></body></html>";

const FRONT_PAGE: &str = "<!doctype html><html><head><title>Example News — front page</title></head><body><h1>Welcome to Example News</h1><p>Today's top stories from Central Asia and beyond, updated every hour by our correspondents in the field.</p></body></html>";

pub fn front_page() -> Response {
    html(StatusCode::OK, FRONT_PAGE)
}

pub async fn answer(asked: &Asked) -> Option<Response> {
    let path = asked.path();
    let r = match path {
        "/" => front_page(),
        "/robots.txt" => (StatusCode::OK, "User-agent: *\nDisallow: /private/\n").into_response(),
        "/ok" | "/new-home/story" | "/private/page" => html(StatusCode::OK, ARTICLE),
        "/gone404" => html(StatusCode::NOT_FOUND, "<title>404</title>"),
        "/gone410" => html(StatusCode::GONE, "<title>Gone</title>"),
        "/forbidden" => html(StatusCode::FORBIDDEN, "<title>Forbidden</title><p>No.</p>"),
        "/soft404" => html(StatusCode::OK, SOFT_404),
        "/old-story" => redirect(StatusCode::MOVED_PERMANENTLY, "/"),
        "/members-only" => redirect(StatusCode::FOUND, "/login?next=/members-only"),
        "/login" => html(
            StatusCode::OK,
            "<title>Log in</title><form><input name=user></form>",
        ),
        "/moved" => redirect(StatusCode::MOVED_PERMANENTLY, "/new-home/story"),
        "/chain1" => redirect(StatusCode::FOUND, "/chain2"),
        "/chain2" => redirect(StatusCode::MOVED_PERMANENTLY, "/chain3"),
        "/chain3" => redirect(StatusCode::TEMPORARY_REDIRECT, "/ok"),
        "/loop-a" => redirect(StatusCode::FOUND, "/loop-b"),
        "/loop-b" => redirect(StatusCode::FOUND, "/loop-a"),
        "/head405" if asked.method == Method::HEAD => {
            StatusCode::METHOD_NOT_ALLOWED.into_response()
        }
        "/head405" => html(StatusCode::OK, ARTICLE),
        "/bot-403" => {
            if asked.header(header::USER_AGENT).contains("citeguard") {
                html(StatusCode::FORBIDDEN, "<title>Forbidden</title>")
            } else {
                html(StatusCode::OK, ARTICLE)
            }
        }
        "/cookie-wall" => {
            if asked.header(header::COOKIE).contains("consent=yes") {
                html(StatusCode::OK, ARTICLE)
            } else {
                html(StatusCode::FORBIDDEN, "<title>Accept cookies</title>")
            }
        }
        "/ratelimited" => {
            if asked.state.hits(|p| p == "/ratelimited") <= 1 {
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [(header::RETRY_AFTER, "1")],
                    "slow down",
                )
                    .into_response()
            } else {
                html(StatusCode::OK, ARTICLE)
            }
        }
        "/always503" => html(
            StatusCode::SERVICE_UNAVAILABLE,
            "<title>Service Unavailable</title>",
        ),
        "/never-finishes" => {
            let first = futures_util::stream::once(async {
                Ok::<_, Infallible>(Bytes::from_static(b"<html><title>Loading"))
            });
            let stream = futures_util::StreamExt::chain(first, futures_util::stream::pending());
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "text/html")],
                Body::from_stream(stream),
            )
                .into_response()
        }
        "/gzip" => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CONTENT_ENCODING, "gzip"),
            ],
            gzip(ARTICLE.as_bytes()),
        )
            .into_response(),
        "/brotli" => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CONTENT_ENCODING, "br"),
            ],
            brotli(ARTICLE.as_bytes()),
        )
            .into_response(),
        "/latin1-missing" => latin1(
            "<html><head><title>Página no encontrada</title></head><body><h1>Página no encontrada</h1></body></html>",
        ),
        "/latin1" => latin1(
            "<html><head><title>Réfugiés à Douchanbé</title></head><body><p>Le président a parlé.</p></body></html>",
        ),
        "/paper.pdf" => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/pdf")],
            b"%PDF-1.4\n%\xe2\xe3\n1 0 obj<<>>endobj\n%%EOF".to_vec(),
        )
            .into_response(),
        "/huge" => {
            // 2 GiB announced and generated on demand, never allocated.
            const CHUNK: usize = 64 * 1024;
            let total: u64 = 2 * 1024 * 1024 * 1024;
            let chunk = Bytes::from(vec![b'a'; CHUNK]);
            let stream = futures_util::stream::iter(
                (0..total / CHUNK as u64).map(move |_| Ok::<_, Infallible>(chunk.clone())),
            );
            let mut resp = Body::from_stream(stream).into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
            resp.headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(total));
            resp
        }
        p if p.starts_with("/slow/") => {
            // Simulated server latency, so requests overlap in flight.
            tokio::time::sleep(Duration::from_millis(40)).await;
            html(StatusCode::OK, ARTICLE)
        }
        _ => return None,
    };
    Some(r)
}

/// A page in ISO-8859-1 that says so in its header.
fn latin1(text: &str) -> Response {
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(text);
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/html; charset=iso-8859-1")],
        bytes.into_owned(),
    )
        .into_response()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn brotli(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
    w.write_all(data).unwrap();
    drop(w);
    out
}
