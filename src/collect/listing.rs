//! The listing `citeguard collect` prints: each post's citations as text
//! (grouped by post, unlinked ones marked, a summary at the end), as one
//! JSON document (`{"citations": [...]}`), or as JSON Lines (one citation a
//! line). Written post by post as the collector hands them over, so a large
//! site starts printing at once. It writes to any `Write` and knows nothing
//! of the terminal.

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::Post;
use crate::base::escape::{is_bidi_control, visible};
use crate::model::{Kind, Missing, Skip};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Jsonl,
}

/// Writes posts as they come, in one of the formats.
pub struct Listing {
    format: Format,
    posts: usize,
    citations: usize,
    kinds: BTreeMap<Kind, usize>,
    /// One post's JSON, the buffer reused from one to the next.
    buf: Vec<u8>,
    /// The last post's name and its JSON string: a post's citations all
    /// name it, escaped once.
    post_json: (String, Vec<u8>),
}

const TEXT_WIDTH: usize = 42;

impl Listing {
    pub fn new(format: Format) -> Self {
        Listing {
            format,
            posts: 0,
            citations: 0,
            kinds: BTreeMap::new(),
            buf: Vec::new(),
            post_json: (String::new(), b"\"\"".to_vec()),
        }
    }

    /// Writes one post's citations.
    pub fn post(&mut self, out: &mut dyn Write, post: &Post) -> io::Result<()> {
        for c in &post.citations {
            *self.kinds.entry(c.kind).or_default() += 1;
        }
        match self.format {
            Format::Text => self.text_post(out, post)?,
            // A post's lines go out in one write: a line-buffered stdout
            // would make a system call of each.
            Format::Json => {
                self.buf.clear();
                for c in &post.citations {
                    self.buf.extend_from_slice(if self.citations == 0 {
                        b"{\"citations\": [\n  "
                    } else {
                        b",\n  "
                    });
                    json(&mut self.buf, c, &mut self.post_json)?;
                    self.citations += 1;
                }
                out.write_all(&self.buf)?;
            }
            Format::Jsonl => {
                self.buf.clear();
                for c in &post.citations {
                    json(&mut self.buf, c, &mut self.post_json)?;
                    self.buf.push(b'\n');
                }
                out.write_all(&self.buf)?;
            }
        }
        self.posts += 1;
        if self.format != Format::Json {
            self.citations += post.citations.len();
        }
        Ok(())
    }

    fn text_post(&mut self, out: &mut dyn Write, post: &Post) -> io::Result<()> {
        if self.posts > 0 {
            writeln!(out)?;
        }
        let unlinked = post
            .citations
            .iter()
            .filter(|c| c.kind == Kind::Unlinked)
            .count();
        write!(out, "{}", visible(&post.name))?;
        write!(
            out,
            "  ({} citation{}",
            post.citations.len(),
            plural(post.citations.len())
        )?;
        if unlinked > 0 {
            write!(out, ", {unlinked} unlinked")?;
        }
        if let Some(d) = &post.date {
            write!(out, ", posted {}", visible(d))?;
        }
        writeln!(out, ")")?;
        if let Some(b) = &post.base_url
            && b != &post.name
        {
            writeln!(out, "  base {}", visible(b))?;
        }
        for c in &post.citations {
            let text = if c.text.is_empty() {
                "-".to_string()
            } else {
                fit(&c.text, TEXT_WIDTH)
            };
            let pad = TEXT_WIDTH.saturating_sub(text.chars().count());
            write!(
                out,
                "  {:>5}  {:<8}  {}{}  ",
                c.line,
                c.kind.as_str(),
                text,
                " ".repeat(pad)
            )?;
            let raw = visible(c.raw.as_deref().unwrap_or(""));
            match (&c.url, c.missing) {
                _ if c.skip == Some(Skip::Template) => {
                    writeln!(out, "(template, not a URL: {raw})")?
                }
                _ if c.skip == Some(Skip::Unresolved) => writeln!(
                    out,
                    "(unresolved: {raw} has no base; give --base-url or --root-dir)"
                )?,
                (Some(u), _) => writeln!(out, "{}", visible(u))?,
                (None, Some(Missing::EmptyLink)) => {
                    writeln!(out, "!! MISSING: empty link (href=\"{raw}\")")?
                }
                (None, Some(Missing::NoLink)) => writeln!(out, "!! MISSING: no link")?,
                (None, None) => writeln!(out, "(not a URL: {raw})")?,
            }
            if let Some(q) = &c.quote {
                writeln!(out, "  {:>5}  {:<8}  quote: “{}”", "", "", fit(q, 90))?;
            }
        }
        Ok(())
    }

