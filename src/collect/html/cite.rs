//! Citation building: walks the content roots in document order and turns
//! them into `Block`s for `analyze` — paragraphs and quotes with their
//! text, and every link, image, embed and `cite` in them with its anchor
//! text and line.

use ego_tree::NodeId;
use ego_tree::iter::Edge;
use html5ever::local_name;

use crate::base::prune::Pruning;
use scraper::Node;
use scraper::node::Element;

use super::content::{Chrome, Mass, contains_ignore_ascii_case, is_chrome};
use super::parse::{Page, attr};
use crate::base::srcset;
use crate::base::text::{newlines, newlines_before};
use crate::base::web::is_in_page_jump;
use crate::collect::analyze::{Block, BlockKind, Cite, is_a_count};
use crate::collect::bare::bare_urls;
use crate::model::Kind;

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

/// An `<a>` or `<q>` whose text is still being read.
struct Pending {
    node: NodeId,
    serial: usize,
    cite: usize,
    start: usize,
    alt: Option<String>,
}

/// Walks content roots in document order and builds blocks.
pub(crate) struct Builder<'p> {
    page: &'p Page,
    /// The text each element holds, when chrome names are to be weighed
    /// against it.
    mass: Option<&'p Mass>,
    /// Open `<p>` elements.
    para_depth: usize,
    /// Open captions and credits (`<figcaption>`, `wp-caption-text`…).
    captions: Vec<NodeId>,
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
    /// The largest candidate of the last `<source>` of an open `<picture>`:
    /// what its `<img>` cites when it gives no address of its own.
    picture_source: Option<String>,
}

impl<'p> Builder<'p> {
    pub(crate) fn new(page: &'p Page, offset: usize, want_cites: bool, all_links: bool) -> Self {
        Builder {
            page,
            mass: None,
            para_depth: 0,
            captions: Vec::new(),
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
            picture_source: None,
        }
    }

