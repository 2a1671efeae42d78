//! The commands that read or tend the store: `report`, `verify`, `diff`,
//! `accept`, `show`, `export`. None of them touches the network.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::Outcome;
use citeguard::config::Config;
use citeguard::error::{Error, Result};
use citeguard::model::{DiffOp, Report};
use citeguard::report::{self, RenderOptions};
use citeguard::store::{Access, Health, Objects, SnapshotRow, Store};

#[derive(Debug, Args)]
pub struct StoreArgs {
    /// The store [default: ./snapshots, or `store` in the config].
    #[arg(long, value_name = "DIR")]
    pub store: Option<PathBuf>,
    /// Config file [default: ./citeguard.toml if present].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

impl StoreArgs {
    fn config(&self) -> Result<Config> {
        super::load_config(self.config.as_ref())
    }

    fn path(&self, config: &Config) -> PathBuf {
        self.store.clone().unwrap_or_else(|| config.store.clone())
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
    /// The WARC record of the response, gzipped as stored.
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

/// Runs a command's future, then stops the runtime without waiting on
/// background tasks (the index pool's upkeep) that could hold the exit.
fn block_on<T>(f: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Usage(format!("cannot start the runtime: {e}")))?;
    let out = rt.block_on(f);
    rt.shutdown_timeout(std::time::Duration::from_secs(1));
    out
}

async fn open(args: &StoreArgs, access: Access) -> Result<Store> {
    let config = args.config()?;
    Store::open(&args.path(&config), access).await
}

fn write_out(
    output: Option<&PathBuf>,
    f: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    let mut out = super::open_output(output)?;
    f(&mut out)
        .and_then(|_| out.flush())
        .map_err(|e| Error::io(output.cloned().unwrap_or_else(|| "stdout".into()), e))
}

/// The report of the last finished run, as it was written.
pub async fn last_report(store: &Store) -> Result<Option<Report>> {
    let Some((id, json)) = store.index.last_report().await.map_err(|e| store.err(e))? else {
        return Ok(None);
    };
    let report: Report = serde_json::from_str(&json)
        .map_err(|e| store.err(format!("run {id}: unreadable report: {e}")))?;
    if report.version > Report::VERSION {
        return Err(store.err(format!(
            "run {id} was written by a newer citeguard (report version {}; this one reads {}): upgrade citeguard",
            report.version,
            Report::VERSION
        )));
    }
    Ok(Some(report))
}

pub fn report(args: ReportArgs) -> Result<Outcome> {
    let config = args.store.config()?;
    let fail_on = args
        .report
        .fail_on
        .clone()
        .unwrap_or(config.fail_on.clone());
    let path = args.store.path(&config);
    let report = block_on(async {
        let store = Store::open(&path, Access::Read).await?;
        let mut report = last_report(&store).await?.ok_or_else(|| Error::Store {
            path: path.clone(),
            cause: "no finished run in this store yet (run `citeguard check` first)".into(),
        })?;
        if args.report.format == citeguard::report::Format::Html
            && let Some(out) = &args.report.output
        {
            super::open_output(Some(out))?;
            attach_offline_pages(&store, &mut report, out).await?;
        }
        Ok::<_, Error>(report)
    })?;
    let opts = RenderOptions {
        color: super::check::color(args.report.output.as_ref()),
        fail_on: fail_on.clone(),
    };
    write_out(args.report.output.as_ref(), |out| {
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
        let problems = verify_store(&store).await?;
        let mut out = std::io::stdout().lock();
        for p in &problems {
            let _ = writeln!(out, "{p}");
        }
        let objects = store.objects.list().map(|l| l.len()).unwrap_or(0);
        let _ = writeln!(
            out,
            "{} objects checked, {} problem{}",
            objects,
            problems.len(),
            if problems.len() == 1 { "" } else { "s" }
        );
        Ok(if problems.is_empty() {
            Outcome::Clean
        } else {
            Outcome::Flagged
        })
    })
}

/// Re-hashes every object and checks every snapshot row against the files
/// and the WARC records; marks what is damaged so the next check reports
/// `snapshot-lost`. Returns one line per problem.
async fn verify_store(store: &Store) -> Result<Vec<String>> {
    let err = |e| store.err(e);
    let mut problems = Vec::new();
    let integrity = store.index.integrity().await.map_err(err)?;
    if integrity != ["ok"] {
        problems.push(format!("index: {}", integrity.join("; ")));
    }
    let now = citeguard::base::time::rfc3339(chrono::Utc::now());
    let mut seen = std::collections::HashMap::new();
    let snapshots = store.index.all_snapshots().await.map_err(err)?;
    for s in &snapshots {
        let objects = std::iter::once(("body", s.body_sha256.as_str()))
            .chain(s.text_sha256.as_deref().map(|t| ("text", t)));
        for (what, sha) in objects {
            let health = *seen
                .entry(sha.to_string())
                .or_insert_with(|| store.objects.health(sha));
            match health {
                Health::Sound => {}
                Health::Missing | Health::Corrupt => {
                    let word = if health == Health::Missing {
                        "missing"
                    } else {
                        "corrupt"
                    };
                    problems.push(format!(
                        "{word}: {} ({what} of {} taken {})",
                        Objects::relative_path(sha),
                        s.url,
                        s.fetched_at
                    ));
                    store
                        .index
                        .mark_damaged(sha, &now, word)
                        .await
                        .map_err(err)?;
                }
            }
        }
        if let (Some(file), Some(offset)) = (&s.warc_file, s.warc_offset) {
            let path = store.warc_dir().join(file);
            match citeguard::store::warc::read_record(&path, offset) {
                Ok(r) if r.header("WARC-Target-URI").is_some() => {}
                Ok(_) => problems.push(format!(
                    "warc: {file} at {offset} is not the response record of {}",
                    s.url
                )),
                Err(e) => problems.push(format!("warc: {file} at {offset} ({}): {e}", s.url)),
            }
        }
    }
    // Every other object on disk is re-hashed too: a damaged one would be
    // served by `show` the day a row names it.
    for sha in store.objects.list().map_err(|e| store.err(e))? {
        if seen.contains_key(&sha) {
            continue;
        }
        let health = store.objects.health(&sha);
        if health != Health::Sound {
            problems.push(format!(
                "corrupt: {} (no snapshot names it)",
                Objects::relative_path(&sha)
            ));
        }
        seen.insert(sha, health);
    }
    // Objects that were marked damaged and are sound again (a later run
    // fetched the same bytes) are cleared.
    for (sha, health) in &seen {
        if *health == Health::Sound {
            store.index.clear_damaged(sha).await.map_err(err)?;
        }
    }
    Ok(problems)
}

pub fn diff(args: DiffArgs) -> Result<Outcome> {
    block_on(async {
        let store = open(&args.store, Access::Read).await?;
        let source = store.find_source(&args.url).await?;
        let e = |e| store.err(e);
        let baseline = store.index.baseline(source.id).await.map_err(e)?;
        let latest = store
            .index
            .latest_snapshot(source.id, None)
            .await
            .map_err(e)?;
        let (Some(b), Some(l)) = (baseline, latest) else {
            return Err(Error::Usage(format!(
                "{}: no snapshot stored yet",
                args.url
            )));
        };
        let text = |s: &SnapshotRow| {
            store.text_of(s).ok_or_else(|| {
                Error::Usage(format!(
                    "{}: the snapshot of {} has no stored text ({})",
                    args.url,
                    s.fetched_at,
                    s.content_type.as_deref().unwrap_or("no content type")
                ))
            })
        };
        let (bt, lt) = (text(&b)?, text(&l)?);
        let color = super::check::color(None);
        let mut out = std::io::stdout().lock();
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
        if b.id == l.id || bt == lt {
            writeln!(out, "the texts are the same").map_err(io)?;
            return Ok(Outcome::Clean);
        }
        let sim = citeguard::compare::similarity(&bt, &lt);
        writeln!(out, "similarity {:.0}%", sim * 100.0).map_err(io)?;
        for span in citeguard::compare::word_diff(&bt, &lt) {
            let text = citeguard::base::escape::strip_controls(&span.text);
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
        let now = citeguard::base::time::rfc3339(chrono::Utc::now());
        for url in &args.urls {
            let source = store.find_source(url).await?;
            let e = |e| store.err(e);
            let latest = store
                .index
                .latest_snapshot(source.id, None)
                .await
                .map_err(e)?;
            let Some(latest) = latest else {
                return Err(Error::Usage(format!("{url}: no snapshot stored yet")));
            };
            if !store.objects.exists(&latest.body_sha256) {
                return Err(Error::Usage(format!(
                    "{url}: the latest snapshot ({}) is gone from the store too; run `citeguard check` to take a new one",
                    latest.fetched_at
                )));
            }
            store
                .index
                .set_baseline(source.id, latest.id, &now, "accepted")
                .await
                .map_err(e)?;
            println!("{url}: baseline is now the copy of {}", latest.fetched_at);
        }
        Ok(Outcome::Clean)
    })
}

/// The snapshot `--at` names: the baseline, or the latest at or before a
/// date (a bare date means the end of that day).
async fn pick(store: &Store, url: &str, at: Option<&str>) -> Result<SnapshotRow> {
    let source = store.find_source(url).await?;
    let e = |e| store.err(e);
    let found = match at {
        Some("baseline") => store.index.baseline(source.id).await.map_err(e)?,
        Some(date) => {
            let bound = if date.len() == 10 {
                format!("{date}T23:59:59Z")
            } else {
                super::parse_time(date)
                    .map(citeguard::base::time::rfc3339)
                    .map_err(|m| Error::Usage(format!("--at {m}")))?
            };
            store
                .index
                .latest_snapshot(source.id, Some(&bound))
                .await
                .map_err(e)?
        }
        None => store
            .index
            .latest_snapshot(source.id, None)
            .await
            .map_err(e)?,
    };
    found.ok_or_else(|| {
        Error::Usage(match at {
            Some(d) => format!("{url}: no snapshot at or before {d}"),
            None => format!("{url}: no snapshot stored yet"),
        })
    })
}

pub fn show(args: ShowArgs) -> Result<Outcome> {
    block_on(async {
        let store = open(&args.store, Access::Read).await?;
        let snap = pick(&store, &args.url, args.at.as_deref()).await?;
        let body = store.objects.read(&snap.body_sha256).map_err(|e| {
            store.err(format!(
                "{}: the copy of {} is gone ({e}); `citeguard verify` lists what is lost",
                args.url, snap.fetched_at
            ))
        })?;
        match args.show_as {
            ShowAs::Raw => write_out(args.output.as_ref(), |out| out.write_all(&body)),
            ShowAs::Text => {
                let text = store.text_of(&snap).ok_or_else(|| {
                    Error::Usage(format!(
                        "{}: no text was extracted from this snapshot ({}); try --as raw",
                        args.url,
                        snap.content_type.as_deref().unwrap_or("no content type")
                    ))
                })?;
                write_out(args.output.as_ref(), |out| writeln!(out, "{text}"))
            }
            ShowAs::Warc => {
                let (Some(file), Some(offset), Some(length)) =
                    (&snap.warc_file, snap.warc_offset, snap.warc_length)
                else {
                    return Err(Error::Usage(format!("{}: no WARC record stored", args.url)));
                };
                let path = store.warc_dir().join(file);
                write_out(args.output.as_ref(), |out| {
                    citeguard::store::warc::copy_member(&path, offset, length, out)
                })
            }
            ShowAs::Html => {
                let html = offline_html(&store, &snap, &body).await?;
                write_out(args.output.as_ref(), |out| out.write_all(html.as_bytes()))
            }
        }?;
        Ok(Outcome::Clean)
    })
}

/// One self-contained HTML file for a snapshot: requisites inlined from the
/// store, scripts out, a banner saying what it is.
pub async fn offline_html(store: &Store, snap: &SnapshotRow, body: &[u8]) -> Result<String> {
    use citeguard::store::offline::{Banner, render_offline};
    let base = url::Url::parse(snap.final_url.as_deref().unwrap_or(&snap.url))
        .map_err(|e| store.err(format!("{}: {e}", snap.url)))?;
    let family = citeguard::compare::content_family(snap.content_type.as_deref());
    let html = if family == "html" {
        citeguard::base::text::decode_text(body.to_vec(), snap.charset.as_deref())
            .map_err(|e| store.err(format!("{}: {e}", snap.url)))?
    } else if let Some(text) = store.text_of(snap) {
        format!("<pre>{}</pre>", citeguard::base::escape::html(&text))
    } else {
        return Err(Error::Usage(format!(
            "{}: not an HTML page ({}); try --as raw",
            snap.url,
            snap.content_type.as_deref().unwrap_or("no content type")
        )));
    };
    // Requisites as they were when the page was taken: each one's latest
    // snapshot at or before the page's.
    let mut found: std::collections::HashMap<String, (Option<String>, Vec<u8>)> =
        Default::default();
    let e = |e| store.err(e);
    for req in store.index.requisites(snap.id).await.map_err(e)? {
        let Some(src) = store.index.find_source(&req).await.map_err(e)? else {
            continue;
        };
        let at = store
            .index
            .latest_snapshot(src.id, Some(&snap.fetched_at))
            .await
            .map_err(e)?;
        let at = match at {
            Some(s) => Some(s),
            None => store.index.latest_snapshot(src.id, None).await.map_err(e)?,
        };
        if let Some(s) = at
            && let Ok(bytes) = store.objects.read(&s.body_sha256)
        {
            found.insert(req, (s.content_type.clone(), bytes));
        }
    }
    let lookup = |u: &url::Url| found.get(u.as_str()).cloned();
    let banner = Banner {
        url: &snap.url,
        taken_at: &snap.fetched_at,
        sha256: &snap.body_sha256,
        note: None,
    };
    Ok(render_offline(&html, &base, &lookup, &banner))
}

pub fn export(args: ExportArgs) -> Result<Outcome> {
    block_on(async {
        let store = open(&args.store, Access::Read).await?;
        let mut warcs: Vec<PathBuf> = std::fs::read_dir(store.warc_dir())
            .map(|d| {
                d.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.to_string_lossy().ends_with(".warc.gz"))
                    .collect()
            })
            .unwrap_or_default();
        warcs.sort();
        if warcs.is_empty() {
            return Err(store.err("nothing archived yet (run `citeguard check` first)"));
        }
        if let Some(out) = &args.target.warc {
            check_parent(out)?;
            citeguard::store::wacz::concat_warcs(&warcs, out).map_err(|e| Error::io(out, e))?;
            eprintln!(
                "citeguard: wrote {} ({} WARC files)",
                out.display(),
                warcs.len()
            );
        }
        if let Some(out) = &args.target.wacz {
            check_parent(out)?;
            write_wacz(&store, &warcs, out).await?;
            eprintln!("citeguard: wrote {}", out.display());
        }
        Ok(Outcome::Clean)
    })
}

fn check_parent(out: &Path) -> Result<()> {
    match out.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) if !dir.is_dir() => Err(Error::Usage(format!(
            "{}: the directory {} does not exist",
            out.display(),
            dir.display()
        ))),
        _ => Ok(()),
    }
}

