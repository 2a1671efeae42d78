//! Plain-text posts: paragraphs separated by blank lines, bare URLs, and
//! quoted passages recognised by how prose introduces them — a paragraph
//! ending in ":" (or with an attribution left hanging, "…reported by") is
//! followed by the quote, which runs on over the next paragraphs until the
//! author speaks again (first person), introduces another quote, or ends.
//!
//! It only turns text into blocks; `analyze` decides what they cite.

use std::sync::LazyLock;

use regex::Regex;

use super::analyze::{Block, BlockKind, Cite, announces_own_list, introduces_quote};
use super::bare::bare_urls;
use crate::base::text::newlines_before;
use crate::model::Kind;

/// A quote rarely runs longer than this many paragraphs.
const MAX_QUOTE_PARAGRAPHS: usize = 6;

static FIRST_PERSON: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\bI\b|\b(?i:me|my|mine|myself)\b").expect("static regex"));

/// A paragraph: its byte range in the text and its first line.
struct Para {
    start: usize,
    end: usize,
    line: usize,
}

fn paragraphs(text: &str) -> Vec<Para> {
    let mut out = Vec::new();
    let mut cur: Option<Para> = None;
    let mut pos = 0;
    for (line, raw_line) in (1..).zip(text.split_inclusive('\n')) {
        let blank = raw_line.trim().is_empty();
        if blank {
            if let Some(p) = cur.take() {
                out.push(p);
            }
        } else {
            let end = pos + raw_line.trim_end().len();
            match &mut cur {
                Some(p) => p.end = end,
                None => {
                    let lead = raw_line.len() - raw_line.trim_start().len();
                    cur = Some(Para {
                        start: pos + lead,
                        end,
                        line,
                    })
                }
            }
        }
        pos += raw_line.len();
    }
    if let Some(p) = cur {
        out.push(p);
    }
    out
}

/// Turns a plain-text post into blocks.
pub(crate) fn blocks(text: &str, line_offset: usize) -> Vec<Block> {
    let paras = paragraphs(text);
    let mut out: Vec<Block> = Vec::with_capacity(paras.len());
    let mut i = 0;
    while i < paras.len() {
        let p = &paras[i];
        let prev_introduces = i > 0
            && out
                .last()
                .is_some_and(|b: &Block| b.kind == BlockKind::Para)
            && introduces_quote(&text[paras[i - 1].start..paras[i - 1].end])
            && !announces_own_list(&text[paras[i - 1].start..paras[i - 1].end]);
        let mut end = i;
        let kind = if prev_introduces {
            // The quote runs on while the next paragraph is not the author's.
            while end + 1 < paras.len() && end + 1 - i < MAX_QUOTE_PARAGRAPHS {
                let next = &text[paras[end + 1].start..paras[end + 1].end];
                let here = &text[paras[end].start..paras[end].end];
                if FIRST_PERSON.is_match(next) || introduces_quote(here) || introduces_quote(next) {
                    break;
                }
                end += 1;
            }
            BlockKind::Quote
        } else {
            BlockKind::Para
        };
        let (s, e) = (p.start, paras[end].end);
        let mut block = Block::new(kind, p.line + line_offset);
        block.text = text[s..e].to_string();
        for (at, url) in bare_urls(&block.text) {
            let line = block.line + newlines_before(&block.text, at);
            block.cites.push(Cite {
                raw: url.clone(),
                text: url,
                kind: Kind::BareUrl,
                line,
                at,
                attribution: false,
            });
        }
        out.push(block);
        i = end + 1;
    }
    out
}

/// The post's date, if its first lines state one ("Posted … | August 25, 2010").
pub(crate) fn date(text: &str) -> Option<String> {
    paragraphs(text).iter().take(3).find_map(|p| {
        let head: String = text[p.start..p.end].chars().take(300).collect();
        super::dates::in_text(&head)
    })
}
