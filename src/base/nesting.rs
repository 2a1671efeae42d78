//! A bound on how deeply HTML nests, applied before a parser sees it.
//!
//! html5ever's tree builder scans its stack of open elements for many tags
//! ("is there a `<p>` in button scope?"), so a page of N nested elements
//! costs it O(N²): 100,000 nested `<div>`s take it 25 s and a million never
//! finish. No page a person reads nests that deep (browsers stop nesting at
//! 512), but any file or fetched body can. `cap_depth` is a cheap pre-scan,
//! linear in the input, that leaves out the start and end tags of elements
//! nested deeper than a limit, keeping their text and line breaks, so the
//! parser sees a tree no deeper than the limit and lines still count true.
//! Collecting a post, extracting a page's main text and scanning a fetched
//! page for soft-404 phrases can all parse through it.
//!
//! The scan is a tokenizer's sketch, not a parser: it skips comments,
//! doctypes and the raw text of `<script>`, `<style>`, `<textarea>`,
//! `<title>`…, honours quoted attribute values, ignores void elements and
//! those whose end tags are optional (`<p>`, `<li>`, `<td>`… close each
//! other, so they never stack up), and reads `/>` as closing only inside
//! `<svg>` and `<math>`, as HTML does. Where it misjudges, it errs towards
//! counting too deep, which costs at most the markup (never the text) of
//! an absurdly nested page.
//!
//! Why this and `fetch::bound` both exist: they bound different parses
//! for different callers, and neither can do the other's job. This scan
//! is for collecting, which must keep every citation of a post: it never
//! truncates, it leaves out only markup (text and links kept), and it
//! costs a `memchr` pass. `fetch::bound` is for the store's parses of
//! fetched bodies (text, requisites, the offline page): it runs html5ever
//! itself with a counting sink and cuts the page where the tree builder's
//! real work (formatting elements re-opened in every paragraph, adoption
//! agency moves) would pass a budget, which a tokenizer's sketch like this
//! one cannot see; it costs a second parse and loses the page's tail,
//! which the store can afford (it says so in the check's detail) and a
//! citation list cannot.
//!
//! The same scan closes a link left open where a block starts or ends
//! (see `cap_depth`), and leaves out the markup of elements past
//! `MAX_ELEMENTS`, so that the tree of any page stays small.
//!
//! Pure string work.

use std::borrow::Cow;

use memchr::memchr;

/// The nesting depth browsers stop at, and the default bound.
pub const MAX_DEPTH: usize = 512;

/// What a parser may spend on scope scans, counted as the sum of the
/// depths at which elements start (the parser's cost of a start tag is
/// about its depth). An ordinary page spends a few million; a 64 MB page
/// of elements oscillating just under `MAX_DEPTH` would spend billions
/// (half a minute). Past this budget the bound drops to `SPENT_DEPTH`,
/// deeper than any real page in our corpus (32 at most) goes.
const WORK_BUDGET: u64 = 300_000_000;

/// The bound once the work budget is spent.
const SPENT_DEPTH: usize = 48;

/// Elements a page may have before the scan leaves out the markup of
/// further ones (keeping their text and the elements that carry
/// citations). The largest page of the real-world corpus has about 10,000;
/// a 10 MB page of bare `<p>`s has 3.5 million, which the parser's tree
/// and the content detection's tallies would hold at over a gigabyte.
pub const MAX_ELEMENTS: usize = 200_000;

/// An end tag looks this far down the stack for its start tag, so that
/// stray end tags cannot make the scan quadratic in turn.
const END_TAG_REACH: usize = 64;

/// What `cap_depth` gives back: the markup to parse, and what was cut.
#[derive(Debug)]
pub struct Capped<'a> {
    /// The input itself when nothing was cut (no copy is made).
    pub html: Cow<'a, str>,
    pub cut: Option<Cut>,
}

/// What was left out of a page nested too deep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cut {
    /// The depth bound in force where the first tag was left out.
    pub max_depth: usize,
    /// Set when the first tag was left out for being past `MAX_ELEMENTS`
    /// rather than too deep.
    pub max_elements: Option<usize>,
    /// Start and end tags left out.
    pub tags: usize,
    /// The 1-based line of the first tag left out.
    pub line: usize,
}

