//! The queue in PostgreSQL, as its users see it: a coordinator begins a
//! run (its config), enqueues its sources and collects their results; a
//! worker reads a run's config, looks up and keeps robots.txt, renews its
//! leases and completes a source with its result, once. Claiming, where
//! politeness lives, is `politeness.rs`'s.
//!
//! Every statement goes through here or `politeness.rs` and is counted
//! (`Queue::statements`), so the benchmark can say what a source costs.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use crate::config::Config;
use crate::error::{Error, Result};

/// A handle on the queue. Cheap to clone.
#[derive(Clone)]
pub struct Queue {
    pub(crate) pool: PgPool,
    /// The URL without its password, for messages.
    name: Arc<str>,
    statements: Arc<AtomicU64>,
}

/// One source for the queue.
#[derive(Debug, Clone)]
pub struct Item {
    /// Its position in the run's list of unique sources.
    pub pos: i64,
    pub url: String,
    /// The politeness key (`fetch::queue::host_key`).
    pub host: String,
    /// scheme://host:port, what robots.txt is kept by.
    pub origin: String,
    pub quotes: Vec<String>,
}

/// A host's politeness, as the run's config sets it.
#[derive(Debug, Clone)]
pub struct HostLimits {
    pub host: String,
    pub per_host: i32,
    pub delay_ms: i64,
}

/// The store's run a distributed run's workers write to: its id and its
/// clock (the time stamps of its checks and snapshots).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreRun {
    pub id: String,
    pub now: chrono::DateTime<chrono::Utc>,
}

/// What a worker fetches a run's sources with: the run's config and, when
/// the run keeps copies, the store's run.
#[derive(Debug, Clone)]
pub struct RunSettings {
    pub config: Config,
    pub store: Option<StoreRun>,
}

/// What is known of an origin's robots.txt in a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Robots {
    /// No one has asked yet, or the asking worker is at it.
    Unknown,
    /// The answer: a 2xx answer's body, or `None` (no robots.txt that
    /// counts: everything is allowed).
    Known(Option<Vec<u8>>),
}

impl Queue {
    /// Connects (lazily: the first statement connects) and brings the
    /// tables up to date; a database that cannot be reached is an error
    /// the caller may retry (`is_transient`).
    pub async fn open(url: &str, connections: u32) -> Result<Queue> {
        let name: Arc<str> = redact(url).into();
        let pool = PgPoolOptions::new()
            .max_connections(connections.max(1))
            .acquire_timeout(Duration::from_secs(10))
            .connect_lazy(url)
            .map_err(|e| queue_error(&name, "read the queue's URL", &e))?;
        let queue = Queue {
            pool,
            name,
            statements: Arc::new(AtomicU64::new(0)),
        };
        super::schema::migrate(&queue.pool)
            .await
            .map_err(|e| e.into_error(&queue.name))?;
        queue.count(5);
        Ok(queue)
    }

