//! Self-contained offline pages: requisites found, inlined, scripts out.
//!
//! This module owns the "offline copy people can open": from a stored HTML
//! snapshot and its stored requisites (style sheets, images, fonts, icons),
//! one HTML file that renders in a browser with no network at all.
//! `requisites` says what a snapshot needs; the caller fetches and stores
//! those (and, for each style sheet, what `css_requisites` finds in it);
//! `render_offline` is then handed a lookup over what was stored.
//!
//! It never fetches anything and never reads files. The page it renders must
//! never load anything, navigate or run anything when opened: every
//! requisite becomes a `data:` URI or disappears, scripts, forms and frames
//! go, everything from the page passes an allow-list sanitizer last, and a
//! Content-Security-Policy forbids whatever a rule here missed.
//!
//! The page is parsed with html5ever (through scraper) and cleaned as a
//! tree; style sheets are rewritten as text, by the scanner in `css`; the
//! sanitizer (ammonia, on html5ever too) has the last word on the markup.
//!
//! One file per concern:
//! - `requisites` — what a page (`requisites`) or a style sheet
//!   (`css_requisites`) needs;
//! - `policy` — the rules both follow: what goes, what is a requisite,
//!   what is a tracker or a script URL, how references resolve;
//! - `render` — the walk that cleans the tree and rewrites attributes;
//! - `inline` — stored requisites as `data:` URIs and inlined style sheets;
//! - `frame` — the document around the page: charset, policy, banner;
//! - `sanitize` — the allow-list every part from the page passes last;
//! - `css` — the style sheet scanner; `srcset` — candidate lists;
//! - `media` — media types and style sheet text from stored bytes;
//! - `tree` — parsing to a consistent tree, and small tree edits.

mod css;
mod frame;
mod inline;
mod media;
mod policy;
mod render;
mod requisites;
mod sanitize;
mod srcset;
mod tree;

use url::Url;

pub use render::render_offline;
pub use requisites::{css_requisites, requisites};

/// The allow-list every part of an offline copy that came from the page
/// passes last (see `sanitize.rs`). Public so that its promise can be
/// tested from outside: what it returns parses back to itself, and
/// sanitizing it again changes nothing.
pub fn sanitize_fragment(html: &str) -> String {
    sanitize::fragment(html)
}

/// What a requisite is for; it decides how the page uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequisiteKind {
    Stylesheet,
    Image,
    Font,
    Icon,
}

/// A resource a page needs to render: absolute, http or https, without a
/// fragment (servers never see fragments, so the store keys on the rest).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Requisite {
    pub url: Url,
    pub kind: RequisiteKind,
}

/// What the banner at the top of an offline copy says.
#[derive(Debug, Clone, Copy)]
pub struct Banner<'a> {
    /// The URL the snapshot was taken of.
    pub url: &'a str,
    /// When, as RFC 3339.
    pub taken_at: &'a str,
    /// The snapshot's SHA-256, in hex.
    pub sha256: &'a str,
    pub note: Option<&'a str>,
}

/// What the store holds for a requisite: its content type, if known, and
/// its bytes. `render_offline`'s lookup answers `None` for what was never
/// stored.
pub type Stored = (Option<String>, Vec<u8>);

pub(super) type Lookup<'a> = dyn Fn(&Url) -> Option<Stored> + 'a;

/// The policy of every offline copy: nothing from the network, ever. Inline
/// styles are allowed because inlined style sheets are inline styles.
/// Forms and `<base>` are named too: `default-src` does not govern where a
/// form goes or what a base URL may be.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; img-src data:; \
    style-src 'unsafe-inline' data:; font-src data:; media-src data:; \
    form-action 'none'; base-uri 'none'";
