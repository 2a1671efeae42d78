//! `verify`: re-hashes every object and checks every snapshot row against
//! the objects and the WARC records, so that loss is found before a reader
//! needs the copy. A snapshot's body is checked wherever it lives: its
//! object (stores written before bodies moved into the WARC files), else
//! the payload of its response record, else of another record of the same
//! bytes; each read back and hashed against the body's SHA-256.
//!
//! It records what it finds in the index (damaged objects are marked, so
//! the next run reports `snapshot-lost`; objects that are sound again are
//! cleared) and nothing else: it never rewrites, moves or deletes an
//! object or a WARC record, and never prints (the problems come back as
//! lines for the caller to show).

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::{Health, Objects, SnapshotRow, Store};
use crate::base::time::rfc3339;
use crate::error::Result;

/// What `verify` found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verified {
    /// One line per problem, in the order found.
    pub problems: Vec<String>,
    /// How many object files were re-hashed.
    pub objects: usize,
}

/// Checks the whole store: the index's own integrity, each snapshot's
/// objects and WARC record, then every object on disk that no snapshot
/// names. `now` stamps the damage it marks.
pub async fn verify(store: &Store, now: DateTime<Utc>) -> Result<Verified> {
    let mut problems = index_integrity(store).await?;
    // Listed first: copies on storage that cannot be reached are one
    // error, never a store full of objects marked missing.
    let on_disk = store.objects.list().map_err(|e| store.err(e))?;
    let mut seen = HashMap::new();
    let now = rfc3339(now);
    for s in &store
        .index
        .all_snapshots()
        .await
        .map_err(|e| store.err(e))?
    {
        problems.extend(snapshot_objects(store, s, &mut seen, &now).await?);
        problems.extend(warc_record(store, s));
    }
    problems.extend(loose_objects(store, &on_disk, &mut seen));
    clear_sound(store, &seen).await?;
    Ok(Verified {
        problems,
        objects: on_disk.len(),
    })
}

async fn index_integrity(store: &Store) -> Result<Vec<String>> {
    let integrity = store.index.integrity().await.map_err(|e| store.err(e))?;
    Ok(if integrity == ["ok"] {
        Vec::new()
    } else {
        vec![format!("index: {}", integrity.join("; "))]
    })
}

/// A snapshot's body and text: each re-hashed once per run of `verify`
/// (`seen` remembers), and marked damaged in the index when missing or
/// corrupt.
async fn snapshot_objects(
    store: &Store,
    s: &SnapshotRow,
    seen: &mut HashMap<String, Health>,
    now: &str,
) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    let body = match seen.get(&s.body_sha256) {
        Some(h) => *h,
        None => {
            let h = body_health(store, s).await;
            seen.insert(s.body_sha256.clone(), h);
            h
        }
    };
    // A text is checked where a store written before texts were derived
    // keeps it as an object; since, it is made from the body, checked
    // above, and there is no object to lose.
    let text = s
        .text_sha256
        .as_deref()
        .filter(|t| super::archive::text_hashed(t) && store.objects.exists(t))
        .map(|t| {
            (
                t,
                *seen
                    .entry(t.to_string())
                    .or_insert_with(|| store.objects.health(t)),
            )
        });
    let checked = std::iter::once(("body", s.body_sha256.as_str(), body))
        .chain(text.map(|(t, h)| ("text", t, h)));
    for (what, sha, health) in checked {
        let Some(word) = damage(health) else {
            continue;
        };
        let place = match (&s.warc_file, s.warc_offset) {
            (Some(f), Some(o)) if what == "body" && !store.objects.exists(sha) => {
                format!("warc/{f} at {o}")
            }
            _ => Objects::relative_path(sha),
        };
        problems.push(format!(
            "{word}: {place} ({what} of {} taken {})",
            s.url, s.fetched_at
        ));
        store
            .index
            .mark_damaged(sha, now, word)
            .await
            .map_err(|e| store.err(e))?;
    }
    Ok(problems)
}

