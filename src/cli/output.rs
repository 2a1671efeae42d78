//! Where a command's output goes: stdout, or `--output FILE` written as a
//! whole or not at all. The file is written to a temporary file in the same
//! directory and renamed over FILE only once everything is written, so a
//! failure (an error, a panic, a kill) never empties or truncates what FILE
//! held before. A FILE that is no regular file (`/dev/stdout`, a FIFO) is
//! a stream: written in place, never replaced.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use citeguard::error::{Error, Result};

/// An output being written: stdout, or a temporary file beside the target.
pub enum Output {
    /// Standard output, where a reader that stops early is a normal end
    /// (see `cli::Stdout`).
    Stdout(io::BufWriter<super::Stdout>),
    /// FILE is no regular file (`/dev/stdout`, a FIFO, a terminal): a
    /// stream, written in place, never replaced.
    Stream {
        target: PathBuf,
        file: io::BufWriter<std::fs::File>,
    },
    File {
        target: PathBuf,
        tmp: io::BufWriter<tempfile::NamedTempFile>,
    },
}

impl Output {
    /// Opens the output: `--output FILE` or stdout. A missing directory is
    /// an error naming the file, before any work is done. Every command
    /// writes what it prints on stdout through this.
    pub fn open(path: Option<&PathBuf>) -> Result<Output> {
        let Some(p) = path else {
            return Ok(Output::Stdout(io::BufWriter::new(super::stdout())));
        };
        if let Ok(meta) = std::fs::metadata(p)
            && !meta.is_file()
            && !meta.is_dir()
        {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(p)
                .map_err(|e| Error::io(p, e))?;
            return Ok(Output::Stream {
                target: p.clone(),
                file: io::BufWriter::new(file),
            });
        }
        // Through a symbolic link to the file it names, which is replaced.
        let target = std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
        let dir = match target.parent().filter(|d| !d.as_os_str().is_empty()) {
            Some(d) => d.to_path_buf(),
            None => PathBuf::from("."),
        };
        super::check_parent("--output", &target)?;
        if target.is_dir() {
            return Err(Error::Usage(format!(
                "--output {}: is a directory",
                p.display()
            )));
        }
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let prefix = format!(".{name}.");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(".tmp");
        // Created as `File::create` would (0666 less the umask), not 0600.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
        let tmp = builder.tempfile_in(&dir).map_err(|e| Error::io(p, e))?;
        Ok(Output::File {
            target,
            tmp: io::BufWriter::new(tmp),
        })
    }

    /// Ends the output: flushes stdout, or puts the finished file in place.
    /// Dropping an `Output` without calling this leaves FILE as it was.
    pub fn commit(self) -> io::Result<()> {
        match self {
            Output::Stdout(mut w) => w.flush(),
            Output::Stream { mut file, .. } => file.flush(),
            Output::File { target, tmp } => {
                let tmp = tmp.into_inner().map_err(|e| e.into_error())?;
                tmp.as_file().sync_all()?;
                tmp.persist(&target).map_err(|e| e.error)?;
                Ok(())
            }
        }
    }

    /// What to call this output in an error.
    pub fn name(&self) -> &Path {
        match self {
            Output::Stdout(_) => Path::new("<stdout>"),
            Output::Stream { target, .. } | Output::File { target, .. } => target,
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Output::Stdout(w) => w.write(buf),
            Output::Stream { file, .. } => file.write(buf),
            Output::File { tmp, .. } => tmp.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Output::Stdout(w) => w.write_all(buf),
            Output::Stream { file, .. } => file.write_all(buf),
            Output::File { tmp, .. } => tmp.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Output::Stdout(w) => w.flush(),
            Output::Stream { file, .. } => file.flush(),
            Output::File { tmp, .. } => tmp.flush(),
        }
    }
}