    /// Ends the listing: closes the JSON document, or writes the text
    /// summary (counts by kind, and how many inputs failed).
    pub fn finish(&mut self, out: &mut dyn Write, failed: usize) -> io::Result<()> {
        match self.format {
            Format::Json => {
                if self.citations == 0 {
                    out.write_all(b"{\"citations\": [")?;
                }
                out.write_all(b"\n]}\n")?;
            }
            Format::Jsonl => {}
            Format::Text => {
                if self.posts > 0 {
                    writeln!(out)?;
                }
                let mut parts: Vec<String> = Vec::new();
                for (kind, n) in &self.kinds {
                    let name = match kind {
                        Kind::Link => "link",
                        Kind::Image => "image",
                        Kind::Embed => "embed",
                        Kind::Quote => "quote",
                        Kind::BareUrl => "bare URL",
                        Kind::Unlinked => "unlinked",
                    };
                    let s = if *kind == Kind::Unlinked {
                        ""
                    } else {
                        plural(*n)
                    };
                    parts.push(format!("{n} {name}{s}"));
                }
                write!(
                    out,
                    "{} post{}, {} citation{}",
                    self.posts,
                    plural(self.posts),
                    self.citations,
                    plural(self.citations)
                )?;
                if !parts.is_empty() {
                    write!(out, ": {}", parts.join(", "))?;
                }
                if failed > 0 {
                    write!(
                        out,
                        "; {failed} input{} failed (see stderr)",
                        plural(failed)
                    )?;
                }
                writeln!(out)?;
            }
        }
        Ok(())
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// A citation as one line of JSON. serde escapes control characters; the
/// bidi controls it leaves raw are escaped too (`\u202e` in a JSON string
/// is the same character), so no line can reorder a terminal's view of it.
/// Written into `buf`, which it clears first.
/// One citation as a line of JSON: the fields, their order and their
/// escaping exactly as `serde_json::to_writer` writes `Citation` (a test
/// holds the two together on arbitrary citations), without serde's layers
/// and with a string escaper that skips eight clean bytes at a time (serde
/// string escaping alone was 3% of `collect`'s samples). Bidi controls are
/// then escaped as before.
fn json(
    buf: &mut Vec<u8>,
    c: &crate::model::Citation,
    post: &mut (String, Vec<u8>),
) -> io::Result<()> {
    let start = buf.len();
    buf.extend_from_slice(b"{\"post\":");
    if post.0 != c.post {
        post.0.clone_from(&c.post);
        post.1.clear();
        json_str(&mut post.1, &c.post);
    }
    buf.extend_from_slice(&post.1);
    buf.extend_from_slice(b",\"line\":");
    buf.extend_from_slice(itoa(c.line, &mut [0u8; 20]));
    buf.extend_from_slice(b",\"url\":");
    match &c.url {
        Some(u) => json_str(buf, u),
        None => buf.extend_from_slice(b"null"),
    }
    buf.extend_from_slice(b",\"text\":");
    json_str(buf, &c.text);
    buf.extend_from_slice(b",\"kind\":");
    json_str(buf, c.kind.as_str());
    let optional: [(&[u8], Option<&str>); 5] = [
        (b",\"context\":", c.context.as_deref()),
        (b",\"quote\":", c.quote.as_deref()),
        (b",\"missing\":", c.missing.map(|m| m.as_str())),
        (b",\"raw\":", c.raw.as_deref()),
        (b",\"skip\":", c.skip.map(|s| s.as_str())),
    ];
    for (key, value) in optional {
        if let Some(v) = value {
            buf.extend_from_slice(key);
            json_str(buf, v);
        }
    }
    buf.push(b'}');
    // Every bidi control is encoded in UTF-8 from the byte 0xE2 on (they
    // lie in U+2028–U+2069): a line without that byte has none.
    if memchr::memchr(0xE2, &buf[start..]).is_none() {
        return Ok(());
    }
    let raw = std::str::from_utf8(&buf[start..]).map_err(io::Error::other)?;
    if !raw.chars().any(is_bidi_control) {
        return Ok(());
    }
    let escaped: String = raw
        .chars()
        .map(|ch| {
            if is_bidi_control(ch) {
                format!("\\u{:04x}", ch as u32)
            } else {
                ch.to_string()
            }
        })
        .collect();
    buf.truncate(start);
    buf.extend_from_slice(escaped.as_bytes());
    Ok(())
}

/// A number's decimal digits, written into `tmp`.
fn itoa(mut n: usize, tmp: &mut [u8; 20]) -> &[u8] {
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &tmp[i..];
        }
    }
}

