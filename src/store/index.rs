//! The index: runs, posts, citations, sources, checks, snapshots,
//! requisites and baselines, in SQLite (WAL) inside the store directory,
//! or in PostgreSQL (`--store postgres://…`) shared by many processes.
//!
//! Every SQL statement of the project lives here, written in the subset
//! that SQLite and PostgreSQL share (`$n` parameters, `ON CONFLICT`,
//! `RETURNING`, text time stamps, 64-bit integers), and runs through
//! sqlx's Any driver: one text and one code path per statement for both
//! backends, rather than an enum of two pools that would spell every call
//! twice. The price, measured on SQLite in a debug build (5,000 inserts
//! with `RETURNING` and one read of them all): 1.50 s through Any against
//! 0.83 s through `SqlitePool`, about 0.13 ms more per statement, which a
//! run spends beside a network fetch per source. What is not shared is
//! the dialect (`Backend`): the migrations'
//! column types (translated by `postgres_ddl`), how the schema is looked
//! up, and the checks that only SQLite has. Migrations are numbered; the
//! index records the highest one applied and refuses an index whose number
//! is higher than this build knows, on either backend.

use std::path::Path;
use std::str::FromStr;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, ConnectOptions, Connection, Executor, Row};

use super::Access;
use crate::model::{Reason, Verdict};
use crate::schedule::History;

/// The migrations, in order. Never edit one that has shipped: add another.
const MIGRATIONS: &[&str] = &[
    // 1: the first schema.
    r#"
    CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        seq INTEGER NOT NULL UNIQUE,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        report TEXT
    );
    CREATE TABLE posts (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        date TEXT
    );
    CREATE TABLE sources (
        id INTEGER PRIMARY KEY,
        url TEXT NOT NULL UNIQUE,
        first_seen TEXT,
        last_ok TEXT,
        consecutive_failures INTEGER NOT NULL DEFAULT 0,
        failing_since TEXT,
        checks INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE snapshots (
        id INTEGER PRIMARY KEY,
        source_id INTEGER NOT NULL REFERENCES sources(id),
        run_id TEXT NOT NULL,
        fetched_at TEXT NOT NULL,
        status INTEGER NOT NULL,
        final_url TEXT,
        content_type TEXT,
        charset TEXT,
        size INTEGER NOT NULL,
        truncated INTEGER NOT NULL DEFAULT 0,
        body_sha256 TEXT NOT NULL,
        text_sha256 TEXT,
        norm_sha256 TEXT,
        etag TEXT,
        last_modified TEXT,
        warc_file TEXT,
        warc_offset INTEGER,
        warc_length INTEGER
    );
    CREATE INDEX snapshots_by_source ON snapshots(source_id, fetched_at);
    CREATE INDEX snapshots_by_body ON snapshots(body_sha256);
    CREATE TABLE baselines (
        id INTEGER PRIMARY KEY,
        source_id INTEGER NOT NULL REFERENCES sources(id),
        snapshot_id INTEGER NOT NULL REFERENCES snapshots(id),
        set_at TEXT NOT NULL,
        how TEXT NOT NULL
    );
    CREATE INDEX baselines_by_source ON baselines(source_id, id);
    CREATE TABLE requisites (
        snapshot_id INTEGER NOT NULL REFERENCES snapshots(id),
        url TEXT NOT NULL,
        PRIMARY KEY (snapshot_id, url)
    );
    CREATE TABLE checks (
        id INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL,
        source_id INTEGER NOT NULL REFERENCES sources(id),
        checked_at TEXT NOT NULL,
        verdict TEXT NOT NULL,
        reason TEXT NOT NULL,
        status INTEGER,
        final_url TEXT,
        redirects TEXT,
        content_type TEXT,
        attempts INTEGER NOT NULL,
        elapsed_ms INTEGER NOT NULL,
        detail TEXT,
        similarity REAL,
        snapshot_id INTEGER REFERENCES snapshots(id)
    );
    CREATE INDEX checks_by_source ON checks(source_id, id);
    CREATE TABLE citations (
        id INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL,
        post_id INTEGER NOT NULL REFERENCES posts(id),
        line INTEGER NOT NULL,
        url TEXT,
        text TEXT NOT NULL,
        kind TEXT NOT NULL,
        verdict TEXT NOT NULL,
        reason TEXT NOT NULL
    );
    CREATE INDEX citations_by_run ON citations(run_id);
    CREATE TABLE damaged (
        sha256 TEXT PRIMARY KEY,
        found_at TEXT NOT NULL,
        health TEXT NOT NULL
    );
    "#,
    // 2: a run's check of a source, found directly: the fleet's workers
    // look for it before keeping one (`Batch` checks, on a shared index),
    // so a source taken over from a worker that was still at it keeps one.
    // On PostgreSQL this step also moves the id sequences past the ids
    // that writers gave before (`migrate_postgres`): from now on every
    // writer takes its ids from them.
    r#"
    CREATE INDEX checks_by_run ON checks(run_id, source_id);
    "#,
    // 3: the `WARC-Record-ID` of a snapshot's own response record, so a
    // revisit of it (a 304's, or the same bytes fetched again) names it
    // without reading the record's headers from its WARC file. NULL for a
    // snapshot whose record is a revisit, and for rows written before.
    r#"
    ALTER TABLE snapshots ADD COLUMN warc_record_id TEXT;
    "#,
];

/// The tables whose ids a PostgreSQL writer takes from their identity
/// column's sequence.
const SEQUENCED: &[&str] = &[
    "sources",
    "snapshots",
    "baselines",
    "checks",
    "posts",
    "citations",
];

/// Every table of the schema, for PostgreSQL's integrity reading.
const TABLES: &[&str] = &[
    "meta",
    "runs",
    "posts",
    "sources",
    "snapshots",
    "baselines",
    "requisites",
    "checks",
    "citations",
    "damaged",
];

/// Records in `meta` that migration `n` is applied, in the transaction
/// that applied it.
async fn record_version(tx: &mut sqlx::Transaction<'_, sqlx::Any>, n: usize) -> IndexResult<()> {
    sqlx::query(
        "INSERT INTO meta (key, value) VALUES ('schema_version', $1) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(n.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error(
        "written by a newer citeguard (index schema {found}; this one knows up to {known}): upgrade citeguard"
    )]
    Newer { found: i64, known: i64 },
    #[error(
        "written by an older citeguard (index schema {found}): run `citeguard verify` once to upgrade it"
    )]
    Older { found: i64 },
    #[error(
        "index.sqlite fails SQLite's integrity check ({0}); nothing was written to it. \
         `citeguard verify` lists the damage; restore index.sqlite from a backup, or rebuild \
         it with `sqlite3 index.sqlite .recover`"
    )]
    Damaged(String),
    #[error("no citeguard index in this database (run `citeguard check` with this --store first)")]
    Empty,
    #[error("another citeguard run is writing to this index; try again when it ends")]
    Busy,
    #[error("{0}")]
    Sql(#[from] sqlx::Error),
}

impl IndexError {
    /// The server could not be reached or is not ready yet (refused,
    /// reset, starting up, full): the same open may pass later. Refused
    /// credentials, a missing database or a newer schema will not.
    pub fn is_unreachable(&self) -> bool {
        let IndexError::Sql(e) = self else {
            return false;
        };
        match e {
            sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut => true,
            sqlx::Error::Database(d) => d
                .code()
                .is_some_and(|c| c.starts_with("08") || c == "57P03" || c == "53300"),
            _ => false,
        }
    }
}

/// Whether the PostgreSQL server `url` names lets us in: one connection,
/// opened and closed. A worker asks before it opens its store, and waits
/// while the answer `is_unreachable`.
pub async fn reach_postgres(url: &str) -> IndexResult<()> {
    sqlx::any::install_default_drivers();
    let opts = AnyConnectOptions::from_str(url)?.disable_statement_logging();
    opts.connect().await?.close().await?;
    Ok(())
}

/// Which database holds the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `index.sqlite` in the store directory: one writer at a time.
    Sqlite,
    /// A PostgreSQL database shared by many processes.
    Postgres,
}

/// The key of the PostgreSQL advisory lock a writer (`check`, `accept`,
/// `verify`) holds on its own session for as long as it runs: the
/// counterpart of the embedded store's flock. It is truly needed: a local
/// run keeps the sources it read at its start (and creates new ones in
/// its batches), which holds only while no other run writes; and a writer
/// that holds it knows the unfinished runs it finds are dead, so it may
/// close them. A distributed run's coordinator holds it for the run, and
/// its workers write beside it without it (`Access::Share`): their ids
/// come from the sequences (`reserve_ids`), their sources are created by
/// URL (`source_state`). PostgreSQL releases it when the session
/// ends, however the process dies. Readers take none. Any fixed number
/// works; this one spells "citeguar" in ASCII. `PG_LOCK + 1` orders the
/// migrations.
pub const PG_LOCK: i64 = 0x6369_7465_6775_6172;

/// How long a statement may wait for a lock before the writer gives up,
/// on either backend (SQLite's busy timeout; PostgreSQL's lock_timeout).
const LOCK_WAIT_MS: u64 = 10_000;

/// The SQLite pool: one connection, since the store has one writer and
/// readers of other processes go through WAL. SQLite's settings are
/// pragmas run on connecting, as the Any driver opens SQLite by URL.
async fn sqlite_pool(url: &str, writes: bool) -> Result<AnyPool, sqlx::Error> {
    let opts = AnyConnectOptions::from_str(url)?.disable_statement_logging();
    AnyPoolOptions::new()
        .max_connections(1)
        .after_connect(move |conn, _| {
            Box::pin(async move {
                let mut pragmas = format!("PRAGMA busy_timeout = {LOCK_WAIT_MS};");
                if writes {
                    // FULL: a commit (one per batch of sources) is on
                    // disk when it returns, so a power cut loses at most
                    // the batch still open.
                    pragmas.push_str("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;");
                }
                conn.execute(sqlx::raw_sql(&pragmas)).await?;
                Ok(())
            })
        })
        .connect_with(opts)
        .await
}

/// The PostgreSQL pool: a few connections, since a writer's sources are
/// archived concurrently. A reader's sessions are read-only, as SQLite's
/// reader opens the file read-only.
async fn postgres_pool(url: &str, writes: bool) -> Result<AnyPool, sqlx::Error> {
    let opts = AnyConnectOptions::from_str(url)?.disable_statement_logging();
    // One connection first, alone: a server that is down or refuses us is
    // then said so at once ("connection refused", "password
    // authentication failed"), where the pool would retry until its
    // timeout and say only that it timed out.
    opts.connect().await?.close().await?;
    AnyPoolOptions::new()
        .max_connections(4)
        .acquire_timeout(std::time::Duration::from_secs(15))
        .after_connect(move |conn, _| {
            Box::pin(async move {
                let mut settings = format!(
                    "SET lock_timeout = {LOCK_WAIT_MS}; SET client_min_messages = warning;"
                );
                if !writes {
                    settings.push_str("SET default_transaction_read_only = on;");
                }
                conn.execute(sqlx::raw_sql(&settings)).await?;
                Ok(())
            })
        })
        .connect_with(opts)
        .await
}

