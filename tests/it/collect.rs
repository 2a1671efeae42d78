//! The collector on realistic posts: every input format, the content/chrome
//! split on real theme markup, every citation kind, line numbers, URL
//! resolution, and unlinked citations — found where they are, and not
//! flagged where they are not.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use citeguard::collect::{CollectConfig, Post, collect_all, main_text};
use citeguard::model::{Citation, Kind, Missing};

use crate::util::{Dir, fixture};

fn collect_with(inputs: &[PathBuf], config: &CollectConfig) -> Vec<Post> {
    let inputs: Vec<String> = inputs.iter().map(|p| p.display().to_string()).collect();
    let (posts, errors) = collect_all(&inputs, config);
    assert!(errors.is_empty(), "unexpected errors: {errors:?}");
    posts
}

fn one_post(name: &str) -> Post {
    let mut posts = collect_with(&[fixture(name)], &CollectConfig::default());
    assert_eq!(posts.len(), 1);
    posts.remove(0)
}

fn urls(post: &Post) -> BTreeSet<String> {
    post.citations
        .iter()
        .filter_map(|c| c.url.clone())
        .collect()
}

fn find<'a>(post: &'a Post, url_part: &str) -> &'a Citation {
    post.citations
        .iter()
        .find(|c| c.url.as_deref().is_some_and(|u| u.contains(url_part)))
        .unwrap_or_else(|| panic!("no citation of {url_part} in {:#?}", post.citations))
}

/// The 1-based line of the first occurrence of `needle` at or after `from`.
fn line_of(src: &str, needle: &str, from: usize) -> Option<(usize, usize)> {
    let at = src[from..].find(needle)? + from;
    Some((src[..at].matches('\n').count() + 1, at))
}

#[test]
fn wordpress_page_gives_the_article_citations_and_none_of_the_chrome() {
    let post = one_post("wordpress.html");
    let expected: BTreeSet<String> = [
        "https://www.worldbank.org/en/news/feature/2014/09/01/rogun-assessment",
        "https://pamirletters.example/2020/11/reservoir-numbers/",
        "https://pamirletters.example/wp-content/uploads/2021/03/nurek-1024x683.jpg",
        "https://commons.wikimedia.org/wiki/File:Nurek_Dam.jpg",
        "https://www.youtube.com/embed/dQw4w9WgXcQ?feature=oembed",
        "https://www.rferl.org/a/tajikistan-rogun-dam/31000000.html",
        "https://www.reuters.com/article/us-tajikistan-dam-idUSKBN1NV0X5",
        "https://www.asiaplustj.info/en/news/tajikistan/economic/20210310/rogun",
        "https://www.iea.org/countries/tajikistan",
        "https://data.example.org/vakhsh.csv",
        // Skipped by `check` for its scheme, like a mailto: link.
        "javascript:void(0)",
    ]
    .map(String::from)
    .into();
    // Navigation, share and like buttons, related posts, author box, post
    // navigation, comments, the reply form, the blogroll and the footer are
    // all left out.
    assert_eq!(urls(&post), expected);
    assert_eq!(post.date.as_deref(), Some("2021-03-14T08:30:00+05:00"));
    assert_eq!(
        post.base_url.as_deref(),
        Some("https://pamirletters.example/2021/03/vakhsh-cascade/")
    );
}

#[test]
fn hugo_page_gives_the_post_content_and_resolves_relative_links_against_its_canonical_url() {
    let post = one_post("hugo.html");
    let expected: BTreeSet<String> = [
        "https://peacemaker.un.org/tajikistan-generalagreement97",
        "https://fieldnotes.example/images/accord.jpg",
        "https://fieldnotes.example/posts/refugees/",
    ]
    .map(String::from)
    .into();
    // The breadcrumbs, table of contents, heading anchors, tags, prev/next,
    // share buttons and the example URL inside a code block are not cited.
    assert_eq!(urls(&post), expected);
    assert_eq!(post.date.as_deref(), Some("2022-06-27T00:00:00+00:00"));
}

