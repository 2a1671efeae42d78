//! Turning what came back into a verdict and reason: HTTP statuses,
//! transport errors, soft-404 pages and bot walls.
//!
//! Pure functions over what was received; no I/O. The rule it keeps: a
//! failure that might pass (timeout, reset, 5xx, 429, a resolver hiccup) is
//! never `dead`, and a page that may be fine for a person (401, 403, a
//! challenge page) is `unreachable`/`blocked`, never `dead`.

use crate::model::{Reason, Verdict};

use super::resolve::DnsError;

/// The verdict for a final (non-redirect) HTTP status, before looking at the
/// body. `accept` lists extra codes the user treats as ok.
pub fn status_verdict(status: u16, accept: &[u16]) -> (Verdict, Reason) {
    if accept.contains(&status) {
        return (Verdict::Ok, Reason::Ok);
    }
    match status {
        200..=299 | 304 => (Verdict::Ok, Reason::Ok),
        401 | 403 | 407 | 451 => (Verdict::Unreachable, Reason::Blocked),
        // 408 Request Timeout and 425 Too Early say "try again", not "gone".
        408 => (Verdict::Unreachable, Reason::Timeout),
        425 => (Verdict::Unreachable, Reason::Http5xx),
        429 => (Verdict::Unreachable, Reason::Http429),
        400..=499 => (Verdict::Dead, Reason::HttpStatus),
        500..=599 => (Verdict::Unreachable, Reason::Http5xx),
        // 1xx or an unfollowed 3xx without Location: the server is broken,
        // which may pass.
        _ => (Verdict::Unreachable, Reason::Network),
    }
}

/// What is odd about a final status, in words, when `status_verdict`
/// alone would leave the reader with a bare "network error".
pub fn odd_status(status: u16, accept: &[u16]) -> Option<String> {
    if accept.contains(&status) {
        return None;
    }
    match status {
        100..=199 => Some(format!(
            "status {status} (informational) as the final answer"
        )),
        300..=399 if status != 304 => Some(format!(
            "a {status} redirect without a usable Location header"
        )),
        600.. | ..100 => Some(format!("status {status} is not an HTTP status")),
        _ => None,
    }
}

/// Classifies a transport error from reqwest by walking its source chain.
pub fn error_reason(err: &reqwest::Error) -> (Verdict, Reason, String) {
    let detail = crate::error::chain_text(err);
    if let Some(refused) = find_in_chain::<super::address::Refused>(err) {
        return (
            Verdict::Skipped,
            Reason::PrivateAddress,
            refused.to_string(),
        );
    }
    if let Some(dns) = find_in_chain::<DnsError>(err) {
        return match dns {
            DnsError::NoSuchHost(_) => (Verdict::Dead, Reason::Dns, dns.to_string()),
            DnsError::Temporary(..) => {
                (Verdict::Unreachable, Reason::DnsTemporary, dns.to_string())
            }
        };
    }
    if err.is_timeout() {
        return (Verdict::Unreachable, Reason::Timeout, detail);
    }
    if let Some(io) = find_in_chain::<std::io::Error>(err) {
        use std::io::ErrorKind::*;
        match io.kind() {
            ConnectionRefused => return (Verdict::Unreachable, Reason::Refused, detail),
            ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof => {
                return (Verdict::Unreachable, Reason::Reset, detail);
            }
            TimedOut => return (Verdict::Unreachable, Reason::Timeout, detail),
            _ => {}
        }
    }
    // rustls errors reach us as text inside hyper-rustls' io::Error; there is
    // no typed handle on them without depending on rustls directly.
    let lower = detail.to_ascii_lowercase();
    if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
        return (Verdict::Unreachable, Reason::Tls, detail);
    }
    if lower.contains("connection reset")
        || lower.contains("connection closed")
        || lower.contains("incomplete message")
    {
        return (Verdict::Unreachable, Reason::Reset, detail);
    }
    if lower.contains("refused") {
        return (Verdict::Unreachable, Reason::Refused, detail);
    }
    (Verdict::Unreachable, Reason::Network, detail)
}

fn find_in_chain<'a, T: std::error::Error + 'static>(
    err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(t) = e.downcast_ref::<T>() {
            return Some(t);
        }
        cur = e.source();
    }
    None
}

/// Phrases that say "this page is not here", in the languages most cited
/// publishers write in. Matched against the lowercased title and headings
/// (strong evidence) and the start of a short body (weaker).
const NOT_FOUND_PHRASES: &[&str] = &[
    // English
    "page not found",
    "404 not found",
    "error 404",
    "404 error",
    "not found",
    "page cannot be found",
    "page could not be found",
    "can't find the page",
    "cannot find the page",
    "couldn't find the page",
    "could not find the page",
    "no longer available",
    "page does not exist",
    "page doesn't exist",
    "page you requested",
    "page you were looking for",
    "page you are looking for",
    "article is no longer",
    "content is no longer available",
    "this page has been removed",
    "nothing was found",
    "oops",
    // French
    "page introuvable",
    "page non trouvée",
    "n'existe plus",
    "n’existe plus",
    // German
    "seite nicht gefunden",
    "nicht gefunden",
    "existiert nicht",
    // Spanish / Portuguese / Italian
    "página no encontrada",
    "no se encontró",
    "página não encontrada",
    "pagina non trovata",
    // Russian
    "страница не найдена",
    "ошибка 404",
    // Chinese, Japanese
    "页面不存在",
    "找不到页面",
    "ページが見つかりません",
];

