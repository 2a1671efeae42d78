//! A fast path in front of html5ever's tokenizer: the common tokens of a
//! page (text, plain start and end tags, character references that end in
//! `;`, comments, `<!DOCTYPE html>`, the raw text of `<script>`, `<style>`,
//! `<title>`…) are cut out of the string with `memchr` and handed to
//! html5ever's tree builder as the tokens its own tokenizer would make,
//! with the same line numbers and split at the same line breaks; at the
//! first token it is not sure of (a legacy reference without `;`, a bogus
//! comment, CDATA, an escaped script body, a tag cut by the end of input…)
//! the rest of the page goes to html5ever's tokenizer, which starts in the
//! state the fast path reached. The tree is the one html5ever alone builds
//! (`tests` below compare them on every kind of token and on random
//! markup); only the work per character is less. html5ever's tokenizer
//! fills tag names, attribute names and values one character at a time,
//! which was most of the parse.
//!
//! Pure string work over an html5ever `TreeSink`.

use std::borrow::Cow;

use html5ever::interface::TokenizerResult;
use html5ever::tendril::{StrTendril, TendrilSink};
use html5ever::tokenizer::states::{RawKind, State};
use html5ever::tokenizer::{
    BufferQueue, Doctype, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use html5ever::tree_builder::{TreeBuilder, TreeBuilderOpts, TreeSink};
use html5ever::{Attribute, LocalName, QualName, local_name, ns};
use memchr::{memchr, memchr2, memmem};

/// Parses a whole document into `sink`, as `html5ever::parse_document`
/// with default options does.
pub(crate) fn parse_document<S: TreeSink>(sink: S, src: &str) -> S::Output {
    // A NUL is read differently in each state, and html5ever's tokens
    // break at each CR in ways that move its lines: such pages go to
    // html5ever whole.
    if memchr2(0, b'\r', src.as_bytes()).is_some() {
        return html5ever::parse_document(sink, Default::default()).one(src);
    }
    // A leading BOM is dropped, as html5ever's tokenizer does.
    let body = src.strip_prefix('\u{feff}').unwrap_or(src);
    let tb = TreeBuilder::new(sink, TreeBuilderOpts::default());
    let mut fast = Fast {
        s: body,
        i: 0,
        line: 1,
        breaks: Vec::new(),
        found: 0,
        next: 0,
        passed: 0,
        lost: 0,
        whole: if u32::try_from(body.len()).is_ok() {
            StrTendril::from_slice(body)
        } else {
            StrTendril::new()
        },
        tb: &tb,
    };
    match fast.run() {
        Done::Eof => {
            let _ = tb.process_token(Token::EOFToken, fast.line);
            TokenSink::end(&tb);
        }
        Done::Handover(state, last) => {
            fast.seek(fast.i);
            let rest = &body[fast.i..];
            let tok = Tokenizer::new(
                Shifted {
                    tb: &tb,
                    by: fast.line - 1,
                },
                TokenizerOpts {
                    // html5ever drops a BOM wherever its tokenizer is fed
                    // again (after each `</script>`), but must not drop one
                    // where the fast path stopped.
                    discard_bom: !rest.starts_with('\u{feff}'),
                    initial_state: Some(state),
                    last_start_tag_name: last,
                    ..Default::default()
                },
            );
            let queue = BufferQueue::default();
            if !rest.is_empty() {
                queue.push_back(StrTendril::from_slice(rest));
            }
            while let TokenizerResult::Script(_) = tok.feed(&queue) {}
            tok.end();
        }
    }
    tb.sink.finish()
}

/// The tree builder seen by html5ever's tokenizer once it takes over: its
/// lines count from where it started, so they are shifted.
struct Shifted<'t, S: TreeSink> {
    tb: &'t TreeBuilder<S::Handle, S>,
    by: u64,
}

impl<S: TreeSink> TokenSink for Shifted<'_, S> {
    type Handle = S::Handle;
    fn process_token(&self, token: Token, line: u64) -> TokenSinkResult<S::Handle> {
        self.tb.process_token(token, line + self.by)
    }
    fn end(&self) {
        TokenSink::end(self.tb)
    }
    fn adjusted_current_node_present_but_not_in_html_namespace(&self) -> bool {
        self.tb
            .adjusted_current_node_present_but_not_in_html_namespace()
    }
}

