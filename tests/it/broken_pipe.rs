//! A reader that stops early (`citeguard check … | head -1`) ends every
//! command quietly, with the exit code it would have had.
//!
//! Each run gets a stdout pipe whose reader is closed before the command
//! writes (closed before the process starts, or after one line of an
//! output much larger than a pipe holds), so every write after that meets
//! a closed pipe: no test depends on timing.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::util::{Citeguard, stderr};
use crate::web::Web;

fn citeguard(args: &[&str], dir: &Path) -> Command {
    let mut cmd = Citeguard::new(dir, args).command();
    cmd.stderr(Stdio::piped());
    cmd
}

/// Runs with stdout a pipe that nobody reads from.
fn with_closed_stdout(args: &[&str], dir: &Path) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    citeguard(args, dir)
        .stdout(writer)
        .spawn()
        .unwrap()
        .wait_with_output()
        .unwrap()
}

/// Runs as a reader would that stops after the first line: stdout is read
/// up to one newline, then closed.
fn like_head_1(args: &[&str], dir: &Path) -> (String, Output) {
    let mut child = citeguard(args, dir).stdout(Stdio::piped()).spawn().unwrap();
    let mut first = String::new();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    stdout.read_line(&mut first).unwrap();
    drop(stdout);
    // Drain stderr while waiting, so the child never blocks on it.
    let mut err = Vec::new();
    child.stderr.take().unwrap().read_to_end(&mut err).unwrap();
    let mut out = child.wait_with_output().unwrap();
    out.stderr = err;
    (first, out)
}

/// The same command with stdout read to the end.
fn read_to_the_end(args: &[&str], dir: &Path) -> Output {
    citeguard(args, dir).output().unwrap()
}

fn assert_quiet(out: &Output) {
    let err = stderr(out);
    assert!(
        !err.to_lowercase().contains("pipe") && !err.contains("panicked"),
        "a closed stdout is not an error: {err}"
    );
}

/// The same exit code as when the whole output is read, and nothing said
/// about the pipe.
fn assert_ends_as_it_would_have(args: &[&str], dir: &Path) -> Output {
    let whole = read_to_the_end(args, dir);
    let cut = with_closed_stdout(args, dir);
    assert_quiet(&cut);
    assert_eq!(
        cut.status.code(),
        whole.status.code(),
        "{args:?} with stdout closed; stderr: {}",
        stderr(&cut)
    );
    cut
}

fn write_post(dir: &Path, name: &str, links: &[String]) {
    let items: String = links
        .iter()
        .map(|u| format!("<p>As <a href=\"{u}\">this report</a> says, it happened.</p>\n"))
        .collect();
    let html = format!(
        "<!doctype html><html><body><article>\n{items}<p>According to Reuters, more arrests followed on Monday.</p>\n</article></body></html>\n"
    );
    std::fs::write(dir.join(name), html).unwrap();
}

#[test]
fn collect_ends_quietly_when_the_reader_stops_after_one_line() {
    let dir = tempfile::tempdir().unwrap();
    // Far more than a pipe holds, so the reader closes it mid-output.
    let links: Vec<String> = (0..20_000)
        .map(|i| format!("https://example.org/story/{i}"))
        .collect();
    write_post(dir.path(), "post.html", &links);
    let (first, out) = like_head_1(&["collect", "post.html"], dir.path());
    assert!(first.starts_with("post.html"), "first line: {first}");
    assert_quiet(&out);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
}

#[test]
fn collect_with_a_failed_input_still_exits_2_when_stdout_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    write_post(dir.path(), "post.html", &[]);
    let out = assert_ends_as_it_would_have(&["collect", "post.html", "gone.html"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("gone.html"), "{}", stderr(&out));
}

#[test]
fn check_that_flags_still_exits_1_when_stdout_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    // An unlinked citation: `missing`, flagged, with no network at all.
    write_post(dir.path(), "post.html", &[]);
    let args = ["check", "--no-store", "--no-memento", "post.html"];
    let out = assert_ends_as_it_would_have(&args, dir.path());
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(&out));
    let out = assert_ends_as_it_would_have(
        &[
            "check",
            "--no-store",
            "--no-memento",
            "--format",
            "json",
            "post.html",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn check_with_a_failed_input_still_exits_2_when_stdout_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    write_post(dir.path(), "post.html", &[]);
    let args = [
        "check",
        "--no-store",
        "--no-memento",
        "post.html",
        "gone.html",
    ];
    let out = assert_ends_as_it_would_have(&args, dir.path());
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn store_commands_end_quietly_with_their_own_exit_codes() {
    let web = Web::on("127.0.0.90");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    let (ok, gone) = (web.url("/ok"), web.url("/gone404"));
    write_post(&d, "post.html", &[ok.clone(), gone]);
    {
        let first = with_closed_stdout(
            &["check", "--no-memento", "--retries", "0", "post.html"],
            &d,
        );
        assert_quiet(&first);
        assert_eq!(first.status.code(), Some(1), "stderr: {}", stderr(&first));
        // The run was kept whole although nobody read its report.
        assert_ends_as_it_would_have(&["report"], &d);
        assert_ends_as_it_would_have(&["report", "--format", "html"], &d);
        assert_ends_as_it_would_have(&["verify"], &d);
        assert_ends_as_it_would_have(&["diff", &ok], &d);
        assert_ends_as_it_would_have(&["show", &ok], &d);
        assert_ends_as_it_would_have(&["show", &ok, "--as", "html"], &d);
        assert_ends_as_it_would_have(&["show", &ok, "--as", "raw"], &d);
        let accept = assert_ends_as_it_would_have(&["accept", &ok], &d);
        assert_eq!(accept.status.code(), Some(0), "stderr: {}", stderr(&accept));
        // An error is still an error, and still said.
        let missing = with_closed_stdout(&["show", "https://nowhere.example/"], &d);
        assert_eq!(missing.status.code(), Some(2));
        assert!(
            stderr(&missing).contains("not in the store"),
            "{}",
            stderr(&missing)
        );
    }
}
