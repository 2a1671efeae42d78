//! `citeguard collect` on the input the web and a file system really hold:
//! posts in any script, feeds whose entities sit beside curly quotes, FIFOs
//! and sockets among the posts, hostile file names, an output file that a
//! failed run must not empty.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::util::{Citeguard, stderr, stdout};

/// The binary with a deadline: a hang is a failure, not a test that never
/// ends.
fn citeguard(args: &[&str], cwd: &Path) -> Output {
    let mut child = Citeguard::new(cwd, args)
        .command()
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run citeguard");
    // A hang is a failure, not a test that never ends.
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("citeguard {args:?} did not finish in 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

fn jsonl(o: &Output) -> Vec<serde_json::Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

fn urls(cites: &[serde_json::Value]) -> Vec<String> {
    cites
        .iter()
        .filter_map(|c| c["url"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn posts_that_start_in_cyrillic_greek_cjk_hebrew_arabic_devanagari_or_thai_are_collected() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let posts = [
        (
            "ru.md",
            "# Привет мир\n\nСм. [отчёт](https://ru.example/a).",
        ),
        ("el.md", "Ελληνικά: https://el.example/b"),
        ("zh.txt", "中文的引用 https://zh.example/c 。"),
        ("he.md", "שלום [מקור](https://he.example/d)"),
        ("ar.txt", "مرحبا https://ar.example/e"),
        ("hi.md", "नमस्ते [स्रोत](https://hi.example/f)"),
        ("th.txt", "สวัสดี https://th.example/g"),
        ("ja", "日本語の記事 https://ja.example/h"),
    ];
    for (name, text) in posts {
        std::fs::write(d.join(name), text).unwrap();
    }
    let mut args = vec!["collect", "--format", "jsonl"];
    args.extend(posts.iter().map(|(n, _)| *n));
    let o = citeguard(&args, d);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        urls(&jsonl(&o)),
        [
            "https://ru.example/a",
            "https://el.example/b",
            "https://zh.example/c",
            "https://he.example/d",
            "https://ar.example/e",
            "https://hi.example/f",
            "https://th.example/g",
            "https://ja.example/h",
        ]
    );
}

#[test]
fn a_feed_whose_escaped_entities_sit_beside_curly_quotes_and_cjk_gives_every_item() {
    let dir = tempfile::tempdir().unwrap();
    let feed = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>t</title>
<item><link>https://blog.example/1</link><description>&lt;p&gt;&amp;“Quoted” &lt;a href="https://src.example/1"&gt;中文中文&lt;/a&gt;&lt;/p&gt;</description></item>
<item><link>https://blog.example/2</link><description>&lt;p&gt;He said&#8217;中文中文中文 &lt;a href="https://src.example/2"&gt;x&lt;/a&gt;&lt;/p&gt;</description></item>
</channel></rss>"#;
    std::fs::write(dir.path().join("feed.xml"), feed).unwrap();
    let o = citeguard(&["collect", "--format", "jsonl", "feed.xml"], dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        urls(&jsonl(&o)),
        ["https://src.example/1", "https://src.example/2"]
    );
}

#[cfg(unix)]
fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo")
        .success();
    assert!(ok, "mkfifo {}", path.display());
}

#[cfg(unix)]
#[test]
fn a_fifo_or_socket_among_the_posts_is_skipped_with_one_line_and_never_opened() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("posts")).unwrap();
    std::fs::write(d.join("posts/a.md"), "[a](https://a.example/)").unwrap();
    mkfifo(&d.join("posts/b.md"));
    let _socket = std::os::unix::net::UnixListener::bind(d.join("posts/c.html")).unwrap();
    std::fs::write(d.join("posts/d.md"), "[d](https://d.example/)").unwrap();
    mkfifo(&d.join("named.md"));

    let o = citeguard(&["collect", "--format", "jsonl", "posts", "named.md"], d);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(
        urls(&jsonl(&o)),
        ["https://a.example/", "https://d.example/"]
    );
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 3, "one line per skipped file:\n{err}");
    assert!(
        lines[0].contains("b.md") && lines[0].contains("FIFO"),
        "{err}"
    );
    assert!(
        lines[1].contains("c.html") && lines[1].contains("socket"),
        "{err}"
    );
    assert!(
        lines[2].contains("named.md") && lines[2].contains("FIFO"),
        "{err}"
    );
    assert!(lines.iter().all(|l| l.contains("skipped")), "{err}");
}

