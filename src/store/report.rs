//! The report a finished run kept, read back: for `report`, and for the
//! next run to mark what changed since. `Archive::finish` keeps it through
//! `keep`: as a compressed object (its JSON gzipped, named by the JSON's
//! SHA-256), which the run's row in the index names as `object:<sha256>`;
//! stores written before kept the JSON itself in that row, which is still
//! read. This file never writes the index, never renders a report and
//! never touches the network.

use super::Store;
use crate::error::Result;
use crate::model::{CitationResult, Kind, Reason, Report, RunInfo, Verdict};

/// The report of the last finished run, as it was written; `None` before
/// any run has finished. A report this build cannot read (damaged, or
/// written by a newer citeguard) is an error that says so.
pub async fn last_report(store: &Store) -> Result<Option<Report>> {
    let Some((id, kept)) = store.index.last_report().await.map_err(|e| store.err(e))? else {
        return Ok(None);
    };
    let report: Report = match kept.strip_prefix(OBJECT) {
        Some(sha) => {
            let json = store
                .objects
                .read(sha)
                .map_err(|e| store.err(format!("run {id}: the report is unreadable: {e}")))?;
            serde_json::from_slice(&json)
        }
        None => serde_json::from_str(&kept),
    }
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

/// What the next run reads of the last finished run's report, to mark what
/// changed since (`schedule::mark_changes`): each citation's post, line,
/// address or text, kind, verdict and reason, and nothing else of it (no
/// evidence, no summary). Read on the blocking pool beside the run: the
/// index is asked now, the report's object read, checked and parsed by
/// the future this returns, which the run awaits once its sources are
/// checked. Errors as `last_report`'s.
pub async fn last_marks_later(
    store: &Store,
) -> Result<impl std::future::Future<Output = Result<Option<Report>>> + Send + 'static> {
    let kept = store.index.last_report().await.map_err(|e| store.err(e))?;
    let name = store.name().to_path_buf();
    let err = move |id: &str, cause: String| crate::error::Error::Store {
        path: name.clone(),
        cause: format!("run {id}: {cause}"),
    };
    // The report's JSON, or how to read it off the runtime.
    let json: Option<(String, Source)> = match kept {
        None => None,
        Some((id, kept)) => Some(match kept.strip_prefix(OBJECT) {
            Some(sha) => match store.objects.reader(sha) {
                Some(read) => (id, Source::Later(Box::new(read))),
                None => {
                    let bytes = store.objects.read(sha).map_err(|e| {
                        store.err(format!("run {id}: the report is unreadable: {e}"))
                    })?;
                    (id, Source::Bytes(bytes))
                }
            },
            None => (id, Source::Bytes(kept.into_bytes())),
        }),
    };
    // Started now: it runs while the caller goes on.
    let reading = json.map(|(id, source)| {
        let parsed = tokio::task::spawn_blocking(move || {
            let json = match source {
                Source::Bytes(b) => b,
                Source::Later(read) => {
                    read().map_err(|e| format!("the report is unreadable: {e}"))?
                }
            };
            serde_json::from_slice::<Marks>(&json).map_err(|e| format!("unreadable report: {e}"))
        });
        (id, parsed)
    });
    Ok(async move {
        let Some((id, parsed)) = reading else {
            return Ok(None);
        };
        let marks = parsed
            .await
            .map_err(|e| err(&id, format!("reading the report failed: {e}")))?
            .map_err(|e| err(&id, e))?;
        if marks.version > Report::VERSION {
            return Err(err(
                &id,
                format!(
                    "written by a newer citeguard (report version {}; this one reads {}): upgrade citeguard",
                    marks.version,
                    Report::VERSION
                ),
            ));
        }
        Ok(Some(marks.into_report()))
    })
}

/// Where a report's JSON comes from: in hand, or read by a reader that
/// owns what it needs (`Objects::reader`).
enum Source {
    Bytes(Vec<u8>),
    Later(Box<dyn FnOnce() -> std::io::Result<Vec<u8>> + Send>),
}

/// A report as `last_marks_later` reads it: its version and what
/// `schedule::mark_changes` compares of each citation.
#[derive(serde::Deserialize)]
struct Marks {
    version: u32,
    run: RunInfo,
    citations: Vec<Mark>,
}

#[derive(serde::Deserialize)]
struct Mark {
    post: String,
    line: usize,
    url: Option<String>,
    text: String,
    kind: Kind,
    verdict: Verdict,
    reason: Reason,
}

