//! HTML posts: parses a page once, recording the source line of every
//! element and text node; finds the post's content (not the site's chrome:
//! navigation, sidebars, share and like buttons, comment forms, footers);
//! and turns the content into `Block`s for `analyze`. Also gives
//! `main_text`, the page's content as plain paragraphs, for the compare stage.
//!
//! It never fetches anything and never reads files: it is handed a string.

use std::borrow::Cow;
use std::cell::{Cell, Ref, RefCell};
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use ego_tree::NodeId;
use ego_tree::iter::Edge;
use html5ever::tendril::{StrTendril, TendrilSink};
use html5ever::tree_builder::{ElementFlags, NodeOrText, QuirksMode, TreeSink};
use html5ever::{Attribute, QualName};
use scraper::node::Element;
use scraper::{Html, HtmlTreeSink, Node, Selector};

use super::analyze::{Block, BlockKind, Cite, collapse};
use super::bare::bare_urls;
use super::dates;
use crate::base::text::{newlines, newlines_before};
use crate::base::web::is_in_page_jump;
use crate::model::Kind;

/// A parsed page and the source line of its nodes.
pub(crate) struct Page {
    pub html: Html,
    lines: LineMap,
}

/// Node ids are small sequential integers: a multiply spreads them well
/// enough, and SipHash showed in profiles.
#[derive(Default)]
struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_usize(&mut self, n: usize) {
        self.0 = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type LineMap = HashMap<NodeId, u32, std::hash::BuildHasherDefault<IdHasher>>;

impl Page {
    fn line(&self, id: NodeId) -> Option<usize> {
        self.lines.get(&id).map(|&l| l as usize)
    }
}

/// html5ever knows the line of every token, but scraper's sink drops it.
/// This sink wraps scraper's and keeps the line of each element (the line
/// where its start tag ends) and of each text node (where its text starts).
struct LineSink {
    inner: HtmlTreeSink,
    line: Cell<u64>,
    lines: RefCell<LineMap>,
}

impl TreeSink for LineSink {
    type Handle = NodeId;
    type Output = Page;
    type ElemName<'a> = Ref<'a, QualName>;

    fn finish(self) -> Page {
        Page {
            html: self.inner.finish(),
            lines: self.lines.into_inner(),
        }
    }
    // Parse errors are not needed: the page is read as a browser would.
    fn parse_error(&self, _msg: Cow<'static, str>) {}
    fn set_current_line(&self, line: u64) {
        self.line.set(line);
    }
    fn get_document(&self) -> NodeId {
        self.inner.get_document()
    }
    fn elem_name<'a>(&'a self, target: &'a NodeId) -> Ref<'a, QualName> {
        self.inner.elem_name(target)
    }
    fn create_element(&self, name: QualName, attrs: Vec<Attribute>, flags: ElementFlags) -> NodeId {
        let id = self.inner.create_element(name, attrs, flags);
        self.lines.borrow_mut().insert(id, self.line.get() as u32);
        id
    }
    fn create_comment(&self, text: StrTendril) -> NodeId {
        self.inner.create_comment(text)
    }
    fn create_pi(&self, target: StrTendril, data: StrTendril) -> NodeId {
        self.inner.create_pi(target, data)
    }
    fn append(&self, parent: &NodeId, child: NodeOrText<NodeId>) {
        let text_line = match &child {
            NodeOrText::AppendText(t) => {
                let nl = newlines(t.as_bytes()) as u64;
                Some(self.line.get().saturating_sub(nl).max(1))
            }
            NodeOrText::AppendNode(_) => None,
        };
        self.inner.append(parent, child);
        if let Some(line) = text_line {
            let last = self
                .inner
                .0
                .borrow()
                .tree
                .get(*parent)
                .and_then(|p| p.last_child())
                .map(|c| c.id());
            if let Some(id) = last {
                self.lines.borrow_mut().entry(id).or_insert(line as u32);
            }
        }
    }
    fn append_based_on_parent_node(
        &self,
        element: &NodeId,
        prev: &NodeId,
        child: NodeOrText<NodeId>,
    ) {
        self.inner.append_based_on_parent_node(element, prev, child)
    }
    fn append_doctype_to_document(
        &self,
        name: StrTendril,
        public_id: StrTendril,
        system_id: StrTendril,
    ) {
        self.inner
            .append_doctype_to_document(name, public_id, system_id)
    }
    fn get_template_contents(&self, target: &NodeId) -> NodeId {
        self.inner.get_template_contents(target)
    }
    fn same_node(&self, x: &NodeId, y: &NodeId) -> bool {
        x == y
    }
    fn set_quirks_mode(&self, mode: QuirksMode) {
        self.inner.set_quirks_mode(mode)
    }
    fn append_before_sibling(&self, sibling: &NodeId, new_node: NodeOrText<NodeId>) {
        self.inner.append_before_sibling(sibling, new_node)
    }
    fn add_attrs_if_missing(&self, target: &NodeId, attrs: Vec<Attribute>) {
        self.inner.add_attrs_if_missing(target, attrs)
    }
    fn remove_from_parent(&self, target: &NodeId) {
        self.inner.remove_from_parent(target)
    }
    fn reparent_children(&self, node: &NodeId, new_parent: &NodeId) {
        self.inner.reparent_children(node, new_parent)
    }
}

/// Parses a page (a whole document or a feed item's HTML) once.
pub(crate) fn parse(src: &str) -> Page {
    let sink = LineSink {
        inner: HtmlTreeSink::new(Html::new_document()),
        line: Cell::new(1),
        lines: RefCell::new(LineMap::default()),
    };
    html5ever::driver::parse_document(sink, Default::default()).one(src)
}

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

/// The blocks of a page's content and what it says about itself.
pub(crate) struct Extracted {
    pub blocks: Vec<Block>,
    pub meta: Meta,
}

/// An attribute's value. scraper's own `Element::attr` and `classes` intern
/// the name and every class in a global atom table (a lock shared by all
/// threads); comparing the names in place is several times cheaper.
fn attr<'e>(el: &'e Element, name: &str) -> Option<&'e str> {
    el.attrs
        .iter()
        .find(|(n, _)| &*n.local == name)
        .map(|(_, v)| &**v)
}

