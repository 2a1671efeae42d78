//! From a post's blocks to its citations: every format's reader (HTML,
//! Markdown, plain text, feed items) turns a post into `Block`s — paragraphs
//! and quotes with the raw links found in them — and this module decides what
//! each one cites: it resolves URLs, takes the sentence around each link,
//! attributes quoted passages to their sources, and finds the unlinked
//! citations (attributions and quotes with nothing behind them).
//!
//! It never reads files or parses markup: it only sees blocks.

use std::sync::LazyLock;

use regex::Regex;
use url::Url;

use crate::model::{Citation, Kind, Missing};

/// What a block is, as far as citing goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BlockKind {
    /// A paragraph, list item, heading, caption, table cell…
    Para,
    /// A quoted passage: `<blockquote>`, Markdown `>`, or a plain-text
    /// paragraph introduced by a sentence ending in ":".
    Quote,
    /// Code: links in it are collected, attributions are not looked for.
    Code,
}

/// A link-like thing found in a block, before resolution.
#[derive(Debug, Clone)]
pub(crate) struct Cite {
    /// The href/src as written (entities decoded).
    pub raw: String,
    /// Anchor text, alt or title.
    pub text: String,
    pub kind: Kind,
    pub line: usize,
    /// Byte offset in the block's text where the citation stands.
    pub at: usize,
    /// Inside a quote's `<cite>` or `<footer>`: the quote's attribution.
    pub attribution: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Block {
    pub kind: BlockKind,
    /// The block's text as written, whitespace and newlines kept, so that
    /// offsets map to lines.
    pub text: String,
    /// 1-based line of the block's first text.
    pub line: usize,
    pub cites: Vec<Cite>,
    /// A `<blockquote cite>` URL and its line.
    pub cite_attr: Option<(String, usize)>,
    /// A quote's attribution as written in it (`<cite>`, `<footer>`).
    pub attribution: String,
    /// A picture's caption or credit: the names in it are of who made the
    /// picture, not sources of the post.
    pub caption: bool,
    /// Byte offsets of footnote marks (links within the page): a sentence
    /// that carries one has its source in the notes.
    pub footnotes: Vec<usize>,
    /// A quote block that holds a table or a list: layout, not a passage
    /// quoted from a source.
    pub tabular: bool,
    /// A quote block the page marks as a pull quote (`class="pullquote"`):
    /// the post's own words set large, not a passage from a source.
    pub pull_quote: bool,
    /// A heading (`<h1>`…`<h6>`, a Markdown `#` line): a section's title,
    /// which introduces no quote even when it ends in ":".
    pub heading: bool,
}

impl Block {
    pub fn new(kind: BlockKind, line: usize) -> Self {
        Block {
            kind,
            text: String::new(),
            line,
            cites: Vec::new(),
            cite_attr: None,
            attribution: String::new(),
            caption: false,
            footnotes: Vec::new(),
            tabular: false,
            pull_quote: false,
            heading: false,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.cites.is_empty() && self.cite_attr.is_none() && self.text.trim().is_empty()
    }

    /// The line of a byte offset in the text.
    fn line_at(&self, at: usize) -> usize {
        self.line + crate::base::text::newlines_before(&self.text, at)
    }
}

/// The post a set of blocks belongs to.
pub(crate) struct PostCtx<'a> {
    pub post: &'a str,
    /// What relative URLs resolve against.
    pub base: Option<&'a Url>,
}

/// Whether an href is empty or a placeholder: `""`, `#`, `#!`. A
/// `javascript:` URL is not: it is a link of another scheme, which `check`
/// skips as such (script controls never get this far: the HTML reader
/// leaves them out).
pub(crate) fn is_placeholder(raw: &str) -> bool {
    let t = raw.trim();
    t.is_empty() || t == "#" || t == "#!"
}

/// Whether a link's text is only a count (`26`, `(4)`, `1.2k`): the
/// likes or comments a page control shows, not words an author linked.
pub(crate) fn is_a_count(text: &str) -> bool {
    let t = text.trim();
    t.chars().any(|c| c.is_ascii_digit())
        && !t
            .chars()
            .any(|c| c.is_alphabetic() && !matches!(c, 'k' | 'K' | 'm' | 'M'))
}

/// Resolves a raw href against the base. `None` when it is not a URL.
pub(crate) fn resolve(raw: &str, base: Option<&Url>) -> Option<Url> {
    let t = raw.trim();
    match Url::parse(t) {
        Ok(u) => Some(u),
        Err(url::ParseError::RelativeUrlWithoutBase) => base.and_then(|b| b.join(t).ok()),
        Err(_) => None,
    }
}

/// `resolve`, written out: an href already written as the parser would
/// write it is taken as it is, unparsed.
fn resolve_text(raw: &str, base: Option<&Url>) -> Option<String> {
    let t = raw.trim();
    if super::url::is_canonical_http(t) {
        return Some(t.to_string());
    }
    resolve(t, base).map(String::from)
}

/// Turns blocks into citations, in document order, appended to `out`.
pub(crate) fn citations(ctx: &PostCtx, blocks: &[Block], out: &mut Vec<Citation>) {
    let mut starts = Vec::with_capacity(blocks.len());
    // Quotes whose source is a link in the line after them: (block, cite
    // of that block, passage), given once that block's citations exist.
    let mut after: Vec<(usize, usize, String)> = Vec::new();
    for (i, block) in blocks.iter().enumerate() {
        let sentences = sentences(&block.text);
        let first_index = out.len();
        starts.push(first_index);
        let mut contexts = vec![None; sentences.len()];
        for cite in &block.cites {
            out.push(cite_to_citation(
                ctx,
                block,
                &sentences,
                &mut contexts,
                cite,
            ));
        }
        match block.kind {
            BlockKind::Quote => {
                attribute_quote(ctx, blocks, i, (&starts, &sentences), out, &mut after);
            }
            BlockKind::Para => {
                // The last sentence of a paragraph that introduces a quote is
                // dealt with by the quote, so it is not flagged twice.
                let intro_skipped = blocks
                    .get(i + 1)
                    .is_some_and(|next| next.kind == BlockKind::Quote);
                if block.caption {
                    continue;
                }
                // Nor is the line after a quote that says whose it is.
                let outro_skipped = i
                    .checked_sub(1)
                    .is_some_and(|p| blocks[p].kind == BlockKind::Quote)
                    && sentences.first().is_some_and(|&(s, e)| {
                        let t = &block.text[s..e];
                        starts_with_dash(t) && attributes_after(t)
                    });
                let n = sentences.len();
                for (k, &(s, e)) in sentences.iter().enumerate() {
                    if (intro_skipped && k + 1 == n) || (outro_skipped && k == 0) {
                        continue;
                    }
                    if block.cites.iter().any(|c| c.at >= s && c.at < e)
                        || block.footnotes.iter().any(|&f| f >= s && f <= e)
                    {
                        continue;
                    }
                    let sentence = &block.text[s..e];
                    if let Some((ps, pe)) = find_attribution(sentence)
                        && !names_own_outlet(&sentence[ps..pe], ctx.base)
                    {
                        out.push(Citation {
                            post: ctx.post.to_string(),
                            line: block.line_at(s + ps),
                            url: None,
                            text: collapse(&sentence[ps..pe]),
                            kind: Kind::Unlinked,
                            context: Some(collapse_capped(sentence)),
                            quote: None,
                            missing: Some(Missing::NoLink),
                            raw: None,
                            skip: None,
                        });
                    }
                }
            }
            BlockKind::Code => {}
        }
    }
    for (b, k, passage) in after {
        if let Some(c) = starts.get(b).and_then(|&first| out.get_mut(first + k)) {
            c.quote = Some(passage);
        }
    }
    // Page controls that point nowhere ("Print", "Email", "Tweet" as
    // `href="#"` list items a script takes over) are no citations. Each
    // cite of a block became one citation above, in order, and the quote
    // attribution relies on that; they are taken out only now.
    let controls: Vec<usize> = blocks
        .iter()
        .zip(&starts)
        .flat_map(|(block, &first)| {
            block
                .cites
                .iter()
                .enumerate()
                .filter(|(_, c)| is_page_control(block, c))
                .map(move |(k, _)| first + k)
        })
        .collect();
    if !controls.is_empty() {
        let mut k = 0;
        let mut index = 0;
        out.retain(|_| {
            let drop = controls.get(k) == Some(&index);
            if drop {
                k += 1;
            }
            index += 1;
            !drop
        });
    }
}

/// A link to nowhere that is the whole of its block and reads as a page
/// control (print, share, reply …): a button a script takes over, not an
/// author's placeholder in prose, which stays a citation.
fn is_page_control(block: &Block, cite: &Cite) -> bool {
    const CONTROLS: &[&str] = &[
        "print",
        "email",
        "e-mail",
        "mail",
        "share",
        "tweet",
        "recommend",
        "like",
        "comment",
        "comments",
        "reply",
        "subscribe",
        "follow",
        "save",
        "pin it",
        "menu",
        "close",
        "search",
        "top",
        "back to top",
        "log in",
        "login",
        "sign in",
        "sign up",
        "register",
        "next",
        "previous",
        "prev",
        "more",
        "show more",
        "read more",
        "load more",
    ];
    if cite.kind != Kind::Link || !is_placeholder(&cite.raw) {
        return false;
    }
    let text = collapse(&cite.text).to_lowercase();
    let text = text.trim_matches(|c: char| !c.is_alphanumeric());
    CONTROLS.contains(&text)
        && collapse(&block.text).to_lowercase().trim() == collapse(&cite.text).to_lowercase().trim()
}

fn cite_to_citation(
    ctx: &PostCtx,
    block: &Block,
    sentences: &[(usize, usize)],
    contexts: &mut [Option<String>],
    cite: &Cite,
) -> Citation {
    // Several links in one sentence share its context: collapse it once.
    let k = sentences
        .iter()
        .position(|&(s, e)| cite.at >= s && cite.at < e)
        .or(sentences.len().checked_sub(1));
    let context = k.and_then(|k| {
        let slot = contexts.get_mut(k)?;
        if slot.is_none() {
            let (s, e) = sentences[k];
            *slot = Some(collapse_capped(&block.text[s..e]));
        }
        slot.clone().filter(|c| !c.is_empty())
    });
    let text = collapse(&cite.text);
    if is_placeholder(&cite.raw) {
        return Citation {
            post: ctx.post.to_string(),
            line: cite.line,
            url: None,
            text,
            kind: Kind::Unlinked,
            context,
            quote: None,
            missing: Some(Missing::EmptyLink),
            raw: Some(cite.raw.clone()),
            skip: None,
        };
    }
    let url = resolve_text(&cite.raw, ctx.base);
    let raw = match &url {
        Some(u) if u == cite.raw.trim() => None,
        _ => Some(cite.raw.clone()),
    };
    Citation {
        post: ctx.post.to_string(),
        line: cite.line,
        url,
        text,
        kind: cite.kind,
        context,
        quote: None,
        missing: None,
        raw,
        skip: None,
    }
}

/// Gives a quote block's passage to its source: the `cite` attribute, a link
/// inside the quote, a link in the sentence that introduces it — or, when
/// none of these exists, records an unlinked citation for it.
fn attribute_quote(
    ctx: &PostCtx,
    blocks: &[Block],
    i: usize,
    (starts, sentences): (&[usize], &[(usize, usize)]),
    out: &mut Vec<Citation>,
    after: &mut Vec<(usize, usize, String)>,
) {
    let block = &blocks[i];
    let first_index = starts[i];
    let attribution = collapse(&block.attribution);
    let mut passage = collapse(&block.text);
    // The attribution written under a quote ("— Reuters") is not quoted text.
    if !attribution.is_empty() && passage.ends_with(&attribution) {
        passage.truncate(passage.len() - attribution.len());
        passage = passage
            .trim_end_matches([' ', '—', '–', '-', '~'])
            .to_string();
    }
    if passage.is_empty() && block.cite_attr.is_none() {
        return;
    }
    if block.cite_attr.is_none() && is_not_a_quote(blocks, i, &passage) {
        return;
    }
    // Several quote blocks in a row are one quoted passage with several
    // paragraphs only in plain text; each blockquote stands on its own.
    let intro = intro_sentence(blocks, i);
    if let Some((raw, line)) = &block.cite_attr {
        let text = Some(
            attribution
                .trim_start_matches(['—', '–', '-', ' '])
                .to_string(),
        )
        .filter(|t| !t.is_empty())
        .or_else(|| intro.as_ref().map(|s| intro_label(s)))
        .unwrap_or_else(|| "blockquote cite".to_string());
        let mut c = cite_to_citation(
            ctx,
            block,
            sentences,
            &mut vec![None; sentences.len()],
            &Cite {
                raw: raw.clone(),
                text,
                kind: Kind::Quote,
                line: *line,
                at: 0,
                attribution: false,
            },
        );
        c.quote = Some(passage);
        c.context = intro.as_deref().map(collapse_capped).or(c.context);
        out.push(c);
        return;
    }
    // A link inside the quote: its attribution (<cite>, <footer>) first,
    // else the last link, which is where "— Source" usually stands. Each
    // cite of a block became exactly one citation, in order.
    let inside = &mut out[first_index..first_index + block.cites.len()];
    let pick = (0..inside.len())
        .rev()
        .find(|&k| block.cites[k].attribution && inside[k].url.is_some())
        .or_else(|| {
            (0..inside.len())
                .rev()
                .find(|&k| inside[k].url.is_some() && inside[k].kind == Kind::Link)
        });
    if let Some(k) = pick {
        inside[k].quote = Some(passage);
        return;
    }
    // A link in the introducing sentence.
    if let Some(p) = i.checked_sub(1)
        && blocks[p].kind == BlockKind::Para
        && let Some((s, e)) = sentences_of_last(&blocks[p])
    {
        let prev = &blocks[p];
        // "As the Times reported:" introduces, and so does any sentence
        // that links right before a quote ("Zuckerberg said, according to
        // a transcript reviewed by Business Insider."); a paragraph that is
        // only a link (a card) does not.
        let sentence = collapse(&prev.text[s..e]);
        let card = prev.cites.iter().any(|c| collapse(&c.text) == sentence);
        let pick = (0..prev.cites.len())
            .rev()
            .filter(|_| intro.is_some() || !card)
            .find(|&k| {
                let c = &prev.cites[k];
                c.at >= s && c.at < e && c.kind == Kind::Link && out[starts[p] + k].url.is_some()
            });
        if let Some(k) = pick {
            out[starts[p] + k].quote = Some(passage);
            return;
        }
    }
    // A footnote mark in the introducing sentence: the notes say where
    // the passage comes from.
    if let Some(p) = i.checked_sub(1)
        && blocks[p].kind == BlockKind::Para
        && let Some((s, e)) = sentences_of_last(&blocks[p])
        && blocks[p].footnotes.iter().any(|&f| f >= s && f <= e)
    {
        return;
    }
    // The line after the quote says whose it is: "— Tyler McCloskey, a
    // pitcher (via Sports Illustrated)", "That was all the guidebook said."
    if let Some(next) = blocks.get(i + 1)
        && next.kind == BlockKind::Para
        && !next.caption
        && let Some(&(s, e)) = self::sentences(&next.text).first()
        && attributes_after(&next.text[s..e])
    {
        // A line set under the quote with a dash is its attribution whole,
        // however many sentences its abbreviations make of it.
        let e = if starts_with_dash(&next.text[s..e]) {
            next.text.trim_end().len()
        } else {
            e
        };
        let linked = next.cites.iter().position(|c| {
            c.at >= s
                && c.at < e
                && c.kind == Kind::Link
                && !is_placeholder(&c.raw)
                && resolve(&c.raw, ctx.base).is_some()
        });
        if let Some(k) = linked {
            after.push((i + 1, k, passage));
            return;
        }
        let dash = starts_with_dash(&next.text[s..e]);
        let named = find_attribution(&next.text[s..e]);
        if named.is_some() && !dash {
            // "A student told this to a reporter (RFE/RL, Ozodi)": the
            // sentence's own attribution is the row, found with it.
            return;
        }
        if intro.is_none() {
            let sentence = collapse(&next.text[s..e]);
            let label = match named {
                Some((a, b)) => collapse(&next.text[s..e][a..b]),
                None => cap(sentence.trim_start_matches(DASHES), 80),
            };
            out.push(Citation {
                post: ctx.post.to_string(),
                line: next.line_at(s),
                url: None,
                text: label,
                kind: Kind::Unlinked,
                context: Some(cap(&sentence, 400)),
                quote: Some(passage),
                missing: Some(Missing::NoLink),
                raw: None,
                skip: None,
            });
            return;
        }
    }
    // No introduction and no source named after it: a passage in
    // quotation marks is someone's words; one without is, as far as the
    // text tells, the author's own set apart (a callout, a note, a list).
    let signed = if intro.is_none() {
        signature(&passage)
    } else {
        None
    };
    if intro.is_none() && signed.is_none() && !(in_quotation_marks(&passage) && long(&passage)) {
        return;
    }
    // Nothing behind it: an unlinked citation carrying the passage.
    let (text, line) = match (&intro, signed) {
        (Some(s), _) => (intro_label(s), block.line.saturating_sub(1).max(1)),
        (None, Some(name)) => (name, block.line),
        (None, None) => ("unattributed quote".to_string(), block.line),
    };
    let line = match (i.checked_sub(1).map(|p| &blocks[p]), &intro) {
        (Some(prev), Some(_)) => sentences_of_last(prev)
            .map(|(s, _)| prev.line_at(s))
            .unwrap_or(line),
        _ => line,
    };
    out.push(Citation {
        post: ctx.post.to_string(),
        line,
        url: None,
        text,
        kind: Kind::Unlinked,
        context: intro.as_deref().map(collapse_capped),
        quote: Some(passage),
        missing: Some(Missing::NoLink),
        raw: None,
        skip: None,
    });
}

/// Whether an attribution names the site the post is published on ("he
/// told Mashable" on mashable.com, "in an interview with the BBC" on
/// bbc.co.uk): the outlet's own reporting, with nothing else to link.
fn names_own_outlet(phrase: &str, base: Option<&Url>) -> bool {
    const GENERIC: &[&str] = &[
        "www", "com", "org", "net", "co", "uk", "news", "edu", "gov", "blog", "blogs", "amp",
        "mobile", "the",
    ];
    let Some((host, path)) = base.and_then(|b| Some((b.host_str()?, b.path()))) else {
        return false;
    };
    let labels: Vec<String> = host
        .split('.')
        .map(str::to_ascii_lowercase)
        .filter(|l| l.len() >= 2 && !GENERIC.contains(&l.as_str()))
        .collect();
    let capitals: Vec<String> = phrase
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().next().is_some_and(char::is_uppercase))
        .map(str::to_lowercase)
        .collect();
    // A syndicated story names its outlet in its address instead
    // (`…--abc-news-topstories.html` on a portal): the whole name, of two
    // words or more, hyphenated in the path.
    let slug = capitals.join("-");
    capitals
        .iter()
        .any(|w| !GENERIC.contains(&w.as_str()) && labels.contains(w))
        || (capitals.len() >= 2 && path.to_ascii_lowercase().contains(&slug))
}