/// A JSON string as serde_json writes it: `"` and `\` escaped with a
/// backslash, the control characters below U+0020 as `\b \f \n \r \t` or
/// `\u00XX` (lower-case hex), everything else (DEL and all of Unicode) as
/// it is.
fn json_str(buf: &mut Vec<u8>, s: &str) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // Whether any of eight bytes is below 0x20, a `"` or a `\` (the usual
    // bit tricks: exact as to "any", which is all that is asked).
    let dirty = |x: u64| {
        let below = x.wrapping_sub(ONES * 0x20) & !x;
        let quote = (x ^ (ONES * b'"' as u64)).wrapping_sub(ONES) & !(x ^ (ONES * b'"' as u64));
        let slash = (x ^ (ONES * b'\\' as u64)).wrapping_sub(ONES) & !(x ^ (ONES * b'\\' as u64));
        (below | quote | slash) & HIGHS != 0
    };
    let b = s.as_bytes();
    buf.reserve(b.len() + 2);
    buf.push(b'"');
    let mut copied = 0;
    let mut i = 0;
    while i < b.len() {
        if let Some(chunk) = b.get(i..i + 8) {
            let mut eight = [0u8; 8];
            eight.copy_from_slice(chunk);
            if !dirty(u64::from_le_bytes(eight)) {
                i += 8;
                continue;
            }
        }
        let end = (i + 8).min(b.len());
        while i < end {
            let c = b[i];
            let short = match c {
                b'"' => b'"',
                b'\\' => b'\\',
                0x08 => b'b',
                0x0C => b'f',
                b'\n' => b'n',
                b'\r' => b'r',
                b'\t' => b't',
                0..=0x1F => b'u',
                _ => {
                    i += 1;
                    continue;
                }
            };
            buf.extend_from_slice(&b[copied..i]);
            buf.push(b'\\');
            buf.push(short);
            if short == b'u' {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                buf.extend_from_slice(&[
                    b'0',
                    b'0',
                    HEX[usize::from(c >> 4)],
                    HEX[usize::from(c & 0xF)],
                ]);
            }
            i += 1;
            copied = i;
        }
    }
    buf.extend_from_slice(&b[copied..]);
    buf.push(b'"');
}

