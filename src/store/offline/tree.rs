//! The page as a tree: parsing it as a browser with scripting off would,
//! and the small edits the renderer makes (elements and text made, moved,
//! detached; attributes read and set).
//!
//! It owns the tree's shape and its consistency: a parsed tree is rebuilt
//! from its child lists (see `parse`), so that every edit after it is safe.
//! It never decides what is kept: that is `policy`'s.

use ego_tree::{NodeId, Tree};
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
    let doc = html5ever::parse_document(HtmlTreeSink::new(Html::new_document()), opts).one(html);
    consistent(doc)
}

/// The same document in a tree whose parent links are right.
///
/// When the parser moves an element's children to another element (the
/// adoption agency: misnested `<a>`, `<b>`, …), scraper asks ego-tree's
/// `reparent_from_id_append`, which re-parents the first and last child
/// only: the ones between still name their old parent, which no longer
/// lists them. Detaching such a node panics, and a walk that climbs parent
/// links goes astray; a fuzzed page (`<a x><noscript>&<link …>…<a>`) did
/// both. The child lists and sibling links are right, so the tree is copied
/// along them, with a stack (pages nest deeper than a thread's stack).
fn consistent(mut doc: Html) -> Html {
    let old = &doc.tree;
    let mut tree = Tree::new(old.root().value().clone());
    let mut stack = vec![(old.root().id(), tree.root().id())];
    while let Some((from, to)) = stack.pop() {
        let Some(from) = old.get(from) else {
            continue;
        };
        for child in from.children() {
            let Some(mut parent) = tree.get_mut(to) else {
                break;
            };
            let copy = parent.append(child.value().clone()).id();
            stack.push((child.id(), copy));
        }
    }
    doc.tree = tree;
    doc
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

/// One element, with this text in it, as the serializer writes it.
pub(super) fn outer_html(name: &str, attrs: &[(&str, &str)], text: Option<&str>) -> String {
    let mut doc = Html::new_document();
    let root = doc.tree.root().id();
    let Some(mut root) = doc.tree.get_mut(root) else {
        return String::new();
    };
    let mut el = root.append(new_element(name, attrs));
    if let Some(text) = text {
        el.append(new_text(text));
    }
    let id = el.id();
    doc.tree
        .get(id)
        .and_then(scraper::ElementRef::wrap)
        .map(|e| e.html())
        .unwrap_or_default()
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every node is listed by the parent it names.
    fn assert_consistent(doc: &Html) {
        for node in doc.tree.nodes() {
            if let Some(parent) = node.parent() {
                assert!(
                    parent.children().any(|c| c.id() == node.id()),
                    "{:?} names {:?} as its parent, which does not list it",
                    node.value(),
                    parent.value()
                );
            }
        }
    }

    #[test]
    fn children_moved_by_the_adoption_agency_know_their_parent() {
        let fuzzed = r#"<a x><noscript>&<link rel=stylesheet href="<input type=image src="<template>П<a href="q">"#;
        let doc = parse(fuzzed);
        assert_consistent(&doc);
        let misnested = "<p><b>1<i>2<u>3</b>4<s>5</s>6<em>7</em>8</i>9";
        assert_consistent(&parse(misnested));
    }
}