/// Dashes (and a tilde) that set an attribution under a quote.
const DASHES: &[char] = &['—', '–', '―', '-', '~', ' '];

/// Words that say whose a passage just quoted is, in the sentence after it.
static SAID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:said|says|wrote|writes|tweeted|posted|told|added|explained|recalled|replied|according\s+to)\b",
    )
    .expect("static regex")
});

/// A sentence right after a quote that says whose it is: one set under it
/// with a dash ("— Tyler McCloskey, …"), or one that names who said it
/// ("That was all the guidebook said").
fn attributes_after(sentence: &str) -> bool {
    let t = sentence.trim_start();
    let named = t.chars().filter(|c| c.is_alphabetic()).count() >= 2;
    named && (starts_with_dash(t) || (t.split_whitespace().count() <= 25 && SAID.is_match(t)))
}

/// Whether a line opens with a dash (or a tilde) setting off a name.
fn starts_with_dash(s: &str) -> bool {
    let t = s.trim_start();
    t.starts_with(['—', '–', '―'])
        || t.starts_with("- ")
        || t.starts_with("--")
        || t.starts_with("~ ")
}

/// A quote signed inside itself: "… by Aldous Huxley", "… — Mark Twain"
/// at its end (no full stop after the name), or "節錄自【普門】" ("excerpted
/// from") at its head. Returns the signature.
fn signature(passage: &str) -> Option<String> {
    static SIGNED: LazyLock<[Regex; 2]> = LazyLock::new(|| {
        [
            Regex::new(r"(?:^|\s)(?:[Bb]y|—|–|―|--|~)\s*(\p{Lu}[\p{L}.'’-]*(?:\s+\p{Lu}[\p{L}.'’-]*){0,3})\s*$")
                .expect("static regex"),
            Regex::new(r"^((?:節錄自|节录自|摘自|引自|出自|轉載自|转载自|転載元|引用元|出典)[:：]?\s*\S{1,30})")
                .expect("static regex"),
        ]
    });
    let t = passage.trim();
    SIGNED.iter().find_map(|re| {
        let c = re.captures(t)?;
        let name = c.get(1)?.as_str().trim();
        (!name.ends_with('.') || name.chars().filter(|c| *c == '.').count() > 1)
            .then(|| name.to_string())
    })
}

