//! Content detection: which part of a page is the post (not the site's
//! chrome: navigation, sidebars, share and like buttons, comment forms,
//! footers), and what the page says about itself (base, canonical URL,
//! date).
//!
//! It reads the parsed tree; it builds no citations.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use ego_tree::NodeId;
use scraper::node::Element;
use scraper::{Node, Selector};

use super::parse::{Page, attr, classes};
use crate::collect::dates;

/// How the content of a page is chosen.
pub(crate) struct ContentRule<'a> {
    /// The user's `--content-selector`.
    pub selector: Option<&'a Selector>,
    /// `--all-links`: the whole page, chrome included.
    pub all_links: bool,
    /// A feed item's HTML: all of it is content (chrome words still apply).
    pub fragment: bool,
}

/// What the page says about itself.
#[derive(Debug, Default)]
pub(crate) struct Meta {
    pub base_href: Option<String>,
    /// `<link rel=canonical>`, `og:url`, or Medium's canonical link.
    pub canonical: Option<String>,
    pub date: Option<String>,
}

/// Class and id words of site chrome. Matched against whole words of a
/// class or id split at `-` and `_`, so `entry-meta` and `sharedaddy` match
/// but `entry-content` does not.
static CHROME_WORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    [
        "nav",
        "navbar",
        "navigation",
        "menu",
        "menus",
        "breadcrumb",
        "breadcrumbs",
        "pagination",
        "pager",
        "sidebar",
        "widget",
        "widgets",
        "blogroll",
        "footer",
        "header",
        "masthead",
        "share",
        "shares",
        "sharing",
        "sharedaddy",
        "sharethis",
        "addthis",
        "social",
        "socials",
        "likes",
        "wpl",
        "likebox",
        "relatedposts",
        "related",
        "comments",
        "comment",
        "respond",
        "reply",
        "replies",
        "subscribe",
        "subscription",
        "newsletter",
        "signup",
        "ads",
        "advert",
        "advertisement",
        "adsense",
        "wordads",
        "wpcnt",
        "sponsor",
        "sponsored",
        "promo",
        "cookie",
        "cookies",
        "banner",
        "popup",
        "modal",
        "toolbar",
        "skip",
        "meta",
        "metadata",
        "postmetadata",
        "utility",
        "tags",
        "tagcloud",
        "catlinks",
        "categories",
        "byline",
        "author",
        "bio",
        "avatar",
        "gravatar",
        "follow",
        "clap",
        "cta",
        "upgrade",
        "hidden",
        "screen",
        "more",
        "edit",
        "jp",
        "sd",
        "syndication",
        "crosspost",
    ]
    .into_iter()
    .collect()
});

/// Class/id words that mark content containers, strongest first.
const CONTENT_CLASSES: &[&str] = &[
    "entry-content",
    "post-content",
    "article-content",
    "article-body",
    "post-body",
    "entry-body",
    "gh-content",
    "post-full-content",
    "e-content",
    "story-body",
    "blog-post-content",
    "single-content",
    "td-post-content",
    "markdown-body",
    "post-entry",
    "postbody",
    "post-text",
    "entry-text",
    "article__body",
    "post__content",
    "c-entry-content",
];

fn has_chrome_words(el: &Element) -> bool {
    let words: &HashSet<&str> = &CHROME_WORDS;
    let check = |name: &str| {
        name.split(['-', '_', ' ']).any(|w| {
            !w.is_empty() && (words.contains(w) || words.contains(w.to_ascii_lowercase().as_str()))
        })
    };
    classes(el).any(check) || attr(el, "id").is_some_and(check)
}

/// Whether an element (and all it holds) is site chrome.
pub(crate) fn is_chrome(el: &Element, in_quote: bool) -> bool {
    match el.name() {
        "nav" | "aside" | "form" | "script" | "style" | "noscript" | "template" | "button"
        | "select" | "textarea" | "dialog" | "menu" | "head" | "title" => return true,
        "header" => return !in_quote,
        "footer" => return !in_quote,
        _ => {}
    }
    // One pass over the attributes: this runs for every element of the content.
    let words: &HashSet<&str> = &CHROME_WORDS;
    let chrome_name = |name: &str| {
        name.split(['-', '_', ' ']).any(|w| {
            !w.is_empty() && (words.contains(w) || words.contains(w.to_ascii_lowercase().as_str()))
        })
    };
    el.attrs.iter().any(|(n, v)| match &*n.local {
        "role" => matches!(
            &**v,
            "navigation"
                | "complementary"
                | "contentinfo"
                | "banner"
                | "search"
                | "menu"
                | "menubar"
                | "dialog"
        ),
        "hidden" => true,
        "aria-hidden" => &**v == "true",
        "class" => v.split_ascii_whitespace().any(chrome_name),
        "id" => chrome_name(v),
        _ => false,
    })
}

