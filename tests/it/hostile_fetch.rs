//! The fetcher against a hostile web (servers on 127.0.0.x, see
//! `web::hostile_fetch`): every byte read from the network is capped after
//! decompression, no parse of a fetched page runs unbounded, nothing is
//! fetched from a private address on a public page's say-so, no flag value
//! hangs or panics a run, and every reason says what happened.

use std::io::Read;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use citeguard::fetch::{Fetched, Fetcher, Job};
use citeguard::model::{Reason, Verdict};

use crate::util::{Dir, fast_config, json, stderr, stdout};
use crate::web::Web;
use crate::web::hostile_fetch::{self as hostile, BOMB_MIB};

/// Peak memory a run may reach with a bomb in front of it: generous for a
/// debug build, and a small fraction of what the bombs inflate to.
const PEAK_MIB: u64 = 256;

/// How long any run of these tests may take before it counts as a hang.
const HANG: Duration = Duration::from_secs(120);

/// Runs a command to its end and returns its output and its peak
/// resident memory in MiB, read from `wait4` for that one child (so other
/// tests' processes do not count). A run still going after `HANG` is
/// killed and fails the test: a hang must fail, not hang the suite.
// The child is reaped by `wait4`, which `Child` does not know about.
#[allow(clippy::zombie_processes)]
fn run_measured(mut cmd: Command) -> (Output, u64) {
    // A child's peak counts the pages it shared with this test process
    // when it was forked (the kernel keeps the larger of the forked and
    // the exec'd image); the test process grows as the suite runs, so its
    // own size at the spawn is taken off.
    let inherited_kib = own_rss_kib();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run citeguard");
    let pid = child.id() as libc::pid_t;
    let read = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut b = Vec::new();
            let _ = r.read_to_end(&mut b);
            b
        })
    };
    let out = read(Box::new(child.stdout.take().unwrap()));
    let err = read(Box::new(child.stderr.take().unwrap()));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut status = 0;
        // SAFETY: wait4 on our own child's pid; the kernel fills `usage`.
        let usage = unsafe {
            let mut usage: libc::rusage = std::mem::zeroed();
            let waited = libc::wait4(pid, &mut status, 0, &mut usage);
            assert_eq!(waited, pid, "wait4 failed");
            usage
        };
        let _ = tx.send((status, usage.ru_maxrss));
    });
    let Ok((status, maxrss_kib)) = rx.recv_timeout(HANG) else {
        // SAFETY: kill(2) on our own child, not yet reaped.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        panic!("citeguard still running after {HANG:?}: a hang");
    };
    use std::os::unix::process::ExitStatusExt;
    let output = Output {
        status: std::process::ExitStatus::from_raw(status),
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    };
    (
        output,
        (maxrss_kib as u64).saturating_sub(inherited_kib) / 1024,
    )
}

/// This process's resident memory now, in KiB (`VmRSS`).
fn own_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn post_citing(dir: &Dir, urls: &[String]) -> std::path::PathBuf {
    let links: String = urls
        .iter()
        .map(|u| format!("<p>As <a href=\"{u}\">reported here</a>.</p>"))
        .collect();
    dir.write(
        "post.html",
        format!("<html><body><article>{links}</article></body></html>"),
    )
}

/// Runs citeguard with `args` on `post`, measuring its peak memory.
fn run_on(dir: &Dir, args: &[&str], post: &std::path::Path) -> (Output, u64) {
    let mut cmd = dir.citeguard(args.iter().copied()).command();
    cmd.arg(post);
    run_measured(cmd)
}

/// A post citing `/article` on the bomb host at `addr` checks it as ok,
/// and citeguard's peak memory stays far under the bomb's size.
fn assert_article_ok_in_little_memory(addr: std::net::SocketAddr) {
    let dir = Dir::new();
    let post = post_citing(&dir, &[format!("http://{addr}/article")]);
    let (o, peak) = run_on(&dir, &["check", "--no-store", "--format", "json"], &post);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(json(&o)["citations"][0]["verdict"], "ok");
    assert_small(peak, &o);
}