/// A body's health, wherever it lives (`Store::read_body`): sound when one
/// copy reads back whole and hashes to its name, corrupt when a copy was
/// found but none is sound (or its body object is damaged), missing when
/// there is none.
async fn body_health(store: &Store, s: &SnapshotRow) -> Health {
    // A body object (a store written before) must be sound itself, even
    // when a WARC record holds the same bytes.
    if store.objects.exists(&s.body_sha256) {
        let h = store.objects.health(&s.body_sha256);
        if h != Health::Sound {
            return h;
        }
    }
    match store.read_body(s).await {
        Ok(_) => Health::Sound,
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => Health::Corrupt,
        Err(_) => Health::Missing,
    }
}

/// The word `verify` and the index use for an object's damage, if any.
fn damage(health: Health) -> Option<&'static str> {
    match health {
        Health::Sound => None,
        Health::Missing => Some("missing"),
        Health::Corrupt => Some("corrupt"),
    }
}

/// Whether a snapshot's WARC record is where its row says, whole (its
/// gzip member decompresses and its block matches its digest), and is the
/// response record of a URL.
fn warc_record(store: &Store, s: &SnapshotRow) -> Option<String> {
    let (Some(file), Some(offset)) = (&s.warc_file, s.warc_offset) else {
        return None;
    };
    let path = store.warc_file(file);
    let checked = match s.warc_length {
        Some(length) => super::warc::check_record_at(&path, offset, length),
        None => super::warc::read_record(&path, offset).map(|r| r.headers),
    };
    match checked {
        Ok(h)
            if h.iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("WARC-Target-URI")) =>
        {
            None
        }
        Ok(_) => Some(format!(
            "warc: {file} at {offset} is not the response record of {}",
            s.url
        )),
        Err(e) => Some(format!("warc: {file} at {offset} ({}): {e}", s.url)),
    }
}

/// Every other object on disk is re-hashed too: a damaged one would be
/// served by `show` the day a row names it. Nothing is marked for them:
/// no snapshot needs them yet.
fn loose_objects(
    store: &Store,
    on_disk: &[String],
    seen: &mut HashMap<String, Health>,
) -> Vec<String> {
    let mut problems = Vec::new();
    for sha in on_disk {
        if seen.contains_key(sha) {
            continue;
        }
        let health = store.objects.health(sha);
        if health != Health::Sound {
            problems.push(format!(
                "corrupt: {} (no snapshot names it)",
                Objects::relative_path(sha)
            ));
        }
        seen.insert(sha.clone(), health);
    }
    problems
}

