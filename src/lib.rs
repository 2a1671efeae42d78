//! citeguard keeps the citations of published writing honest.
//!
//! The modules are the pipeline (see ARCHITECTURE.md):
//! `collect` → `fetch` → `store` → `compare` → `report`, over the plain
//! types of `model`, configured by one `config::Config`. The library never
//! prints to the terminal: the binary does.

pub mod base;
pub mod check;
pub mod collect;
pub mod compare;
pub mod config;
pub mod error;
pub mod fetch;
pub mod memento;
pub mod model;
pub mod report;
pub mod schedule;
pub mod store;

pub use error::{Error, Result};

#[cfg(test)]
mod contract_strings;
