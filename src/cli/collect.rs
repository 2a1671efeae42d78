//! `citeguard collect`: glue between the flags and `citeguard::collect`.

use super::{CollectArgs, Outcome};
use citeguard::error::Result;

pub fn run(args: CollectArgs) -> Result<Outcome> {
    let mut config = super::load_config(args.input.config.as_ref())?;
    super::apply_input_args(&mut config, &args.input);
    let _ = args.format;
    let _ = super::open_output(args.output.as_ref())?;
    Err(citeguard::Error::Usage(
        "collect: under construction".into(),
    ))
}
