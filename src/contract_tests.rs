//! The contract's strings, end to end: every variant of every contract enum
//! (`Verdict`, `Reason`, `Kind`, `Missing`, `Change`, `DiffOp`, the report
//! `Format`) is spelled the same by serde, `as_str`, `FromStr` and
//! `Display`, in every report format that shows it (JSON, text, Markdown,
//! HTML, SARIF, JUnit) and in the index, and reads back to itself.
//!
//! A test module at the crate's root, not a stage: it drives the renderers
//! and the index together, which no stage may import.

use std::collections::BTreeSet;

use regex::Regex;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::{ConnectOptions, Row};

use crate::model::*;
use crate::report::{Format, RenderOptions, render};
use crate::store::index::{CheckRow, CitationRow, Index};

/// One row per verdict and reason (every pair, so every format that shows
/// one shows them all), cycling through kinds and changes.
fn report() -> Report {
    let mut citations = Vec::new();
    let mut still = Vec::new();
    let mut summary = Summary::default();
    for (i, (&verdict, &reason)) in Verdict::ALL
        .iter()
        .flat_map(|v| Reason::ALL.iter().map(move |r| (v, r)))
        .enumerate()
    {
        let mut row = CitationResult::new(
            format!("posts/{}.html", verdict.as_str()),
            i + 1,
            Some(format!("https://example.org/{i}")),
            format!("citation {i}"),
            Kind::ALL[i % Kind::ALL.len()],
            verdict,
            reason,
        );
        row.change = Some(Change::ALL[i % Change::ALL.len()]);
        row.diff = DiffOp::ALL
            .iter()
            .map(|&op| DiffSpan {
                op,
                text: format!("{op} words"),
            })
            .collect();
        summary.count(verdict);
        still.push(StillBroken {
            post: row.post.clone(),
            line: row.line,
            url: row.url.clone(),
            verdict,
            reason,
            since: None,
        });
        citations.push(row);
    }
    Report {
        version: Report::VERSION,
        run: RunInfo {
            id: "20261124T030000Z-0001".into(),
            started_at: "2026-11-24T03:00:00Z".into(),
            finished_at: "2026-11-24T03:00:05Z".into(),
        },
        summary,
        citations,
        recovered: Vec::new(),
        still,
        store: None,
    }
}

