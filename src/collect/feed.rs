//! Feeds and exports: RSS 2.0 (and RSS 1.0) items, Atom entries and
//! WordPress WXR items become posts (their HTML content, their link, their
//! date); a sitemap becomes the list of post URLs it names.
//!
//! A broken item is reported and skipped: reading resumes at the next item,
//! so one bad item does not lose the rest of an export. It never fetches.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::input::Format;
use crate::base::text::floor_char_boundary;

/// One item or entry: a post inside a feed.
#[derive(Debug)]
pub(crate) struct Item {
    /// 1-based position in the feed.
    pub index: usize,
    pub link: Option<String>,
    pub date: Option<String>,
    /// The item's HTML.
    pub content: String,
    /// The line of the feed file where `content` starts.
    pub content_line: usize,
}

/// The item being read and the best content seen so far.
#[derive(Default)]
struct Draft {
    index: usize,
    link: Option<String>,
    guid_link: Option<String>,
    date: Option<String>,
    date_rank: u8,
    content: Option<(u8, String, usize)>,
    status: Option<String>,
    post_type: Option<String>,
}

/// Counts newlines up to a byte offset, remembering where it got to, so
/// that lines of a long feed are counted once.
struct LineCounter<'t> {
    text: &'t str,
    pos: usize,
    line: usize,
}

impl LineCounter<'_> {
    fn at(&mut self, offset: usize) -> usize {
        let offset = offset.min(self.text.len());
        if offset < self.pos {
            self.pos = 0;
            self.line = 1;
        }
        self.line += crate::base::text::newlines(&self.text.as_bytes()[self.pos..offset]);
        self.pos = offset;
        self.line
    }
}

/// Undoes XML escaping and CDATA wrapping of an element's raw content.
/// Entities XML does not define (`&nbsp;`) are left for the HTML parser.
fn xml_text(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while !rest.is_empty() {
        match rest.find("<![CDATA[") {
            Some(p) => {
                unescape_into(&rest[..p], &mut out);
                let after = &rest[p + 9..];
                match after.find("]]>") {
                    Some(q) => {
                        out.push_str(&after[..q]);
                        rest = &after[q + 3..];
                    }
                    None => {
                        out.push_str(after);
                        rest = "";
                    }
                }
            }
            None => {
                unescape_into(rest, &mut out);
                rest = "";
            }
        }
    }
    out
}

