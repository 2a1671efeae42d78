//! `citeguard worker`: claims sources from the queue (politely, for the
//! fleet as a whole: `politeness.rs`), fetches each with the run's own
//! settings through the same code a local run uses
//! (`check::fetch_sources`: the fetcher's verdict steps, then the store's
//! hook), and records its result once.
//!
//! While it works it renews its leases; killed, it loses nothing: its
//! leases run out and another worker takes its sources over. A worker whose
//! lease was taken over while it was still at it drops its result, so each
//! source has exactly one. Told to stop, it claims nothing more, finishes
//! what it holds, and returns. When the database cannot be reached it
//! says so once (`Events::lost`), backs off and retries, and says when it
//! is back.
//!
//! It never prints: the binary hears of it through `Events`.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OnceCell, watch};
use tokio::task::JoinSet;

use super::distributed::origin;
use super::gather::Gather;
use super::politeness::{Claimed, claim, next_due, take_turn};
use super::queue::{Queue, Robots};
use super::wire::Outcome;
use crate::check::{Silent, Sources, fetch_sources};
use crate::error::{Error, Result};
use crate::fetch::Turn;
use crate::fetch::{ExchangeBody, Fetched, Fetcher};
use crate::model::Check;
use crate::store::archive::Archive;
use crate::store::hook::{NoStore, SourceHook, SourceOutcome};
use crate::store::index::{SnapshotRow, SourceState};
use crate::store::{Access, Location, Store};

/// What the binary hears of a worker (and of a coordinator's waiting).
pub trait Events: Send + Sync {
    /// A run's sources are in the queue.
    fn queued(&self, _run: &str, _sources: usize) {}
    /// The database cannot be reached; retrying after `retry_in`. Said
    /// once per outage.
    fn lost(&self, _cause: &str, _retry_in: Duration) {}
    /// The database answers again.
    fn back(&self) {}
    /// Keeping a source in the store failed; its source goes back to the
    /// queue and no source is claimed for `retry_in`. Said once per
    /// outage.
    fn store_lost(&self, _cause: &str, _retry_in: Duration) {}
    /// A source was kept in the store again.
    fn store_back(&self) {}
    /// A run's store cannot be opened yet (its PostgreSQL cannot be
    /// reached); trying again after `retry_in`. Said once; `store_back`
    /// says when it opened.
    fn store_waiting(&self, _cause: &str, _retry_in: Duration) {}
    /// A source's result is recorded.
    fn done(&self, _check: &Check) {}
    /// A source's lease was taken over by another worker while this one
    /// was at it: its result was dropped.
    fn dropped(&self, _url: &str) {}
    /// A coordinator has waited `waited` and no worker has claimed any of
    /// its run's sources from `queue` (said once per run).
    fn no_worker(&self, _run: &str, _queue: &str, _waited: Duration) {}
}

/// Nothing heard.
pub struct Quiet;
impl Events for Quiet {}

/// How a worker works.
#[derive(Debug, Clone)]
pub struct Options {
    /// This worker's name in the queue (leases are held in it).
    pub name: String,
    /// Sources in flight at once.
    pub concurrency: usize,
    /// How long a claim holds without renewal.
    pub lease: Duration,
    /// Return once the queue holds no unfinished source.
    pub exit_when_idle: bool,
    /// The longest wait between two claims when nothing may start.
    pub poll: Duration,
    /// Where this worker finds the store of a run that keeps copies, over
    /// what the run's config says.
    pub store: StoreFlags,
    /// A run whose coordinator has been silent this long is ended.
    pub abandoned: Duration,
}

/// Where a worker finds a run's store, over the run's config (the
/// coordinator's): each set field replaces the config's. The credentials
/// are the worker's own (a run's config never carries any).
#[derive(Clone, Default)]
pub struct StoreFlags {
    /// The index: a PostgreSQL URL.
    pub store: Option<String>,
    /// A directory or `s3://bucket/prefix`.
    pub objects: Option<String>,
    pub s3_endpoint: Option<String>,
    pub s3_region: Option<String>,
    pub s3_credentials: Option<crate::config::S3Credentials>,
}

impl std::fmt::Debug for StoreFlags {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreFlags")
            .field("store", &self.store.as_deref().map(super::queue::redact))
            .field("objects", &self.objects)
            .field("s3_endpoint", &self.s3_endpoint)
            .field("s3_region", &self.s3_region)
            .finish_non_exhaustive()
    }
}

