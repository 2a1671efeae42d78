//! Markdown posts: front matter (YAML `---` or TOML `+++`) for the post's URL
//! and date; inline, reference-style and autolinks, images, footnotes, raw
//! HTML tags and bare URLs as citations; `>` quotes as quote blocks.
//!
//! It only turns Markdown into blocks; `analyze` decides what they cite.

use std::sync::LazyLock;

use pulldown_cmark::{Event, LinkType, Options, Parser, Tag, TagEnd};
use regex::Regex;

use super::analyze::{Block, BlockKind, Cite, is_placeholder};
use super::bare::bare_urls;
use crate::base::text::newlines_before;
use crate::base::web::is_in_page_jump;
use crate::model::Kind;

/// What the front matter says.
#[derive(Debug, Default)]
pub(crate) struct FrontMatter {
    /// `url`, `permalink`, `canonical_url`: the post's own URL (maybe relative).
    pub url: Option<String>,
    /// `base`, `base_url`, `baseURL`: the site's URL.
    pub base: Option<String>,
    pub date: Option<String>,
}

/// Reads the front matter at the top of a Markdown file. YAML front matter
/// is read line by line for its top-level scalars only: the collector needs
/// four keys, not a YAML parser.
pub(crate) fn front_matter(text: &str) -> FrontMatter {
    let mut fm = FrontMatter::default();
    let t = text.trim_start_matches('\u{feff}');
    let mut set = |key: &str, value: &str| {
        let v = value.trim().trim_matches(['"', '\'']).trim();
        if v.is_empty() {
            return;
        }
        match key.trim().to_ascii_lowercase().as_str() {
            "url" | "permalink" | "canonical_url" | "canonical" | "link" => {
                fm.url.get_or_insert_with(|| v.to_string());
            }
            "base" | "base_url" | "baseurl" | "site_url" => {
                fm.base.get_or_insert_with(|| v.to_string());
            }
            "date" | "published" | "pubdate" | "publishdate" if fm.date.is_none() => {
                fm.date = super::dates::normalize(v);
            }
            _ => {}
        }
    };
    if let Some(rest) = t
        .strip_prefix("---\n")
        .or_else(|| t.strip_prefix("---\r\n"))
    {
        for line in rest.lines() {
            let l = line.trim_end();
            if l == "---" || l == "..." {
                break;
            }
            if line.starts_with([' ', '\t', '-', '#']) {
                continue;
            }
            if let Some((k, v)) = l.split_once(':') {
                set(k, v);
            }
        }
    } else if let Some(rest) = t
        .strip_prefix("+++\n")
        .or_else(|| t.strip_prefix("+++\r\n"))
    {
        let body = rest.split("\n+++").next().unwrap_or("");
        if let Ok(table) = body.parse::<toml::Table>() {
            for (k, v) in &table {
                match v {
                    toml::Value::String(s) => set(k, s),
                    toml::Value::Datetime(d) => set(k, &d.to_string()),
                    _ => {}
                }
            }
        }
    }
    fm
}

static HTML_TAG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?is)<(a|img|iframe|embed|video|audio|source|object|q|blockquote)\b([^>]*)>")
        .expect("static regex")
});
static HTML_ATTR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?is)\b(href|src|data|cite|poster|alt|title)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))"#,
    )
    .expect("static regex")
});

/// Byte offsets of line starts, to turn offsets into 1-based lines.
struct Lines(Vec<usize>);

impl Lines {
    fn new(text: &str) -> Self {
        let mut v = vec![0];
        v.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Lines(v)
    }
    fn at(&self, offset: usize) -> usize {
        match self.0.binary_search(&offset) {
            Ok(i) => i + 1,
            Err(i) => i,
        }
    }
}

/// A link or image whose text is still being read.
struct Open {
    cite: usize,
    text: String,
    image: bool,
}

struct Builder {
    blocks: Vec<Block>,
    cur: Block,
    quote_depth: usize,
    code: bool,
    open: Vec<Open>,
}