/// One pass over every node: content candidates and the page's metadata.
pub(crate) struct Survey {
    /// Content candidates per tier: 0 class/itemprop, 1 `<article>`,
    /// 2 `<main>`, 3 `#content`-like ids.
    pub tiers: [Vec<NodeId>; 4],
    pub meta: Meta,
    pub body: Option<NodeId>,
}

pub(crate) fn survey(page: &Page) -> Survey {
    let mut s = Survey {
        tiers: Default::default(),
        meta: Meta::default(),
        body: None,
    };
    let mut dates = dates::Candidates::default();
    for node in page.html.tree.nodes() {
        let Node::Element(el) = node.value() else {
            continue;
        };
        let id = node.id();
        match el.name() {
            "body" => s.body = s.body.or(Some(id)),
            "base" if s.meta.base_href.is_none() => {
                s.meta.base_href = attr(el, "href").map(str::to_string);
            }
            "link"
                if s.meta.canonical.is_none()
                    && attr(el, "rel").is_some_and(|r| {
                        r.split_whitespace()
                            .any(|w| w.eq_ignore_ascii_case("canonical"))
                    }) =>
            {
                s.meta.canonical = attr(el, "href").map(str::to_string);
            }
            "meta" => {
                let key = el
                    .attr("property")
                    .or(attr(el, "name"))
                    .or(attr(el, "itemprop"));
                if let (Some(key), Some(content)) = (key, attr(el, "content")) {
                    match key.to_ascii_lowercase().as_str() {
                        "og:url" if s.meta.canonical.is_none() => {
                            s.meta.canonical = Some(content.to_string())
                        }
                        "article:published_time" | "og:published_time" => dates.offer(0, content),
                        "datepublished" | "date" | "dc.date" | "dc.date.issued" | "pubdate"
                        | "publishdate" | "sailthru.date" | "parsely-pub-date" => {
                            dates.offer(1, content)
                        }
                        _ => {}
                    }
                }
            }
            "time" => {
                if let Some(dt) = attr(el, "datetime") {
                    let strong = attr(el, "itemprop") == Some("datePublished")
                        || attr(el, "pubdate").is_some()
                        || el
                            .classes()
                            .any(|c| matches!(c, "dt-published" | "published" | "entry-date"));
                    dates.offer(if strong { 1 } else { 3 }, dt);
                }
            }
            "a" if s.meta.canonical.is_none() && classes(el).any(|c| c == "p-canonical") => {
                s.meta.canonical = attr(el, "href").map(str::to_string);
            }
            "script" if attr(el, "type") == Some("application/ld+json") => {
                let text: String = scraper::ElementRef::wrap(node)
                    .map(|e| e.text().collect())
                    .unwrap_or_default();
                if let Some(d) = dates::from_json_ld(&text) {
                    dates.offer(2, &d);
                }
            }
            _ => {}
        }
        // One pass over the attributes this survey looks at.
        let (mut itemprop, mut data_field, mut class, mut role, mut el_id) =
            (None, None, None, None, None);
        for (n, v) in &el.attrs {
            match &*n.local {
                "itemprop" => itemprop = Some(&**v),
                "data-field" => data_field = Some(&**v),
                "class" => class = Some(&**v),
                "role" => role = Some(&**v),
                "id" => el_id = Some(&**v),
                _ => {}
            }
        }
        if itemprop == Some("datePublished")
            && let Some(v) = attr(el, "content").or(attr(el, "datetime"))
        {
            dates.offer(1, v);
        }
        if itemprop == Some("articleBody") || data_field == Some("body") {
            s.tiers[0].push(id);
        }
        for c in class.unwrap_or("").split_ascii_whitespace() {
            if CONTENT_CLASSES.contains(&c) {
                s.tiers[0].push(id);
                break;
            }
            if matches!(
                c,
                "entry-date" | "published" | "post-date" | "posted-on" | "date"
            ) && !dates.has(2)
            {
                let title = attr(el, "title").map(str::to_string);
                let text = title.unwrap_or_else(|| {
                    scraper::ElementRef::wrap(node)
                        .map(|e| e.text().collect::<String>())
                        .unwrap_or_default()
                });
                dates.offer(2, &text);
            }
        }
        match el.name() {
            "article" => s.tiers[1].push(id),
            "main" => s.tiers[2].push(id),
            _ if role == Some("main") => s.tiers[2].push(id),
            _ => {}
        }
        if let Some(i) = el_id
            && matches!(
                i,
                "content" | "main-content" | "maincontent" | "main" | "article" | "post"
            )
        {
            s.tiers[3].push(id);
        }
    }
    s.meta.date = dates.best();
    s
}

