//! The ground's small shared helpers: the one implementation of each thing
//! several stages need. Each file owns one kind of helper:
//!
//! - `time` — RFC 3339 time stamps (writing and reading) and run ids.
//! - `text` — char-boundary-safe slicing, line counting, and decoding bytes
//!   to text under a charset.
//! - `web` — small facts about URLs and HTTP headers: `is_http`, a content
//!   type's essence and charset, the in-page-jump rule.
//! - `escape` — HTML and XML escaping, and the control-character filter
//!   for text shown on a terminal or in a report.
//! - `cap` — the cap on bytes read from the network, counted after
//!   decompression: a counter, and a reader that keeps them in memory.
//! - `srcset` — the `srcset` attribute, parsed as the HTML standard says
//!   (commas inside URLs included), for the collector and the offline copy.
//! - `nesting` — a linear pre-scan that bounds how deeply HTML nests
//!   before a parser (quadratic in depth) sees it.
//! - `prune` — the state of a tree walk that leaves out whole subtrees.
//! - `names` — the `names!` macro: a contract enum declared with its
//!   strings once, from which `as_str`, `FromStr`, `Display` and serde come.
//! - `panic_message` (here) — the text a caught panic was raised with, for
//!   the one line that reports it.
//!
//! Invariant: `base` imports nothing from the rest of the crate (it is
//! below `model`), and holds pure functions only: no I/O, no clock, no
//! configuration (the one exception is `time::run_id`'s random suffix).

pub mod cap;
pub mod escape;
pub(crate) mod names;
pub mod nesting;
pub mod prune;
pub mod srcset;
pub mod text;
pub mod time;
pub mod web;

/// The text a panic was raised with (its `&str` or `String` payload).
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_string())
}