fn rendered(report: &Report, format: Format, fail_on: &[Verdict]) -> String {
    let opts = RenderOptions {
        color: false,
        fail_on: fail_on.to_vec(),
    };
    let mut out = Vec::new();
    render(report, format, &opts, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// A name read back through `FromStr`, which must be the variant's own
/// spelling (not an older one `FromStr` also accepts).
fn read<T>(name: &str) -> T
where
    T: std::str::FromStr<Err = String> + std::fmt::Display,
{
    let v: T = name.parse().unwrap();
    assert_eq!(v.to_string(), name, "an older spelling was written");
    v
}

/// The pairs a format wrote, read back.
fn pairs(text: &str, pattern: &str) -> BTreeSet<(Verdict, Reason)> {
    Regex::new(pattern)
        .unwrap()
        .captures_iter(text)
        .map(|c| (read(&c[1]), read(&c[2])))
        .collect()
}

fn every_pair(keep: impl Fn(Verdict) -> bool) -> BTreeSet<(Verdict, Reason)> {
    report()
        .citations
        .iter()
        .filter(|c| keep(c.verdict))
        .map(|c| (c.verdict, c.reason))
        .collect()
}

/// serde, `as_str`, `FromStr`, `Display` and `NAMES` agree for each variant.
fn spelled_alike<T>(all: &[T], names: &[&str])
where
    T: Copy + PartialEq + std::fmt::Debug + std::fmt::Display + Serialize + DeserializeOwned,
    T: std::str::FromStr<Err = String>,
{
    assert_eq!(all.len(), names.len());
    for (&v, &name) in all.iter().zip(names) {
        assert_eq!(v.to_string(), name);
        assert_eq!(serde_json::to_value(v).unwrap(), name, "{v:?}");
        assert_eq!(serde_json::from_value::<T>(name.into()).unwrap(), v);
        assert_eq!(name.parse::<T>(), Ok(v));
    }
    let unique: BTreeSet<&str> = names.iter().copied().collect();
    assert_eq!(unique.len(), names.len(), "two variants share a name");
}

#[test]
fn every_enum_is_spelled_once() {
    spelled_alike(Verdict::ALL, Verdict::NAMES);
    spelled_alike(Reason::ALL, Reason::NAMES);
    spelled_alike(Kind::ALL, Kind::NAMES);
    spelled_alike(Missing::ALL, Missing::NAMES);
    spelled_alike(Skip::ALL, Skip::NAMES);
    for s in Skip::ALL {
        assert_eq!(
            s.as_str(),
            s.reason().as_str(),
            "a skip is the reason it gives"
        );
    }
    spelled_alike(Change::ALL, Change::NAMES);
    spelled_alike(DiffOp::ALL, DiffOp::NAMES);
    spelled_alike(Format::ALL, Format::NAMES);
    // The contract's own spellings (DESIGN.md), where serde's kebab-case
    // once differed.
    assert_eq!(Reason::Soft404.as_str(), "soft-404");
    assert_eq!(Reason::Http5xx.as_str(), "http-5xx");
    assert_eq!(Kind::BareUrl.as_str(), "bare-url");
    // `--format` takes its values from the same table.
    let values: Vec<String> = Format::ALL
        .iter()
        .map(|f| {
            clap::ValueEnum::to_possible_value(f)
                .unwrap()
                .get_name()
                .to_string()
        })
        .collect();
    assert_eq!(values, Format::NAMES);
}

#[test]
fn json_report_spells_every_variant_and_reads_back() {
    let report = report();
    let json = rendered(&report, Format::Json, &[]);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    for (row, c) in value["citations"]
        .as_array()
        .unwrap()
        .iter()
        .zip(&report.citations)
    {
        assert_eq!(row["verdict"], c.verdict.as_str());
        assert_eq!(row["reason"], c.reason.as_str());
        assert_eq!(row["kind"], c.kind.as_str());
        assert_eq!(row["change"], c.change.unwrap().as_str());
        let ops: Vec<&str> = row["diff"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["op"].as_str().unwrap())
            .collect();
        assert_eq!(ops, DiffOp::NAMES);
    }
    assert_eq!(serde_json::from_str::<Report>(&json).unwrap(), report);
    for &m in Missing::ALL {
        let mut c = Citation {
            post: "p".into(),
            line: 1,
            url: None,
            text: "t".into(),
            kind: Kind::Unlinked,
            context: None,
            quote: None,
            missing: Some(m),
            raw: None,
            skip: None,
        };
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["missing"], m.as_str());
        c.missing = serde_json::from_value(v["missing"].clone()).unwrap();
        assert_eq!(c.missing, Some(m));
    }
}

#[test]
fn a_stored_report_from_an_older_build_still_loads() {
    let report = report();
    let old = rendered(&report, Format::Json, &[]).replace("\"soft-404\"", "\"soft404\"");
    assert!(old.contains("\"soft404\""));
    assert_eq!(serde_json::from_str::<Report>(&old).unwrap(), report);
}

#[test]
fn text_markdown_and_html_spell_as_the_table_does() {
    let report = report();
    let text = rendered(&report, Format::Text, &[]);
    for v in Verdict::ALL {
        assert!(text.contains(&format!("\n  {v} (")), "no {v} group");
    }
    // The still-broken list names each pair as `verdict (reason)`.
    let still = pairs(
        &text,
        r"(?m)^  \S+:\d+  \S+  ([a-z0-9-]+) \(([a-z0-9-]+)\)$",
    );
    assert_eq!(still, every_pair(|_| true));

    let md = rendered(&report, Format::Markdown, &[]);
    let listed = pairs(&md, r"\*\*([a-z0-9-]+)\*\* `([a-z0-9-]+)`");
    assert_eq!(listed, every_pair(Verdict::is_flagged));

    let html = rendered(&report, Format::Html, &[]);
    let rows = pairs(
        &html,
        r#"<span class="badge v-([a-z0-9-]+)">[a-z]+</span> <code class="reason">([a-z0-9-]+)</code>"#,
    );
    assert_eq!(rows, every_pair(|_| true));
    for k in Kind::ALL {
        assert!(html.contains(&format!("<small class=\"kind\">{k}</small>")));
    }
    for c in [Change::New, Change::Still, Change::Recovered] {
        assert!(
            html.contains(&format!("class=\"change change-{c}\"")),
            "{c}"
        );
    }
}

#[test]
fn sarif_and_junit_spell_as_the_table_does() {
    let report = report();
    let sarif: serde_json::Value =
        serde_json::from_str(&rendered(&report, Format::Sarif, &[])).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let mut by_rule = BTreeSet::new();
    let mut by_property = BTreeSet::new();
    for r in results {
        let (v, why) = r["ruleId"].as_str().unwrap().split_once('/').unwrap();
        by_rule.insert((read(v), read(why)));
        let p = &r["properties"];
        by_property.insert((
            read(p["verdict"].as_str().unwrap()),
            read(p["reason"].as_str().unwrap()),
        ));
    }
    assert_eq!(by_rule, every_pair(Verdict::is_flagged));
    assert_eq!(by_property, by_rule);

    let fail_on = [Verdict::Dead, Verdict::Changed, Verdict::Missing];
    let junit = rendered(&report, Format::Junit, &fail_on);
    let failures = pairs(
        &junit,
        r#"<failure type="[a-z]+" message="([a-z0-9-]+)/([a-z0-9-]+): "#,
    );
    assert_eq!(failures, every_pair(|v| v.fails(&fail_on)));
    for t in Regex::new(r#"<failure type="([^"]+)""#)
        .unwrap()
        .captures_iter(&junit)
    {
        assert!(read::<Verdict>(&t[1]).fails(&fail_on));
    }
    let skipped = pairs(&junit, r#"<skipped message="([a-z0-9-]+)/([a-z0-9-]+): "#);
    assert_eq!(
        skipped,
        every_pair(|v| v != Verdict::Ok && !v.fails(&fail_on))
    );
}

#[tokio::test]
async fn the_index_stores_the_table_spelling_and_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("index.sqlite");
    let report = report();
    let index = Index::open(&path, crate::store::Access::Write)
        .await
        .unwrap();
    index
        .begin_run(&report.run.id, &report.run.started_at)
        .await
        .unwrap();
    let rows: Vec<CitationRow> = report.citations.iter().map(CitationRow::of).collect();
    index.insert_citations(&report.run.id, &rows).await.unwrap();
    let source = index.source("https://example.org/").await.unwrap();
    for c in &report.citations {
        let check = Check {
            url: "https://example.org/".into(),
            verdict: c.verdict,
            reason: c.reason,
            status: None,
            final_url: None,
            redirects: Vec::new(),
            content_type: None,
            attempts: 1,
            elapsed_ms: 0,
            detail: None,
            checked_at: report.run.started_at.clone(),
        };
        index
            .insert_check(&CheckRow {
                run_id: &report.run.id,
                source_id: source.id,
                check: &check,
                similarity: None,
                snapshot_id: None,
            })
            .await
            .unwrap();
    }
    let json = serde_json::to_string(&report).unwrap();
    index
        .finish_run(&report.run.id, &report.run.finished_at, &json)
        .await
        .unwrap();
    let (_, stored) = index.last_report().await.unwrap().unwrap();
    assert_eq!(serde_json::from_str::<Report>(&stored).unwrap(), report);
    index.close().await;

    // Read the text columns as any SQL client would.
    let mut db = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&path)
        .read_only(true)
        .connect()
        .await
        .unwrap();
    let cited = sqlx::query("SELECT kind, verdict, reason FROM citations ORDER BY line")
        .fetch_all(&mut db)
        .await
        .unwrap();
    assert_eq!(cited.len(), report.citations.len());
    for (row, c) in cited.iter().zip(&report.citations) {
        assert_eq!(read::<Kind>(&row.get::<String, _>(0)), c.kind);
        assert_eq!(read::<Verdict>(&row.get::<String, _>(1)), c.verdict);
        assert_eq!(read::<Reason>(&row.get::<String, _>(2)), c.reason);
    }
    let checked = sqlx::query("SELECT verdict, reason FROM checks ORDER BY id")
        .fetch_all(&mut db)
        .await
        .unwrap();
    let checked: Vec<(Verdict, Reason)> = checked
        .iter()
        .map(|r| (read(&r.get::<String, _>(0)), read(&r.get::<String, _>(1))))
        .collect();
    let expected: Vec<(Verdict, Reason)> = report
        .citations
        .iter()
        .map(|c| (c.verdict, c.reason))
        .collect();
    assert_eq!(checked, expected);
}
