//! One final (non-redirect) response, from its status line to its
//! `Attempt`: the body read once (hashed, capped, spooled), and the verdict
//! worked out by named steps, each free to revise what the one before it
//! said, in this order:
//!
//! 1. `by_status`: the status code (404 → `dead`, 403 → `blocked`, 503 →
//!    `unreachable`, …);
//! 2. `by_bot_wall`: a challenge or bot-wall page → `unreachable`/`blocked`;
//! 3. `by_soft_404`: an ok page that says "not found", or that the host
//!    gives for any path → `dead`/`soft-404`;
//! 4. `by_redirects`: an ok page reached through redirects: the front or a
//!    login page → `dead`/`redirect-to-root`; every hop permanent →
//!    `ok`/`moved`.
//!
//! Steps 1, 2 and 4 are pure; step 3 may ask the host for a random path,
//! once per host and run.

use std::io::Write;
use std::time::Duration;

use rand::Rng;
use sha2::{Digest, Sha256};
use url::Url;

use super::classify::{self, PageSignals};
use super::{Attempt, Exchange, ExchangeBody, FetchedBody, Fetcher, HEAD_BYTES, Reach};
use crate::model::{Reason, Redirect, Verdict};

/// How much of an error page is read: enough to tell a bot wall.
const ERROR_PAGE_BYTES: u64 = 64 * 1024;

/// A response's verdict while the steps work it out.
struct Judgement {
    verdict: Verdict,
    reason: Reason,
    detail: Option<String>,
}

/// What the steps and the snapshot read of a response besides its body.
struct Head {
    status: u16,
    /// In the order received; none when the fetcher keeps no records
    /// (only the archive reads them).
    headers: Vec<(String, String)>,
    /// The essence (`text/html`), lowercased.
    content_type: Option<String>,
    charset: Option<String>,
    retry_after: Option<Duration>,
    http_version: String,
    etag: Option<String>,
    last_modified: Option<String>,
}

impl Head {
    /// The head of `resp`, with all its headers when `records`.
    fn of(resp: &reqwest::Response, records: bool) -> Head {
        // The first value of a header, as `header_pairs` would spell it.
        let find = |name: reqwest::header::HeaderName| {
            resp.headers()
                .get(name)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        };
        let content_type_full = find(reqwest::header::CONTENT_TYPE);
        let retry_after = find(reqwest::header::RETRY_AFTER).and_then(|v| parse_retry_after(&v));
        Head {
            status: resp.status().as_u16(),
            content_type: content_type_full.as_deref().map(crate::base::web::essence),
            charset: content_type_full
                .as_deref()
                .and_then(crate::base::web::charset),
            retry_after,
            http_version: format!("{:?}", resp.version()),
            etag: find(reqwest::header::ETAG),
            last_modified: find(reqwest::header::LAST_MODIFIED),
            headers: if records {
                super::header_pairs(resp.headers())
            } else {
                Vec::new()
            },
        }
    }

    fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// An HTML body's decoded text and what it visibly says. The text is the
/// body's own bytes when they are UTF-8 already (no copy).
struct Page<'a> {
    html: std::borrow::Cow<'a, str>,
    signals: PageSignals,
}