/// How the fast path stopped.
enum Done {
    Eof,
    /// html5ever's tokenizer takes over at `Fast::i`, in this state, with
    /// this last start tag.
    Handover(State, Option<String>),
}

struct Fast<'s, 't, S: TreeSink> {
    s: &'s str,
    /// Where the next token starts; always on a char boundary (every cut
    /// is next to an ASCII byte).
    i: usize,
    /// The line html5ever would give the next token, counted from 1: that
    /// of the input read so far (`seek`).
    line: u64,
    /// Where the line breaks are in the input before `found`, found a
    /// window at a time: counting them token by token costs more than the
    /// tokens, and finding all of a page's at once would hold 8 bytes per
    /// line (half a gigabyte for a file of 64 MB of line breaks).
    breaks: Vec<usize>,
    /// The end of the window `breaks` was found in.
    found: usize,
    /// The first of `breaks` not yet read.
    next: usize,
    /// How many line breaks are read in all.
    passed: usize,
    /// How many of them html5ever never counts: it skips the white space
    /// between an attribute's `=` and its value without counting its line
    /// breaks, and its lines stay that much behind for the rest of the
    /// page.
    lost: u64,
    /// The input as one tendril, if it is under 4 GB (else empty).
    whole: StrTendril,
    tb: &'t TreeBuilder<S::Handle, S>,
}

fn is_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | b'\x0C' | b' ')
}

impl<S: TreeSink> Fast<'_, '_, S> {
    /// The input is read up to `p` (exclusive; never backwards).
    fn seek(&mut self, p: usize) {
        /// How much of the input each window of line breaks covers.
        const WINDOW: usize = 64 * 1024;
        loop {
            while self.breaks.get(self.next).is_some_and(|&b| b < p) {
                self.next += 1;
                self.passed += 1;
            }
            if p <= self.found || self.found >= self.s.len() {
                break;
            }
            // Every break of this window is read: the next window.
            let (from, to) = (self.found, (self.found + WINDOW).min(self.s.len()));
            self.breaks.clear();
            self.breaks
                .extend(memchr::memchr_iter(b'\n', &self.s.as_bytes()[from..to]).map(|k| from + k));
            (self.found, self.next) = (to, 0);
        }
        self.line = (1 + self.passed as u64).saturating_sub(self.lost);
    }

    fn emit(&self, token: Token) -> TokenSinkResult<S::Handle> {
        self.tb.process_token(token, self.line)
    }

    /// An end tag. After a script's, html5ever's driver feeds its
    /// tokenizer again, which then drops a BOM as at the start of input.
    fn end_tag(&mut self, tag: Tag) {
        if let TokenSinkResult::Script(_) = self.emit(Token::TagToken(tag))
            && self.s[self.i..].starts_with('\u{feff}')
        {
            self.i += '\u{feff}'.len_utf8();
        }
    }

    fn text(&self, t: &str) {
        let _ = self.emit(Token::CharacterTokens(self.tendril(t)));
    }

    /// A slice of the input as a tendril: a view of one copy of the whole
    /// input (as html5ever's tokenizer hands out), not a copy of its own.
    fn tendril(&self, t: &str) -> StrTendril {
        // `t` may also be a string of the fast path's own ("<", "&").
        let at = (t.as_ptr() as usize).wrapping_sub(self.s.as_ptr() as usize);
        let inside = at <= self.s.len() && t.len() <= self.s.len() - at;
        match (u32::try_from(at), u32::try_from(t.len())) {
            (Ok(at), Ok(len)) if inside && self.whole.len() == self.s.len() => {
                self.whole.subtendril(at, len)
            }
            _ => StrTendril::from_slice(t),
        }
    }

    fn chars(&self, cs: &[char]) {
        // html5ever emits each character of a reference on its own.
        for &c in cs {
            let mut buf = [0u8; 4];
            self.text(c.encode_utf8(&mut buf));
        }
    }

    fn byte(&self, k: usize) -> Option<u8> {
        self.s.as_bytes().get(k).copied()
    }