fn unescape_into(s: &str, out: &mut String) {
    let mut rest = s;
    while let Some(p) = rest.find('&') {
        out.push_str(&rest[..p]);
        let tail = &rest[p..];
        // An entity is short: look for its `;` in the next few bytes only,
        // cut at a character boundary (the text around it is any script).
        let end = tail[..floor_char_boundary(tail, 12)].find(';');
        let decoded = end.and_then(|e| {
            let name = &tail[1..e];
            let c = match name {
                "lt" => Some('<'),
                "gt" => Some('>'),
                "amp" => Some('&'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => {
                    let n = name.strip_prefix('#')?;
                    let code = match n.strip_prefix(['x', 'X']) {
                        Some(h) => u32::from_str_radix(h, 16).ok()?,
                        None => n.parse().ok()?,
                    };
                    char::from_u32(code)
                }
            }?;
            Some((c, e + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &tail[len..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
}

fn attr(e: &BytesStart, name: &str) -> Option<String> {
    e.try_get_attribute(name)
        .ok()
        .flatten()
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
}

/// Reads the items of a feed or WXR export, calling `each` for every item
/// (or broken item) in order. Unpublished WXR items (drafts, attachments,
/// menu entries) are passed over.
pub(crate) fn items(text: &str, format: Format, each: &mut dyn FnMut(Result<Item, String>)) {
    let mut lines = LineCounter {
        text,
        pos: 0,
        line: 1,
    };
    let mut start = 0usize;
    let mut index = 0usize;
    loop {
        match read_items(text, start, format, &mut index, &mut lines, each) {
            Ok(()) => return,
            Err((offset, cause)) => {
                let line = lines.at(offset);
                each(Err(format!(
                    "item {index}: ill-formed XML at line {line}: {cause}; item skipped"
                )));
                // Resume at the next item after the damage.
                let tag = if format == Format::Atom {
                    "<entry"
                } else {
                    "<item"
                };
                // The reader's error position is a byte offset: step to the
                // next character boundary before searching from it.
                let mut after = offset.max(start + 1).min(text.len());
                while !text.is_char_boundary(after) {
                    after += 1;
                }
                match text[after..].find(tag) {
                    Some(p) => start = after + p,
                    None => return,
                }
            }
        }
    }
}

type ReadError = (usize, String);

fn read_items(
    text: &str,
    start: usize,
    format: Format,
    index: &mut usize,
    lines: &mut LineCounter,
    each: &mut dyn FnMut(Result<Item, String>),
) -> Result<(), ReadError> {
    let mut reader = Reader::from_str(&text[start..]);
    // Resumed after a broken item, the reader starts mid-document: the
    // closing tags of the channel and feed have no opening tag to match.
    reader.config_mut().allow_unmatched_ends = start > 0;
    let item_tag: &[u8] = if format == Format::Atom {
        b"entry"
    } else {
        b"item"
    };
    let mut draft: Option<Draft> = None;
    let mut seen_root = start > 0;
    loop {
        let ev = reader.read_event();
        let ev = match ev {
            Ok(ev) => ev,
            Err(e) => {
                let at = start + reader.error_position() as usize;
                return Err((at, e.to_string()));
            }
        };
        match ev {
            Event::Eof => {
                if !seen_root {
                    return Err((start, "no root element".into()));
                }
                return Ok(());
            }
            Event::Start(e) => {
                seen_root = true;
                let qname = e.name();
                let name = qname.as_ref();
                if e.local_name().as_ref() == item_tag && draft.is_none() {
                    *index += 1;
                    draft = Some(Draft {
                        index: *index,
                        ..Default::default()
                    });
                    continue;
                }
                let Some(d) = draft.as_mut() else {
                    continue;
                };
                let name = String::from_utf8_lossy(name).into_owned();
                if name == "link" && format == Format::Atom {
                    take_atom_link(&e, d);
                }
                let kind = attr(&e, "type");
                let permalink = attr(&e, "isPermaLink");
                let span = reader
                    .read_to_end(e.name())
                    .map_err(|err| (start + reader.error_position() as usize, err.to_string()))?;
                let (s, t) = (start + span.start as usize, start + span.end as usize);
                let raw = text
                    .get(s..t)
                    .ok_or_else(|| (s, "content split inside a character".to_string()))?;
                match name.as_str() {
                    "content:encoded" | "content" | "description" | "summary" => {
                        let rank = match name.as_str() {
                            "content:encoded" | "content" => 0,
                            _ => 1,
                        };
                        if d.content.as_ref().is_none_or(|(r, _, _)| rank < *r) {
                            let html = if kind.as_deref() == Some("xhtml") {
                                raw.to_string()
                            } else {
                                xml_text(raw)
                            };
                            // Leading white space is kept in `html`, and
                            // CDATA markers take no line: the HTML's first
                            // line is the line the content starts on.
                            let line = lines.at(s);
                            d.content = Some((rank, html, line));
                        }
                    }
                    "link" if format != Format::Atom => {
                        let l = xml_text(raw).trim().to_string();
                        if !l.is_empty() {
                            d.link = Some(l);
                        }
                    }
                    "guid" => {
                        let g = xml_text(raw).trim().to_string();
                        if permalink.as_deref() != Some("false") && crate::base::web::is_http(&g) {
                            d.guid_link = Some(g);
                        }
                    }
                    "pubDate" | "published" | "dc:date" | "wp:post_date_gmt" | "wp:post_date"
                    | "updated" => {
                        let rank = match name.as_str() {
                            "wp:post_date_gmt" => 1,
                            "pubDate" | "published" | "dc:date" => 2,
                            "wp:post_date" => 3,
                            _ => 4,
                        };
                        let v = xml_text(raw);
                        let v = v.trim();
                        let value = if name == "wp:post_date_gmt" {
                            // WXR writes GMT as a bare "YYYY-MM-DD HH:MM:SS".
                            (!v.starts_with("0000")).then(|| format!("{v} +0000"))
                        } else {
                            Some(v.to_string())
                        };
                        if let Some(date) = value.as_deref().and_then(super::dates::normalize)
                            && (d.date.is_none() || rank < d.date_rank)
                        {
                            d.date = Some(date);
                            d.date_rank = rank;
                        }
                    }
                    "wp:status" => d.status = Some(xml_text(raw).trim().to_string()),
                    "wp:post_type" => d.post_type = Some(xml_text(raw).trim().to_string()),
                    _ => {}
                }
            }
            Event::Empty(e) => {
                seen_root = true;
                if let Some(d) = draft.as_mut()
                    && e.local_name().as_ref() == b"link"
                    && format == Format::Atom
                {
                    take_atom_link(&e, d);
                }
            }
            Event::End(e) => {
                if e.local_name().as_ref() == item_tag
                    && let Some(d) = draft.take()
                {
                    let published = format != Format::Wxr
                        || (d.status.as_deref().is_none_or(|s| s == "publish")
                            && d.post_type
                                .as_deref()
                                .is_none_or(|t| t == "post" || t == "page"));
                    if published {
                        let (_, content, content_line) = d.content.unwrap_or((0, String::new(), 1));
                        each(Ok(Item {
                            index: d.index,
                            link: d.link.or(d.guid_link),
                            date: d.date,
                            content,
                            content_line,
                        }));
                    }
                }
            }
            _ => {}
        }
    }
}

fn take_atom_link(e: &BytesStart, d: &mut Draft) {
    let rel = attr(e, "rel");
    if rel.as_deref().is_none_or(|r| r == "alternate")
        && d.link.is_none()
        && let Some(href) = attr(e, "href")
    {
        d.link = Some(href);
    }
}

/// The URLs a sitemap (or sitemap index) lists in its `<loc>`s.
pub(crate) fn sitemap(text: &str) -> Result<Vec<String>, String> {
    let mut reader = Reader::from_str(text);
    let mut urls = Vec::new();
    loop {
        match reader.read_event() {
            Err(e) => {
                let line =
                    crate::base::text::newlines_before(text, reader.error_position() as usize) + 1;
                return Err(format!("ill-formed sitemap XML at line {line}: {e}"));
            }
            Ok(Event::Eof) => return Ok(urls),
            Ok(Event::Start(e)) if e.local_name().as_ref() == b"loc" => {
                let span = reader
                    .read_to_end(e.name())
                    .map_err(|e| format!("ill-formed sitemap XML: {e}"))?;
                let raw = text
                    .get(span.start as usize..span.end as usize)
                    .unwrap_or_default();
                let loc = xml_text(raw).trim().to_string();
                if !loc.is_empty() {
                    urls.push(loc);
                }
            }
            Ok(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_text_unwraps_cdata_and_entities_once() {
        assert_eq!(
            xml_text("&lt;a href=&quot;x&amp;y&quot;&gt;&amp;nbsp;"),
            "<a href=\"x&y\">&nbsp;"
        );
        assert_eq!(xml_text("<![CDATA[<p>&amp;</p>]]>"), "<p>&amp;</p>");
        assert_eq!(xml_text("a &#233; &#x41; &bogus; &"), "a é A &bogus; &");
    }

    #[test]
    fn an_entity_beside_curly_quotes_or_cjk_is_decoded_without_a_split_character() {
        assert_eq!(xml_text("&amp;“quoted”"), "&“quoted”");
        assert_eq!(xml_text("a&#8217;中文中文中文"), "a’中文中文中文");
        assert_eq!(xml_text("&中文中文中文;"), "&中文中文中文;");
        assert_eq!(xml_text("x &lt;中"), "x <中");
    }
}
