//! `citeguard collect` as a user runs it: the built binary, its stdout,
//! stderr and exit code; bad inputs that must each give one clear line while
//! the rest is still collected; and http(s) inputs served by a tiny HTTP
//! server on 127.0.0.1 in this file.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn citeguard(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_citeguard"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run citeguard")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(name: &str) -> String {
    root()
        .join("tests/fixtures/collect")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn collect_examples_prints_each_posts_citations_and_marks_the_unlinked_ones() {
    let dir = tempfile::tempdir().unwrap();
    let examples = root().join("examples").display().to_string();
    let o = citeguard(&["collect", &examples], dir.path());
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    for expected in [
        "prison-breaks-ieds-and-speculation-in-tajikistan.html",
        "http://www.nytimes.com/2010/08/24/world/asia/24tajik.html",
        "http://www.eurasianet.org/node/61797",
        "http://tajikistanmonitor.blogspot.com/",
        "http://www.google.com/hostednews/afp/",
        "http://www.ferghana.ru/photo.php?id=4817",
        "reported by",
        "!! MISSING: no link",
        "!! MISSING: empty link (href=\"\")",
        "quote: “On August 22 there were shootings",
        "2010-09-02-rogun-dam-reading-list.md",
        "http://registan.net/index.php/2010/08/30/rogun/",
        "2 posts, ",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    // The blogroll, share buttons and the "bloggers like this" widget are chrome.
    for chrome in [
        "registan.net/\n",
        "?share=twitter",
        "gravatar",
        "wp-login.php",
        "rferl.org/content/Tajik_Prison_Break",
    ] {
        assert!(!out.contains(chrome), "chrome {chrome:?} in:\n{out}");
    }
}

#[test]
fn json_output_is_a_citations_array_with_the_contract_fields() {
    let dir = tempfile::tempdir().unwrap();
    let o = citeguard(
        &[
            "collect",
            "--format",
            "json",
            &fixture("seed.txt"),
            &fixture("hugo.html"),
        ],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    let cites = v["citations"].as_array().unwrap();
    assert_eq!(cites.len(), 5 + 3);
    let first = &cites[0];
    assert!(first["post"].as_str().unwrap().ends_with("seed.txt"));
    assert_eq!(first["line"], 5);
    assert_eq!(first["url"], serde_json::Value::Null);
    assert_eq!(first["text"], "(NYT,, Eurasianet)");
    assert_eq!(first["kind"], "unlinked");
    assert!(
        first["context"]
            .as_str()
            .unwrap()
            .starts_with("There was recently")
    );
    assert!(
        cites[1]["quote"]
            .as_str()
            .unwrap()
            .starts_with("On August 22")
    );
    assert_eq!(cites[5]["kind"], "link");
    assert_eq!(
        cites[5]["url"],
        "https://peacemaker.un.org/tajikistan-generalagreement97"
    );

    let empty = citeguard(
        &["collect", "--format", "json", &fixture("essay.txt")],
        dir.path(),
    );
    let v: serde_json::Value =
        serde_json::from_slice(&empty.stdout).expect("valid JSON with no citations");
    assert_eq!(v["citations"].as_array().unwrap().len(), 0);
}

#[test]
fn jsonl_output_is_one_citation_a_line_and_output_goes_to_the_named_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.jsonl");
    let o = citeguard(
        &[
            "collect",
            "--format",
            "jsonl",
            "--output",
            file.to_str().unwrap(),
            &fixture("wordpress.html"),
        ],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stdout.is_empty());
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 13);
    assert!(
        lines
            .iter()
            .all(|c| c["post"].as_str().unwrap().ends_with("wordpress.html"))
    );
}

#[test]
fn stdin_is_read_when_the_input_is_a_dash() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_citeguard"))
        .args(["collect", "--format", "jsonl", "-"])
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"Read this: https://example.org/report.pdf today.\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    let c: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(c["post"], "-");
    assert_eq!(c["kind"], "bare-url");
    assert_eq!(c["url"], "https://example.org/report.pdf");
}