    /// The data state, until the end of input or a handover.
    fn run(&mut self) -> Done {
        let len = self.s.len();
        loop {
            self.newlines_alone();
            let rest = &self.s.as_bytes()[self.i..];
            let j = self.i + memchr2(b'<', b'&', rest).unwrap_or(rest.len());
            if j > self.i {
                self.seek(j);
                self.text(&self.s[self.i..j]);
                self.i = j;
            }
            if self.i >= len {
                return Done::Eof;
            }
            if self.s.as_bytes()[self.i] == b'&' {
                match char_ref(self.s, self.i) {
                    Ref::Literal => {
                        self.text("&");
                        self.i += 1;
                    }
                    Ref::Chars(cs, n, end) => {
                        self.chars(&cs[..n]);
                        self.i = end;
                    }
                    Ref::Unsure => return Done::Handover(State::Data, None),
                }
                continue;
            }
            // '<'
            match self.byte(self.i + 1) {
                Some(b) if b.is_ascii_alphabetic() => {
                    let Some(tag) = self.tag(TagKind::StartTag) else {
                        return Done::Handover(State::Data, None);
                    };
                    let name = tag.name.clone();
                    match self.emit(Token::TagToken(tag)) {
                        TokenSinkResult::Continue | TokenSinkResult::Script(_) => {}
                        TokenSinkResult::Plaintext => {
                            return Done::Handover(State::Plaintext, Some(name.to_string()));
                        }
                        TokenSinkResult::RawData(kind) => {
                            if let Some(done) = self.raw(kind, &name) {
                                return done;
                            }
                        }
                    }
                }
                Some(b'/') => match self.byte(self.i + 2) {
                    Some(b) if b.is_ascii_alphabetic() => {
                        let Some(tag) = self.tag(TagKind::EndTag) else {
                            return Done::Handover(State::Data, None);
                        };
                        self.end_tag(tag);
                    }
                    _ => return Done::Handover(State::Data, None),
                },
                Some(b'!') => {
                    if !(self.comment() || self.doctype()) {
                        return Done::Handover(State::Data, None);
                    }
                }
                Some(b'?') => return Done::Handover(State::Data, None),
                next => {
                    // Not markup: the '<' is text, and html5ever reads the
                    // character after it again, alone (having counted it
                    // first if it is a line break).
                    if next == Some(b'\n') {
                        self.seek(self.i + 2);
                    }
                    self.text("<");
                    self.i += 1;
                    match next {
                        None | Some(b'<' | b'&') => {}
                        Some(_) => {
                            let c = self.s[self.i..].chars().next().unwrap_or('\u{fffd}');
                            let end = self.i + c.len_utf8();
                            self.text(&self.s[self.i..end]);
                            self.i = end;
                        }
                    }
                }
            }
        }
    }

    /// html5ever's data state takes a line break that starts a run of text
    /// on its own (its fast scan starts only at other characters); the
    /// tree builder's line for the text depends on it.
    fn newlines_alone(&mut self) {
        while self.byte(self.i) == Some(b'\n') {
            self.seek(self.i + 1);
            self.text("\n");
            self.i += 1;
        }
    }

