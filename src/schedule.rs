//! The rules of scheduled checks, as pure functions of a source's history
//! and an injected clock: when a run of transient failures becomes `dead`,
//! and what is new, still broken or recovered since the previous run.
//!
//! Nothing here does I/O or reads the clock: the caller (the check
//! pipeline, with the store's history) passes `now` in, so the rules can be
//! tested across simulated days.

use chrono::{DateTime, Utc};

use crate::config::ScheduleConfig;
use crate::model::{Reason, Report, Verdict};

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
/// a page behind a bot wall may be fine for a person.
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

/// The identity of a citation across runs: its post and what it cites
/// (line numbers move when a post is edited).
/// A citation's identity across runs: its post, its source and its kind
/// (a post that links a page and quotes it has two citations of it, which
/// can fare differently). Not the line: lines move when a post is edited.
fn key(c: &crate::model::CitationResult) -> (String, String) {
    (
        c.post.clone(),
        match &c.url {
            Some(u) => format!("{}:{u}", c.kind.as_str()),
            None => format!("unlinked:{}", c.text),
        },
    )
}

/// Marks each citation of `current` against the previous run's report; the
/// result is in the order of `current.citations`.
pub fn classify_changes(previous: Option<&Report>, current: &Report) -> Vec<Change> {
    let before: std::collections::HashMap<(String, String), Verdict> = previous
        .map(|p| p.citations.iter().map(|c| (key(c), c.verdict)).collect())
        .unwrap_or_default();
    current
        .citations
        .iter()
        .map(|c| {
            let was = before.get(&key(c)).copied();
            match (was, c.verdict.is_flagged()) {
                (Some(w), true) if w.severity() >= c.verdict.severity() => Change::Still,
                (_, true) => Change::New,
                (Some(w), false) if w.is_flagged() => Change::Recovered,
                _ => Change::Unchanged,
            }
        })
        .collect()
}

/// Citations flagged in the previous run that are fine now (by post and
/// source), for the report's "recovered" list.
pub fn recovered(previous: &Report, current: &Report) -> Vec<(String, String)> {
    let now: std::collections::HashMap<(String, String), Verdict> = current
        .citations
        .iter()
        .map(|c| (key(c), c.verdict))
        .collect();
    previous
        .citations
        .iter()
        .filter(|c| c.verdict.is_flagged() && now.get(&key(c)).is_some_and(|v| !v.is_flagged()))
        .map(|c| {
            (
                c.post.clone(),
                c.url.clone().unwrap_or_else(|| c.text.clone()),
            )
        })
        .collect()
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

    #[test]
    fn breakage_is_new_once_then_still_then_recovered() {
        let night1 = report(&[("a", Verdict::Ok), ("b", Verdict::Ok)]);
        let night2 = report(&[("a", Verdict::Dead), ("b", Verdict::Unreachable)]);
        let night3 = report(&[("a", Verdict::Dead), ("b", Verdict::Dead)]);
        let night4 = report(&[("a", Verdict::Ok), ("b", Verdict::Dead)]);
        assert_eq!(
            classify_changes(Some(&night1), &night2),
            vec![Change::New, Change::New]
        );
        assert_eq!(
            classify_changes(Some(&night2), &night3),
            vec![Change::Still, Change::New],
            "worse is new again"
        );
        assert_eq!(
            classify_changes(Some(&night3), &night4),
            vec![Change::Recovered, Change::Still]
        );
        assert_eq!(
            recovered(&night3, &night4),
            vec![("post.md".to_string(), "a".to_string())]
        );
        assert_eq!(
            classify_changes(None, &night2),
            vec![Change::New, Change::New]
        );
    }
}
