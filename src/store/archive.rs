//! The store's side of a check run: every fetched body becomes an object,
//! a WARC record and a snapshot row, in that order; the first snapshot of a
//! source is its baseline; the fetch's verdict is then revised by the
//! rules in `judge.rs` (history, lost baseline, comparison), and the check
//! is kept. `finish` keeps the run's report.
//!
//! It never fetches and never prints; it writes only through `Objects`,
//! the WARC writer and the index.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::Store;
use super::hook::{Evidence, REQUISITES_PER_PAGE, SourceHook, SourceOutcome};
use super::index::{CheckRow, NewSnapshot, SnapshotRow, SourceRow};
use super::judge::{self, Texts};
use super::objects::Objects;
use super::warc::{Body, Capture, Earlier, Exchange, Profile, WarcWriter, Written};
use crate::base::time::rfc3339;
use crate::compare;
use crate::config::{Config, ScheduleConfig};
use crate::error::Result;
use crate::fetch::{ExchangeBody, Fetched, FetchedBody, Validators};
use crate::model::{Check, Offline, SourceHistory};

/// A requisite larger than this is not kept: the offline copy goes without
/// that image rather than the store filling with video posters.
const MAX_REQUISITE_BYTES: u64 = 5 * 1024 * 1024;

/// The check pipeline's hook into a store.
pub struct Archive<'a> {
    store: &'a Store,
    run_id: String,
    now: DateTime<Utc>,
    threshold: f64,
    schedule: ScheduleConfig,
    warc: Option<WarcWriter>,
    /// How `show` is told where the store is, for the report.
    store_arg: String,
    /// Sources seen by `validators`, so `source` does not look them up twice.
    ids: HashMap<String, i64>,
    /// The latest snapshot of each source, loaded once at the start.
    latest: HashMap<String, SnapshotRow>,
    /// Objects `verify` marked damaged.
    damaged: std::collections::HashSet<String>,
    /// Request headers `citeguard.toml` sets for some host: their values
    /// are credentials as far as the WARC records know.
    secret_headers: Vec<String>,
}

/// Where a body came from: the source, the URL that answered after
/// redirects, and the request that fetched it.
struct Incoming<'x> {
    url: &'x str,
    final_url: Option<&'x str>,
    request_headers: &'x [(String, String)],
    /// The address that answered.
    ip: Option<&'x str>,
}

/// What storing one body gave.
struct Stored {
    snapshot: SnapshotRow,
    requisites: Vec<String>,
    /// Why only part of the page was parsed, when it was cut.
    cut_note: Option<String>,
}

/// What the index keeps from a body's content.
#[derive(Default)]
struct Page {
    /// The object holding the main text.
    text_sha: Option<String>,
    /// The hash of the normalised main text.
    norm_sha: Option<String>,
    /// What an offline copy of it needs, at most `REQUISITES_PER_PAGE`.
    requisites: Vec<String>,
    /// Why only part of the page was parsed (`fetch::bound`), when it was.
    cut_note: Option<String>,
}

impl<'a> Archive<'a> {
    /// Starts a run in the store. `now` is the run's clock: the time
    /// stamps of its checks and the history's, injected so scheduled runs
    /// can be simulated across days.
    pub async fn begin(
        store: &'a Store,
        config: &Config,
        run_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Archive<'a>> {
        store
            .index
            .begin_run(run_id, &rfc3339(now))
            .await
            .map_err(|e| store.err(e))?;
        let default = std::path::Path::new(crate::config::DEFAULT_STORE);
        let store_arg = if store.root() == default {
            String::new()
        } else {
            format!(
                " --store {}",
                shell_quote(&store.root().display().to_string())
            )
        };
        let e = |e| store.err(e);
        let latest = store
            .index
            .latest_snapshots()
            .await
            .map_err(e)?
            .into_iter()
            .map(|s| (s.url.clone(), s))
            .collect();
        let damaged = store
            .index
            .damaged()
            .await
            .map_err(e)?
            .into_iter()
            .collect();
        Ok(Archive {
            latest,
            damaged,
            store,
            run_id: run_id.to_string(),
            now,
            threshold: config.compare.drift_threshold,
            schedule: config.schedule.clone(),
            warc: None,
            store_arg,
            ids: HashMap::new(),
            secret_headers: config
                .hosts
                .values()
                .flat_map(|h| h.headers.keys().cloned())
                .collect(),
        })
    }

