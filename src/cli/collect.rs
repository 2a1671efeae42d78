//! `citeguard collect`: glue between the flags and `citeguard::collect`.
//! Prints each post's citations as the collector hands them over
//! (`collect::listing`), input errors on stderr as they happen, and ends
//! with exit code 2 if any input failed.

use super::{CollectArgs, Outcome};
use citeguard::collect::{self, listing::Listing};
use citeguard::error::{Error, Result};

pub fn run(args: CollectArgs) -> Result<Outcome> {
    let mut config = super::load_config(args.input.config.as_ref())?;
    super::apply_input_args(&mut config, &args.input);
    collect::validate(&config.collect)?;
    quiet_input_panics();
    let mut out = super::open_output(args.output.as_ref())?;
    let mut listing = Listing::new(args.format);
    let mut failed = 0usize;
    // After a failed write the posts are still collected: the exit code
    // counts every input that failed.
    let mut write_error = None;
    collect::collect(
        &args.input.inputs,
        &config.collect,
        &mut |post| {
            for note in &post.notes {
                crate::say(format_args!("{}: {note}", post.name));
            }
            if write_error.is_none() {
                write_error = listing.post(&mut out, &post).err();
            }
        },
        &mut |e| {
            failed += 1;
            crate::print_error(&e);
        },
    );
    // After a failed write the output file, if any, is left as it was.
    write_error
        .map_or(Ok(()), Err)
        .and_then(|()| listing.finish(&mut out, failed))
        .map_err(|e| {
            let name = args.output.clone().unwrap_or_else(|| "<stdout>".into());
            Error::io(name, e)
        })?;
    out.finish()?;
    Ok(if failed > 0 {
        Outcome::InputErrors
    } else {
        Outcome::Clean
    })
}

/// A panic while one input is read (a bug) is reported by the collector
/// as that input's one error line, with the panic's message, and the run
/// goes on: the default hook's message (and backtrace, under
/// `RUST_BACKTRACE`, which CI images often set) is kept for every other
/// panic only.
fn quiet_input_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !collect::is_reading_input() {
            default(info);
        }
    }));
}