    pub(crate) fn finish(mut self) -> Vec<Block> {
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
        let mut done = std::mem::replace(&mut self.cur, Block::new(next, self.line));
        // A link to nowhere that shows no words (an arrow icon, a carousel
        // dot, a count of likes) is a control for the page's scripts, not
        // an author's placeholder: a reader has nothing to follow.
        done.cites.retain(|c| {
            !(c.kind == Kind::Link
                && is_nowhere(&c.raw)
                && (c.text.trim().is_empty() || is_a_count(&c.text)))
        });
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

    /// Weighs chrome names against the text elements hold.
    pub(crate) fn with_mass(mut self, mass: &'p Mass) -> Self {
        self.mass = Some(mass);
        self
    }

    /// Whether an element that only its name marks as chrome is kept: an
    /// inline element inside a paragraph (a topic link styled `meta`), or
    /// an element that holds at least half the prose of the content root
    /// (a layout wrapper around the article, whatever it is called).
    fn keeps_named_chrome(&self, id: NodeId, el: &Element, root_prose: usize) -> bool {
        if self.para_depth > 0 && !is_block_level(el.name()) {
            return true;
        }
        self.mass
            .is_some_and(|m| root_prose >= 200 && m.prose(id) * 2 >= root_prose)
    }

    /// A container of links rather than prose (see `Mass::is_link_farm`),
    /// unless it holds the article.
    fn is_link_farm(&self, id: NodeId, el: &Element, root_prose: usize) -> bool {
        let Some(m) = self.mass else {
            return false;
        };
        let _ = el;
        // A page with next to no prose: nothing to tell a farm from
        // (Readability retries such pages without cleaning them).
        let page_prose = m.prose(self.page.html.root_element().id());
        !self.all_links
            && page_prose >= 100
            && self.quote_depth == 0
            && self.anchor_depth == 0
            && m.is_link_farm(id)
            && !(root_prose >= 200 && m.prose(id) * 2 >= root_prose)
    }

    pub(crate) fn walk(&mut self, root: NodeId) {
        let Some(root) = self.page.html.tree.get(root) else {
            return;
        };
        let root_prose = self.mass.map_or(0, |m| m.prose(root.id()));
        let mut pruning = Pruning::default();
        for edge in root.traverse() {
            if pruning.hides(&edge) {
                continue;
            }
            match edge {
                Edge::Open(node) => match node.value() {
                    Node::Element(el) => {
                        let chrome = if node.id() == root.id() || self.all_links {
                            Chrome::No
                        } else {
                            is_chrome(el, self.quote_depth > 0)
                        };
                        let chrome = match chrome {
                            Chrome::ByName
                                if self.keeps_named_chrome(node.id(), el, root_prose) =>
                            {
                                Chrome::No
                            }
                            c => c,
                        };
                        if chrome != Chrome::No || self.is_link_farm(node.id(), el, root_prose) {
                            pruning.prune(node.id());
                            continue;
                        }
                        if el.name.local == local_name!("p") {
                            self.para_depth += 1;
                        }
                        if is_caption(el) {
                            self.captions.push(node.id());
                        }
                        if !self.all_links
                            && matches!(
                                el.name.local,
                                local_name!("script")
                                    | local_name!("style")
                                    | local_name!("template")
                            )
                        {
                            pruning.prune(node.id());
                            continue;
                        }
                        self.open(node.id(), el);
                    }
                    Node::Text(t) => self.text(node.id(), &t.text),
                    _ => {}
                },
                Edge::Close(node) => {
                    if let Node::Element(el) = node.value() {
                        if el.name.local == local_name!("p") {
                            self.para_depth = self.para_depth.saturating_sub(1);
                        }
                        if self.captions.last() == Some(&node.id()) {
                            self.captions.pop();
                        }
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
            // space before them must not shift line counting. Links and
            // cites already open in the block started in that white space:
            // they now start where the text does, or their anchor text
            // would lose as many characters as there was white space.
            self.cur.text.clear();
            self.cur.line = line;
            for p in self.pending.iter_mut().filter(|p| p.serial == self.serial) {
                p.start = 0;
            }
            for c in &mut self.cur.cites {
                c.at = 0;
            }
        }
        let base = self.cur.text.len();
        self.cur.text.push_str(t);
        if !self.captions.is_empty() && !t.trim().is_empty() {
            self.cur.caption = true;
        }
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
                self.cur.pull_quote = is_pull_quote(el);
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
        if self.quote_depth > 0 && matches!(name, "table" | "ul" | "ol" | "dl") {
            self.cur.tabular = true;
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
                self.cur.heading = matches!(name, "h1" | "h2" | "h3" | "h4" | "h5" | "h6");
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
                    // A jump within the page (a footnote mark, a table of
                    // contents) cites nothing itself, but a sentence with
                    // a footnote mark has its source.
                    self.cur.footnotes.push(self.cur.text.len());
                    return;
                }
                if is_script_control(el, href) || (is_nowhere(href) && self.in_form(id)) {
                    return; // a button drawn as a link: it cites nothing
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
                let fallback = self.picture_source.take();
                if let Some(url) = image_url(el).or(fallback) {
                    self.push_cite(&url, alt, Kind::Image, line);
                }
            }
            "video" | "audio" => {
                let title = attr(el, "title").unwrap_or("").to_string();
                for a in ["src", "poster"] {
                    if let Some(url) = usable(attr(el, a)) {
                        self.push_cite(url, title.clone(), Kind::Image, line);
                    }
                }
            }
            // A <picture>'s sources are other sizes of its one image, which
            // its <img> cites; a video's or audio's sources are the media.
            "source" if self.in_picture(id) => {
                if self.picture_source.is_some() {
                    return; // the first source is the one preferred
                }
                self.picture_source = ["srcset", "data-srcset"]
                    .iter()
                    .filter_map(|a| attr(el, a))
                    .find_map(|set| usable(srcset::largest(set)))
                    .map(str::to_string);
            }
            "source" | "track" => {
                let title = el
                    .attr("title")
                    .or(attr(el, "label"))
                    .unwrap_or("")
                    .to_string();
                if let Some(url) = usable(attr(el, "src")) {
                    self.push_cite(url, title, Kind::Image, line);
                }
            }
            "iframe" | "embed" | "frame" | "object" => {
                let title = attr(el, "title").unwrap_or("").to_string();
                let srcs: &[&str] = if name == "object" {
                    &["data"]
                } else {
                    &["src", "data-src"]
                };
                if let Some(url) = srcs.iter().find_map(|a| usable(attr(el, a))) {
                    self.push_cite(url, title, Kind::Embed, line);
                }
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

    /// Whether an element stands inside a `<form>`: a link to nowhere
    /// there is one of the form's controls.
    fn in_form(&self, id: NodeId) -> bool {
        self.page.html.tree.get(id).is_some_and(|n| {
            n.ancestors()
                .any(|a| matches!(a.value(), Node::Element(e) if e.name() == "form"))
        })
    }

    /// Whether a `<source>` stands in a `<picture>`.
    fn in_picture(&self, id: NodeId) -> bool {
        self.page
            .html
            .tree
            .get(id)
            .and_then(|n| n.parent())
            .is_some_and(|p| matches!(p.value(), Node::Element(e) if e.name() == "picture"))
    }

    fn close(&mut self, id: NodeId, el: &Element) {
        let name = el.name();
        if name == "picture" {
            self.picture_source = None;
        }
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
                    // A link to nowhere with no words of its own, only a
                    // tooltip or an icon's alt ("Previous", "Next"), is a
                    // control: it keeps no text, and is dropped with the
                    // wordless ones.
                    c.text = if !t.trim().is_empty() {
                        t.to_string()
                    } else if is_nowhere(&c.raw) {
                        String::new()
                    } else {
                        p.alt.unwrap_or_default()
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

/// A URL worth citing: not empty, not inline `data:`.
fn usable(url: Option<&str>) -> Option<&str> {
    url.map(str::trim)
        .filter(|u| !u.is_empty() && !u.get(..5).is_some_and(|p| p.eq_ignore_ascii_case("data:")))
}

/// The one URL an `<img>` cites: its `src`, or, when it has none, the
/// largest candidate of its `srcset` (the other candidates are other sizes
/// of the same image, not citations). A lazy-loading image (`lazy` in its
/// class) keeps its real address in `data-src` or `data-srcset` and a
/// placeholder in `src`: those come first.
fn image_url(el: &Element) -> Option<String> {
    let lazy = attr(el, "class").is_some_and(|c| c.to_ascii_lowercase().contains("lazy"));
    // (attribute, whether it is a srcset), in the order they are tried.
    const PLAIN: &[(&str, bool)] = &[
        ("src", false),
        ("data-src", false),
        ("data-lazy-src", false),
        ("data-original", false),
        ("srcset", true),
        ("data-srcset", true),
        ("data-lazy-srcset", true),
    ];
    const LAZY: &[(&str, bool)] = &[
        ("data-src", false),
        ("data-lazy-src", false),
        ("data-original", false),
        ("data-srcset", true),
        ("data-lazy-srcset", true),
        ("src", false),
        ("srcset", true),
    ];
    let order = if lazy { LAZY } else { PLAIN };
    order
        .iter()
        .find_map(|&(a, is_set)| {
            let v = attr(el, a);
            usable(if is_set {
                v.and_then(srcset::largest)
            } else {
                v
            })
        })
        .map(str::to_string)
}

/// A link that only drives a script: its href goes nowhere (`#`, empty,
/// `javascript:`) and the element says it is a control (a button role, an
/// event handler, a toggle's data or ARIA attributes, a button's class).
/// An author's placeholder in prose (`<a href="#">full table</a>`) says
/// none of this, and stays a citation with an empty link.
fn is_script_control(el: &Element, href: &str) -> bool {
    is_nowhere(href)
        && el.attrs.iter().any(|(n, v)| {
            let n: &str = &n.local;
            match n {
                "role" => matches!(
                    v.trim(),
                    "button" | "tab" | "menuitem" | "switch" | "checkbox" | "option" | "slider"
                ),
                "class" => v.split_ascii_whitespace().any(|c| {
                    c.split(['-', '_']).any(|w| {
                        matches!(
                            w.to_ascii_lowercase().as_str(),
                            "btn"
                                | "button"
                                | "toggle"
                                | "toggler"
                                | "trigger"
                                | "dropdown"
                                | "expand"
                                | "collapse"
                                | "close"
                                | "play"
                                | "prev"
                                | "previous"
                                | "next"
                                | "more"
                                | "less"
                                | "share"
                                | "menu"
                                | "tab"
                                | "arrow"
                                | "slider"
                                | "carousel"
                                | "pager"
                                | "modal"
                                | "popup"
                        )
                    })
                }),
                "aria-expanded" | "aria-controls" | "aria-haspopup" | "aria-pressed"
                | "data-toggle" | "data-bs-toggle" | "data-target" | "data-bs-target"
                | "data-action" | "data-dismiss" | "data-bs-dismiss" => true,
                // Any data attribute on a link to nowhere is a hook for the
                // page's scripts (`data-0rz-url`, `data-share`…): an
                // author's placeholder in prose carries none.
                _ if n.starts_with("data-") => true,
                _ => n.len() > 2 && n.as_bytes()[..2].eq_ignore_ascii_case(b"on"),
            }
        })
}

/// A blockquote the page styles as a pull quote: the post's own words.
fn is_pull_quote(el: &Element) -> bool {
    // None of the words holds white space: the class is searched whole,
    // in any ASCII case, with no lower-cased copy.
    attr(el, "class").is_some_and(|c| {
        ["pullquote", "pull-quote", "pull_quote"]
            .iter()
            .any(|w| contains_ignore_ascii_case(c, w))
    })
}

/// A picture's caption or credit line.
fn is_caption(el: &Element) -> bool {
    // Runs for every element of the content: no lower-cased copy of its
    // class (neither word holds white space, so the class is searched whole).
    el.name.local == local_name!("figcaption")
        || attr(el, "class").is_some_and(|c| {
            contains_ignore_ascii_case(c, "caption") || contains_ignore_ascii_case(c, "credit")
        })
}

/// An href that goes nowhere: empty, `#`, `#!` or `javascript:`.
fn is_nowhere(href: &str) -> bool {
    let h = href.trim();
    h.is_empty()
        || h == "#"
        || h == "#!"
        || h.get(..11)
            .is_some_and(|p| p.eq_ignore_ascii_case("javascript:"))
}

#[cfg(test)]
mod tests {
    use super::super::{ContentRule, extract, parse};
    use crate::collect::analyze::{PostCtx, citations};
    use crate::model::{Citation, Kind, Missing};

    fn collect(html: &str) -> Vec<Citation> {
        let page = parse(html);
        let rule = ContentRule {
            selector: None,
            all_links: false,
            fragment: true,
        };
        let blocks = extract(&page, &rule, 0).expect("content").blocks;
        let base = url::Url::parse("https://blog.example/post/").expect("url");
        let mut out = Vec::new();
        citations(
            &PostCtx {
                post: "post",
                base: Some(&base),
            },
            &blocks,
            &mut out,
        );
        out
    }

    #[test]
    fn script_hooks_tooltips_and_form_links_are_controls_not_placeholders() {
        let out = collect(
            r##"<p>Read <a href="#">the full table</a> before the vote.</p>
<div class="forward"><form method="POST" action="/create"><a href="#">Send</a></form>
<a href="#" data-0rz-url="true"><img src="icon.gif">產生短網址</a></div>
<div class="news_slider"><a href="#" class="prev" title="Previous"><img src="x.gif" alt=""></a>
<a href="#" class="next" title="Next"><img src="x.gif" alt=""></a>
<a href="#" class="more-link">More stories</a></div>"##,
        );
        let empty: Vec<(&str, Option<Missing>)> = out
            .iter()
            .filter(|c| c.kind == Kind::Unlinked)
            .map(|c| (c.text.as_str(), c.missing))
            .collect();
        assert_eq!(empty, vec![("the full table", Some(Missing::EmptyLink))]);
    }

    #[test]
    fn a_blockquote_styled_as_a_pull_quote_is_the_posts_own_words() {
        let out = collect(
            r#"<p>Maybe I should define literally.</p>
<blockquote class="graf--pullquote pullquote">“Literally means actually.”</blockquote>
<p>People say it all the time.</p>
<blockquote>“Literally is the most misused word,” a reader wrote.</blockquote>"#,
        );
        let quotes: Vec<&str> = out
            .iter()
            .filter(|c| c.kind == Kind::Unlinked)
            .filter_map(|c| c.quote.as_deref())
            .collect();
        assert_eq!(
            quotes,
            vec!["“Literally is the most misused word,” a reader wrote."]
        );
    }

    #[test]
    fn a_heading_ending_in_a_colon_introduces_no_quote() {
        let out = collect(
            r#"<h4>Wrap Up:</h4><blockquote>Shovel Knight is the kind of game people write love letters about</blockquote>
<p>Jason Snell:</p><blockquote>You should never use an ad rate card to estimate revenue.</blockquote>"#,
        );
        let rows: Vec<&str> = out
            .iter()
            .filter(|c| c.kind == Kind::Unlinked)
            .map(|c| c.text.as_str())
            .collect();
        assert_eq!(rows, vec!["Jason Snell"]);
    }
}
