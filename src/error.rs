//! Errors that name the input and the cause. The binary turns each into one
//! line on stderr and an exit code; the library never prints.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An input (file, URL, stdin) could not be read or parsed.
    #[error("{input}: {cause}")]
    Input { input: String, cause: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("config {path}: {cause}")]
    Config { path: PathBuf, cause: String },
    #[error("store {path}: {cause}")]
    Store { path: PathBuf, cause: String },
    #[error("{0}")]
    Usage(String),
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
