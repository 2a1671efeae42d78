//! The misbehaving test web shared by the integration tests: real HTTP
//! servers on loopback addresses (127.0.0.x plays a different publisher
//! for each x), each path playing one kind of publisher behaviour.
#![allow(dead_code)]

use std::collections::HashMap;
use std::convert::Infallible;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Counters the tests read: hits per path, requests in flight and the most
/// ever in flight at once.
#[derive(Default)]
pub struct Counters {
    pub hits: Mutex<HashMap<String, usize>>,
    pub in_flight: AtomicUsize,
    pub max_in_flight: AtomicUsize,
}

impl Counters {
    pub fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }
}

/// One publisher on one loopback address.
pub struct TestWeb {
    pub addr: SocketAddr,
    pub counters: Arc<Counters>,
}

impl TestWeb {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
}

pub const ARTICLE: &str = "<!doctype html><html><head><title>Prison break in Dushanbe</title></head><body><nav><a href='/'>Home</a></nav><article><h1>Prison break in Dushanbe</h1><p>About 25 prisoners escaped from a detention centre in the Tajik capital on Sunday night, killing several guards. The escape could turn up the heat on the administration, which has struggled over the past year.</p></article></body></html>";

const SOFT_404: &str = "<!doctype html><html><head><title>Page not found | The Daily</title></head><body><h1>Sorry, we couldn't find that page</h1><p>Try our search.</p></body></html>";

const FRONT_PAGE: &str = "<!doctype html><html><head><title>Example News — front page</title></head><body><h1>Welcome to Example News</h1><p>Today's top stories from Central Asia and beyond, updated every hour by our correspondents in the field.</p></body></html>";

async fn track(
    State(c): State<Arc<Counters>>,
    req: Request,
    next: axum::middleware::Next,
) -> Response {
    let path = req.uri().path().to_string();
    *c.hits.lock().unwrap().entry(path).or_default() += 1;
    let now = c.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    c.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let resp = next.run(req).await;
    c.in_flight.fetch_sub(1, Ordering::SeqCst);
    resp
}

fn html(status: StatusCode, body: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

fn redirect(status: StatusCode, to: &str) -> Response {
    (status, [(header::LOCATION, to.to_string())]).into_response()
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

/// The publisher that misbehaves in every way, one path each.
async fn publisher(
    State(c): State<Arc<Counters>>,
    method: Method,
    headers: HeaderMap,
    req: Request,
) -> Response {
    let path = req.uri().path().to_string();
    match path.as_str() {
        "/" => html(StatusCode::OK, FRONT_PAGE),
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
        "/head405" if method == Method::HEAD => StatusCode::METHOD_NOT_ALLOWED.into_response(),
        "/head405" => html(StatusCode::OK, ARTICLE),
        "/bot-403" => {
            let ua = headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if ua.contains("citeguard") {
                html(StatusCode::FORBIDDEN, "<title>Forbidden</title>")
            } else {
                html(StatusCode::OK, ARTICLE)
            }
        }
        "/cookie-wall" => {
            let cookie = headers
                .get(header::COOKIE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if cookie.contains("consent=yes") {
                html(StatusCode::OK, ARTICLE)
            } else {
                html(StatusCode::FORBIDDEN, "<title>Accept cookies</title>")
            }
        }
        "/ratelimited" => {
            if c.hits("/ratelimited") <= 1 {
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
        "/latin1-missing" => {
            let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode("<html><head><title>Página no encontrada</title></head><body><h1>Página no encontrada</h1></body></html>");
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "text/html; charset=iso-8859-1")],
                bytes.into_owned(),
            )
                .into_response()
        }
        "/latin1" => {
            let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode("<html><head><title>Réfugiés à Douchanbé</title></head><body><p>Le président a parlé.</p></body></html>");
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "text/html; charset=iso-8859-1")],
                bytes.into_owned(),
            )
                .into_response()
        }
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
        _ => html(StatusCode::NOT_FOUND, "<title>404 Not Found</title>"),
    }
}

/// A host that answers every path with its front page.
async fn same_page_everywhere() -> Response {
    html(StatusCode::OK, FRONT_PAGE)
}

async fn serve(ip: &str, router: Router<Arc<Counters>>) -> TestWeb {
    let counters = Arc::new(Counters::default());
    let app = router
        .layer(axum::middleware::from_fn_with_state(
            counters.clone(),
            track,
        ))
        .with_state(counters.clone());
    let listener = tokio::net::TcpListener::bind((ip.parse::<IpAddr>().unwrap(), 0))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    TestWeb { addr, counters }
}

/// The publisher that misbehaves, on `ip`.
pub async fn publisher_on(ip: &str) -> TestWeb {
    serve(ip, Router::new().fallback(publisher)).await
}

/// A host that answers any path with the same 200 page, on `ip`.
pub async fn catch_all_on(ip: &str) -> TestWeb {
    serve(ip, Router::new().fallback(same_page_everywhere)).await
}

/// An address where nothing listens (connection refused).
pub async fn nothing_listening_on(ip: &str) -> SocketAddr {
    let l = tokio::net::TcpListener::bind((ip.parse::<IpAddr>().unwrap(), 0))
        .await
        .unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    addr
}

/// A server that accepts and resets every connection.
pub async fn resetting_on(ip: &str) -> SocketAddr {
    let l = tokio::net::TcpListener::bind((ip.parse::<IpAddr>().unwrap(), 0))
        .await
        .unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((s, _)) = l.accept().await else { return };
            // Linger 0: close sends RST instead of FIN (blocking on drop is
            // harmless with a zero linger).
            #[allow(deprecated)]
            let _ = s.set_linger(Some(Duration::from_secs(0)));
            drop(s);
        }
    });
    addr
}

/// A config for tests: short timeouts and retry waits, no politeness delay.
pub fn fast_config() -> citeguard::config::Config {
    let mut c = citeguard::config::Config::default();
    c.fetch.timeout_secs = 2.0;
    c.fetch.connect_timeout_secs = 2.0;
    c.fetch.retries = 1;
    c.fetch.max_retry_wait_secs = 1.0;
    c.fetch.host_delay_ms = 0;
    // No test asks a real web archive.
    c.schedule.memento_endpoint.clear();
    c
}
