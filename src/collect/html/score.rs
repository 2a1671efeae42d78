//! Readability's scoring, on the tree we already parsed: which elements are
//! the article, and which parts of them its cleaning takes out.
//!
//! The real-world corpus's ground truth is what Mozilla's Readability keeps
//! of each page, and readers accept its reader view as "the article"; so
//! this module follows its algorithm (its facts, not its code): elements
//! named like chrome and invisible ones are set aside; every paragraph-like
//! element of 25 characters or more scores 1, plus one per comma, plus one
//! per hundred characters (three at most), for its parent in full, its
//! grandparent by half and the three ancestors above by a third of their
//! level; a container starts from a weight of its tag and ±25 for positive
//! or negative words in its class and id; each score is scaled by the
//! share of text outside links; the best container, moved up to an
//! ancestor that most other good candidates share or that scores higher,
//! is the article, with the siblings that score a fifth of it or are
//! prose paragraphs. Inside it, conditional cleaning drops tables, lists
//! and divisions by link density, lists, images, inputs and embeds, and
//! an article with under 500 characters is tried again with fewer rules.
//! Where no try reaches 500 characters (a short note, a link blog's entry)
//! the named containers of `content` decide instead: Readability would
//! give its longest try, which can leave out most links of a short post.
//!
//! It reads the tree and never changes it: what Readability removes is a
//! set of node numbers here, which the walk that builds citations skips.
//! Every pass is linear in the size of the page.

use std::sync::LazyLock;

use ego_tree::NodeId;
use ego_tree::iter::Edge;
use html5ever::{LocalName, local_name};

use crate::base::prune::Pruning;
use regex::Regex;
use scraper::Node;
use scraper::node::Element;

use super::content::{Chrome, TextMeasure, Texts, contains_ignore_ascii_case, is_chrome};
use super::parse::{Page, attr, node_number};

/// Readability's retry flags.
#[derive(Clone, Copy)]
struct Flags {
    strip_unlikely: bool,
    weight_classes: bool,
    clean_conditionally: bool,
}

/// Readability's name patterns (its defaults, case-insensitive).
struct Patterns {
    unlikely: Pattern,
    maybe: Pattern,
    positive: Pattern,
    negative: Pattern,
    byline: Pattern,
    share: Pattern,
    videos: Pattern,
}

/// A case-insensitive regex and words one of which any ASCII text it
/// matches holds (in any case). Most texts it is asked about (class names,
/// every href of the page) hold none: one Aho-Corasick pass answers those,
/// cheaper than the regex, which runs only on the rest and on non-ASCII
/// text (where `(?i)` also folds `ſ` and the Kelvin sign, which the words'
/// ASCII case folding does not).
struct Pattern {
    re: Regex,
    words: aho_corasick::AhoCorasick,
    /// The regex is just the words as alternatives: in ASCII text a word
    /// found is a match found.
    words_are_the_pattern: bool,
}

impl Pattern {
    /// `re` is matched case-insensitively; `words` must be in every match.
    fn new(re: &str, words: &[&str]) -> Pattern {
        let words_are_the_pattern = words.join("|") == re;
        Pattern {
            re: Regex::new(&format!("(?i){re}")).expect("a valid pattern"),
            words: aho_corasick::AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(words)
                .expect("valid words"),
            words_are_the_pattern,
        }
    }

    fn plain(alternatives: &str) -> Pattern {
        let words: Vec<&str> = alternatives.split('|').collect();
        Pattern::new(alternatives, &words)
    }

    fn is_match(&self, s: &str) -> bool {
        if !s.is_ascii() {
            return self.re.is_match(s);
        }
        if !self.words.is_match(s) {
            return false;
        }
        self.words_are_the_pattern || self.re.is_match(s)
    }
}

impl std::fmt::Display for Pattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.re.fmt(f)
    }
}

static PATTERNS: LazyLock<Patterns> = LazyLock::new(|| Patterns {
    unlikely: Pattern::plain(
        "-ad-|ai2html|banner|breadcrumbs|combx|comment|community|cover-wrap|disqus|extra|footer|gdpr|header|legends|menu|related|remark|replies|rss|shoutbox|sidebar|skyscraper|social|sponsor|supplemental|ad-break|agegate|pagination|pager|popup|yom-remote",
    ),
    maybe: Pattern::plain("and|article|body|column|content|main|mathjax|shadow"),
    positive: Pattern::plain(
        "article|body|content|entry|hentry|h-entry|main|page|pagination|post|text|blog|story",
    ),
    negative: Pattern::new(
        "-ad-|hidden|^hid$| hid$| hid |^hid |banner|combx|comment|com-|contact|footer|gdpr|masthead|media|meta|outbrain|promo|related|scroll|share|shoutbox|sidebar|skyscraper|sponsor|shopping|tags|widget",
        &[
            "-ad-",
            "hid",
            "banner",
            "combx",
            "comment",
            "com-",
            "contact",
            "footer",
            "gdpr",
            "masthead",
            "media",
            "meta",
            "outbrain",
            "promo",
            "related",
            "scroll",
            "share",
            "shoutbox",
            "sidebar",
            "skyscraper",
            "sponsor",
            "shopping",
            "tags",
            "widget",
        ],
    ),
    byline: Pattern::plain("byline|author|dateline|writtenby|p-author"),
    share: Pattern::new(r"(\b|_)(share|sharedaddy)(\b|_)", &["share"]),
    videos: Pattern::new(
        r"//(www\.)?((dailymotion|youtube|youtube-nocookie|player\.vimeo|v\.qq|bilibili|live\.bilibili)\.com|(archive|upload\.wikimedia)\.org|player\.twitch\.tv)",
        &[
            "dailymotion",
            "youtube",
            "vimeo",
            "qq.com",
            "bilibili",
            "archive.org",
            "wikimedia.org",
            "twitch.tv",
        ],
    ),
});

