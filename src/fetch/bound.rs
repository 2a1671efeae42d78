//! How much of a fetched page may be parsed: a page built to take minutes
//! of a parser's time (markup nested thousands of levels deep, formatting
//! elements that the tree builder re-opens on every word) is cut where its
//! parse would stop being cheap, and the cut is said in the check's detail.
//!
//! The bound is found by the parser itself, not guessed from the bytes:
//! `parseable` runs html5ever over the page, in small pieces, with a sink
//! that builds no tree but counts what the tree builder asks of it (each
//! look at an element on its stack or list, each node it moves) and the
//! depth of each element it places. The first piece that would take the
//! count past `LIMITS` ends the parse, and the page is cut before it: the
//! real parse of what is left does no more than `LIMITS` allows. The count
//! is deterministic, never a clock, so the same bytes are always cut at
//! the same place and the text of a page does not change with the load of
//! the machine.
//!
//! Collecting bounds its parse differently (`base::nesting`, a linear
//! pre-scan that never truncates, for it must keep every citation); see
//! there why both exist.
//!
//! Pure: no I/O. Whoever parses a fetched body (the store's text and
//! requisites, the offline page) parses `parseable(html).html` instead.

use std::borrow::Cow;
use std::cell::{Cell, OnceCell};
use std::rc::Rc;

use html5ever::interface::{ElementFlags, NodeOrText, QuirksMode, TreeSink};
use html5ever::tendril::{StrTendril, TendrilSink};
use html5ever::tree_builder::TreeBuilderOpts;
use html5ever::{Attribute, ParseOpts, QualName, local_name, ns};

/// What one parse may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Elements nested deeper than this end the parse (browsers stop
    /// nesting at 512 too; the tree walkers after the parser recurse).
    pub max_depth: u32,
    /// Steps of the tree builder: looks at an element of its stack of open
    /// elements or its list of formatting elements, and nodes it moves. A
    /// long ordinary page costs well under a million.
    pub max_work: u64,
}

/// The limits every parse of a fetched body keeps to.
pub const LIMITS: Limits = Limits {
    max_depth: 512,
    max_work: 20_000_000,
};

/// The parse is fed this many bytes at a time: the finest a cut can be.
const PIECE: usize = 1024;

/// Why a page was cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// Elements nested deeper than `Limits::max_depth`.
    Depth(u32),
    /// The tree builder's work went past `Limits::max_work`.
    Work,
}

/// Where a page was cut, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cut {
    /// Bytes of the page that are parsed.
    pub kept: usize,
    /// Bytes of the whole page.
    pub total: usize,
    pub why: Why,
}

impl Cut {
    /// One line for a check's detail.
    pub fn note(&self) -> String {
        let why = match self.why {
            Why::Depth(d) => format!("markup nested more than {d} levels deep"),
            Why::Work => "markup that would take too long to parse".to_string(),
        };
        format!(
            "only the first {} of {} bytes of the page were read for its text and requisites: {why}",
            self.kept, self.total
        )
    }
}

/// A page, or as much of it as may be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parseable<'a> {
    pub html: &'a str,
    /// `None` when the whole page may be parsed.
    pub cut: Option<Cut>,
}

/// As much of `html` as may be parsed within `LIMITS`.
pub fn parseable(html: &str) -> Parseable<'_> {
    parseable_within(html, LIMITS)
}

/// As much of `html` as may be parsed within `limits`.
pub fn parseable_within(html: &str, limits: Limits) -> Parseable<'_> {
    let counts = Rc::new(Counts::default());
    let sink = Counter {
        counts: counts.clone(),
        document: Node::new(None, 0),
    };
    let opts = ParseOpts {
        tree_builder: TreeBuilderOpts {
            // `<noscript>` parsed as markup is the dearer reading of a page.
            scripting_enabled: false,
            ..Default::default()
        },
        ..Default::default()
    };
    let mut parser = html5ever::parse_document(sink, opts);
    let mut at = 0;
    while at < html.len() {
        let end = crate::base::text::floor_char_boundary(html, at + PIECE);
        // A piece always moves on, even past a char longer than a piece.
        let end = if end <= at {
            html[at..]
                .char_indices()
                .nth(1)
                .map_or(html.len(), |(i, _)| at + i)
        } else {
            end
        };
        parser.process(StrTendril::from_slice(&html[at..end]));
        let why = if counts.depth.get() > limits.max_depth {
            Some(Why::Depth(limits.max_depth))
        } else if counts.work.get() > limits.max_work {
            Some(Why::Work)
        } else {
            None
        };
        if let Some(why) = why {
            return Parseable {
                html: &html[..at],
                cut: Some(Cut {
                    kept: at,
                    total: html.len(),
                    why,
                }),
            };
        }
        at = end;
    }
    Parseable { html, cut: None }
}

/// What the tree builder has cost so far.
#[derive(Default)]
struct Counts {
    work: Cell<u64>,
    depth: Cell<u32>,
}

impl Counts {
    fn add(&self, n: u64) {
        self.work.set(self.work.get().saturating_add(n));
    }
}

/// A node as the counting sink keeps it: only what the tree builder asks
/// about. Nodes live as long as the tree builder holds them.
struct Node {
    /// `None` for the document, comments and other non-elements.
    name: Option<QualName>,
    depth: Cell<u32>,
    children: Cell<u64>,
    template: OnceCell<Handle>,
}

type Handle = Rc<Node>;

impl Node {
    fn new(name: Option<QualName>, depth: u32) -> Handle {
        Rc::new(Node {
            name,
            depth: Cell::new(depth),
            children: Cell::new(0),
            template: OnceCell::new(),
        })
    }
}

