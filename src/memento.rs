//! Archived copies of dead sources: a client of Memento TimeGates (RFC 7089),
//! and the Robust Links markup that cites a source with its archived copy.
//!
//! It owns the conversation with the archive: the `Accept-Datetime`
//! request, the TimeGate's redirect and `Link` header, the memento's
//! `Memento-Datetime`, and the choice of the memento closest to a date. It
//! never decides a verdict and never prints: a failure comes back as a
//! `MementoError` whose message fits on one line, and the caller goes on.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use reqwest::header::{self, HeaderMap};

use crate::model::{CitationResult, Memento};

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
#[derive(Debug, Clone)]
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
pub async fn closest(
    client: &reqwest::Client,
    endpoint: &str,
    url: &str,
    when: Option<DateTime<Utc>>,
) -> Result<Option<Memento>, MementoError> {
    let gate = format!("{endpoint}{url}");
    let shown = printable(&gate);
    let mut current = gate.clone();
    let mut candidates: Vec<Candidate> = Vec::new();
    // The memento the archive itself chose: the last redirect target, or
    // the response that carried a Memento-Datetime.
    let mut chosen: Option<String> = None;
    let mut failure: Option<MementoError> = None;
    let mut redirects = 0;

    loop {
        let first = redirects == 0;
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
                failure = Some(err);
                break;
            }
        };
        let status = response.status();
        let base = response.url().clone();
        let headers = response.headers();
        candidates.extend(linked_mementos(headers, &base));

        if let Some(at) =
            header_str(headers, "memento-datetime").and_then(|v| parse_http_datetime(&v))
        {
            let here = header_str(headers, header::CONTENT_LOCATION.as_str())
                .and_then(|l| base.join(&l).ok())
                .map(String::from)
                .unwrap_or_else(|| base.to_string());
            candidates.push(Candidate {
                url: here.clone(),
                at,
            });
            chosen = Some(here);
            break;
        }

        if status.is_redirection() {
            let Some(next) = header_str(headers, header::LOCATION.as_str())
                .and_then(|l| base.join(&l).ok())
                .map(String::from)
            else {
                failure = Some(MementoError::Invalid {
                    gate: shown.clone(),
                    cause: format!(
                        "HTTP {} without a usable Location from {}",
                        status.as_u16(),
                        printable(base.as_str())
                    ),
                });
                break;
            };
            chosen = Some(next.clone());
            // A Link header that already dated this memento spares a request.
            if candidates.iter().any(|c| c.url == next) {
                break;
            }
            redirects += 1;
            if redirects > MAX_REDIRECTS {
                failure = Some(MementoError::TooManyRedirects {
                    gate: shown.clone(),
                    max: MAX_REDIRECTS,
                });
                break;
            }
            current = next;
            continue;
        }

        let code = status.as_u16();
        if matches!(code, 404 | 410) {
            // No copy here: said by the TimeGate, by the one it moved to, or
            // by a memento it pointed at that is gone.
            if candidates.is_empty() {
                return Ok(None);
            }
            failure = Some(MementoError::Status {
                gate: shown.clone(),
                url: printable(base.as_str()),
                status: code,
            });
            break;
        }
        if first {
            match code {
                200..=299 if !candidates.is_empty() => break,
                200..=299 => {
                    return Err(MementoError::Invalid {
                        gate: shown,
                        cause: format!(
                            "HTTP {code} with no memento (no Memento-Datetime, no Link header listing mementos)"
                        ),
                    });
                }
                _ => {
                    return Err(MementoError::Status {
                        gate: shown,
                        url: printable(base.as_str()),
                        status: code,
                    });
                }
            }
        }
        // The memento itself answered, without a Memento-Datetime.
        if !status.is_success() {
            failure = Some(MementoError::Status {
                gate: shown.clone(),
                url: printable(base.as_str()),
                status: code,
            });
        }
        break;
    }

    // An archive that names its mementos by timestamp (/web/20100825…/URL)
    // still dates the one it chose when the memento did not say (or did not
    // answer in time); one that answered with an error is not offered.
    let usable = matches!(failure, None | Some(MementoError::Network { .. }));
    if let Some(c) = &chosen
        && usable
        && !candidates.iter().any(|k| &k.url == c)
        && let Some(at) = timestamp_in_url(c)
    {
        candidates.push(Candidate { url: c.clone(), at });
    }

    let best = match when {
        Some(t) => candidates
            .iter()
            .min_by_key(|c| ((c.at - t).num_seconds().unsigned_abs(), c.at)),
        None => chosen
            .as_ref()
            .and_then(|u| candidates.iter().find(|c| &c.url == u))
            .or_else(|| candidates.iter().max_by_key(|c| c.at)),
    };
    match best {
        Some(c) => Ok(Some(Memento {
            url: c.url.clone(),
            datetime: crate::base::time::rfc3339(c.at),
        })),
        None => Err(failure.unwrap_or(MementoError::Invalid {
            gate: shown,
            cause: "the archive named no memento with a date".into(),
        })),
    }
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
