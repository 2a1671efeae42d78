//! The work queue of sources: anything may push a source while the run is
//! going (the check pipeline, a recheck, a crawler), and results come back on
//! a channel as they finish.
//!
//! Politeness lives here: at most `per_host` requests in flight to one host,
//! starts spaced `host_delay` apart, and at most `concurrency` in flight
//! overall. Each host has its own little pool of workers that drain that
//! host's queue; a host's workers are spawned in the order hosts first
//! appear, so pushing the busiest host first starts it first, and its
//! workers never wait on other hosts' work, only on the global permit.
//!
//! The results channel is bounded: when the caller takes results more
//! slowly than the network brings them (a store writing every page), a
//! worker waits with its finished fetch, still holding its permit, so the
//! run holds at most `concurrency` fetches in flight or finished and not
//! yet taken, plus the channel's room.
//!
//! A worker that panics (a bug) does not leave the run waiting for its
//! source forever: the panic is caught and comes back on the channel as
//! the error it is, and the run ends with it.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::FutureExt;
use tokio::sync::{Semaphore, mpsc};
use tokio::time::Instant;

use super::{Fetched, Fetcher, Job, Reach, Validators};
use crate::error::{Error, Result};

/// A job waiting in its host's queue, compactly (32 bytes against the
/// job's 80): a run of 100,000 sources queues them all before the first
/// fetch, and most have no validators (a first run, a dead source).
struct Pending {
    url: Arc<str>,
    validators: Option<Box<Validators>>,
    reach: Option<Reach>,
}

impl From<Job> for Pending {
    fn from(job: Job) -> Pending {
        Pending {
            url: job.url,
            validators: job.validators.map(Box::new),
            reach: job.reach,
        }
    }
}

impl From<Pending> for Job {
    fn from(p: Pending) -> Job {
        Job {
            url: p.url,
            validators: p.validators.map(|v| *v),
            reach: p.reach,
        }
    }
}

struct HostQueue {
    pending: VecDeque<Pending>,
    workers: usize,
    limit: usize,
    delay: Duration,
    next_start: Instant,
}

struct State {
    /// Hashes of the URLs pushed so far: a set of strings would keep a
    /// second copy of every URL of the run.
    seen: HashSet<u64>,
    hosts: HashMap<String, HostQueue>,
}

struct Inner {
    fetcher: Arc<Fetcher>,
    global: Semaphore,
    state: Mutex<State>,
    results: mpsc::Sender<Result<Fetched>>,
}

/// A handle to push sources onto the queue. Cheap to clone.
#[derive(Clone)]
pub struct Queue {
    inner: Arc<Inner>,
}

impl Queue {
    /// A queue and the receiver of its results: each source's `Fetched`,
    /// or the error that ends the run (a fetch that panicked). The
    /// receiver holds at most `concurrency` results: a worker whose result
    /// does not fit waits, with its permit, until one is taken.
    pub fn new(fetcher: Arc<Fetcher>) -> (Queue, mpsc::Receiver<Result<Fetched>>) {
        let concurrency = fetcher.config().concurrency.max(1);
        let (tx, rx) = mpsc::channel(concurrency);
        let inner = Inner {
            fetcher,
            global: Semaphore::new(concurrency),
            state: Mutex::new(State {
                seen: HashSet::new(),
                hosts: HashMap::new(),
            }),
            results: tx,
        };
        (
            Queue {
                inner: Arc::new(inner),
            },
            rx,
        )
    }

    /// Adds a source. Returns false when that URL was already pushed in this
    /// run: every source is fetched once, however often it is cited.
    pub fn push(&self, job: Job) -> bool {
        let host = host_key(&job.url);
        self.push_on(job, &host)
    }

