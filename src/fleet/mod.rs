//! The fleet: many `citeguard worker` processes, on many machines, share
//! the sources of `check --distributed` runs through a queue in
//! PostgreSQL, and are polite to each host as one crawler.
//!
//! - `queue.rs`: the queue as its users see it (runs, sources, results,
//!   robots.txt, leases), every statement counted;
//! - `politeness.rs`: the claim, host first, that keeps `--per-host` and
//!   `--host-delay` for all workers together;
//! - `worker.rs`: the worker loop (claim, fetch through `check`'s own
//!   code, record once; leases, backoff, stopping);
//! - `distributed.rs`: the coordinator's side, `check`'s `SourceChecks`
//!   over the queue;
//! - `gather.rs`: questions of many tasks sent as one statement;
//! - `wire.rs`: a source's result as JSON in its queue row;
//! - `schema.rs`: the queue's tables and their numbered migrations.
//!
//! It sits above `check`: a worker fetches with `check::fetch_sources`
//! and the coordinator is one more way for `check::run_with` to have its
//! sources fetched, so neither duplicates the pipeline. It never prints.

pub mod distributed;
mod gather;
pub mod politeness;
pub mod queue;
mod schema;
pub mod wire;
pub mod worker;

pub use distributed::Distributed;
pub use queue::Queue;
