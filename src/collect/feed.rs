//! Feeds and exports: RSS 2.0 (and RSS 1.0) items, Atom entries and
//! WordPress WXR items become posts (their HTML content, their link, their
//! date); a sitemap becomes the list of post URLs it names.
//!
//! Of an item's content fields (`content:encoded`, Atom `content`,
//! `description`, `summary`, `itunes:summary`) the richest non-empty one
//! is the post: an empty `content:encoded` never hides a full description.
//! An entry whose link points off the feed's site (a link blog) is a post
//! about that page: its own page is its permalink, and the page it links
//! to is returned as what the post cites.
//!
//! A broken item is reported and skipped: reading resumes at the next item,
//! so one bad item does not lose the rest of an export. It never fetches.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use url::Url;

use super::input::Format;
use crate::base::text::floor_char_boundary;

/// One item or entry: a post inside a feed.
#[derive(Debug)]
pub(crate) struct Item {
    /// 1-based position in the feed.
    pub index: usize,
    /// The entry's own page, as written (maybe relative): the link, or for
    /// a link-blog entry its permalink. Never empty.
    pub link: Option<String>,
    /// Its `guid` (RSS), `id` (Atom) or `rdf:about` (RSS 1.0), as written.
    /// Never empty.
    pub guid: Option<String>,
    /// For a link-blog entry, the page the entry links to (off the feed's
    /// site), and the line of the feed file where that link is written.
    pub linked: Option<(String, usize)>,
    /// The entry's title, as plain text.
    pub title: Option<String>,
    pub date: Option<String>,
    /// The item's HTML.
    pub content: String,
    /// The line of the feed file where `content` starts.
    pub content_line: usize,
}

/// A content field: how it ranks when others are as rich, its HTML, the
/// line it starts on.
struct Field {
    rank: u8,
    html: String,
    line: usize,
}

impl Field {
    /// How rich the field is: the links and images it holds, then its
    /// text. (0, 0) is empty: white space, or markup with nothing in it.
    fn richness(&self) -> (usize, usize) {
        let lower = self.html.to_ascii_lowercase();
        let links = ["href=", "src=", "cite="]
            .iter()
            .map(|a| lower.matches(a).count())
            .sum();
        let mut text = 0;
        let mut in_tag = false;
        for c in self.html.chars() {
            match c {
                '<' => in_tag = true,
                '>' => in_tag = false,
                c if !in_tag && !c.is_whitespace() => text += 1,
                _ => {}
            }
        }
        (links, text)
    }
}

/// The item being read.
#[derive(Default)]
struct Draft {
    index: usize,
    /// RSS `link`, Atom `rel=alternate` (or no rel), with its line.
    link: Option<(String, usize)>,
    /// Atom `rel=related`, with its line.
    related: Option<(String, usize)>,
    /// Feedburner's `origLink`: the real link behind a redirecting one.
    orig_link: Option<(String, usize)>,
    guid: Option<String>,
    /// The guid when it is an http(s) permalink.
    guid_link: Option<String>,
    title: Option<String>,
    date: Option<String>,
    date_rank: u8,
    fields: Vec<Field>,
    status: Option<String>,
    post_type: Option<String>,
}

/// What is known of the whole feed when an item ends.
struct Feed<'a> {
    format: Format,
    /// The feed's own URL, when it was fetched.
    url: Option<&'a Url>,
    /// The site the feed is of: the channel's `link`, the feed's
    /// `rel=alternate` link.
    site: Option<String>,
}