/// Phrases of bot walls and challenge pages: the page may well be there for
/// a person in a browser.
const CHALLENGE_PHRASES: &[&str] = &[
    "just a moment...",
    "attention required! | cloudflare",
    "checking your browser",
    "verify you are human",
    "are you a robot",
    "please enable cookies",
    "captcha",
    "access denied",
    "request unsuccessful. incapsula",
];

/// Pages with more visible text than this are "long": body phrases alone
/// never make them soft-404s or bot walls.
pub(crate) const LONG_PAGE: usize = 3000;

/// How much of a page's visible text its signals keep.
const TEXT_START: usize = 600;

/// What the visible parts of a page say, for the soft-404 and challenge
/// checks: its title and headings, and the first part of its text.
#[derive(Debug, Default, Clone)]
pub struct PageSignals {
    pub title: String,
    pub headings: String,
    /// Visible characters, counted up to just past `LONG_PAGE`.
    pub text_len: usize,
    pub text_start: String,
}

impl PageSignals {
    /// Reads the signals without building a DOM, and stops reading the
    /// body once it knows the page is long: every fetched page passes
    /// through here, and this was the largest cost of a fast run.
    pub fn from_html(html: &str) -> PageSignals {
        // Titles and top headings sit near the top of a page.
        let top = &html[..crate::base::text::floor_char_boundary(html, 64 * 1024)];
        let title = Elements::new(top, &TITLE)
            .next()
            .map(|inner| visible_text(inner, 500))
            .unwrap_or_default()
            .to_lowercase();
        let headings = Elements::new(top, &HEADING)
            .take(20)
            .map(|inner| visible_text(inner, 500))
            .collect::<Vec<_>>()
            .join(" | ")
            .to_lowercase();
        // The body's first characters as text, and how long it is: only
        // counted past its start, unless a character reference (which
        // unescaping shortens) makes the whole text needed.
        let scanned = scan_visible(html, LONG_PAGE + 1, TEXT_START + 1);
        let (text_len, start) = if scanned.amp {
            let body = visible_text(html, LONG_PAGE + 1);
            (body.chars().count(), body)
        } else {
            (scanned.len, scanned.out.trim_end().to_string())
        };
        // The first `TEXT_START` characters, sliced rather than copied a
        // character at a time.
        let end = start
            .char_indices()
            .nth(TEXT_START)
            .map_or(start.len(), |(at, _)| at);
        let text_start = start[..end].to_lowercase();
        PageSignals {
            title,
            headings,
            text_len,
            text_start,
        }
    }
}

/// An element the signals read the text of: `<title>` or a top heading.
/// `names` are its names (ASCII, any case in the page).
struct Element {
    names: &'static [&'static str],
}

const TITLE: Element = Element { names: &["title"] };
const HEADING: Element = Element {
    names: &["h1", "h2"],
};

impl Element {
    /// The length of the name of this element that `at` starts with, when
    /// one does in any case.
    fn name_at(&self, at: &[u8]) -> Option<usize> {
        self.names
            .iter()
            .find(|n| at.len() >= n.len() && at[..n.len()].eq_ignore_ascii_case(n.as_bytes()))
            .map(|n| n.len())
    }
}

/// The inner markup of each element `what` in `html`, in order: from an
/// opening tag (`<title`, then no further letter, digit or `_`, attributes
/// up to the first `>`) to the first closing tag of any of its names
/// (`</title>`, spaces allowed before the `>`). An element never closed
/// ends the search. One pass with `memchr`, no regular expression: the
/// same matches as `(?is)<title\b[^>]*>(.*?)</title\s*>` found one after
/// the other, and every fetched page is read here.
struct Elements<'a> {
    html: &'a str,
    what: &'a Element,
    /// Where the search goes on.
    from: usize,
}

impl<'a> Elements<'a> {
    fn new(html: &'a str, what: &'a Element) -> Elements<'a> {
        Elements {
            html,
            what,
            from: 0,
        }
    }

    /// The end of the closing tag that starts at `lt` (a `<`), when one does.
    fn close_at(&self, lt: usize) -> Option<usize> {
        let bytes = self.html.as_bytes();
        let rest = bytes.get(lt + 1..)?.strip_prefix(b"/")?;
        let name = self.what.name_at(rest)?;
        // `\s*>`: any spaces (as Unicode counts them), then `>`.
        let after = lt + 2 + name;
        let tail = self.html.get(after..)?;
        let spaces = tail.len() - tail.trim_start().len();
        (tail.as_bytes().get(spaces) == Some(&b'>')).then_some(after + spaces + 1)
    }
}