#[test]
fn medium_export_gives_the_story_body_and_leaves_out_author_and_export_links() {
    let post = one_post("medium.html");
    let expected: BTreeSet<String> = [
        "https://www.caravanistan.com/transport/pamir-highway/",
        "https://cdn-images-1.medium.com/max/800/1*abcDEF.jpeg",
    ]
    .map(String::from)
    .into();
    assert_eq!(urls(&post), expected);
    assert_eq!(
        post.base_url.as_deref(),
        Some("https://medium.com/@traveller/the-pamir-highway-in-winter-5e6f7a8b9c0d")
    );
    assert_eq!(post.date.as_deref(), Some("2019-02-11T17:20:31.118+00:00"));
    // The blockquote has no source: it is an unlinked quote.
    let q = post
        .citations
        .iter()
        .find(|c| c.kind == Kind::Unlinked)
        .expect("unlinked quote");
    assert_eq!(
        q.quote.as_deref(),
        Some("Do not attempt the pass after 3 p.m. in winter.")
    );
}

#[test]
fn ghost_page_gives_the_article_and_leaves_out_subscribe_read_more_and_footer() {
    let post = one_post("ghost.html");
    let expected: BTreeSet<String> = [
        "https://www.ilo.org/moscow/news/WCMS_800000/lang--en/index.htm",
        "https://www.hrw.org/news/2023/09/20/cotton-harvest",
    ]
    .map(String::from)
    .into();
    assert_eq!(urls(&post), expected);
    let card = find(&post, "hrw.org");
    assert_eq!(card.text, "Cotton harvest monitoring 2023");
    let paren = post
        .citations
        .iter()
        .find(|c| c.kind == Kind::Unlinked && c.quote.is_none())
        .expect("the parenthesised sources");
    assert_eq!(paren.text, "(RFE/RL, Ozodi)");
}

#[test]
fn every_citation_kind_is_collected_from_html() {
    let post = one_post("wordpress.html");
    let kind_of = |part: &str| find(&post, part).kind;
    assert_eq!(kind_of("worldbank.org"), Kind::Link);
    assert_eq!(kind_of("nurek-1024x683.jpg"), Kind::Image);
    assert!(
        post.citations.iter().all(|c| !c
            .url
            .as_deref()
            .unwrap_or("")
            .contains("nurek-300x200.jpg")),
        "an image is one citation: its src, not each srcset candidate"
    );
    assert_eq!(kind_of("youtube.com/embed"), Kind::Embed);
    assert_eq!(kind_of("reuters.com"), Kind::Quote, "<blockquote cite>");
    assert_eq!(kind_of("asiaplustj.info"), Kind::Quote, "<q cite>");
    assert_eq!(kind_of("data.example.org"), Kind::BareUrl);
    assert_eq!(
        find(&post, "nurek-1024x683.jpg").text,
        "Nurek dam from the road"
    );

    let empty: Vec<&Citation> = post
        .citations
        .iter()
        .filter(|c| c.missing == Some(Missing::EmptyLink))
        .collect();
    assert_eq!(empty.len(), 1);
    assert_eq!(empty[0].text, "full table");
    assert_eq!(empty[0].raw.as_deref(), Some("#"));
    // A javascript: URL is a link of another scheme, not an empty one.
    assert_eq!(kind_of("javascript:void(0)"), Kind::Link);
    assert!(
        empty
            .iter()
            .all(|c| c.kind == Kind::Unlinked && c.url.is_none())
    );

    let no_link: Vec<&Citation> = post
        .citations
        .iter()
        .filter(|c| c.missing == Some(Missing::NoLink))
        .collect();
    assert_eq!(no_link.len(), 1);
    assert_eq!(no_link[0].text, "according to the Asian Development Bank");
    // Footnote marks (#fn1) jump within the page: they cite nothing.
    assert!(
        post.citations
            .iter()
            .all(|c| c.raw.as_deref() != Some("#fn1"))
    );
}

#[test]
fn quotes_go_to_the_link_that_introduces_them_or_to_their_cite_attribute() {
    let post = one_post("wordpress.html");
    let rferl = find(&post, "rferl.org");
    assert_eq!(
        rferl.quote.as_deref(),
        Some("The dam is the tallest in the world under construction.")
    );
    assert_eq!(rferl.context.as_deref(), Some("As RFE/RL reported:"));
    let reuters = find(&post, "reuters.com");
    // The <cite> under the quote names the source and is not part of the passage.
    assert_eq!(reuters.text, "Reuters");
    assert_eq!(
        reuters.quote.as_deref(),
        Some("Tajikistan launched the first turbine on Friday.")
    );
    let world_bank = find(&post, "worldbank.org");
    assert_eq!(
        world_bank.context.as_deref(),
        Some("The World Bank assessment of Rogun took four years.")
    );
    assert_eq!(world_bank.quote, None);
}

