//! The store's side of a check run: every fetched body becomes an object,
//! a WARC record and a snapshot row; the first snapshot of a source is its
//! baseline; each live copy is compared with the baseline; the source's
//! history decides when a run of failures becomes `dead`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::Store;
use super::index::{CheckRow, NewSnapshot, SnapshotRow};
use super::objects::Objects;
use super::warc::{Body, Exchange, WarcWriter};
use crate::base::time::rfc3339;
use crate::check::{Evidence, SourceHook, SourceOutcome};
use crate::compare;
use crate::config::Config;
use crate::error::Result;
use crate::fetch::{Fetched, FetchedBody, Validators};
use crate::model::{Offline, Reason, SourceHistory, Verdict};

/// A requisite larger than this is not kept: the offline copy goes without
/// that image rather than the store filling with video posters.
const MAX_REQUISITE_BYTES: u64 = 5 * 1024 * 1024;

/// The check pipeline's hook into a store.
pub struct Archive<'a> {
    store: &'a Store,
    run_id: String,
    now: DateTime<Utc>,
    threshold: f64,
    schedule: crate::config::ScheduleConfig,
    warc: Option<WarcWriter>,
    /// How `show` is told where the store is, for the report.
    store_arg: String,
    /// Sources seen by `validators`, so `source` does not look them up twice.
    ids: HashMap<String, i64>,
    /// The latest snapshot of each source, loaded once at the start.
    latest: HashMap<String, SnapshotRow>,
    /// Objects `verify` marked damaged.
    damaged: std::collections::HashSet<String>,
}

/// Where a body came from: the source, the URL that answered after
/// redirects, and the request that fetched it.
struct Incoming<'x> {
    url: &'x str,
    final_url: Option<&'x str>,
    request_headers: &'x [(String, String)],
}