#[test]
fn each_bad_input_gives_one_line_naming_it_and_the_rest_is_still_collected() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A binary file, a feed that is not XML, an unreadable (missing) file,
    // an oversized file (sparse: nothing is written, nothing is read).
    std::fs::write(d.join("photo.html"), b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0").unwrap();
    std::fs::write(d.join("feed.xml"), b"{\"items\": []}").unwrap();
    let big = std::fs::File::create(d.join("huge.html")).unwrap();
    big.set_len(500 * 1024 * 1024).unwrap();
    drop(big);
    // Malformed HTML is still read as a browser would read it.
    std::fs::write(
        d.join("broken.html"),
        "<html><body><article><p>Unclosed <a href=\"https://ok.example/a\">link <div><p>and <a href='https://ok.example/b'>another</a>\n<table><td><a href=https://ok.example/c>c</table></i></b>",
    )
    .unwrap();
    // A Windows-1252 page that says so, and one that does not.
    std::fs::write(
        d.join("latin.html"),
        b"<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1252\"></head><body><article><p>\x93Caf\xe9\x94 <a href=\"https://cafe.example/\">caf\xe9</a></p></article></body></html>",
    )
    .unwrap();
    std::fs::write(
        d.join("guess.txt"),
        b"Le caf\xe9 de la gare, d\xe9crit par https://gare.example/caf\xe9 est ferm\xe9 depuis longtemps, h\xe9las.",
    )
    .unwrap();
    let p = |n: &str| d.join(n).display().to_string();
    let o = citeguard(
        &[
            "collect",
            "--format",
            "jsonl",
            &p("photo.html"),
            &p("feed.xml"),
            &p("missing.html"),
            &p("huge.html"),
            &p("broken.html"),
            &p("latin.html"),
            &p("guess.txt"),
        ],
        d,
    );
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 4, "one line per bad input:\n{err}");
    assert!(
        lines[0].contains("photo.html") && lines[0].contains("binary") && lines[0].contains("PNG"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].contains("feed.xml") && lines[1].contains("not XML"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].contains("missing.html") && lines[2].contains("No such file"),
        "{}",
        lines[2]
    );
    assert!(
        lines[3].contains("huge.html")
            && lines[3].contains("500.0 MB")
            && lines[3].contains("limit"),
        "{}",
        lines[3]
    );
    assert!(!err.contains("panicked"));

    let cites: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut urls: Vec<&str> = cites.iter().filter_map(|c| c["url"].as_str()).collect();
    // A link left open across a block is reopened there, as browsers do.
    urls.dedup();
    assert_eq!(
        urls,
        vec![
            "https://ok.example/a",
            "https://ok.example/b",
            "https://ok.example/c",
            "https://cafe.example/",
            "https://gare.example/caf%C3%A9"
        ]
    );
    let latin = cites
        .iter()
        .find(|c| c["url"] == "https://cafe.example/")
        .unwrap();
    assert_eq!(latin["text"], "café");
    assert_eq!(latin["context"], "“Café” café");
}

#[test]
fn the_size_cap_is_configurable_in_citeguard_toml_and_by_flag() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("citeguard.toml"),
        "[collect]\nmax_file_size = 100\n",
    )
    .unwrap();
    let o = citeguard(&["collect", &fixture("hugo.html")], dir.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("100 bytes input size limit"),
        "{}",
        stderr(&o)
    );
    // The flag wins over the file.
    let o = citeguard(
        &[
            "collect",
            "--max-file-size",
            "1000000",
            &fixture("hugo.html"),
        ],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn a_bad_content_selector_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let o = citeguard(
        &[
            "collect",
            "--content-selector",
            "div[[",
            &fixture("hugo.html"),
        ],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--content-selector"), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
}

/// A response: status, headers, body.
type Reply = (u16, Vec<(String, String)>, Vec<u8>);
type Route = fn(&str, u16) -> Reply;

/// A tiny HTTP/1.1 server on 127.0.0.1: answers each request from `route`
/// (path → status, headers, body) and closes the connection.
fn serve(route: Route) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            std::thread::spawn(move || answer(stream, route, port));
        }
    });
    port
}

fn answer(mut stream: TcpStream, route: Route, port: u16) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
            break;
        }
    }
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_string();
    let (status, headers, body) = route(&path, port);
    let mut head = format!(
        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&body);
    let mut rest = Vec::new();
    let _ = reader.read_to_end(&mut rest);
}

