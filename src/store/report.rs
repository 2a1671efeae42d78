//! The report a finished run kept, read back: for `report`, and for the
//! next run to mark what changed since. `Archive::finish` keeps it through
//! `keep`: as a compressed object (its JSON gzipped, named by the JSON's
//! SHA-256), which the run's row in the index names as `object:<sha256>`;
//! stores written before kept the JSON itself in that row, which is still
//! read. This file never writes the index, never renders a report and
//! never touches the network.

use std::future::Future;

use super::Store;
use crate::error::Result;
use crate::model::Report;
use crate::schedule::Previous;

/// The report of the last finished run, as it was written; `None` before
/// any run has finished. A report this build cannot read (damaged, or
/// written by a newer citeguard) is an error that says so.
pub async fn last_report(store: &Store) -> Result<Option<Report>> {
    read_last::<Report>(store).await?.await
}

/// What the next run reads of the last finished run's report, to mark what
/// changed since (`schedule::mark_changes`): each citation's key and
/// verdict, nothing else of it. Read on the blocking pool beside the run:
/// the index is asked now, the report read, checked and parsed by the
/// future this returns, which the run awaits once its sources are checked.
/// Errors as `last_report`'s.
pub async fn last_marks_later(
    store: &Store,
) -> Result<impl Future<Output = Result<Option<Vec<Previous>>>> + Send + 'static> {
    let reading = read_last::<Marks>(store).await?;
    Ok(async move { Ok(reading.await?.map(|m| m.citations)) })
}

/// What a kept report is read as: the whole `Report`, or only its `Marks`.
trait Kept: serde::de::DeserializeOwned + Send + 'static {
    fn version(&self) -> u32;
}

impl Kept for Report {
    fn version(&self) -> u32 {
        self.version
    }
}

/// A report as the next run reads it: its version and what
/// `schedule::mark_changes` compares of each citation.
#[derive(serde::Deserialize)]
struct Marks {
    version: u32,
    citations: Vec<Previous>,
}

impl Kept for Marks {
    fn version(&self) -> u32 {
        self.version
    }
}

/// The last finished run's report, parsed as `T` off the runtime: the
/// index is asked and the report's object found now; reading the object
/// (checked against its name), parsing it and refusing a newer version
/// happen on the blocking pool and in the future returned.
async fn read_last<T: Kept>(
    store: &Store,
) -> Result<impl Future<Output = Result<Option<T>>> + Send + 'static> {
    let kept = store.index.last_report().await.map_err(|e| store.err(e))?;
    let mut source = None;
    if let Some((id, kept)) = kept {
        let json: Source =
            match kept.strip_prefix(OBJECT) {
                None => Source::Bytes(kept.into_bytes()),
                Some(sha) => match store.objects.reader(sha) {
                    Some(read) => Source::Later(Box::new(read)),
                    // In the open batch, or on S3: read here.
                    None => Source::Bytes(store.objects.read(sha).map_err(|e| {
                        store.err(format!("run {id}: the report is unreadable: {e}"))
                    })?),
                },
            };
        source = Some((id, json));
    }
    // Started now: it runs while the caller goes on.
    let parsing = source.map(|(id, json)| {
        let parsed = tokio::task::spawn_blocking(move || {
            let json = match json {
                Source::Bytes(b) => b,
                Source::Later(read) => {
                    read().map_err(|e| format!("the report is unreadable: {e}"))?
                }
            };
            serde_json::from_slice::<T>(&json).map_err(|e| format!("unreadable report: {e}"))
        });
        (id, parsed)
    });
    let name = store.name().to_path_buf();
    Ok(async move {
        let Some((id, parsed)) = parsing else {
            return Ok(None);
        };
        let err = |cause: String| crate::error::Error::Store {
            path: name.clone(),
            cause: format!("run {id}: {cause}"),
        };
        let parsed = parsed
            .await
            .map_err(|e| err(format!("reading the report failed: {e}")))?
            .map_err(err)?;
        if parsed.version() > Report::VERSION {
            return Err(err(format!(
                "written by a newer citeguard (report version {}; this one reads {}): upgrade citeguard",
                parsed.version(),
                Report::VERSION
            )));
        }
        Ok(Some(parsed))
    })
}

/// Where a report's JSON comes from: in hand, or read by a reader that
/// owns what it needs (`Objects::reader`).
enum Source {
    Bytes(Vec<u8>),
    Later(Box<dyn FnOnce() -> std::io::Result<Vec<u8>> + Send>),
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

    /// What `last_marks_later` reads of a report: each citation's key and
    /// verdict, nothing of its evidence.
    fn marks_of(report: &Report) -> Vec<Previous> {
        report.citations.iter().map(Previous::from).collect()
    }

    async fn marks(store: &Store) -> Result<Option<Vec<Previous>>> {
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
        // Each citation's key and verdict: its evidence (the status, the
        // detail) has no field to be read into.
        assert_eq!(read, marks_of(&old));

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
        crate::schedule::mark_changes(&mut by_marks, marks(&store).await.unwrap().as_deref());
        let whole = last_report(&store).await.unwrap().map(|r| marks_of(&r));
        crate::schedule::mark_changes(&mut now, whole.as_deref());
        assert_eq!(by_marks, now);
        assert_eq!(now.recovered.len(), 1, "{:?}", now.recovered);
    }

    #[tokio::test]
    async fn a_damaged_newer_or_torn_report_is_refused_naming_its_run_by_both_readers() {
        let (_dir, store) = testing::store().await;
        let mut newer = report("newer");
        newer.version = Report::VERSION + 1;
        keep(&store, "newer", &serde_json::to_string(&newer).unwrap()).await;
        for err in refusals(&store).await {
            assert!(
                err.contains("run newer") && err.contains("upgrade citeguard"),
                "{err}"
            );
        }
        keep(&store, "torn", "{\"version\": 1, \"run\":").await;
        for err in refusals(&store).await {
            assert!(err.contains("run torn: unreadable report"), "{err}");
        }

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
        for err in refusals(&store).await {
            assert!(
                err.contains("run damaged: the report is unreadable") && err.contains("damaged"),
                "{err}"
            );
        }
    }

    /// The errors of `last_report` and of the next run's read, each of
    /// which must refuse the last report.
    async fn refusals(store: &Store) -> [String; 2] {
        [
            last_report(store).await.unwrap_err().to_string(),
            marks(store).await.unwrap_err().to_string(),
        ]
    }
}
