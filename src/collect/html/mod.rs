//! HTML posts: parses a page once (`parse`), finds the post's content
//! rather than the site's chrome (`content`), and turns the content into
//! `Block`s for `analyze` (`cite`). Also gives `main_text`, the page's
//! content as plain paragraphs, for the compare stage.
//!
//! It never fetches anything and never reads files: it is handed a string.

mod cite;
mod content;
mod parse;
mod score;
mod tokens;

use cite::Builder;
pub(crate) use content::{ContentRule, Meta};
use content::{Mass, content_roots, survey};
pub(crate) use parse::{Page, parse};

use super::analyze::{Block, collapse};

/// The blocks of a page's content and what it says about itself.
pub(crate) struct Extracted {
    pub blocks: Vec<Block>,
    pub meta: Meta,
}

/// Extracts the blocks of a page's content. `line_offset` is added to every
/// line (a feed item's HTML starts that many lines into its file).
pub(crate) fn extract(
    page: &Page,
    rule: &ContentRule,
    line_offset: usize,
) -> Result<Extracted, String> {
    let survey = survey(page);
    let mut mass = Mass::of(page);
    let roots = content_roots(page, rule, &survey, &mut mass)?;
    let mut b = Builder::new(page, line_offset, true, rule.all_links);
    // A feed item's HTML is all content: no link farm is cleaned from it.
    if !rule.fragment {
        b = b.with_mass(&mass);
    }
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
    let mut mass = Mass::of(&page);
    let roots = content_roots(&page, &rule, &survey, &mut mass).unwrap_or_default();
    let mut b = Builder::new(&page, 0, false, false).with_mass(&mass);
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