impl<'a> Iterator for Elements<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let bytes = self.html.as_bytes();
        let mut at = self.from;
        while let Some(lt) = memchr_from(bytes, at, b'<') {
            at = lt + 1;
            let Some(name) = self.what.name_at(&bytes[lt + 1..]) else {
                continue;
            };
            // `\b`: the name ends where a word would.
            let next = self.html[lt + 1 + name..].chars().next();
            if next.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            // The opening tag's end; with none, no later tag has one.
            let gt = memchr_from(bytes, lt + 1 + name, b'>')?;
            let mut look = gt + 1;
            while let Some(close) = memchr_from(bytes, look, b'<') {
                if let Some(end) = self.close_at(close) {
                    self.from = end;
                    return Some(&self.html[gt + 1..close]);
                }
                look = close + 1;
            }
            // Never closed: neither is any element after it.
            self.from = bytes.len();
            return None;
        }
        self.from = bytes.len();
        None
    }
}

/// What two pages are compared on for "same page for any path": the
/// visible text, up to a generous cap.
pub fn comparable(html: &str) -> String {
    visible_text(html, 20_000)
}

/// The visible text of an HTML fragment, whitespace collapsed, at most
/// `max_chars` characters: tags, comments, and the contents of `head`,
/// `script`, `style`, `noscript` and `template` are dropped. A one-pass
/// scanner, not a parser: it only has to be right about what a reader
/// would see, and it must be cheap.
pub fn visible_text(html: &str, max_chars: usize) -> String {
    let scanned = scan_visible(html, max_chars, usize::MAX);
    unescape(scanned.out.trim_end()).into_owned()
}

/// What `scan_visible` read of a page.
struct Visible {
    /// The visible text (whitespace collapsed, not unescaped) as far as
    /// `keep` characters, spaces included.
    out: String,
    /// How many characters the whole text has, spaces included and a
    /// trailing one not: `out`'s length, had it been kept whole.
    len: usize,
    /// The text holds a `&`, so unescaping it may change its length.
    amp: bool,
}

/// The scanner behind `visible_text`: it reads up to `max_chars` visible
/// characters but keeps only the first `keep` as text; the rest it only
/// counts, which is what the soft-404 signals need of a long page.
/// How much text `scan_visible` reads at a time (more than a character).
const TEXT_PIECE: usize = 1024;

fn scan_visible(html: &str, max_chars: usize, keep: usize) -> Visible {
    const HIDDEN: [&str; 5] = ["script", "style", "noscript", "template", "head"];
    let bytes = html.as_bytes();
    let mut w = Writer {
        out: String::with_capacity(keep.min(max_chars).min(html.len())),
        keep,
        pushed: 0,
        count: 0,
        space: true,
        amp: false,
    };
    let mut i = 0usize;
    while i < bytes.len() && w.count < max_chars {
        if bytes[i] == b'<' {
            let rest = &bytes[i + 1..];
            if rest.starts_with(b"!--") {
                i = find(bytes, i, b"-->").map_or(bytes.len(), |p| p + 3);
                continue;
            }
            let hidden = HIDDEN.iter().find(|t| {
                rest.len() > t.len()
                    && rest[..t.len()].eq_ignore_ascii_case(t.as_bytes())
                    && matches!(rest[t.len()], b'>' | b' ' | b'\t' | b'\n' | b'\r' | b'/')
            });
            i = match hidden {
                Some(t) => close_of(bytes, i + 1, t).unwrap_or(bytes.len()),
                None => memchr_from(bytes, i, b'>').map_or(bytes.len(), |p| p + 1),
            };
            w.blank();
            continue;
        }
        // Text up to the next tag, a piece at a time: a page's text is
        // read only as far as `max_chars` needs, not to its next tag,
        // which may be the end of a long page. Pieces end on a character
        // boundary, and a run read in pieces reads as it would whole.
        let piece = crate::base::text::floor_char_boundary(html, i + TEXT_PIECE);
        let end = memchr::memchr(b'<', &bytes[i..piece]).map_or(piece, |p| i + p);
        let run = &html[i..end];
        if run.is_ascii() {
            ascii_words(run, max_chars, &mut w);
            i = end;
            continue;
        }
        for c in run.chars() {
            if w.count >= max_chars {
                break;
            }
            if c.is_whitespace() {
                w.blank();
            } else {
                w.char(c);
            }
        }
        i = end;
    }
    // `space` set after something was written: the text ends in a space.
    let trailing = usize::from(w.space && w.pushed > 0);
    Visible {
        len: w.pushed - trailing,
        out: w.out,
        amp: w.amp,
    }
}