#[test]
fn a_link_inside_a_blockquote_is_its_source() {
    let dir = Dir::new();
    let page = dir.path().join("p.html");
    std::fs::write(
        &page,
        "<article><p>Some context.</p>\n<blockquote><p>Words worth keeping.</p>\n<footer>— <a href=\"https://source.example/a\">Source</a></footer></blockquote></article>",
    )
    .unwrap();
    let post = collect_with(&[page], &CollectConfig::default()).remove(0);
    assert_eq!(post.citations.len(), 1);
    assert_eq!(
        post.citations[0].quote.as_deref(),
        Some("Words worth keeping.")
    );
    assert_eq!(post.citations[0].line, 3);
}

#[test]
fn line_numbers_are_the_lines_of_the_source_file() {
    for name in [
        "wordpress.html",
        "hugo.html",
        "ghost.html",
        "medium.html",
        "feed.rss",
        "atom.xml",
        "wxr.xml",
    ] {
        let src = std::fs::read_to_string(fixture(name)).unwrap();
        // (wxr.xml has a broken item, tested below.)
        let (posts, _) = collect_all(
            &[fixture(name).display().to_string()],
            &CollectConfig::default(),
        );
        let mut from = 0;
        let mut checked = 0;
        for c in posts.iter().flat_map(|p| &p.citations) {
            let Some(raw) = c.raw.as_deref().or(c.url.as_deref()) else {
                continue;
            };
            if raw.is_empty() || c.kind == Kind::Unlinked {
                continue;
            }
            // Escaped markup (a feed's description) spells queries differently.
            let needle = raw.split('?').next().unwrap_or(raw);
            let (line, at) = line_of(&src, needle, from)
                .unwrap_or_else(|| panic!("{name}: {raw} not found after byte {from}"));
            assert_eq!(c.line, line, "{name}: line of {raw}");
            from = at;
            checked += 1;
        }
        assert!(checked >= 2, "{name}: only {checked} citations checked");
    }
}

#[test]
fn unlinked_attributions_are_found_on_the_seed_post() {
    let post = one_post("seed.txt");
    let unlinked: Vec<&Citation> = post
        .citations
        .iter()
        .filter(|c| c.kind == Kind::Unlinked)
        .collect();
    let texts: Vec<&str> = unlinked.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(
        texts,
        vec![
            "(NYT,, Eurasianet)",
            // "Pic: Mirzo Jaga" credits a photo: not a citation.
            "reported by",
            "Alexander at Tajikistan Monitor",
            "Others are more troubled – without even mentioning this incident",
            "However, President Rahmon has expressed a high level of concern",
        ]
    );
    assert!(
        unlinked
            .iter()
            .all(|c| c.missing == Some(Missing::NoLink) && c.url.is_none())
    );
    let lines: Vec<usize> = unlinked.iter().map(|c| c.line).collect();
    assert_eq!(lines, vec![5, 9, 13, 19, 27]);
    // The quoted passages, each as long as the quote runs.
    let quote = |i: usize| unlinked[i - 1].quote.as_deref().unwrap_or("");
    assert!(quote(2).starts_with("On August 22 there were shootings"));
    assert!(quote(2).ends_with("had big volume of explosives."));
    assert!(quote(3).starts_with("The prison escape might be linked"));
    assert!(quote(3).ends_with("One of the three bombers managed to escape."));
    assert!(quote(4).starts_with("The escape could turn up the heat"));
    assert!(
        quote(4).ends_with("potential threats to his authority."),
        "two paragraphs: {}",
        quote(4)
    );
    assert!(quote(5).starts_with("Tajikistan’s President Emomali Rakhmon"));
    assert!(
        quote(5).ends_with("enemies and traitors,” he added."),
        "three paragraphs: {}",
        quote(5)
    );
    // The author's own paragraphs are not quotes.
    assert!(
        post.citations
            .iter()
            .all(|c| !c.quote.as_deref().unwrap_or("").contains("I disagree"))
    );
    assert_eq!(post.date.as_deref(), Some("2010-08-25"));
}

#[test]
fn ordinary_sentences_are_not_flagged_as_unlinked_citations() {
    let post = one_post("essay.txt");
    assert!(post.citations.is_empty(), "{:#?}", post.citations);
}

