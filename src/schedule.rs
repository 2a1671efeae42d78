//! The rules of scheduled checks, as pure functions of a source's history
//! and an injected clock: when a run of transient failures becomes `dead`,
//! what is new, still broken or recovered since the previous run, and what
//! `--new-only` keeps of a report.
//!
//! Nothing here does I/O or reads the clock: the caller (the check
//! pipeline, with the store's history) passes `now` in, so the rules can be
//! tested across simulated days.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use crate::config::ScheduleConfig;
use crate::model::{
    CitationResult, Kind, Reason, Recovered, Report, StillBroken, Summary, Verdict,
};

/// How a citation moved since the previous run (declared with the other
/// contract strings in `model`).
pub use crate::model::Change;

/// What the store remembers of one source between runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    pub first_seen: Option<DateTime<Utc>>,
    pub last_ok: Option<DateTime<Utc>>,
    /// Failing checks in a row, this one included once `apply` returns.
    pub consecutive_failures: u32,
    /// When the current run of failures began.
    pub failing_since: Option<DateTime<Utc>>,
}

/// Applies one check's outcome to the history, and returns the verdict to
/// report with the history to keep.
///
/// A transient failure stays `unreachable` until it has failed on
/// `dead_after_checks` consecutive checks spanning at least
/// `dead_after_days`, then it is `dead`/`persistent-failure`. One success
/// resets the count. Definitive answers (404, 410, NXDOMAIN, soft-404) are
/// `dead` at once and are left as they are. `blocked` never becomes dead:
/// a page behind a bot wall may be fine for a person. A resolver that
/// fails (`dns-temporary`) says nothing of the source, only of the machine
/// or its network: it neither counts towards the run of failures nor ends
/// it, so a machine offline for a week never makes a citation dead.
pub fn apply(
    outcome: (Verdict, Reason),
    previous: &History,
    rule: &ScheduleConfig,
    now: DateTime<Utc>,
) -> ((Verdict, Reason), History) {
    let mut h = previous.clone();
    h.first_seen.get_or_insert(now);
    match outcome.0 {
        Verdict::Ok | Verdict::Changed => {
            h.last_ok = Some(now);
            h.consecutive_failures = 0;
            h.failing_since = None;
            (outcome, h)
        }
        Verdict::Unreachable if outcome.1 == Reason::DnsTemporary => (outcome, h),
        Verdict::Dead | Verdict::Unreachable => {
            h.consecutive_failures += 1;
            let since = *h.failing_since.get_or_insert(now);
            let transient = outcome.0 == Verdict::Unreachable && outcome.1.is_transient();
            let span_days = (now - since).num_seconds() as f64 / 86_400.0;
            if transient
                && h.consecutive_failures >= rule.dead_after_checks
                && span_days >= rule.dead_after_days
            {
                ((Verdict::Dead, Reason::PersistentFailure), h)
            } else {
                (outcome, h)
            }
        }
        Verdict::Missing | Verdict::Skipped => (outcome, h),
    }
}

/// A citation's identity across runs: its post, its source and its kind
/// (a post that links a page and quotes it has two citations of it, which
/// can fare differently). Not the line: lines move when a post is edited.
fn key(post: &str, kind: Kind, url: Option<&str>, text: &str) -> (String, String) {
    (
        post.to_string(),
        match url {
            Some(u) => format!("{}:{u}", kind.as_str()),
            None => format!("unlinked:{text}"),
        },
    )
}

/// What the next run compares of one citation of the previous run's
/// report: what the citation is known by (`key`) and its verdict. The
/// store reads these alone from a kept report (`store::report::
/// last_marks_later`), not the whole rows.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Previous {
    pub post: String,
    pub url: Option<String>,
    pub text: String,
    pub kind: Kind,
    pub verdict: Verdict,
}