fn site(path: &str, port: u16) -> Reply {
    let html = |b: &str| {
        vec![(
            "Content-Type".to_string(),
            format!("text/html; charset={b}"),
        )]
    };
    match path {
        "/old-post" => (301, vec![("Location".into(), "/2010/08/post.html".into())], Vec::new()),
        "/2010/08/post.html" => (
            200,
            html("utf-8"),
            b"<html><body><nav><a href=\"/\">Home</a></nav><article><p>See <a href=\"../figures/table.html\">the table</a>. Turbines were installed last week (Reuters).</p></article></body></html>".to_vec(),
        ),
        "/latin.html" => (
            200,
            html("iso-8859-1"),
            b"<article><p><a href=\"https://cafe.example/\">caf\xe9</a></p></article>".to_vec(),
        ),
        "/feed" => (
            200,
            vec![("Content-Type".into(), "application/rss+xml".into())],
            format!(
                "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><item><link>http://127.0.0.1:{port}/2010/08/post.html</link><description>&lt;a href=\"/cited\"&gt;cited&lt;/a&gt;</description></item></channel></rss>"
            )
            .into_bytes(),
        ),
        "/sitemap.xml" => (
            200,
            vec![("Content-Type".into(), "application/xml".into())],
            format!(
                "<?xml version=\"1.0\"?><urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\"><url><loc>http://127.0.0.1:{port}/2010/08/post.html</loc></url><url><loc>http://127.0.0.1:{port}/gone.html</loc></url><url><loc>http://127.0.0.1:{port}/latin.html</loc></url></urlset>"
            )
            .into_bytes(),
        ),
        _ => (404, html("utf-8"), b"<h1>Not Found</h1>".to_vec()),
    }
}

#[test]
fn a_post_url_is_fetched_and_its_final_url_is_the_base_for_relative_links() {
    let port = serve(site);
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{port}/old-post");
    let o = citeguard(&["collect", "--format", "jsonl", &url], dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let cites: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(cites.len(), 2, "{cites:?}");
    assert_eq!(cites[0]["post"], url.as_str(), "the post is named as given");
    assert_eq!(
        cites[0]["url"],
        format!("http://127.0.0.1:{port}/2010/figures/table.html")
    );
    assert_eq!(cites[1]["kind"], "unlinked");
    assert_eq!(cites[1]["text"], "(Reuters)");
}

#[test]
fn a_feed_url_gives_its_items_and_a_charset_header_is_honoured() {
    let port = serve(site);
    let dir = tempfile::tempdir().unwrap();
    let feed = format!("http://127.0.0.1:{port}/feed");
    let latin = format!("http://127.0.0.1:{port}/latin.html");
    let o = citeguard(&["collect", "--format", "jsonl", &feed, &latin], dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let cites: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        cites[0]["post"],
        format!("http://127.0.0.1:{port}/2010/08/post.html")
    );
    assert_eq!(cites[0]["url"], format!("http://127.0.0.1:{port}/cited"));
    assert_eq!(cites[1]["text"], "café");
}

#[test]
fn a_sitemap_lists_posts_that_are_fetched_and_a_dead_one_is_reported() {
    let port = serve(site);
    let dir = tempfile::tempdir().unwrap();
    // A local sitemap file listing posts on the test server.
    let body = site("/sitemap.xml", port).2;
    let sitemap = dir.path().join("sitemap.xml");
    std::fs::write(&sitemap, body).unwrap();
    let o = citeguard(
        &["collect", "--format", "jsonl", sitemap.to_str().unwrap()],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&format!("http://127.0.0.1:{port}/gone.html")) && err.contains("HTTP 404"),
        "{err}"
    );
    let posts: Vec<String> = stdout(&o)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["post"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(posts.contains(&format!("http://127.0.0.1:{port}/2010/08/post.html")));
    assert!(posts.contains(&format!("http://127.0.0.1:{port}/latin.html")));
}

#[test]
fn a_refused_connection_is_one_line_naming_the_url() {
    // Bind then drop: the port is free and nothing listens on it.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{port}/post");
    let o = citeguard(&["collect", &url, &fixture("essay.txt")], dir.path());
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(&url), "{err}");
    assert!(stdout(&o).contains("essay.txt"));
}

#[test]
fn collecting_a_url_from_inside_an_async_runtime_does_not_panic() {
    let port = serve(site);
    let url = format!("http://127.0.0.1:{port}/2010/08/post.html");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (posts, errors) = rt.block_on(async {
        citeguard::collect::collect_all(
            std::slice::from_ref(&url),
            &citeguard::collect::CollectConfig::default(),
        )
    });
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].base_url.as_deref(), Some(url.as_str()));
}
