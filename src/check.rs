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
use crate::error::{Error, Result};
use crate::fetch::{Fetcher, Job, Queue, Reach, queue::host_key};
use crate::model::{
    Check, CitationResult, DiffSpan, Missing, Offline, Reason, Redirect, Report, RunInfo,
    SourceHistory, Summary, Verdict,
};
use crate::store::archive::Archive;
use crate::store::hook::{Evidence, NoStore, REQUISITES_PER_PAGE, SourceHook};
use crate::store::{Access, Store};

/// Told about the run's progress; the binary draws a bar with it.
pub trait Progress: Send + Sync {
    fn start(&self, _sources: usize) {}
    fn source_done(&self, _check: &Check) {}
    fn finish(&self) {}
}

/// No progress shown.
pub struct Silent;
impl Progress for Silent {}

/// Where a run's unique sources are fetched and handed to the hook: here,
/// through this process's queue (`Here`), or by workers on other machines
/// (`fleet::Distributed`). Either way each source comes back as its check
/// and evidence, by position (what the rows read of them: `Judged`), and
/// the rest of the run is the same.
#[allow(async_fn_in_trait)]
pub trait SourceChecks {
    async fn checks<H: SourceHook>(
        &mut self,
        sources: &Sources<'_>,
        fetcher: &Arc<Fetcher>,
        hook: &mut H,
        progress: &dyn Progress,
    ) -> Result<Vec<Option<Judged>>>;

    /// Told that the run keeps copies, as the store's run `run_id` with
    /// the clock `now`; true when others store the sources (a fleet's
    /// workers), so the run's own archive reads no state of the store.
    fn stored_elsewhere(&mut self, _run_id: &str, _now: chrono::DateTime<chrono::Utc>) -> bool {
        false
    }
}

/// The sources are fetched in this process (`fetch_sources`).
pub struct Here;

impl SourceChecks for Here {
    async fn checks<H: SourceHook>(
        &mut self,
        sources: &Sources<'_>,
        fetcher: &Arc<Fetcher>,
        hook: &mut H,
        progress: &dyn Progress,
    ) -> Result<Vec<Option<Judged>>> {
        fetch_sources_as(sources, fetcher, hook, progress).await
    }
}

const REQUISITE_DEPTH: u8 = 2;

/// What to do with one citation before any fetching.
enum Plan {
    Fixed(Verdict, Reason, Option<String>),
    /// Fetch this source (its key, which the queue order and the queued
    /// job then share).
    Source(Arc<str>),
    /// The source at this position of the queue order: what `Source`
    /// becomes once the order is known, so that a large run holds each
    /// URL once, not once per citation.
    At(usize),
}

/// Checks every citation of `posts`. `started_at` is the run's start (the
/// caller owns the clock).
///
/// A citation's verdict is set, then revised, by these steps in order:
/// `plan` (no link → `missing`, another scheme or excluded → `skipped`,
/// else a source to fetch); the fetcher (`Fetcher::fetch`: status, bot
/// wall, soft-404, redirects); the store's `SourceHook::source` (the
/// baseline comparison, the history rule); and `by_own_quote` (a passage
/// this post quotes that the source dropped → `changed`).
pub async fn check<H: SourceHook, S: SourceChecks>(
    posts: Vec<Post>,
    config: &Config,
    fetcher: Arc<Fetcher>,
    hook: &mut H,
    by: &mut S,
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
    let posts = planned(posts);
    let (order, hosts) = queue_order(&plans);
    let sources = Sources::new(&order, &posts, &plans).with_hosts(&hosts);
    let plans = by_position(plans, &sources);
    let checks = by
        .checks(&sources, &fetcher, &mut Trimming(hook, 0), progress)
        .await?;
    // The rows read the checks by position: the URLs, their positions and
    // the quoted passages go before the rows come (10 MB at 100,000).
    drop(sources);
    drop(order);
    drop(hosts);
    release_freed_memory();
    let (rows, summary) = judge_citations(posts, plans, checks);
    Ok(finish_report(rows, summary, started_at))
}

/// A post once its citations are planned: what their rows take of it.
struct Planned {
    name: String,
    date: Option<String>,
    citations: Vec<Cited>,
}

/// A planned citation: what its row takes of it, 80 bytes where the
/// collected `Citation` is 160 (100,000 are held through the fetching).
/// Not kept: the post's name (each row takes its post's), the link as
/// written (a planned citation's detail has its own copy), why it is
/// missing or skipped (its plan says).
struct Cited {
    line: usize,
    kind: crate::model::Kind,
    url: Option<Box<str>>,
    text: Box<str>,
    context: Option<Box<str>>,
    quote: Option<Box<str>>,
}

/// The posts, each citation as its row will take it, each post's
/// citations given back as they are taken.
fn planned(posts: Vec<Post>) -> Vec<Planned> {
    let boxed = |s: Option<String>| s.map(String::into_boxed_str);
    posts
        .into_iter()
        .map(|p| Planned {
            name: p.name,
            date: p.date,
            citations: (p.citations.into_iter())
                .map(|c| Cited {
                    line: c.line,
                    kind: c.kind,
                    url: boxed(c.url),
                    text: c.text.into_boxed_str(),
                    context: boxed(c.context),
                    quote: boxed(c.quote),
                })
                .collect(),
        })
        .collect()
}

/// The run's hook, handing the memory freed since back to the system every
/// `TRIM_EVERY_SOURCES` sources: hundreds of connections and the blocking
/// pool's threads allocate and free in arenas of their own, and what they
/// free stays in the process otherwise, beside the checks that accumulate.
struct Trimming<'h, H>(&'h mut H, usize);

