//! The revisions a store makes to a fetch's verdict, as pure functions of
//! the check, the source's history and its baseline: the history rule
//! (`by_history`), a lost baseline (`snapshot_lost`), and the comparison
//! with the baseline (`by_type`, then `by_text`). `Archive::source` calls
//! them in that order, each seeing the verdict the one before left.
//!
//! Nothing here reads or writes the store, the clock or the network: the
//! archive hands in the texts, whether the baseline is whole, and `now`.

use chrono::{DateTime, Utc};

use super::SnapshotRow;
use super::hook::Evidence;
use crate::base::time::rfc3339;
use crate::compare;
use crate::config::ScheduleConfig;
use crate::model::{Check, Reason, Verdict};
use crate::schedule::History;

/// Whether a verdict says the source answered with a page: only then can
/// it have lost or changed what was cited.
pub(super) fn reachable(v: Verdict) -> bool {
    matches!(v, Verdict::Ok | Verdict::Changed)
}

/// Revision 1 of the verdict, the history rule: the check's verdict
/// revised (a run of transient failures turned `dead`, with a detail
/// saying since when), and the history to keep.
pub(super) fn by_history(
    check: &mut Check,
    previous: &History,
    rule: &ScheduleConfig,
    now: DateTime<Utc>,
) -> History {
    let ((verdict, reason), history) =
        crate::schedule::apply((check.verdict, check.reason), previous, rule, now);
    if (verdict, reason) != (check.verdict, check.reason) {
        check.detail = Some(match check.detail.take() {
            Some(d) => format!(
                "failing on {} checks since {}: {d}",
                history.consecutive_failures,
                history.failing_since.map(rfc3339).unwrap_or_default()
            ),
            None => format!("failing on {} checks", history.consecutive_failures),
        });
    }
    check.verdict = verdict;
    check.reason = reason;
    history
}

/// Revision 2 of the verdict: a reachable source whose baseline is not
/// whole has lost what was cited (`missing`/`snapshot-lost`), whatever the
/// page says now.
pub(super) fn snapshot_lost(check: &mut Check, baseline: &SnapshotRow, whole: bool) {
    if whole || !reachable(check.verdict) {
        return;
    }
    check.verdict = Verdict::Missing;
    check.reason = Reason::SnapshotLost;
    check.detail = Some(format!(
        "the copy of {} (sha256 {}) is gone from the store or fails its hash; \
         `citeguard accept {}` takes the current page as the new baseline",
        day(&baseline.fetched_at),
        &baseline.body_sha256[..crate::base::text::floor_char_boundary(&baseline.body_sha256, 12)],
        check.url
    ));
}

/// Revision 3 of the verdict, first half: a live copy of another type
/// than the baseline is `changed`/`type-changed`; true when it is (the
/// text is then not compared).
pub(super) fn by_type(check: &mut Check, baseline: &SnapshotRow, live: &SnapshotRow) -> bool {
    let (b_type, l_type) = (
        baseline.content_type.as_deref(),
        live.content_type.as_deref(),
    );
    if !compare::type_changed(b_type, l_type) {
        return false;
    }
    check.verdict = Verdict::Changed;
    check.reason = Reason::TypeChanged;
    check.detail = Some(format!(
        "was {} on {}, now {}",
        b_type.unwrap_or("untyped"),
        day(&baseline.fetched_at),
        l_type.unwrap_or("untyped")
    ));
    true
}

/// The main texts of the baseline and the live copy.
pub(super) struct Texts<'t> {
    pub baseline: &'t str,
    pub live: &'t str,
    /// Their normalised forms are equal (no similarity to compute).
    pub same: bool,
    /// The day the baseline was taken, for the detail.
    pub taken: &'t str,
}

