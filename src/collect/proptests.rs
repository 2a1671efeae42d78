//! Property tests: no reader panics, whatever it is handed. Each reader is
//! called directly (HTML, Markdown, plain text, RSS, RDF, Atom, WXR,
//! sitemap, front matter, dates, format sniffing) with arbitrary Unicode,
//! with arbitrary bytes through the whole path a file takes (decode, sniff,
//! read), and with documents built from the fragments that broke readers
//! before: entities beside curly quotes, CJK, Cyrillic and Greek at the
//! start of a file, CDATA, unclosed items, templates in hrefs.

use std::path::Path;

use proptest::prelude::*;

use super::input::Format;
use super::*;

/// Pieces of markup and text that readers slice, split or decode.
const FRAGMENTS: &[&str] = &[
    "<",
    ">",
    "&",
    ";",
    "&amp;",
    "&lt;",
    "&#x",
    "&#",
    "&#8217;",
    "&quot;",
    "&nbsp;",
    "<![CDATA[",
    "]]>",
    "“",
    "”",
    "’",
    "…",
    "П",
    "Привет мир",
    "中文的引用",
    "Ελληνικά",
    "עברית",
    "العربية",
    "हिन्दी",
    "ภาษาไทย",
    "😀",
    "\u{202e}",
    "\u{200b}",
    "\u{feff}",
    "\u{1b}[31m",
    "\0",
    "\n",
    "\r\n",
    "\n\n",
    " ",
    "\t",
    "<?xml version=\"1.0\"?>",
    "<!doctype html>",
    "<!DOCTYPE",
    "<!--",
    "-->",
    "<rss version=\"2.0\">",
    "<channel>",
    "<rdf:RDF>",
    "<feed xmlns=\"http://www.w3.org/2005/Atom\">",
    "<wp:post_type>post</wp:post_type>",
    "<wp:status>publish</wp:status>",
    "<item>",
    "</item>",
    "<entry>",
    "</entry>",
    "<description>",
    "</description>",
    "<content:encoded>",
    "</content:encoded>",
    "<content type=\"xhtml\">",
    "</content>",
    "<summary>",
    "</summary>",
    "<link>",
    "</link>",
    "<link href=\"\"/>",
    "<link rel=\"alternate\" href=\"https://x.example/p\"/>",
    "<guid>",
    "</guid>",
    "<pubDate>",
    "</pubDate>",
    "<urlset>",
    "<loc>",
    "</loc>",
    "<a href=\"",
    "\">",
    "</a>",
    "<img srcset=\"",
    " 2x,",
    "<blockquote cite=\"",
    "<blockquote>",
    "</blockquote>",
    "<p>",
    "</p>",
    "<article>",
    "<base href=\"",
    "http://x.example/",
    "https://例え.jp/パス",
    "/graphics/a.png",
    "{{ \"/x/\" | url }}",
    "{% link a.md %}",
    "<%= url %>",
    "${base}",
    "javascript:history.back()",
    "#",
    "[",
    "](",
    ")",
    "![",
    "[^1]",
    "> ",
    "# ",
    "---\n",
    "+++\n",
    "url: ",
    "permalink: ",
    "base: ",
    "date: ",
    "2010-08-25",
    "according to Reuters",
    "(NYT, Eurasianet)",
    ":",
];

/// `cases` runs of a property, with no file of failures left in the
/// source tree (a failing case is printed with its input).
pub(super) fn runs(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Text made of the fragments above and arbitrary characters.
fn mixed() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => proptest::sample::select(FRAGMENTS).prop_map(str::to_string),
        1 => any::<char>().prop_map(String::from),
        1 => "\\PC{0,6}",
    ];
    proptest::collection::vec(piece, 0..48).prop_map(|v| v.concat())
}

/// Markup soup: block and inline tags opened and closed in any order around
/// white space and characters of one to four bytes, the shapes in which a
/// reader keeps byte offsets into text it is still building.
fn markup() -> impl Strategy<Value = String> {
    const PIECES: &[&str] = &[
        "<article>",
        "</article>",
        "<div>",
        "</div>",
        "<p>",
        "</p>",
        "<li>",
        "</li>",
        "<blockquote>",
        "</blockquote>",
        "<blockquote cite=\"https://c.example/\">",
        "<a href=\"https://x.example/\">",
        "<a href=\"#\">",
        "<a href=\"javascript:void(0)\">",
        "</a>",
        "<q cite=\"https://q.example/\">",
        "</q>",
        "<cite>",
        "</cite>",
        "<footer>",
        "</footer>",
        "<h2>",
        "</h2>",
        "<table><tr><td>",
        "</td></tr></table>",
        "<pre><code>",
        "</code></pre>",
        "<img src=\"a.png\" alt=\"中\">",
        "<br>",
        " ",
        "  ",
        "\n",
        "\u{a0}",
        "中",
        "П",
        "é",
        "😀",
        "x",
        "according to Reuters",
        ":",
        ". ",
    ];
    proptest::collection::vec(proptest::sample::select(PIECES), 0..40).prop_map(|v| v.concat())
}

