//! The store: offline copies of every cited source, their WARC records,
//! and the index of runs, checks, snapshots and baselines.
//!
//! ```text
//! snapshots/
//!   lock              held by the one run that writes
//!   index.sqlite      the index (WAL)
//!   objects/ab/cdef…  bodies and extracted texts, by SHA-256
//!   warc/<run>.warc.gz  every exchange of a run, one gzip member per record
//!   tmp/              spool files and objects being written
//! ```
//!
//! Writes go object first, then WARC record, then index row: an index row
//! never names an object that is not whole on disk. A run killed at any
//! point leaves orphans at worst (a spool file, an object no row names, a
//! half WARC record at a file's end); the next writer sweeps `tmp/`, trims
//! the half record and closes the killed run.

pub mod archive;
pub mod baseline;
pub mod diff;
pub mod export;
pub mod hook;
pub mod index;
mod judge;
pub mod objects;
pub mod offline;
pub mod pages;
pub mod report;
pub mod show;
#[cfg(test)]
mod testing;
pub mod verify;
pub mod wacz;
pub mod warc;
pub mod whole_file;

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
pub use index::{Index, SnapshotRow, SourceRow};
pub use objects::{Health, Objects};

/// Whether a command writes to the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// `check`, `accept`: takes the lock, creates the store if needed.
    Write,
    /// `report`, `show`, `diff`, `export`: the store must exist.
    Read,
    /// `verify`: the store must exist, and the lock is taken (it records
    /// what it finds damaged).
    Tend,
}

pub struct Store {
    root: PathBuf,
    pub objects: Objects,
    pub index: Index,
    /// Held for the life of a writing store; the OS releases it when the
    /// process dies, however it dies.
    _lock: Option<File>,
}

const INDEX_FILE: &str = "index.sqlite";

impl Store {
    pub async fn open(root: &Path, access: Access) -> Result<Store> {
        let err = |cause: String| Error::Store {
            path: root.to_path_buf(),
            cause,
        };
        let index_path = root.join(INDEX_FILE);
        let lock = match access {
            Access::Read | Access::Tend => {
                if !index_path.is_file() {
                    return Err(err(if root.is_dir() {
                        "no citeguard index here (run `citeguard check` with this --store first)"
                            .into()
                    } else {
                        "no such store (run `citeguard check` with this --store first)".into()
                    }));
                }
                (access == Access::Tend)
                    .then(|| take_lock(root))
                    .transpose()?
            }
            Access::Write => {
                std::fs::create_dir_all(root).map_err(|e| err(e.to_string()))?;
                Some(take_lock(root)?)
            }
        };
        let objects = Objects::open(root).map_err(|e| err(e.to_string()))?;
        let index = Index::open(&index_path, access == Access::Write)
            .await
            .map_err(|e| err(e.to_string()))?;
        let store = Store {
            root: root.to_path_buf(),
            objects,
            index,
            _lock: lock,
        };
        if access == Access::Write {
            store.recover().await?;
        }
        Ok(store)
    }

    /// Closes the index cleanly (WAL checkpointed); the lock goes with it.
    pub async fn close(self) {
        self.index.close().await;
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn warc_dir(&self) -> PathBuf {
        self.root.join("warc")
    }

    pub fn err(&self, cause: impl std::fmt::Display) -> Error {
        Error::Store {
            path: self.root.clone(),
            cause: cause.to_string(),
        }
    }

    /// Cleans up after a killed run: spool and temporary files swept, the
    /// half record at the end of its WARC file trimmed, the run closed.
    async fn recover(&self) -> Result<()> {
        self.objects.sweep_tmp();
        let killed = self
            .index
            .unfinished_runs()
            .await
            .map_err(|e| self.err(e))?;
        for id in killed {
            let path = self.warc_dir().join(format!("{id}.warc.gz"));
            if path.is_file() {
                warc::WarcWriter::create(&path)
                    .and_then(|mut w| w.sync())
                    .map_err(|e| self.err(format!("{}: {e}", path.display())))?;
            }
            let now = crate::base::time::rfc3339(chrono::Utc::now());
            self.index
                .close_unfinished(&id, &now)
                .await
                .map_err(|e| self.err(e))?;
        }
        Ok(())
    }

    /// The main text stored for a snapshot.
    pub fn text_of(&self, snap: &SnapshotRow) -> Option<String> {
        let sha = snap.text_sha256.as_deref()?;
        String::from_utf8(self.objects.read(sha).ok()?).ok()
    }

    /// Finds a source by URL as the user typed it: exactly, or after the
    /// same normalisation the collector applies.
    pub async fn find_source(&self, url: &str) -> Result<SourceRow> {
        if let Some(s) = self.index.find_source(url).await.map_err(|e| self.err(e))? {
            return Ok(s);
        }
        let normal = crate::collect::url::source_key(url, &Default::default());
        if let Some(n) = normal.as_deref()
            && let Some(s) = self.index.find_source(n).await.map_err(|e| self.err(e))?
        {
            return Ok(s);
        }
        Err(Error::not_found(
            url,
            format!(
                "not in the store {} (no check has fetched it)",
                self.root.display()
            ),
        ))
    }
}

fn take_lock(root: &Path) -> Result<File> {
    use std::io::{Read, Seek, Write};
    let path = root.join("lock");
    let mut f = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| Error::io(&path, e))?;
    match f.try_lock() {
        Ok(()) => {
            let _ = f.set_len(0);
            let _ = f.rewind();
            let _ = write!(f, "{}", std::process::id());
            Ok(f)
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut pid = String::new();
            let _ = f.read_to_string(&mut pid);
            let by = match pid.trim() {
                "" => String::new(),
                p => format!(" (pid {p})"),
            };
            Err(Error::Store {
                path: root.to_path_buf(),
                cause: format!(
                    "another citeguard run is writing to this store{by}; try again when it ends"
                ),
            })
        }
        Err(std::fs::TryLockError::Error(e)) => Err(Error::io(&path, e)),
    }
}
