//! The commands that read or tend the store: `report`, `verify`, `diff`,
//! `accept`, `show`, `export`. Glue only: flags, one call into `store`,
//! the output. None of them touches the network.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::{Outcome, block_on};
use citeguard::config::Config;
use citeguard::error::{Error, Result};
use citeguard::model::DiffOp;
use citeguard::report::{self, RenderOptions};
use citeguard::store::diff::baseline_vs_latest;
use citeguard::store::export;
use citeguard::store::pages::attach_offline_pages;
use citeguard::store::report::last_report;
use citeguard::store::show::{Form, Pick, offline_copy};
use citeguard::store::{Access, Store};

#[derive(Debug, Args)]
pub struct StoreArgs {
    /// The store: a directory, or postgres://USER@HOST:PORT/DB for an
    /// index on PostgreSQL [default: ./snapshots, or `store` in the config].
    #[arg(long, value_name = "DIR|URL")]
    pub store: Option<PathBuf>,
    #[command(flatten)]
    pub objects: super::ObjectsArgs,
    /// Config file [default: ./citeguard.toml if present].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

impl StoreArgs {
    /// The config, with where the store is applied over it.
    fn config(&self) -> Result<Config> {
        let mut config = super::load_config(self.config.as_ref())?;
        super::apply_store_args(&mut config, self.store.as_ref(), &self.objects);
        Ok(config)
    }
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub report: super::ReportOutput,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The source URL, as cited.
    pub url: String,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Args)]