impl std::fmt::Display for Cut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(n) = self.max_elements {
            return write!(
                f,
                "more than {n} elements from line {}: the markup of {} tags past that left out, their text and links kept",
                self.line, self.tags
            );
        }
        write!(
            f,
            "markup nested deeper than {} elements from line {}: {} tags below that depth left out, their text kept",
            self.max_depth, self.line, self.tags
        )
    }
}

/// Elements that never have content.
fn is_void(name: &[u8]) -> bool {
    matches!(
        name,
        b"area"
            | b"base"
            | b"basefont"
            | b"bgsound"
            | b"br"
            | b"col"
            | b"embed"
            | b"frame"
            | b"hr"
            | b"image"
            | b"img"
            | b"input"
            | b"keygen"
            | b"link"
            | b"meta"
            | b"param"
            | b"source"
            | b"track"
            | b"wbr"
    )
}

/// Elements the parser closes on its own when a sibling starts (an `<a>`
/// closes an open `<a>`), and the document's own frame: they do not count
/// towards the depth, and are never cut, so a link deep down still is one.
fn is_uncounted(name: &[u8]) -> bool {
    matches!(
        name,
        b"a" | b"html"
            | b"head"
            | b"body"
            | b"p"
            | b"li"
            | b"dt"
            | b"dd"
            | b"option"
            | b"optgroup"
            | b"tr"
            | b"td"
            | b"th"
            | b"thead"
            | b"tbody"
            | b"tfoot"
            | b"colgroup"
            | b"caption"
            | b"rb"
            | b"rt"
            | b"rtc"
            | b"rp"
    )
}

/// Elements that carry a citation, kept at any depth: a parser handles
/// each of them without scanning its stack of open elements.
fn carries_citations(name: &[u8]) -> bool {
    matches!(
        name,
        b"a" | b"img" | b"source" | b"track" | b"embed" | b"area" | b"image"
    )
}

/// Elements whose content is text up to their own end tag.
fn is_raw_text(name: &[u8]) -> bool {
    matches!(
        name,
        b"script"
            | b"style"
            | b"textarea"
            | b"title"
            | b"xmp"
            | b"iframe"
            | b"noembed"
            | b"noframes"
            | b"noscript"
    )
}

