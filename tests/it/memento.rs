//! The Memento client against the test web's archive (`web::archive`): a
//! proper TimeGate that redirects by `Accept-Datetime` (as the Wayback
//! Machine does, through a second redirect to the exact capture), a lazy
//! one that always redirects to its first capture but lists every capture
//! in its `Link` header, one that answers with a list only, and archives
//! that fail, loop or send garbage. Plus the `Link` parser and Robust
//! Links on their own.

use std::net::SocketAddr;

use chrono::{DateTime, TimeZone, Utc};
use citeguard::memento::{self, MementoError, parse_link_header, robust_link};
use citeguard::model::{CitationResult, Kind, Memento, Reason, Verdict};

use crate::web::archive::ORIGINAL;
use crate::web::{Web, nothing_listening_on};

/// The fetcher's kind of client: redirects are followed by hand.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn day(y: i32, m: u32, d: u32) -> Option<DateTime<Utc>> {
    Some(Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap())
}

fn memento_at(addr: SocketAddr, ts: &str, datetime: &str) -> Memento {
    Memento {
        url: format!("http://{addr}/archive/web/{ts}/{ORIGINAL}"),
        datetime: datetime.to_string(),
    }
}

/// Asks the test web's archive at `path` for the memento of `original`
/// nearest `date`, with the fetcher's kind of client.
async fn ask(
    addr: SocketAddr,
    path: &str,
    original: &str,
    date: Option<DateTime<Utc>>,
) -> Result<Option<Memento>, MementoError> {
    memento::closest(&client(), &format!("http://{addr}{path}"), original, date).await
}

/// The capture of `ORIGINAL` nearest late August 2010.
fn august_2010(addr: SocketAddr) -> Memento {
    memento_at(addr, "20100820120000", "2010-08-20T12:00:00Z")
}

/// The archive's latest capture of `ORIGINAL`.
fn june_2015(addr: SocketAddr) -> Memento {
    memento_at(addr, "20150601000000", "2015-06-01T00:00:00Z")
}

#[tokio::test]
async fn a_timegate_redirect_leads_to_the_capture_nearest_the_asked_date() {
    let web = Web::on("127.0.0.41");
    let addr = web.addr;
    let found = ask(addr, "/archive/gate/", ORIGINAL, day(2010, 8, 25))
        .await
        .unwrap();
    assert_eq!(found, Some(august_2010(addr)));
    let later = ask(addr, "/archive/gate/", ORIGINAL, day(2010, 9, 10))
        .await
        .unwrap();
    assert_eq!(
        later,
        Some(memento_at(addr, "20100915080000", "2010-09-15T08:00:00Z"))
    );
}

#[tokio::test]
async fn without_a_date_the_archive_chooses_its_latest_capture() {
    let web = Web::on("127.0.0.41");
    let addr = web.addr;
    let found = ask(addr, "/archive/gate/", ORIGINAL, None).await.unwrap();
    assert_eq!(found, Some(june_2015(addr)));
}

#[tokio::test]
async fn a_client_that_follows_redirects_itself_gets_the_same_memento() {
    let web = Web::on("127.0.0.41");
    let addr = web.addr;
    let found = memento::closest(
        &reqwest::Client::new(),
        &format!("http://{addr}/archive/gate/"),
        ORIGINAL,
        day(2010, 8, 25),
    )
    .await
    .unwrap();
    assert_eq!(found, Some(august_2010(addr)));
}

#[tokio::test]
async fn the_link_header_overrules_a_timegate_that_redirects_to_a_far_capture() {
    let web = Web::on("127.0.0.42");
    let addr = web.addr;
    let found = ask(addr, "/archive/lazy/", ORIGINAL, day(2010, 8, 25))
        .await
        .unwrap();
    assert_eq!(found, Some(august_2010(addr)));
    assert_eq!(
        web.hits_under("/archive/web/"),
        0,
        "the Link header dated the redirect target: no request to it"
    );
}

#[tokio::test]
async fn a_list_of_mementos_over_several_link_headers_is_enough() {
    let web = Web::on("127.0.0.42");
    let addr = web.addr;
    let found = ask(addr, "/archive/listing/", ORIGINAL, day(2016, 1, 1))
        .await
        .unwrap();
    assert_eq!(found, Some(june_2015(addr)));
}

