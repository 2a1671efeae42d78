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
//!
//! A panic (a bug) is one line too, and exit 2: the default hook's report
//! is kept for whoever sets `RUST_BACKTRACE`.

mod cli;

use std::io::Write;
use std::process::ExitCode;
use std::sync::OnceLock;

use citeguard::error::Error;
use cli::Outcome;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    tune_allocator();
    quiet_panics();
    let args = <cli::Cli as clap::Parser>::parse();
    let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cli::run(args)));
    match ran {
        Ok(Ok(outcome)) => ExitCode::from(outcome_code(outcome)),
        // Only a write that bypassed `cli::Stdout` gets here: the command
        // stopped part-way, so, as Unix tools do (and ripgrep), end quietly
        // and successfully.
        Ok(Err(e)) if is_closed_stdout(&e) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            print_error(&e);
            ExitCode::from(error_code(&e))
        }
        Err(panic) => {
            let message = citeguard::base::panic_message(panic.as_ref());
            say(format!(
                "internal error: {message}{}; this is a bug",
                panicked_at()
            ));
            ExitCode::from(2)
        }
    }
}

/// Where the first panic happened, as the hook saw it.
static PANICKED_AT: OnceLock<String> = OnceLock::new();

/// Panics say nothing when they happen (so a run ends with one line, from
/// `main`), but where they happened is kept for that line. With
/// `RUST_BACKTRACE` set, the default hook reports as usual.
fn quiet_panics() {
    if std::env::var_os("RUST_BACKTRACE").is_some() {
        return;
    }
    std::panic::set_hook(Box::new(|info| {
        if let Some(at) = info.location() {
            let _ = PANICKED_AT.set(format!("{}:{}", at.file(), at.line()));
        }
    }));
}

/// " (at src/x.rs:12)" when a panic happened, else nothing.
fn panicked_at() -> String {
    PANICKED_AT
        .get()
        .map(|at| format!(" (at {at})"))
        .unwrap_or_default()
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
    say(format!(
        "{}{}",
        citeguard::error::chain_text(e),
        panicked_at()
    ));
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

/// mimalloc's option `purge_delay` (`mi_option_e` in its `mimalloc.h`,
/// number 15 in its 2.x and 3.x lines): how many milliseconds freed pages
/// wait before they go back to the system (10 by default).
const PURGE_DELAY: std::ffi::c_int = 15;

/// Freed pages go back at once. A run frees large buffers (a report's
/// JSON, a page's body) while it still fills others; with the default
/// delay the freed ones count in the peak beside the new ones, a recheck
/// of 5,000 sources peaking near 100 MB instead of under 80. A user's
/// `MIMALLOC_PURGE_DELAY` still wins.
fn tune_allocator() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: called first in `main`, before any thread starts (the
        // option table is not locked); it only stores a number there.
        unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 0) }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_allocator_gives_freed_pages_back_at_once() {
        // SAFETY: this is the binary's only test: no other thread reads
        // or writes the option table meanwhile.
        let get = || unsafe { libmimalloc_sys::mi_option_get(super::PURGE_DELAY) };
        let before = get();
        super::tune_allocator();
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            // The number is the option that defaults to 10 ms.
            assert_eq!(before, 10);
            assert_eq!(get(), 0);
        } else {
            assert_eq!(get(), before, "the user's delay stands");
        }
    }
}
