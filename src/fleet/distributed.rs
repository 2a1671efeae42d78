//! `check --distributed`: the run's sources are fetched by workers. The
//! coordinator begins a run in the queue (with its config, so every worker
//! fetches as this run asks), enqueues every unique source with the
//! passages quoted from it, waits until each has its result, and hands
//! the checks back to `check`, which judges the citations, marks changes
//! and writes the report exactly as a local run does. When the run keeps
//! copies, its row in the queue names the store's run (`StoreRun`): each
//! worker stores what it fetches there, and the evidence (the judge's
//! revised verdict, similarity, quotes, history, offline copies) comes
//! back with the check.

use std::sync::Arc;
use std::time::Duration;

use super::queue::{HostLimits, Item, Queue, StoreRun};
use super::wire::Outcome;
use super::worker::{Events, Reach};
use crate::check::{Judged, Progress, SourceChecks, Sources};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::fetch::Fetcher;
use crate::fetch::queue::host_key;
use crate::store::hook::{Evidence, SourceHook};

/// The fleet as `check`'s way of fetching sources.
pub struct Distributed {
    queue: Queue,
    config: Config,
    /// How often the coordinator looks for results.
    poll: Duration,
    events: Arc<dyn Events>,
    /// The queue's outages, said once each.
    reach: Reach,
    /// The store's run the workers keep copies in, when the run keeps any.
    store: Option<StoreRun>,
    /// How long the coordinator waits for a first claim before it says
    /// that no worker is at the queue.
    idle_after: Duration,
}

impl Distributed {
    /// `config` is the run's: the workers fetch with it.
    pub fn new(queue: Queue, config: &Config, events: Arc<dyn Events>) -> Distributed {
        Distributed {
            queue,
            config: config.clone(),
            poll: Duration::from_millis(200),
            reach: Reach::new(events.clone()),
            events,
            store: None,
            idle_after: Duration::from_secs(30),
        }
    }

    /// Looks for results this often (the default is 200 ms).
    pub fn poll_every(mut self, poll: Duration) -> Distributed {
        self.poll = poll;
        self
    }
}

impl SourceChecks for Distributed {
    /// The workers store the sources, in the store the run's config names
    /// (a PostgreSQL index, which many may write at once).
    fn stored_elsewhere(&mut self, run_id: &str, now: chrono::DateTime<chrono::Utc>) -> bool {
        self.store = Some(StoreRun {
            id: run_id.to_string(),
            now,
        });
        true
    }

    async fn checks<H: SourceHook>(
        &mut self,
        sources: &Sources<'_>,
        fetcher: &Arc<Fetcher>,
        _hook: &mut H,
        progress: &dyn Progress,
    ) -> Result<Vec<Option<Judged>>> {
        let urls = sources.urls();
        let run = format!(
            "{}-{:08x}",
            crate::base::time::run_id(chrono::Utc::now()),
            rand::random::<u32>()
        );
        let mut hosts: Vec<HostLimits> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let items: Vec<Item> = urls
            .iter()
            .enumerate()
            .map(|(i, url)| {
                let host = host_key(url);
                if seen.insert(host.clone()) {
                    let (per_host, delay) = fetcher.politeness(&host);
                    hosts.push(HostLimits {
                        host: host.clone(),
                        per_host: i32::try_from(per_host).unwrap_or(i32::MAX),
                        delay_ms: i64::try_from(delay.as_millis()).unwrap_or(i64::MAX),
                    });
                }
                Item {
                    pos: i as i64,
                    url: url.to_string(),
                    origin: origin(url),
                    host,
                    quotes: sources.quotes(i).to_vec(),
                }
            })
            .collect();
        // Runs whose coordinator is gone are ended first (best effort: the
        // queue's next statement says it if it fails).
        let _ = self.queue.end_abandoned(ABANDONED).await;
        self.queue
            .begin_run(&run, &self.config, self.store.as_ref())
            .await?;
        let robots_first = !self.config.fetch.ignore_robots;
        if let Err(e) = self.queue.enqueue(&run, &items, &hosts, robots_first).await {
            let _ = self.queue.end_run(&run).await;
            return Err(e);
        }
        drop(items);
        self.events.queued(&run, urls.len());
        progress.start(urls.len());
        let mut checks: Vec<Option<Judged>> = vec![None; urls.len()];
        let mut have = 0;
        let mut failure = None;
        let waiting = std::time::Instant::now();
        let mut beat = waiting;
        let mut idle_said = false;
        while have < urls.len() {
            let got = self.reach.retry(|| self.queue.collect(&run)).await;
            if got.is_empty() {
                if !idle_said && have == 0 && waiting.elapsed() >= self.idle_after {
                    // Best effort: a queue that fails here fails the
                    // next collect too, which says so.
                    if let Ok(false) = self.queue.claimed(&run).await {
                        let queue = self.queue.name().to_string();
                        self.events.no_worker(&run, &queue, waiting.elapsed());
                    }
                    idle_said = true;
                }
                if beat.elapsed() >= HEARTBEAT {
                    let _ = self.queue.heartbeat(&run).await;
                    beat = std::time::Instant::now();
                }
                tokio::time::sleep(self.poll).await;
                continue;
            }
            for (pos, json) in got {
                let Some(slot) = usize::try_from(pos).ok().and_then(|p| checks.get_mut(p)) else {
                    continue;
                };
                if slot.is_some() {
                    continue;
                }
                have += 1;
                match Outcome::from_json(&json) {
                    Outcome::Checked { check, evidence } => {
                        progress.source_done(&check);
                        *slot = Some(Judged::from((*check, Evidence::from(*evidence))));
                    }
                    Outcome::Unfetched => {}
                    Outcome::Failed { error } => {
                        failure.get_or_insert(error);
                    }
                }
            }
            if failure.is_some() {
                break;
            }
        }
        progress.finish();
        self.reach.retry(|| self.queue.end_run(&run)).await;
        match failure {
            // As a fetch that panics ends a local run.
            Some(error) => Err(Error::Store {
                path: self.queue.name().into(),
                cause: format!("run {run}: a worker failed: {error}"),
            }),
            None => Ok(checks),
        }
    }
}

/// How often a waiting coordinator says it is alive.
const HEARTBEAT: Duration = Duration::from_secs(10);

/// How long a run's coordinator may be silent before the run is taken for
/// abandoned and ended (by the next coordinator, or a worker).
pub const ABANDONED: Duration = Duration::from_secs(120);

/// scheme://host:port of a URL: what robots.txt is kept by.
pub fn origin(url: &str) -> String {
    url::Url::parse(url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default()
}
