//! The plain types that flow through the pipeline: a `Citation` (collect),
//! a `Verdict` with its `Reason` (fetch, compare), and the run's `Report`.
//!
//! Every stage depends on these types; this module, part of the ground,
//! imports nothing but `base`.
//! Strings that appear in the reports are fixed by `../shared/DESIGN.md`:
//! each enum's are spelled once, in its `names!` table, from which serde,
//! `as_str`, `FromStr` and `Display` all come.

use serde::{Deserialize, Serialize};

use crate::base::names::names;

names! {
    /// What kind of thing a citation is, in the report's words.
    #[derive(PartialOrd, Ord)]
    pub enum Kind: "kind" {
        /// `<a href>`, Markdown inline/reference links and autolinks, footnote links.
        Link = "link",
        /// `<img src>`, `srcset`, `<video>`, `<audio>`, `<source>`.
        Image = "image",
        /// `<iframe>`, `<embed>`, `<object>`.
        Embed = "embed",
        /// `<blockquote cite>`, `<q cite>`, `<ins cite>`, `<del cite>`.
        Quote = "quote",
        /// A URL written out in the text, not marked up as a link.
        BareUrl = "bare-url",
        /// A cited source with nothing behind it: an attribution without a link,
        /// an unattributed blockquote, an empty or placeholder href.
        Unlinked = "unlinked",
    }
}

/// One cited source, as it stands in one post.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Citation {
    /// The post: a path or URL as the user gave it (feed items and WXR
    /// items use the item's own link, else `file#guid`, else `file#item-N`).
    pub post: String,
    /// 1-based line in the source file where the citation starts.
    pub line: usize,
    /// The URL as resolved against the post's base (fragment kept), or
    /// `None` for an unlinked citation.
    pub url: Option<String>,
    /// Anchor text, alt/title, or the attribution phrase of an unlinked one.
    pub text: String,
    pub kind: Kind,
    /// The sentence around the citation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// The passage the post quotes from this source, when a blockquote is
    /// attributed to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote: Option<String>,
    /// Why an unlinked citation has no URL: `no-link` or `empty-link`.
    /// `None` for citations with a URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing: Option<Missing>,
    /// The raw href/src as written, when it differs from `url` or when
    /// there is no usable URL (`#`, a template, a relative link with
    /// nothing to resolve it against).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
    /// Why the collector already knows this citation is not to be fetched
    /// (`check` reports it `skipped` with this reason); `url` is then
    /// `None` and `raw` says what was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip: Option<Skip>,
}

names! {
    /// Why a citation is `skipped` before any fetching, as the collector
    /// finds it: each is also a `Reason` of the same name.
    pub enum Skip: "skip reason" {
        /// Template syntax in the href (`{{ … }}`, `{% … %}`, `<%= … %>`,
        /// `${…}`): the post's source was read, not the page it becomes.
        Template = "template",
        /// A relative link with nothing to resolve it against: a
        /// root-relative link in a local file with no `--base-url` or
        /// `--root-dir`, a relative link read from stdin.
        Unresolved = "unresolved",
    }
}

impl Skip {
    /// The reason a `skipped` row gives.
    pub fn reason(self) -> Reason {
        match self {
            Skip::Template => Reason::Template,
            Skip::Unresolved => Reason::Unresolved,
        }
    }
}

names! {
    /// Why a citation has nothing behind it.
    pub enum Missing: "missing reason" {
        NoLink = "no-link",
        EmptyLink = "empty-link",
    }
}

names! {
    /// The verdict strings of the contract. The order they are declared in
    /// is their order in `BTreeMap`s; reports list them `WORST_FIRST`.
    #[derive(PartialOrd, Ord)]
    pub enum Verdict: "verdict" {
        Ok = "ok",
        Dead = "dead",
        Changed = "changed",
        Missing = "missing",
        Unreachable = "unreachable",
        Skipped = "skipped",
    }
}

impl Verdict {
    /// Every verdict, worst first: the one order in which every report
    /// lists, groups and sorts verdicts. Of the flagged ones, a dead source
    /// is worse than a citation with nothing behind it, which is worse than
    /// a changed source, which is worse than one that failed this time;
    /// then `skipped` (on purpose) and `ok`.
    pub const WORST_FIRST: [Verdict; 6] = [
        Verdict::Dead,
        Verdict::Missing,
        Verdict::Changed,
        Verdict::Unreachable,
        Verdict::Skipped,
        Verdict::Ok,
    ];

