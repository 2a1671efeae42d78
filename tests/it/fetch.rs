//! The fetcher against a misbehaving web on loopback: every publisher
//! behaviour asserted against its verdict and reason.

use std::sync::Arc;

use citeguard::config::Config;
use citeguard::fetch::{Fetched, Fetcher, Job};
use citeguard::model::{Reason, Verdict};

use crate::util::fast_config;
use crate::web::publisher::ARTICLE;
use crate::web::{Web, catch_all_on, nothing_listening_on, resetting_on};

async fn fetch_with(config: &Config, url: &str) -> Fetched {
    let fetcher = Fetcher::new(config, None).unwrap();
    fetcher.fetch(&Job::new(url)).await
}

async fn fetch(url: &str) -> Fetched {
    fetch_with(&fast_config(), url).await
}

fn assert_verdict(f: &Fetched, verdict: Verdict, reason: Reason) {
    assert_eq!(
        (f.check.verdict, f.check.reason),
        (verdict, reason),
        "{:#?}",
        f.check
    );
}

#[tokio::test]
async fn ok_when_the_page_is_there() {
    let web = Web::on("127.0.0.2");
    let f = fetch(&web.url("/ok")).await;
    assert_verdict(&f, Verdict::Ok, Reason::Ok);
    assert_eq!(f.check.status, Some(200));
    let body = f.body.unwrap();
    assert_eq!(body.size as usize, ARTICLE.len());
    assert_eq!(body.sha256.len(), 64);
}

#[tokio::test]
async fn dead_on_404_and_410() {
    let web = Web::on("127.0.0.2");
    let f = fetch(&web.url("/gone404")).await;
    assert_verdict(&f, Verdict::Dead, Reason::HttpStatus);
    assert_eq!(f.check.status, Some(404));
    let f = fetch(&web.url("/gone410")).await;
    assert_verdict(&f, Verdict::Dead, Reason::HttpStatus);
    assert_eq!(f.check.status, Some(410));
}

#[tokio::test]
async fn a_definitive_404_is_not_retried() {
    let web = Web::on("127.0.0.2");
    fetch(&web.url("/gone404")).await;
    assert_eq!(web.hits("/gone404"), 1);
}

#[tokio::test]
async fn blocked_not_dead_when_the_server_says_403() {
    let web = Web::on("127.0.0.2");
    let f = fetch(&web.url("/forbidden")).await;
    assert_verdict(&f, Verdict::Unreachable, Reason::Blocked);
}

#[tokio::test]
async fn a_403_to_the_bot_user_agent_is_retried_as_a_browser_would() {
    let web = Web::on("127.0.0.2");
    let f = fetch(&web.url("/bot-403")).await;
    assert_verdict(&f, Verdict::Ok, Reason::Ok);
    assert_eq!(web.hits("/bot-403"), 2);
}

#[tokio::test]
async fn dead_soft_404_when_a_200_page_says_not_found() {
    let web = Web::on("127.0.0.2");
    let f = fetch(&web.url("/soft404")).await;
    assert_verdict(&f, Verdict::Dead, Reason::Soft404);
    assert_eq!(f.check.status, Some(200));
}

#[tokio::test]
async fn dead_when_host_answers_every_path_with_the_same_page() {
    let web = catch_all_on("127.0.0.3");
    let f = fetch(&web.url("/2010/08/prison-break.html")).await;
    assert_verdict(&f, Verdict::Dead, Reason::Soft404);
    assert!(f.check.detail.unwrap().contains("any path"));
}

#[tokio::test]
async fn the_front_page_of_a_catch_all_host_is_not_a_soft_404() {
    let web = catch_all_on("127.0.0.3");
    let f = fetch(&web.url("/")).await;
    assert_verdict(&f, Verdict::Ok, Reason::Ok);
}

