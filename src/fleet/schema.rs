//! The queue's tables in PostgreSQL, created by numbered migrations of
//! their own (`fleet_migrations`), apart from the store's: a database may
//! hold both, and neither touches the other's tables.
//!
//! - `fleet_runs`: one row per distributed run, with the run's `Config` as
//!   JSON (the workers fetch with the coordinator's settings, not their own)
//!   and, when the run keeps copies, the store's run id and clock (the
//!   store itself is where the config says, `store` and `objects`).
//! - `fleet_sources`: one row per (run, source): its position in the run,
//!   URL, politeness key (`host`), origin, the passages quoted from it, the
//!   lease of the worker that has it, and its result, set once.
//! - `fleet_hosts`: one row per host, for all runs and workers together:
//!   its per-host limit and delay, and `next_at`, when the next source of
//!   it may start.
//! - `fleet_robots`: robots.txt of each origin, once per run: a placeholder
//!   while the worker that fetches it is at it, then the answer.

use crate::error::Error;

/// The migrations, in order; append only, never edit one that shipped.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE fleet_runs (
    id TEXT PRIMARY KEY,
    config TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE fleet_hosts (
    host TEXT PRIMARY KEY,
    per_host INTEGER NOT NULL,
    delay_ms BIGINT NOT NULL,
    next_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX fleet_hosts_next ON fleet_hosts (next_at);
CREATE TABLE fleet_sources (
    id BIGSERIAL PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES fleet_runs (id) ON DELETE CASCADE,
    pos BIGINT NOT NULL,
    url TEXT NOT NULL,
    host TEXT NOT NULL,
    origin TEXT NOT NULL,
    quotes TEXT NOT NULL,
    robots_first BOOLEAN NOT NULL,
    worker TEXT,
    lease_until TIMESTAMPTZ,
    tries INTEGER NOT NULL DEFAULT 0,
    result TEXT,
    done BOOLEAN NOT NULL DEFAULT false,
    collected BOOLEAN NOT NULL DEFAULT false,
    UNIQUE (run_id, pos)
);
CREATE INDEX fleet_sources_open ON fleet_sources (host, id) WHERE NOT done;
CREATE INDEX fleet_sources_ready ON fleet_sources (run_id) WHERE done AND NOT collected;
CREATE TABLE fleet_robots (
    run_id TEXT NOT NULL REFERENCES fleet_runs (id) ON DELETE CASCADE,
    origin TEXT NOT NULL,
    known BOOLEAN NOT NULL DEFAULT false,
    worker TEXT,
    lease_until TIMESTAMPTZ,
    status INTEGER,
    body BYTEA,
    PRIMARY KEY (run_id, origin)
);
"#,
    // 2: when a request last started on each host, for the start gate
    // (`politeness::take_turn`): a claim spaces claims, the gate spaces
    // the requests themselves, however late a worker sends its own.
    r#"
ALTER TABLE fleet_hosts ADD COLUMN last_start TIMESTAMPTZ;
"#,
    // 3: a run whose workers keep copies: the store's run they write to
    // and the run's clock (RFC 3339); NULL for a run without a store.
    r#"
ALTER TABLE fleet_runs ADD COLUMN store_run TEXT;
ALTER TABLE fleet_runs ADD COLUMN run_at TEXT;
"#,
    // 4: when the run's coordinator last said it was waiting: a run whose
    // coordinator is gone (killed, its machine lost) is ended by the next
    // coordinator or worker that finds it silent (`Queue::end_abandoned`).
    r#"
ALTER TABLE fleet_runs ADD COLUMN heartbeat TIMESTAMPTZ NOT NULL DEFAULT now();
"#,
];

/// An arbitrary key for the advisory lock that serialises migrations, so
/// that workers starting together do not race to create the tables.
const MIGRATION_LOCK: i64 = 0x0c17_e6a4_f1ee_7001;

/// Brings the queue's tables up to this build's migrations; refuses a
/// queue made by a newer build.
pub async fn migrate(pool: &sqlx::PgPool) -> std::result::Result<(), MigrateError> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *tx)
        .await?;
    sqlx::query("CREATE TABLE IF NOT EXISTS fleet_migrations (version INTEGER PRIMARY KEY)")
        .execute(&mut *tx)
        .await?;
    let (applied,): (i32,) =
        sqlx::query_as("SELECT coalesce(max(version), 0) FROM fleet_migrations")
            .fetch_one(&mut *tx)
            .await?;
    let known = MIGRATIONS.len() as i32;
    if applied > known {
        return Err(MigrateError::Newer { applied, known });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(applied.max(0) as usize) {
        sqlx::raw_sql(sql).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO fleet_migrations (version) VALUES ($1)")
            .bind(i as i32 + 1)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(
        "the queue was made by a newer citeguard (migration {applied}; this build knows {known})"
    )]
    Newer { applied: i32, known: i32 },
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl MigrateError {
    pub fn into_error(self, queue: &str) -> Error {
        super::queue::queue_error(queue, "prepare the queue", &self)
    }
}