/// A passage long enough to be quoted from somewhere: a slogan or a badge
/// in quotation marks ("A Proud Member of 9rules Network") is not.
fn long(passage: &str) -> bool {
    passage.split_whitespace().count() >= 8
        || passage
            .chars()
            .filter(|c| c.is_alphabetic() && !c.is_ascii())
            .count()
            >= 20
}

/// A passage that opens with a quotation mark, in any script's style.
fn in_quotation_marks(passage: &str) -> bool {
    passage.trim_start().starts_with([
        '"', '“', '„', '«', '‹', '»', '「', '『', '‘', '\'', '〝', '＂',
    ])
}

/// The last sentence of a block that has words: a footnote mark or a
/// lone symbol after the sentence (`… the Times. [3]`) is not one.
fn sentences_of_last(block: &Block) -> Option<(usize, usize)> {
    sentences(&block.text).into_iter().rev().find(|&(s, e)| {
        block.text[s..e]
            .chars()
            .filter(|c| c.is_alphabetic())
            .count()
            >= 3
    })
}

/// A quote block that quotes no source: a table or a list set in a
/// blockquote for layout, an editor's placeholder (`[figure 3: …]`), or a
/// pull quote or summary that repeats the post's own words.
fn is_not_a_quote(blocks: &[Block], i: usize, passage: &str) -> bool {
    let block = &blocks[i];
    if block.tabular || block.pull_quote {
        return true;
    }
    let t = passage.trim();
    if t.starts_with('[') && t.ends_with(']') {
        return true;
    }
    // The opening words of the quote, found in another block of the post.
    let probe = cap(t, 60);
    let probe = probe
        .trim_end_matches('…')
        .trim_matches(['"', '“', '”', '\'', ' ']);
    if probe.chars().count() < 30 {
        return false;
    }
    let probe = Probe::new(probe);
    blocks
        .iter()
        .enumerate()
        .any(|(k, b)| k != i && probe.found_in(&b.text))
}

/// White space as `collapse` folds it.
fn folds(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_whitespace()
    } else {
        c.is_whitespace()
    }
}

/// Whether `collapse(text)` holds `probe`, found without folding the
/// text: each space of the probe stands for a run of white space there.
/// (Folding every block of a post for each of its quotes was a tenth of
/// the time spent on citations.)
#[cfg(test)]
fn folded_contains(text: &str, probe: &str) -> bool {
    Probe::new(probe).found_in(text)
}

/// A probe split at its spaces once, its first word's searcher built once,
/// for all the blocks of a post.
struct Probe<'p> {
    probe: &'p str,
    /// `None` when the probe has white space other than single spaces
    /// between words: that is left to the fold itself (a folded text has
    /// none such).
    words: Option<(memchr::memmem::Finder<'p>, Vec<&'p str>)>,
}

impl<'p> Probe<'p> {
    fn new(probe: &'p str) -> Probe<'p> {
        let pieces: Vec<&str> = probe.split(' ').collect();
        let words = if pieces.iter().any(|p| p.is_empty() || p.contains(folds)) {
            None
        } else {
            Some((memchr::memmem::Finder::new(pieces[0]), pieces[1..].to_vec()))
        };
        Probe { probe, words }
    }

    fn found_in(&self, text: &str) -> bool {
        let Some((finder, rest)) = &self.words else {
            return collapse(text).contains(self.probe);
        };
        let first = finder.needle().len();
        let mut from = 0;
        while let Some(k) = finder.find(&text.as_bytes()[from..]) {
            let at = from + k;
            from = at + 1;
            let mut pos = at + first;
            let held = rest.iter().all(|piece| {
                let after = text.get(pos..).unwrap_or("");
                let gap = after.len() - after.trim_start_matches(folds).len();
                if gap == 0 || !after[gap..].starts_with(piece) {
                    return false;
                }
                pos += gap + piece.len();
                true
            });
            if held {
                return true;
            }
        }
        false
    }
}

/// The sentence that introduces quote block `i`: the last sentence of the
/// paragraph right before it, when it reads like an introduction (it ends
/// in ":", leaves an attribution hanging, or names a source). A caption or
/// an ordinary paragraph before a quote introduces nothing.
fn intro_sentence(blocks: &[Block], i: usize) -> Option<String> {
    let prev = blocks.get(i.checked_sub(1)?)?;
    if prev.kind != BlockKind::Para || prev.heading {
        return None;
    }
    let (s, e) = sentences_of_last(prev)?;
    let t = collapse(&prev.text[s..e]);
    let introduces = introduces_quote(&t) || find_attribution(&t).is_some();
    (introduces && !t.is_empty()).then_some(t)
}

/// A short label for an unlinked quote: the attribution phrase in the
/// introducing sentence, else the sentence up to its first parenthesis,
/// capped.
fn intro_label(intro: &str) -> String {
    if let Some((s, e)) = find_attribution(intro).or_else(|| find_dangling(intro)) {
        return intro[s..e].trim().to_string();
    }
    let t = intro.trim_end_matches([':', ' ', '.']);
    let t = match t.find(" (") {
        Some(p) if p > 0 => &t[..p],
        _ => t,
    };
    let t = t.trim_end_matches([',', ' ']);
    cap(t, 80)
}

/// A plain-text paragraph that introduces a quote: it ends in ":" or with an
/// attribution left hanging ("…reported by").
pub(crate) fn introduces_quote(paragraph: &str) -> bool {
    let t = paragraph.trim_end();
    t.ends_with(':') || find_dangling(t).is_some()
}

/// A plain-text paragraph announcing what the post itself goes on to list
/// ("Here are the takeaways from the hearing:", "Other findings include:",
/// "as follows:"): in plain text, where nothing marks a quote, what follows
/// it is the author's own list or sections. (A `<blockquote>` or a
/// Markdown `>` after such a sentence is still a quote: the author marked
/// it so.)
pub(crate) fn announces_own_list(paragraph: &str) -> bool {
    ANNOUNCES_OWN.is_match(paragraph.trim_end())
}

static ANNOUNCES_OWN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:(?:^|[.!?]\s+)here(?:\s+are|\s+is|['’]s)\b.*|\b(?:include|includes|including|the\s+following|as\s+follows|below)\s*):$",
    )
    .expect("static regex")
});

