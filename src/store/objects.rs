//! Objects, content-addressed by SHA-256: run reports, gzipped
//! (`objects/ab/cdef….gz`); in stores written before texts were made from
//! the bodies when needed, extracted texts, gzipped too; in stores written
//! before bodies moved into the WARC files, bodies and texts as plain
//! files (`objects/ab/cdef…`). The older objects are still read.
//!
//! An object is written once: to a temporary file in the writer's
//! directory under `tmp/` (same file system), synced, then renamed into
//! place, and its directory synced. A crash leaves either no object or a
//! whole one; the temporary files of a killed run are swept on the next
//! open.
//!
//! Bytes are trusted only when they hash to the object's name: `read`
//! refuses a damaged object, and storing bytes whose object is already
//! there keeps the file only when it is sound. A damaged one (truncated,
//! overwritten) is replaced, by the same atomic rename, with the good bytes
//! that were just made, so a later run repairs what `verify` found.
//!
//! A writer that stores many objects in a batch (`Archive`) defers the
//! syncing: `put_text_later` leaves the bytes in the writer's `tmp/`
//! directory, unsynced, and `commit_pending` makes the whole batch
//! durable at once (one `syncfs` of the store's file system on Linux when
//! they are many, else one fsync per file), renames the files into place, and makes the
//! renames durable, before the batch's index rows are committed. Until
//! then a pending object is read from its temporary file.
//!
//! Reports (and, before, texts) are stored compressed (`put_text_later`):
//! `objects/ab/cdef….gz` holds the gzip of the bytes whose SHA-256 is
//! `abcdef…`; `read` and `health` look for either form and always check
//! the hash of the bytes themselves.
//!
//! The same objects can live on S3-compatible storage (`open_remote`,
//! `--objects s3://…`), under the same names: the batch's files are then
//! uploaded whole at `commit_pending` (before the batch's index rows, as
//! the local renames are), and reads fetch the object and check its hash
//! just the same. Nothing else in the store knows where objects are.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The names in each objects directory a caller has asked about
/// (`Objects::in_place_listed`).
#[derive(Default)]
pub struct Listings(
    std::collections::HashMap<PathBuf, std::collections::HashSet<std::ffi::OsString>>,
);

pub struct Objects {
    root: PathBuf,
    /// Where new objects are written before their rename; `None` for a
    /// reader, which writes nothing.
    tmp: Option<PathBuf>,
    /// Directories that gained an entry since the last `sync_dirs`.
    unsynced: std::sync::Mutex<std::collections::BTreeSet<PathBuf>>,
    /// Objects of the open batch, not yet synced nor in place: by hash,
    /// their temporary file and whether it holds the gzip of the bytes.
    pending: std::sync::Mutex<std::collections::HashMap<String, (PathBuf, bool)>>,
    /// The named blobs the objects live in when they are not files under
    /// `root` (S3).
    remote: Option<super::blobs::Blobs>,
    /// Objects known to be on S3 (uploaded, or found there): asked once.
    known: std::sync::Mutex<std::collections::HashSet<String>>,
}

/// What `verify` found of one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Sound,
    Missing,
    Corrupt,
}

impl Objects {
    /// The objects of the store at `store`; `tmp` is the writer's own
    /// temporary directory, `None` for a reader. Nothing is created: the
    /// directories of an object are made when it is stored.
    pub fn open(store: &Path, tmp: Option<PathBuf>) -> Objects {
        Objects {
            root: store.join("objects"),
            tmp,
            unsynced: Default::default(),
            pending: Default::default(),
            remote: None,
            known: Default::default(),
        }
    }

    /// The objects kept as blobs (`objects/ab/cdef…` under the blobs'
    /// prefix); `tmp` is the writer's local directory for the files of a
    /// batch before they are uploaded, `None` for a reader.
    pub fn open_remote(blobs: super::blobs::Blobs, tmp: Option<PathBuf>) -> Objects {
        let root = tmp.clone().unwrap_or_default().join("objects");
        Objects {
            remote: Some(blobs),
            ..Objects::open(&root, tmp)
        }
    }

    fn is_known(&self, sha256: &str) -> bool {
        self.known
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(sha256)
    }

