//! The fetcher against a hostile web (servers on 127.0.0.x, see
//! `web::hostile`): every byte read from the network is capped after
//! decompression, no parse of a fetched page runs unbounded, nothing is
//! fetched from a private address on a public page's say-so, no flag value
//! hangs or panics a run, and every reason says what happened.

use std::io::Read;
use std::process::{Command, Output, Stdio};

use crate::util::{Dir, json, stderr, stdout};
use crate::web::Web;
use crate::web::hostile::{self, BOMB_MIB};

/// Peak memory a run may reach with a bomb in front of it: generous for a
/// debug build, and a small fraction of what the bombs inflate to.
const PEAK_MIB: u64 = 256;

/// Runs a command to its end and returns its output and its peak
/// resident memory in MiB, read from `wait4` for that one child (so other
/// tests' processes do not count).
// The child is reaped by `wait4`, which `Child` does not know about.
#[allow(clippy::zombie_processes)]
fn run_measured(mut cmd: Command) -> (Output, u64) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run citeguard");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut b = Vec::new();
        out.read_to_end(&mut b).unwrap();
        b
    });
    let err = std::thread::spawn(move || {
        let mut b = Vec::new();
        err.read_to_end(&mut b).unwrap();
        b
    });
    let mut status = 0;
    // SAFETY: plain libc call on our own child's pid; `usage` is written
    // by the kernel before it returns.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        let pid = libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage);
        assert_eq!(pid, child.id() as libc::pid_t, "wait4 failed");
        usage
    };
    use std::os::unix::process::ExitStatusExt;
    let output = Output {
        status: std::process::ExitStatus::from_raw(status),
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    };
    // ru_maxrss is in KiB on Linux.
    (output, usage.ru_maxrss as u64 / 1024)
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
    let dir = Dir::new();
    let post = post_citing(&dir, &[format!("http://{}/article", host.addr)]);
    let cmd = dir
        .citeguard(["check", "--no-store", "--format", "json"])
        .command();
    let mut cmd = cmd;
    cmd.arg(&post);
    let (o, peak) = run_measured(cmd);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(json(&o)["citations"][0]["verdict"], "ok");
    assert_small(peak, &o);
}

#[test]
fn a_gzip_bomb_where_the_soft_404_probe_looks_is_read_no_further_than_its_cap() {
    let host = hostile::bomb_everything_on("127.0.0.31");
    let dir = Dir::new();
    let post = post_citing(&dir, &[format!("http://{}/article", host.addr)]);
    let mut cmd = dir
        .citeguard(["check", "--no-store", "--format", "json"])
        .command();
    cmd.arg(&post);
    let (o, peak) = run_measured(cmd);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(json(&o)["citations"][0]["verdict"], "ok");
    assert_small(peak, &o);
}

#[test]
fn bombs_as_page_requisites_and_as_a_cited_page_are_cut_at_the_body_cap() {
    let web = Web::on("127.0.0.32");
    let bomb_css = web.url("/hostile/bomb.css");
    let dir = Dir::new();
    let post = post_citing(
        &dir,
        &[
            web.url(&format!("/hostile/links-to?u={bomb_css}")),
            web.url("/hostile/bomb.html"),
        ],
    );
    let mut cmd = dir
        .citeguard(["check", "--max-body", "4M", "--format", "json"])
        .command();
    cmd.arg(&post);
    let (o, peak) = run_measured(cmd);
    assert!(o.status.code().is_some_and(|c| c < 2), "{}", stderr(&o));
    assert!(web.hits("/hostile/bomb.css") >= 1);
    assert_small(peak, &o);
}

#[test]
fn a_web_archive_that_answers_with_a_bomb_costs_one_line_and_no_memory() {
    let web = Web::on("127.0.0.33");
    let archive = hostile::bomb_everything_on("127.0.0.34");
    let dir = Dir::new();
    let post = post_citing(&dir, &[web.url("/gone404")]);
    let mut cmd = dir
        .citeguard([
            "check",
            "--no-store",
            "--format",
            "json",
            "--memento-endpoint",
            &format!("http://{}/gate/", archive.addr),
        ])
        .command();
    cmd.arg(&post);
    let (o, peak) = run_measured(cmd);
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