/// The URL the Any driver opens an SQLite file by: the absolute path,
/// percent-encoded (a `?`, `#` or `%` in a directory name stays part of
/// it), with the mode (`ro`, `rw`, `rwc`) and `immutable` as SQLite's URI
/// parameters. A path that is not UTF-8 cannot be written in the URL.
fn sqlite_url(path: &Path, mode: &str, immutable: bool) -> IndexResult<String> {
    let abs = std::path::absolute(path).map_err(|e| sqlx::Error::Configuration(e.into()))?;
    let Some(text) = abs.to_str() else {
        return Err(sqlx::Error::Configuration(
            "the store's path is not UTF-8, which the index's driver cannot open".into(),
        )
        .into());
    };
    let mut url = String::from("sqlite://");
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            url.push(char::from(b));
        } else {
            url.push_str(&format!("%{b:02X}"));
        }
    }
    url.push_str("?mode=");
    url.push_str(mode);
    if immutable {
        url.push_str("&immutable=true");
    }
    Ok(url)
}

/// The PostgreSQL text of a migration written for SQLite. SQLite's
/// `INTEGER` is 64 bits and PostgreSQL's 32, so every `INTEGER` becomes
/// `BIGINT` (sizes and WARC offsets pass 2 GiB); an `INTEGER PRIMARY KEY`,
/// SQLite's row id, becomes an identity column; `REAL` (8 bytes in SQLite)
/// becomes `DOUBLE PRECISION`. The SQLite text itself never changes: a
/// store made by an earlier build migrates through the same statements.
pub fn postgres_ddl(sqlite: &str) -> String {
    let mut out = String::with_capacity(sqlite.len() + 256);
    let mut rest = sqlite;
    const ROWID: &str = "INTEGER PRIMARY KEY";
    while !rest.is_empty() {
        let word_end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let word_end = if word_end == 0 {
            rest.chars().next().map_or(1, char::len_utf8)
        } else {
            word_end
        };
        let (word, after) = rest.split_at(word_end);
        match word {
            "INTEGER" if rest.starts_with(ROWID) => {
                out.push_str("BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY");
                rest = &rest[ROWID.len()..];
                continue;
            }
            "INTEGER" => out.push_str("BIGINT"),
            "REAL" => out.push_str("DOUBLE PRECISION"),
            _ => out.push_str(word),
        }
        rest = after;
    }
    out
}

/// Whether SQLite could not open the file for reading as it is, which on
/// a WAL index means it could not create the shared-memory file beside it:
/// a read-only directory or disk.
fn cannot_open(e: &IndexError) -> bool {
    const CANTOPEN: i64 = 14;
    const READONLY: i64 = 8;
    let IndexError::Sql(sqlx::Error::Database(db)) = e else {
        return false;
    };
    db.code()
        .and_then(|c| c.parse::<i64>().ok())
        .is_some_and(|c| matches!(c & 0xff, CANTOPEN | READONLY))
}

pub type IndexResult<T> = std::result::Result<T, IndexError>;

/// One stored snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotRow {
    pub id: i64,
    pub source_id: i64,
    pub url: String,
    pub run_id: String,
    pub fetched_at: String,
    pub status: u16,
    pub final_url: Option<String>,
    pub content_type: Option<String>,
    pub charset: Option<String>,
    pub size: u64,
    pub truncated: bool,
    pub body_sha256: String,
    /// The object holding the extracted main text, for HTML and text.
    pub text_sha256: Option<String>,
    /// The hash of the normalised main text: equal hashes, equal texts.
    pub norm_sha256: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub warc_file: Option<String>,
    pub warc_offset: Option<u64>,
    pub warc_length: Option<u64>,
    /// The `WARC-Record-ID` of the snapshot's own response record, when
    /// its record is one (migration 3); `None` for a revisit's snapshot
    /// and for rows written before (its record's headers are read then).
    pub warc_record_id: Option<String>,
}

/// A snapshot about to be stored.
#[derive(Debug, Clone, Default)]
pub struct NewSnapshot<'a> {
    pub run_id: &'a str,
    pub fetched_at: &'a str,
    pub status: u16,
    pub final_url: Option<&'a str>,
    pub content_type: Option<&'a str>,
    pub charset: Option<&'a str>,
    pub size: u64,
    pub truncated: bool,
    pub body_sha256: &'a str,
    pub text_sha256: Option<&'a str>,
    pub norm_sha256: Option<&'a str>,
    pub etag: Option<&'a str>,
    pub last_modified: Option<&'a str>,
    pub warc_file: Option<&'a str>,
    pub warc_offset: Option<u64>,
    pub warc_length: Option<u64>,
}

/// A source's row.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRow {
    pub id: i64,
    pub url: String,
    pub history: History,
    pub checks: u32,
}

/// One citation row of a run, for the index.
pub struct CitationRow<'a> {
    pub post: &'a str,
    pub post_date: Option<&'a str>,
    pub line: usize,
    pub url: Option<&'a str>,
    pub text: &'a str,
    pub kind: &'a str,
    pub verdict: Verdict,
    pub reason: Reason,
}

impl<'a> CitationRow<'a> {
    /// The row the index keeps for one citation of a report.
    pub fn of(c: &'a crate::model::CitationResult) -> CitationRow<'a> {
        CitationRow {
            post: &c.post,
            post_date: c.post_date.as_deref(),
            line: c.line,
            url: c.url.as_deref(),
            text: &c.text,
            kind: c.kind.as_str(),
            verdict: c.verdict,
            reason: c.reason,
        }
    }
}

/// What the store's one writer keeps for its run (`Index::writer_state`):
/// every source, the latest snapshot of each that has one, and the
/// current baseline of each that has one, by source id.
#[derive(Debug, Default)]
pub struct WriterState {
    pub sources: Vec<SourceRow>,
    pub latest: Vec<SnapshotRow>,
    pub baselines: Vec<(i64, SnapshotRow)>,
}

/// One source of `Index::writer_state`'s JSON array, an array in this
/// order: the source's columns, its latest snapshot's (an array), its
/// baseline's snapshot id, then (when that is not the latest) the
/// baseline snapshot's source id, URL and columns (an array).
#[derive(serde::Deserialize)]
struct StateRow {
    id: i64,
    url: String,
    first_seen: Option<String>,
    last_ok: Option<String>,
    consecutive_failures: i64,
    failing_since: Option<String>,
    checks: i64,
    latest: StateSnapshot,
    baseline_id: Option<i64>,
    baseline_source: Option<i64>,
    baseline_url: Option<String>,
    baseline: StateSnapshot,
}

/// A snapshot's columns in `StateRow` (all null when there is none).
#[derive(serde::Deserialize)]
struct StateSnapshot {
    id: Option<i64>,
    run_id: Option<String>,
    fetched_at: Option<String>,
    status: Option<i64>,
    final_url: Option<String>,
    content_type: Option<String>,
    charset: Option<String>,
    size: Option<i64>,
    truncated: Option<i64>,
    body_sha256: Option<String>,
    text_sha256: Option<String>,
    norm_sha256: Option<String>,
    etag: Option<String>,
    last_modified: Option<String>,
    warc_file: Option<String>,
    warc_offset: Option<i64>,
    warc_length: Option<i64>,
    warc_record_id: Option<String>,
}

impl StateSnapshot {
    /// The snapshot, as `snapshot_row` reads it, when there is one.
    fn row(self, source_id: i64, url: &str) -> Option<SnapshotRow> {
        Some(SnapshotRow {
            id: self.id?,
            source_id,
            url: url.to_string(),
            run_id: self.run_id?,
            fetched_at: self.fetched_at?,
            status: self.status? as u16,
            final_url: self.final_url,
            content_type: self.content_type,
            charset: self.charset,
            size: self.size? as u64,
            truncated: self.truncated? != 0,
            body_sha256: self.body_sha256?,
            text_sha256: self.text_sha256,
            norm_sha256: self.norm_sha256,
            etag: self.etag,
            last_modified: self.last_modified,
            warc_file: self.warc_file,
            warc_offset: self.warc_offset.map(|v| v as u64),
            warc_length: self.warc_length.map(|v| v as u64),
            warc_record_id: self.warc_record_id,
        })
    }
}

/// What a writer needs of one source (`Index::source_state`).
#[derive(Debug, Clone)]
pub struct SourceState {
    pub source: SourceRow,
    pub latest: Option<SnapshotRow>,
    pub baseline: Option<SnapshotRow>,
    /// Of the latest's and the baseline's bodies and texts, those marked
    /// damaged.
    pub damaged: Vec<String>,
}

/// One check row.
pub struct CheckRow<'a> {
    pub run_id: &'a str,
    pub source_id: i64,
    pub check: &'a crate::model::Check,
    pub similarity: Option<f64>,
    pub snapshot_id: Option<i64>,
}

/// A writer's index writes for a batch of sources, committed together in
/// one transaction (`Index::commit`): the rows of a batch are all in the
/// index or none is. Ids are given by the writer (on SQLite from the
/// highest, `Index::next_ids`, as it holds the store's lock; on PostgreSQL
/// from the sequences, `Index::reserve_ids`), so rows of one batch can
/// name each other.
#[derive(Debug, Default)]
pub struct Batch {
    sources: Vec<(i64, String)>,
    snapshots: Vec<SnapshotRow>,
    requisites: Vec<(i64, String)>,
    baselines: Vec<(i64, i64, String, &'static str)>,
    histories: Vec<(i64, String, History, u32)>,
    checks: Vec<BatchCheck>,
    cleared: Vec<String>,
    /// Text hashes made for snapshots stored with them deferred:
    /// snapshot id, `text_sha256`, `norm_sha256`.
    texts: Vec<(i64, String, String)>,
}

/// A check row of a batch, owned: run id, source id, check, similarity,
/// snapshot id.
type BatchCheck = (String, i64, crate::model::Check, Option<f64>, Option<i64>);

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.sources.is_empty()
            && self.snapshots.is_empty()
            && self.requisites.is_empty()
            && self.baselines.is_empty()
            && self.histories.is_empty()
            && self.checks.is_empty()
            && self.cleared.is_empty()
            && self.texts.is_empty()
    }

    /// A new source, with the id the writer gave it.
    pub fn add_source(&mut self, id: i64, url: &str) {
        self.sources.push((id, url.to_string()));
    }

    /// A new snapshot, with the id the writer gave it (`row.id`).
    pub fn add_snapshot(&mut self, row: SnapshotRow) {
        self.snapshots.push(row);
    }

    pub fn add_requisite(&mut self, snapshot_id: i64, url: &str) {
        self.requisites.push((snapshot_id, url.to_string()));
    }

    /// As `Index::set_baseline`.
    pub fn set_baseline(&mut self, source_id: i64, snapshot_id: i64, at: &str, how: &'static str) {
        self.baselines
            .push((source_id, snapshot_id, at.to_string(), how));
    }

    /// As `Index::save_history`, for the source with this id and URL.
    pub fn save_history(&mut self, source_id: i64, url: &str, h: &History, checks: u32) {
        self.histories
            .push((source_id, url.to_string(), h.clone(), checks));
    }

    pub fn add_check(&mut self, row: &CheckRow<'_>) {
        self.checks.push((
            row.run_id.to_string(),
            row.source_id,
            row.check.clone(),
            row.similarity,
            row.snapshot_id,
        ));
    }

    pub fn clear_damaged(&mut self, sha256: &str) {
        self.cleared.push(sha256.to_string());
    }

    /// The text hashes of a snapshot stored with them deferred, made since
    /// (a comparison made its text): kept, so that no later run makes
    /// that text again to learn them. A snapshot whose hashes are already
    /// kept (by another writer) keeps them.
    pub fn set_text_hashes(&mut self, snapshot_id: i64, text_sha256: &str, norm_sha256: &str) {
        self.texts.push((
            snapshot_id,
            text_sha256.to_string(),
            norm_sha256.to_string(),
        ));
    }
}