    /// Ends the run: the WARC file synced, the report kept for `report`.
    pub async fn finish(mut self, report: &crate::model::Report) -> Result<()> {
        if let Some(w) = self.warc.as_mut() {
            w.sync().map_err(|e| self.store.err(format!("WARC: {e}")))?;
        }
        self.store
            .objects
            .sync_dirs()
            .map_err(|e| self.store.err(format!("objects: {e}")))?;
        let rows: Vec<_> = report
            .citations
            .iter()
            .map(super::index::CitationRow::of)
            .collect();
        let err = |e| self.store.err(e);
        self.store
            .index
            .insert_citations(&self.run_id, &rows)
            .await
            .map_err(err)?;
        let json = serde_json::to_string(report).map_err(|e| self.store.err(e))?;
        self.store
            .index
            .finish_run(&self.run_id, &report.run.finished_at, &json)
            .await
            .map_err(err)?;
        Ok(())
    }

    async fn source_id(&mut self, url: &str) -> Result<i64> {
        if let Some(id) = self.ids.get(url) {
            return Ok(*id);
        }
        let row = self
            .store
            .index
            .source(url)
            .await
            .map_err(|e| self.store.err(e))?;
        self.ids.insert(url.to_string(), row.id);
        Ok(row.id)
    }

    fn warc(&mut self) -> Result<&mut WarcWriter> {
        if self.warc.is_none() {
            let dir = self.store.warc_dir();
            let path = dir.join(format!("{}.warc.gz", self.run_id));
            let mut w = std::fs::create_dir_all(&dir)
                .and_then(|_| WarcWriter::create(&path))
                .map_err(|e| self.store.err(format!("{}: {e}", path.display())))?;
            w.redact_headers(&self.secret_headers);
            self.warc = Some(w);
        }
        Ok(self.warc.as_mut().expect("just opened"))
    }

    /// Stores a body in the order the store's invariant wants: the object
    /// (whole on disk), then the WARC record, then the index row. A body
    /// identical to the latest snapshot's is not stored again: the latest
    /// snapshot stands for it, and the WARC gets a revisit of it. A body
    /// stored before under another source is a new snapshot whose record is
    /// a revisit of the first capture of those bytes.
    async fn store_body(
        &mut self,
        exchange: Incoming<'_>,
        source_id: i64,
        body: FetchedBody,
        latest: Option<&SnapshotRow>,
        want_text: bool,
    ) -> Result<Stored> {
        let seen_before = self.store.objects.exists(&body.sha256);
        self.keep_object(exchange.url, &body).await?;
        if let Some(l) = latest
            && l.body_sha256 == body.sha256
            && l.status == body.status
            && self.is_whole(l)
        {
            let earlier = self.earlier_capture(l);
            self.write_record(&exchange, &body, earlier.as_ref())?;
            return Ok(Stored {
                snapshot: l.clone(),
                requisites: Vec::new(),
                cut_note: None,
            });
        }
        let page = self.read_page(&exchange, &body, want_text)?;
        if let Some(text) = &page.text_sha {
            self.repaired(text).await?;
        }
        let earlier = if seen_before {
            self.first_capture_of(&body.sha256).await?
        } else {
            None
        };
        let written = self.write_record(&exchange, &body, earlier.as_ref())?;
        let snapshot = self
            .index_snapshot(&exchange, source_id, &body, &page, &written)
            .await?;
        Ok(Stored {
            snapshot,
            requisites: page.requisites,
            cut_note: page.cut_note,
        })
    }

    /// The body becomes an object (adopted from the spool, or written from
    /// the head when it all fits there). Either way the object is sound
    /// afterwards (`Objects` replaces a damaged file with these bytes, and
    /// keeps an existing one only when it hashes to its name), so a damage
    /// mark on it is cleared.
    async fn keep_object(&mut self, url: &str, body: &FetchedBody) -> Result<()> {
        let store = self.store;
        let err = |e: std::io::Error| store.err(format!("{url}: {e}"));
        match &body.spool {
            Some(path) => store.objects.adopt(path, &body.sha256).map_err(err)?,
            // The whole body is in the head: small enough to store as is.
            None if body.head.len() as u64 == body.size => {
                store.objects.put_bytes(&body.head).map_err(err)?;
            }
            None => {
                return Err(store.err(format!(
                    "{url}: the body could not be written to the store: {}",
                    body.spool_error.as_deref().unwrap_or("no spool file")
                )));
            }
        }
        self.repaired(&body.sha256).await
    }

