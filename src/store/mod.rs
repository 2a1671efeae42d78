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
//! record and closes the killed run. A writer refuses an index that fails
//! SQLite's quick check, run unless the file is as the last writer closed
//! it (`index::closed_mark`); readers
//! open the index read-only, so a store on a read-only disk can be read.
//!
//! That is the embedded store, the default. The index can also live in
//! PostgreSQL (`--store postgres://…`), shared by many processes, with the
//! copies in another directory or on S3-compatible storage (`--objects`):
//! `Location` says where each part is (see `Location::of`).

pub mod archive;
pub mod baseline;
pub mod blobs;
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

use crate::config::{Config, S3Credentials};
use crate::error::{Error, Result};
pub use index::{Backend, Index, SnapshotRow, SourceRow};
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
    /// A fleet's worker (`citeguard worker`): writes a distributed run's
    /// copies beside its coordinator, which holds the lock, and beside the
    /// other workers. PostgreSQL only; no lock, no recovery (the run it
    /// writes to is alive, not killed).
    Share,
}

/// Where a store keeps its index and its copies.
#[derive(Debug, Clone)]
pub struct Location {
    pub index: IndexAt,
    pub objects: ObjectsAt,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexAt {
    /// `index.sqlite` in this store directory.
    Sqlite(PathBuf),
    /// A PostgreSQL database, by URL.
    Postgres(String),
}

#[derive(Debug, Clone)]
pub enum ObjectsAt {
    /// `objects/`, `warc/` and `tmp/` under this directory.
    Dir(PathBuf),
    /// The same names under `s3://bucket/prefix`.
    S3(blobs::S3Spec, Option<S3Credentials>),
}

/// Whether `--store` names a PostgreSQL database rather than a directory.
pub fn is_postgres_url(s: &str) -> bool {
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

/// A URL as messages show it: without its password.
pub fn without_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(None);
            u.to_string()
        }
        _ => url.to_string(),
    }
}

impl Location {
    /// The embedded store: the index and the copies in one directory.
    pub fn local(dir: &Path) -> Location {
        Location {
            index: IndexAt::Sqlite(dir.to_path_buf()),
            objects: ObjectsAt::Dir(dir.to_path_buf()),
        }
    }

    /// Where the config puts the store. `store` is a directory or a
    /// `postgres://` URL; `objects` a directory or an `s3://` URL, by
    /// default the store directory itself. A PostgreSQL index has no
    /// directory of its own: it is shared by processes on many machines,
    /// which must share the copies its rows name too, so `objects` is
    /// required with it (a local directory is accepted, for one machine
    /// or a shared file system).
    pub fn of(config: &Config) -> Result<Location> {
        let store = config.store.to_string_lossy();
        let index = if is_postgres_url(&store) {
            IndexAt::Postgres(store.into_owned())
        } else {
            IndexAt::Sqlite(config.store.clone())
        };
        let objects = match (config.objects.as_deref(), &index) {
            (Some(o), _) if o.starts_with("s3://") => {
                let mut spec =
                    blobs::S3Spec::parse(o).map_err(|e| Error::Usage(format!("--objects {e}")))?;
                spec.endpoint = config.s3_endpoint.clone();
                spec.region = config.s3_region.clone();
                ObjectsAt::S3(spec, config.s3_credentials.clone())
            }
            (Some(o), _) if o.contains("://") => {
                return Err(Error::Usage(format!(
                    "--objects '{o}': expected a directory or s3://bucket/prefix"
                )));
            }
            (Some(o), _) => ObjectsAt::Dir(PathBuf::from(o)),
            (None, IndexAt::Sqlite(dir)) => ObjectsAt::Dir(dir.clone()),
            (None, IndexAt::Postgres(url)) => {
                return Err(Error::Usage(format!(
                    "--store {}: an index on PostgreSQL is shared, so the copies its rows name \
                     must be too: say where they go with --objects s3://bucket/prefix (or a \
                     directory every writer reaches)",
                    without_password(url)
                )));
            }
        };
        Ok(Location { index, objects })
    }