    /// The URL without its password.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Statements sent so far by this handle and its clones.
    pub fn statements(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    pub(crate) fn count(&self, n: u64) {
        self.statements.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn error(&self, what: &str, e: &sqlx::Error) -> Error {
        queue_error(&self.name, what, e)
    }

    /// Begins a run: its id, the config its sources are fetched with and,
    /// when the workers keep copies, the store's run they write to.
    pub async fn begin_run(
        &self,
        run: &str,
        config: &Config,
        store: Option<&StoreRun>,
    ) -> Result<()> {
        let json = serde_json::to_string(config)
            .map_err(|e| Error::Usage(format!("the run's settings cannot be sent: {e}")))?;
        self.count(1);
        sqlx::query(
            "INSERT INTO fleet_runs (id, config, store_run, run_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(run)
        .bind(json)
        .bind(store.map(|s| s.id.clone()))
        .bind(store.map(|s| crate::base::time::rfc3339(s.now)))
        .execute(&self.pool)
        .await
        .map_err(|e| self.error("begin the run", &e))?;
        Ok(())
    }

    /// Enqueues a run's sources and sets their hosts' politeness, in one
    /// transaction: workers see all of the run's sources or none.
    pub async fn enqueue(
        &self,
        run: &str,
        items: &[Item],
        hosts: &[HostLimits],
        robots_first: bool,
    ) -> Result<()> {
        let err = |e: sqlx::Error| self.error("enqueue the run's sources", &e);
        let mut tx = self.pool.begin().await.map_err(err)?;
        // The hosts first: a source is only ever claimed through its host.
        self.count(3);
        sqlx::query(
            "INSERT INTO fleet_hosts (host, per_host, delay_ms) \
             SELECT * FROM UNNEST($1::text[], $2::int4[], $3::int8[]) \
             ON CONFLICT (host) DO UPDATE \
             SET per_host = EXCLUDED.per_host, delay_ms = EXCLUDED.delay_ms",
        )
        .bind(hosts.iter().map(|h| h.host.clone()).collect::<Vec<_>>())
        .bind(hosts.iter().map(|h| h.per_host).collect::<Vec<_>>())
        .bind(hosts.iter().map(|h| h.delay_ms).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await
        .map_err(err)?;
        for chunk in items.chunks(10_000) {
            self.count(1);
            let quotes: Vec<String> = chunk
                .iter()
                .map(|i| serde_json::to_string(&i.quotes).unwrap_or_else(|_| "[]".into()))
                .collect();
            sqlx::query(
                "INSERT INTO fleet_sources (run_id, pos, url, host, origin, quotes, robots_first) \
                 SELECT $1, u.* , $7 FROM UNNEST($2::int8[], $3::text[], $4::text[], $5::text[], $6::text[]) AS u",
            )
            .bind(run)
            .bind(chunk.iter().map(|i| i.pos).collect::<Vec<_>>())
            .bind(chunk.iter().map(|i| i.url.clone()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|i| i.host.clone()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|i| i.origin.clone()).collect::<Vec<_>>())
            .bind(quotes)
            .bind(robots_first)
            .execute(&mut *tx)
            .await
            .map_err(err)?;
        }
        tx.commit().await.map_err(err)?;
        Ok(())
    }

    /// The results that came in since the last call, each handed out once:
    /// (position, result as JSON).
    pub async fn collect(&self, run: &str) -> Result<Vec<(i64, String)>> {
        self.count(1);
        sqlx::query_as(
            "UPDATE fleet_sources SET collected = true \
             WHERE run_id = $1 AND done AND NOT collected \
             RETURNING pos, result",
        )
        .bind(run)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.error("collect the results", &e))
        .map(|rows: Vec<(i64, Option<String>)>| {
            rows.into_iter()
                .map(|(pos, r)| (pos, r.unwrap_or_default()))
                .collect()
        })
    }

    /// Ends a run: its rows go, and with them the rows of the hosts no run
    /// has sources on any more, once their politeness is spent (their
    /// next start and their last start's delay are past), so that the
    /// hosts table holds the hosts in flight, not every host ever seen.
    pub async fn end_run(&self, run: &str) -> Result<()> {
        self.count(2);
        let err = |e: sqlx::Error| self.error("end the run", &e);
        sqlx::query("DELETE FROM fleet_runs WHERE id = $1")
            .bind(run)
            .execute(&self.pool)
            .await
            .map_err(err)?;
        sqlx::query(
            "DELETE FROM fleet_hosts h WHERE h.next_at < clock_timestamp() \
             AND (h.last_start IS NULL \
                  OR h.last_start + h.delay_ms * interval '1 millisecond' < clock_timestamp()) \
             AND NOT EXISTS (SELECT 1 FROM fleet_sources s WHERE s.host = h.host)",
        )
        .execute(&self.pool)
        .await
        .map_err(err)?;
        Ok(())
    }

    /// What a run's sources are fetched (and kept) with; `None` when the
    /// run has ended (its coordinator collected everything, or gave up).
    pub async fn run_settings(&self, run: &str) -> Result<Option<RunSettings>> {
        self.count(1);
        let row: Option<(String, Option<String>, Option<String>)> =
            sqlx::query_as("SELECT config, store_run, run_at FROM fleet_runs WHERE id = $1")
                .bind(run)
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| self.error("read the run's settings", &e))?;
        let unreadable = |what: String| Error::Store {
            path: self.name.to_string().into(),
            cause: format!("run {run}: its settings cannot be read: {what}"),
        };
        let Some((json, store_run, run_at)) = row else {
            return Ok(None);
        };
        let config = serde_json::from_str(&json).map_err(|e| unreadable(e.to_string()))?;
        let store = match (store_run, run_at) {
            (Some(id), Some(at)) => Some(StoreRun {
                id,
                now: crate::base::time::parse_rfc3339(&at)
                    .map_err(|e| unreadable(format!("{at}: {e}")))?,
            }),
            _ => None,
        };
        Ok(Some(RunSettings { config, store }))
    }

    /// Records a source's result, if `worker` still holds it: a worker
    /// whose lease was taken over drops its result (false), so each
    /// source has exactly one.
    pub async fn complete(&self, id: i64, worker: &str, result: &str) -> Result<bool> {
        self.count(1);
        let done = sqlx::query(
            "UPDATE fleet_sources SET result = $3, done = true, lease_until = NULL \
             WHERE id = $1 AND worker = $2 AND NOT done",
        )
        .bind(id)
        .bind(worker)
        .bind(result)
        .execute(&self.pool)
        .await
        .map_err(|e| self.error("record a result", &e))?;
        Ok(done.rows_affected() == 1)
    }

    /// Records many sources' results at once, as `complete` does one:
    /// for each, whether `worker` still held it (true) or its result was
    /// dropped.
    pub async fn complete_many(
        &self,
        worker: &str,
        results: &[(i64, String)],
    ) -> Result<Vec<bool>> {
        self.count(1);
        let kept: Vec<(i64,)> = sqlx::query_as(
            "UPDATE fleet_sources s SET result = r.result, done = true, lease_until = NULL \
             FROM UNNEST($1::int8[], $2::text[]) AS r (id, result) \
             WHERE s.id = r.id AND s.worker = $3 AND NOT s.done \
             RETURNING s.id",
        )
        .bind(results.iter().map(|(id, _)| *id).collect::<Vec<_>>())
        .bind(results.iter().map(|(_, r)| r.as_str()).collect::<Vec<_>>())
        .bind(worker)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.error("record results", &e))?;
        let kept: std::collections::HashSet<i64> = kept.into_iter().map(|(id,)| id).collect();
        Ok(results.iter().map(|(id, _)| kept.contains(id)).collect())
    }

    /// Extends the leases of what `worker` is working on, and of the
    /// robots.txt placeholders it holds.
    pub async fn renew(&self, worker: &str, ids: &[i64], lease: Duration) -> Result<()> {
        let ms = lease.as_millis() as i64;
        let err = |e: sqlx::Error| self.error("renew the leases", &e);
        self.count(2);
        sqlx::query(
            "UPDATE fleet_sources SET lease_until = clock_timestamp() + $3 * interval '1 millisecond' \
             WHERE id = ANY($1) AND worker = $2 AND NOT done",
        )
        .bind(ids)
        .bind(worker)
        .bind(ms)
        .execute(&self.pool)
        .await
        .map_err(err)?;
        sqlx::query(
            "UPDATE fleet_robots SET lease_until = clock_timestamp() + $2 * interval '1 millisecond' \
             WHERE worker = $1 AND NOT known",
        )
        .bind(worker)
        .bind(ms)
        .execute(&self.pool)
        .await
        .map_err(err)?;
        Ok(())
    }

    /// What the run knows of an origin's robots.txt.
    pub async fn robots(&self, run: &str, origin: &str) -> Result<Robots> {
        self.count(1);
        let row: Option<(bool, Option<i32>, Option<Vec<u8>>)> = sqlx::query_as(
            "SELECT known, status, body FROM fleet_robots WHERE run_id = $1 AND origin = $2",
        )
        .bind(run)
        .bind(origin)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| self.error("read robots.txt", &e))?;
        Ok(match row {
            Some((true, status, body)) => {
                Robots::Known(body.filter(|_| status.is_some_and(|s| (200..300).contains(&s))))
            }
            _ => Robots::Unknown,
        })
    }