    /// Clears the damage mark of an object this run has just stored, and
    /// so made sound again.
    async fn repaired(&mut self, sha256: &str) -> Result<()> {
        if self.damaged.remove(sha256) {
            self.store
                .index
                .clear_damaged(sha256)
                .await
                .map_err(|e| self.store.err(e))?;
        }
        Ok(())
    }

    /// What the index keeps from a body's content: the main text (as an
    /// object, with the hash of its normalised form) when `want_text`, and
    /// the requisites an offline copy needs (a page's, or a style sheet's),
    /// at most `REQUISITES_PER_PAGE`.
    fn read_page(
        &self,
        exchange: &Incoming<'_>,
        body: &FetchedBody,
        want_text: bool,
    ) -> Result<Page> {
        let mut page = Page::default();
        let family = compare::content_family(body.content_type.as_deref());
        if !matches!(family, "html" | "text" | "css") {
            return Ok(page);
        }
        let objects = &self.store.objects;
        let err = |e: std::io::Error| self.store.err(format!("{}: {e}", exchange.url));
        let bytes = objects.read(&body.sha256).map_err(err)?;
        let Ok(decoded) = crate::base::text::decode_text(bytes, body.charset.as_deref()) else {
            return Ok(page);
        };
        // A page is parsed only as far as it is cheap to (`fetch::bound`).
        let bound = (family == "html").then(|| crate::fetch::bound::parseable(&decoded));
        page.cut_note = bound.and_then(|b| b.cut).map(|c| c.note());
        let html = bound.map_or(decoded.as_str(), |b| b.html);
        if let Ok(base) = url::Url::parse(exchange.final_url.unwrap_or(exchange.url)) {
            let found = match family {
                "html" => super::offline::requisites(html, &base),
                "css" => super::offline::css_requisites(&decoded, &base),
                _ => Vec::new(),
            };
            page.requisites = found.into_iter().map(|r| r.url.to_string()).collect();
            page.requisites.truncate(REQUISITES_PER_PAGE);
        }
        if want_text && family != "css" {
            let text = if family == "html" {
                crate::collect::main_text(html)
            } else {
                decoded
            };
            page.text_sha = Some(objects.put_bytes(text.as_bytes()).map_err(err)?);
            page.norm_sha = Some(hex::encode(Sha256::digest(
                compare::normalize(&text).as_bytes(),
            )));
        }
        Ok(page)
    }

    /// The exchange as WARC records of this run's file: a response, the
    /// body streamed from its object, or a revisit of `earlier`, the
    /// capture that archived the same bytes; then the request.
    fn write_record(
        &mut self,
        exchange: &Incoming<'_>,
        body: &FetchedBody,
        earlier: Option<&Earlier>,
    ) -> Result<Written> {
        let object_path = self.store.objects.path(&body.sha256);
        let record = Exchange {
            target_uri: exchange.final_url.unwrap_or(exchange.url),
            date: self.now,
            method: "GET",
            request_headers: exchange.request_headers,
            http_version: &body.http_version,
            status: body.status,
            response_headers: &body.headers,
            body: Body::File(&object_path),
            ip: exchange.ip,
        };
        let capture = match earlier {
            Some(earlier) => Capture::Revisit {
                profile: Profile::IdenticalPayloadDigest,
                earlier,
            },
            None => Capture::Response {
                truncated: body.truncated,
            },
        };
        let store = self.store;
        self.warc()?
            .write_capture(&record, &capture)
            .map_err(|e| store.err(format!("WARC: {e}")))
    }

    /// The records of every exchange of a fetch but the one whose body is
    /// stored (`store_body` writes that one with its snapshot): robots.txt,
    /// redirects, error pages and retried attempts as response records
    /// with what was read of their bodies; a 304 as a revisit of the copy
    /// it confirms, `latest`.
    fn write_hops(
        &mut self,
        exchanges: &[crate::fetch::Exchange],
        latest: Option<&SnapshotRow>,
    ) -> Result<()> {
        for e in exchanges {
            let ExchangeBody::Read { bytes, truncated } = &e.body else {
                continue;
            };
            let confirmed = latest
                .filter(|_| e.status == 304)
                .and_then(|l| self.earlier_capture(l));
            let capture = match &confirmed {
                Some(earlier) => Capture::Revisit {
                    profile: Profile::ServerNotModified,
                    earlier,
                },
                None => Capture::Response {
                    truncated: *truncated,
                },
            };
            let record = Exchange {
                target_uri: &e.url,
                date: self.now,
                method: "GET",
                request_headers: &e.request_headers,
                http_version: &e.http_version,
                status: e.status,
                response_headers: &e.response_headers,
                body: Body::Bytes(bytes),
                ip: e.ip.as_deref(),
            };
            let store = self.store;
            self.warc()?
                .write_capture(&record, &capture)
                .map_err(|e| store.err(format!("WARC: {e}")))?;
        }
        Ok(())
    }