static DANGLING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:reported by|according to|via|wrote|writes|says|said|notes|reports|explains|adds|from)\s*[—–-]?\s*$",
    )
    .expect("static regex")
});

fn find_dangling(s: &str) -> Option<(usize, usize)> {
    let t = s.trim_end();
    DANGLING.find(t).map(|m| (m.start(), m.end()))
}

/// Attribution phrases: a source named in words. Each pattern is written to
/// need a name after it (a capital letter, an @handle), so that ordinary
/// sentences ("according to plan", "travel via Moscow") are not flagged.
static ATTRIBUTION_PATTERNS: LazyLock<Vec<String>> = LazyLock::new(|| {
    // A news outlet's name: capitalised words ending in a word newspapers,
    // agencies and magazines are named with, or a well-known name.
    const PRESS: &str = r"(?:(?:[A-Z][\w.&'’-]*\s+){0,4}(?:Times|Post|Journal|News|Herald|Tribune|Guardian|Gazette|Telegraph|Economist|Monitor|Observer|Chronicle|Insider|Inquirer|Dispatch|Examiner|Magazine|Press|Reuters|Bloomberg|Atlantic|Yorker|Nature|Science|Lancet|Independent|Standard|Mail|Express|Mirror|Register|Verge)|Reuters|Bloomberg|Wired|TechCrunch|Politico|Axios|Forbes|Fortune|Newsweek|Variety|CNN|BBC|NPR|CNBC|MSNBC|NBC|CBS|ABC|AFP|AP|Vox|Slate|Salon|Quartz|Engadget|Gizmodo|Mashable|Recode|ZDNet|CNET|The\s+Verge|Ars\s+Technica)\b";
    const NAME: &str = r"(?:@\w+|[A-Z][\w.&'’/-]*(?:\s+(?:of\s+|the\s+|de\s+)?[A-Z][\w.&'’/-]*)*)";
    [
        format!(
            r"\b(?i:according\s+to)\s+(?:(?:the|a|an|this|that|its|their|his|her|recent|new|latest|report|reports|reporting|study|survey|article|story|piece|statement|data|figures|research|analysis|estimates|records|documents|in|by|from|of|on|an?)\s+){{0,4}}{NAME}"
        ),
        format!(r"\b(?i:(?:as\s+)?(?:first\s+)?reported\s+(?:by|in))(?:\s+(?:the\s+)?{NAME})?"),
        // "Via X" names a source when it stands alone ("Via Boing Boing.");
        // at the head of a longer sentence it means "by means of".
        format!(r"(?:^(?i:via)\s+(?:the\s+)?{NAME}[.!]?$|[(\[—–|]\s*(?i:via)\s+(?:the\s+)?{NAME}|\s-\s(?i:via)\s+(?:the\s+)?{NAME})"),
        // "Source: …" names where facts come from. "Photo: …", "Image: …",
        // "Credit: …" name who made a picture: credits, not citations.
        r"(?:^|[(\[—–|]\s*)(?:Sources?|SOURCES?)\s*:\s*[^.;)\]]{1,60}".to_string(),
        r"(?i:\bh/t\b|\bhat[\s-]tip\b)[^.;)\]]{0,60}".to_string(),
        format!(r"\bHT:?\s+{NAME}"),
        // A news outlet named as where something was said or reported:
        // "told the Washington Post", "in an interview with Wired", "wrote
        // in The Atlantic", "the Wall Street Journal reported".
        format!(r"\btold\s+(?:the\s+)?{PRESS}"),
        format!(r"\b(?i:in\s+an?\s+interview\s+with)\s+(?:the\s+)?{PRESS}"),
        format!(
            r"\b(?:published|appeared|wrote|writing|writes|reported|reporting)\s+in\s+(?:the\s+)?(?:journal\s+)?{PRESS}"
        ),
        format!(
            r"(?:\b[Tt]he\s+|^|,\s)(?:{PRESS})\s+(?:first\s+)?(?:reported|reports|revealed|has\s+reported|had\s+reported|said|wrote|noted)\b"
        ),
        // "The Spanish daily El Pais reported": the kind of outlet, then
        // its name.
        format!(
            r"\b(?:newspaper|daily|weekly|magazine|broadcaster|outlet|website|news\s+site|news\s+agency)\s+{NAME}\s+(?:reported|revealed|wrote|reports)\b"
        ),
        format!(r"\b[Cc]iting\s+(?:an?\s+(?:report|story|article)\s+(?:by|from|in)\s+)?(?:the\s+)?{PRESS}"),
        format!(
            r"\b(?i:in\s+(?:a|an|his|her|their|its)\s+(?:column|op-ed|essay|article|piece|editorial|interview|op-ed\s+piece)\s+(?:for|in|with|on))\s+(?:the\s+)?{PRESS}"
        ),
        // "a study by the Pew Research Center", "a report from Amnesty
        // International": a named study or report can be linked.
        format!(
            r"\b(?:[Aa]n?|[Tt]he|[Tt]his|[Ii]ts|[Tt]heir)\s+(?:new\s+|recent\s+|latest\s+|annual\s+)?(?:study|report|survey|poll|paper|analysis)\s+(?:published\s+|released\s+|conducted\s+)?(?:by|from)\s+(?:the\s+)?{NAME}"
        ),
        // A study in a journal: "a new paper published in Oxford Open
        // Climate Change".
        format!(
            r"\b(?:study|paper|article|research|report)\s+(?:was\s+)?published\s+in\s+(?:the\s+)?(?:journal\s+)?{NAME}"
        ),
        // A statement someone named issued: it can be linked.
        format!(r"{NAME}\s+said\s+in\s+a\s+(?:written\s+)?statement"),
        // Said where a reader could look it up: "wrote on Twitter", "said
        // in a blog post", "in an op-ed", "tweeted".
        r"\b(?:wrote|said|posted|announced|explained|argued|noted)\s+(?:on|in)\s+(?:a\s+|an\s+|his\s+|her\s+|their\s+|its\s+)?(?:Twitter|Facebook|Instagram|LinkedIn|Mastodon|Bluesky|Reddit|YouTube|(?:recent\s+)?(?:blog\s+post|tweet|op-ed|essay|press\s+release|newsletter|Medium\s+post))\b".to_string(),
    ]
    .to_vec()
});

static ATTRIBUTION: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    ATTRIBUTION_PATTERNS
        .iter()
        .map(|p| Regex::new(p).expect("static regex"))
        .collect()
});

/// The words each of `ATTRIBUTION_PATTERNS` cannot match without, in the
/// same order, lower-cased: a pattern runs only on a sentence that holds
/// one of its words (in any ASCII case). Every match of a pattern holds
/// one of them, so the gate changes no result; most sentences hold none,
/// and the patterns (one regex search each) were most of the time spent
/// on a post's sentences. `HT` is the one word matched in its case.
const ATTRIBUTION_GATES: [&[&str]; 17] = [
    &["according"],
    &["reported"],
    &["via"],
    &["source"],
    &["h/t", "tip"],
    &[],
    &["told"],
    &["interview"],
    &["published", "appeared", "wrote", "writ", "reported"],
    &["report", "revealed", "said", "wrote", "noted"],
    &["report", "revealed", "wrote"],
    &["citing"],
    &[
        "column",
        "op-ed",
        "essay",
        "article",
        "piece",
        "editorial",
        "interview",
    ],
    &["study", "report", "survey", "poll", "paper", "analysis"],
    &["published"],
    &["statement"],
    &[
        "wrote",
        "said",
        "posted",
        "announced",
        "explained",
        "argued",
        "noted",
    ],
];

/// The gate of the `\bHT` pattern, which is matched in its case.
const HT_PATTERN: usize = 5;

/// The words of `OTHER_LANGUAGES`' first two patterns (French, Spanish,
/// Portuguese, Italian; German) in ASCII case; the others need a letter
/// of a script past Latin's (`beyond_latin`).
const OTHER_LATIN_GATES: [&[&str]; 2] = [
    &["selon", "d'apr", "seg", "acuerdo", "secondo"],
    &["laut", "gem\u{e4}\u{df}"],
];

/// All gate words, and for each, the bit of every pattern it opens:
/// bits 0–16 `ATTRIBUTION`, 17–18 the first two of `OTHER_LANGUAGES`.
static GATE_WORDS: LazyLock<(aho_corasick::AhoCorasick, Vec<u32>)> = LazyLock::new(|| {
    let mut words: Vec<&str> = Vec::new();
    let mut bits: Vec<u32> = Vec::new();
    let gates = ATTRIBUTION_GATES.iter().chain(OTHER_LATIN_GATES.iter());
    for (k, gate) in gates.enumerate() {
        for w in gate.iter() {
            match words.iter().position(|x| x == w) {
                Some(at) => bits[at] |= 1 << k,
                None => {
                    words.push(w);
                    bits.push(1 << k);
                }
            }
        }
    }
    let ac = aho_corasick::AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(&words)
        .expect("static words");
    (ac, bits)
});