fn assert_small(peak_mib: u64, o: &Output) {
    assert!(
        peak_mib < PEAK_MIB,
        "peak memory {peak_mib} MiB against a {BOMB_MIB} MiB bomb\nstderr: {}",
        stderr(o)
    );
}

#[test]
fn a_brotli_bomb_robots_txt_is_read_no_further_than_its_cap() {
    let host = hostile::bomb_robots_on("127.0.0.30");
    assert_article_ok_in_little_memory(host.addr);
}

#[test]
fn a_gzip_bomb_where_the_soft_404_probe_looks_is_read_no_further_than_its_cap() {
    let host = hostile::bomb_everything_on("127.0.0.31");
    assert_article_ok_in_little_memory(host.addr);
}

#[test]
fn bombs_as_page_requisites_and_as_a_cited_page_are_cut_at_the_body_cap() {
    let web = Web::on("127.0.0.32");
    let bomb_css = web.url("/hostile-fetch/bomb.css");
    let dir = Dir::new();
    let post = post_citing(
        &dir,
        &[
            web.url(&format!("/hostile-fetch/links-to?u={bomb_css}")),
            web.url("/hostile-fetch/bomb.html"),
        ],
    );
    let (o, peak) = run_on(
        &dir,
        &["check", "--max-body", "4M", "--format", "json"],
        &post,
    );
    assert!(o.status.code().is_some_and(|c| c < 2), "{}", stderr(&o));
    assert!(web.hits("/hostile-fetch/bomb.css") >= 1);
    assert_small(peak, &o);
}

