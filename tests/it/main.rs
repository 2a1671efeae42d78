//! citeguard's integration tests: one binary, a module per area.
//!
//! Every test that needs a web uses the one misbehaving test web in
//! [`web`] (real HTTP servers on 127.0.0.x, nothing else is ever reached);
//! every test that runs the binary does it through [`util`], in a
//! temporary directory of its own; the report renderers are all tested on
//! the one sample report in [`sample`]. Real files, real SQLite.
//!
//! `cargo test --test it fetch::` runs one area.

mod sample;
mod util;
mod web;

mod architecture;
mod archive_tools;
mod broken_pipe;
mod check;
mod collect;
mod collect_cli;
mod collect_html;
mod collect_robust;
mod collect_scripts;
mod collect_unlinked;
mod fetch;
mod fleet;
mod hostile_fetch;
mod hostile_offline;
mod hostile_store;
mod memento;
mod offline;
mod report_formats;
mod report_html;
mod schedule;
mod store;
mod store_backends;
mod store_texts;
mod warc_replay;
