//! Politeness across the fleet: how a worker claims sources so that
//! `--per-host` and `--host-delay` hold for all workers together, and
//! robots.txt is fetched once per origin and run.
//!
//! A claim goes host first, in one transaction:
//!
//! 1. lock one host that is due (`next_at` passed), has a source no one
//!    holds, and a free slot (`FOR UPDATE SKIP LOCKED`: workers claiming
//!    at the same time take different hosts, never wait on each other);
//! 2. count the host's live leases again, now that the lock is held (the
//!    first count was read before the lock, and may be stale);
//! 3. lease up to that many of its sources (one when the host has a
//!    delay, so starts stay `delay` apart), skipping those whose origin's
//!    robots.txt another worker is fetching right now;
//! 4. leave a robots.txt placeholder for each claimed origin the run knows
//!    nothing of, so the next worker waits for the answer rather than
//!    asking the host itself;
//! 5. move the host's `next_at` to now + delay.
//!
//! A source is in flight while its lease is live; a killed worker's leases
//! run out and its sources become claimable again, so the per-host count
//! never stays taken by the dead.

use std::time::Duration;

use super::queue::Queue;
use crate::error::Result;

/// A source a worker now holds.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: i64,
    pub run_id: String,
    pub url: String,
    pub origin: String,
    /// The host row whose limits the source counts against.
    pub host: String,
    /// The host has a delay: each request on it, robots.txt included,
    /// waits for the host's turn (`take_turn`, through the fetcher's
    /// `Fetcher::take_turns`).
    pub paced: bool,
    pub quotes: Vec<String>,
    /// robots.txt is to be honoured (the run did not say `--ignore-robots`).
    pub robots_first: bool,
}

/// Claims up to `want` sources for `worker`, over as many hosts as it
/// takes; empty when nothing may start now.
pub async fn claim(
    queue: &Queue,
    worker: &str,
    want: usize,
    lease: Duration,
) -> Result<Vec<Claimed>> {
    let mut claimed = Vec::new();
    // Each round takes one host; a host once taken is not due again in
    // this call (its slots are full or its next start is later).
    while claimed.len() < want {
        let got = claim_on_one_host(queue, worker, want - claimed.len(), lease).await?;
        match got {
            Some(mut more) => claimed.append(&mut more),
            None => break,
        }
    }
    Ok(claimed)
}

/// Of a host row `h`: it has a source no live lease holds and whose
/// robots.txt no other worker is still fetching (`$1` is this worker), and
/// fewer live leases than its per-host limit. The one condition both the
/// claim and the wait for the next due host use.
const HAS_WORK_AND_ROOM: &str = "EXISTS (SELECT 1 FROM fleet_sources c WHERE c.host = h.host \
       AND NOT c.done AND (c.lease_until IS NULL OR c.lease_until < clock_timestamp()) \
       AND NOT EXISTS (SELECT 1 FROM fleet_robots r \
           WHERE r.run_id = c.run_id AND r.origin = c.origin AND c.robots_first \
             AND NOT r.known AND r.worker <> $1 AND r.lease_until >= clock_timestamp())) \
     AND (SELECT count(*) FROM fleet_sources b WHERE b.host = h.host AND NOT b.done \
          AND b.lease_until >= clock_timestamp()) < h.per_host";

/// How long until some host with work is due again, when nothing may
/// start now: the worker sleeps that long rather than polling blind, so a
/// busy host with a delay is served at its delay. `None` when no host has
/// work it could give (the queue is empty, or every such host is at its
/// limit).
pub async fn next_due(queue: &Queue, worker: &str) -> Result<Option<Duration>> {
    queue.count(1);
    let sql = format!(
        "SELECT GREATEST(0, EXTRACT(EPOCH FROM (min(h.next_at) - clock_timestamp())) * 1000)::float8 \
         FROM fleet_hosts h WHERE {HAS_WORK_AND_ROOM}"
    );
    let (ms,): (Option<f64>,) = sqlx::query_as(&sql)
        .bind(worker)
        .fetch_one(&queue.pool)
        .await
        .map_err(|e| queue.error("look for due hosts", &e))?;
    Ok(ms.map(|ms| Duration::from_secs_f64(ms.max(0.0) / 1000.0)))
}

