//! Where the store meets the check pipeline: the `SourceHook` trait the
//! pipeline calls for each fetched source, what a hook returns for it
//! (`SourceOutcome`, `Evidence`), the hook that keeps nothing (`NoStore`),
//! and the per-page budget of requisites both sides keep to.
//!
//! It lives in the store because the store implements it and `check`,
//! above, only calls it. It never reads or writes the store itself.

use crate::compare::QuoteFinding;
use crate::error::Result;
use crate::fetch::{Fetched, Validators};
use crate::model::{Check, DiffSpan, Offline, SourceHistory};

/// How many requisites one run fetches and keeps at most per page: the
/// offline copy's size budget, so a gallery page cannot fill the disk.
pub const REQUISITES_PER_PAGE: usize = 48;

/// What the store adds to a source's check: the comparison with the
/// baseline and where the offline copies are.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    pub similarity: Option<f64>,
    /// Each quoted passage of the citations of this source, and where it
    /// was found.
    pub quotes: Vec<(String, QuoteFinding)>,
    /// sha256 of the baseline body.
    pub baseline: Option<String>,
    /// Boxed, as `history`: a run holds one `Evidence` per source, and
    /// most sources have neither.
    pub offline: Option<Box<Offline>>,
    pub history: Option<Box<SourceHistory>>,
    pub diff: Vec<DiffSpan>,
}

/// What the hook made of one fetched source.
#[derive(Debug, Clone)]
pub struct SourceOutcome {
    pub check: Check,
    pub evidence: Evidence,
    /// Page requisites (stylesheets, images, fonts) to fetch for the
    /// offline copy.
    pub requisites: Vec<String>,
}

impl SourceOutcome {
    pub fn plain(check: Check) -> SourceOutcome {
        SourceOutcome {
            check,
            evidence: Evidence::default(),
            requisites: Vec::new(),
        }
    }
}

/// Where the store meets the pipeline: asked for validators before a
/// source is queued, handed each `Fetched` as it arrives.
///
/// A fetch goes through the hook in two steps. `prepare` is the work that
/// needs nothing of the hook's state (reading the body, hashing, text
/// extraction and normalisation, compression): it returns a future that
/// owns what it needs, which `check` runs several at once, off the async
/// runtime. `source` (or `requisite`) then takes what `prepare` made, one
/// at a time, in the order the preparations finish.
///
/// The pipeline is generic over its hook (never a trait object), so the
/// methods are plain `async fn`s without a `Send` bound.
#[allow(async_fn_in_trait)]
pub trait SourceHook {
    /// What `prepare` makes of a fetch.
    type Ready: Send + 'static;

    async fn validators(&mut self, _url: &str) -> Result<Option<Validators>> {
        Ok(None)
    }
    /// The state-free work on a fetch, as a future that owns what it
    /// needs. `page` is true for a cited source, false for a requisite.
    fn prepare(
        &self,
        fetched: Fetched,
        page: bool,
    ) -> impl std::future::Future<Output = Result<Self::Ready>> + Send + 'static;
    /// Keeps what it wants of a cited source and returns its check,
    /// possibly revised, with the evidence. `quotes` are the passages the
    /// citing posts quote from it.
    async fn source(&mut self, ready: Self::Ready, quotes: &[String]) -> Result<SourceOutcome>;
    /// Keeps a fetched requisite; returns the requisites it needs in turn
    /// (a stylesheet's fonts and images).
    async fn requisite(&mut self, ready: Self::Ready) -> Result<Vec<String>>;
}

/// No store: bodies are dropped.
pub struct NoStore;
impl SourceHook for NoStore {
    type Ready = Fetched;

    fn prepare(
        &self,
        fetched: Fetched,
        _page: bool,
    ) -> impl std::future::Future<Output = Result<Fetched>> + Send + 'static {
        std::future::ready(Ok(fetched))
    }

    async fn source(&mut self, fetched: Fetched, _quotes: &[String]) -> Result<SourceOutcome> {
        if let Some(b) = &fetched.body {
            crate::fetch::discard_spool(b);
        }
        Ok(SourceOutcome::plain(fetched.check))
    }

    async fn requisite(&mut self, fetched: Fetched) -> Result<Vec<String>> {
        if let Some(b) = &fetched.body {
            crate::fetch::discard_spool(b);
        }
        Ok(Vec::new())
    }
}