/// The input with the tags of elements nested deeper than `max_depth`
/// left out (each replaced by the line breaks it held), and what was cut.
/// Borrows the input when nothing is cut.
pub fn cap_depth(html: &str, max_depth: usize) -> Capped<'_> {
    let b = html.as_bytes();
    // The open elements, as where their names sit in the input (compared
    // without regard to ASCII case: no copy of a name per tag), with
    // whether each was kept.
    let mut stack: Vec<(std::ops::Range<usize>, bool)> = Vec::new();
    let mut foreign = 0usize; // open <svg>/<math> elements
    let mut out: Option<String> = None;
    let mut copied = 0usize;
    let mut cut: Option<Cut> = None;
    let mut name = Vec::with_capacity(16);
    let mut work = 0u64;
    let mut i = 0;
    // Start tags seen, for `MAX_ELEMENTS`.
    let mut elements = 0usize;
    // An `<a>` is open, and whether it was found closed before the next
    // link starts (`Some(true)`: a card holding blocks) or left open.
    let mut open_a = false;
    let mut a_closed_later: Option<bool> = None;
    let drop_range = |s: usize,
                      e: usize,
                      bound: usize,
                      over: bool,
                      out: &mut Option<String>,
                      copied: &mut usize,
                      cut: &mut Option<Cut>| {
        let o = out.get_or_insert_with(|| String::with_capacity(html.len()));
        o.push_str(&html[*copied..s]);
        for _ in b[s..e].iter().filter(|&&c| c == b'\n') {
            o.push('\n');
        }
        *copied = e;
        match cut {
            Some(c) => c.tags += 1,
            None => {
                *cut = Some(Cut {
                    max_depth: bound,
                    max_elements: over.then_some(MAX_ELEMENTS),
                    tags: 1,
                    line: 1 + crate::base::text::newlines(&b[..s]),
                })
            }
        }
    };
    while let Some(off) = memchr(b'<', &b[i..]) {
        let lt = i + off;
        let next = b.get(lt + 1).copied().unwrap_or(0);
        if b[lt + 1..].starts_with(b"!--") {
            i = find(b, lt + 4, b"-->").map_or(b.len(), |p| p + 3);
            continue;
        }
        if next == b'!' || next == b'?' {
            i = memchr(b'>', &b[lt..]).map_or(b.len(), |p| lt + p + 1);
            continue;
        }
        let end_tag = next == b'/';
        let name_at = if end_tag { lt + 2 } else { lt + 1 };
        if !b.get(name_at).is_some_and(u8::is_ascii_alphabetic) {
            i = lt + 1; // a "<" in text
            continue;
        }
        let mut j = name_at;
        name.clear();
        while j < b.len() && !matches!(b[j], b' ' | b'\t' | b'\n' | b'\x0C' | b'\r' | b'/' | b'>') {
            name.push(b[j].to_ascii_lowercase());
            j += 1;
        }
        let (tag_end, self_closing) = tag_end(b, j);
        i = tag_end;
        // A link left open where a block starts or ends (`<p><a href=x>
        // text</p><p>more…`) is re-opened by the parser in every block
        // after it, making them all its text, until the next link: it is
        // closed here instead, where its run of text ends. A link that
        // holds blocks and is closed (a card) is left alone.
        if name == b"a" {
            open_a = !end_tag;
            a_closed_later = None;
        } else if open_a && is_block_boundary(&name) {
            let closed = *a_closed_later.get_or_insert_with(|| next_link_tag_is_end(b, lt));
            if !closed {
                let o = out.get_or_insert_with(|| String::with_capacity(html.len() + 64));
                o.push_str(&html[copied..lt]);
                o.push_str("</a>");
                copied = lt;
                open_a = false;
            }
        }
        if !end_tag {
            elements += 1;
        }
        let over = elements > MAX_ELEMENTS;
        let bound = if work > WORK_BUDGET {
            max_depth.min(SPENT_DEPTH)
        } else {
            max_depth
        };
        let deep = stack.len() >= bound || over;
        let counted = !(is_uncounted(&name) || is_void(&name));
        let kept = if end_tag && counted {
            let reach = stack.len().saturating_sub(END_TAG_REACH);
            match (reach..stack.len())
                .rev()
                .find(|&k| b[stack[k].0.clone()].eq_ignore_ascii_case(&name))
            {
                Some(k) => {
                    let kept = stack[k].1;
                    for (n, _) in stack.drain(k..) {
                        let n = &b[n];
                        if n.eq_ignore_ascii_case(b"svg") || n.eq_ignore_ascii_case(b"math") {
                            foreign = foreign.saturating_sub(1);
                        }
                    }
                    kept
                }
                // A stray end tag deep down closes nothing that was kept.
                None => !deep,
            }
        } else if end_tag {
            !deep || carries_citations(&name)
        } else if is_raw_text(&name) {
            // Its content is text up to `</name`; it never nests, and
            // leaving its start tag out would turn a script into text.
            i = find_end_tag(b, tag_end, &name);
            true
        } else if name == b"plaintext" {
            break; // the rest of the input is text
        } else if !counted || (self_closing && foreign > 0) {
            !deep || carries_citations(&name)
        } else {
            if !deep && matches!(&name[..], b"svg" | b"math") {
                foreign += 1;
            }
            stack.push((name_at..name_at + name.len(), !deep));
            !deep
        };
        if kept {
            work += stack.len() as u64;
        } else {
            drop_range(lt, tag_end, bound, over, &mut out, &mut copied, &mut cut);
        }
    }
    let html = match out {
        Some(mut o) => {
            o.push_str(&html[copied..]);
            Cow::Owned(o)
        }
        None => Cow::Borrowed(html),
    };
    Capped { html, cut }
}