#[test]
fn markdown_post_gives_inline_reference_auto_image_footnote_and_bare_links() {
    let post = one_post("post.md");
    assert_eq!(
        post.base_url.as_deref(),
        Some("http://tajikistannotes.wordpress.com/2010/09/02/rogun-dam-reading-list/")
    );
    assert_eq!(post.date.as_deref(), Some("2010-09-02"));
    let c = |part: &str| find(&post, part);
    assert_eq!(c("worldbank.org").text, "summary", "reference-style link");
    assert_eq!(c("rferl.org").text, "RFE/RL's explainer");
    assert_eq!(c("rogun-site.jpg").kind, Kind::Image);
    assert_eq!(
        c("rogun-site.jpg").text,
        "The Rogun construction site in 2009"
    );
    assert_eq!(
        c("registan.net").quote.as_deref(),
        Some("Rogun is less an energy project than a national idea.")
    );
    assert_eq!(c("casa-1000.org").kind, Kind::BareUrl);
    assert_eq!(c("eurasianet.org").kind, Kind::Link, "autolink");
    assert_eq!(c("adb.org").text, "ADB's summary", "link in a footnote");
    assert_eq!(
        c("rogun-shares").url.as_deref(),
        Some("http://tajikistannotes.wordpress.com/2010/02/01/rogun-shares/"),
        "relative link resolved against the front matter's permalink"
    );
    let unlinked: Vec<&Citation> = post
        .citations
        .iter()
        .filter(|c| c.kind == Kind::Unlinked)
        .collect();
    assert_eq!(unlinked.len(), 1);
    assert_eq!(unlinked[0].text, "according to the Asia-Plus");
    // Lines are where each citation stands in the file, front matter
    // included; a reference-style link stands where it is used.
    let lines: Vec<(usize, Kind)> = post.citations.iter().map(|c| (c.line, c.kind)).collect();
    assert_eq!(
        lines,
        vec![
            (11, Kind::Link),
            (12, Kind::Link),
            (15, Kind::Image),
            (17, Kind::Link),
            (22, Kind::BareUrl),
            (24, Kind::Unlinked),
            (28, Kind::Link),
            (29, Kind::Link),
            (31, Kind::Link)
        ]
    );
    assert!(
        unlinked[0]
            .quote
            .as_deref()
            .unwrap_or("")
            .starts_with("Nobody has shown")
    );
}

#[test]
fn rss_items_are_posts_named_by_their_links() {
    let posts = collect_with(&[fixture("feed.rss")], &CollectConfig::default());
    let names: Vec<&str> = posts.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "http://tajikistannotes.wordpress.com/2010/08/25/prison-breaks/",
            "http://tajikistannotes.wordpress.com/2010/08/19/rogun-again/"
        ]
    );
    assert_eq!(posts[0].date.as_deref(), Some("2010-08-25T09:14:00+00:00"));
    // content:encoded wins over the description; relative links resolve
    // against the item's link.
    assert!(
        urls(&posts[0]).contains("http://tajikistannotes.wordpress.com/2010/08/19/rogun-again/")
    );
    // An escaped description is unescaped once: &amp;amp; is a literal &amp; in HTML.
    assert!(urls(&posts[1]).contains("http://www.worldbank.org/rogun?a=1&b=2"));
}

#[test]
fn atom_entries_with_xhtml_and_html_content_are_posts() {
    let posts = collect_with(&[fixture("atom.xml")], &CollectConfig::default());
    assert_eq!(posts.len(), 2);
    assert_eq!(
        posts[0].name,
        "https://fieldnotes.example/posts/peace-accord/"
    );
    assert_eq!(posts[0].date.as_deref(), Some("2022-06-27T00:00:00+00:00"));
    assert!(
        urls(&posts[0]).contains("https://fieldnotes.example/posts/peace-accord/images/accord.jpg")
    );
    assert_eq!(
        posts[1].name, "https://fieldnotes.example/posts/khorog/",
        "rel=edit links are not the post's"
    );
    assert!(urls(&posts[1]).contains("https://www.hrw.org/news/2022/05/khorog"));
}

#[test]
fn wxr_export_gives_published_posts_and_reports_a_broken_item_without_losing_the_rest() {
    let inputs = vec![fixture("wxr.xml").display().to_string()];
    let (posts, errors) = collect_all(&inputs, &CollectConfig::default());
    let names: Vec<&str> = posts.iter().map(|p| p.name.as_str()).collect();
    // The draft and the attachment are not posts; the broken item is
    // reported; the item after it is still read.
    assert_eq!(
        names,
        vec![
            "http://tajikistannotes.wordpress.com/2010/08/25/prison-breaks/",
            "http://tajikistannotes.wordpress.com/2010/08/31/ramadan-in-khujand/"
        ]
    );
    assert_eq!(errors.len(), 1);
    let msg = errors[0].to_string();
    assert!(
        msg.contains("wxr.xml") && msg.contains("item 4") && msg.contains("line 48"),
        "{msg}"
    );
    assert_eq!(posts[0].date.as_deref(), Some("2010-08-25T09:14:00+00:00"));
    let reported = posts[0]
        .citations
        .iter()
        .find(|c| c.kind == Kind::Unlinked)
        .expect("unlinked quote");
    assert_eq!(reported.text, "reported by");
    assert_eq!(
        reported.quote.as_deref(),
        Some("On August 22 there were shootings in Dushanbe.")
    );
}