pub struct AcceptArgs {
    /// The source URLs whose latest snapshot becomes the baseline.
    #[arg(required = true)]
    pub urls: Vec<String>,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShowAs {
    /// One self-contained HTML file that opens offline.
    Html,
    /// The extracted main text.
    Text,
    /// The WARC records of the capture (the response, or a revisit of an
    /// earlier identical one, and its request), gzipped as stored.
    Warc,
    /// The body exactly as received.
    Raw,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The source URL, as cited.
    pub url: String,
    #[arg(long = "as", value_enum, default_value_t = ShowAs::Text)]
    pub show_as: ShowAs,
    /// The snapshot taken at or before DATE (YYYY-MM-DD or RFC 3339)
    /// instead of the latest; `baseline` for the baseline.
    #[arg(long, value_name = "DATE")]
    pub at: Option<String>,
    /// Write to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct ExportTarget {
    /// One WARC file holding every exchange of the archive.
    #[arg(long, value_name = "FILE")]
    pub warc: Option<PathBuf>,
    /// A WACZ package (WARCs, CDXJ index, pages, datapackage) for
    /// ReplayWeb.page or pywb.
    #[arg(long, value_name = "FILE")]
    pub wacz: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub target: ExportTarget,
    #[command(flatten)]
    pub store: StoreArgs,
}

async fn open(args: &StoreArgs, access: Access) -> Result<Store> {
    Store::open_config(&args.config()?, access).await
}

/// Writes a command's output through `f` into what `open_output` opened;
/// a file takes its target's place only once all of it is written.
fn write_out(
    mut out: super::Output,
    output: Option<&PathBuf>,
    f: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    f(&mut out).map_err(|e| Error::io(output.cloned().unwrap_or_else(|| "stdout".into()), e))?;
    out.finish()
}

pub fn report(args: ReportArgs) -> Result<Outcome> {
    let config = args.store.config()?;
    let fail_on = args
        .report
        .fail_on
        .clone()
        .unwrap_or(config.fail_on.clone());
    // Opened first, so a bad path fails before any work; the file replaces
    // what was there only once the report is written whole.
    let out = super::open_output(args.report.output.as_ref())?;
    let report = block_on(async {
        let store = Store::open_config(&config, Access::Read).await?;
        let mut report = last_report(&store).await?.ok_or_else(|| Error::Store {
            path: store.name().to_path_buf(),
            cause: "no finished run in this store yet (run `citeguard check` first)".into(),
        })?;
        if args.report.format == report::Format::Html
            && let Some(out) = &args.report.output
        {
            attach_offline_pages(&store, &mut report, out).await?;
        }
        Ok::<_, Error>(report)
    })?;
    let opts = RenderOptions {
        color: super::color(args.report.output.as_ref()),
        fail_on: fail_on.clone(),
    };
    write_out(out, args.report.output.as_ref(), |out| {
        report::render(&report, args.report.format, &opts, out)
    })?;
    Ok(if citeguard::check::flagged(&report, &fail_on) {
        Outcome::Flagged
    } else {
        Outcome::Clean
    })
}

pub fn verify(args: StoreArgs) -> Result<Outcome> {
    block_on(async {
        let store = open(&args, Access::Tend).await?;
        let found = citeguard::store::verify::verify(&store, chrono::Utc::now()).await?;
        let mut out = super::stdout();
        for p in &found.problems {
            let _ = writeln!(out, "{p}");
        }
        store.close().await;
        let n = found.problems.len();
        let _ = writeln!(
            out,
            "{} objects checked, {n} problem{}",
            found.objects,
            if n == 1 { "" } else { "s" }
        );
        Ok(if n == 0 {
            Outcome::Clean
        } else {
            Outcome::Flagged
        })
    })
}

pub fn diff(args: DiffArgs) -> Result<Outcome> {
    block_on(async {
        let store = open(&args.store, Access::Read).await?;
        let diff = baseline_vs_latest(&store, &args.url).await?;
        let (b, l) = (&diff.baseline, &diff.latest);
        let color = super::color(None);
        let mut out = super::stdout();
        let io = |e| Error::io("stdout", e);
        writeln!(
            out,
            "--- baseline {} ({})",
            b.fetched_at,
            &b.body_sha256[..citeguard::base::text::floor_char_boundary(&b.body_sha256, 12)]
        )
        .map_err(io)?;
        writeln!(
            out,
            "+++ latest   {} ({})",
            l.fetched_at,
            &l.body_sha256[..citeguard::base::text::floor_char_boundary(&l.body_sha256, 12)]
        )
        .map_err(io)?;
        let Some(change) = diff.change else {
            writeln!(out, "the texts are the same").map_err(io)?;
            return Ok(Outcome::Clean);
        };
        writeln!(out, "similarity {:.0}%", change.similarity * 100.0).map_err(io)?;
        for span in change.spans {
            let text = citeguard::report::strip_controls(&span.text);
            let s = match (span.op, color) {
                (DiffOp::Equal, _) => text,
                (DiffOp::Delete, true) => format!("\x1b[31;9m{text}\x1b[0m"),
                (DiffOp::Insert, true) => format!("\x1b[32m{text}\x1b[0m"),
                (DiffOp::Delete, false) => format!("[-{text}-]"),
                (DiffOp::Insert, false) => format!("{{+{text}+}}"),
            };
            write!(out, "{s}").map_err(io)?;
        }
        writeln!(out).map_err(io)?;
        Ok(Outcome::Flagged)
    })
}

pub fn accept(args: AcceptArgs) -> Result<Outcome> {
    block_on(async {
        let store = open(&args.store, Access::Write).await?;
        let now = chrono::Utc::now();
        for url in &args.urls {
            let latest = citeguard::store::baseline::accept(&store, url, now).await?;
            writeln!(
                super::stdout(),
                "{url}: baseline is now the copy of {}",
                latest.fetched_at
            )
            .map_err(|e| Error::io("stdout", e))?;
        }
        store.close().await;
        Ok(Outcome::Clean)
    })
}

/// The snapshot `--at` names: the baseline, or the latest at or before a
/// date (a bare date means the end of that day).
fn pick(at: Option<&str>) -> Result<Pick> {
    Ok(match at {
        None => Pick::Latest,
        Some("baseline") => Pick::Baseline,
        Some(date) => {
            let bound = if date.len() == 10 {
                format!("{date}T23:59:59Z")
            } else {
                super::parse_time(date)
                    .map(citeguard::base::time::rfc3339)
                    .map_err(|m| Error::Usage(format!("--at {m}")))?
            };
            Pick::AtOrBefore {
                bound,
                asked: date.to_string(),
            }
        }
    })
}

pub fn show(args: ShowArgs) -> Result<Outcome> {
    let pick = pick(args.at.as_deref())?;
    let form = match args.show_as {
        ShowAs::Html => Form::Html,
        ShowAs::Text => Form::Text,
        ShowAs::Warc => Form::Warc,
        ShowAs::Raw => Form::Raw,
    };
    let out = super::open_output(args.output.as_ref())?;
    let copy = block_on(async {
        let store = open(&args.store, Access::Read).await?;
        offline_copy(&store, &args.url, &pick, form).await
    })?;
    write_out(out, args.output.as_ref(), |out| out.write_all(&copy))?;
    Ok(Outcome::Clean)
}

pub fn export(args: ExportArgs) -> Result<Outcome> {
    block_on(async {
        let store = open(&args.store, Access::Read).await?;
        let contents = export::contents(&store).await?;
        if let Some(out) = &args.target.warc {
            super::check_parent("--warc", out)?;
            export::write_warc(&contents, out)?;
            crate::say(format_args!(
                "wrote {} ({} WARC files)",
                out.display(),
                contents.parts.len()
            ));
        }
        if let Some(out) = &args.target.wacz {
            super::check_parent("--wacz", out)?;
            export::write_wacz(&store, &contents, out)?;
            crate::say(format_args!("wrote {}", out.display()));
        }
        for line in &contents.left_out {
            crate::say(format_args!("left out a damaged record: {line}"));
        }
        Ok(if contents.left_out.is_empty() {
            Outcome::Clean
        } else {
            Outcome::Flagged
        })
    })
}