/// Objects that were marked damaged and are sound again (a later run
/// fetched the same bytes) are cleared.
async fn clear_sound(store: &Store, seen: &HashMap<String, Health>) -> Result<()> {
    for (sha, health) in seen {
        if *health == Health::Sound {
            store
                .index
                .clear_damaged(sha)
                .await
                .map_err(|e| store.err(e))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::{self, Snap};

    const AT: &str = "2026-11-01T03:00:00Z";

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-02T03:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[tokio::test]
    async fn a_whole_store_has_no_problems() {
        let (_dir, store) = testing::store().await;
        let snap = Snap {
            text: Some("the text"),
            warc: true,
            ..Snap::html("https://example.org/a", AT, "<p>the text</p>")
        };
        testing::put(&store, "run1", &snap).await;
        let found = verify(&store, now()).await.unwrap();
        assert_eq!(found.problems, Vec::<String>::new());
        assert_eq!(found.objects, 2, "the body and the text");
    }

    #[tokio::test]
    async fn a_missing_body_is_named_and_marked_then_cleared_when_it_is_back() {
        let (_dir, store) = testing::store().await;
        let body = "<p>cited</p>";
        let s = testing::put(
            &store,
            "run1",
            &Snap::html("https://example.org/a", AT, body),
        )
        .await;
        let path = store.objects.path(&s.body_sha256);
        std::fs::remove_file(&path).unwrap();

        let found = verify(&store, now()).await.unwrap();
        assert_eq!(
            found.problems,
            vec![format!(
                "missing: {} (body of https://example.org/a taken {AT})",
                Objects::relative_path(&s.body_sha256)
            )]
        );
        assert!(store.index.is_damaged(&s.body_sha256).await.unwrap());

        store.objects.put_bytes(body.as_bytes()).unwrap();
        let found = verify(&store, now()).await.unwrap();
        assert!(found.problems.is_empty(), "{:?}", found.problems);
        assert!(!store.index.is_damaged(&s.body_sha256).await.unwrap());
    }

    /// A snapshot of https://example.org/a whose text was kept as an
    /// object (as earlier builds kept it), and that text's hash.
    async fn with_text_object(store: &Store) -> (SnapshotRow, String) {
        let snap = Snap {
            text: Some("the text"),
            ..Snap::html("https://example.org/a", AT, "<p>the text</p>")
        };
        let s = testing::put(store, "run1", &snap).await;
        let text = s.text_sha256.clone().unwrap();
        (s, text)
    }

    #[tokio::test]
    async fn a_text_the_layout_never_kept_is_not_lost() {
        let (_dir, store) = testing::store().await;
        let (s, text) = with_text_object(&store).await;
        // A snapshot as runs now write it: the text's hash in its row, no
        // text object (the text is made from the body when needed).
        std::fs::remove_file(store.objects.path(&text)).unwrap();
        let found = verify(&store, now()).await.unwrap();
        assert!(found.problems.is_empty(), "{:?}", found.problems);
        assert!(!store.index.is_damaged(&text).await.unwrap());
        // Its body is still checked.
        std::fs::remove_file(store.objects.path(&s.body_sha256)).unwrap();
        let found = verify(&store, now()).await.unwrap();
        assert_eq!(found.problems.len(), 1, "{:?}", found.problems);
        assert!(
            found.problems[0].contains("(body of"),
            "{:?}",
            found.problems
        );
    }

    #[tokio::test]
    async fn a_corrupt_text_is_named_as_the_text_of_its_snapshot() {
        let (_dir, store) = testing::store().await;
        let (_, text) = with_text_object(&store).await;
        std::fs::write(store.objects.path(&text), "tampered").unwrap();
        let found = verify(&store, now()).await.unwrap();
        assert_eq!(found.problems.len(), 1, "{:?}", found.problems);
        assert!(
            found.problems[0].starts_with("corrupt: ")
                && found.problems[0].contains("(text of https://example.org/a"),
            "{:?}",
            found.problems
        );
        assert!(store.index.is_damaged(&text).await.unwrap());
    }

    #[tokio::test]
    async fn a_corrupt_object_no_snapshot_names_is_listed_but_not_marked() {
        let (_dir, store) = testing::store().await;
        let sha = store.objects.put_bytes(b"an orphan").unwrap();
        std::fs::write(store.objects.path(&sha), "tampered").unwrap();
        let found = verify(&store, now()).await.unwrap();
        assert_eq!(
            found.problems,
            vec![format!(
                "corrupt: {} (no snapshot names it)",
                Objects::relative_path(&sha)
            )]
        );
        assert!(!store.index.is_damaged(&sha).await.unwrap());
    }

    #[tokio::test]
    async fn a_lost_warc_file_is_a_problem_naming_the_file_and_the_source() {
        let (_dir, store) = testing::store().await;
        let snap = Snap {
            warc: true,
            ..Snap::html("https://example.org/a", AT, "<p>x</p>")
        };
        let s = testing::put(&store, "run1", &snap).await;
        std::fs::remove_file(store.warc_dir().join("run1.warc.gz")).unwrap();
        let found = verify(&store, now()).await.unwrap();
        assert_eq!(found.problems.len(), 1, "{:?}", found.problems);
        let offset = s.warc_offset.unwrap();
        assert!(
            found.problems[0].starts_with(&format!(
                "warc: run1.warc.gz at {offset} (https://example.org/a): "
            )),
            "{:?}",
            found.problems
        );
    }

    #[tokio::test]
    async fn a_flipped_byte_in_a_warc_record_is_a_problem() {
        let (_dir, store) = testing::store().await;
        let snap = Snap {
            warc: true,
            ..Snap::html("https://example.org/a", AT, "<p>x</p>")
        };
        let s = testing::put(&store, "run1", &snap).await;
        let path = store.warc_dir().join("run1.warc.gz");
        let mut bytes = std::fs::read(&path).unwrap();
        let middle = (s.warc_offset.unwrap() + s.warc_length.unwrap() / 2) as usize;
        bytes[middle] ^= 0x55;
        std::fs::write(&path, &bytes).unwrap();
        let found = verify(&store, now()).await.unwrap();
        assert_eq!(found.problems.len(), 1, "{:?}", found.problems);
        assert!(
            found.problems[0].starts_with("warc: run1.warc.gz at "),
            "{:?}",
            found.problems
        );
    }
}
