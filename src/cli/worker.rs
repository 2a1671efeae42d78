//! `citeguard worker`: flags → `fleet::worker::work`, SIGTERM and Ctrl-C
//! → finish what it holds and stop, one line on stderr when it ends.
//! Glue only: what a worker does is in the library.

use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use super::Outcome;
use citeguard::error::Result;
use citeguard::fleet::worker::{self, Events, Reach};
use citeguard::fleet::{self, Queue};

#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// The queue: a PostgreSQL URL (postgres://user@host:port/db), the one
    /// `check --distributed` uses [default: --store].
    #[arg(long, value_name = "URL", required_unless_present = "store")]
    pub queue: Option<String>,
    /// The store of the runs that keep copies: the PostgreSQL URL of its
    /// index (the queue's tables live beside it, so it names the queue
    /// too) [default: the store the run's coordinator names].
    #[arg(long, value_name = "URL")]
    pub store: Option<String>,
    #[command(flatten)]
    pub objects: super::ObjectsArgs,
    /// Sources in flight at once in this worker [default: 32].
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// Seconds a claim holds without renewal: a killed worker's sources go
    /// to another worker after this [default: 60].
    #[arg(long, value_name = "SECS", value_parser = super::parse_timeout)]
    pub lease: Option<f64>,
    /// Stop once the queue holds no unfinished source (batch use).
    #[arg(long)]
    pub exit_when_idle: bool,
    /// This worker's name in the queue [default: host name, pid, random].
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Say nothing when it ends.
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn run(args: WorkerArgs) -> Result<Outcome> {
    let mut options = worker::Options::new(args.name.unwrap_or_else(worker::default_name));
    if let Some(n) = args.concurrency {
        options.concurrency = n.max(1);
    }
    if let Some(secs) = args.lease {
        options.lease = Duration::from_secs_f64(secs);
    }
    options.exit_when_idle = args.exit_when_idle;
    // The run's config says where its store is; what this worker's flags
    // and environment say goes over it (credentials are only ever here).
    let mut flags = citeguard::config::Config::default();
    let store = args.store.as_ref().map(std::path::PathBuf::from);
    super::apply_store_args(&mut flags, store.as_ref(), &args.objects);
    options.store = worker::StoreFlags {
        store: args.store.clone(),
        objects: flags.objects,
        s3_endpoint: flags.s3_endpoint,
        s3_region: flags.s3_region,
        s3_credentials: flags.s3_credentials,
    };
    let Some(queue_url) = args.queue.clone().or(args.store.clone()) else {
        return Err(citeguard::error::Error::Usage(
            "worker: name the queue with --queue URL (or the store with --store URL)".into(),
        ));
    };
    let who = format!("worker {}", options.name);
    let lines = Arc::new(super::FleetLines {
        who: who.clone(),
        quiet: args.quiet,
    });
    let tally = super::block_on(async {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            wait_for_signal().await;
            let _ = stop.send(true);
        });
        let Some(queue) = open(&queue_url, &options, lines.clone(), stopped.clone()).await else {
            return Ok(None);
        };
        fleet::worker::work(queue, options, lines, stopped)
            .await
            .map(Some)
    })?;
    if let Some(t) = tally
        && !args.quiet
    {
        crate::say(format_args!(
            "{who}: {} sources checked, {} taken over by another worker, {} statements to PostgreSQL",
            t.sources, t.dropped, t.statements
        ));
    }
    Ok(Outcome::Clean)
}

/// Opens the queue, retrying while it cannot be reached; `None` when told
/// to stop first.
async fn open(
    url: &str,
    options: &worker::Options,
    events: Arc<dyn Events>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Option<Queue> {
    let connections = options.concurrency.min(16) as u32 + 2;
    Reach::new(events)
        .retry_until(|| Queue::open(url, connections), stop.changed())
        .await
}

/// SIGTERM (or Ctrl-C): finish the current sources and stop.
async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
