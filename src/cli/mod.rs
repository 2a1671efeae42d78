//! The command line: flags are defined once here (help text comes from
//! these definitions), resolved into one `Config`, and passed to the
//! library. Each command's glue lives in its own file.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use citeguard::config::{CONFIG_FILE, Config};
use citeguard::error::{Error, Result};

/// Keeps the citations of published writing honest: finds the sources a post
/// cites that are dead, changed or missing, and keeps offline copies of them.
#[derive(Debug, Parser)]
#[command(name = "citeguard", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the citations in posts, without any network access for local files.
    Collect(CollectArgs),
}

/// What a command ended with, for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing flagged.
    Clean,
    /// Citations flagged per `--fail-on`.
    Flagged,
    /// Some input failed (its error was printed) but the rest was processed.
    InputErrors,
}

impl From<Outcome> for std::process::ExitCode {
    fn from(o: Outcome) -> Self {
        std::process::ExitCode::from(match o {
            Outcome::Clean => 0,
            Outcome::Flagged => 1,
            Outcome::InputErrors => 2,
        })
    }
}

/// Flags shared by the commands that read posts.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Posts to read: files, directories, `-` for stdin, or http(s) URLs of a
    /// post, feed or sitemap.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<String>,
    /// CSS selector for the post's content (overrides content detection).
    #[arg(long, value_name = "CSS")]
    pub content_selector: Option<String>,
    /// Take every link on the page, site chrome included.
    #[arg(long)]
    pub all_links: bool,
    /// Base URL for relative links when the post does not give one.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Refuse inputs (files, stdin, fetched posts) larger than this many
    /// bytes [default: 67108864, or collect.max_file_size].
    #[arg(long, value_name = "BYTES")]
    pub max_file_size: Option<u64>,
    /// Config file [default: ./citeguard.toml if present].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CollectFormat {
    Text,
    Json,
    Jsonl,
}

#[derive(Debug, Args)]
pub struct CollectArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Output: text (grouped by post, unlinked ones marked), json
    /// (`{"citations": [...]}`) or jsonl (one citation a line).
    #[arg(long, value_enum, default_value_t = CollectFormat::Text)]
    pub format: CollectFormat,
    /// Write the output to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

mod collect;

pub fn run(cli: Cli) -> Result<Outcome> {
    match cli.command {
        Command::Collect(args) => collect::run(args),
    }
}

/// Loads the config: `--config FILE` if given, else `./citeguard.toml` if present.
pub fn load_config(explicit: Option<&PathBuf>) -> Result<Config> {
    match explicit {
        Some(path) => Config::load(path, true),
        None => Config::load(std::path::Path::new(CONFIG_FILE), false),
    }
}

/// Applies the input flags over the config.
pub fn apply_input_args(config: &mut Config, args: &InputArgs) {
    if let Some(s) = &args.content_selector {
        config.collect.content_selector = Some(s.clone());
    }
    if args.all_links {
        config.collect.all_links = true;
    }
    if let Some(b) = &args.base_url {
        config.collect.base_url = Some(b.clone());
    }
    if let Some(n) = args.max_file_size {
        config.collect.max_file_size = n;
    }
}

/// Opens the output: `--output FILE` or stdout. A missing directory is an
/// error naming the file, before any work is done.
pub fn open_output(path: Option<&PathBuf>) -> Result<Box<dyn std::io::Write>> {
    match path {
        None => Ok(Box::new(std::io::BufWriter::new(std::io::stdout().lock()))),
        Some(p) => {
            let f = std::fs::File::create(p).map_err(|e| Error::io(p, e))?;
            Ok(Box::new(std::io::BufWriter::new(f)))
        }
    }
}

/// One line for an error: its message and its causes, newlines folded.
pub fn one_line(e: &Error) -> String {
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
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