/// How many sources the run stores between two hand-backs of freed memory.
const TRIM_EVERY_SOURCES: usize = 8192;

impl<H: SourceHook> SourceHook for Trimming<'_, H> {
    type Ready = H::Ready;

    async fn validators(&mut self, url: &str) -> Result<Option<crate::fetch::Validators>> {
        self.0.validators(url).await
    }

    fn prepare(
        &self,
        fetched: crate::fetch::Fetched,
        page: bool,
    ) -> impl std::future::Future<Output = Result<Self::Ready>> + Send + 'static {
        self.0.prepare(fetched, page)
    }

    async fn source(
        &mut self,
        ready: Self::Ready,
        quotes: &[String],
    ) -> Result<crate::store::hook::SourceOutcome> {
        let outcome = self.0.source(ready, quotes).await?;
        self.1 += 1;
        if self.1.is_multiple_of(TRIM_EVERY_SOURCES) {
            release_freed_memory();
        }
        Ok(outcome)
    }

    async fn requisite(&mut self, ready: Self::Ready) -> Result<Vec<String>> {
        self.0.requisite(ready).await
    }
}

/// What the rows read of a source's check and evidence, held from the
/// source's fetch to its last citation's row: 56 bytes a source where the
/// pair takes 272 (27 MB for a run of 100,000 sources, filled before the
/// first row). Not kept: the URL (the run holds it), when it was checked,
/// the content type, the attempts and the time taken. What most sources
/// lack (a final URL, redirects, a similarity, quoted passages, offline
/// copies, a diff) shares one box, none when all are empty.
#[derive(Debug, Clone)]
pub struct Judged {
    verdict: Verdict,
    reason: Reason,
    status: Option<u16>,
    detail: Option<Box<str>>,
    baseline: Option<Box<str>>,
    history: Option<Box<SourceHistory>>,
    rarer: Option<Box<Rarer>>,
}

/// The fields of `Judged` most sources leave empty.
#[derive(Debug, Clone, Default)]
struct Rarer {
    final_url: Option<String>,
    redirects: Vec<Redirect>,
    similarity: Option<f64>,
    quotes: Vec<(String, QuoteFinding)>,
    offline: Option<Box<Offline>>,
    diff: Vec<DiffSpan>,
}

impl From<(Check, Evidence)> for Judged {
    fn from((check, evidence): (Check, Evidence)) -> Judged {
        let rarer = Rarer {
            final_url: check.final_url,
            redirects: check.redirects,
            similarity: evidence.similarity,
            quotes: evidence.quotes,
            offline: evidence.offline,
            diff: evidence.diff,
        };
        let empty = rarer.final_url.is_none()
            && rarer.redirects.is_empty()
            && rarer.similarity.is_none()
            && rarer.quotes.is_empty()
            && rarer.offline.is_none()
            && rarer.diff.is_empty();
        Judged {
            verdict: check.verdict,
            reason: check.reason,
            status: check.status,
            detail: check.detail.map(String::into_boxed_str),
            baseline: evidence.baseline.map(String::into_boxed_str),
            history: evidence.history,
            rarer: (!empty).then(|| Box::new(rarer)),
        }
    }
}

/// Each `Plan::Source` as the position of its source (`Plan::At`).
fn by_position(plans: Vec<Vec<Plan>>, sources: &Sources<'_>) -> Vec<Vec<Plan>> {
    plans
        .into_iter()
        .map(|list| {
            list.into_iter()
                .map(|p| match p {
                    Plan::Source(url) => match sources.position.get(&*url) {
                        Some(&i) => Plan::At(i),
                        None => Plan::Source(url),
                    },
                    p => p,
                })
                .collect()
        })
        .collect()
}

/// Gives the memory the fetching freed back to the system before the
/// report's rows are built: the allocator keeps it otherwise (buffers of
/// hundreds of connections, pages being prepared), and the rows then
/// come on top of it. glibc only; elsewhere a no-op.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only hands free pages of the heap back; it
    // touches no memory in use.
    unsafe {
        libc::malloc_trim(0);
    }
}

fn plan(citation: &crate::model::Citation, fetcher: &Fetcher, opts: &NormalizeOptions) -> Plan {
    if let Some(skip) = citation.skip {
        let raw = citation.raw.as_deref().unwrap_or_default();
        return Plan::Fixed(Verdict::Skipped, skip.reason(), Some(raw.to_string()));
    }
    let Some(url) = citation.url.as_deref() else {
        let reason = match (citation.missing, &citation.raw) {
            (Some(Missing::EmptyLink), _) => Reason::EmptyLink,
            // A link was written, but it is no URL.
            (None, Some(raw)) if citation.kind != crate::model::Kind::Unlinked => {
                return Plan::Fixed(Verdict::Missing, Reason::InvalidUrl, Some(why_invalid(raw)));
            }
            _ => Reason::NoLink,
        };
        return Plan::Fixed(Verdict::Missing, reason, None);
    };
    let Ok(parsed) = url::Url::parse(url) else {
        return Plan::Fixed(Verdict::Missing, Reason::InvalidUrl, Some(why_invalid(url)));
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
        return Plan::Fixed(Verdict::Missing, Reason::InvalidUrl, Some(why_invalid(url)));
    };
    if fetcher.is_excluded(&key) {
        return Plan::Fixed(Verdict::Skipped, Reason::Excluded, None);
    }
    Plan::Source(key.into())
}