#[test]
fn relative_urls_resolve_against_base_href_then_the_post_url_then_base_url() {
    let dir = Dir::new();
    let write = |name: &str, body: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, body).unwrap();
        p
    };
    let with_base = write(
        "a.html",
        "<html><head><base href=\"https://cdn.example/assets/\"><link rel=canonical href=\"https://blog.example/p/\"></head><body><article><p><a href=\"x.pdf\">x</a></p></article></body></html>",
    );
    let with_canonical = write(
        "b.html",
        "<html><head><link rel=canonical href=\"https://blog.example/p/\"></head><body><article><p><a href=\"../q/\">q</a></p></article></body></html>",
    );
    let bare = write("c.html", "<article><p><a href=\"/r/\">r</a></p></article>");
    let config = CollectConfig {
        base_url: Some("https://given.example/blog/".into()),
        ..CollectConfig::default()
    };
    let posts = collect_with(&[with_base, with_canonical, bare.clone()], &config);
    assert_eq!(
        posts[0].citations[0].url.as_deref(),
        Some("https://cdn.example/assets/x.pdf")
    );
    assert_eq!(
        posts[1].citations[0].url.as_deref(),
        Some("https://blog.example/q/")
    );
    assert_eq!(
        posts[2].citations[0].url.as_deref(),
        Some("https://given.example/r/")
    );
    assert_eq!(
        posts[2].base_url.as_deref(),
        Some("https://given.example/blog/")
    );
    // Without any base, a local post's root-relative link names nothing
    // (not file:///r/): it is unresolved.
    let local = collect_with(&[bare], &CollectConfig::default()).remove(0);
    assert_eq!(local.citations[0].url, None);
    assert_eq!(
        local.citations[0].skip,
        Some(citeguard::model::Skip::Unresolved)
    );
    assert_eq!(local.base_url, None);
}

#[test]
fn one_source_cited_several_ways_is_one_source_and_keeps_its_fragment_in_the_record() {
    let dir = Dir::new();
    let p = dir.path().join("p.html");
    std::fs::write(
        &p,
        "<article><p><a href=\"HTTPS://WWW.Example.com:443/a?utm_source=rss#part-2\">one</a> and <a href=\"https://www.example.com/a\">two</a></p></article>",
    )
    .unwrap();
    let post = collect_with(&[p], &CollectConfig::default()).remove(0);
    let config = CollectConfig::default();
    let opts = citeguard::collect::url::NormalizeOptions::from_config(&config);
    assert_eq!(
        post.citations[0].url.as_deref(),
        Some("https://www.example.com/a?utm_source=rss#part-2")
    );
    assert_eq!(
        post.citations[0].source_url(&opts),
        post.citations[1].source_url(&opts)
    );
}

#[test]
fn content_selector_overrides_detection_and_all_links_takes_the_chrome_too() {
    let config = CollectConfig {
        content_selector: Some("aside .widget_block".into()),
        ..CollectConfig::default()
    };
    let post = collect_with(&[fixture("wordpress.html")], &config).remove(0);
    assert_eq!(
        urls(&post),
        ["https://registan.net/", "https://www.eurasianet.org/"]
            .map(String::from)
            .into()
    );
    let config = CollectConfig {
        all_links: true,
        ..CollectConfig::default()
    };
    let all = collect_with(&[fixture("wordpress.html")], &config).remove(0);
    let all_urls = urls(&all);
    assert!(all_urls.contains("https://wordpress.org/"));
    assert!(
        all_urls.contains("https://pamirletters.example/wp-comments-post.php")
            || all_urls.contains("https://other.example/rogun")
    );
    assert!(all_urls.is_superset(&urls(&one_post("wordpress.html"))));
}