/// Which attribution patterns a sentence can match (see
/// `ATTRIBUTION_GATES`): a bit per pattern.
fn open_gates(sentence: &str) -> u32 {
    // Unicode's case folding takes the Kelvin sign to `k` and the long s to
    // `s`: a sentence holding one may match a case-insensitive pattern
    // without any of its words in ASCII.
    if sentence.contains(['\u{212a}', '\u{17f}']) {
        return u32::MAX;
    }
    let (ac, bits) = &*GATE_WORDS;
    let mut open = 0u32;
    for m in ac.find_overlapping_iter(sentence) {
        open |= bits[m.pattern().as_usize()];
    }
    if sentence.contains("HT") {
        open |= 1 << HT_PATTERN;
    }
    open
}

/// A letter of a script the Latin-script patterns do not cover: Greek,
/// Cyrillic, Arabic, Devanagari, Thai, Hangul, kana, Han… Each pattern of
/// `OTHER_LANGUAGES` after the first two needs one.
fn beyond_latin(c: char) -> bool {
    ('\u{370}'..='\u{1fff}').contains(&c) || c >= '\u{2e80}'
}

/// "According to …" in the other languages of the corpus, each written to
/// need a name: a capital after it where the script has capitals, a run of
/// the script's letters before it where the name comes first (Japanese
/// "日経新聞によると", Korean "연합뉴스에 따르면", Chinese "据新华社报道").
static OTHER_LANGUAGES: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        // French, Spanish, Portuguese, Italian.
        r"\b(?:[Ss]elon|[Dd]'après|[Ss]egún|[Dd]e acuerdo con|[Ss]egundo|[Ss]econdo)\s+(?:(?:le|la|les|el|los|las|o|a|os|as|il|lo|i|gli)\s+|l['’]\s*)?\p{Lu}[\p{L}.&'’-]+(?:\s+(?:d['’]|de\s+|du\s+|del\s+|des\s+|da\s+|do\s+)?\p{Lu}[\p{L}.&'’-]+)*",
        // German: "laut Polizei", "dem Spiegel zufolge".
        r"\b(?:[Ll]aut|[Gg]emäß)\s+(?:(?:der|dem|des|einer|einem)\s+)?\p{Lu}[\p{L}.&'’-]+(?:\s+\p{Lu}[\p{L}.&'’-]+)*",
        // Russian: "по данным Росстата", "как сообщает «Интерфакс»".
        r"(?:(?i:по\s+данным|по\s+словам|по\s+сообщению|по\s+информации|согласно)|(?:^|,\s*)(?i:как\s+сообщает|как\s+сообщил[аои]?|как\s+пишет))\s+(?:\p{Ll}+\s+){0,2}[\p{Lu}«\x22][\p{L}»\x22-]*",
        // Greek: "σύμφωνα με το Reuters".
        r"(?i:σύμφωνα\s+με)\s+(?:(?:τον|την|το|τους|τις|τα)\s+)?[\p{Lu}«][\p{L}»-]*",
        // Japanese: a newspaper, agency, ministry or institute, or its
        // article, report or announcement ("デンバーポスト紙によると").
        r"[\p{Han}\p{Katakana}ー・A-Za-z0-9]{1,20}(?:紙|新聞|通信|ニュース|記事|報道|誌|テレビ|放送|省|庁|協会|研究所|大学)(?:の(?:報道|発表|調査|記事))?(?:によると|によれば)",
        // Chinese: a media report ("据新华社报道", "根據香港媒體報導").
        r"(?:据|據|根据|根據)[\p{Han}A-Za-z]{2,20}(?:报道|報導|报导|消息)",
        // Korean: a newspaper, agency, broadcaster or institute.
        r"[\p{Hangul}A-Za-z0-9]{1,20}(?:신문|일보|뉴스|통신|방송|연구소|연구원|위원회)(?:\s*보도)?(?:에\s*따르면|에\s*의하면)",
        // Arabic: "وفقا لـ", "نقلا عن", "بحسب".
        r"(?:وفقا\s*ل|وفقاً\s*ل|بحسب|نقلا\s+عن|نقلاً\s+عن)\s*\p{Arabic}{2,}(?:\s+\p{Arabic}{2,}){0,3}",
        // Hindi: a report, paper, agency or ministry "के अनुसार".
        r"\p{Devanagari}{2,}(?:\s+\p{Devanagari}{2,}){0,3}\s+(?:रिपोर्ट|अखबार|समाचार|एजेंसी|मंत्रालय|विभाग|अध्ययन|सर्वेक्षण)\s+के\s+अनुसार",
        // Thai: "ตามรายงานของ …", "อ้างอิงจาก …".
        r"(?:ตามรายงานของ|อ้างอิงจาก|รายงานจาก)\s*\p{Thai}{2,}",
    ]
    .iter()
    .map(|p| Regex::new(p).expect("static regex"))
    .collect()
});

/// Whether an Arabic attribution's first word after the trigger is the
/// reader's own ("بحسب جهازك", depending on your device): Arabic's
/// "بحسب" is also "depending on", and "your device" is no source. The
/// second person is a suffix: ك, كم, كما, كن.
fn addressed_to_reader(phrase: &str) -> bool {
    const TRIGGERS: &[&str] = &["بحسب", "وفقاً", "وفقا", "نقلاً", "نقلا"];
    let Some(rest) = TRIGGERS
        .iter()
        .find_map(|t| phrase.trim_start().strip_prefix(t))
    else {
        return false;
    };
    // "وفقا لـ" and "نقلا عن" take a preposition first.
    let rest = rest.trim_start();
    let rest = rest
        .strip_prefix("عن")
        .or_else(|| rest.strip_prefix('ل'))
        .unwrap_or(rest);
    let word = rest
        .split(|c: char| !c.is_alphabetic())
        .find(|w| !w.is_empty())
        .unwrap_or("");
    word.chars().count() > 2
        && ["ك", "كم", "كما", "كن"]
            .iter()
            .any(|suffix| word.ends_with(suffix))
}

/// A parenthesised list of publication names: "(NYT, Eurasianet)".
static PAREN_SOURCES: LazyLock<Regex> = LazyLock::new(|| {
    const NAME: &str = r"[A-Z][\w.&'’/-]*(?:\s+[A-Z][\w.&'’/-]*){0,3}";
    Regex::new(&format!(r"\(\s*({NAME}(?:\s*[,;/&]+\s*{NAME})*)\s*\)")).expect("static regex")
});

/// Publications often cited by name alone, in parentheses ("(Reuters)").
const PUBLICATIONS: &[&str] = &[
    "nyt",
    "new york times",
    "the new york times",
    "wsj",
    "wall street journal",
    "wapo",
    "washington post",
    "ap",
    "afp",
    "reuters",
    "bbc",
    "cnn",
    "ft",
    "financial times",
    "bloomberg",
    "guardian",
    "the guardian",
    "economist",
    "the economist",
    "telegraph",
    "al jazeera",
    "rfe/rl",
    "rferl",
    "eurasianet",
    "interfax",
    "tass",
    "ria novosti",
    "xinhua",
    "npr",
    "politico",
    "axios",
    "wired",
    "techcrunch",
    "forbes",
    "newsweek",
    "the atlantic",
    "new yorker",
    "le monde",
    "spiegel",
    "der spiegel",
    "upi",
    "slate",
    "salon",
    "la times",
    "los angeles times",
    "usa today",
    "asia times",
    "moscow times",
    "kommersant",
    "fergana",
    "ferghana",
    "asia-plus",
    "tajikistan monitor",
    "registan",
    "huffpost",
    "huffington post",
    "daily mail",
    "the independent",
    "nature",
    "science",
    "the lancet",
    "wikipedia",
];

/// Legal forms of companies: the tail of one company's name.
const COMPANY_FORMS: &[&str] = &[
    "ltd", "co", "inc", "llc", "llp", "corp", "gmbh", "plc", "ag", "s.a", "pty", "k.k", "bv",
    "b.v", "oy", "ab", "as", "sa", "srl", "spa",
];

const NOT_SOURCES: &[&str] = &[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "pdf",
    "ok",
    "usa",
    "us",
    "uk",
    "eu",
    "un",
];

/// Finds an attribution phrase in a sentence that has no link. Returns its
/// byte range in the sentence.
pub(crate) fn find_attribution(sentence: &str) -> Option<(usize, usize)> {
    attribution_in(sentence, true)
}

