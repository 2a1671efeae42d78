//! The one misbehaving test web every integration test uses: real HTTP
//! servers on loopback addresses only (127.0.0.x plays a different host for
//! each x). A test starts its own server with [`Web::on`], with fresh
//! counters and switches; every server answers every route of:
//!
//! - [`publisher`]: a news site that misbehaves in every way, one path each
//!   (404, 410, a "not found" page served as a 200, redirects to the front
//!   page or a login, loops, 429, 503, a body that never ends, 2 GiB, gzip,
//!   Latin-1, a refused HEAD, a bot wall, a cookie wall, robots.txt);
//! - [`changing`]: pages that change between runs ([`Web::change_pages`]),
//!   a host that goes down ([`Web::set_down`]), a page that is removed
//!   ([`Web::set_gone`]), a page answered "304 Not Modified";
//! - [`archive`]: Memento TimeGates and captures under `/archive/`, good
//!   ones and broken ones;
//! - [`blog`]: a post, a feed and a sitemap that `collect` reads by URL;
//! - [`hostile_fetch`]: decompression bombs, markup nested too deep, numbers
//!   that are not statuses, redirects to other schemes and into a private
//!   network (and, as whole hosts, a brotli-bomb robots.txt and a host
//!   that answers every path with a gzip bomb);
//! - [`hostile`]: mutation-XSS and navigation payloads for offline copies.
//!
//! Hosts that misbehave below HTTP are here too: one that answers every
//! path with the same page ([`catch_all_on`]), one where nothing listens
//! ([`nothing_listening_on`]), one that resets every connection
//! ([`resetting_on`]).
//!
//! The servers run on a runtime of their own, so a test can be a plain
//! `#[test]` that runs the `citeguard` binary as well as a
//! `#[tokio::test]` that drives the library.

pub mod archive;
pub mod blog;
pub mod changing;
pub mod hostile;
pub mod hostile_fetch;
pub mod publisher;

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

/// One host of the test web: where it listens and what it has seen.
pub struct Web {
    pub addr: SocketAddr,
    state: Arc<Shared>,
}

/// What a server has seen, and the switches a test flips.
#[derive(Default)]
pub struct Shared {
    /// Every request, in order: method and path.
    requests: Mutex<Vec<(Method, String)>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    /// Conditional requests answered "304 Not Modified".
    not_modified: AtomicUsize,
    /// The `Accept-Datetime` of every TimeGate request.
    asked_dates: Mutex<Vec<String>>,
    /// The changing pages say what they said on a later day.
    changed: AtomicBool,
    /// `/flaky` answers 503.
    down: AtomicBool,
    /// `/gone` answers 404.
    gone: AtomicBool,
    /// Every answer waits this long first.
    delay_ms: AtomicU64,
    /// Told once the server has seen this many requests.
    trip: Mutex<Option<(usize, mpsc::Sender<()>)>>,
}

impl Shared {
    /// Requests whose path passes `keep`.
    pub fn hits(&self, keep: impl Fn(&str) -> bool) -> usize {
        let requests = self.requests.lock().unwrap();
        requests.iter().filter(|(_, p)| keep(p)).count()
    }
}

/// A request as the routes see it.
pub struct Asked {
    pub method: Method,
    pub headers: HeaderMap,
    pub uri: Uri,
    pub state: Arc<Shared>,
}

impl Asked {
    pub fn path(&self) -> &str {
        self.uri.path()
    }

    pub fn header(&self, name: header::HeaderName) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// `host:port` as the client addressed it.
    pub fn host(&self) -> &str {
        self.header(header::HOST)
    }
}

impl Web {
    /// The test web on `ip`: every route of every module above.
    pub fn on(ip: &str) -> Web {
        serve(ip, Router::new().fallback(answer))
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// `http://127.0.0.x:port`, for building URLs by hand.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests for exactly this path.
    pub fn hits(&self, path: &str) -> usize {
        self.state.hits(|p| p == path)
    }

    /// Requests for any path under this prefix.
    pub fn hits_under(&self, prefix: &str) -> usize {
        self.state.hits(|p| p.starts_with(prefix))
    }

    /// The methods of the requests for this path, in order.
    pub fn methods(&self, path: &str) -> Vec<String> {
        let requests = self.state.requests.lock().unwrap();
        requests
            .iter()
            .filter(|(_, p)| p == path)
            .map(|(m, _)| m.to_string())
            .collect()
    }

    /// All requests so far.
    pub fn requests(&self) -> usize {
        self.state.requests.lock().unwrap().len()
    }

    /// The most requests ever in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.state.max_in_flight.load(Ordering::SeqCst)
    }

    /// Conditional requests answered "304 Not Modified".
    pub fn not_modified(&self) -> usize {
        self.state.not_modified.load(Ordering::SeqCst)
    }

