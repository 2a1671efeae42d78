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
                    json(&mut self.buf, c)?;
                    self.citations += 1;
                }
                out.write_all(&self.buf)?;
            }
            Format::Jsonl => {
                self.buf.clear();
                for c in &post.citations {
                    json(&mut self.buf, c)?;
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
fn json(buf: &mut Vec<u8>, c: &crate::model::Citation) -> io::Result<()> {
    let start = buf.len();
    serde_json::to_writer(&mut *buf, c).map_err(io::Error::other)?;
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

/// Shortens a text to `max` characters on one line.
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
}
