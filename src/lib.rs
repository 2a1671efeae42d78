//! citeguard keeps the citations of published writing honest.
//!
//! The modules are the pipeline (see ARCHITECTURE.md): `collect` reads
//! posts into citations, `fetch` checks each source, `store` keeps copies
//! and judges them against their baselines with `compare` and `schedule`,
//! `report` renders the verdicts; `check` drives one run. They sit on the
//! ground of `error`, `base`, `model` and `config`, and each module uses
//! only the layers below it (tests/it/architecture.rs). The library never
//! prints to the terminal: the binary does.

pub mod base;
pub mod check;
pub mod collect;
pub mod compare;
pub mod config;
pub mod error;
pub mod fetch;
pub mod fleet;
pub mod memento;
pub mod model;
pub mod report;
pub mod schedule;
pub mod store;

pub use error::{Error, Result};

#[cfg(test)]
mod contract_tests;