/// Blocks that keep a `<div>` from being read as a paragraph.
fn is_div_to_p_block(name: &LocalName) -> bool {
    matches!(
        *name,
        local_name!("blockquote")
            | local_name!("dl")
            | local_name!("div")
            | local_name!("img")
            | local_name!("ol")
            | local_name!("p")
            | local_name!("pre")
            | local_name!("table")
            | local_name!("ul")
    )
}

/// What an element holds, what was set aside or cleaned left out.
#[derive(Clone, Copy, Default)]
struct Stats {
    /// Characters of text.
    text: u32,
    /// Characters of link text (in-page links count 0.3).
    link: f32,
    commas: u32,
    p: u32,
    img: u32,
    li: u32,
    input: u32,
    /// Embeds that are not known video players.
    embeds: u32,
    /// Embeds of a known video player.
    videos: u32,
    /// Text inside headings.
    heading: u32,
    /// Text inside `span`, `li`, `td` and block elements.
    textish: u32,
    /// Text inside lists.
    list: u32,
    /// Captions and credits: `<figcaption>`, a `caption` or `credit` class.
    captions: u32,
    /// Is or holds a data table.
    data_table: bool,
    /// Tables inside.
    tables: u32,
    /// Element children other than `<br>` and `<hr>`.
    solid_children: u32,
    /// Holds a `div`, `p`, `table`… (Readability's `hasChildBlockElement`).
    block: bool,
    /// Is itself such a block.
    is_block: bool,
    /// Is a `<br>` or `<hr>`.
    is_break: bool,
    /// Element children.
    children: u32,
    /// The one element child's node, when there is exactly one.
    only_child: Option<NodeId>,
    /// Runs of phrasing content among the children, which Readability
    /// wraps in paragraphs of their own (a `<div>`'s loose text).
    runs: u32,
    /// Whether the last child seen continues a run.
    in_run: bool,
    /// Children that are not phrasing content.
    non_phrasing: u32,
    /// Is phrasing content itself.
    is_phrasing: bool,
    /// Reached by the pass that made these figures (not set aside, not
    /// inside what was).
    seen: bool,
}

impl Stats {
    fn add(&mut self, c: &Stats, id: NodeId) {
        self.text += c.text;
        self.link += c.link;
        self.commas += c.commas;
        self.p += c.p;
        self.img += c.img;
        self.li += c.li;
        self.input += c.input;
        self.embeds += c.embeds;
        self.videos += c.videos;
        self.heading += c.heading;
        self.textish += c.textish;
        self.list += c.list;
        self.captions += c.captions;
        self.data_table |= c.data_table;
        self.tables += c.tables;
        self.block |= c.block || c.is_block;
        self.solid_children += u32::from(!c.is_break);
        self.children += 1;
        self.only_child = (self.children == 1).then_some(id);
        if c.is_phrasing {
            if !self.in_run && !c.is_break {
                self.runs += 1;
                self.in_run = true;
            }
        } else {
            self.in_run = false;
            self.non_phrasing += 1;
        }
    }

    fn link_density(&self) -> f32 {
        if self.text == 0 {
            0.0
        } else {
            self.link / self.text as f32
        }
    }
}

/// The article of a page: its roots in document order, and the nodes
/// inside them that Readability's cleaning takes out.
pub(crate) struct Article {
    pub roots: Vec<NodeId>,
    /// By node number: taken out.
    pub dropped: Vec<bool>,
}

/// Readability's article, or `None` when the page has no body or no try
/// finds 500 characters of article text.
///
/// `prose` gives the text an element holds outside links: a name that
/// Readability reads as chrome never sets aside or cleans an element that
/// holds two fifths of the page's prose (a layout wrapper named
/// `sidebar-right` around the article, a share id on its body).
pub(crate) fn article(
    page: &Page,
    body: NodeId,
    texts: &Texts,
    prose: &dyn Fn(NodeId) -> usize,
    listing: &dyn Fn(NodeId) -> bool,
) -> Option<Article> {
    let tries = [
        Flags {
            strip_unlikely: true,
            weight_classes: true,
            clean_conditionally: true,
        },
        Flags {
            strip_unlikely: false,
            weight_classes: true,
            clean_conditionally: true,
        },
        Flags {
            strip_unlikely: false,
            weight_classes: false,
            clean_conditionally: true,
        },
        Flags {
            strip_unlikely: false,
            weight_classes: false,
            clean_conditionally: false,
        },
    ];
    for flags in tries {
        let (len, art) = attempt(page, body, texts, flags, prose, listing)?;
        if len >= 500 {
            return Some(art);
        }
    }
    // Readability gives its longest try; a page with so little prose (a
    // link blog's entry, a short note) is better served by the named
    // containers, which keep every link of a short post.
    None
}

/// Everything one attempt works with, by node number.
struct Work<'p> {
    page: &'p Page,
    /// What each text node holds.
    texts: &'p Texts,
    flags: Flags,
    prose: &'p dyn Fn(NodeId) -> usize,
    /// Whether an element holds more list items than paragraphs.
    listing: &'p dyn Fn(NodeId) -> bool,
    page_prose: usize,
    /// Set aside before scoring (unlikely names, invisible, the byline).
    removed: Vec<bool>,
    stats: Vec<Stats>,
    /// Readability's content score, once an element is a candidate.
    score: Vec<Option<f32>>,
}