    fn learn(&self, sha256: &str) {
        self.known
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(sha256.to_string());
    }

    /// The blob name of an object, plain or compressed.
    fn blob_name(sha256: &str, gz: bool) -> String {
        let mut name = Self::relative_path(sha256);
        if gz {
            name.push_str(".gz");
        }
        name
    }

    /// The bytes of an object's blob: the compressed form first (texts
    /// and reports), then the plain one; `NotFound` when neither is there.
    fn remote_bytes(blobs: &super::blobs::Blobs, sha256: &str) -> io::Result<(Vec<u8>, bool)> {
        for gz in [true, false] {
            match super::blobs::wait(blobs.get(&Self::blob_name(sha256, gz))) {
                Ok(b) => return Ok((b, gz)),
                Err(e) if e.is_not_found() => continue,
                Err(e) => return Err(io::Error::other(e)),
            }
        }
        Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("{} is gone", blobs.locate(&Self::relative_path(sha256))),
        ))
    }

    /// Uploads one file as an object's blob.
    fn upload(blobs: &super::blobs::Blobs, file: &Path, sha256: &str, gz: bool) -> io::Result<()> {
        super::blobs::wait(blobs.put_file(&Self::blob_name(sha256, gz), file))
            .map_err(io::Error::other)?;
        let _ = fs::remove_file(file);
        Ok(())
    }

    /// Where the object with this hash lives (relative to the store).
    pub fn relative_path(sha256: &str) -> String {
        let (a, b) = sha256.split_at(crate::base::text::floor_char_boundary(sha256, 2));
        format!("objects/{a}/{b}")
    }

    pub fn path(&self, sha256: &str) -> PathBuf {
        let (a, b) = sha256.split_at(crate::base::text::floor_char_boundary(sha256, 2));
        self.root.join(a).join(b)
    }

    /// Where the compressed form of the object lives.
    fn gz_path(&self, sha256: &str) -> PathBuf {
        let mut p = self.path(sha256).into_os_string();
        p.push(".gz");
        PathBuf::from(p)
    }

    pub fn exists(&self, sha256: &str) -> bool {
        if let Some(blobs) = &self.remote {
            if self.pending_file(sha256).is_some() || self.is_known(sha256) {
                return true;
            }
            let there = [true, false].into_iter().any(|gz| {
                super::blobs::wait(blobs.exists(&Self::blob_name(sha256, gz))).unwrap_or(false)
            });
            if there {
                self.learn(sha256);
            }
            return there;
        }
        self.pending_file(sha256).is_some()
            || self.path(sha256).is_file()
            || self.gz_path(sha256).is_file()
    }

    /// Whether a local object is in place, plain or compressed, as `exists`
    /// finds it, but from `listings`: each directory is listed on its first
    /// question and its names kept there. For a caller that asks about
    /// many objects no one is writing (an older store's bodies, which no
    /// run writes now), where a `stat` of each form of each would cost
    /// more. Never true on S3, nor for an object in the open batch.
    pub fn in_place_listed(&self, sha256: &str, listings: &mut Listings) -> bool {
        if self.remote.is_some() {
            return false;
        }
        let (plain, gz) = (self.path(sha256), self.gz_path(sha256));
        let (Some(dir), Some(plain), Some(gz)) =
            (plain.parent(), plain.file_name(), gz.file_name())
        else {
            return false;
        };
        let names = listings.0.entry(dir.to_path_buf()).or_insert_with(|| {
            fs::read_dir(dir)
                .map(|entries| entries.flatten().map(|e| e.file_name()).collect())
                .unwrap_or_default()
        });
        names.contains(plain) || names.contains(gz)
    }

    fn pending_file(&self, sha256: &str) -> Option<(PathBuf, bool)> {
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(sha256)
            .cloned()
    }

    /// Stores an extracted text (or a report) compressed, for a batch:
    /// `gz` goes to a temporary file, unsynced, until `commit_pending`.
    /// `sha256` is the hash of the bytes `gz` decompresses to, made by the
    /// caller (off the async runtime), as is the gzip.
    pub fn put_text_later(&self, sha256: &str, gz: &[u8]) -> io::Result<()> {
        self.put_later_as(sha256, gz, true)
    }

    /// Stores, compressed and for a batch (as `put_text_later`), the bytes
    /// `write` writes: hashed and gzipped on their way to a temporary
    /// file, never held whole in memory (a run's report of 100,000
    /// citations is a few hundred MB of JSON). Returns their SHA-256.
    pub fn put_streamed_later(
        &self,
        write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
    ) -> io::Result<String> {
        let Some(tmp) = &self.tmp else {
            return Err(read_only());
        };
        let file = tempfile::NamedTempFile::new_in(tmp)?;
        let gz =
            flate2::write::GzEncoder::new(io::BufWriter::new(file), flate2::Compression::fast());
        let mut hashing = super::warc::HashingWriter::new(gz, Sha256::new());
        write(&mut hashing)?;
        let (gz, digest) = hashing.into_parts();
        let sha = hex::encode(digest);
        let file = gz.finish()?.into_inner().map_err(|e| e.into_error())?;
        let sound = self.remote.is_none() && self.health(&sha) == Health::Sound;
        if self.pending_file(&sha).is_some() || sound {
            return Ok(sha);
        }
        let (_, path) = file.keep().map_err(|e| e.error)?;
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(sha.clone(), (path, true));
        Ok(sha)
    }

    fn put_later_as(&self, sha: &str, bytes: &[u8], gz: bool) -> io::Result<()> {
        // On S3 an object is uploaded again rather than fetched to see
        // whether it is sound: one PUT of a small text costs less than the
        // GET, and a blob is never half written, so the PUT can only
        // repair what was there.
        let sound = self.remote.is_none() && self.health(sha) == Health::Sound;
        if self.pending_file(sha).is_some() || sound {
            return Ok(());
        }
        let Some(tmp) = &self.tmp else {
            return Err(read_only());
        };
        let mut file = tempfile::NamedTempFile::new_in(tmp)?;
        file.write_all(bytes)?;
        let (_, path) = file.keep().map_err(|e| e.error)?;
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(sha.to_string(), (path, gz));
        Ok(())
    }

    /// Makes the batch's objects durable and puts them in place: their
    /// bytes synced, then each renamed to its name, then the renames
    /// synced. Whatever else the caller wrote on the same file system
    /// (the batch's WARC records) is synced by the first step too on
    /// Linux, where it is one `syncfs`.
    pub fn commit_pending(&self) -> io::Result<()> {
        let pending: Vec<(String, (PathBuf, bool))> = self
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain()
            .collect();
        if let Some(blobs) = &self.remote {
            // An S3 PUT is durable and whole once it returns; a batch's
            // objects go up sixteen at a time.
            use futures_util::{StreamExt, TryStreamExt};
            let uploads = futures_util::stream::iter(pending.iter().map(|(sha, (file, gz))| {
                let name = Self::blob_name(sha, *gz);
                async move {
                    blobs.put_file(&name, file).await?;
                    let _ = fs::remove_file(file);
                    Ok::<(), super::blobs::BlobError>(())
                }
            }))
            .buffer_unordered(16)
            .try_collect::<Vec<()>>();
            super::blobs::wait(uploads).map_err(io::Error::other)?;
            for (sha, _) in &pending {
                self.learn(sha);
            }
            return Ok(());
        }
        if pending.is_empty() {
            return self.sync_dirs();
        }
        // `syncfs` flushes the whole file system, other processes' writes
        // included: it pays only for many files. A few (a run's report)
        // are synced one by one.
        let many = pending.len() > FEW_FILES;
        let synced_all = many && sync_file_system(self.tmp.as_deref().unwrap_or(&self.root));
        if !synced_all {
            for (_, (file, _)) in &pending {
                File::open(file)?.sync_all()?;
            }
        }
        for (sha, (file, gz)) in &pending {
            let dest = if *gz {
                self.gz_path(sha)
            } else {
                self.path(sha)
            };
            self.place(file, &dest)?;
            // A damaged plain object is replaced by its compressed form.
            if *gz {
                let _ = fs::remove_file(self.path(sha));
            }
        }
        if many && sync_file_system(self.tmp.as_deref().unwrap_or(&self.root)) {
            self.unsynced
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clear();
            return Ok(());
        }
        self.sync_dirs()
    }

    /// Adopts a spooled file whose hash the fetcher already computed: it is
    /// fsynced and renamed into place, or removed when a sound object is
    /// already there. On success the object is sound: a damaged one was
    /// replaced.
    pub fn adopt(&self, file: &Path, sha256: &str) -> io::Result<()> {
        if self.health(sha256) == Health::Sound {
            let _ = fs::remove_file(file);
            return Ok(());
        }
        if let Some(blobs) = &self.remote {
            return Self::upload(blobs, file, sha256, false);
        }
        File::open(file)?.sync_all()?;
        self.place(file, &self.path(sha256))
    }

    /// Stores bytes; returns their hash. On success the object is sound: a
    /// damaged one was replaced.
    pub fn put_bytes(&self, bytes: &[u8]) -> io::Result<String> {
        let sha = hex::encode(Sha256::digest(bytes));
        if self.health(&sha) == Health::Sound {
            return Ok(sha);
        }
        let dest = self.path(&sha);
        let Some(tmp) = &self.tmp else {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "the store was opened for reading only",
            ));
        };
        if let Some(blobs) = &self.remote {
            super::blobs::wait(blobs.put(&Self::blob_name(&sha, false), bytes.to_vec()))
                .map_err(io::Error::other)?;
            return Ok(sha);
        }
        let mut tmp = tempfile::NamedTempFile::new_in(tmp)?;
        tmp.write_all(bytes)?;
        tmp.as_file().sync_all()?;
        let (_, path) = tmp.keep().map_err(|e| e.error)?;
        self.place(&path, &dest)?;
        Ok(sha)
    }

    fn place(&self, from: &Path, dest: &Path) -> io::Result<()> {
        let dir = dest.parent().expect("objects have a parent directory");
        fs::create_dir_all(dir)?;
        if let Err(e) = fs::rename(from, dest) {
            let _ = fs::remove_file(from);
            return Err(e);
        }
        // The rename is durable once the directory entry is: the
        // directories are synced together (`sync_dirs`) at the end of a run
        // rather than once per object, which halves a run's fsyncs. A
        // killed process loses nothing either way; a power cut before the
        // end of the run can lose the run's new objects, which `verify`
        // reports and the next run fetches again.
        self.unsynced
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(dir.to_path_buf());
        Ok(())
    }

    /// Makes the renames of the objects stored so far durable.
    pub fn sync_dirs(&self) -> io::Result<()> {
        if self.remote.is_some() {
            return Ok(());
        }
        let dirs = std::mem::take(&mut *self.unsynced.lock().unwrap_or_else(|p| p.into_inner()));
        for dir in dirs {
            File::open(&dir)?.sync_all()?;
        }
        Ok(())
    }

    /// The object's bytes, checked against its name: a damaged object is
    /// an `InvalidData` error, never served.
    pub fn read(&self, sha256: &str) -> io::Result<Vec<u8>> {
        sound(sha256, self.bytes_of(sha256)?)
    }

    /// A reader of a sound object that owns all it needs, to run on another
    /// thread (the blocking pool) while the store goes on: the same check
    /// as `read`. `None` where `read` must be called instead: the object
    /// is in the open batch, or on S3.
    pub fn reader(
        &self,
        sha256: &str,
    ) -> Option<impl FnOnce() -> io::Result<Vec<u8>> + Send + 'static> {
        if self.remote.is_some() || self.pending_file(sha256).is_some() {
            return None;
        }
        let (plain, gz, sha) = (self.path(sha256), self.gz_path(sha256), sha256.to_string());
        Some(move || {
            let (path, gz) = local_file(plain, gz);
            sound(&sha, file_bytes(&path, gz)?)
        })
    }

    /// The bytes an object holds (decompressed), unchecked: the pending
    /// file of the open batch, else the plain object, else the compressed
    /// one.
    fn bytes_of(&self, sha256: &str) -> io::Result<Vec<u8>> {
        let (path, gz) = match self.pending_file(sha256) {
            Some(p) => p,
            None if self.remote.is_some() => {
                let blobs = self.remote.as_ref().expect("just checked");
                let (bytes, gz) = Self::remote_bytes(blobs, sha256)?;
                if !gz {
                    return Ok(bytes);
                }
                let mut out = Vec::new();
                flate2::read::GzDecoder::new(&bytes[..])
                    .read_to_end(&mut out)
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                return Ok(out);
            }
            None => local_file(self.path(sha256), self.gz_path(sha256)),
        };
        file_bytes(&path, gz)
    }

    /// Re-hashes an object.
    pub fn health(&self, sha256: &str) -> Health {
        if self.remote.is_some() {
            return match self.bytes_of(sha256) {
                Ok(b) if hex::encode(Sha256::digest(&b)) == sha256 => Health::Sound,
                Err(e) if e.kind() == io::ErrorKind::NotFound => Health::Missing,
                // Unreachable storage is not called damage here: `read`
                // says why; `verify` is told by `list` failing first.
                _ => Health::Corrupt,
            };
        }
        let (plain, gz) = local_file(self.path(sha256), self.gz_path(sha256));
        if gz {
            return match self.bytes_of(sha256) {
                Ok(b) if hex::encode(Sha256::digest(&b)) == sha256 => Health::Sound,
                _ => Health::Corrupt,
            };
        }
        let Ok(mut f) = File::open(plain) else {
            return Health::Missing;
        };
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            match f.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => hasher.update(&buf[..n]),
                Err(_) => return Health::Corrupt,
            }
        }
        if hex::encode(hasher.finalize()) == sha256 {
            Health::Sound
        } else {
            Health::Corrupt
        }
    }

    /// Every object file on disk, by hash.
    pub fn list(&self) -> io::Result<Vec<String>> {
        let mut out = Vec::new();
        if let Some(blobs) = &self.remote {
            for (name, _) in super::blobs::wait(blobs.list("objects")).map_err(io::Error::other)? {
                let rest = name.strip_prefix("objects/").unwrap_or(&name);
                let rest = rest.strip_suffix(".gz").unwrap_or(rest);
                out.push(rest.replace('/', ""));
            }
            out.sort();
            out.dedup();
            return Ok(out);
        }
        let dirs = match fs::read_dir(&self.root) {
            Ok(dirs) => dirs,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(e),
        };
        for dir in dirs {
            let dir = dir?;
            if !dir.file_type()?.is_dir() {
                continue;
            }
            let a = dir.file_name().to_string_lossy().into_owned();
            for f in fs::read_dir(dir.path())? {
                let f = f?;
                let name = f.file_name().to_string_lossy().into_owned();
                let name = name.strip_suffix(".gz").unwrap_or(&name);
                out.push(format!("{a}{name}"));
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }
}

fn read_only() -> io::Error {
    io::Error::new(
        io::ErrorKind::PermissionDenied,
        "the store was opened for reading only",
    )
}

/// Up to this many pending objects are synced file by file rather than
/// with one `syncfs`.
const FEW_FILES: usize = 16;

/// Syncs the whole file system `path` is on (Linux's `syncfs`): one call
/// for a batch's objects and records, where fsyncing each file would cost
/// a journal commit apiece. False where there is no such call or it
/// failed; the caller then syncs file by file.
fn sync_file_system(path: &Path) -> bool {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let Ok(dir) = File::open(path) else {
            return false;
        };
        // SAFETY: `syncfs` only reads the descriptor, which `dir` keeps
        // open for the duration of the call.
        unsafe { libc::syncfs(dir.as_raw_fd()) == 0 }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = path;
        false
    }
}