impl Feed<'_> {
    /// Turns an ended item into what the reader hands over.
    fn finish(&self, d: Draft) -> Item {
        let richest = d
            .fields
            .into_iter()
            .map(|f| (f.richness(), f))
            .filter(|(r, _)| *r != (0, 0))
            .max_by_key(|((links, text), f)| (*links, std::cmp::Reverse(f.rank), *text));
        let (content, content_line) = match richest {
            Some((_, f)) => (f.html, f.line),
            None => (String::new(), 1),
        };
        let link = d.orig_link.or(d.link);
        let (permalink, linked) = self.split_links(link, d.related, d.guid_link.as_deref());
        Item {
            index: d.index,
            link: permalink,
            guid: d.guid,
            linked,
            title: d.title,
            date: d.date,
            content,
            content_line,
        }
    }

    /// The entry's own page and, for a link-blog entry, the page it links
    /// to. A link is off-site when it names another host than the feed's
    /// site (its channel link, else its permalinks, else its own URL); a
    /// relative link is on the site. A WXR export holds the site's own
    /// posts: nothing in it is off-site.
    fn split_links(
        &self,
        link: Option<(String, usize)>,
        related: Option<(String, usize)>,
        guid_link: Option<&str>,
    ) -> (Option<String>, Option<(String, usize)>) {
        let home = self
            .site
            .as_deref()
            .and_then(host_of)
            .or_else(|| guid_link.and_then(host_of))
            .or_else(|| {
                self.url
                    .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
            });
        let off_site = |u: &str| match (&home, host_of(u)) {
            (Some(h), Some(this)) => !same_site(h, &this) && !FEED_REDIRECTORS.contains(&&*this),
            _ => false,
        };
        if self.format == Format::Wxr || home.is_none() {
            let own = link.map(|(l, _)| l).or(guid_link.map(str::to_string));
            return (own, None);
        }
        let candidates = [link, related];
        let own = candidates
            .iter()
            .flatten()
            .map(|(l, _)| l.as_str())
            .chain(guid_link)
            .find(|l| !off_site(l))
            .map(str::to_string);
        let linked = candidates.into_iter().flatten().find(|(l, _)| off_site(l));
        (own, linked)
    }
}

/// Hosts that feed services put in front of a blog's own links, to count
/// clicks: a link through them is still the blog's (Feedburner's
/// `origLink`, when there is one, names the post itself).
const FEED_REDIRECTORS: &[&str] = &[
    "feedproxy.google.com",
    "feeds.feedburner.com",
    "feedburner.google.com",
    "feeds.feedblitz.com",
];

/// The host of an absolute http(s) URL, lower-cased, `www.` left off.
fn host_of(u: &str) -> Option<String> {
    let url = Url::parse(u.trim()).ok()?;
    if !crate::base::web::is_http(url.as_str()) {
        return None;
    }
    let host = url.host_str()?.to_ascii_lowercase();
    Some(host.strip_prefix("www.").unwrap_or(&host).to_string())
}

/// Whether two hosts are one site: the same, or one inside the other
/// (`blog.example.org` and `example.org`).
fn same_site(a: &str, b: &str) -> bool {
    a == b || a.ends_with(&format!(".{b}")) || b.ends_with(&format!(".{a}"))
}