fn attempt<'p>(
    page: &'p Page,
    body: NodeId,
    texts: &'p Texts,
    flags: Flags,
    prose: &'p dyn Fn(NodeId) -> usize,
    listing: &'p dyn Fn(NodeId) -> bool,
) -> Option<(u32, Article)> {
    // Node numbers run from 1 to the number of nodes.
    let size = page.html.tree.values().len() + 1;
    let mut w = Work {
        page,
        texts,
        flags,
        prose,
        listing,
        page_prose: prose(body),
        removed: vec![false; size],
        stats: Vec::new(),
        score: vec![None; size],
    };
    w.set_aside(body);
    w.stats = tally(page, body, texts, &w.removed);
    // Readability drops empty blocks before scoring.
    let mut emptied = false;
    for node in page.html.tree.nodes() {
        let n = node_number(node.id());
        if let Node::Element(el) = node.value()
            && matches!(
                el.name.local,
                local_name!("div")
                    | local_name!("section")
                    | local_name!("header")
                    | local_name!("h1")
                    | local_name!("h2")
                    | local_name!("h3")
                    | local_name!("h4")
                    | local_name!("h5")
                    | local_name!("h6")
            )
            && w.stats[n].text == 0
            && w.stats[n].solid_children == 0
            && node.id() != body
        {
            w.removed[n] = true;
            emptied |= w.stats[n].seen;
        }
    }
    // What the others hold changes only when a block the tally counted
    // went (the others marked here sat outside the body or inside what
    // was set aside): else a second tally would give the same figures.
    if emptied {
        w.stats = tally(page, body, texts, &w.removed);
    }
    w.score_paragraphs(body);
    let roots = w.choose(body);
    let mut dropped = w.removed.clone();
    let len = w.clean(&roots, &mut dropped);
    Some((len, Article { roots, dropped }))
}

/// Whether Readability's test of an element's names (its class and id,
/// joined by a space) holds. Most elements have neither, and none of the
/// name patterns matches a lone space: for them no string is built.
fn names_match(el: &Element, test: impl Fn(&str) -> bool) -> bool {
    let (c, i) = (
        attr(el, "class").unwrap_or(""),
        attr(el, "id").unwrap_or(""),
    );
    if c.is_empty() && i.is_empty() {
        return false;
    }
    // One buffer a thread for the joined names: no string a test.
    thread_local! {
        static JOINED: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    }
    JOINED.with(|j| match j.try_borrow_mut() {
        Ok(mut joined) => {
            joined.clear();
            joined.push_str(c);
            joined.push(' ');
            joined.push_str(i);
            test(&joined)
        }
        // A test that itself asks for names (none does today).
        Err(_) => test(&format!("{c} {i}")),
    })
}