/// `find_attribution`, with every pattern run when `gated` is false (the
/// tests show the gates change nothing).
fn attribution_in(sentence: &str, gated: bool) -> Option<(usize, usize)> {
    // Most sentences hold none of the words the patterns need: the
    // regexes are skipped for them.
    let gates = if gated {
        open_gates(sentence)
    } else {
        u32::MAX
    };
    let parens = !gated || sentence.contains('(');
    let other_scripts = !gated || (!sentence.is_ascii() && sentence.chars().any(beyond_latin));
    if gates == 0 && !parens && !other_scripts {
        return None;
    }
    let sentence_start = sentence.len() - sentence.trim_start().len();
    // (A `RegexSet` of these patterns was tried for one pass instead of
    // one a pattern: its overlapping search runs on the PikeVM, which made
    // `collect` 1.7 times slower on bench/collect's posts.)
    for (k, re) in ATTRIBUTION.iter().enumerate() {
        if gates & (1 << k) == 0 {
            continue;
        }
        if let Some(m) = re.find(&sentence[sentence_start..]) {
            let (s, e) = (m.start() + sentence_start, m.end() + sentence_start);
            // Leading punctuation the pattern needed as an anchor is not part
            // of the phrase.
            let phrase = &sentence[s..e];
            let skip = phrase.len()
                - phrase
                    .trim_start_matches(['(', '[', '—', '–', '|', '-', ' '])
                    .len();
            let end = s + phrase.trim_end_matches([',', ' ', ':', '.']).len();
            // "published in November": a date, not a name.
            let mut words = sentence[s..end].rsplit(|c: char| !c.is_alphanumeric());
            let (last, before) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
            if before.eq_ignore_ascii_case("in")
                && NOT_SOURCES.contains(&last.to_lowercase().as_str())
            {
                continue;
            }
            return Some((s + skip, end.max(s + skip)));
        }
    }
    let other_gate = |k: usize| {
        if k < OTHER_LATIN_GATES.len() {
            gates & (1 << (ATTRIBUTION_GATES.len() + k)) != 0
        } else {
            other_scripts
        }
    };
    if let Some(m) = OTHER_LANGUAGES
        .iter()
        .enumerate()
        .filter(|&(k, _)| other_gate(k))
        .find_map(|(_, re)| re.find(sentence))
        && !addressed_to_reader(m.as_str())
    {
        let phrase = m
            .as_str()
            .trim_end_matches([',', ' ', '.', '，', '、', '。']);
        return Some((m.start(), m.start() + phrase.len()));
    }
    if !parens {
        return None;
    }
    for caps in PAREN_SOURCES.captures_iter(sentence) {
        let (Some(all), Some(list)) = (caps.get(0), caps.get(1)) else {
            continue;
        };
        let names: Vec<String> = list
            .as_str()
            .split([',', ';', '&'])
            .map(|n| n.trim().to_lowercase())
            .filter(|n| !n.is_empty())
            .collect();
        if names.iter().any(|n| NOT_SOURCES.contains(&n.as_str())) {
            continue;
        }
        // "(Sea Mos Solution Co.,Ltd)": one company's name, its legal form
        // after a comma, not a list of sources.
        if names.iter().any(|n| {
            COMPANY_FORMS.contains(&n.trim_end_matches('.'))
                || (names.len() > 1
                    && n.rsplit(' ')
                        .next()
                        .is_some_and(|w| COMPANY_FORMS.contains(&w.trim_end_matches('.'))))
        }) {
            continue;
        }
        let known = names.iter().any(|n| PUBLICATIONS.contains(&n.as_str()));
        let after = sentence[all.end()..].trim_start();
        let before = sentence[..all.start()].trim();
        // "(Reuters)" alone is a picture's credit; "MOSCOW (AP) —" is a
        // wire story's dateline: the story is the agency's own, not a
        // citation of it.
        let alone = before.is_empty() && after.trim_end_matches(['.', ' ']).is_empty();
        let dateline = (after.starts_with(['—', '–', '-'])
            && !before.contains(['.', ';', ':'])
            && before.split_whitespace().count() <= 4)
            || (before.is_empty()
                && after
                    .split_whitespace()
                    .next()
                    .is_some_and(|w| w.len() > 2 && !w.chars().any(char::is_lowercase)));
        // "(ATOM, JSON, RSS)": a list of acronyms names formats, not sources.
        let acronyms = !known
            && names
                .iter()
                .all(|n| !n.contains(' ') && list_is_upper(all.as_str()));
        if alone || dateline || acronyms {
            continue;
        }
        let at_end = after.is_empty() || after.starts_with(['.', ';', ',', '!', '?', ':']);
        // Names nobody publishes under need a sentence around them: after a
        // label ("High-res accumulators (Ernestas, Albert)", a table cell)
        // they are people credited, not sources.
        let prose = before.split_whitespace().count() >= 5 || before.chars().count() >= 40;
        if known || (names.len() >= 2 && at_end && prose) {
            return Some((all.start(), all.end()));
        }
    }
    None
}

/// Whether the letters of a parenthesised list are all capitals.
fn list_is_upper(list: &str) -> bool {
    !list.chars().any(char::is_lowercase)
}

/// Splits a block's text into sentences: byte ranges, whitespace trimmed.
/// A sentence ends at `.`, `!`, `?` or `…` (after closing quotes and
/// brackets) followed by white space and a capital, digit, quote or
/// bracket — unless the word is a known abbreviation — and at blank lines.
pub(crate) fn sentences(text: &str) -> Vec<(usize, usize)> {
    split_sentences::<true>(text)
}

/// `sentences`, with `SKIP` passing over the bytes that cannot end a
/// sentence or a paragraph by `memchr`; without it every byte is looked at
/// in turn (the property tests' reference: the two must agree).
pub(crate) fn split_sentences<const SKIP: bool>(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    let push = |out: &mut Vec<(usize, usize)>, s: usize, e: usize| {
        let seg = &text[s..e];
        let lead = seg.len() - seg.trim_start().len();
        let trail = seg.trim_end().len();
        if trail > lead {
            out.push((s + lead, s + trail));
        }
    };
    // Where the next byte that can end a sentence or a paragraph is: every
    // other byte is passed over by `memchr` rather than looked at here.
    // Each is searched again only once `i` has passed it.
    let (mut next_stop, mut next_break) = (0usize, 0usize);
    while i < b.len() {
        if SKIP {
            if next_stop < i {
                next_stop = memchr::memchr3(b'.', b'!', b'?', &b[i..]).map_or(b.len(), |k| i + k);
            }
            if next_break < i {
                next_break = memchr::memchr2(b'\n', 0xE2, &b[i..]).map_or(b.len(), |k| i + k);
            }
            i = next_stop.min(next_break);
            if i >= b.len() {
                break;
            }
        }
        let c = b[i];
        if c == b'\n' {
            // Blank line: a paragraph break inside a quote block.
            let mut j = i + 1;
            while j < b.len() && (b[j] == b' ' || b[j] == b'\t' || b[j] == b'\r') {
                j += 1;
            }
            if j < b.len() && b[j] == b'\n' {
                push(&mut out, start, i);
                start = j;
                i = j;
                continue;
            }
        }
        let end_char_len = match c {
            b'.' | b'!' | b'?' => 1,
            0xE2 if b.get(i + 1) == Some(&0x80) && b.get(i + 2) == Some(&0xA6) => 3, // …
            _ => 0,
        };
        if end_char_len > 0 {
            let mut j = i + end_char_len;
            // closing quotes/brackets: " ' ) ] ” ’
            loop {
                if j < b.len() && matches!(b[j], b'"' | b'\'' | b')' | b']') {
                    j += 1;
                } else if b.get(j) == Some(&0xE2)
                    && b.get(j + 1) == Some(&0x80)
                    && matches!(b.get(j + 2), Some(0x9D) | Some(0x99))
                {
                    j += 3;
                } else {
                    break;
                }
            }
            let ws_start = j;
            while j < b.len() && b[j].is_ascii_whitespace() {
                j += 1;
            }
            let next_ok = j >= b.len()
                || b[j].is_ascii_uppercase()
                || b[j].is_ascii_digit()
                || matches!(b[j], b'"' | b'\'' | b'(' | b'[')
                || b[j] >= 0x80;
            if j > ws_start && next_ok && !(c == b'.' && is_abbreviation(&text[start..i])) {
                push(&mut out, start, ws_start);
                start = j;
                i = j;
                continue;
            }
            i = ws_start.max(i + 1);
            continue;
        }
        i += 1;
    }
    push(&mut out, start, b.len());
    out
}

fn is_abbreviation(before: &str) -> bool {
    let word = before
        .rsplit(|c: char| c.is_whitespace() || c == '(')
        .next()
        .unwrap_or("");
    if word.chars().count() == 1 && word.chars().all(|c| c.is_alphabetic()) {
        return true; // an initial: "J. Smith", "U.S."
    }
    let lower = word.to_ascii_lowercase();
    matches!(
        lower.as_str(),
        "mr" | "mrs"
            | "ms"
            | "dr"
            | "prof"
            | "st"
            | "vs"
            | "etc"
            | "e.g"
            | "i.e"
            | "inc"
            | "jr"
            | "sr"
            | "no"
            | "fig"
            | "gen"
            | "gov"
            | "sen"
            | "rep"
            | "u.s"
            | "u.k"
            | "approx"
            | "ca"
    )
}

/// Collapses runs of white space into one space, trimmed.
pub(crate) fn collapse(s: &str) -> String {
    // Words are copied whole, and a char is decoded only past ASCII:
    // `split_whitespace` showed in profiles, and most text is ASCII.
    let bytes = s.as_bytes();
    if is_collapsed_ascii(bytes) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut word: Option<usize> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let (is_space, len) = if b < 0x80 {
            (b.is_ascii_whitespace(), 1)
        } else {
            let c = s[i..].chars().next().unwrap_or('x');
            (c.is_whitespace(), c.len_utf8())
        };
        if is_space {
            if let Some(start) = word.take() {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(&s[start..i]);
            }
        } else if word.is_none() {
            word = Some(i);
        }
        i += len;
    }
    if let Some(start) = word {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&s[start..]);
    }
    out
}