impl StoreFlags {
    /// The run's config, with this worker's store flags over it.
    fn apply(&self, config: &mut crate::config::Config) {
        if let Some(v) = &self.store {
            config.store = v.into();
        }
        if let Some(v) = &self.objects {
            config.objects = Some(v.clone());
        }
        if let Some(v) = &self.s3_endpoint {
            config.s3_endpoint = Some(v.clone());
        }
        if let Some(v) = &self.s3_region {
            config.s3_region = Some(v.clone());
        }
        if self.s3_credentials.is_some() {
            config.s3_credentials = self.s3_credentials.clone();
        }
    }
}

impl Options {
    pub fn new(name: impl Into<String>) -> Options {
        Options {
            name: name.into(),
            concurrency: 32,
            lease: Duration::from_secs(60),
            exit_when_idle: false,
            poll: Duration::from_millis(500),
            store: StoreFlags::default(),
            abandoned: super::distributed::ABANDONED,
        }
    }
}

/// What a worker did.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    /// Sources whose result it recorded.
    pub sources: u64,
    /// Results dropped because another worker had taken the source over.
    pub dropped: u64,
    /// Statements it sent to PostgreSQL: the queue's, and the store's for
    /// the sources it kept.
    pub statements: u64,
}

/// A worker's name: host name, process id and a random suffix.
pub fn default_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "worker".into());
    format!(
        "{host}-{}-{:06x}",
        std::process::id(),
        rand::random::<u32>() & 0xff_ffff
    )
}

/// How often an idle worker looks for abandoned runs.
const SWEEP: Duration = Duration::from_secs(30);

/// Exponential backoff, 250 ms doubling up to 30 s.
struct Backoff {
    wait: Duration,
}

impl Backoff {
    fn new() -> Backoff {
        Backoff {
            wait: Duration::from_millis(250),
        }
    }

    /// The wait before the next try.
    fn wait(&mut self) -> Duration {
        let wait = self.wait;
        self.wait = (self.wait * 2).min(Duration::from_secs(30));
        wait
    }
}

/// One run as this worker knows it: a fetcher built from the run's
/// settings (its robots.txt and soft-404 caches are the run's, in this
/// process), and the origins whose robots.txt it knows already.
struct RunCtx {
    fetcher: Result<Arc<Fetcher>, String>,
    robots_known: Mutex<HashSet<String>>,
    /// The origins whose robots.txt this worker asked the queue for: once
    /// each, by the first of its tasks to meet the origin; the others
    /// wait for that answer (all of a claim's tasks start together, and
    /// asked one each, before any had kept the answer).
    robots_asked: Mutex<HashMap<String, Arc<OnceCell<()>>>>,
    /// The run's archive in its store, when the run keeps copies: one per
    /// run in this worker, shared by its tasks (their fetches go into its
    /// batches, committed together).
    archive: Option<RunArchive>,
}

/// The run's archive in this worker, and how to start another: one whose
/// commit failed fails every later commit, so after a store failure the
/// tasks that start next get a fresh one (those still holding the old
/// fail too, and their sources go back to the queue as well).
struct RunArchive {
    current: Mutex<Arc<Mutex<Archive<'static>>>>,
    join: Box<dyn Fn() -> Archive<'static> + Send + Sync>,
    /// The reads of the worker's tasks, gathered (`Kept`).
    reads: Reads,
}

/// What a worker's tasks read from the index before they store a source,
/// gathered into few statements: the sources' states (those of a claim
/// are asked together) and the first captures of their bodies.
#[derive(Clone)]
struct Reads {
    states: Arc<Gather<String, SourceState>>,
    firsts: Arc<Gather<String, Option<SnapshotRow>>>,
}

/// How long a question waits for others before it is sent: a claim's
/// tasks ask within it, and a source waits for little beside its fetch.
const GATHER_WINDOW: Duration = Duration::from_millis(3);

impl Reads {
    fn of(store: &'static Store) -> Reads {
        Reads {
            states: Gather::new(
                store.name(),
                GATHER_WINDOW,
                move |urls: Vec<String>| async move {
                    crate::store::archive::source_states(store, &urls).await
                },
            ),
            firsts: Gather::new(
                store.name(),
                GATHER_WINDOW,
                move |shas: Vec<String>| async move {
                    crate::store::archive::first_snapshots(store, &shas).await
                },
            ),
        }
    }
}

impl RunArchive {
    fn current(&self) -> Arc<Mutex<Archive<'static>>> {
        lock(&self.current).clone()
    }

    /// A fresh archive for the tasks that start from now on.
    fn rejoin(&self) {
        *lock(&self.current) = Arc::new(Mutex::new((self.join)()));
    }
}

