//! Content detection: which part of a page is the post (not the site's
//! chrome: navigation, sidebars, share and like buttons, comment forms,
//! footers), and what the page says about itself (base, canonical URL,
//! date).
//!
//! It reads the parsed tree; it builds no citations.
//!
//! Why Readability's algorithm on our own tree and not a readability port:
//! on the real-world corpus (`tests/corpus/`, 167 pages whose ground truth
//! is what Mozilla's Readability keeps), `dom_smoothie` 0.19, a maintained
//! Rust port, found 97.1% of the content links with 0.4% chrome leak. But
//! it parses every page a second time into its own tree (so citations
//! would lose their source lines), and alone it costs 1.5 times all of
//! `collect` on the bench corpus (0.94 s of CPU against 0.60 s for 1,000
//! posts), which would leave `collect` well behind `lychee --dump`. So
//! `score` follows Readability's scoring and cleaning over the tree we
//! already have, in a few linear passes: recall 0.948 and leak 1.4% (the
//! named containers and link-farm rules alone reached 0.918 and 3.1%).
//! With the rules added since (chrome-named siblings, story cards, photo
//! credits, heading anchors, tag links, Readability's paragraph count,
//! listings never the article, `topics`) the same truth gives 0.950 and 0.5%
//! (dom_smoothie's figures above are against that truth too), and with
//! the hand corrections of `tests/corpus/corrections.json` (chrome that
//! Readability kept on 25 pages) 0.993 and 0.55%.
//! A chrome name never discards an element holding two fifths of the
//! page's prose in `score` (unless it is a list or holds more list items
//! than paragraphs: a stream of teasers, a gallery's captions), nor one
//! holding half the content's prose in the walk. The named-container tiers below decide
//! where no Readability try finds 500 characters of article (a short
//! note keeps all its links), and the chrome names still apply in the
//! walk, where an element that holds the article's prose is kept
//! whatever its name.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use ego_tree::NodeId;
use html5ever::local_name;
use scraper::node::Element;
use scraper::{Node, Selector};

use ego_tree::iter::Edge;

use crate::base::prune::Pruning;

use super::parse::{Page, attr, classes, node_number};
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
        "navigation",
        "menu",
        "menus",
        "breadcrumb",
        "breadcrumbs",
        "pagination",
        "pager",
        "sidebar",
        "aside",
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
        "toolbar",
        "skip",
        "meta",
        "utility",
        "utilities",
        "tags",
        "tagcloud",
        "topics",
        "catlinks",
        "categories",
        "bio",
        "avatar",
        "gravatar",
        "follow",
        "clap",
        "upgrade",
        "hidden",
        "screen",
        "jp",
        "sd",
        "syndication",
        "crosspost",
    ]
    .into_iter()
    .collect()
});

/// Parts of class and id names that say "this is content" (Readability's
/// positive names).
const CONTENT_WORDS: &[&str] = &[
    "article", "body", "content", "entry", "hentry", "h-entry", "main", "page", "post", "text",
    "blog", "story",
];

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

/// Whether one word of a class or id (split at `-`, `_` and spaces) is a
/// chrome word, in any ASCII case. A word with no upper-case letter is
/// looked up as it is: no lower-cased copy is made for the many that are
/// not chrome (this runs for every word of every class of the content).
fn is_chrome_word(w: &str) -> bool {
    let words: &HashSet<&str> = &CHROME_WORDS;
    !w.is_empty()
        && (words.contains(w)
            || (w.bytes().any(|b| b.is_ascii_uppercase())
                && words.contains(w.to_ascii_lowercase().as_str())))
}

/// Whether a class or id names chrome: one of its words is a chrome word.
fn chrome_name(name: &str) -> bool {
    name.split(['-', '_', ' ']).any(is_chrome_word)
}

fn has_chrome_words(el: &Element) -> bool {
    classes(el).any(chrome_name) || attr(el, "id").is_some_and(chrome_name)
}

/// Why an element looks like site chrome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Chrome {
    No,
    /// What it is says so: `<nav>`, `<aside>`, a form, a script, hidden.
    Always,
    /// Only its class, id or role says so. Such names are often those of
    /// layout wrappers (Blogger's `widget Blog`, a `sidebar-right` column,
    /// a `share-…` id on the article body): the walk keeps such an element
    /// when it holds the article's text.
    ByName,
}

