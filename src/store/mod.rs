//! The store: offline copies of every cited source, their WARC records,
//! and the index of runs, checks, snapshots and baselines.
//!
//! ```text
//! snapshots/
//!   index.sqlite        the index (WAL)
//!   warc/<run>.warc.gz  every exchange of a run, one gzip member per
//!                       record: the bodies themselves live here
//!   objects/ab/cdef….gz extracted texts and run reports, gzipped, by the
//!                       SHA-256 of their bytes (stores written before
//!                       also hold bodies as plain `objects/ab/cdef…`)
//!   tmp/writer-…/       each writer's spool files and objects being written
//! ```
//!
//! Each byte is stored once: a body is the payload of its response record
//! in the WARC file of the run that first fetched it, read back from its
//! gzip member (`read_body`); a later identical body is a revisit record
//! naming that capture. Nothing else holds it.
//!
//! The one writer holds a lock on the store directory itself (`lock.rs`).
//! Writes are durable per batch of sources (`archive.rs`): the batch's
//! WARC records and objects are written, then synced, then its index rows
//! committed in one transaction, so an index row never names a record or
//! object that is not whole on disk. A run killed at any point (or a power
//! cut) loses at most its open batch and leaves orphans at worst (a spool
//! file, records no row names, a half WARC record at a file's end); the
//! next writer sweeps the dead writer's `tmp/` directory, trims the half
//! record and closes the killed run. A writer refuses an index that fails SQLite's quick check; readers
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

    /// One copy of a snapshot (its body or its text), whole and sound,
    /// or an error saying that the copy is gone or damaged: what `show`
    /// and `diff` give instead of broken bytes.
    pub async fn read_copy(&self, url: &str, snap: &SnapshotRow, sha: &str) -> Result<Vec<u8>> {
        let read = if sha == snap.body_sha256 {
            self.read_body(snap).await
        } else {
            self.objects.read(sha)
        };
        read.map_err(|e| {
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

    /// A snapshot's body, checked against its SHA-256: from a body object
    /// when the store has one (a store written before bodies moved into the
    /// WARC files), else the payload of the snapshot's response record,
    /// else that of any other snapshot's record of the same bytes (a
    /// revisit's snapshot, or a body fetched again after its first record
    /// was damaged). A damaged copy is never returned; when no sound copy
    /// is left the error is `InvalidData` if one was found damaged, else
    /// `NotFound`.
    pub async fn read_body(&self, snap: &SnapshotRow) -> std::io::Result<Vec<u8>> {
        let sha = &snap.body_sha256;
        let mut damaged = None;
        let mut keep = |e: std::io::Error| {
            if e.kind() == std::io::ErrorKind::InvalidData && damaged.is_none() {
                damaged = Some(e);
            }
        };
        if self.objects.exists(sha) {
            match self.objects.read(sha) {
                Ok(b) => return Ok(b),
                Err(e) => keep(e),
            }
        }
        match self.record_body(snap) {
            Ok(b) => return Ok(b),
            Err(e) => keep(e),
        }
        let others = self
            .index
            .snapshots_with_body(sha)
            .await
            .map_err(std::io::Error::other)?;
        for other in others.iter().filter(|o| o.id != snap.id) {
            match self.record_body(other) {
                Ok(b) => return Ok(b),
                Err(e) => keep(e),
            }
        }
        Err(damaged.unwrap_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("no copy of body {sha} is left in the store"),
            )
        }))
    }

    /// The payload of a snapshot's own record, when that record is a
    /// response holding exactly the snapshot's body. A record that cannot
    /// be read whole, or whose payload does not hash to the body's
    /// SHA-256, is `InvalidData`; no record, or a revisit, `NotFound`.
    pub fn record_body(&self, snap: &SnapshotRow) -> std::io::Result<Vec<u8>> {
        use sha2::{Digest, Sha256};
        use std::io::{Error, ErrorKind};
        let (Some(file), Some(offset)) = (&snap.warc_file, snap.warc_offset) else {
            return Err(Error::new(ErrorKind::NotFound, "no WARC record"));
        };
        let path = self.warc_dir().join(file);
        if !path.is_file() {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("warc/{file} is gone"),
            ));
        }
        let damaged = |why: String| {
            Error::new(
                ErrorKind::InvalidData,
                format!("warc/{file} at {offset} is damaged: {why}"),
            )
        };
        let record = warc::read_record(&path, offset).map_err(|e| damaged(e.to_string()))?;
        if record.header("WARC-Type") != Some("response") {
            return Err(Error::new(ErrorKind::NotFound, "a revisit record"));
        }
        let (_, _, body) = warc::http_payload(&record.block).map_err(|e| damaged(e.to_string()))?;
        if hex::encode(Sha256::digest(body)) != snap.body_sha256 {
            return Err(damaged(
                "its payload does not hash to the body's SHA-256".into(),
            ));
        }
        Ok(body.to_vec())
    }

    /// Whether a snapshot's body has a copy on disk, as far as can be told
    /// without reading it (`verify` reads and marks damage): its object,
    /// or its WARC file.
    pub fn body_present(&self, snap: &SnapshotRow) -> bool {
        self.objects.exists(&snap.body_sha256)
            || snap
                .warc_file
                .as_ref()
                .is_some_and(|f| self.warc_dir().join(f).is_file())
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
