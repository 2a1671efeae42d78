//! The store's side of a check run: every fetched body becomes a WARC
//! record (its one copy) and a snapshot row; the first snapshot of a
//! source is its baseline; the fetch's verdict is then revised by the
//! rules in `judge.rs` (history, lost baseline, comparison), and the check
//! is kept.
//! `finish` keeps the run's report.
//!
//! The work is split in two. `prepare` (the hook's state-free step, which
//! `check` runs several at once on the blocking pool) reads the body,
//! finds its requisites and encodes the body's WARC records; when the
//! source's baseline holds other bytes it also extracts the page's main
//! text and hashes it and its normalised form (the text is not stored:
//! `text_of` extracts it again from the body when a comparison needs it).
//! A first copy, or the baseline's bytes again, has its text hashes
//! deferred (`TEXT_DEFERRED`): nothing compares them until a later body
//! differs, and then the text is made from the body. `source` and `requisite` then take the prepared fetches one
//! at a time: they decide what to write from the index's state, which the
//! archive keeps in memory for the run (sources, latest snapshots,
//! baselines), and gather the index rows in a `Batch`.
//!
//! Writes are durable per batch (`BATCH_AGE` of fetches, at most
//! `BATCH_MOST`): the batch's WARC records are appended as the batch goes,
//! unsynced; `commit` then syncs the WARC file (one `fdatasync`) before
//! the batch's index rows are committed in one transaction. So an index
//! row never names a record that is not whole on disk, and a run killed
//! or cut off by a power failure loses at most its open batch: its records
//! stay at the WARC file's end as captures no row names (a torn last one
//! is cut off when the file is reopened). The run's report, at `finish`,
//! is an object, synced and in place before the row that names it.
//!
//! It never fetches and never prints; it writes only through `Objects`,
//! the WARC writer and the index.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::Store;
use super::hook::{Evidence, REQUISITES_PER_PAGE, SourceHook, SourceOutcome};
use super::index::{Batch, CheckRow, SnapshotRow, SourceRow};
use super::judge::{self, Texts};
use super::objects::Objects;
use super::warc::{
    Body, Capture, Earlier, Encoded, Encoder, Exchange, Profile, WarcWriter, Written,
};
use crate::base::time::rfc3339;
use crate::compare;
use crate::config::{Config, ScheduleConfig};
use crate::error::{Error, Result};
use crate::fetch::{ExchangeBody, Fetched, FetchedBody, Validators};
use crate::model::{Check, Offline, SourceHistory};

/// A requisite larger than this is not kept: the offline copy goes without
/// that image rather than the store filling with video posters.
const MAX_REQUISITE_BYTES: u64 = 5 * 1024 * 1024;

/// The `text_sha256` of a snapshot that has a main text (a cited HTML or
/// text page) whose hashes were not computed when it was stored, with no
/// `norm_sha256`: its text is made from its body (`main_text`) when a
/// comparison or a reader needs it. Not a SHA-256, so no object is ever
/// named by it.
pub(super) const TEXT_DEFERRED: &str = "deferred";

/// Whether a snapshot's `text_sha256` names a text's hash (or a text
/// object of a store written before texts were derived).
pub(super) fn text_hashed(sha: &str) -> bool {
    sha != TEXT_DEFERRED
}

/// A batch is committed once it is this old: what a power cut can lose
/// is the fetches stored in the last half second...
const BATCH_AGE: Duration = Duration::from_millis(500);
/// ...or once it holds this many fetches (sources and requisites),
/// whichever comes first: a bound on the rows a batch holds in memory.
/// A recheck of 5,000 unchanged sources stores them in about a second; at
/// 256 fetches a batch (this bound until then) it made 20 commits, each
/// an `fdatasync` and a synced SQLite commit awaited in series with the
/// run, where batches of half a second make two or three.
const BATCH_MOST: usize = 4096;
/// Ids reserved at a time from PostgreSQL's sequences (`ensure_ids`);
/// a quarter of the first captures read beforehand that are kept
/// (`know_first`).
const BATCH_SOURCES: usize = 256;

/// The check pipeline's hook into a store.
pub struct Archive<'a> {
    store: &'a Store,
    run_id: String,
    now: DateTime<Utc>,
    threshold: f64,
    schedule: ScheduleConfig,
    warc: Option<WarcWriter>,
    /// The number of the WARC file last opened, with copies on S3.
    warc_part: u32,
    /// How `show` is told where the store is, for the report.
    store_arg: String,
    /// What preparing a fetch needs, shared with the preparing threads.
    shared: Arc<Shared>,
    /// Every source by URL, loaded once and kept up to date by the run.
    sources: HashMap<String, SourceRow>,
    /// The latest snapshot of each source, loaded once at the start.
    latest: HashMap<String, SnapshotRow>,
    /// The current baseline of each source, by source id.
    baselines: HashMap<i64, SnapshotRow>,
    /// Objects `verify` marked damaged.
    damaged: HashSet<String>,
    /// The last source and snapshot ids given (SQLite: the one writer
    /// numbers from the highest).
    last_source: i64,
    last_snapshot: i64,
    /// On PostgreSQL: ids taken from the sequences in blocks
    /// (`ensure_ids`), not given yet, the next last.
    spare_sources: Vec<i64>,
    spare_snapshots: Vec<i64>,
    /// The state above is read per source as the run meets it (`load`),
    /// not for the whole store at the start: a fleet's worker, which
    /// writes beside others, or a coordinator, which stores nothing.
    on_demand: bool,
    /// The URLs `forget_source` dropped, kept by test builds only to
    /// catch a run that meets one again: it would insert a second row for
    /// the URL, which the index refuses at commit.
    #[cfg(debug_assertions)]
    forgotten: HashSet<String>,
    /// A fleet's worker: its own part of the run's WARC file names, so
    /// that writers never append to one file.
    writer: Option<String>,
    /// Batches committed so far (`committed_through`).
    commits: u64,
    /// Batches taken out to commit so far (`take_batch`): the open
    /// batch's number. One more than `commits` while a worker commits a
    /// batch without the archive held.
    taken: u64,
    /// A fleet's worker: its batches are committed by its tasks, outside
    /// the archive (`take_batch`), never inline as a fetch fills one.
    detached: bool,
    /// Held while a batch is taken out and committed (`take_batch`):
    /// batches commit one at a time, in their order.
    gate: Arc<tokio::sync::Mutex<()>>,
    /// Why a batch failed to commit, once one has (`commit`).
    failed: Option<String>,
    /// The index rows of the open batch.
    batch: Batch,
    /// How many fetches the open batch holds, and since when it is open.
    batch_fetches: usize,
    batch_opened: Option<Instant>,
    /// The first snapshot of each body stored in the open batch: not in
    /// the index yet, but a later identical body is a revisit of it.
    batch_firsts: HashMap<String, SnapshotRow>,
    /// The same of the batch being committed (`take_batch`): not in the
    /// index yet either, and the open batch's bodies may revisit them.
    committing_firsts: HashMap<String, SnapshotRow>,
    /// The first snapshot with a record of each of these bodies (or none),
    /// read from the index beforehand (`know_first`), each used once.
    known_firsts: HashMap<String, Option<SnapshotRow>>,
    /// Main texts this run's comparisons made from bodies (`texts_made`).
    texts_made: u64,
    /// What the run has found on disk (`is_whole`).
    seen: std::sync::Mutex<Seen>,
    /// The index held no snapshot when the run, its one writer, read the
    /// store's state (`read_state`): a body's first capture is then one this
    /// run stored, or none, and the index is not asked (`first_capture_of`).
    new_store: bool,
    /// With `new_store`: the bodies this run has indexed snapshots of, by
    /// the first 64 bits of their SHA-256 (a body whose bits are here is
    /// looked up as before; eight bytes a body).
    indexed_bodies: HashSet<u64>,
}

/// The state of every source of a store, as its one writer reads it
/// before a run (`Archive::read_state`).
pub struct State {
    latest: HashMap<String, SnapshotRow>,
    sources: HashMap<String, SourceRow>,
    baselines: HashMap<i64, SnapshotRow>,
    damaged: HashSet<String>,
    /// The last source and snapshot ids (SQLite: a writer gives its own).
    ids: Option<(i64, i64)>,
}

/// What a run has found on disk, so that it looks once: the names in each
/// directory of objects it asked about (body objects of an older store:
/// no run writes one now, so a listing read once stays true for the run),
/// and WARC files.
#[derive(Default)]
struct Seen {
    objects: super::objects::Listings,
    warcs: HashSet<String>,
}

/// A batch taken out of the archive to be committed (`take_batch`): its
/// index rows and, with copies on S3, its WARC file (synced).
pub struct Committing<'a> {
    store: &'a Store,
    warc: Option<WarcWriter>,
    batch: Batch,
    /// A fleet's worker's: its uploaded WARC file is not kept here.
    worker: bool,
}

impl Committing<'_> {
    /// Commits the batch: its WARC file uploaded whole, the pending
    /// objects put in place, then the index rows in one transaction. Hand
    /// the outcome to the archive (`Archive::committed`).
    pub async fn commit(self) -> Result<()> {
        let store = self.store;
        if let Some(mut w) = self.warc {
            w.sync().map_err(|e| store.err(format!("WARC: {e}")))?;
            // The batch's WARC file is on S3, whole, before any index row
            // names a record in it; the next batch writes another.
            let path = store.warc_dir().join(w.name());
            drop(w);
            store.publish_warc(&path).await?;
            if self.worker {
                // A worker lives long: what it reads back comes from S3.
                let _ = std::fs::remove_file(&path);
            }
        }
        store
            .objects
            .commit_pending()
            .map_err(|e| store.err(format!("objects: {e}")))?;
        store
            .index
            .commit(&self.batch)
            .await
            .map_err(|e| store.err(e))
    }
}

/// What preparing a fetch needs: the run's clock and the WARC encoder
/// (with the run's redactions).
struct Shared {
    now: DateTime<Utc>,
    encoder: Encoder,
    root: std::path::PathBuf,
}

/// A fetch made ready by `prepare`.
pub struct Ready {
    fetched: Fetched,
    /// The records of the fetch's other exchanges (`encode_hops`), or the
    /// error that stopped their encoding.
    hops: std::result::Result<Vec<Encoded>, String>,
    /// The body's bytes and what was made of them; an error (the body
    /// could not be read back) is reported when the fetch is stored.
    body: Option<std::result::Result<Prepared, String>>,
}

impl Ready {
    /// The URL fetched.
    pub fn url(&self) -> &str {
        &self.fetched.check.url
    }

    /// The SHA-256 of the body fetched, when there is one.
    pub fn body_sha256(&self) -> Option<&str> {
        self.fetched.body.as_ref().map(|b| b.sha256.as_str())
    }
}

/// A body, prepared: its bytes, what the index keeps of its content, the
/// main text and the encoded response capture.
struct Prepared {
    bytes: Vec<u8>,
    page: Page,
    /// The main text, when `prepare` made it (`Text::Now`): kept for this
    /// fetch's comparison only, never stored (`main_text` makes it again from the
    /// body when it is needed later).
    text: Option<String>,
    response: Encoded,
}

impl Prepared {
    /// The main text made now, or, when it was deferred, the body to make
    /// it from (neither for a body without a text).
    fn text_or_body(self) -> (Option<String>, Option<Vec<u8>>) {
        match (self.text, self.page.text_sha) {
            (Some(t), _) => (Some(t), None),
            (None, Some(_)) => (None, Some(self.bytes)),
            (None, None) => (None, None),
        }
    }
}

/// Where a body came from: the source, the URL that answered after
/// redirects, and the request that fetched it.
struct Incoming<'x> {
    url: &'x str,
    final_url: Option<&'x str>,
    request_headers: &'x [(String, String)],
    /// The address that answered.
    ip: Option<&'x str>,
}

/// What storing one body gave.
struct Stored {
    snapshot: SnapshotRow,
    requisites: Vec<String>,
    /// Why only part of the page was parsed, when it was cut.
    cut_note: Option<String>,
    /// The snapshot's main text, as `prepare` extracted it.
    text: Option<String>,
    /// The body, when its text was deferred (see `LiveCopy::body`).
    body: Option<Vec<u8>>,
}

/// What the index keeps from a body's content.
#[derive(Default)]
struct Page {
    /// The hash of the main text (the text itself is not stored).
    text_sha: Option<String>,
    /// The hash of the normalised main text.
    norm_sha: Option<String>,
    /// What an offline copy of it needs, at most `REQUISITES_PER_PAGE`.
    requisites: Vec<String>,
    /// Why only part of the page was parsed (`fetch::bound`), when it was.
    cut_note: Option<String>,
}

impl<'a> Archive<'a> {
    /// Starts a run in the store. `now` is the run's clock: the time
    /// stamps of its checks and the history's, injected so scheduled runs
    /// can be simulated across days.
    pub async fn begin(
        store: &'a Store,
        config: &Config,
        run_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Archive<'a>> {
        let state = Archive::read_state(store).await?;
        Archive::begin_with(store, config, run_id, now, state).await
    }