/// Markdown soup: link, image, quote, list, emphasis, code and footnote
/// marks, raw HTML, around white space and characters of any width.
fn markdown_soup() -> impl Strategy<Value = String> {
    const PIECES: &[&str] = &[
        "[",
        "]",
        "](",
        ")",
        "![",
        "[^1]",
        "[^1]: ",
        "[ref]",
        "[ref]: ",
        "<",
        ">",
        "> ",
        "\n",
        "\n\n",
        "  ",
        " ",
        "\t",
        "- ",
        "1. ",
        "* ",
        "**",
        "_",
        "`",
        "```\n",
        "# ",
        "---\n",
        "+++\n",
        "|",
        "<a href=\"",
        "\">",
        "</a>",
        "<img src=\"x\">",
        "https://x.example/",
        "/abs",
        "rel.md",
        "#frag",
        "javascript:x()",
        "{{ a }}",
        "中",
        "П",
        "é",
        "😀",
        "\u{202e}",
        "according to Reuters",
        ":",
        ". ",
        "&amp;",
        "\\",
    ];
    proptest::collection::vec(proptest::sample::select(PIECES), 0..48).prop_map(|v| v.concat())
}

/// Any string: arbitrary Unicode or the mixture.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), mixed(), markup()]
}

fn ctx_for(config: &CollectConfig) -> Ctx<'_> {
    Ctx::new(config).expect("default collect settings are valid")
}

/// Every reader, on one text.
fn read_every_way(t: &str) {
    let config = CollectConfig::default();
    let ctx = ctx_for(&config);
    let origin = Origin {
        name: "post",
        url: None,
        path: Some(Path::new("posts/2010-08-25-post.md")),
        ext: None,
    };
    let _ = html_post(&ctx, &origin, t);
    let _ = markdown_post(&ctx, &origin, t);
    let _ = text_post(&ctx, &origin, t);
    for format in [Format::Rss, Format::Atom, Format::Wxr] {
        let _ = feed_posts(&ctx, &origin, t, format);
    }
    // Fetched, with --root-dir: link blogs tell hosts apart, and
    // root-relative links go under the root.
    let rooted = CollectConfig {
        root_dir: Some(".".into()),
        ..CollectConfig::default()
    };
    let ctx = ctx_for(&rooted);
    let feed_url = Url::parse("https://feed.example/feed.xml").expect("static URL");
    let fetched = Origin {
        name: "https://feed.example/feed.xml",
        url: Some(&feed_url),
        path: None,
        ext: None,
    };
    let _ = html_post(&ctx, &fetched, t);
    let _ = markdown_post(&ctx, &origin, t);
    for format in [Format::Rss, Format::Atom] {
        let _ = feed_posts(&ctx, &fetched, t, format);
    }
    let _ = feed::sitemap(t);
    let _ = markdown::front_matter(t);
    let _ = dates::normalize(t);
    let _ = dates::in_text(t);
    let _ = input::sniff(t, None);
    let _ = input::sniff(t, Some("md"));
    let _ = main_text(t);
}

/// A feed, an export or a sitemap with `inner` where its items go.
fn wrapped(kind: u8, inner: &str) -> String {
    match kind % 6 {
        0 => format!(
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><item><description>{inner}</description></item>{inner}</channel></rss>"
        ),
        1 => format!(
            "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"><item><link>{inner}</link><description>{inner}</description></item></rdf:RDF>"
        ),
        2 => format!(
            "<feed xmlns=\"http://www.w3.org/2005/Atom\"><entry><content type=\"html\">{inner}</content></entry>{inner}</feed>"
        ),
        3 => format!(
            "<rss xmlns:wp=\"http://wordpress.org/export/1.2/\"><channel><wp:wxr_version>1.2</wp:wxr_version><item><wp:status>publish</wp:status><content:encoded><![CDATA[{inner}]]></content:encoded></item></channel></rss>"
        ),
        4 => format!("<urlset><url><loc>{inner}</loc></url></urlset>"),
        _ => format!("---\nurl: {inner}\ndate: {inner}\n---\n{inner}"),
    }
}

