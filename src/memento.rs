//! Archived copies of dead sources: a client of Memento TimeGates (RFC 7089),
//! and the Robust Links markup that cites a source with its archived copy.
//!
//! It owns the conversation with the archive: the `Accept-Datetime`
//! request, the TimeGate's redirect and `Link` header, the memento's
//! `Memento-Datetime`, the choice of the memento closest to a date, and
//! which citations of a report are looked up and offered a copy. It never
//! decides a verdict and never prints: a failure comes back as a
//! `MementoError` whose message fits on one line, and the caller goes on.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap};

use crate::model::{CitationResult, Memento, Report, Verdict};

/// Redirects followed from the TimeGate to the memento. Archives need one
/// or two (the TimeGate's answer, then the capture's exact timestamp).
const MAX_REDIRECTS: usize = 5;

/// For each request: an archive that is slow today must not hold up the
/// report.
const TIMEOUT: Duration = Duration::from_secs(15);

/// Why no archived copy could be looked up.
#[derive(Debug, thiserror::Error)]
pub enum MementoError {
    #[error("Memento TimeGate {gate}: {cause}")]
    Network { gate: String, cause: String },
    #[error("Memento TimeGate {gate}: {url} answered HTTP {status}")]
    Status {
        gate: String,
        url: String,
        status: u16,
    },
    #[error("Memento TimeGate {gate}: {cause}")]
    Invalid { gate: String, cause: String },
    #[error("Memento TimeGate {gate}: more than {max} redirects")]
    TooManyRedirects { gate: String, max: usize },
}

/// A memento the archive told us about, with its capture time.
#[derive(Debug, Clone, PartialEq)]
struct Candidate {
    url: String,
    at: DateTime<Utc>,
}

/// Asks the TimeGate at `endpoint` (such as `https://web.archive.org/web/`,
/// the URL appended as is) for the archived copy of `url` closest to
/// `when`; when `when` is `None`, the copy the TimeGate chooses itself
/// (its most recent, per RFC 7089).
///
/// Every memento the archive names is considered: the one its redirect
/// points at (dated by its `Memento-Datetime`) and those its `Link` headers
/// list with a `datetime`. `Ok(None)` when the archive has no copy (a 404
/// or 410 before any memento was named).
///
/// Three steps, in this order: follow the TimeGate and gather what it
/// names (`follow`), date the archive's own choice by its URL when nothing
/// else did (`Trail::date_the_choice`), and pick (`Trail::best`).
pub async fn closest(
    client: &reqwest::Client,
    endpoint: &str,
    url: &str,
    when: Option<DateTime<Utc>>,
) -> Result<Option<Memento>, MementoError> {
    // A web archive is asked about the page, never told its credentials.
    let gate = format!("{endpoint}{}", crate::base::web::without_userinfo(url));
    let Some(mut trail) = follow(client, &gate, when).await? else {
        return Ok(None);
    };
    trail.date_the_choice();
    trail.best(when, &printable(&gate)).map(Some)
}

/// What following a TimeGate gathered.
#[derive(Debug, Default)]
struct Trail {
    /// Every memento named with a date.
    candidates: Vec<Candidate>,
    /// The memento the archive itself chose: the last redirect target, or
    /// the response that carried a Memento-Datetime.
    chosen: Option<String>,
    /// Why the walk stopped short, when it did after naming something.
    failure: Option<MementoError>,
}

/// Where the walk goes after one response.
#[derive(Debug, PartialEq)]
enum Next {
    Follow(String),
    Stop,
    /// The archive has no copy at all.
    NoCopy,
}

/// Follows the TimeGate's redirects (at most `MAX_REDIRECTS`) and reads
/// each response. A failure of the first request is the answer; a later
/// one stops the walk with what was gathered so far. `None`: no copy.
async fn follow(
    client: &reqwest::Client,
    gate: &str,
    when: Option<DateTime<Utc>>,
) -> Result<Option<Trail>, MementoError> {
    let shown = printable(gate);
    let mut trail = Trail::default();
    let mut current = gate.to_string();
    for hop in 0..=MAX_REDIRECTS {
        let first = hop == 0;
        let mut request = client.get(&current).timeout(TIMEOUT);
        if let Some(t) = when {
            request = request.header("Accept-Datetime", http_date(t));
        }
        // The body is never read: everything needed is in the headers.
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => {
                let err = MementoError::Network {
                    gate: shown.clone(),
                    cause: crate::error::chain_text(&e),
                };
                if first {
                    return Err(err);
                }
                trail.failure = Some(err);
                return Ok(Some(trail));
            }
        };
        let (status, base) = (response.status(), response.url().clone());
        match trail.read(status, &base, response.headers(), first, &shown)? {
            Next::Follow(next) => current = next,
            Next::Stop => return Ok(Some(trail)),
            Next::NoCopy => return Ok(None),
        }
    }
    trail.failure = Some(MementoError::TooManyRedirects {
        gate: shown,
        max: MAX_REDIRECTS,
    });
    Ok(Some(trail))
}