/// Where `scan_visible` writes: the first `keep` characters kept, all of
/// them counted.
struct Writer {
    out: String,
    keep: usize,
    /// Characters written, spaces included.
    pushed: usize,
    /// Visible characters written, spaces not included.
    count: usize,
    /// The last character written was a space (or none was written).
    space: bool,
    amp: bool,
}

impl Writer {
    /// A space, unless the text already ends in one.
    fn blank(&mut self) {
        if !self.space {
            if self.pushed < self.keep {
                self.out.push(' ');
            }
            self.pushed += 1;
            self.space = true;
        }
    }

    fn char(&mut self, c: char) {
        if self.pushed < self.keep {
            self.out.push(c);
        }
        self.pushed += 1;
        self.count += 1;
        self.space = false;
        self.amp |= c == '&';
    }

    /// An ASCII word (no whitespace).
    fn word(&mut self, word: &str) {
        if self.pushed < self.keep {
            // ASCII: every byte is a character boundary.
            let room = self.keep - self.pushed;
            self.out.push_str(&word[..word.len().min(room)]);
        }
        self.pushed += word.len();
        self.count += word.len();
        self.space = false;
        self.amp |= memchr::memchr(b'&', word.as_bytes()).is_some();
    }

    /// A run of ASCII text past what is kept: counted a byte at a time, as
    /// `blank` and `word` would, up to the cut.
    fn count_ascii(&mut self, run: &str, max_chars: usize) {
        let bytes = run.as_bytes();
        let mut read = 0;
        // Whole blocks that cannot reach the cut are counted at once (the
        // compiler makes vector instructions of it); the rest, a byte at a
        // time. The same counts either way.
        for block in bytes.chunks_exact(64) {
            // Fixed-size arrays of 0/1, which the compiler turns into
            // vector instructions.
            let mut space = [0u8; 64];
            for (s, &b) in space.iter_mut().zip(block) {
                *s = u8::from(is_ascii_space(b));
            }
            let spaces: u8 = space.iter().sum();
            let letters = 64 - usize::from(spaces);
            if self.count + letters >= max_chars {
                break;
            }
            // A space counts where a run of spaces starts.
            let mut starts = space[0] & u8::from(!self.space);
            for (now, before) in space[1..].iter().zip(&space[..63]) {
                starts += now & (1 - before);
            }
            self.pushed += letters + usize::from(starts);
            self.count += letters;
            self.space = space[63] == 1;
            read += 64;
        }
        for &b in &bytes[read..] {
            if self.count >= max_chars {
                break;
            }
            if is_ascii_space(b) {
                self.pushed += usize::from(!self.space);
                self.space = true;
            } else {
                self.pushed += 1;
                self.count += 1;
                self.space = false;
            }
            read += 1;
        }
        self.amp |= memchr::memchr(b'&', &bytes[..read]).is_some();
    }
}

/// `char::is_whitespace` over ASCII.
fn is_ascii_space(b: u8) -> bool {
    // `\t`..=`\r` or a space, without branches.
    (b == b' ') | (b.wrapping_sub(b'\t') < 5)
}

/// `scan_visible` over a run of ASCII text, a word at a time rather than
/// a character at a time (most pages are ASCII, and this is every fetched
/// page's cost): the same output as the per-character loop.
fn ascii_words(run: &str, max_chars: usize, w: &mut Writer) {
    let mut rest = run;
    while !rest.is_empty() && w.count < max_chars {
        if w.pushed >= w.keep {
            w.count_ascii(rest, max_chars);
            return;
        }
        let blank = rest
            .bytes()
            .position(|b| !is_ascii_space(b))
            .unwrap_or(rest.len());
        if blank > 0 {
            w.blank();
            rest = &rest[blank..];
            continue;
        }
        let word = rest.bytes().position(is_ascii_space).unwrap_or(rest.len());
        let take = word.min(max_chars - w.count);
        w.word(&rest[..take]);
        rest = &rest[word..];
    }
}

fn memchr_from(bytes: &[u8], from: usize, needle: u8) -> Option<usize> {
    memchr::memchr(needle, &bytes[from..]).map(|p| from + p)
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(&bytes[from..], needle).map(|p| from + p)
}

/// The end of `</tag ...>` after `from`, matching the tag name in any case.
fn close_of(bytes: &[u8], from: usize, tag: &str) -> Option<usize> {
    let mut i = from;
    while let Some(p) = find(bytes, i, b"</") {
        let name = &bytes[p + 2..];
        if name.len() >= tag.len() && name[..tag.len()].eq_ignore_ascii_case(tag.as_bytes()) {
            return Some(memchr_from(bytes, p, b'>').map_or(bytes.len(), |q| q + 1));
        }
        i = p + 2;
    }
    None
}

