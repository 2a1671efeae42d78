//! The `check` pipeline: posts in, a `Report` out.
//!
//! Each citation either gets its verdict at once (unlinked → `missing`, a
//! non-http scheme → `skipped`, an excluded URL → `skipped`) or names a
//! source. Every unique source is pushed once onto the fetch queue, busiest
//! host first, and each `Fetched` that comes back is turned into the
//! source's `Check`. The store plugs in where `Fetched` passes through
//! (`SourceHook`): it snapshots the body and may revise the check (compare
//! with the baseline → `changed`).

use std::collections::HashMap;
use std::sync::Arc;

use crate::base::time::{rfc3339, run_id};
use crate::collect::Post;
use crate::collect::url::NormalizeOptions;
use crate::compare::QuoteFinding;
use crate::config::Config;
use crate::error::Result;
use crate::fetch::{Fetched, Fetcher, Job, Queue, Validators, queue::host_key};
use crate::model::{
    Check, CitationResult, DiffSpan, Missing, Offline, Reason, Report, RunInfo, SourceHistory,
    Summary, Verdict,
};

/// Told about the run's progress; the binary draws a bar with it.
pub trait Progress: Send + Sync {
    fn start(&self, _sources: usize) {}
    fn source_done(&self, _check: &Check) {}
    fn finish(&self) {}
}

/// No progress shown.
pub struct Silent;
impl Progress for Silent {}

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
    pub offline: Option<Offline>,
    pub history: Option<SourceHistory>,
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
/// The pipeline is generic over its hook (never a trait object), so the
/// methods are plain `async fn`s without a `Send` bound.
#[allow(async_fn_in_trait)]
pub trait SourceHook {
    async fn validators(&mut self, _url: &str) -> Result<Option<Validators>> {
        Ok(None)
    }
    /// Keeps what it wants of a cited source's `fetched` and returns its
    /// check, possibly revised, with the evidence. `quotes` are the
    /// passages the citing posts quote from it. The default drops the body.
    async fn source(&mut self, fetched: Fetched, _quotes: &[String]) -> Result<SourceOutcome> {
        if let Some(b) = &fetched.body {
            crate::fetch::discard_spool(b);
        }
        Ok(SourceOutcome::plain(fetched.check))
    }
    /// Keeps a fetched requisite; returns the requisites it needs in turn
    /// (a stylesheet's fonts and images).
    async fn requisite(&mut self, fetched: Fetched) -> Result<Vec<String>> {
        if let Some(b) = &fetched.body {
            crate::fetch::discard_spool(b);
        }
        Ok(Vec::new())
    }
}

/// No store: bodies are dropped.
pub struct NoStore;
impl SourceHook for NoStore {}

/// How many requisites one run fetches at most per page, and in all: the
/// offline copy's size budget, so a gallery page cannot fill the disk.
pub const REQUISITES_PER_PAGE: usize = 48;
const REQUISITE_DEPTH: u8 = 2;

/// What to do with one citation before any fetching.
enum Plan {
    Fixed(Verdict, Reason, Option<String>),
    Source(String),
}

fn plan(citation: &crate::model::Citation, fetcher: &Fetcher, opts: &NormalizeOptions) -> Plan {
    if let Some(skip) = citation.skip {
        let raw = citation.raw.as_deref().unwrap_or_default();
        return Plan::Fixed(Verdict::Skipped, skip.reason(), Some(raw.to_string()));
    }
    let Some(url) = citation.url.as_deref() else {
        let reason = match citation.missing {
            Some(Missing::EmptyLink) => Reason::EmptyLink,
            _ => Reason::NoLink,
        };
        return Plan::Fixed(Verdict::Missing, reason, None);
    };
    let Ok(parsed) = url::Url::parse(url) else {
        return Plan::Fixed(
            Verdict::Missing,
            Reason::EmptyLink,
            Some(format!("not a usable URL: {url}")),
        );
    };
    // A local post's links to local files (relative links, or root-relative
    // ones under --root-dir) are looked for on disk. A post read from the
    // web never makes citeguard look at the local disk.
    if parsed.scheme() == "file" && !crate::base::web::is_http(&citation.post) {
        return match crate::collect::url::local_file(&parsed) {
            Some(_) => Plan::Fixed(Verdict::Ok, Reason::Ok, Some("a local file".into())),
            None => Plan::Fixed(
                Verdict::Dead,
                Reason::FileNotFound,
                parsed.to_file_path().ok().map(|p| p.display().to_string()),
            ),
        };
    }
    if !crate::collect::url::is_fetchable(&parsed) {
        return Plan::Fixed(
            Verdict::Skipped,
            Reason::Scheme,
            Some(format!("{}: links are not fetched", parsed.scheme())),
        );
    }
    let Some(key) = citation.source_url(opts) else {
        return Plan::Fixed(
            Verdict::Missing,
            Reason::EmptyLink,
            Some(format!("not a usable URL: {url}")),
        );
    };
    if fetcher.is_excluded(&key) {
        return Plan::Fixed(Verdict::Skipped, Reason::Excluded, None);
    }
    Plan::Source(key)
}