    /// What messages call the store: its directory, or the PostgreSQL URL
    /// without its password.
    pub fn name(&self) -> PathBuf {
        match &self.index {
            IndexAt::Sqlite(dir) => dir.clone(),
            IndexAt::Postgres(url) => PathBuf::from(without_password(url)),
        }
    }
}

pub struct Store {
    /// The local directory of the store's files: the store directory, or
    /// the `--objects` directory.
    files: PathBuf,
    /// What messages call the store (`Location::name`).
    name: PathBuf,
    backend: Backend,
    pub objects: Objects,
    pub index: Index,
    /// Held for the life of a writing store (`lock.rs`); the OS releases
    /// it when the process dies, however it dies.
    lock: Option<lock::WriterLock>,
    /// With an embedded index and the copies in another directory: the
    /// lock on the index's directory (`lock` is then the copies').
    _index_lock: Option<lock::WriterLock>,
    /// The copies' blobs when they are on S3, with the local directory
    /// where WARC files are written and read (dropped after the lock).
    remote: Option<Remote>,
}

/// Copies on S3: the blobs, and this process's own local directory of
/// WARC files, those it wrote (each uploaded whole when its batch is
/// committed, `publish_warc`) and those it fetched to read.
struct Remote {
    blobs: blobs::Blobs,
    work: tempfile::TempDir,
    /// WARC files known to be on S3: asked once each, not once per
    /// snapshot.
    known: std::sync::Mutex<std::collections::HashSet<String>>,
}

/// Where a store's copies are, opened.
enum Copies<'a> {
    Dir(&'a Path),
    S3(blobs::Blobs),
}

/// The blobs of `--objects s3://…`.
fn s3_blobs(spec: &blobs::S3Spec, credentials: Option<&S3Credentials>) -> Result<blobs::Blobs> {
    blobs::Blobs::s3(spec, credentials).map_err(|e| Error::Store {
        path: PathBuf::from(spec.url()),
        cause: e.cause,
    })
}

/// A local directory of this process's own for a store whose copies are
/// on S3.
fn work_dir() -> Result<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix("citeguard-")
        .tempdir()
        .map_err(|e| Error::io(std::env::temp_dir(), e))
}

const INDEX_FILE: &str = "index.sqlite";

impl Store {
    /// Opens the embedded store in `root`: the index and the copies there.
    pub async fn open(root: &Path, access: Access) -> Result<Store> {
        Self::open_at(&Location::local(root), access).await
    }

    /// Opens the store wherever the config puts it (`Location::of`).
    pub async fn open_config(config: &Config, access: Access) -> Result<Store> {
        Self::open_at(&Location::of(config)?, access).await
    }

    pub async fn open_at(location: &Location, access: Access) -> Result<Store> {
        match (&location.index, &location.objects) {
            (IndexAt::Sqlite(dir), ObjectsAt::Dir(objects)) => {
                Self::open_embedded(dir, access, Copies::Dir(objects)).await
            }
            (IndexAt::Sqlite(dir), ObjectsAt::S3(spec, creds)) => {
                let blobs = s3_blobs(spec, creds.as_ref())?;
                Self::open_embedded(dir, access, Copies::S3(blobs)).await
            }
            (IndexAt::Postgres(url), ObjectsAt::Dir(objects)) => {
                Self::open_postgres(url, Copies::Dir(objects), location.name(), access).await
            }
            (IndexAt::Postgres(url), ObjectsAt::S3(spec, creds)) => {
                let blobs = s3_blobs(spec, creds.as_ref())?;
                Self::open_postgres(url, Copies::S3(blobs), location.name(), access).await
            }
        }
    }