/// Whether a candidate content root sits inside chrome (a sidebar's
/// "recent posts" articles, a comment `<article>`).
fn inside_chrome(page: &Page, id: NodeId) -> bool {
    let Some(node) = page.html.tree.get(id) else {
        return true;
    };
    if let Node::Element(el) = node.value()
        && el.name() != "main"
        && has_chrome_words(el)
    {
        return true;
    }
    node.ancestors().any(|a| match a.value() {
        Node::Element(el) => match el.name() {
            "nav" | "aside" | "footer" | "form" | "header" => true,
            "body" | "html" => false,
            _ => {
                let check = |n: &str| {
                    n.split(['-', '_']).any(|w| {
                        matches!(
                            w,
                            "sidebar" | "widget" | "comments" | "comment" | "related" | "footer"
                        )
                    })
                };
                classes(el).any(check) || attr(el, "id").is_some_and(check)
            }
        },
        _ => false,
    })
}

/// Drops roots nested in other roots, keeping document order.
fn outermost(page: &Page, ids: &[NodeId]) -> Vec<NodeId> {
    let set: HashSet<NodeId> = ids.iter().copied().collect();
    let mut out = Vec::new();
    for &id in ids {
        let nested = page
            .html
            .tree
            .get(id)
            .is_some_and(|n| n.ancestors().any(|a| set.contains(&a.id())));
        if !nested && !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

/// The element with the most paragraph text directly inside it: the
/// fallback when a page marks up its content with nothing recognisable.
fn densest(page: &Page) -> Option<NodeId> {
    let mut score: HashMap<NodeId, usize> = HashMap::new();
    for node in page.html.tree.nodes() {
        let Node::Element(el) = node.value() else {
            continue;
        };
        if el.name() != "p" {
            continue;
        }
        let len: usize = scraper::ElementRef::wrap(node)
            .map(|e| e.text().map(|t| t.trim().len()).sum())
            .unwrap_or(0);
        if len < 25 {
            continue;
        }
        if let Some(parent) = node.parent() {
            *score.entry(parent.id()).or_default() += len;
            if let Some(grand) = parent.parent() {
                *score.entry(grand.id()).or_default() += len / 2;
            }
        }
    }
    let mut best: Vec<(usize, NodeId)> = score.into_iter().map(|(id, s)| (s, id)).collect();
    best.sort_by_key(|b| std::cmp::Reverse(b.0));
    best.into_iter()
        .map(|(_, id)| id)
        .find(|&id| !inside_chrome(page, id))
}

/// The content roots of a page.
pub(crate) fn content_roots(
    page: &Page,
    rule: &ContentRule,
    survey: &Survey,
) -> Result<Vec<NodeId>, String> {
    if let Some(sel) = rule.selector {
        let ids: Vec<NodeId> = page.html.select(sel).map(|e| e.id()).collect();
        if ids.is_empty() {
            return Err("the content selector matches nothing in this page".into());
        }
        return Ok(outermost(page, &ids));
    }
    let doc = page.html.tree.root().id();
    if rule.all_links {
        return Ok(vec![doc]);
    }
    if rule.fragment {
        return Ok(vec![survey.body.unwrap_or(doc)]);
    }
    for tier in &survey.tiers {
        let kept: Vec<NodeId> = tier
            .iter()
            .copied()
            .filter(|&id| !inside_chrome(page, id))
            .collect();
        if !kept.is_empty() {
            return Ok(outermost(page, &kept));
        }
    }
    Ok(vec![densest(page).or(survey.body).unwrap_or(doc)])
}