    /// `push`, with the URL's host key (`host_key`) worked out already.
    pub fn push_on(&self, job: Job, host: &str) -> bool {
        let spawn = {
            let mut state = self.inner.state.lock().unwrap_or_else(|p| p.into_inner());
            if !state.seen.insert(url_hash(&job.url)) {
                return false;
            }
            // A host's queue is made with its first URL (its key copied
            // once, its politeness looked up once).
            if !state.hosts.contains_key(host) {
                let (limit, delay) = self.inner.fetcher.politeness(host);
                // A host can never use more workers than the global limit,
                // and every idle worker is a task held in memory.
                let limit = limit.min(self.inner.fetcher.config().concurrency.max(1));
                let queue = HostQueue {
                    pending: VecDeque::new(),
                    workers: 0,
                    limit,
                    delay,
                    next_start: Instant::now(),
                };
                state.hosts.insert(host.to_string(), queue);
            }
            let Some(hq) = state.hosts.get_mut(host) else {
                return false;
            };
            hq.pending.push_back(job.into());
            if hq.workers < hq.limit {
                hq.workers += 1;
                true
            } else {
                false
            }
        };
        if spawn {
            let inner = self.inner.clone();
            let host = host.to_string();
            tokio::spawn(async move { worker(inner, host).await });
        }
        true
    }
}

async fn worker(inner: Arc<Inner>, host: String) {
    loop {
        let (job, start) = {
            let mut state = inner.state.lock().unwrap_or_else(|p| p.into_inner());
            let Some(hq) = state.hosts.get_mut(&host) else {
                return;
            };
            let Some(job) = hq.pending.pop_front() else {
                hq.workers -= 1;
                return;
            };
            let now = Instant::now();
            let start = hq.next_start.max(now);
            hq.next_start = start + hq.delay;
            (Job::from(job), start)
        };
        // No timer when the start is now (no delay on this host).
        if start > Instant::now() {
            tokio::time::sleep_until(start).await;
        }
        let Ok(permit) = inner.global.acquire().await else {
            return;
        };
        // Boxed: a fetch's state is several KB, and a worker waiting for
        // its host's turn or a permit (there are thousands with the limits
        // off: up to `concurrency` per host) holds none.
        let fetched = settle(&job.url, Box::pin(inner.fetcher.fetch(&job))).await;
        let failed = fetched.is_err();
        // The permit is held until the result is taken: a result waiting
        // for room in the channel counts as a fetch in flight, so the
        // results held, in flight or waiting, stay within `concurrency`
        // plus the channel's room, however many workers there are.
        let sent = inner.results.send(fetched).await;
        drop(permit);
        if sent.is_err() || failed {
            return;
        }
    }
}

/// A fetch's result, or the error that ends the run when it panicked.
async fn settle(url: &str, fetch: impl std::future::Future<Output = Fetched>) -> Result<Fetched> {
    std::panic::AssertUnwindSafe(fetch)
        .catch_unwind()
        .await
        .map_err(|panic| {
            Error::setup(
                "finish the run",
                FetchPanicked {
                    url: url.to_string(),
                    message: crate::base::panic_message(panic.as_ref()),
                },
            )
        })
}

/// A fetch that panicked: a bug, named with the source it was fetching.
#[derive(Debug, thiserror::Error)]
#[error("fetching {url} failed inside citeguard ({message}); this is a bug")]
pub struct FetchPanicked {
    pub url: String,
    pub message: String,
}

fn url_hash(url: &str) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
    BuildHasherDefault::<DefaultHasher>::default().hash_one(url)
}

/// The politeness key of a URL: its host name (ports share a host's limit).
pub fn host_key(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_fetch_that_panics_becomes_the_error_that_ends_the_run() {
        let panicking = async {
            if url_hash("x") != 0 {
                panic!("attempt to divide by zero");
            }
            unreachable!()
        };
        let err = settle("http://news.example/story", panicking)
            .await
            .unwrap_err();
        let line = crate::error::chain_text(&err);
        assert!(line.contains("http://news.example/story"), "{line}");
        assert!(line.contains("attempt to divide by zero"), "{line}");
        assert!(line.contains("this is a bug"), "{line}");
    }
}