impl Marks {
    /// A `Report` of these rows, their evidence empty, its summary zero.
    fn into_report(self) -> Report {
        let citations = self
            .citations
            .into_iter()
            .map(|m| {
                CitationResult::new(m.post, m.line, m.url, m.text, m.kind, m.verdict, m.reason)
            })
            .collect();
        Report {
            version: self.version,
            run: self.run,
            summary: Default::default(),
            citations,
            recovered: Vec::new(),
            still: Vec::new(),
            store: None,
        }
    }
}

/// How the index names a report kept as an object.
const OBJECT: &str = "object:";

/// Keeps a run's report as a compressed object, synced and in place;
/// returns what the run's row in the index holds to name it.
pub fn keep(store: &Store, report: &Report) -> Result<String> {
    // Streamed: the JSON is never held whole.
    let sha = store
        .objects
        .put_streamed_later(|out| {
            use std::io::Write;
            let mut out = std::io::BufWriter::new(out);
            serde_json::to_writer(&mut out, report).map_err(std::io::Error::other)?;
            out.flush()
        })
        .and_then(|sha| store.objects.commit_pending().map(|()| sha))
        .map_err(|e| store.err(format!("report: {e}")))?;
    Ok(format!("{OBJECT}{sha}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CitationResult, Kind, Reason, RunInfo, Verdict};
    use crate::store::testing;

    fn report(id: &str) -> Report {
        Report {
            version: Report::VERSION,
            run: RunInfo {
                id: id.into(),
                started_at: "2026-11-01T03:00:00Z".into(),
                finished_at: "2026-11-01T03:01:00Z".into(),
            },
            summary: Default::default(),
            citations: vec![CitationResult::new(
                "post.md",
                3,
                Some("https://example.org/a".into()),
                "a",
                Kind::Link,
                Verdict::Dead,
                Reason::HttpStatus,
            )],
            recovered: Vec::new(),
            still: Vec::new(),
            store: None,
        }
    }

    async fn keep(store: &Store, id: &str, json: &str) {
        store
            .index
            .begin_run(id, "2026-11-01T03:00:00Z")
            .await
            .unwrap();
        store
            .index
            .finish_run(id, "2026-11-01T03:01:00Z", json)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_store_without_a_finished_run_has_no_report() {
        let (_dir, store) = testing::store().await;
        store
            .index
            .begin_run("killed", "2026-11-01T03:00:00Z")
            .await
            .unwrap();
        assert_eq!(last_report(&store).await.unwrap(), None);
    }

    #[tokio::test]
    async fn the_last_finished_run_is_read_back_as_it_was_written() {
        let (_dir, store) = testing::store().await;
        let first = report("first");
        let second = report("second");
        keep(&store, "first", &serde_json::to_string(&first).unwrap()).await;
        keep(&store, "second", &serde_json::to_string(&second).unwrap()).await;
        assert_eq!(last_report(&store).await.unwrap(), Some(second));
    }

    #[tokio::test]
    async fn a_report_is_kept_compressed_out_of_the_index_and_read_back_beside_older_ones() {
        let (_dir, store) = testing::store().await;
        // A store written before: the JSON in the run's row.
        let old = report("old");
        keep(&store, "old", &serde_json::to_string(&old).unwrap()).await;
        assert_eq!(last_report(&store).await.unwrap(), Some(old));

        let new = report("new");
        let kept = super::keep(&store, &new).unwrap();
        let sha = kept.strip_prefix(OBJECT).unwrap();
        assert_eq!(sha.len(), 64, "{kept}");
        let gz = store
            .objects
            .path(sha)
            .with_file_name(format!("{}.gz", &sha[2..]));
        let json = serde_json::to_vec(&new).unwrap();
        assert!(std::fs::metadata(&gz).unwrap().len() < json.len() as u64);
        keep(&store, "new", &kept).await;
        assert_eq!(last_report(&store).await.unwrap(), Some(new));
        assert!(verify_clean(&store).await);
    }

    async fn verify_clean(store: &Store) -> bool {
        let now = chrono::Utc::now();
        crate::store::verify::verify(store, now)
            .await
            .unwrap()
            .problems
            .is_empty()
    }

    #[tokio::test]
    async fn a_report_from_a_newer_citeguard_asks_for_an_upgrade() {
        let (_dir, store) = testing::store().await;
        let mut newer = report("newer");
        newer.version = Report::VERSION + 1;
        keep(&store, "newer", &serde_json::to_string(&newer).unwrap()).await;
        let err = last_report(&store).await.unwrap_err().to_string();
        assert!(
            err.contains("run newer") && err.contains("upgrade citeguard"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn a_damaged_report_is_an_error_naming_its_run() {
        let (_dir, store) = testing::store().await;
        keep(&store, "torn", "{\"version\": 1, \"run\":").await;
        let err = last_report(&store).await.unwrap_err().to_string();
        assert!(err.contains("run torn: unreadable report"), "{err}");
    }

    /// What `last_marks_later` reads of a report: each citation's identity
    /// and verdict, nothing of its evidence.
    fn marks_of(report: &Report) -> Report {
        let mut marks = report.clone();
        marks.summary = Default::default();
        marks.recovered.clear();
        marks.still.clear();
        marks.store = None;
        for c in &mut marks.citations {
            *c = CitationResult::new(
                c.post.clone(),
                c.line,
                c.url.clone(),
                c.text.clone(),
                c.kind,
                c.verdict,
                c.reason,
            );
        }
        marks
    }

    async fn marks(store: &Store) -> Result<Option<Report>> {
        last_marks_later(store).await?.await
    }

    #[tokio::test]
    async fn the_next_run_reads_the_last_reports_verdicts_as_an_object_or_as_older_json() {
        let (_dir, store) = testing::store().await;
        assert_eq!(marks(&store).await.unwrap(), None);
        let mut old = report("old");
        old.citations[0].status = Some(404);
        old.citations[0].detail = Some("gone".into());
        old.summary.dead = 1;
        keep(&store, "old", &serde_json::to_string(&old).unwrap()).await;
        let read = marks(&store).await.unwrap().unwrap();
        assert_eq!(read, marks_of(&old));
        assert_eq!(read.citations[0].status, None);

        let mut new = report("new");
        new.citations.push(CitationResult::new(
            "other.md",
            9,
            None,
            "an unlinked title",
            Kind::Link,
            Verdict::Ok,
            Reason::HttpStatus,
        ));
        new.citations[0].similarity = Some(0.5);
        let kept = super::keep(&store, &new).unwrap();
        keep(&store, "new", &kept).await;
        assert_eq!(marks(&store).await.unwrap().unwrap(), marks_of(&new));
        // What marking the changes makes of it is what the whole report makes.
        let mut now = report("now");
        now.citations[0].verdict = Verdict::Ok;
        let mut by_marks = now.clone();
        crate::schedule::mark_changes(&mut by_marks, marks(&store).await.unwrap().as_ref());
        crate::schedule::mark_changes(&mut now, last_report(&store).await.unwrap().as_ref());
        assert_eq!(by_marks, now);
        assert_eq!(now.recovered.len(), 1, "{:?}", now.recovered);
    }

    #[tokio::test]
    async fn the_next_runs_read_refuses_a_damaged_newer_or_torn_report_naming_its_run() {
        let (_dir, store) = testing::store().await;
        let mut newer = report("newer");
        newer.version = Report::VERSION + 1;
        keep(&store, "newer", &serde_json::to_string(&newer).unwrap()).await;
        let err = marks(&store).await.unwrap_err().to_string();
        assert!(
            err.contains("run newer") && err.contains("upgrade citeguard"),
            "{err}"
        );
        keep(&store, "torn", "{\"version\": 1, \"run\":").await;
        let err = marks(&store).await.unwrap_err().to_string();
        assert!(err.contains("run torn: unreadable report"), "{err}");

        // A report object whose bytes no longer hash to its name.
        let kept = super::keep(&store, &report("damaged")).unwrap();
        let sha = kept.strip_prefix(OBJECT).unwrap();
        let gz = store
            .objects
            .path(sha)
            .with_file_name(format!("{}.gz", &sha[2..]));
        let mut other = Vec::new();
        {
            use std::io::Write;
            let mut enc = flate2::write::GzEncoder::new(&mut other, flate2::Compression::fast());
            enc.write_all(&serde_json::to_vec(&report("forged")).unwrap())
                .unwrap();
            enc.finish().unwrap();
        }
        std::fs::write(&gz, other).unwrap();
        keep(&store, "damaged", &kept).await;
        let err = marks(&store).await.unwrap_err().to_string();
        assert!(
            err.contains("run damaged: the report is unreadable") && err.contains("damaged"),
            "{err}"
        );
    }
}