    /// Starts a run in the store with its state read beforehand
    /// (`read_state`): `check` reads it while the posts are collected.
    pub async fn begin_with(
        store: &'a Store,
        config: &Config,
        run_id: &str,
        now: DateTime<Utc>,
        state: State,
    ) -> Result<Archive<'a>> {
        let mut archive = Archive::started(store, config, run_id, now).await?;
        archive.take_state(state);
        Ok(archive)
    }

    /// The run's row begun, and its archive, which knows nothing yet.
    async fn started(
        store: &'a Store,
        config: &Config,
        run_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Archive<'a>> {
        store
            .index
            .begin_run(run_id, &rfc3339(now))
            .await
            .map_err(|e| store.err(e))?;
        Ok(Archive::new(store, config, run_id, now, None))
    }

    /// Starts a run whose sources are stored by a fleet's workers
    /// (`join`): the run's row now, its citations and report at `finish`;
    /// nothing of the store's state is read.
    pub async fn begin_elsewhere(
        store: &'a Store,
        config: &Config,
        run_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Archive<'a>> {
        let mut archive = Archive::started(store, config, run_id, now).await?;
        archive.on_demand = true;
        Ok(archive)
    }

    /// A fleet's worker joins a run its coordinator began: it stores the
    /// sources it is given beside the other workers (a store opened with
    /// `Access::Share`), reading each source's state as it meets it, in
    /// WARC files of its own (`writer` is its name). Its batches are
    /// taken out (`take_batch`) and committed by its tasks outside the
    /// archive's lock; `committed_through` tells when a source's rows are in.
    pub fn join(
        store: &'a Store,
        config: &Config,
        run_id: &str,
        now: DateTime<Utc>,
        writer: &str,
    ) -> Archive<'a> {
        let name: String = writer
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .take(64)
            .collect();
        let writer = format!("{name}-{:06x}", rand::random::<u32>() & 0xff_ffff);
        let mut archive = Archive::new(store, config, run_id, now, Some(writer));
        archive.on_demand = true;
        archive.detached = true;
        archive
    }

    /// The archive before any state is read.
    fn new(
        store: &'a Store,
        config: &Config,
        run_id: &str,
        now: DateTime<Utc>,
        writer: Option<String>,
    ) -> Archive<'a> {
        let default = std::path::Path::new(crate::config::DEFAULT_STORE);
        let mut store_arg = if store.root() == default {
            String::new()
        } else {
            format!(
                " --store {}",
                shell_quote(&store.root().display().to_string())
            )
        };
        // A store whose copies are elsewhere is named with them.
        if store.copies_on_s3() || store.backend() == super::Backend::Postgres {
            store_arg.push_str(&format!(" --objects {}", shell_quote(&store.copies())));
        }
        let mut encoder = Encoder::default();
        encoder.redact_headers(
            config
                .hosts
                .values()
                .flat_map(|h| h.headers.keys().cloned()),
        );
        Archive {
            latest: HashMap::new(),
            damaged: HashSet::new(),
            sources: HashMap::new(),
            baselines: HashMap::new(),
            last_source: 0,
            last_snapshot: 0,
            spare_sources: Vec::new(),
            spare_snapshots: Vec::new(),
            on_demand: false,
            #[cfg(debug_assertions)]
            forgotten: HashSet::new(),
            writer,
            commits: 0,
            taken: 0,
            detached: false,
            gate: Arc::new(tokio::sync::Mutex::new(())),
            failed: None,
            store,
            run_id: run_id.to_string(),
            now,
            threshold: config.compare.drift_threshold,
            schedule: config.schedule.clone(),
            warc: None,
            warc_part: 0,
            store_arg,
            shared: Arc::new(Shared {
                now,
                encoder,
                root: store.root().to_path_buf(),
            }),
            batch: Batch::default(),
            batch_fetches: 0,
            batch_opened: None,
            batch_firsts: HashMap::new(),
            committing_firsts: HashMap::new(),
            known_firsts: HashMap::new(),
            texts_made: 0,
            seen: Default::default(),
            new_store: false,
            indexed_bodies: HashSet::new(),
        }
    }

    /// Reads the state of every source of the store, for a run that is
    /// the store's one writer (`begin_with`). Nothing in it borrows the
    /// store: it may be read on any task before the run begins.
    pub async fn read_state(store: &Store) -> Result<State> {
        let e = |e| store.err(e);
        let state = store.index.writer_state().await.map_err(e)?;
        let damaged = store
            .index
            .damaged()
            .await
            .map_err(e)?
            .into_iter()
            .collect();
        let ids = if store.backend() == super::Backend::Sqlite {
            Some(store.index.next_ids().await.map_err(e)?)
        } else {
            None
        };
        Ok(State {
            latest: state
                .latest
                .into_iter()
                .map(|s| (s.url.clone(), s))
                .collect(),
            sources: state
                .sources
                .into_iter()
                .map(|s| (s.url.clone(), s))
                .collect(),
            baselines: state.baselines.into_iter().collect(),
            damaged,
            ids,
        })
    }

    /// Takes the state `read_state` read.
    fn take_state(&mut self, state: State) {
        if let Some(ids) = state.ids {
            (self.last_source, self.last_snapshot) = ids;
        }
        // Every snapshot is some source's latest: none, and no body has a
        // first capture yet.
        self.new_store = state.latest.is_empty();
        self.latest = state.latest;
        self.sources = state.sources;
        self.baselines = state.baselines;
        self.damaged = state.damaged;
    }

    /// Reads one source's state (`Index::source_state`) the first time
    /// the run meets it, when the run reads state on demand.
    async fn load(&mut self, url: &str) -> Result<()> {
        if !self.on_demand || self.sources.contains_key(url) {
            return Ok(());
        }
        let state = source_state(self.store, url).await?;
        self.know(url, state);
        Ok(())
    }

    /// Whether the run has a source's state already.
    pub fn knows(&self, url: &str) -> bool {
        self.sources.contains_key(url)
    }

    /// Takes a source's state read beforehand (`Index::source_state`):
    /// tasks that share one archive read it without holding the archive.
    /// State the run has already is kept.
    pub fn know(&mut self, url: &str, state: super::index::SourceState) {
        if !self.on_demand || self.sources.contains_key(url) {
            return;
        }
        if let Some(l) = state.latest {
            self.latest.insert(url.to_string(), l);
        }
        if let Some(b) = state.baseline {
            self.baselines.insert(state.source.id, b);
        }
        self.damaged.extend(state.damaged);
        self.sources.insert(url.to_string(), state.source);
    }

    /// Whether storing this body of `url` would ask the index for the
    /// first capture of its bytes (`first_capture_of`): not when it is the
    /// source's latest copy, a damaged one, one the open batch holds, or
    /// one read beforehand.
    pub fn wants_first(&self, url: &str, sha256: &str) -> bool {
        self.on_demand
            && self.latest.get(url).is_none_or(|l| l.body_sha256 != sha256)
            && !self.damaged.contains(sha256)
            && !self.batch_firsts.contains_key(sha256)
            && !self.committing_firsts.contains_key(sha256)
            && !self.known_firsts.contains_key(sha256)
    }

    /// Takes the first capture of a body read beforehand
    /// (`Index::first_snapshots_with_bodies`): tasks that share one archive
    /// read them together, without holding the archive.
    pub fn know_first(&mut self, sha256: &str, first: Option<SnapshotRow>) {
        // Read for tasks that then failed, they would pile up.
        if self.known_firsts.len() >= 4 * BATCH_SOURCES {
            self.known_firsts.clear();
        }
        self.known_firsts.insert(sha256.to_string(), first);
    }

    /// On PostgreSQL, ids from the sequences for the next fetch (a source
    /// and a snapshot at most), taken in blocks of `BATCH_SOURCES`.
    async fn ensure_ids(&mut self) -> Result<()> {
        if self.store.backend() != super::Backend::Postgres {
            return Ok(());
        }
        let block = BATCH_SOURCES as i64;
        for (table, spare) in [
            ("sources", &mut self.spare_sources),
            ("snapshots", &mut self.spare_snapshots),
        ] {
            if spare.is_empty() && !(table == "sources" && self.on_demand) {
                let mut ids = self
                    .store
                    .index
                    .reserve_ids(table, block)
                    .await
                    .map_err(|e| self.store.err(e))?;
                ids.reverse();
                *spare = ids;
            }
        }
        Ok(())
    }

    /// The id of a new row: from the sequence's block on PostgreSQL, else
    /// the next after the highest.
    fn new_id(spare: &mut Vec<i64>, last: &mut i64) -> i64 {
        let id = spare.pop().unwrap_or(*last + 1);
        *last = id.max(*last);
        id
    }

    /// The number of the open batch: a fetch the run stores now is in the
    /// index once `committed_through` that number says so.
    pub fn batch_number(&self) -> u64 {
        self.taken
    }

    /// Whether batch `n` is committed.
    pub fn committed_through(&self, n: u64) -> bool {
        self.commits > n
    }

    /// Whether batch `n` has been taken out to commit (it may be
    /// committing now, or have failed).
    pub fn taken_through(&self, n: u64) -> bool {
        self.taken > n
    }

    /// What a task holds while it takes a batch out and commits it
    /// (`take_batch`, `committed`): one batch at a time, in order.
    pub fn gate(&self) -> Arc<tokio::sync::Mutex<()>> {
        self.gate.clone()
    }

    /// How long the open batch has been open (zero when it holds nothing).
    pub fn batch_age(&self) -> Duration {
        self.batch_opened.map_or(Duration::ZERO, |t| t.elapsed())
    }

    /// Ends the run: the last batch committed, the report kept for
    /// `report`.
    pub async fn finish(mut self, report: &crate::model::Report) -> Result<()> {
        self.commit().await?;
        let rows: Vec<_> = report
            .citations
            .iter()
            .map(super::index::CitationRow::of)
            .collect();
        let err = |e| self.store.err(e);
        let (inserted, kept) = keep_beside(
            self.store.index.insert_citations(&self.run_id, &rows),
            || super::report::keep(self.store, report),
        )
        .await;
        inserted.map_err(err)?;
        let kept = kept?;
        self.store
            .index
            .finish_run(&self.run_id, &report.run.finished_at, &kept)
            .await
            .map_err(err)?;
        Ok(())
    }

    /// Commits the open batch: the WARC file synced, the objects synced
    /// and put in place, then the index rows in one transaction.
    ///
    /// A batch that failed to commit is lost, and with it the rows of
    /// fetches whose callers may be waiting on it (`committed_through`): every
    /// later commit fails too, with the first failure, so that no caller
    /// takes a lost fetch for a kept one.
    async fn commit(&mut self) -> Result<()> {
        let batch = self.take_batch()?;
        let done = batch.commit().await;
        self.committed(done)
    }

    /// Takes the open batch out to be committed (`Committing::commit`),
    /// and opens the next: the caller commits it without the archive held
    /// (a fleet's worker, holding `gate` throughout), then tells the
    /// archive how it went (`committed`). The WARC file is synced first;
    /// with copies on S3 the taken batch takes its WARC file along, and
    /// the next batch writes another. What the next batch reads of the
    /// taken one stays here: its sources, latest snapshots and damage
    /// marks are already the archive's, and its first captures are kept
    /// until it is in.
    pub fn take_batch(&mut self) -> Result<Committing<'a>> {
        if let Some(first) = &self.failed {
            return Err(self
                .store
                .err(format!("an earlier batch was lost: {first}")));
        }
        // A WARC file that goes to S3 with its batch is synced there.
        let warc = if self.store.copies_on_s3() {
            self.warc.take()
        } else {
            None
        };
        if let Some(w) = self.warc.as_mut()
            && let Err(e) = w.sync()
        {
            let e = self.store.err(format!("WARC: {e}"));
            self.failed = Some(crate::error::chain_text(&e));
            return Err(e);
        }
        self.taken += 1;
        self.batch_fetches = 0;
        self.batch_opened = None;
        self.committing_firsts = std::mem::take(&mut self.batch_firsts);
        Ok(Committing {
            store: self.store,
            warc,
            batch: std::mem::take(&mut self.batch),
            worker: self.writer.is_some(),
        })
    }

    /// Takes the outcome of committing the batch last taken out. A batch
    /// that failed to commit is lost, and with it the rows of fetches
    /// whose callers may be waiting on it (`committed_through`): every later
    /// commit fails too, with the first failure, so that no caller takes
    /// a lost fetch for a kept one.
    pub fn committed(&mut self, done: Result<()>) -> Result<()> {
        if let Err(e) = &done {
            self.failed = Some(crate::error::chain_text(e));
            self.committing_firsts.clear();
            return done;
        }
        // A body read beforehand as never stored may have been stored by
        // the batch just committed: its first capture is that one.
        for (sha, row) in self.committing_firsts.drain() {
            if let Some(known @ None) = self.known_firsts.get_mut(&sha) {
                *known = Some(row);
            }
        }
        self.commits += 1;
        Ok(())
    }

    /// Counts a fetch into the open batch, and commits the batch when it
    /// is full or old enough.
    async fn fetch_done(&mut self) -> Result<()> {
        self.batch_fetches += 1;
        let opened = *self.batch_opened.get_or_insert_with(Instant::now);
        if !self.detached && (self.batch_fetches >= BATCH_MOST || opened.elapsed() >= BATCH_AGE) {
            self.commit().await?;
        }
        Ok(())
    }

    /// Drops what the run kept of a cited source once it is stored: a
    /// run that loaded every source (`read_state`) meets each cited source
    /// once (the queue takes each URL once, and a requisite is never a
    /// cited source), so nothing reads its row or baseline again, and a
    /// run over 100,000 sources need not hold them all to the end. The
    /// maps give back their room as they empty. A writer that reads state
    /// on demand keeps what it read (it may meet a source again).
    fn forget_source(&mut self, url: &str, source_id: i64) {
        if self.on_demand {
            return;
        }
        self.sources.remove(url);
        self.baselines.remove(&source_id);
        #[cfg(debug_assertions)]
        self.forgotten.insert(url.to_string());
        shrink_when_sparse(&mut self.sources);
        shrink_when_sparse(&mut self.baselines);
    }

    /// The source's row, created (in the batch) on first sight.
    fn source_row(&mut self, url: &str) -> SourceRow {
        if let Some(s) = self.sources.get(url) {
            return s.clone();
        }
        #[cfg(debug_assertions)]
        assert!(
            !self.forgotten.contains(url),
            "a local run met a source it had stored and forgotten: {url}"
        );
        let row = SourceRow {
            id: Self::new_id(&mut self.spare_sources, &mut self.last_source),
            url: url.to_string(),
            history: Default::default(),
            checks: 0,
        };
        self.batch.add_source(row.id, url);
        self.sources.insert(url.to_string(), row.clone());
        row
    }

    fn warc(&mut self) -> Result<&mut WarcWriter> {
        if self.warc.is_none() {
            let dir = self.store.warc_dir();
            // With copies on S3 each batch's records go to a file of their
            // own, uploaded whole at the batch's commit (`commit`).
            // A fleet's worker names its own files.
            let own = self
                .writer
                .as_ref()
                .map_or(String::new(), |w| format!("-{w}"));
            let name = if self.store.copies_on_s3() {
                self.warc_part += 1;
                format!("{}{own}-{:05}.warc.gz", self.run_id, self.warc_part)
            } else {
                format!("{}{own}.warc.gz", self.run_id)
            };
            let path = dir.join(name);
            // The new file's name is made durable with the directory
            // before any index row can name it.
            let w = std::fs::create_dir_all(&dir)
                .and_then(|_| WarcWriter::create(&path))
                .and_then(|w| std::fs::File::open(&dir)?.sync_all().map(|_| w))
                .map_err(|e| self.store.err(format!("{}: {e}", path.display())))?;
            self.warc = Some(w);
        }
        Ok(self.warc.as_mut().expect("just opened"))
    }

    /// Appends an encoded capture to this run's WARC file.
    fn append(&mut self, encoded: &Encoded) -> Result<Written> {
        let store = self.store;
        self.warc()?
            .append(encoded)
            .map_err(|e| store.err(format!("WARC: {e}")))
    }

    /// Stores a body: its WARC record (the body's one copy), then the
    /// index row (in the batch). Its main text is not stored: the row
    /// keeps its hashes, and `main_text` makes it again from the body. A
    /// body identical to the latest snapshot's is not stored again: the latest snapshot stands for it, and the
    /// WARC gets a revisit of it. A body stored before under another
    /// source is a new snapshot whose record is a revisit of the first
    /// capture of those bytes. A body marked damaged is written whole
    /// again (a response record), which repairs it.
    async fn store_body(
        &mut self,
        exchange: Incoming<'_>,
        source_id: i64,
        body: FetchedBody,
        mut prepared: Prepared,
        latest: Option<&SnapshotRow>,
    ) -> Result<Stored> {
        // The spool file is not kept: the WARC record holds the body.
        crate::fetch::discard_spool(&body);
        if let Some(l) = latest
            && l.body_sha256 == body.sha256
            && l.status == body.status
            && self.is_whole(l)
        {
            let earlier = self.earlier_capture(l);
            self.write_record(&exchange, &body, &prepared, earlier.as_ref())?;
            let (text, body) = prepared.text_or_body();
            return Ok(Stored {
                snapshot: l.clone(),
                requisites: Vec::new(),
                cut_note: None,
                text,
                body,
            });
        }
        let earlier = if self.damaged.contains(&body.sha256) {
            None
        } else {
            self.first_capture_of(&body.sha256).await?
        };
        let written = self.write_record(&exchange, &body, &prepared, earlier.as_ref())?;
        if earlier.is_none() {
            self.repaired(&body.sha256);
        }
        // A response record's id is kept in the index, for revisits of it.
        let record_id = earlier.is_none().then(|| written.record_id.clone());
        let snapshot = self.index_snapshot(
            &exchange,
            source_id,
            &body,
            &prepared.page,
            &written,
            record_id,
        );
        let requisites = std::mem::take(&mut prepared.page.requisites);
        let cut_note = prepared.page.cut_note.take();
        let (text, body) = prepared.text_or_body();
        Ok(Stored {
            snapshot,
            requisites,
            cut_note,
            text,
            body,
        })
    }

    /// Clears the damage mark of an object this run has just stored, and
    /// so made sound again.
    fn repaired(&mut self, sha256: &str) {
        if self.damaged.remove(sha256) {
            self.batch.clear_damaged(sha256);
        }
    }

    /// The exchange as WARC records of this run's file: the response
    /// encoded by `prepare`, or a revisit of `earlier`, the capture that
    /// archived the same bytes; then the request.
    fn write_record(
        &mut self,
        exchange: &Incoming<'_>,
        body: &FetchedBody,
        prepared: &Prepared,
        earlier: Option<&Earlier>,
    ) -> Result<Written> {
        let Some(earlier) = earlier else {
            return self.append(&prepared.response);
        };
        let record = Exchange {
            target_uri: exchange.final_url.unwrap_or(exchange.url),
            date: self.now,
            method: "GET",
            request_headers: exchange.request_headers,
            http_version: &body.http_version,
            status: body.status,
            response_headers: &body.headers,
            body: Body::Bytes(&prepared.bytes),
            ip: exchange.ip,
        };
        let capture = Capture::Revisit {
            profile: Profile::IdenticalPayloadDigest,
            earlier,
        };
        let encoded = self
            .shared
            .encoder
            .encode(&record, &capture)
            .map_err(|e| self.store.err(format!("WARC: {e}")))?;
        self.append(&encoded)
    }

    /// Appends the hop records `prepare` encoded (`encode_hops`).
    fn write_hops(&mut self, hops: &[Encoded]) -> Result<()> {
        for encoded in hops {
            self.append(encoded)?;
        }
        Ok(())
    }

    /// The capture holding a snapshot's payload, as a revisit names it: the
    /// snapshot's own response record, or the one its revisit refers to.
    /// `None` when the record cannot be read (then a response is written,
    /// whole, rather than a revisit that points nowhere).
    fn earlier_capture(&self, snap: &SnapshotRow) -> Option<Earlier> {
        self.capture_place(snap)?.earlier()
    }

    /// Where a snapshot's record is, for `CapturePlace::earlier` to read
    /// (on the blocking pool, in `prepare`).
    fn capture_place(&self, snap: &SnapshotRow) -> Option<CapturePlace> {
        let (file, offset) = (snap.warc_file.as_ref()?, snap.warc_offset?);
        let (path, offset) = self.store.warc_record(file, offset, snap.warc_length);
        // Its own response record, named from the index when it keeps the
        // record's id: its target is the fetch's final URL, its date the
        // snapshot's time (both as the record says).
        let indexed = snap.warc_record_id.as_ref().map(|id| Earlier {
            record_id: Some(id.clone()),
            target_uri: snap.final_url.clone().unwrap_or_else(|| snap.url.clone()),
            date: snap.fetched_at.clone(),
            payload_digest: String::new(),
        });
        Some(CapturePlace {
            path,
            offset,
            body_sha256: snap.body_sha256.clone(),
            indexed,
        })
    }

    /// The first capture of these bytes under any source, if it has a
    /// record: one of the open batch, else the index's.
    async fn first_capture_of(&mut self, sha256: &str) -> Result<Option<Earlier>> {
        let known = self.known_firsts.remove(sha256);
        let open = self.batch_firsts.get(sha256);
        let first = match (open.or_else(|| self.committing_firsts.get(sha256)), known) {
            (Some(s), _) => Some(s.clone()),
            (None, Some(known)) => known,
            // A new store's run has indexed no snapshot of these bytes.
            (None, None)
                if self.new_store
                    && body_bits(sha256).is_some_and(|b| !self.indexed_bodies.contains(&b)) =>
            {
                None
            }
            (None, None) => self
                .store
                .index
                .first_snapshot_with_body(sha256)
                .await
                .map_err(|e| self.store.err(e))?,
        };
        Ok(first.and_then(|s| self.earlier_capture(&s)))
    }

    /// The snapshot row and its requisites, into the batch, once the
    /// object is pending and the record written.
    fn index_snapshot(
        &mut self,
        exchange: &Incoming<'_>,
        source_id: i64,
        body: &FetchedBody,
        page: &Page,
        written: &Written,
        record_id: Option<String>,
    ) -> SnapshotRow {
        let row = SnapshotRow {
            id: Self::new_id(&mut self.spare_snapshots, &mut self.last_snapshot),
            source_id,
            url: exchange.url.to_string(),
            run_id: self.run_id.clone(),
            fetched_at: rfc3339(self.now),
            status: body.status,
            final_url: exchange.final_url.map(str::to_string),
            content_type: body.content_type.clone(),
            charset: body.charset.clone(),
            size: body.size,
            truncated: body.truncated,
            body_sha256: body.sha256.clone(),
            text_sha256: page.text_sha.clone(),
            norm_sha256: page.norm_sha.clone(),
            etag: body.etag.clone(),
            last_modified: body.last_modified.clone(),
            warc_file: Some(written.file.clone()),
            warc_offset: Some(written.offset),
            warc_length: Some(written.length),
            warc_record_id: record_id,
        };
        if self.new_store
            && let Some(bits) = body_bits(&row.body_sha256)
        {
            self.indexed_bodies.insert(bits);
        }
        self.batch.add_snapshot(row.clone());
        for r in &page.requisites {
            self.batch.add_requisite(row.id, r);
        }
        self.batch_firsts
            .entry(row.body_sha256.clone())
            .or_insert_with(|| row.clone());
        row
    }

    /// Whether a snapshot's body is whole on disk, as far as a run can
    /// tell without reading it (`verify` reads it and marks damage). Its
    /// text is made from the body (`text_of`; a damaged text object of a
    /// store written before gives way to it), so it is whole with it.
    fn is_whole(&self, s: &SnapshotRow) -> bool {
        if self.damaged.contains(&s.body_sha256) {
            return false;
        }
        // The WARC file first: it holds the bodies of every store written
        // since they moved there, and is known once for the run.
        s.warc_file.as_ref().is_some_and(|f| self.warc_present(f))
            || self.body_object(&s.body_sha256)
    }

    /// Whether a body object of a store written before bodies moved into
    /// the WARC files holds these bytes (never on S3), from the run's
    /// listings of the objects directories (`Objects::in_place_listed`): a
    /// store written since holds a few report objects there and no body,
    /// and two failed `stat`s per body (10,000 in a recheck of 5,000
    /// sources) cost more than the listings. No run writes a body object,
    /// so a listing stays true for the run.
    fn body_object(&self, sha256: &str) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        self.store
            .objects
            .in_place_listed(sha256, &mut seen.objects)
    }

    /// Whether a WARC file is there (`Store::warc_exists`); one found
    /// there is taken to stay for the run (a run's files are few).
    fn warc_present(&self, name: &str) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.warcs.contains(name) {
            return true;
        }
        let there = self.store.warc_exists(name);
        if there {
            seen.warcs.insert(name.to_string());
        }
        there
    }

    fn show_command(&self, url: &str) -> String {
        format!(
            "citeguard show {}{} --as html",
            shell_quote(url),
            self.store_arg
        )
    }

    /// The copy this check saw: the body, stored now, with the requisites
    /// it names and its main text; or, for a 304, the latest copy, which
    /// the server says is still current.
    #[allow(clippy::too_many_arguments)]
    async fn live_copy(
        &mut self,
        check: &mut Check,
        body: Option<FetchedBody>,
        prepared: Option<std::result::Result<Prepared, String>>,
        request_headers: &[(String, String)],
        ip: Option<&str>,
        source_id: i64,
        latest: Option<&SnapshotRow>,
    ) -> Result<LiveCopy> {
        match body {
            Some(body) => {
                let prepared = self.prepared(&check.url, &body, prepared)?;
                let incoming = Incoming {
                    url: &check.url,
                    final_url: check.final_url.as_deref(),
                    request_headers,
                    ip,
                };
                let stored = self
                    .store_body(incoming, source_id, body, prepared, latest)
                    .await?;
                if let Some(note) = stored.cut_note {
                    check.detail = Some(match check.detail.take() {
                        Some(d) => format!("{d}; {note}"),
                        None => note,
                    });
                }
                Ok(LiveCopy {
                    snapshot: Some(stored.snapshot),
                    requisites: stored.requisites,
                    text: stored.text,
                    body: stored.body,
                })
            }
            None if check.status == Some(304) => Ok(LiveCopy {
                snapshot: latest.cloned(),
                ..LiveCopy::default()
            }),
            None => Ok(LiveCopy::default()),
        }
    }

    /// What `prepare` made of a body, or the error that stopped it (the
    /// spool gone), as the store's error. The spool file is dropped on an
    /// error.
    fn prepared(
        &self,
        url: &str,
        body: &FetchedBody,
        prepared: Option<std::result::Result<Prepared, String>>,
    ) -> Result<Prepared> {
        match prepared {
            Some(Ok(p)) => Ok(p),
            Some(Err(e)) => {
                crate::fetch::discard_spool(body);
                Err(self.store.err(format!("{url}: {e}")))
            }
            None => {
                crate::fetch::discard_spool(body);
                Err(self.store.err(format!("{url}: the body was not prepared")))
            }
        }
    }

    /// Whether a cited page's main text must be made as it is prepared:
    /// when its source's baseline holds other bytes (the comparison will
    /// need the text), or when the run has not read the source's state (a
    /// writer reading state on demand). A first copy, or the baseline's
    /// bytes again, defers it (`TEXT_DEFERRED`).
    fn text_needed_now(&self, fetched: &Fetched) -> bool {
        let Some(body) = &fetched.body else {
            return false;
        };
        let Some(source) = self.sources.get(&fetched.check.url) else {
            return self.on_demand;
        };
        self.baselines
            .get(&source.id)
            .is_some_and(|b| b.body_sha256 != body.sha256)
    }

    /// The source's baseline; a source without one takes the live copy
    /// (its first) as its baseline.
    fn baseline_or_first(
        &mut self,
        source_id: i64,
        live: Option<&SnapshotRow>,
    ) -> Option<SnapshotRow> {
        if let Some(b) = self.baselines.get(&source_id) {
            return Some(b.clone());
        }
        let live = live?;
        self.batch
            .set_baseline(source_id, live.id, &rfc3339(self.now), "first");
        self.baselines.insert(source_id, live.clone());
        Some(live.clone())
    }

    /// Revision 1 of the verdict, the history: a run of transient failures
    /// becomes dead only by the schedule's rule. The history is saved.
    fn judge_by_history(&mut self, source: &SourceRow, check: &mut Check) -> SourceHistory {
        let history = judge::by_history(check, &source.history, &self.schedule, self.now);
        let checks = source.checks + 1;
        self.batch
            .save_history(source.id, &source.url, &history, checks);
        if let Some(s) = self.sources.get_mut(&source.url) {
            s.history = history.clone();
            s.checks = checks;
        }
        SourceHistory {
            first_seen: history.first_seen.map(|t| rfc3339(t).into()),
            last_ok: history.last_ok.map(|t| rfc3339(t).into()),
            consecutive_failures: history.consecutive_failures,
            failing_since: history.failing_since.map(|t| rfc3339(t).into()),
            checks,
        }
    }
    /// Revision 3 of the verdict, the baseline: a reachable source whose
    /// live copy is of another type, or whose text drifted below the
    /// threshold, is `changed`; the quotes are looked for on the way. The
    /// live text is `live_text` (what `prepare` extracted) when the body
    /// was fetched, or is made from `live_body` when `prepare` deferred
    /// it; the baseline's, and a 304's, are made from their bodies by the
    /// current extractor (`text_of`), so both sides of a comparison come
    /// from the same extractor (but where a store written before keeps a
    /// text object, that is read instead). Texts are equal when their
    /// normalised hashes are, or when both copies are the same bytes read
    /// the same way; when a side's hashes were deferred, the texts are
    /// made and their normalised forms compared before any diff.
    #[allow(clippy::too_many_arguments)]
    async fn judge_by_baseline(
        &mut self,
        baseline: &SnapshotRow,
        live: &SnapshotRow,
        live_text: Option<String>,
        live_body: Option<Vec<u8>>,
        quotes: &[String],
        check: &mut Check,
        evidence: &mut Evidence,
    ) {
        if !judge::reachable(check.verdict) || judge::by_type(check, baseline, live) {
            return;
        }
        if baseline.body_sha256 == live.body_sha256 {
            evidence.similarity = Some(1.0);
        }
        let same_bytes = baseline.body_sha256 == live.body_sha256
            && baseline.content_type == live.content_type
            && baseline.charset == live.charset;
        let hashed = baseline.norm_sha256.is_some() && live.norm_sha256.is_some();
        let mut same_text = baseline.id == live.id
            || same_bytes
            || (hashed && baseline.norm_sha256 == live.norm_sha256);
        if same_text && quotes.is_empty() {
            // The common case of a nightly run: nothing to compute.
            evidence.similarity = Some(1.0);
            return;
        }
        let l_text = match (live_text, live_body) {
            (Some(t), _) => Some(t),
            (None, Some(body)) => {
                self.texts_made += 1;
                made_text(live, body).await
            }
            (None, None) => {
                self.texts_made += 1;
                match text_or_error(self.store, &live.url, live).await {
                    Ok(t) => t,
                    Err(_) => {
                        // A 304 confirming a stored copy that no longer
                        // reads back: when that copy is the baseline, what
                        // was cited is lost, and the report says so.
                        self.unreadable(live);
                        if live.id == baseline.id {
                            judge::snapshot_lost(check, baseline, false);
                            evidence.similarity = None;
                        }
                        return;
                    }
                }
            }
        };
        let Some(l_text) = l_text else {
            return;
        };
        let l_norm = self.keep_text_hashes(live, &l_text);
        // The same bytes read the same way make the same text.
        let b_text = if baseline.id == live.id || same_bytes {
            None
        } else {
            self.texts_made += 1;
            match text_or_error(self.store, &baseline.url, baseline).await {
                Ok(Some(t)) => Some(t),
                Ok(None) => return,
                Err(_) => {
                    // The baseline's file is there but its record no
                    // longer reads back (damaged in place): the copy the
                    // citation relies on is lost, not merely unread.
                    self.unreadable(baseline);
                    judge::snapshot_lost(check, baseline, false);
                    evidence.similarity = None;
                    return;
                }
            }
        };
        let b_norm = self.keep_text_hashes(baseline, b_text.as_deref().unwrap_or(&l_text));
        let b_text = b_text.as_deref().unwrap_or(&l_text);
        if !same_text {
            same_text = match (&b_norm, &l_norm) {
                (Some(b), Some(l)) => b == l,
                // A store written before the normalised hashes were kept.
                _ => compare::normalize(b_text) == compare::normalize(&l_text),
            };
            if same_text && quotes.is_empty() {
                evidence.similarity = Some(1.0);
                return;
            }
        }
        let texts = Texts {
            baseline: b_text,
            live: &l_text,
            same: same_text,
            taken: judge::day(&baseline.fetched_at),
        };
        judge::by_text(check, evidence, &texts, quotes, self.threshold);
    }

    /// A stored copy a comparison found unreadable (its record damaged in
    /// place, the file still there) is taken as damaged for the rest of
    /// the run, as `verify` would mark it: it is no longer offered as a
    /// validator, nor named by a revisit, and the same bytes fetched again
    /// are written whole (which repairs it, `store_body`).
    fn unreadable(&mut self, snap: &SnapshotRow) {
        self.damaged.insert(snap.body_sha256.clone());
    }

    /// The normalised text hash of a snapshot whose main text a comparison
    /// has in hand. A snapshot stored with its hashes deferred has them
    /// made now and kept: written back to its row with the open batch,
    /// and to the run's own copies of the row (baselines, latest copies),
    /// so neither this run nor a later one makes its text again to learn
    /// them. `None` for a row without a normalised hash that is not
    /// deferred (a store written before they were kept).
    fn keep_text_hashes(&mut self, snap: &SnapshotRow, text: &str) -> Option<String> {
        if snap.norm_sha256.is_some() {
            return snap.norm_sha256.clone();
        }
        if snap.text_sha256.as_deref() != Some(TEXT_DEFERRED) {
            return None;
        }
        let text_sha = hex::encode(Sha256::digest(text.as_bytes()));
        let norm_sha = hex::encode(Sha256::digest(compare::normalize(text).as_bytes()));
        self.batch.set_text_hashes(snap.id, &text_sha, &norm_sha);
        let rows = self
            .baselines
            .get_mut(&snap.source_id)
            .into_iter()
            .chain(self.latest.get_mut(&snap.url));
        for row in rows.filter(|r| r.id == snap.id) {
            row.text_sha256 = Some(text_sha.clone());
            row.norm_sha256 = Some(norm_sha.clone());
        }
        Some(norm_sha)
    }

    /// How many main texts this run's comparisons have made from bodies
    /// (a stored copy read back, or a live body whose text was deferred):
    /// the work that kept hashes spare.
    pub fn texts_made(&self) -> u64 {
        self.texts_made
    }
}