impl Builder {
    fn flush(&mut self, next: BlockKind, line: usize) {
        let mut done = std::mem::replace(&mut self.cur, Block::new(next, line));
        // A link to nowhere that shows no word, only a count or a symbol
        // (`[26]()` under a post: its likes), is a page control a converter
        // kept, not an author's placeholder.
        // (Raw HTML's `<a href="#">` comes with no text at all here: that
        // one stays.)
        done.cites.retain(|c| {
            !(c.kind == Kind::Link
                && is_placeholder(&c.raw)
                && crate::collect::analyze::is_a_count(&c.text))
        });
        if !done.is_empty() {
            self.blocks.push(done);
        }
    }
    fn start_block(&mut self, kind: BlockKind, line: usize) {
        if self.quote_depth > 0 {
            if !self.cur.text.trim().is_empty() && !self.cur.text.ends_with("\n\n") {
                self.cur.text.push_str("\n\n");
            }
        } else {
            self.flush(kind, line);
        }
    }
    fn push_text(&mut self, t: &str, line: usize) {
        if self.cur.text.trim().is_empty() && !t.trim().is_empty() && self.cur.cites.is_empty() {
            self.cur.text.clear();
            self.cur.line = line;
        }
        if let Some(o) = self.open.last_mut() {
            o.text.push_str(t);
            if o.image {
                return; // alt text is not prose
            }
        }
        self.cur.text.push_str(t);
    }
    fn cite(&mut self, raw: String, text: String, kind: Kind, line: usize) -> usize {
        if self.cur.text.trim().is_empty() && self.cur.cites.is_empty() {
            self.cur.line = line;
        }
        self.cur.cites.push(Cite {
            raw,
            text,
            kind,
            line,
            at: self.cur.text.len(),
            attribution: false,
        });
        self.cur.cites.len() - 1
    }
}