#[test]
fn a_web_archive_that_answers_with_a_bomb_costs_one_line_and_no_memory() {
    let web = Web::on("127.0.0.33");
    let archive = hostile::bomb_everything_on("127.0.0.34");
    let dir = Dir::new();
    let post = post_citing(&dir, &[web.url("/gone404")]);
    let (o, peak) = run_on(
        &dir,
        &[
            "check",
            "--no-store",
            "--format",
            "json",
            "--memento-endpoint",
            &format!("http://{}/gate/", archive.addr),
        ],
        &post,
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(json(&o)["citations"][0]["verdict"], "dead");
    assert!(stderr(&o).contains("Memento TimeGate"), "{}", stderr(&o));
    assert_small(peak, &o);
}

#[test]
fn a_post_or_sitemap_given_by_url_that_is_a_bomb_is_refused_at_the_input_cap() {
    let host = hostile::bomb_everything_on("127.0.0.35");
    for path in ["/2010/post.html", "/sitemap.xml"] {
        let dir = Dir::new();
        let mut cmd = dir
            .citeguard(["collect", "--max-file-size", "8388608"])
            .command();
        cmd.arg(format!("http://{}{path}", host.addr));
        let (o, peak) = run_measured(cmd);
        assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
        assert!(
            stderr(&o).contains("input size limit"),
            "{path}: {}",
            stderr(&o)
        );
        assert_small(peak, &o);
    }
}

#[test]
fn a_cited_page_nested_100000_deep_is_parsed_only_as_far_as_is_cheap_and_says_so() {
    let web = Web::on("127.0.0.36");
    let url = web.url("/hostile-fetch/deep");
    let dir = Dir::new();
    let post = post_citing(&dir, std::slice::from_ref(&url));
    let (o, _) = run_on(
        &dir,
        &["check", "--timeout", "5", "--format", "json"],
        &post,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let row = &json(&o)["citations"][0];
    assert_eq!(row["verdict"], "ok", "{row:#}");
    let detail = row["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("nested more than 512 levels deep"),
        "{row:#}"
    );
    // The offline copy is rendered from the same cut.
    let mut cmd = dir.citeguard(["show", "--as", "html", &url]).command();
    cmd.current_dir(dir.path());
    let (o, _) = run_measured(cmd);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("The start of a page"), "{}", stdout(&o));
}

#[test]
fn time_flags_that_are_not_finite_negative_or_over_a_day_are_usage_errors() {
    let dir = Dir::new();
    let post = post_citing(&dir, &["http://127.0.0.1:9/".to_string()]);
    for (flag, value) in [
        ("--timeout", "inf"),
        ("--timeout", "1e30"),
        ("--timeout", "NaN"),
        ("--timeout", "0"),
        ("--connect-timeout", "1e300"),
        ("--connect-timeout", "-1"),
        ("--max-retry-wait", "inf"),
        ("--max-retry-wait", "86401"),
        ("--host-delay", "100000000000"),
    ] {
        let o = dir.run([
            "check".as_ref(),
            format!("{flag}={value}").as_ref(),
            post.as_os_str(),
        ]);
        assert_eq!(o.status.code(), Some(2), "{flag} {value}: {}", stderr(&o));
        assert!(stderr(&o).contains(flag), "{flag} {value}: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    }
    // The same settings in citeguard.toml are refused the same way.
    for key in [
        "timeout_secs = inf",
        "connect_timeout_secs = 1e300",
        "max_retry_wait_secs = inf",
    ] {
        dir.write("citeguard.toml", format!("[fetch]\n{key}\n"));
        let o = dir.run(["check".as_ref(), post.as_os_str()]);
        assert_eq!(o.status.code(), Some(2), "{key}: {}", stderr(&o));
        let name = key.split(' ').next().unwrap();
        assert!(stderr(&o).contains(name), "{key}: {}", stderr(&o));
    }
}

#[test]
fn a_source_that_always_answers_503_ends_the_run_after_its_retries() {
    let web = Web::on("127.0.0.37");
    let dir = Dir::new();
    let post = post_citing(&dir, &[web.url("/always503")]);
    let (o, _) = run_on(
        &dir,
        &[
            "check",
            "--no-store",
            "--format",
            "json",
            "--retries",
            "2",
            "--max-retry-wait",
            "0.2",
        ],
        &post,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let row = &json(&o)["citations"][0];
    assert_eq!(
        (row["verdict"].as_str(), row["reason"].as_str()),
        (Some("unreachable"), Some("http-5xx"))
    );
    assert_eq!(web.hits("/always503"), 3);
}

async fn fetch(url: &str) -> Fetched {
    let fetcher = Fetcher::new(&fast_config(), None).unwrap();
    fetcher.fetch(&Job::new(url)).await
}

fn verdict_of(f: &Fetched) -> (Verdict, Reason) {
    (f.check.verdict, f.check.reason)
}

#[tokio::test]
async fn a_number_in_a_title_that_is_no_status_is_not_a_soft_404() {
    let web = Web::on("127.0.0.38");
    for path in ["/hostile-fetch/area-code", "/hostile-fetch/commit"] {
        let f = fetch(&web.url(path)).await;
        assert_eq!(
            verdict_of(&f),
            (Verdict::Ok, Reason::Ok),
            "{path}: {:#?}",
            f.check
        );
    }
}

#[tokio::test]
async fn a_redirect_to_another_scheme_is_dead_with_its_own_reason_and_not_retried() {
    let web = Web::on("127.0.0.39");
    for (path, scheme) in [
        ("/hostile-fetch/to-file", "file"),
        ("/hostile-fetch/to-data", "data"),
        ("/hostile-fetch/to-ftp", "ftp"),
        ("/hostile-fetch/to-mailto", "mailto"),
    ] {
        let f = fetch(&web.url(path)).await;
        assert_eq!(
            verdict_of(&f),
            (Verdict::Dead, Reason::RedirectScheme),
            "{path}: {:#?}",
            f.check
        );
        let detail = f.check.detail.as_deref().unwrap_or_default();
        assert!(detail.contains(&format!("{scheme}:")), "{detail}");
        assert_eq!(f.check.redirects.len(), 1);
        assert_eq!(web.hits(path), 1, "{path} was retried");
    }
}

#[tokio::test]
async fn a_status_no_http_defines_is_named_as_such() {
    let web = Web::on("127.0.0.40");
    let f = fetch(&web.url("/hostile-fetch/status999")).await;
    assert_eq!(f.check.status, Some(999));
    assert_eq!(f.check.verdict, Verdict::Unreachable);
    assert_eq!(
        f.check.detail.as_deref(),
        Some("status 999 is not an HTTP status"),
        "{:#?}",
        f.check
    );
}

#[tokio::test]
async fn a_url_longer_than_8_kib_is_skipped_as_too_long_without_a_request() {
    let web = Web::on("127.0.0.41");
    let long = web.url(&format!("/ok?q={}", "a".repeat(100 * 1024)));
    let f = fetch(&long).await;
    assert_eq!(
        verdict_of(&f),
        (Verdict::Skipped, Reason::UrlTooLong),
        "{:#?}",
        f.check.detail
    );
    assert!(
        f.check
            .detail
            .as_deref()
            .unwrap_or_default()
            .contains("101 KiB")
    );
    assert_eq!(web.requests(), 0);
}

#[test]
fn a_link_with_a_port_out_of_range_is_an_invalid_url_not_an_unlinked_attribution() {
    let dir = Dir::new();
    let post = dir.write(
        "post.html",
        "<html><body><article><p>According to <a href=\"http://127.0.0.1:99999/story\">the wire</a>, it happened.</p></article></body></html>",
    );
    let o = dir.run([
        "check".as_ref(),
        "--no-store".as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
        post.as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let report = json(&o);
    let rows = report["citations"].as_array().unwrap();
    let row = rows
        .iter()
        .find(|r| r["text"] == "the wire")
        .unwrap_or_else(|| panic!("{report:#}"));
    assert_eq!(
        (row["verdict"].as_str(), row["reason"].as_str()),
        (Some("missing"), Some("invalid-url")),
        "{row:#}"
    );
    assert!(
        row["detail"].as_str().unwrap_or_default().contains("port"),
        "{row:#}"
    );
}

/// A config that treats `public` (a loopback address of the test web) as
/// a public address, as if the host were on the internet.
fn public_config(public: &Web) -> citeguard::config::Config {
    let mut c = fast_config();
    c.fetch.public_addresses = vec![public.addr.ip()];
    c
}

#[tokio::test]
async fn a_redirect_from_a_public_page_into_a_private_network_is_refused_with_its_reason() {
    let public = Web::on("127.0.0.50");
    let private = Web::on("127.0.0.51");
    let mut config = public_config(&public);
    // By address, and by a name that resolves to the private address.
    config
        .fetch
        .resolve
        .insert("intranet.test".into(), private.addr.ip());
    let by_name = format!("http://intranet.test:{}/ok", private.addr.port());
    let fetcher = Fetcher::new(&config, None).unwrap();
    for target in [private.url("/ok"), by_name] {
        let url = public.url(&format!("/hostile-fetch/redirect-to?u={target}"));
        let f = fetcher.fetch(&Job::new(url)).await;
        assert_eq!(
            verdict_of(&f),
            (Verdict::Skipped, Reason::PrivateAddress),
            "{target}: {:#?}",
            f.check
        );
        let detail = f.check.detail.clone().unwrap_or_default();
        assert!(detail.contains("loopback"), "{detail}");
        assert!(detail.contains("--allow-private"), "{detail}");
        assert!(f.body.is_none());
    }
    assert_eq!(private.requests(), 0, "the private host was reached");

    // With --allow-private the redirect is followed.
    config.fetch.allow_private = true;
    let fetcher = Fetcher::new(&config, None).unwrap();
    let url = public.url(&format!(
        "/hostile-fetch/redirect-to?u={}",
        private.url("/ok")
    ));
    let f = fetcher.fetch(&Job::new(url)).await;
    assert_eq!(verdict_of(&f), (Verdict::Ok, Reason::Ok), "{:#?}", f.check);
    assert_eq!(private.hits("/ok"), 1);
}

#[tokio::test]
async fn a_cited_source_on_a_private_address_may_redirect_within_its_network() {
    let cited = Web::on("127.0.0.52");
    let other = Web::on("127.0.0.53");
    let fetcher = Fetcher::new(&fast_config(), None).unwrap();
    let url = cited.url(&format!(
        "/hostile-fetch/redirect-to?u={}",
        other.url("/ok")
    ));
    let f = fetcher.fetch(&Job::new(url)).await;
    assert_eq!(verdict_of(&f), (Verdict::Ok, Reason::Ok), "{:#?}", f.check);
    assert_eq!(f.reach, citeguard::fetch::Reach::Any);
}

#[test]
fn a_public_page_cannot_make_citeguard_fetch_or_inline_a_style_sheet_on_a_private_address() {
    let public = Web::on("127.0.0.54");
    let private = Web::on("127.0.0.55");
    let intranet = Web::on("127.0.0.56");
    let secret = |web: &Web| web.url("/hostile-fetch/secret.css");
    let by_name = format!(
        "http://styles.test:{}/hostile-fetch/secret.css",
        private.addr.port()
    );
    let pages = [
        // A public page asks for an internal style sheet by address...
        public.url(&format!("/hostile-fetch/links-to?u={}", secret(&private))),
        // ...and by a name that resolves to the internal address.
        public.url(&format!("/hostile-fetch/links-to?u={by_name}")),
    ];
    let dir = Dir::new();
    dir.write(
        "citeguard.toml",
        format!("[fetch]\npublic_addresses = [\"{}\"]\n", public.addr.ip()),
    );
    let post = post_citing(&dir, &pages);
    let resolve = format!("styles.test:{}", private.addr.ip());
    let (o, _) = run_on(
        &dir,
        &["check", "--format", "json", "--resolve", &resolve],
        &post,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for row in json(&o)["citations"].as_array().unwrap() {
        assert_eq!(row["verdict"], "ok", "{row:#}");
    }
    assert_eq!(private.requests(), 0, "the private host was reached");
    for page in &pages {
        let o = dir.run(["show", "--as", "html", page.as_str()]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(!stdout(&o).contains(hostile::SECRET), "inlined for {page}");
    }
    let mut stored = Vec::new();
    collect_files(&dir.join("snapshots/objects"), &mut stored);
    for file in stored {
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(hostile::SECRET),
            "{} holds the internal style sheet",
            file.display()
        );
    }

    // A cited page on a private network keeps its requisites there.
    let inside = intranet.url(&format!("/hostile-fetch/links-to?u={}", secret(&private)));
    let post = post_citing(&dir, std::slice::from_ref(&inside));
    let o = dir.run(["check".as_ref(), "--no-store".as_ref(), post.as_os_str()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = dir.run([
        "check".as_ref(),
        "--store".as_ref(),
        "intranet".as_ref(),
        post.as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(private.hits("/hostile-fetch/secret.css"), 1);

    // And --allow-private lets a public page's requisites through.
    let post = post_citing(&dir, &pages[..1]);
    let o = dir.run([
        "check".as_ref(),
        "--allow-private".as_ref(),
        "--store".as_ref(),
        "allowed".as_ref(),
        post.as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(private.hits("/hostile-fetch/secret.css"), 2);
}

fn collect_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_files(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn the_input_size_cap_takes_the_same_sizes_as_the_body_cap() {
    let dir = Dir::new();
    let big = dir.write("big.html", "<p>x</p>".repeat(1000));
    let collect = |size: &str| {
        dir.run([
            "collect".as_ref(),
            "--max-file-size".as_ref(),
            size.as_ref(),
            big.as_os_str(),
        ])
    };
    let o = collect("1G");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = collect("2K");
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(
        stderr(&o).contains("over the 2.0 KB input size limit"),
        "{}",
        stderr(&o)
    );
}