/// Why a link as written is no URL, in words.
fn why_invalid(raw: &str) -> String {
    match url::Url::parse(raw.trim()) {
        Err(url::ParseError::RelativeUrlWithoutBase) => {
            "a relative link, and the post gives no base URL (--base-url)".into()
        }
        Err(e) => e.to_string(),
        Ok(_) => "not a URL citeguard can fetch".into(),
    }
}

/// The unique sources, busiest host first, so that the host that bounds
/// the run starts at once and never waits behind the others. Each is the
/// plan's own copy of its URL, shared; beside it, its host key
/// (`queue::host_key`), one shared copy per host, which the queue takes
/// rather than parsing each URL again.
fn queue_order(plans: &[Vec<Plan>]) -> (Vec<Arc<str>>, Vec<Arc<str>>) {
    let mut per_host: HashMap<Arc<str>, usize> = HashMap::new();
    // Each unique URL with its host, whose name is worked out once.
    let mut order: Vec<(Arc<str>, Arc<str>)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for p in plans.iter().flatten() {
        if let Plan::Source(url) = p
            && seen.insert(&**url)
        {
            let host = host_key(url);
            let host = match per_host.get_key_value(host.as_str()) {
                Some((shared, _)) => shared.clone(),
                None => Arc::from(host),
            };
            *per_host.entry(host.clone()).or_default() += 1;
            order.push((url.clone(), host));
        }
    }
    // Stable: within a host, the order the posts cite them in.
    order.sort_by_key(|(_, host)| std::cmp::Reverse(per_host.get(host).copied().unwrap_or(0)));
    // Into vectors of their own: `collect` would reuse the pairs' buffer,
    // twice the size the URLs need, for the whole run.
    let mut urls = Vec::with_capacity(order.len());
    let mut hosts = Vec::with_capacity(order.len());
    for (url, host) in order {
        urls.push(url);
        hosts.push(host);
    }
    (urls, hosts)
}

/// The run's unique sources in queue order, each one's position (checks are
/// kept by position, so a URL is not held a second time as a map key), and
/// the passages the citing posts quote from each, across posts (by
/// position, only the sources quoted from: most are not).
pub struct Sources<'a> {
    order: &'a [Arc<str>],
    /// Each source's host key, by position, when the run worked them out.
    hosts: Option<&'a [Arc<str>]>,
    position: HashMap<&'a str, usize>,
    quotes: HashMap<usize, Vec<String>>,
}