async fn claim_on_one_host(
    queue: &Queue,
    worker: &str,
    want: usize,
    lease: Duration,
) -> Result<Option<Vec<Claimed>>> {
    let err = |e: sqlx::Error| queue.error("claim sources", &e);
    let lease_ms = lease.as_millis() as i64;
    let mut tx = queue.pool.begin().await.map_err(err)?;
    queue.count(2);
    let sql = format!(
        "SELECT h.host, h.per_host, h.delay_ms FROM fleet_hosts h \
         WHERE h.next_at <= clock_timestamp() AND {HAS_WORK_AND_ROOM} \
         ORDER BY h.next_at LIMIT 1 \
         FOR UPDATE OF h SKIP LOCKED"
    );
    let host: Option<(String, i32, i64)> = sqlx::query_as(&sql)
        .bind(worker)
        .fetch_optional(&mut *tx)
        .await
        .map_err(err)?;
    let Some((host, per_host, delay_ms)) = host else {
        queue.count(1);
        tx.commit().await.map_err(err)?;
        return Ok(None);
    };
    // The lock is held: this count sees every lease committed before it.
    queue.count(1);
    let (live,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM fleet_sources WHERE host = $1 AND NOT done \
         AND lease_until >= clock_timestamp()",
    )
    .bind(&host)
    .fetch_one(&mut *tx)
    .await
    .map_err(err)?;
    let free = (i64::from(per_host.max(1)) - live).max(0);
    let n = if delay_ms > 0 {
        free.min(1)
    } else {
        free.min(want as i64)
    };
    let mut claimed = Vec::new();
    if n > 0 {
        queue.count(1);
        let rows: Vec<(i64, String, String, String, String, bool)> = sqlx::query_as(
            "UPDATE fleet_sources s SET worker = $2, tries = s.tries + 1, \
                 lease_until = clock_timestamp() + $3 * interval '1 millisecond' \
             WHERE s.id IN ( \
                 SELECT c.id FROM fleet_sources c \
                 WHERE c.host = $1 AND NOT c.done \
                   AND (c.lease_until IS NULL OR c.lease_until < clock_timestamp()) \
                   AND NOT EXISTS (SELECT 1 FROM fleet_robots r \
                       WHERE r.run_id = c.run_id AND r.origin = c.origin AND c.robots_first \
                         AND NOT r.known AND r.worker <> $2 \
                         AND r.lease_until >= clock_timestamp()) \
                 ORDER BY c.id LIMIT $4 FOR UPDATE SKIP LOCKED) \
             RETURNING s.id, s.run_id, s.url, s.origin, s.quotes, s.robots_first",
        )
        .bind(&host)
        .bind(worker)
        .bind(lease_ms)
        .bind(n)
        .fetch_all(&mut *tx)
        .await
        .map_err(err)?;
        claimed = rows
            .into_iter()
            .map(|(id, run_id, url, origin, quotes, robots_first)| Claimed {
                id,
                run_id,
                url,
                origin,
                host: host.clone(),
                paced: delay_ms > 0,
                quotes: serde_json::from_str(&quotes).unwrap_or_default(),
                robots_first,
            })
            .collect();
    }
    let ids: Vec<i64> = claimed
        .iter()
        .filter(|c| c.robots_first)
        .map(|c| c.id)
        .collect();
    if !ids.is_empty() {
        queue.count(1);
        sqlx::query(
            "INSERT INTO fleet_robots (run_id, origin, worker, lease_until) \
             SELECT o.run_id, o.origin, $2, clock_timestamp() + $3 * interval '1 millisecond' \
             FROM (SELECT DISTINCT run_id, origin FROM fleet_sources WHERE id = ANY($1)) o \
             ON CONFLICT (run_id, origin) DO UPDATE \
             SET worker = EXCLUDED.worker, lease_until = EXCLUDED.lease_until \
             WHERE NOT fleet_robots.known AND fleet_robots.lease_until < clock_timestamp()",
        )
        .bind(&ids)
        .bind(worker)
        .bind(lease_ms)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
    }
    if delay_ms > 0 && !claimed.is_empty() {
        queue.count(1);
        sqlx::query(
            "UPDATE fleet_hosts SET next_at = clock_timestamp() + $2 * interval '1 millisecond' \
             WHERE host = $1",
        )
        .bind(&host)
        .bind(delay_ms)
        .execute(&mut *tx)
        .await
        .map_err(err)?;
    }
    queue.count(1);
    tx.commit().await.map_err(err)?;
    // A host whose sources all wait on another worker's robots.txt gave
    // nothing; the next round takes another host.
    Ok(if claimed.is_empty() {
        None
    } else {
        Some(claimed)
    })
}

/// Waits for `host`'s turn to start a request and takes it: when the host
/// has a delay, no two requests of the fleet start on it closer than that,
/// however late the worker that claimed a source sends it (a claim only
/// spaces the claims). One statement per try; a host without a delay
/// passes at once.
pub async fn take_turn(queue: &Queue, host: &str) -> Result<()> {
    let err = |e: sqlx::Error| queue.error("take a host's turn", &e);
    loop {
        queue.count(1);
        // The turn when the delay has passed since the last start; else
        // how many milliseconds are left.
        let (left,): (f64,) = sqlx::query_as(
            "WITH turn AS ( \
                 UPDATE fleet_hosts SET last_start = clock_timestamp() \
                 WHERE host = $1 AND (delay_ms = 0 OR last_start IS NULL \
                     OR last_start + delay_ms * interval '1 millisecond' <= clock_timestamp()) \
                 RETURNING 0::float8 AS left_ms) \
             SELECT left_ms FROM turn \
             UNION ALL \
             SELECT GREATEST(1, EXTRACT(EPOCH FROM (last_start + delay_ms * interval '1 millisecond' \
                 - clock_timestamp())) * 1000)::float8 \
             FROM fleet_hosts WHERE host = $1 AND NOT EXISTS (SELECT 1 FROM turn) \
             UNION ALL SELECT 0::float8 WHERE NOT EXISTS (SELECT 1 FROM fleet_hosts WHERE host = $1) \
             LIMIT 1",
        )
        .bind(host)
        .fetch_one(&queue.pool)
        .await
        .map_err(err)?;
        if left <= 0.0 {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_secs_f64(left / 1000.0)).await;
    }
}