    /// A start or end tag at `i` (`<` and a letter, or `</` and a letter):
    /// the token, `i` and `line` moved past it; `None` (nothing moved) at
    /// the end of input.
    fn tag(&mut self, kind: TagKind) -> Option<Tag> {
        let b = self.s.as_bytes();
        let len = b.len();
        let start = self.i;
        let mut j = start + if kind == TagKind::EndTag { 2 } else { 1 };
        let name_start = j;
        while j < len && !matches!(b[j], b'\t' | b'\n' | b'\x0C' | b' ' | b'/' | b'>') {
            j += 1;
        }
        let name = lower(&self.s[name_start..j]);
        let mut attrs: Vec<Attribute> = Vec::new();
        let mut self_closing = false;
        let mut lost = 0;
        // The before-attribute-name state, with the end of the tag found.
        loop {
            while j < len && is_space(b[j]) {
                j += 1;
            }
            match b.get(j)? {
                b'>' => break,
                b'/' => {
                    if b.get(j + 1)? == &b'>' {
                        self_closing = true;
                        j += 1;
                        break;
                    }
                    j += 1;
                    continue;
                }
                _ => {}
            }
            // An attribute name: its first character whatever it is, then
            // up to a space, '/', '>' or '='.
            let n0 = j;
            j += self.s[j..].chars().next()?.len_utf8();
            while j < len && !matches!(b[j], b'\t' | b'\n' | b'\x0C' | b' ' | b'/' | b'>' | b'=') {
                j += 1;
            }
            let aname = &self.s[n0..j];
            while j < len && is_space(b[j]) {
                j += 1;
            }
            let mut value: Cow<str> = Cow::Borrowed("");
            if b.get(j)? == &b'=' {
                j += 1;
                while j < len && is_space(b[j]) {
                    lost += u64::from(b[j] == b'\n');
                    j += 1;
                }
                match b.get(j)? {
                    &q @ (b'"' | b'\'') => {
                        let v0 = j + 1;
                        let v1 = v0 + memchr(q, &b[v0..])?;
                        value = decode_attr(&self.s[v0..v1])?;
                        j = v1 + 1;
                        // After a quoted value anything but a space, '/' or
                        // '>' starts the next attribute at once.
                        b.get(j)?;
                    }
                    b'>' => {}
                    _ => {
                        let v0 = j;
                        while j < len && !matches!(b[j], b'\t' | b'\n' | b'\x0C' | b' ' | b'>') {
                            j += 1;
                        }
                        b.get(j)?;
                        value = decode_attr(&self.s[v0..j])?;
                    }
                }
            }
            let aname = lower(aname);
            // A repeated name is dropped, as html5ever does.
            if !attrs.iter().any(|a| *a.name.local == *aname) {
                attrs.push(Attribute {
                    name: QualName::new(None, ns!(), local(&aname)),
                    value: match value {
                        Cow::Borrowed(v) => self.tendril(v),
                        Cow::Owned(v) => StrTendril::from(v),
                    },
                });
            }
        }
        // j is at the closing '>'.
        self.lost += lost;
        self.seek(j + 1);
        self.i = j + 1;
        Some(Tag {
            kind,
            name: local(&name),
            self_closing,
            attrs,
        })
    }

    /// A comment at `i` (`<!--`), if it is an ordinary one: its data runs
    /// to the first `-->` or `--!>`.
    fn comment(&mut self) -> bool {
        let b = self.s.as_bytes();
        if !b[self.i..].starts_with(b"<!--") {
            return false;
        }
        let d0 = self.i + 4;
        // `<!-->`, `<!--->` and a comment cut by the end of input are left
        // to html5ever.
        if b[d0..].starts_with(b">") || b[d0..].starts_with(b"->") {
            return false;
        }
        let mut from = d0;
        let (d1, end) = loop {
            let Some(k) = memmem::find(&b[from..], b"--").map(|k| from + k) else {
                return false;
            };
            match b.get(k + 2) {
                Some(b'>') => break (k, k + 3),
                Some(b'!') if b.get(k + 3) == Some(&b'>') => break (k, k + 4),
                Some(_) => from = k + 1,
                None => return false,
            }
        };
        self.seek(end);
        let _ = self.emit(Token::CommentToken(StrTendril::from_slice(&self.s[d0..d1])));
        self.i = end;
        true
    }

    /// `<!DOCTYPE html>` at `i`, in any case, spaced as HTML allows; other
    /// doctypes are left to html5ever.
    fn doctype(&mut self) -> bool {
        let b = self.s.as_bytes();
        let mut j = self.i + 2;
        if !b
            .get(j..j + 7)
            .is_some_and(|w| w.eq_ignore_ascii_case(b"doctype"))
        {
            return false;
        }
        j += 7;
        let sp = j;
        while b.get(j).is_some_and(|&c| is_space(c)) {
            j += 1;
        }
        if j == sp
            || !b
                .get(j..j + 4)
                .is_some_and(|w| w.eq_ignore_ascii_case(b"html"))
        {
            return false;
        }
        j += 4;
        while b.get(j).is_some_and(|&c| is_space(c)) {
            j += 1;
        }
        if b.get(j) != Some(&b'>') {
            return false;
        }
        self.seek(j + 1);
        self.i = j + 1;
        let _ = self.emit(Token::DoctypeToken(Doctype {
            name: Some(StrTendril::from_slice("html")),
            public_id: None,
            system_id: None,
            force_quirks: false,
        }));
        true
    }

