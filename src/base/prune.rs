//! A walk over an ego-tree's edges that can leave out whole subtrees.
//!
//! Every walk of a parsed page that ignores some elements with all they
//! hold (scripts, set-aside chrome, dropped nodes) needs the same small
//! state: the node whose subtree is being left out, cleared at its closing
//! edge. `Pruning` is that state, so that each walk says only which nodes
//! it leaves out.

use ego_tree::NodeId;
use ego_tree::iter::Edge;

/// Which subtree, if any, a walk is leaving out.
#[derive(Debug, Default)]
pub struct Pruning {
    left_out: Option<NodeId>,
}

impl Pruning {
    /// Leaves out the subtree of `id`, whose opening edge the walk is at:
    /// every edge up to and including its closing edge is hidden.
    pub fn prune(&mut self, id: NodeId) {
        self.left_out = Some(id);
    }

    /// Whether the walk skips `edge`: true inside a pruned subtree,
    /// including the closing edge of its root, after which the walk goes on.
    pub fn hides<T>(&mut self, edge: &Edge<'_, T>) -> bool {
        match (self.left_out, edge) {
            (None, _) => false,
            (Some(root), Edge::Close(node)) if node.id() == root => {
                self.left_out = None;
                true
            }
            (Some(_), _) => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ego_tree::tree;

    /// The values a walk sees, opening edges only, pruning the nodes
    /// named in `cut`.
    fn seen(cut: &[&str]) -> Vec<&'static str> {
        let t = tree!("root" => { "a" => { "a1", "a2" }, "b" => { "b1" }, "c" });
        let mut pruning = Pruning::default();
        let mut out = Vec::new();
        for edge in t.root().traverse() {
            if pruning.hides(&edge) {
                continue;
            }
            if let Edge::Open(node) = edge {
                if cut.contains(node.value()) {
                    pruning.prune(node.id());
                    continue;
                }
                out.push(*node.value());
            }
        }
        out
    }

    #[test]
    fn a_pruned_node_hides_its_subtree_and_the_walk_goes_on_after_it() {
        assert_eq!(seen(&[]), ["root", "a", "a1", "a2", "b", "b1", "c"]);
        assert_eq!(seen(&["a"]), ["root", "b", "b1", "c"]);
        assert_eq!(seen(&["a", "b"]), ["root", "c"]);
        assert_eq!(seen(&["a2", "c"]), ["root", "a", "a1", "b", "b1"]);
        assert!(seen(&["root"]).is_empty());
    }
}