impl Work<'_> {
    fn el(&self, id: NodeId) -> Option<&Element> {
        match self.page.html.tree.get(id)?.value() {
            Node::Element(e) => Some(e),
            _ => None,
        }
    }

    fn removed(&self, id: NodeId) -> bool {
        self.removed.get(node_number(id)).copied().unwrap_or(true)
    }

    fn stats(&self, id: NodeId) -> Stats {
        self.stats.get(node_number(id)).copied().unwrap_or_default()
    }

    /// Readability's first walk: what it removes before scoring.
    fn set_aside(&mut self, body: NodeId) {
        let p = &*PATTERNS;
        let Some(body_node) = self.page.html.tree.get(body) else {
            return;
        };
        let mut pruning = Pruning::default();
        let mut table_or_code = 0usize;
        let mut byline_found = false;
        for edge in body_node.traverse() {
            if pruning.hides(&edge) {
                continue;
            }
            match edge {
                Edge::Open(node) => {
                    let Node::Element(el) = node.value() else {
                        continue;
                    };
                    let name = &el.name.local;
                    let byline = !byline_found && self.is_byline(node.id(), el);
                    byline_found |= byline;
                    let remove = node.id() != body
                        && (!is_visible(el)
                            || matches!(
                                *name,
                                local_name!("script")
                                    | local_name!("style")
                                    | local_name!("noscript")
                                    | local_name!("template")
                            )
                            || (attr(el, "aria-modal") == Some("true")
                                && attr(el, "role") == Some("dialog"))
                            || byline
                            || (self.flags.strip_unlikely
                                && *name != local_name!("a")
                                && table_or_code == 0
                                && !self.holds_article(node.id())
                                && {
                                    names_match(el, |s| {
                                        p.unlikely.is_match(s) && !p.maybe.is_match(s)
                                    }) || attr(el, "role").is_some_and(|r| {
                                        matches!(
                                            r,
                                            "menu"
                                                | "menubar"
                                                | "complementary"
                                                | "navigation"
                                                | "alert"
                                                | "alertdialog"
                                                | "dialog"
                                        )
                                    })
                                }));
                    if remove {
                        if let Some(r) = self.removed.get_mut(node_number(node.id())) {
                            *r = true;
                        }
                        pruning.prune(node.id());
                        continue;
                    }
                    if matches!(*name, local_name!("table") | local_name!("code")) {
                        table_or_code += 1;
                    }
                }
                Edge::Close(node) => {
                    if let Node::Element(el) = node.value()
                        && matches!(el.name.local, local_name!("table") | local_name!("code"))
                    {
                        table_or_code = table_or_code.saturating_sub(1);
                    }
                }
            }
        }
    }

    /// Whether an element holds two fifths of the page's prose (as
    /// `content` judges a candidate inside chrome): the
    /// article, whatever its name says. A list is never a layout's
    /// wrapper around the article: a gallery's fifty captions
    /// (`ul.legends`) can outweigh a short story and still not be it.
    fn holds_article(&self, id: NodeId) -> bool {
        self.page_prose >= 200
            && (self.prose)(id) * 5 >= self.page_prose * 2
            && !self.el(id).is_some_and(|e| matches!(e.name(), "ul" | "ol"))
            && !(self.listing)(id)
    }

    /// Readability's byline: named so, or `rel=author`, and short.
    fn is_byline(&self, id: NodeId, el: &Element) -> bool {
        let named = attr(el, "rel") == Some("author")
            || attr(el, "itemprop").is_some_and(|v| v.contains("author"))
            || names_match(el, |s| PATTERNS.byline.is_match(s));
        if !named {
            return false;
        }
        let len: usize = scraper::ElementRef::wrap(self.page.html.tree.get(id).expect("a node"))
            .map(|e| e.text().map(|t| t.trim().chars().count()).sum())
            .unwrap_or(0);
        len > 0 && len < 100
    }

    /// The tag's weight and the class weight: a candidate's first score.
    fn initial(&self, id: NodeId) -> f32 {
        let Some(el) = self.el(id) else {
            return 0.0;
        };
        let base = match el.name() {
            "div" => 5.0,
            "pre" | "td" | "blockquote" => 3.0,
            "address" | "ol" | "ul" | "dl" | "dd" | "dt" | "li" | "form" => -3.0,
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "th" => -5.0,
            _ => 0.0,
        };
        base + self.class_weight(el)
    }

    fn class_weight(&self, el: &Element) -> f32 {
        if !self.flags.weight_classes {
            return 0.0;
        }
        class_weight(el)
    }

    /// A `<div>` holding one paragraph (its own, or its loose text that
    /// Readability wraps in one) and little link text: Readability puts
    /// the paragraph in its place.
    fn is_single_p_div(&self, id: NodeId) -> bool {
        self.el(id)
            .is_some_and(|e| e.name.local == local_name!("div"))
            && single_p(&self.stats(id), |c| self.el(c))
    }

    /// A `<div>` with neither blocks nor loose text: Readability makes it
    /// a paragraph.
    fn is_p_div(&self, id: NodeId) -> bool {
        self.el(id)
            .is_some_and(|e| e.name.local == local_name!("div"))
            && {
                let s = self.stats(id);
                !s.block && s.runs == 0 && !self.is_single_p_div(id)
            }
    }

    /// Adds a paragraph's score to its ancestors.
    fn credit(&mut self, parent: NodeId, text: u32, commas: u32) {
        if text < 25 {
            return;
        }
        let points = 1.0 + (commas + 1) as f32 + (text / 100).min(3) as f32;
        let mut level = 0usize;
        let mut cur = self.page.html.tree.get(parent);
        while let Some(node) = cur {
            if level >= 5 {
                break;
            }
            let id = node.id();
            let is_el = matches!(node.value(), Node::Element(_));
            if !is_el || node.parent().is_none() {
                break;
            }
            cur = node.parent();
            if self.is_single_p_div(id) {
                continue; // replaced by its paragraph
            }
            let n = node_number(id);
            if self.score.get(n).is_some_and(Option::is_none) {
                self.score[n] = Some(self.initial(id));
            }
            let divider = match level {
                0 => 1.0,
                1 => 2.0,
                l => l as f32 * 3.0,
            };
            if let Some(Some(s)) = self.score.get_mut(n) {
                *s += points / divider;
            }
            level += 1;
        }
    }

    /// Scores every paragraph-like element of the page for its ancestors.
    fn score_paragraphs(&mut self, body: NodeId) {
        let Some(body_node) = self.page.html.tree.get(body) else {
            return;
        };
        let mut todo: Vec<(NodeId, u32, u32)> = Vec::new();
        let mut pruning = Pruning::default();
        for edge in body_node.traverse() {
            if pruning.hides(&edge) {
                continue;
            }
            let Edge::Open(node) = edge else {
                continue;
            };
            let Node::Element(el) = node.value() else {
                continue;
            };
            if self.removed(node.id()) {
                pruning.prune(node.id());
                continue;
            }
            let Some(parent) = node.parent() else {
                continue;
            };
            let s = self.stats(node.id());
            let parent_id = if self.is_single_p_div(parent.id()) {
                parent.parent().map_or(parent.id(), |g| g.id())
            } else {
                parent.id()
            };
            match el.name.local {
                local_name!("p")
                | local_name!("td")
                | local_name!("pre")
                | local_name!("section")
                | local_name!("h2")
                | local_name!("h3")
                | local_name!("h4")
                | local_name!("h5")
                | local_name!("h6") => {
                    todo.push((parent_id, s.text, s.commas));
                }
                // Its loose text, one paragraph, is scored for the div's parent.
                local_name!("div") if self.is_single_p_div(node.id()) && s.runs == 1 => {
                    todo.push((parent_id, s.text, s.commas));
                }
                local_name!("div") if self.is_single_p_div(node.id()) => {}
                local_name!("div") if self.is_p_div(node.id()) => {
                    todo.push((parent_id, s.text, s.commas))
                }
                local_name!("div") => {
                    // Runs of inline content become paragraphs of the div.
                    let (mut text, mut commas) = (0u32, 0u32);
                    for c in node.children() {
                        let block = match c.value() {
                            Node::Element(e) => !is_phrasing(&e.name.local, &self.stats(c.id())),
                            _ => false,
                        };
                        if block {
                            if text > 0 {
                                todo.push((node.id(), text, commas));
                            }
                            (text, commas) = (0, 0);
                            continue;
                        }
                        match c.value() {
                            Node::Text(t) => {
                                let m = self.texts.get(c.id(), t);
                                text += m.chars;
                                commas += m.commas;
                            }
                            Node::Element(_) if !self.removed(c.id()) => {
                                let cs = self.stats(c.id());
                                text += cs.text;
                                commas += cs.commas;
                            }
                            _ => {}
                        }
                    }
                    if text > 0 {
                        todo.push((node.id(), text, commas));
                    }
                }
                _ => {}
            }
        }
        for (parent, text, commas) in todo {
            self.credit(parent, text, commas);
        }
        // Each candidate's score, scaled by its text outside links.
        for n in 0..self.score.len() {
            if let Some(s) = self.score[n] {
                let ld = self.stats[n].link_density();
                self.score[n] = Some(s * (1.0 - ld));
            }
        }
    }

    fn score_of(&self, id: NodeId) -> Option<f32> {
        self.score.get(node_number(id)).copied().flatten()
    }

    /// The top candidate and the siblings that go with it.
    fn choose(&mut self, body: NodeId) -> Vec<NodeId> {
        let tree = &self.page.html.tree;
        // The five best candidates, best first (ties: document order).
        let mut top: Vec<(f32, NodeId)> = Vec::new();
        for node in tree.nodes() {
            if let Some(s) = self.score_of(node.id()) {
                let at = top.iter().position(|t| s > t.0).unwrap_or(top.len());
                if at < 5 {
                    top.insert(at, (s, node.id()));
                    top.truncate(5);
                }
            }
        }
        let Some(&(_, mut best)) = top.first() else {
            return vec![body];
        };
        if best == body || self.el(best).is_some_and(|e| e.name() == "body") {
            return vec![body];
        }
        let top_score = top[0].0;
        // An ancestor that three other good candidates share.
        let alternatives: Vec<Vec<NodeId>> = top[1..]
            .iter()
            .filter(|t| top_score > 0.0 && t.0 / top_score >= 0.75)
            .filter_map(|t| tree.get(t.1))
            .map(|n| n.ancestors().map(|a| a.id()).collect())
            .collect();
        if alternatives.len() >= 3 {
            let mut up = tree.get(best).and_then(|n| n.parent());
            while let Some(p) = up {
                if p.id() == body || !matches!(p.value(), Node::Element(_)) {
                    break;
                }
                let shared = alternatives.iter().filter(|a| a.contains(&p.id())).count();
                if shared >= 3 {
                    best = p.id();
                    break;
                }
                up = p.parent();
            }
        }
        let n = node_number(best);
        if self.score.get(n).is_some_and(Option::is_none) {
            self.score[n] = Some(self.initial(best));
        }
        // Up to an ancestor that scores higher, while scores hold a third.
        let mut last = self.score_of(best).unwrap_or(0.0);
        let threshold = last / 3.0;
        let mut up = tree.get(best).and_then(|n| n.parent());
        while let Some(p) = up {
            if p.id() == body || !matches!(p.value(), Node::Element(_)) {
                break;
            }
            let Some(ps) = self.score_of(p.id()) else {
                up = p.parent();
                continue;
            };
            if ps < threshold {
                break;
            }
            if ps > last {
                best = p.id();
                break;
            }
            last = ps;
            up = p.parent();
        }
        // Up through parents that hold nothing else.
        let mut up = tree.get(best).and_then(|n| n.parent());
        while let Some(p) = up {
            if p.id() == body || !matches!(p.value(), Node::Element(_)) {
                break;
            }
            if self.element_children(p.id()).len() != 1 {
                break;
            }
            best = p.id();
            up = p.parent();
        }
        let n = node_number(best);
        if self.score.get(n).is_some_and(Option::is_none) {
            self.score[n] = Some(self.initial(best));
        }
        let best_score = self.score_of(best).unwrap_or(0.0);
        let Some(parent) = tree.get(best).and_then(|n| n.parent()) else {
            return vec![best];
        };
        if !matches!(parent.value(), Node::Element(_)) {
            return vec![best];
        }
        // The siblings that go with it.
        let threshold = (best_score * 0.2).max(10.0);
        let best_class = self.el(best).and_then(|e| attr(e, "class")).unwrap_or("");
        let mut roots = Vec::new();
        for sib in self.element_children(parent.id()) {
            if sib == best {
                roots.push(sib);
                continue;
            }
            let Some(el) = self.el(sib) else { continue };
            // A sibling that says it is chrome (`<aside>`, `#aside`, a
            // `sidebar` column) is not the article's continuation, unless
            // it holds the article's prose.
            if is_chrome(el, false) != Chrome::No && !self.holds_article(sib) {
                continue;
            }
            let bonus = if !best_class.is_empty() && attr(el, "class") == Some(best_class) {
                best_score * 0.2
            } else {
                0.0
            };
            if let Some(s) = self.score_of(sib)
                && s + bonus >= threshold
            {
                roots.push(sib);
                continue;
            }
            let s = self.stats(sib);
            let as_p = el.name() == "p" || self.is_single_p_div(sib) || self.is_p_div(sib);
            if as_p {
                let ld = s.link_density();
                if s.text > 80 && ld < 0.25 {
                    roots.push(sib);
                } else if s.text < 80 && s.text > 0 && ld == 0.0 {
                    let text: String = scraper::ElementRef::wrap(tree.get(sib).expect("a node"))
                        .map(|e| e.text().collect())
                        .unwrap_or_default();
                    let text = text.trim_end();
                    if text.contains(". ") || text.ends_with('.') {
                        roots.push(sib);
                    }
                }
            }
        }
        roots
    }

    /// Element children not set aside.
    fn element_children(&self, id: NodeId) -> Vec<NodeId> {
        self.page.html.tree.get(id).map_or(Vec::new(), |n| {
            n.children()
                .filter(|c| matches!(c.value(), Node::Element(_)) && !self.removed(c.id()))
                .map(|c| c.id())
                .collect()
        })
    }

    /// Readability's cleaning of the article, bottom-up so that a container
    /// is judged on what its cleaned children leave. Marks what it takes
    /// out in `dropped`; gives the length of the text left.
    fn clean(&self, roots: &[NodeId], dropped: &mut [bool]) -> u32 {
        let p = &*PATTERNS;
        // Shares and headers named like chrome, and what is never content.
        for &root in roots {
            let Some(r) = self.page.html.tree.get(root) else {
                continue;
            };
            for node in r.descendants() {
                let Node::Element(el) = node.value() else {
                    continue;
                };
                let n = node_number(node.id());
                let name = el.name();
                let drop = match name {
                    "footer" | "link" | "aside" | "input" | "textarea" | "select" | "button" => {
                        true
                    }
                    "object" | "embed" | "iframe" => !self.is_video(el),
                    "h1" | "h2" => self.class_weight(el) < 0.0,
                    _ => {
                        node.id() != root
                            && names_match(el, |s| p.share.is_match(s))
                            && scraper::ElementRef::wrap(node)
                                .map(|e| e.text().map(|t| t.chars().count()).sum::<usize>())
                                .unwrap_or(0)
                                < 500
                    }
                };
                if drop && let Some(d) = dropped.get_mut(n) {
                    *d = true;
                }
            }
        }
        let mut left = 0u32;
        for &root in roots {
            let stats = tally(self.page, root, self.texts, dropped);
            // Conditional cleaning, bottom-up: a later pass over the
            // tallies, innermost first, each judgement leaving out what
            // was taken out below it.
            left += self.clean_conditionally(root, dropped, &stats);
        }
        left
    }

    /// Conditional cleaning of one root; gives the text left. `first` is
    /// what each element held before, for finding data tables.
    fn clean_conditionally(&self, root: NodeId, dropped: &mut [bool], first: &[Stats]) -> u32 {
        let mut cleaning = Cleaning {
            work: self,
            first,
            dropped,
            figure: 0,
            code: 0,
            data_tables: 0,
        };
        fold(self.page, root, self.texts, &mut cleaning).text
    }

    /// Readability's `_cleanConditionally` judgement of one element.
    fn conditionally_dropped(
        &self,
        id: NodeId,
        el: &Element,
        s: &Stats,
        runs: u32,
        in_figure: bool,
    ) -> bool {
        let name = el.name();
        let weight = self.class_weight(el);
        if weight < 0.0 {
            return !self.holds_article(id);
        }
        // Our one departure from Readability's cleaning: a picture with
        // its short caption or credit (WordPress's `wp-caption`, a
        // pre-HTML5 `<figure>`, a `source` line under a photo) stays,
        // whatever its credit link does to the link density: the image is
        // what the post shows, the credit its source. Under 200 characters
        // of text, however many (empty) paragraphs the markup holds.
        if s.img == 1 && s.captions > 0 && s.li == 0 && s.text < 200 && s.link < 60.0 {
            return false;
        }
        if s.commas >= 10 {
            return false;
        }
        let is_list =
            matches!(name, "ul" | "ol") || (s.text > 0 && s.list as f32 / s.text as f32 > 0.9);
        if s.videos > 0 {
            return false;
        }
        let li = s.li as i64 - 100;
        let p = s.p as i64;
        let img = s.img as i64;
        let ld = s.link_density();
        let heading_density = if s.text == 0 {
            0.0
        } else {
            s.heading as f32 / s.text as f32
        };
        let text_density = if s.text == 0 {
            0.0
        } else {
            s.textish as f32 / s.text as f32
        };
        let remove = (!in_figure && img > 1 && (p as f32 / img as f32) < 0.5)
            || (!is_list && li > p)
            || (s.input as i64 > p / 3)
            || (!is_list
                && !in_figure
                && heading_density < 0.9
                && s.text < 25
                && (img == 0 || img > 2)
                && ld > 0.0)
            || (!is_list && weight < 25.0 && ld > 0.2)
            || (weight >= 25.0 && ld > 0.5)
            || ((s.embeds == 1 && s.text < 75) || s.embeds > 1)
            || (img == 0 && text_density == 0.0 && runs == 0);
        // A list of pictures stays: one picture per item, each item a
        // single element (a list of cards, a picture beside a headline
        // and its teaser, goes as Readability has it).
        if is_list && remove && s.img > 0 && s.img == s.li {
            let element_children = |n: ego_tree::NodeRef<'_, Node>| {
                n.children()
                    .filter(|c| matches!(c.value(), Node::Element(_)))
                    .count()
            };
            let cards = self.page.html.tree.get(id).is_some_and(|n| {
                n.children()
                    .filter(|c| matches!(c.value(), Node::Element(_)))
                    .any(|c| element_children(c) > 1)
            });
            return cards;
        }
        remove
    }

    fn is_video(&self, el: &Element) -> bool {
        el.attrs.iter().any(|(_, v)| PATTERNS.videos.is_match(v))
    }
}