#[tokio::test]
async fn dead_when_an_article_redirects_to_the_front_page_or_a_login() {
    let web = Web::on("127.0.0.2");
    let f = fetch(&web.url("/old-story")).await;
    assert_verdict(&f, Verdict::Dead, Reason::RedirectToRoot);
    let f = fetch(&web.url("/members-only")).await;
    assert_verdict(&f, Verdict::Dead, Reason::RedirectToRoot);
}

#[tokio::test]
async fn moved_when_a_permanent_redirect_leads_to_the_copy() {
    let web = Web::on("127.0.0.2");
    let f = fetch(&web.url("/moved")).await;
    assert_verdict(&f, Verdict::Ok, Reason::Moved);
    assert_eq!(
        f.check.final_url.as_deref(),
        Some(web.url("/new-home/story").as_str())
    );
    assert_eq!(f.check.redirects.len(), 1);
    assert_eq!(f.check.redirects[0].status, 301);
}

#[tokio::test]
async fn every_hop_of_a_three_hop_chain_is_recorded() {
    let web = Web::on("127.0.0.2");
    let f = fetch(&web.url("/chain1")).await;
    assert_verdict(&f, Verdict::Ok, Reason::Ok);
    let hops: Vec<(String, u16)> = f
        .check
        .redirects
        .iter()
        .map(|r| (r.url.clone(), r.status))
        .collect();
    assert_eq!(
        hops,
        vec![
            (web.url("/chain2"), 302),
            (web.url("/chain3"), 301),
            (web.url("/ok"), 307)
        ]
    );
    assert_eq!(f.check.final_url.as_deref(), Some(web.url("/ok").as_str()));
}

#[tokio::test]
async fn a_redirect_loop_is_detected_and_not_called_dead() {
    let web = Web::on("127.0.0.2");
    let f = fetch(&web.url("/loop-a")).await;
    assert_verdict(&f, Verdict::Unreachable, Reason::RedirectLoop);
    assert_eq!(f.check.redirects.len(), 2);
}

/// citeguard never sends HEAD (every source is fetched with GET: a HEAD
/// tells nothing about soft-404s or content, and many servers answer it
/// wrongly), so a server that refuses HEAD is simply fetched with GET.
#[tokio::test]
async fn ok_with_get_alone_where_the_server_refuses_head() {
    let web = Web::on("127.0.0.2");
    let url = web.url("/head405");
    let f = fetch(&url).await;
    assert_verdict(&f, Verdict::Ok, Reason::Ok);
    assert_eq!(web.methods("/head405"), ["GET"], "one GET and no HEAD");
    // The server does refuse HEAD.
    let head = reqwest::Client::new().head(&url).send().await.unwrap();
    assert_eq!(head.status(), 405);
    assert_eq!(web.methods("/head405"), ["GET", "HEAD"]);
}

#[tokio::test]
async fn a_429_with_retry_after_is_retried_and_then_ok() {
    let web = Web::on("127.0.0.2");
    let f = fetch(&web.url("/ratelimited")).await;
    assert_verdict(&f, Verdict::Ok, Reason::Ok);
    assert_eq!(f.check.attempts, 2);
    assert_eq!(web.hits("/ratelimited"), 2);
}

#[tokio::test]
async fn always_503_is_unreachable_after_retries_never_dead() {
    let web = Web::on("127.0.0.2");
    let f = fetch(&web.url("/always503")).await;
    assert_verdict(&f, Verdict::Unreachable, Reason::Http5xx);
    assert_eq!(web.hits("/always503"), 2, "one try and one retry");
}

#[tokio::test]
async fn a_reset_connection_is_unreachable_reset() {
    let addr = resetting_on("127.0.0.5");
    let f = fetch(&format!("http://{addr}/story")).await;
    assert_verdict(&f, Verdict::Unreachable, Reason::Reset);
}

#[tokio::test]
async fn a_response_that_never_finishes_is_cut_off_as_a_timeout() {
    let web = Web::on("127.0.0.2");
    let mut config = fast_config();
    config.fetch.timeout_secs = 0.5;
    config.fetch.retries = 0;
    let f = fetch_with(&config, &web.url("/never-finishes")).await;
    assert_verdict(&f, Verdict::Unreachable, Reason::Timeout);
}

