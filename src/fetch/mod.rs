//! Fetch: source URLs in, `Fetched` (a `Check` and the body) out.
//!
//! Two reqwest clients for the run (connection reuse, HTTP/2, compressed
//! bodies): one that connects only to public addresses, for every fetch
//! that starts at one, and one that connects anywhere, for a cited source
//! on a private network (`address.rs` has the rule). Redirects are followed
//! by hand so every hop is recorded (and judged), retries with backoff for
//! what may pass, robots.txt once per host, and the soft-404 checks. Bodies
//! are streamed: hashed while they arrive, capped at `max_body` counted
//! after decompression (`base::cap`, like every other body read here), the
//! first part kept for classification (`HEAD_BYTES`), which is the whole of
//! most bodies; a longer one is spooled to a file when a spool directory is
//! given.
//!
//! Here: the clients, the retry loop (`Fetcher::fetch`) and the redirect
//! loop (`attempt`); `response.rs` turns a final response into its body and
//! its verdict, step by named step; `classify.rs` holds the pure rules;
//! `bound.rs` says how much of a fetched page its readers may parse.
//!
//! It never touches the store: it hands the caller the body (in memory, or
//! a spooled file) and its hash, and the caller decides what to keep. It
//! never prints. A run that keeps nothing (`Fetcher::keeping_no_records`)
//! is not given what only an archive would keep: no exchanges, no request
//! headers, no body hash.

pub mod address;
pub mod bound;
pub mod classify;
pub mod queue;
pub mod resolve;
mod response;
pub mod robots;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;
use regex::Regex;
use tokio::sync::OnceCell;
use url::Url;

use crate::config::{Config, FetchConfig, HostConfig};
use crate::error::{Error, Result};
use crate::model::{Check, Reason, Redirect, Verdict};

pub use address::Reach;
pub use queue::Queue;

/// How much of a body is kept in memory for classification and text
/// extraction: a body no longer than this is handed on in memory, whole;
/// a longer one is also spooled to a file (the whole of it), and its bytes
/// beyond the head only pass through the hasher and that file.
pub const HEAD_BYTES: usize = 512 * 1024;

/// The longest URL fetched (as a source or a redirect's target): most
/// servers refuse longer ones (414), and a longer one is rarely a link a
/// person wrote.
pub const MAX_URL_BYTES: usize = 8 * 1024;

/// How much of a redirect's body is read and kept for the archive.
const HOP_BODY_BYTES: usize = 64 * 1024;

/// The validators of the last snapshot, for a conditional request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// One source to fetch.
#[derive(Debug, Clone)]
pub struct Job {
    /// The source key (normalised, no fragment). Shared: a run holds each
    /// cited URL once, in its queue order and in the job queued for it.
    pub url: Arc<str>,
    pub validators: Option<Validators>,
    /// Where the fetch may connect: `None` for a cited source, whose own
    /// address decides; a requisite's is its page's (`address`).
    pub reach: Option<Reach>,
}

impl Job {
    /// A cited source.
    pub fn new(url: impl Into<Arc<str>>) -> Job {
        Job {
            url: url.into(),
            validators: None,
            reach: None,
        }
    }

    /// A requisite of a page that was fetched with `reach`: it may go no
    /// further than its page could.
    pub fn requisite(url: impl Into<Arc<str>>, reach: Reach) -> Job {
        Job {
            reach: Some(reach),
            ..Job::new(url)
        }
    }
}

