//! `citeguard check`: flags over config, collect, fetch with a progress bar
//! on a terminal, render, and the exit code.

use std::io::{IsTerminal, Write};
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressStyle};

use super::{CheckArgs, Outcome};
use citeguard::check::{self, Progress};
use citeguard::config::Config;
use citeguard::error::{Error, Result};
use citeguard::model::{Check, Verdict};
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
    for (host, addr) in &a.resolve {
        f.resolve.insert(host.clone(), *addr);
    }
    if let Some(v) = &a.fail_on {
        config.fail_on = v.clone();
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

pub fn run(args: CheckArgs) -> Result<Outcome> {
    let mut config = super::load_config(args.input.config.as_ref())?;
    super::apply_input_args(&mut config, &args.input);
    apply(&mut config, &args);
    config.validate().map_err(Error::Usage)?;
    citeguard::collect::validate(&config.collect)?;
    // Open the output first: a bad --output path fails before any fetching.
    let mut out = super::open_output(args.output.as_ref())?;

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

    let show_bar = !args.quiet && std::io::stderr().is_terminal();
    let bar = Bar {
        bar: if show_bar {
            ProgressBar::new(0)
        } else {
            ProgressBar::hidden()
        },
        failures: Default::default(),
    };
    bar.bar.set_style(
        ProgressStyle::with_template(
            "{spinner} checking {pos}/{len} sources [{bar:30}] {per_sec} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );

    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| Error::Usage(format!("cannot start the runtime: {e}")))?;
    let report = runtime.block_on(async {
        let fetcher = Arc::new(citeguard::fetch::Fetcher::new(&config, None)?);
        check::check(
            posts,
            &config,
            fetcher,
            &mut check::NoStore,
            &bar,
            started_at,
        )
        .await
    })?;

    let opts = RenderOptions {
        color: args.output.is_none()
            && std::io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none(),
        fail_on: config.fail_on.clone(),
    };
    if std::env::var_os("GITHUB_ACTIONS").is_some() {
        // Best effort: annotations are a convenience beside the report.
        let _ = report::github::render(&report, &config.fail_on, &mut std::io::stderr().lock());
    }
    report::render(&report, args.format, &opts, &mut out)
        .and_then(|_| out.flush())
        .map_err(|e| Error::io(args.output.clone().unwrap_or_else(|| "stdout".into()), e))?;

    Ok(if failed_inputs > 0 {
        Outcome::InputErrors
    } else if check::flagged(&report, &config.fail_on) {
        Outcome::Flagged
    } else {
        Outcome::Clean
    })
}