type Statement<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

fn insert_check_statement<'q>(row: &'q CheckRow<'q>) -> Statement<'q> {
    let c = row.check;
    sqlx::query(
        "INSERT INTO checks (run_id, source_id, checked_at, verdict, reason, status, \
         final_url, redirects, content_type, attempts, elapsed_ms, detail, similarity, \
         snapshot_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(row.run_id)
    .bind(row.source_id)
    .bind(&c.checked_at)
    .bind(c.verdict.as_str())
    .bind(c.reason.as_str())
    .bind(c.status.map(i64::from))
    .bind(c.final_url.as_deref())
    .bind(serde_json::to_string(&c.redirects).ok())
    .bind(c.content_type.as_deref())
    .bind(i64::from(c.attempts))
    .bind(c.elapsed_ms as i64)
    .bind(c.detail.as_deref())
    .bind(Double(row.similarity))
    .bind(row.snapshot_id)
}

fn save_history_statement<'q>(source_id: i64, h: &History, checks: u32) -> Statement<'q> {
    sqlx::query(
        "UPDATE sources SET first_seen = $2, last_ok = $3, consecutive_failures = $4, \
         failing_since = $5, checks = $6 WHERE id = $1",
    )
    .bind(source_id)
    .bind(stamp(h.first_seen))
    .bind(stamp(h.last_ok))
    .bind(i64::from(h.consecutive_failures))
    .bind(stamp(h.failing_since))
    .bind(i64::from(checks))
}

fn set_baseline_statement<'q>(
    source_id: i64,
    snapshot_id: i64,
    at: &'q str,
    how: &'q str,
) -> Statement<'q> {
    sqlx::query(
        "INSERT INTO baselines (source_id, snapshot_id, set_at, how) VALUES ($1, $2, $3, $4)",
    )
    .bind(source_id)
    .bind(snapshot_id)
    .bind(at)
    .bind(how)
}

fn add_requisite_statement<'q>(snapshot_id: i64, url: &'q str) -> Statement<'q> {
    sqlx::query("INSERT INTO requisites (snapshot_id, url) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(snapshot_id)
        .bind(url)
}

pub struct Index {
    pool: AnyPool,
    /// Opened read-write (a writer or `verify`).
    writes: bool,
    backend: Backend,
    /// On PostgreSQL, the one connection that holds this writer's advisory
    /// lock (`PG_LOCK`) for as long as it runs.
    /// Only held, never used: in a mutex so that the index is `Sync` (a
    /// worker shares its store between tasks), which the connection is not.
    writer_session: Option<std::sync::Mutex<sqlx::pool::PoolConnection<sqlx::Any>>>,
    /// One of many writers at once (`Access::Share`, a fleet's worker):
    /// a run's check of a source is kept once, whoever commits it first.
    shared: bool,
    /// Statements a writer sent for its sources (`statements`).
    statements: std::sync::atomic::AtomicU64,
    /// A `check`'s SQLite file, marked as closed when it closes
    /// (`closed_mark`), unless something it met says otherwise
    /// (`distrust`).
    marked: Option<std::path::PathBuf>,
    distrusted: std::sync::atomic::AtomicBool,
}

const SNAPSHOT_COLUMNS: &str = "s.id, s.source_id, src.url, s.run_id, s.fetched_at, s.status, \
     s.final_url, s.content_type, s.charset, s.size, s.truncated, s.body_sha256, s.text_sha256, \
     s.norm_sha256, s.etag, s.last_modified, s.warc_file, s.warc_offset, s.warc_length, \
     s.warc_record_id";

/// Snapshots joined to their source's URL; callers add WHERE and ORDER BY.
const SNAPSHOTS_FROM: &str = "FROM snapshots s JOIN sources src ON src.id = s.source_id";

fn snapshot_row(r: &AnyRow) -> SnapshotRow {
    SnapshotRow {
        id: r.get(0),
        source_id: r.get(1),
        url: r.get(2),
        run_id: r.get(3),
        fetched_at: r.get(4),
        status: r.get::<i64, _>(5) as u16,
        final_url: r.get(6),
        content_type: r.get(7),
        charset: r.get(8),
        size: r.get::<i64, _>(9) as u64,
        truncated: r.get::<i64, _>(10) != 0,
        body_sha256: r.get(11),
        text_sha256: r.get(12),
        norm_sha256: r.get(13),
        etag: r.get(14),
        last_modified: r.get(15),
        warc_file: r.get(16),
        warc_offset: r.get::<Option<i64>, _>(17).map(|v| v as u64),
        warc_length: r.get::<Option<i64>, _>(18).map(|v| v as u64),
        warc_record_id: r.get(19),
    }
}

/// `items` as the row lists of multi-row statements: `rows` at a time,
/// then what is left in chunks of powers of two, so that the statements
/// a writer prepares come in a few lengths. The driver keeps each
/// distinct statement prepared (up to a hundred): with batches of any
/// size (closed by age), a chunk of every length from 1 to `rows` each
/// kept its own prepared statement of up to a thousand parameters.
fn statement_chunks<T>(mut items: &[T], rows: usize) -> impl Iterator<Item = &[T]> {
    std::iter::from_fn(move || {
        if items.is_empty() {
            return None;
        }
        let n = if items.len() >= rows {
            rows
        } else {
            1 << items.len().ilog2()
        };
        let (chunk, rest) = items.split_at(n);
        items = rest;
        Some(chunk)
    })
}

/// Runs a statement made by a `QueryBuilder`. The Any driver's builder
/// writes each placeholder as `?`, which PostgreSQL refuses; SQLite and
/// PostgreSQL both take `$n`, which every other statement here uses.
async fn execute_built(
    q: &mut sqlx::QueryBuilder<'_, sqlx::Any>,
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
) -> Result<(), sqlx::Error> {
    let (sql, args) = numbered(q, backend)?;
    sqlx::query_with(&sql, args).execute(conn).await?;
    Ok(())
}

/// A built query's SQL with the placeholders `backend` takes, and its
/// arguments: numbered for PostgreSQL; for SQLite the builder's plain `?`,
/// which SQLite binds by position. A numbered one (`$7`) SQLite binds by
/// name, looking each up in a list as long as the statement's
/// parameters: the square of their number per statement (2.8% of a
/// recheck's CPU at 16 rows a statement).
fn numbered<'q>(
    q: &'q mut sqlx::QueryBuilder<'_, sqlx::Any>,
    backend: Backend,
) -> Result<(String, sqlx::any::AnyArguments<'q>), sqlx::Error> {
    use sqlx::Execute;
    let mut built = q.build();
    let args = built
        .take_arguments()
        .map_err(sqlx::Error::Encode)?
        .unwrap_or_default();
    let sql = match backend {
        Backend::Postgres => numbered_placeholders(built.sql()),
        Backend::Sqlite => built.sql().to_string(),
    };
    Ok((sql, args))
}

/// `?` placeholders as `$1`, `$2`, …, in order; a `?` inside a quoted
/// literal or name is left alone.
fn numbered_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 64);
    let mut quote: Option<char> = None;
    let mut n = 0;
    for c in sql.chars() {
        match (quote, c) {
            (None, '\'' | '"') => {
                quote = Some(c);
                out.push(c);
            }
            (Some(q), c) if c == q => {
                quote = None;
                out.push(c);
            }
            (None, '?') => {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            }
            _ => out.push(c),
        }
    }
    out
}

/// A nullable `DOUBLE PRECISION` to bind. sqlx 0.8.6's Any driver hands
/// PostgreSQL a NULL `f64` as a NULL `real` (its table swaps the two), so
/// a statement first prepared with a NULL expects 4 bytes ever after and
/// refuses the 8 of a later value. A NULL `f32` goes over as a NULL
/// `double precision`: this binds that for `None` and the `f64` itself
/// otherwise. SQLite takes either.
struct Double(Option<f64>);

impl sqlx::Type<sqlx::Any> for Double {
    fn type_info() -> sqlx::any::AnyTypeInfo {
        <f64 as sqlx::Type<sqlx::Any>>::type_info()
    }
}

impl<'q> sqlx::Encode<'q, sqlx::Any> for Double {
    fn encode_by_ref(
        &self,
        buf: &mut <sqlx::Any as sqlx::Database>::ArgumentBuffer<'q>,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        match self.0 {
            Some(v) => <f64 as sqlx::Encode<'q, sqlx::Any>>::encode_by_ref(&v, buf),
            None => <Option<f32> as sqlx::Encode<'q, sqlx::Any>>::encode_by_ref(&None, buf),
        }
    }
}

fn source_row(r: &AnyRow) -> SourceRow {
    SourceRow {
        id: r.get(0),
        url: r.get(1),
        history: History {
            first_seen: time(r.get(2)),
            last_ok: time(r.get(3)),
            consecutive_failures: r.get::<i64, _>(4) as u32,
            failing_since: time(r.get(5)),
        },
        checks: r.get::<i64, _>(6) as u32,
    }
}

fn time(s: Option<String>) -> Option<chrono::DateTime<chrono::Utc>> {
    s.and_then(|s| crate::base::time::parse_rfc3339(&s).ok())
}

fn stamp(t: Option<chrono::DateTime<chrono::Utc>>) -> Option<String> {
    t.map(crate::base::time::rfc3339)
}

/// Beside a SQLite index, what its last `check` left as it closed the
/// file cleanly (the WAL emptied into it): the file's length and
/// modification time then, in nanoseconds. A `check` that finds the file
/// as marked, with no WAL beside it, knows that nothing has written it
/// since a writer that had found it sound (a run killed, a crash or a
/// power cut leaves no mark or a WAL; any write changes the time), and
/// skips SQLite's quick check, which reads every page of the file: a
/// scheduled run's index grows with every run, and so would that read.
fn closed_mark(index: &Path) -> std::path::PathBuf {
    let mut name = index.as_os_str().to_owned();
    name.push("-closed");
    name.into()
}

/// The index file's length and modification time, as `closed_mark`
/// keeps them.
fn file_stamp(index: &Path) -> Option<String> {
    let meta = std::fs::metadata(index).ok()?;
    let modified = meta.modified().ok()?;
    let nanos = modified
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_nanos();
    Some(format!("{} {nanos}", meta.len()))
}

/// No WAL (or an empty one) beside the index.
fn wal_is_empty(index: &Path) -> bool {
    let mut wal = index.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(std::path::PathBuf::from(wal)).map_or(true, |m| m.len() == 0)
}

/// Whether the index is as its last `check` closed it (`closed_mark`).
fn closed_as_marked(index: &Path) -> bool {
    let Ok(mark) = std::fs::read_to_string(closed_mark(index)) else {
        return false;
    };
    wal_is_empty(index) && file_stamp(index).is_some_and(|now| now == mark.trim())
}