async fn write_wacz(store: &Store, warcs: &[PathBuf], out: &Path) -> Result<()> {
    use citeguard::store::wacz::{CdxEntry, PageEntry, write_wacz};
    let snapshots = store
        .index
        .all_snapshots()
        .await
        .map_err(|e| store.err(e))?;
    let time = |s: &str| citeguard::base::time::parse_rfc3339(s).unwrap_or_default();
    let mut cdx = Vec::new();
    let mut pages = Vec::new();
    let mut seen_pages = std::collections::HashSet::new();
    for s in &snapshots {
        let (Some(file), Some(offset), Some(length)) = (&s.warc_file, s.warc_offset, s.warc_length)
        else {
            continue;
        };
        let url = s.final_url.clone().unwrap_or_else(|| s.url.clone());
        cdx.push(CdxEntry {
            url: url.clone(),
            ts: time(&s.fetched_at),
            mime: s.content_type.clone(),
            status: s.status,
            digest: format!("sha256:{}", s.body_sha256),
            filename: file.clone(),
            offset,
            length,
        });
        let is_page = citeguard::compare::content_family(s.content_type.as_deref()) == "html";
        if is_page && seen_pages.insert(url.clone()) {
            pages.push(PageEntry {
                url,
                ts: time(&s.fetched_at),
                title: None,
            });
        }
    }
    let title = format!("citeguard archive of {}", store.root().display());
    write_wacz(out, warcs, &cdx, &pages, &title).map_err(|e| Error::io(out, e))
}