/// Whether an element (and all it holds) is site chrome.
pub(crate) fn is_chrome(el: &Element, in_quote: bool) -> Chrome {
    match el.name.local {
        local_name!("nav")
        | local_name!("aside")
        | local_name!("form")
        | local_name!("script")
        | local_name!("style")
        | local_name!("noscript")
        | local_name!("template")
        | local_name!("button")
        | local_name!("select")
        | local_name!("textarea")
        | local_name!("dialog")
        | local_name!("menu")
        | local_name!("head")
        | local_name!("title") => return Chrome::Always,
        local_name!("header") | local_name!("footer") if !in_quote => return Chrome::Always,
        _ => {}
    }
    // One pass over the attributes: this runs for every element of the content.
    let mut by_name = false;
    for (n, v) in &el.attrs {
        match &*n.local {
            "hidden" => return Chrome::Always,
            "aria-hidden" if &**v == "true" => return Chrome::Always,
            "role" => {
                by_name |= matches!(
                    &**v,
                    "navigation"
                        | "complementary"
                        | "contentinfo"
                        | "banner"
                        | "search"
                        | "menu"
                        | "menubar"
                        | "dialog"
                )
            }
            // A tag list's links say what they are: `rel=tag` (WordPress,
            // the microformat) and schema.org's `itemprop=keywords`.
            "rel" if el.name() == "a" => {
                by_name |= v
                    .split_ascii_whitespace()
                    .any(|w| w.eq_ignore_ascii_case("tag"))
            }
            "itemprop" if el.name() == "a" => by_name |= v.eq_ignore_ascii_case("keywords"),
            "class" => by_name |= v.split_ascii_whitespace().any(chrome_name),
            // An id of four words or more is an anchor made from a
            // heading (`sharing-with-multiple-developers-code-review`),
            // not a layout's name.
            "id" if v.split(['-', '_', ' ']).filter(|w| !w.is_empty()).count() < 4 => {
                by_name |= chrome_name(v)
            }
            _ => {}
        }
    }
    if by_name { Chrome::ByName } else { Chrome::No }
}

/// What an element holds, link farms inside it left out.
#[derive(Debug, Clone, Copy, Default)]
struct Held {
    /// Text outside links, in bytes.
    prose: u32,
    /// Text inside links, in bytes.
    links: u32,
    commas: u32,
    paragraphs: u32,
    items: u32,
    /// `<th>`, `<thead>`, `<caption>`…: what makes a table one of data.
    data_cells: u32,
    /// `<img>`, `<picture>`, `<video>`, frames…: a figure, whose caption's
    /// links (a photo credit) are few words by nature.
    media: u32,
    farm: bool,
}

impl Held {
    fn add(&mut self, o: &Held) {
        self.prose = self.prose.saturating_add(o.prose);
        self.links = self.links.saturating_add(o.links);
        self.commas = self.commas.saturating_add(o.commas);
        self.paragraphs = self.paragraphs.saturating_add(o.paragraphs);
        self.items = self.items.saturating_add(o.items);
        self.data_cells = self.data_cells.saturating_add(o.data_cells);
        self.media = self.media.saturating_add(o.media);
    }
}

/// What one text node holds, measured once a page and read by every pass
/// that sums text (`Mass::of` and each of `score`'s tallies).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TextMeasure {
    /// Bytes, white space trimmed.
    pub bytes: u32,
    /// Characters, white space trimmed.
    pub chars: u32,
    /// Commas of the scripts `score` counts (Readability's).
    pub commas: u32,
    /// Commas `Mass` counts: `,`, `，` and `、`.
    pub mass_commas: u32,
    known: bool,
}

/// Commas of the scripts Readability counts.
pub(crate) const COMMAS: [char; 9] = [
    ',', '\u{060C}', '\u{FE50}', '\u{FE10}', '\u{FE11}', '\u{2E41}', '\u{2E34}', '\u{2E32}',
    '\u{FF0C}',
];