/// The character references that matter for phrase matching.
fn unescape(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains('&') {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = s.to_string();
    for (from, to) in [
        ("&nbsp;", " "),
        ("&#39;", "'"),
        ("&#039;", "'"),
        ("&apos;", "'"),
        ("&rsquo;", "’"),
        ("&quot;", "\""),
        ("&lt;", "<"),
        ("&gt;", ">"),
        ("&amp;", "&"),
    ] {
        out = out.replace(from, to);
    }
    std::borrow::Cow::Owned(out)
}

/// The phrase that marks a 200 page as "not found", if any.
///
/// Title and headings are strong evidence; the body counts only on a short
/// page, so an article that merely mentions a 404 is not flagged. Phrases
/// count as whole words only ("oops" is not in "hoops", "error 404" not in
/// "terror 4040"), and a bare number only as a status (`status_number`).
pub fn soft_404_phrase(page: &PageSignals) -> Option<&'static str> {
    let strong = format!("{} | {}", page.title, page.headings);
    let status = status_number(&strong);
    if let Some(p) = first_phrase(&strong, |_| true) {
        // "oops" alone in a heading is weak; require a second sign.
        if p != "oops" || status.is_some() || page.text_len < 1500 {
            return Some(p);
        }
    }
    if status.is_some() {
        return status;
    }
    if page.text_len < 1500 {
        return first_phrase(&page.text_start, |p| p.len() > 8);
    }
    None
}

/// The first of `NOT_FOUND_PHRASES` (in their order) that `text` holds as
/// whole words (`has_phrase`), among those `counts` keeps: every phrase
/// looked for in one pass over the text, not one pass per phrase.
fn first_phrase(text: &str, counts: impl Fn(&str) -> bool) -> Option<&'static str> {
    use std::sync::LazyLock;
    static PHRASES: LazyLock<Option<aho_corasick::AhoCorasick>> =
        LazyLock::new(|| aho_corasick::AhoCorasick::new(NOT_FOUND_PHRASES).ok());
    let Some(phrases) = PHRASES.as_ref() else {
        // Never (the phrases are fixed); the slower way is the same answer.
        return NOT_FOUND_PHRASES
            .iter()
            .find(|p| counts(p) && has_phrase(text, p))
            .copied();
    };
    let mut first: Option<usize> = None;
    for m in phrases.find_overlapping_iter(text) {
        let i = m.pattern().as_usize();
        if first.is_some_and(|f| f <= i) {
            continue;
        }
        let phrase = NOT_FOUND_PHRASES[i];
        if counts(phrase) && whole_words_at(text, m.start(), phrase) {
            first = Some(i);
        }
    }
    first.map(|i| NOT_FOUND_PHRASES[i])
}

/// Words that may stand beside a status number in an error page's title
/// or heading ("Error 404", "HTTP 410 Gone", "404 Page Not Found").
const STATUS_WORDS: &[&str] = &[
    "error",
    "err",
    "http",
    "status",
    "code",
    "page",
    "not",
    "found",
    "gone",
    "oops",
    "sorry",
    "file",
    "erreur",
    "fehler",
    "seite",
    "errore",
    "pagina",
    "página",
    "ошибка",
    "страница",
    "错误",
    "页面",
];

/// "404" or "410" when the title or headings name that status: some part
/// of them (between `|`, `-`, `:` and the like) is the number alone or
/// with words from `STATUS_WORDS` only. A number inside a word or an id
/// ("commit 9a404be") or in a phrase about something else ("Area code
/// 410 gets an overlay") is no status.
fn status_number(strong: &str) -> Option<&'static str> {
    const SEPARATORS: &[char] = &[
        '|', '-', '–', '—', ':', '·', '•', '/', '(', ')', '[', ']', ',', '!', '?', '.',
    ];
    strong.split(SEPARATORS).find_map(|part| {
        let words: Vec<&str> = part
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        let number = words.iter().find_map(|w| match *w {
            "404" => Some("404"),
            "410" => Some("410"),
            _ => None,
        })?;
        words
            .iter()
            .all(|w| *w == number || STATUS_WORDS.contains(w))
            .then_some(number)
    })
}

/// Whether `phrase` is in `text` as whole words: never inside a longer
/// word or number. Scripts written without spaces (Chinese, Japanese)
/// have no word edges to keep to.
fn has_phrase(text: &str, phrase: &str) -> bool {
    text.match_indices(phrase)
        .any(|(at, _)| whole_words_at(text, at, phrase))
}

/// Whether `phrase`, found in `text` at byte `at`, stands there as whole
/// words (see `has_phrase`).
fn whole_words_at(text: &str, at: usize, phrase: &str) -> bool {
    let edge = |outside: Option<char>, inside: Option<char>| match (outside, inside) {
        (Some(o), Some(i)) => !(o.is_alphanumeric() && i.is_alphanumeric() && !is_cjk(i)),
        _ => true,
    };
    let (Some(before), Some(after)) = (text.get(..at), text.get(at + phrase.len()..)) else {
        return false;
    };
    edge(before.chars().next_back(), phrase.chars().next())
        && edge(after.chars().next(), phrase.chars().next_back())
}