/// The store's outages as one worker meets them: said once when the
/// first source fails to be kept, once when one is kept again; meanwhile
/// no source is claimed until the backoff's wait has passed.
struct StoreReach {
    events: Arc<dyn Events>,
    state: Mutex<StoreState>,
}

struct StoreState {
    down: bool,
    backoff: Backoff,
    until: Option<std::time::Instant>,
}

impl StoreReach {
    fn new(events: Arc<dyn Events>) -> StoreReach {
        StoreReach {
            events,
            state: Mutex::new(StoreState {
                down: false,
                backoff: Backoff::new(),
                until: None,
            }),
        }
    }

    fn lost(&self, e: &Error) {
        let now = std::time::Instant::now();
        let mut s = lock(&self.state);
        // Sources failing together are one failure: the wait grows only
        // for a failure after the last wait has passed.
        if s.until.is_some_and(|until| now < until) {
            return;
        }
        let wait = s.backoff.wait();
        s.until = Some(now + wait);
        if !s.down {
            s.down = true;
            drop(s);
            self.events.store_lost(&crate::error::chain_text(e), wait);
        }
    }

    fn ok(&self) {
        let mut s = lock(&self.state);
        if s.down {
            *s = StoreState {
                down: false,
                backoff: Backoff::new(),
                until: None,
            };
            drop(s);
            self.events.store_back();
        }
    }

    /// How long claims wait yet, if they do.
    fn paused(&self) -> Option<Duration> {
        let until = lock(&self.state).until?;
        until.checked_duration_since(std::time::Instant::now())
    }
}

/// A store this worker opened, by where it is; kept open for the life of
/// the process (runs come and go, the store stays).
type Stores = tokio::sync::Mutex<Vec<(String, &'static Store)>>;

/// A run's context, built once by the first source of it; `None` when
/// the run had ended.
type RunCell = Arc<OnceCell<Option<Arc<RunCtx>>>>;

/// The runs this worker has met; the oldest forgotten past a few.
#[derive(Default)]
struct Runs {
    cells: Vec<(String, RunCell)>,
}

/// Whether the queue answers, as one process (a worker, a coordinator)
/// reports it: an outage is said once when it starts and once when it
/// ends, however many tasks meet it.
pub struct Reach {
    events: Arc<dyn Events>,
    down: AtomicBool,
}

impl Reach {
    pub fn new(events: Arc<dyn Events>) -> Reach {
        Reach {
            events,
            down: AtomicBool::new(false),
        }
    }

    pub fn lost(&self, e: &Error, wait: Duration) {
        if !self.down.swap(true, Ordering::SeqCst) {
            self.events.lost(&crate::error::chain_text(e), wait);
        }
    }

    pub fn ok(&self) {
        if self.down.swap(false, Ordering::SeqCst) {
            self.events.back();
        }
    }

    /// Retries a queue operation, with backoff, until it succeeds.
    pub async fn retry<T, F, Fut>(&self, what: F) -> T
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        match self.retry_until(what, std::future::pending::<()>()).await {
            Some(v) => v,
            None => unreachable!("a pending future never ends"),
        }
    }

    /// Retries a queue operation, with backoff, until it succeeds or
    /// `stop` ends (then `None`: nothing more is tried).
    pub async fn retry_until<T, F, Fut, S>(&self, what: F, stop: S) -> Option<T>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
        S: std::future::Future,
    {
        let mut backoff = Backoff::new();
        let mut stop = std::pin::pin!(stop);
        loop {
            match what().await {
                Ok(v) => {
                    self.ok();
                    return Some(v);
                }
                Err(e) => {
                    let wait = backoff.wait();
                    self.lost(&e, wait);
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = &mut stop => return None,
                    }
                }
            }
        }
    }
}

const RUNS_KEPT: usize = 8;

struct Shared {
    queue: Queue,
    options: Options,
    events: Arc<dyn Events>,
    in_flight: Mutex<HashSet<i64>>,
    runs: Mutex<Runs>,
    reach: Arc<Reach>,
    store_reach: StoreReach,
    sources: AtomicU64,
    dropped: AtomicU64,
    stores: Stores,
    /// Results recorded together (`Queue::complete_many`): a group
    /// commit lets many go at once.
    results: Arc<Gather<(i64, String), bool>>,
    /// Set when the worker is told to stop.
    stop: watch::Receiver<bool>,
    /// Sources being fetched and stored (`Slot`s taken).
    fetching: AtomicUsize,
    /// A slot was given back.
    slot_freed: tokio::sync::Notify,
}