fn fit(s: &str, max: usize) -> String {
    let one: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let one = visible(&one).into_owned();
    match one.char_indices().nth(max.saturating_sub(1)) {
        Some((i, _)) if one.chars().count() > max => format!("{}…", &one[..i]),
        _ => one,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(format: Format, posts: &[Post], failed: usize) -> String {
        let mut out = Vec::new();
        let mut listing = Listing::new(format);
        for p in posts {
            listing.post(&mut out, p).unwrap();
        }
        listing.finish(&mut out, failed).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn post(name: &str) -> Post {
        Post {
            name: name.into(),
            base_url: None,
            date: Some("2010-05-02".into()),
            citations: Vec::new(),
            notes: Vec::new(),
        }
    }

    #[test]
    fn a_json_listing_is_one_document_even_with_nothing_cited() {
        for posts in [vec![], vec![post("a.html"), post("b.html")]] {
            let json = listed(Format::Json, &posts, 0);
            let v: serde_json::Value = serde_json::from_str(&json).unwrap();
            assert_eq!(v["citations"], serde_json::json!([]));
        }
    }

    #[test]
    fn a_posts_json_lines_are_each_a_citation_in_order_bidi_escaped() {
        let cite = |line: usize, text: &str| crate::model::Citation {
            post: "a.html".into(),
            line,
            url: Some(format!("https://a.example/{line}")),
            text: text.into(),
            kind: Kind::Link,
            context: None,
            quote: None,
            missing: None,
            raw: None,
            skip: None,
        };
        let mut a = post("a.html");
        a.citations = vec![cite(1, "one"), cite(2, "two\u{202e}owt"), cite(3, "three")];
        let mut b = post("b.html");
        b.citations = vec![cite(4, "four")];
        let jsonl = listed(Format::Jsonl, &[a.clone(), b.clone()], 0);
        let lines: Vec<&str> = jsonl.lines().collect();
        assert_eq!(lines.len(), 4, "{jsonl}");
        for (i, line) in lines.iter().enumerate() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(v["line"], i + 1, "{line}");
        }
        assert!(lines[1].contains("two\\u202eowt"), "{}", lines[1]);
        assert!(!jsonl.contains('\u{202e}'));
        let json = listed(Format::Json, &[a, b], 0);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        let texts: Vec<&str> = v["citations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["text"].as_str().unwrap())
            .collect();
        assert_eq!(texts, ["one", "two\u{202e}owt", "three", "four"]);
        assert!(!json.contains('\u{202e}'));
    }

    #[test]
    fn the_text_listing_ends_with_the_counts_and_the_failed_inputs() {
        let text = listed(Format::Text, &[post("a.html")], 2);
        assert!(text.starts_with("a.html  (0 citations, posted 2010-05-02)\n"));
        assert!(text.ends_with("1 post, 0 citations; 2 inputs failed (see stderr)\n"));
    }

    /// Strings with everything JSON escapes, bidi controls and other
    /// Unicode, in runs long and short (the escaper skips eight bytes at a
    /// time).
    fn awkward() -> impl proptest::strategy::Strategy<Value = String> {
        "([\\x00-\\x1f\\x7f\"\\\\/a-z0-9 é€\u{202e}\u{2066}\u{10348}]|[a-z]{8,20}){0,12}"
    }

    proptest::proptest! {
        #[test]
        fn a_json_line_is_what_serde_json_writes_bidi_escaped(
            post in awkward(),
            line in proptest::prelude::any::<usize>(),
            url in proptest::option::of(awkward()),
            text in proptest::prelude::any::<String>(),
            kind in proptest::sample::select(Kind::ALL),
            context in proptest::option::of(awkward()),
            quote in proptest::option::of(proptest::prelude::any::<String>()),
            missing in proptest::option::of(proptest::sample::select(Missing::ALL)),
            raw in proptest::option::of(awkward()),
            skip in proptest::option::of(proptest::sample::select(Skip::ALL)),
        ) {
            let c = crate::model::Citation { post, line, url, text, kind, context, quote, missing, raw, skip };
            let mut ours = Vec::new();
            let mut cache = (String::new(), b"\"\"".to_vec());
            json(&mut ours, &c, &mut cache).unwrap();
            // A second line for the same post takes its name from the cache.
            ours.push(b'\n');
            json(&mut ours, &c, &mut cache).unwrap();
            let serde = serde_json::to_string(&c).unwrap();
            let want: String = serde
                .chars()
                .map(|ch| if is_bidi_control(ch) { format!("\\u{:04x}", ch as u32) } else { ch.to_string() })
                .collect();
            proptest::prop_assert_eq!(String::from_utf8(ours).unwrap(), format!("{want}\n{want}"));
        }
    }
}