/// Revision 3 of the verdict, second half: the text of the live copy
/// against the baseline's. Below `threshold` similarity it is
/// `changed`/`content-drift`. Each quote is looked for in
/// both (its verdict is the citation's, decided by the pipeline); the word
/// diff is kept when the text drifted or a quote went.
pub(super) fn by_text(
    check: &mut Check,
    evidence: &mut Evidence,
    texts: &Texts<'_>,
    quotes: &[String],
    threshold: f64,
) {
    let (similarity, findings) = if texts.same {
        let found: Vec<_> = quotes
            .iter()
            .map(|q| {
                let f = compare::quote_found(q, texts.baseline);
                compare::QuoteFinding {
                    in_baseline: f,
                    in_live: f,
                }
            })
            .collect();
        (1.0, found)
    } else {
        let cmp = compare::compare(texts.baseline, texts.live, quotes, threshold);
        (cmp.similarity, cmp.quotes)
    };
    evidence.quotes = quotes.iter().cloned().zip(findings).collect();
    evidence.similarity = Some(similarity);
    if similarity < threshold {
        check.verdict = Verdict::Changed;
        check.reason = Reason::ContentDrift;
        check.detail = Some(format!(
            "text {:.0}% similar to the copy of {}",
            similarity * 100.0,
            texts.taken
        ));
    }
    let any_quote_gone = evidence
        .quotes
        .iter()
        .any(|(_, f)| f.in_baseline && !f.in_live);
    if similarity < threshold || any_quote_gone {
        evidence.diff = compare::word_diff(texts.baseline, texts.live);
    }
}

