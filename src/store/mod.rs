//! The store: offline copies of every cited source, their WARC records,
//! and the index of runs, checks, snapshots and baselines.
//!
//! ```text
//! snapshots/
//!   index.sqlite      the index (WAL)
//!   objects/ab/cdef…  bodies and extracted texts, by SHA-256
//!   warc/<run>.warc.gz  every exchange of a run, one gzip member per record
//!   tmp/writer-…/     each writer's spool files and objects being written
//! ```
//!
//! The one writer holds a lock on the store directory itself (`lock.rs`).
//! Writes go object first, then WARC record, then index row: an index row
//! never names an object that is not whole on disk. A run killed at any
//! point leaves orphans at worst (a spool file, an object no row names, a
//! half WARC record at a file's end); the next writer sweeps the dead
//! writer's `tmp/` directory, trims the half record and closes the killed
//! run. A writer refuses an index that fails SQLite's quick check; readers
//! open the index read-only, so a store on a read-only disk can be read.

pub mod archive;
pub mod baseline;
pub mod diff;
pub mod export;
pub mod hook;
pub mod index;
mod judge;
pub mod lock;
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
    /// Held for the life of a writing store (`lock.rs`); the OS releases
    /// it when the process dies, however it dies.
    lock: Option<lock::WriterLock>,
}

const INDEX_FILE: &str = "index.sqlite";

impl Store {
    pub async fn open(root: &Path, access: Access) -> Result<Store> {
        let err = |cause: String| Error::Store {
            path: root.to_path_buf(),
            cause,
        };
        if root.exists() && !root.is_dir() {
            return Err(err(
                "not a directory (--store names the directory where citeguard keeps its copies)"
                    .into(),
            ));
        }
        let index_path = root.join(INDEX_FILE);
        match access {
            Access::Read | Access::Tend if !index_path.is_file() => {
                return Err(err(if root.is_dir() {
                    "no citeguard index here (run `citeguard check` with this --store first)".into()
                } else {
                    "no such store (run `citeguard check` with this --store first)".into()
                }));
            }
            Access::Read | Access::Tend => {}
            Access::Write => std::fs::create_dir_all(root)
                .map_err(|e| err(format!("cannot create the store directory: {e}")))?,
        }
        let lock = match access {
            Access::Read => None,
            Access::Write | Access::Tend => Some(lock::WriterLock::take(root)?),
        };
        let objects = Objects::open(root, lock.as_ref().map(|l| l.tmp().to_path_buf()));
        let index = Index::open(&index_path, access)
            .await
            .map_err(|e| err(e.to_string()))?;
        let store = Store {
            root: root.to_path_buf(),
            objects,
            index,
            lock,
        };
        if access == Access::Write {
            store.recover().await?;
        }
        Ok(store)
    }

    /// Where this writer's downloads are spooled: its own directory under
    /// `tmp/`, on the objects' file system so that keeping a body is a
    /// rename. `None` for a reader.
    pub fn spool_dir(&self) -> Option<&Path> {
        self.lock.as_ref().map(|l| l.tmp())
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

    /// Cleans up after a killed run: the temporary files of dead writers
    /// swept, the half record at the end of its WARC file trimmed, the run
    /// closed. A killed run is known dead: its writer held the store's
    /// lock, which this one now holds.
    async fn recover(&self) -> Result<()> {
        if let Some(lock) = &self.lock {
            lock.sweep_dead();
        }
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

    /// One object of a snapshot (its body or its text), whole and sound,
    /// or an error saying that the copy is gone or damaged: what `show`
    /// and `diff` give instead of broken bytes.
    pub fn read_copy(&self, url: &str, snap: &SnapshotRow, sha: &str) -> Result<Vec<u8>> {
        self.objects.read(sha).map_err(|e| {
            let what = if e.kind() == std::io::ErrorKind::InvalidData {
                "is damaged"
            } else {
                "is gone"
            };
            self.err(format!(
                "{url}: the copy of {} {what} ({e}). `citeguard verify` lists what is lost \
                 or damaged; a later check that fetches the same page again repairs it",
                snap.fetched_at
            ))
        })
    }

    /// The main text stored for a snapshot.
    pub fn text_of(&self, snap: &SnapshotRow) -> Option<String> {
        let sha = snap.text_sha256.as_deref()?;
        String::from_utf8(self.objects.read(sha).ok()?).ok()
    }

    /// Finds a source by URL as the user typed it: exactly, or after the
    /// same normalisation the collector applies, or as the reports show it
    /// (a URL cited with credentials is shown, and so typed, without them).
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
        if let Some(s) = self.find_without_userinfo(url, normal.as_deref()).await? {
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

    /// The one source whose URL, without its user-info, is `url` (or its
    /// normal form).
    async fn find_without_userinfo(
        &self,
        url: &str,
        normal: Option<&str>,
    ) -> Result<Option<SourceRow>> {
        use crate::base::web::without_userinfo;
        let e = |e| self.err(e);
        let candidates = self.index.source_urls_with_at().await.map_err(e)?;
        let matching: Vec<&String> = candidates
            .iter()
            .filter(|c| {
                let plain = without_userinfo(c);
                plain != c.as_str() && (plain == url || Some(&*plain) == normal)
            })
            .collect();
        match matching.as_slice() {
            [] => Ok(None),
            [one] => self.index.find_source(one).await.map_err(e),
            _ => Err(Error::Usage(format!(
                "{url}: {} sources were cited at this address with different credentials; \
                 name the one you mean with its credentials",
                matching.len()
            ))),
        }
    }
}