    /// Whether a citation with this verdict needs attention: everything but
    /// `ok` and `skipped`.
    pub fn is_flagged(self) -> bool {
        !matches!(self, Verdict::Ok | Verdict::Skipped)
    }

    /// Whether this verdict fails the run, per `--fail-on`.
    pub fn fails(self, fail_on: &[Verdict]) -> bool {
        fail_on.contains(&self)
    }

    /// The place in `WORST_FIRST`, counted from the harmless end (`ok` is
    /// 0, `dead` 5): a higher rank sorts first.
    pub fn rank(self) -> u8 {
        let place = Verdict::WORST_FIRST
            .iter()
            .position(|v| *v == self)
            .unwrap_or_default();
        (Verdict::WORST_FIRST.len() - 1 - place) as u8
    }

    /// How bad a verdict is, for "got worse since the last run": its rank
    /// when flagged; `ok` and `skipped` alike are 0.
    pub fn severity(self) -> u8 {
        if self.is_flagged() { self.rank() } else { 0 }
    }
}

names! {
    /// The reason strings of the contract (extendable, never renamed).
    #[derive(PartialOrd, Ord)]
    pub enum Reason: "reason" {
        // ok
        Ok = "ok",
        Moved = "moved",
        // dead
        HttpStatus = "http-status",
        Dns = "dns",
        /// Older builds wrote `soft404` in JSON reports; still read.
        Soft404 = "soft-404" | "soft404",
        RedirectToRoot = "redirect-to-root",
        PersistentFailure = "persistent-failure",
        /// A redirect to another scheme (`file:`, `data:`, `ftp:`,
        /// `mailto:`): no page at the end of the link for a reader.
        RedirectScheme = "redirect-scheme",
        /// A local file a post links to (a relative link in a local post,
        /// or a root-relative one under `--root-dir`) does not exist.
        FileNotFound = "file-not-found",
        // changed
        ContentDrift = "content-drift",
        QuoteMissing = "quote-missing",
        TypeChanged = "type-changed",
        // missing
        NoLink = "no-link",
        EmptyLink = "empty-link",
        SnapshotLost = "snapshot-lost",
        /// The link is written but is no URL (a port out of range, a
        /// malformed host).
        InvalidUrl = "invalid-url",
        // unreachable
        Timeout = "timeout",
        Refused = "refused",
        Reset = "reset",
        Tls = "tls",
        /// The resolver failed this time (SERVFAIL, timeout): not proof the
        /// name is gone.
        DnsTemporary = "dns-temporary",
        Http5xx = "http-5xx",
        Http429 = "http-429",
        Blocked = "blocked",
        /// A redirect chain that loops or exceeds the hop limit.
        RedirectLoop = "redirect-loop",
        /// Any other transport failure (a protocol error, a body cut short).
        Network = "network",
        // skipped
        Excluded = "excluded",
        Robots = "robots",
        Scheme = "scheme",
        /// A URL longer than citeguard fetches (8 KiB).
        UrlTooLong = "url-too-long",
        /// A public page's redirect or requisite that leads to a loopback,
        /// private, link-local or unique-local address.
        PrivateAddress = "private-address",
        /// See `Skip::Template`.
        Template = "template",
        /// See `Skip::Unresolved`.
        Unresolved = "unresolved",
    }
}

impl Reason {
    /// Whether this reason is a transient failure: one that must never be
    /// reported as `dead` on one try.
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            Reason::Timeout
                | Reason::Refused
                | Reason::Reset
                | Reason::Tls
                | Reason::DnsTemporary
                | Reason::Http5xx
                | Reason::Http429
                | Reason::RedirectLoop
                | Reason::Network
        )
    }
}

names! {
    /// How a citation's verdict moved since the previous run.
    pub enum Change: "change" {
        /// Flagged now, and worse than last time (or not there last time).
        New = "new",
        /// Flagged now, and no better and no worse than last time.
        Still = "still",
        /// Flagged last time, fine now.
        Recovered = "recovered",
        /// Fine then and now.
        Unchanged = "unchanged",
    }
}

/// One hop of a redirect chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redirect {
    pub url: String,
    pub status: u16,
}

/// What fetching one source found: the evidence behind a verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// The source URL (normalised, no fragment).
    pub url: String,
    pub verdict: Verdict,
    pub reason: Reason,
    /// The final HTTP status, if any response came back.
    pub status: Option<u16>,
    pub final_url: Option<String>,
    #[serde(default)]
    pub redirects: Vec<Redirect>,
    /// The content type of the final response, without parameters.
    pub content_type: Option<String>,
    /// How many attempts were made (retries included).
    pub attempts: u32,
    /// Wall time of the whole check in milliseconds.
    pub elapsed_ms: u64,
    /// A short human-readable detail: the transport error, the soft-404
    /// phrase that matched, the robots rule.
    pub detail: Option<String>,
    /// When the check finished (RFC 3339).
    pub checked_at: String,
}