impl SourceHook for Archive<'_> {
    type Ready = Ready;

    async fn validators(&mut self, url: &str) -> Result<Option<Validators>> {
        self.load(url).await?;
        let Some(latest) = self.latest.get(url) else {
            return Ok(None);
        };
        if latest.etag.is_none() && latest.last_modified.is_none() {
            return Ok(None);
        }
        // A 304 is only worth having when the copy it points to is whole.
        Ok(self.is_whole(latest).then(|| Validators {
            etag: latest.etag.clone(),
            last_modified: latest.last_modified.clone(),
        }))
    }

    /// Reads the body back, finds its requisites, and encodes its response
    /// record, on the store's own threads (`preparers`); for a cited page whose baseline holds
    /// other bytes, also extracts its main text and hashes it and its
    /// normalised form (`text_needed_now`).
    fn prepare(
        &self,
        fetched: Fetched,
        page: bool,
    ) -> impl std::future::Future<Output = Result<Ready>> + Send + 'static {
        let shared = self.shared.clone();
        // The copy a 304 confirms: the source's latest, as the run found
        // it, and its capture, read here where the store is at hand (its
        // record may be on S3).
        let latest = if page {
            self.latest.get(&fetched.check.url).cloned()
        } else {
            None
        };
        let confirmed = latest
            .as_ref()
            .filter(|_| fetched.exchanges.iter().any(|e| e.status == 304))
            .and_then(|l| self.capture_place(l));
        let text = if !page {
            Text::None
        } else if self.text_needed_now(&fetched) {
            Text::Now
        } else {
            Text::Deferred
        };
        // The latest copy's bytes again: `store_body` keeps no new
        // snapshot, so its requisites are not looked for.
        let requisites = !latest
            .as_ref()
            .zip(fetched.body.as_ref())
            .is_some_and(|(l, b)| {
                l.body_sha256 == b.sha256 && l.status == b.status && self.is_whole(l)
            });
        let skip_body = match &fetched.body {
            None => true,
            Some(body) => !page && (body.size > MAX_REQUISITE_BYTES || body.truncated),
        };
        let root = shared.root.clone();
        // A fetch without a body to read back (a 304, most of a
        // recheck) is a few small records to encode, tens of
        // microseconds: encoded by the storing task that polls this
        // future, where a hand-over to another thread (the preparing
        // threads', or a spawned task's: waking that thread, then the
        // storing task after it) cost about as much as the work. Not
        // when a record's headers must be read from its file. A panic
        // there is caught as another thread's would be.
        let light = skip_body
            && confirmed.as_ref().is_none_or(|c| c.indexed.is_some())
            && hop_bytes(&fetched.exchanges) <= LIGHT_HOP_BYTES;
        let work = move || {
            let mut fetched = fetched;
            let confirmed = confirmed.and_then(|c| c.earlier());
            let hops = encode_hops(&shared, &fetched.exchanges, confirmed.as_ref());
            let body = (!skip_body).then(|| prepare_body(&shared, &mut fetched, text, requisites));
            // The body is in hand and its record encoded: its spool
            // file goes now, here, rather than on the store's task.
            if let (Some(Ok(_)), Some(b)) = (&body, fetched.body.as_mut()) {
                crate::fetch::discard_spool(b);
                b.spool = None;
            }
            Ready {
                fetched,
                hops,
                body,
            }
        };
        // Started now, not when the caller first polls the future: the
        // caller awaits the store's task (`source`, its index statements
        // and commits) between polls, and the work goes on meanwhile.
        let started = if light {
            Started::Inline(work)
        } else {
            let (done, ready) = tokio::sync::oneshot::channel();
            // The panic is caught here, so that its text reaches the error.
            let job = move || {
                let _ = done.send(
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
                        .map_err(|p| crate::base::panic_message(p.as_ref())),
                );
            };
            match preparers() {
                Some(threads) => {
                    if let Err(back) = threads.send(Box::new(job)) {
                        tokio::task::spawn_blocking(back.0);
                    }
                }
                None => {
                    tokio::task::spawn_blocking(job);
                }
            }
            Started::Elsewhere(ready)
        };
        async move {
            let joined = match started {
                Started::Inline(work) => {
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
                        .map_err(|p| crate::base::panic_message(p.as_ref()))
                }
                Started::Elsewhere(ready) => ready
                    .await
                    .unwrap_or_else(|_| Err("its thread stopped".into())),
            };
            joined.map_err(|cause| Error::Store {
                path: root,
                cause: format!("preparing a fetch for the store failed: {cause}"),
            })
        }
    }

    /// Stores the live copy, then revises the fetch's verdict in three
    /// steps, in this order: the history (`judge_by_history`), a lost
    /// baseline (`judge::snapshot_lost`), the comparison with the baseline
    /// (`judge_by_baseline`). Each step sees the verdict the one before
    /// left; the check is then kept in the index (in the open batch).
    async fn source(&mut self, ready: Ready, quotes: &[String]) -> Result<SourceOutcome> {
        let Ready {
            fetched,
            hops,
            body: prepared,
        } = ready;
        let Fetched {
            mut check,
            body,
            request_headers,
            exchanges,
            ..
        } = fetched;
        let url = check.url.clone();
        self.load(&url).await?;
        self.ensure_ids().await?;
        let source = self.source_row(&url);
        let latest = self.latest.remove(&url);
        let hops = hops.map_err(|e| self.store.err(format!("{url}: {e}")))?;
        self.write_hops(&hops)?;
        let ip = answered_from(&exchanges);
        let LiveCopy {
            snapshot: live,
            requisites,
            text: live_text,
            body: live_body,
        } = self
            .live_copy(
                &mut check,
                body,
                prepared,
                &request_headers,
                ip,
                source.id,
                latest.as_ref(),
            )
            .await?;
        let baseline = self.baseline_or_first(source.id, live.as_ref());

        let history = self.judge_by_history(&source, &mut check);
        let mut evidence = Evidence {
            history: Some(Box::new(history)),
            ..Evidence::default()
        };
        if let Some(b) = &baseline {
            judge::snapshot_lost(&mut check, b, self.is_whole(b));
            if let Some(l) = &live {
                self.judge_by_baseline(
                    b,
                    l,
                    live_text,
                    live_body,
                    quotes,
                    &mut check,
                    &mut evidence,
                )
                .await;
            }
            evidence.baseline = Some(b.body_sha256.clone());
            let latest = live.as_ref().or(latest.as_ref());
            evidence.offline = Some(Box::new(Offline {
                baseline: Some(b.body_sha256.clone()),
                baseline_at: Some(b.fetched_at.clone()),
                latest: latest.map(|l| l.body_sha256.clone()),
                latest_at: latest.map(|l| l.fetched_at.clone()),
                show: self.show_command(&url),
                // A body object exists only in stores written before the
                // bodies moved into the WARC files (never on S3).
                path: (!self.store.copies_on_s3() && self.body_object(&b.body_sha256))
                    .then(|| Objects::relative_path(&b.body_sha256)),
                page: None,
            }));
        }

        self.batch.add_check(&CheckRow {
            run_id: &self.run_id,
            source_id: source.id,
            check: &check,
            similarity: evidence.similarity,
            snapshot_id: live.as_ref().map(|l| l.id),
        });
        self.fetch_done().await?;
        self.forget_source(&url, source.id);
        Ok(SourceOutcome {
            check,
            evidence,
            requisites,
        })
    }

    async fn requisite(&mut self, ready: Ready) -> Result<Vec<String>> {
        let Ready {
            fetched,
            hops,
            body: prepared,
        } = ready;
        let Fetched {
            check,
            body,
            request_headers,
            exchanges,
            ..
        } = fetched;
        let hops = hops.map_err(|e| self.store.err(format!("{}: {e}", check.url)))?;
        self.write_hops(&hops)?;
        let Some(body) = body else {
            return Ok(Vec::new());
        };
        if body.size > MAX_REQUISITE_BYTES || body.truncated {
            crate::fetch::discard_spool(&body);
            return Ok(Vec::new());
        }
        let prepared = self.prepared(&check.url, &body, prepared)?;
        self.load(&check.url).await?;
        self.ensure_ids().await?;
        let id = self.source_row(&check.url).id;
        let latest = self.latest.remove(&check.url);
        let stored = self
            .store_body(
                Incoming {
                    url: &check.url,
                    final_url: check.final_url.as_deref(),
                    request_headers: &request_headers,
                    ip: answered_from(&exchanges),
                },
                id,
                body,
                prepared,
                latest.as_ref(),
            )
            .await?;
        self.fetch_done().await?;
        Ok(stored.requisites)
    }
}

