//! Collect: posts in, citations out. Inputs are files, directories, `-` for
//! stdin and http(s) URLs; each is told apart by content (HTML, Markdown,
//! plain text, RSS/Atom, WordPress WXR, sitemap) and read by its own module;
//! `analyze` turns every format's blocks into `Citation`s.
//!
//! It never does network I/O for local inputs (only URL inputs and the URLs
//! a sitemap lists are fetched), never prints, and never holds the whole
//! corpus: posts are handed to the caller as they are parsed.

mod analyze;
mod bare;
mod dates;
mod feed;
mod html;
mod input;
pub mod listing;
mod markdown;
#[cfg(test)]
mod proptests;
mod remote;
mod text;
pub mod url;

use std::path::{Path, PathBuf};

use ::url::Url;
use rayon::prelude::*;
use scraper::Selector;
use serde::Serialize;

use crate::base::web::is_http;
pub use crate::config::CollectConfig;
use crate::error::Error;
use crate::model::{Citation, Kind, Skip};
use analyze::{Block, BlockKind, PostCtx};
use input::Format;

pub use html::main_text;

/// One post and the citations in its content.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Post {
    /// The path or URL as given, or a feed item's own link (for a
    /// link-blog entry its permalink), else `feed#guid`, else
    /// `feed#item-N`: never empty, the same on every run.
    pub name: String,
    /// The URL relative links were resolved against, when the post has one.
    pub base_url: Option<String>,
    /// When the post says it was published: RFC 3339 or `YYYY-MM-DD`.
    pub date: Option<String>,
    pub citations: Vec<Citation>,
    /// What the reader had to leave out of the post (markup nested too
    /// deep), one line each, for the user to be told.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// How many files are parsed in parallel before their posts are handed
/// over in input order: bounds memory whatever the corpus size.
const BATCH: usize = 64;

/// Sitemaps may list sitemaps; this deep and no deeper.
const MAX_SITEMAP_DEPTH: u8 = 3;

/// The collector's settings, checked once.
struct Ctx<'a> {
    config: &'a CollectConfig,
    selector: Option<Selector>,
    base_url: Option<Url>,
    /// `--root-dir` as a `file:` URL ending in `/`.
    root: Option<Url>,
}

impl<'a> Ctx<'a> {
    fn new(config: &'a CollectConfig) -> Result<Self, Error> {
        let selector = match &config.content_selector {
            Some(s) => Some(Selector::parse(s).map_err(|e| {
                Error::Usage(format!(
                    "--content-selector '{s}' is not a valid CSS selector: {e}"
                ))
            })?),
            None => None,
        };
        let base_url = match &config.base_url {
            Some(b) => Some(Url::parse(b).map_err(|e| {
                Error::Usage(format!("--base-url '{b}' is not an absolute URL: {e}"))
            })?),
            None => None,
        };
        let root = match &config.root_dir {
            Some(dir) => {
                let not_dir =
                    |why: String| Error::Usage(format!("--root-dir {}: {why}", dir.display()));
                if !dir.is_dir() {
                    return Err(not_dir("not a directory".into()));
                }
                let abs = std::path::absolute(dir).map_err(|e| not_dir(e.to_string()))?;
                Some(
                    Url::from_directory_path(&abs)
                        .map_err(|_| not_dir("cannot be written as a file: URL".into()))?,
                )
            }
            None => None,
        };
        Ok(Ctx {
            config,
            selector,
            base_url,
            root,
        })
    }
}

/// Checks the collect settings (content selector, base URL) without
/// collecting anything, so that a command can refuse bad flags up front.
pub fn validate(config: &CollectConfig) -> Result<(), Error> {
    Ctx::new(config).map(|_| ())
}

/// What reading one input gave.
enum Found {
    Post(Post),
    Error(Error),
    /// A URL a sitemap lists, to be fetched and collected in turn.
    Follow {
        url: String,
        depth: u8,
    },
}

/// Where a post's text came from.
struct Origin<'a> {
    name: &'a str,
    /// The post's own URL (a fetched page's final URL).
    url: Option<&'a Url>,
    /// The local file, for relative links that resolve to files.
    path: Option<&'a Path>,
    ext: Option<String>,
}