/// How many sources may wait for their batch's commit, as a multiple of
/// the sources in flight.
const WAITING: usize = 4;

/// A source's place among those in flight: taken when it is claimed,
/// given back once it is fetched and stored, before it waits for its
/// batch's commit (one group commit per 100 ms held every slot for most
/// of a source's time: 64 in flight made ~500 sources a second).
struct Slot(Arc<Shared>);

impl Slot {
    fn take(shared: &Arc<Shared>) -> Slot {
        shared.fetching.fetch_add(1, Ordering::SeqCst);
        Slot(shared.clone())
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetching.fetch_sub(1, Ordering::SeqCst);
        self.0.slot_freed.notify_one();
    }
}

impl Shared {
    /// The run's context; `None` when the run has ended.
    async fn run(&self, run: &str) -> Option<Arc<RunCtx>> {
        let cell = {
            let mut runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
            match runs.cells.iter().find(|(id, _)| id == run) {
                Some((_, cell)) => cell.clone(),
                None => {
                    if runs.cells.len() >= RUNS_KEPT {
                        runs.cells.remove(0);
                    }
                    let cell = Arc::new(OnceCell::new());
                    runs.cells.push((run.to_string(), cell.clone()));
                    cell
                }
            }
        };
        cell.get_or_init(|| async {
            let settings = self.reach.retry(|| self.queue.run_settings(run)).await?;
            let mut config = settings.config;
            let (store, archive) = match &settings.store {
                None => (Ok(None), None),
                Some(at) => {
                    self.options.store.apply(&mut config);
                    match self.store(&config).await {
                        Ok(store) => {
                            let (config, id, at_now) = (config.clone(), at.id.clone(), at.now);
                            let name = self.options.name.clone();
                            let join =
                                Box::new(move || Archive::join(store, &config, &id, at_now, &name));
                            let archive = RunArchive {
                                current: Mutex::new(Arc::new(Mutex::new(join()))),
                                join,
                                reads: Reads::of(store),
                            };
                            (Ok(Some(store)), Some(archive))
                        }
                        Err(e) => (Err(e), None),
                    }
                }
            };
            let fetcher = store.and_then(|store| {
                let spool = store
                    .and_then(Store::spool_dir)
                    .map(std::path::Path::to_path_buf);
                Fetcher::new(&config, spool)
                    .map(|fetcher| {
                        fetcher.take_turns(self.turn());
                        Arc::new(fetcher)
                    })
                    .map_err(|e| crate::error::chain_text(&e))
            });
            Some(Arc::new(RunCtx {
                fetcher,
                robots_known: Mutex::new(HashSet::new()),
                robots_asked: Mutex::new(HashMap::new()),
                archive,
            }))
        })
        .await
        .clone()
    }

    /// Waits, with backoff, while the store's PostgreSQL cannot be reached
    /// (not up yet: a worker may start before it), saying so once; any
    /// other error is left for the store's opening to say, at once. An
    /// error when told to stop meanwhile.
    async fn wait_for_postgres(&self, url: &str, name: &std::path::Path) -> Result<(), String> {
        let mut backoff = Backoff::new();
        let mut said = false;
        let mut stop = self.stop.clone();
        loop {
            match crate::store::index::reach_postgres(url).await {
                Err(e) if e.is_unreachable() => {
                    let wait = backoff.wait();
                    if !std::mem::replace(&mut said, true) {
                        self.events
                            .store_waiting(&format!("{}: PostgreSQL: {e}", name.display()), wait);
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = stop.wait_for(|stopped| *stopped) => {
                            return Err(format!("{}: stopped before the store could be opened", name.display()));
                        }
                    }
                }
                _ => {
                    if said {
                        self.events.store_back();
                    }
                    return Ok(());
                }
            }
        }
    }

    /// A host's turn across the fleet (`take_turn`), for the fetcher to
    /// wait for before each request on a host with a delay, robots.txt
    /// included.
    fn turn(&self) -> Turn {
        let (queue, reach) = (self.queue.clone(), self.reach.clone());
        Arc::new(move |host: String| {
            let (queue, reach) = (queue.clone(), reach.clone());
            Box::pin(async move { reach.retry(|| take_turn(&queue, &host)).await })
        })
    }