#[tokio::test]
async fn gzip_and_brotli_bodies_are_decoded() {
    let web = Web::on("127.0.0.2");
    for path in ["/gzip", "/brotli"] {
        let f = fetch(&web.url(path)).await;
        assert_verdict(&f, Verdict::Ok, Reason::Ok);
        let body = f.body.unwrap();
        assert_eq!(body.head, ARTICLE.as_bytes(), "{path}");
    }
}

#[tokio::test]
async fn a_latin1_page_is_decoded_before_it_is_read() {
    let web = Web::on("127.0.0.2");
    let f = fetch(&web.url("/latin1")).await;
    assert_verdict(&f, Verdict::Ok, Reason::Ok);
    assert_eq!(f.body.unwrap().charset.as_deref(), Some("iso-8859-1"));
    // The soft-404 phrase is only seen when the bytes are decoded right.
    let f = fetch(&web.url("/latin1-missing")).await;
    assert_verdict(&f, Verdict::Dead, Reason::Soft404);
}

#[tokio::test]
async fn a_pdf_is_ok_and_keeps_its_content_type() {
    let web = Web::on("127.0.0.2");
    let f = fetch(&web.url("/paper.pdf")).await;
    assert_verdict(&f, Verdict::Ok, Reason::Ok);
    assert_eq!(f.check.content_type.as_deref(), Some("application/pdf"));
}

#[tokio::test]
async fn a_two_gigabyte_body_is_capped_not_downloaded() {
    let web = Web::on("127.0.0.2");
    let mut config = fast_config();
    config.fetch.max_body = 1024 * 1024;
    let f = fetch_with(&config, &web.url("/huge")).await;
    assert_verdict(&f, Verdict::Ok, Reason::Ok);
    let body = f.body.unwrap();
    assert!(body.truncated);
    assert_eq!(body.size, 1024 * 1024);
}

#[tokio::test]
async fn robots_txt_disallow_skips_the_page_without_fetching_it() {
    let web = Web::on("127.0.0.2");
    let f = fetch(&web.url("/private/page")).await;
    assert_verdict(&f, Verdict::Skipped, Reason::Robots);
    assert_eq!(web.hits("/private/page"), 0);
    let mut config = fast_config();
    config.fetch.ignore_robots = true;
    let f = fetch_with(&config, &web.url("/private/page")).await;
    assert_verdict(&f, Verdict::Ok, Reason::Ok);
}

#[tokio::test]
async fn refused_when_nothing_listens() {
    let addr = nothing_listening_on("127.0.0.4");
    let f = fetch(&format!("http://{addr}/story")).await;
    assert_verdict(&f, Verdict::Unreachable, Reason::Refused);
}

#[tokio::test]
async fn dead_dns_for_a_name_reserved_never_to_exist() {
    let f = fetch("http://gone-publisher.invalid/2010/08/story.html").await;
    assert_verdict(&f, Verdict::Dead, Reason::Dns);
}

/// A config whose resolver answers locally: `canary` (the name that must
/// exist) resolves or not, `gone.example` never does. No query leaves the
/// machine.
fn resolver(canary_resolves: bool) -> Config {
    let canary = citeguard::fetch::resolve::CANARY.to_string();
    let mut config = fast_config();
    config.fetch.no_such_host = vec!["gone.example".into()];
    if canary_resolves {
        config
            .fetch
            .resolve
            .insert(canary, "127.0.0.1".parse().unwrap());
    } else {
        config.fetch.no_such_host.push(canary);
    }
    config
}

#[tokio::test]
async fn dead_dns_when_a_name_does_not_exist_and_the_resolver_knows_the_canary() {
    let f = fetch_with(&resolver(true), "http://gone.example/2010/08/story.html").await;
    assert_verdict(&f, Verdict::Dead, Reason::Dns);
    assert!(
        f.check.detail.as_deref().unwrap().contains("gone.example"),
        "{:?}",
        f.check.detail
    );
}