/// One row of the report: a citation and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CitationResult {
    pub post: String,
    pub line: usize,
    pub url: Option<String>,
    pub text: String,
    pub kind: Kind,
    pub verdict: Verdict,
    pub reason: Reason,
    pub status: Option<u16>,
    pub final_url: Option<String>,
    pub similarity: Option<f64>,
    pub quote_found: Option<bool>,
    /// sha256 of the baseline body, or `None`.
    pub snapshot: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redirects: Vec<Redirect>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote: Option<String>,
    /// What the store remembers of the source across runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<Box<SourceHistory>>,
    /// How the verdict moved since the previous run (`new`, `still`,
    /// `recovered`, `unchanged`); `None` without a store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<Change>,
    /// The offline copies: the baseline (what was cited) and the latest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offline: Option<Box<Offline>>,
    /// For `changed`: a word-level diff of the baseline's main text against
    /// the live one, long unchanged stretches shortened.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diff: Vec<DiffSpan>,
    /// For `dead`: the archived copy a Memento TimeGate offers as a
    /// replacement, closest to the post's date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived: Option<Box<Memento>>,
    /// The post's publication date when the collector found one (RFC 3339
    /// date or date-time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_date: Option<String>,
    /// The cited URL carried credentials (`user:password@`), which every
    /// report removes (`report::redact`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub credentials: bool,
}

/// A source's history across runs, as the JSON report shows it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SourceHistory {
    /// RFC 3339.
    pub first_seen: Option<Stamp>,
    pub last_ok: Option<Stamp>,
    pub consecutive_failures: u32,
    pub failing_since: Option<Stamp>,
    /// How many times the source has been checked, this run included.
    pub checks: u32,
}

/// A time stamp of a report (RFC 3339), read as a `str`. citeguard's own
/// (UTC, whole seconds: `2026-11-28T19:43:19Z`, 20 bytes) are held in
/// place, without an allocation of their own: a run of 100,000 sources
/// keeps two or three in each source's history until its rows are built.
/// Any other text (a report written by another tool) is kept as read.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Stamp(StampText);

#[derive(Clone, PartialEq, Eq, Hash)]
enum StampText {
    Inline([u8; 20]),
    Other(Box<str>),
}

impl Stamp {
    pub fn as_str(&self) -> &str {
        match &self.0 {
            // Only ever a whole `str`'s bytes (`From<&str>`).
            StampText::Inline(b) => std::str::from_utf8(b).unwrap_or_default(),
            StampText::Other(s) => s,
        }
    }
}

impl std::ops::Deref for Stamp {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for Stamp {
    fn from(s: &str) -> Stamp {
        match <[u8; 20]>::try_from(s.as_bytes()) {
            Ok(b) => Stamp(StampText::Inline(b)),
            Err(_) => Stamp(StampText::Other(s.into())),
        }
    }
}

impl From<String> for Stamp {
    fn from(s: String) -> Stamp {
        Stamp::from(s.as_str())
    }
}

impl std::fmt::Debug for Stamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for Stamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Stamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Stamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Stamp, D::Error> {
        String::deserialize(d).map(Stamp::from)
    }
}

/// Where the offline copies of a source are.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Offline {
    /// sha256 of the baseline body.
    pub baseline: Option<String>,
    /// When the baseline was taken (RFC 3339).
    pub baseline_at: Option<String>,
    /// sha256 of the latest body.
    pub latest: Option<String>,
    pub latest_at: Option<String>,
    /// The command that prints the offline copy.
    pub show: String,
    /// Path of the baseline object, relative to the store.
    pub path: Option<String>,
    /// The baseline as a self-contained page written next to an HTML
    /// report, relative to the report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
}

/// One stretch of a word-level diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffSpan {
    /// `equal`, `delete` (only in the baseline) or `insert` (only live).
    pub op: DiffOp,
    pub text: String,
}

names! {
    /// What a stretch of a diff is.
    pub enum DiffOp: "diff op" {
        Equal = "equal",
        Delete = "delete",
        Insert = "insert",
    }
}

/// An archived copy of a page (RFC 7089).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Memento {
    pub url: String,
    /// RFC 3339.
    pub datetime: String,
}