    /// The store the config names, opened as one of its many writers
    /// (`Access::Share`) the first time, then kept.
    async fn store(&self, config: &crate::config::Config) -> Result<&'static Store, String> {
        let at = format!(
            "{} {:?} {:?}",
            config.store.display(),
            config.objects,
            config.s3_endpoint
        );
        let mut stores = self.stores.lock().await;
        if let Some((_, store)) = stores.iter().find(|(k, _)| *k == at) {
            return Ok(store);
        }
        let location = Location::of(config).map_err(|e| crate::error::chain_text(&e))?;
        if let crate::store::IndexAt::Postgres(url) = &location.index {
            self.wait_for_postgres(url, &location.name()).await?;
        }
        // Opened on a thread of its own, as its future is not `Send` to
        // the compiler's eye (sqlx's executors through generic calls).
        let handle = tokio::runtime::Handle::current();
        let store = tokio::task::spawn_blocking(move || {
            handle.block_on(Store::open_at(&location, Access::Share))
        })
        .await
        .map_err(|e| format!("opening the store failed: {e}"))?
        .map_err(|e| crate::error::chain_text(&e))?;
        let store: &'static Store = Box::leak(Box::new(store));
        stores.push((at, store));
        Ok(store)
    }
}

/// Works until told to stop (or, with `exit_when_idle`, until the queue
/// holds nothing unfinished), then finishes what it holds.
pub async fn work(
    queue: Queue,
    options: Options,
    events: Arc<dyn Events>,
    mut stop: watch::Receiver<bool>,
) -> Result<Tally> {
    let results = {
        let (queue, name) = (queue.clone(), options.name.clone());
        Gather::new(
            queue.name().to_string(),
            GATHER_WINDOW,
            move |results: Vec<(i64, String)>| {
                let (queue, name) = (queue.clone(), name.clone());
                async move { queue.complete_many(&name, &results).await }
            },
        )
    };
    let shared = Arc::new(Shared {
        stop: stop.clone(),
        fetching: AtomicUsize::new(0),
        slot_freed: tokio::sync::Notify::new(),
        results,
        queue,
        options,
        reach: Arc::new(Reach::new(events.clone())),
        store_reach: StoreReach::new(events.clone()),
        events,
        in_flight: Mutex::new(HashSet::new()),
        runs: Mutex::new(Runs::default()),
        sources: AtomicU64::new(0),
        dropped: AtomicU64::new(0),
        stores: Default::default(),
    });
    let renewer = tokio::spawn(renew(shared.clone()));
    let mut tasks: JoinSet<()> = JoinSet::new();
    let concurrency = shared.options.concurrency.max(1);
    let mut idle = Duration::from_millis(10);
    let mut backoff = Backoff::new();
    let abandoned = shared.options.abandoned;
    // The first idle moment sweeps at once.
    let mut swept = std::time::Instant::now()
        .checked_sub(SWEEP)
        .unwrap_or_else(std::time::Instant::now);
    loop {
        if *stop.borrow() {
            break;
        }
        while tasks.try_join_next().is_some() {}
        if swept.elapsed() >= SWEEP {
            // Sources of a run whose coordinator is gone are no one's to
            // check (best effort: the claim says it if the queue fails).
            let _ = shared.queue.end_abandoned(abandoned).await;
            swept = std::time::Instant::now();
        }
        // Sources in flight are those being fetched and stored; those
        // that wait for their batch's commit hold no slot (a few times as
        // many may wait).
        let fetching = shared.fetching.load(Ordering::SeqCst);
        let free = concurrency
            .saturating_sub(fetching)
            .min((WAITING * concurrency).saturating_sub(tasks.len()));
        if free == 0 {
            tokio::select! {
                _ = shared.slot_freed.notified() => {}
                _ = tasks.join_next() => {}
                _ = stop.changed() => {}
            }
            continue;
        }
        if let Some(wait) = shared.store_reach.paused() {
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stop.changed() => {}
            }
            continue;
        }
        let o = &shared.options;
        match claim(&shared.queue, &o.name, free, o.lease).await {
            Ok(claimed) if !claimed.is_empty() => {
                shared.reach.ok();
                backoff = Backoff::new();
                idle = Duration::from_millis(10);
                for c in claimed {
                    lock(&shared.in_flight).insert(c.id);
                    let slot = Slot::take(&shared);
                    tasks.spawn(process(shared.clone(), c, slot));
                }
            }
            Ok(_) => {
                shared.reach.ok();
                if shared.options.exit_when_idle && tasks.is_empty() {
                    match shared.queue.unfinished().await {
                        Ok(0) => break,
                        Ok(_) => {}
                        Err(e) => shared.reach.lost(&e, idle),
                    }
                }
                // Until the next host is due, when one is; else a wait
                // that grows while the queue stays empty.
                let wait = match next_due(&shared.queue, &shared.options.name).await {
                    Ok(Some(due)) => due.clamp(Duration::from_millis(2), shared.options.poll),
                    _ => {
                        let wait = idle;
                        idle = (idle * 2).min(shared.options.poll);
                        wait
                    }
                };
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
                    _ = stop.changed() => {}
                }
            }
            Err(e) => {
                let wait = backoff.wait();
                shared.reach.lost(&e, wait);
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = stop.changed() => {}
                }
            }
        }
    }
    while tasks.join_next().await.is_some() {}
    renewer.abort();
    let stored_statements: u64 = shared
        .stores
        .lock()
        .await
        .iter()
        .map(|(_, store)| store.index.statements())
        .sum();
    Ok(Tally {
        sources: shared.sources.load(Ordering::Relaxed),
        dropped: shared.dropped.load(Ordering::Relaxed),
        statements: shared.queue.statements() + stored_statements,
    })
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Keeps the leases of what this worker holds alive.
async fn renew(shared: Arc<Shared>) {
    let every = shared.options.lease / 3;
    loop {
        tokio::time::sleep(every).await;
        let ids: Vec<i64> = lock(&shared.in_flight).iter().copied().collect();
        if ids.is_empty() {
            continue;
        }
        let o = &shared.options;
        match shared.queue.renew(&o.name, &ids, o.lease).await {
            Ok(()) => shared.reach.ok(),
            Err(e) => shared.reach.lost(&e, every),
        }
    }
}