/// Elements whose start or end ends a run of text.
fn is_block_boundary(name: &[u8]) -> bool {
    matches!(
        name,
        b"p" | b"div"
            | b"table"
            | b"tr"
            | b"td"
            | b"th"
            | b"ul"
            | b"ol"
            | b"li"
            | b"dl"
            | b"dt"
            | b"dd"
            | b"h1"
            | b"h2"
            | b"h3"
            | b"h4"
            | b"h5"
            | b"h6"
            | b"blockquote"
            | b"section"
            | b"article"
            | b"aside"
            | b"header"
            | b"footer"
            | b"nav"
            | b"main"
            | b"figure"
            | b"figcaption"
            | b"pre"
            | b"form"
            | b"hr"
            | b"address"
            | b"details"
            | b"summary"
            | b"center"
    )
}

/// Whether the next link tag from `from` on is an `</a>` (the open link is
/// closed) rather than another `<a>` or the end of the input (it was left
/// open).
fn next_link_tag_is_end(b: &[u8], from: usize) -> bool {
    let delim = |c: Option<&u8>| {
        c.is_none_or(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\x0C' | b'\r' | b'/' | b'>'))
    };
    let mut i = from;
    while let Some(off) = memchr(b'<', &b[i..]) {
        let lt = i + off;
        let end = b.get(lt + 1) == Some(&b'/');
        let at = if end { lt + 2 } else { lt + 1 };
        if b.get(at).is_some_and(|c| c.eq_ignore_ascii_case(&b'a')) && delim(b.get(at + 1)) {
            return end;
        }
        i = lt + 1;
    }
    false
}

/// Past the `>` that ends a tag whose name ends at `j`, honouring quoted
/// attribute values; and whether it ends in `/>`. A quote opens a value
/// only right after an `=` (spaces between); the scan jumps from quote to
/// quote and `>` with `memchr` rather than reading each byte.
fn tag_end(b: &[u8], name_end: usize) -> (usize, bool) {
    let mut j = name_end;
    while let Some(off) = memchr::memchr3(b'>', b'"', b'\'', &b[j..]) {
        let k = j + off;
        let c = b[k];
        if c == b'>' {
            return (k + 1, k > 0 && b[k - 1] == b'/');
        }
        let mut p = k;
        while p > name_end && matches!(b[p - 1], b' ' | b'\t' | b'\n' | b'\x0C' | b'\r') {
            p -= 1;
        }
        if p > name_end && b[p - 1] == b'=' {
            match memchr(c, &b[k + 1..]) {
                Some(o) => j = k + 1 + o + 1,
                None => break,
            }
        } else {
            j = k + 1;
        }
    }
    (b.len(), false)
}

/// `tag_end` as it was written first, a byte at a time: what the faster
/// one is held to.
#[cfg(test)]
fn tag_end_bytewise(b: &[u8], mut j: usize) -> (usize, bool) {
    let mut quote: Option<u8> = None;
    let mut after_eq = false;
    while j < b.len() {
        let c = b[j];
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                b'>' => return (j + 1, j > 0 && b[j - 1] == b'/'),
                b'"' | b'\'' if after_eq => quote = Some(c),
                b'=' => {
                    after_eq = true;
                    j += 1;
                    continue;
                }
                b' ' | b'\t' | b'\n' | b'\x0C' | b'\r' if after_eq => {
                    j += 1;
                    continue;
                }
                _ => {}
            },
        }
        after_eq = false;
        j += 1;
    }
    (b.len(), false)
}