    /// Keeps the robots.txt answer a worker got for an origin (`status`
    /// `None`: it could not be fetched, which allows everything); the
    /// first answer stays, except that an answer replaces "could not be
    /// fetched".
    pub async fn keep_robots(
        &self,
        run: &str,
        origin: &str,
        status: Option<u16>,
        body: Option<&[u8]>,
    ) -> Result<()> {
        self.count(1);
        sqlx::query(
            "INSERT INTO fleet_robots (run_id, origin, known, status, body) \
             VALUES ($1, $2, true, $3, $4) \
             ON CONFLICT (run_id, origin) DO UPDATE \
             SET known = true, status = EXCLUDED.status, body = EXCLUDED.body, worker = NULL \
             WHERE NOT fleet_robots.known \
                OR (fleet_robots.status IS NULL AND EXCLUDED.status IS NOT NULL)",
        )
        .bind(run)
        .bind(origin)
        .bind(status.map(i32::from))
        .bind(body)
        .execute(&self.pool)
        .await
        .map_err(|e| self.error("keep robots.txt", &e))?;
        Ok(())
    }

    /// The coordinator is still waiting for the run.
    pub async fn heartbeat(&self, run: &str) -> Result<()> {
        self.count(1);
        sqlx::query("UPDATE fleet_runs SET heartbeat = clock_timestamp() WHERE id = $1")
            .bind(run)
            .execute(&self.pool)
            .await
            .map_err(|e| self.error("note that the run is alive", &e))?;
        Ok(())
    }