#[test]
fn max_file_size_takes_the_size_syntax_of_max_body() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("big.md"), "x".repeat(2000)).unwrap();
    std::fs::write(d.join("small.md"), "[s](https://s.example/)").unwrap();
    let o = citeguard(
        &["collect", "--max-file-size", "1k", "big.md", "small.md"],
        d,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("big.md"), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("1.0 KB input size limit"),
        "{}",
        stderr(&o)
    );
    assert!(stdout(&o).contains("https://s.example/"));
    for ok in ["2G", "500k", "64M", "1000"] {
        let o = citeguard(&["collect", "--max-file-size", ok, "small.md"], d);
        assert_eq!(o.status.code(), Some(0), "{ok}: {}", stderr(&o));
    }
    let o = citeguard(&["collect", "--max-file-size", "lots", "small.md"], d);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not a size"), "{}", stderr(&o));
}

#[cfg(unix)]
#[test]
fn hostile_file_names_are_escaped_on_stdout_and_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let names = [
        "evil\u{1b}[31mred.md",
        "two\nlines.md",
        "::warning file=x::pwned.md",
        "txt.\u{202e}dm.md",
    ];
    for n in names {
        std::fs::write(
            d.join(n),
            "[a](https://a.example/) https://b.example/\u{202e}x",
        )
        .unwrap();
    }
    let bad = "::error::gone\u{1b}.md";
    let mut args = vec!["collect"];
    args.extend(names);
    args.push(bad);
    let o = citeguard(&args, d);
    assert_eq!(o.status.code(), Some(2));
    for (what, text) in [("stdout", stdout(&o)), ("stderr", stderr(&o))] {
        assert!(!text.contains('\u{1b}'), "{what}: raw ESC\n{text}");
        assert!(!text.contains('\u{202e}'), "{what}: raw U+202E\n{text}");
        assert!(
            !text.lines().any(|l| l.trim_start().starts_with("::")),
            "{what}: a workflow command\n{text}"
        );
        assert!(
            !text.contains("two\nlines"),
            "{what}: a raw newline\n{text}"
        );
    }
    let out = stdout(&o);
    assert!(out.contains("evil\\x1b[31mred.md"), "{out}");
    assert!(out.contains("two\\nlines.md"), "{out}");
    assert!(out.contains("\\x3a:warning file=x::pwned.md"), "{out}");
    assert!(out.contains("txt.\\u{202e}dm.md"), "{out}");
    assert!(
        stderr(&o).contains("\\x3a:error::gone\\x1b.md"),
        "{}",
        stderr(&o)
    );

    // JSON keeps the exact name, escaped the JSON way.
    let o = citeguard(&["collect", "--format", "jsonl", names[3]], d);
    let line = stdout(&o);
    assert!(line.contains("\\u202e"), "{line}");
    assert_eq!(jsonl(&o)[0]["post"], names[3]);
}

#[cfg(unix)]
fn collect_from_stdin_into(dir: &Path, out: &str) -> std::process::Child {
    Citeguard::new(dir, ["collect", "--format", "jsonl", "-o", out, "-"])
        .command()
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[cfg(unix)]
#[test]
fn the_output_file_keeps_its_old_content_until_the_new_one_is_complete() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = d.join("citations.jsonl");
    let old = "the previous run\n";
    std::fs::write(&out, old).unwrap();
    // Collecting from stdin waits for it: meanwhile the old file stands.
    let mut child = collect_from_stdin_into(d, "citations.jsonl");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), old);
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"[new](https://new.example/)")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let now = std::fs::read_to_string(&out).unwrap();
    assert!(now.contains("https://new.example/"), "{now}");
    // Nothing of the temporary file is left beside it.
    let left = std::fs::read_dir(d).unwrap().count();
    assert_eq!(left, 1);

    // A run killed half way leaves the file whole.
    std::fs::write(&out, old).unwrap();
    let mut child = collect_from_stdin_into(d, "citations.jsonl");
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(std::fs::read_to_string(&out).unwrap(), old);

    // A stream is written in place, not replaced by a file.
    std::fs::write(d.join("p.md"), "[p](https://p.example/)").unwrap();
    let o = citeguard(&["collect", "-o", "/dev/stdout", "p.md"], d);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("https://p.example/"));
    assert!(
        std::fs::symlink_metadata("/dev/stdout")
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

/// Collects files written into a temporary directory, through the library.
fn collect_files(files: &[(&str, &str)]) -> (Vec<citeguard::collect::Post>, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let mut inputs = Vec::new();
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        inputs.push(path.display().to_string());
    }
    let (posts, errors) =
        citeguard::collect::collect_all(&inputs, &citeguard::config::CollectConfig::default());
    let errors = errors.iter().map(|e| e.to_string()).collect();
    (posts, errors)
}