/// Whether Readability sees an element.
fn is_visible(el: &Element) -> bool {
    let mut visible = true;
    for (n, v) in &el.attrs {
        match &*n.local {
            "hidden" => visible = false,
            "aria-hidden" if &**v == "true" => {
                visible &= attr(el, "class").is_some_and(|c| c.contains("fallback-image"))
            }
            "style" => {
                let s: String = v
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .collect::<String>()
                    .to_ascii_lowercase();
                if s.contains("display:none") || s.contains("visibility:hidden") {
                    visible = false;
                }
            }
            _ => {}
        }
    }
    visible
}

/// Readability's class weight: ±25 for the class, ±25 for the id.
pub(crate) fn class_weight(el: &Element) -> f32 {
    let p = &*PATTERNS;
    let mut w = 0.0;
    for v in [attr(el, "class"), attr(el, "id")].into_iter().flatten() {
        if v.is_empty() {
            continue;
        }
        if p.negative.is_match(v) {
            w -= 25.0;
        }
        if p.positive.is_match(v) {
            w += 25.0;
        }
    }
    w
}

fn open_element(el: &Element, anchors: &mut Vec<f32>) {
    if el.name.local == local_name!("a") {
        let hash = attr(el, "href").is_some_and(|h| h.starts_with('#'));
        anchors.push(if hash { 0.3 } else { 1.0 });
    }
}

