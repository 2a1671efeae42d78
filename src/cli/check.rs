//! `citeguard check`: flags over config, collect, fetch with a progress bar
//! on a terminal, render, and the exit code.

use std::io::{IsTerminal, Write};
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressStyle};

use super::{CheckArgs, Outcome};
use citeguard::check::{self, Progress};
use citeguard::config::Config;
use citeguard::error::{Error, Result};
use citeguard::model::{Check, Recovered, Report, StillBroken, Verdict};
use citeguard::report::{self, RenderOptions};
use citeguard::schedule::Change;
use citeguard::store::archive::Archive;
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

/// Colour only on a terminal, and never when `NO_COLOR` is set.
pub fn color(output: Option<&std::path::PathBuf>) -> bool {
    output.is_none() && std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
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
        &mut |p| {
            for note in &p.notes {
                eprintln!("citeguard: {}: {note}", p.name);
            }
            posts.push(p)
        },
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
    let now = args.now.unwrap_or(started_at);
    let (mut report, mementos) = runtime.block_on(async {
        if args.no_store {
            let fetcher = Arc::new(citeguard::fetch::Fetcher::new(&config, None)?);
            let mut report = check::check(
                posts,
                &config,
                fetcher.clone(),
                &mut check::NoStore,
                &bar,
                now,
            )
            .await?;
            let mementos =
                ask_archives(&mut report, &config, fetcher.client(), args.robust_links).await;
            return Ok((report, mementos));
        }
        let store = Store::open(&config.store, Access::Write).await?;
        let previous = super::store::last_report(&store).await.ok().flatten();
        let spool = citeguard::fetch::spool_dir(store.root());
        let fetcher = Arc::new(citeguard::fetch::Fetcher::new(&config, Some(spool))?);
        let run_id = citeguard::base::time::run_id(now);
        let mut archive = Archive::begin(&store, &config, &run_id, now).await?;
        let mut report =
            check::check(posts, &config, fetcher.clone(), &mut archive, &bar, now).await?;
        report.run.id = run_id;
        report.store = Some(store.root().display().to_string());
        mark_changes(&mut report, previous.as_ref());
        let mementos =
            ask_archives(&mut report, &config, fetcher.client(), args.robust_links).await;
        archive.finish(&report).await?;
        if args.report.format == report::Format::Html
            && let Some(out) = &args.report.output
        {
            super::store::attach_offline_pages(&store, &mut report, out).await?;
        }
        store.close().await;
        Ok((report, mementos))
    })?;
    // Nothing left to wait for: background tasks must not hold the exit.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    if args.new_only {
        keep_new_only(&mut report);
    }

    let opts = RenderOptions {
        color: color(args.report.output.as_ref()),
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

/// Marks each row new, still or recovered against the previous run, and
/// lists what recovered.
fn mark_changes(report: &mut Report, previous: Option<&Report>) {
    let changes = citeguard::schedule::classify_changes(previous, report);
    for (row, change) in report.citations.iter_mut().zip(changes) {
        row.change = Some(change);
    }
    if let Some(prev) = previous {
        let was: std::collections::HashMap<(&str, &str, citeguard::model::Kind), Verdict> = prev
            .citations
            .iter()
            .filter_map(|c| Some(((c.post.as_str(), c.url.as_deref()?, c.kind), c.verdict)))
            .collect();
        let mut listed = std::collections::HashSet::new();
        report.recovered = report
            .citations
            .iter()
            .filter(|c| c.change == Some(Change::Recovered))
            .filter_map(|c| {
                let url = c.url.as_deref()?;
                let before = *was.get(&(c.post.as_str(), url, c.kind))?;
                listed.insert((c.post.as_str(), url)).then(|| Recovered {
                    post: c.post.clone(),
                    url: url.to_string(),
                    was: before,
                })
            })
            .collect();
    }
}

/// `--new-only`: the report lists (and fails on) only what got worse since
/// the previous run; what recovered is still listed.
fn keep_new_only(report: &mut Report) {
    let (keep, still): (Vec<_>, Vec<_>) = std::mem::take(&mut report.citations)
        .into_iter()
        .partition(|c| c.change.is_none_or(|ch| ch == Change::New));
    report.citations = keep;
    report.still = still
        .into_iter()
        .filter(|c| c.change == Some(Change::Still))
        .map(|c| StillBroken {
            since: c.history.as_ref().and_then(|h| h.failing_since.clone()),
            post: c.post,
            line: c.line,
            url: c.url,
            verdict: c.verdict,
            reason: c.reason,
        })
        .collect();
    let mut summary = citeguard::model::Summary {
        sources: report.summary.sources,
        ..Default::default()
    };
    for c in &report.citations {
        summary.count(c.verdict);
    }
    report.summary = summary;
}

/// Asks the Memento TimeGate for an archived copy of each dead source,
/// closest to the citing post's date. An archive that cannot be reached is
/// one line on stderr; the report goes on without it.
///
/// With `every` (`--robust-links`), every cited source is looked up, for the
/// Robust Links of each citation; only dead ones get a suggested
/// replacement in the report.
async fn ask_archives(
    report: &mut Report,
    config: &Config,
    client: &reqwest::Client,
    every: bool,
) -> std::collections::HashMap<String, citeguard::model::Memento> {
    use futures_util::StreamExt;
    let endpoint = config.schedule.memento_endpoint.as_str();
    if endpoint.is_empty() {
        return Default::default();
    }
    let mut wanted: Vec<(String, Option<chrono::DateTime<chrono::Utc>>)> = Vec::new();
    for c in &report.citations {
        if (every || c.verdict == Verdict::Dead)
            && let Some(url) = &c.url
            && !wanted.iter().any(|(u, _)| u == url)
        {
            wanted.push((url.clone(), c.post_date.as_deref().and_then(post_time)));
        }
    }
    let answers: Vec<_> = futures_util::stream::iter(wanted)
        .map(|(url, when)| async move {
            let answer = citeguard::memento::closest(client, endpoint, &url, when).await;
            (url, answer)
        })
        .buffer_unordered(8)
        .collect()
        .await;
    let mut found = std::collections::HashMap::new();
    let mut failures = 0;
    for (url, answer) in answers {
        match answer {
            Ok(Some(m)) => {
                found.insert(url, m);
            }
            Ok(None) => {}
            Err(e) => {
                if failures == 0 {
                    eprintln!("citeguard: {}", citeguard::error::chain_text(&e));
                }
                failures += 1;
            }
        }
    }
    if failures > 1 {
        eprintln!("citeguard: the web archive failed for {failures} sources in all");
    }
    for c in &mut report.citations {
        if c.verdict == Verdict::Dead
            && let Some(m) = c.url.as_ref().and_then(|u| found.get(u))
        {
            c.archived = Some(m.clone());
        }
    }
    found
}

/// A post's date (`YYYY-MM-DD` or RFC 3339) as a time.
fn post_time(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    if let Ok(t) = citeguard::base::time::parse_rfc3339(s) {
        return Some(t);
    }
    chrono::NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d")
        .ok()?
        .and_hms_opt(12, 0, 0)
        .map(|t| t.and_utc())
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