/// Checks every citation of `posts`. `started_at` is the run's start (the
/// caller owns the clock).
pub async fn check<H: SourceHook>(
    posts: Vec<Post>,
    config: &Config,
    fetcher: Arc<Fetcher>,
    hook: &mut H,
    progress: &dyn Progress,
    started_at: chrono::DateTime<chrono::Utc>,
) -> Result<Report> {
    let opts = NormalizeOptions::from_config(&config.collect);
    let plans: Vec<Vec<Plan>> = posts
        .iter()
        .map(|p| {
            p.citations
                .iter()
                .map(|c| plan(c, &fetcher, &opts))
                .collect()
        })
        .collect();

    // Unique sources, busiest host first, so that the host that bounds the
    // run starts at once and never waits behind the others.
    let mut per_host: HashMap<String, usize> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for p in plans.iter().flatten() {
        if let Plan::Source(url) = p
            && seen.insert(url.clone())
        {
            *per_host.entry(host_key(url)).or_default() += 1;
            order.push(url.clone());
        }
    }
    order.sort_by_key(|u| std::cmp::Reverse(per_host.get(&host_key(u)).copied().unwrap_or(0)));

    // The passages each source is quoted for, across posts.
    let mut quotes: HashMap<&str, Vec<String>> = HashMap::new();
    for (post, plans) in posts.iter().zip(&plans) {
        for (c, p) in post.citations.iter().zip(plans) {
            if let (Plan::Source(url), Some(q)) = (p, &c.quote) {
                let list = quotes.entry(url.as_str()).or_default();
                if !list.contains(q) {
                    list.push(q.clone());
                }
            }
        }
    }

    progress.start(order.len());
    let (queue, mut results) = Queue::new(fetcher.clone());
    for url in &order {
        let validators = hook.validators(url).await?;
        queue.push(Job {
            url: url.clone(),
            validators,
        });
    }
    // Checks are kept by the source's position in `order`, so the URL is
    // not held a second time as a map key.
    let index: HashMap<&str, usize> = order
        .iter()
        .enumerate()
        .map(|(i, u)| (u.as_str(), i))
        .collect();
    let mut checks: Vec<Option<(Check, Evidence)>> = vec![None; order.len()];
    let mut done = 0;
    // Requisites in flight, with their depth (1: a page's, 2: its
    // stylesheets').
    let mut requisites: HashMap<String, u8> = HashMap::new();
    let push_requisites = |list: Vec<String>, depth: u8, requisites: &mut HashMap<String, u8>| {
        for url in list.into_iter().take(REQUISITES_PER_PAGE) {
            if depth <= REQUISITE_DEPTH
                && !index.contains_key(url.as_str())
                && !fetcher.is_excluded(&url)
                && queue.push(Job::new(url.clone()))
            {
                requisites.insert(url, depth);
            }
        }
    };
    while done < order.len() || !requisites.is_empty() {
        let Some(fetched) = results.recv().await else {
            break;
        };
        if let Some(depth) = requisites.remove(&fetched.check.url) {
            let more = hook.requisite(fetched).await?;
            push_requisites(more, depth + 1, &mut requisites);
            continue;
        }
        let url = fetched.check.url.clone();
        let quoted = quotes.get(url.as_str()).map(Vec::as_slice).unwrap_or(&[]);
        let outcome = hook.source(fetched, quoted).await?;
        progress.source_done(&outcome.check);
        push_requisites(outcome.requisites, 1, &mut requisites);
        if let Some(&i) = index.get(url.as_str()) {
            done += usize::from(checks[i].is_none());
            checks[i] = Some((outcome.check, outcome.evidence));
        }
    }
    drop(queue);
    progress.finish();

    let mut summary = Summary {
        sources: order.len(),
        ..Summary::default()
    };
    let mut rows = Vec::new();
    // The posts are consumed: each row takes its citation's strings rather
    // than a copy, which halves what a large run holds.
    for (post, plans) in posts.into_iter().zip(plans) {
        let date = post.date.as_deref();
        for (c, p) in post.citations.into_iter().zip(plans) {
            let post = post.name.as_str();
            let mut row = match p {
                Plan::Fixed(verdict, reason, detail) => {
                    result_row(post, c, verdict, reason, None, detail)
                }
                Plan::Source(url) => {
                    match index.get(url.as_str()).and_then(|&i| checks[i].as_ref()) {
                        Some((check, evidence)) => evidenced_row(post, c, check, evidence),
                        None => result_row(
                            post,
                            c,
                            Verdict::Unreachable,
                            Reason::Network,
                            None,
                            Some("never fetched".into()),
                        ),
                    }
                }
            };
            row.post_date = date.map(str::to_string);
            summary.count(row.verdict);
            rows.push(row);
        }
    }
    let finished_at =
        started_at + chrono::Duration::milliseconds(0).max(chrono::Utc::now() - started_at);
    Ok(Report {
        version: Report::VERSION,
        run: RunInfo {
            id: run_id(started_at),
            started_at: rfc3339(started_at),
            finished_at: rfc3339(finished_at),
        },
        summary,
        citations: rows,
        recovered: Vec::new(),
        still: Vec::new(),
        store: None,
    })
}