    /// The capture holding a snapshot's payload, as a revisit names it: the
    /// snapshot's own response record, or the one its revisit refers to.
    /// `None` when the record cannot be read (then a response is written,
    /// whole, rather than a revisit that points nowhere).
    fn earlier_capture(&self, snap: &SnapshotRow) -> Option<Earlier> {
        let (file, offset) = (snap.warc_file.as_ref()?, snap.warc_offset?);
        let path = self.store.warc_dir().join(file);
        let headers = super::warc::read_headers(&path, offset).ok()?;
        let earlier = Earlier::of(&headers)?;
        let digest = super::warc::payload_digest_of(&snap.body_sha256)?;
        (earlier.payload_digest == digest).then_some(earlier)
    }

    /// The first capture of these bytes under any source, if it has a
    /// record.
    async fn first_capture_of(&self, sha256: &str) -> Result<Option<Earlier>> {
        let first = self
            .store
            .index
            .first_snapshot_with_body(sha256)
            .await
            .map_err(|e| self.store.err(e))?;
        Ok(first.and_then(|s| self.earlier_capture(&s)))
    }

    /// The snapshot row and its requisites, once the object and the record
    /// are whole; read back as the index holds it.
    async fn index_snapshot(
        &self,
        exchange: &Incoming<'_>,
        source_id: i64,
        body: &FetchedBody,
        page: &Page,
        written: &Written,
    ) -> Result<SnapshotRow> {
        let store = self.store;
        let e = |e| store.err(e);
        let fetched_at = rfc3339(self.now);
        let snapshot = NewSnapshot {
            run_id: &self.run_id,
            fetched_at: &fetched_at,
            status: body.status,
            final_url: exchange.final_url,
            content_type: body.content_type.as_deref(),
            charset: body.charset.as_deref(),
            size: body.size,
            truncated: body.truncated,
            body_sha256: &body.sha256,
            text_sha256: page.text_sha.as_deref(),
            norm_sha256: page.norm_sha.as_deref(),
            etag: body.etag.as_deref(),
            last_modified: body.last_modified.as_deref(),
            warc_file: Some(&written.file),
            warc_offset: Some(written.offset),
            warc_length: Some(written.length),
        };
        let id = store
            .index
            .insert_snapshot(source_id, &snapshot)
            .await
            .map_err(e)?;
        for r in &page.requisites {
            store.index.add_requisite(id, r).await.map_err(e)?;
        }
        store.index.snapshot(id).await.map_err(e)?.ok_or_else(|| {
            store.err(format!(
                "{}: the snapshot just stored cannot be read back",
                exchange.url
            ))
        })
    }

    /// Whether a snapshot's objects are whole on disk, as far as a run can
    /// tell without re-hashing (`verify` re-hashes and marks damage).
    fn is_whole(&self, s: &SnapshotRow) -> bool {
        let o = &self.store.objects;
        let sound = |sha: &str| o.exists(sha) && !self.damaged.contains(sha);
        sound(&s.body_sha256) && s.text_sha256.as_deref().is_none_or(sound)
    }

    fn show_command(&self, url: &str) -> String {
        format!(
            "citeguard show {}{} --as html",
            shell_quote(url),
            self.store_arg
        )
    }