/// Writes the baseline of each cited source as a self-contained page in a
/// folder next to an HTML report (`report.html` → `report-offline/`), and
/// points the report's rows at them, so the report and its copies can be
/// opened, mailed or published together without the store.
pub async fn attach_offline_pages(store: &Store, report: &mut Report, output: &Path) -> Result<()> {
    let stem = output
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".into());
    let folder = format!("{stem}-offline");
    let dir = output.with_file_name(&folder);
    let mut written: std::collections::HashMap<String, Option<String>> = Default::default();
    for row in &mut report.citations {
        let (Some(url), Some(offline)) = (row.url.clone(), row.offline.as_mut()) else {
            continue;
        };
        let Some(sha) = offline.baseline.clone() else {
            continue;
        };
        if !written.contains_key(&sha) {
            let page = offline_page(store, &url, &sha).await;
            let name = match page {
                Some(html) => {
                    let name = format!(
                        "{}.html",
                        &sha[..citeguard::base::text::floor_char_boundary(&sha, 16)]
                    );
                    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
                    let path = dir.join(&name);
                    std::fs::write(&path, html).map_err(|e| Error::io(&path, e))?;
                    Some(format!("{folder}/{name}"))
                }
                None => None,
            };
            written.insert(sha.clone(), name);
        }
        offline.page = written.get(&sha).cloned().flatten();
    }
    Ok(())
}

/// The offline page of a source's baseline, when it can be made (an HTML
/// or text snapshot whose body is still in the store).
async fn offline_page(store: &Store, url: &str, sha: &str) -> Option<String> {
    let source = store.find_source(url).await.ok()?;
    let snap = store
        .index
        .snapshots(source.id)
        .await
        .ok()?
        .into_iter()
        .find(|s| s.body_sha256 == sha)?;
    let body = store.objects.read(sha).ok()?;
    offline_html(store, &snap, &body).await.ok()
}