/// What storing one body gave.
struct Stored {
    snapshot: SnapshotRow,
    requisites: Vec<String>,
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
            .map(|c| super::index::CitationRow {
                post: &c.post,
                post_date: c.post_date.as_deref(),
                line: c.line,
                url: c.url.as_deref(),
                text: &c.text,
                kind: c.kind.as_str(),
                verdict: c.verdict,
                reason: c.reason,
            })
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
            let w = std::fs::create_dir_all(&dir)
                .and_then(|_| WarcWriter::create(&path))
                .map_err(|e| self.store.err(format!("{}: {e}", path.display())))?;
            self.warc = Some(w);
        }
        Ok(self.warc.as_mut().expect("just opened"))
    }

    /// Stores a body: the object, its main text, the WARC records, the
    /// snapshot row. A body identical to the latest snapshot's is not
    /// stored again: the latest snapshot stands for it.
    async fn store_body(
        &mut self,
        exchange: Incoming<'_>,
        source_id: i64,
        body: FetchedBody,
        latest: Option<&SnapshotRow>,
        want_text: bool,
    ) -> Result<Stored> {
        let Incoming {
            url,
            final_url,
            request_headers,
        } = exchange;
        let store = self.store;
        let objects = &store.objects;
        let err = |e: std::io::Error| store.err(format!("{url}: {e}"));
        match &body.spool {
            Some(path) => objects.adopt(path, &body.sha256).map_err(err)?,
            // The whole body is in the head: small enough to store as is.
            None if body.head.len() as u64 == body.size => {
                objects.put_bytes(&body.head).map_err(err)?;
            }
            None => {
                return Err(store.err(format!(
                    "{url}: the body could not be written to the store: {}",
                    body.spool_error.as_deref().unwrap_or("no spool file")
                )));
            }
        }
        if self.damaged.remove(&body.sha256) {
            store
                .index
                .clear_damaged(&body.sha256)
                .await
                .map_err(|e| store.err(e))?;
        }
        if let Some(l) = latest
            && l.body_sha256 == body.sha256
            && l.status == body.status
            && l.text_sha256.as_deref().is_none_or(|t| objects.exists(t))
        {
            return Ok(Stored {
                snapshot: l.clone(),
                requisites: Vec::new(),
            });
        }

        let family = compare::content_family(body.content_type.as_deref());
        let base = url::Url::parse(final_url.unwrap_or(url)).ok();
        let mut text_sha = None;
        let mut norm_sha = None;
        let mut requisites: Vec<String> = Vec::new();
        if matches!(family, "html" | "text" | "css") {
            let bytes = objects.read(&body.sha256).map_err(err)?;
            let decoded = crate::base::text::decode_text(bytes, body.charset.as_deref()).ok();
            if let Some(decoded) = decoded {
                if family == "html"
                    && let Some(base) = &base
                {
                    requisites = super::offline::requisites(&decoded, base)
                        .into_iter()
                        .map(|r| r.url.to_string())
                        .collect();
                } else if family == "css"
                    && let Some(base) = &base
                {
                    requisites = super::offline::css_requisites(&decoded, base)
                        .into_iter()
                        .map(|r| r.url.to_string())
                        .collect();
                }
                if want_text && family != "css" {
                    let text = if family == "html" {
                        crate::collect::main_text(&decoded)
                    } else {
                        decoded
                    };
                    text_sha = Some(objects.put_bytes(text.as_bytes()).map_err(err)?);
                    norm_sha = Some(hex::encode(Sha256::digest(
                        compare::normalize(&text).as_bytes(),
                    )));
                }
            }
        }

        let fetched_at = rfc3339(self.now);
        let object_path = objects.path(&body.sha256);
        let exchange = Exchange {
            target_uri: final_url.unwrap_or(url),
            date: self.now,
            method: "GET",
            request_headers,
            http_version: &body.http_version,
            status: body.status,
            response_headers: &body.headers,
            body: Body::File(&object_path),
            ip: None,
        };
        let written = self
            .warc()?
            .write_exchange(&exchange)
            .map_err(|e| store.err(format!("WARC: {e}")))?;
        let snapshot = NewSnapshot {
            run_id: &self.run_id,
            fetched_at: &fetched_at,
            status: body.status,
            final_url,
            content_type: body.content_type.as_deref(),
            charset: body.charset.as_deref(),
            size: body.size,
            truncated: body.truncated,
            body_sha256: &body.sha256,
            text_sha256: text_sha.as_deref(),
            norm_sha256: norm_sha.as_deref(),
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
            .map_err(|e| store.err(e))?;
        requisites.truncate(crate::check::REQUISITES_PER_PAGE);
        for r in &requisites {
            store
                .index
                .add_requisite(id, r)
                .await
                .map_err(|e| store.err(e))?;
        }
        let snapshot = store
            .index
            .snapshot(id)
            .await
            .map_err(|e| store.err(e))?
            .ok_or_else(|| {
                store.err(format!(
                    "{url}: the snapshot just stored cannot be read back"
                ))
            })?;
        Ok(Stored {
            snapshot,
            requisites,
        })
    }

    /// Whether a snapshot's objects are whole on disk, as far as a run can
    /// tell without re-hashing (`verify` re-hashes and marks damage).
    async fn intact(&self, s: &SnapshotRow) -> Result<bool> {
        let o = &self.store.objects;
        let present =
            o.exists(&s.body_sha256) && s.text_sha256.as_deref().is_none_or(|t| o.exists(t));
        if !present {
            return Ok(false);
        }
        Ok(!self.damaged.contains(&s.body_sha256))
    }

    fn show_command(&self, url: &str) -> String {
        format!(
            "citeguard show {}{} --as html",
            shell_quote(url),
            self.store_arg
        )
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
        let o = &self.store.objects;
        let whole = o.exists(&latest.body_sha256)
            && latest.text_sha256.as_deref().is_none_or(|t| o.exists(t))
            && !self.damaged.contains(&latest.body_sha256);
        Ok(whole.then(|| Validators {
            etag: latest.etag.clone(),
            last_modified: latest.last_modified.clone(),
        }))
    }

    async fn source(&mut self, fetched: Fetched, quotes: &[String]) -> Result<SourceOutcome> {
        let Fetched {
            mut check,
            body,
            request_headers,
        } = fetched;
        let url = check.url.clone();
        let index = &self.store.index;
        let e = |e| self.store.err(e);
        let source = index.source(&url).await.map_err(e)?;
        let id = source.id;
        let latest = self.latest.remove(&url);
        let mut baseline = index.baseline(id).await.map_err(e)?;

        let mut requisites = Vec::new();
        let live = match body {
            Some(body) => {
                let final_url = check.final_url.clone();
                let stored = self
                    .store_body(
                        Incoming {
                            url: &url,
                            final_url: final_url.as_deref(),
                            request_headers: &request_headers,
                        },
                        id,
                        body,
                        latest.as_ref(),
                        true,
                    )
                    .await?;
                requisites = stored.requisites;
                Some(stored.snapshot)
            }
            None if check.status == Some(304) => latest.clone(),
            None => None,
        };
        if baseline.is_none()
            && let Some(l) = &live
        {
            self.store
                .index
                .set_baseline(id, l.id, &rfc3339(self.now), "first")
                .await
                .map_err(|e| self.store.err(e))?;
            baseline = Some(l.clone());
        }

        // The history judges the fetch itself: a run of transient failures
        // becomes dead only by the schedule's rule.
        let ((verdict, reason), history) = crate::schedule::apply(
            (check.verdict, check.reason),
            &source.history,
            &self.schedule,
            self.now,
        );
        if (verdict, reason) != (check.verdict, check.reason) {
            check.detail = Some(match check.detail.take() {
                Some(d) => format!(
                    "failing on {} checks since {}: {d}",
                    history.consecutive_failures,
                    history.failing_since.map(rfc3339).unwrap_or_default()
                ),
                None => format!("failing on {} checks", history.consecutive_failures),
            });
        }
        check.verdict = verdict;
        check.reason = reason;
        let checks = source.checks + 1;
        self.store
            .index
            .save_history(id, &history, checks)
            .await
            .map_err(|e| self.store.err(e))?;

        let mut evidence = Evidence {
            history: Some(SourceHistory {
                first_seen: history.first_seen.map(rfc3339),
                last_ok: history.last_ok.map(rfc3339),
                consecutive_failures: history.consecutive_failures,
                failing_since: history.failing_since.map(rfc3339),
                checks,
            }),
            ..Evidence::default()
        };

        if let Some(b) = &baseline {
            evidence.baseline = Some(b.body_sha256.clone());
            let reachable = matches!(check.verdict, Verdict::Ok | Verdict::Changed);
            if !self.intact(b).await? {
                if reachable {
                    check.verdict = Verdict::Missing;
                    check.reason = Reason::SnapshotLost;
                    check.detail = Some(format!(
                        "the copy of {} (sha256 {}) is gone from the store or fails its hash; \
                         `citeguard accept {url}` takes the current page as the new baseline",
                        day(&b.fetched_at),
                        &b.body_sha256
                            [..crate::base::text::floor_char_boundary(&b.body_sha256, 12)]
                    ));
                }
            } else if reachable && let Some(l) = &live {
                self.compare(b, l, quotes, &mut check, &mut evidence);
            }
        }
        if let Some(b) = &baseline {
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
                source_id: id,
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
        } = fetched;
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

impl Archive<'_> {
    /// Compares a live snapshot with the baseline: type, main text, quotes.
    fn compare(
        &self,
        baseline: &SnapshotRow,
        live: &SnapshotRow,
        quotes: &[String],
        check: &mut crate::model::Check,
        evidence: &mut Evidence,
    ) {
        let (b_type, l_type) = (
            baseline.content_type.as_deref(),
            live.content_type.as_deref(),
        );
        if compare::type_changed(b_type, l_type) {
            check.verdict = Verdict::Changed;
            check.reason = Reason::TypeChanged;
            check.detail = Some(format!(
                "was {} on {}, now {}",
                b_type.unwrap_or("untyped"),
                day(&baseline.fetched_at),
                l_type.unwrap_or("untyped")
            ));
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
        // Quotes are judged per citation by the pipeline; the source's own
        // verdict is the text as a whole.
        let (similarity, findings) = if same_text {
            let found: Vec<_> = quotes
                .iter()
                .map(|q| {
                    let f = compare::quote_found(q, &b_text);
                    compare::QuoteFinding {
                        in_baseline: f,
                        in_live: f,
                    }
                })
                .collect();
            (1.0, found)
        } else {
            let cmp = compare::compare(&b_text, &l_text, quotes, self.threshold);
            (cmp.similarity, cmp.quotes)
        };
        evidence.quotes = quotes.iter().cloned().zip(findings).collect();
        evidence.similarity = Some(similarity);
        if similarity < self.threshold {
            check.verdict = Verdict::Changed;
            check.reason = Reason::ContentDrift;
            check.detail = Some(format!(
                "text {:.0}% similar to the copy of {}",
                similarity * 100.0,
                day(&baseline.fetched_at)
            ));
        }
        let any_quote_gone = evidence
            .quotes
            .iter()
            .any(|(_, f)| f.in_baseline && !f.in_live);
        if similarity < self.threshold || any_quote_gone {
            evidence.diff = compare::word_diff(&b_text, &l_text);
        }
    }
}

/// The date part of an RFC 3339 time stamp.
fn day(stamp: &str) -> &str {
    stamp.get(..10).unwrap_or(stamp)
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