/// The sink that builds no tree: it answers the tree builder's questions
/// and counts them.
struct Counter {
    counts: Rc<Counts>,
    document: Handle,
}

/// The name asked for a node that is not an element (the tree builder
/// never does; answering anything is better than a panic).
static NO_NAME: std::sync::LazyLock<QualName> =
    std::sync::LazyLock::new(|| QualName::new(None, ns!(html), local_name!("")));

impl Counter {
    /// `child` is placed under `parent`.
    fn place(&self, parent: &Handle, child: &NodeOrText<Handle>) {
        self.counts.add(1);
        parent.children.set(parent.children.get() + 1);
        if let NodeOrText::AppendNode(node) = child {
            let depth = parent.depth.get().saturating_add(1);
            node.depth.set(depth);
            if depth > self.counts.depth.get() {
                self.counts.depth.set(depth);
            }
        }
    }
}

impl TreeSink for Counter {
    type Handle = Handle;
    type Output = ();
    type ElemName<'a> = &'a QualName;

    fn finish(self) {}

    fn parse_error(&self, _msg: Cow<'static, str>) {}

    fn get_document(&self) -> Handle {
        self.document.clone()
    }

    fn elem_name<'a>(&'a self, target: &'a Handle) -> &'a QualName {
        self.counts.add(1);
        target.name.as_ref().unwrap_or(&NO_NAME)
    }

    fn create_element(&self, name: QualName, _: Vec<Attribute>, flags: ElementFlags) -> Handle {
        self.counts.add(1);
        let node = Node::new(Some(name), 0);
        if flags.template {
            let _ = node.template.set(Node::new(None, 0));
        }
        node
    }

    fn create_comment(&self, _text: StrTendril) -> Handle {
        Node::new(None, 0)
    }

    fn create_pi(&self, _target: StrTendril, _data: StrTendril) -> Handle {
        Node::new(None, 0)
    }

    fn append(&self, parent: &Handle, child: NodeOrText<Handle>) {
        self.place(parent, &child);
    }

    fn append_based_on_parent_node(
        &self,
        element: &Handle,
        _prev_element: &Handle,
        child: NodeOrText<Handle>,
    ) {
        self.place(element, &child);
    }

    fn append_doctype_to_document(&self, _: StrTendril, _: StrTendril, _: StrTendril) {}

    fn get_template_contents(&self, target: &Handle) -> Handle {
        self.counts.add(1);
        target
            .template
            .get_or_init(|| Node::new(None, target.depth.get()))
            .clone()
    }

    fn same_node(&self, x: &Handle, y: &Handle) -> bool {
        self.counts.add(1);
        Rc::ptr_eq(x, y)
    }

    fn set_quirks_mode(&self, _mode: QuirksMode) {}

    fn append_before_sibling(&self, sibling: &Handle, new_node: NodeOrText<Handle>) {
        // The sibling's parent is not kept: the new node takes its depth.
        self.counts.add(1);
        if let NodeOrText::AppendNode(node) = &new_node {
            node.depth.set(sibling.depth.get());
        }
    }

    fn add_attrs_if_missing(&self, _target: &Handle, attrs: Vec<Attribute>) {
        self.counts.add(attrs.len() as u64);
    }

    fn remove_from_parent(&self, _target: &Handle) {
        self.counts.add(1);
    }

    fn reparent_children(&self, node: &Handle, new_parent: &Handle) {
        // A real tree moves each child: as dear as the children are many.
        let moved = node.children.replace(0);
        self.counts.add(moved.max(1));
        new_parent.children.set(new_parent.children.get() + moved);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARTICLE: &str = "<!doctype html><html><head><title>Prison break</title></head><body><nav><a href='/'>Home</a></nav><article><h1>Prison break in Dushanbe</h1><p>About 25 prisoners escaped from a detention centre in the Tajik capital on Sunday night.</p><ul><li>one<li>two<li>three</ul><p>Unclosed<p>paragraphs<p>are fine</article></body></html>";

    #[test]
    fn an_ordinary_page_is_parsed_whole() {
        let long = ARTICLE.repeat(2000);
        let p = parseable(&long);
        assert_eq!(p.cut, None);
        assert_eq!(p.html.len(), long.len());
    }

    #[test]
    fn markup_nested_thousands_deep_is_cut_where_it_passes_the_depth_limit() {
        let deep = format!("<p>{}", "<div>".repeat(5000));
        let p = parseable(&deep);
        let cut = p.cut.expect("cut");
        assert_eq!(cut.why, Why::Depth(512));
        assert!(p.html.len() < 512 * 5 + 2 * PIECE, "{}", p.html.len());
        assert_eq!(cut.total, deep.len());
        assert!(
            cut.note().contains("nested more than 512 levels"),
            "{}",
            cut.note()
        );
        // What is kept parses within the limits.
        assert_eq!(parseable(p.html).cut, None);
    }

    #[test]
    fn formatting_elements_reopened_on_every_word_are_cut_by_work() {
        // Each `</p>` closes the `<b>`s, which the next word re-opens: the
        // tree builder's list grows, and every word costs all of it.
        let page: String = (0..4000)
            .map(|i| format!("<p><b class=c{i}>x</p>"))
            .collect();
        let limits = Limits {
            max_depth: 512,
            max_work: 200_000,
        };
        let p = parseable_within(&page, limits);
        let cut = p.cut.expect("cut");
        assert!(matches!(cut.why, Why::Work | Why::Depth(_)), "{cut:?}");
        assert!(p.html.len() < page.len());
    }

    #[test]
    fn a_cut_never_splits_a_character() {
        let page = format!("<p>{}", "é<div>".repeat(3000));
        let p = parseable(&page);
        assert!(p.cut.is_some());
        assert!(page.is_char_boundary(p.html.len()));
    }
}