fn add_text(stack: &mut [Stats], anchors: &[f32], m: TextMeasure) {
    let Some(top) = stack.last_mut() else {
        return;
    };
    let len = m.chars;
    top.text += len;
    if len > 0 && !top.in_run {
        top.runs += 1;
        top.in_run = true;
    }
    if let Some(&w) = anchors.last() {
        top.link += len as f32 * w;
    }
    top.commas += m.commas;
}

/// Folds an element's own facts into what it holds, when it closes.
fn close_element(el: &Element, s: &mut Stats, anchors: &mut Vec<f32>) {
    let name = &el.name.local;
    match *name {
        local_name!("a") => {
            anchors.pop();
        }
        local_name!("p") => s.p += 1,
        // Readability makes a `<div>` without blocks a paragraph, and wraps
        // each run of loose inline content of one with blocks in a
        // paragraph of its own (a picture's link in a thumbnail's div):
        // its cleaning counts those paragraphs.
        local_name!("div") if s.block => s.p += s.runs,
        local_name!("div") => s.p += 1,
        local_name!("img") => s.img += 1,
        local_name!("li") => s.li += 1,
        local_name!("input") => s.input += 1,
        local_name!("object") | local_name!("embed") | local_name!("iframe") => {
            if el.attrs.iter().any(|(_, v)| PATTERNS.videos.is_match(v)) {
                s.videos += 1;
            } else {
                s.embeds += 1;
            }
        }
        local_name!("h1")
        | local_name!("h2")
        | local_name!("h3")
        | local_name!("h4")
        | local_name!("h5")
        | local_name!("h6") => s.heading = s.text,
        local_name!("ul") | local_name!("ol") => s.list = s.text,
        local_name!("table") => s.tables += 1,
        _ => {}
    }
    if matches!(
        *name,
        local_name!("span") | local_name!("li") | local_name!("td")
    ) || is_div_to_p_block(name)
    {
        s.textish = s.text;
    }
    if *name == local_name!("figcaption")
        || attr(el, "class").is_some_and(|c| {
            contains_ignore_ascii_case(c, "caption")
                || contains_ignore_ascii_case(c, "credit")
                // A photo's source: `source`, `image-source`, `photo_source`.
                || c.split(|ch: char| ch.is_ascii_whitespace() || ch == '-' || ch == '_')
                    .any(|w| w.eq_ignore_ascii_case("source"))
        })
    {
        s.captions += 1;
    }
    s.is_block = is_div_to_p_block(name);
    s.is_break = matches!(*name, local_name!("br") | local_name!("hr"));
    s.is_phrasing = is_phrasing(name, s);
}