impl From<&CitationResult> for Previous {
    fn from(c: &CitationResult) -> Previous {
        Previous {
            post: c.post.clone(),
            url: c.url.clone(),
            text: c.text.clone(),
            kind: c.kind,
            verdict: c.verdict,
        }
    }
}

/// How a citation moved from the verdict it had in the previous run (if
/// it was there) to the one it has now.
fn change(was: Option<Verdict>, now: Verdict) -> Change {
    match (was, now.is_flagged()) {
        (Some(w), true) if w.severity() >= now.severity() => Change::Still,
        (_, true) => Change::New,
        (Some(w), false) if w.is_flagged() => Change::Recovered,
        _ => Change::Unchanged,
    }
}

/// Marks each citation of `report` new, still, recovered or unchanged
/// against the previous run's citations, and lists what recovered: once per
/// post and source, with the verdict it had. Without a previous report
/// every flagged citation is new.
pub fn mark_changes(report: &mut Report, previous: Option<&[Previous]>) {
    let before: HashMap<(String, String), Verdict> = previous
        .map(|p| {
            p.iter()
                .map(|c| (key(&c.post, c.kind, c.url.as_deref(), &c.text), c.verdict))
                .collect()
        })
        .unwrap_or_default();
    let mut recovered = Vec::new();
    let mut listed = HashSet::new();
    for row in &mut report.citations {
        let was = before
            .get(&key(&row.post, row.kind, row.url.as_deref(), &row.text))
            .copied();
        let moved = change(was, row.verdict);
        row.change = Some(moved);
        if moved == Change::Recovered
            && let (Some(url), Some(was)) = (&row.url, was)
            && listed.insert((row.post.clone(), url.clone()))
        {
            recovered.push(Recovered {
                post: row.post.clone(),
                url: url.clone(),
                was,
            });
        }
    }
    if previous.is_some() {
        report.recovered = recovered;
    }
}