/// An object's bytes when they hash to its name, else the error that
/// says it is damaged.
fn sound(sha256: &str, bytes: Vec<u8>) -> io::Result<Vec<u8>> {
    if hex::encode(Sha256::digest(&bytes)) != sha256 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{} is damaged: its bytes do not hash to its name",
                Objects::relative_path(sha256)
            ),
        ));
    }
    Ok(bytes)
}

/// The bytes of an object's file, decompressed when it is gzipped.
/// Which file of a local object to read, and whether it is compressed:
/// the plain one, unless only the compressed one is there.
fn local_file(plain: PathBuf, gz: PathBuf) -> (PathBuf, bool) {
    if !plain.is_file() && gz.is_file() {
        (gz, true)
    } else {
        (plain, false)
    }
}

fn file_bytes(path: &Path, gz: bool) -> io::Result<Vec<u8>> {
    if !gz {
        return fs::read(path);
    }
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(File::open(path)?)
        .read_to_end(&mut out)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writable(store: &Path) -> Objects {
        let tmp = store.join("tmp");
        fs::create_dir_all(&tmp).unwrap();
        Objects::open(store, Some(tmp))
    }

    #[test]
    fn a_streamed_object_is_named_by_its_bytes_and_reads_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        let objects = writable(dir.path());
        let report = "{\"citations\":[]}".repeat(10_000);
        let sha = objects
            .put_streamed_later(|out| {
                for chunk in report.as_bytes().chunks(1000) {
                    out.write_all(chunk)?;
                }
                Ok(())
            })
            .unwrap();
        assert_eq!(sha, hex::encode(Sha256::digest(report.as_bytes())));
        assert_eq!(objects.read(&sha).unwrap(), report.as_bytes(), "pending");
        objects.commit_pending().unwrap();
        assert!(objects.gz_path(&sha).is_file());
        assert_eq!(objects.read(&sha).unwrap(), report.as_bytes(), "in place");
    }

    #[test]
    fn identical_bodies_are_stored_once_and_verified() {
        let dir = tempfile::tempdir().unwrap();
        let o = writable(dir.path());
        let a = o.put_bytes(b"hello").unwrap();
        let b = o.put_bytes(b"hello").unwrap();
        assert_eq!(a, b);
        assert_eq!(o.list().unwrap(), vec![a.clone()]);
        assert_eq!(o.health(&a), Health::Sound);
        fs::write(o.path(&a), b"hellO").unwrap();
        assert_eq!(o.health(&a), Health::Corrupt);
        fs::remove_file(o.path(&a)).unwrap();
        assert_eq!(o.health(&a), Health::Missing);
    }

    #[test]
    fn an_adopted_spool_file_moves_into_place() {
        let dir = tempfile::tempdir().unwrap();
        let o = writable(dir.path());
        let spool = dir.path().join("tmp").join("x");
        fs::write(&spool, b"body").unwrap();
        let sha = hex::encode(Sha256::digest(b"body"));
        o.adopt(&spool, &sha).unwrap();
        assert!(!spool.exists());
        assert_eq!(o.read(&sha).unwrap(), b"body");
        assert_eq!(
            Objects::relative_path(&sha),
            format!("objects/{}/{}", &sha[..2], &sha[2..])
        );
    }

    #[test]
    fn a_damaged_object_is_never_read_and_is_replaced_by_good_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let o = writable(dir.path());
        let sha = o.put_bytes(b"the whole body").unwrap();
        fs::write(o.path(&sha), b"the wh").unwrap();
        let err = o.read(&sha).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("is damaged"), "{err}");

        // The same bytes fetched again, through the spool: the damaged file
        // is replaced, not kept.
        let spool = dir.path().join("tmp").join("again");
        fs::write(&spool, b"the whole body").unwrap();
        o.adopt(&spool, &sha).unwrap();
        assert_eq!(o.health(&sha), Health::Sound);
        assert_eq!(o.read(&sha).unwrap(), b"the whole body");

        // And written from memory.
        fs::write(o.path(&sha), b"tampered").unwrap();
        assert_eq!(o.put_bytes(b"the whole body").unwrap(), sha);
        assert_eq!(o.health(&sha), Health::Sound);
    }

    #[test]
    fn a_sound_object_is_kept_and_the_spool_file_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let o = writable(dir.path());
        let sha = o.put_bytes(b"body").unwrap();
        let spool = dir.path().join("tmp").join("x");
        fs::write(&spool, b"body").unwrap();
        o.adopt(&spool, &sha).unwrap();
        assert!(!spool.exists());
        assert_eq!(o.read(&sha).unwrap(), b"body");
    }

    #[test]
    fn a_reader_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let o = Objects::open(dir.path(), None);
        let err = o.put_bytes(b"x").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::PermissionDenied);
        assert!(!dir.path().join("objects").exists());
    }
}