    /// The raw text after a start tag the tree builder asked it for, then
    /// its end tag. `Some` when html5ever must take over.
    fn raw(&mut self, kind: RawKind, name: &LocalName) -> Option<Done> {
        let handover = || Some(Done::Handover(State::RawData(kind), Some(name.to_string())));
        let b = self.s.as_bytes();
        let n = name.len();
        // The first `</name` followed by a space, '/' or '>'.
        let mut from = self.i;
        let end = loop {
            let Some(k) = memmem::find(&b[from..], b"</").map(|k| from + k) else {
                return handover();
            };
            let after = k + 2 + n;
            if b.get(k + 2..after)
                .is_some_and(|w| w.eq_ignore_ascii_case(name.as_bytes()))
                && b.get(after)
                    .is_some_and(|&c| is_space(c) || c == b'/' || c == b'>')
            {
                break k;
            }
            from = k + 1;
        };
        let body = &self.s[self.i..end];
        // A body that starts with `<`, `</`, `</x`… and a line break: html5ever
        // emits those characters after reading the break, on the next line.
        if let Some(after) = body.strip_prefix('<') {
            let k = 1 + after
                .bytes()
                .take_while(|&c| c == b'/' || c == b'!' || c == b'-' || c.is_ascii_alphabetic())
                .count();
            if body.as_bytes().get(k) == Some(&b'\n') {
                return handover();
            }
        }
        match kind {
            // Script data has escape states (`<!--` in a script body).
            RawKind::ScriptData if memmem::find(body.as_bytes(), b"<!--").is_some() => {
                return handover();
            }
            RawKind::Rcdata if memchr(b'&', body.as_bytes()).is_some() => {
                if !self.rcdata(end) {
                    return handover();
                }
            }
            RawKind::ScriptData | RawKind::Rawtext | RawKind::Rcdata => {
                self.lines_of(end);
            }
            RawKind::ScriptDataEscaped(_) => return handover(),
        }
        // An end tag cut by the end of input: html5ever reads it in the
        // raw state, from its `</`.
        let Some(tag) = self.tag(TagKind::EndTag) else {
            return handover();
        };
        self.end_tag(tag);
        None
    }

    /// Raw text from `i` to `end` as html5ever emits it: each line break
    /// on its own.
    fn lines_of(&mut self, end: usize) {
        while self.i < end {
            let k = memchr(b'\n', &self.s.as_bytes()[self.i..end]).map_or(end, |k| self.i + k);
            if k == self.i {
                self.seek(k + 1);
                self.text("\n");
                self.i += 1;
            } else {
                self.text(&self.s[self.i..k]);
                self.i = k;
            }
        }
    }

    /// RCDATA with references, up to `end`; false (nothing emitted) if a
    /// reference is one to leave to html5ever.
    fn rcdata(&mut self, end: usize) -> bool {
        let b = self.s.as_bytes();
        // Check first, so that a handover starts at the body.
        let mut k = self.i;
        while let Some(a) = memchr(b'&', &b[k..end]).map(|a| k + a) {
            match char_ref(&self.s[..end], a) {
                Ref::Unsure => return false,
                Ref::Literal => k = a + 1,
                Ref::Chars(_, _, e) => k = e,
            }
        }
        while self.i < end {
            let a = memchr(b'&', &b[self.i..end]).map_or(end, |a| self.i + a);
            self.lines_of(a);
            if a < end {
                match char_ref(&self.s[..end], a) {
                    Ref::Chars(cs, n, e) => {
                        self.chars(&cs[..n]);
                        self.i = e;
                    }
                    _ => {
                        self.text("&");
                        self.i = a + 1;
                    }
                }
            }
        }
        true
    }
}