/// Han, kana and hangul: written without spaces between words.
fn is_cjk(c: char) -> bool {
    matches!(c, '\u{3040}'..='\u{30ff}' | '\u{3400}'..='\u{9fff}' | '\u{ac00}'..='\u{d7af}' | '\u{f900}'..='\u{faff}')
}

/// The phrase that marks a page as a bot wall or challenge, if any.
pub fn challenge_phrase(page: &PageSignals) -> Option<&'static str> {
    let strong = format!("{} | {}", page.title, page.headings);
    CHALLENGE_PHRASES
        .iter()
        .find(|p| {
            strong.contains(**p) || (page.text_len < LONG_PAGE && page.text_start.contains(**p))
        })
        .copied()
}

/// The phrase that makes a response a bot wall: a challenge phrase on an
/// error page, or on a short page that answered ok (a long one is content
/// that happens to mention, say, a captcha).
pub fn bot_wall_phrase(page: &PageSignals, answered_ok: bool) -> Option<&'static str> {
    challenge_phrase(page).filter(|_| !answered_ok || page.text_len < LONG_PAGE)
}

/// Whether a redirect target is the site's front page or a login page, the
/// way publishers bury deleted articles.
pub fn is_root_or_login(original: &url::Url, target: &url::Url) -> bool {
    let path = target.path().trim_end_matches('/').to_ascii_lowercase();
    let original_path = original.path().trim_end_matches('/');
    let to_root =
        (path.is_empty() || path == "/index.html" || path == "/index.php" || path == "/home")
            && !original_path.is_empty()
            && target.query().is_none();
    let login = [
        "login",
        "log-in",
        "signin",
        "sign-in",
        "sign_in",
        "auth",
        "account/login",
        "session/new",
    ]
    .iter()
    .any(|w| {
        path.rsplit('/').next().is_some_and(|last| last == *w) || path.contains(&format!("/{w}/"))
    });
    to_root || login
}