/// One claimed source: fetched as a local run fetches it, its result
/// recorded once.
async fn process(shared: Arc<Shared>, c: Claimed, slot: Slot) {
    let outcome = match shared.run(&c.run_id).await {
        // The run ended under us: no one waits for this source.
        None => None,
        Some(ctx) => match &ctx.fetcher {
            Err(e) => Some(Outcome::Failed { error: e.clone() }),
            Ok(fetcher) => match fetch_one(&shared, &ctx, fetcher, &c, slot).await {
                Ok(outcome) => {
                    if ctx.archive.is_some() {
                        shared.store_reach.ok();
                    }
                    Some(outcome)
                }
                // The store failed (the database or the copies' storage
                // gone): the source goes back to the queue (its lease,
                // no longer renewed, runs out and a worker takes it
                // again), the run's archive starts afresh, and claims
                // wait.
                Err(e) => {
                    if let Some(archive) = &ctx.archive {
                        archive.rejoin();
                    }
                    shared.store_reach.lost(&e);
                    None
                }
            },
        },
    };
    if let Some(outcome) = outcome {
        let json = outcome.to_json();
        let kept = shared
            .reach
            .retry(|| shared.results.ask((c.id, json.clone())))
            .await;
        if kept {
            shared.sources.fetch_add(1, Ordering::Relaxed);
            if let Outcome::Checked { check, .. } = &outcome {
                shared.events.done(check);
            }
        } else {
            shared.dropped.fetch_add(1, Ordering::Relaxed);
            shared.events.dropped(&c.url);
        }
    }
    lock(&shared.in_flight).remove(&c.id);
}

/// A claimed source fetched (and kept, when the run keeps copies); an
/// error when the store failed to keep it.
async fn fetch_one(
    shared: &Shared,
    ctx: &RunCtx,
    fetcher: &Arc<Fetcher>,
    c: &Claimed,
    slot: Slot,
) -> Result<Outcome> {
    let origin = origin(&c.url);
    if c.robots_first && !lock(&ctx.robots_known).contains(&origin) {
        let asked = lock(&ctx.robots_asked)
            .entry(origin.clone())
            .or_default()
            .clone();
        asked
            .get_or_init(|| async {
                let known = shared
                    .reach
                    .retry(|| shared.queue.robots(&c.run_id, &origin))
                    .await;
                if let Robots::Known(body) = known {
                    fetcher.seed_robots(&c.url, body.as_deref()).await;
                    lock(&ctx.robots_known).insert(origin.clone());
                }
            })
            .await;
    }
    let robots_pending = c.robots_first && !lock(&ctx.robots_known).contains(&origin);
    let (outcome, robots) = match &ctx.archive {
        None => fetch_with(NoStore, fetcher, c, slot).await,
        Some(archive) => {
            let kept = Kept {
                archive: archive.current(),
                reads: archive.reads.clone(),
                batch: None,
            };
            // The store's futures are not `Send` to the compiler's eye (it
            // cannot prove it through the hook's generic async methods), so
            // a source that is kept is fetched on a thread of its own.
            let (fetcher, c) = (fetcher.clone(), c.clone());
            let handle = tokio::runtime::Handle::current();
            let joined = tokio::task::spawn_blocking(move || {
                handle.block_on(fetch_with(kept, &fetcher, &c, slot))
            })
            .await;
            joined.unwrap_or_else(|e| {
                let error = format!("storing a source failed: {e}");
                (Ok(Outcome::Failed { error }), None)
            })
        }
    };
    // Only the task whose fetch asked for robots.txt has its answer to
    // keep (another task of this worker, on the same origin, waited for
    // it in the fetcher). When the host gave no answer at all, nothing is
    // kept: the placeholder stays this worker's while it lives, and
    // another worker asks again after it.
    if robots_pending && let Some((status, body)) = &robots {
        shared
            .reach
            .retry(|| {
                shared
                    .queue
                    .keep_robots(&c.run_id, &origin, Some(*status), Some(body))
            })
            .await;
        lock(&ctx.robots_known).insert(origin);
    }
    outcome
}