/// A tag or attribute name as an atom; the commonest without hashing it
/// (html5ever's `LocalName::from` hashes every name it is handed).
fn local(name: &str) -> LocalName {
    macro_rules! known {
        ($($n:tt)*) => {
            match name {
                $($n => local_name!($n),)*
                _ => LocalName::from(name),
            }
        };
    }
    known!(
        "a" "p" "div" "span" "li" "ul" "ol" "img" "br" "em" "strong" "b" "i"
        "h1" "h2" "h3" "h4" "h5" "h6" "blockquote" "cite" "q" "code" "pre"
        "table" "tr" "td" "th" "tbody" "section" "article" "header" "footer"
        "nav" "aside" "main" "figure" "figcaption" "time" "small" "sup"
        "input" "form" "button" "label" "script" "style" "link" "meta"
        "title" "head" "body" "html" "iframe" "noscript" "svg" "path" "hr"
        "textarea" "source" "picture" "video" "dl" "dt" "dd" "abbr"
        "href" "class" "id" "rel" "src" "alt" "type" "name" "content"
        "property" "target" "width" "height" "srcset" "sizes" "loading"
        "datetime" "lang" "dir" "charset" "media" "role" "value" "action"
        "method" "itemprop" "itemscope" "itemtype" "d"
    )
}

/// ASCII upper case lowered, as tag and attribute names are.
fn lower(s: &str) -> Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(s.to_ascii_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}

/// An attribute's value with its references decoded; `None` if one is to
/// be left to html5ever.
fn decode_attr(v: &str) -> Option<Cow<'_, str>> {
    let Some(first) = memchr(b'&', v.as_bytes()) else {
        return Some(Cow::Borrowed(v));
    };
    let mut out = String::with_capacity(v.len());
    out.push_str(&v[..first]);
    let mut k = first;
    while k < v.len() {
        match char_ref(v, k) {
            Ref::Unsure => return None,
            Ref::Literal => {
                out.push('&');
                k += 1;
            }
            Ref::Chars(cs, n, e) => {
                out.extend(&cs[..n]);
                k = e;
            }
        }
        let next = memchr(b'&', &v.as_bytes()[k..]).map_or(v.len(), |a| k + a);
        out.push_str(&v[k..next]);
        k = next;
    }
    Some(Cow::Owned(out))
}

/// What a `&` reads as.
enum Ref {
    /// No reference: the `&` is text.
    Literal,
    /// These characters; the reference ends before the given index.
    Chars([char; 2], usize, usize),
    /// A case the fast path does not decide (a legacy name without `;`,
    /// a numeric reference without `;` or to a character HTML replaces).
    Unsure,
}