/// Where a fetch's preparation runs: inline, by the storing task that
/// polls it (a few small records), or elsewhere (`preparers`).
enum Started<W> {
    Inline(W),
    Elsewhere(tokio::sync::oneshot::Receiver<std::result::Result<Ready, String>>),
}

/// A fetch's preparation, for the store's threads (`preparers`).
type PrepareJob = Box<dyn FnOnce() + Send>;

/// The threads that prepare fetches with bodies (`prepare`): two per core,
/// as many as `check` hands over at once, started on first use and kept
/// for the process; a thread that finishes one takes the next from their
/// channel. The runtime's blocking pool started a new thread whenever none
/// was idle at the moment of a hand-over: a first run grew it to its limit
/// (16 threads, 22 in the process against 13 before), each with its own
/// deflate states and allocator arena, 8-10 MB more at the peak. One per
/// core was as cheap in CPU but slower under other processes' load (fewer
/// threads, a smaller share of the cores). `None` when no thread could be
/// started: the blocking pool then.
fn preparers() -> Option<&'static std::sync::mpsc::Sender<PrepareJob>> {
    type Threads = Option<std::sync::mpsc::Sender<PrepareJob>>;
    static THREADS: std::sync::OnceLock<Threads> = std::sync::OnceLock::new();
    THREADS
        .get_or_init(|| {
            let (send, receive) = std::sync::mpsc::channel::<PrepareJob>();
            let receive = Arc::new(std::sync::Mutex::new(receive));
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
            let mut started = 0;
            for i in 0..2 * cores {
                let receive = receive.clone();
                let thread = std::thread::Builder::new()
                    .name(format!("store-prepare-{i}"))
                    .spawn(move || {
                        loop {
                            let job = match receive.lock() {
                                Ok(r) => r.recv(),
                                Err(_) => return,
                            };
                            let Ok(job) = job else { return };
                            // A panic loses that fetch's preparation (its
                            // caller is told), not the thread.
                            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                        }
                    });
                started += usize::from(thread.is_ok());
            }
            (started > 0).then_some(send)
        })
        .as_ref()
}

