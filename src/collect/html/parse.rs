//! Parsing: a page's markup into a tree, once, with the source line of
//! every element and text node, its nesting bounded first
//! (`base::nesting`) so that no input makes the parser quadratic; and
//! cheap reads of an element's attributes.
//!
//! It knows nothing of content or citations.

use std::borrow::Cow;
use std::cell::{Cell, Ref, RefCell};

use ego_tree::NodeId;
use html5ever::tendril::StrTendril;
use html5ever::tree_builder::{ElementFlags, NodeOrText, QuirksMode, TreeSink};
use html5ever::{Attribute, QualName, local_name};
use scraper::node::Element;
use scraper::{Html, HtmlTreeSink};

use crate::base::nesting::{Cut, MAX_DEPTH, cap_depth};
use crate::base::text::newlines;

/// A parsed page and the source line of its nodes.
pub(crate) struct Page {
    pub html: Html,
    lines: Lines,
    /// What the nesting bound left out of the markup, if anything.
    pub cut: Option<Cut>,
}

/// The source line of each node, by node number; 0 where unknown.
#[derive(Default)]
struct Lines(Vec<u32>);

impl Lines {
    fn get(&self, id: NodeId) -> Option<usize> {
        self.0
            .get(node_number(id))
            .filter(|&&l| l > 0)
            .map(|&l| l as usize)
    }

    /// Records a node's line unless it already has one.
    fn set_once(&mut self, id: NodeId, line: u64) {
        let n = node_number(id);
        // A number far past any tree's size would mean the trick below no
        // longer holds: keep no line rather than allocate for it.
        if n > (1 << 32) {
            return;
        }
        if n >= self.0.len() {
            self.0.resize((n + 1).max(self.0.len() * 2), 0);
        }
        if self.0[n] == 0 {
            self.0[n] = u32::try_from(line).unwrap_or(u32::MAX);
        }
    }
}

/// A node's number in its tree. ego_tree numbers nodes in the order they
/// are made but keeps the number private; its derived `Hash` writes just
/// that number, which this hasher catches. A vector indexed by it is
/// several times faster than a hash map (whose probes missed the cache in
/// profiles of large pages).
pub(crate) fn node_number(id: NodeId) -> usize {
    use std::hash::{Hash, Hasher};
    struct Catch(usize);
    impl Hasher for Catch {
        fn finish(&self) -> u64 {
            self.0 as u64
        }
        fn write(&mut self, bytes: &[u8]) {
            for &b in bytes {
                self.0 = self.0.wrapping_shl(8) | usize::from(b);
            }
        }
        fn write_usize(&mut self, n: usize) {
            self.0 = n;
        }
    }
    let mut h = Catch(0);
    id.hash(&mut h);
    h.0
}

impl Page {
    pub(crate) fn line(&self, id: NodeId) -> Option<usize> {
        self.lines.get(id)
    }
}

/// html5ever knows the line of every token, but scraper's sink drops it.
/// This sink wraps scraper's and keeps the line of each element (the line
/// where its start tag ends) and of each text node (where its text starts).
struct LineSink {
    inner: HtmlTreeSink,
    line: Cell<u64>,
    lines: RefCell<Lines>,
}

impl LineSink {
    /// The last child of `parent`, and whether it is text.
    fn last_child(&self, parent: &NodeId) -> Option<(NodeId, bool)> {
        let html = self.inner.0.borrow();
        let last = html.tree.get(*parent)?.last_child()?;
        Some((last.id(), last.value().is_text()))
    }
}

impl TreeSink for LineSink {
    type Handle = NodeId;
    type Output = Page;
    type ElemName<'a> = Ref<'a, QualName>;

    fn finish(self) -> Page {
        Page {
            html: self.inner.finish(),
            lines: self.lines.into_inner(),
            cut: None,
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
        self.lines.borrow_mut().set_once(id, self.line.get());
        id
    }
    fn create_comment(&self, text: StrTendril) -> NodeId {
        self.inner.create_comment(text)
    }
    fn create_pi(&self, target: StrTendril, data: StrTendril) -> NodeId {
        self.inner.create_pi(target, data)
    }
    fn append(&self, parent: &NodeId, child: NodeOrText<NodeId>) {
        // A new text node's line is where its text starts: the current
        // line less the breaks in the text. Text joined to the text node
        // before it (most appends) keeps that node's line: nothing to count.
        let breaks = match &child {
            NodeOrText::AppendText(t) => {
                let joins = self.last_child(parent).is_some_and(|(_, text)| text);
                (!joins).then(|| newlines(t.as_bytes()) as u64)
            }
            NodeOrText::AppendNode(_) => None,
        };
        self.inner.append(parent, child);
        if let Some(nl) = breaks
            && let Some((id, _)) = self.last_child(parent)
        {
            let line = self.line.get().saturating_sub(nl).max(1);
            self.lines.borrow_mut().set_once(id, line);
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

/// Parses a page (a whole document or a feed item's HTML) once, its
/// nesting first bounded at the depth browsers stop at.
pub(crate) fn parse(src: &str) -> Page {
    let capped = cap_depth(src, MAX_DEPTH);
    // About a node per 32 bytes (two a tag, the element and the text after
    // it, a tag to some 60 bytes of markup and text): the tree and the
    // lines are sized once rather than grown (and copied) a dozen times,
    // without a pass over the page to count its tags. Bounded, so that a
    // page of a million tags reserves no more.
    let nodes = (capped.html.len() / 32 + 8).min(1 << 16);
    let mut page = super::tokens::parse_document(line_sink(nodes), &capped.html);
    page.cut = capped.cut;
    page
}

fn line_sink(nodes: usize) -> LineSink {
    let mut html = Html::new_document();
    html.tree = ego_tree::Tree::with_capacity(scraper::Node::Document, nodes);
    LineSink {
        inner: HtmlTreeSink::new(html),
        line: Cell::new(1),
        lines: RefCell::new(Lines(Vec::with_capacity(nodes + 2))),
    }
}

/// The page as html5ever's own tokenizer reads it, nesting not bounded:
/// what `tokens`' fast path is held to.
#[cfg(test)]
pub(crate) fn parse_plain(src: &str) -> Page {
    use html5ever::tendril::TendrilSink;
    html5ever::parse_document(line_sink(8), Default::default()).one(src)
}

/// The same page through `tokens`' fast path, nesting not bounded.
#[cfg(test)]
pub(crate) fn parse_fast(src: &str) -> Page {
    super::tokens::parse_document(line_sink(8), src)
}

/// An attribute's value. scraper's own `Element::attr` and `classes` intern
/// the name and every class in a global atom table (a lock shared by all
/// threads); comparing the names in place is several times cheaper.
/// The names asked for most are compared as atoms (one integer compare
/// an attribute: a name in html5ever's static set is always that atom).
#[inline]
pub(crate) fn attr<'e>(el: &'e Element, name: &str) -> Option<&'e str> {
    let atom = match name {
        "class" => local_name!("class"),
        "id" => local_name!("id"),
        "href" => local_name!("href"),
        "title" => local_name!("title"),
        "role" => local_name!("role"),
        "itemprop" => local_name!("itemprop"),
        "rel" => local_name!("rel"),
        _ => {
            return el
                .attrs
                .iter()
                .find(|(n, _)| &*n.local == name)
                .map(|(_, v)| &**v);
        }
    };
    el.attrs
        .iter()
        .find(|(n, _)| n.local == atom)
        .map(|(_, v)| &**v)
}

pub(crate) fn classes(el: &Element) -> impl Iterator<Item = &str> {
    attr(el, "class").unwrap_or("").split_ascii_whitespace()
}
