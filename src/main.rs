//! The citeguard binary: parses the command line, runs the command, and is
//! the one place that turns how it ended into an exit code and, for an
//! error, one line on stderr:
//! 0 nothing flagged, 1 citations flagged, 2 a usage, input, store or setup
//! error (or an input that failed while the others went on).
//!
//! A reader that stops early (`citeguard check … | head -1`) is a normal
//! end: commands write to stdout through `cli::Stdout`, which drops what
//! comes after the pipe closes, so each command ends with the exit code it
//! would have had, and nothing on stderr.

mod cli;

use std::io::Write;
use std::process::ExitCode;

use citeguard::error::Error;
use cli::Outcome;

fn main() -> ExitCode {
    let args = <cli::Cli as clap::Parser>::parse();
    match cli::run(args) {
        Ok(outcome) => ExitCode::from(outcome_code(outcome)),
        // Only a write that bypassed `cli::Stdout` gets here: the command
        // stopped part-way, so, as Unix tools do (and ripgrep), end quietly
        // and successfully.
        Err(e) if is_closed_stdout(&e) => ExitCode::SUCCESS,
        Err(e) => {
            print_error(&e);
            ExitCode::from(error_code(&e))
        }
    }
}

fn outcome_code(outcome: Outcome) -> u8 {
    match outcome {
        Outcome::Clean => 0,
        Outcome::Flagged => 1,
        Outcome::InputErrors => 2,
    }
}

/// Every kind of error ends the run with 2 (the contract's "usage, input
/// or store error"); the match is whole so that a new kind has to choose.
fn error_code(e: &Error) -> u8 {
    match e {
        Error::Usage(_)
        | Error::Input { .. }
        | Error::Io { .. }
        | Error::Config { .. }
        | Error::Store { .. }
        | Error::NotFound { .. }
        | Error::Setup { .. } => 2,
    }
}

/// Prints an error as one line on stderr: "citeguard: " and its message
/// with each cause in its chain once. Also used by commands for an input
/// that fails while the others go on.
pub(crate) fn print_error(e: &Error) {
    say(citeguard::error::chain_text(e));
}

/// One line on stderr after "citeguard: ". Never `eprintln!`, which
/// panics when stderr is closed: then there is nowhere to say anything,
/// and the command goes on.
/// The names in it (file names, URLs) are escaped so that none can steer a
/// terminal or a CI log (`base::escape::visible`).
pub(crate) fn say(line: impl std::fmt::Display) {
    let line = line.to_string();
    let line = citeguard::base::escape::visible(&line);
    let _ = writeln!(std::io::stderr(), "citeguard: {line}");
}

/// Whether the error, or any cause in its chain, is a write to a pipe whose
/// reader has gone.
fn is_closed_stdout(e: &Error) -> bool {
    std::iter::successors(Some(e as &(dyn std::error::Error + 'static)), |c| {
        c.source()
    })
    .any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