/// The first 64 bits of a body's SHA-256 (hex), as `indexed_bodies`
/// keeps them.
fn body_bits(sha256: &str) -> Option<u64> {
    u64::from_str_radix(sha256.get(..16)?, 16).ok()
}

/// Runs `keep` (CPU work, which may borrow) on a thread of its own while
/// `insert` (a future) runs here, and gives both outcomes: a run's end
/// keeps the report's object (serialised, compressed and synced) beside
/// the citations' rows (SQLite's thread, or PostgreSQL), and `check`
/// prints the report beside the store's finish. In series, those were
/// most of what a recheck of 5,000 sources did after its last commit
/// (10,000 citations, a 9 MB report). On a single-threaded runtime (a
/// unit test) they run one after the other.
pub(crate) async fn keep_beside<I, K>(insert: I, keep: impl FnOnce() -> K + Send) -> (I::Output, K)
where
    I: std::future::Future,
    K: Send,
{
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(|| {
                std::thread::scope(|s| {
                    let keeping = s.spawn(keep);
                    let inserted = h.block_on(insert);
                    let kept = keeping
                        .join()
                        .unwrap_or_else(|p| std::panic::resume_unwind(p));
                    (inserted, kept)
                })
            })
        }
        _ => {
            let inserted = insert.await;
            (inserted, keep())
        }
    }
}

/// Gives back a map's room once it is three-quarters empty (to twice what
/// it holds, so that shrinking is rare).
fn shrink_when_sparse<K: std::hash::Hash + Eq, V>(map: &mut HashMap<K, V>) {
    if map.capacity() > 1024 && map.len() * 4 < map.capacity() {
        map.shrink_to(map.len() * 2);
    }
}

/// The most bytes of exchanges' bodies a fetch's records may hold to be
/// encoded on the runtime's threads rather than the blocking pool
/// (`prepare`): a few small records' worth.
const LIGHT_HOP_BYTES: usize = 16 * 1024;

/// How many body bytes the exchanges of a fetch hold in memory.
fn hop_bytes(exchanges: &[crate::fetch::Exchange]) -> usize {
    exchanges
        .iter()
        .map(|e| match &e.body {
            ExchangeBody::Read { bytes, .. } => bytes.len(),
            ExchangeBody::Fetched => 0,
        })
        .sum()
}

/// The records of every exchange of a fetch but the one whose body is
/// stored (`store_body` writes that one with its snapshot), encoded on the
/// blocking pool: robots.txt, redirects, error pages and retried attempts
/// as response records with what was read of their bodies; a 304 as a
/// revisit of the copy it confirms, `latest`.
fn encode_hops(
    shared: &Shared,
    exchanges: &[crate::fetch::Exchange],
    latest: Option<&Earlier>,
) -> std::result::Result<Vec<Encoded>, String> {
    let mut out = Vec::new();
    for e in exchanges {
        let ExchangeBody::Read { bytes, truncated } = &e.body else {
            continue;
        };
        let confirmed = latest.filter(|_| e.status == 304).cloned();
        let capture = match &confirmed {
            Some(earlier) => Capture::Revisit {
                profile: Profile::ServerNotModified,
                earlier,
            },
            None => Capture::Response {
                truncated: *truncated,
            },
        };
        let record = Exchange {
            target_uri: &e.url,
            date: shared.now,
            method: "GET",
            request_headers: &e.request_headers,
            http_version: &e.http_version,
            status: e.status,
            response_headers: &e.response_headers,
            body: Body::Bytes(bytes),
            ip: e.ip.as_deref(),
        };
        let encoded = shared
            .encoder
            .encode(&record, &capture)
            .map_err(|e| format!("WARC: {e}"))?;
        out.push(encoded);
    }
    Ok(out)
}

/// The state-free work on a body (on the blocking pool): its bytes read
/// back, its response capture encoded, and what the index keeps of its
/// content (`read_page`).
fn prepare_body(
    shared: &Shared,
    fetched: &mut Fetched,
    text: Text,
    requisites: bool,
) -> std::result::Result<Prepared, String> {
    let body = fetched.body.as_mut().ok_or("no body")?;
    let bytes = match &body.spool {
        // The head is the whole body when it fits (and `check` may have
        // dropped it for a fetch that waited: the spool file is whole).
        // Taken, not copied: nothing reads the head after this.
        _ if body.head.len() as u64 == body.size => std::mem::take(&mut body.head),
        Some(path) => std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?,
        None => {
            return Err(format!(
                "the body could not be written to the store: {}",
                body.spool_error.as_deref().unwrap_or("no spool file")
            ));
        }
    };
    let url = fetched.check.url.as_str();
    let final_url = fetched.check.final_url.as_deref();
    let record = Exchange {
        target_uri: final_url.unwrap_or(url),
        date: shared.now,
        method: "GET",
        request_headers: &fetched.request_headers,
        http_version: &body.http_version,
        status: body.status,
        response_headers: &body.headers,
        body: Body::Bytes(&bytes),
        ip: answered_from(&fetched.exchanges),
    };
    let capture = Capture::Response {
        truncated: body.truncated,
    };
    let response = shared
        .encoder
        .encode(&record, &capture)
        .map_err(|e| format!("WARC: {e}"))?;
    let (page, text) = read_page(url, final_url, body, &bytes, text, requisites);
    Ok(Prepared {
        bytes,
        page,
        text,
        response,
    })
}

/// What the index keeps from a body's content: the hash of the main text
/// and of its normalised form (`Text::Now`), with the text itself, or the
/// mark of a text whose hashes are deferred (`Text::Deferred`); and the
/// requisites an offline copy needs (a page's, or a style sheet's), at
/// most `REQUISITES_PER_PAGE`, when `requisites`.
fn read_page(
    url: &str,
    final_url: Option<&str>,
    body: &FetchedBody,
    bytes: &[u8],
    text: Text,
    requisites: bool,
) -> (Page, Option<String>) {
    let mut page = Page::default();
    let family = compare::content_family(body.content_type.as_deref());
    if !matches!(family, "html" | "text" | "css") {
        return (page, None);
    }
    if !requisites && !matches!(text, Text::Now) {
        // Nothing to read from the content now.
        if matches!(text, Text::Deferred) && family != "css" {
            page.text_sha = Some(TEXT_DEFERRED.to_string());
        }
        return (page, None);
    }
    let Ok(decoded) = crate::base::text::decode_text(bytes.to_vec(), body.charset.as_deref())
    else {
        return (page, None);
    };
    // A page is parsed only as far as it is cheap to (`fetch::bound`).
    let bound = (family == "html").then(|| crate::fetch::bound::parseable(&decoded));
    page.cut_note = bound.and_then(|b| b.cut).map(|c| c.note());
    let html = bound.map_or(decoded.as_str(), |b| b.html);
    if requisites && let Ok(base) = url::Url::parse(final_url.unwrap_or(url)) {
        let found = match family {
            "html" => super::offline::requisites(html, &base),
            "css" => super::offline::css_requisites(&decoded, &base),
            _ => Vec::new(),
        };
        page.requisites = found.into_iter().map(|r| r.url.to_string()).collect();
        page.requisites.truncate(REQUISITES_PER_PAGE);
    }
    match text {
        _ if family == "css" => return (page, None),
        Text::None => return (page, None),
        Text::Deferred => {
            page.text_sha = Some(TEXT_DEFERRED.to_string());
            return (page, None);
        }
        Text::Now => {}
    }
    let text = text_in(family, html, &decoded);
    page.text_sha = Some(hex::encode(Sha256::digest(text.as_bytes())));
    page.norm_sha = Some(hex::encode(Sha256::digest(
        compare::normalize(&text).as_bytes(),
    )));
    (page, Some(text))
}

/// What `prepare` does about a body's main text.
#[derive(Clone, Copy)]
enum Text {
    /// Nothing: a requisite has no text.
    None,
    /// Extracts it and hashes it and its normalised form.
    Now,
    /// Marks it deferred (`TEXT_DEFERRED`): no comparison needs it yet.
    Deferred,
}

/// The main text of a page (`family` "html") or a text file.
fn text_in(family: &str, html: &str, decoded: &str) -> String {
    if family == "html" {
        crate::collect::main_text(html)
    } else {
        decoded.to_string()
    }
}

