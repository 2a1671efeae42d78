//! Bodies, content-addressed by SHA-256: `objects/ab/cdef…`.
//!
//! An object is written once: to a temporary file in the writer's
//! directory under `tmp/` (same file system), fsynced, then renamed into
//! place, and its directory fsynced. A crash leaves either no object or a
//! whole one; the temporary files of a killed run are swept on the next
//! open.
//!
//! Bytes are trusted only when they hash to the object's name: `read`
//! refuses a damaged object, and storing bytes whose object is already
//! there keeps the file only when it is sound. A damaged one (truncated,
//! overwritten) is replaced, by the same atomic rename, with the good bytes
//! that were just fetched, so a later run repairs what `verify` found.
//!
//! This is the one place that knows objects are files, so that bodies can
//! later live in S3-compatible storage behind the same four calls.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

pub struct Objects {
    root: PathBuf,
    /// Where new objects are written before their rename; `None` for a
    /// reader, which writes nothing.
    tmp: Option<PathBuf>,
    /// Directories that gained an entry since the last `sync_dirs`.
    unsynced: std::sync::Mutex<std::collections::BTreeSet<PathBuf>>,
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
        }
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

    pub fn exists(&self, sha256: &str) -> bool {
        self.path(sha256).is_file()
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
        let dirs = std::mem::take(&mut *self.unsynced.lock().unwrap_or_else(|p| p.into_inner()));
        for dir in dirs {
            File::open(&dir)?.sync_all()?;
        }
        Ok(())
    }

    /// The object's bytes, checked against its name: a damaged object is
    /// an `InvalidData` error, never served.
    pub fn read(&self, sha256: &str) -> io::Result<Vec<u8>> {
        let bytes = fs::read(self.path(sha256))?;
        if hex::encode(Sha256::digest(&bytes)) != sha256 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} is damaged: its bytes do not hash to its name",
                    Self::relative_path(sha256)
                ),
            ));
        }
        Ok(bytes)
    }

    /// Re-hashes an object.
    pub fn health(&self, sha256: &str) -> Health {
        let Ok(mut f) = File::open(self.path(sha256)) else {
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
                out.push(format!("{a}{}", f.file_name().to_string_lossy()));
            }
        }
        out.sort();
        Ok(out)
    }
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