impl Trail {
    /// Reads one response of the walk: the mementos it lists, then, by the
    /// first rule that applies, a dated memento (the end), a redirect, or
    /// an answer. `Err` is a failure of the first request that named
    /// nothing, which is the whole answer.
    fn read(
        &mut self,
        status: StatusCode,
        base: &url::Url,
        headers: &HeaderMap,
        first: bool,
        shown: &str,
    ) -> Result<Next, MementoError> {
        self.candidates.extend(linked_mementos(headers, base));
        if let Some(here) = dated_memento(headers, base) {
            self.chosen = Some(here.url.clone());
            self.candidates.push(here);
            return Ok(Next::Stop);
        }
        if status.is_redirection() {
            return Ok(self.redirect(status, base, headers, shown));
        }
        self.answer(status, base, first, shown)
    }

    /// A redirect names the archive's choice so far; a Link header that
    /// already dated it spares following it.
    fn redirect(
        &mut self,
        status: StatusCode,
        base: &url::Url,
        headers: &HeaderMap,
        shown: &str,
    ) -> Next {
        let Some(next) = header_str(headers, header::LOCATION.as_str())
            .and_then(|l| base.join(&l).ok())
            .map(String::from)
        else {
            self.failure = Some(MementoError::Invalid {
                gate: shown.to_string(),
                cause: format!(
                    "HTTP {} without a usable Location from {}",
                    status.as_u16(),
                    printable(base.as_str())
                ),
            });
            return Next::Stop;
        };
        self.chosen = Some(next.clone());
        if self.candidates.iter().any(|c| c.url == next) {
            return Next::Stop;
        }
        Next::Follow(next)
    }

    /// Any other status ends the walk.
    fn answer(
        &mut self,
        status: StatusCode,
        base: &url::Url,
        first: bool,
        shown: &str,
    ) -> Result<Next, MementoError> {
        let code = status.as_u16();
        let failed = || MementoError::Status {
            gate: shown.to_string(),
            url: printable(base.as_str()),
            status: code,
        };
        if matches!(code, 404 | 410) {
            // No copy here: said by the TimeGate, by the one it moved to, or
            // by a memento it pointed at that is gone.
            if self.candidates.is_empty() {
                return Ok(Next::NoCopy);
            }
            self.failure = Some(failed());
            return Ok(Next::Stop);
        }
        if first {
            return match code {
                200..=299 if !self.candidates.is_empty() => Ok(Next::Stop),
                200..=299 => Err(MementoError::Invalid {
                    gate: shown.to_string(),
                    cause: format!(
                        "HTTP {code} with no memento (no Memento-Datetime, no Link header listing mementos)"
                    ),
                }),
                _ => Err(failed()),
            };
        }
        // The memento itself answered, without a Memento-Datetime.
        if !status.is_success() {
            self.failure = Some(failed());
        }
        Ok(Next::Stop)
    }

    /// An archive that names its mementos by timestamp (/web/20100825…/URL)
    /// still dates the one it chose when the memento did not say (or did
    /// not answer in time); one that answered with an error is not offered.
    fn date_the_choice(&mut self) {
        let usable = matches!(self.failure, None | Some(MementoError::Network { .. }));
        if let Some(c) = &self.chosen
            && usable
            && !self.candidates.iter().any(|k| &k.url == c)
            && let Some(at) = timestamp_in_url(c)
        {
            self.candidates.push(Candidate { url: c.clone(), at });
        }
    }