/// Whether ASCII text is already what `collapse` makes of it: no white
/// space but single spaces between words. One pass with no copy, which
/// decides for most link texts and many single-line sentences.
fn is_collapsed_ascii(b: &[u8]) -> bool {
    let (Some(&first), Some(&last)) = (b.first(), b.last()) else {
        return true;
    };
    // Two passes the compiler can run many bytes at a time: nothing past
    // ASCII and no white space but spaces; then no two spaces in a row.
    first != b' '
        && last != b' '
        && !b.iter().fold(false, |bad, &c| {
            bad | (c >= 0x80) | (c == b'\t') | (c == b'\n') | (c == 0x0C) | (c == b'\r')
        })
        && memchr::memmem::find(b, b"  ").is_none()
}

fn collapse_capped(s: &str) -> String {
    cap(&collapse(s), 400)
}

/// Caps a string at `max` characters, marking the cut with "…".
pub(crate) fn cap(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", s[..i].trim_end()),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_split_at_full_stops_but_not_at_abbreviations() {
        let t = "He met Dr. Smith in the U.S. yesterday. Then he left! “Why?” she asked.";
        let s: Vec<&str> = sentences(t).iter().map(|&(a, b)| &t[a..b]).collect();
        assert_eq!(
            s,
            vec![
                "He met Dr. Smith in the U.S. yesterday.",
                "Then he left!",
                "“Why?” she asked."
            ]
        );
    }

    #[test]
    fn attribution_phrases_need_a_name_after_them() {
        for yes in [
            "Six officers died, according to the New York Times.",
            "Six officers died (NYT,, Eurasianet).",
            "The riot was reported by Reuters.",
            "Via Boing Boing.",
            "Source: Asia-Plus.",
            "h/t Nathan",
            "Gunmen escaped, as the wires said (Reuters).",
        ] {
            assert!(find_attribution(yes).is_some(), "{yes}");
        }
        for no in [
            "Everything went according to plan.",
            "We travelled via Moscow and Almaty.",
            "The Islamic Movement of Uzbekistan (IMU) is old.",
            "They met on two days (Monday, Tuesday).",
            "Posted by: Christian | August 25, 2010",
            "I disagree here.",
            "Some escaped (IMU, North Caucasus jihadis) and others did not.",
            // Credits, datelines: not citations.
            "Photo: Mirzo Jaga.",
            "Pic: Mirzo Jaga.",
            "Image: Vjeran Pavic / The Verge",
            "(Reuters)",
            "DUSHANBE (Reuters) - Gunmen escaped.",
            "MOSCOW (AP) — An unmanned cargo ship broke up.",
            "Washington (CNN) -- Democrats pledged Friday to act.",
            "(AP) VOORHEES, N.J. — A man was charged.",
            "Support for feeds (ATOM, JSON, RSS) and sitemaps.",
            "sources: new option when building sources.",
        ] {
            assert!(find_attribution(no).is_none(), "{no}");
        }
    }

    fn para(text: &str, links: &[(&str, &str)]) -> Block {
        let mut b = Block::new(BlockKind::Para, 1);
        b.text = text.to_string();
        for (anchor, url) in links {
            let at = text.find(anchor).expect("anchor in text");
            b.cites.push(Cite {
                raw: url.to_string(),
                text: anchor.to_string(),
                kind: Kind::Link,
                line: 1,
                at,
                attribution: false,
            });
        }
        b
    }

    fn quote(text: &str) -> Block {
        let mut b = Block::new(BlockKind::Quote, 1);
        b.text = text.to_string();
        b
    }

    fn cite_all(blocks: &[Block]) -> Vec<Citation> {
        let mut out = Vec::new();
        citations(
            &PostCtx {
                post: "post",
                base: None,
            },
            blocks,
            &mut out,
        );
        out
    }

    fn unlinked(out: &[Citation]) -> Vec<(&str, Option<&str>)> {
        out.iter()
            .filter(|c| c.kind == Kind::Unlinked)
            .map(|c| (c.text.as_str(), c.quote.as_deref()))
            .collect()
    }

    #[test]
    fn a_page_control_linked_to_nowhere_is_no_citation_a_placeholder_in_prose_is() {
        let out = cite_all(&[
            para("Print", &[("Print", "#")]),
            para("Tweet", &[("Tweet", "#")]),
            para("The report is here.", &[("here", "#")]),
            para("See the slides.", &[("the slides", "")]),
            para("Share", &[("Share", "https://example.com/share")]),
        ]);
        let texts: Vec<(&str, Kind)> = out.iter().map(|c| (c.text.as_str(), c.kind)).collect();
        assert_eq!(
            texts,
            vec![
                ("here", Kind::Unlinked),
                ("the slides", Kind::Unlinked),
                ("Share", Kind::Link),
            ]
        );
    }

    #[test]
    fn arabic_according_to_needs_a_source_not_the_readers_own_thing() {
        assert!(find_attribution("قال بحسب المرصد السوري إن القتال استمر").is_some());
        assert!(find_attribution("والنتائج تتغير بحسب جهازك لكن النسب تبقى").is_none());
        assert!(find_attribution("النتائج وفقاً لجهازكم تتغير").is_none());
    }

    #[test]
    fn announcing_the_posts_own_list_is_told_from_introducing_a_quote() {
        for own in [
            "Here are the takeaways from Trump’s day on the stand:",
            "The hearing ran long. Here's what we learned:",
            "Some of the other more interesting data points include:",
            "The rules are as follows:",
        ] {
            assert!(announces_own_list(own), "{own}");
        }
        for quoting in [
            "The mayor told reporters:",
            "As the Times reported:",
            "He said, according to the transcript:",
        ] {
            assert!(!announces_own_list(quoting), "{quoting}");
            assert!(introduces_quote(quoting), "{quoting}");
        }
    }

    #[test]
    fn a_quote_without_quotation_marks_intro_or_source_is_the_authors_own() {
        // A callout, a note, a list set in a blockquote: nothing says it is
        // anyone else's, so it cites nothing.
        let out = cite_all(&[
            para("The profiler ships with the engine.", &[]),
            quote("Stay focused on the CPU!"),
        ]);
        assert!(unlinked(&out).is_empty(), "{out:?}");
        // In quotation marks, it is someone's words, source unknown.
        let out = cite_all(&[
            para("The profiler ships with the engine.", &[]),
            quote("“Most commonly, profiling information serves to aid program optimization.”"),
        ]);
        assert_eq!(
            unlinked(&out),
            vec![(
                "unattributed quote",
                Some("“Most commonly, profiling information serves to aid program optimization.”")
            )]
        );
    }

    #[test]
    fn the_line_under_a_quote_gives_its_source() {
        // Set under it with a dash, with a link: the link is the source.
        let out = cite_all(&[
            quote("\"I'm not really nervous anymore.\""),
            para(
                "— TYLER MCCLOSKEY, a pitcher for Keystone, Pa. (via SI)",
                &[("SI", "https://si.example/story")],
            ),
        ]);
        assert!(unlinked(&out).is_empty(), "{out:?}");
        assert_eq!(
            out[0].quote.as_deref(),
            Some("\"I'm not really nervous anymore.\"")
        );
        // Without a link: an unlinked quote, labelled with who said it.
        let out = cite_all(&[
            quote("Do not attempt the pass after 3 p.m. in winter."),
            para("That was all the guidebook said, and it was enough.", &[]),
        ]);
        assert_eq!(
            unlinked(&out),
            vec![(
                "That was all the guidebook said, and it was enough.",
                Some("Do not attempt the pass after 3 p.m. in winter.")
            )]
        );
        // A line of tildes is a separator, not a name.
        let out = cite_all(&[quote("An album that is equally at home."), para("~~~", &[])]);
        assert!(unlinked(&out).is_empty(), "{out:?}");
    }

    #[test]
    fn a_link_in_the_sentence_before_a_quote_is_its_source() {
        let out = cite_all(&[
            para(
                "These deals take years, he said according to a transcript reviewed by Business Insider.",
                &[("Business Insider", "https://bi.example/zuckerberg")],
            ),
            quote("I've been building relationships for years with the founders."),
        ]);
        assert!(unlinked(&out).is_empty(), "{out:?}");
        assert!(out[0].quote.is_some());
    }

    #[test]
    fn a_heading_or_a_pull_quote_introduces_and_quotes_nothing() {
        let mut heading = para("Wrap Up:", &[]);
        heading.heading = true;
        let out = cite_all(&[
            heading,
            quote("Shovel Knight is the kind of game people love"),
        ]);
        assert!(unlinked(&out).is_empty(), "{out:?}");
        // The same words in a paragraph introduce the quote.
        let out = cite_all(&[
            para("Jason:", &[]),
            quote("You should never use an ad rate card to estimate revenue."),
        ]);
        assert_eq!(unlinked(&out).len(), 1);
        let mut pull = quote("“Literally means actually.”");
        pull.pull_quote = true;
        let out = cite_all(&[para("Maybe I should define it.", &[]), pull]);
        assert!(unlinked(&out).is_empty(), "{out:?}");
    }

    #[test]
    fn a_company_name_or_a_label_is_not_a_list_of_sources() {
        for no in [
            "A new version of the program from the company (Sea Mos Solution Co.,Ltd)",
            "High-res accumulators (Ernestas, Albert)",
            "Built by the team (Acme Widgets, Inc.)",
        ] {
            assert!(find_attribution(no).is_none(), "{no}");
        }
        for yes in [
            "Police said six officers had died in the clashes (Ozodi, Asia-Plus).",
            "High-res accumulators (Reuters, Albert)",
        ] {
            assert!(find_attribution(yes).is_some(), "{yes}");
        }
    }

    #[test]
    fn a_news_outlet_named_as_where_it_was_said_is_a_source() {
        for yes in [
            "“This is what he was fighting for,” Hicks told ABC News.",
            "He told the Pittsburgh Tribune-Review.",
            "Gates said in an interview on NBC’s “Meet the Press.”",
            "The study is published in the New England Journal of Medicine.",
            "The patient was turned away, the Times reports.",
            "Prices rose, citing a report by Bloomberg.",
            "The Spanish daily El Pais reported that three men broke in.",
            "The cause of death, Payne told The Independent, was toxicity.",
            "A new paper published in Oxford Open Climate Change warns of it.",
            "The craft broke up over Siberia, Roscosmos said in a statement.",
            "It wiped $182 billion off their wealth, according to research by Bloomberg.",
            "Smart children are hurt less, according to a study in the February issue.",
        ] {
            assert!(find_attribution(yes).is_some(), "{yes}");
        }
        for no in [
            "He told his mother about the Times Square trip.",
            "The results were published in November.",
            "The paper was published in March and widely read.",
        ] {
            assert!(find_attribution(no).is_none(), "{no}");
        }
    }

    #[test]
    fn attributions_are_found_in_other_languages_when_they_name_a_source() {
        for (sentence, phrase) in [
            (
                "393 n’ont pas pu être joints, selon le Quai d’Orsay.",
                "selon le Quai d’Orsay",
            ),
            (
                "Как сообщили РИА Новости в МИД России, визы нужны.",
                "Как сообщили РИА",
            ),
            (
                "デンバーポスト紙によると、彼は文書を提出した。",
                "デンバーポスト紙によると",
            ),
            ("此外，根據香港媒體報導，被捕者已獲釋。", "根據香港媒體報導"),
            ("연합뉴스에 따르면 회의는 취소됐다.", "연합뉴스에 따르면"),
        ] {
            let (s, e) = find_attribution(sentence).unwrap_or_else(|| panic!("{sentence}"));
            assert_eq!(&sentence[s..e], phrase);
        }
        for no in [
            "まあ、不気味の谷現象の説明によれば、完璧に近づけすぎない。",
            "據韓國農民表示，每年均傳農民自殺事件。",
            "뉴스에 의하면...",
            "Кто и как пишет UnitTest-ы для своих шаблонов.",
            "राम खुद धर्म हैं, सभी समय के अनुसार।",
        ] {
            assert!(find_attribution(no).is_none(), "{no}");
        }
    }

    #[test]
    fn the_outlet_a_post_is_published_on_is_not_cited_by_naming_it() {
        let mashable = Url::parse("https://mashable.com/2014/05/01/story/").unwrap();
        let portal =
            Url::parse("https://gma.yahoo.com/veteran-photo-175203890--abc-news-topstories.html")
                .unwrap();
        let time = Url::parse("https://time.com/6333333/james-hansen-climate/").unwrap();
        assert!(names_own_outlet("told Mashable", Some(&mashable)));
        assert!(names_own_outlet("told ABC News", Some(&portal)));
        assert!(!names_own_outlet("told Reuters", Some(&mashable)));
        // A person the address is about is still a source.
        assert!(!names_own_outlet("according to Hansen", Some(&time)));
        assert!(!names_own_outlet("told Mashable", None));
    }

    #[test]
    fn a_quote_signed_inside_itself_names_its_source() {
        let out = cite_all(&[quote(
            "Experience is not what happens to you; it’s what you do with it. by Aldous Huxley",
        )]);
        assert_eq!(unlinked(&out)[0].0, "Aldous Huxley");
        let out = cite_all(&[quote("節錄自【普門】 這個世間常常是本來沒有事。")]);
        assert_eq!(unlinked(&out)[0].0, "節錄自【普門】");
        // A slogan in quotation marks is too short to be a quoted passage.
        let out = cite_all(&[quote("\"A Proud Member of 9rules Network\"")]);
        assert!(unlinked(&out).is_empty(), "{out:?}");
    }

    #[test]
    fn the_gates_before_the_attribution_patterns_change_no_result() {
        // Sentences built from the patterns' words, names, outlets, other
        // scripts and the two letters that fold to ASCII ones, so that
        // many match some pattern and many match none.
        const PIECES: &[&str] = &[
            "According to",
            "according to the",
            "as first reported by",
            "Reported in",
            "via",
            "Via",
            "(via",
            "— via",
            " - via",
            "Source:",
            "SOURCES:",
            "Sources :",
            "h/t",
            "H/T",
            "hat tip",
            "hat-tip",
            "HT",
            "HT:",
            "told",
            "told the",
            "in an interview with",
            "In an interview with",
            "wrote in",
            "published in",
            "appeared in",
            "writing in",
            "the journal",
            "reported",
            "revealed",
            "said",
            "noted",
            "has reported",
            "the daily",
            "newspaper",
            "citing",
            "Citing a report by",
            "in a column for",
            "in an op-ed in",
            "a new study by",
            "The report from",
            "a survey conducted by",
            "paper was published in",
            "said in a statement",
            "said in a written statement",
            "posted on",
            "wrote on",
            "Twitter",
            "a blog post",
            "the",
            "a",
            "of",
            "in",
            "on",
            "The",
            "New York Times",
            "Times",
            "Washington Post",
            "Reuters",
            "BBC",
            "The Atlantic",
            "Wired",
            "Pew Research Center",
            "Nature",
            "Jane Smith",
            "@handle",
            "Monday",
            "November",
            "(NYT, Eurasianet)",
            "(Reuters)",
            "(AP) —",
            "(ATOM, JSON)",
            "(Sea Mos Co.,Ltd)",
            "(",
            ")",
            ",",
            ".",
            ":",
            ";",
            "—",
            "selon le",
            "Selon",
            "d'après",
            "según",
            "Según el",
            "Secondo",
            "laut",
            "Laut der",
            "gemäß",
            "Polizei",
            "Quai d’Orsay",
            "по данным",
            "Росстата",
            "как сообщает",
            "σύμφωνα με το",
            "紙によると",
            "デンバーポスト",
            "据新华社报道",
            "연합뉴스에 따르면",
            "بحسب",
            "المرصد",
            "के अनुसार",
            "ตามรายงานของ",
            "\u{212a}",
            "ſource:",
            "ſaid",
            "\u{212a}old",
            "accordin\u{212a}",
            "that",
            "what",
            "right",
            "might",
            "tip",
            "study",
            "people",
            "man",
            "“",
            "”",
            "’",
            "\n",
            "  ",
        ];
        // A small linear congruential generator: the same sentences each run.
        let mut seed = 0x2545_f491_u64;
        let mut next = |n: usize| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) as usize % n
        };
        let mut matched = 0;
        for _ in 0..4000 {
            let len = 1 + next(9);
            let words: Vec<&str> = (0..len).map(|_| PIECES[next(PIECES.len())]).collect();
            let sentence = words.join(" ");
            let gated = attribution_in(&sentence, true);
            assert_eq!(gated, attribution_in(&sentence, false), "{sentence}");
            matched += usize::from(gated.is_some());
        }
        // Both outcomes were exercised.
        assert!(matched > 400 && matched < 3600, "{matched}");
    }

    #[test]
    fn a_probe_is_found_in_a_text_as_in_its_folded_form() {
        const TEXTS: &[&str] = &[
            "one two  three\nfour\t\tfive",
            "  aa aaa\u{a0}aa\r\n b",
            "the quick\n\nbrown fox, the quick brown\u{2003}dog",
            "x\u{b}y z",
            "",
        ];
        const PROBES: &[&str] = &[
            "two three four",
            "ne two",
            "three four fiv",
            "aa aa",
            "aaa aa b",
            "a aa",
            "quick brown",
            "the quick brown dog",
            "brown fox, the",
            "x\u{b}y z",
            "two  three",
            " one",
            "four\tfive",
            "fox",
            "dog cat",
        ];
        for text in TEXTS {
            for probe in PROBES {
                assert_eq!(
                    folded_contains(text, probe),
                    collapse(text).contains(probe),
                    "{text:?} {probe:?}"
                );
            }
        }
    }

    #[test]
    fn collapse_folds_every_kind_of_white_space() {
        assert_eq!(collapse("  a\n\t b\u{a0}\u{a0}c  déjà  "), "a b c déjà");
        assert_eq!(collapse(" \n "), "");
    }

    #[test]
    fn placeholder_hrefs_are_recognised() {
        for p in ["", " ", "#", "#!"] {
            assert!(is_placeholder(p), "{p:?}");
        }
        // A count under a post is a control; a comma the author linked is
        // a placeholder (the seed's `<a href="">,</a>`).
        for count in ["26", " (4) ", "1.2k"] {
            assert!(is_a_count(count), "{count:?}");
        }
        for words in [",", "the full table", "", "2nd source"] {
            assert!(!is_a_count(words), "{words:?}");
        }
        for p in [
            "#fn1",
            "/about",
            "https://example.com/",
            "javascript:void(0)",
        ] {
            assert!(!is_placeholder(p), "{p:?}");
        }
    }
}
