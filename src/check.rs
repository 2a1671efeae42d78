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

use crate::collect::Post;
use crate::collect::url::NormalizeOptions;
use crate::config::Config;
use crate::error::Result;
use crate::fetch::{Fetched, Fetcher, Job, Queue, Validators, queue::host_key};
use crate::model::{Check, CitationResult, Missing, Reason, Report, RunInfo, Summary, Verdict};

/// Told about the run's progress; the binary draws a bar with it.
pub trait Progress: Send + Sync {
    fn start(&self, _sources: usize) {}
    fn source_done(&self, _check: &Check) {}
    fn finish(&self) {}
}

/// No progress shown.
pub struct Silent;
impl Progress for Silent {}

/// Where the store meets the pipeline: asked for validators before a
/// source is queued, handed each `Fetched` as it arrives.
pub trait SourceHook: Send {
    fn validators(&mut self, _url: &str) -> Option<Validators> {
        None
    }
    /// Keeps what it wants of `fetched` and returns the source's check,
    /// possibly revised. The default drops the body.
    fn fetched(&mut self, fetched: Fetched) -> Check {
        if let Some(b) = &fetched.body {
            crate::fetch::discard_spool(b);
        }
        fetched.check
    }
}

/// No store: bodies are dropped.
pub struct NoStore;
impl SourceHook for NoStore {}

/// What to do with one citation before any fetching.
enum Plan {
    Fixed(Verdict, Reason, Option<String>),
    Source(String),
}

fn plan(citation: &crate::model::Citation, fetcher: &Fetcher, opts: &NormalizeOptions) -> Plan {
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
pub async fn check(
    posts: Vec<Post>,
    config: &Config,
    fetcher: Arc<Fetcher>,
    hook: &mut dyn SourceHook,
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

    progress.start(order.len());
    let (queue, mut results) = Queue::new(fetcher.clone());
    for url in &order {
        let validators = hook.validators(url);
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
    let mut checks: Vec<Option<Check>> = vec![None; order.len()];
    let mut done = 0;
    while done < order.len() {
        let Some(fetched) = results.recv().await else {
            break;
        };
        let check = hook.fetched(fetched);
        progress.source_done(&check);
        if let Some(&i) = index.get(check.url.as_str()) {
            done += usize::from(checks[i].is_none());
            checks[i] = Some(check);
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
        for (c, p) in post.citations.into_iter().zip(plans) {
            let post = post.name.as_str();
            let row = match p {
                Plan::Fixed(verdict, reason, detail) => {
                    result_row(post, c, verdict, reason, None, detail)
                }
                Plan::Source(url) => {
                    match index.get(url.as_str()).and_then(|&i| checks[i].as_ref()) {
                        Some(check) => result_row(
                            post,
                            c,
                            check.verdict,
                            check.reason,
                            Some(check),
                            check.detail.clone(),
                        ),
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
        store: None,
    })
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

pub fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A run id that sorts by time and is unique enough for one store.
pub fn run_id(t: chrono::DateTime<chrono::Utc>) -> String {
    format!(
        "{}-{:04x}",
        t.format("%Y%m%dT%H%M%SZ"),
        rand::random::<u16>()
    )
}

/// Whether the report flags anything per `fail_on`.
pub fn flagged(report: &Report, fail_on: &[Verdict]) -> bool {
    report
        .citations
        .iter()
        .any(|c| fail_on.contains(&c.verdict))
}