    /// The memento closest to `when` (the earlier of two as close); without
    /// `when`, the archive's own choice, else the most recent. With none,
    /// the failure that stopped the walk.
    fn best(self, when: Option<DateTime<Utc>>, shown: &str) -> Result<Memento, MementoError> {
        let best = match when {
            Some(t) => self
                .candidates
                .iter()
                .min_by_key(|c| ((c.at - t).num_seconds().unsigned_abs(), c.at)),
            None => self
                .chosen
                .as_ref()
                .and_then(|u| self.candidates.iter().find(|c| &c.url == u))
                .or_else(|| self.candidates.iter().max_by_key(|c| c.at)),
        };
        match best {
            Some(c) => Ok(Memento {
                url: c.url.clone(),
                datetime: crate::base::time::rfc3339(c.at),
            }),
            None => Err(self.failure.unwrap_or(MementoError::Invalid {
                gate: shown.to_string(),
                cause: "the archive named no memento with a date".into(),
            })),
        }
    }
}

/// The memento a response says it is: its `Memento-Datetime`, at its
/// `Content-Location` or its own URL.
fn dated_memento(headers: &HeaderMap, base: &url::Url) -> Option<Candidate> {
    let at = header_str(headers, "memento-datetime").and_then(|v| parse_http_datetime(&v))?;
    let url = header_str(headers, header::CONTENT_LOCATION.as_str())
        .and_then(|l| base.join(&l).ok())
        .map(String::from)
        .unwrap_or_else(|| base.to_string());
    Some(Candidate { url, at })
}

/// What asking the archive about a report's sources gave.
#[derive(Debug, Default)]
pub struct Lookups {
    /// The archived copy of each source that has one, by URL.
    pub found: HashMap<String, Memento>,
    /// The look-ups that failed, in no particular order.
    pub failures: Vec<MementoError>,
}

/// Asks the TimeGate at `endpoint` for an archived copy of each dead
/// source of `report`, closest to the citing post's date, eight at a time,
/// and offers each dead citation its copy (`archived`). With `every`
/// (`--robust-links`) every cited source is looked up, for the Robust
/// Links of each citation; still only dead ones are offered a copy. An
/// empty `endpoint` asks nothing.
pub async fn archived_copies(
    report: &mut Report,
    client: &reqwest::Client,
    endpoint: &str,
    every: bool,
) -> Lookups {
    use futures_util::StreamExt;
    if endpoint.is_empty() {
        return Lookups::default();
    }
    let answers: Vec<_> = futures_util::stream::iter(wanted(report, every))
        .map(|(url, when)| async move {
            let answer = closest(client, endpoint, &url, when).await;
            (url, answer)
        })
        .buffer_unordered(8)
        .collect()
        .await;
    let mut lookups = Lookups::default();
    for (url, answer) in answers {
        match answer {
            Ok(Some(m)) => {
                lookups.found.insert(url, m);
            }
            Ok(None) => {}
            Err(e) => lookups.failures.push(e),
        }
    }
    offer(report, &lookups.found);
    lookups
}

/// The sources to look up, once each, with the date of the first post
/// that cites them.
fn wanted(report: &Report, every: bool) -> Vec<(String, Option<DateTime<Utc>>)> {
    let mut wanted: Vec<(String, Option<DateTime<Utc>>)> = Vec::new();
    for c in &report.citations {
        if (every || c.verdict == Verdict::Dead)
            && let Some(url) = &c.url
            && crate::base::web::is_http(url)
            && !wanted.iter().any(|(u, _)| u == url)
        {
            wanted.push((url.clone(), c.post_date.as_deref().and_then(post_time)));
        }
    }
    wanted
}

/// Each dead citation is offered its source's archived copy.
fn offer(report: &mut Report, found: &HashMap<String, Memento>) {
    for c in &mut report.citations {
        if c.verdict == Verdict::Dead
            && let Some(m) = c.url.as_ref().and_then(|u| found.get(u))
        {
            c.archived = Some(Box::new(m.clone()));
        }
    }
}

/// A post's date (`YYYY-MM-DD`, taken as its noon, or RFC 3339) as a time.
fn post_time(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = crate::base::time::parse_rfc3339(s) {
        return Some(t);
    }
    NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d")
        .ok()?
        .and_hms_opt(12, 0, 0)
        .map(|t| t.and_utc())
}