/// Collects every input; calls `on_post` for each post as soon as it is
/// parsed and `on_error` once per input that failed. Files are parsed on all
/// cores, in bounded batches, and handed over in input order.
pub fn collect(
    inputs: &[String],
    config: &CollectConfig,
    on_post: &mut dyn FnMut(Post),
    on_error: &mut dyn FnMut(Error),
) {
    let ctx = match Ctx::new(config) {
        Ok(c) => c,
        Err(e) => {
            on_error(e);
            return;
        }
    };
    let mut out = Out {
        on_post,
        on_error,
        remote: None,
    };
    let mut batch: Vec<(String, PathBuf)> = Vec::new();
    for input in inputs {
        if input == "-" {
            run_batch(&ctx, &mut batch, &mut out);
            let cap = config.max_file_size;
            match input::read_capped(std::io::stdin().lock(), cap) {
                Ok(bytes) => {
                    let origin = Origin {
                        name: "-",
                        url: None,
                        path: None,
                        ext: None,
                    };
                    let found = guarded("-", || read_post(&ctx, &origin, bytes, None));
                    out.take(&ctx, found);
                }
                Err(e) => (out.on_error)(Error::input("-", e)),
            }
            continue;
        }
        if is_http(input) {
            run_batch(&ctx, &mut batch, &mut out);
            out.fetch(&ctx, input, 0);
            continue;
        }
        let path = Path::new(input);
        match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => {
                let mut files = Vec::new();
                let mut errors = Vec::new();
                input::walk(path, &mut files, &mut |p, e| errors.push(Error::io(p, e)));
                if !errors.is_empty() {
                    run_batch(&ctx, &mut batch, &mut out);
                    for e in errors {
                        (out.on_error)(e);
                    }
                }
                batch.extend(files.into_iter().map(|f| (f.display().to_string(), f)));
            }
            Ok(_) => batch.push((input.clone(), path.to_path_buf())),
            Err(e) => {
                run_batch(&ctx, &mut batch, &mut out);
                (out.on_error)(Error::input(input.as_str(), e));
            }
        }
    }
    run_batch(&ctx, &mut batch, &mut out);
}

/// All posts and all errors, in input order.
pub fn collect_all(inputs: &[String], config: &CollectConfig) -> (Vec<Post>, Vec<Error>) {
    let mut posts = Vec::new();
    let mut errors = Vec::new();
    collect(inputs, config, &mut |p| posts.push(p), &mut |e| {
        errors.push(e)
    });
    (posts, errors)
}

/// The caller's callbacks, and the HTTP client once a URL needs it.
struct Out<'o> {
    on_post: &'o mut dyn FnMut(Post),
    on_error: &'o mut dyn FnMut(Error),
    remote: Option<remote::Remote>,
}

impl Out<'_> {
    fn take(&mut self, ctx: &Ctx, found: Vec<Found>) {
        for f in found {
            match f {
                Found::Post(p) => (self.on_post)(p),
                Found::Error(e) => (self.on_error)(e),
                Found::Follow { url, depth } => self.fetch(ctx, &url, depth),
            }
        }
    }

    /// Fetches a post, feed or sitemap by URL and collects it.
    fn fetch(&mut self, ctx: &Ctx, url: &str, depth: u8) {
        if self.remote.is_none() {
            match remote::Remote::new() {
                Ok(r) => self.remote = Some(r),
                Err(e) => {
                    (self.on_error)(Error::input(url, e));
                    return;
                }
            }
        }
        let Some(remote) = &self.remote else {
            return;
        };
        let fetched = match remote.get(url, ctx.config.max_file_size) {
            Ok(f) => f,
            Err(e) => {
                (self.on_error)(Error::input(url, e));
                return;
            }
        };
        let ext = fetched
            .final_url
            .path_segments()
            .and_then(|mut s| s.next_back().map(str::to_string))
            .and_then(|last| input::extension(Path::new(&last)));
        let origin = Origin {
            name: url,
            url: Some(&fetched.final_url),
            path: None,
            ext,
        };
        let mut found = guarded(url, || {
            read_post(ctx, &origin, fetched.body, fetched.charset.as_deref())
        });
        for f in &mut found {
            if let Found::Follow { depth: d, .. } = f {
                *d = depth + 1;
            }
        }
        if depth >= MAX_SITEMAP_DEPTH && found.iter().any(|f| matches!(f, Found::Follow { .. })) {
            (self.on_error)(Error::input(url, "sitemaps nested too deep; not followed"));
            found.retain(|f| !matches!(f, Found::Follow { .. }));
        }
        self.take(ctx, found);
    }
}