/// The reference at `s[i]` (a `&`). The named references with `;` are
/// html5ever's own table.
fn char_ref(s: &str, i: usize) -> Ref {
    let b = s.as_bytes();
    let start = i + 1;
    match b.get(start) {
        Some(b'#') => {
            let (hex, d0) = match b.get(start + 1) {
                Some(b'x' | b'X') => (true, start + 2),
                _ => (false, start + 1),
            };
            let mut d1 = d0;
            while b.get(d1).is_some_and(|c| {
                if hex {
                    c.is_ascii_hexdigit()
                } else {
                    c.is_ascii_digit()
                }
            }) {
                d1 += 1;
            }
            if d1 == d0 {
                // No digits: not a reference.
                return Ref::Literal;
            }
            if d1 - d0 > 7 || b.get(d1) != Some(&b';') {
                return Ref::Unsure;
            }
            let Ok(n) = u32::from_str_radix(&s[d0..d1], if hex { 16 } else { 10 }) else {
                return Ref::Unsure;
            };
            let plain = matches!(n, 0x09 | 0x0A | 0x0C | 0x20..=0x7E | 0xA0..=0xD7FF | 0xE000..=0xFDCF | 0xFDF0..=0x10FFFF)
                && n & 0xFFFE != 0xFFFE;
            match char::from_u32(n) {
                Some(c) if plain => Ref::Chars([c, '\0'], 1, d1 + 1),
                _ => Ref::Unsure,
            }
        }
        _ => {
            let mut e = start;
            while b.get(e).is_some_and(|c| c.is_ascii_alphanumeric()) {
                e += 1;
            }
            if b.get(e) == Some(&b';')
                && let Some(&(c1, c2)) = html5ever::data::NAMED_ENTITIES.get(&s[start..=e])
                && c1 != 0
            {
                let (Some(a), Some(z)) = (char::from_u32(c1), char::from_u32(c2)) else {
                    return Ref::Unsure;
                };
                return if c2 == 0 {
                    Ref::Chars([a, '\0'], 1, e + 1)
                } else {
                    Ref::Chars([a, z], 2, e + 1)
                };
            }
            // No reference with `;`: any shorter name html5ever would
            // take (the legacy ones without `;`) is left to it.
            for m in start + 1..=e {
                match html5ever::data::NAMED_ENTITIES.get(&s[start..m]) {
                    None => break,
                    Some(&(c1, _)) if c1 != 0 => return Ref::Unsure,
                    Some(_) => {}
                }
            }
            Ref::Literal
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use proptest::prelude::*;

    use super::super::parse::{Page, parse_fast, parse_plain};

    /// The tree (serialized), its quirks mode and the line of every node.
    fn shape(page: &Page) -> (String, String, Vec<Option<usize>>) {
        let lines = page.html.tree.nodes().map(|n| page.line(n.id())).collect();
        (
            page.html.html(),
            format!("{:?}", page.html.quirks_mode),
            lines,
        )
    }

    fn same(src: &str) {
        let plain = shape(&parse_plain(src));
        let fast = shape(&parse_fast(src));
        assert_eq!(
            plain, fast,
            "the fast path differs from html5ever on {src:?}"
        );
    }

    /// Every kind of token the fast path takes, and the ones it leaves to
    /// html5ever, alone and around line breaks.
    const PIECES: &[&str] = &[
        "<p>",
        "</p>",
        "<a href=\"x&amp;y\">",
        "<a href='q&#39;'>",
        "<a href=u&lt;v>",
        "<a href=u&ltv>",
        "<a href=\"?a=1&copy=2&b\">",
        "<a href=\"&ampx\">",
        "<a HREF=\"1\" href=\"2\" Class=c>",
        "<A\nclass=x\n>",
        "<a =x \"y\"=z <=w>",
        "<a href=\"x\"title=\"y\">",
        "<a href = \"sp\" / >",
        "<a href=\n\"nl\">",
        "<a href= \n\n nl2 title=\nt>",
        "<a href\n=\nx\n>",
        "<a href=",
        "<img alt=",
        "<p class",
        "<a/b/c>",
        "</a>",
        "<br/>",
        "<img src=x />",
        "<img src=x/>",
        "</a >",
        "</div foo=\"bar\">",
        "</div/>",
        "<!-- c -->",
        "<!---->",
        "<!-->",
        "<!--->",
        "<!-- a --!> b",
        "<!-- <!-- -->",
        "<!-- a ---->",
        "<!-- --!-- -->",
        "<!--",
        "<!DOCTYPE html>",
        "<!doctype HTML >",
        "<!DOCTYPE\nhtml>",
        "<!DOCTYPE html PUBLIC \"-//W3C//DTD HTML 4.01//EN\">",
        "<!DOCTYPEhtml>",
        "<!x>",
        "<?php ?>",
        "</>",
        "</ x>",
        "< b",
        "<\n",
        "<<a>",
        "<&amp;",
        "<3",
        "a<b",
        "&amp;",
        "&amp",
        "&ampx;",
        "&notin;",
        "&notit;",
        "&NotEqualTilde;",
        "&#39;",
        "&#x27;",
        "&#X1F600;",
        "&#0;",
        "&#128;",
        "&#xD800;",
        "&#10;",
        "&#13;",
        "&#",
        "&#x;",
        "&#12",
        "&foo;",
        "&",
        "& ",
        "&\n",
        "&lt",
        "\n",
        "\n\n",
        "  ",
        " \n ",
        "\r\n",
        "\r",
        "\0",
        "\u{feff}",
        "\u{c}",
        "<script>",
        "</script>",
        "<script>a<b</script>",
        "<script>\nx\n</SCRIPT >",
        "<script><!-- x --></script>",
        "<script>if(a</scripts)</script>",
        "<style>p>a{}</style>",
        "<style>",
        "</style",
        "<title>A &amp; B\n</title>",
        "<title>&amp</title>",
        "<textarea>\nx &lt; y</textarea>",
        "<pre>\n\nx</pre>",
        "<pre>&#10;x</pre>",
        "<listing>\n",
        "<plaintext>",
        "<svg><![CDATA[x]]></svg>",
        "<svg><style>a&amp;<b></b></style></svg>",
        "<math><mi>",
        "<table>",
        "<tr>",
        "<td>",
        "</table>",
        "<select>",
        "<option>",
        "<noscript>",
        "</noscript>",
        "<iframe>",
        "</iframe>",
        "<xmp>",
        "</xmp>",
        "<head>",
        "<body>",
        "</body>",
        "</html>",
        "<html>",
        "text",
        "中文",
        "é",
        "<é>",
        "<template>",
        "</template>",
        "<frameset>",
        "<ul><li>",
        "<b>",
        "</b>",
        "<i>",
        "=",
        "\"",
        "'",
        "/",
        ">",
        "<",
    ];

    /// Raw text whose first characters html5ever emits late.
    #[test]
    fn raw_text_starting_with_markup() {
        for src in [
            "<title><\nx</title>",
            "<title>< x\n</title>",
            "<style></\n</style>",
            "<title></ti\nx</title>",
            "<textarea></textarea\nx</textarea>",
            "<script><!-\nx</script>",
            "<script><!\n</script>",
            "<noscript><img src=a></noscript>",
            "<iframe><\n</iframe>",
            "<p>a<\nb</p>",
            "<p>\n<\n\n<x\n</p>",
        ] {
            same(src);
        }
    }

    /// Lines stay true past the windows the line breaks are found in:
    /// tokens and text straddling each window's end, and a run of blank
    /// lines longer than a window.
    #[test]
    fn lines_across_windows_of_line_breaks() {
        let mut src = String::from("<!DOCTYPE html>\n<body>\n");
        for n in 0..6000 {
            src.push_str(&format!(
                "<p class=\"c{n}\">Строка {n}\n<a\nhref=\"/{n}\">文 {n}</a></p>\n"
            ));
        }
        src.push_str(&"\n".repeat(70 * 1024));
        src.push_str("<p>после</p>\n<a href=\"/end\">end</a>");
        assert!(src.len() > 3 * 64 * 1024);
        same(&src);
    }

    #[test]
    fn every_piece_alone_and_in_context() {
        for p in PIECES {
            same(p);
            same(&format!(
                "<!DOCTYPE html>\n<html>\n<body>\n{p}\nx\n{p}</body>"
            ));
            same(&format!("<table>\n{p}\n</table>\n{p}"));
            same(&format!("<head>\n{p}\n</head>\n\n{p}<p>end"));
        }
    }

    proptest! {
        #![proptest_config(crate::collect::proptests::runs(2000))]
        /// Any markup made of those pieces and arbitrary characters gives
        /// the tree, quirks mode and lines html5ever alone gives.
        #[test]
        fn the_fast_path_builds_html5evers_tree(parts in proptest::collection::vec(
            prop_oneof![
                6 => proptest::sample::select(PIECES).prop_map(str::to_string),
                1 => any::<char>().prop_map(String::from),
                1 => "\\PC{0,5}",
            ],
            0..40,
        )) {
            let src = parts.concat();
            let plain = shape(&parse_plain(&src));
            let fast = shape(&parse_fast(&src));
            prop_assert_eq!(plain, fast, "on {:?}", src);
        }
    }

    /// Every HTML page and feed of the real-world corpus (installed by
    /// `.ci/setup-corpus`, as the corpus tests do) gives the same tree and
    /// lines both ways.
    #[test]
    fn corpus_pages_parse_as_html5ever_parses_them() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let status = std::process::Command::new("bash")
            .arg(root.join(".ci/setup-corpus"))
            .stdout(std::process::Stdio::null())
            .status()
            .expect("running .ci/setup-corpus");
        assert!(status.success(), ".ci/setup-corpus failed: {status}");
        let cache = std::env::var_os("CITEGUARD_CORPUS")
            .map(std::path::PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/citeguard/corpus"))
            })
            .expect("a corpus directory");
        let manifest: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(root.join("tests/corpus/manifest.json")).expect("manifest"),
        )
        .expect("manifest is JSON");
        let mut pages = 0;
        for entry in manifest["files"].as_array().expect("files") {
            let path = cache.join(entry["path"].as_str().expect("path"));
            let bytes = std::fs::read(&path).expect("corpus file");
            let src = String::from_utf8_lossy(&bytes);
            let plain = shape(&parse_plain(&src));
            let fast = shape(&parse_fast(&src));
            assert!(plain == fast, "{} parses differently", path.display());
            pages += 1;
        }
        assert!(pages > 100, "only {pages} corpus files");
    }
}
