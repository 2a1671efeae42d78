//! The HTML reader on the markup real pages are made of: anchor text
//! exact whatever white space and inline markup surround it, one citation
//! per image (commas inside srcset URLs included), script controls left
//! out, and pages nested absurdly deep collected in seconds.

use std::path::Path;

use citeguard::collect::{CollectConfig, Post, collect_all};
use citeguard::model::{Citation, Kind, Missing};

/// Collects one HTML page written to a temporary file.
fn collect_page(html: &str) -> Post {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("page.html");
    std::fs::write(&p, html).unwrap();
    collect_file(&p)
}

fn collect_file(p: &Path) -> Post {
    let (mut posts, errors) = collect_all(&[p.display().to_string()], &CollectConfig::default());
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(posts.len(), 1);
    posts.remove(0)
}

fn article(body: &str) -> String {
    format!(
        "<!doctype html><html><head><base href=\"https://blog.example/post/\"></head><body><article>\n{body}\n</article></body></html>"
    )
}

fn texts(post: &Post) -> Vec<&str> {
    post.citations.iter().map(|c| c.text.as_str()).collect()
}

fn urls(post: &Post) -> Vec<&str> {
    post.citations
        .iter()
        .filter_map(|c| c.url.as_deref())
        .collect()
}

#[test]
fn anchor_text_is_exact_after_leading_white_space_in_its_block() {
    let post = collect_page(&article(
        "<p>\n          <a href=\"https://a.example/\">Affected by switching video source</a> was the bug.</p>\n\
         <li>     <a href=\"https://b.example/\">Five</a></li>\n\
         <div>\n\n\t <a href=\"https://c.example/\">Tabs</a>\n</div>",
    ));
    assert_eq!(
        texts(&post),
        vec!["Affected by switching video source", "Five", "Tabs"]
    );
}

#[test]
fn anchor_text_runs_through_nested_inline_markup() {
    let post = collect_page(&article(
        "<p>  See <a href=\"https://a.example/\"><em>the <b>whole</b></em> <span>report</span></a>, \
         and <a href=\"https://b.example/\">  <code>x</code>  </a>.</p>\n\
         <p>   <a href=\"https://c.example/\"><img src=\"pic.png\" alt=\"A chart\"></a></p>",
    ));
    assert_eq!(
        texts(&post),
        vec!["the whole report", "x", "A chart", "A chart"]
    );
    assert!(post.citations.iter().all(|c| !c.text.is_empty()));
}

#[test]
fn an_image_is_one_citation_its_src_or_its_largest_candidate() {
    let post = collect_page(&article(
        r#"<p><img src="a-1024.jpg" srcset="a-300.jpg 300w, a-1024.jpg 1024w" alt="A"></p>
<p><img srcset="https://cdn.example/w_400,h_300/b.jpg 400w, https://cdn.example/w_800,h_600/b.jpg 800w" alt="B"></p>
<p><img srcset="c.jpg, c@2x.jpg 2x" alt="C"></p>
<p><img class="lazyload" src="data:image/gif;base64,R0lGOD" data-src="d.jpg" alt="D"></p>
<picture><source srcset="e-1200.avif 1200w, e-600.avif 600w"><img alt="E"></picture>"#,
    ));
    let got: Vec<(&str, Kind)> = post
        .citations
        .iter()
        .map(|c| (c.url.as_deref().unwrap_or(""), c.kind))
        .collect();
    assert_eq!(
        got,
        vec![
            ("https://blog.example/post/a-1024.jpg", Kind::Image),
            ("https://cdn.example/w_800,h_600/b.jpg", Kind::Image),
            ("https://blog.example/post/c@2x.jpg", Kind::Image),
            ("https://blog.example/post/d.jpg", Kind::Image),
            ("https://blog.example/post/e-1200.avif", Kind::Image),
        ],
        "commas inside srcset URLs are part of them; other candidates cite nothing"
    );
}

#[test]
fn script_controls_are_not_citations_but_a_placeholder_in_prose_is() {
    let post = collect_page(&article(
        r##"<p>Read <a href="#">the full table</a> before the vote.</p>
<p><a href="#" role="button">Show more</a> <a href="#" onclick="toggle()">Expand</a>
<a href="javascript:void(0)" class="btn-share">Share</a> <a href="#" data-toggle="collapse">Details</a>
<a href="#" aria-expanded="false">Menu</a></p>
<p>Go <a href="javascript:history.back()">back</a>.</p>"##,
    ));
    let got: Vec<(&str, Option<&str>, Option<Missing>)> = post
        .citations
        .iter()
        .map(|c: &Citation| (c.text.as_str(), c.url.as_deref(), c.missing))
        .collect();
    assert_eq!(
        got,
        vec![
            ("the full table", None, Some(Missing::EmptyLink)),
            // A script URL is a link of another scheme: check skips it.
            ("back", Some("javascript:history.back()"), None),
        ]
    );
}

#[test]
fn a_page_nested_a_million_deep_is_collected_in_seconds_with_its_links() {
    let n = 1_000_000;
    let page = format!(
        "<html><body><article><p>Intro <a href=\"https://a.example/\">first</a>.</p>{}<p>Deep <a href=\"https://b.example/\">second</a>.</p>{}</article></body></html>",
        "<div>".repeat(n),
        "</div>".repeat(n)
    );
    let start = std::time::Instant::now();
    let post = collect_page(&page);
    assert!(start.elapsed().as_secs() < 30, "took {:?}", start.elapsed());
    assert_eq!(
        urls(&post),
        vec!["https://a.example/", "https://b.example/"]
    );
}