impl<'a> Sources<'a> {
    /// Sources as listed, with the passages quoted from each (a fleet
    /// worker's share of a run).
    pub fn listed(order: &'a [Arc<str>], quotes: Vec<Vec<String>>) -> Sources<'a> {
        let position = order.iter().enumerate().map(|(i, u)| (&**u, i)).collect();
        let quotes = (quotes.into_iter().enumerate())
            .filter(|(i, q)| *i < order.len() && !q.is_empty())
            .collect();
        Sources {
            order,
            hosts: None,
            position,
            quotes,
        }
    }

    /// These sources with each one's host key, by position (as long as
    /// the sources, or ignored).
    fn with_hosts(self, hosts: &'a [Arc<str>]) -> Sources<'a> {
        Sources {
            hosts: (hosts.len() == self.order.len()).then_some(hosts),
            ..self
        }
    }

    /// The unique sources, in queue order.
    pub fn urls(&self) -> &[Arc<str>] {
        self.order
    }

    /// The passages the citing posts quote from the `i`th source.
    pub fn quotes(&self, i: usize) -> &[String] {
        self.quotes.get(&i).map_or(&[][..], Vec::as_slice)
    }

    fn new(order: &'a [Arc<str>], posts: &[Planned], plans: &[Vec<Plan>]) -> Sources<'a> {
        let position: HashMap<&str, usize> =
            order.iter().enumerate().map(|(i, u)| (&**u, i)).collect();
        let mut quotes: HashMap<usize, Vec<String>> = HashMap::new();
        for (post, plans) in posts.iter().zip(plans) {
            for (c, p) in post.citations.iter().zip(plans) {
                if let (Plan::Source(url), Some(q)) = (p, &c.quote)
                    && let Some(&i) = position.get(&**url)
                {
                    let list = quotes.entry(i).or_default();
                    if !list.iter().any(|l| **l == **q) {
                        list.push(q.to_string());
                    }
                }
            }
        }
        Sources {
            order,
            hosts: None,
            position,
            quotes,
        }
    }
}

/// How many fetched pages the store prepares at once (hashing, text
/// extraction, compression off the runtime: the store has as many threads
/// for it): two per core, so every core has work while the store takes
/// the finished ones in turn.
fn preparing_at_once() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get() * 2)
}

/// Fetches every source once through the queue, hands each `Fetched` to the
/// hook (which may revise its check), and fetches the requisites the hook
/// names, two levels deep and at most `REQUISITES_PER_PAGE` per page.
/// Returns each source's check and evidence by position. A local run
/// fetches all its sources through here; a fleet worker, each source it
/// claims.
///
/// Each fetch is first prepared by the hook (`SourceHook::prepare`),
/// several at once; the prepared fetches are then handed to the hook one
/// at a time, as they finish. No more than `preparing_at_once` are in
/// preparation: beyond that the results wait in the queue's channel.
pub async fn fetch_sources<H: SourceHook>(
    sources: &Sources<'_>,
    fetcher: &Arc<Fetcher>,
    hook: &mut H,
    progress: &dyn Progress,
) -> Result<Vec<Option<(Check, Evidence)>>> {
    fetch_sources_as(sources, fetcher, hook, progress).await
}

/// `fetch_sources`, each source's check and evidence kept as `T` (a run's
/// `Judged`, what its rows read) as it comes back.
async fn fetch_sources_as<H: SourceHook, T: From<(Check, Evidence)>>(
    sources: &Sources<'_>,
    fetcher: &Arc<Fetcher>,
    hook: &mut H,
    progress: &dyn Progress,
) -> Result<Vec<Option<T>>> {
    use futures_util::StreamExt;
    use futures_util::stream::FuturesUnordered;

    progress.start(sources.order.len());
    let (queue, mut results) = Queue::new(fetcher.clone());
    // The sources are pushed by a task of the runtime's, beside this loop:
    // the loop takes the first results while the queue is still being
    // filled (a full channel would stop the fetches), and the queue's
    // workers are started from a thread of the runtime rather than woken
    // from this one, one by one. In chunks, each freed once pushed.
    let mut chunks = Vec::new();
    let mut chunk = Vec::new();
    for (i, url) in sources.order.iter().enumerate() {
        let validators = hook.validators(url).await?;
        let job = Job {
            validators,
            ..Job::new(url.clone())
        };
        chunk.push((job, sources.hosts.and_then(|h| h.get(i)).cloned()));
        if chunk.len() == PUSH_CHUNK {
            chunks.push(std::mem::take(&mut chunk));
        }
    }
    chunks.push(chunk);
    let mut pusher = {
        let queue = queue.clone();
        tokio::spawn(async move {
            for chunk in chunks {
                for (job, host) in chunk {
                    match host {
                        Some(host) => queue.push_on(job, &host),
                        None => queue.push(job),
                    };
                }
            }
        })
    };
    let mut pushing = true;
    let mut checks: Vec<Option<T>> = Vec::new();
    checks.resize_with(sources.order.len(), || None);
    let mut done = 0;
    // Requisites in flight, with their depth (1: a page's, 2: its
    // stylesheets'). Each may reach no further than its page could.
    let mut requisites: HashMap<String, u8> = HashMap::new();
    let push_requisites =
        |list: Vec<String>, depth: u8, reach: Reach, requisites: &mut HashMap<String, u8>| {
            for url in list.into_iter().take(REQUISITES_PER_PAGE) {
                if depth <= REQUISITE_DEPTH
                    && !sources.position.contains_key(url.as_str())
                    && !fetcher.is_excluded(&url)
                    && queue.push(Job::requisite(url.clone(), reach))
                {
                    requisites.insert(url, depth);
                }
            }
        };
    let limit = preparing_at_once();
    // Fetches taken from the queue beyond this many waiting are left in
    // it: the queue's workers then wait too (`Queue::new`), and a store
    // slower than the network holds a bounded number of fetches.
    let waiting_limit = fetcher.config().concurrency.max(1);
    // Fetches being prepared: what they are (a requisite's depth, or the
    // source's URL) and the hook's future.
    let mut preparing = FuturesUnordered::new();
    // Fetches received while `limit` are being prepared: taken from the
    // queue's channel at once. A body longer than its head waits on disk
    // only (its spool file); a shorter one has no spool file and waits in
    // memory, at most `WAITING_BYTES` of them, so that a store slower than
    // the network holds a bounded amount of pages while it catches up.
    let mut waiting: std::collections::VecDeque<(Prepared, Reach, crate::fetch::Fetched)> =
        Default::default();
    let mut waiting_bytes = 0usize;
    let mut open = true;
    loop {
        while preparing.len() < limit
            && let Some((what, reach, fetched)) = waiting.pop_front()
        {
            waiting_bytes -= held_bytes(&fetched);
            let page = matches!(what, Prepared::Source(_));
            let ready = hook.prepare(fetched, page);
            preparing.push(async move { (what, reach, ready.await) });
        }
        let all_in = done >= sources.order.len() && requisites.is_empty();
        if all_in && preparing.is_empty() && waiting.is_empty() {
            break;
        }
        tokio::select! {
            biased;
            pushed = &mut pusher, if pushing => {
                pushing = false;
                // A push that panicked (a bug) would leave the run waiting.
                pushed.map_err(|e| Error::setup("queue the sources", e))?;
            }
            Some((what, reach, ready)) = preparing.next(), if !preparing.is_empty() => {
                let ready = ready?;
                match what {
                    Prepared::Requisite(depth) => {
                        let more = hook.requisite(ready).await?;
                        push_requisites(more, depth + 1, reach, &mut requisites);
                    }
                    Prepared::Source(url) => {
                        let position = sources.position.get(url.as_str()).copied();
                        let quoted = position.map_or(&[][..], |i| sources.quotes(i));
                        let outcome = hook.source(ready, quoted).await?;
                        progress.source_done(&outcome.check);
                        push_requisites(outcome.requisites, 1, reach, &mut requisites);
                        if let Some(i) = position {
                            done += usize::from(checks[i].is_none());
                            checks[i] = Some(T::from((outcome.check, outcome.evidence)));
                        }
                    }
                }
            }
            fetched = results.recv(), if open
                && waiting.len() < waiting_limit
                && waiting_bytes < WAITING_BYTES => {
                let Some(fetched) = fetched else {
                    open = false;
                    continue;
                };
                // A fetch that panicked ends the run with its error.
                let mut fetched = fetched?;
                let reach = fetched.reach;
                let what = match requisites.remove(&fetched.check.url) {
                    Some(depth) => Prepared::Requisite(depth),
                    None => Prepared::Source(fetched.check.url.clone()),
                };
                if preparing.len() >= limit
                    && let Some(body) = fetched.body.as_mut()
                    && body.spool.is_some()
                {
                    // The spool file holds the whole body the head begins.
                    body.head = Vec::new();
                }
                waiting_bytes += held_bytes(&fetched);
                waiting.push_back((what, reach, fetched));
            }
            else => break,
        }
    }
    drop(queue);
    progress.finish();
    Ok(checks)
}

/// How many sources are handed to the task that queues them at a time.
const PUSH_CHUNK: usize = 1024;

/// How many bytes of bodies the fetches waiting to be prepared may hold in
/// memory (bodies no longer than their head, which have no spool file):
/// beyond that, fetches are left in the queue's channel, and its workers
/// wait. A hundred or two ordinary pages.
const WAITING_BYTES: usize = 2 << 20;

/// The bytes of body a fetch holds in memory.
fn held_bytes(fetched: &crate::fetch::Fetched) -> usize {
    fetched.body.as_ref().map_or(0, |b| b.head.len())
}

/// What a fetch in preparation is.
enum Prepared {
    /// A requisite, at this depth.
    Requisite(u8),
    /// A cited source (or a URL the queue answered that no one asked for).
    Source(String),
}

/// How many rows `judge_citations` builds between two hand-backs of freed
/// memory (`release_freed_memory`, a walk over the heap's free pages).
const TRIM_EVERY_ROWS: usize = 16_384;

/// Every citation's row, in the posts' order, and the counts. The posts are
/// consumed: each row takes its citation's strings rather than a copy,
/// which halves what a large run holds. So are the checks: the last
/// citation of a source takes its evidence (history, offline copies, diff)
/// rather than a copy.
fn judge_citations(
    posts: Vec<Planned>,
    plans: Vec<Vec<Plan>>,
    mut checks: Vec<Option<Judged>>,
) -> (Vec<CitationResult>, Summary) {
    let mut summary = Summary {
        sources: checks.len(),
        ..Summary::default()
    };
    // Sized once: a row is several hundred bytes, and a vector grown by
    // doubling held 79 MB at the heap's peak for 100,000 citations
    // (heaptrack), beside every source's check, where 60 MB is needed.
    let mut rows = Vec::with_capacity(posts.iter().map(|p| p.citations.len()).sum());
    // How many citations of each source are still to be judged.
    let mut uses = vec![0u32; checks.len()];
    for p in plans.iter().flatten() {
        if let Plan::At(i) = *p
            && let Some(n) = uses.get_mut(i)
        {
            *n += 1;
        }
    }
    for (post, plans) in posts.into_iter().zip(plans) {
        let date = post.date.as_deref();
        for (c, p) in post.citations.into_iter().zip(plans) {
            let post = post.name.as_str();
            let mut row = match p {
                Plan::Fixed(verdict, reason, detail) => {
                    result_row(post, c, verdict, reason, detail)
                }
                Plan::Source(_) | Plan::At(_) => {
                    let i = match p {
                        Plan::At(i) if i < checks.len() => Some(i),
                        _ => None,
                    };
                    let last = i.is_some_and(|i| {
                        uses[i] = uses[i].saturating_sub(1);
                        uses[i] == 0
                    });
                    let judged = match i {
                        Some(i) if last => checks[i].take(),
                        Some(i) => checks[i].clone(),
                        None => None,
                    };
                    match judged {
                        Some(judged) => evidenced_row(post, c, judged),
                        None => result_row(
                            post,
                            c,
                            Verdict::Unreachable,
                            Reason::Network,
                            Some("never fetched".into()),
                        ),
                    }
                }
            };
            row.post_date = date.map(str::to_string);
            summary.count(row.verdict);
            rows.push(row);
            if rows.len().is_multiple_of(TRIM_EVERY_ROWS) {
                // The checks taken so far are freed, but the rows come on
                // top of them until the allocator hands their pages back.
                release_freed_memory();
            }
        }
    }
    (rows, summary)
}

fn finish_report(
    citations: Vec<CitationResult>,
    summary: Summary,
    started_at: chrono::DateTime<chrono::Utc>,
) -> Report {
    let finished_at =
        started_at + chrono::Duration::milliseconds(0).max(chrono::Utc::now() - started_at);
    Report {
        version: Report::VERSION,
        run: RunInfo {
            id: run_id(started_at),
            started_at: rfc3339(started_at),
            finished_at: rfc3339(finished_at),
        },
        summary,
        citations,
        recovered: Vec::new(),
        still: Vec::new(),
        store: None,
    }
}

/// A citation's row from its source's check and evidence, revised by the
/// citation's own quote.
fn evidenced_row(post: &str, c: Cited, judged: Judged) -> CitationResult {
    let rarer = judged.rarer.map(|r| *r).unwrap_or_default();
    let finding = c.quote.as_ref().and_then(|q| {
        rarer
            .quotes
            .iter()
            .find(|(text, _)| **text == **q)
            .map(|(_, f)| *f)
    });
    let detail = judged.detail.map(String::from);
    let (verdict, reason, detail) = by_own_quote(judged.verdict, judged.reason, detail, finding);
    let mut row = result_row(post, c, verdict, reason, detail);
    row.status = judged.status;
    row.final_url = rarer.final_url;
    row.redirects = rarer.redirects;
    row.similarity = rarer.similarity;
    row.quote_found = finding.map(|f| f.in_live);
    row.snapshot = judged.baseline.map(String::from);
    row.offline = rarer.offline;
    row.history = judged.history;
    if verdict == Verdict::Changed {
        row.diff = rarer.diff;
    }
    row
}

/// The last step: the quote is the citation's own, since one post may quote
/// a passage the source dropped while another cites the same source for
/// something still there. A reachable source that lost this post's quote
/// is `changed`/`quote-missing`; one that never had it is left as it is,
/// with a note that the post may misquote it.
fn by_own_quote(
    verdict: Verdict,
    reason: Reason,
    detail: Option<String>,
    finding: Option<QuoteFinding>,
) -> (Verdict, Reason, Option<String>) {
    let reachable = matches!(verdict, Verdict::Ok | Verdict::Changed);
    match finding {
        Some(f) if reachable && f.in_baseline && !f.in_live => {
            (Verdict::Changed, Reason::QuoteMissing, detail)
        }
        Some(f) if reachable && !f.in_baseline && !f.in_live => (
            verdict,
            reason,
            Some(
                "the quoted passage is not in the source, not even in the first copy taken: \
                 the post may misquote it"
                    .into(),
            ),
        ),
        _ => (verdict, reason, detail),
    }
}

fn result_row(
    post: &str,
    c: Cited,
    verdict: Verdict,
    reason: Reason,
    detail: Option<String>,
) -> CitationResult {
    CitationResult {
        detail,
        context: c.context.map(String::from),
        quote: c.quote.map(String::from),
        ..CitationResult::new(
            post,
            c.line,
            c.url.map(String::from),
            c.text,
            c.kind,
            verdict,
            reason,
        )
    }
}

/// What a whole run is asked to do beside checking.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Keep copies and history in the store (`--no-store` turns it off).
    pub keep: bool,
    /// Ask the web archive about every source, not only the dead ones.
    pub robust_links: bool,
    /// An HTML report is written to this file: write each baseline as an
    /// offline page in a folder beside it.
    pub offline_pages_beside: Option<std::path::PathBuf>,
}

