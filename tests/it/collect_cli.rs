//! `citeguard collect` as a user runs it: the built binary, its stdout,
//! stderr and exit code; bad inputs that must each give one clear line while
//! the rest is still collected; and http(s) inputs served by the blog of
//! the test web.

use crate::util::{Dir, fixture, json_lines, root, stderr, stdout};
use crate::web::{Web, blog, nothing_listening_on};

/// A fixture's path, as an argument.
fn post(name: &str) -> String {
    fixture(name).display().to_string()
}

#[test]
fn collect_examples_prints_each_posts_citations_and_marks_the_unlinked_ones() {
    let dir = Dir::new();
    let examples = root().join("examples").display().to_string();
    let o = dir.run(["collect", &examples]);
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
    let dir = Dir::new();
    let o = dir.run([
        "collect",
        "--format",
        "json",
        &post("seed.txt"),
        &post("hugo.html"),
    ]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    let cites = v["citations"].as_array().unwrap();
    // The seed's unlinked citations less its photo credit ("Pic: Mirzo
    // Jaga.", a credit, not an attribution), and the Hugo post's three.
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

    let empty = dir.run(["collect", "--format", "json", &post("essay.txt")]);
    let v: serde_json::Value =
        serde_json::from_slice(&empty.stdout).expect("valid JSON with no citations");
    assert_eq!(v["citations"].as_array().unwrap().len(), 0);
}

#[test]
fn jsonl_output_is_one_citation_a_line_and_output_goes_to_the_named_file() {
    let dir = Dir::new();
    let file = dir.path().join("out.jsonl");
    let o = dir.run([
        "collect",
        "--format",
        "jsonl",
        "--output",
        file.to_str().unwrap(),
        &post("wordpress.html"),
    ]);
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
    let dir = Dir::new();
    let o = dir
        .citeguard(["collect", "--format", "jsonl", "-"])
        .stdin(b"Read this: https://example.org/report.pdf today.\n")
        .run();
    assert_eq!(o.status.code(), Some(0));
    let c: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(c["post"], "-");
    assert_eq!(c["kind"], "bare-url");
    assert_eq!(c["url"], "https://example.org/report.pdf");
}

#[test]
fn each_bad_input_gives_one_line_naming_it_and_the_rest_is_still_collected() {
    let dir = Dir::new();
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
        "<html><body><article><p>Unclosed <b>bold, <a href=\"https://ok.example/a\">link</a> <div><p>and, as the ministry said on Monday in a long statement, <a href='https://ok.example/b'>another</a>\n<table><td>The figures come from the agency's yearly report: <a href=https://ok.example/c>c</table></i></b>",
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
    let o = dir.run([
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
    ]);
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

    let cites = json_lines(&o);
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
    let dir = Dir::new();
    dir.write("citeguard.toml", "[collect]\nmax_file_size = 100\n");
    let o = dir.run(["collect", &post("hugo.html")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("100 bytes input size limit"),
        "{}",
        stderr(&o)
    );
    // The flag wins over the file.
    let o = dir.run(["collect", "--max-file-size", "1000000", &post("hugo.html")]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn a_bad_content_selector_is_a_usage_error() {
    let dir = Dir::new();
    let o = dir.run(["collect", "--content-selector", "div[[", &post("hugo.html")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--content-selector"), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
}

#[test]
fn a_post_url_is_fetched_and_its_final_url_is_the_base_for_relative_links() {
    let web = Web::on("127.0.0.1");
    let dir = Dir::new();
    let url = web.url("/old-post");
    let o = dir.run(["collect", "--format", "jsonl", &url]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let cites = json_lines(&o);
    assert_eq!(cites.len(), 2, "{cites:?}");
    assert_eq!(cites[0]["post"], url.as_str(), "the post is named as given");
    assert_eq!(cites[0]["url"], web.url("/2010/figures/table.html"));
    assert_eq!(cites[1]["kind"], "unlinked");
    assert_eq!(cites[1]["text"], "(Reuters)");
}

#[test]
fn a_feed_url_gives_its_items_and_a_charset_header_is_honoured() {
    let web = Web::on("127.0.0.1");
    let dir = Dir::new();
    let feed = web.url("/feed");
    let latin = web.url("/latin.html");
    let o = dir.run(["collect", "--format", "jsonl", &feed, &latin]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let cites = json_lines(&o);
    assert_eq!(cites[0]["post"], web.url("/2010/08/post.html"));
    assert_eq!(cites[0]["url"], web.url("/cited"));
    assert_eq!(cites[1]["text"], "café");
}

#[test]
fn a_sitemap_lists_posts_that_are_fetched_and_a_dead_one_is_reported() {
    let web = Web::on("127.0.0.1");
    let dir = Dir::new();
    // A local sitemap file listing posts on the test server.
    let sitemap = dir.write("sitemap.xml", blog::sitemap(&web.base()));
    let o = dir.run(["collect", "--format", "jsonl", sitemap.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&web.url("/gone.html")) && err.contains("HTTP 404"),
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
    assert!(posts.contains(&web.url("/2010/08/post.html")));
    assert!(posts.contains(&web.url("/latin.html")));
}

#[test]
fn a_refused_connection_is_one_line_naming_the_url() {
    let addr = nothing_listening_on("127.0.0.1");
    let dir = Dir::new();
    let url = format!("http://{addr}/post");
    let o = dir.run(["collect", &url, &post("essay.txt")]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(&url), "{err}");
    assert!(stdout(&o).contains("essay.txt"));
}

#[test]
fn collecting_a_url_from_inside_an_async_runtime_does_not_panic() {
    let web = Web::on("127.0.0.1");
    let url = web.url("/2010/08/post.html");
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
