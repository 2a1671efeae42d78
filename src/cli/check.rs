//! `citeguard check`: flags over config, collect, check (through the store
//! unless `--no-store`) with a progress bar on a terminal, render, and the
//! exit code. Glue only: what a run does is in the library.

use std::io::{IsTerminal, Write};
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressStyle};

use super::{CheckArgs, Outcome};
use citeguard::check::{self, Progress};
use citeguard::config::Config;
use citeguard::error::{Error, Result};
use citeguard::model::{Check, Report, Verdict};
use citeguard::report::{self, RenderOptions};
use citeguard::store::archive::Archive;
use citeguard::store::hook::NoStore;
use citeguard::store::pages::attach_offline_pages;
use citeguard::store::report::last_report;
use citeguard::store::{Access, Store};

fn apply(config: &mut Config, a: &CheckArgs) {
    let f = &mut config.fetch;
    if let Some(v) = a.concurrency {
        f.concurrency = v.max(1);
    }
    if let Some(v) = a.per_host {
        f.per_host = v.max(1);
    }
    if let Some(v) = a.host_delay {
        f.host_delay_ms = v;
    }
    if let Some(v) = a.timeout {
        f.timeout_secs = v;
    }
    if let Some(v) = a.connect_timeout {
        f.connect_timeout_secs = v;
    }
    if let Some(v) = a.max_body {
        f.max_body = v;
    }
    if let Some(v) = a.max_redirects {
        f.max_redirects = v;
    }
    if let Some(v) = a.retries {
        f.retries = v;
    }
    if let Some(v) = a.max_retry_wait {
        f.max_retry_wait_secs = v;
    }
    if let Some(v) = &a.user_agent {
        f.user_agent = v.clone();
    }
    f.accept.extend(&a.accept);
    f.exclude.extend(a.exclude.iter().cloned());
    f.include.extend(a.include.iter().cloned());
    if a.ignore_robots {
        f.ignore_robots = true;
    }
    for (host, addr) in &a.resolve {
        f.resolve.insert(host.clone(), *addr);
    }
    if let Some(v) = &a.report.fail_on {
        config.fail_on = v.clone();
    }
    if let Some(v) = &a.store {
        config.store = v.clone();
    }
    if let Some(v) = a.drift_threshold {
        config.compare.drift_threshold = v;
    }
    if let Some(v) = a.dead_after_checks {
        config.schedule.dead_after_checks = v;
    }
    if let Some(v) = a.dead_after_days {
        config.schedule.dead_after_days = v;
    }
    if let Some(v) = &a.memento_endpoint {
        config.schedule.memento_endpoint = v.clone();
    }
    if a.no_memento {
        config.schedule.memento_endpoint.clear();
    }
}

/// The progress bar: sources done/total, rate, failures so far.
struct Bar {
    bar: ProgressBar,
    failures: std::sync::atomic::AtomicUsize,
}

impl Progress for Bar {
    fn start(&self, sources: usize) {
        self.bar.set_length(sources as u64);
    }
    fn source_done(&self, check: &Check) {
        if !matches!(check.verdict, Verdict::Ok | Verdict::Skipped) {
            let n = self
                .failures
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                + 1;
            self.bar.set_message(format!("{n} failing"));
        }
        self.bar.inc(1);
    }
    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Bar {
    /// A bar on stderr when `show`, else one that draws nothing.
    fn new(show: bool) -> Bar {
        let bar = if show {
            ProgressBar::new(0)
        } else {
            ProgressBar::hidden()
        };
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} checking {pos}/{len} sources [{bar:30}] {per_sec} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        Bar {
            bar,
            failures: Default::default(),
        }
    }
}

/// Found archived copies, by source URL.
type Mementos = std::collections::HashMap<String, citeguard::model::Memento>;

// TODO(merge): the two functions below drive library stages (store,
// check, schedule, memento) in order; that belongs in the `check` driver
// (src/check.rs, h-fetch's), leaving this file flags → one call → output.