/// What a whole run gave: the report and what the web archive answered.
pub struct Run {
    pub report: Report,
    pub mementos: crate::memento::Lookups,
}

/// A whole `check` run, in order: (with the store) the previous run's
/// report read; every source checked, and archived through the store;
/// changes since the previous run marked; the web archive asked about
/// what died; the report kept in the store; offline pages written beside
/// an HTML report.
pub async fn run(
    posts: Vec<Post>,
    config: &Config,
    options: &RunOptions,
    progress: &dyn Progress,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Run> {
    run_with(
        posts,
        config,
        options,
        progress,
        now,
        &mut Here,
        Ahead::default(),
    )
    .await
}

/// What a caller does with a run's report once it is whole (prints it),
/// beside the store's finish.
pub type Present<'p> = &'p mut (dyn FnMut(&Report) -> Result<()> + Send);

/// What a run may be given beside its posts: its store opened beforehand
/// (`open_store`, while the posts were collected), and what to do with
/// the report once it is whole (`Present`): it is done while the store
/// keeps the report (the citations' rows, the report's object, the run's
/// row), rather than after. An error of either is the run's.
#[derive(Default)]
pub struct Ahead<'p> {
    pub opened: Option<OpenedStore>,
    pub present: Option<Present<'p>>,
}

/// A store opened for a run before its posts are known (`open_store`):
/// the CLI opens it, reads the previous run's report and every source's
/// state while the posts are collected, on the runtime's threads.
pub struct OpenedStore {
    store: Store,
    /// The previous run's verdicts, being read on the blocking pool.
    previous: Option<PreviousMarks>,
    /// Every source's state, for a run that stores its sources here.
    state: Option<crate::store::archive::State>,
}