proptest! {
    #![proptest_config(runs(192))]

    #[test]
    fn no_reader_panics_on_any_text(t in text()) {
        read_every_way(&t);
    }

    #[test]
    fn no_reader_panics_inside_a_feed_export_sitemap_or_front_matter(
        kind in any::<u8>(),
        inner in mixed(),
    ) {
        read_every_way(&wrapped(kind, &inner));
    }

    #[test]
    fn an_escaped_description_with_entities_among_any_script_is_read(
        before in "\\PC{0,4}",
        entity in "&(amp|lt|#[0-9]{0,5}|#x[0-9a-f]{0,4}|[a-z]{0,8});?",
        after in "[“”’中文Пé😀 a;]{0,14}",
    ) {
        let config = CollectConfig::default();
        let ctx = ctx_for(&config);
        let origin = Origin { name: "feed.xml", url: None, path: None, ext: None };
        let text = format!(
            "<rss><channel><item><link>https://x.example/1</link><description>{}{entity}{after}</description></item></channel></rss>",
            crate::base::escape::xml(&before),
        );
        let found = feed_posts(&ctx, &origin, &text, Format::Rss);
        prop_assert_eq!(found.len(), 1);
    }

    #[test]
    fn any_bytes_are_read_as_a_file_is_without_panicking(
        bytes in proptest::collection::vec(any::<u8>(), 0..1024),
        ext in proptest::sample::select(&["", "md", "txt", "html", "xml", "rss"][..]),
        charset in proptest::option::of(proptest::sample::select(&["utf-8", "latin1", "shift_jis", "utf-16le", "bogus"][..])),
    ) {
        let config = CollectConfig::default();
        let ctx = ctx_for(&config);
        let origin = Origin {
            name: "post",
            url: None,
            path: None,
            ext: (!ext.is_empty()).then(|| ext.to_string()),
        };
        let _ = read_post(&ctx, &origin, bytes, charset);
    }

    #[test]
    fn a_post_starting_in_any_script_is_read_by_its_content(
        head in proptest::sample::select(&["# Привет мир", "Ελληνικά", "中文", "עברית", "<!doc", "﻿<!DOCTYPE", ""][..]),
        rest in mixed(),
    ) {
        let config = CollectConfig::default();
        let ctx = ctx_for(&config);
        let origin = Origin { name: "post", url: None, path: None, ext: None };
        let _ = read_post(&ctx, &origin, format!("{head}{rest}").into_bytes(), None);
    }
}

proptest! {
    #![proptest_config(runs(1500))]

    #[test]
    fn no_reader_panics_on_markup_soup(t in markup()) {
        let config = CollectConfig::default();
        let ctx = ctx_for(&config);
        let origin = Origin { name: "post.html", url: None, path: None, ext: None };
        let _ = html_post(&ctx, &origin, &t);
        let _ = feed_posts(&ctx, &origin, &wrapped(3, &t), Format::Wxr);
        let _ = main_text(&t);
    }

    #[test]
    fn no_reader_panics_on_markdown_soup(t in markdown_soup()) {
        let config = CollectConfig { root_dir: Some(".".into()), ..CollectConfig::default() };
        let ctx = ctx_for(&config);
        let origin = Origin { name: "post.md", url: None, path: Some(Path::new("post.md")), ext: None };
        let _ = markdown_post(&ctx, &origin, &t);
        let _ = text_post(&ctx, &origin, &t);
        let stdin = Origin { name: "-", url: None, path: None, ext: None };
        let _ = markdown_post(&ctx, &stdin, &t);
    }
}

#[test]
fn a_block_inside_a_link_after_white_space_and_cjk_is_read() {
    read_every_way(
        "<article><div> <a href=\"https://x.example/\">中<blockquote>q</blockquote></a></div></article>",
    );
}

#[test]
fn a_markdown_post_in_cyrillic_is_read() {
    let config = CollectConfig::default();
    let ctx = ctx_for(&config);
    let origin = Origin {
        name: "post.md",
        url: None,
        path: None,
        ext: None,
    };
    let found = read_post(
        &ctx,
        &origin,
        "# Привет мир\n\nСм. [источник](https://example.org/a).\n"
            .as_bytes()
            .to_vec(),
        None,
    );
    let [Found::Post(post)] = &found[..] else {
        panic!("one post expected");
    };
    assert_eq!(
        post.citations[0].url.as_deref(),
        Some("https://example.org/a")
    );
}