/// The mementos listed in a response's `Link` headers (`rel` containing
/// `memento`, with a `datetime`), targets resolved against the response.
fn linked_mementos(headers: &HeaderMap, base: &url::Url) -> Vec<Candidate> {
    headers
        .get_all(header::LINK)
        .iter()
        .flat_map(|v| parse_link_header(&String::from_utf8_lossy(v.as_bytes())))
        .filter(|l| l.has_rel("memento"))
        .filter_map(|l| {
            let at = parse_http_datetime(l.param("datetime")?)?;
            let url = base.join(&l.target).ok()?;
            Some(Candidate {
                url: url.into(),
                at,
            })
        })
        .collect()
}

fn header_str(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string())
        .filter(|s| !s.is_empty())
}

/// RFC 1123, as `Accept-Datetime` wants it: `Wed, 25 Aug 2010 00:00:00 GMT`.
fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// A `Memento-Datetime` or `datetime` value (RFC 1123, with the older HTTP
/// date forms accepted too).
fn parse_http_datetime(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc2822(s) {
        return Some(d.with_timezone(&Utc));
    }
    httpdate::parse_http_date(s).ok().map(DateTime::<Utc>::from)
}

/// A 14-digit capture timestamp in a path segment (`/web/20100825123456/…`,
/// also with a modifier such as `20100825123456id_`).
fn timestamp_in_url(u: &str) -> Option<DateTime<Utc>> {
    let path = url::Url::parse(u).ok()?.path().to_string();
    path.split('/').find_map(|seg| {
        let digits: String = seg.chars().take_while(|c| c.is_ascii_digit()).collect();
        if digits.len() != 14 {
            return None;
        }
        chrono::NaiveDateTime::parse_from_str(&digits, "%Y%m%d%H%M%S")
            .ok()
            .map(|d| d.and_utc())
    })
}

/// One entry of a `Link` header (RFC 8288).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The target as written between `<` and `>` (not yet resolved).
    pub target: String,
    /// The parameters in order: names lowercased, quoted values unquoted.
    pub params: Vec<(String, String)>,
}

impl Link {
    /// A parameter's value; the first occurrence wins, as RFC 8288 says.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The relation types: `rel="first memento"` is `first` and `memento`.
    pub fn rels(&self) -> Vec<String> {
        self.param("rel")
            .map(|r| r.split_whitespace().map(str::to_ascii_lowercase).collect())
            .unwrap_or_default()
    }

    pub fn has_rel(&self, rel: &str) -> bool {
        self.rels().iter().any(|r| r.eq_ignore_ascii_case(rel))
    }
}

/// Parses a `Link` header value into its entries. Commas inside `<…>` and
/// inside quoted strings do not split entries; escaped characters in
/// quoted strings are unescaped. What cannot be parsed is skipped, up to
/// the next entry: a malformed header gives fewer entries, never a panic.
pub fn parse_link_header(value: &str) -> Vec<Link> {
    let s: Vec<char> = value.chars().collect();
    let mut i = 0;
    let mut links = Vec::new();
    while i < s.len() {
        while i < s.len() && (s[i].is_whitespace() || s[i] == ',') {
            i += 1;
        }
        if i >= s.len() {
            break;
        }
        if s[i] != '<' {
            i = skip_entry(&s, i);
            continue;
        }
        let Some(len) = s[i + 1..].iter().position(|&c| c == '>') else {
            break;
        };
        let target: String = s[i + 1..i + 1 + len].iter().collect();
        i += len + 2;
        let mut params = Vec::new();
        loop {
            while i < s.len() && s[i].is_whitespace() {
                i += 1;
            }
            if i >= s.len() || s[i] == ',' {
                break;
            }
            if s[i] != ';' {
                i = skip_entry(&s, i);
                break;
            }
            i += 1;
            while i < s.len() && s[i].is_whitespace() {
                i += 1;
            }
            let start = i;
            while i < s.len() && !matches!(s[i], '=' | ';' | ',') && !s[i].is_whitespace() {
                i += 1;
            }
            let name: String = s[start..i].iter().collect::<String>().to_ascii_lowercase();
            while i < s.len() && s[i].is_whitespace() {
                i += 1;
            }
            let mut value = String::new();
            if i < s.len() && s[i] == '=' {
                i += 1;
                while i < s.len() && s[i].is_whitespace() {
                    i += 1;
                }
                if i < s.len() && s[i] == '"' {
                    i += 1;
                    while i < s.len() && s[i] != '"' {
                        if s[i] == '\\' && i + 1 < s.len() {
                            i += 1;
                        }
                        value.push(s[i]);
                        i += 1;
                    }
                    i += 1;
                } else {
                    let start = i;
                    while i < s.len() && !matches!(s[i], ';' | ',') {
                        i += 1;
                    }
                    value = s[start..i].iter().collect::<String>().trim().to_string();
                }
            }
            if !name.is_empty() {
                params.push((name, value));
            }
        }
        links.push(Link {
            target: target.trim().to_string(),
            params,
        });
    }
    links
}

