//! What `show` serves of a source: the snapshot a date names, and that
//! snapshot as raw bytes, as its text, as its WARC record or as an offline
//! page. It reads the store only, and writes nothing anywhere: the bytes
//! go back to the caller.
//!
//! It never serves damaged bytes: an object must hash to its name and a
//! WARC record must match its digests, or `show` refuses with an error
//! that says so.

use super::{SnapshotRow, Store};
use crate::error::{Error, Result};

/// Which snapshot of a source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pick {
    Latest,
    Baseline,
    /// The latest taken at or before `bound` (RFC 3339); `asked` is the
    /// date as the person wrote it, for messages.
    AtOrBefore {
        bound: String,
        asked: String,
    },
}

/// How a snapshot is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// One self-contained HTML file that opens offline.
    Html,
    /// The extracted main text, as a text file.
    Text,
    /// The WARC records of the capture, gzipped as stored: the response
    /// (or the revisit of an earlier identical one) and its request.
    Warc,
    /// The body exactly as received.
    Raw,
}

/// The snapshot `pick` names of the source cited as `url`.
pub async fn snapshot(store: &Store, url: &str, pick: &Pick) -> Result<SnapshotRow> {
    let source = store.find_source(url).await?;
    let e = |e| store.err(e);
    let found = match pick {
        Pick::Latest => store.index.latest_snapshot(source.id, None).await,
        Pick::Baseline => store.index.baseline(source.id).await,
        Pick::AtOrBefore { bound, .. } => store.index.latest_snapshot(source.id, Some(bound)).await,
    }
    .map_err(e)?;
    found.ok_or_else(|| {
        Error::not_found(
            url,
            match pick {
                Pick::Latest => "no snapshot stored yet".to_string(),
                Pick::Baseline => "no baseline stored yet".to_string(),
                Pick::AtOrBefore { asked, .. } => format!("no snapshot at or before {asked}"),
            },
        )
    })
}

/// The snapshot `pick` names of the source cited as `url`, in `form`.
pub async fn offline_copy(store: &Store, url: &str, pick: &Pick, form: Form) -> Result<Vec<u8>> {
    let snap = snapshot(store, url, pick).await?;
    match form {
        Form::Raw => store.read_copy(url, &snap, &snap.body_sha256).await,
        Form::Text => {
            let Some(text) = super::archive::text_or_error(store, url, &snap).await? else {
                return Err(Error::Usage(format!(
                    "{url}: no text was extracted from this snapshot ({}); try --as raw",
                    snap.content_type.as_deref().unwrap_or("no content type")
                )));
            };
            let mut text = text.into_bytes();
            text.push(b'\n');
            Ok(text)
        }
        Form::Warc => {
            let mut out = warc_record(store, url, &snap)?;
            out.extend(request_record(store, url, &snap)?);
            Ok(out)
        }
        Form::Html => {
            let body = store.read_copy(url, &snap, &snap.body_sha256).await?;
            Ok(super::pages::offline_html(store, &snap, &body)
                .await?
                .into_bytes())
        }
    }
}

/// The gzip member of the snapshot's response record: a WARC file of its
/// own, served only when it decompresses whole and matches its digest.
fn warc_record(store: &Store, url: &str, snap: &SnapshotRow) -> Result<Vec<u8>> {
    let (Some(file), Some(offset), Some(length)) =
        (&snap.warc_file, snap.warc_offset, snap.warc_length)
    else {
        return Err(Error::not_found(url, "no WARC record stored"));
    };
    let path = store.warc_file(file);
    let mut out = Vec::new();
    super::warc::copy_member(&path, offset, length, &mut out)
        .and_then(|()| super::warc::check_record_bytes(&out).map(drop))
        .map_err(|e| damaged(store, url, snap, file, offset, e))?;
    Ok(out)
}