/// Parses a run of files on all cores and hands their posts over in input
/// order. A coordinating thread parses chunk after chunk in parallel while
/// this thread hands the previous chunk over, and the channel between them
/// holds one chunk: at most three chunks of posts are in memory at once.
fn run_batch(ctx: &Ctx, batch: &mut Vec<(String, PathBuf)>, out: &mut Out) {
    let files = std::mem::take(batch);
    if files.len() <= 1 {
        for (name, path) in &files {
            let found = guarded(name, || read_file(ctx, name, path));
            out.take(ctx, found);
        }
        return;
    }
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Vec<Found>>>(1);
        let files = &files;
        scope.spawn(move || {
            for chunk in files.chunks(BATCH) {
                let parsed: Vec<Vec<Found>> = chunk
                    .par_iter()
                    .map(|(name, path)| guarded(name, || read_file(ctx, name, path)))
                    .collect();
                if tx.send(parsed).is_err() {
                    return;
                }
            }
        });
        for parsed in rx {
            for found in parsed {
                out.take(ctx, found);
            }
        }
    });
}

thread_local! {
    /// Set while this thread reads one input under `guarded`.
    static READING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether the current thread is reading an input, where a panic becomes
/// that input's error. The binary's panic hook asks, to keep the default
/// multi-line panic message off the terminal for what ends as one line.
pub fn is_reading_input() -> bool {
    READING.with(|r| r.get())
}

/// Reads one input as the last line of defence: a panic while reading it
/// (a bug: no input should cause one) becomes that input's one error, and
/// the other inputs are still collected.
fn guarded(name: &str, read: impl FnOnce() -> Vec<Found>) -> Vec<Found> {
    let was = READING.with(|r| r.replace(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(read));
    READING.with(|r| r.set(was));
    result.unwrap_or_else(|payload| {
        let what = crate::base::panic_message(payload.as_ref());
        vec![Found::Error(Error::input(
            name,
            format!(
                "internal error while reading ({what}); this input was skipped, the others \
                 were read. This is a bug in citeguard: please report it with the input"
            ),
        ))]
    })
}

fn read_file(ctx: &Ctx, name: &str, path: &Path) -> Vec<Found> {
    let bytes = match input::read_file(path, ctx.config.max_file_size) {
        Ok(b) => b,
        Err(e) => return vec![Found::Error(Error::input(name, e))],
    };
    let origin = Origin {
        name,
        url: None,
        path: Some(path),
        ext: input::extension(path),
    };
    read_post(ctx, &origin, bytes, None)
}

/// Decodes, tells the format, and reads the posts in one input's bytes.
fn read_post(ctx: &Ctx, origin: &Origin, bytes: Vec<u8>, charset: Option<&str>) -> Vec<Found> {
    let fail = |e: String| vec![Found::Error(Error::input(origin.name, e))];
    let text = match crate::base::text::decode_text(bytes, charset) {
        Ok(t) => t,
        Err(e) => return fail(e),
    };
    let format = match input::sniff(&text, origin.ext.as_deref()) {
        Ok(f) => f,
        Err(e) => return fail(e),
    };
    match format {
        Format::Html => match html_post(ctx, origin, &text) {
            Ok(p) => vec![Found::Post(p)],
            Err(e) => fail(e),
        },
        Format::Markdown => vec![Found::Post(markdown_post(ctx, origin, &text))],
        Format::Text => vec![Found::Post(text_post(ctx, origin, &text))],
        Format::Rss | Format::Atom | Format::Wxr => feed_posts(ctx, origin, &text, format),
        Format::Sitemap => match feed::sitemap(&text) {
            Ok(urls) => urls
                .into_iter()
                .map(|url| Found::Follow { url, depth: 0 })
                .collect(),
            Err(e) => fail(e),
        },
    }
}

/// The `file://` URL of a local post, so that its relative links still
/// name something when the post gives no base of its own.
fn file_url(path: Option<&Path>) -> Option<Url> {
    let abs = std::path::absolute(path?).ok()?;
    Url::from_file_path(abs).ok()
}

/// Builds a post: resolves its citations against `base`, and says which
/// cannot be fetched as they are written.
fn finish_post(
    ctx: &Ctx,
    name: &str,
    base: Option<Url>,
    date: Option<String>,
    blocks: &[Block],
) -> Post {
    let mut citations = Vec::new();
    analyze::citations(
        &PostCtx {
            post: name,
            base: base.as_ref(),
        },
        blocks,
        &mut citations,
    );
    for c in &mut citations {
        settle(c, base.as_ref(), ctx.root.as_ref());
    }
    Post {
        name: name.to_string(),
        base_url: base.filter(|u| is_http(u.as_str())).map(String::from),
        date,
        citations,
        notes: Vec::new(),
    }
}

/// Makes a citation's URL one a user would recognise, or says why there
/// is none to fetch: template syntax is `template`; `javascript:` is a URL
/// of its own scheme (skipped as such), not an empty link; and when the
/// post has no web address (a local file or stdin with no `--base-url`),
/// `//host/x` is taken as https, `/x` names a file under `--root-dir`, and
/// what is left with nothing to resolve against is `unresolved` rather
/// than a mangled `file:///x`.
fn settle(c: &mut Citation, base: Option<&Url>, root: Option<&Url>) {
    let Some(raw) = c.raw.as_deref().map(str::trim) else {
        return;
    };
    let unfetchable = |c: &mut Citation, skip: Skip| {
        c.url = None;
        c.missing = None;
        c.skip = Some(skip);
    };
    if url::is_template(raw) {
        return unfetchable(c, Skip::Template);
    }
    if raw
        .get(..11)
        .is_some_and(|p| p.eq_ignore_ascii_case("javascript:"))
    {
        if let Ok(u) = Url::parse(raw) {
            c.url = Some(u.into());
            c.raw = None;
            c.missing = None;
            if c.kind == Kind::Unlinked {
                c.kind = Kind::Link;
            }
        }
        return;
    }
    if base.is_some_and(|b| is_http(b.as_str())) {
        return;
    }
    match url::relative(raw) {
        Some(url::Relative::Scheme) => {
            c.url = Url::parse(&format!("https:{raw}")).ok().map(String::from);
        }
        Some(url::Relative::Root) => match root.and_then(|r| url::under_root(raw, r)) {
            Some(u) => c.url = Some(u.into()),
            None => unfetchable(c, Skip::Unresolved),
        },
        Some(url::Relative::Document) if base.is_none() => unfetchable(c, Skip::Unresolved),
        _ => {}
    }
}

/// The base for relative links: the post's own `<base>`, then its URL, then
/// `--base-url`, then its file.
fn pick_base(
    ctx: &Ctx,
    origin: &Origin,
    base_href: Option<&str>,
    own_url: Option<Url>,
) -> Option<Url> {
    let fallback = own_url
        .or_else(|| origin.url.cloned())
        .or_else(|| ctx.base_url.clone());
    let fallback = fallback.or_else(|| file_url(origin.path));
    match base_href {
        Some(b) => analyze::resolve(b, fallback.as_ref()).or(fallback),
        None => fallback,
    }
}

fn html_post(ctx: &Ctx, origin: &Origin, text: &str) -> Result<Post, String> {
    let page = html::parse(text);
    let rule = html::ContentRule {
        selector: ctx.selector.as_ref(),
        all_links: ctx.config.all_links,
        fragment: false,
    };
    let ex = html::extract(&page, &rule, 0)?;
    // A fetched page's URL is what it is; a saved page says where it lives.
    let own = match origin.url {
        Some(u) => Some(u.clone()),
        None => ex
            .meta
            .canonical
            .as_deref()
            .and_then(|c| Url::parse(c.trim()).ok())
            .filter(|u| is_http(u.as_str())),
    };
    let base = pick_base(ctx, origin, ex.meta.base_href.as_deref(), own);
    let mut post = finish_post(ctx, origin.name, base, ex.meta.date, &ex.blocks);
    post.notes.extend(page.cut.map(|c| c.to_string()));
    Ok(post)
}

fn markdown_post(ctx: &Ctx, origin: &Origin, text: &str) -> Post {
    let fm = markdown::front_matter(text);
    let site = fm
        .base
        .as_deref()
        .and_then(|b| Url::parse(b.trim()).ok())
        .or_else(|| ctx.base_url.clone());
    let own = match fm.url.as_deref() {
        Some(u) => match Url::parse(u.trim()) {
            Ok(abs) => Some(abs),
            Err(_) => site.as_ref().and_then(|s| s.join(u.trim()).ok()),
        },
        None => site,
    };
    let base = pick_base(ctx, origin, None, own);
    let date = fm.date.or_else(|| {
        // Jekyll names posts `YYYY-MM-DD-title.md`.
        let stem = origin.path?.file_name()?.to_string_lossy().into_owned();
        stem.get(..10).and_then(dates::normalize)
    });
    finish_post(ctx, origin.name, base, date, &markdown::blocks(text, 0))
}

fn text_post(ctx: &Ctx, origin: &Origin, t: &str) -> Post {
    let base = pick_base(ctx, origin, None, None);
    finish_post(ctx, origin.name, base, text::date(t), &text::blocks(t, 0))
}

/// Each item of a feed or WXR export is a post, named by its own page's
/// URL, else by the feed and the item's guid, else by the feed and the
/// item's position: never empty, the same on every run.
fn feed_posts(ctx: &Ctx, origin: &Origin, t: &str, format: Format) -> Vec<Found> {
    let mut found = Vec::new();
    feed::items(t, format, origin.url, &mut |item| match item {
        Ok(item) => found.push(feed_post(ctx, origin, item)),
        Err(e) => found.push(Found::Error(Error::input(origin.name, e))),
    });
    found
}

fn feed_post(ctx: &Ctx, origin: &Origin, item: feed::Item) -> Found {
    let site = origin.url.or(ctx.base_url.as_ref());
    let own = item
        .link
        .as_deref()
        .and_then(|l| analyze::resolve(l, site))
        .filter(|u| is_http(u.as_str()));
    // An absolute link names the post as written; a relative one as
    // resolved against the feed's URL or --base-url, else after the feed.
    let name = match (&item.link, &item.guid) {
        (Some(l), _) if Url::parse(l).is_ok() => l.clone(),
        (Some(l), _) => own
            .as_ref()
            .map_or_else(|| format!("{}#{l}", origin.name), Url::to_string),
        (None, Some(g)) => format!("{}#{g}", origin.name),
        (None, None) => format!("{}#item-{}", origin.name, item.index),
    };
    let page = html::parse(&item.content);
    let rule = html::ContentRule {
        selector: None,
        all_links: ctx.config.all_links,
        fragment: true,
    };
    let item_origin = Origin {
        name: &name,
        url: origin.url,
        path: origin.path,
        ext: None,
    };
    match html::extract(&page, &rule, item.content_line.saturating_sub(1)) {
        Ok(mut ex) => {
            let base = pick_base(ctx, &item_origin, ex.meta.base_href.as_deref(), own);
            if let Some((linked, line)) = &item.linked {
                cite_linked_page(
                    &mut ex.blocks,
                    linked,
                    *line,
                    item.title.as_deref(),
                    base.as_ref(),
                );
            }
            Found::Post(finish_post(ctx, &name, base, item.date, &ex.blocks))
        }
        Err(e) => Found::Error(Error::input(name.as_str(), e)),
    }
}

/// A link-blog entry is a post about the page it links to: that page is a
/// citation of the post, and the passages the entry quotes without naming
/// a source of their own (no link in the quote or in the sentence before
/// it) are quoted from it.
fn cite_linked_page(
    blocks: &mut Vec<Block>,
    linked: &str,
    line: usize,
    title: Option<&str>,
    base: Option<&Url>,
) {
    let target = analyze::resolve(linked, base);
    let is_target = |raw: &str| target.is_some() && analyze::resolve(raw, base) == target;
    let links = |b: &Block| {
        b.cites
            .iter()
            .filter(|c| c.kind == Kind::Link && !analyze::is_placeholder(&c.raw))
            .map(|c| c.raw.clone())
            .collect::<Vec<_>>()
    };
    let mut cited = blocks
        .iter()
        .any(|b| b.cites.iter().any(|c| is_target(&c.raw)));
    for i in 0..blocks.len() {
        if blocks[i].kind != BlockKind::Quote || blocks[i].cite_attr.is_some() {
            continue;
        }
        if !links(&blocks[i]).is_empty() {
            continue;
        }
        let intro_links = match i.checked_sub(1).map(|p| &blocks[p]) {
            Some(prev) if prev.kind == BlockKind::Para => links(prev),
            _ => Vec::new(),
        };
        if intro_links.iter().all(|l| is_target(l)) {
            blocks[i].cite_attr = Some((linked.to_string(), line));
            cited = true;
        }
    }
    if !cited {
        let text = title.unwrap_or_default().to_string();
        let mut block = Block::new(BlockKind::Para, line);
        block.cites.push(analyze::Cite {
            raw: linked.to_string(),
            text: text.clone(),
            kind: Kind::Link,
            line,
            at: 0,
            attribution: false,
        });
        block.text = text;
        blocks.insert(0, block);
    }
}