/// The index just past the next comma that is outside a quoted string.
fn skip_entry(s: &[char], mut i: usize) -> usize {
    let mut quoted = false;
    while i < s.len() {
        match s[i] {
            '\\' if quoted => i += 1,
            '"' => quoted = !quoted,
            ',' if !quoted => return i + 1,
            _ => {}
        }
        i += 1;
    }
    s.len()
}

/// A Robust Link (robustlinks spec): the citation's link, annotated with the
/// archived copy so a reader can reach what was cited when the source is
/// gone: `<a href data-originalurl data-versionurl data-versiondate>`.
///
/// `version_date` may be a date or an RFC 3339 / HTTP date-time; it is
/// written as `YYYY-MM-DD`. Attribute values and the text are escaped, and
/// the `href` is never anything but a web address (a `javascript:` URL in
/// a post does not become a live link).
pub fn robust_link(c: &CitationResult, version_url: &str, version_date: &str) -> String {
    let original = c
        .url
        .as_deref()
        .map(clean)
        .unwrap_or_else(|| clean(version_url));
    let version = clean(version_url);
    let href = [&original, &version]
        .into_iter()
        .find(|u| crate::base::web::is_http(u.trim_start()))
        .cloned()
        .unwrap_or_default();
    let text = clean(&c.text);
    let text = if text.trim().is_empty() {
        original.clone()
    } else {
        text
    };
    format!(
        "<a href=\"{}\" data-originalurl=\"{}\" data-versionurl=\"{}\" data-versiondate=\"{}\">{}</a>",
        crate::base::escape::html(&href),
        crate::base::escape::html(&original),
        crate::base::escape::html(&version),
        crate::base::escape::html(&version_day(version_date)),
        crate::base::escape::html(&text)
    )
}

/// `YYYY-MM-DD` from a date, an RFC 3339 or HTTP date-time, or a 14-digit
/// archive timestamp; anything else as given.
fn version_day(s: &str) -> String {
    let s = s.trim();
    if let Ok(d) = crate::base::time::parse_rfc3339(s) {
        return d.format("%Y-%m-%d").to_string();
    }
    if let Some(d) = parse_http_datetime(s) {
        return d.format("%Y-%m-%d").to_string();
    }
    if let Some(head) = s.get(..10)
        && let Ok(d) = NaiveDate::parse_from_str(head, "%Y-%m-%d")
    {
        return d.format("%Y-%m-%d").to_string();
    }
    if let Some(head) = s.get(..8)
        && head.chars().all(|c| c.is_ascii_digit())
        && let Ok(d) = NaiveDate::parse_from_str(head, "%Y%m%d")
    {
        return d.format("%Y-%m-%d").to_string();
    }
    clean(s)
}

/// Without any control character (tabs and newlines included: a browser
/// drops them from a URL, which would turn `java\tscript:` into a script).
fn clean(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).collect()
}