#[tokio::test]
async fn a_url_the_archive_never_captured_has_no_memento_even_behind_a_moved_timegate() {
    let web = Web::on("127.0.0.43");
    let addr = web.addr;
    let found = ask(
        addr,
        "/archive/gate/",
        "http://example.org/never-archived",
        day(2010, 8, 25),
    )
    .await
    .unwrap();
    assert_eq!(found, None);
    let moved = ask(
        addr,
        "/archive/moved-gate/",
        "http://example.org/never-archived",
        day(2010, 8, 25),
    )
    .await
    .unwrap();
    assert_eq!(moved, None, "the moved TimeGate's 404 says the same");
    let found = ask(addr, "/archive/moved-gate/", ORIGINAL, day(2010, 8, 25))
        .await
        .unwrap();
    assert_eq!(found, Some(august_2010(addr)));
}

#[tokio::test]
async fn a_server_error_is_an_error_that_fits_on_one_line() {
    let web = Web::on("127.0.0.43");
    let addr = web.addr;
    let err = ask(addr, "/archive/broken/", ORIGINAL, day(2010, 8, 25))
        .await
        .unwrap_err();
    assert!(
        matches!(err, MementoError::Status { status: 500, .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("HTTP 500") && msg.contains("/broken/"),
        "{msg}"
    );
    assert!(!msg.contains('\n'));
}

#[tokio::test]
async fn a_garbage_link_header_is_an_error_not_a_panic() {
    let web = Web::on("127.0.0.44");
    let addr = web.addr;
    let err = ask(addr, "/archive/garbage/", ORIGINAL, day(2010, 8, 25))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no memento"), "{err}");
}

#[tokio::test]
async fn a_garbage_link_header_beside_a_good_redirect_is_ignored() {
    let web = Web::on("127.0.0.44");
    let addr = web.addr;
    let found = ask(
        addr,
        "/archive/garbage-redirect/",
        ORIGINAL,
        day(2012, 1, 1),
    )
    .await
    .unwrap();
    assert_eq!(found, Some(august_2010(addr)));
}

#[tokio::test]
async fn a_redirect_loop_stops_after_a_few_hops() {
    let web = Web::on("127.0.0.45");
    let addr = web.addr;
    let err = ask(addr, "/archive/loop/", ORIGINAL, None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, MementoError::TooManyRedirects { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_redirect_to_a_page_without_a_date_is_no_memento() {
    let web = Web::on("127.0.0.45");
    let addr = web.addr;
    let err = ask(addr, "/archive/undated/", ORIGINAL, day(2010, 8, 25))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no memento"), "{err}");
}

#[tokio::test]
async fn an_archive_that_is_down_is_a_network_error() {
    let addr = nothing_listening_on("127.0.0.46");
    let err = ask(addr, "/archive/web/", ORIGINAL, None)
        .await
        .unwrap_err();
    assert!(matches!(err, MementoError::Network { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("Memento TimeGate http://127.0.0.46")
    );
}

#[test]
fn link_entries_split_on_commas_outside_quotes_and_angle_brackets() {
    let links = parse_link_header(
        "<http://a.example/x,y>; rel=\"first memento\"; datetime=\"Tue, 20 Jun 2000 18:02:59 GMT\", \
         <http://a.example/z>;REL=memento;datetime=\"Wed, 21 Jun 2000 01:00:00 GMT\";rel=\"ignored\",\
         <http://a.example/tm> ; rel=timemap ; type=\"application/link-format\"",
    );
    assert_eq!(links.len(), 3, "{links:?}");
    assert_eq!(links[0].target, "http://a.example/x,y");
    assert_eq!(links[0].rels(), ["first", "memento"]);
    assert_eq!(
        links[0].param("datetime"),
        Some("Tue, 20 Jun 2000 18:02:59 GMT")
    );
    assert!(
        links[1].has_rel("memento"),
        "param names are case-insensitive"
    );
    assert_eq!(links[1].param("rel"), Some("memento"), "the first rel wins");
    assert_eq!(links[2].rels(), ["timemap"]);
    assert_eq!(links[2].param("type"), Some("application/link-format"));
}

#[test]
fn quoted_values_keep_their_escapes_and_flags_have_no_value() {
    let links = parse_link_header(r#"<a>; title="say \"hi\", then; go"; crossorigin; rel=next"#);
    assert_eq!(links.len(), 1);
    assert_eq!(links[0].param("title"), Some(r#"say "hi", then; go"#));
    assert_eq!(links[0].param("crossorigin"), Some(""));
    assert_eq!(links[0].rels(), ["next"]);
}

#[test]
fn garbage_link_headers_give_fewer_entries_never_a_panic() {
    for junk in [
        "",
        ",,,",
        "<",
        "<unterminated; rel=\"memento",
        "no brackets; rel=memento, <http://ok.example/>; rel=memento",
        "<a>; rel=\"unterminated quote",
        "<a>; =; ;; rel",
        "<a> junk; rel=memento, <b>; rel=memento",
        "\"; rel=, <>;;;=\"\\\", memento datetime",
        "<é>; rel=\"mémento\\",
        "<a>;\\",
    ] {
        let links = parse_link_header(junk);
        assert!(links.len() <= 2, "{junk:?} → {links:?}");
    }
    let recovered =
        parse_link_header("no brackets; rel=memento, <http://ok.example/>; rel=memento");
    assert_eq!(recovered.len(), 1);
    assert_eq!(recovered[0].target, "http://ok.example/");
    let partial = parse_link_header("<a> junk; rel=memento, <b>; rel=memento");
    assert_eq!(partial.len(), 2, "{partial:?}");
    assert_eq!(partial[1].rels(), ["memento"]);
}

fn dead_row(url: &str, text: &str) -> CitationResult {
    CitationResult::new(
        "posts/tajik.html",
        62,
        Some(url.to_string()),
        text,
        Kind::Link,
        Verdict::Dead,
        Reason::HttpStatus,
    )
}

#[test]
fn a_robust_link_carries_the_original_the_copy_and_its_day() {
    let c = dead_row(
        "http://www.nytimes.com/2010/08/24/world/asia/24tajik.html",
        "NYT",
    );
    assert_eq!(
        robust_link(
            &c,
            "https://web.archive.org/web/20100825010203/http://www.nytimes.com/2010/08/24/world/asia/24tajik.html",
            "2010-08-25T01:02:03Z"
        ),
        "<a href=\"http://www.nytimes.com/2010/08/24/world/asia/24tajik.html\" \
         data-originalurl=\"http://www.nytimes.com/2010/08/24/world/asia/24tajik.html\" \
         data-versionurl=\"https://web.archive.org/web/20100825010203/http://www.nytimes.com/2010/08/24/world/asia/24tajik.html\" \
         data-versiondate=\"2010-08-25\">NYT</a>"
    );
    for date in [
        "2010-08-25",
        "Wed, 25 Aug 2010 01:02:03 GMT",
        "20100825010203",
    ] {
        assert!(
            robust_link(&c, "https://a.example/v", date)
                .contains("data-versiondate=\"2010-08-25\""),
            "{date}"
        );
    }
}

#[test]
fn a_robust_link_escapes_what_came_from_the_post() {
    let c = dead_row(
        "http://evil.example/?a=1&b=\"><script>x</script>",
        "<img src=x onerror=alert(1)> & 'co'",
    );
    let html = robust_link(&c, "https://a.example/v?x=1&y=2", "2010-08-25");
    assert!(
        !html.contains("<script>") && !html.contains("<img"),
        "{html}"
    );
    assert!(
        html.contains(
            "href=\"http://evil.example/?a=1&amp;b=&quot;&gt;&lt;script&gt;x&lt;/script&gt;\""
        ),
        "{html}"
    );
    assert!(html.contains("data-versionurl=\"https://a.example/v?x=1&amp;y=2\""));
    assert!(html.ends_with(">&lt;img src=x onerror=alert(1)&gt; &amp; &#39;co&#39;</a>"));

    let script = dead_row("java\tscript:alert(1)", "click");
    let html = robust_link(&script, "https://a.example/v", "2010-08-25");
    assert!(
        html.starts_with("<a href=\"https://a.example/v\""),
        "a script URL never becomes the link: {html}"
    );
}
