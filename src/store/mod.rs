//! The store: offline copies of every cited source, their WARC records,
//! and the index of runs, checks, snapshots and baselines.

pub mod offline;
pub mod wacz;
pub mod warc;
