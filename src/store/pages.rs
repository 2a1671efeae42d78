//! Offline pages made from the store: one snapshot as a self-contained
//! HTML file (`show --as html`), and the folder of such pages beside an
//! HTML report, so that the report and the copies it links to travel
//! together without the store.
//!
//! It reads the store (the snapshot's body, its requisites as they were
//! when the page was taken) and hands them to `offline::render_offline`,
//! which owns the page itself. It never fetches and never writes the
//! store; the only files it writes are the report's folder of pages.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use super::offline::{Banner, Stored, render_offline};
use super::whole_file::WholeFile;
use super::{SnapshotRow, Store};
use crate::error::{Error, Result};
use crate::model::Report;

/// One self-contained HTML file for a snapshot: requisites inlined from the
/// store, scripts out, a banner saying what it is. A text snapshot is
/// shown as its text; anything else is an error that says to try `--as raw`.
pub async fn offline_html(store: &Store, snap: &SnapshotRow, body: &[u8]) -> Result<String> {
    let base = url::Url::parse(snap.final_url.as_deref().unwrap_or(&snap.url))
        .map_err(|e| store.err(format!("{}: {e}", snap.url)))?;
    let html = page_markup(store, snap, body)?;
    let found = requisites_as_taken(store, snap).await?;
    let lookup = |u: &url::Url| found.get(u.as_str()).cloned();
    let banner = Banner {
        url: &snap.url,
        taken_at: &snap.fetched_at,
        sha256: &snap.body_sha256,
        note: None,
    };
    // Links resolve against a base that may carry the credentials a post
    // cited it with: none of them reaches the page.
    let page = render_offline(&html, &base, &lookup, &banner);
    Ok(crate::base::web::without_userinfo(&page).into_owned())
}

/// The markup to render: an HTML body decoded with its charset, or the
/// stored text of any other snapshot in a `<pre>`.
fn page_markup(store: &Store, snap: &SnapshotRow, body: &[u8]) -> Result<String> {
    if crate::compare::content_family(snap.content_type.as_deref()) == "html" {
        let mut html = crate::base::text::decode_text(body.to_vec(), snap.charset.as_deref())
            .map_err(|e| store.err(format!("{}: {e}", snap.url)))?;
        // Rendered only as far as it is cheap to parse (`fetch::bound`).
        html.truncate(crate::fetch::bound::parseable(&html).html.len());
        return Ok(html);
    }
    // The text object of a store written before texts were derived, else
    // the text made from the body at hand.
    let object = snap
        .text_sha256
        .as_deref()
        .filter(|t| super::archive::text_hashed(t))
        .and_then(|_| store.text_of(snap));
    match object.or_else(|| super::archive::main_text(snap, body)) {
        Some(text) => Ok(format!("<pre>{}</pre>", crate::base::escape::html(&text))),
        None => Err(Error::Usage(format!(
            "{}: not an HTML page ({}); try --as raw",
            snap.url,
            snap.content_type.as_deref().unwrap_or("no content type")
        ))),
    }
}

/// The page's requisites as they were when the page was taken: each one's
/// latest snapshot at or before the page's, else its latest at all. A
/// requisite whose body is gone is left out (the page shows without it).
async fn requisites_as_taken(store: &Store, snap: &SnapshotRow) -> Result<HashMap<String, Stored>> {
    let mut found = HashMap::new();
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
            && let Ok(bytes) = store.read_body(&s).await
        {
            found.insert(req, (s.content_type.clone(), bytes));
        }
    }
    Ok(found)
}