/// `--new-only`: the report keeps (and fails on) only what got worse since
/// the previous run, and what was never marked; what is still broken moves
/// to the report's short "still" list, and the summary counts what is
/// kept. Needs `mark_changes` first.
pub fn keep_new_only(report: &mut Report) {
    let (keep, still): (Vec<_>, Vec<_>) = std::mem::take(&mut report.citations)
        .into_iter()
        .partition(|c| c.change.is_none_or(|ch| ch == Change::New));
    report.citations = keep;
    report.still = still
        .into_iter()
        .filter(|c| c.change == Some(Change::Still))
        .map(|c| StillBroken {
            since: c
                .history
                .as_ref()
                .and_then(|h| h.failing_since.as_deref().map(str::to_string)),
            post: c.post,
            line: c.line,
            url: c.url,
            verdict: c.verdict,
            reason: c.reason,
        })
        .collect();
    let mut summary = Summary {
        sources: report.summary.sources,
        ..Default::default()
    };
    for c in &report.citations {
        summary.count(c.verdict);
    }
    report.summary = summary;
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn day(n: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 1, 3, 0, 0).unwrap() + chrono::Duration::days(n)
    }

    fn nightly(outcomes: &[(Verdict, Reason)]) -> Vec<(Verdict, Reason)> {
        let rule = ScheduleConfig::default();
        let mut h = History::default();
        outcomes
            .iter()
            .enumerate()
            .map(|(i, o)| {
                let (v, next) = apply(*o, &h, &rule, day(i as i64));
                h = next;
                v
            })
            .collect()
    }

    const FLAKY: (Verdict, Reason) = (Verdict::Unreachable, Reason::Http5xx);
    const OK: (Verdict, Reason) = (Verdict::Ok, Reason::Ok);

    #[test]
    fn a_flaky_host_is_never_dead_before_three_checks_over_three_days() {
        let v = nightly(&[FLAKY, FLAKY, FLAKY, FLAKY]);
        assert_eq!(
            &v[..3],
            &[FLAKY, FLAKY, FLAKY],
            "three checks span only two days"
        );
        assert_eq!(v[3], (Verdict::Dead, Reason::PersistentFailure));
    }

    #[test]
    fn three_failures_in_one_day_are_not_enough() {
        let rule = ScheduleConfig::default();
        let mut h = History::default();
        for hour in 0..5 {
            let (v, next) = apply(FLAKY, &h, &rule, day(0) + chrono::Duration::hours(hour));
            assert_eq!(v, FLAKY);
            h = next;
        }
        assert_eq!(h.consecutive_failures, 5);
    }

    #[test]
    fn one_success_resets_the_count() {
        let v = nightly(&[FLAKY, FLAKY, FLAKY, OK, FLAKY, FLAKY, FLAKY]);
        assert!(v.iter().all(|x| x.0 != Verdict::Dead), "{v:?}");
    }

    #[test]
    fn an_offline_machine_never_makes_a_citation_dead_however_long_it_stays_offline() {
        let offline = (Verdict::Unreachable, Reason::DnsTemporary);
        let v = nightly(&[offline; 10]);
        assert!(v.iter().all(|x| *x == offline), "{v:?}");
    }

    #[test]
    fn nights_offline_neither_count_nor_end_a_run_of_failures() {
        let offline = (Verdict::Unreachable, Reason::DnsTemporary);
        let v = nightly(&[FLAKY, offline, FLAKY, offline, FLAKY]);
        assert_eq!(&v[..4], &[FLAKY, offline, FLAKY, offline], "{v:?}");
        // The third real failure, four days after the first: dead.
        assert_eq!(v[4], (Verdict::Dead, Reason::PersistentFailure), "{v:?}");
    }

    #[test]
    fn a_definitive_404_is_dead_at_once() {
        let v = nightly(&[(Verdict::Dead, Reason::HttpStatus)]);
        assert_eq!(v[0], (Verdict::Dead, Reason::HttpStatus));
    }

    #[test]
    fn a_bot_wall_is_never_turned_dead() {
        let blocked = (Verdict::Unreachable, Reason::Blocked);
        let v = nightly(&[blocked; 10]);
        assert!(v.iter().all(|x| *x == blocked));
    }

    fn report(rows: &[(&str, Verdict)]) -> Report {
        let citations = rows
            .iter()
            .map(|(url, v)| {
                crate::model::CitationResult::new(
                    "post.md",
                    1,
                    Some(url.to_string()),
                    "t",
                    crate::model::Kind::Link,
                    *v,
                    Reason::Ok,
                )
            })
            .collect();
        Report {
            version: 1,
            run: crate::model::RunInfo {
                id: "r".into(),
                started_at: String::new(),
                finished_at: String::new(),
            },
            summary: Default::default(),
            citations,
            recovered: Vec::new(),
            still: Vec::new(),
            store: None,
        }
    }

    fn marked(previous: Option<&Report>, current: &Report) -> (Vec<Change>, Report) {
        let mut report = current.clone();
        let previous: Option<Vec<Previous>> =
            previous.map(|p| p.citations.iter().map(Previous::from).collect());
        mark_changes(&mut report, previous.as_deref());
        let changes = report
            .citations
            .iter()
            .map(|c| c.change.expect("every row is marked"))
            .collect();
        (changes, report)
    }

    #[test]
    fn breakage_is_new_once_then_still_then_recovered() {
        let night1 = report(&[("a", Verdict::Ok), ("b", Verdict::Ok)]);
        let night2 = report(&[("a", Verdict::Dead), ("b", Verdict::Unreachable)]);
        let night3 = report(&[("a", Verdict::Dead), ("b", Verdict::Dead)]);
        let night4 = report(&[("a", Verdict::Ok), ("b", Verdict::Dead)]);
        assert_eq!(
            marked(Some(&night1), &night2).0,
            vec![Change::New, Change::New]
        );
        assert_eq!(
            marked(Some(&night2), &night3).0,
            vec![Change::Still, Change::New],
            "worse is new again"
        );
        let (changes, night4) = marked(Some(&night3), &night4);
        assert_eq!(changes, vec![Change::Recovered, Change::Still]);
        assert_eq!(
            night4.recovered,
            vec![Recovered {
                post: "post.md".into(),
                url: "a".into(),
                was: Verdict::Dead,
            }]
        );
        assert_eq!(marked(None, &night2).0, vec![Change::New, Change::New]);
    }

    #[test]
    fn fine_then_and_now_is_unchanged_and_nothing_is_listed_as_recovered() {
        let night = report(&[("a", Verdict::Ok), ("b", Verdict::Skipped)]);
        let (changes, marked) = marked(Some(&night), &night);
        assert_eq!(changes, vec![Change::Unchanged, Change::Unchanged]);
        assert!(marked.recovered.is_empty());
    }

    #[test]
    fn a_source_linked_and_quoted_by_one_post_is_listed_once_when_it_recovers() {
        let mut before = report(&[("a", Verdict::Changed), ("a", Verdict::Changed)]);
        before.citations[1].kind = crate::model::Kind::Quote;
        let mut now = report(&[("a", Verdict::Ok), ("a", Verdict::Ok)]);
        now.citations[1].kind = crate::model::Kind::Quote;
        let (changes, now) = marked(Some(&before), &now);
        assert_eq!(changes, vec![Change::Recovered, Change::Recovered]);
        assert_eq!(now.recovered.len(), 1, "{:?}", now.recovered);
        assert_eq!(now.recovered[0].was, Verdict::Changed);
    }

    #[test]
    fn a_citation_is_matched_by_post_source_and_kind_not_by_line() {
        let before = report(&[("a", Verdict::Dead)]);
        let mut moved = report(&[("a", Verdict::Dead)]);
        moved.citations[0].line = 40;
        assert_eq!(marked(Some(&before), &moved).0, vec![Change::Still]);
        let mut image = report(&[("a", Verdict::Dead)]);
        image.citations[0].kind = crate::model::Kind::Image;
        assert_eq!(
            marked(Some(&before), &image).0,
            vec![Change::New],
            "an image of the same source is another citation"
        );
    }

    #[test]
    fn new_only_keeps_what_got_worse_and_lists_what_is_still_broken() {
        let before = report(&[
            ("a", Verdict::Ok),
            ("b", Verdict::Dead),
            ("c", Verdict::Dead),
            ("d", Verdict::Ok),
        ]);
        let mut now = report(&[
            ("a", Verdict::Dead),
            ("b", Verdict::Dead),
            ("c", Verdict::Ok),
            ("d", Verdict::Ok),
        ]);
        now.summary.sources = 4;
        now.citations[1].history = Some(Box::new(crate::model::SourceHistory {
            failing_since: Some("2026-11-01T03:00:00Z".into()),
            ..Default::default()
        }));
        let before: Vec<Previous> = before.citations.iter().map(Previous::from).collect();
        mark_changes(&mut now, Some(&before));
        keep_new_only(&mut now);
        let urls: Vec<_> = now.citations.iter().map(|c| c.url.as_deref()).collect();
        assert_eq!(urls, vec![Some("a")]);
        assert_eq!(now.still.len(), 1);
        assert_eq!(now.still[0].url.as_deref(), Some("b"));
        assert_eq!(now.still[0].since.as_deref(), Some("2026-11-01T03:00:00Z"));
        assert_eq!(now.recovered.len(), 1, "what recovered is still listed");
        assert_eq!(
            (now.summary.sources, now.summary.citations, now.summary.dead),
            (4, 1, 1)
        );
        assert_eq!(now.summary.ok, 0, "the summary counts what is kept");
    }

    #[test]
    fn new_only_keeps_rows_that_were_never_marked() {
        let mut now = report(&[("a", Verdict::Dead)]);
        keep_new_only(&mut now);
        assert_eq!(now.citations.len(), 1);
        assert!(now.still.is_empty());
    }
}