/// A body as received (decompressed), hashed and possibly spooled.
#[derive(Debug, Clone)]
pub struct FetchedBody {
    /// SHA-256 of the bytes received (up to the cap), lowercase hex; empty
    /// when the fetcher keeps no records.
    pub sha256: String,
    pub size: u64,
    /// The body was longer than `max_body` and was cut there.
    pub truncated: bool,
    /// The first `HEAD_BYTES` bytes; none when the fetcher keeps no
    /// records (it was read for the verdict only).
    pub head: Vec<u8>,
    /// The whole body (up to the cap) in a file of the spool directory,
    /// for a body longer than `HEAD_BYTES` (a shorter one is `head`, whole).
    pub spool: Option<PathBuf>,
    /// Why the body could not be spooled (a full disk), when it could not.
    pub spool_error: Option<String>,
    pub status: u16,
    /// Response headers in the order received; none when the fetcher
    /// keeps no records.
    pub headers: Vec<(String, String)>,
    pub http_version: String,
    pub content_type: Option<String>,
    pub charset: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// What fetching one source gave.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub check: Check,
    /// The final response's body, for a 2xx answer.
    pub body: Option<FetchedBody>,
    /// The headers of the final request, for the archive (none when the
    /// fetcher keeps no records).
    pub request_headers: Vec<(String, String)>,
    /// Where this fetch could connect: what its requisites inherit.
    pub reach: Reach,
    /// Every exchange of this fetch that got a response, in the order
    /// they happened, for the archive: robots.txt (when this fetch was
    /// the one to ask for it), each redirect, each attempt that was
    /// retried, and the final answer. None when the fetcher keeps no
    /// records.
    pub exchanges: Vec<Exchange>,
}

/// One request and the response it got, as sent and received.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The URL asked for.
    pub url: String,
    /// The headers sent, including the client's `User-Agent`.
    pub request_headers: Vec<(String, String)>,
    pub status: u16,
    /// As the status line spells it: "HTTP/1.1", "HTTP/2.0".
    pub http_version: String,
    /// In the order received.
    pub response_headers: Vec<(String, String)>,
    pub body: ExchangeBody,
    /// The address that answered.
    pub ip: Option<String>,
}

/// The body of an [`Exchange`]'s response.
#[derive(Debug, Clone)]
pub enum ExchangeBody {
    /// It is [`Fetched::body`]: this exchange is the final 2xx answer.
    Fetched,
    /// Read into memory (a redirect's, an error page's, robots.txt; empty
    /// for a 304): whole, or its first bytes when `truncated`.
    Read { bytes: Vec<u8>, truncated: bool },
}

impl Exchange {
    /// The exchange of `resp` to the request whose headers were `sent`,
    /// before its body is read.
    fn of(url: &Url, sent: Vec<(String, String)>, resp: &reqwest::Response) -> Exchange {
        Exchange {
            url: url.to_string(),
            request_headers: sent,
            status: resp.status().as_u16(),
            http_version: format!("{:?}", resp.version()),
            response_headers: header_pairs(resp.headers()),
            body: ExchangeBody::Read {
                bytes: Vec::new(),
                truncated: false,
            },
            ip: resp.remote_addr().map(|a| a.ip().to_string()),
        }
    }
}

/// The HTTP side of a run. Shared by the queue's workers.
pub struct Fetcher {
    /// For fetches that may reach public addresses only (`address`); the
    /// same as `open` with `--allow-private`.
    client: reqwest::Client,
    /// For fetches that may reach any address.
    open: reqwest::Client,
    resolver: Arc<resolve::Resolver>,
    guard: Arc<address::Guard>,
    /// Where each cited host may reach, worked out once per run.
    reaches: Mutex<HashMap<String, Arc<OnceCell<Reach>>>>,
    config: FetchConfig,
    hosts: BTreeMap<String, HostConfig>,
    exclude: Vec<Regex>,
    include: Vec<Regex>,
    spool: Option<PathBuf>,
    robots: robots::RobotsCache,
    probes: Mutex<HashMap<String, Arc<OnceCell<Option<String>>>>>,
    /// Whether each fetch records what an archive keeps (its exchanges,
    /// request headers and body hash): true unless the run keeps nothing.
    records: bool,
    /// What a request on a host with a delay waits for first, when set.
    turn: std::sync::OnceLock<Turn>,
}

/// A host's turn to be sent a request (a fleet worker's: the fleet's turn,
/// not this process's), awaited before each source's request and each
/// robots.txt on a host with a delay.
pub type Turn = Arc<dyn Fn(String) -> futures_util::future::BoxFuture<'static, ()> + Send + Sync>;

/// One request/response round, redirects followed.
struct Attempt {
    verdict: Verdict,
    reason: Reason,
    status: Option<u16>,
    final_url: Option<String>,
    redirects: Vec<Redirect>,
    content_type: Option<String>,
    detail: Option<String>,
    body: Option<FetchedBody>,
    retry_after: Option<Duration>,
    request_headers: Vec<(String, String)>,
    /// Every exchange of this attempt, redirects first.
    exchanges: Vec<Exchange>,
}