/// A citation's row from its source's check and evidence. The quote is the
/// citation's own: one post may quote a passage the source dropped while
/// another cites the same source for something still there.
fn evidenced_row(
    post: &str,
    c: crate::model::Citation,
    check: &Check,
    evidence: &Evidence,
) -> CitationResult {
    let finding = c.quote.as_ref().and_then(|q| {
        evidence
            .quotes
            .iter()
            .find(|(text, _)| text == q)
            .map(|(_, f)| *f)
    });
    let (mut verdict, mut reason, mut detail) = (check.verdict, check.reason, check.detail.clone());
    if let Some(f) = finding {
        let reachable = matches!(verdict, Verdict::Ok | Verdict::Changed);
        if reachable && f.in_baseline && !f.in_live {
            verdict = Verdict::Changed;
            reason = Reason::QuoteMissing;
        } else if !f.in_baseline && !f.in_live && reachable {
            detail = Some(
                "the quoted passage is not in the source, not even in the first copy taken: \
                 the post may misquote it"
                    .into(),
            );
        }
    }
    let mut row = result_row(post, c, verdict, reason, Some(check), detail);
    row.similarity = evidence.similarity;
    row.quote_found = finding.map(|f| f.in_live);
    row.snapshot = evidence.baseline.clone();
    row.offline = evidence.offline.clone();
    row.history = evidence.history.clone();
    if verdict == Verdict::Changed {
        row.diff = evidence.diff.clone();
    }
    row
}

fn result_row(
    post: &str,
    c: crate::model::Citation,
    verdict: Verdict,
    reason: Reason,
    check: Option<&Check>,
    detail: Option<String>,
) -> CitationResult {
    CitationResult {
        status: check.and_then(|k| k.status),
        final_url: check.and_then(|k| k.final_url.clone()),
        redirects: check.map(|k| k.redirects.clone()).unwrap_or_default(),
        detail,
        context: c.context,
        quote: c.quote,
        ..CitationResult::new(post, c.line, c.url, c.text, c.kind, verdict, reason)
    }
}

/// Whether the report flags anything per `fail_on`.
pub fn flagged(report: &Report, fail_on: &[Verdict]) -> bool {
    report.citations.iter().any(|c| c.verdict.fails(fail_on))
}