#[tokio::test]
async fn unreachable_not_dead_when_the_canary_does_not_resolve_either() {
    // An offline machine, or a resolver that denies everything: its "no
    // such host" proves nothing.
    let f = fetch_with(&resolver(false), "http://gone.example/2010/08/story.html").await;
    assert_verdict(&f, Verdict::Unreachable, Reason::DnsTemporary);
    assert!(
        f.check.detail.as_deref().unwrap().contains("offline"),
        "{:?}",
        f.check.detail
    );
}

#[tokio::test]
async fn accept_makes_a_status_ok() {
    let web = Web::on("127.0.0.2");
    let mut config = fast_config();
    config.fetch.accept = vec![410];
    let f = fetch_with(&config, &web.url("/gone410")).await;
    assert_verdict(&f, Verdict::Ok, Reason::Ok);
}

#[tokio::test]
async fn excluded_and_non_http_sources_are_skipped() {
    let mut config = fast_config();
    config.fetch.exclude = vec!["^http://127\\.0\\.0\\.2:\\d+/ok$".into()];
    let web = Web::on("127.0.0.2");
    let f = fetch_with(&config, &web.url("/ok")).await;
    assert_verdict(&f, Verdict::Skipped, Reason::Excluded);
    assert_eq!(web.hits("/ok"), 0);
    let f = fetch("mailto:editor@example.org").await;
    assert_verdict(&f, Verdict::Skipped, Reason::Scheme);
}

#[tokio::test]
async fn a_conditional_request_sends_the_validators() {
    let web = Web::on("127.0.0.2");
    let fetcher = Fetcher::new(&fast_config(), None).unwrap();
    let job = Job {
        validators: Some(citeguard::fetch::Validators {
            etag: Some("\"v1\"".into()),
            last_modified: None,
        }),
        ..Job::new(web.url("/ok"))
    };
    let f = fetcher.fetch(&job).await;
    assert!(
        f.request_headers
            .iter()
            .any(|(k, v)| k == "if-none-match" && v == "\"v1\""),
        "{:?}",
        f.request_headers
    );
}

#[tokio::test]
async fn a_host_never_gets_more_concurrent_requests_than_per_host() {
    let web = Web::on("127.0.0.6");
    let mut config = fast_config();
    config.fetch.per_host = 3;
    config.fetch.concurrency = 64;
    let fetcher = Arc::new(Fetcher::new(&config, None).unwrap());
    let (queue, mut results) = citeguard::fetch::Queue::new(fetcher);
    for i in 0..30 {
        assert!(queue.push(Job::new(web.url(&format!("/slow/{i}")))));
    }
    for _ in 0..30 {
        let f = results.recv().await.unwrap().unwrap();
        assert_eq!(f.check.verdict, Verdict::Ok);
    }
    let max = web.max_in_flight();
    assert!(max <= 3, "{max} requests in flight at once");
    assert!(
        max >= 2,
        "requests never overlapped ({max}): the limit was not exercised"
    );
}

#[tokio::test]
async fn the_queue_fetches_a_url_once_however_often_it_is_pushed() {
    let web = Web::on("127.0.0.2");
    let fetcher = Arc::new(Fetcher::new(&fast_config(), None).unwrap());
    let (queue, mut results) = citeguard::fetch::Queue::new(fetcher);
    assert!(queue.push(Job::new(web.url("/ok"))));
    assert!(!queue.push(Job::new(web.url("/ok"))));
    results.recv().await.unwrap().unwrap();
    assert_eq!(web.hits("/ok"), 1);
}

#[tokio::test]
async fn per_host_headers_from_the_config_get_through_a_cookie_wall() {
    let web = Web::on("127.0.0.2");
    let f = fetch(&web.url("/cookie-wall")).await;
    assert_verdict(&f, Verdict::Unreachable, Reason::Blocked);
    let config = Config::parse(
        "[hosts.\"127.0.0.2\"]\nheaders = { Cookie = \"consent=yes\" }\n[fetch]\nretries = 0\n",
    )
    .unwrap();
    let f = fetch_with(&config, &web.url("/cookie-wall")).await;
    assert_verdict(&f, Verdict::Ok, Reason::Ok);
}