impl Attempt {
    fn failed(
        verdict: Verdict,
        reason: Reason,
        detail: String,
        redirects: Vec<Redirect>,
    ) -> Attempt {
        Attempt {
            verdict,
            reason,
            status: None,
            final_url: None,
            redirects,
            content_type: None,
            detail: Some(detail),
            body: None,
            retry_after: None,
            request_headers: Vec::new(),
            exchanges: Vec::new(),
        }
    }

    /// The exchanges of an attempt that a later one replaces: its body,
    /// which no one will store, is kept in memory as far as it was read
    /// for classification, and its spool file is removed.
    fn into_exchanges(mut self) -> Vec<Exchange> {
        if let Some(body) = self.body.take() {
            for e in &mut self.exchanges {
                if matches!(e.body, ExchangeBody::Fetched) {
                    e.body = ExchangeBody::Read {
                        truncated: body.truncated || body.size > body.head.len() as u64,
                        bytes: body.head.clone(),
                    };
                }
            }
            discard_spool(&body);
        }
        self.exchanges
    }
}

const BROWSER_USER_AGENT: &str =
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

impl Fetcher {
    /// Builds the client. `spool` is where whole bodies are written (inside
    /// the store, so keeping one is a rename); `None` keeps only the head.
    pub fn new(config: &Config, spool: Option<PathBuf>) -> Result<Fetcher> {
        let fc = &config.fetch;
        let compile = |res: &[String]| -> Result<Vec<Regex>> {
            res.iter()
                .map(|r| Regex::new(r).map_err(|e| Error::Usage(format!("bad regex '{r}': {e}"))))
                .collect()
        };
        let resolver = Arc::new(resolve::Resolver::new(fc));
        let guard = Arc::new(address::Guard::new(fc.public_addresses.iter().copied()));
        let open = http_client(fc, resolver.clone())?;
        let client = if fc.allow_private {
            open.clone()
        } else {
            let public_only = address::PublicOnly {
                inner: resolver.clone(),
                guard: guard.clone(),
            };
            http_client(fc, Arc::new(public_only))?
        };
        if let Some(dir) = &spool {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        Ok(Fetcher {
            client,
            open,
            resolver,
            guard,
            reaches: Mutex::new(HashMap::new()),
            config: fc.clone(),
            hosts: config.hosts.clone(),
            exclude: compile(&fc.exclude)?,
            include: compile(&fc.include)?,
            spool,
            robots: robots::RobotsCache::default(),
            probes: Mutex::new(HashMap::new()),
            records: true,
            turn: std::sync::OnceLock::new(),
        })
    }

    /// This fetcher for a run that keeps nothing (`check --no-store`): its
    /// fetches record no exchanges, no request headers and no body hash,
    /// which no one would read. Verdicts are the same.
    pub fn keeping_no_records(mut self) -> Fetcher {
        self.records = false;
        self
    }

    pub fn config(&self) -> &FetchConfig {
        &self.config
    }

    /// The client for a conversation that starts at `url` (a web archive's
    /// TimeGate): public addresses only, unless `url` is itself on a
    /// private network.
    pub async fn client_for(&self, url: &str) -> &reqwest::Client {
        match Url::parse(url) {
            Ok(u) => self.client_of(self.reach_of_cited(&u).await),
            Err(_) => &self.client,
        }
    }

    fn client_of(&self, reach: Reach) -> &reqwest::Client {
        match reach {
            Reach::Public => &self.client,
            Reach::Any => &self.open,
        }
    }

    /// Where a fetch that starts at the cited `url` may reach: anywhere
    /// when its host is on a private network (every address it resolves
    /// to is not public) or `--allow-private` is given, else public
    /// addresses only. Worked out once per host and run; a host that does
    /// not resolve stays public (its fetch then fails on its own).
    async fn reach_of_cited(&self, url: &Url) -> Reach {
        if self.config.allow_private {
            return Reach::Any;
        }
        let addrs: Vec<std::net::IpAddr> = match url.host() {
            Some(url::Host::Ipv4(ip)) => vec![ip.into()],
            Some(url::Host::Ipv6(ip)) => vec![ip.into()],
            Some(url::Host::Domain(name)) => {
                let cell = {
                    let mut reaches = self.reaches.lock().unwrap_or_else(|p| p.into_inner());
                    reaches
                        .entry(name.to_ascii_lowercase())
                        .or_default()
                        .clone()
                };
                return *cell
                    .get_or_init(|| async {
                        use reqwest::dns::Resolve;
                        let Ok(name) = name.parse::<reqwest::dns::Name>() else {
                            return Reach::Public;
                        };
                        match self.resolver.resolve(name).await {
                            Ok(addrs) => {
                                let ips: Vec<_> = addrs.map(|a| a.ip()).collect();
                                self.guard.reach_of(&ips)
                            }
                            Err(_) => Reach::Public,
                        }
                    })
                    .await;
            }
            None => Vec::new(),
        };
        self.guard.reach_of(&addrs)
    }

    /// Makes each request on a host with a delay, robots.txt included,
    /// wait for `turn` first.
    pub fn take_turns(&self, turn: Turn) {
        let _ = self.turn.set(turn);
    }

    async fn wait_turn(&self, url: &Url) {
        if let Some(turn) = self.turn.get() {
            let host = queue::host_key(url.as_str());
            if !self.politeness(&host).1.is_zero() {
                turn(host).await;
            }
        }
    }

    /// Per-host limit and spacing, with `citeguard.toml` host overrides.
    pub fn politeness(&self, host: &str) -> (usize, Duration) {
        let h = self.hosts.get(host);
        let limit = h
            .and_then(|h| h.per_host)
            .unwrap_or(self.config.per_host)
            .max(1);
        let delay = crate::config::millis(
            h.and_then(|h| h.host_delay_ms)
                .unwrap_or(self.config.host_delay_ms),
        );
        (limit, delay)
    }

    /// Whether `--exclude`/`--include` keep this URL out.
    pub fn is_excluded(&self, url: &str) -> bool {
        self.exclude.iter().any(|r| r.is_match(url))
            || (!self.include.is_empty() && !self.include.iter().any(|r| r.is_match(url)))
    }

    /// Fetches one source, with retries, and classifies it: skipped when
    /// it is not to be fetched, else what the last attempt made of it.
    pub async fn fetch(&self, job: &Job) -> Fetched {
        let started = Instant::now();
        let mut reach = job.reach.unwrap_or(Reach::Public);
        let mut robots = None;
        let (a, attempts) = match self.fetchable(job, &mut robots).await {
            Ok((url, to)) => {
                reach = to;
                self.wait_turn(&url).await;
                self.attempts(&url, job.validators.as_ref(), to).await
            }
            Err(skipped) => (skipped, 0),
        };
        let exchanges = robots.into_iter().chain(a.exchanges).collect();
        Fetched {
            check: Check {
                url: job.url.to_string(),
                verdict: a.verdict,
                reason: a.reason,
                status: a.status,
                final_url: a.final_url,
                redirects: a.redirects,
                content_type: a.content_type,
                attempts,
                elapsed_ms: started.elapsed().as_millis() as u64,
                detail: a.detail,
                checked_at: crate::base::time::rfc3339(chrono::Utc::now()),
            },
            body: a.body,
            request_headers: a.request_headers,
            exchanges,
            reach,
        }
    }

    /// The URL to fetch and where its fetch may connect, or why it is
    /// `skipped`: too long, not a URL, not http(s), excluded, on a private
    /// address for a fetch that may reach only public ones, or disallowed
    /// by robots.txt. `robots` gets the exchange of robots.txt when this
    /// call is the one that fetched it.
    async fn fetchable(
        &self,
        job: &Job,
        robots: &mut Option<Exchange>,
    ) -> std::result::Result<(Url, Reach), Attempt> {
        let skipped =
            |reason, detail: String| Attempt::failed(Verdict::Skipped, reason, detail, vec![]);
        let url = &*job.url;
        if let Some(long) = too_long(url) {
            return Err(skipped(Reason::UrlTooLong, long));
        }
        let url =
            Url::parse(url).map_err(|e| skipped(Reason::Scheme, format!("not a URL: {e}")))?;
        if !crate::base::web::is_http(url.as_str()) {
            return Err(skipped(
                Reason::Scheme,
                format!("{}: not fetched", url.scheme()),
            ));
        }
        if self.is_excluded(url.as_str()) {
            return Err(skipped(
                Reason::Excluded,
                "matches --exclude/--include".into(),
            ));
        }
        let reach = match job.reach {
            Some(reach) => reach,
            None => self.reach_of_cited(&url).await,
        };
        if let Some(refused) = self.guard.refuses(reach, &url) {
            return Err(skipped(Reason::PrivateAddress, refused.to_string()));
        }
        if !self.config.ignore_robots && !self.robots_allow(&url, reach, robots).await {
            return Err(skipped(Reason::Robots, "robots.txt disallows it".into()));
        }
        Ok((url, reach))
    }

    /// Attempts until one is final: a transient failure is retried after a
    /// backoff, and a refusal of our request's shape is tried once more
    /// dressed as a browser. Returns the last attempt and the count.
    async fn attempts(
        &self,
        url: &Url,
        validators: Option<&Validators>,
        reach: Reach,
    ) -> (Attempt, u32) {
        let mut attempts = 0u32;
        let mut browser = false;
        // The exchanges of the attempts replaced so far, for the archive.
        let mut earlier: Vec<Exchange> = Vec::new();
        let last = |mut a: Attempt, mut earlier: Vec<Exchange>, attempts| {
            earlier.append(&mut a.exchanges);
            a.exchanges = earlier;
            (a, attempts)
        };
        loop {
            attempts += 1;
            let a = self.attempt(url, validators, browser, reach).await;
            // A server that refuses our request shape (405, 501, a 403 to a
            // bot user agent) gets one more try dressed as a browser.
            if !browser && matches!(a.status, Some(403 | 405 | 501)) && a.reason != Reason::Soft404
            {
                browser = true;
                attempts += 1;
                let again = self.attempt(url, validators, true, reach).await;
                if again.verdict == Verdict::Ok || again.status != a.status {
                    earlier.extend(a.into_exchanges());
                    if !self.retryable(&again, attempts) {
                        return last(again, earlier, attempts);
                    }
                    self.backoff(&again, attempts).await;
                    earlier.extend(again.into_exchanges());
                    continue;
                }
                let mut a = a;
                a.exchanges.extend(again.into_exchanges());
                return last(a, earlier, attempts);
            }
            if !self.retryable(&a, attempts) {
                return last(a, earlier, attempts);
            }
            self.backoff(&a, attempts).await;
            earlier.extend(a.into_exchanges());
        }
    }

    fn retryable(&self, a: &Attempt, attempts: u32) -> bool {
        a.verdict == Verdict::Unreachable
            && a.reason.is_transient()
            && a.reason != Reason::RedirectLoop
            && attempts <= self.config.retries
    }

    /// Exponential backoff with jitter, or the server's Retry-After, both
    /// capped by `max_retry_wait`.
    async fn backoff(&self, a: &Attempt, attempts: u32) {
        let cap = self.config.max_retry_wait();
        let wait = match a.retry_after {
            Some(d) => d,
            None => {
                let base = Duration::from_millis(250u64.saturating_mul(1 << attempts.min(10)));
                let jitter = rand::rng().random_range(0.75..1.25);
                base.mul_f64(jitter)
            }
        };
        tokio::time::sleep(wait.min(cap)).await;
    }

    async fn robots_allow(&self, url: &Url, reach: Reach, exchange: &mut Option<Exchange>) -> bool {
        let cell = self.robots.cell(&robots_key(url, reach));
        let robot = cell
            .get_or_init(|| async move {
                let robots_url = url.join("/robots.txt").ok()?;
                let client = self.client_of(reach);
                let request = client.get(robots_url.clone()).build().ok()?;
                let sent = self.records.then(|| self.sent_headers(&request));
                self.wait_turn(url).await;
                let resp = client.execute(request).await.ok()?;
                let ok = resp.status().is_success();
                let e = sent.map(|sent| Exchange::of(&robots_url, sent, &resp));
                let (bytes, truncated) = read_some(resp, robots::MAX_BYTES as usize).await;
                let robot = if ok { robots::parse(&bytes) } else { None };
                *exchange = e.map(|e| Exchange {
                    body: ExchangeBody::Read { bytes, truncated },
                    ..e
                });
                robot
            })
            .await;
        robot.as_ref().is_none_or(|r| r.allowed(url.as_str()))
    }

    /// Takes the robots.txt of a cited `url`'s origin as another process
    /// of the same run got it (a fleet worker): `body` is a 2xx answer's
    /// body, `None` when the origin had none that counts (which allows
    /// everything). This fetcher then never asks for it itself. A no-op
    /// when it already knows that origin's.
    pub async fn seed_robots(&self, url: &str, body: Option<&[u8]>) {
        let Ok(url) = Url::parse(url) else { return };
        let reach = self.reach_of_cited(&url).await;
        let cell = self.robots.cell(&robots_key(&url, reach));
        let _ = cell.set(body.and_then(robots::parse));
    }

    /// The headers a request goes out with, as the archive records them:
    /// its own and the client's `User-Agent`.
    fn sent_headers(&self, request: &reqwest::Request) -> Vec<(String, String)> {
        let mut sent = header_pairs(request.headers());
        if !request.headers().contains_key(reqwest::header::USER_AGENT) {
            sent.push(("user-agent".into(), self.config.user_agent.clone()));
        }
        sent
    }

    fn request(
        &self,
        url: &Url,
        validators: Option<&Validators>,
        browser: bool,
    ) -> reqwest::RequestBuilder {
        use reqwest::header::HeaderValue;
        // Static values: no copy and no check of the bytes per request.
        let mut req = self.client.get(url.clone()).header(
            reqwest::header::ACCEPT,
            HeaderValue::from_static(
                "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            ),
        );
        req = req.header(
            reqwest::header::ACCEPT_LANGUAGE,
            HeaderValue::from_static("en;q=0.9,*;q=0.5"),
        );
        if browser {
            req = req.header(
                reqwest::header::USER_AGENT,
                HeaderValue::from_static(BROWSER_USER_AGENT),
            );
        }
        if let Some(host) = url.host_str()
            && let Some(h) = self.hosts.get(host)
        {
            for (k, v) in &h.headers {
                req = req.header(k.as_str(), v.as_str());
            }
        }
        if let Some(v) = validators {
            if let Some(etag) = &v.etag {
                req = req.header(reqwest::header::IF_NONE_MATCH, etag.as_str());
            }
            if let Some(lm) = &v.last_modified {
                req = req.header(reqwest::header::IF_MODIFIED_SINCE, lm.as_str());
            }
        }
        req
    }

    async fn attempt(
        &self,
        original: &Url,
        validators: Option<&Validators>,
        browser: bool,
        reach: Reach,
    ) -> Attempt {
        let mut current = original.clone();
        let mut redirects: Vec<Redirect> = Vec::new();
        let mut visited: HashSet<String> = HashSet::new();
        let mut exchanges: Vec<Exchange> = Vec::new();
        loop {
            visited.insert(current.as_str().to_string());
            // A hop written as an address is judged here; a name, when the
            // public-only client's resolver answers.
            if let Some(refused) = self.guard.refuses(reach, &current) {
                return Attempt {
                    exchanges,
                    ..Attempt::failed(
                        Verdict::Skipped,
                        Reason::PrivateAddress,
                        refused.to_string(),
                        redirects,
                    )
                };
            }
            // The stored validators are the final page's (a snapshot keeps
            // what answered after the redirects), so every hop carries them:
            // a redirect ignores them and the page at the end can say 304.
            let request = match self.request(&current, validators, browser).build() {
                Ok(r) => r,
                Err(e) => {
                    return Attempt {
                        exchanges,
                        ..Attempt::failed(
                            Verdict::Unreachable,
                            Reason::Network,
                            crate::error::chain_text(&e),
                            redirects,
                        )
                    };
                }
            };
            let request_headers = if self.records {
                self.sent_headers(&request)
            } else {
                Vec::new()
            };
            let resp = match self.client_of(reach).execute(request).await {
                Ok(r) => r,
                Err(e) => {
                    let (v, r, d) = classify::error_reason(&e);
                    return Attempt {
                        exchanges,
                        ..Attempt::failed(v, r, d, redirects)
                    };
                }
            };
            let status = resp.status().as_u16();
            if (300..400).contains(&status) && status != 304 {
                let location = resp
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|v| v.to_str().ok());
                if let Some(next) = location.and_then(|l| current.join(l).ok()) {
                    let hop = self
                        .records
                        .then(|| Exchange::of(&current, request_headers, &resp));
                    // Read even when not kept: the connection is then free
                    // for the next request.
                    let (bytes, truncated) = read_some(resp, HOP_BODY_BYTES).await;
                    if let Some(hop) = hop {
                        exchanges.push(Exchange {
                            body: ExchangeBody::Read { bytes, truncated },
                            ..hop
                        });
                    }
                    if let Some(long) = too_long(next.as_str()) {
                        return Attempt {
                            exchanges,
                            ..Attempt::failed(
                                Verdict::Skipped,
                                Reason::UrlTooLong,
                                format!("redirects to {long}"),
                                redirects,
                            )
                        };
                    }
                    redirects.push(Redirect {
                        url: next.to_string(),
                        status,
                    });
                    // A reader's browser follows no redirect from a web page
                    // to a file, data, FTP or mail address: the link leads
                    // to no page. A fact about the server, so not retried.
                    if !crate::base::web::is_http(next.as_str()) {
                        return Attempt {
                            exchanges,
                            ..Attempt::failed(
                                Verdict::Dead,
                                Reason::RedirectScheme,
                                format!("redirects to a {}: address", next.scheme()),
                                redirects,
                            )
                        };
                    }
                    let looped = if visited.contains(next.as_str()) {
                        Some(format!("redirect loop back to {next}"))
                    } else if redirects.len() > self.config.max_redirects {
                        Some(format!("more than {} redirects", self.config.max_redirects))
                    } else {
                        None
                    };
                    if let Some(detail) = looped {
                        return Attempt {
                            exchanges,
                            ..Attempt::failed(
                                Verdict::Unreachable,
                                Reason::RedirectLoop,
                                detail,
                                redirects,
                            )
                        };
                    }
                    current = next;
                    continue;
                }
            }
            return self
                .finish_response(
                    original,
                    current,
                    resp,
                    response::Reached {
                        redirects,
                        request_headers,
                        exchanges,
                        reach,
                    },
                )
                .await;
        }
    }
}

/// The run's HTTP client on a resolver: redirects are followed by hand,
/// bodies decompressed.
fn http_client<R: reqwest::dns::Resolve + 'static>(
    fc: &FetchConfig,
    dns: Arc<R>,
) -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(fc.timeout())
        .connect_timeout(fc.connect_timeout())
        .user_agent(fc.user_agent.clone())
        .dns_resolver(dns)
        .pool_max_idle_per_host(fc.per_host.max(1))
        .gzip(true)
        .brotli(true)
        .deflate(true)
        .zstd(true)
        .build()
        .map_err(|e| Error::setup("build the HTTP client", e))
}