fn post_urls(post: &citeguard::collect::Post) -> Vec<&str> {
    post.citations
        .iter()
        .filter_map(|c| c.url.as_deref())
        .collect()
}

#[test]
fn an_empty_content_encoded_does_not_hide_a_full_description() {
    let feed = r#"<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">
<channel><title>A podcast</title><link>https://pod.example/</link>
<item><title>Episode 1</title><link>https://pod.example/1</link>
<description>&lt;p&gt;Show notes: &lt;a href="https://paper.example/study"&gt;the study&lt;/a&gt;.&lt;/p&gt;</description>
<content:encoded><![CDATA[]]></content:encoded>
</item>
<item><title>Episode 2</title><link>https://pod.example/2</link>
<content:encoded><![CDATA[ <p> </p> ]]></content:encoded>
<itunes:summary>Notes &amp; links: https://book.example/isbn</itunes:summary>
</item>
<item><title>Episode 3</title><link>https://pod.example/3</link>
<description>A short teaser.</description>
<content:encoded><![CDATA[<p>Full notes, with <a href="https://full.example/">the source</a>.</p>]]></content:encoded>
</item>
</channel></rss>"#;
    let (posts, errors) = collect_files(&[("podcast.xml", feed)]);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(posts.len(), 3);
    assert_eq!(post_urls(&posts[0]), ["https://paper.example/study"]);
    assert_eq!(post_urls(&posts[1]), ["https://book.example/isbn"]);
    assert_eq!(post_urls(&posts[2]), ["https://full.example/"]);
}

#[test]
fn a_link_blog_entry_cites_the_page_it_links_to_and_its_quote_is_from_that_page() {
    let rss = r#"<rss version="2.0"><channel><title>Links</title><link>https://links.example/</link>
<item><title>The budget office on the deficit</title>
<link>https://news.example/2024/deficit</link>
<guid isPermaLink="true">https://links.example/2024/01/deficit</guid>
<description>&lt;p&gt;Worth reading in full:&lt;/p&gt;&lt;blockquote&gt;&lt;p&gt;The deficit will double by 2030.&lt;/p&gt;&lt;/blockquote&gt;&lt;p&gt;I agree.&lt;/p&gt;</description>
</item>
<item><title>A note without a quote</title>
<link>https://other.example/essay</link>
<guid isPermaLink="false">note-2</guid>
<description>&lt;p&gt;Nice essay.&lt;/p&gt;</description>
</item>
<item><title>My own post</title>
<link>https://links.example/2024/01/own</link>
<description>&lt;p&gt;Nothing cited.&lt;/p&gt;</description>
</item>
</channel></rss>"#;
    let (posts, errors) = collect_files(&[("links.xml", rss)]);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(posts.len(), 3);

    // Named by its permalink, not by the page it links to.
    let p = &posts[0];
    assert_eq!(p.name, "https://links.example/2024/01/deficit");
    let quoted: Vec<_> = p.citations.iter().filter(|c| c.quote.is_some()).collect();
    assert_eq!(quoted.len(), 1, "{:#?}", p.citations);
    assert_eq!(
        quoted[0].url.as_deref(),
        Some("https://news.example/2024/deficit")
    );
    assert_eq!(
        quoted[0].quote.as_deref(),
        Some("The deficit will double by 2030.")
    );
    assert!(
        !p.citations.iter().any(|c| c.url.is_none()),
        "the quote is not unlinked: {:#?}",
        p.citations
    );

    // No permalink: named by the feed and its guid; the linked page is
    // cited under the entry's title.
    let p = &posts[1];
    assert!(p.name.ends_with("links.xml#note-2"), "{}", p.name);
    assert_eq!(post_urls(p), ["https://other.example/essay"]);
    assert_eq!(p.citations[0].text, "A note without a quote");

    // An entry on the site itself cites nothing it does not link.
    assert_eq!(posts[2].name, "https://links.example/2024/01/own");
    assert!(posts[2].citations.is_empty(), "{:#?}", posts[2].citations);
}

