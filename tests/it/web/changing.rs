//! Pages that change between runs, for the store and the schedule.
//!
//! As cited, then on a later day ([`Web::change_pages`](super::Web::change_pages)):
//! `/stable` churns cosmetically on every load (ads, tokens, timings) while
//! its text stays nearly the same; `/churn`'s bytes change on every load,
//! its text never; `/drift` becomes a domain-for-sale page; `/quoted` loses
//! the passage a post quotes; `/typed` becomes a PDF; `/etag` answers a
//! conditional request with 304 (also behind the redirect `/old-etag`);
//! `/misquote` never held what the post quotes. `/stable` uses a stylesheet,
//! images and a script; `/many/N` are long pages, as many as a test wants;
//! `/long` is longer than what a fetch keeps in memory.
//!
//! For nightly runs: `/flaky` fails with 503 while the host is down
//! ([`Web::set_down`](super::Web::set_down)), `/gone` is a 404 once removed
//! ([`Web::set_gone`](super::Web::set_gone)), `/fine` never changes.

use std::sync::atomic::Ordering;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::Asked;

/// The passage a post quotes from `/quoted`, gone from it on a later day.
pub const QUOTE: &str =
    "The government will not negotiate with the escaped prisoners under any circumstances";

/// A 1x1 transparent PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];

/// A long article, so that one sentence is a small part of it.
fn article(topic: &str, extra: &str) -> String {
    let mut s = String::new();
    for i in 0..12 {
        s.push_str(&format!(
            "<p>Paragraph {i} on {topic}: the committee met again on day {i} and heard \
             evidence from engineers, farmers and officials about water levels, costs and \
             the schedule of the works in the valley downstream of the reservoir.</p>"
        ));
        if i == 5 {
            s.push_str(extra);
        }
    }
    s
}

fn page(head: &str, body: &str) -> String {
    format!(
        "<!doctype html><html><head><meta charset=utf-8><title>T</title>{head}</head><body>\
         <nav><a href='/'>Home</a> <a href='/about'>About</a></nav><article>{body}</article>\
         <footer>Copyright the publisher</footer></body></html>"
    )
}

fn html(s: String) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], s).into_response()
}

/// A short page for the nightly runs: one sentence, many times.
fn nightly_page(sentence: &str) -> Response {
    (
        [(header::CONTENT_TYPE, "text/html")],
        format!(
            "<html><body><article><p>{}</p></article></body></html>",
            sentence.repeat(30)
        ),
    )
        .into_response()
}

fn no_such_page() -> Response {
    (StatusCode::NOT_FOUND, "no such page").into_response()
}

/// `/long`: a page of about 700 KiB, longer than what a fetch keeps in
/// memory (`fetch::HEAD_BYTES`, 512 KiB), so that its body is spooled.
pub fn long_page() -> String {
    let mut s = String::new();
    let mut i = 0;
    while s.len() < 700 * 1024 {
        s.push_str(&article(&format!("hearing {i}"), ""));
        i += 1;
    }
    page(
        "",
        &format!("{s}<p>The last paragraph of the long page.</p>"),
    )
}

pub fn answer(asked: &Asked) -> Option<Response> {
    let s = &asked.state;
    let later = s.changed.load(Ordering::SeqCst);
    // Differs on every load, as ads and tokens do.
    let load = s.hits(|_| true);
    let r = match asked.path() {
        "/stable" => {
            // Bytes differ on every load; the text a reader sees does not.
            let head = "<link rel=stylesheet href=/style.css><script src=/track.js></script>";
            let body = format!(
                "<div class=ad>Advertisement {load}</div><form><input type=hidden name=csrf \
                 value=tok{load}x{}></form>{}<img src=/pixel.png alt=chart>\
                 <p class=stamp>Generated in {load} ms</p>",
                if later { 2 } else { 1 },
                article("the Rogun dam", "")
            );
            html(page(head, &body))
        }
        // Bytes differ on every load (a comment, a token); its text never.
        "/churn" => html(page(
            "",
            &format!(
                "<!-- served {load} --><form><input type=hidden name=t value=t{load}></form>{}",
                article("the reservoir", "")
            ),
        )),
        "/drift" => html(page(
            "",
            &if later {
                "<p>This domain is for sale. Contact the broker for offers on premium names, \
                 hosting packages and parking pages.</p>"
                    .repeat(3)
            } else {
                article("the Rogun dam", "")
            },
        )),
        "/quoted" => html(page(
            "",
            &article(
                "the prison escape",
                &if later {
                    String::new()
                } else {
                    format!("<p>{QUOTE}, the minister said on Monday.</p>")
                },
            ),
        )),
        "/misquote" => html(page("", &article("the border", ""))),
        "/typed" if later => (
            [(header::CONTENT_TYPE, "application/pdf")],
            b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n".to_vec(),
        )
            .into_response(),
        "/typed" => html(page("", &article("the timeline", ""))),
        "/etag" => {
            if asked.header(header::IF_NONE_MATCH) == "\"v1\"" {
                s.not_modified.fetch_add(1, Ordering::SeqCst);
                return Some(
                    (StatusCode::NOT_MODIFIED, [(header::ETAG, "\"v1\"")]).into_response(),
                );
            }
            (
                [
                    (header::CONTENT_TYPE, "text/html"),
                    (header::ETAG, "\"v1\""),
                ],
                page("", &article("the archive", "")),
            )
                .into_response()
        }
        "/old-etag" => {
            (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, "/etag")]).into_response()
        }
        "/style.css" => (
            [(header::CONTENT_TYPE, "text/css")],
            "body { font-family: serif; background: url(/bg.png) }",
        )
            .into_response(),
        "/pixel.png" | "/bg.png" => {
            ([(header::CONTENT_TYPE, "image/png")], PNG.to_vec()).into_response()
        }
        "/track.js" => ([(header::CONTENT_TYPE, "text/javascript")], "alert(1)").into_response(),
        p if p.starts_with("/many/") => html(page(
            "",
            &format!("{}<p>{}</p>", article(p, ""), "x".repeat(4000)),
        )),
        "/flaky" if s.down.load(Ordering::SeqCst) => {
            (StatusCode::SERVICE_UNAVAILABLE, "try later").into_response()
        }
        "/flaky" => nightly_page("The flaky host's report on the floods. "),
        "/gone" if s.gone.load(Ordering::SeqCst) => no_such_page(),
        "/gone" => nightly_page("The ministry's statement on the dam. "),
        "/fine" => nightly_page("A page that stays. "),
        "/long" => html(long_page()),
        _ => return None,
    };
    Some(r)
}