/// For messages: the caller prints them on a terminal.
fn printable(s: &str) -> String {
    clean(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use reqwest::header::HeaderValue;

    const GATE: &str = "http://archive.test/gate/http://example.org/a";

    fn base(u: &str) -> url::Url {
        url::Url::parse(u).unwrap()
    }

    fn headers(list: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in list {
            h.append(
                header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        h
    }

    fn day(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap()
    }

    fn candidate(url: &str, at: DateTime<Utc>) -> Candidate {
        Candidate {
            url: url.into(),
            at,
        }
    }

    #[test]
    fn a_response_with_a_memento_datetime_ends_the_walk_as_the_choice() {
        let mut trail = Trail::default();
        let h = headers(&[("memento-datetime", "Wed, 25 Aug 2010 00:00:00 GMT")]);
        let here = base("http://archive.test/web/20100825000000/http://example.org/a");
        let next = trail.read(StatusCode::OK, &here, &h, false, GATE).unwrap();
        assert_eq!(next, Next::Stop);
        assert_eq!(trail.chosen.as_deref(), Some(here.as_str()));
        assert_eq!(
            trail.candidates,
            [candidate(here.as_str(), day(2010, 8, 25))]
        );
    }

    #[test]
    fn a_redirect_is_followed_unless_a_link_header_already_dated_its_target() {
        let gate = base(GATE);
        let to = "http://archive.test/web/20100825000000/http://example.org/a";
        let mut trail = Trail::default();
        let h = headers(&[("location", to)]);
        let next = trail
            .read(StatusCode::FOUND, &gate, &h, true, GATE)
            .unwrap();
        assert_eq!(next, Next::Follow(to.into()));
        assert_eq!(trail.chosen.as_deref(), Some(to));

        let mut trail = Trail::default();
        let link = format!("<{to}>; rel=\"memento\"; datetime=\"Wed, 25 Aug 2010 00:00:00 GMT\"");
        let h = headers(&[("location", to), ("link", &link)]);
        let next = trail
            .read(StatusCode::FOUND, &gate, &h, true, GATE)
            .unwrap();
        assert_eq!(next, Next::Stop, "no request for what is already dated");
    }

    #[test]
    fn a_redirect_without_location_is_a_failure_that_stops_the_walk() {
        let mut trail = Trail::default();
        let next = trail
            .read(
                StatusCode::FOUND,
                &base(GATE),
                &HeaderMap::new(),
                true,
                GATE,
            )
            .unwrap();
        assert_eq!(next, Next::Stop);
        assert!(matches!(trail.failure, Some(MementoError::Invalid { .. })));
    }

    #[test]
    fn a_404_before_any_memento_means_no_copy_and_after_one_a_failure() {
        let mut trail = Trail::default();
        let gone = trail.read(
            StatusCode::NOT_FOUND,
            &base(GATE),
            &HeaderMap::new(),
            true,
            GATE,
        );
        assert_eq!(gone.unwrap(), Next::NoCopy);

        let mut trail = Trail {
            candidates: vec![candidate("http://archive.test/web/1/x", day(2010, 1, 1))],
            ..Trail::default()
        };
        let next = trail.read(
            StatusCode::GONE,
            &base(GATE),
            &HeaderMap::new(),
            false,
            GATE,
        );
        assert_eq!(next.unwrap(), Next::Stop);
        assert!(matches!(
            trail.failure,
            Some(MementoError::Status { status: 410, .. })
        ));
    }

    #[test]
    fn a_first_answer_naming_nothing_is_the_error() {
        let mut trail = Trail::default();
        let err = trail
            .read(StatusCode::OK, &base(GATE), &HeaderMap::new(), true, GATE)
            .unwrap_err();
        assert!(matches!(err, MementoError::Invalid { .. }), "{err}");
        let err = trail
            .read(
                StatusCode::BAD_GATEWAY,
                &base(GATE),
                &HeaderMap::new(),
                true,
                GATE,
            )
            .unwrap_err();
        assert!(
            matches!(err, MementoError::Status { status: 502, .. }),
            "{err}"
        );
    }

    #[test]
    fn the_choice_is_dated_by_its_url_unless_it_answered_with_an_error() {
        let chosen = "http://archive.test/web/20100825123456id_/http://example.org/a";
        let mut trail = Trail {
            chosen: Some(chosen.into()),
            failure: Some(MementoError::Network {
                gate: GATE.into(),
                cause: "timed out".into(),
            }),
            ..Trail::default()
        };
        trail.date_the_choice();
        let at = Utc.with_ymd_and_hms(2010, 8, 25, 12, 34, 56).unwrap();
        assert_eq!(trail.candidates, [candidate(chosen, at)]);

        let mut refused = Trail {
            chosen: Some(chosen.into()),
            failure: Some(MementoError::Status {
                gate: GATE.into(),
                url: chosen.into(),
                status: 503,
            }),
            ..Trail::default()
        };
        refused.date_the_choice();
        assert!(refused.candidates.is_empty());
    }

    fn three() -> Trail {
        Trail {
            candidates: vec![
                candidate("http://a.test/2009", day(2009, 3, 1)),
                candidate("http://a.test/2010", day(2010, 8, 20)),
                candidate("http://a.test/2015", day(2015, 6, 1)),
            ],
            chosen: Some("http://a.test/2009".into()),
            failure: None,
        }
    }

    #[test]
    fn the_best_is_the_closest_to_the_date_else_the_archives_choice_else_the_latest() {
        let near = three().best(Some(day(2010, 9, 1)), GATE).unwrap();
        assert_eq!(near.url, "http://a.test/2010");
        assert_eq!(near.datetime, "2010-08-20T00:00:00Z");
        let chosen = three().best(None, GATE).unwrap();
        assert_eq!(chosen.url, "http://a.test/2009");
        let latest = Trail {
            chosen: None,
            ..three()
        };
        assert_eq!(latest.best(None, GATE).unwrap().url, "http://a.test/2015");
    }

    #[test]
    fn of_two_as_close_the_earlier_is_the_best() {
        let trail = Trail {
            candidates: vec![
                candidate("http://a.test/late", day(2010, 1, 3)),
                candidate("http://a.test/early", day(2010, 1, 1)),
            ],
            ..Trail::default()
        };
        let best = trail.best(Some(day(2010, 1, 2)), GATE).unwrap();
        assert_eq!(best.url, "http://a.test/early");
    }

    #[test]
    fn nothing_dated_gives_the_failure_that_stopped_the_walk() {
        let err = Trail::default().best(None, GATE).unwrap_err();
        assert!(
            err.to_string().contains("named no memento with a date"),
            "{err}"
        );
    }

    fn row(url: &str, verdict: Verdict, date: Option<&str>) -> CitationResult {
        let mut c = CitationResult::new(
            "post.md",
            1,
            Some(url.into()),
            "t",
            crate::model::Kind::Link,
            verdict,
            crate::model::Reason::Ok,
        );
        c.post_date = date.map(str::to_string);
        c
    }

    fn report(rows: Vec<CitationResult>) -> Report {
        Report {
            version: Report::VERSION,
            run: crate::model::RunInfo {
                id: "r".into(),
                started_at: String::new(),
                finished_at: String::new(),
            },
            summary: Default::default(),
            citations: rows,
            recovered: Vec::new(),
            still: Vec::new(),
            store: None,
        }
    }

    #[test]
    fn dead_sources_are_looked_up_once_at_the_first_citing_posts_date() {
        let r = report(vec![
            row("http://a/", Verdict::Dead, Some("2010-08-25")),
            row("http://a/", Verdict::Dead, Some("2015-01-01")),
            row("http://b/", Verdict::Ok, None),
            row("http://c/", Verdict::Dead, None),
        ]);
        let noon = Utc.with_ymd_and_hms(2010, 8, 25, 12, 0, 0).unwrap();
        assert_eq!(
            wanted(&r, false),
            vec![("http://a/".into(), Some(noon)), ("http://c/".into(), None)]
        );
        assert_eq!(
            wanted(&r, true).len(),
            3,
            "--robust-links asks for every source"
        );
    }

    #[test]
    fn only_dead_citations_are_offered_a_copy() {
        let mut r = report(vec![
            row("http://a/", Verdict::Dead, None),
            row("http://a/", Verdict::Ok, None),
        ]);
        let copy = Memento {
            url: "http://archive.test/web/2010/http://a/".into(),
            datetime: "2010-08-25T00:00:00Z".into(),
        };
        let found = HashMap::from([("http://a/".to_string(), copy.clone())]);
        offer(&mut r, &found);
        assert_eq!(r.citations[0].archived, Some(Box::new(copy)));
        assert_eq!(r.citations[1].archived, None);
    }

    #[test]
    fn a_post_date_is_a_day_at_noon_or_an_exact_time() {
        assert_eq!(
            post_time("2010-08-25T08:30:00+02:00"),
            Some(Utc.with_ymd_and_hms(2010, 8, 25, 6, 30, 0).unwrap())
        );
        assert_eq!(
            post_time("2010-08-25"),
            Some(Utc.with_ymd_and_hms(2010, 8, 25, 12, 0, 0).unwrap())
        );
        assert_eq!(post_time("last Tuesday"), None);
    }

    #[tokio::test]
    async fn no_endpoint_asks_nothing() {
        let mut r = report(vec![row("http://a/", Verdict::Dead, None)]);
        let lookups = archived_copies(&mut r, &reqwest::Client::new(), "", true).await;
        assert!(lookups.found.is_empty() && lookups.failures.is_empty());
        assert_eq!(r.citations[0].archived, None);
    }
}
