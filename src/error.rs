//! Errors that name the input and the cause, one variant per kind of
//! failure. The binary (`main.rs`) turns each into one line on stderr and
//! an exit code; the library never prints.

use std::path::PathBuf;

/// A boxed cause, kept whole so that `main` can walk its chain.
pub type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A flag or setting that cannot be used as given.
    #[error("{0}")]
    Usage(String),
    /// An input (file, URL, stdin) could not be read or parsed.
    #[error("{input}: {cause}")]
    Input { input: String, cause: String },
    /// A file the command reads or writes, with the OS's reason.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The config file cannot be read or does not make sense.
    #[error("config {path}: {cause}")]
    Config { path: PathBuf, cause: String },
    /// The store cannot be opened, read or written.
    #[error("store {path}: {cause}")]
    Store { path: PathBuf, cause: String },
    /// Something asked of the store that it does not hold (a URL no check
    /// has fetched).
    #[error("{what}: {cause}")]
    NotFound { what: String, cause: String },
    /// The machinery of a run cannot start: the async runtime, the HTTP
    /// client. Neither the input nor the flags are at fault.
    #[error("cannot {what}")]
    Setup {
        what: &'static str,
        #[source]
        source: Cause,
    },
}

impl Error {
    pub fn input(input: impl Into<String>, cause: impl std::fmt::Display) -> Self {
        Error::Input {
            input: input.into(),
            cause: cause.to_string(),
        }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub fn not_found(what: impl Into<String>, cause: impl std::fmt::Display) -> Self {
        Error::NotFound {
            what: what.into(),
            cause: cause.to_string(),
        }
    }

    /// `what` reads after "cannot": "start the runtime".
    pub fn setup(what: &'static str, source: impl Into<Cause>) -> Self {
        Error::Setup {
            what,
            source: source.into(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error and its causes on one line ("error sending request: …:
/// connection refused"), each cause once, newlines folded.
pub fn chain_text(err: &(dyn std::error::Error + 'static)) -> String {
    let mut s = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let c = cause.to_string();
        if !s.contains(&c) {
            s.push_str(": ");
            s.push_str(&c);
        }
        source = cause.source();
    }
    s.replace(['\n', '\r'], " ")
}
