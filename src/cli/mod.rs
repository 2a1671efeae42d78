//! The command line: flags are defined once here (help text comes from
//! these definitions), resolved into one `Config`, and passed to the
//! library. Each command's glue lives in its own file.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};

use citeguard::config::{CONFIG_FILE, Config};
use citeguard::error::{Error, Result};
use citeguard::store::whole_file::WholeFile;

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
    /// Collect the citations, fetch every cited source once, and report a
    /// verdict for each citation.
    Check(Box<CheckArgs>),
    /// Render the last run again from the store, with no network.
    Report(store::ReportArgs),
    /// Re-hash every object of the store and check every index row against
    /// the files; exit 1 when anything is missing or corrupt.
    Verify(store::StoreArgs),
    /// Show a word-level diff of a source's baseline text against its latest.
    Diff(store::DiffArgs),
    /// After review: make the latest snapshot of each URL its new baseline.
    Accept(store::AcceptArgs),
    /// Print or write the offline copy of a source.
    Show(store::ShowArgs),
    /// Export the archive as one WARC file or a WACZ package.
    Export(store::ExportArgs),
    /// Work for `check --distributed` runs: claim sources from the queue in
    /// PostgreSQL, fetch them, record each result.
    Worker(worker::WorkerArgs),
}

/// What a command ended with; `main` makes it the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing flagged.
    Clean,
    /// Citations flagged per `--fail-on`.
    Flagged,
    /// Some input failed (its error was printed) but the rest was processed.
    InputErrors,
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
    /// The local site's root: root-relative links (`/img/a.png`) in local
    /// files name files under DIR, which `check` looks for on disk.
    #[arg(long, value_name = "DIR")]
    pub root_dir: Option<PathBuf>,
    /// Refuse inputs (files, stdin, fetched posts) larger than this, e.g.
    /// 500k, 64M, 1G [default: 64M, or collect.max_file_size].
    #[arg(long, value_name = "BYTES", value_parser = parse_size)]
    pub max_file_size: Option<u64>,
    /// Config file [default: ./citeguard.toml if present].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CollectArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Output: text (grouped by post, unlinked ones marked), json
    /// (`{"citations": [...]}`) or jsonl (one citation a line).
    #[arg(long, value_enum, default_value_t = citeguard::collect::listing::Format::Text)]
    pub format: citeguard::collect::listing::Format,
    /// Write the output to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

mod check;
mod collect;
mod store;
mod worker;

/// Where the copies go when not inside the store directory: shared by
/// every command that opens the store.
#[derive(Debug, Args)]
pub struct ObjectsArgs {
    /// Where bodies, texts and WARC files are kept: a directory, or
    /// s3://BUCKET/PREFIX on S3-compatible storage (credentials from
    /// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) [default: inside the
    /// store directory; required with a postgres:// store].
    #[arg(long, value_name = "DIR|S3-URL")]
    pub objects: Option<String>,
    /// The S3 endpoint, for S3-compatible storage other than AWS
    /// [default: AWS_ENDPOINT_URL, or `s3_endpoint` in the config].
    #[arg(long, value_name = "URL")]
    pub s3_endpoint: Option<String>,
}

/// Applies where the store is over the config: the config file's keys,
/// then the standard AWS variables (`AWS_ENDPOINT_URL`, `AWS_REGION`,
/// and the credentials, which only the environment gives), then the
/// flags. The binary reads the environment; the library is handed it.
pub fn apply_store_args(config: &mut Config, store: Option<&PathBuf>, args: &ObjectsArgs) {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if let Some(v) = env("AWS_ENDPOINT_URL_S3").or_else(|| env("AWS_ENDPOINT_URL")) {
        config.s3_endpoint = Some(v);
    }
    if let Some(v) = env("AWS_REGION").or_else(|| env("AWS_DEFAULT_REGION")) {
        config.s3_region = Some(v);
    }
    if let (Some(id), Some(secret)) = (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
        config.s3_credentials = Some(citeguard::config::S3Credentials {
            access_key_id: id,
            secret_access_key: secret,
            session_token: env("AWS_SESSION_TOKEN"),
        });
    }
    if let Some(v) = store {
        config.store = v.clone();
    }
    if let Some(v) = &args.objects {
        config.objects = Some(v.clone());
    }
    if let Some(v) = &args.s3_endpoint {
        config.s3_endpoint = Some(v.clone());
    }
}