/// Writes the baseline of each cited source as a self-contained page in a
/// folder next to an HTML report (`report.html` → `report-offline/`), and
/// points the report's rows at them, so the report and its copies can be
/// opened, mailed or published together without the store. A baseline
/// that cannot be made into a page leaves its rows without one.
pub async fn attach_offline_pages(store: &Store, report: &mut Report, output: &Path) -> Result<()> {
    let stem = output
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".into());
    let folder = format!("{stem}-offline");
    let dir = output.with_file_name(&folder);
    let mut written: HashMap<String, Option<String>> = HashMap::new();
    for row in &mut report.citations {
        let (Some(url), Some(offline)) = (row.url.clone(), row.offline.as_mut()) else {
            continue;
        };
        let Some(sha) = offline.baseline.clone() else {
            continue;
        };
        if !written.contains_key(&sha) {
            let name = match baseline_page(store, &url, &sha).await {
                Some(html) => {
                    let name = format!(
                        "{}.html",
                        &sha[..crate::base::text::floor_char_boundary(&sha, 16)]
                    );
                    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
                    let path = dir.join(&name);
                    write_whole(&path, html.as_bytes()).map_err(|e| Error::io(&path, e))?;
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

/// A page written whole or not at all: a failed report leaves last
/// time's page as it was.
fn write_whole(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = WholeFile::create(path)?;
    file.write_all(bytes)?;
    file.commit()
}

/// The offline page of a source's baseline, when it can be made (an HTML
/// or text snapshot whose body is still in the store).
async fn baseline_page(store: &Store, url: &str, sha: &str) -> Option<String> {
    let source = store.find_source(url).await.ok()?;
    let snap = store
        .index
        .snapshots(source.id)
        .await
        .ok()?
        .into_iter()
        .find(|s| s.body_sha256 == sha)?;
    let body = store.read_body(&snap).await.ok()?;
    offline_html(store, &snap, &body).await.ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CitationResult, Kind, Offline, Reason, RunInfo, Verdict};
    use crate::store::testing::{self, Snap};

    const PAGE: &str = "https://example.org/post";
    const CSS: &str = "https://example.org/style.css";

    fn css(at: &'static str, body: &'static str) -> Snap<'static> {
        Snap {
            content_type: Some("text/css"),
            ..Snap::html(CSS, at, body)
        }
    }

    async fn page_with_style(store: &Store) -> SnapshotRow {
        let page = testing::put(
            store,
            "run1",
            &Snap::html(
                PAGE,
                "2026-11-02T03:00:00Z",
                "<html><head><link rel=stylesheet href=style.css></head><body><p>cited</p></body></html>",
            ),
        )
        .await;
        store.index.add_requisite(page.id, CSS).await.unwrap();
        page
    }

    #[tokio::test]
    async fn a_page_gets_its_style_sheet_as_it_was_when_the_page_was_taken() {
        let (_dir, store) = testing::store().await;
        testing::put(&store, "run0", &css("2026-11-01T03:00:00Z", "p{color:red}")).await;
        let page = page_with_style(&store).await;
        testing::put(
            &store,
            "run2",
            &css("2026-11-03T03:00:00Z", "p{color:blue}"),
        )
        .await;
        let body = store.objects.read(&page.body_sha256).unwrap();
        let html = offline_html(&store, &page, &body).await.unwrap();
        assert!(html.contains("p{color:red}"), "{html}");
        assert!(!html.contains("color:blue"), "{html}");
        assert!(html.contains(PAGE), "the banner names the source");
    }

    #[tokio::test]
    async fn a_style_sheet_taken_only_after_the_page_is_used_all_the_same() {
        let (_dir, store) = testing::store().await;
        let page = page_with_style(&store).await;
        testing::put(
            &store,
            "run2",
            &css("2026-11-03T03:00:00Z", "p{color:blue}"),
        )
        .await;
        let body = store.objects.read(&page.body_sha256).unwrap();
        let html = offline_html(&store, &page, &body).await.unwrap();
        assert!(html.contains("p{color:blue}"), "{html}");
    }

    #[tokio::test]
    async fn a_text_snapshot_is_shown_as_its_escaped_text() {
        let (_dir, store) = testing::store().await;
        let snap = Snap {
            content_type: Some("text/plain"),
            text: Some("a < b & \"c\""),
            ..Snap::html(
                "https://example.org/notes.txt",
                "2026-11-01T03:00:00Z",
                "a < b",
            )
        };
        let s = testing::put(&store, "run1", &snap).await;
        let html = offline_html(&store, &s, b"a < b").await.unwrap();
        assert!(html.contains("a &lt; b &amp;"), "{html}");
    }

    #[tokio::test]
    async fn a_snapshot_with_neither_markup_nor_text_says_to_try_raw() {
        let (_dir, store) = testing::store().await;
        let snap = Snap {
            content_type: Some("image/png"),
            ..Snap::html(
                "https://example.org/a.png",
                "2026-11-01T03:00:00Z",
                "\u{89}PNG",
            )
        };
        let s = testing::put(&store, "run1", &snap).await;
        let err = offline_html(&store, &s, b"\x89PNG").await.unwrap_err();
        assert_eq!(
            err.to_string(),
            Error::Usage(
                "https://example.org/a.png: not an HTML page (image/png); try --as raw".into()
            )
            .to_string()
        );
    }

    fn row(url: &str, baseline: Option<&str>) -> CitationResult {
        let mut row = CitationResult::new(
            "post.md",
            1,
            Some(url.into()),
            "t",
            Kind::Link,
            Verdict::Ok,
            Reason::Ok,
        );
        row.offline = Some(Box::new(Offline {
            baseline: baseline.map(str::to_string),
            baseline_at: None,
            latest: None,
            latest_at: None,
            show: String::new(),
            path: None,
            page: None,
        }));
        row
    }

    #[tokio::test]
    async fn an_html_report_gets_one_page_per_baseline_in_a_folder_beside_it() {
        let (dir, store) = testing::store().await;
        let page = page_with_style(&store).await;
        let sha = page.body_sha256.clone();
        let mut report = Report {
            version: Report::VERSION,
            run: RunInfo {
                id: "run1".into(),
                started_at: String::new(),
                finished_at: String::new(),
            },
            summary: Default::default(),
            citations: vec![
                row(PAGE, Some(&sha)),
                row(PAGE, Some(&sha)),
                row("https://example.org/gone", Some("0000")),
                row("https://example.org/never", None),
            ],
            recovered: Vec::new(),
            still: Vec::new(),
            store: None,
        };
        let output = dir.path().join("out.html");
        attach_offline_pages(&store, &mut report, &output)
            .await
            .unwrap();

        let name = format!("out-offline/{}.html", &sha[..16]);
        let pages: Vec<_> = report
            .citations
            .iter()
            .map(|c| c.offline.as_ref().unwrap().page.clone())
            .collect();
        assert_eq!(
            pages,
            vec![Some(name.clone()), Some(name.clone()), None, None]
        );
        let written = std::fs::read_to_string(dir.path().join(&name)).unwrap();
        assert!(written.contains("cited"), "{written}");
        let files = std::fs::read_dir(dir.path().join("out-offline"))
            .unwrap()
            .count();
        assert_eq!(files, 1, "one page per baseline");
    }
}