    /// Ends the runs whose coordinator has been silent longer than
    /// `silent` (its heartbeat is that old): no one will collect their
    /// results. Returns their ids.
    pub async fn end_abandoned(&self, silent: Duration) -> Result<Vec<String>> {
        self.count(1);
        let rows: Vec<(String,)> = sqlx::query_as(
            "DELETE FROM fleet_runs \
             WHERE heartbeat < clock_timestamp() - $1 * interval '1 millisecond' RETURNING id",
        )
        .bind(silent.as_millis() as i64)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.error("end abandoned runs", &e))?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// Whether any worker has claimed a source of the run yet.
    pub async fn claimed(&self, run: &str) -> Result<bool> {
        self.count(1);
        let (any,): (bool,) = sqlx::query_as(
            "SELECT EXISTS (SELECT 1 FROM fleet_sources WHERE run_id = $1 AND worker IS NOT NULL)",
        )
        .bind(run)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| self.error("look for claims", &e))?;
        Ok(any)
    }

    /// Sources of any run still without a result.
    pub async fn unfinished(&self) -> Result<i64> {
        self.count(1);
        let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM fleet_sources WHERE NOT done")
            .fetch_one(&self.pool)
            .await
            .map_err(|e| self.error("count what is left", &e))?;
        Ok(n)
    }
}

/// A queue error, one line: the queue (without its password), what was
/// being done, and the cause.
pub(crate) fn queue_error(
    name: &str,
    what: &str,
    cause: &(dyn std::error::Error + 'static),
) -> Error {
    Error::Store {
        path: name.into(),
        cause: format!("cannot {what}: {}", crate::error::chain_text(cause)),
    }
}

/// Whether a database error may pass if the statement is tried again: the
/// server cannot be reached, is restarting, or is full.
pub fn is_transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(d) => d.code().is_some_and(|c| {
            c.starts_with("08")
                || c.starts_with("57P")
                || c == "53300"
                || c == "40001"
                || c == "40P01"
        }),
        _ => false,
    }
}

/// The URL without its password.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            u.to_string()
        }
        Err(_) => "the queue".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_never_reaches_a_message() {
        let name = redact("postgres://citeguard:s3cret@db.internal:5432/fleet");
        assert_eq!(name, "postgres://citeguard:***@db.internal:5432/fleet");
        assert_eq!(
            redact("postgres://postgres@127.0.0.1:54329/q"),
            "postgres://postgres@127.0.0.1:54329/q"
        );
        assert_eq!(redact("not a url"), "the queue");
    }
}