/// Similarity of two pages for the random-path probe: the share of common
/// word 4-grams (Jaccard) of their visible text.
pub fn same_page(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let shingles = |s: &str| -> std::collections::HashSet<u64> {
        use std::hash::{Hash, Hasher};
        let words: Vec<&str> = s.split_whitespace().collect();
        words
            .windows(4.min(words.len().max(1)))
            .map(|w| {
                let mut h = std::collections::hash_map::DefaultHasher::new();
                w.hash(&mut h);
                h.finish()
            })
            .collect()
    };
    let (x, y) = (shingles(a), shingles(b));
    if x.is_empty() || y.is_empty() {
        return x.is_empty() && y.is_empty();
    }
    let inter = x.intersection(&y).count() as f64;
    let union = x.union(&y).count() as f64;
    inter / union >= 0.9
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(html: &str) -> PageSignals {
        PageSignals::from_html(html)
    }

    #[test]
    fn statuses_map_to_the_contract() {
        assert_eq!(
            status_verdict(404, &[]),
            (Verdict::Dead, Reason::HttpStatus)
        );
        assert_eq!(
            status_verdict(410, &[]),
            (Verdict::Dead, Reason::HttpStatus)
        );
        assert_eq!(
            status_verdict(403, &[]),
            (Verdict::Unreachable, Reason::Blocked)
        );
        assert_eq!(
            status_verdict(401, &[]),
            (Verdict::Unreachable, Reason::Blocked)
        );
        assert_eq!(
            status_verdict(429, &[]),
            (Verdict::Unreachable, Reason::Http429)
        );
        assert_eq!(
            status_verdict(503, &[]),
            (Verdict::Unreachable, Reason::Http5xx)
        );
        assert_eq!(status_verdict(404, &[404]), (Verdict::Ok, Reason::Ok));
    }

    #[test]
    fn statuses_no_http_defines_are_named() {
        assert_eq!(
            odd_status(999, &[]).as_deref(),
            Some("status 999 is not an HTTP status")
        );
        assert_eq!(odd_status(999, &[999]), None);
        assert!(odd_status(302, &[]).is_some_and(|d| d.contains("Location")));
        assert_eq!(odd_status(404, &[]), None);
        assert_eq!(odd_status(200, &[]), None);
    }

    #[test]
    fn soft_404_in_title_or_heading_in_several_languages() {
        assert!(
            soft_404_phrase(&page(
                "<title>Page not found – The Daily</title><p>Try search.</p>"
            ))
            .is_some()
        );
        assert!(soft_404_phrase(&page("<h1>Seite nicht gefunden</h1>")).is_some());
        assert!(soft_404_phrase(&page("<h1>Страница не найдена</h1>")).is_some());
        assert!(soft_404_phrase(&page("<title>Error 404</title>")).is_some());
    }

    #[test]
    fn an_article_that_mentions_404_is_not_a_soft_404() {
        let body = "The HTTP status 404 means not found. ".repeat(100);
        let html = format!("<title>How the web forgets</title><h1>Link rot</h1><p>{body}</p>");
        assert_eq!(soft_404_phrase(&page(&html)), None);
    }

    #[test]
    fn a_status_number_counts_alone_or_with_error_words_and_never_inside_words_or_phrases() {
        for title in [
            "404",
            "Error 404",
            "404 | The Daily",
            "HTTP 410 Gone",
            "Erreur 404 - Page introuvable",
            "Fehler 404: Seite nicht gefunden",
            "Oops! 404",
        ] {
            let html = format!("<title>{title}</title><p>{}</p>", "Some text. ".repeat(300));
            assert!(soft_404_phrase(&page(&html)).is_some(), "{title}");
        }
        for title in [
            "Area code 410 gets an overlay",
            "Parser crash fixed in commit 9a404be",
            "Flight 404 lands safely after all",
            "Route 410 reopens to traffic",
            "Why 4040 is not a status",
            "The 1404 errors in the census",
            "Room 404: a play in three acts",
            "Release v4.10 is out",
            "404a and 410b: two new bus lines",
        ] {
            // A short page: the weak body rule is in play too.
            let html = format!("<title>{title}</title><h1>{title}</h1><p>A short item.</p>");
            assert_eq!(soft_404_phrase(&page(&html)), None, "{title}");
        }
    }

    #[test]
    fn no_not_found_phrase_matches_inside_a_longer_word_or_number() {
        for p in NOT_FOUND_PHRASES {
            let (first, last) = (p.chars().next().unwrap(), p.chars().next_back().unwrap());
            if is_cjk(first) || is_cjk(last) {
                continue;
            }
            // Glued to a letter at each alphanumeric end, and to digits.
            for (pre, post) in [("x", "y"), ("1", "9"), ("ab", "")] {
                let pre = if first.is_alphanumeric() { pre } else { "" };
                let post = if last.is_alphanumeric() { post } else { "" };
                if pre.is_empty() && post.is_empty() {
                    continue;
                }
                let glued = format!("{pre}{p}{post} in the archive");
                assert!(!has_phrase(&glued, p), "{p} found in {glued}");
                assert!(has_phrase(&format!("so: {p}, in the archive"), p), "{p}");
            }
        }
        let hoops = page("<title>Hoops: the finals</title><h1>Hoops</h1><p>Short.</p>");
        assert_eq!(soft_404_phrase(&hoops), None);
        let cannot = page("<title>Who cannot founder a company</title><p>Short.</p>");
        assert_eq!(soft_404_phrase(&cannot), None);
    }

    #[test]
    fn phrases_still_match_as_words_in_every_language() {
        for title in [
            "Page not found – The Daily",
            "Oops, we can't find the page",
            "Page introuvable",
            "Seite nicht gefunden",
            "Страница не найдена",
            "页面不存在",
            "ページが見つかりません",
        ] {
            let html = format!("<title>{title}</title><p>Try our search.</p>");
            assert!(soft_404_phrase(&page(&html)).is_some(), "{title}");
        }
    }

    #[test]
    fn titles_and_headings_are_the_elements_the_old_patterns_matched() {
        // The patterns the scanner replaced, as the reference.
        let title_re = regex::Regex::new(r"(?is)<title\b[^>]*>(.*?)</title\s*>").unwrap();
        let heading_re = regex::Regex::new(r"(?is)<h[12]\b[^>]*>(.*?)</h[12]\s*>").unwrap();
        let pages = [
            "<TITLE lang=en>Gone</TITLE ><h1>Not here</H2><h2 class='x'>Two</h2 \n>",
            "<title>One</title><title>Two</title>",
            "<titles>no</titles><title_x>no</title_x><title\n>yes</title\t>",
            "<titleé>no</title><title>after</title>",
            "<title>never closed",
            "<title attr='a' <b>x</title>",
            "<h1>a</h1 x><h1>b</h1><h3>c</h3><h10>d</h1><h2>e</h2>",
            "<h1>unclosed <h2>inner</h2> tail",
            "<h1 <h2>x</h2>",
            "<h1>x</h1\u{a0}><h2>y</h2\u{2003}>",
            "<h1>x</ h1><h2>y</h2><",
            "<title>x</title",
            "<",
            "",
            "<h1>é</h1><h2>日本</h2><title>Привет</title>",
        ];
        for html in pages {
            let old: Vec<&str> = title_re
                .captures(html)
                .map(|c| c.get(1).unwrap().as_str())
                .into_iter()
                .collect();
            let new: Vec<&str> = Elements::new(html, &TITLE).take(1).collect();
            assert_eq!(new, old, "title of {html:?}");
            let old: Vec<&str> = heading_re
                .captures_iter(html)
                .map(|c| c.get(1).unwrap().as_str())
                .collect();
            let new: Vec<&str> = Elements::new(html, &HEADING).collect();
            assert_eq!(new, old, "headings of {html:?}");
        }
    }

    #[test]
    fn phrases_found_in_one_pass_are_the_first_the_list_would_find() {
        let texts = [
            "oops page not found",
            "page not found oops",
            "nicht gefundenicht gefunden",
            "xnot found, not foundy, error 404",
            "the page you requested no longer available",
            "this page has been removed; nothing was found",
            "页面不存在 страница не найдена",
            "404 not found",
            "nothing here",
            "",
        ];
        for text in texts {
            for long_only in [false, true] {
                let counts = |p: &str| !long_only || p.len() > 8;
                let slow = NOT_FOUND_PHRASES
                    .iter()
                    .find(|p| counts(p) && has_phrase(text, p))
                    .copied();
                assert_eq!(first_phrase(text, counts), slow, "{text:?}");
            }
        }
    }

    /// Each page's signals count and start its text as its whole visible
    /// text, made the slow way, would.
    fn signals_measure_as_visible_text(pages: &[String]) {
        for html in pages {
            let body = visible_text(html, LONG_PAGE + 1);
            let signals = PageSignals::from_html(html);
            assert_eq!(signals.text_len, body.chars().count(), "{html:.60}");
            let start: String = body.chars().take(TEXT_START).collect();
            assert_eq!(signals.text_start, start.to_lowercase(), "{html:.60}");
        }
    }

    #[test]
    fn long_runs_of_text_are_counted_as_a_character_at_a_time_would() {
        // Runs longer than a piece and than a block, spaces of every kind
        // at block edges, and a letter outside ASCII past the first piece.
        let mut pages = Vec::new();
        for gap in [1, 2, 63, 64, 65] {
            let spaces = " \t\n".repeat(gap);
            pages.push(format!("<p>{}</p>", format!("word{spaces}").repeat(900)));
            pages.push(format!("<p>{}x</p>", "a".repeat(gap * 100)));
        }
        pages.push(format!(
            "<p>{}é{}</p>",
            "ab ".repeat(700),
            " cd".repeat(900)
        ));
        pages.push(format!("<p>{}</p>", "  ".repeat(3000)));
        signals_measure_as_visible_text(&pages);
    }

    #[test]
    fn visible_text_drops_head_scripts_styles_and_comments() {
        let html = "<html><HEAD><title>T</title><style>p{}</style></HEAD><body><!-- x --><p>Hello,\n  <b>world</b></p><SCRIPT>var a='<p>';</SCRIPT><p>Bye &amp; thanks</p></body></html>";
        assert_eq!(visible_text(html, 1000), "Hello, world Bye & thanks");
        assert_eq!(visible_text(html, 5), "Hello");
    }

    #[test]
    fn signals_count_a_long_page_as_its_whole_visible_text_would() {
        let words = "dam river report ".repeat(400);
        let pages = [
            format!("<html><head><title>T</title></head><body><p>{words}</p></body></html>"),
            format!("<p>{words} </p>  \n "),
            format!("<p>{}</p><p>{words}</p>", "x ".repeat(299)),
            format!("<p>{}&amp; {words}</p>", "a ".repeat(320)),
            format!("<p>Caf\u{e9} {words}</p><b>end</b>"),
            format!("<p>{}</p>", "Страница не найдена, ".repeat(200)),
            format!(
                "<h1>页面未找到</h1><p>{}</p>",
                "这是一个很长的中文段落。".repeat(300)
            ),
            format!("<p dir=\"rtl\">{}</p>", "الصفحة غير موجودة ".repeat(250)),
            "<p>  short   page &nbsp; here </p> ".to_string(),
            "<p>short page, no reference </p>\n".to_string(),
            String::new(),
        ];
        signals_measure_as_visible_text(&pages);
    }

    #[test]
    fn ascii_text_is_cut_and_spaced_as_any_other_text() {
        // The same page in ASCII and with one letter outside it: the ASCII
        // path must space and cut it as the per-character path does.
        let page = "<p>\t Hello,\x0b\x0c  big\r\n world </p><p>and\u{a0}more</p>  tail  ";
        let wide = page.replace("big", "bïg");
        for max in [0, 1, 5, 6, 7, 9, 10, 11, 12, 17, 18, 100] {
            let ascii = visible_text(page, max);
            let other = visible_text(&wide, max).replace('ï', "i");
            assert_eq!(ascii, other, "at {max} characters");
            assert!(ascii.chars().filter(|c| !c.is_whitespace()).count() <= max);
        }
        assert_eq!(visible_text(page, 100), "Hello, big world and more tail");
        assert_eq!(visible_text(page, 8), "Hello, bi");
    }

    #[test]
    fn redirects_to_front_page_or_login_are_recognised() {
        let o = url::Url::parse("http://news.example/2010/08/story.html").unwrap();
        assert!(is_root_or_login(
            &o,
            &url::Url::parse("http://news.example/").unwrap()
        ));
        assert!(is_root_or_login(
            &o,
            &url::Url::parse("http://news.example/login?next=/2010").unwrap()
        ));
        assert!(!is_root_or_login(
            &o,
            &url::Url::parse("http://news.example/2010/08/story-new.html").unwrap()
        ));
    }
}