/// Leaves the mark of a clean close, best effort: without it the next
/// writer runs the quick check.
fn mark_closed(index: &Path) {
    if wal_is_empty(index)
        && let Some(stamp) = file_stamp(index)
    {
        let _ = std::fs::write(closed_mark(index), format!("{stamp}\n"));
    }
}

impl Index {
    /// Opens the SQLite index at `path` for `access`:
    ///
    /// - a writer (`check`, `accept`) creates it if needed, refuses it when
    ///   it fails SQLite's quick check (nothing is written into a damaged
    ///   index), and applies the migrations this build knows. The quick
    ///   check is skipped when the file is as the last writer closed it
    ///   (`closed_mark`);
    /// - `verify` opens it read-write and migrated, but not refused: its own
    ///   integrity check reports the damage;
    /// - a reader opens it read-only and never migrates, so it can run
    ///   beside a writer and on a store it may not write to. When the
    ///   store's directory is read-only (SQLite cannot create the WAL's
    ///   shared-memory file there) the file is opened as immutable.
    pub async fn open(path: &Path, access: Access) -> IndexResult<Index> {
        sqlx::any::install_default_drivers();
        if access == Access::Read {
            return Self::open_read_only(path).await;
        }
        let mode = if access == Access::Write { "rwc" } else { "rw" };
        // Read before SQLite opens the file (which makes a WAL beside it),
        // and removed before anything is written: a mark is there only
        // while no writer has the file open. (One left by a failed removal
        // is harmless: the file's first write changes its time.)
        let as_closed = closed_as_marked(path);
        let _ = std::fs::remove_file(closed_mark(path));
        let index = Index {
            pool: sqlite_pool(&sqlite_url(path, mode, false)?, true).await?,
            writes: true,
            backend: Backend::Sqlite,
            writer_session: None,
            shared: false,
            statements: Default::default(),
            marked: (access == Access::Write).then(|| path.to_path_buf()),
            distrusted: Default::default(),
        };
        if access == Access::Write && !as_closed {
            index.quick_check().await?;
        }
        index.migrate().await?;
        Ok(index)
    }