fn classes(el: &Element) -> impl Iterator<Item = &str> {
    attr(el, "class").unwrap_or("").split_ascii_whitespace()
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
fn is_chrome(el: &Element, in_quote: bool) -> bool {
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

/// Elements that end a paragraph of text.
fn is_block_level(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "li"
            | "ul"
            | "ol"
            | "dl"
            | "dt"
            | "dd"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "pre"
            | "table"
            | "tr"
            | "td"
            | "th"
            | "thead"
            | "tbody"
            | "figure"
            | "figcaption"
            | "section"
            | "article"
            | "main"
            | "hr"
            | "address"
            | "details"
            | "summary"
            | "center"
            | "body"
            | "caption"
    )
}

/// One pass over every node: content candidates and the page's metadata.
struct Survey {
    /// Content candidates per tier: 0 class/itemprop, 1 `<article>`,
    /// 2 `<main>`, 3 `#content`-like ids.
    tiers: [Vec<NodeId>; 4],
    meta: Meta,
    body: Option<NodeId>,
}

fn survey(page: &Page) -> Survey {
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
fn content_roots(page: &Page, rule: &ContentRule, survey: &Survey) -> Result<Vec<NodeId>, String> {
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

/// Extracts the blocks of a page's content. `line_offset` is added to every
/// line (a feed item's HTML starts that many lines into its file).
pub(crate) fn extract(
    page: &Page,
    rule: &ContentRule,
    line_offset: usize,
) -> Result<Extracted, String> {
    let survey = survey(page);
    let roots = content_roots(page, rule, &survey)?;
    let mut b = Builder::new(page, line_offset, true, rule.all_links);
    for root in roots {
        b.walk(root);
    }
    Ok(Extracted {
        blocks: b.finish(),
        meta: survey.meta,
    })
}

/// The main content of a page as text: paragraphs separated by blank lines,
/// chrome left out.
pub fn main_text(html: &str) -> String {
    let page = parse(html);
    let survey = survey(&page);
    let rule = ContentRule {
        selector: None,
        all_links: false,
        fragment: false,
    };
    let roots = content_roots(&page, &rule, &survey).unwrap_or_default();
    let mut b = Builder::new(&page, 0, false, false);
    for root in roots {
        b.walk(root);
    }
    let mut out = String::new();
    for block in b.finish() {
        let paragraphs: Vec<String> = block
            .text
            .split("\n\n")
            .map(collapse)
            .filter(|p| !p.is_empty())
            .collect();
        for p in paragraphs {
            if !out.is_empty() {
                out.push_str("\n\n");
            }
            out.push_str(&p);
        }
    }
    out
}

/// An `<a>` or `<q>` whose text is still being read.
struct Pending {
    node: NodeId,
    serial: usize,
    cite: usize,
    start: usize,
    alt: Option<String>,
}

/// Walks content roots in document order and builds blocks.
struct Builder<'p> {
    page: &'p Page,
    offset: usize,
    want_cites: bool,
    all_links: bool,
    blocks: Vec<Block>,
    cur: Block,
    serial: usize,
    line: usize,
    quote_depth: usize,
    attribution_depth: usize,
    anchor_depth: usize,
    code_depth: usize,
    pending: Vec<Pending>,
}

impl<'p> Builder<'p> {
    fn new(page: &'p Page, offset: usize, want_cites: bool, all_links: bool) -> Self {
        Builder {
            page,
            offset,
            want_cites,
            all_links,
            blocks: Vec::new(),
            cur: Block::new(BlockKind::Para, 1 + offset),
            serial: 0,
            line: 1 + offset,
            quote_depth: 0,
            attribution_depth: 0,
            anchor_depth: 0,
            code_depth: 0,
            pending: Vec::new(),
        }
    }

    fn finish(mut self) -> Vec<Block> {
        self.flush(BlockKind::Para);
        self.blocks
    }

    fn flush(&mut self, next: BlockKind) {
        for p in self.pending.iter_mut().filter(|p| p.serial == self.serial) {
            if let Some(c) = self.cur.cites.get_mut(p.cite) {
                // The text may have been cleared and refilled since `start`.
                let start = crate::base::text::floor_char_boundary(&self.cur.text, p.start);
                c.text = self.cur.text[start..].to_string();
            }
            p.serial = usize::MAX;
        }
        let done = std::mem::replace(&mut self.cur, Block::new(next, self.line));
        if !done.is_empty() {
            self.blocks.push(done);
        }
        self.serial += 1;
    }

    fn separate(&mut self) {
        if !self.cur.text.trim().is_empty() && !self.cur.text.ends_with("\n\n") {
            self.cur.text.push_str("\n\n");
        }
    }

    fn node_line(&self, id: NodeId) -> Option<usize> {
        self.page.line(id).map(|l| l + self.offset)
    }

    fn walk(&mut self, root: NodeId) {
        let Some(root) = self.page.html.tree.get(root) else {
            return;
        };
        let mut skip: Option<NodeId> = None;
        for edge in root.traverse() {
            match edge {
                Edge::Open(node) => {
                    if skip.is_some() {
                        continue;
                    }
                    match node.value() {
                        Node::Element(el) => {
                            if node.id() != root.id()
                                && !self.all_links
                                && is_chrome(el, self.quote_depth > 0)
                            {
                                skip = Some(node.id());
                                continue;
                            }
                            if !self.all_links
                                && matches!(el.name(), "script" | "style" | "template")
                            {
                                skip = Some(node.id());
                                continue;
                            }
                            self.open(node.id(), el);
                        }
                        Node::Text(t) => self.text(node.id(), &t.text),
                        _ => {}
                    }
                }
                Edge::Close(node) => {
                    if let Some(s) = skip {
                        if s == node.id() {
                            skip = None;
                        }
                        continue;
                    }
                    if let Node::Element(el) = node.value() {
                        self.close(node.id(), el);
                    }
                }
            }
        }
    }

    fn text(&mut self, id: NodeId, t: &str) {
        let line = self.node_line(id).unwrap_or(self.line);
        if self.cur.text.trim().is_empty() && !t.trim().is_empty() {
            // The block's line is where its first words are; leading white
            // space before them must not shift line counting.
            self.cur.text.clear();
            self.cur.line = line;
        }
        let base = self.cur.text.len();
        self.cur.text.push_str(t);
        if self.attribution_depth > 0 {
            self.cur.attribution.push_str(t);
        }
        if self.want_cites && self.anchor_depth == 0 && self.code_depth == 0 {
            for (at, url) in bare_urls(t) {
                let l = line + newlines_before(t, at);
                self.cur.cites.push(Cite {
                    raw: url.clone(),
                    text: url,
                    kind: Kind::BareUrl,
                    line: l,
                    at: base + at,
                    attribution: self.attribution_depth > 0,
                });
            }
        }
        self.line = line + newlines(t.as_bytes());
    }

    fn push_cite(&mut self, raw: &str, text: String, kind: Kind, line: usize) -> usize {
        if self.cur.text.trim().is_empty() && self.cur.cites.is_empty() {
            self.cur.line = line;
        }
        self.cur.cites.push(Cite {
            raw: raw.to_string(),
            text,
            kind,
            line,
            at: self.cur.text.len(),
            attribution: self.attribution_depth > 0,
        });
        self.cur.cites.len() - 1
    }

    fn open(&mut self, id: NodeId, el: &Element) {
        let line = self.node_line(id).unwrap_or(self.line);
        self.line = line;
        let name = el.name();
        if name == "blockquote" {
            if self.quote_depth == 0 {
                self.flush(BlockKind::Quote);
                self.cur.line = line;
                if let Some(c) = attr(el, "cite").filter(|c| !c.trim().is_empty())
                    && self.want_cites
                {
                    self.cur.cite_attr = Some((c.to_string(), line));
                }
            } else {
                self.separate();
            }
            self.quote_depth += 1;
            return;
        }
        if matches!(name, "pre" | "code") {
            self.code_depth += 1;
        }
        if is_block_level(name) {
            // Inside a quote or a link (a card), blocks are paragraphs of one.
            if self.quote_depth > 0 || self.anchor_depth > 0 {
                self.separate();
            } else {
                self.flush(if name == "pre" {
                    BlockKind::Code
                } else {
                    BlockKind::Para
                });
                self.cur.line = line;
            }
        } else if name == "br" {
            self.cur.text.push(' ');
        }
        if self.quote_depth > 0 && matches!(name, "cite" | "footer" | "figcaption") {
            self.attribution_depth += 1;
        }
        if !self.want_cites {
            return;
        }
        match name {
            "a" => {
                self.anchor_depth += 1;
                let Some(href) = attr(el, "href") else {
                    return;
                };
                if is_in_page_jump(href) {
                    return; // a jump within the page (footnote marks, tables of contents)
                }
                let cite = self.push_cite(href, String::new(), Kind::Link, line);
                self.pending.push(Pending {
                    node: id,
                    serial: self.serial,
                    cite,
                    start: self.cur.text.len(),
                    alt: el
                        .attr("title")
                        .or(attr(el, "aria-label"))
                        .map(str::to_string),
                });
            }
            "img" => {
                let alt = el
                    .attr("alt")
                    .or(attr(el, "title"))
                    .unwrap_or("")
                    .to_string();
                if let Some(p) = self.pending.last_mut()
                    && self.anchor_depth > 0
                    && !alt.is_empty()
                {
                    p.alt = Some(alt.clone());
                }
                self.media(
                    el,
                    &["src", "data-src", "data-lazy-src"],
                    &["srcset", "data-srcset"],
                    alt,
                    Kind::Image,
                    line,
                );
            }
            "video" | "audio" => {
                let title = attr(el, "title").unwrap_or("").to_string();
                self.media(el, &["src"], &[], title.clone(), Kind::Image, line);
                self.media(el, &["poster"], &[], title, Kind::Image, line);
            }
            "source" | "track" => {
                let title = el
                    .attr("title")
                    .or(attr(el, "label"))
                    .unwrap_or("")
                    .to_string();
                self.media(el, &["src"], &["srcset"], title, Kind::Image, line);
            }
            "iframe" | "embed" | "frame" => {
                let title = attr(el, "title").unwrap_or("").to_string();
                self.media(el, &["src", "data-src"], &[], title, Kind::Embed, line);
            }
            "object" => {
                let title = attr(el, "title").unwrap_or("").to_string();
                self.media(el, &["data"], &[], title, Kind::Embed, line);
            }
            "q" | "ins" | "del" => {
                if let Some(c) = attr(el, "cite").filter(|c| !c.trim().is_empty()) {
                    let cite = self.push_cite(c, String::new(), Kind::Quote, line);
                    if name == "q" {
                        self.pending.push(Pending {
                            node: id,
                            serial: self.serial,
                            cite,
                            start: self.cur.text.len(),
                            alt: None,
                        });
                    }
                }
            }
            _ => {}
        }
    }

    /// The URLs of a media element: its first present `src`-like attribute
    /// and every distinct candidate of its `srcset`.
    fn media(
        &mut self,
        el: &Element,
        srcs: &[&str],
        srcsets: &[&str],
        text: String,
        kind: Kind,
        line: usize,
    ) {
        let mut seen: Vec<String> = Vec::new();
        if let Some(src) = srcs.iter().find_map(|a| attr(el, a)).map(str::trim)
            && !src.is_empty()
            && !src.starts_with("data:")
        {
            seen.push(src.to_string());
        }
        for set in srcsets.iter().filter_map(|a| attr(el, a)) {
            for candidate in set.split(',') {
                let Some(u) = candidate.split_whitespace().next() else {
                    continue;
                };
                if !u.starts_with("data:") && !seen.iter().any(|s| s == u) {
                    seen.push(u.to_string());
                }
            }
        }
        for u in seen {
            self.push_cite(&u, text.clone(), kind, line);
        }
    }

    fn close(&mut self, id: NodeId, el: &Element) {
        let name = el.name();
        if name == "blockquote" {
            self.quote_depth = self.quote_depth.saturating_sub(1);
            if self.quote_depth == 0 {
                self.flush(BlockKind::Para);
            }
            return;
        }
        if self.quote_depth > 0 && matches!(name, "cite" | "footer" | "figcaption") {
            self.attribution_depth = self.attribution_depth.saturating_sub(1);
        }
        if matches!(name, "a" | "q") {
            if name == "a" {
                self.anchor_depth = self.anchor_depth.saturating_sub(1);
            }
            if let Some(pos) = self.pending.iter().rposition(|p| p.node == id) {
                let p = self.pending.remove(pos);
                if p.serial == self.serial
                    && let Some(c) = self.cur.cites.get_mut(p.cite)
                {
                    let t = self.cur.text.get(p.start..).unwrap_or("");
                    c.text = if t.trim().is_empty() {
                        p.alt.unwrap_or_default()
                    } else {
                        t.to_string()
                    };
                }
            }
        }
        if matches!(name, "pre" | "code") {
            self.code_depth = self.code_depth.saturating_sub(1);
        }
        if is_block_level(name) {
            if self.quote_depth > 0 || self.anchor_depth > 0 {
                self.separate();
            } else {
                self.flush(BlockKind::Para);
            }
        }
    }
}