/// How a report is written: shared by `check` and `report`.
#[derive(Debug, Args)]
pub struct ReportOutput {
    #[arg(long, value_enum, default_value_t = citeguard::report::Format::Text)]
    pub format: citeguard::report::Format,
    /// Write the report to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Verdicts that make the exit code 1 [default: dead,changed,missing].
    #[arg(long, value_delimiter = ',', value_name = "VERDICTS")]
    pub fail_on: Option<Vec<citeguard::model::Verdict>>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub report: ReportOutput,
    /// Requests in flight at once, over all hosts [default: 256].
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// Requests in flight at once to one host [default: 8].
    #[arg(long, value_name = "N")]
    pub per_host: Option<usize>,
    /// Minimum time between two request starts to one host, in ms [default: 50].
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(0..=86_400_000))]
    pub host_delay: Option<u64>,
    /// Whole-request timeout in seconds, at most a day [default: 30].
    #[arg(long, value_name = "SECS", value_parser = parse_timeout)]
    pub timeout: Option<f64>,
    /// Connect timeout in seconds, at most a day [default: 10].
    #[arg(long, value_name = "SECS", value_parser = parse_timeout)]
    pub connect_timeout: Option<f64>,
    /// Largest body read, e.g. 20M, 2G [default: 20M]; the rest is not downloaded.
    #[arg(long, value_name = "BYTES", value_parser = parse_size)]
    pub max_body: Option<u64>,
    /// Redirect hops followed before giving up [default: 10].
    #[arg(long, value_name = "N")]
    pub max_redirects: Option<usize>,
    /// Retries for transient failures (timeouts, resets, 5xx, 429) [default: 2].
    #[arg(long, value_name = "N")]
    pub retries: Option<u32>,
    /// Longest wait before one retry, capping Retry-After, in seconds, at
    /// most a day [default: 30].
    #[arg(long, value_name = "SECS", value_parser = parse_wait)]
    pub max_retry_wait: Option<f64>,
    /// The User-Agent header.
    #[arg(long, value_name = "UA")]
    pub user_agent: Option<String>,
    /// Extra status codes treated as ok (e.g. 403,999).
    #[arg(long, value_delimiter = ',', value_name = "CODES")]
    pub accept: Vec<u16>,
    /// Skip URLs matching this regex (repeatable).
    #[arg(long, value_name = "REGEX")]
    pub exclude: Vec<String>,
    /// Check only URLs matching this regex (repeatable).
    #[arg(long, value_name = "REGEX")]
    pub include: Vec<String>,
    /// Fetch even what robots.txt disallows.
    #[arg(long)]
    pub ignore_robots: bool,
    /// Let redirects and requisites of a page on a public address reach
    /// loopback, private and link-local addresses (by default only a cited
    /// source on such an address may).
    #[arg(long)]
    pub allow_private: bool,
    /// Resolve HOST to ADDR instead of asking DNS, like curl's --resolve (repeatable).
    #[arg(long, value_name = "HOST:ADDR", value_parser = parse_resolve)]
    pub resolve: Vec<(String, std::net::IpAddr)>,
    /// Never show a progress bar.
    #[arg(long, short)]
    pub quiet: bool,
    /// The store: offline copies, WARC files and the index in a directory,
    /// or postgres://USER@HOST:PORT/DB for the index on PostgreSQL
    /// [default: ./snapshots].
    #[arg(long, value_name = "DIR|URL")]
    pub store: Option<PathBuf>,
    #[command(flatten)]
    pub objects: ObjectsArgs,
    /// Check without keeping anything: no snapshots, no history, no `changed`.
    #[arg(long, conflicts_with = "store")]
    pub no_store: bool,
    /// Similarity of the main text to the baseline below which a source is
    /// `changed` [default: 0.80].
    #[arg(long, value_name = "0..1")]
    pub drift_threshold: Option<f64>,
    /// Consecutive failing checks before a transient failure is `dead` [default: 3].
    #[arg(long, value_name = "N")]
    pub dead_after_checks: Option<u32>,
    /// Days those failing checks must span before it is `dead` [default: 3].
    #[arg(long, value_name = "DAYS")]
    pub dead_after_days: Option<f64>,
    /// Report (and fail on) only citations whose verdict got worse since the
    /// previous run.
    #[arg(long)]
    pub new_only: bool,
    /// Memento TimeGate asked for an archived copy of each dead source
    /// [default: the Wayback Machine's].
    #[arg(long, value_name = "URL")]
    pub memento_endpoint: Option<String>,
    /// Do not ask any web archive for replacements.
    #[arg(long, conflicts_with = "memento_endpoint")]
    pub no_memento: bool,
    /// Also print, for each citation with an archived copy, the Robust Links
    /// HTML to paste into the post.
    #[arg(long)]
    pub robust_links: bool,
    /// Let workers fetch (and store) the sources: enqueue them in the queue
    /// (--queue), wait for every result, then report as a local run does.
    /// The store must be on PostgreSQL (--store postgres://…), or none
    /// (--no-store).
    #[arg(long)]
    pub distributed: bool,
    /// The queue of `--distributed`: a PostgreSQL URL
    /// (postgres://user@host:port/db), the one the workers use [default:
    /// the --store URL].
    #[arg(long, value_name = "URL", requires = "distributed")]
    pub queue: Option<String>,
    /// The run's clock (RFC 3339), for replaying scheduled runs in tests.
    #[arg(long, hide = true, env = "CITEGUARD_NOW", value_parser = parse_time)]
    pub now: Option<chrono::DateTime<chrono::Utc>>,
}