    /// The copy this check saw: the body, stored now, with the requisites
    /// it names; or, for a 304, the latest copy, which the server says is
    /// still current.
    async fn live_copy(
        &mut self,
        check: &mut Check,
        body: Option<FetchedBody>,
        request_headers: &[(String, String)],
        ip: Option<&str>,
        source_id: i64,
        latest: Option<&SnapshotRow>,
    ) -> Result<(Option<SnapshotRow>, Vec<String>)> {
        match body {
            Some(body) => {
                let incoming = Incoming {
                    url: &check.url,
                    final_url: check.final_url.as_deref(),
                    request_headers,
                    ip,
                };
                let stored = self
                    .store_body(incoming, source_id, body, latest, true)
                    .await?;
                if let Some(note) = stored.cut_note {
                    check.detail = Some(match check.detail.take() {
                        Some(d) => format!("{d}; {note}"),
                        None => note,
                    });
                }
                Ok((Some(stored.snapshot), stored.requisites))
            }
            None if check.status == Some(304) => Ok((latest.cloned(), Vec::new())),
            None => Ok((None, Vec::new())),
        }
    }

    /// The source's baseline; a source without one takes the live copy
    /// (its first) as its baseline.
    async fn baseline_or_first(
        &self,
        source_id: i64,
        live: Option<&SnapshotRow>,
    ) -> Result<Option<SnapshotRow>> {
        let e = |e| self.store.err(e);
        let baseline = self.store.index.baseline(source_id).await.map_err(e)?;
        if baseline.is_some() {
            return Ok(baseline);
        }
        let Some(live) = live else {
            return Ok(None);
        };
        self.store
            .index
            .set_baseline(source_id, live.id, &rfc3339(self.now), "first")
            .await
            .map_err(e)?;
        Ok(Some(live.clone()))
    }

    /// Revision 1 of the verdict, the history: a run of transient failures
    /// becomes dead only by the schedule's rule. The history is saved.
    async fn judge_by_history(
        &self,
        source: &SourceRow,
        check: &mut Check,
    ) -> Result<SourceHistory> {
        let history = judge::by_history(check, &source.history, &self.schedule, self.now);
        let checks = source.checks + 1;
        self.store
            .index
            .save_history(source.id, &history, checks)
            .await
            .map_err(|e| self.store.err(e))?;
        Ok(SourceHistory {
            first_seen: history.first_seen.map(rfc3339),
            last_ok: history.last_ok.map(rfc3339),
            consecutive_failures: history.consecutive_failures,
            failing_since: history.failing_since.map(rfc3339),
            checks,
        })
    }

    /// Revision 3 of the verdict, the baseline: a reachable source whose
    /// live copy is of another type, or whose text drifted below the
    /// threshold, is `changed`; the quotes are looked for on the way.
    fn judge_by_baseline(
        &self,
        baseline: &SnapshotRow,
        live: &SnapshotRow,
        quotes: &[String],
        check: &mut Check,
        evidence: &mut Evidence,
    ) {
        if !judge::reachable(check.verdict) || judge::by_type(check, baseline, live) {
            return;
        }
        if baseline.body_sha256 == live.body_sha256 {
            evidence.similarity = Some(1.0);
        }
        let same_text = baseline.id == live.id
            || (baseline.norm_sha256.is_some() && baseline.norm_sha256 == live.norm_sha256);
        if same_text && quotes.is_empty() {
            // The common case of a nightly run: nothing to compute.
            evidence.similarity = Some(1.0);
            return;
        }
        let (Some(b_text), Some(l_text)) = (self.store.text_of(baseline), self.store.text_of(live))
        else {
            return;
        };
        let texts = Texts {
            baseline: &b_text,
            live: &l_text,
            same: same_text,
            taken: judge::day(&baseline.fetched_at),
        };
        judge::by_text(check, evidence, &texts, quotes, self.threshold);
    }
}