/// A non-empty value, trimmed.
fn non_empty(s: String) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
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
pub(crate) fn items(
    text: &str,
    format: Format,
    url: Option<&Url>,
    each: &mut dyn FnMut(Result<Item, String>),
) {
    let mut lines = LineCounter {
        text,
        pos: 0,
        line: 1,
    };
    let mut feed = Feed {
        format,
        url,
        site: None,
    };
    let mut start = 0usize;
    let mut index = 0usize;
    loop {
        match read_items(text, start, &mut feed, &mut index, &mut lines, each) {
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
    feed: &mut Feed,
    index: &mut usize,
    lines: &mut LineCounter,
    each: &mut dyn FnMut(Result<Item, String>),
) -> Result<(), ReadError> {
    let format = feed.format;
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
                        guid: attr(&e, "rdf:about").and_then(non_empty),
                        ..Default::default()
                    });
                    continue;
                }
                let name = String::from_utf8_lossy(name).into_owned();
                let here = start + reader.buffer_position() as usize;
                let Some(d) = draft.as_mut() else {
                    // The feed's own link, before its items: the site.
                    if name == "link" && feed.site.is_none() {
                        if format == Format::Atom {
                            feed.site = atom_link(&e)
                                .and_then(|(rel, href)| (rel == "alternate").then_some(href));
                        } else {
                            let span = reader.read_to_end(e.name()).map_err(|err| {
                                (start + reader.error_position() as usize, err.to_string())
                            })?;
                            let raw = text
                                .get(start + span.start as usize..start + span.end as usize)
                                .unwrap_or_default();
                            feed.site = non_empty(xml_text(raw));
                        }
                    }
                    continue;
                };
                if name == "link" && format == Format::Atom {
                    take_atom_link(&e, d, lines.at(here));
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
                    "content:encoded" | "content" | "description" | "summary"
                    | "itunes:summary" => {
                        let rank = match name.as_str() {
                            "content:encoded" | "content" => 0,
                            "description" | "summary" => 1,
                            _ => 2,
                        };
                        let html = if kind.as_deref() == Some("xhtml") {
                            raw.to_string()
                        } else if name == "itunes:summary" || kind.as_deref() == Some("text") {
                            // Plain text: its `<` and `&` are text, not markup.
                            crate::base::escape::html(&xml_text(raw))
                        } else {
                            xml_text(raw)
                        };
                        // Leading white space is kept in `html`, and CDATA
                        // markers take no line: the HTML's first line is the
                        // line the content starts on.
                        let line = lines.at(s);
                        d.fields.push(Field { rank, html, line });
                    }
                    "link" if format != Format::Atom => {
                        if let Some(l) = non_empty(xml_text(raw)) {
                            d.link = Some((l, lines.at(s)));
                        }
                    }
                    "feedburner:origLink" => {
                        if let Some(l) = non_empty(xml_text(raw)) {
                            d.orig_link = Some((l, lines.at(s)));
                        }
                    }
                    "title" => d.title = non_empty(plain_text(&xml_text(raw))),
                    "guid" | "id" => {
                        if let Some(g) = non_empty(xml_text(raw)) {
                            if name == "guid"
                                && permalink.as_deref() != Some("false")
                                && crate::base::web::is_http(&g)
                            {
                                d.guid_link = Some(g.clone());
                            }
                            d.guid = Some(g);
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
                if e.local_name().as_ref() != b"link" || format != Format::Atom {
                    continue;
                }
                let here = start + reader.buffer_position() as usize;
                match draft.as_mut() {
                    Some(d) => take_atom_link(&e, d, lines.at(here)),
                    None if feed.site.is_none() && e.name().as_ref() == b"link" => {
                        feed.site = atom_link(&e)
                            .and_then(|(rel, href)| (rel == "alternate").then_some(href));
                    }
                    None => {}
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
                        each(Ok(feed.finish(d)));
                    }
                }
            }
            _ => {}
        }
    }
}

/// An Atom link's `rel` (`alternate` when it has none) and its non-empty
/// `href`.
fn atom_link(e: &BytesStart) -> Option<(String, String)> {
    let href = attr(e, "href").and_then(non_empty)?;
    let rel = attr(e, "rel")
        .and_then(non_empty)
        .unwrap_or_else(|| "alternate".into());
    Some((rel, href))
}

/// A title as text: Atom and RSS titles may hold escaped markup.
fn plain_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An entry's `rel=alternate` link is its own (the first one); a
/// `rel=related` link is kept to tell a link blog's permalink from the
/// page it links to; `self`, `edit`, `enclosure`… are neither.
fn take_atom_link(e: &BytesStart, d: &mut Draft, line: usize) {
    match atom_link(e) {
        Some((rel, href)) if rel == "alternate" && d.link.is_none() => {
            d.link = Some((href, line));
        }
        Some((rel, href)) if rel == "related" && d.related.is_none() => {
            d.related = Some((href, line));
        }
        _ => {}
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
