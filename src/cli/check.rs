//! `citeguard check`: flags over config, collect, check (through the store
//! unless `--no-store`) with a progress bar on a terminal, render, and the
//! exit code. Glue only: what a run does is in the library.

use std::io::{IsTerminal, Write};

use indicatif::{ProgressBar, ProgressStyle};

use super::{CheckArgs, Outcome};
use citeguard::check::{self, Progress};
use citeguard::config::Config;
use citeguard::error::{Error, Result};
use citeguard::model::{Check, Report};
use citeguard::report::{self, RenderOptions};

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
    if a.allow_private {
        f.allow_private = true;
    }
    for (host, addr) in &a.resolve {
        f.resolve.insert(host.clone(), *addr);
    }
    if let Some(v) = &a.report.fail_on {
        config.fail_on = v.clone();
    }
    super::apply_store_args(config, a.store.as_ref(), &a.objects);
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
        if check.verdict.is_flagged() {
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

pub fn run(args: CheckArgs) -> Result<Outcome> {
    let mut config = super::load_config(args.input.config.as_ref())?;
    super::apply_input_args(&mut config, &args.input);
    apply(&mut config, &args);
    config.validate().map_err(Error::Usage)?;
    citeguard::collect::validate(&config.collect)?;
    // A distributed run's workers write its copies together, beside the
    // coordinator: only an index on PostgreSQL takes many writers.
    let store_url = config.store.to_string_lossy().into_owned();
    let shared_store = citeguard::store::is_postgres_url(&store_url);
    if args.distributed && !args.no_store && !shared_store {
        return Err(Error::Usage(format!(
            "--distributed: the workers keep the run's copies together, which needs a store \
             on PostgreSQL (--store postgres://…, with --objects), not {}; or check with \
             --no-store",
            config.store.display()
        )));
    }
    let queue_url = match (&args.queue, args.distributed) {
        (Some(q), _) => Some(q.clone()),
        (None, true) if shared_store && !args.no_store => Some(store_url),
        (None, true) => {
            return Err(Error::Usage(
                "--distributed needs the queue: --queue postgres://… (or a store on PostgreSQL, \
                 --store postgres://…, whose database holds it)"
                    .into(),
            ));
        }
        (None, false) => None,
    };
    // Open the output first: a bad --output path fails before any fetching.
    let mut out = super::open_output(args.report.output.as_ref())?;

    let started_at = chrono::Utc::now();
    let options = check::RunOptions {
        keep: !args.no_store,
        robust_links: args.robust_links,
        offline_pages_beside: args
            .report
            .output
            .clone()
            .filter(|_| args.report.format == report::Format::Html),
    };
    // A run that stores here opens its store, reads the previous report
    // and every source's state on the runtime's threads while the posts
    // are collected on this one.
    let runtime = super::runtime()?;
    // On a thread of its own that waits on the runtime (`Handle::block_on`):
    // the opening future holds sqlx's borrows, which a spawned task cannot.
    let opening = (options.keep && !args.distributed).then(|| {
        let config = config.clone();
        let runtime = runtime.handle().clone();
        std::thread::spawn(move || runtime.block_on(check::open_store(&config, true)))
    });
    let mut failed_inputs = 0usize;
    let mut posts = Vec::new();
    citeguard::collect::collect(
        &args.input.inputs,
        &config.collect,
        &mut |p| {
            for note in &p.notes {
                eprintln!("citeguard: {}: {note}", p.name);
            }
            posts.push(p)
        },
        &mut |e| {
            failed_inputs += 1;
            crate::print_error(&e);
        },
    );

    let bar = Bar::new(!args.quiet && std::io::stderr().is_terminal());
    let now = args.now.unwrap_or(started_at);
    let opened = match opening.map(std::thread::JoinHandle::join) {
        Some(Ok(opened)) => Some(opened?),
        Some(Err(panic)) => {
            let cause = citeguard::base::panic_message(&*panic);
            return Err(Error::setup("open the store", cause));
        }
        None => None,
    };
    let opts = RenderOptions {
        color: super::color(args.report.output.as_ref()),
        fail_on: config.fail_on.clone(),
    };
    // The report is printed as soon as it is whole, while the store keeps
    // it, unless something is done to it first (--new-only).
    let mut present = |report: &citeguard::model::Report| {
        report::render(report, args.report.format, &opts, &mut out).map_err(|e| {
            let name = args.report.output.clone();
            Error::io(name.unwrap_or_else(|| "stdout".into()), e)
        })
    };
    let early = !args.new_only;
    let check::Run {
        mut report,
        mementos,
    } = super::block_on_in(runtime, async {
        let ahead = check::Ahead {
            opened,
            present: early.then_some(&mut present as check::Present),
        };
        match queue_url.as_deref().filter(|_| args.distributed) {
            Some(url) => {
                let queue = citeguard::fleet::Queue::open(url, 2).await?;
                let lines = super::FleetLines {
                    who: "check".into(),
                    quiet: args.quiet,
                };
                let mut fleet =
                    citeguard::fleet::Distributed::new(queue, &config, std::sync::Arc::new(lines));
                check::run_with(posts, &config, &options, &bar, now, &mut fleet, ahead).await
            }
            None => {
                check::run_with(posts, &config, &options, &bar, now, &mut check::Here, ahead).await
            }
        }
    })?;
    say_archive_failures(&mementos.failures);
    let mementos = mementos.found;
    if args.new_only {
        citeguard::schedule::keep_new_only(&mut report);
    }
    if std::env::var_os("GITHUB_ACTIONS").is_some() {
        // Best effort: annotations are a convenience beside the report.
        let _ = report::github::render(&report, &config.fail_on, &mut std::io::stderr().lock());
    }
    if !early {
        present(&report)?;
    }
    out.finish()?;
    if args.robust_links {
        print_robust_links(&report, &mementos);
    }

    let outcome = if failed_inputs > 0 {
        Outcome::InputErrors
    } else if check::flagged(&report, &config.fail_on) {
        Outcome::Flagged
    } else {
        Outcome::Clean
    };
    // The process ends next: freeing the report's rows one by one (10,000
    // for 200 posts) would only delay the exit.
    std::mem::forget(report);
    Ok(outcome)
}

/// A failing web archive is one line on stderr (and a count when it failed
/// more than once); the report goes on without it.
fn say_archive_failures(failures: &[citeguard::memento::MementoError]) {
    if let Some(first) = failures.first() {
        crate::say(citeguard::error::chain_text(first));
    }
    if failures.len() > 1 {
        crate::say(format_args!(
            "the web archive failed for {} sources in all",
            failures.len()
        ));
    }
}

/// `--robust-links`: for each citation, the Robust Links HTML an author can
/// paste into the post in place of its link, on stderr (stdout holds the
/// report).
fn print_robust_links(
    report: &Report,
    mementos: &std::collections::HashMap<String, citeguard::model::Memento>,
) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "Robust Links (paste in place of each citation's link):"
    );
    for c in &report.citations {
        let Some(url) = &c.url else { continue };
        let place = format!(
            "{}:{}",
            citeguard::base::escape::strip_controls(&c.post),
            c.line
        );
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
                    citeguard::base::escape::strip_controls(url)
                );
            }
        }
    }
}