/// Fetches one claimed source through `hook` (nothing kept, or the run's
/// archive); its outcome (an error when the store failed to keep it),
/// and the robots.txt answer its fetch carried.
async fn fetch_with<H: Finish>(
    inner: H,
    fetcher: &Arc<Fetcher>,
    c: &Claimed,
    slot: Slot,
) -> (Result<Outcome>, Option<(u16, Vec<u8>)>) {
    let order = [std::sync::Arc::from(c.url.as_str())];
    let sources = Sources::listed(&order, vec![c.quotes.clone()]);
    let mut hook = Watch {
        inner,
        robots_url: url::Url::parse(&c.url)
            .and_then(|u| u.join("/robots.txt"))
            .map(|u| u.to_string())
            .unwrap_or_default(),
        robots: Mutex::new(None),
    };
    let fetched = fetch_sources(&sources, fetcher, &mut hook, &Silent).await;
    // Fetched and stored: the wait for the batch's commit leaves the slot
    // to the next source.
    drop(slot);
    let fetched = match fetched {
        // What the hook kept is in the store before the result is sent.
        Ok(checks) => hook.inner.finish().await.map(|_| checks),
        Err(e) => Err(e),
    };
    let outcome = match fetched {
        Ok(mut checks) => Ok(match checks.pop().flatten() {
            Some((check, evidence)) => Outcome::checked(&check, &evidence),
            None => Outcome::Unfetched,
        }),
        Err(e @ Error::Store { .. }) => Err(e),
        // Anything else (a fetch that panicked) ends the run, as it ends
        // a local run.
        Err(e) => Ok(Outcome::Failed {
            error: crate::error::chain_text(&e),
        }),
    };
    let robots = lock(&hook.robots).take();
    (outcome, robots)
}

/// A worker's hook, with what it must do before a source's result is
/// sent.
trait Finish: SourceHook {
    /// Makes what the hook kept of the source durable.
    async fn finish(&mut self) -> Result<()> {
        Ok(())
    }
}

impl Finish for NoStore {}

/// The run's archive, as one task of the worker uses it: the task's
/// fetches go into the archive's open batch (with those of the worker's
/// other tasks), and `finish` returns once the batch holding the last of
/// them is committed: by this task, or by another whose commit took it
/// along.
///
/// The archive is behind a plain mutex, held across the archive's own
/// awaits: each task runs on a thread of its own (`fetch_one`), so a task
/// waiting for it blocks only itself. (A fair async mutex would hand it
/// to a preparation's future queued for it while its task, not polling
/// that future, waits for the mutex itself in `source`: a deadlock.)
struct Kept {
    archive: Arc<Mutex<Archive<'static>>>,
    /// What a task reads from the index without holding the archive.
    reads: Reads,
    /// The batch this task's last fetch went into.
    batch: Option<u64>,
}

impl SourceHook for Kept {
    type Ready = crate::store::archive::Ready;

    #[allow(clippy::await_holding_lock)]
    async fn validators(&mut self, url: &str) -> Result<Option<crate::fetch::Validators>> {
        self.read_state(url).await?;
        lock(&self.archive).validators(url).await
    }

