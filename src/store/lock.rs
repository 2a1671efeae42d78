//! The one-writer rule, and the temporary files of each writer.
//!
//! A writer (`check`, `accept`, `verify`) holds an exclusive OS lock
//! (`flock`) on the store directory itself for as long as it runs. No file
//! a person might tidy away holds the lock, so deleting something in the
//! store never lets a second writer in; the OS drops the lock when the
//! process dies, however it dies.
//!
//! Each writer also gets a directory of its own, `tmp/writer-<pid>-<n>/`,
//! locked the same way, where its downloads are spooled and objects are
//! written before they are renamed into place. It is removed when the
//! writer ends. Recovery removes a `tmp/` entry only when its lock is free:
//! what it sweeps belonged to a writer that is dead, never to a live one.
//!
//! Older builds locked a file `lock` in the store, with a pid in it. It is
//! still honoured (a store that an older build is writing to is refused)
//! and, once free, removed.

use std::fs::{self, File, TryLockError};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Held by a writing store: the store directory's lock and the writer's own
/// temporary directory. Dropping it removes the directory and releases both
/// locks.
pub struct WriterLock {
    _store: File,
    tmp: PathBuf,
    _tmp_lock: File,
}

/// The file older builds locked.
const LEGACY_LOCK: &str = "lock";
const TMP: &str = "tmp";
const PREFIX: &str = "writer-";

impl WriterLock {
    /// Takes the store's lock, or says who holds it; then makes this
    /// writer's temporary directory.
    pub fn take(root: &Path) -> Result<WriterLock> {
        let store = File::open(root).map_err(|e| Error::io(root, e))?;
        match store.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Err(busy(root, &writers(root))),
            Err(TryLockError::Error(e)) => return Err(Error::io(root, e)),
        }
        legacy_lock(root)?;
        WriterLock::with_own_tmp(root, store)
    }

    /// A writer's own temporary directory in `root`, without the store's
    /// lock: for a directory of copies that several writers share, whose
    /// index (on PostgreSQL) orders them itself. Recovery still removes
    /// only the directories whose lock is free.
    pub fn take_shared(root: &Path) -> Result<WriterLock> {
        let store = File::open(root).map_err(|e| Error::io(root, e))?;
        WriterLock::with_own_tmp(root, store)
    }

    /// The lock on `root` (held or not) with a temporary directory of
    /// this writer's own under it.
    fn with_own_tmp(root: &Path, store: File) -> Result<WriterLock> {
        let dir = root.join(TMP);
        fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let (tmp, tmp_lock) = own_tmp(&dir).map_err(|e| Error::io(&dir, e))?;
        Ok(WriterLock {
            _store: store,
            tmp,
            _tmp_lock: tmp_lock,
        })
    }

    /// This writer's temporary directory: spool files and objects being
    /// written.
    pub fn tmp(&self) -> &Path {
        &self.tmp
    }

    /// Removes what writers that are dead left in `tmp/`: their
    /// directories (whose locks are free) and loose files of older builds.
    /// A directory whose lock is held belongs to a live writer and is left
    /// alone.
    pub fn sweep_dead(&self) {
        let Some(dir) = self.tmp.parent() else {
            return;
        };
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let path = e.path();
            if path == self.tmp {
                continue;
            }
            if !e.file_type().is_ok_and(|t| t.is_dir()) {
                let _ = fs::remove_file(&path);
                continue;
            }
            let Ok(f) = File::open(&path) else {
                continue;
            };
            if f.try_lock().is_ok() {
                let _ = fs::remove_dir_all(&path);
            }
        }
    }
}

impl Drop for WriterLock {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.tmp);
    }
}