/// The date part of an RFC 3339 time stamp.
pub(super) fn day(stamp: &str) -> &str {
    stamp.get(..10).unwrap_or(stamp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::{self, check};
    use chrono::TimeZone;

    const URL: &str = "https://example.org/story";

    fn day_n(n: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 1, 3, 0, 0).unwrap() + chrono::Duration::days(n)
    }

    fn row(content_type: &str, fetched_at: &str) -> SnapshotRow {
        SnapshotRow {
            id: 1,
            source_id: 1,
            url: URL.into(),
            run_id: "r".into(),
            fetched_at: fetched_at.into(),
            status: 200,
            final_url: None,
            content_type: Some(content_type.into()),
            charset: None,
            size: 1,
            truncated: false,
            body_sha256: "ab".repeat(32),
            text_sha256: None,
            norm_sha256: None,
            etag: None,
            last_modified: None,
            warc_file: None,
            warc_offset: None,
            warc_length: None,
            warc_record_id: None,
        }
    }

    #[test]
    fn the_history_turns_a_long_run_of_timeouts_dead_and_says_since_when() {
        let mut c = check(URL, Verdict::Unreachable, Reason::Timeout, None);
        c.detail = Some("timed out".into());
        let previous = History {
            first_seen: Some(day_n(0)),
            last_ok: None,
            consecutive_failures: 3,
            failing_since: Some(day_n(0)),
        };
        let h = by_history(&mut c, &previous, &ScheduleConfig::default(), day_n(4));
        assert_eq!(
            (c.verdict, c.reason),
            (Verdict::Dead, Reason::PersistentFailure)
        );
        assert_eq!(
            c.detail.as_deref(),
            Some("failing on 4 checks since 2026-11-01T03:00:00Z: timed out")
        );
        assert_eq!(h.consecutive_failures, 4);
    }

    #[test]
    fn the_history_leaves_one_failure_as_it_is() {
        let mut c = check(URL, Verdict::Unreachable, Reason::Timeout, None);
        let h = by_history(
            &mut c,
            &History::default(),
            &ScheduleConfig::default(),
            day_n(0),
        );
        assert_eq!(
            (c.verdict, c.reason),
            (Verdict::Unreachable, Reason::Timeout)
        );
        assert_eq!(c.detail, None);
        assert_eq!(h.failing_since, Some(day_n(0)));
    }

    #[test]
    fn a_lost_baseline_makes_a_reachable_source_missing_only() {
        let b = row("text/html", "2026-11-01T03:00:00Z");
        let mut ok = check(URL, Verdict::Ok, Reason::Ok, Some(200));
        snapshot_lost(&mut ok, &b, true);
        assert_eq!(ok.verdict, Verdict::Ok, "a whole baseline changes nothing");
        snapshot_lost(&mut ok, &b, false);
        assert_eq!(
            (ok.verdict, ok.reason),
            (Verdict::Missing, Reason::SnapshotLost)
        );
        let detail = ok.detail.unwrap();
        assert!(
            detail.contains("the copy of 2026-11-01 (sha256 abababababab)")
                && detail.contains(&format!("`citeguard accept {URL}`")),
            "{detail}"
        );
        let mut dead = check(URL, Verdict::Dead, Reason::HttpStatus, Some(404));
        snapshot_lost(&mut dead, &b, false);
        assert_eq!(dead.verdict, Verdict::Dead, "dead says more than lost");
    }

    #[test]
    fn a_page_that_became_a_pdf_has_changed_type() {
        let mut c = check(URL, Verdict::Ok, Reason::Ok, Some(200));
        let b = row("text/html", "2026-11-01T03:00:00Z");
        assert!(!by_type(
            &mut c,
            &b,
            &row("text/html", "2026-11-02T03:00:00Z")
        ));
        assert!(by_type(
            &mut c,
            &b,
            &row("application/pdf", "2026-11-02T03:00:00Z")
        ));
        assert_eq!(
            (c.verdict, c.reason),
            (Verdict::Changed, Reason::TypeChanged)
        );
        assert_eq!(
            c.detail.as_deref(),
            Some("was text/html on 2026-11-01, now application/pdf")
        );
    }

    fn texts<'t>(baseline: &'t str, live: &'t str, same: bool) -> Texts<'t> {
        Texts {
            baseline,
            live,
            same,
            taken: "2026-11-01",
        }
    }

    #[test]
    fn a_text_that_drifted_is_changed_with_its_similarity_and_diff() {
        let mut c = check(URL, Verdict::Ok, Reason::Ok, Some(200));
        let mut evidence = Evidence::default();
        by_text(
            &mut c,
            &mut evidence,
            &texts(testing::CITED, testing::OTHER, false),
            &[],
            0.8,
        );
        assert_eq!(
            (c.verdict, c.reason),
            (Verdict::Changed, Reason::ContentDrift)
        );
        assert!(evidence.similarity.unwrap() < 0.8);
        assert!(!evidence.diff.is_empty());
        assert!(
            c.detail
                .as_deref()
                .unwrap()
                .ends_with("similar to the copy of 2026-11-01"),
            "{:?}",
            c.detail
        );
    }

    #[test]
    fn the_same_text_keeps_its_verdict_and_finds_its_quotes_without_a_diff() {
        let mut c = check(URL, Verdict::Ok, Reason::Ok, Some(200));
        let mut evidence = Evidence::default();
        let quotes = ["the new dam on the river".to_string()];
        by_text(
            &mut c,
            &mut evidence,
            &texts(testing::CITED, testing::CITED, true),
            &quotes,
            0.8,
        );
        assert_eq!(c.verdict, Verdict::Ok);
        assert_eq!(evidence.similarity, Some(1.0));
        assert!(evidence.quotes[0].1.in_baseline && evidence.quotes[0].1.in_live);
        assert!(evidence.diff.is_empty());
    }

    #[test]
    fn a_quote_gone_from_a_similar_text_keeps_the_diff_for_the_citation() {
        let mut c = check(URL, Verdict::Ok, Reason::Ok, Some(200));
        let mut evidence = Evidence::default();
        let live = testing::CITED.replace(
            "and that the villages below it would be moved to higher ground",
            "",
        );
        let quotes = ["the villages below it would be moved to higher ground".to_string()];
        by_text(
            &mut c,
            &mut evidence,
            &texts(testing::CITED, &live, false),
            &quotes,
            0.3,
        );
        assert_eq!(
            c.verdict,
            Verdict::Ok,
            "the quote is the citation's verdict"
        );
        assert!(evidence.quotes[0].1.in_baseline && !evidence.quotes[0].1.in_live);
        assert!(!evidence.diff.is_empty());
    }
}