impl<'a> Page<'a> {
    /// The page, when the body is HTML (by its content type, if it has one,
    /// and by its first bytes).
    fn of(head: &Head, body: &'a FetchedBody) -> Option<Page<'a>> {
        let is_html = head
            .content_type
            .as_deref()
            .is_none_or(|c| c.contains("html"))
            && looks_like_html(&body.head);
        if !is_html {
            return None;
        }
        let html = crate::base::text::decode_text_ref(&body.head, head.charset.as_deref())
            .unwrap_or_default();
        let signals = PageSignals::from_html(&html);
        Some(Page { html, signals })
    }
}

/// What `read_body` gives: the body's hash, size and head, and its spool.
struct ReadBody {
    sha256: String,
    size: u64,
    truncated: bool,
    head: Vec<u8>,
    spool: Option<std::path::PathBuf>,
    spool_error: Option<String>,
}

/// How a final response was reached: the hops before it, the request
/// that got it, and where the fetch may connect (for the soft-404 probe).
pub(super) struct Reached {
    pub redirects: Vec<Redirect>,
    pub request_headers: Vec<(String, String)>,
    pub exchanges: Vec<Exchange>,
    pub reach: Reach,
}

impl Fetcher {
    /// The `Attempt` a final response makes: its body, and its verdict by
    /// the steps in order.
    pub(super) async fn finish_response(
        &self,
        original: &Url,
        final_url: Url,
        resp: reqwest::Response,
        reached: Reached,
    ) -> Attempt {
        let Reached {
            redirects,
            request_headers,
            mut exchanges,
            reach,
        } = reached;
        let head = Head::of(&resp, self.records);
        let exchange = self
            .records
            .then(|| Exchange::of(&final_url, request_headers.clone(), &resp));
        // A 304 has no body; a 3xx that ends here is not read.
        let unread_is_cut = head.status != 304 && resp.content_length() != Some(0);
        let body = match self.response_body(resp, &head).await {
            Ok(body) => body,
            Err(e) => {
                let (verdict, reason, detail) = classify::error_reason(&e);
                exchanges.extend(exchange.map(|e| Exchange {
                    body: ExchangeBody::Read {
                        bytes: Vec::new(),
                        truncated: true,
                    },
                    ..e
                }));
                return Attempt {
                    status: Some(head.status),
                    final_url: Some(final_url.to_string()),
                    content_type: head.content_type,
                    retry_after: head.retry_after,
                    request_headers,
                    exchanges,
                    ..Attempt::failed(verdict, reason, detail, redirects)
                };
            }
        };
        if let Some(exchange) = exchange {
            let body = match &body {
                Some(_) if head.is_success() => ExchangeBody::Fetched,
                Some(b) => ExchangeBody::Read {
                    bytes: b.head.clone(),
                    truncated: b.truncated || b.size > b.head.len() as u64,
                },
                None => ExchangeBody::Read {
                    bytes: Vec::new(),
                    truncated: unread_is_cut,
                },
            };
            exchanges.push(Exchange { body, ..exchange });
        }
        let page = body.as_ref().and_then(|b| Page::of(&head, b));

        let judged = by_status(&head, &self.config.accept);
        let judged = by_bot_wall(judged, page.as_ref());
        let judged = self
            .by_soft_404(judged, page.as_ref(), &final_url, reach)
            .await;
        let judged = by_redirects(judged, original, &final_url, &redirects);

        // The final URL is worth keeping only when it differs from the
        // source's: a run of 100,000 sources keeps one record per source.
        let final_url = (!redirects.is_empty()).then(|| final_url.to_string());
        Attempt {
            verdict: judged.verdict,
            reason: judged.reason,
            status: Some(head.status),
            final_url,
            redirects,
            content_type: head.content_type.clone(),
            detail: judged.detail,
            body: body
                .and_then(|b| only_a_success_keeps(b, &head))
                .map(|b| self.kept(b)),
            retry_after: head.retry_after,
            request_headers,
            exchanges,
        }
    }

    /// What of a body is handed on: all of it, unless the fetcher keeps no
    /// records, when its start, read for the verdict and by no one after,
    /// is freed here, on the thread that read it (a page's start freed on
    /// another thread waits for the lock of this one's heap).
    fn kept(&self, body: FetchedBody) -> FetchedBody {
        if self.records {
            return body;
        }
        FetchedBody {
            head: Vec::new(),
            ..body
        }
    }

