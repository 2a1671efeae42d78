//! Files written whole or not at all: every file citeguard writes for a
//! person (`--output`, `show -o`, `export --warc/--wacz`, the pages of
//! `report-offline/`) is written to a temporary file beside its target and
//! renamed over it only once complete and on disk. A run that fails or
//! panics half-way leaves what was there before, untouched; never an empty
//! or a half-written file.
//!
//! It owns the temporary file's place (the target's directory, so the
//! rename is atomic), its permissions (those of the file it replaces, else
//! a new file's) and the rename. It never decides what is written. The
//! store's own objects are not written here: `objects.rs` writes those into
//! the store's `tmp/`, and never over anything.

use std::fs::{self, File};
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// A file being written; it replaces its target at `commit`. Dropped
/// without a commit, the temporary file is deleted and the target is as
/// it was.
pub struct WholeFile {
    inner: Inner,
}

enum Inner {
    /// The usual case: a temporary file beside the target.
    Beside {
        file: BufWriter<tempfile::NamedTempFile>,
        target: PathBuf,
    },
    /// A target that is not a regular file (a FIFO, a terminal,
    /// `/dev/null`, `/dev/stdout`) is written as it is: there is nothing to
    /// replace, and renaming over a device would be wrong.
    Direct(BufWriter<File>),
}

impl WholeFile {
    /// Starts writing `path`. Fails at once when its directory is missing
    /// or not writable, before any work is done.
    pub fn create(path: &Path) -> io::Result<WholeFile> {
        let existing = fs::metadata(path).ok();
        if let Some(meta) = &existing
            && !meta.is_file()
        {
            let file = fs::OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(path)?;
            return Ok(WholeFile {
                inner: Inner::Direct(BufWriter::new(file)),
            });
        }
        // A link to a file: the file is replaced, the link kept.
        let target = match &existing {
            Some(_) if fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) => {
                fs::canonicalize(path)?
            }
            _ => path.to_path_buf(),
        };
        let dir = match target.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temp = temp_beside(dir, &name)?;
        if let Some(meta) = &existing {
            fs::set_permissions(temp.path(), meta.permissions())?;
        }
        Ok(WholeFile {
            inner: Inner::Beside {
                file: BufWriter::new(temp),
                target,
            },
        })
    }

    /// Flushes the file to disk and puts it in place of its target.
    pub fn commit(self) -> io::Result<()> {
        match self.inner {
            Inner::Direct(mut file) => file.flush(),
            Inner::Beside { file, target } => {
                let temp = file.into_inner().map_err(io::IntoInnerError::into_error)?;
                temp.as_file().sync_all()?;
                temp.persist(&target).map_err(|e| e.error)?;
                // The rename itself is on disk once the directory is.
                if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty())
                    && let Ok(dir) = File::open(dir)
                {
                    let _ = dir.sync_all();
                }
                Ok(())
            }
        }
    }
}

/// A hidden temporary file beside the target (`.report.html.citeguard-…`),
/// created as a new file would be (mode 0666 less the umask), not 0600.
fn temp_beside(dir: &Path, name: &str) -> io::Result<tempfile::NamedTempFile> {
    let prefix = format!(".{name}.citeguard-");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o666));
    }
    builder.tempfile_in(dir)
}

impl Write for WholeFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.inner {
            Inner::Beside { file, .. } => file.write(buf),
            Inner::Direct(file) => file.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.inner {
            Inner::Beside { file, .. } => file.flush(),
            Inner::Direct(file) => file.flush(),
        }
    }
}

/// For writers that go back (a zip's central directory).
impl Seek for WholeFile {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        match &mut self.inner {
            Inner::Beside { file, .. } => file.seek(pos),
            Inner::Direct(file) => file.seek(pos),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_is_replaced_only_at_commit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.html");
        fs::write(&path, "before").unwrap();
        let mut file = WholeFile::create(&path).unwrap();
        file.write_all(b"after").unwrap();
        file.flush().unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "before");
        file.commit().unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "after");
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left"
        );
    }

    #[test]
    fn a_file_dropped_unfinished_leaves_the_target_and_no_litter() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.json");
        fs::write(&path, "kept").unwrap();
        let mut file = WholeFile::create(&path).unwrap();
        file.write_all(b"half").unwrap();
        drop(file);
        assert_eq!(fs::read_to_string(&path).unwrap(), "kept");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn permissions_and_links_are_kept_and_devices_written_as_they_are() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.txt");
        fs::write(&real, "old").unwrap();
        fs::set_permissions(&real, fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.path().join("link.txt");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let mut file = WholeFile::create(&link).unwrap();
        file.write_all(b"new").unwrap();
        file.commit().unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read_to_string(&real).unwrap(), "new");
        let mode = fs::metadata(&real).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);

        let mut null = WholeFile::create(Path::new("/dev/null")).unwrap();
        null.write_all(b"gone").unwrap();
        null.commit().unwrap();
        assert!(!fs::metadata("/dev/null").unwrap().is_file());
    }
}