impl CitationResult {
    /// A row with its identity and verdict; the evidence fields empty.
    pub fn new(
        post: impl Into<String>,
        line: usize,
        url: Option<String>,
        text: impl Into<String>,
        kind: Kind,
        verdict: Verdict,
        reason: Reason,
    ) -> Self {
        CitationResult {
            post: post.into(),
            line,
            url,
            text: text.into(),
            kind,
            verdict,
            reason,
            status: None,
            final_url: None,
            similarity: None,
            quote_found: None,
            snapshot: None,
            redirects: Vec::new(),
            detail: None,
            context: None,
            quote: None,
            history: None,
            change: None,
            offline: None,
            diff: Vec::new(),
            archived: None,
            post_date: None,
            credentials: false,
        }
    }
}

/// Counts per verdict, as in the contract's `summary`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub citations: usize,
    pub sources: usize,
    pub ok: usize,
    pub dead: usize,
    pub changed: usize,
    pub missing: usize,
    pub unreachable: usize,
    pub skipped: usize,
}

impl Summary {
    pub fn count(&mut self, verdict: Verdict) {
        self.citations += 1;
        *match verdict {
            Verdict::Ok => &mut self.ok,
            Verdict::Dead => &mut self.dead,
            Verdict::Changed => &mut self.changed,
            Verdict::Missing => &mut self.missing,
            Verdict::Unreachable => &mut self.unreachable,
            Verdict::Skipped => &mut self.skipped,
        } += 1;
    }

    pub fn get(&self, verdict: Verdict) -> usize {
        match verdict {
            Verdict::Ok => self.ok,
            Verdict::Dead => self.dead,
            Verdict::Changed => self.changed,
            Verdict::Missing => self.missing,
            Verdict::Unreachable => self.unreachable,
            Verdict::Skipped => self.skipped,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunInfo {
    pub id: String,
    pub started_at: String,
    pub finished_at: String,
}

/// The whole report of one run: what every output format renders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub version: u32,
    pub run: RunInfo,
    pub summary: Summary,
    pub citations: Vec<CitationResult>,
    /// Citations flagged last run and fine now (with a store).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recovered: Vec<Recovered>,
    /// With `--new-only`: the citations still flagged from an earlier run,
    /// listed briefly instead of in full.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub still: Vec<StillBroken>,
    /// The store the run wrote to, when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<String>,
}

/// A citation flagged before and still flagged, left out of a `--new-only`
/// report's listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StillBroken {
    pub post: String,
    pub line: usize,
    pub url: Option<String>,
    pub verdict: Verdict,
    pub reason: Reason,
    /// When its failures began (RFC 3339), when the store knows.
    pub since: Option<String>,
}

/// A citation that was flagged last run and is fine now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recovered {
    pub post: String,
    pub url: String,
    /// The verdict it had before.
    pub was: Verdict,
}

impl Report {
    pub const VERSION: u32 = 1;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamp_reads_back_as_written_in_place_or_not() {
        for text in [
            "2026-11-28T19:43:19Z",
            "2026-11-28T19:43:19+01:00",
            "",
            "été 2026",
        ] {
            let stamp = Stamp::from(text);
            assert_eq!(stamp.as_str(), text);
            let json = serde_json::to_string(&stamp).unwrap_or_default();
            assert_eq!(json, serde_json::to_string(text).unwrap_or_default());
            let back: Option<Stamp> = serde_json::from_str(&json).ok();
            assert_eq!(back.as_deref(), Some(text));
        }
        assert!(matches!(
            Stamp::from("2026-11-28T19:43:19Z").0,
            StampText::Inline(_)
        ));
        assert_eq!(
            std::mem::size_of::<Option<Stamp>>(),
            std::mem::size_of::<String>()
        );
    }

    #[test]
    fn worst_first_holds_every_verdict_once_and_ranks_fall() {
        let mut all = Verdict::WORST_FIRST.to_vec();
        all.sort();
        assert_eq!(all, Verdict::ALL);
        let ranks: Vec<u8> = Verdict::WORST_FIRST.iter().map(|v| v.rank()).collect();
        assert_eq!(ranks, [5, 4, 3, 2, 1, 0]);
        let flagged: Vec<Verdict> = Verdict::WORST_FIRST
            .into_iter()
            .filter(|v| v.is_flagged())
            .collect();
        assert_eq!(flagged, Verdict::WORST_FIRST[..4]);
        assert_eq!(Verdict::Ok.severity(), Verdict::Skipped.severity());
        assert!(Verdict::Dead.fails(&[Verdict::Dead]) && !Verdict::Dead.fails(&[]));
    }
}