/// `--no-store`: the check alone, and the archives asked about what died.
async fn check_without_store(
    posts: Vec<citeguard::collect::Post>,
    config: &Config,
    args: &CheckArgs,
    bar: &Bar,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(Report, Mementos)> {
    let fetcher = Arc::new(citeguard::fetch::Fetcher::new(config, None)?);
    let mut report = check::check(posts, config, fetcher.clone(), &mut NoStore, bar, now).await?;
    let mementos = ask_archives(&mut report, config, fetcher.client(), args.robust_links).await;
    Ok((report, mementos))
}

/// The check through the store, in order: the previous run's report read,
/// every source checked and archived, changes since then marked, the web
/// archives asked, the report kept, and offline pages written beside an
/// HTML report.
async fn check_with_store(
    posts: Vec<citeguard::collect::Post>,
    config: &Config,
    args: &CheckArgs,
    bar: &Bar,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(Report, Mementos)> {
    let store = Store::open(&config.store, Access::Write).await?;
    let previous = last_report(&store).await.ok().flatten();
    let spool = citeguard::fetch::spool_dir(store.root());
    let fetcher = Arc::new(citeguard::fetch::Fetcher::new(config, Some(spool))?);
    let run_id = check::run_id(now);
    let mut archive = Archive::begin(&store, config, &run_id, now).await?;
    let mut report = check::check(posts, config, fetcher.clone(), &mut archive, bar, now).await?;
    report.run.id = run_id;
    report.store = Some(store.root().display().to_string());
    citeguard::schedule::mark_changes(&mut report, previous.as_ref());
    let mementos = ask_archives(&mut report, config, fetcher.client(), args.robust_links).await;
    archive.finish(&report).await?;
    if args.report.format == report::Format::Html
        && let Some(out) = &args.report.output
    {
        attach_offline_pages(&store, &mut report, out).await?;
    }
    store.close().await;
    Ok((report, mementos))
}

pub fn run(args: CheckArgs) -> Result<Outcome> {
    let mut config = super::load_config(args.input.config.as_ref())?;
    super::apply_input_args(&mut config, &args.input);
    apply(&mut config, &args);
    config.validate().map_err(Error::Usage)?;
    citeguard::collect::validate(&config.collect)?;
    // Open the output first: a bad --output path fails before any fetching.
    let mut out = super::open_output(args.report.output.as_ref())?;

    let started_at = chrono::Utc::now();
    let mut failed_inputs = 0usize;
    let mut posts = Vec::new();
    citeguard::collect::collect(
        &args.input.inputs,
        &config.collect,
        &mut |p| posts.push(p),
        &mut |e| {
            failed_inputs += 1;
            eprintln!("citeguard: {}", super::one_line(&e));
        },
    );

    let bar = Bar::new(!args.quiet && std::io::stderr().is_terminal());
    // TODO(merge): one runtime helper in cli/mod.rs (h-fetch's) for this
    // and cli/store.rs's `block_on`.
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| Error::Usage(format!("cannot start the runtime: {e}")))?;
    let now = args.now.unwrap_or(started_at);
    let (mut report, mementos) = runtime.block_on(async {
        if args.no_store {
            check_without_store(posts, &config, &args, &bar, now).await
        } else {
            check_with_store(posts, &config, &args, &bar, now).await
        }
    })?;
    // Nothing left to wait for: background tasks must not hold the exit.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    if args.new_only {
        citeguard::schedule::keep_new_only(&mut report);
    }

    let opts = RenderOptions {
        color: super::color(args.report.output.as_ref()),
        fail_on: config.fail_on.clone(),
    };
    if std::env::var_os("GITHUB_ACTIONS").is_some() {
        // Best effort: annotations are a convenience beside the report.
        let _ = report::github::render(&report, &config.fail_on, &mut std::io::stderr().lock());
    }
    report::render(&report, args.report.format, &opts, &mut out)
        .and_then(|_| out.flush())
        .map_err(|e| {
            Error::io(
                args.report
                    .output
                    .clone()
                    .unwrap_or_else(|| "stdout".into()),
                e,
            )
        })?;
    if args.robust_links {
        print_robust_links(&report, &mementos);
    }

    Ok(if failed_inputs > 0 {
        Outcome::InputErrors
    } else if check::flagged(&report, &config.fail_on) {
        Outcome::Flagged
    } else {
        Outcome::Clean
    })
}

/// Asks the web archive for replacements of dead sources (of every source
/// with `--robust-links`); a failing archive is one line on stderr, and
/// the report goes on without it.
async fn ask_archives(
    report: &mut Report,
    config: &Config,
    client: &reqwest::Client,
    every: bool,
) -> Mementos {
    let endpoint = config.schedule.memento_endpoint.as_str();
    let lookups = citeguard::memento::archived_copies(report, client, endpoint, every).await;
    if let Some(first) = lookups.failures.first() {
        eprintln!("citeguard: {}", citeguard::error::chain_text(first));
    }
    if lookups.failures.len() > 1 {
        eprintln!(
            "citeguard: the web archive failed for {} sources in all",
            lookups.failures.len()
        );
    }
    lookups.found
}

/// `--robust-links`: for each citation, the Robust Links HTML an author can
/// paste into the post in place of its link, on stderr (stdout holds the
/// report).
fn print_robust_links(report: &Report, mementos: &Mementos) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "Robust Links (paste in place of each citation's link):"
    );
    for c in &report.citations {
        let Some(url) = &c.url else { continue };
        let place = format!("{}:{}", citeguard::report::strip_controls(&c.post), c.line);
        match mementos.get(url) {
            Some(m) => {
                let date = m.datetime.get(..10).unwrap_or(&m.datetime);
                let html = citeguard::memento::robust_link(c, &m.url, date);
                let _ = writeln!(err, "{place}: {html}");
            }
            None => {
                let _ = writeln!(
                    err,
                    "{place}: no archived copy of {} to point to",
                    citeguard::report::strip_controls(url)
                );
            }
        }
    }
}