impl TextMeasure {
    pub(crate) fn of(t: &str) -> TextMeasure {
        let n = |x: usize| u32::try_from(x).unwrap_or(u32::MAX);
        if t.is_ascii() {
            // One byte a character, and `,` the only comma; `trim` without
            // its Unicode tables (in ASCII, `char::is_whitespace` is TAB to
            // CR and the space).
            let b = t.as_bytes();
            let space = |c: &u8| matches!(c, b'\t'..=b'\r' | b' ');
            let start = b.iter().position(|c| !space(c)).unwrap_or(b.len());
            let end = b.iter().rposition(|c| !space(c)).map_or(start, |e| e + 1);
            let trimmed = n(end - start);
            let commas = n(memchr::memchr_iter(b',', b).count());
            return TextMeasure {
                bytes: trimmed,
                chars: trimmed,
                commas,
                mass_commas: commas,
                known: true,
            };
        }
        let trimmed = t.trim();
        TextMeasure {
            bytes: n(trimmed.len()),
            chars: n(trimmed.chars().count()),
            commas: n(t.matches(COMMAS).count()),
            mass_commas: n(t.matches([',', '，', '、']).count()),
            known: true,
        }
    }
}

/// The measure of each text node, by node number, for those `Mass::of`
/// reached (text in scripts and styles is not).
#[derive(Default)]
pub(crate) struct Texts(Vec<TextMeasure>);

impl Texts {
    /// A text node's measure: the one taken, or taken now.
    pub(crate) fn get(&self, id: NodeId, t: &str) -> TextMeasure {
        match self.0.get(node_number(id)) {
            Some(m) if m.known => *m,
            _ => TextMeasure::of(t),
        }
    }
}

/// How much text each element holds, by node number, and which elements
/// are link farms. One walk over the page, bottom-up as Readability
/// cleans, so that a wrapper is judged on what is left once the farms
/// inside it are gone; what a page holds in scripts and styles is not
/// text.
pub(crate) struct Mass {
    of: Vec<Held>,
    /// What each text node holds.
    pub texts: Texts,
    /// By node number: what Readability's cleaning takes out of the article.
    dropped: Vec<bool>,
}

impl Mass {
    pub(crate) fn of(page: &Page) -> Mass {
        // Node numbers run from 1 to the number of nodes: both tables are
        // sized once rather than grown (and copied) as the walk goes.
        let size = page.html.tree.values().len() + 1;
        let mut of: Vec<Held> = vec![Held::default(); size];
        let mut texts: Vec<TextMeasure> = vec![TextMeasure::default(); size];
        // Per open element: what it holds so far.
        let mut stack: Vec<Held> = vec![Held::default()];
        let mut links = 0usize;
        let mut pruning = Pruning::default();
        for edge in page.html.tree.root().traverse() {
            if pruning.hides(&edge) {
                continue;
            }
            match edge {
                Edge::Open(node) => match node.value() {
                    Node::Element(el) => {
                        if matches!(
                            el.name.local,
                            local_name!("script")
                                | local_name!("style")
                                | local_name!("noscript")
                                | local_name!("template")
                        ) {
                            pruning.prune(node.id());
                            continue;
                        }
                        if el.name.local == local_name!("a") {
                            links += 1;
                        }
                        stack.push(Held::default());
                    }
                    Node::Text(t) => {
                        let m = TextMeasure::of(t);
                        let n = node_number(node.id());
                        if n < (1 << 32) {
                            if n >= texts.len() {
                                texts.resize(n + 1, TextMeasure::default());
                            }
                            texts[n] = m;
                        }
                        if let Some(top) = stack.last_mut() {
                            if links == 0 {
                                top.prose = top.prose.saturating_add(m.bytes);
                            } else {
                                top.links = top.links.saturating_add(m.bytes);
                            }
                            top.commas = top.commas.saturating_add(m.mass_commas);
                        }
                    }
                    _ => {}
                },
                Edge::Close(node) => {
                    let Node::Element(el) = node.value() else {
                        continue;
                    };
                    let name = &el.name.local;
                    if *name == local_name!("a") {
                        links = links.saturating_sub(1);
                    }
                    let mut h = stack.pop().unwrap_or_default();
                    match *name {
                        local_name!("p") => h.paragraphs += 1,
                        local_name!("li") => h.items += 1,
                        local_name!("th")
                        | local_name!("thead")
                        | local_name!("tfoot")
                        | local_name!("caption")
                        | local_name!("colgroup") => h.data_cells += 1,
                        local_name!("img")
                        | local_name!("picture")
                        | local_name!("video")
                        | local_name!("audio")
                        | local_name!("figure")
                        | local_name!("iframe")
                        | local_name!("embed")
                        | local_name!("object") => h.media += 1,
                        _ => {}
                    }
                    // Inside a link (a card), its text is that link's.
                    h.farm = links == 0 && is_link_farm(el, &h);
                    if *name == local_name!("table") {
                        h.data_cells = 0; // a nested table's cells are its own
                    }
                    // A farm's prose still counts for its ancestors: the walk
                    // weighs chrome names and farms against the prose of the
                    // page and of the content root, which Readability's
                    // cleaning (not this rule) now decides.
                    if let Some(top) = stack.last_mut() {
                        top.add(&h);
                    }
                    let n = node_number(node.id());
                    if n < (1 << 32) {
                        if n >= of.len() {
                            of.resize(n + 1, Held::default());
                        }
                        of[n] = h;
                    }
                }
            }
        }
        Mass {
            of,
            texts: Texts(texts),
            dropped: Vec::new(),
        }
    }