/// The gzip member of the `request` record concurrent to the snapshot's
/// record: the one written right after it, checked as the response is.
/// Empty when the record that follows is not that request (a store written
/// before requests were kept with every capture).
fn request_record(store: &Store, url: &str, snap: &SnapshotRow) -> Result<Vec<u8>> {
    let (Some(file), Some(offset), Some(length)) =
        (&snap.warc_file, snap.warc_offset, snap.warc_length)
    else {
        return Ok(Vec::new());
    };
    let path = store.warc_file(file);
    let first = super::warc::read_headers(&path, offset).map_err(|e| Error::io(&path, e))?;
    let next = offset + length;
    let is_end = std::fs::metadata(&path).is_ok_and(|m| m.len() <= next);
    if is_end {
        return Ok(Vec::new());
    }
    let (request, request_len) = super::warc::read_member(&path, next)
        .map_err(|e| damaged(store, url, snap, file, next, e))?;
    let id = first
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("WARC-Record-ID"));
    let concurrent = id.is_some_and(|(_, id)| request.header("WARC-Concurrent-To") == Some(id));
    if request.header("WARC-Type") != Some("request") || !concurrent {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    super::warc::copy_member(&path, next, request_len, &mut out)
        .and_then(|()| super::warc::check_record_bytes(&out).map(drop))
        .map_err(|e| damaged(store, url, snap, file, next, e))?;
    Ok(out)
}