    /// The body: all of a 2xx (it is the snapshot) up to `max_body`, and the
    /// start of an error page, which may be a bot wall; none for a 304 or
    /// an unfollowed 3xx.
    async fn response_body(
        &self,
        resp: reqwest::Response,
        head: &Head,
    ) -> std::result::Result<Option<FetchedBody>, reqwest::Error> {
        if head.status == 304 || (300..400).contains(&head.status) {
            return Ok(None);
        }
        let limit = if head.is_success() {
            self.config.max_body
        } else {
            ERROR_PAGE_BYTES
        };
        let b = self.read_body(resp, limit, head.is_success()).await?;
        Ok(Some(FetchedBody {
            sha256: b.sha256,
            size: b.size,
            truncated: b.truncated,
            head: b.head,
            spool: b.spool,
            spool_error: b.spool_error,
            status: head.status,
            headers: head.headers.clone(),
            http_version: head.http_version.clone(),
            content_type: head.content_type.clone(),
            charset: head.charset.clone(),
            etag: head.etag.clone(),
            last_modified: head.last_modified.clone(),
        }))
    }

    /// Streams a body: hashes it (when the fetcher keeps records), keeps the
    /// head, spools it, stops at `limit` decoded bytes (the rest is neither
    /// downloaded nor decompressed).
    async fn read_body(
        &self,
        mut resp: reqwest::Response,
        limit: u64,
        spool: bool,
    ) -> std::result::Result<ReadBody, reqwest::Error> {
        let mut hasher = self.records.then(Sha256::new);
        // Sized once when the length is announced: no copies as it grows.
        let announced = resp.content_length().unwrap_or(0).min(limit);
        let mut head = Vec::with_capacity((announced as usize).min(HEAD_BYTES));
        let mut cap = crate::base::cap::Cap::new(limit);
        let mut spool_error = None;
        // A body the head holds whole is handed on in memory: the spool
        // file is made only when the body outgrows the head (most pages
        // are tens of kilobytes), and then begins with the head.
        let mut spooling = self.spool.as_deref().filter(|_| spool);
        let mut file: Option<tempfile::NamedTempFile> = None;
        while let Some(chunk) = resp.chunk().await? {
            let take = cap.take(&chunk);
            if let Some(h) = hasher.as_mut() {
                h.update(take);
            }
            if let Some(dir) = spooling
                && file.is_none()
                && head.len() + take.len() > HEAD_BYTES
            {
                spooling = None;
                match tempfile::Builder::new().prefix("body-").tempfile_in(dir) {
                    Ok(mut f) => match f.write_all(&head) {
                        Ok(()) => file = Some(f),
                        Err(e) => spool_error = Some(format!("{}: {e}", f.path().display())),
                    },
                    Err(e) => spool_error = Some(format!("{}: {e}", dir.display())),
                }
            }
            if head.len() < HEAD_BYTES {
                head.extend_from_slice(&take[..take.len().min(HEAD_BYTES - head.len())]);
            }
            if let Some(f) = file.as_mut()
                && let Err(e) = f.write_all(take)
            {
                spool_error = Some(format!("{}: {e}", f.path().display()));
                file = None;
            }
            if cap.was_cut() {
                break;
            }
        }
        let (size, truncated) = (cap.taken(), cap.was_cut());
        let spooled = match file.map(|f| f.into_temp_path().keep()) {
            Some(Ok(p)) => Some(p),
            Some(Err(e)) => {
                spool_error = Some(e.to_string());
                None
            }
            None => None,
        };
        Ok(ReadBody {
            sha256: hasher
                .map(|h| hex::encode(h.finalize()))
                .unwrap_or_default(),
            size,
            truncated,
            head,
            spool: spooled,
            spool_error,
        })
    }

    /// Step 3: an ok page that says "not found", or that is what the host
    /// answers for any path, is `dead`/`soft-404`.
    async fn by_soft_404(
        &self,
        judged: Judgement,
        page: Option<&Page<'_>>,
        url: &Url,
        reach: Reach,
    ) -> Judgement {
        let Some(page) = page.filter(|_| judged.verdict == Verdict::Ok) else {
            return judged;
        };
        let detail = if let Some(p) = classify::soft_404_phrase(&page.signals) {
            format!("the page says \"{p}\"")
        } else if url.path() != "/"
            && self
                .host_answers_anything_with(url, &page.html, reach)
                .await
        {
            "the host answers any path with this same page".into()
        } else {
            return judged;
        };
        Judgement {
            verdict: Verdict::Dead,
            reason: Reason::Soft404,
            detail: Some(detail),
        }
    }