#[test]
fn a_content_selector_that_matches_nothing_is_an_error_naming_the_page() {
    let config = CollectConfig {
        content_selector: Some(".no-such-class".into()),
        ..CollectConfig::default()
    };
    let (posts, errors) = collect_all(&[fixture("hugo.html").display().to_string()], &config);
    assert!(posts.is_empty());
    assert_eq!(errors.len(), 1);
    assert!(errors[0].to_string().contains("hugo.html"));
}

#[test]
fn directories_are_walked_in_order_skipping_hidden_vcs_and_non_post_files() {
    let dir = Dir::new();
    let d = dir.path();
    for sub in ["b", "a/deeper", ".git", ".hidden", "CVS"] {
        std::fs::create_dir_all(d.join(sub)).unwrap();
    }
    let post = "<article><p><a href=\"https://x.example/\">x</a></p></article>";
    for f in [
        "b/2.html",
        "a/deeper/1.md",
        "a/0.txt",
        ".git/HEAD.html",
        ".hidden/h.html",
        "CVS/c.html",
        "b/.draft.html",
    ] {
        std::fs::write(d.join(f), post).unwrap();
    }
    std::fs::write(d.join("b/logo.png"), b"\x89PNG\r\n\x1a\n\0\0\0").unwrap();
    // A link back up the tree is not walked (it would never end).
    std::os::unix::fs::symlink(d, d.join("b/loop")).unwrap();
    let posts = collect_with(&[d.to_path_buf()], &CollectConfig::default());
    let names: Vec<String> = posts
        .iter()
        .map(|p| {
            Path::new(&p.name)
                .strip_prefix(d)
                .unwrap()
                .display()
                .to_string()
        })
        .collect();
    assert_eq!(names, vec!["a/0.txt", "a/deeper/1.md", "b/2.html"]);
}

#[test]
fn main_text_is_the_article_in_paragraphs_without_the_chrome() {
    let html = std::fs::read_to_string(fixture("wordpress.html")).unwrap();
    let text = main_text(&html);
    assert!(
        text.starts_with("The World Bank assessment of Rogun took four years.\n\nIts reservoir"),
        "{text}"
    );
    assert!(text.contains("\n\nThe dam is the tallest in the world under construction.\n\n"));
    for chrome in [
        "Share this",
        "Like this",
        "Leave a comment",
        "Blogroll",
        "Proudly powered",
        "Skip to content",
        "Related",
    ] {
        assert!(!text.contains(chrome), "{chrome} in {text}");
    }
}

#[test]
fn media_embeds_objects_and_edit_citations_are_collected_with_their_kinds() {
    let dir = Dir::new();
    let p = dir.path().join("media.html");
    std::fs::write(
        &p,
        r#"<html><head><base href="https://media.example/post/"></head><body><main>
<p>Listen: <audio src="talk.mp3" title="The talk"></audio></p>
<video poster="poster.jpg"><source src="clip.webm" type="video/webm"><track src="subs.vtt" label="English"></video>
<picture><source srcset="wide.avif 2x, narrow.avif"><img src="fallback.jpg" alt="A dam"></picture>
<p><embed src="chart.svg" title="Chart"> <object data="report.pdf" title="Report"></object></p>
<p>The figure was <del cite="https://errata.example/1">12</del> <ins cite="https://errata.example/2">21</ins>.</p>
<p><img src="data:image/png;base64,iVBORw0KGgo=" alt="inline"></p>
</main></body></html>"#,
    )
    .unwrap();
    let post = collect_with(&[p], &CollectConfig::default()).remove(0);
    let got: Vec<(String, Kind, usize)> = post
        .citations
        .iter()
        .map(|c| (c.url.clone().unwrap_or_default(), c.kind, c.line))
        .collect();
    let u = |s: &str| format!("https://media.example/post/{s}");
    assert_eq!(
        got,
        vec![
            (u("talk.mp3"), Kind::Image, 2),
            (u("poster.jpg"), Kind::Image, 3),
            (u("clip.webm"), Kind::Image, 3),
            (u("subs.vtt"), Kind::Image, 3),
            // A picture is one image: its <img>'s src.
            (u("fallback.jpg"), Kind::Image, 4),
            (u("chart.svg"), Kind::Embed, 5),
            (u("report.pdf"), Kind::Embed, 5),
            ("https://errata.example/1".into(), Kind::Quote, 6),
            ("https://errata.example/2".into(), Kind::Quote, 6),
        ],
        "inline data: images cite nothing"
    );
    assert_eq!(post.citations[0].text, "The talk");
    assert_eq!(post.citations[4].text, "A dam");
}