/// Turns a Markdown post into blocks. Lines count from the top of the file
/// (front matter included), plus `line_offset`.
pub(crate) fn blocks(text: &str, line_offset: usize) -> Vec<Block> {
    let lines = Lines::new(text);
    let line_of = |off: usize| lines.at(off) + line_offset;
    let opts = Options::ENABLE_FOOTNOTES
        | Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_YAML_STYLE_METADATA_BLOCKS
        | Options::ENABLE_PLUSES_DELIMITED_METADATA_BLOCKS;
    let mut b = Builder {
        blocks: Vec::new(),
        cur: Block::new(BlockKind::Para, 1 + line_offset),
        quote_depth: 0,
        code: false,
        open: Vec::new(),
    };
    let mut in_metadata = false;
    for (event, range) in Parser::new_ext(text, opts).into_offset_iter() {
        let line = line_of(range.start);
        match event {
            Event::Start(Tag::MetadataBlock(_)) => in_metadata = true,
            Event::End(TagEnd::MetadataBlock(_)) => in_metadata = false,
            _ if in_metadata => {}
            Event::Start(Tag::BlockQuote(_)) => {
                if b.quote_depth == 0 {
                    b.flush(BlockKind::Quote, line);
                }
                b.quote_depth += 1;
            }
            Event::End(TagEnd::BlockQuote(_)) => {
                b.quote_depth = b.quote_depth.saturating_sub(1);
                if b.quote_depth == 0 {
                    b.flush(BlockKind::Para, line);
                }
            }
            Event::Start(Tag::CodeBlock(_)) => {
                b.start_block(BlockKind::Code, line);
                b.code = true;
            }
            Event::End(TagEnd::CodeBlock) => {
                b.code = false;
                b.start_block(BlockKind::Para, line);
            }
            Event::Start(Tag::Heading { .. }) => {
                b.start_block(BlockKind::Para, line);
                if b.quote_depth == 0 {
                    b.cur.heading = true;
                }
            }
            Event::Start(
                Tag::Paragraph
                | Tag::Item
                | Tag::TableCell
                | Tag::FootnoteDefinition(_)
                | Tag::DefinitionListTitle
                | Tag::DefinitionListDefinition,
            ) => b.start_block(BlockKind::Para, line),
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                ..
            }) => {
                let raw = match link_type {
                    LinkType::Email => format!("mailto:{dest_url}"),
                    _ => dest_url.to_string(),
                };
                if is_in_page_jump(&raw) {
                    // A jump within the post; keep reading its text.
                    b.open.push(Open {
                        cite: usize::MAX,
                        text: String::new(),
                        image: false,
                    });
                    continue;
                }
                let cite = b.cite(raw, title.to_string(), Kind::Link, line);
                b.open.push(Open {
                    cite,
                    text: String::new(),
                    image: false,
                });
            }
            Event::Start(Tag::Image {
                dest_url, title, ..
            }) => {
                let cite = b.cite(dest_url.to_string(), title.to_string(), Kind::Image, line);
                b.open.push(Open {
                    cite,
                    text: String::new(),
                    image: true,
                });
            }
            Event::End(TagEnd::Link | TagEnd::Image) => {
                if let Some(o) = b.open.pop() {
                    // A badge or picture linked to nowhere (`[![Build
                    // Status](…)](#)`): the picture is the citation; the
                    // empty link around it is no author's placeholder in
                    // prose. Only closed cites follow it, so removing it
                    // shifts no open one.
                    if !o.image
                        && o.text.trim().is_empty()
                        && b.cur
                            .cites
                            .get(o.cite)
                            .is_some_and(|c| is_placeholder(&c.raw))
                        && b.cur.cites[o.cite + 1..]
                            .iter()
                            .any(|c| c.kind == Kind::Image)
                    {
                        b.cur.cites.remove(o.cite);
                        continue;
                    }
                    let alt_of_inner = b
                        .cur
                        .cites
                        .iter()
                        .skip(o.cite.saturating_add(1))
                        .find(|c| c.kind == Kind::Image)
                        .map(|c| c.text.clone());
                    if let Some(c) = b.cur.cites.get_mut(o.cite) {
                        if !o.text.trim().is_empty() {
                            c.text = o.text;
                        } else if c.text.is_empty()
                            && let Some(alt) = alt_of_inner
                        {
                            c.text = alt;
                        }
                    }
                }
            }
            Event::Text(t) => {
                let inside_link = !b.open.is_empty();
                let base = b.cur.text.len();
                b.push_text(&t, line);
                if !inside_link && !b.code {
                    let base = if b.cur.text.len() >= t.len() {
                        b.cur.text.len() - t.len()
                    } else {
                        base
                    };
                    for (at, url) in bare_urls(&t) {
                        let l = line + newlines_before(&t, at);
                        b.cur.cites.push(Cite {
                            raw: url.clone(),
                            text: url,
                            kind: Kind::BareUrl,
                            line: l,
                            at: base + at,
                            attribution: false,
                        });
                    }
                }
            }
            Event::Code(t) => b.push_text(&t, line),
            Event::SoftBreak | Event::HardBreak => b.push_text("\n", line),
            Event::Html(h) | Event::InlineHtml(h) => {
                for m in HTML_TAG.captures_iter(&h) {
                    let (Some(tag), Some(attrs), Some(all)) = (m.get(1), m.get(2), m.get(0)) else {
                        continue;
                    };
                    let tag = tag.as_str().to_ascii_lowercase();
                    let l = line + newlines_before(&h, all.start());
                    let mut url = None;
                    let mut label = String::new();
                    for a in HTML_ATTR.captures_iter(attrs.as_str()) {
                        let name = a
                            .get(1)
                            .map(|x| x.as_str().to_ascii_lowercase())
                            .unwrap_or_default();
                        let value = a
                            .get(2)
                            .or(a.get(3))
                            .or(a.get(4))
                            .map(|x| x.as_str().to_string())
                            .unwrap_or_default();
                        match name.as_str() {
                            "href" | "src" | "data" | "cite" if url.is_none() => url = Some(value),
                            "alt" | "title" if label.is_empty() => label = value,
                            _ => {}
                        }
                    }
                    let kind = match tag.as_str() {
                        "a" => Kind::Link,
                        "img" | "video" | "audio" | "source" => Kind::Image,
                        "iframe" | "embed" | "object" => Kind::Embed,
                        _ => Kind::Quote,
                    };
                    if let Some(u) = url {
                        let u = decode_entities(&u);
                        if !is_in_page_jump(&u) {
                            b.cite(u, label, kind, l);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    b.flush(BlockKind::Para, 1);
    b.blocks
}

/// The few entities that appear in hand-written href values.
fn decode_entities(s: &str) -> String {
    s.replace("&amp;", "&")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_badge_linked_to_nowhere_gives_its_picture_only() {
        let b = blocks(
            "[![Build Status](https://img.example/build.svg)](#) [docs](#)\n",
            0,
        );
        let cites: Vec<(&str, Kind)> = b
            .iter()
            .flat_map(|b| &b.cites)
            .map(|c| (c.raw.as_str(), c.kind))
            .collect();
        // The picture stays; so does a placeholder link with words.
        assert_eq!(
            cites,
            vec![
                ("https://img.example/build.svg", Kind::Image),
                ("#", Kind::Link)
            ]
        );
    }

    #[test]
    fn yaml_and_toml_front_matter_give_url_and_date() {
        let fm = front_matter(
            "---\ntitle: \"x: y\"\npermalink: /2010/08/post/\nbase: https://blog.example\ndate: 2010-08-25\n---\nbody",
        );
        assert_eq!(fm.url.as_deref(), Some("/2010/08/post/"));
        assert_eq!(fm.base.as_deref(), Some("https://blog.example"));
        assert_eq!(fm.date.as_deref(), Some("2010-08-25"));
        let fm = front_matter(
            "+++\nurl = \"https://blog.example/p/\"\ndate = 2010-08-25T10:00:00Z\n+++\nbody",
        );
        assert_eq!(fm.url.as_deref(), Some("https://blog.example/p/"));
        assert_eq!(fm.date.as_deref(), Some("2010-08-25T10:00:00+00:00"));
    }
}