/// The main text of a snapshot's body, made as `prepare` made the one its
/// `text_sha256` names (same decoding, same bounds, the current
/// extractor). `None` when the snapshot has no text (not a cited page, or
/// not HTML or text) or the bytes do not decode.
pub(super) fn main_text(snap: &SnapshotRow, body: &[u8]) -> Option<String> {
    snap.text_sha256.as_ref()?;
    let family = compare::content_family(snap.content_type.as_deref());
    if !matches!(family, "html" | "text") {
        return None;
    }
    let decoded = crate::base::text::decode_text(body.to_vec(), snap.charset.as_deref()).ok()?;
    let html = if family == "html" {
        crate::fetch::bound::parseable(&decoded).html
    } else {
        decoded.as_str()
    };
    Some(text_in(family, html, &decoded))
}

/// `main_text` of a body in hand, made on the blocking pool (a page's
/// text can take milliseconds to extract).
async fn made_text(snap: &SnapshotRow, body: Vec<u8>) -> Option<String> {
    let snap = snap.clone();
    tokio::task::spawn_blocking(move || main_text(&snap, &body))
        .await
        .ok()
        .flatten()
}

/// A snapshot's main text: the text object a store written before texts
/// were derived keeps, when it is sound, else `main_text` of its body.
/// `None` when it has none or no copy can be read (`show` and `diff` say
/// why, with `text_or_error`).
#[cfg(test)]
async fn text_of(store: &Store, snap: &SnapshotRow) -> Option<String> {
    text_or_error(store, &snap.url, snap).await.ok().flatten()
}

/// `text_of`, with the reason a text that should be there cannot be read:
/// `Ok(None)` for a snapshot that has no text.
pub(super) async fn text_or_error(
    store: &Store,
    url: &str,
    snap: &SnapshotRow,
) -> Result<Option<String>> {
    let Some(sha) = snap.text_sha256.as_deref() else {
        return Ok(None);
    };
    // A damaged text object gives way to the body, which `verify` and the
    // reads check on their own; its error is the one said when the body is
    // unreadable too.
    let mut object_error = None;
    if text_hashed(sha) && !store.copies_on_s3() && store.objects.exists(sha) {
        match store.read_copy(url, snap, sha).await {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => return Ok(Some(text)),
                Err(_) => {
                    object_error = Some(store.err(format!(
                        "{url}: the text of {} is not UTF-8",
                        snap.fetched_at
                    )))
                }
            },
            Err(e) => object_error = Some(e),
        }
    }
    match store.read_copy(url, snap, &snap.body_sha256).await {
        Ok(body) => Ok(made_text(snap, body).await),
        Err(e) => Err(object_error.unwrap_or(e)),
    }
}

/// Where a snapshot's record is in a local file (`Archive::capture_place`).
struct CapturePlace {
    path: std::path::PathBuf,
    offset: u64,
    body_sha256: String,
    /// The capture as the index names it (its payload digest left to
    /// fill), when the index keeps the response record's id.
    indexed: Option<Earlier>,
}

impl CapturePlace {
    /// The capture holding the snapshot's payload, as a revisit names it
    /// (see `Archive::earlier_capture`): from the index when it keeps the
    /// response record's id (`SnapshotRow::warc_record_id`), else read
    /// from the record's headers (a revisit's snapshot, an older row).
    fn earlier(&self) -> Option<Earlier> {
        let digest = super::warc::payload_digest_of(&self.body_sha256)?;
        if let Some(indexed) = &self.indexed {
            return Some(Earlier {
                payload_digest: digest,
                ..indexed.clone()
            });
        }
        let headers = super::warc::read_headers(&self.path, self.offset).ok()?;
        let earlier = Earlier::of(&headers)?;
        (earlier.payload_digest == digest).then_some(earlier)
    }
}

/// What `live_copy` found: the live snapshot, the requisites it names and
/// its main text when it was fetched now.
#[derive(Default)]
struct LiveCopy {
    snapshot: Option<SnapshotRow>,
    requisites: Vec<String>,
    text: Option<String>,
    /// The body fetched now, when its text was deferred: what the
    /// comparison makes the live text from, if it needs it.
    body: Option<Vec<u8>>,
}

/// The address that sent the body a fetch kept.
fn answered_from(exchanges: &[crate::fetch::Exchange]) -> Option<&str> {
    exchanges
        .iter()
        .find(|e| matches!(e.body, ExchangeBody::Fetched))
        .and_then(|e| e.ip.as_deref())
}

/// Quotes a word for a POSIX shell when it needs it.
pub fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// One source's state as the index holds it (`Index::source_state`),
/// for a writer that reads state on demand.
pub async fn source_state(store: &Store, url: &str) -> Result<super::index::SourceState> {
    store
        .index
        .source_state(url)
        .await
        .map_err(|e| store.err(e))
}

/// The states of many sources (`Index::source_states`), in `urls`' order.
pub async fn source_states(
    store: &Store,
    urls: &[String],
) -> Result<Vec<super::index::SourceState>> {
    store
        .index
        .source_states(urls)
        .await
        .map_err(|e| store.err(e))
}