/// A run that keeps nothing (`--no-store`) gets the same verdicts without
/// what only an archive reads: no body hash, no exchanges, no request
/// headers, no response headers and no page start. A run that keeps
/// copies gets them all.
#[tokio::test]
async fn a_fetcher_keeping_no_records_judges_alike_and_records_nothing() {
    let web = Web::on("127.0.0.2");
    let config = fast_config();
    let keeping = Fetcher::new(&config, None).unwrap();
    let bare = Fetcher::new(&config, None).unwrap().keeping_no_records();
    for path in ["/ok", "/moved", "/soft404", "/gone404"] {
        let url = web.url(path);
        let kept = keeping.fetch(&Job::new(url.as_str())).await;
        let plain = bare.fetch(&Job::new(url.as_str())).await;
        let judged = |f: &Fetched| {
            let c = &f.check;
            (
                c.verdict,
                c.reason,
                c.status,
                c.final_url.clone(),
                c.redirects.clone(),
                c.detail.clone(),
            )
        };
        assert_eq!(judged(&kept), judged(&plain), "{path}");
        assert!(!kept.exchanges.is_empty(), "{path}");
        assert!(!kept.request_headers.is_empty(), "{path}");
        assert!(plain.exchanges.is_empty(), "{path}");
        assert!(plain.request_headers.is_empty(), "{path}");
        if let (Some(k), Some(p)) = (&kept.body, &plain.body) {
            assert_eq!(k.sha256.len(), 64, "{path}");
            assert!(p.sha256.is_empty(), "{path}");
            assert_eq!(k.size, p.size, "{path}");
            // The page's start and headers were read for the verdict only.
            assert!(!k.head.is_empty() && p.head.is_empty(), "{path}");
            assert!(!k.headers.is_empty() && p.headers.is_empty(), "{path}");
            let validators = |b: &citeguard::fetch::FetchedBody| {
                (
                    b.content_type.clone(),
                    b.etag.clone(),
                    b.last_modified.clone(),
                )
            };
            assert_eq!(validators(k), validators(p), "{path}");
        }
    }
    // The redirect's hop is recorded by the one and not by the other.
    let moved = keeping.fetch(&Job::new(web.url("/moved"))).await;
    assert_eq!(moved.exchanges.len(), 2);
}

/// A body no longer than what a fetch keeps in memory (`HEAD_BYTES`) is
/// handed on whole, with no spool file; a longer one is spooled whole, the
/// head first, and its head is the first `HEAD_BYTES` bytes.
#[tokio::test]
async fn only_a_body_longer_than_the_head_is_spooled() {
    let web = Web::on("127.0.0.173");
    let spool = crate::util::Dir::new();
    let fetcher = Fetcher::new(&fast_config(), Some(spool.path().to_path_buf())).unwrap();

    let short = fetcher.fetch(&Job::new(web.url("/ok"))).await;
    let body = short.body.expect("a body");
    assert!(body.spool.is_none(), "a short body has no spool file");
    assert_eq!(body.head, ARTICLE.as_bytes());
    assert_eq!(body.size as usize, ARTICLE.len());

    let long = fetcher.fetch(&Job::new(web.url("/long"))).await;
    let body = long.body.expect("a body");
    let page = crate::web::changing::long_page();
    let path = body.spool.clone().expect("a long body is spooled");
    let spooled = std::fs::read(&path).unwrap();
    assert!(
        spooled == page.as_bytes(),
        "the spool file holds the whole body"
    );
    assert_eq!(body.size as usize, page.len());
    assert_eq!(body.head.len(), citeguard::fetch::HEAD_BYTES);
    assert!(page.as_bytes().starts_with(&body.head));
    citeguard::fetch::discard_spool(&body);
    assert!(!path.exists(), "discarded");
}