impl SourceHook for Archive<'_> {
    async fn validators(&mut self, url: &str) -> Result<Option<Validators>> {
        let Some(latest) = self.latest.get(url) else {
            return Ok(None);
        };
        if latest.etag.is_none() && latest.last_modified.is_none() {
            return Ok(None);
        }
        // A 304 is only worth having when the copy it points to is whole.
        Ok(self.is_whole(latest).then(|| Validators {
            etag: latest.etag.clone(),
            last_modified: latest.last_modified.clone(),
        }))
    }

    /// Stores the live copy, then revises the fetch's verdict in three
    /// steps, in this order: the history (`judge_by_history`), a lost
    /// baseline (`judge::snapshot_lost`), the comparison with the baseline
    /// (`judge_by_baseline`). Each step sees the verdict the one before
    /// left; the check is then kept in the index.
    async fn source(&mut self, fetched: Fetched, quotes: &[String]) -> Result<SourceOutcome> {
        let Fetched {
            mut check,
            body,
            request_headers,
            exchanges,
            ..
        } = fetched;
        let url = check.url.clone();
        let source = self
            .store
            .index
            .source(&url)
            .await
            .map_err(|e| self.store.err(e))?;
        let latest = self.latest.remove(&url);
        self.write_hops(&exchanges, latest.as_ref())?;
        let ip = answered_from(&exchanges);
        let (live, requisites) = self
            .live_copy(
                &mut check,
                body,
                &request_headers,
                ip,
                source.id,
                latest.as_ref(),
            )
            .await?;
        let baseline = self.baseline_or_first(source.id, live.as_ref()).await?;

        let history = self.judge_by_history(&source, &mut check).await?;
        let mut evidence = Evidence {
            history: Some(history),
            ..Evidence::default()
        };
        if let Some(b) = &baseline {
            judge::snapshot_lost(&mut check, b, self.is_whole(b));
            if let Some(l) = &live {
                self.judge_by_baseline(b, l, quotes, &mut check, &mut evidence);
            }
            evidence.baseline = Some(b.body_sha256.clone());
            let latest = live.as_ref().or(latest.as_ref());
            evidence.offline = Some(Offline {
                baseline: Some(b.body_sha256.clone()),
                baseline_at: Some(b.fetched_at.clone()),
                latest: latest.map(|l| l.body_sha256.clone()),
                latest_at: latest.map(|l| l.fetched_at.clone()),
                show: self.show_command(&url),
                path: Some(Objects::relative_path(&b.body_sha256)),
                page: None,
            });
        }

        self.store
            .index
            .insert_check(&CheckRow {
                run_id: &self.run_id,
                source_id: source.id,
                check: &check,
                similarity: evidence.similarity,
                snapshot_id: live.as_ref().map(|l| l.id),
            })
            .await
            .map_err(|e| self.store.err(e))?;
        Ok(SourceOutcome {
            check,
            evidence,
            requisites,
        })
    }

    async fn requisite(&mut self, fetched: Fetched) -> Result<Vec<String>> {
        let Fetched {
            check,
            body,
            request_headers,
            exchanges,
            ..
        } = fetched;
        self.write_hops(&exchanges, None)?;
        let Some(body) = body else {
            return Ok(Vec::new());
        };
        if body.size > MAX_REQUISITE_BYTES || body.truncated {
            crate::fetch::discard_spool(&body);
            return Ok(Vec::new());
        }
        let id = self.source_id(&check.url).await?;
        let latest = self
            .store
            .index
            .latest_snapshot(id, None)
            .await
            .map_err(|e| self.store.err(e))?;
        let stored = self
            .store_body(
                Incoming {
                    url: &check.url,
                    final_url: check.final_url.as_deref(),
                    request_headers: &request_headers,
                    ip: answered_from(&exchanges),
                },
                id,
                body,
                latest.as_ref(),
                false,
            )
            .await?;
        Ok(stored.requisites)
    }
}

/// The address that sent the body a fetch kept.
fn answered_from(exchanges: &[crate::fetch::Exchange]) -> Option<&str> {
    exchanges
        .iter()
        .find(|e| matches!(e.body, ExchangeBody::Fetched))
        .and_then(|e| e.ip.as_deref())
}