    fn get(&self, id: NodeId) -> Held {
        self.of.get(node_number(id)).copied().unwrap_or_default()
    }

    /// The prose an element holds (its text outside links), in bytes,
    /// link farms inside it left out.
    pub(crate) fn prose(&self, id: NodeId) -> usize {
        self.get(id).prose as usize
    }

    /// Whether an element holds more list items than paragraphs (a
    /// stream of teasers, a gallery's captions).
    pub(crate) fn is_listing(&self, id: NodeId) -> bool {
        let h = self.get(id);
        h.items > h.paragraphs
    }

    /// Whether an element is a link farm (see `is_link_farm`).
    pub(crate) fn is_link_farm(&self, id: NodeId) -> bool {
        // Once Readability's cleaning has judged the article, it alone
        // says what is a farm: the bottom-up rule below dropped prose
        // that Readability keeps (recall 0.930 with both, 0.952 alone).
        match self.dropped.get(node_number(id)) {
            Some(&d) => d,
            None if !self.dropped.is_empty() => false,
            None => self.get(id).farm,
        }
    }
}

/// Whether a container is mostly links — a list of headlines, a block of
/// "more stories", a tag cloud, an ad's links — by Readability's
/// conditional cleaning of `div`, `ul` and `table` (its reader view is
/// what people accept as "the article"), given what the container holds
/// once the farms inside it are gone. Prose (ten commas or more), lists
/// (whose links are the point) and data tables are kept; other containers
/// go when over a fifth of their text is link text (over half for one
/// named like content), when they hold more list items than paragraphs,
/// or when they hold a link and next to no text. A picture with a short
/// caption stays, whatever links its credit holds.
fn is_link_farm(el: &Element, h: &Held) -> bool {
    if !matches!(
        el.name.local,
        local_name!("div") | local_name!("ul") | local_name!("table")
    ) || h.commas >= 10
    {
        return false;
    }
    let name = &el.name.local;
    if *name == local_name!("table") && (h.data_cells > 0 || attr(el, "summary").is_some()) {
        return false;
    }
    // A figure with its caption (a photo and its credit link) is content,
    // however few its words: the image is what the post shows.
    if *name == local_name!("div")
        && h.media > 0
        && h.links <= 40
        && h.paragraphs <= 1
        && h.items == 0
    {
        return false;
    }
    let total = h.prose + h.links;
    // A picture with its caption and credit link.
    if h.media == 1 && h.prose > 0 && h.links <= 40 && total < 200 {
        return false;
    }
    let density = if total == 0 {
        0.0
    } else {
        f64::from(h.links) / f64::from(total)
    };
    let named_content = classes(el).chain(attr(el, "id")).any(|c| {
        CONTENT_WORDS
            .iter()
            .any(|w| contains_ignore_ascii_case(c, w))
    });
    if named_content {
        return density > 0.5;
    }
    if *name == local_name!("ul") {
        return false;
    }
    density > 0.2 || h.items > h.paragraphs || (total < 25 && h.links > 0)
}