/// What the previous run's report gives a run: its verdicts, read beside
/// the run (`store::report::last_marks_later`); `None` when unreadable.
type PreviousMarks = std::pin::Pin<
    Box<dyn std::future::Future<Output = Option<Vec<crate::schedule::Previous>>> + Send>,
>;

/// Opens the store for writing, starts reading the previous run's report,
/// and reads every source's state when `with_state` (a run that stores
/// its sources here, not a fleet's).
pub async fn open_store(config: &Config, with_state: bool) -> Result<OpenedStore> {
    let store = Store::open_config(config, Access::Write).await?;
    // The previous run's verdicts, read on the blocking pool beside the run.
    let previous = match crate::store::report::last_marks_later(&store).await {
        Ok(later) => Some(Box::pin(async move { later.await.ok().flatten() }) as PreviousMarks),
        Err(_) => None,
    };
    let state = match with_state {
        true => Some(Archive::read_state(&store).await?),
        false => None,
    };
    Ok(OpenedStore {
        store,
        previous,
        state,
    })
}

/// A whole run, as `run`, with its sources fetched `by` a fleet of workers
/// or here (`Here`), and what it is given `ahead`: everything else, the
/// report included, is the same code.
pub async fn run_with<S: SourceChecks>(
    posts: Vec<Post>,
    config: &Config,
    options: &RunOptions,
    progress: &dyn Progress,
    now: chrono::DateTime<chrono::Utc>,
    by: &mut S,
    ahead: Ahead<'_>,
) -> Result<Run> {
    let Ahead { opened, present } = ahead;
    if !options.keep {
        let fetcher = Arc::new(Fetcher::new(config, None)?.keeping_no_records());
        let mut report = check(
            posts,
            config,
            fetcher.clone(),
            &mut NoStore,
            by,
            progress,
            now,
        )
        .await?;
        let mementos = archived_copies(&mut report, &fetcher, config, options).await;
        let run = Run { report, mementos };
        if let Some(present) = present {
            present(&run.report)?;
        }
        return Ok(run);
    }
    let id = run_id(now);
    let elsewhere = by.stored_elsewhere(&id, now);
    let OpenedStore {
        store,
        previous,
        state,
    } = match opened {
        Some(opened) => opened,
        None => open_store(config, !elsewhere).await?,
    };
    let spool = store.spool_dir().map(std::path::Path::to_path_buf);
    let fetcher = Arc::new(Fetcher::new(config, spool)?);
    let mut archive = match (elsewhere, state) {
        (true, _) => Archive::begin_elsewhere(&store, config, &id, now).await?,
        (false, Some(state)) => Archive::begin_with(&store, config, &id, now, state).await?,
        (false, None) => Archive::begin(&store, config, &id, now).await?,
    };
    let mut report = check(
        posts,
        config,
        fetcher.clone(),
        &mut archive,
        by,
        progress,
        now,
    )
    .await?;
    report.run.id = id;
    report.store = Some(store.root().display().to_string());
    let previous = match previous {
        Some(later) => later.await,
        None => None,
    };
    crate::schedule::mark_changes(&mut report, previous.as_deref());
    let mementos = archived_copies(&mut report, &fetcher, config, options).await;
    let mut run = Run { report, mementos };
    match (present, &options.offline_pages_beside) {
        // The report is printed while the store keeps it.
        (Some(present), None) => {
            let finishing = async {
                let finished = archive.finish(&run.report).await;
                store.index.checkpoint().await;
                finished
            };
            let (finished, presented) =
                crate::store::archive::keep_beside(finishing, || present(&run.report)).await;
            if finished.is_err() {
                store.index.distrust();
            }
            store.close().await;
            finished?;
            presented?;
        }
        // The offline pages beside an HTML report are named in it.
        (present, beside) => {
            archive.finish(&run.report).await?;
            if let Some(out) = beside {
                crate::store::pages::attach_offline_pages(&store, &mut run.report, out).await?;
            }
            store.close().await;
            if let Some(present) = present {
                present(&run.report)?;
            }
        }
    }
    Ok(run)
}