/// Parses an RFC 3339 time stamp.
pub fn parse_time(s: &str) -> std::result::Result<chrono::DateTime<chrono::Utc>, String> {
    citeguard::base::time::parse_rfc3339(s)
        .map_err(|e| format!("'{s}': {e} (expected e.g. 2026-11-24T03:00:00Z)"))
}

/// Parses a timeout: seconds, more than 0 and at most a day.
pub(crate) fn parse_timeout(s: &str) -> std::result::Result<f64, String> {
    let secs: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("not a number of seconds: '{s}'"))?;
    citeguard::config::check_seconds(secs, true).map(|_| secs)
}

/// Parses a wait: seconds, 0 or more and at most a day.
fn parse_wait(s: &str) -> std::result::Result<f64, String> {
    let secs: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("not a number of seconds: '{s}'"))?;
    citeguard::config::check_seconds(secs, false).map(|_| secs)
}

/// Parses `20M`, `2G`, `512k` or plain bytes.
pub fn parse_size(s: &str) -> std::result::Result<u64, String> {
    let s = s.trim();
    let (num, mult) = match s.chars().last().map(|c| c.to_ascii_uppercase()) {
        Some('K') => (&s[..s.len() - 1], 1u64 << 10),
        Some('M') => (&s[..s.len() - 1], 1 << 20),
        Some('G') => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    num.trim()
        .parse::<u64>()
        .map(|n| n.saturating_mul(mult))
        .map_err(|_| format!("not a size: '{s}' (e.g. 20M, 2G)"))
}

fn parse_resolve(s: &str) -> std::result::Result<(String, std::net::IpAddr), String> {
    let (host, addr) = s
        .rsplit_once(':')
        .ok_or_else(|| format!("expected HOST:ADDR, got '{s}'"))?;
    let addr = addr
        .trim_matches(['[', ']'])
        .parse()
        .map_err(|e| format!("'{addr}': {e}"))?;
    Ok((host.to_ascii_lowercase(), addr))
}

pub fn run(cli: Cli) -> Result<Outcome> {
    match cli.command {
        Command::Collect(args) => collect::run(args),
        Command::Check(args) => check::run(*args),
        Command::Report(args) => store::report(args),
        Command::Verify(args) => store::verify(args),
        Command::Diff(args) => store::diff(args),
        Command::Accept(args) => store::accept(args),
        Command::Show(args) => store::show(args),
        Command::Export(args) => store::export(args),
        Command::Worker(args) => worker::run(args),
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
    if let Some(d) = &args.root_dir {
        config.collect.root_dir = Some(d.clone());
    }
    if let Some(n) = args.max_file_size {
        config.collect.max_file_size = n;
    }
}

/// Runs a command's async part on a runtime of its own, then stops the
/// runtime without waiting on background tasks (the index pool's upkeep, a
/// request still in flight) that could hold the exit.
pub(crate) fn block_on<T>(work: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    block_on_in(runtime()?, work)
}

/// The runtime a command's work runs on (`block_on_in`), started before
/// the work when some of it begins early (`check` opens its store while
/// the posts are collected).
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    // The blocking pool (file I/O, the store's page preparation) is held
    // to a few threads per core: tokio's default of 512 let a run of
    // 100,000 sources start some 90, each keeping its stack, its malloc
    // arena and the store's per-thread deflate state (~380 KB) alive.
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads((8 * cores).max(16))
        .build()
        .map_err(|e| Error::setup("start the runtime", e))
}

/// Runs `work` on `runtime` to its end, then stops the runtime.
pub(crate) fn block_on_in<T>(
    runtime: tokio::runtime::Runtime,
    work: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    let out = runtime.block_on(work);
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    out
}

/// Opens the output: `--output FILE` or stdout. A missing or unwritable
/// directory is an error naming the file, before any work is done. The
/// file is written beside its target and put in place by `Output::finish`
/// only: a run that fails or panics first leaves what was there untouched.
pub fn open_output(path: Option<&PathBuf>) -> Result<Output> {
    match path {
        None => Ok(Output::Stdout(BufWriter::new(stdout()))),
        Some(p) => {
            check_parent("--output", p)?;
            let file = WholeFile::create(p).map_err(|e| Error::io(p, e))?;
            Ok(Output::File(file, p.clone()))
        }
    }
}

/// Where a command's output goes: standard output, or a file that replaces
/// its target at `finish`.
pub enum Output {
    Stdout(BufWriter<Stdout>),
    File(WholeFile, PathBuf),
}

impl Output {
    /// Flushes, and puts a file in place of its target.
    pub fn finish(self) -> Result<()> {
        match self {
            Output::Stdout(mut out) => out.flush().map_err(|e| Error::io("stdout", e)),
            Output::File(file, path) => file.commit().map_err(|e| Error::io(path, e)),
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Output::Stdout(out) => out.write(buf),
            Output::File(file, _) => file.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Output::Stdout(out) => out.flush(),
            Output::File(file, _) => file.flush(),
        }
    }
}

/// Fails, naming `flag` and the file, when the directory a file is to be
/// written in does not exist: checked before any work is done.
pub(crate) fn check_parent(flag: &str, path: &Path) -> Result<()> {
    match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) if !dir.is_dir() => Err(Error::Usage(format!(
            "{flag} {}: the directory {} does not exist",
            path.display(),
            dir.display()
        ))),
        _ => Ok(()),
    }
}