/// Quotes a word for a POSIX shell when it needs it.
pub fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Reason, Verdict};
    use crate::store::testing;
    use chrono::TimeZone;

    const URL: &str = "https://example.org/story";

    fn day_n(n: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 1, 3, 0, 0).unwrap() + chrono::Duration::days(n)
    }

    fn page(text: &str) -> String {
        format!("<html><body><article><p>{text}</p></article></body></html>")
    }

    fn fetched(html: Option<&str>, status: u16) -> Fetched {
        let body = html.map(|h| FetchedBody {
            sha256: hex::encode(Sha256::digest(h.as_bytes())),
            size: h.len() as u64,
            truncated: false,
            head: h.as_bytes().to_vec(),
            spool: None,
            spool_error: None,
            status,
            headers: vec![("Content-Type".into(), "text/html".into())],
            http_version: "HTTP/1.1".into(),
            content_type: Some("text/html".into()),
            charset: None,
            etag: None,
            last_modified: None,
        });
        Fetched {
            check: testing::check(URL, Verdict::Ok, Reason::Ok, Some(status)),
            body,
            request_headers: Vec::new(),
            exchanges: Vec::new(),
            reach: crate::fetch::Reach::Public,
        }
    }

    fn hop(url: &str, status: u16, body: ExchangeBody) -> crate::fetch::Exchange {
        crate::fetch::Exchange {
            url: url.into(),
            request_headers: vec![("user-agent".into(), "citeguard-test".into())],
            status,
            http_version: "HTTP/1.1".into(),
            response_headers: vec![("Content-Type".into(), "text/plain".into())],
            body,
            ip: Some("127.0.0.1".into()),
        }
    }

    fn read(bytes: &[u8]) -> ExchangeBody {
        ExchangeBody::Read {
            bytes: bytes.to_vec(),
            truncated: false,
        }
    }

    /// Each record of a run's WARC file: its type, target URI and, for a
    /// revisit, the profile's last segment and the URI it refers to.
    fn records(store: &Store, run: &str) -> Vec<(String, String, String)> {
        let path = store.warc_dir().join(format!("{run}.warc.gz"));
        let len = std::fs::metadata(&path).unwrap().len();
        let mut out = Vec::new();
        let mut offset = 0;
        while offset < len {
            let (r, member) = super::super::warc::read_member(&path, offset).unwrap();
            let h = |n| r.header(n).unwrap_or_default().to_string();
            let profile = h("WARC-Profile");
            let revisit = match profile.rsplit('/').next() {
                Some(p) if !p.is_empty() => format!("{p} of {}", h("WARC-Refers-To-Target-URI")),
                _ => String::new(),
            };
            out.push((h("WARC-Type"), h("WARC-Target-URI"), revisit));
            offset += member;
        }
        out
    }

    fn listed(rows: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
        rows.iter()
            .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
            .collect()
    }

    async fn run(store: &Store, n: i64, f: Fetched) -> SourceOutcome {
        let id = format!("run{n}");
        let mut archive = Archive::begin(store, &Config::default(), &id, day_n(n))
            .await
            .unwrap();
        let outcome = archive.source(f, &[]).await.unwrap();
        if let Some(w) = archive.warc.as_mut() {
            w.sync().unwrap();
        }
        outcome
    }

    #[tokio::test]
    async fn the_first_copy_is_the_baseline_and_the_same_page_later_is_ok() {
        let (_dir, store) = testing::store().await;
        let first = run(&store, 0, fetched(Some(&page(testing::CITED)), 200)).await;
        assert_eq!(first.check.verdict, Verdict::Ok);
        let sha = hex::encode(Sha256::digest(page(testing::CITED).as_bytes()));
        assert_eq!(first.evidence.baseline.as_deref(), Some(sha.as_str()));
        assert_eq!(first.evidence.similarity, Some(1.0));
        let history = first.evidence.history.unwrap();
        assert_eq!(history.checks, 1);

        let again = run(&store, 1, fetched(Some(&page(testing::CITED)), 200)).await;
        assert_eq!(again.check.verdict, Verdict::Ok);
        let source = store.index.find_source(URL).await.unwrap().unwrap();
        assert_eq!(
            store.index.snapshots(source.id).await.unwrap().len(),
            1,
            "the same bytes are not stored twice"
        );
    }

    #[tokio::test]
    async fn another_text_later_is_changed_and_a_304_stands_on_the_latest_copy() {
        let (_dir, store) = testing::store().await;
        run(&store, 0, fetched(Some(&page(testing::CITED)), 200)).await;
        let drifted = run(&store, 1, fetched(Some(&page(testing::OTHER)), 200)).await;
        assert_eq!(
            (drifted.check.verdict, drifted.check.reason),
            (Verdict::Changed, Reason::ContentDrift)
        );
        let offline = drifted.evidence.offline.unwrap();
        assert_ne!(offline.baseline, offline.latest);

        let not_modified = run(&store, 2, fetched(None, 304)).await;
        assert_eq!(not_modified.check.reason, Reason::ContentDrift);
        assert_eq!(
            not_modified.evidence.offline.unwrap().latest,
            offline.latest
        );
    }

    #[tokio::test]
    async fn every_exchange_is_archived_and_a_304_is_a_revisit_of_the_copy_it_confirms() {
        let (_dir, store) = testing::store().await;
        let robots = "https://example.org/robots.txt";
        let old = "https://example.org/old-story";
        let mut first = fetched(Some(&page(testing::CITED)), 200);
        first.exchanges = vec![
            hop(robots, 200, read(b"User-agent: *\n")),
            hop(old, 301, read(b"moved")),
            hop(URL, 200, ExchangeBody::Fetched),
        ];
        run(&store, 0, first).await;
        assert_eq!(
            records(&store, "run0"),
            listed(&[
                ("warcinfo", "", ""),
                ("response", robots, ""),
                ("request", robots, ""),
                ("response", old, ""),
                ("request", old, ""),
                ("response", URL, ""),
                ("request", URL, ""),
            ])
        );

        let mut not_modified = fetched(None, 304);
        not_modified.exchanges = vec![hop(URL, 304, read(b""))];
        let outcome = run(&store, 1, not_modified).await;
        assert_eq!(outcome.check.verdict, Verdict::Ok);
        let confirms = format!("server-not-modified of {URL}");
        assert_eq!(
            records(&store, "run1"),
            listed(&[
                ("warcinfo", "", ""),
                ("revisit", URL, &confirms),
                ("request", URL, ""),
            ])
        );
        // A page that fails leaves its answer in the archive too.
        let mut gone = fetched(None, 404);
        gone.check = testing::check(URL, Verdict::Dead, Reason::HttpStatus, Some(404));
        gone.exchanges = vec![hop(URL, 404, read(b"<p>no such page</p>"))];
        run(&store, 2, gone).await;
        let path = store.warc_dir().join("run2.warc.gz");
        let (warcinfo, len) = super::super::warc::read_member(&path, 0).unwrap();
        assert_eq!(warcinfo.header("WARC-Type"), Some("warcinfo"));
        let response = super::super::warc::read_record(&path, len).unwrap();
        let (status, _, body) = super::super::warc::http_payload(&response.block).unwrap();
        assert_eq!((status, body), (404, &b"<p>no such page</p>"[..]));
    }

    #[tokio::test]
    async fn the_same_bytes_again_or_at_another_address_are_revisits_of_their_first_capture() {
        let (_dir, store) = testing::store().await;
        let html = page(testing::CITED);
        run(&store, 0, fetched(Some(&html), 200)).await;

        let mut archive = Archive::begin(&store, &Config::default(), "run1", day_n(1))
            .await
            .unwrap();
        archive
            .source(fetched(Some(&html), 200), &[])
            .await
            .unwrap();
        let mirror = "https://mirror.example/story";
        let mut elsewhere = fetched(Some(&html), 200);
        elsewhere.check.url = mirror.into();
        archive.source(elsewhere, &[]).await.unwrap();
        archive.warc.as_mut().unwrap().sync().unwrap();
        let identical = format!("identical-payload-digest of {URL}");
        assert_eq!(
            records(&store, "run1"),
            listed(&[
                ("warcinfo", "", ""),
                ("revisit", URL, &identical),
                ("request", URL, ""),
                ("revisit", mirror, &identical),
                ("request", mirror, ""),
            ])
        );
        // The mirror is a source of its own, whose snapshot is that revisit.
        let source = store.index.find_source(mirror).await.unwrap().unwrap();
        let snaps = store.index.snapshots(source.id).await.unwrap();
        let path = store.warc_dir().join("run1.warc.gz");
        let record = super::super::warc::read_record(&path, snaps[0].warc_offset.unwrap()).unwrap();
        assert_eq!(record.header("WARC-Type"), Some("revisit"));
        assert_eq!(
            record.header("WARC-Refers-To-Date"),
            Some("2026-11-01T03:00:00Z")
        );
    }

    #[tokio::test]
    async fn a_baseline_gone_from_disk_is_snapshot_lost_and_not_offered_as_a_validator() {
        let (_dir, store) = testing::store().await;
        let mut f = fetched(Some(&page(testing::CITED)), 200);
        f.body.as_mut().unwrap().etag = Some("\"v1\"".into());
        let first = run(&store, 0, f).await;
        let sha = first.evidence.baseline.unwrap();
        std::fs::remove_file(store.objects.path(&sha)).unwrap();

        let mut archive = Archive::begin(&store, &Config::default(), "run1", day_n(1))
            .await
            .unwrap();
        assert_eq!(archive.validators(URL).await.unwrap(), None);
        let lost = archive
            .source(fetched(Some(&page(testing::OTHER)), 200), &[])
            .await
            .unwrap();
        assert_eq!(
            (lost.check.verdict, lost.check.reason),
            (Verdict::Missing, Reason::SnapshotLost)
        );
        assert_eq!(lost.evidence.similarity, None, "nothing to compare with");
    }
}