/// The error for a record of the snapshot's capture that is not whole.
fn damaged(
    store: &Store,
    url: &str,
    snap: &SnapshotRow,
    file: &str,
    offset: u64,
    e: std::io::Error,
) -> Error {
    store.err(format!(
        "{url}: the WARC record of the copy of {} (warc/{file} at offset {offset}) is \
         damaged ({e}); nothing was served. `citeguard verify` lists what is damaged",
        snap.fetched_at
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::{self, Snap};

    const URL: &str = "https://example.org/a";

    async fn two_days(store: &Store) -> (SnapshotRow, SnapshotRow) {
        let first = Snap {
            text: Some("first text"),
            warc: true,
            ..Snap::html(URL, "2026-11-01T03:00:00Z", "<p>first</p>")
        };
        let first = testing::put(store, "r1", &first).await;
        store
            .index
            .set_baseline(first.source_id, first.id, "2026-11-01T03:00:00Z", "first")
            .await
            .unwrap();
        let second = testing::put(
            store,
            "r2",
            &Snap::html(URL, "2026-11-02T03:00:00Z", "<p>2</p>"),
        )
        .await;
        (first, second)
    }

    fn at(bound: &str) -> Pick {
        Pick::AtOrBefore {
            bound: bound.into(),
            asked: bound.into(),
        }
    }

    #[tokio::test]
    async fn each_pick_names_its_snapshot() {
        let (_dir, store) = testing::store().await;
        let (first, second) = two_days(&store).await;
        assert_eq!(snapshot(&store, URL, &Pick::Latest).await.unwrap(), second);
        assert_eq!(snapshot(&store, URL, &Pick::Baseline).await.unwrap(), first);
        let day_one = at("2026-11-01T23:59:59Z");
        assert_eq!(snapshot(&store, URL, &day_one).await.unwrap(), first);
        let before = Pick::AtOrBefore {
            bound: "2000-01-01T23:59:59Z".into(),
            asked: "2000-01-01".into(),
        };
        let err = snapshot(&store, URL, &before)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("no snapshot at or before 2000-01-01"), "{err}");
    }

    #[tokio::test]
    async fn each_form_serves_the_snapshot_as_it_says() {
        let (_dir, store) = testing::store().await;
        two_days(&store).await;
        let day_one = at("2026-11-01T23:59:59Z");
        let raw = offline_copy(&store, URL, &day_one, Form::Raw)
            .await
            .unwrap();
        assert_eq!(raw, b"<p>first</p>");
        let text = offline_copy(&store, URL, &day_one, Form::Text)
            .await
            .unwrap();
        assert_eq!(text, b"first text\n");
        let warc = offline_copy(&store, URL, &day_one, Form::Warc)
            .await
            .unwrap();
        assert_eq!(&warc[..2], [0x1f, 0x8b], "a gzip member");
        let dir = tempfile::tempdir().unwrap();
        let pair = dir.path().join("pair.warc.gz");
        std::fs::write(&pair, &warc).unwrap();
        let (response, len) = crate::store::warc::read_member(&pair, 0).unwrap();
        let (request, rest) = crate::store::warc::read_member(&pair, len).unwrap();
        assert_eq!(len + rest, warc.len() as u64, "the pair and nothing else");
        assert_eq!(response.header("WARC-Type"), Some("response"));
        assert_eq!(request.header("WARC-Type"), Some("request"));
        assert_eq!(
            request.header("WARC-Concurrent-To"),
            response.header("WARC-Record-ID")
        );
        let html = offline_copy(&store, URL, &day_one, Form::Html)
            .await
            .unwrap();
        assert!(String::from_utf8(html).unwrap().contains("first"));
    }

    #[tokio::test]
    async fn a_snapshot_without_text_or_record_says_what_to_try() {
        let (_dir, store) = testing::store().await;
        two_days(&store).await;
        let err = offline_copy(&store, URL, &Pick::Latest, Form::Text)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("try --as raw"), "{err}");
        let err = offline_copy(&store, URL, &Pick::Latest, Form::Warc)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("no WARC record stored"), "{err}");
    }

    #[tokio::test]
    async fn a_lost_body_points_to_verify() {
        let (_dir, store) = testing::store().await;
        let (_, second) = two_days(&store).await;
        std::fs::remove_file(store.objects.path(&second.body_sha256)).unwrap();
        let err = offline_copy(&store, URL, &Pick::Latest, Form::Raw)
            .await
            .unwrap_err();
        let err = err.to_string();
        assert!(err.contains("is gone"), "{err}");
        assert!(
            err.contains("`citeguard verify` lists what is lost"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn a_damaged_copy_is_refused_in_every_form() {
        let (_dir, store) = testing::store().await;
        let (first, _) = two_days(&store).await;
        let day_one = at("2026-11-01T23:59:59Z");
        // A damaged text object (a store written before texts were made
        // from the bodies) is not served: the text is made from the body.
        let text = first.text_sha256.clone().unwrap();
        std::fs::write(store.objects.path(&text), "first te").unwrap();
        let made = offline_copy(&store, URL, &day_one, Form::Text)
            .await
            .unwrap();
        assert_eq!(String::from_utf8(made).unwrap(), "first\n");

        // A damaged body object is not served; the same bytes in the WARC
        // record are (checked against the body's SHA-256).
        std::fs::write(store.objects.path(&first.body_sha256), "<p>fir").unwrap();
        let raw = offline_copy(&store, URL, &day_one, Form::Raw)
            .await
            .unwrap();
        assert_eq!(
            hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&raw)),
            first.body_sha256
        );

        // One byte of the record's gzip member flipped: no sound copy left.
        let path = store.warc_dir().join(first.warc_file.as_deref().unwrap());
        let mut bytes = std::fs::read(&path).unwrap();
        let middle = (first.warc_offset.unwrap() + first.warc_length.unwrap() / 2) as usize;
        bytes[middle] ^= 0x55;
        std::fs::write(&path, &bytes).unwrap();
        for form in [Form::Raw, Form::Html, Form::Text] {
            let err = offline_copy(&store, URL, &day_one, form)
                .await
                .unwrap_err()
                .to_string();
            assert!(err.contains("is damaged"), "{form:?}: {err}");
        }
        let err = offline_copy(&store, URL, &day_one, Form::Warc)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("WARC record") && err.contains("is damaged"),
            "{err}"
        );
    }
}