    /// The `Accept-Datetime` headers the TimeGates were asked with.
    pub fn asked_dates(&self) -> Vec<String> {
        self.state.asked_dates.lock().unwrap().clone()
    }

    /// A later day: the pages of [`changing`] change.
    pub fn change_pages(&self) {
        self.state.changed.store(true, Ordering::SeqCst);
    }

    /// `/flaky` fails with 503 while down.
    pub fn set_down(&self, down: bool) {
        self.state.down.store(down, Ordering::SeqCst);
    }

    /// `/gone` is a 404 while gone.
    pub fn set_gone(&self, gone: bool) {
        self.state.gone.store(gone, Ordering::SeqCst);
    }

    /// Every answer waits this long first.
    pub fn set_delay(&self, delay: Duration) {
        self.state
            .delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    /// A receiver told as soon as `more` further requests have arrived.
    pub fn after_requests(&self, more: usize) -> mpsc::Receiver<()> {
        let (tx, rx) = mpsc::channel();
        let at = self.requests() + more;
        *self.state.trip.lock().unwrap() = Some((at, tx));
        rx
    }
}

/// A host that answers any path with the same 200 page, on `ip`.
pub fn catch_all_on(ip: &str) -> Web {
    serve(
        ip,
        Router::new().fallback(|| async { publisher::front_page() }),
    )
}

/// An address where nothing listens (connection refused).
pub fn nothing_listening_on(ip: &str) -> SocketAddr {
    let listener = bind(ip);
    let addr = listener.local_addr().unwrap();
    drop(listener);
    addr
}

/// A server that accepts and resets every connection.
pub fn resetting_on(ip: &str) -> SocketAddr {
    let listener = bind(ip);
    let addr = listener.local_addr().unwrap();
    runtime().spawn(async move {
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        loop {
            let Ok((s, _)) = listener.accept().await else {
                return;
            };
            // Linger 0: close sends RST instead of FIN (blocking on drop is
            // harmless with a zero linger).
            #[allow(deprecated)]
            let _ = s.set_linger(Some(Duration::from_secs(0)));
            drop(s);
        }
    });
    addr
}

/// The runtime every server of the test web runs on, whatever the test's
/// own runtime (or none).
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("test-web")
            .enable_all()
            .build()
            .expect("the test web's runtime starts")
    })
}

/// A listener on a loopback address, port chosen by the system.
fn bind(ip: &str) -> std::net::TcpListener {
    let ip: IpAddr = ip.parse().unwrap();
    assert!(ip.is_loopback(), "the test web stays on loopback: {ip}");
    let listener = std::net::TcpListener::bind((ip, 0)).unwrap();
    listener.set_nonblocking(true).unwrap();
    listener
}

fn serve(ip: &str, router: Router<Arc<Shared>>) -> Web {
    let state = Arc::new(Shared::default());
    let app = router
        .layer(axum::middleware::from_fn_with_state(state.clone(), track))
        .with_state(state.clone());
    let listener = bind(ip);
    let addr = listener.local_addr().unwrap();
    runtime().spawn(async move {
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        axum::serve(listener, app).await.unwrap();
    });
    Web { addr, state }
}

/// Counts every request, trips the test's wire, then waits the delay.
async fn track(
    State(s): State<Arc<Shared>>,
    req: Request,
    next: axum::middleware::Next,
) -> Response {
    let seen = {
        let mut requests = s.requests.lock().unwrap();
        requests.push((req.method().clone(), req.uri().path().to_string()));
        requests.len()
    };
    {
        let mut trip = s.trip.lock().unwrap();
        if trip.as_ref().is_some_and(|(at, _)| seen >= *at)
            && let Some((_, tx)) = trip.take()
        {
            let _ = tx.send(());
        }
    }
    let now = s.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    s.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let delay = s.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let resp = next.run(req).await;
    s.in_flight.fetch_sub(1, Ordering::SeqCst);
    resp
}

/// Every route: the first module that knows the path answers.
async fn answer(
    State(state): State<Arc<Shared>>,
    method: Method,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let asked = Asked {
        method,
        headers,
        uri,
        state,
    };
    if let Some(r) = publisher::answer(&asked).await {
        return r;
    }
    if let Some(r) = changing::answer(&asked) {
        return r;
    }
    if let Some(r) = archive::answer(&asked) {
        return r;
    }
    if let Some(r) = blog::answer(&asked) {
        return r;
    }
    if let Some(r) = hostile_fetch::answer(&asked) {
        return r;
    }
    if let Some(r) = hostile::answer(&asked) {
        return r;
    }
    html(StatusCode::NOT_FOUND, "<title>404 Not Found</title>")
}

pub fn html(status: StatusCode, body: impl Into<String>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body.into(),
    )
        .into_response()
}

pub fn redirect(status: StatusCode, to: &str) -> Response {
    (status, [(header::LOCATION, to.to_string())]).into_response()
}
