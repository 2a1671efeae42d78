//! The citeguard binary: parses the command line and hands over to the
//! library. Every error becomes one line on stderr and an exit code:
//! 0 nothing flagged, 1 citations flagged, 2 usage, input or store error.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args = <cli::Cli as clap::Parser>::parse();
    match cli::run(args) {
        Ok(code) => code.into(),
        Err(e) => {
            eprintln!("citeguard: {}", cli::one_line(&e));
            ExitCode::from(2)
        }
    }
}