/// Readability's phrasing content: what a paragraph may hold.
fn is_phrasing(name: &LocalName, s: &Stats) -> bool {
    matches!(
        *name,
        local_name!("abbr")
            | local_name!("audio")
            | local_name!("b")
            | local_name!("bdo")
            | local_name!("br")
            | local_name!("button")
            | local_name!("cite")
            | local_name!("code")
            | local_name!("data")
            | local_name!("datalist")
            | local_name!("dfn")
            | local_name!("em")
            | local_name!("embed")
            | local_name!("i")
            | local_name!("img")
            | local_name!("input")
            | local_name!("kbd")
            | local_name!("label")
            | local_name!("mark")
            | local_name!("math")
            | local_name!("meter")
            | local_name!("noscript")
            | local_name!("object")
            | local_name!("output")
            | local_name!("progress")
            | local_name!("q")
            | local_name!("ruby")
            | local_name!("samp")
            | local_name!("script")
            | local_name!("select")
            | local_name!("small")
            | local_name!("span")
            | local_name!("strong")
            | local_name!("sub")
            | local_name!("sup")
            | local_name!("textarea")
            | local_name!("time")
            | local_name!("var")
            | local_name!("wbr")
    ) || (matches!(
        *name,
        local_name!("a") | local_name!("del") | local_name!("ins")
    ) && !s.block)
}

/// What a bottom-up pass over a subtree (`fold`) does besides summing what
/// each element holds: which elements it skips, and what it makes of each
/// element as it closes.
trait Visit {
    /// Whether an element is left out, with all it holds.
    fn skips(&self, id: NodeId) -> bool;
    fn open(&mut self, _id: NodeId, _el: &Element) {}
    /// What the element holds, its own tag not yet counted; whether it
    /// stays (counts for its parent).
    fn close(&mut self, _id: NodeId, _el: &Element, _held: &Stats) -> bool {
        true
    }
    /// What a staying element holds, its own tag counted.
    fn closed(&mut self, _id: NodeId, _held: &Stats) {}
}

/// One bottom-up pass with a stack: sums what each element under `root`
/// holds, finds data tables by their markup, and gives what the root's
/// level holds in all.
fn fold(page: &Page, root: NodeId, texts: &Texts, v: &mut impl Visit) -> Stats {
    let Some(r) = page.html.tree.get(root) else {
        return Stats::default();
    };
    let mut stack: Vec<Stats> = vec![Stats::default()];
    let mut anchors: Vec<f32> = Vec::new();
    // Per open table: rows, widest row, whether its markup says data.
    let mut tables: Vec<(u32, u32, bool)> = Vec::new();
    let mut cells = 0u32;
    let mut pruning = Pruning::default();
    for edge in r.traverse() {
        if pruning.hides(&edge) {
            continue;
        }
        match edge {
            Edge::Open(node) => match node.value() {
                Node::Element(el) => {
                    if v.skips(node.id()) {
                        pruning.prune(node.id());
                        continue;
                    }
                    open_element(el, &mut anchors);
                    match el.name.local {
                        local_name!("table") => tables.push((0, 0, false)),
                        local_name!("tr") => {
                            cells = 0;
                            if let Some(t) = tables.last_mut() {
                                t.0 += 1;
                            }
                        }
                        local_name!("td") | local_name!("th") => {
                            cells += 1;
                            if let Some(t) = tables.last_mut() {
                                t.1 = t.1.max(cells);
                            }
                        }
                        _ => {}
                    }
                    if matches!(
                        el.name.local,
                        local_name!("th")
                            | local_name!("thead")
                            | local_name!("tfoot")
                            | local_name!("caption")
                            | local_name!("col")
                            | local_name!("colgroup")
                    ) && let Some(t) = tables.last_mut()
                    {
                        t.2 = true;
                    }
                    v.open(node.id(), el);
                    stack.push(Stats::default());
                }
                Node::Text(t) => add_text(&mut stack, &anchors, texts.get(node.id(), t)),
                _ => {}
            },
            Edge::Close(node) => {
                let Node::Element(el) = node.value() else {
                    continue;
                };
                let mut s = stack.pop().unwrap_or_default();
                if el.name.local == local_name!("table") {
                    let (rows, cols, marked) = tables.pop().unwrap_or_default();
                    // A table holding a table is layout.
                    let data = attr(el, "role") != Some("presentation")
                        && attr(el, "datatable") != Some("0")
                        && (attr(el, "summary").is_some()
                            || (s.tables == 0
                                && (marked || rows >= 10 || cols > 4 || rows * cols > 10)));
                    s.data_table |= data;
                }
                let stays = v.close(node.id(), el, &s);
                close_element(el, &mut s, &mut anchors);
                s.seen = true;
                if stays {
                    if let Some(top) = stack.last_mut() {
                        top.add(&s, node.id());
                    }
                    v.closed(node.id(), &s);
                }
            }
        }
    }
    stack.first().copied().unwrap_or_default()
}