/// Whether `hay` holds `needle` (lower-case ASCII) in any ASCII case.
pub(crate) fn contains_ignore_ascii_case(hay: &str, needle: &str) -> bool {
    let n = needle.as_bytes();
    n.is_empty()
        || hay
            .as_bytes()
            .windows(n.len())
            .any(|w| w.eq_ignore_ascii_case(n))
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
        match el.name.local {
            local_name!("body") => s.body = s.body.or(Some(id)),
            local_name!("base") if s.meta.base_href.is_none() => {
                s.meta.base_href = attr(el, "href").map(str::to_string);
            }
            local_name!("link")
                if s.meta.canonical.is_none()
                    && attr(el, "rel").is_some_and(|r| {
                        r.split_whitespace()
                            .any(|w| w.eq_ignore_ascii_case("canonical"))
                    }) =>
            {
                s.meta.canonical = attr(el, "href").map(str::to_string);
            }
            local_name!("meta") => {
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
            local_name!("time") => {
                if let Some(dt) = attr(el, "datetime") {
                    let strong = attr(el, "itemprop") == Some("datePublished")
                        || attr(el, "pubdate").is_some()
                        || el
                            .classes()
                            .any(|c| matches!(c, "dt-published" | "published" | "entry-date"));
                    dates.offer(if strong { 1 } else { 3 }, dt);
                }
            }
            local_name!("a")
                if s.meta.canonical.is_none() && classes(el).any(|c| c == "p-canonical") =>
            {
                s.meta.canonical = attr(el, "href").map(str::to_string);
            }
            local_name!("script") if attr(el, "type") == Some("application/ld+json") => {
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
        match el.name.local {
            local_name!("article") => s.tiers[1].push(id),
            local_name!("main") => s.tiers[2].push(id),
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
/// "recent posts" articles, a comment `<article>`). `tier` 0 is a
/// container that names itself the body (`entry-content`,
/// `itemprop=articleBody`): its own class or id never disqualifies it (a
/// share button's id can sit on the article body). A layout ancestor named
/// like chrome (`widget Blog`, `sidebar-right`) disqualifies a candidate
/// only when the candidate holds little of the page's prose; a comment
/// thread, a `<nav>`, `<aside>`, `<footer>`, `<header>` or form always does.
fn inside_chrome(page: &Page, id: NodeId, tier: usize, mass: &Mass, page_prose: usize) -> bool {
    let Some(node) = page.html.tree.get(id) else {
        return true;
    };
    if tier > 0
        && let Node::Element(el) = node.value()
        && el.name() != "main"
        && has_chrome_words(el)
    {
        return true;
    }
    let holds_article = mass.prose(id) * 5 >= page_prose * 2;
    node.ancestors().any(|a| match a.value() {
        Node::Element(el) => match el.name() {
            "nav" | "aside" | "footer" | "form" | "header" => true,
            "body" | "html" => false,
            _ => {
                let check = |n: &str| {
                    n.split(['-', '_']).any(|w| match w {
                        "comments" | "comment" => true,
                        "sidebar" | "widget" | "related" | "footer" => !holds_article,
                        _ => false,
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
fn densest(page: &Page, mass: &Mass, page_prose: usize) -> Option<NodeId> {
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
        .find(|&id| !inside_chrome(page, id, 4, mass, page_prose))
}

/// The content roots of a page.
pub(crate) fn content_roots(
    page: &Page,
    rule: &ContentRule,
    survey: &Survey,
    mass: &mut Mass,
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
    if let Some(body) = survey.body
        && let Some(a) =
            super::score::article(page, body, &mass.texts, &|id| mass.prose(id), &|id| {
                mass.is_listing(id)
            })
    {
        mass.dropped = a.dropped;
        return Ok(a.roots);
    }
    let page_prose = survey.body.map_or(0, |b| mass.prose(b));
    for (t, tier) in survey.tiers.iter().enumerate() {
        let kept: Vec<NodeId> = tier
            .iter()
            .copied()
            .filter(|&id| !inside_chrome(page, id, t, mass, page_prose))
            .collect();
        let kept = outermost(page, &kept);
        // A container that holds almost none of the page's prose (a
        // teaser, a card) is not the article: look further.
        let held: usize = kept.iter().map(|&id| mass.prose(id)).sum();
        if !kept.is_empty() && (held * 7 >= page_prose || page_prose < 2000) {
            return Ok(kept);
        }
    }
    Ok(vec![
        densest(page, mass, page_prose)
            .or(survey.body)
            .unwrap_or(doc),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn an_ascii_text_is_measured_as_trim_measures_it(t in "[ \\t\\n\\x0B\\x0C\\r\\x1C-\\x1Fa,.]{0,24}") {
            let m = TextMeasure::of(&t);
            let trimmed = t.trim();
            proptest::prop_assert_eq!(m.bytes as usize, trimmed.len());
            proptest::prop_assert_eq!(m.chars as usize, trimmed.chars().count());
            proptest::prop_assert_eq!(m.commas as usize, t.matches(',').count());
        }
    }
}