#[test]
fn a_panic_while_reading_one_input_is_that_inputs_one_error() {
    let found = guarded("posts/bad.md", || {
        panic!("byte index 9 is not a char boundary")
    });
    let [Found::Error(e)] = &found[..] else {
        panic!("one error expected");
    };
    let line = e.to_string();
    assert!(line.starts_with("posts/bad.md: internal error"), "{line}");
    assert!(line.contains("byte index 9"), "{line}");
    assert!(!is_reading_input(), "the marker is reset after the panic");
    // The next input is read as usual.
    let found = guarded("posts/good.md", Vec::new);
    assert!(found.is_empty());
}

/// `collapse` as its definition says: the words (runs of anything but
/// white space: ASCII's five white-space bytes, and past ASCII what Unicode
/// calls white space) joined by one space.
fn collapse_oracle(s: &str) -> String {
    s.split(|c: char| {
        if c.is_ascii() {
            c.is_ascii_whitespace()
        } else {
            c.is_whitespace()
        }
    })
    .filter(|w| !w.is_empty())
    .collect::<Vec<_>>()
    .join(" ")
}

/// Sentence-like text: words, stops, closing quotes, abbreviations, line
/// breaks and blank lines, in any order.
fn prose() -> impl Strategy<Value = String> {
    const PIECES: &[&str] = &[
        "word", " ", "  ", "\n", "\n\n", "\n \t\n", ".", "!", "?", "…", "\"", "'", ")", "]", "”",
        "’", "A", "9", "(", "Dr", "U.S", "e.g", "J", "é", "\t", "\r",
    ];
    proptest::collection::vec(proptest::sample::select(PIECES), 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(runs(512))]

    #[test]
    fn collapse_keeps_the_words_joined_by_one_space(t in prop_oneof![text(), prose()]) {
        prop_assert_eq!(analyze::collapse(&t), collapse_oracle(&t));
    }

    #[test]
    fn sentences_split_where_a_byte_by_byte_scan_splits(t in prop_oneof![text(), prose()]) {
        prop_assert_eq!(analyze::sentences(&t), analyze::split_sentences::<false>(&t));
    }
}

/// Absolute URLs built from the pieces the `url` crate rewrites (case,
/// ports, IDNA and numeric hosts, dot segments, escapes, separators) and
/// from ordinary ones, so that both answers of `is_canonical_http` come up.
fn http_url() -> impl Strategy<Value = String> {
    const SCHEMES: &[&str] = &[
        "http://", "https://", "HTTP://", "https:", "ftp://", "http:/",
    ];
    const HOST: &[&str] = &[
        "a",
        "example",
        "b2",
        "-",
        ".",
        "xn--bcher-kva",
        "Ex",
        "0x1f",
        "127",
        "0",
        "com",
        "é",
        ":80",
        "@",
        "%41",
        "_",
        "ſ",
    ];
    const REST: &[&str] = &[
        "/", "a", "Z", "9", ".", "..", "%2e", "%2E", "%", "%4", "%41", "?", "#", "&", "=", "'",
        "\"", " ", "\t", "\\", "`", "{", "}", "^", "|", "[", "]", "<", ">", "~", ":", "@", ";",
        "!", "$", "(", "*", "+", ",", "é", "\u{0}", "-", "_",
    ];
    // Mostly a plain host and a path, so that many are taken as they are.
    let host = prop_oneof![
        3 => proptest::sample::select(&["example.com", "a.b-c.example", "x1.org"][..])
            .prop_map(String::from),
        2 => proptest::collection::vec(proptest::sample::select(HOST), 0..6)
            .prop_map(|h| h.concat()),
    ];
    (
        proptest::sample::select(SCHEMES),
        host,
        proptest::bool::weighted(0.8),
        proptest::collection::vec(proptest::sample::select(REST), 0..14),
    )
        .prop_map(|(s, h, slash, r)| {
            format!("{s}{h}{}{}", if slash { "/" } else { "" }, r.concat())
        })
}

proptest! {
    #![proptest_config(runs(4096))]

    /// An href taken unparsed is the one parsing would have given.
    #[test]
    fn a_canonical_url_is_what_the_parser_writes(t in http_url()) {
        if super::url::is_canonical_http(&t) {
            let parsed = ::url::Url::parse(&t).map(String::from);
            prop_assert_eq!(parsed.as_deref(), Ok(t.as_str()));
        }
    }
}