    fn prepare(
        &self,
        fetched: Fetched,
        page: bool,
    ) -> impl std::future::Future<Output = Result<Self::Ready>> + Send + 'static {
        let archive = self.archive.clone();
        async move {
            // The preparation owns what it needs: the lock is held only to
            // start it. (No call of this task holds it meanwhile: it polls
            // its preparations only between calls.)
            let ready = lock(&archive).prepare(fetched, page);
            ready.await
        }
    }

    #[allow(clippy::await_holding_lock)]
    async fn source(&mut self, ready: Self::Ready, quotes: &[String]) -> Result<SourceOutcome> {
        self.read_first(&ready).await?;
        let mut archive = lock(&self.archive);
        let outcome = archive.source(ready, quotes).await?;
        self.batch = Some(archive.batch_number());
        Ok(outcome)
    }

    #[allow(clippy::await_holding_lock)]
    async fn requisite(&mut self, ready: Self::Ready) -> Result<Vec<String>> {
        self.read_state(ready.url()).await?;
        self.read_first(&ready).await?;
        let mut archive = lock(&self.archive);
        let more = archive.requisite(ready).await?;
        self.batch = Some(archive.batch_number());
        Ok(more)
    }
}

impl Kept {
    /// Reads a source's state from the index into the archive, unless it
    /// has it: the statements go out without the archive held, gathered
    /// with the other tasks' (those of one claim ask together).
    async fn read_state(&self, url: &str) -> Result<()> {
        if lock(&self.archive).knows(url) {
            return Ok(());
        }
        let state = self.reads.states.ask(url.to_string()).await?;
        lock(&self.archive).know(url, state);
        Ok(())
    }

    /// Reads the first capture of a fetched body's bytes into the
    /// archive, when storing it would ask: gathered with the other
    /// tasks', and without the archive held (it was one round trip per
    /// source under it).
    async fn read_first(&self, ready: &crate::store::archive::Ready) -> Result<()> {
        let Some(sha) = ready.body_sha256() else {
            return Ok(());
        };
        if !lock(&self.archive).wants_first(ready.url(), sha) {
            return Ok(());
        }
        let first = self.reads.firsts.ask(sha.to_string()).await?;
        lock(&self.archive).know_first(sha, first);
        Ok(())
    }
}

/// How long a source waits for others to join its batch before its task
/// commits it: the worker's tasks finish one at a time, and a commit per
/// source (a WARC file and a transaction each) held the archive for most
/// of a source's time.
const GROUP_COMMIT: Duration = Duration::from_millis(100);

impl Finish for Kept {
    async fn finish(&mut self) -> Result<()> {
        let Some(n) = self.batch.take() else {
            return Ok(());
        };
        let gate = loop {
            let wait = {
                let archive = lock(&self.archive);
                if archive.committed_through(n) {
                    return Ok(());
                }
                let age = archive.batch_age();
                // (An empty open batch has no age: nothing to wait for. A
                // batch taken out is committing: wait for its gate.)
                if archive.taken_through(n) || age >= GROUP_COMMIT || age.is_zero() {
                    break archive.gate();
                }
                GROUP_COMMIT - age
            };
            tokio::time::sleep(wait).await;
        };
        // One batch commits at a time, in order, and without the archive
        // held: the other tasks store into the next batch meanwhile.
        let _turn = gate.lock().await;
        let committing = {
            let mut archive = lock(&self.archive);
            if archive.committed_through(n) {
                return Ok(());
            }
            // Batch `n` is the open one (a batch taken out before it was
            // committed, or failed and failed every later one with it).
            archive.take_batch()?
        };
        let done = committing.commit().await;
        lock(&self.archive).committed(done)
    }
}

/// The store's hook, watched: the robots.txt exchange a fetch carries is
/// noted on its way to the hook, for the other workers of the run.
struct Watch<H> {
    inner: H,
    robots_url: String,
    robots: Mutex<Option<(u16, Vec<u8>)>>,
}

impl<H: SourceHook> SourceHook for Watch<H> {
    type Ready = H::Ready;

    async fn validators(&mut self, url: &str) -> Result<Option<crate::fetch::Validators>> {
        self.inner.validators(url).await
    }

    fn prepare(
        &self,
        fetched: Fetched,
        page: bool,
    ) -> impl std::future::Future<Output = Result<Self::Ready>> + Send + 'static {
        if page
            && let Some(e) = fetched.exchanges.first()
            && e.url == self.robots_url
            && let ExchangeBody::Read { bytes, .. } = &e.body
        {
            *lock(&self.robots) = Some((e.status, bytes.clone()));
        }
        self.inner.prepare(fetched, page)
    }

    async fn source(&mut self, ready: Self::Ready, quotes: &[String]) -> Result<SourceOutcome> {
        self.inner.source(ready, quotes).await
    }

    async fn requisite(&mut self, ready: Self::Ready) -> Result<Vec<String>> {
        self.inner.requisite(ready).await
    }
}