/// Standard output, for everything a command prints there (never `print!`,
/// which panics on a closed pipe). A reader that goes away early
/// (`citeguard check … | head -1`) is a normal end, not an error: from then
/// on writes are dropped, so the command finishes its work and ends with the
/// exit code it would have had. No command has to remember.
pub(crate) struct Stdout {
    closed: bool,
}

pub(crate) fn stdout() -> Stdout {
    Stdout { closed: false }
}

impl Stdout {
    fn pass<T>(&mut self, done: T, result: io::Result<T>) -> io::Result<T> {
        match result {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(done)
            }
            other => other,
        }
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.closed {
            return Ok(buf.len());
        }
        let result = io::stdout().write(buf);
        self.pass(buf.len(), result)
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.closed {
            return Ok(());
        }
        let result = io::stdout().flush();
        self.pass((), result)
    }
}

/// What a worker, or a coordinator waiting for workers, says on stderr:
/// one line each, `who` first.
pub(crate) struct FleetLines {
    pub who: String,
    pub quiet: bool,
}

impl citeguard::fleet::worker::Events for FleetLines {
    fn queued(&self, run: &str, sources: usize) {
        if !self.quiet {
            crate::say(format_args!(
                "{}: run {run}: {sources} sources queued; waiting for workers",
                self.who
            ));
        }
    }
    fn lost(&self, cause: &str, retry_in: std::time::Duration) {
        crate::say(format_args!(
            "{}: the queue failed ({cause}); retrying in {:.1}s, then backing off",
            self.who,
            retry_in.as_secs_f64()
        ));
    }
    fn back(&self) {
        crate::say(format_args!("{}: the queue answers again", self.who));
    }
    fn store_lost(&self, cause: &str, retry_in: std::time::Duration) {
        crate::say(format_args!(
            "{}: the store failed ({cause}); its sources go back to the queue, claiming again in {:.1}s, then backing off",
            self.who,
            retry_in.as_secs_f64()
        ));
    }
    fn store_back(&self) {
        crate::say(format_args!("{}: the store keeps sources again", self.who));
    }
    fn store_waiting(&self, cause: &str, retry_in: std::time::Duration) {
        crate::say(format_args!(
            "{}: cannot open the store yet ({cause}); retrying in {:.1}s, then backing off",
            self.who,
            retry_in.as_secs_f64()
        ));
    }
    fn no_worker(&self, run: &str, queue: &str, waited: std::time::Duration) {
        crate::say(format_args!(
            "{}: run {run}: no worker has claimed a source in {} s; start `citeguard worker --queue {queue}` (or --store with the store's URL)",
            self.who,
            waited.as_secs()
        ));
    }
}

/// Colour only on a terminal, and never when `NO_COLOR` is set.
pub fn color(output: Option<&PathBuf>) -> bool {
    use std::io::IsTerminal;
    output.is_none() && std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}