/// The first snapshot with a record of each body
/// (`Index::first_snapshots_with_bodies`), for `Archive::know_first`.
pub async fn first_snapshots(store: &Store, shas: &[String]) -> Result<Vec<Option<SnapshotRow>>> {
    store
        .index
        .first_snapshots_with_bodies(shas)
        .await
        .map_err(|e| store.err(e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Reason, Verdict};
    use crate::store::testing;
    use chrono::TimeZone;

    const URL: &str = "https://example.org/story";

    fn day_n(n: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 1, 3, 0, 0).unwrap() + chrono::Duration::days(n)
    }

    fn page(text: &str) -> String {
        format!("<html><body><article><p>{text}</p></article></body></html>")
    }

    fn fetched(html: Option<&str>, status: u16) -> Fetched {
        let body = html.map(|h| FetchedBody {
            sha256: hex::encode(Sha256::digest(h.as_bytes())),
            size: h.len() as u64,
            truncated: false,
            head: h.as_bytes().to_vec(),
            spool: None,
            spool_error: None,
            status,
            headers: vec![("Content-Type".into(), "text/html".into())],
            http_version: "HTTP/1.1".into(),
            content_type: Some("text/html".into()),
            charset: None,
            etag: None,
            last_modified: None,
        });
        Fetched {
            check: testing::check(URL, Verdict::Ok, Reason::Ok, Some(status)),
            body,
            request_headers: Vec::new(),
            exchanges: Vec::new(),
            reach: crate::fetch::Reach::Public,
        }
    }

    /// `fetched`, of another address than `URL`.
    fn fetched_at(url: &str, html: Option<&str>, status: u16) -> Fetched {
        let mut f = fetched(html, status);
        f.check.url = url.into();
        f
    }

    fn hop(url: &str, status: u16, body: ExchangeBody) -> crate::fetch::Exchange {
        crate::fetch::Exchange {
            url: url.into(),
            request_headers: vec![("user-agent".into(), "citeguard-test".into())],
            status,
            http_version: "HTTP/1.1".into(),
            response_headers: vec![("Content-Type".into(), "text/plain".into())],
            body,
            ip: Some("127.0.0.1".into()),
        }
    }

    fn read(bytes: &[u8]) -> ExchangeBody {
        ExchangeBody::Read {
            bytes: bytes.to_vec(),
            truncated: false,
        }
    }

    /// Each record of a run's WARC file: its type, target URI and, for a
    /// revisit, the profile's last segment and the URI it refers to.
    fn records(store: &Store, run: &str) -> Vec<(String, String, String)> {
        let path = store.warc_dir().join(format!("{run}.warc.gz"));
        let len = std::fs::metadata(&path).unwrap().len();
        let mut out = Vec::new();
        let mut offset = 0;
        while offset < len {
            let (r, member) = super::super::warc::read_member(&path, offset).unwrap();
            let h = |n| r.header(n).unwrap_or_default().to_string();
            let profile = h("WARC-Profile");
            let revisit = match profile.rsplit('/').next() {
                Some(p) if !p.is_empty() => format!("{p} of {}", h("WARC-Refers-To-Target-URI")),
                _ => String::new(),
            };
            out.push((h("WARC-Type"), h("WARC-Target-URI"), revisit));
            offset += member;
        }
        out
    }

    fn listed(rows: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
        rows.iter()
            .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
            .collect()
    }

    async fn run(store: &Store, n: i64, f: Fetched) -> SourceOutcome {
        let id = format!("run{n}");
        let mut archive = Archive::begin(store, &Config::default(), &id, day_n(n))
            .await
            .unwrap();
        let outcome = give(&mut archive, f).await;
        archive.commit().await.unwrap();
        outcome
    }

    /// Hands a fetch to the archive as `check` does: prepared, then stored.
    async fn give(archive: &mut Archive<'_>, f: Fetched) -> SourceOutcome {
        let ready = archive.prepare(f, true).await.unwrap();
        archive.source(ready, &[]).await.unwrap()
    }

    /// What a run that is the store's one writer loads in one statement
    /// (`Index::writer_state`) is what the three queries it replaces read:
    /// sources with and without snapshots, a baseline that is the latest
    /// copy and one that is not, validators and a text with quotes in it.
    #[tokio::test]
    async fn a_writers_state_read_in_one_statement_is_what_the_three_queries_read() {
        let (_dir, store) = testing::store().await;
        let at = |url: &str, html: Option<&str>, status: u16| {
            let mut f = fetched_at(url, html, status);
            if let Some(b) = f.body.as_mut() {
                b.etag = Some("\"v1\"".into());
                b.last_modified = Some("Tue, 03 Nov 2026 10:00:00 GMT".into());
            }
            f
        };
        let other = "https://example.org/\u{e9}t\u{e9}?q=\"1\"";
        let gone = "https://example.org/gone";
        for (n, text) in [
            (0, testing::CITED),
            (1, "Another text, \"quoted\" \\ and\nnew."),
        ] {
            let id = format!("run{n}");
            let mut archive = Archive::begin(&store, &Config::default(), &id, day_n(n))
                .await
                .unwrap();
            give(&mut archive, at(URL, Some(&page(text)), 200)).await;
            give(&mut archive, at(other, Some(&page(testing::CITED)), 200)).await;
            give(&mut archive, at(gone, None, 404)).await;
            archive.commit().await.unwrap();
        }
        let state = store.index.writer_state().await.unwrap();
        let mut sources = state.sources;
        sources.sort_by_key(|s| s.id);
        assert_eq!(sources, store.index.all_sources().await.unwrap());
        assert_eq!(sources.len(), 3);
        let by_id = |mut v: Vec<SnapshotRow>| {
            v.sort_by_key(|s| s.id);
            v
        };
        let latest = by_id(store.index.latest_snapshots().await.unwrap());
        assert_eq!(by_id(state.latest), latest);
        assert_eq!(latest.len(), 2, "the 404 has no snapshot");
        let mut baselines = state.baselines;
        baselines.sort_by_key(|(s, _)| *s);
        let mut expected = store.index.all_baselines().await.unwrap();
        expected.sort_by_key(|(s, _)| *s);
        assert_eq!(baselines, expected);
        assert_eq!(baselines.len(), 2);
        let changed = store.index.find_source(URL).await.unwrap().unwrap();
        let (_, b) = baselines.iter().find(|(s, _)| *s == changed.id).unwrap();
        assert!(
            latest.iter().any(|l| l.url == URL && l.id != b.id),
            "{URL}'s baseline is its first copy, not its latest"
        );
    }

    #[tokio::test]
    async fn the_first_copy_is_the_baseline_and_the_same_page_later_is_ok() {
        let (_dir, store) = testing::store().await;
        let first = run(&store, 0, fetched(Some(&page(testing::CITED)), 200)).await;
        assert_eq!(first.check.verdict, Verdict::Ok);
        let sha = hex::encode(Sha256::digest(page(testing::CITED).as_bytes()));
        assert_eq!(first.evidence.baseline.as_deref(), Some(sha.as_str()));
        assert_eq!(first.evidence.similarity, Some(1.0));
        let history = first.evidence.history.unwrap();
        assert_eq!(history.checks, 1);

        let again = run(&store, 1, fetched(Some(&page(testing::CITED)), 200)).await;
        assert_eq!(again.check.verdict, Verdict::Ok);
        let source = store.index.find_source(URL).await.unwrap().unwrap();
        assert_eq!(
            store.index.snapshots(source.id).await.unwrap().len(),
            1,
            "the same bytes are not stored twice"
        );
    }

    #[tokio::test]
    async fn another_text_later_is_changed_and_a_304_stands_on_the_latest_copy() {
        let (_dir, store) = testing::store().await;
        run(&store, 0, fetched(Some(&page(testing::CITED)), 200)).await;
        let drifted = run(&store, 1, fetched(Some(&page(testing::OTHER)), 200)).await;
        assert_eq!(
            (drifted.check.verdict, drifted.check.reason),
            (Verdict::Changed, Reason::ContentDrift)
        );
        let offline = drifted.evidence.offline.unwrap();
        assert_ne!(offline.baseline, offline.latest);

        let not_modified = run(&store, 2, fetched(None, 304)).await;
        assert_eq!(not_modified.check.reason, Reason::ContentDrift);
        assert_eq!(
            not_modified.evidence.offline.unwrap().latest,
            offline.latest
        );
    }

    #[tokio::test]
    async fn every_exchange_is_archived_and_a_304_is_a_revisit_of_the_copy_it_confirms() {
        let (_dir, store) = testing::store().await;
        let robots = "https://example.org/robots.txt";
        let old = "https://example.org/old-story";
        let mut first = fetched(Some(&page(testing::CITED)), 200);
        first.exchanges = vec![
            hop(robots, 200, read(b"User-agent: *\n")),
            hop(old, 301, read(b"moved")),
            hop(URL, 200, ExchangeBody::Fetched),
        ];
        run(&store, 0, first).await;
        assert_eq!(
            records(&store, "run0"),
            listed(&[
                ("warcinfo", "", ""),
                ("response", robots, ""),
                ("request", robots, ""),
                ("response", old, ""),
                ("request", old, ""),
                ("response", URL, ""),
                ("request", URL, ""),
            ])
        );

        let mut not_modified = fetched(None, 304);
        not_modified.exchanges = vec![hop(URL, 304, read(b""))];
        let outcome = run(&store, 1, not_modified).await;
        assert_eq!(outcome.check.verdict, Verdict::Ok);
        let confirms = format!("server-not-modified of {URL}");
        assert_eq!(
            records(&store, "run1"),
            listed(&[
                ("warcinfo", "", ""),
                ("revisit", URL, &confirms),
                ("request", URL, ""),
            ])
        );
        // A page that fails leaves its answer in the archive too.
        let mut gone = fetched(None, 404);
        gone.check = testing::check(URL, Verdict::Dead, Reason::HttpStatus, Some(404));
        gone.exchanges = vec![hop(URL, 404, read(b"<p>no such page</p>"))];
        run(&store, 2, gone).await;
        let path = store.warc_dir().join("run2.warc.gz");
        let (warcinfo, len) = super::super::warc::read_member(&path, 0).unwrap();
        assert_eq!(warcinfo.header("WARC-Type"), Some("warcinfo"));
        let response = super::super::warc::read_record(&path, len).unwrap();
        let (status, _, body) = super::super::warc::http_payload(&response.block).unwrap();
        assert_eq!((status, body), (404, &b"<p>no such page</p>"[..]));
    }

    /// The record at `offset` of `file` in the store.
    fn record_at(store: &Store, file: &str, offset: u64) -> super::super::warc::Record {
        super::super::warc::read_record(&store.warc_dir().join(file), offset).unwrap()
    }

    /// The revisit record a 304 of `URL` writes in run `n`.
    async fn revisit_of(store: &Store, n: i64) -> super::super::warc::Record {
        let mut not_modified = fetched(None, 304);
        not_modified.exchanges = vec![hop(URL, 304, read(b""))];
        run(store, n, not_modified).await;
        let path = store.warc_dir().join(format!("run{n}.warc.gz"));
        let (_, warcinfo) = super::super::warc::read_member(&path, 0).unwrap();
        let revisit = super::super::warc::read_record(&path, warcinfo).unwrap();
        assert_eq!(revisit.header("WARC-Type"), Some("revisit"));
        revisit
    }

    #[tokio::test]
    async fn a_revisit_names_the_response_record_the_index_keeps_and_an_older_row_reads_it() {
        let (_dir, store) = testing::store().await;
        // A redirected fetch: the record's target is the final URL.
        let moved = "https://example.org/story-moved";
        let mut first = fetched(Some(&page(testing::CITED)), 200);
        first.check.final_url = Some(moved.into());
        run(&store, 0, first).await;
        let source = store.index.find_source(URL).await.unwrap().unwrap();
        let row = store.index.snapshots(source.id).await.unwrap().remove(0);
        let file = row.warc_file.clone().unwrap();
        let response = record_at(&store, &file, row.warc_offset.unwrap());
        assert_eq!(response.header("WARC-Type"), Some("response"));
        assert_eq!(
            row.warc_record_id.as_deref(),
            response.header("WARC-Record-ID"),
            "the index keeps the response record's id"
        );
        // What the index names is what the record's headers say.
        let from_headers = Earlier::of(&response.headers).unwrap();
        assert_eq!(from_headers.target_uri, moved);
        let archive = Archive::begin(&store, &Config::default(), "look", day_n(1))
            .await
            .unwrap();
        let place = archive.capture_place(&row).unwrap();
        assert!(place.indexed.is_some());
        assert_eq!(place.earlier(), Some(from_headers.clone()));
        // Without the id (a row written before), the headers are read.
        let older = SnapshotRow {
            warc_record_id: None,
            ..row.clone()
        };
        let place = archive.capture_place(&older).unwrap();
        assert!(place.indexed.is_none());
        assert_eq!(place.earlier(), Some(from_headers.clone()));
        drop(archive);

        // A 304's revisit names that record, with the index's id.
        let revisit = revisit_of(&store, 1).await;
        assert_eq!(
            revisit.header("WARC-Refers-To"),
            response.header("WARC-Record-ID")
        );
        assert_eq!(revisit.header("WARC-Refers-To-Target-URI"), Some(moved));
        assert_eq!(
            revisit.header("WARC-Refers-To-Date"),
            response.header("WARC-Date")
        );
        assert_eq!(
            revisit.header("WARC-Payload-Digest"),
            response.header("WARC-Payload-Digest")
        );
    }

    #[tokio::test]
    async fn a_304_of_a_row_without_its_record_id_reads_the_records_headers() {
        let (_dir, store) = testing::store().await;
        let html = page(testing::CITED);
        let row = testing::put(
            &store,
            "run0",
            &testing::Snap {
                warc: true,
                ..testing::Snap::html(URL, "2026-10-01T00:00:00Z", &html)
            },
        )
        .await;
        assert_eq!(row.warc_record_id, None, "a row as written before");
        let response = record_at(
            &store,
            row.warc_file.as_deref().unwrap(),
            row.warc_offset.unwrap(),
        );
        let revisit = revisit_of(&store, 1).await;
        assert_eq!(
            revisit.header("WARC-Refers-To"),
            response.header("WARC-Record-ID")
        );
        assert_eq!(
            revisit.header("WARC-Refers-To-Date"),
            response.header("WARC-Date"),
            "the record's own date, not the row's"
        );
    }

    #[tokio::test]
    async fn an_older_stores_body_objects_are_found_plain_or_gzipped_and_no_other() {
        let (_dir, store) = testing::store().await;
        let html = page("A body kept as an object, before the WARC files held them.");
        let row = testing::put(
            &store,
            "run0",
            &testing::Snap::html(URL, "2026-10-01T00:00:00Z", &html),
        )
        .await;
        assert_eq!(row.warc_file, None, "a row of an older store");
        // An older store kept compressible bodies gzipped.
        let gzipped = "ab".repeat(32);
        let path = store.objects.path(&gzipped);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path.with_file_name(format!("{}.gz", &gzipped[2..])), b"gz").unwrap();
        let archive = Archive::begin(&store, &Config::default(), "run1", day_n(1))
            .await
            .unwrap();
        assert!(archive.body_object(&row.body_sha256));
        assert!(archive.is_whole(&row));
        assert!(archive.body_object(&gzipped));
        // Another name in a directory already listed, and a directory
        // that is not there.
        let mut sibling = row.body_sha256.clone();
        let last = if sibling.ends_with('0') { "1" } else { "0" };
        sibling.replace_range(63.., last);
        assert!(!archive.body_object(&sibling));
        assert!(!archive.body_object(&"cd".repeat(32)));
    }

    #[tokio::test]
    async fn the_same_bytes_again_or_at_another_address_are_revisits_of_their_first_capture() {
        let (_dir, store) = testing::store().await;
        let html = page(testing::CITED);
        run(&store, 0, fetched(Some(&html), 200)).await;

        let mut archive = Archive::begin(&store, &Config::default(), "run1", day_n(1))
            .await
            .unwrap();
        give(&mut archive, fetched(Some(&html), 200)).await;
        let mirror = "https://mirror.example/story";
        let elsewhere = fetched_at(mirror, Some(&html), 200);
        give(&mut archive, elsewhere).await;
        archive.commit().await.unwrap();
        let identical = format!("identical-payload-digest of {URL}");
        assert_eq!(
            records(&store, "run1"),
            listed(&[
                ("warcinfo", "", ""),
                ("revisit", URL, &identical),
                ("request", URL, ""),
                ("revisit", mirror, &identical),
                ("request", mirror, ""),
            ])
        );
        // The mirror is a source of its own, whose snapshot is that revisit.
        let source = store.index.find_source(mirror).await.unwrap().unwrap();
        let snaps = store.index.snapshots(source.id).await.unwrap();
        let path = store.warc_dir().join("run1.warc.gz");
        let record = super::super::warc::read_record(&path, snaps[0].warc_offset.unwrap()).unwrap();
        assert_eq!(record.header("WARC-Type"), Some("revisit"));
        assert_eq!(
            record.header("WARC-Refers-To-Date"),
            Some("2026-11-01T03:00:00Z")
        );
    }

    #[test]
    fn the_preparing_threads_outlive_a_preparation_that_panics() {
        let threads = preparers().expect("the preparing threads start");
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        for _ in 0..2 * cores {
            threads
                .send(Box::new(|| panic!("a preparation that panics")))
                .unwrap();
        }
        let (tx, rx) = std::sync::mpsc::channel();
        for i in 0..4 {
            let tx = tx.clone();
            threads.send(Box::new(move || tx.send(i).unwrap())).unwrap();
        }
        // A guard against a hang, not a timing.
        let mut done: Vec<i32> = (0..4)
            .map(|_| rx.recv_timeout(Duration::from_secs(60)).unwrap())
            .collect();
        done.sort();
        assert_eq!(done, [0, 1, 2, 3]);
    }

    #[tokio::test]
    async fn a_new_stores_run_revisits_its_own_first_captures_without_asking_the_index() {
        let (_dir, store) = testing::store().await;
        let html = page(testing::CITED);
        let mut archive = Archive::begin(&store, &Config::default(), "run0", day_n(0))
            .await
            .unwrap();
        assert!(archive.new_store, "an empty index is a new store");
        give(&mut archive, fetched(Some(&html), 200)).await;
        // The first capture's batch is committed: the run now finds it
        // through the bodies it indexed, not in a batch.
        archive.commit().await.unwrap();
        let before = store.index.statements();
        let mirror = "https://mirror.example/story";
        let elsewhere = fetched_at(mirror, Some(&html), 200);
        give(&mut archive, elsewhere).await;
        assert_eq!(
            store.index.statements(),
            before + 1,
            "bytes this run indexed are looked up"
        );
        // Bytes no one stored are not.
        let other = fetched_at(
            "https://other.example/",
            Some(&page("A page no one stored before.")),
            200,
        );
        give(&mut archive, other).await;
        assert_eq!(store.index.statements(), before + 1, "nothing asked");
        archive.commit().await.unwrap();
        let identical = format!("identical-payload-digest of {URL}");
        assert_eq!(
            records(&store, "run0"),
            listed(&[
                ("warcinfo", "", ""),
                ("response", URL, ""),
                ("request", URL, ""),
                ("revisit", mirror, &identical),
                ("request", mirror, ""),
                ("response", "https://other.example/", ""),
                ("request", "https://other.example/", ""),
            ])
        );

        // A store that holds snapshots is not new: its run asks.
        let archive = Archive::begin(&store, &Config::default(), "run1", day_n(1))
            .await
            .unwrap();
        assert!(!archive.new_store);
    }

    #[tokio::test]
    async fn a_workers_next_batch_revisits_a_first_capture_of_the_batch_still_committing() {
        let (_dir, store) = testing::store().await;
        let _run = Archive::begin_elsewhere(&store, &Config::default(), "run0", day_n(0))
            .await
            .unwrap();
        let mut archive = Archive::join(&store, &Config::default(), "run0", day_n(0), "w1");
        let html = page(testing::CITED);
        give(&mut archive, fetched(Some(&html), 200)).await;
        assert_eq!(archive.batch_number(), 0);

        // Batch 0 is taken out to commit; the archive opens batch 1 at once.
        let committing = archive.take_batch().unwrap();
        assert_eq!(archive.batch_number(), 1);
        assert!(archive.taken_through(0) && !archive.committed_through(0));
        // The same bytes at another address, stored while batch 0 is not in
        // the index yet: a revisit of batch 0's capture all the same.
        let mirror = "https://mirror.example/story";
        let elsewhere = fetched_at(mirror, Some(&html), 200);
        let sha = elsewhere.body.as_ref().unwrap().sha256.clone();
        assert!(!archive.wants_first(mirror, &sha));
        give(&mut archive, elsewhere).await;
        let cited = store.index.find_source(URL).await.unwrap().unwrap();
        assert!(store.index.snapshots(cited.id).await.unwrap().is_empty());

        archive.committed(committing.commit().await).unwrap();
        assert!(archive.committed_through(0) && !archive.committed_through(1));
        assert_eq!(store.index.snapshots(cited.id).await.unwrap().len(), 1);
        let source = store.index.find_source(mirror).await.unwrap().unwrap();
        assert!(store.index.snapshots(source.id).await.unwrap().is_empty());
        let next = archive.take_batch().unwrap();
        archive.committed(next.commit().await).unwrap();
        assert!(archive.committed_through(1));

        let file = std::fs::read_dir(store.warc_dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .find(|n| n.starts_with("run0-w1-"))
            .unwrap();
        let run = file.trim_end_matches(".warc.gz");
        let identical = format!("identical-payload-digest of {URL}");
        assert_eq!(
            records(&store, run),
            listed(&[
                ("warcinfo", "", ""),
                ("response", URL, ""),
                ("request", URL, ""),
                ("revisit", mirror, &identical),
                ("request", mirror, ""),
            ])
        );
        let snaps = store.index.snapshots(source.id).await.unwrap();
        assert_eq!(snaps.len(), 1);
        assert_eq!(snaps[0].warc_file.as_deref(), Some(file.as_str()));
    }

    #[tokio::test]
    async fn a_workers_failed_batch_fails_the_batches_after_it() {
        let (_dir, store) = testing::store().await;
        run(&store, 0, fetched(Some(&page(testing::CITED)), 200)).await;
        // A worker's snapshot ids come from PostgreSQL's sequences; on
        // SQLite a joined archive numbers from 1 again, so its first
        // snapshot's id is taken and the index refuses the batch.
        let mut archive = Archive::join(&store, &Config::default(), "run0", day_n(0), "w1");
        let other = fetched_at(
            "https://example.org/other",
            Some(&page("another text")),
            200,
        );
        give(&mut archive, other).await;
        let committing = archive.take_batch().unwrap();
        give(&mut archive, fetched(Some(&page("a third text")), 200)).await;
        let first = archive.committed(committing.commit().await);
        assert!(first.is_err());
        assert!(!archive.committed_through(0));
        let later = archive.take_batch().err().unwrap().to_string();
        assert!(later.contains("an earlier batch was lost"), "{later}");
    }

    #[tokio::test]
    async fn a_batch_is_in_the_index_whole_or_not_at_all_and_its_files_are_on_disk_first() {
        let (_dir, store) = testing::store().await;
        let mut archive = Archive::begin(&store, &Config::default(), "run0", day_n(0))
            .await
            .unwrap();
        let outcome = give(&mut archive, fetched(Some(&page(testing::CITED)), 200)).await;
        assert_eq!(outcome.check.verdict, Verdict::Ok);
        // Open: nothing in the index yet.
        assert_eq!(store.index.find_source(URL).await.unwrap(), None);
        // Stored, the source is forgotten by a run that loaded the store
        // (it meets each cited source once); its rows wait in the batch.
        assert!(!archive.knows(URL));
        assert!(archive.baselines.is_empty());

        archive.commit().await.unwrap();
        let source = store.index.find_source(URL).await.unwrap().unwrap();
        assert_eq!(source.checks, 1);
        let snaps = store.index.snapshots(source.id).await.unwrap();
        assert_eq!(snaps.len(), 1);
        assert_eq!(
            store.index.baseline(source.id).await.unwrap(),
            Some(snaps[0].clone())
        );
        // The body's one copy is its response record; the text is no
        // object (a first copy's hashes are deferred), but made from that
        // body.
        assert!(!store.objects.exists(&snaps[0].body_sha256));
        assert_eq!(snaps[0].text_sha256.as_deref(), Some(TEXT_DEFERRED));
        assert!(!objects_dir_has(&store, &snaps[0].body_sha256));
        assert_eq!(
            store.read_body(&snaps[0]).await.unwrap(),
            page(testing::CITED).into_bytes()
        );
        let made = text_of(&store, &snaps[0]).await.unwrap();
        assert!(made.contains("the new dam on the river"), "{made}");
    }

    /// The snapshots of the test source, oldest first.
    async fn snapshots(store: &Store) -> Vec<SnapshotRow> {
        let source = store.index.find_source(URL).await.unwrap().unwrap();
        store.index.snapshots(source.id).await.unwrap()
    }

    #[tokio::test]
    async fn a_first_copy_defers_its_text_and_other_bytes_later_are_hashed_as_made() {
        let (_dir, store) = testing::store().await;
        let first = run(&store, 0, fetched(Some(&page(testing::CITED)), 200)).await;
        assert_eq!(first.check.verdict, Verdict::Ok);
        let snaps = snapshots(&store).await;
        assert_eq!(snaps[0].text_sha256.as_deref(), Some(TEXT_DEFERRED));
        assert_eq!(snaps[0].norm_sha256, None);

        // Other bytes, the same text (a comment differs): compared with
        // the deferred baseline's text made from its body, and equal.
        let same_text = page(testing::CITED).replace("<body>", "<body><!-- build 2 -->");
        let again = run(&store, 1, fetched(Some(&same_text), 200)).await;
        assert_eq!(
            (again.check.verdict, again.evidence.similarity),
            (Verdict::Ok, Some(1.0))
        );
        let snaps = snapshots(&store).await;
        assert_eq!(snaps.len(), 2);
        let live = &snaps[1];
        let made = text_of(&store, live).await.unwrap();
        assert_eq!(
            live.text_sha256.as_deref(),
            Some(hex::encode(Sha256::digest(made.as_bytes())).as_str())
        );
        assert_eq!(
            live.norm_sha256.as_deref(),
            Some(hex::encode(Sha256::digest(compare::normalize(&made).as_bytes())).as_str())
        );
        assert_eq!(made, text_of(&store, &snaps[0]).await.unwrap());

        // The baseline's bytes again: no text made, the copy stands.
        let back = run(&store, 2, fetched(Some(&page(testing::CITED)), 200)).await;
        assert_eq!(
            (back.check.verdict, back.evidence.similarity),
            (Verdict::Ok, Some(1.0))
        );
    }

    /// A run of one fetch; what its comparisons made of texts.
    async fn run_counting(store: &Store, n: i64, f: Fetched) -> (SourceOutcome, u64) {
        let mut archive = Archive::begin(store, &Config::default(), &format!("run{n}"), day_n(n))
            .await
            .unwrap();
        let outcome = give(&mut archive, f).await;
        let made = archive.texts_made();
        archive.commit().await.unwrap();
        (outcome, made)
    }

    #[tokio::test]
    async fn a_deferred_baselines_hashes_are_kept_once_a_comparison_makes_its_text() {
        let (_dir, store) = testing::store().await;
        // Bytes that differ on every fetch, the same text.
        let build = |n: i64| page(testing::CITED).replace("<body>", &format!("<body><!-- {n} -->"));
        let (_, made) = run_counting(&store, 0, fetched(Some(&build(0)), 200)).await;
        assert_eq!(made, 0, "a first copy makes no text");
        let first = snapshots(&store).await.remove(0);
        assert_eq!(first.text_sha256.as_deref(), Some(TEXT_DEFERRED));

        // Run 1 compares with the baseline: its text is made from its
        // record, once, and its hashes are kept in its row.
        let (second, made) = run_counting(&store, 1, fetched(Some(&build(1)), 200)).await;
        assert_eq!(
            (second.check.verdict, second.evidence.similarity),
            (Verdict::Ok, Some(1.0))
        );
        assert_eq!(made, 1);
        let snaps = snapshots(&store).await;
        let text = main_text(&snaps[0], build(0).as_bytes()).unwrap();
        let sha = |t: &str| hex::encode(Sha256::digest(t.as_bytes()));
        assert_eq!(snaps[0].text_sha256, Some(sha(&text)));
        assert_eq!(snaps[0].norm_sha256, Some(sha(&compare::normalize(&text))));
        assert_eq!(snaps[1].norm_sha256, snaps[0].norm_sha256);
        let source = store.index.find_source(URL).await.unwrap().unwrap();
        assert_eq!(
            store.index.baseline(source.id).await.unwrap().unwrap().id,
            snaps[0].id
        );

        // Run 2: both hashes are known, no text is made.
        let (third, made) = run_counting(&store, 2, fetched(Some(&build(2)), 200)).await;
        assert_eq!(
            (third.check.verdict, third.evidence.similarity),
            (Verdict::Ok, Some(1.0))
        );
        assert_eq!(made, 0, "the baseline's text is not made again");
        assert_eq!(snapshots(&store).await[0], snaps[0]);
    }

    /// A local run forgets a source once stored; meeting it again would
    /// give the URL a second row, so test builds stop there.
    #[cfg(debug_assertions)]
    #[tokio::test]
    #[should_panic(expected = "met a source it had stored and forgotten")]
    async fn a_local_run_meeting_a_stored_source_again_is_caught_in_test_builds() {
        let (_dir, store) = testing::store().await;
        let mut archive = Archive::begin(&store, &Config::default(), "run0", day_n(0))
            .await
            .unwrap();
        give(&mut archive, fetched(Some(&page(testing::CITED)), 200)).await;
        assert!(!archive.sources.contains_key(URL));
        give(&mut archive, fetched(Some(&page(testing::CITED)), 200)).await;
    }

    #[tokio::test]
    async fn a_text_made_in_a_run_is_not_made_again_in_that_run() {
        let (_dir, store) = testing::store().await;
        let quoted =
            |n: i64| page(testing::CITED).replace("<body>", &format!("<body><!-- {n} -->"));
        run(&store, 0, fetched(Some(&quoted(0)), 200)).await;
        let mut archive = Archive::begin(&store, &Config::default(), "run1", day_n(1))
            .await
            .unwrap();
        // As a fleet's worker, which keeps what it met (a local run
        // forgets a source once stored: it never meets it twice).
        archive.on_demand = true;
        give(&mut archive, fetched(Some(&quoted(1)), 200)).await;
        assert_eq!(archive.texts_made(), 1);
        // The run's own baseline row has its hashes, before the batch is in.
        let id = archive.sources[URL].id;
        let kept = archive.baselines[&id].clone();
        assert!(text_hashed(kept.text_sha256.as_deref().unwrap()));
        assert!(kept.norm_sha256.is_some());
        // Compared again in the same run (a fleet's worker given the
        // source twice): nothing made.
        let again = give(&mut archive, fetched(Some(&quoted(2)), 200)).await;
        assert_eq!(again.evidence.similarity, Some(1.0));
        assert_eq!(archive.texts_made(), 1);
        archive.commit().await.unwrap();
        assert_eq!(snapshots(&store).await[0], kept);
    }

    #[tokio::test]
    async fn a_quoted_first_copy_finds_its_quotes_in_the_text_made_from_its_body() {
        let (_dir, store) = testing::store().await;
        let mut archive = Archive::begin(&store, &Config::default(), "run0", day_n(0))
            .await
            .unwrap();
        let ready = archive
            .prepare(fetched(Some(&page(testing::CITED)), 200), true)
            .await
            .unwrap();
        let quotes = [
            "the new dam on the river".to_string(),
            "not there at all".to_string(),
        ];
        let outcome = archive.source(ready, &quotes).await.unwrap();
        archive.commit().await.unwrap();
        let found: Vec<(bool, bool)> = outcome
            .evidence
            .quotes
            .iter()
            .map(|(_, f)| (f.in_baseline, f.in_live))
            .collect();
        assert_eq!(found, [(true, true), (false, false)]);
        assert_eq!(outcome.evidence.similarity, Some(1.0));
    }

    /// Whether the object is in place under `objects/` (plain or gzipped).
    fn objects_dir_has(store: &Store, sha: &str) -> bool {
        let plain = store.objects.path(sha);
        plain.is_file() || plain.with_file_name(format!("{}.gz", &sha[2..])).is_file()
    }

    /// Overwrites the middle of a snapshot's record in place: its WARC
    /// file stays, the record no longer reads back.
    fn damage_record(store: &Store, row: &SnapshotRow) {
        use std::io::{Seek, SeekFrom, Write};
        let path = store.warc_dir().join(row.warc_file.as_deref().unwrap());
        let mut f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
        let middle = row.warc_offset.unwrap() + row.warc_length.unwrap() / 2;
        f.seek(SeekFrom::Start(middle)).unwrap();
        f.write_all(&[0xa5; 24]).unwrap();
    }

    #[tokio::test]
    async fn a_baseline_damaged_in_place_is_snapshot_lost_when_a_304_needs_its_text() {
        let (_dir, store) = testing::store().await;
        run(&store, 0, fetched(Some(&page(testing::CITED)), 200)).await;
        let source = store.index.find_source(URL).await.unwrap().unwrap();
        let row = store.index.snapshots(source.id).await.unwrap().remove(0);
        damage_record(&store, &row);

        // A 304 confirms the baseline; the quote must be looked for in its
        // text, which can no longer be made.
        let mut archive = Archive::begin(&store, &Config::default(), "run1", day_n(1))
            .await
            .unwrap();
        let ready = archive.prepare(fetched(None, 304), true).await.unwrap();
        let quotes = [testing::CITED.to_string()];
        let lost = archive.source(ready, &quotes).await.unwrap();
        assert_eq!(
            (lost.check.verdict, lost.check.reason),
            (Verdict::Missing, Reason::SnapshotLost)
        );
        assert_eq!(lost.evidence.similarity, None);
    }

    #[tokio::test]
    async fn a_baseline_gone_from_disk_is_snapshot_lost_and_not_offered_as_a_validator() {
        let (_dir, store) = testing::store().await;
        let mut f = fetched(Some(&page(testing::CITED)), 200);
        f.body.as_mut().unwrap().etag = Some("\"v1\"".into());
        let first = run(&store, 0, f).await;
        assert!(first.evidence.baseline.is_some());
        // The body's one copy is its record in the first run's WARC file.
        std::fs::remove_file(store.warc_dir().join("run0.warc.gz")).unwrap();

        let mut archive = Archive::begin(&store, &Config::default(), "run1", day_n(1))
            .await
            .unwrap();
        assert_eq!(archive.validators(URL).await.unwrap(), None);
        let lost = give(&mut archive, fetched(Some(&page(testing::OTHER)), 200)).await;
        assert_eq!(
            (lost.check.verdict, lost.check.reason),
            (Verdict::Missing, Reason::SnapshotLost)
        );
        assert_eq!(lost.evidence.similarity, None, "nothing to compare with");
    }
}
