//! Moving a source's baseline after a person has reviewed a change
//! (`accept`): its latest snapshot becomes the copy later ones are compared
//! with. The first baseline of a source is set by `Archive` as it stores
//! the first copy; this file never fetches and never judges a verdict.

use chrono::{DateTime, Utc};

use super::{SnapshotRow, Store};
use crate::base::time::rfc3339;
use crate::error::{Error, Result};

/// Makes the latest snapshot of the source cited as `url` its baseline,
/// stamped `now`, and returns that snapshot. Refused when nothing is
/// stored, or when the latest copy itself is gone from the store.
pub async fn accept(store: &Store, url: &str, now: DateTime<Utc>) -> Result<SnapshotRow> {
    let source = store.find_source(url).await?;
    let e = |e| store.err(e);
    let latest = store
        .index
        .latest_snapshot(source.id, None)
        .await
        .map_err(e)?;
    let Some(latest) = latest else {
        return Err(Error::not_found(url, "no snapshot stored yet"));
    };
    if store.read_body(&latest).await.is_err() {
        return Err(Error::Usage(format!(
            "{url}: the latest snapshot ({}) is gone from the store too; run `citeguard check` to take a new one",
            latest.fetched_at
        )));
    }
    store
        .index
        .set_baseline(source.id, latest.id, &rfc3339(now), "accepted")
        .await
        .map_err(e)?;
    Ok(latest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::{self, Snap};

    const URL: &str = "https://example.org/a";

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-03T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[tokio::test]
    async fn the_latest_snapshot_becomes_the_baseline() {
        let (_dir, store) = testing::store().await;
        let first = testing::put(&store, "r1", &Snap::html(URL, "2026-11-01T03:00:00Z", "a")).await;
        store
            .index
            .set_baseline(first.source_id, first.id, "2026-11-01T03:00:00Z", "first")
            .await
            .unwrap();
        let second =
            testing::put(&store, "r2", &Snap::html(URL, "2026-11-02T03:00:00Z", "b")).await;
        let accepted = accept(&store, URL, now()).await.unwrap();
        assert_eq!(accepted, second);
        let baseline = store.index.baseline(first.source_id).await.unwrap();
        assert_eq!(baseline, Some(second));
    }

    #[tokio::test]
    async fn a_latest_copy_that_is_gone_is_not_accepted() {
        let (_dir, store) = testing::store().await;
        let s = testing::put(&store, "r1", &Snap::html(URL, "2026-11-01T03:00:00Z", "a")).await;
        std::fs::remove_file(store.objects.path(&s.body_sha256)).unwrap();
        let err = accept(&store, URL, now()).await.unwrap_err().to_string();
        assert!(err.contains("is gone from the store too"), "{err}");
        assert_eq!(store.index.baseline(s.source_id).await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_source_without_snapshots_has_nothing_to_accept() {
        let (_dir, store) = testing::store().await;
        store.index.source(URL).await.unwrap();
        let err = accept(&store, URL, now()).await.unwrap_err().to_string();
        assert!(err.contains("no snapshot stored yet"), "{err}");
    }
}
