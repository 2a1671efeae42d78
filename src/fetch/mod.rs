//! Fetch: source URLs in, `Fetched` (a `Check` and the body) out.
//!
//! One reqwest client for the run (connection reuse, HTTP/2, compressed
//! bodies), redirects followed by hand so every hop is recorded, retries
//! with backoff for what may pass, robots.txt once per host, and the
//! soft-404 checks. Bodies are streamed: hashed while they arrive, capped at
//! `max_body`, the first part kept for classification and the whole spooled
//! to a file when a spool directory is given.
//!
//! It never touches the store: it hands the caller a spooled file and its
//! hash, and the caller decides what to keep. It never prints.

pub mod classify;
pub mod queue;
pub mod resolve;
pub mod robots;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;
use regex::Regex;
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;
use url::Url;

use crate::config::{Config, FetchConfig, HostConfig};
use crate::error::{Error, Result};
use crate::model::{Check, Reason, Redirect, Verdict};

use classify::PageSignals;

pub use queue::Queue;

/// How much of a body is kept in memory for classification and text
/// extraction; the rest only passes through the hasher and the spool file.
pub const HEAD_BYTES: usize = 512 * 1024;

/// The validators of the last snapshot, for a conditional request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// One source to fetch.
#[derive(Debug, Clone)]
pub struct Job {
    /// The source key (normalised, no fragment).
    pub url: String,
    pub validators: Option<Validators>,
}

impl Job {
    pub fn new(url: impl Into<String>) -> Job {
        Job {
            url: url.into(),
            validators: None,
        }
    }
}

/// A body as received (decompressed), hashed and possibly spooled.
#[derive(Debug, Clone)]
pub struct FetchedBody {
    /// SHA-256 of the bytes received (up to the cap), lowercase hex.
    pub sha256: String,
    pub size: u64,
    /// The body was longer than `max_body` and was cut there.
    pub truncated: bool,
    /// The first `HEAD_BYTES` bytes.
    pub head: Vec<u8>,
    /// The whole body (up to the cap) in a file of the spool directory.
    pub spool: Option<PathBuf>,
    /// Why the body could not be spooled (a full disk), when it could not.
    pub spool_error: Option<String>,
    pub status: u16,
    /// Response headers in the order received.
    pub headers: Vec<(String, String)>,
    pub http_version: String,
    pub content_type: Option<String>,
    pub charset: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// What `read_body` gives: the body's hash, size and head, and its spool.
struct ReadBody {
    sha256: String,
    size: u64,
    truncated: bool,
    head: Vec<u8>,
    spool: Option<PathBuf>,
    spool_error: Option<String>,
}

/// What fetching one source gave.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub check: Check,
    /// The final response's body, for a 2xx answer.
    pub body: Option<FetchedBody>,
    /// The headers of the final request, for the archive.
    pub request_headers: Vec<(String, String)>,
}