/// A fresh `tmp/writer-<pid>-<n>/`, locked. The pid in the name is what a
/// refused writer is told; the lock, not the name, says whether it is live.
fn own_tmp(dir: &Path) -> io::Result<(PathBuf, File)> {
    let pid = std::process::id();
    for n in 0u32.. {
        let path = dir.join(format!("{PREFIX}{pid}-{n}"));
        match fs::create_dir(&path) {
            Ok(()) => {
                let f = File::open(&path)?;
                f.try_lock().map_err(|e| match e {
                    TryLockError::Error(e) => e,
                    TryLockError::WouldBlock => io::Error::other("a fresh directory is locked"),
                })?;
                return Ok((path, f));
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    unreachable!("some name is free")
}

/// The pids of the writers whose temporary directories are locked.
fn writers(root: &Path) -> Vec<String> {
    let Ok(entries) = fs::read_dir(root.join(TMP)) else {
        return Vec::new();
    };
    let mut pids = Vec::new();
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split('-').next())
        else {
            continue;
        };
        let held = File::open(e.path())
            .is_ok_and(|f| matches!(f.try_lock(), Err(TryLockError::WouldBlock)));
        if held && !pids.iter().any(|p| p == pid) {
            pids.push(pid.to_string());
        }
    }
    pids
}

fn busy(root: &Path, pids: &[String]) -> Error {
    let by = match pids {
        [] => String::new(),
        [pid] => format!(" (pid {pid})"),
        _ => format!(" (pids {})", pids.join(", ")),
    };
    Error::Store {
        path: root.to_path_buf(),
        cause: format!(
            "another citeguard run is writing to this store{by}; try again when it ends"
        ),
    }
}

/// The `lock` file of older builds: held means an older citeguard is
/// writing (refused); free, it is removed, since nothing uses it now.
fn legacy_lock(root: &Path) -> Result<()> {
    let path = root.join(LEGACY_LOCK);
    let f = match File::options().read(true).write(true).open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(&path, e)),
    };
    match f.try_lock() {
        Ok(()) => {
            let _ = fs::remove_file(&path);
            Ok(())
        }
        Err(TryLockError::WouldBlock) => {
            let mut pid = String::new();
            let _ = f.take(32).read_to_string(&mut pid);
            let pid = pid.trim();
            let pids = if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
                Vec::new()
            } else {
                vec![pid.to_string()]
            };
            Err(busy(root, &pids))
        }
        Err(TryLockError::Error(e)) => Err(Error::io(&path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_is_refused_even_after_every_file_is_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let first = WriterLock::take(dir.path()).unwrap();
        let _ = fs::remove_file(dir.path().join(LEGACY_LOCK));
        let err = WriterLock::take(dir.path()).err().unwrap().to_string();
        assert!(
            err.contains("another citeguard run is writing to this store")
                && err.contains(&format!("(pid {})", std::process::id())),
            "{err}"
        );
        drop(first);
        assert!(WriterLock::take(dir.path()).is_ok());
    }

    #[test]
    fn only_the_temporary_files_of_dead_writers_are_swept() {
        let dir = tempfile::tempdir().unwrap();
        let tmp = dir.path().join(TMP);
        // A dead writer's directory (unlocked), a loose file of an older
        // build, and a live writer's directory (locked by someone else).
        fs::create_dir_all(tmp.join("writer-1-0")).unwrap();
        fs::write(tmp.join("writer-1-0/spool"), "x").unwrap();
        fs::write(tmp.join("loose"), "x").unwrap();
        fs::create_dir_all(tmp.join("writer-2-0")).unwrap();
        let live = File::open(tmp.join("writer-2-0")).unwrap();
        live.try_lock().unwrap();

        let lock = WriterLock::take(dir.path()).unwrap();
        lock.sweep_dead();
        assert!(!tmp.join("writer-1-0").exists());
        assert!(!tmp.join("loose").exists());
        assert!(
            tmp.join("writer-2-0").exists(),
            "a live writer's files stay"
        );
        assert!(lock.tmp().is_dir());
        let own = lock.tmp().to_path_buf();
        drop(lock);
        assert!(!own.exists(), "a writer's directory goes when it ends");
    }

    #[test]
    fn an_older_builds_lock_is_honoured_then_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LEGACY_LOCK);
        fs::write(&path, "4242").unwrap();
        let held = File::options().write(true).open(&path).unwrap();
        held.try_lock().unwrap();
        let err = WriterLock::take(dir.path()).err().unwrap().to_string();
        assert!(err.contains("(pid 4242)"), "{err}");
        drop(held);
        let _lock = WriterLock::take(dir.path()).unwrap();
        assert!(!path.exists(), "no lock file is left to invite deletion");
    }
}