    /// The index in `root`; the copies there too, in another directory,
    /// or on S3. The writer's lock is on `root`, the index's directory.
    async fn open_embedded(root: &Path, access: Access, copies: Copies<'_>) -> Result<Store> {
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
        if access == Access::Share {
            return Err(err(
                "a distributed run writes to a store on PostgreSQL (--store postgres://…), \
                 which many workers can write at once"
                    .into(),
            ));
        }
        match access {
            Access::Read | Access::Tend if !index_path.is_file() => {
                return Err(err(if root.is_dir() {
                    "no citeguard index here (run `citeguard check` with this --store first)".into()
                } else {
                    "no such store (run `citeguard check` with this --store first)".into()
                }));
            }
            Access::Read | Access::Tend | Access::Share => {}
            Access::Write => std::fs::create_dir_all(root)
                .map_err(|e| err(format!("cannot create the store directory: {e}")))?,
        }
        let mut lock = match access {
            Access::Read | Access::Share => None,
            Access::Write | Access::Tend => Some(lock::WriterLock::take(root)?),
        };
        // Copies in another directory: the writer's own files go there,
        // on the copies' file system, so that keeping one is a rename.
        let mut index_lock = None;
        if let Copies::Dir(dir) = copies
            && dir != root
            && lock.is_some()
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| err(format!("cannot create {}: {e}", dir.display())))?;
            index_lock = lock.replace(lock::WriterLock::take_shared(dir)?);
        }
        let tmp = lock.as_ref().map(|l| l.tmp().to_path_buf());
        let (objects, files, remote) = match copies {
            Copies::Dir(dir) => (Objects::open(dir, tmp), dir.to_path_buf(), None),
            Copies::S3(blobs) => {
                let work = work_dir()?;
                (
                    Objects::open_remote(blobs.clone(), tmp),
                    work.path().to_path_buf(),
                    Some(Remote {
                        blobs,
                        work,
                        known: Default::default(),
                    }),
                )
            }
        };
        let index = Index::open(&index_path, access)
            .await
            .map_err(|e| err(e.to_string()))?;
        let store = Store {
            files,
            name: root.to_path_buf(),
            backend: Backend::Sqlite,
            objects,
            index,
            lock,
            _index_lock: index_lock,
            remote,
        };
        if access == Access::Write {
            store.recover().await?;
        }
        Ok(store)
    }

    /// The index on PostgreSQL, the copies in a local directory. One
    /// writer at a time, as on the embedded store, but the lock is the
    /// index's (an advisory lock on the writer's session, `index::PG_LOCK`),
    /// not a flock on the directory: the writers may be on different
    /// machines. Each still has its own locked directory under `tmp/`, and
    /// recovery sweeps only those whose lock is free.
    async fn open_postgres(
        url: &str,
        copies: Copies<'_>,
        name: PathBuf,
        access: Access,
    ) -> Result<Store> {
        let err = |cause: String| Error::Store {
            path: name.clone(),
            cause,
        };
        let (dir, remote) = match copies {
            Copies::Dir(dir) => {
                if dir.exists() && !dir.is_dir() {
                    return Err(err(format!("--objects {}: not a directory", dir.display())));
                }
                (dir.to_path_buf(), None)
            }
            Copies::S3(blobs) => {
                let work = work_dir()?;
                (
                    work.path().to_path_buf(),
                    Some(Remote {
                        blobs,
                        work,
                        known: Default::default(),
                    }),
                )
            }
        };
        let index = Index::open_postgres(url, access)
            .await
            .map_err(|e| err(format!("PostgreSQL: {e}")))?;
        // A worker (`Share`) has its own directory under `tmp/` too.
        let lock = match access {
            Access::Read => None,
            Access::Write | Access::Tend | Access::Share => {
                std::fs::create_dir_all(&dir)
                    .map_err(|e| err(format!("cannot create {}: {e}", dir.display())))?;
                Some(lock::WriterLock::take_shared(&dir)?)
            }
        };
        let tmp = lock.as_ref().map(|l| l.tmp().to_path_buf());
        let objects = match &remote {
            None => Objects::open(&dir, tmp),
            Some(r) => Objects::open_remote(r.blobs.clone(), tmp),
        };
        let store = Store {
            files: dir,
            name,
            backend: Backend::Postgres,
            objects,
            index,
            lock,
            _index_lock: None,
            remote,
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

    /// What reports and hints call the store: its directory, or the
    /// PostgreSQL URL without its password.
    pub fn root(&self) -> &Path {
        &self.name
    }

    /// Where WARC files are written, and read from when the copies are
    /// local (with copies on S3: this process's own directory of them).
    pub fn warc_dir(&self) -> PathBuf {
        self.files.join("warc")
    }

    /// Whether the copies (and the WARC files) are on S3.
    pub fn copies_on_s3(&self) -> bool {
        self.remote.is_some()
    }

    /// Where the copies are, as messages name them: a directory or
    /// `s3://bucket/prefix`.
    pub fn copies(&self) -> String {
        match &self.remote {
            Some(r) => r.blobs.describe().to_string(),
            None => self.files.display().to_string(),
        }
    }

    /// The local path of the WARC file `name`, to read it. With copies on
    /// S3 it is fetched into this process's directory the first time (a
    /// file this process wrote is there already); when it cannot be
    /// fetched the path names no file, which readers report as gone.
    pub fn warc_file(&self, name: &str) -> PathBuf {
        let path = self.warc_dir().join(name);
        let Some(r) = &self.remote else {
            return path;
        };
        if path.is_file() || name.contains('/') || name.starts_with('.') {
            return path;
        }
        if let Ok(bytes) = blobs::wait(r.blobs.get(&format!("warc/{name}"))) {
            let written = std::fs::create_dir_all(self.warc_dir()).and_then(|_| {
                let mut f = tempfile::NamedTempFile::new_in(r.work.path())?;
                std::io::Write::write_all(&mut f, &bytes)?;
                f.persist(&path).map_err(|e| e.error)
            });
            if written.is_err() {
                let _ = std::fs::remove_file(&path);
            }
        }
        path
    }

    /// Where to read one record of the WARC file `name`: the file and the
    /// record's offset in it. With copies on S3 and the record's length
    /// known, only that record's bytes are fetched (a ranged GET), into a
    /// file of their own where the record starts at 0; otherwise this is
    /// `warc_file`. A record that cannot be fetched gives a path that
    /// names no file, which readers report as gone.
    pub fn warc_record(&self, name: &str, offset: u64, length: Option<u64>) -> (PathBuf, u64) {
        let whole = self.warc_dir().join(name);
        let (Some(r), Some(length)) = (&self.remote, length) else {
            return (self.warc_file(name), offset);
        };
        if whole.is_file() || name.contains('/') || name.starts_with('.') {
            return (whole, offset);
        }
        let part = r
            .work
            .path()
            .join("records")
            .join(format!("{name}@{offset}"));
        if part.is_file() {
            return (part, 0);
        }
        let range = offset..offset.saturating_add(length);
        if let Ok(bytes) = blobs::wait(r.blobs.get_range(&format!("warc/{name}"), range)) {
            let written = std::fs::create_dir_all(r.work.path().join("records")).and_then(|_| {
                let mut f = tempfile::NamedTempFile::new_in(r.work.path())?;
                std::io::Write::write_all(&mut f, &bytes)?;
                f.persist(&part).map_err(|e| e.error)
            });
            if written.is_err() {
                let _ = std::fs::remove_file(&part);
            }
        }
        (part, 0)
    }

    /// Whether the WARC file `name` is there, without reading it.
    pub fn warc_exists(&self, name: &str) -> bool {
        match &self.remote {
            None => self.warc_dir().join(name).is_file(),
            Some(r) => {
                let known = |r: &Remote| {
                    r.known
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .contains(name)
                };
                if self.warc_dir().join(name).is_file() || known(r) {
                    return true;
                }
                let there = blobs::wait(r.blobs.exists(&format!("warc/{name}"))).unwrap_or(false);
                if there {
                    r.known
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(name.to_string());
                }
                there
            }
        }
    }

    /// Every WARC file of the store, as local paths to read, sorted by
    /// name (with copies on S3, each fetched as `warc_file` does). Files
    /// that are not WARC files are the caller's to skip.
    pub fn warc_files(&self) -> Result<Vec<PathBuf>> {
        let mut out: Vec<PathBuf> = match &self.remote {
            None => match std::fs::read_dir(self.warc_dir()) {
                Ok(entries) => entries.flatten().map(|e| e.path()).collect(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
                Err(e) => return Err(Error::io(self.warc_dir(), e)),
            },
            Some(r) => blobs::wait(r.blobs.list("warc"))
                .map_err(|e| self.err(e))?
                .into_iter()
                .filter_map(|(name, _)| {
                    let name = name.strip_prefix("warc/")?.to_string();
                    (!name.contains('/')).then(|| self.warc_file(&name))
                })
                .collect(),
        };
        out.sort();
        Ok(out)
    }

    /// Uploads a WARC file this writer has finished (synced, no more
    /// records to come) to S3, whole, before any index row names its
    /// records. Nothing to do when the copies are local.
    pub async fn publish_warc(&self, path: &Path) -> Result<()> {
        let Some(r) = &self.remote else {
            return Ok(());
        };
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            return Err(self.err(format!("{}: not a WARC file name", path.display())));
        };
        r.blobs
            .put_file(&format!("warc/{name}"), path)
            .await
            .map_err(|e| self.err(e))?;
        r.known
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name.to_string());
        Ok(())
    }

    /// What messages call the store: its directory, or the PostgreSQL URL
    /// (without password).
    pub fn name(&self) -> &Path {
        &self.name
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn err(&self, cause: impl std::fmt::Display) -> Error {
        Error::Store {
            path: self.name.clone(),
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
        // Bodies were objects only in stores written before they moved
        // into the WARC files, which were never on S3.
        if !self.copies_on_s3() && self.objects.exists(sha) {
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
        let (path, at) = self.warc_record(file, offset, snap.warc_length);
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
        let record = warc::read_record(&path, at).map_err(|e| damaged(e.to_string()))?;
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
        (!self.copies_on_s3() && self.objects.exists(&snap.body_sha256))
            || snap.warc_file.as_ref().is_some_and(|f| self.warc_exists(f))
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
                self.name.display()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn config(store: &str, objects: Option<&str>) -> Config {
        Config {
            store: store.into(),
            objects: objects.map(String::from),
            s3_endpoint: Some("http://127.0.0.1:54330".into()),
            ..Config::default()
        }
    }

    #[test]
    fn the_store_is_where_the_config_says() {
        let l = Location::of(&config("snapshots", None)).unwrap();
        assert_eq!(l.index, IndexAt::Sqlite("snapshots".into()));
        assert!(matches!(l.objects, ObjectsAt::Dir(ref d) if d == Path::new("snapshots")));

        let l = Location::of(&config(
            "postgres://u:secret@db:5432/cg",
            Some("s3://b-1/p"),
        ))
        .unwrap();
        assert_eq!(
            l.index,
            IndexAt::Postgres("postgres://u:secret@db:5432/cg".into())
        );
        let ObjectsAt::S3(spec, _) = &l.objects else {
            panic!("{l:?}")
        };
        assert_eq!(spec.url(), "s3://b-1/p");
        assert_eq!(spec.endpoint.as_deref(), Some("http://127.0.0.1:54330"));
        assert_eq!(l.name(), Path::new("postgres://u@db:5432/cg"));

        let l = Location::of(&config("postgresql://db/cg", Some("/srv/copies"))).unwrap();
        assert!(matches!(l.objects, ObjectsAt::Dir(ref d) if d == Path::new("/srv/copies")));
    }

    #[test]
    fn a_shared_index_without_shared_copies_is_one_clear_line() {
        let e = Location::of(&config("postgres://u:secret@db/cg", None))
            .unwrap_err()
            .to_string();
        assert!(e.contains("--objects") && !e.contains("secret"), "{e}");
        assert!(!e.contains('\n'), "{e}");
        let e = Location::of(&config("snapshots", Some("gs://b/p")))
            .unwrap_err()
            .to_string();
        assert!(e.contains("gs://b/p"), "{e}");
    }
}