    /// Opens the index in the PostgreSQL database `url` names
    /// (`postgres://user@host:port/db`) for `access`. A writer and
    /// `verify` apply the migrations this build knows (one process at a
    /// time, under an advisory lock); a reader's sessions are read-only and
    /// never migrate. An index from a newer build is refused as on SQLite.
    /// SQLite's quick check has no counterpart to run here: PostgreSQL
    /// checks its pages itself (page checksums, when the cluster has them)
    /// as it reads them, and a writer never owns the server's files.
    pub async fn open_postgres(url: &str, access: Access) -> IndexResult<Index> {
        sqlx::any::install_default_drivers();
        let writes = access != Access::Read;
        let mut index = Index {
            pool: postgres_pool(url, writes).await?,
            writes,
            backend: Backend::Postgres,
            writer_session: None,
            shared: access == Access::Share,
            statements: Default::default(),
            marked: None,
            distrusted: Default::default(),
        };
        if access == Access::Share {
            // A worker writes beside its run's coordinator, which holds the
            // writers' lock for the run; it migrates as any writer does.
            index.migrate().await?;
            return Ok(index);
        }
        if access != Access::Write {
            // `verify` and the readers need an index that a `check` made;
            // only a writer creates one in an empty database.
            let found = index.schema_version().await?;
            if found == 0 {
                return Err(IndexError::Empty);
            }
            if !writes {
                return index.readable(found);
            }
        }
        index.migrate().await?;
        // The writer's own session, held to the end: it carries the
        // advisory lock (`PG_LOCK`).
        let mut conn = index.pool.acquire().await?;
        let locked: bool = sqlx::query("SELECT pg_try_advisory_lock($1)")
            .bind(PG_LOCK)
            .fetch_one(&mut *conn)
            .await?
            .get(0);
        if !locked {
            return Err(IndexError::Busy);
        }
        index.writer_session = Some(std::sync::Mutex::new(conn));
        Ok(index)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// How many statements this handle sent for a writer's sources (their
    /// state, ids and batches; what a benchmark divides by the sources).
    pub fn statements(&self) -> u64 {
        self.statements.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn count(&self, n: u64) {
        self.statements
            .fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    }

    /// The rows of `head (?, ?, …) tail`, one placeholder for each of
    /// `items`: one statement, counted (callers keep `items` to
    /// `rows_per_statement`).
    async fn rows_in<'a, T>(&self, head: &str, items: &[T], tail: &str) -> IndexResult<Vec<AnyRow>>
    where
        T: sqlx::Encode<'a, sqlx::Any> + sqlx::Type<sqlx::Any> + Clone + Send + 'a,
    {
        let mut q = sqlx::QueryBuilder::<sqlx::Any>::new(head);
        let mut list = q.separated(", ");
        for item in items {
            list.push_bind(item.clone());
        }
        q.push(tail);
        self.count(1);
        let (sql, args) = numbered(&mut q, self.backend)?;
        Ok(sqlx::query_with(&sql, args).fetch_all(&self.pool).await?)
    }

    async fn open_read_only(path: &Path) -> IndexResult<Index> {
        let first = match sqlite_pool(&sqlite_url(path, "ro", false)?, false).await {
            Ok(pool) => {
                let index = Index {
                    pool,
                    writes: false,
                    backend: Backend::Sqlite,
                    writer_session: None,
                    shared: false,
                    statements: Default::default(),
                    marked: None,
                    distrusted: Default::default(),
                };
                match index.schema_version().await {
                    Ok(found) => return index.readable(found),
                    Err(e) => {
                        index.pool.close().await;
                        e
                    }
                }
            }
            Err(e) => IndexError::Sql(e),
        };
        if !cannot_open(&first) {
            return Err(first);
        }
        // Immutable: SQLite reads the main file alone, without the WAL's
        // shared memory. Every writer empties the WAL into the file when it
        // closes; one that was killed may leave its last commits in the
        // WAL, which are then not seen: the index read is an older whole
        // one, never half of one.
        let index = Index {
            pool: sqlite_pool(&sqlite_url(path, "ro", true)?, false)
                .await
                .map_err(|_| first)?,
            writes: false,
            backend: Backend::Sqlite,
            writer_session: None,
            shared: false,
            statements: Default::default(),
            marked: None,
            distrusted: Default::default(),
        };
        let found = index.schema_version().await?;
        index.readable(found)
    }

    /// A reader takes the index as it is: one written by a newer build is
    /// refused, one an older build wrote needs a writer to migrate it.
    fn readable(self, found: i64) -> IndexResult<Index> {
        match found.cmp(&SCHEMA_VERSION) {
            std::cmp::Ordering::Greater => Err(IndexError::Newer {
                found,
                known: SCHEMA_VERSION,
            }),
            std::cmp::Ordering::Less => Err(IndexError::Older { found }),
            std::cmp::Ordering::Equal => Ok(self),
        }
    }

    /// The statement that finds the `meta` table, in the backend's own
    /// catalogue.
    fn has_meta_sql(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'",
            Backend::Postgres => {
                "SELECT 1 FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name = 'meta'"
            }
        }
    }

    /// The migration number the index records (0 for none).
    async fn schema_version(&self) -> IndexResult<i64> {
        let has_meta = sqlx::query(self.has_meta_sql())
            .fetch_optional(&self.pool)
            .await?
            .is_some();
        if !has_meta {
            return Ok(0);
        }
        Ok(
            sqlx::query("SELECT value FROM meta WHERE key = 'schema_version'")
                .fetch_optional(&self.pool)
                .await?
                .map(|r| r.get::<String, _>(0).parse().unwrap_or(i64::MAX))
                .unwrap_or(0),
        )
    }

    /// SQLite's quick check, which a writer runs before writing anything.
    /// It reads every page of the file and checks the b-trees, but not
    /// that each index agrees with its table (`verify` runs the full
    /// `integrity_check`). Measured on a 464 MB index (365 nightly runs,
    /// 2,000 sources, 1.1 M citation rows): 1.4 s, against 6 s for
    /// `integrity_check`; a writer pays the first, `verify` the second.
    async fn quick_check(&self) -> IndexResult<()> {
        let found = self.check_rows("PRAGMA quick_check(5)").await;
        if found == ["ok"] {
            Ok(())
        } else {
            Err(IndexError::Damaged(found.join("; ")))
        }
    }

    async fn migrate(&self) -> IndexResult<()> {
        if self.backend == Backend::Postgres {
            return self.migrate_postgres().await;
        }
        sqlx::query("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            .execute(&self.pool)
            .await?;
        let found = self.schema_version().await?;
        if found > SCHEMA_VERSION {
            return Err(IndexError::Newer {
                found,
                known: SCHEMA_VERSION,
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            let mut tx = self.pool.begin().await?;
            sqlx::raw_sql(sql).execute(&mut *tx).await?;
            record_version(&mut tx, i + 1).await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// The same migrations on PostgreSQL, in one transaction under a
    /// transaction-scoped advisory lock: many processes may open a new
    /// database at once, and only the first applies them (the others then
    /// find them applied). PostgreSQL's DDL is transactional, so a failure
    /// leaves the schema as it was.
    async fn migrate_postgres(&self) -> IndexResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(PG_LOCK + 1)
            .execute(&mut *tx)
            .await?;
        sqlx::query("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            .execute(&mut *tx)
            .await?;
        let found: i64 = sqlx::query("SELECT value FROM meta WHERE key = 'schema_version'")
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.get::<String, _>(0).parse().unwrap_or(i64::MAX))
            .unwrap_or(0);
        if found > SCHEMA_VERSION {
            return Err(IndexError::Newer {
                found,
                known: SCHEMA_VERSION,
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            sqlx::raw_sql(&postgres_ddl(sql)).execute(&mut *tx).await?;
            record_version(&mut tx, i + 1).await?;
        }
        if found < 2 {
            // Writers before migration 2 numbered sources and snapshots
            // themselves, which left the sequences behind: each now starts
            // past the highest id, under the migrations' lock.
            for table in SEQUENCED {
                sqlx::query(&format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                     COALESCE(MAX(id), 0) + 1, false) FROM {table}"
                ))
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Closes the index. A writer on SQLite first moves everything in the
    /// WAL into the main file and empties the WAL, so the file alone is the
    /// whole index: a copy of the store, or a reader that must open it as
    /// immutable (on a read-only disk), misses nothing. PostgreSQL keeps
    /// its own WAL; closing the writer's session releases its lock.
    ///
    /// A `check`'s writer then leaves the closed-mark (`closed_mark`):
    /// writers call `close` only once their work succeeded, or after
    /// `distrust`; one that fails returns without closing.
    pub async fn close(self) {
        self.checkpoint().await;
        drop(self.writer_session);
        self.pool.close().await;
        if let Some(path) = &self.marked
            && !self.distrusted.load(std::sync::atomic::Ordering::Relaxed)
        {
            mark_closed(path);
        }
    }

    /// The writer's work failed part-way (a statement refused, a page
    /// unreadable): `close` leaves no mark, so the next writer runs the
    /// quick check before it writes anything.
    pub fn distrust(&self) {
        self.distrusted
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// A writer on SQLite moves everything in the WAL into the main file
    /// and empties the WAL (`close` does it; a run does it first beside
    /// printing its report, and `close` then finds little or nothing).
    pub async fn checkpoint(&self) {
        if self.writes && self.backend == Backend::Sqlite {
            // Best effort: a failure leaves the WAL, which SQLite replays.
            let _ = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&self.pool)
                .await;
        }
    }

    // ----- runs

    pub async fn begin_run(&self, id: &str, started_at: &str) -> IndexResult<()> {
        // `seq` orders runs even when the clock does not (two runs in one
        // second, or an injected clock). Two writers on a shared index may
        // both take the same next number: the second is refused by `seq`'s
        // uniqueness and tries again with the number after.
        let mut tries = 0;
        loop {
            let done = sqlx::query(
                "INSERT INTO runs (id, seq, started_at) \
                 VALUES ($1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM runs), $2)",
            )
            .bind(id)
            .bind(started_at)
            .execute(&self.pool)
            .await;
            match done {
                Err(sqlx::Error::Database(e))
                    if e.kind() == sqlx::error::ErrorKind::UniqueViolation && tries < 20 =>
                {
                    tries += 1;
                }
                other => {
                    other?;
                    return Ok(());
                }
            }
        }
    }

    pub async fn finish_run(&self, id: &str, finished_at: &str, report: &str) -> IndexResult<()> {
        sqlx::query("UPDATE runs SET finished_at = $2, report = $3 WHERE id = $1")
            .bind(id)
            .bind(finished_at)
            .bind(report)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The report of the latest finished run (its id and JSON).
    pub async fn last_report(&self) -> IndexResult<Option<(String, String)>> {
        Ok(sqlx::query(
            "SELECT id, report FROM runs WHERE report IS NOT NULL \
             ORDER BY seq DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?
        .map(|r| (r.get(0), r.get(1))))
    }

    /// Runs that never finished (killed): their ids.
    pub async fn unfinished_runs(&self) -> IndexResult<Vec<String>> {
        Ok(
            sqlx::query("SELECT id FROM runs WHERE finished_at IS NULL ORDER BY seq")
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|r| r.get(0))
                .collect(),
        )
    }

    /// Marks a killed run as over, keeping what it stored.
    pub async fn close_unfinished(&self, id: &str, at: &str) -> IndexResult<()> {
        sqlx::query("UPDATE runs SET finished_at = $2 WHERE id = $1 AND finished_at IS NULL")
            .bind(id)
            .bind(at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn run_count(&self) -> IndexResult<i64> {
        Ok(sqlx::query("SELECT COUNT(*) FROM runs")
            .fetch_one(&self.pool)
            .await?
            .get(0))
    }

    // ----- sources and history

    /// The source's row, created on first sight.
    pub async fn source(&self, url: &str) -> IndexResult<SourceRow> {
        self.count(1);
        sqlx::query("INSERT INTO sources (url) VALUES ($1) ON CONFLICT (url) DO NOTHING")
            .bind(url)
            .execute(&self.pool)
            .await?;
        Ok(self
            .find_source(url)
            .await?
            .ok_or(sqlx::Error::RowNotFound)?)
    }

    /// Makes the source of `url`, unless some writer has: its row when
    /// this call made it.
    async fn insert_source(&self, url: &str) -> IndexResult<Option<SourceRow>> {
        self.count(1);
        Ok(sqlx::query(
            "INSERT INTO sources (url) VALUES ($1) ON CONFLICT (url) DO NOTHING \
             RETURNING id, url, first_seen, last_ok, consecutive_failures, failing_since, checks",
        )
        .bind(url)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(source_row))
    }

    pub async fn find_source(&self, url: &str) -> IndexResult<Option<SourceRow>> {
        self.count(1);
        Ok(sqlx::query(
            "SELECT id, url, first_seen, last_ok, consecutive_failures, failing_since, checks \
             FROM sources WHERE url = $1",
        )
        .bind(url)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(source_row))
    }

    /// The URLs of the sources whose URL has an `@` in it: those that may
    /// carry user-info, which reports show without it.
    pub async fn source_urls_with_at(&self) -> IndexResult<Vec<String>> {
        Ok(
            sqlx::query("SELECT url FROM sources WHERE url LIKE '%@%' ORDER BY id")
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|r| r.get(0))
                .collect(),
        )
    }

    pub async fn save_history(&self, source_id: i64, h: &History, checks: u32) -> IndexResult<()> {
        save_history_statement(source_id, h, checks)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn insert_check(&self, row: &CheckRow<'_>) -> IndexResult<()> {
        insert_check_statement(row).execute(&self.pool).await?;
        Ok(())
    }

    // ----- snapshots and baselines

    pub async fn insert_snapshot(&self, source_id: i64, s: &NewSnapshot<'_>) -> IndexResult<i64> {
        let r = sqlx::query(
            "INSERT INTO snapshots (source_id, run_id, fetched_at, status, final_url, \
             content_type, charset, size, truncated, body_sha256, text_sha256, norm_sha256, etag, \
             last_modified, warc_file, warc_offset, warc_length) VALUES ($1, $2, $3, $4, $5, $6, \
             $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING id",
        )
        .bind(source_id)
        .bind(s.run_id)
        .bind(s.fetched_at)
        .bind(i64::from(s.status))
        .bind(s.final_url)
        .bind(s.content_type)
        .bind(s.charset)
        .bind(s.size as i64)
        .bind(i64::from(s.truncated))
        .bind(s.body_sha256)
        .bind(s.text_sha256)
        .bind(s.norm_sha256)
        .bind(s.etag)
        .bind(s.last_modified)
        .bind(s.warc_file)
        .bind(s.warc_offset.map(|v| v as i64))
        .bind(s.warc_length.map(|v| v as i64))
        // `fetch_all`, not `fetch_one`: the statement must run to its end,
        // or an error at commit (a full disk) is lost after the row came
        // back.
        .fetch_all(&self.pool)
        .await?;
        let row = r.first().ok_or(sqlx::Error::RowNotFound)?;
        Ok(row.get(0))
    }

    /// The latest snapshot of a source, optionally at or before `at`.
    pub async fn latest_snapshot(
        &self,
        source_id: i64,
        at: Option<&str>,
    ) -> IndexResult<Option<SnapshotRow>> {
        self.count(1);
        let sql = format!(
            "SELECT {SNAPSHOT_COLUMNS} {SNAPSHOTS_FROM} \
             WHERE s.source_id = $1 AND ($2 IS NULL OR s.fetched_at <= $2) \
             ORDER BY s.fetched_at DESC, s.id DESC LIMIT 1"
        );
        Ok(sqlx::query(&sql)
            .bind(source_id)
            .bind(at)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(snapshot_row))
    }

    /// The latest snapshot of every source, in one query: what a run needs
    /// to send conditional requests without asking once per source.
    pub async fn latest_snapshots(&self) -> IndexResult<Vec<SnapshotRow>> {
        let sql = format!(
            "SELECT {SNAPSHOT_COLUMNS} {SNAPSHOTS_FROM} \
             WHERE s.id = (SELECT s2.id FROM snapshots s2 WHERE s2.source_id = s.source_id \
             ORDER BY s2.fetched_at DESC, s2.id DESC LIMIT 1)"
        );
        Ok(sqlx::query(&sql)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(snapshot_row)
            .collect())
    }

    /// The first snapshot, with a WARC record, of a body with this
    /// SHA-256, under any source: the capture a later identical body is
    /// archived as a revisit of.
    pub async fn first_snapshot_with_body(&self, sha256: &str) -> IndexResult<Option<SnapshotRow>> {
        self.count(1);
        let sql = format!(
            "SELECT {SNAPSHOT_COLUMNS} {SNAPSHOTS_FROM} \
             WHERE s.body_sha256 = $1 AND s.warc_file IS NOT NULL ORDER BY s.id LIMIT 1"
        );
        Ok(sqlx::query(&sql)
            .bind(sha256)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(snapshot_row))
    }

    /// Every object `verify` found missing or corrupt.
    pub async fn damaged(&self) -> IndexResult<Vec<String>> {
        Ok(sqlx::query("SELECT sha256 FROM damaged")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    pub async fn snapshot(&self, id: i64) -> IndexResult<Option<SnapshotRow>> {
        let sql = format!(
            "SELECT {SNAPSHOT_COLUMNS} {SNAPSHOTS_FROM} \
             WHERE s.id = $1"
        );
        Ok(sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(snapshot_row))
    }

    /// Every snapshot of a source, oldest first.
    pub async fn snapshots(&self, source_id: i64) -> IndexResult<Vec<SnapshotRow>> {
        let sql = format!(
            "SELECT {SNAPSHOT_COLUMNS} {SNAPSHOTS_FROM} \
             WHERE s.source_id = $1 ORDER BY s.fetched_at, s.id"
        );
        Ok(sqlx::query(&sql)
            .bind(source_id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(snapshot_row)
            .collect())
    }

    /// Every snapshot in the store, in order (for verify and export).
    pub async fn all_snapshots(&self) -> IndexResult<Vec<SnapshotRow>> {
        let sql = format!(
            "SELECT {SNAPSHOT_COLUMNS} {SNAPSHOTS_FROM} \
             ORDER BY s.id"
        );
        Ok(sqlx::query(&sql)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(snapshot_row)
            .collect())
    }

    pub async fn baseline(&self, source_id: i64) -> IndexResult<Option<SnapshotRow>> {
        self.count(1);
        let sql = format!(
            "SELECT {SNAPSHOT_COLUMNS} FROM baselines b JOIN snapshots s ON s.id = b.snapshot_id \
             JOIN sources src ON src.id = s.source_id WHERE b.source_id = $1 \
             ORDER BY b.id DESC LIMIT 1"
        );
        Ok(sqlx::query(&sql)
            .bind(source_id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(snapshot_row))
    }

    /// Makes `snapshot_id` the source's baseline; `how` is `first` or
    /// `accepted`. Earlier baselines stay as the record of what was cited.
    pub async fn set_baseline(
        &self,
        source_id: i64,
        snapshot_id: i64,
        at: &str,
        how: &str,
    ) -> IndexResult<()> {
        set_baseline_statement(source_id, snapshot_id, at, how)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn add_requisite(&self, snapshot_id: i64, url: &str) -> IndexResult<()> {
        add_requisite_statement(snapshot_id, url)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn requisites(&self, snapshot_id: i64) -> IndexResult<Vec<String>> {
        Ok(
            sqlx::query("SELECT url FROM requisites WHERE snapshot_id = $1 ORDER BY url")
                .bind(snapshot_id)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|r| r.get(0))
                .collect(),
        )
    }

    // ----- a writer's batches

    /// Every source, for a writer that keeps them in memory for its run.
    pub async fn all_sources(&self) -> IndexResult<Vec<SourceRow>> {
        Ok(sqlx::query(
            "SELECT id, url, first_seen, last_ok, consecutive_failures, failing_since, checks \
             FROM sources ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(source_row)
        .collect())
    }

    /// The current baseline of every source that has one, by source id.
    pub async fn all_baselines(&self) -> IndexResult<Vec<(i64, SnapshotRow)>> {
        let sql = format!(
            "SELECT {SNAPSHOT_COLUMNS}, b.source_id FROM baselines b \
             JOIN snapshots s ON s.id = b.snapshot_id JOIN sources src ON src.id = s.source_id \
             WHERE b.id = (SELECT MAX(b2.id) FROM baselines b2 WHERE b2.source_id = b.source_id)"
        );
        Ok(sqlx::query(&sql)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| (r.get(20), snapshot_row(r)))
            .collect())
    }

    /// Every source with its latest snapshot and its current baseline:
    /// what a writer that is the store's one writer keeps for its run
    /// (`all_sources`, `latest_snapshots` and `all_baselines` together).
    /// On SQLite in one statement whose one row is a JSON array built by
    /// SQLite: the driver hands each row of a result from its thread to
    /// the caller's task one at a time, and a row per source and per
    /// snapshot (two wake-ups each) was most of the time a recheck of
    /// 5,000 sources spent before its first request. A baseline that is
    /// the latest snapshot (most sources) comes back as its id alone.
    pub async fn writer_state(&self) -> IndexResult<WriterState> {
        if self.backend != Backend::Sqlite {
            return Ok(WriterState {
                sources: self.all_sources().await?,
                latest: self.latest_snapshots().await?,
                baselines: self.all_baselines().await?,
            });
        }
        const SNAP: [&str; 18] = [
            "id",
            "run_id",
            "fetched_at",
            "status",
            "final_url",
            "content_type",
            "charset",
            "size",
            "truncated",
            "body_sha256",
            "text_sha256",
            "norm_sha256",
            "etag",
            "last_modified",
            "warc_file",
            "warc_offset",
            "warc_length",
            "warc_record_id",
        ];
        let of = |t: &str| SNAP.map(|c| format!("{t}.{c}")).join(", ");
        let sql = format!(
            "SELECT json_group_array(json_array(src.id, src.url, src.first_seen, src.last_ok, \
             src.consecutive_failures, src.failing_since, src.checks, json_array({}), \
             b.snapshot_id, bs.source_id, bsrc.url, json_array({}))) \
             FROM sources src \
             LEFT JOIN snapshots l ON l.id = (SELECT s2.id FROM snapshots s2 \
               WHERE s2.source_id = src.id ORDER BY s2.fetched_at DESC, s2.id DESC LIMIT 1) \
             LEFT JOIN baselines b ON b.id = (SELECT MAX(b2.id) FROM baselines b2 \
               WHERE b2.source_id = src.id) \
             LEFT JOIN snapshots bs ON bs.id = b.snapshot_id AND b.snapshot_id IS NOT l.id \
             LEFT JOIN sources bsrc ON bsrc.id = bs.source_id",
            of("l"),
            of("bs")
        );
        let json: String = sqlx::query(&sql).fetch_one(&self.pool).await?.get(0);
        let rows: Vec<StateRow> = serde_json::from_str(&json)
            .map_err(|e| sqlx::Error::Protocol(format!("the sources' state: {e}")))?;
        drop(json);
        let mut state = WriterState {
            sources: Vec::with_capacity(rows.len()),
            latest: Vec::with_capacity(rows.len()),
            baselines: Vec::with_capacity(rows.len()),
        };
        for r in rows {
            let source = SourceRow {
                id: r.id,
                url: r.url,
                history: History {
                    first_seen: time(r.first_seen),
                    last_ok: time(r.last_ok),
                    consecutive_failures: r.consecutive_failures as u32,
                    failing_since: time(r.failing_since),
                },
                checks: r.checks as u32,
            };
            let latest = r.latest.row(source.id, &source.url);
            let baseline = match (r.baseline_id, r.baseline_source, r.baseline_url) {
                (Some(id), _, _) if latest.as_ref().is_some_and(|l| l.id == id) => latest.clone(),
                (Some(_), Some(of), Some(url)) => r.baseline.row(of, &url),
                _ => None,
            };
            if let Some(b) = baseline {
                state.baselines.push((source.id, b));
            }
            state.latest.extend(latest);
            state.sources.push(source);
        }
        Ok(state)
    }

    /// The highest source id and snapshot id so far (0 for none): a
    /// writer numbers its new rows from there.
    pub async fn next_ids(&self) -> IndexResult<(i64, i64)> {
        let r = sqlx::query(
            "SELECT (SELECT COALESCE(MAX(id), 0) FROM sources), \
             (SELECT COALESCE(MAX(id), 0) FROM snapshots)",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok((r.get(0), r.get(1)))
    }

    /// `n` new ids for rows of `table` (`sources` or `snapshots`) from its
    /// sequence, in one statement: on PostgreSQL every writer numbers its
    /// rows so, and many may write at once. (SQLite's one writer numbers
    /// them from the highest, `next_ids`.)
    pub async fn reserve_ids(&self, table: &str, n: i64) -> IndexResult<Vec<i64>> {
        self.count(1);
        if !SEQUENCED.contains(&table) {
            return Err(
                sqlx::Error::Configuration(format!("no id sequence for {table}").into()).into(),
            );
        }
        let sql = format!(
            "SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, $1)"
        );
        Ok(sqlx::query(&sql)
            .bind(n)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    /// What a writer needs of one source, read when it meets the source
    /// rather than for the whole store at its start: the source's row
    /// (created on first sight: two writers creating it at once get the
    /// same row), its latest snapshot, its baseline, and which of their
    /// bodies and texts `verify` marked damaged.
    pub async fn source_state(&self, url: &str) -> IndexResult<SourceState> {
        let source = match self.find_source(url).await? {
            Some(s) => s,
            None => match self.insert_source(url).await? {
                // A source this writer made has no snapshot, baseline or
                // damage yet: the three look-ups are saved (most of a
                // first run's statements on a shared index).
                Some(made) => {
                    return Ok(SourceState {
                        source: made,
                        latest: None,
                        baseline: None,
                        damaged: Vec::new(),
                    });
                }
                // Another writer made it meanwhile.
                None => self.source(url).await?,
            },
        };
        let latest = self.latest_snapshot(source.id, None).await?;
        let baseline = self.baseline(source.id).await?;
        let shas: Vec<&str> = [&latest, &baseline]
            .into_iter()
            .flatten()
            .flat_map(|s| [Some(s.body_sha256.as_str()), s.text_sha256.as_deref()])
            .flatten()
            .collect();
        let mut damaged = Vec::new();
        if !shas.is_empty() {
            damaged = self
                .rows_in("SELECT sha256 FROM damaged WHERE sha256 IN (", &shas, ")")
                .await?
                .iter()
                .map(|r| r.get(0))
                .collect();
        }
        Ok(SourceState {
            source,
            latest,
            baseline,
            damaged,
        })
    }

    /// `source_state` for many sources at once (a fleet's worker reads
    /// those of a claim together), in a few statements for any number of
    /// them: the sources found, those missing made (2 statements on a
    /// first run), then the latest snapshots, baselines and damage marks
    /// of those found. One state per URL, in `urls`' order.
    pub async fn source_states(&self, urls: &[String]) -> IndexResult<Vec<SourceState>> {
        use std::collections::{HashMap, HashSet};
        let per = self.rows_per_statement();
        let mut seen = HashSet::new();
        let unique: Vec<&str> = urls
            .iter()
            .map(String::as_str)
            .filter(|u| seen.insert(*u))
            .collect();
        let mut found: HashMap<String, SourceRow> = HashMap::new();
        self.sources_by_url(&unique, &mut found).await?;
        // The missing are made here; what another writer made meanwhile
        // is read again.
        let missing: Vec<&str> = unique
            .iter()
            .copied()
            .filter(|u| !found.contains_key(*u))
            .collect();
        let mut made: HashMap<String, SourceRow> = HashMap::new();
        for chunk in missing.chunks(per) {
            let mut q = sqlx::QueryBuilder::<sqlx::Any>::new("INSERT INTO sources (url) ");
            q.push_values(chunk, |mut b, url| {
                b.push_bind(*url);
            });
            q.push(
                " ON CONFLICT (url) DO NOTHING RETURNING id, url, first_seen, last_ok, \
                 consecutive_failures, failing_since, checks",
            );
            self.count(1);
            let (sql, args) = numbered(&mut q, self.backend)?;
            for r in sqlx::query_with(&sql, args).fetch_all(&self.pool).await? {
                let row = source_row(&r);
                made.insert(row.url.clone(), row);
            }
        }
        let raced: Vec<&str> = missing
            .iter()
            .copied()
            .filter(|u| !made.contains_key(*u))
            .collect();
        self.sources_by_url(&raced, &mut found).await?;
        // What the sources found have: their latest snapshots, baselines
        // and the damage marks on their bodies and texts.
        let ids: Vec<i64> = found.values().map(|s| s.id).collect();
        let mut latest: HashMap<i64, SnapshotRow> = HashMap::new();
        let mut baselines: HashMap<i64, SnapshotRow> = HashMap::new();
        for chunk in ids.chunks(per) {
            let head = format!(
                "SELECT {SNAPSHOT_COLUMNS} {SNAPSHOTS_FROM} WHERE s.id IN (SELECT \
                 (SELECT s2.id FROM snapshots s2 WHERE s2.source_id = x.id \
                  ORDER BY s2.fetched_at DESC, s2.id DESC LIMIT 1) \
                 FROM sources x WHERE x.id IN ("
            );
            for r in self.rows_in(&head, chunk, "))").await? {
                let s = snapshot_row(&r);
                latest.insert(s.source_id, s);
            }
            let head = format!(
                "SELECT {SNAPSHOT_COLUMNS}, b.source_id FROM baselines b \
                 JOIN snapshots s ON s.id = b.snapshot_id JOIN sources src ON src.id = s.source_id \
                 WHERE b.id IN (SELECT (SELECT b2.id FROM baselines b2 WHERE b2.source_id = x.id \
                  ORDER BY b2.id DESC LIMIT 1) FROM sources x WHERE x.id IN ("
            );
            for r in self.rows_in(&head, chunk, "))").await? {
                baselines.insert(r.get(20), snapshot_row(&r));
            }
        }
        let shas_of = |id: i64| -> Vec<String> {
            let mut shas: Vec<String> = [latest.get(&id), baselines.get(&id)]
                .into_iter()
                .flatten()
                .flat_map(|s| [Some(s.body_sha256.clone()), s.text_sha256.clone()])
                .flatten()
                .collect();
            shas.sort();
            shas.dedup();
            shas
        };
        let all: Vec<String> = ids
            .iter()
            .flat_map(|id| shas_of(*id))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let mut damaged: HashSet<String> = HashSet::new();
        for chunk in all.chunks(per) {
            let head = "SELECT sha256 FROM damaged WHERE sha256 IN (";
            for r in self.rows_in(head, chunk, ")").await? {
                damaged.insert(r.get(0));
            }
        }
        urls.iter()
            .map(|url| {
                if let Some(source) = made.get(url) {
                    return Ok(SourceState {
                        source: source.clone(),
                        latest: None,
                        baseline: None,
                        damaged: Vec::new(),
                    });
                }
                let source = found.get(url).ok_or(sqlx::Error::RowNotFound)?.clone();
                let id = source.id;
                Ok(SourceState {
                    source,
                    latest: latest.get(&id).cloned(),
                    baseline: baselines.get(&id).cloned(),
                    damaged: shas_of(id)
                        .into_iter()
                        .filter(|s| damaged.contains(s))
                        .collect(),
                })
            })
            .collect()
    }

    /// The rows of the sources of these URLs that exist, into `found`.
    async fn sources_by_url(
        &self,
        urls: &[&str],
        found: &mut std::collections::HashMap<String, SourceRow>,
    ) -> IndexResult<()> {
        for chunk in urls.chunks(self.rows_per_statement()) {
            let head = "SELECT id, url, first_seen, last_ok, consecutive_failures, failing_since, \
                        checks FROM sources WHERE url IN (";
            for r in self.rows_in(head, chunk, ")").await? {
                let row = source_row(&r);
                found.insert(row.url.clone(), row);
            }
        }
        Ok(())
    }

    /// `first_snapshot_with_body` for many bodies at once: for each
    /// SHA-256, in order, the first snapshot with a WARC record of it.
    pub async fn first_snapshots_with_bodies(
        &self,
        shas: &[String],
    ) -> IndexResult<Vec<Option<SnapshotRow>>> {
        let mut first: std::collections::HashMap<String, SnapshotRow> = Default::default();
        for chunk in shas.chunks(self.rows_per_statement()) {
            let mut q = sqlx::QueryBuilder::<sqlx::Any>::new(format!(
                "SELECT {SNAPSHOT_COLUMNS} {SNAPSHOTS_FROM} WHERE s.id IN (SELECT \
                 (SELECT s2.id FROM snapshots s2 WHERE s2.body_sha256 = x.sha \
                  AND s2.warc_file IS NOT NULL ORDER BY s2.id LIMIT 1) FROM ("
            ));
            for (i, sha) in chunk.iter().enumerate() {
                q.push(if i == 0 {
                    "SELECT "
                } else {
                    " UNION ALL SELECT "
                });
                q.push_bind(sha.as_str());
                q.push(" AS sha");
            }
            q.push(") x)");
            self.count(1);
            let (sql, args) = numbered(&mut q, self.backend)?;
            for r in sqlx::query_with(&sql, args).fetch_all(&self.pool).await? {
                let s = snapshot_row(&r);
                first.entry(s.body_sha256.clone()).or_insert(s);
            }
        }
        Ok(shas.iter().map(|sha| first.get(sha).cloned()).collect())
    }

    /// Writes a batch in one transaction, in the order its rows name each
    /// other: sources, snapshots, the text hashes made for deferred
    /// snapshots, requisites, baselines, histories, checks, then the
    /// damage marks it clears.
    pub async fn commit(&self, batch: &Batch) -> IndexResult<()> {
        use sqlx::QueryBuilder;
        if batch.is_empty() {
            return Ok(());
        }
        // Many rows per statement: one round trip per chunk rather than
        // per row (`rows_per_statement`).
        let rows = self.rows_per_statement();
        // BEGIN, COMMIT, a statement per chunk of each kind of row, one
        // per damage mark cleared and per snapshot's text hashes.
        let chunks = |n: usize| (n / rows) as u64 + u64::from((n % rows).count_ones());
        self.count(
            2 + chunks(batch.sources.len())
                + chunks(batch.snapshots.len())
                + chunks(batch.requisites.len())
                + chunks(batch.baselines.len())
                + chunks(batch.histories.len())
                + chunks(batch.checks.len())
                + batch.cleared.len() as u64
                + batch.texts.len() as u64,
        );
        let mut tx = self.pool.begin().await?;
        for chunk in statement_chunks(&batch.sources, rows) {
            let mut q = QueryBuilder::<sqlx::Any>::new("INSERT INTO sources (id, url) ");
            q.push_values(chunk, |mut b, (id, url)| {
                b.push_bind(*id).push_bind(url.as_str());
            });
            execute_built(&mut q, &mut tx, self.backend).await?;
        }
        for chunk in statement_chunks(&batch.snapshots, rows) {
            let mut q = QueryBuilder::<sqlx::Any>::new(
                "INSERT INTO snapshots (id, source_id, run_id, fetched_at, status, final_url, \
                 content_type, charset, size, truncated, body_sha256, text_sha256, norm_sha256, \
                 etag, last_modified, warc_file, warc_offset, warc_length, warc_record_id) ",
            );
            q.push_values(chunk, |mut b, s| {
                b.push_bind(s.id)
                    .push_bind(s.source_id)
                    .push_bind(s.run_id.as_str())
                    .push_bind(s.fetched_at.as_str())
                    .push_bind(i64::from(s.status))
                    .push_bind(s.final_url.as_deref())
                    .push_bind(s.content_type.as_deref())
                    .push_bind(s.charset.as_deref())
                    .push_bind(s.size as i64)
                    .push_bind(i64::from(s.truncated))
                    .push_bind(s.body_sha256.as_str())
                    .push_bind(s.text_sha256.as_deref())
                    .push_bind(s.norm_sha256.as_deref())
                    .push_bind(s.etag.as_deref())
                    .push_bind(s.last_modified.as_deref())
                    .push_bind(s.warc_file.as_deref())
                    .push_bind(s.warc_offset.map(|v| v as i64))
                    .push_bind(s.warc_length.map(|v| v as i64))
                    .push_bind(s.warc_record_id.as_deref());
            });
            execute_built(&mut q, &mut tx, self.backend).await?;
        }
        // Once per deferred snapshot that a comparison made the text of:
        // rare, so a statement each.
        for (id, text, norm) in &batch.texts {
            sqlx::query(
                "UPDATE snapshots SET text_sha256 = $1, norm_sha256 = $2 \
                 WHERE id = $3 AND text_sha256 = $4",
            )
            .bind(text.as_str())
            .bind(norm.as_str())
            .bind(*id)
            .bind(super::archive::TEXT_DEFERRED)
            .execute(&mut *tx)
            .await?;
        }
        for chunk in statement_chunks(&batch.requisites, rows) {
            let mut q =
                QueryBuilder::<sqlx::Any>::new("INSERT INTO requisites (snapshot_id, url) ");
            q.push_values(chunk, |mut b, (snapshot_id, url)| {
                b.push_bind(*snapshot_id).push_bind(url.as_str());
            });
            q.push(" ON CONFLICT DO NOTHING");
            execute_built(&mut q, &mut tx, self.backend).await?;
        }
        for chunk in statement_chunks(&batch.baselines, rows) {
            let mut q = QueryBuilder::<sqlx::Any>::new(
                "INSERT INTO baselines (source_id, snapshot_id, set_at, how) ",
            );
            q.push_values(chunk, |mut b, (source_id, snapshot_id, at, how)| {
                b.push_bind(*source_id)
                    .push_bind(*snapshot_id)
                    .push_bind(at.as_str())
                    .push_bind(*how);
            });
            execute_built(&mut q, &mut tx, self.backend).await?;
        }
        for chunk in statement_chunks(&batch.histories, rows) {
            // Every source of a batch exists by now: the conflict on its id
            // is the update.
            let mut q = QueryBuilder::<sqlx::Any>::new(
                "INSERT INTO sources (id, url, first_seen, last_ok, consecutive_failures, \
                 failing_since, checks) ",
            );
            q.push_values(chunk, |mut b, (id, url, h, checks)| {
                b.push_bind(*id)
                    .push_bind(url.as_str())
                    .push_bind(stamp(h.first_seen))
                    .push_bind(stamp(h.last_ok))
                    .push_bind(i64::from(h.consecutive_failures))
                    .push_bind(stamp(h.failing_since))
                    .push_bind(i64::from(*checks));
            });
            q.push(
                " ON CONFLICT (id) DO UPDATE SET first_seen = excluded.first_seen, \
                 last_ok = excluded.last_ok, consecutive_failures = excluded.consecutive_failures, \
                 failing_since = excluded.failing_since, checks = excluded.checks",
            );
            execute_built(&mut q, &mut tx, self.backend).await?;
        }
        for chunk in statement_chunks(&batch.checks, rows) {
            const COLUMNS: &str = "run_id, source_id, checked_at, verdict, reason, status, \
                 final_url, redirects, content_type, attempts, elapsed_ms, detail, similarity, \
                 snapshot_id";
            // One of many writers keeps a run's check of a source only when
            // no other writer has (a source taken over from a worker that
            // was still at it is fetched twice, reported once).
            let mut q = QueryBuilder::<sqlx::Any>::new(if self.shared {
                format!("INSERT INTO checks ({COLUMNS}) SELECT * FROM (")
            } else {
                format!("INSERT INTO checks ({COLUMNS}) ")
            });
            q.push_values(
                chunk,
                |mut b, (run_id, source_id, c, similarity, snapshot_id)| {
                    b.push_bind(run_id.as_str())
                        .push_bind(*source_id)
                        .push_bind(c.checked_at.as_str())
                        .push_bind(c.verdict.as_str())
                        .push_bind(c.reason.as_str())
                        .push_bind(c.status.map(i64::from))
                        .push_bind(c.final_url.as_deref())
                        .push_bind(serde_json::to_string(&c.redirects).ok())
                        .push_bind(c.content_type.as_deref())
                        .push_bind(i64::from(c.attempts))
                        .push_bind(c.elapsed_ms as i64)
                        .push_bind(c.detail.as_deref())
                        .push_bind(Double(*similarity))
                        .push_bind(*snapshot_id);
                },
            );
            if self.shared {
                q.push(format!(
                    ") AS v ({COLUMNS}) WHERE NOT EXISTS (SELECT 1 FROM checks c \
                     WHERE c.run_id = v.run_id AND c.source_id = v.source_id)"
                ));
            }
            execute_built(&mut q, &mut tx, self.backend).await?;
        }
        for sha in &batch.cleared {
            sqlx::query("DELETE FROM damaged WHERE sha256 = $1")
                .bind(sha)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Every snapshot of a body with this SHA-256 that has a WARC record,
    /// oldest first: where a body's bytes may be read back from.
    pub async fn snapshots_with_body(&self, sha256: &str) -> IndexResult<Vec<SnapshotRow>> {
        let sql = format!(
            "SELECT {SNAPSHOT_COLUMNS} {SNAPSHOTS_FROM} \
             WHERE s.body_sha256 = $1 AND s.warc_file IS NOT NULL ORDER BY s.id"
        );
        Ok(sqlx::query(&sql)
            .bind(sha256)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(snapshot_row)
            .collect())
    }

    // ----- posts and citations

    /// Records a run's citations (one transaction): each post once, then
    /// the citations, many rows per statement (a run of 10,000 citations
    /// on PostgreSQL took 10,400 round trips, seconds at a run's end).
    pub async fn insert_citations(
        &self,
        run_id: &str,
        rows: &[CitationRow<'_>],
    ) -> IndexResult<()> {
        use sqlx::QueryBuilder;
        let per = self.rows_per_statement();
        // A post's date is its first citation's.
        let mut seen = std::collections::HashSet::new();
        let posts: Vec<(&str, Option<&str>)> = rows
            .iter()
            .filter(|c| seen.insert(c.post))
            .map(|c| (c.post, c.post_date))
            .collect();
        let mut tx = self.pool.begin().await?;
        let mut ids: std::collections::HashMap<String, i64> = Default::default();
        for chunk in posts.chunks(per) {
            let mut q = QueryBuilder::<sqlx::Any>::new("INSERT INTO posts (name, date) ");
            q.push_values(chunk, |mut b, (name, date)| {
                b.push_bind(*name).push_bind(*date);
            });
            q.push(
                " ON CONFLICT (name) DO UPDATE SET date = COALESCE(excluded.date, posts.date) \
                 RETURNING id, name",
            );
            let (sql, args) = numbered(&mut q, self.backend)?;
            for r in sqlx::query_with(&sql, args).fetch_all(&mut *tx).await? {
                ids.insert(r.get(1), r.get(0));
            }
        }
        for chunk in statement_chunks(rows, per) {
            let mut q = QueryBuilder::<sqlx::Any>::new(
                "INSERT INTO citations (run_id, post_id, line, url, text, kind, verdict, reason) ",
            );
            let mut missing = None;
            q.push_values(chunk, |mut b, c| {
                let post_id = ids.get(c.post).copied();
                if post_id.is_none() {
                    missing = Some(c.post);
                }
                b.push_bind(run_id)
                    .push_bind(post_id)
                    .push_bind(c.line as i64)
                    .push_bind(c.url)
                    .push_bind(c.text)
                    .push_bind(c.kind)
                    .push_bind(c.verdict.as_str())
                    .push_bind(c.reason.as_str());
            });
            if let Some(post) = missing {
                return Err(
                    sqlx::Error::Protocol(format!("no id came back for post {post}")).into(),
                );
            }
            execute_built(&mut q, &mut tx, self.backend).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// How many rows one multi-row statement carries: fewer statements,
    /// fewer round trips (PostgreSQL) and hand-overs to SQLite's thread.
    /// SQLite's are kept smaller: its statements are bound by position
    /// (`numbered`), but one of thousands of parameters gains nothing over
    /// a few hundred. (Numbered, SQLite looked each parameter's name up:
    /// at 200 rows a statement that was 12% of a first archiving run's
    /// CPU, and 16 rows were the most it took.)
    fn rows_per_statement(&self) -> usize {
        match self.backend {
            Backend::Postgres => 200,
            Backend::Sqlite => 64,
        }
    }

    // ----- damage found by verify

    pub async fn mark_damaged(&self, sha256: &str, at: &str, health: &str) -> IndexResult<()> {
        sqlx::query(
            "INSERT INTO damaged (sha256, found_at, health) VALUES ($1, $2, $3) \
             ON CONFLICT (sha256) DO UPDATE SET found_at = excluded.found_at, \
             health = excluded.health",
        )
        .bind(sha256)
        .bind(at)
        .bind(health)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn clear_damaged(&self, sha256: &str) -> IndexResult<()> {
        sqlx::query("DELETE FROM damaged WHERE sha256 = $1")
            .bind(sha256)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn is_damaged(&self, sha256: &str) -> IndexResult<bool> {
        Ok(sqlx::query("SELECT 1 FROM damaged WHERE sha256 = $1")
            .bind(sha256)
            .fetch_optional(&self.pool)
            .await?
            .is_some())
    }

    /// SQLite's own consistency check ("ok" when sound). On a damaged
    /// file the check itself can fail partway (a page it cannot read): what
    /// it found so far is kept, and the failure is the last line.
    ///
    /// PostgreSQL has no such statement (its `amcheck` extension needs a
    /// superuser to install): every table is read whole instead, so a page
    /// that fails its checksum or cannot be read is reported, and a lost
    /// connection too.
    pub async fn integrity(&self) -> IndexResult<Vec<String>> {
        if self.backend == Backend::Postgres {
            let mut found = Vec::new();
            for table in TABLES {
                let sql = format!("SELECT COUNT(*) FROM {table}");
                if let Err(e) = sqlx::query(&sql).fetch_one(&self.pool).await {
                    found.push(format!("{table}: {e}"));
                }
            }
            if found.is_empty() {
                found.push("ok".into());
            }
            return Ok(found);
        }
        Ok(self.check_rows("PRAGMA integrity_check").await)
    }

    /// The lines of one of SQLite's checks, an error that cut it short
    /// being the last.
    async fn check_rows(&self, pragma: &str) -> Vec<String> {
        use futures_util::StreamExt;
        let mut found = Vec::new();
        let mut rows = sqlx::query(pragma).fetch(&self.pool);
        while let Some(row) = rows.next().await {
            match row {
                Ok(r) => found.push(r.get(0)),
                Err(e) => {
                    found.push(e.to_string());
                    break;
                }
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_gets_64_bit_integers_identity_keys_and_doubles() {
        let pg = postgres_ddl(MIGRATIONS[0]);
        assert!(pg.contains("id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"));
        assert!(pg.contains("warc_offset BIGINT,"));
        assert!(pg.contains("similarity DOUBLE PRECISION,"));
        assert!(
            !pg.split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                .any(|w| w == "INTEGER" || w == "REAL"),
            "{pg}"
        );
        // Everything else is the SQLite text itself.
        assert_eq!(
            postgres_ddl("CREATE TABLE t (n_INTEGER TEXT, x REALLY)"),
            "CREATE TABLE t (n_INTEGER TEXT, x REALLY)"
        );
        assert_eq!(postgres_ddl("é INTEGER"), "é BIGINT");
    }

    #[tokio::test]
    async fn an_index_before_migration_3_gets_the_record_id_column_and_its_rows_read_none() {
        use crate::store::Access;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("index.sqlite");
        // An index as the build before migration 3 left it, with a row.
        let index = Index::open(&path, Access::Write).await.unwrap();
        sqlx::raw_sql(
            "ALTER TABLE snapshots DROP COLUMN warc_record_id; \
             UPDATE meta SET value = '2' WHERE key = 'schema_version'",
        )
        .execute(&index.pool)
        .await
        .unwrap();
        let source = index.source("https://example.org/a").await.unwrap();
        let new = NewSnapshot {
            run_id: "run0",
            fetched_at: "2026-11-01T00:00:00Z",
            status: 200,
            body_sha256: "ab",
            warc_file: Some("run0.warc.gz"),
            warc_offset: Some(100),
            warc_length: Some(50),
            ..NewSnapshot::default()
        };
        let id = index.insert_snapshot(source.id, &new).await.unwrap();
        index.close().await;
        // A reader refuses it until a writer migrates it.
        assert!(matches!(
            Index::open(&path, Access::Read).await,
            Err(IndexError::Older { found: 2 })
        ));
        let index = Index::open(&path, Access::Write).await.unwrap();
        assert_eq!(index.schema_version().await.unwrap(), SCHEMA_VERSION);
        let row = index.snapshot(id).await.unwrap().unwrap();
        assert_eq!(
            row.warc_record_id, None,
            "an old row falls back to the headers"
        );
        assert_eq!(row.warc_offset, Some(100));
        index.close().await;
        let reader = Index::open(&path, Access::Read).await.unwrap();
        assert_eq!(
            reader.snapshot(id).await.unwrap().unwrap().warc_record_id,
            None
        );
    }

    #[tokio::test]
    async fn a_writer_reads_every_page_only_when_the_index_is_not_as_its_last_writer_closed_it() {
        use crate::store::Access;
        let dir = tempfile::tempdir().unwrap();
        // A store's directory as users name theirs, in any script.
        let store = dir.path().join("архив 档案 أرشيف");
        std::fs::create_dir_all(&store).unwrap();
        let path = store.join("index.sqlite");
        let index = Index::open(&path, Access::Write).await.unwrap();
        for i in 0..400 {
            index
                .source(&format!("https://example.org/{i}"))
                .await
                .unwrap();
        }
        let root: i64 = sqlx::query("SELECT rootpage FROM sqlite_master WHERE name = 'sources'")
            .fetch_one(&index.pool)
            .await
            .unwrap()
            .get(0);
        let size: i64 = sqlx::query("PRAGMA page_size")
            .fetch_one(&index.pool)
            .await
            .unwrap()
            .get(0);
        index.close().await;
        assert!(
            closed_mark(&path).is_file(),
            "a clean close leaves its mark"
        );
        assert!(wal_is_empty(&path));

        // The sources table's root page damaged behind SQLite's back, the
        // file's time put back as the mark has it: nothing a writer opens
        // reads that page, and the file is trusted as its writer left it.
        let closed_at = std::fs::metadata(&path).unwrap().modified().unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        let start = (root as usize - 1) * size as usize;
        bytes[start..start + size as usize].fill(0xa5);
        std::fs::write(&path, &bytes).unwrap();
        let set_time = |t: std::time::SystemTime| {
            std::fs::File::options()
                .write(true)
                .open(&path)
                .unwrap()
                .set_modified(t)
                .unwrap()
        };
        set_time(closed_at);
        let index = Index::open(&path, Access::Write).await.unwrap();
        assert!(!closed_mark(&path).exists(), "an open index has no mark");
        index.close().await;

        // Changed since (its time moved): every page is read first.
        set_time(closed_at + std::time::Duration::from_secs(1));
        let opened = Index::open(&path, Access::Write).await;
        assert!(
            matches!(opened, Err(IndexError::Damaged(_))),
            "{:?}",
            opened.err()
        );

        // No mark, as a killed writer leaves it: the same.
        set_time(closed_at);
        assert!(!closed_mark(&path).exists());
        let opened = Index::open(&path, Access::Write).await;
        assert!(
            matches!(opened, Err(IndexError::Damaged(_))),
            "{:?}",
            opened.err()
        );
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "nothing written");
    }

    #[test]
    fn statements_take_full_chunks_then_powers_of_two() {
        let items: Vec<u32> = (0..64 * 2 + 45).collect();
        let lengths: Vec<usize> = statement_chunks(&items, 64).map(<[u32]>::len).collect();
        assert_eq!(lengths, [64, 64, 32, 8, 4, 1]);
        let again: Vec<u32> = statement_chunks(&items, 64).flatten().copied().collect();
        assert_eq!(again, items, "every item once, in order");
        assert_eq!(statement_chunks(&items[..0], 64).count(), 0);
        assert_eq!(
            statement_chunks(&items[..7], 200)
                .map(<[u32]>::len)
                .collect::<Vec<_>>(),
            [4, 2, 1]
        );
    }

    #[test]
    fn placeholders_are_numbered_outside_quotes() {
        assert_eq!(
            numbered_placeholders("INSERT INTO t (a, b) VALUES (?, ?), (?, '?')"),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, '?')"
        );
    }

    #[test]
    fn the_sqlite_url_keeps_odd_directory_names() {
        let url = sqlite_url(Path::new("/tmp/a b?#%/index.sqlite"), "ro", true).unwrap();
        assert_eq!(
            url,
            "sqlite:///tmp/a%20b%3F%23%25/index.sqlite?mode=ro&immutable=true"
        );
    }

    #[tokio::test]
    async fn an_index_in_a_directory_with_a_question_mark_opens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("odd ?#% name").join("index.sqlite");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let index = Index::open(&path, Access::Write).await.unwrap();
        index.begin_run("r1", "2026-01-01T00:00:00Z").await.unwrap();
        index.close().await;
        assert!(path.is_file());
        let index = Index::open(&path, Access::Read).await.unwrap();
        assert_eq!(index.run_count().await.unwrap(), 1);
    }
}