#[test]
fn an_atom_link_blog_entry_tells_its_permalink_from_the_page_it_links_to() {
    let atom = r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>DF-like</title>
<link rel="alternate" href="https://fireball.example/"/>
<link rel="self" href="https://fireball.example/feeds/main"/>
<entry><title>The Verge on phones</title>
<link rel="alternate" type="text/html" href="https://www.verge.example/phones"/>
<link rel="shorturl" href="http://fb4.example/x"/>
<link rel="related" type="text/html" href="https://fireball.example/linked/2024/phones"/>
<id>tag:fireball.example,2024:/linked//6.1</id>
<content type="html">&lt;blockquote&gt;&lt;p&gt;Phones got bigger again.&lt;/p&gt;&lt;/blockquote&gt;&lt;p&gt;Of course they did.&lt;/p&gt;</content>
</entry>
</feed>"#;
    let (posts, errors) = collect_files(&[("df.xml", atom)]);
    assert!(errors.is_empty(), "{errors:?}");
    let p = &posts[0];
    assert_eq!(p.name, "https://fireball.example/linked/2024/phones");
    assert_eq!(post_urls(p), ["https://www.verge.example/phones"]);
    assert_eq!(
        p.citations[0].quote.as_deref(),
        Some("Phones got bigger again.")
    );
}

#[test]
fn every_entry_has_a_stable_non_empty_name_even_with_an_empty_href() {
    let atom = r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
<entry><title>a</title><link href=""/><id>urn:uuid:1225c695</id><content type="html">&lt;a href="https://a.example/"&gt;a&lt;/a&gt;</content></entry>
<entry><title>b</title><link href="  "/><content type="html">&lt;a href="https://b.example/"&gt;b&lt;/a&gt;</content></entry>
<entry><title>c</title><link href="/posts/c"/><content type="html">c</content></entry>
</feed>"#;
    let first = collect_files(&[("feed.atom", atom)]);
    let second = collect_files(&[("feed.atom", atom)]);
    let names = |posts: &[citeguard::collect::Post]| -> Vec<String> {
        posts
            .iter()
            .map(|p| {
                let n = &p.name;
                n[n.rfind("feed.atom").unwrap_or(0)..].to_string()
            })
            .collect()
    };
    assert_eq!(
        names(&first.0),
        [
            "feed.atom#urn:uuid:1225c695",
            "feed.atom#item-2",
            "feed.atom#/posts/c"
        ]
    );
    assert_eq!(names(&first.0), names(&second.0));
    for p in &first.0 {
        for c in &p.citations {
            assert_eq!(c.post, p.name);
        }
    }
}

/// A local Markdown post with every kind of href a user would not want
/// fetched as written.
const LOCAL_POST: &str = r##"# Links

<p>Raw HTML in a Markdown post: <a href="{{ "/x/" | url }}">the index</a></p>

And [a Liquid link]({{site.baseurl}}/a/).

A chart: ![chart](/graphics/chart.png) and [a missing page](/gone/).

[Back](javascript:history.back()), and a placeholder: <a href="#">the source</a>.

[A CDN script](//cdn.example/lib.js) and [a sibling](notes.md).
"##;

/// The citation (or report row) whose href as written (`raw`, or a
/// skipped row's `detail`), or else whose `text`, is `key`.
fn by<'a>(cites: &'a [serde_json::Value], key: &str) -> &'a serde_json::Value {
    cites
        .iter()
        .find(|c| c["raw"] == key || c["detail"] == key)
        .or_else(|| cites.iter().find(|c| c["text"] == key))
        .unwrap_or_else(|| panic!("no citation {key:?} in {cites:#?}"))
}

#[test]
fn templates_javascript_and_unresolvable_links_are_named_for_what_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("post.md"), LOCAL_POST).unwrap();
    let o = citeguard(&["collect", "--format", "jsonl", "post.md"], d);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let cites = jsonl(&o);
    for text in ["{{ ", "a Liquid link"] {
        let c = by(&cites, text);
        assert_eq!(c["skip"], "template", "{c}");
        assert!(c["url"].is_null(), "{c}");
    }
    for text in ["chart", "a missing page"] {
        let c = by(&cites, text);
        assert_eq!(c["skip"], "unresolved", "{c}");
        assert!(c["url"].is_null(), "not file:///graphics: {c}");
        assert!(c["raw"].as_str().unwrap().starts_with('/'), "{c}");
    }
    let back = by(&cites, "Back");
    assert_eq!(back["url"], "javascript:history.back()");
    assert_eq!(back["kind"], "link");
    assert!(back["missing"].is_null(), "{back}");
    let placeholder = by(&cites, "#");
    assert_eq!(placeholder["missing"], "empty-link");
    assert_eq!(
        by(&cites, "A CDN script")["url"],
        "https://cdn.example/lib.js"
    );
    let sibling = by(&cites, "a sibling")["url"].as_str().unwrap().to_string();
    assert!(
        sibling.starts_with("file:///") && sibling.ends_with("/notes.md"),
        "{sibling}"
    );

    // The text output says why, in words a user knows.
    let o = citeguard(&["collect", "post.md"], d);
    let out = stdout(&o);
    assert!(!out.contains("file:///graphics"), "{out}");
    assert!(!out.contains("%7B%7B"), "{out}");

    // From stdin, a relative link has nothing at all to resolve against.
    let mut child = Citeguard::new(d, ["collect", "--format", "jsonl", "-"])
        .command()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"# Notes\n\n[a sibling](notes.md)")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(jsonl(&o)[0]["skip"], "unresolved", "{}", stdout(&o));
}