/// Why a URL is too long to fetch, when it is.
fn too_long(url: &str) -> Option<String> {
    (url.len() > MAX_URL_BYTES).then(|| {
        format!(
            "a URL of {} KiB; citeguard fetches none longer than {} KiB",
            url.len().div_ceil(1024),
            MAX_URL_BYTES / 1024
        )
    })
}

fn header_pairs(h: &reqwest::header::HeaderMap) -> Vec<(String, String)> {
    h.iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// Where the robots.txt of `url`'s origin is kept for the run: per reach
/// too, since a robots.txt that a public page's requisite could not reach
/// says nothing of it for a fetch that may.
fn robots_key(url: &Url, reach: Reach) -> String {
    format!("{} {reach:?}", url.origin().ascii_serialization())
}

/// Reads at most `limit` bytes of a body that is kept in memory (a
/// redirect's, robots.txt); true when there was more, or the body broke
/// off. What came is kept either way.
async fn read_some(mut resp: reqwest::Response, limit: usize) -> (Vec<u8>, bool) {
    let mut cap = crate::base::cap::Cap::new(limit as u64);
    let mut bytes = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                bytes.extend_from_slice(cap.take(&chunk));
                if cap.was_cut() {
                    return (bytes, true);
                }
            }
            Ok(None) => return (bytes, false),
            Err(_) => return (bytes, true),
        }
    }
}

/// Removes spool files that no one adopted (a body that was not stored).
pub fn discard_spool(body: &FetchedBody) {
    if let Some(p) = &body.spool {
        let _ = std::fs::remove_file(p);
    }
}

/// The spool directory inside a store directory.
pub fn spool_dir(store: &Path) -> PathBuf {
    store.join("tmp")
}
