//! The page as a tree: parsing it as a browser with scripting off would,
//! and the small edits the renderer makes (elements and text made, moved,
//! detached; attributes read and set).
//!
//! It owns the tree's shape and its consistency: a parsed tree is rebuilt
//! from its child lists (see `parse`), so that every edit after it is safe.
//! It never decides what is kept: that is `policy`'s.

use ego_tree::NodeId;
use html5ever::tendril::TendrilSink;
use html5ever::tree_builder::TreeBuilderOpts;
use html5ever::{Attribute, LocalName, ParseOpts, QualName, ns};
use scraper::node::{Element, Text};
use scraper::{Html, HtmlTreeSink, Node, StrTendril};

// Reading the page

/// Parses as a browser with scripting off would: `<noscript>` content is
/// then markup, not text, which is what an offline copy shows.
pub(super) fn parse(html: &str) -> Html {
    let opts = ParseOpts {
        tree_builder: TreeBuilderOpts {
            scripting_enabled: false,
            ..Default::default()
        },
        ..Default::default()
    };
    html5ever::parse_document(HtmlTreeSink::new(Html::new_document()), opts).one(html)
}

/// An attribute by local name (so `xlink:href` answers to `href`).
pub(super) fn attr<'e>(el: &'e Element, name: &str) -> Option<&'e str> {
    el.attrs
        .iter()
        .find(|(n, _)| &*n.local == name)
        .map(|(_, v)| &**v)
}

pub(super) fn has_token(value: &str, token: &str) -> bool {
    value
        .split_ascii_whitespace()
        .any(|t| t.eq_ignore_ascii_case(token))
}

pub(super) fn parent_name<'a>(node: ego_tree::NodeRef<'a, Node>) -> Option<&'a str> {
    node.parent()
        .and_then(|p| p.value().as_element().map(Element::name))
}

pub(super) fn html_name(local: &str) -> QualName {
    QualName::new(None, ns!(html), LocalName::from(local))
}

pub(super) fn new_element(name: &str, attrs: &[(&str, &str)]) -> Node {
    let attrs = attrs
        .iter()
        .map(|(n, v)| Attribute {
            name: QualName::new(None, ns!(), LocalName::from(*n)),
            value: (*v).into(),
        })
        .collect();
    // scraper's own constructor: the one the parser uses, so the element's
    // attributes are ordered as scraper's look-ups expect.
    Node::Element(Element::new(html_name(name), attrs))
}

pub(super) fn new_text(text: &str) -> Node {
    Node::Text(Text { text: text.into() })
}

pub(super) fn child_ids(doc: &Html, id: NodeId) -> Vec<NodeId> {
    doc.tree
        .get(id)
        .map(|n| n.children().map(|c| c.id()).collect())
        .unwrap_or_default()
}

pub(super) fn detach(doc: &mut Html, id: NodeId) {
    if let Some(mut n) = doc.tree.get_mut(id) {
        n.detach();
    }
}

pub(super) fn is_element_named(doc: &Html, id: NodeId, name: &str) -> bool {
    doc.tree
        .get(id)
        .and_then(|n| n.value().as_element().map(|e| e.name() == name))
        .unwrap_or(false)
}

pub(super) fn find_element(doc: &Html, name: &str) -> Option<NodeId> {
    // From the root: nodes the parser or this module detached are still in
    // the tree's arena.
    doc.tree
        .root()
        .descendants()
        .find(|n| {
            n.value()
                .as_element()
                .is_some_and(|e| e.name() == name && e.name.ns == ns!(html))
        })
        .map(|n| n.id())
}

pub(super) fn get<'a>(attrs: &'a [(QualName, StrTendril)], name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(n, _)| &*n.local == name)
        .map(|(_, v)| &**v)
}

/// Sets an attribute, keeping the list sorted as scraper's `attr` expects.
pub(super) fn set(attrs: &mut Vec<(QualName, StrTendril)>, name: &str, value: &str) {
    if let Some((_, v)) = attrs.iter_mut().find(|(n, _)| &*n.local == name) {
        *v = value.into();
    } else {
        attrs.push((
            QualName::new(None, ns!(), LocalName::from(name)),
            value.into(),
        ));
        attrs.sort_by(|a, b| a.0.cmp(&b.0));
    }
}

pub(super) fn remove(attrs: &mut Vec<(QualName, StrTendril)>, name: &str) {
    attrs.retain(|(n, _)| &*n.local != name);
}

pub(super) fn starts_with_ci(s: &str, prefix: &str) -> bool {
    s.get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
}