/// `fold` that records what each element holds, by node number.
struct Tally<'a> {
    skip: &'a [bool],
    out: Vec<Stats>,
}

impl Visit for Tally<'_> {
    fn skips(&self, id: NodeId) -> bool {
        self.skip.get(node_number(id)).copied().unwrap_or(true)
    }

    fn closed(&mut self, id: NodeId, held: &Stats) {
        if let Some(o) = self.out.get_mut(node_number(id)) {
            *o = *held;
        }
    }
}

/// What each element under `root` holds (by node number), leaving out what
/// `skip` marks, and data tables found by their markup.
fn tally(page: &Page, root: NodeId, texts: &Texts, skip: &[bool]) -> Vec<Stats> {
    let mut t = Tally {
        skip,
        out: vec![Stats::default(); skip.len()],
    };
    fold(page, root, texts, &mut t);
    t.out
}

/// `fold` as Readability's conditional cleaning: judges tables, lists and
/// divisions as they close, on what is left of them once what was taken
/// out below is gone, and marks what it takes out.
struct Cleaning<'w, 'p, 'd> {
    work: &'w Work<'p>,
    /// What each element held before cleaning.
    first: &'w [Stats],
    dropped: &'d mut [bool],
    /// Open `<figure>`s, `<code>`s and data tables.
    figure: usize,
    code: usize,
    data_tables: usize,
}

impl Cleaning<'_, '_, '_> {
    fn holds_data(&self, id: NodeId) -> bool {
        self.first
            .get(node_number(id))
            .is_some_and(|s| s.data_table)
    }
}

impl Visit for Cleaning<'_, '_, '_> {
    fn skips(&self, id: NodeId) -> bool {
        self.dropped.get(node_number(id)).copied().unwrap_or(true)
    }

    fn open(&mut self, id: NodeId, el: &Element) {
        match el.name() {
            "figure" => self.figure += 1,
            "code" => self.code += 1,
            "table" if self.holds_data(id) => self.data_tables += 1,
            _ => {}
        }
    }

    fn close(&mut self, id: NodeId, el: &Element, held: &Stats) -> bool {
        let name = el.name();
        match name {
            "figure" => self.figure = self.figure.saturating_sub(1),
            "code" => self.code = self.code.saturating_sub(1),
            "table" if self.holds_data(id) => self.data_tables -= 1,
            _ => {}
        }
        let w = self.work;
        // A div without blocks inside is a paragraph to Readability.
        let before = self.first.get(node_number(id)).copied().unwrap_or_default();
        let judged = matches!(name, "table" | "ul" | "form" | "fieldset")
            || (name == "div"
                && (before.block || before.runs > 0)
                && !single_p(&before, |c| w.el(c)));
        let drop = judged
            && w.flags.clean_conditionally
            && self.code == 0
            && self.data_tables == 0
            && !self.holds_data(id)
            && w.conditionally_dropped(id, el, held, before.runs, self.figure > 0);
        if drop && let Some(d) = self.dropped.get_mut(node_number(id)) {
            *d = true;
        }
        !drop
    }
}

/// Whether an element's children, once loose text is wrapped, are one
/// paragraph, with little link text.
fn single_p<'a>(s: &Stats, el: impl Fn(NodeId) -> Option<&'a Element>) -> bool {
    let one = (s.runs == 1 && s.non_phrasing == 0)
        || (s.runs == 0
            && s.children == 1
            && s.only_child.and_then(el).is_some_and(|e| e.name() == "p"));
    one && s.link_density() < 0.25
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_name_pattern_matches_an_element_without_class_or_id() {
        // `names_match` answers "no" for such an element without asking.
        let p = &*PATTERNS;
        for re in [&p.unlikely, &p.maybe, &p.byline, &p.share] {
            assert!(!re.is_match(" "), "{re}");
        }
        assert!(p.unlikely.is_match("sidebar "));
        assert!(p.share.is_match(" share-buttons"));
    }

    fn all_patterns() -> [&'static Pattern; 7] {
        let p = &*PATTERNS;
        [
            &p.unlikely,
            &p.maybe,
            &p.positive,
            &p.negative,
            &p.byline,
            &p.share,
            &p.videos,
        ]
    }

    #[test]
    fn the_words_answer_as_the_regex_does() {
        let cases = [
            (
                "entry-content post",
                [false, true, true, false, false, false, false],
            ),
            (
                "SideBar widget",
                [true, false, false, true, false, false, false],
            ),
            ("hid", [false, false, false, true, false, false, false]),
            ("hidx", [false, false, false, false, false, false, false]),
            ("x_share_y", [false, false, false, true, false, true, false]),
            ("xshare", [false, false, false, true, false, false, false]),
            (
                "https://www.YouTube.com/embed/x",
                [false, false, false, false, false, false, true],
            ),
            (
                "https://youtube.example/x",
                [false, false, false, false, false, false, false],
            ),
            ("ſidebar", [true, false, false, true, false, false, false]),
            (
                "by-author",
                [false, false, false, false, true, false, false],
            ),
        ];
        for (s, want) in cases {
            for (p, w) in all_patterns().into_iter().zip(want) {
                assert_eq!(p.re.is_match(s), w, "{p} on {s:?}");
                assert_eq!(p.is_match(s), w, "{p} on {s:?}");
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(crate::collect::proptests::runs(2048))]

        /// Class names and hrefs built from the patterns' own pieces.
        #[test]
        fn a_pattern_matches_where_its_regex_does(
            pieces in proptest::collection::vec(proptest::sample::select(&[
                "side", "BAR", "bar", "hid", " ", "-", "_", "ad", "share", "SHARE", "d", "en",
                "try", "//", "www.", "youtube", ".com", "vimeo", "player.", "ſ", "K", "\u{212a}",
                "é", "x", "author", "archive", ".org", "com", "meta", "tags", "main",
            ][..]), 0..10)
        ) {
            let s = pieces.concat();
            for p in all_patterns() {
                proptest::prop_assert_eq!(p.is_match(&s), p.re.is_match(&s), "{} on {:?}", p, s);
            }
        }
    }
}
