//! A small web archive under `/archive/`: captures of one famous page
//! ([`ORIGINAL`], with a comma in its path that a `Link` header must not
//! split on) and of every page of the test web itself, each taken at
//! [`CAPTURES`]; TimeGates in front of them that behave and misbehave.
//!
//! - `/archive/web/{timestamp}/{url}`: a capture; an exact timestamp
//!   answers with its `Memento-Datetime`, any other redirects to the nearest;
//! - `/archive/gate/{url}`: a TimeGate as RFC 7089 describes it, 302 to the
//!   memento for the asked date by way of the asked timestamp, like the
//!   Wayback Machine;
//! - `/archive/lazy/{url}`: ignores the asked date and always redirects to
//!   its first capture, but lists every capture in its `Link` header;
//! - `/archive/listing/{url}`: no redirect, only the list, one `Link`
//!   header per entry;
//! - `/archive/moved-gate/{url}`: a TimeGate that moved to `gate/`;
//! - `/archive/garbage-redirect/{url}`: a garbage `Link` header on a
//!   redirect that still leads to a memento;
//! - `/archive/undated/{url}`: a redirect to a page that is no memento;
//! - `/archive/broken/`, `/archive/loop/`, `/archive/garbage/`: a 500, a
//!   redirect to itself, a 200 with a garbage `Link` header.
//!
//! Every `Accept-Datetime` a TimeGate is asked with is recorded
//! ([`Web::asked_dates`](super::Web::asked_dates)).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};

use super::Asked;

/// The one page from outside the test web that the archive holds.
pub const ORIGINAL: &str = "http://example.org/2010/08/story,tajik.html";

/// The captures of every page the archive holds, oldest first.
const CAPTURES: [&str; 4] = [
    "20090301000000",
    "20100820120000",
    "20100915080000",
    "20150601000000",
];

const ROOT: &str = "/archive/";

/// Whether the archive holds captures of `url`.
fn captured(url: &str) -> bool {
    url == ORIGINAL || url.starts_with("http://127.")
}

fn capture_time(ts: &str) -> DateTime<Utc> {
    chrono::NaiveDateTime::parse_from_str(ts, "%Y%m%d%H%M%S")
        .unwrap()
        .and_utc()
}

fn nearest(t: DateTime<Utc>) -> &'static str {
    CAPTURES
        .iter()
        .min_by_key(|c| (capture_time(c) - t).num_seconds().abs())
        .unwrap()
}

fn http_date(ts: &str) -> String {
    httpdate::fmt_http_date(capture_time(ts).into())
}

/// Every capture of `original` as `Link` entries, with the relation types
/// a TimeGate uses (`first memento`, `memento`, `last memento`).
fn link_list(host: &str, original: &str) -> Vec<String> {
    let mut entries = vec![format!("<{original}>; rel=\"original\"")];
    for (i, ts) in CAPTURES.iter().enumerate() {
        let rel = match i {
            0 => "first memento",
            i if i == CAPTURES.len() - 1 => "last memento",
            _ => "memento",
        };
        entries.push(format!(
            "<http://{host}{ROOT}web/{ts}/{original}>; rel=\"{rel}\"; datetime=\"{}\"",
            http_date(ts)
        ));
    }
    entries
}

fn with_link(mut resp: Response, link: &str) -> Response {
    resp.headers_mut()
        .append(header::LINK, HeaderValue::from_str(link).unwrap());
    resp
}

fn redirect(to: &str) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, to.to_string())]).into_response()
}

pub fn answer(asked: &Asked) -> Option<Response> {
    let full = asked
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let within = full.strip_prefix(ROOT)?;
    let host = asked.host().to_string();
    let (prefix, rest) = within.split_once('/').unwrap_or((within, ""));
    let asked_date = match asked.headers.get("accept-datetime") {
        None => None,
        Some(v) => {
            let text = v.to_str().unwrap_or_default().to_string();
            asked.state.asked_dates.lock().unwrap().push(text.clone());
            match httpdate::parse_http_date(&text) {
                Ok(t) => Some(DateTime::<Utc>::from(t)),
                Err(_) => {
                    return Some((StatusCode::BAD_REQUEST, "bad Accept-Datetime").into_response());
                }
            }
        }
    };
    let r = match prefix {
        // Mementos: an exact capture answers with its Memento-Datetime; any
        // other timestamp redirects to the nearest capture.
        "web" => {
            let Some((ts, orig)) = rest.split_once('/') else {
                return Some(StatusCode::NOT_FOUND.into_response());
            };
            if !captured(orig) {
                return Some(StatusCode::NOT_FOUND.into_response());
            }
            if CAPTURES.contains(&ts) {
                return Some(
                    (
                        StatusCode::OK,
                        [
                            ("memento-datetime", http_date(ts)),
                            ("content-type", "text/html".to_string()),
                        ],
                        "<p>About 25 prisoners escaped…</p>",
                    )
                        .into_response(),
                );
            }
            let t = chrono::NaiveDateTime::parse_from_str(ts, "%Y%m%d%H%M%S")
                .map(|d| d.and_utc())
                .unwrap_or_else(|_| capture_time(CAPTURES[CAPTURES.len() - 1]));
            redirect(&format!("{ROOT}web/{}/{orig}", nearest(t)))
        }
        // A page that is no memento.
        "plain" => (StatusCode::OK, "just a page").into_response(),
        // A TimeGate that moved: every URL to the new address.
        "moved-gate" => (
            StatusCode::MOVED_PERMANENTLY,
            [(header::LOCATION, format!("{ROOT}gate/{rest}"))],
        )
            .into_response(),
        _ if !captured(rest) && !matches!(prefix, "broken" | "loop" | "garbage") => {
            StatusCode::NOT_FOUND.into_response()
        }
        "gate" => {
            let ts = asked_date
                .map(|t| t.format("%Y%m%d%H%M%S").to_string())
                .unwrap_or_else(|| CAPTURES[CAPTURES.len() - 1].to_string());
            let mut r = redirect(&format!("{ROOT}web/{ts}/{rest}"));
            r.headers_mut()
                .insert(header::VARY, HeaderValue::from_static("accept-datetime"));
            with_link(
                r,
                &format!(
                    "<{rest}>; rel=\"original\", <http://{host}{ROOT}timemap/link/{rest}>; rel=\"timemap\"; type=\"application/link-format\""
                ),
            )
        }
        "lazy" => with_link(
            redirect(&format!("http://{host}{ROOT}web/{}/{rest}", CAPTURES[0])),
            &link_list(&host, rest).join(", "),
        ),
        "listing" => {
            let mut r = (StatusCode::OK, "").into_response();
            for entry in link_list(&host, rest) {
                r.headers_mut()
                    .append(header::LINK, HeaderValue::from_str(&entry).unwrap());
            }
            r
        }
        "garbage-redirect" => with_link(
            redirect(&format!("{ROOT}web/{}/{rest}", CAPTURES[1])),
            "<<<;;; rel=memento; datetime=\"Thu, 32 Foo 2010\", <unterminated; rel=\"memento",
        ),
        "undated" => redirect(&format!("{ROOT}plain/page")),
        "broken" => (StatusCode::INTERNAL_SERVER_ERROR, "oops").into_response(),
        "loop" => redirect(&full),
        "garbage" => with_link(
            (StatusCode::OK, "").into_response(),
            "\"; rel=, <>;;;=\"\\\", memento datetime",
        ),
        _ => StatusCode::NOT_FOUND.into_response(),
    };
    Some(r)
}