/// The web archive asked about the report's dead sources (every source
/// with `--robust-links`), through the run's HTTP client.
async fn archived_copies(
    report: &mut Report,
    fetcher: &Fetcher,
    config: &Config,
    options: &RunOptions,
) -> crate::memento::Lookups {
    let endpoint = config.schedule.memento_endpoint.as_str();
    // Asked with the client its own address calls for (`fetch::address`).
    let client = fetcher.client_for(endpoint).await;
    crate::memento::archived_copies(report, client, endpoint, options.robust_links).await
}

/// Whether the report flags anything per `fail_on`.
pub fn flagged(report: &Report, fail_on: &[Verdict]) -> bool {
    report.citations.iter().any(|c| c.verdict.fails(fail_on))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(verdict: Verdict, reason: Reason) -> Check {
        Check {
            url: "https://news.example/story".into(),
            verdict,
            reason,
            status: Some(200),
            final_url: None,
            redirects: Vec::new(),
            content_type: Some("text/html".into()),
            attempts: 1,
            elapsed_ms: 0,
            detail: None,
            checked_at: "2026-01-01T00:00:00Z".into(),
        }
    }

    /// `by_own_quote` over a source's check.
    fn own_quote(
        check: &Check,
        finding: Option<QuoteFinding>,
    ) -> (Verdict, Reason, Option<String>) {
        by_own_quote(check.verdict, check.reason, check.detail.clone(), finding)
    }

    fn found(in_baseline: bool, in_live: bool) -> Option<QuoteFinding> {
        Some(QuoteFinding {
            in_baseline,
            in_live,
        })
    }

    #[test]
    fn a_quote_the_source_dropped_makes_an_ok_source_changed_for_this_citation_only() {
        let ok = checked(Verdict::Ok, Reason::Ok);
        let (v, r, _) = own_quote(&ok, found(true, false));
        assert_eq!((v, r), (Verdict::Changed, Reason::QuoteMissing));
        let (v, r, _) = own_quote(&ok, found(true, true));
        assert_eq!((v, r), (Verdict::Ok, Reason::Ok));
        let (v, r, _) = own_quote(&ok, None);
        assert_eq!((v, r), (Verdict::Ok, Reason::Ok));
    }

    #[test]
    fn a_quote_never_in_the_source_is_a_note_not_a_verdict() {
        let ok = checked(Verdict::Ok, Reason::Ok);
        let (v, r, detail) = own_quote(&ok, found(false, false));
        assert_eq!((v, r), (Verdict::Ok, Reason::Ok));
        assert!(detail.is_some_and(|d| d.contains("misquote")));
    }

    fn citing(post: &str, url: &str) -> crate::model::Citation {
        crate::model::Citation {
            post: post.into(),
            line: 1,
            url: Some(url.into()),
            text: "reported".into(),
            kind: crate::model::Kind::Link,
            context: None,
            quote: None,
            missing: None,
            raw: None,
            skip: None,
        }
    }

    #[test]
    fn every_citation_of_a_source_gets_its_evidence_and_the_last_one_takes_it() {
        let story = "https://news.example/story";
        let other = "https://news.example/other";
        let post = |name: &str, urls: &[&str]| Post {
            name: name.into(),
            base_url: None,
            date: None,
            citations: urls.iter().map(|u| citing(name, u)).collect(),
            notes: Vec::new(),
        };
        let posts = vec![post("a.html", &[story, other]), post("b.html", &[story])];
        let plans = vec![vec![Plan::At(0), Plan::At(1)], vec![Plan::At(0)]];
        let evidence = |sha: &str, failures: u32| Evidence {
            baseline: Some(sha.into()),
            history: Some(Box::new(crate::model::SourceHistory {
                consecutive_failures: failures,
                ..Default::default()
            })),
            ..Evidence::default()
        };
        let dead = Check {
            url: other.into(),
            ..checked(Verdict::Dead, Reason::HttpStatus)
        };
        let checks = vec![
            Some(Judged::from((
                checked(Verdict::Ok, Reason::Ok),
                evidence("aa", 0),
            ))),
            Some(Judged::from((dead, evidence("bb", 2)))),
        ];
        let (rows, summary) = judge_citations(planned(posts), plans, checks);
        let seen: Vec<_> = rows
            .iter()
            .map(|r| {
                let failures = r.history.as_ref().map(|h| h.consecutive_failures);
                (r.post.as_str(), r.verdict, r.snapshot.as_deref(), failures)
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("a.html", Verdict::Ok, Some("aa"), Some(0)),
                ("a.html", Verdict::Dead, Some("bb"), Some(2)),
                ("b.html", Verdict::Ok, Some("aa"), Some(0)),
            ]
        );
        assert_eq!((summary.sources, summary.ok, summary.dead), (2, 2, 1));
    }

    #[test]
    fn every_field_a_row_reads_of_its_source_survives_the_compact_check() {
        let story = "https://news.example/story";
        let cite = |quote: &str| crate::model::Citation {
            quote: Some(quote.into()),
            context: Some("As reported here.".into()),
            ..citing("a.html", story)
        };
        let post = Post {
            name: "a.html".into(),
            base_url: None,
            date: Some("2026-01-02".into()),
            citations: vec![cite("gone passage"), cite("kept passage")],
            notes: Vec::new(),
        };
        let check = Check {
            final_url: Some("https://news.example/moved".into()),
            redirects: vec![crate::model::Redirect {
                url: story.into(),
                status: 301,
            }],
            detail: Some("the page moved".into()),
            ..checked(Verdict::Ok, Reason::Ok)
        };
        let evidence = Evidence {
            similarity: Some(0.625),
            quotes: vec![
                ("gone passage".into(), found(true, false).unwrap()),
                ("kept passage".into(), found(true, true).unwrap()),
            ],
            baseline: Some("ab".repeat(32)),
            offline: Some(Box::new(crate::model::Offline {
                show: "citeguard show".into(),
                ..Default::default()
            })),
            history: Some(Box::new(crate::model::SourceHistory {
                checks: 3,
                ..Default::default()
            })),
            diff: vec![crate::model::DiffSpan {
                op: crate::model::DiffOp::Delete,
                text: "gone passage".into(),
            }],
        };
        let checks = vec![Some(Judged::from((check.clone(), evidence.clone())))];
        let plans = vec![vec![Plan::At(0), Plan::At(0)]];
        let (rows, _) = judge_citations(planned(vec![post]), plans, checks);
        for row in &rows {
            assert_eq!(row.status, check.status);
            assert_eq!(row.final_url, check.final_url);
            assert_eq!(row.redirects, check.redirects);
            assert_eq!(row.detail, check.detail);
            assert_eq!(row.similarity, evidence.similarity);
            assert_eq!(row.snapshot, evidence.baseline);
            assert_eq!(row.offline, evidence.offline);
            assert_eq!(row.history, evidence.history);
            assert_eq!(row.post_date.as_deref(), Some("2026-01-02"));
            assert_eq!(row.context.as_deref(), Some("As reported here."));
        }
        // The first citation's passage is gone: changed, with the diff;
        // the second's is there: ok, no diff.
        let judged: Vec<_> = rows
            .iter()
            .map(|r| (r.verdict, r.reason, r.quote_found, r.diff.len()))
            .collect();
        assert_eq!(
            judged,
            [
                (Verdict::Changed, Reason::QuoteMissing, Some(false), 1),
                (Verdict::Ok, Reason::Ok, Some(true), 0),
            ]
        );
        // What a run of 100,000 sources holds per source until its rows.
        assert!(std::mem::size_of::<Option<Judged>>() <= 56);
        // And per citation.
        assert!(std::mem::size_of::<Cited>() <= 80);
    }

    #[test]
    fn the_queue_order_names_each_source_host_once_and_busiest_first() {
        let source = |u: &str| Plan::Source(Arc::from(u));
        let plans = vec![
            vec![
                source("http://quiet.example/a"),
                source("https://busy.example:8443/1"),
                Plan::Fixed(Verdict::Missing, Reason::NoLink, None),
            ],
            vec![
                source("https://busy.example:8443/1"),
                source("http://busy.example/2"),
                source("http://[::1]:8080/local"),
            ],
        ];
        let (urls, hosts) = queue_order(&plans);
        let urls: Vec<&str> = urls.iter().map(|u| &**u).collect();
        assert_eq!(
            urls,
            [
                "https://busy.example:8443/1",
                "http://busy.example/2",
                "http://quiet.example/a",
                "http://[::1]:8080/local",
            ]
        );
        // Each host key is the queue's own, and one copy per host.
        for (url, host) in urls.iter().zip(&hosts) {
            assert_eq!(**host, host_key(url));
        }
        assert!(Arc::ptr_eq(&hosts[0], &hosts[1]));
    }

    #[test]
    fn an_unreachable_source_is_not_judged_by_its_quote() {
        let down = checked(Verdict::Unreachable, Reason::Http5xx);
        let (v, r, detail) = own_quote(&down, found(true, false));
        assert_eq!(
            (v, r, detail),
            (Verdict::Unreachable, Reason::Http5xx, None)
        );
    }
}
