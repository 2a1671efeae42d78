//! The report a finished run kept, read back: for `report`, and for the
//! next run to mark what changed since. `Archive::finish` keeps it through
//! `keep`: as a compressed object (its JSON gzipped, named by the JSON's
//! SHA-256), which the run's row in the index names as `object:<sha256>`;
//! stores written before kept the JSON itself in that row, which is still
//! read. This file never writes the index, never renders a report and
//! never touches the network.

use super::Store;
use crate::error::Result;
use crate::model::Report;

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
}