/// The HTTP side of a run. Shared by the queue's workers.
pub struct Fetcher {
    client: reqwest::Client,
    config: FetchConfig,
    hosts: BTreeMap<String, HostConfig>,
    exclude: Vec<Regex>,
    include: Vec<Regex>,
    spool: Option<PathBuf>,
    robots: robots::RobotsCache,
    probes: Mutex<HashMap<String, Arc<OnceCell<Option<String>>>>>,
}

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
        }
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
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(fc.timeout())
            .connect_timeout(fc.connect_timeout())
            .user_agent(fc.user_agent.clone())
            .dns_resolver(Arc::new(resolve::Resolver::new(fc)))
            .pool_max_idle_per_host(fc.per_host.max(1))
            .gzip(true)
            .brotli(true)
            .deflate(true)
            .zstd(true)
            .build()
            .map_err(|e| Error::Usage(format!("cannot build the HTTP client: {e}")))?;
        if let Some(dir) = &spool {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        Ok(Fetcher {
            client,
            config: fc.clone(),
            hosts: config.hosts.clone(),
            exclude: compile(&fc.exclude)?,
            include: compile(&fc.include)?,
            spool,
            robots: robots::RobotsCache::default(),
            probes: Mutex::new(HashMap::new()),
        })
    }

    pub fn config(&self) -> &FetchConfig {
        &self.config
    }

    /// The client, for other HTTP work of the run (page requisites, Memento).
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Per-host limit and spacing, with `citeguard.toml` host overrides.
    pub fn politeness(&self, host: &str) -> (usize, Duration) {
        let h = self.hosts.get(host);
        let limit = h
            .and_then(|h| h.per_host)
            .unwrap_or(self.config.per_host)
            .max(1);
        let delay = Duration::from_millis(
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

    /// Fetches one source, with retries, and classifies it.
    pub async fn fetch(&self, job: &Job) -> Fetched {
        let started = Instant::now();
        let finish = |a: Attempt, attempts: u32| Fetched {
            check: Check {
                url: job.url.clone(),
                verdict: a.verdict,
                reason: a.reason,
                status: a.status,
                final_url: a.final_url,
                redirects: a.redirects,
                content_type: a.content_type,
                attempts,
                elapsed_ms: started.elapsed().as_millis() as u64,
                detail: a.detail,
                checked_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            },
            body: a.body,
            request_headers: a.request_headers,
        };
        let url = match Url::parse(&job.url) {
            Ok(u) => u,
            Err(e) => {
                return finish(
                    Attempt::failed(
                        Verdict::Skipped,
                        Reason::Scheme,
                        format!("not a URL: {e}"),
                        vec![],
                    ),
                    0,
                );
            }
        };
        if !matches!(url.scheme(), "http" | "https") {
            return finish(
                Attempt::failed(
                    Verdict::Skipped,
                    Reason::Scheme,
                    format!("{}: not fetched", url.scheme()),
                    vec![],
                ),
                0,
            );
        }
        if self.is_excluded(url.as_str()) {
            return finish(
                Attempt::failed(
                    Verdict::Skipped,
                    Reason::Excluded,
                    "matches --exclude/--include".into(),
                    vec![],
                ),
                0,
            );
        }
        if !self.config.ignore_robots && !self.robots_allow(&url).await {
            return finish(
                Attempt::failed(
                    Verdict::Skipped,
                    Reason::Robots,
                    "robots.txt disallows it".into(),
                    vec![],
                ),
                0,
            );
        }
        let mut attempts = 0u32;
        let mut browser = false;
        loop {
            attempts += 1;
            let a = self.attempt(&url, job.validators.as_ref(), browser).await;
            // A server that refuses our request shape (405, 501, a 403 to a
            // bot user agent) gets one more try dressed as a browser.
            if !browser && matches!(a.status, Some(403 | 405 | 501)) && a.reason != Reason::Soft404
            {
                browser = true;
                attempts += 1;
                let again = self.attempt(&url, job.validators.as_ref(), true).await;
                if again.verdict == Verdict::Ok || again.status != a.status {
                    if !self.retryable(&again, attempts) {
                        return finish(again, attempts);
                    }
                    self.backoff(&again, attempts).await;
                    continue;
                }
                return finish(a, attempts);
            }
            if !self.retryable(&a, attempts) {
                return finish(a, attempts);
            }
            self.backoff(&a, attempts).await;
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

    async fn robots_allow(&self, url: &Url) -> bool {
        let origin = url.origin().ascii_serialization();
        let cell = self.robots.cell(&origin);
        let robot = cell
            .get_or_init(|| async {
                let Ok(robots_url) = url.join("/robots.txt") else {
                    return None;
                };
                let resp = self.client.get(robots_url).send().await.ok()?;
                if !resp.status().is_success() {
                    return None;
                }
                let bytes = resp.bytes().await.ok()?;
                robots::parse(&bytes[..bytes.len().min(512 * 1024)])
            })
            .await;
        robot.as_ref().is_none_or(|r| r.allowed(url.as_str()))
    }

    fn request(
        &self,
        url: &Url,
        validators: Option<&Validators>,
        browser: bool,
    ) -> reqwest::RequestBuilder {
        let mut req = self.client.get(url.clone()).header(
            reqwest::header::ACCEPT,
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        );
        req = req.header(reqwest::header::ACCEPT_LANGUAGE, "en;q=0.9,*;q=0.5");
        if browser {
            req = req.header(reqwest::header::USER_AGENT, BROWSER_USER_AGENT);
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
    ) -> Attempt {
        let mut current = original.clone();
        let mut redirects: Vec<Redirect> = Vec::new();
        let mut visited: HashSet<String> = HashSet::new();
        loop {
            visited.insert(current.as_str().to_string());
            // The stored validators are the final page's (a snapshot keeps
            // what answered after the redirects), so every hop carries them:
            // a redirect ignores them and the page at the end can say 304.
            let request = match self.request(&current, validators, browser).build() {
                Ok(r) => r,
                Err(e) => {
                    return Attempt::failed(
                        Verdict::Unreachable,
                        Reason::Network,
                        crate::error::chain_text(&e),
                        redirects,
                    );
                }
            };
            let request_headers = header_pairs(request.headers());
            let resp = match self.client.execute(request).await {
                Ok(r) => r,
                Err(e) => {
                    let (v, r, d) = classify::error_reason(&e);
                    return Attempt::failed(v, r, d, redirects);
                }
            };
            let status = resp.status().as_u16();
            if (300..400).contains(&status) && status != 304 {
                let location = resp
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|v| v.to_str().ok());
                if let Some(next) = location.and_then(|l| current.join(l).ok()) {
                    redirects.push(Redirect {
                        url: next.to_string(),
                        status,
                    });
                    if visited.contains(next.as_str()) {
                        return Attempt::failed(
                            Verdict::Unreachable,
                            Reason::RedirectLoop,
                            format!("redirect loop back to {next}"),
                            redirects,
                        );
                    }
                    if redirects.len() > self.config.max_redirects {
                        return Attempt::failed(
                            Verdict::Unreachable,
                            Reason::RedirectLoop,
                            format!("more than {} redirects", self.config.max_redirects),
                            redirects,
                        );
                    }
                    current = next;
                    continue;
                }
            }
            return self
                .finish_response(original, current, redirects, resp, request_headers)
                .await;
        }
    }

    async fn finish_response(
        &self,
        original: &Url,
        final_url: Url,
        redirects: Vec<Redirect>,
        resp: reqwest::Response,
        request_headers: Vec<(String, String)>,
    ) -> Attempt {
        let status = resp.status().as_u16();
        let headers = header_pairs(resp.headers());
        let header = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        let content_type_full = header("content-type");
        let content_type = content_type_full.as_deref().map(|c| {
            c.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
        let charset = content_type_full.as_deref().and_then(charset_of);
        let retry_after = header("retry-after").and_then(|v| parse_retry_after(&v));
        let http_version = format!("{:?}", resp.version());
        let (mut verdict, mut reason) = classify::status_verdict(status, &self.config.accept);
        let mut detail = None;
        let final_str = final_url.to_string();

        // Read the body: always for a 2xx (it is the snapshot), and the
        // start of an error page, which may be a bot wall.
        let want_body = status != 304 && !(300..400).contains(&status);
        let body = if want_body {
            let limit = if (200..300).contains(&status) {
                self.config.max_body
            } else {
                64 * 1024
            };
            match self
                .read_body(resp, limit, (200..300).contains(&status))
                .await
            {
                Ok(b) => Some(b),
                Err(e) => {
                    let (v, r, d) = classify::error_reason(&e);
                    return Attempt {
                        status: Some(status),
                        final_url: Some(final_str),
                        content_type,
                        retry_after,
                        request_headers,
                        ..Attempt::failed(v, r, d, redirects)
                    };
                }
            }
        } else {
            None
        };
        let body = body.map(|b| FetchedBody {
            sha256: b.sha256,
            size: b.size,
            truncated: b.truncated,
            head: b.head,
            spool: b.spool,
            spool_error: b.spool_error,
            status,
            headers: headers.clone(),
            http_version,
            content_type: content_type.clone(),
            charset: charset.clone(),
            etag: header("etag"),
            last_modified: header("last-modified"),
        });

        let is_html = content_type.as_deref().is_none_or(|c| c.contains("html"))
            && body.as_ref().is_some_and(|b| looks_like_html(&b.head));
        if is_html && let Some(b) = &body {
            let text =
                crate::collect::decode_text(b.head.clone(), charset.as_deref()).unwrap_or_default();
            let page = PageSignals::from_html(&text);
            if let Some(p) = classify::challenge_phrase(&page)
                && (verdict != Verdict::Ok || page.text_len < 3000)
            {
                verdict = Verdict::Unreachable;
                reason = Reason::Blocked;
                detail = Some(format!("bot wall or challenge page (\"{p}\")"));
            } else if verdict == Verdict::Ok {
                if let Some(p) = classify::soft_404_phrase(&page) {
                    verdict = Verdict::Dead;
                    reason = Reason::Soft404;
                    detail = Some(format!("the page says \"{p}\""));
                } else if final_url.path() != "/"
                    && self.host_answers_anything_with(&final_url, &text).await
                {
                    verdict = Verdict::Dead;
                    reason = Reason::Soft404;
                    detail = Some("the host answers any path with this same page".into());
                }
            }
        }
        // Body-less outcomes drop their spool file: nothing will adopt it.
        let body = match body {
            Some(b) if !(200..300).contains(&status) => {
                if let Some(p) = &b.spool {
                    let _ = std::fs::remove_file(p);
                }
                None
            }
            other => other,
        };

        if verdict == Verdict::Ok && !redirects.is_empty() {
            if classify::is_root_or_login(original, &final_url) {
                verdict = Verdict::Dead;
                reason = Reason::RedirectToRoot;
                detail = Some(format!("redirected to {final_url}"));
            } else if redirects.iter().all(|r| matches!(r.status, 301 | 308)) {
                reason = Reason::Moved;
            }
        }
        // The final URL is worth keeping only when it differs from the
        // source's: a run of 100,000 sources keeps one record per source.
        let final_url = (!redirects.is_empty()).then_some(final_str);
        Attempt {
            verdict,
            reason,
            status: Some(status),
            final_url,
            redirects,
            content_type,
            detail,
            body,
            retry_after,
            request_headers,
        }
    }

    /// Streams a body: hashes it, keeps the head, spools it, stops at `limit`.
    async fn read_body(
        &self,
        mut resp: reqwest::Response,
        limit: u64,
        spool: bool,
    ) -> std::result::Result<ReadBody, reqwest::Error> {
        let mut hasher = Sha256::new();
        let mut head = Vec::new();
        let mut size = 0u64;
        let mut truncated = false;
        let mut spool_error = None;
        let mut file = match (&self.spool, spool) {
            (Some(dir), true) => match tempfile::Builder::new().prefix("body-").tempfile_in(dir) {
                Ok(f) => Some(f),
                Err(e) => {
                    spool_error = Some(format!("{}: {e}", dir.display()));
                    None
                }
            },
            _ => None,
        };
        while let Some(chunk) = resp.chunk().await? {
            let room = limit.saturating_sub(size) as usize;
            let take = &chunk[..chunk.len().min(room)];
            hasher.update(take);
            if head.len() < HEAD_BYTES {
                head.extend_from_slice(&take[..take.len().min(HEAD_BYTES - head.len())]);
            }
            if let Some(f) = file.as_mut()
                && let Err(e) = f.write_all(take)
            {
                spool_error = Some(format!("{}: {e}", f.path().display()));
                file = None;
            }
            size += take.len() as u64;
            if take.len() < chunk.len() || size >= limit {
                truncated =
                    take.len() < chunk.len() || resp.content_length().is_some_and(|n| n > limit);
                break;
            }
        }
        let spooled = match file.map(|f| f.into_temp_path().keep()) {
            Some(Ok(p)) => Some(p),
            Some(Err(e)) => {
                spool_error = Some(e.to_string());
                None
            }
            None => None,
        };
        Ok(ReadBody {
            sha256: hex::encode(hasher.finalize()),
            size,
            truncated,
            head,
            spool: spooled,
            spool_error,
        })
    }

    /// Asks the host for a random path once per run; true when it answers
    /// 200 with the same page as `page` (Bar-Yossef et al., 2004).
    async fn host_answers_anything_with(&self, url: &Url, html: &str) -> bool {
        let origin = url.origin().ascii_serialization();
        let cell = {
            let mut probes = self.probes.lock().unwrap_or_else(|p| p.into_inner());
            probes.entry(origin.clone()).or_default().clone()
        };
        let probe = cell
            .get_or_init(|| async {
                let token: String = (0..20)
                    .map(|_| rand::rng().random_range(b'a'..=b'z') as char)
                    .collect();
                let mut probe_url = url.join(&format!("/{token}-citeguard-probe")).ok()?;
                for _ in 0..5 {
                    let resp = self.client.get(probe_url.clone()).send().await.ok()?;
                    let status = resp.status();
                    if status.is_redirection() {
                        let loc = resp
                            .headers()
                            .get(reqwest::header::LOCATION)?
                            .to_str()
                            .ok()?;
                        probe_url = probe_url.join(loc).ok()?;
                        continue;
                    }
                    if !status.is_success() {
                        return None;
                    }
                    let bytes = resp.bytes().await.ok()?;
                    let text = crate::collect::decode_text(
                        bytes[..bytes.len().min(HEAD_BYTES)].to_vec(),
                        None,
                    )
                    .ok()?;
                    return Some(classify::comparable(&text));
                }
                None
            })
            .await;
        // The page's own text is only worked out for hosts whose random path
        // answered 200; most hosts answer 404 and cost nothing here.
        probe
            .as_deref()
            .is_some_and(|p| classify::same_page(p, &classify::comparable(html)))
    }
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

fn charset_of(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| v.trim().trim_matches('"').to_string())
    })
}

fn looks_like_html(head: &[u8]) -> bool {
    let start = String::from_utf8_lossy(&head[..head.len().min(2048)]).to_ascii_lowercase();
    start.contains("<html")
        || start.contains("<!doctype html")
        || start.contains("<head")
        || start.contains("<body")
        || start.contains("<title")
}

/// Retry-After: delta-seconds or an HTTP date.
fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_takes_seconds_or_a_date() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn charset_is_read_from_the_content_type() {
        assert_eq!(
            charset_of("text/html; charset=ISO-8859-1").as_deref(),
            Some("ISO-8859-1")
        );
        assert_eq!(charset_of("text/html"), None);
    }
}
