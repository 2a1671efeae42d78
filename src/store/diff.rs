//! `diff`: a source's baseline text against its latest, for a person to
//! review before `accept`. It reads the store only; the similarity and the
//! word diff are `compare`'s, and showing them is the caller's.

use super::{SnapshotRow, Store};
use crate::error::{Error, Result};
use crate::model::DiffSpan;

/// A source's baseline and latest snapshots, and how their texts differ.
#[derive(Debug, Clone)]
pub struct TextDiff {
    pub baseline: SnapshotRow,
    pub latest: SnapshotRow,
    /// `None` when the texts are the same.
    pub change: Option<TextChange>,
}

#[derive(Debug, Clone)]
pub struct TextChange {
    /// Of the latest text to the baseline's, in [0, 1].
    pub similarity: f64,
    pub spans: Vec<DiffSpan>,
}

/// The main text of a snapshot (made from its body, or the text object a
/// store written before keeps), or an error saying there is none.
async fn stored_text(store: &Store, url: &str, s: &SnapshotRow) -> Result<String> {
    super::archive::text_or_error(store, url, s)
        .await?
        .ok_or_else(|| {
            Error::Usage(format!(
                "{url}: the snapshot of {} has no text ({})",
                s.fetched_at,
                s.content_type.as_deref().unwrap_or("no content type")
            ))
        })
}

/// The baseline text of the source cited as `url` against its latest. An
/// error when either snapshot is missing or has no text.
pub async fn baseline_vs_latest(store: &Store, url: &str) -> Result<TextDiff> {
    let source = store.find_source(url).await?;
    let e = |e| store.err(e);
    let baseline = store.index.baseline(source.id).await.map_err(e)?;
    let latest = store
        .index
        .latest_snapshot(source.id, None)
        .await
        .map_err(e)?;
    let (Some(baseline), Some(latest)) = (baseline, latest) else {
        return Err(Error::not_found(url, "no snapshot stored yet"));
    };
    let (before, after) = (
        stored_text(store, url, &baseline).await?,
        stored_text(store, url, &latest).await?,
    );
    let change = (baseline.id != latest.id && before != after).then(|| TextChange {
        similarity: crate::compare::similarity(&before, &after),
        spans: crate::compare::word_diff(&before, &after),
    });
    Ok(TextDiff {
        baseline,
        latest,
        change,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::{self, Snap};

    const URL: &str = "https://example.org/a";

    fn snap<'a>(at: &'a str, text: &'a str) -> Snap<'a> {
        Snap {
            text: Some(text),
            ..Snap::html(URL, at, text)
        }
    }

    async fn with_baseline(store: &Store, text: &str) {
        let s = testing::put(store, "run1", &snap("2026-11-01T03:00:00Z", text)).await;
        store
            .index
            .set_baseline(s.source_id, s.id, "2026-11-01T03:00:00Z", "first")
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn one_snapshot_is_the_same_text_as_itself() {
        let (_dir, store) = testing::store().await;
        with_baseline(&store, "the cited words").await;
        let diff = baseline_vs_latest(&store, URL).await.unwrap();
        assert_eq!(diff.baseline.id, diff.latest.id);
        assert!(diff.change.is_none());
    }

    #[tokio::test]
    async fn a_changed_text_gives_its_similarity_and_word_diff() {
        let (_dir, store) = testing::store().await;
        with_baseline(&store, "the cited words stand here").await;
        testing::put(
            &store,
            "run2",
            &snap("2026-11-02T03:00:00Z", "other words entirely"),
        )
        .await;
        let diff = baseline_vs_latest(&store, URL).await.unwrap();
        let change = diff.change.expect("the texts differ");
        assert!(change.similarity < 1.0);
        assert!(!change.spans.is_empty());
        assert_eq!(diff.latest.fetched_at, "2026-11-02T03:00:00Z");
    }

    #[tokio::test]
    async fn a_source_never_stored_is_not_in_the_store() {
        let (_dir, store) = testing::store().await;
        let err = baseline_vs_latest(&store, URL).await.unwrap_err();
        assert!(err.to_string().contains("not in the store"), "{err}");
    }

    #[tokio::test]
    async fn a_snapshot_without_text_says_so() {
        let (_dir, store) = testing::store().await;
        let s = testing::put(
            &store,
            "run1",
            &Snap::html(URL, "2026-11-01T03:00:00Z", "x"),
        )
        .await;
        store
            .index
            .set_baseline(s.source_id, s.id, "2026-11-01T03:00:00Z", "first")
            .await
            .unwrap();
        let err = baseline_vs_latest(&store, URL).await.unwrap_err();
        assert!(err.to_string().contains("has no text (text/html)"), "{err}");
    }

    #[tokio::test]
    async fn a_damaged_text_gives_way_to_the_body_and_is_named_without_one() {
        let (_dir, store) = testing::store().await;
        let page = "<html><body><article><p>the cited words, kept</p></article></body></html>";
        let s = testing::put(
            &store,
            "run1",
            &Snap {
                text: Some("the cited words, as an older build kept them"),
                ..Snap::html(URL, "2026-11-01T03:00:00Z", page)
            },
        )
        .await;
        store
            .index
            .set_baseline(s.source_id, s.id, "2026-11-01T03:00:00Z", "first")
            .await
            .unwrap();
        testing::put(
            &store,
            "run2",
            &snap("2026-11-02T03:00:00Z", "<p>other words entirely</p>"),
        )
        .await;
        let baseline = store.index.all_snapshots().await.unwrap().remove(0);
        let text = baseline.text_sha256.clone().unwrap();
        std::fs::write(store.objects.path(&text), "the cit").unwrap();
        // The text is made again from the body: the damaged object's bytes
        // are in neither side of the diff.
        let diff = baseline_vs_latest(&store, URL).await.unwrap();
        let spans = diff.change.expect("the texts differ").spans;
        let baseline_side: String = spans
            .iter()
            .filter(|s| s.op != crate::model::DiffOp::Insert)
            .map(|s| s.text.as_str())
            .collect();
        assert_eq!(baseline_side, "the cited words, kept");

        std::fs::remove_file(store.objects.path(&baseline.body_sha256)).unwrap();
        let err = baseline_vs_latest(&store, URL).await.unwrap_err();
        assert!(err.to_string().contains("is damaged"), "{err}");
    }
}