#[test]
fn root_dir_makes_root_relative_links_name_files_of_the_local_site() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("public/graphics")).unwrap();
    std::fs::write(d.join("public/graphics/chart.png"), b"png").unwrap();
    std::fs::write(d.join("post.md"), LOCAL_POST).unwrap();
    let o = citeguard(
        &[
            "collect",
            "--format",
            "jsonl",
            "--root-dir",
            "public",
            "post.md",
        ],
        d,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let cites = jsonl(&o);
    let root = std::fs::canonicalize(d.join("public")).unwrap();
    let root = url::Url::from_directory_path(root).unwrap();
    assert_eq!(
        by(&cites, "chart")["url"],
        format!("{root}graphics/chart.png")
    );
    assert_eq!(by(&cites, "a missing page")["url"], format!("{root}gone/"));

    let o = citeguard(&["collect", "--root-dir", "nowhere", "post.md"], d);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--root-dir nowhere"), "{}", stderr(&o));
}

#[test]
fn check_reports_them_skipped_or_looks_for_the_files_and_fetches_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("public/graphics")).unwrap();
    std::fs::write(d.join("public/graphics/chart.png"), b"png").unwrap();
    std::fs::write(d.join("notes.md"), "notes").unwrap();
    // No CDN here: the one http link is to a closed port, and is excluded.
    std::fs::write(
        d.join("post.md"),
        LOCAL_POST.replace("//cdn.example/lib.js", "http://127.0.0.1:9/lib.js"),
    )
    .unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "check",
            "--no-store",
            "--no-memento",
            "--format",
            "json",
            "--exclude",
            "127\\.0\\.0\\.1",
        ];
        args.extend(extra);
        args.push("post.md");
        let o = citeguard(&args, d);
        let report: serde_json::Value =
            serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&o)));
        report["citations"].as_array().unwrap().clone()
    };
    let verdict = |rows: &[serde_json::Value], text: &str| {
        let r = by(rows, text);
        (
            r["verdict"].as_str().unwrap().to_string(),
            r["reason"].as_str().unwrap().to_string(),
        )
    };
    let pair = |v: &str, r: &str| (v.to_string(), r.to_string());

    let rows = run(&[]);
    assert_eq!(verdict(&rows, "{{ "), pair("skipped", "template"));
    assert_eq!(verdict(&rows, "a Liquid link"), pair("skipped", "template"));
    assert_eq!(verdict(&rows, "chart"), pair("skipped", "unresolved"));
    assert_eq!(verdict(&rows, "Back"), pair("skipped", "scheme"));
    // The author's placeholder stays a missing link.
    assert!(
        rows.iter()
            .any(|r| r["verdict"] == "missing" && r["reason"] == "empty-link"),
        "{rows:#?}"
    );
    assert_eq!(verdict(&rows, "a sibling"), pair("ok", "ok"));

    let rows = run(&["--root-dir", "public"]);
    assert_eq!(verdict(&rows, "chart"), pair("ok", "ok"));
    assert_eq!(
        verdict(&rows, "a missing page"),
        pair("dead", "file-not-found")
    );
}

#[test]
fn a_feed_service_redirecting_links_is_not_a_link_blog() {
    let rss = r#"<rss version="2.0" xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0"><channel><link>https://blog.example/</link>
<item><title>One</title><link>http://feedproxy.google.com/~r/Blog/~3/abc/</link>
<feedburner:origLink>https://blog.example/2012/one/</feedburner:origLink>
<description>&lt;p&gt;See &lt;a href="https://src.example/"&gt;this&lt;/a&gt;.&lt;/p&gt;</description></item>
<item><title>Two</title><link>http://feedproxy.google.com/~r/Blog/~3/def/</link>
<description>&lt;p&gt;Nothing.&lt;/p&gt;</description></item>
</channel></rss>"#;
    let (posts, errors) = collect_files(&[("fb.xml", rss)]);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(posts[0].name, "https://blog.example/2012/one/");
    assert_eq!(post_urls(&posts[0]), ["https://src.example/"]);
    assert_eq!(posts[1].name, "http://feedproxy.google.com/~r/Blog/~3/def/");
    assert!(posts[1].citations.is_empty(), "{:#?}", posts[1].citations);
}