    /// Asks the host for a random path once per run; true when it answers
    /// 200 with the same page as `page` (Bar-Yossef et al., 2004).
    async fn host_answers_anything_with(&self, url: &Url, html: &str, reach: Reach) -> bool {
        let origin = url.origin().ascii_serialization();
        let cell = {
            let mut probes = self.probes.lock().unwrap_or_else(|p| p.into_inner());
            match probes.get(&origin) {
                Some(cell) => cell.clone(),
                None => probes.entry(origin.clone()).or_default().clone(),
            }
        };
        let probe = cell
            .get_or_init(|| async {
                let token: String = (0..20)
                    .map(|_| rand::rng().random_range(b'a'..=b'z') as char)
                    .collect();
                let mut probe_url = url.join(&format!("/{token}-citeguard-probe")).ok()?;
                for _ in 0..5 {
                    // The probe keeps to the page's reach, like a redirect.
                    if self.guard.refuses(reach, &probe_url).is_some() {
                        return None;
                    }
                    let resp = self
                        .client_of(reach)
                        .get(probe_url.clone())
                        .send()
                        .await
                        .ok()?;
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
                    let head =
                        crate::base::cap::read_capped(resp.bytes_stream(), HEAD_BYTES as u64)
                            .await
                            .ok()?;
                    let text = crate::base::text::decode_text(head.bytes, None).ok()?;
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

/// Step 1: what the status code says, before anything else is looked at.
fn by_status(head: &Head, accept: &[u16]) -> Judgement {
    let (verdict, reason) = classify::status_verdict(head.status, accept);
    Judgement {
        verdict,
        reason,
        detail: classify::odd_status(head.status, accept),
    }
}

/// Step 2: a bot wall or challenge page is `unreachable`/`blocked`: the
/// source may be fine for a person in a browser.
fn by_bot_wall(judged: Judgement, page: Option<&Page<'_>>) -> Judgement {
    let answered_ok = judged.verdict == Verdict::Ok;
    match page.and_then(|p| classify::bot_wall_phrase(&p.signals, answered_ok)) {
        Some(p) => Judgement {
            verdict: Verdict::Unreachable,
            reason: Reason::Blocked,
            detail: Some(format!("bot wall or challenge page (\"{p}\")")),
        },
        None => judged,
    }
}

/// Step 4: an ok page reached through redirects is `dead` when it is the
/// front or a login page (how publishers bury deleted articles), and
/// `moved` when every hop was permanent.
fn by_redirects(
    judged: Judgement,
    original: &Url,
    final_url: &Url,
    redirects: &[Redirect],
) -> Judgement {
    if judged.verdict != Verdict::Ok || redirects.is_empty() {
        return judged;
    }
    if classify::is_root_or_login(original, final_url) {
        return Judgement {
            verdict: Verdict::Dead,
            reason: Reason::RedirectToRoot,
            detail: Some(format!("redirected to {final_url}")),
        };
    }
    if redirects.iter().all(|r| matches!(r.status, 301 | 308)) {
        return Judgement {
            reason: Reason::Moved,
            ..judged
        };
    }
    judged
}

/// Only a 2xx body is handed on; any other drops its spool file, which
/// nothing will adopt.
fn only_a_success_keeps(body: FetchedBody, head: &Head) -> Option<FetchedBody> {
    if head.is_success() {
        return Some(body);
    }
    super::discard_spool(&body);
    None
}

fn looks_like_html(head: &[u8]) -> bool {
    // Lowercased bytes, not a string: every fetched page passes here.
    let mut start = [0u8; 2048];
    let n = head.len().min(start.len());
    start[..n].copy_from_slice(&head[..n]);
    start[..n].make_ascii_lowercase();
    let start = &start[..n];
    [
        &b"<html"[..],
        b"<!doctype html",
        b"<head",
        b"<body",
        b"<title",
    ]
    .iter()
    .any(|tag| memchr::memmem::find(start, tag).is_some())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ok() -> Judgement {
        Judgement {
            verdict: Verdict::Ok,
            reason: Reason::Ok,
            detail: None,
        }
    }

    fn hop(url: &str, status: u16) -> Redirect {
        Redirect {
            url: url.into(),
            status,
        }
    }

    fn page(html: &str) -> Page<'_> {
        Page {
            html: std::borrow::Cow::Borrowed(html),
            signals: PageSignals::from_html(html),
        }
    }

    #[test]
    fn html_is_told_by_its_first_tags_in_any_case_and_nothing_else_is() {
        assert!(looks_like_html(b"\xef\xbb\xbf<!DOCTYPE HTML><p>x"));
        assert!(looks_like_html(b"\xff\xfe junk <Title>t</Title>"));
        assert!(!looks_like_html(b"%PDF-1.7 <html"[..4].as_ref()));
        assert!(!looks_like_html(b"{\"html\": \"<b>\"}"));
        let late = [b" ".repeat(2048), b"<html>".to_vec()].concat();
        assert!(!looks_like_html(&late));
    }

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
    fn a_permanent_redirect_to_another_page_is_moved_and_one_to_the_front_page_dead() {
        let from = Url::parse("https://news.example/2010/story").unwrap();
        let to = Url::parse("https://news.example/archive/story").unwrap();
        let moved = by_redirects(ok(), &from, &to, &[hop(to.as_str(), 301)]);
        assert_eq!((moved.verdict, moved.reason), (Verdict::Ok, Reason::Moved));
        let found = by_redirects(ok(), &from, &to, &[hop(to.as_str(), 302)]);
        assert_eq!((found.verdict, found.reason), (Verdict::Ok, Reason::Ok));
        let root = Url::parse("https://news.example/").unwrap();
        let buried = by_redirects(ok(), &from, &root, &[hop(root.as_str(), 301)]);
        assert_eq!(
            (buried.verdict, buried.reason),
            (Verdict::Dead, Reason::RedirectToRoot)
        );
    }

    #[test]
    fn a_page_already_judged_not_ok_is_not_revised_by_its_redirects() {
        let from = Url::parse("https://news.example/2010/story").unwrap();
        let root = Url::parse("https://news.example/").unwrap();
        let gone = Judgement {
            verdict: Verdict::Dead,
            reason: Reason::Soft404,
            detail: None,
        };
        let after = by_redirects(gone, &from, &root, &[hop(root.as_str(), 301)]);
        assert_eq!(
            (after.verdict, after.reason),
            (Verdict::Dead, Reason::Soft404)
        );
    }

    #[test]
    fn a_challenge_page_is_blocked_unless_it_is_a_long_page_that_answered_ok() {
        let wall = page("<title>Just a moment...</title><p>Checking your browser</p>");
        let blocked = by_bot_wall(ok(), Some(&wall));
        assert_eq!(
            (blocked.verdict, blocked.reason),
            (Verdict::Unreachable, Reason::Blocked)
        );
        let long = format!(
            "<title>Just a moment...</title><p>{}</p>",
            "An article on bot walls. ".repeat(200)
        );
        let article = by_bot_wall(ok(), Some(&page(&long)));
        assert_eq!((article.verdict, article.reason), (Verdict::Ok, Reason::Ok));
        let forbidden = Judgement {
            verdict: Verdict::Unreachable,
            reason: Reason::Blocked,
            detail: None,
        };
        let error_page = by_bot_wall(forbidden, Some(&page(&long)));
        assert!(
            error_page
                .detail
                .is_some_and(|d| d.contains("just a moment"))
        );
    }
}