/// Where the raw text of element `name` ends: past its `</name …>`, or
/// the end of the input.
fn find_end_tag(b: &[u8], from: usize, name: &[u8]) -> usize {
    let mut i = from;
    while let Some(off) = memchr(b'<', &b[i..]) {
        let lt = i + off;
        let at = lt + 2;
        if b.get(lt + 1) == Some(&b'/')
            && b.len() >= at + name.len()
            && b[at..at + name.len()].eq_ignore_ascii_case(name)
            && b.get(at + name.len())
                .is_none_or(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\x0C' | b'\r' | b'/' | b'>'))
        {
            return memchr(b'>', &b[lt..]).map_or(b.len(), |p| lt + p + 1);
        }
        i = lt + 1;
    }
    b.len()
}

fn find(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(b.get(from..)?, needle).map(|p| from + p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_pages_are_passed_through_without_a_copy() {
        let page = "<html><body><div class='a>b'><p>one<p>two<ul><li>x<li>y</ul>\
                    <script>if (a < b) { document.write('<div><div>') }</script>\
                    <!-- <div> --><svg><path d='M0'/><path/></svg><br/><img src=x></div></body></html>";
        let c = cap_depth(page, 4);
        assert!(matches!(c.html, Cow::Borrowed(_)));
        assert_eq!(c.cut, None);
    }

    #[test]
    fn tags_below_the_bound_are_cut_and_their_text_and_lines_kept() {
        let page = "<div>a<div>b<div\nclass=x>c<div>d</div>e</div>f</div>g</div>";
        let c = cap_depth(page, 2);
        assert_eq!(c.html, "<div>a<div>b\ncdef</div>g</div>");
        let cut = c.cut.unwrap();
        assert_eq!((cut.tags, cut.line, cut.max_depth), (4, 1, 2));
        assert!(cut.to_string().contains("deeper than 2 elements"));
    }

    #[test]
    fn self_closing_opens_an_html_element_but_closes_a_foreign_one() {
        let html_divs = "<div/>".repeat(5);
        assert_eq!(cap_depth(&html_divs, 3).cut.map(|c| c.tags), Some(2));
        let svg = format!("<svg>{}</svg>", "<g/>".repeat(100));
        assert_eq!(cap_depth(&svg, 3).cut, None);
    }

    #[test]
    fn a_link_left_open_is_closed_where_its_run_of_text_ends() {
        let c = cap_depth(
            "<p>See <a href=x>the report</p><p>more <a href=y>y</a></p>",
            MAX_DEPTH,
        );
        assert_eq!(
            c.html,
            "<p>See <a href=x>the report</a></p><p>more <a href=y>y</a></p>"
        );
        let c = cap_depth("<p><a href=x>open to the end<div>block</div>", MAX_DEPTH);
        assert_eq!(c.html, "<p><a href=x>open to the end</a><div>block</div>");
        assert_eq!(c.cut, None);
    }

    #[test]
    fn a_link_that_holds_blocks_and_is_closed_is_left_alone() {
        let card = "<a href=x><div><p>headline</p></div></a><a href=y>y</a>";
        assert!(matches!(cap_depth(card, MAX_DEPTH).html, Cow::Borrowed(_)));
    }

    #[test]
    fn markup_past_the_element_budget_is_left_out_with_its_text_and_links_kept() {
        let page = format!("{}<a href=z>z</a></body>", "<p>x".repeat(MAX_ELEMENTS + 10));
        let c = cap_depth(&page, MAX_DEPTH);
        let cut = c.cut.unwrap();
        assert_eq!(cut.max_elements, Some(MAX_ELEMENTS));
        assert_eq!(cut.tags, 10 + 1); // the paragraphs past the budget, and </body>
        assert!(c.html.ends_with("xxxxxxxxxx<a href=z>z</a>"));
        assert!(cut.to_string().contains("more than 200000 elements"));
    }

    #[test]
    fn a_million_nested_elements_are_cut_to_the_bound() {
        // Linear time is the bench's to show (no clocks in tests); here,
        // that the cut is exact and the text kept.
        let n = 1_000_000;
        let page = format!("{}deep{}", "<div>".repeat(n), "</div>".repeat(n));
        let c = cap_depth(&page, MAX_DEPTH);
        assert_eq!(c.cut.map(|c| c.tags), Some(2 * (n - MAX_DEPTH)));
        assert!(c.html.contains("deep"));
        // Stray end tags close nothing that was kept.
        let stray = format!("{}x{}", "<div>".repeat(10_000), "</span>".repeat(100_000));
        let c = cap_depth(&stray, MAX_DEPTH);
        assert_eq!(c.cut.map(|c| c.tags), Some(10_000 - MAX_DEPTH + 100_000));
    }

    proptest::proptest! {
        #[test]
        fn the_tag_end_found_by_jumps_is_the_bytewise_one(
            tag in "[a =\"'>/\t\n\r\x0Cé]{0,40}",
            at in 0usize..8,
        ) {
            let b = tag.as_bytes();
            let at = at.min(b.len());
            proptest::prop_assert_eq!(tag_end(b, at), tag_end_bytewise(b, at));
        }
    }
}
