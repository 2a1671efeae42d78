//! robots.txt, fetched once per host per run and kept for the run.
//!
//! Parsing is `texting_robots`'. A robots.txt that is missing (4xx) allows
//! everything; one that cannot be fetched (5xx, network) also allows, since
//! a checker that refuses to look is worse than one that looks once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

/// The most of a robots.txt that is read (Google reads 500 KiB); a longer
/// one is cut there, counted after decompression.
pub const MAX_BYTES: u64 = 512 * 1024;

/// The rules of every host seen in this run.
#[derive(Default)]
pub struct RobotsCache {
    hosts: Mutex<HashMap<String, Arc<OnceCell<Option<texting_robots::Robot>>>>>,
}

impl RobotsCache {
    /// The cell for `origin`; the first caller fills it, the others wait.
    pub fn cell(&self, origin: &str) -> Arc<OnceCell<Option<texting_robots::Robot>>> {
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        // Looked up before it is inserted: every fetch asks, and the key
        // is copied only the first time.
        if let Some(cell) = hosts.get(origin) {
            return cell.clone();
        }
        hosts.entry(origin.to_string()).or_default().clone()
    }
}

/// Parses a robots.txt body for citeguard's agent name.
pub fn parse(body: &[u8]) -> Option<texting_robots::Robot> {
    texting_robots::Robot::new("citeguard", body).ok()
}
