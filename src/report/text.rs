//! `--format text`: grouped by post, then by verdict, worst first
//! (`Verdict::WORST_FIRST`).
//! Each citation with its line, anchor text, URL and the reason in words;
//! a flagged one also with how it moved since the last run, what changed,
//! where its offline copy is and, when the source is dead, the archived
//! copy to cite instead. Then what recovered since the last run, and a
//! one-line summary. Fit for a terminal or a cron mail.
//!
//! Colour only when `opts.color` says so (the binary decides: a terminal,
//! no `NO_COLOR`); whatever came from a post or a server goes through
//! `strip_controls`, so no URL can drive the terminal.

use std::collections::BTreeMap;

use super::RenderOptions;
use crate::base::escape::strip_controls;
use crate::model::{Change, CitationResult, DiffOp, Reason, Report, Verdict};

/// Where the lines under a citation's first line start.
const INDENT: &str = "               ";

/// ANSI colour, or plain text.
struct Paint(bool);

impl Paint {
    fn paint(&self, s: &str, code: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

pub fn render(
    report: &Report,
    opts: &RenderOptions,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let paint = Paint(opts.color);
    let mut posts: BTreeMap<&str, Vec<&CitationResult>> = BTreeMap::new();
    for c in &report.citations {
        posts.entry(c.post.as_str()).or_default().push(c);
    }
    for (post, rows) in &posts {
        let flagged = rows.iter().filter(|r| r.verdict.is_flagged()).count();
        writeln!(
            out,
            "{}  ({} citations, {} need attention)",
            paint.paint(&strip_controls(post), "1"),
            rows.len(),
            flagged
        )?;
        for verdict in Verdict::WORST_FIRST {
            let mut group: Vec<&CitationResult> = rows
                .iter()
                .copied()
                .filter(|r| r.verdict == verdict)
                .collect();
            if group.is_empty() {
                continue;
            }
            group.sort_by_key(|r| r.line);
            writeln!(
                out,
                "  {} ({})",
                paint.paint(verdict.as_str(), colour(verdict)),
                group.len()
            )?;
            for r in group {
                citation(r, &paint, out)?;
            }
        }
        writeln!(out)?;
    }
    if !report.still.is_empty() {
        writeln!(
            out,
            "{} ({})",
            paint.paint(
                "still broken, reported before (not repeated: --new-only)",
                "33"
            ),
            report.still.len()
        )?;
        for r in &report.still {
            let since = r
                .since
                .as_deref()
                .map(|d| format!(" since {}", d.get(..10).unwrap_or(d)))
                .unwrap_or_default();
            writeln!(
                out,
                "  {}:{}  {}  {} ({}){since}",
                strip_controls(&r.post),
                r.line,
                strip_controls(r.url.as_deref().unwrap_or("-")),
                r.verdict,
                r.reason
            )?;
        }
        writeln!(out)?;
    }
    if !report.recovered.is_empty() {
        writeln!(
            out,
            "{} ({})",
            paint.paint("recovered since last run", "32"),
            report.recovered.len()
        )?;
        for r in &report.recovered {
            writeln!(
                out,
                "  {}  {}  (was {})",
                strip_controls(&r.post),
                strip_controls(&r.url),
                r.was
            )?;
        }
        writeln!(out)?;
    }
    writeln!(out, "{}", summary_line(report))
}

/// One citation: its first line, then the evidence under it.
fn citation(
    r: &CitationResult,
    paint: &Paint,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let text = shorten(&strip_controls(&r.text), 60);
    match change_marker(r) {
        Some((marker, code)) => writeln!(
            out,
            "    line {:<5} {}  {}",
            r.line,
            text,
            paint.paint(&format!("[{marker}]"), code)
        )?,
        None => writeln!(out, "    line {:<5} {}", r.line, text)?,
    }
    if let Some(url) = &r.url {
        let note = if r.credentials {
            format!("  ({})", super::redact::CREDENTIALS_REMOVED)
        } else {
            String::new()
        };
        writeln!(out, "{INDENT}{}{note}", strip_controls(url))?;
    }
    writeln!(out, "{INDENT}{}", reason_with_history(r))?;
    if !r.verdict.is_flagged() {
        return Ok(());
    }
    for line in diff_lines(r) {
        writeln!(out, "{INDENT}{line}")?;
    }
    if let Some(a) = &r.archived {
        writeln!(
            out,
            "{INDENT}suggested replacement: {} (archived {})",
            strip_controls(&a.url),
            day(&a.datetime)
        )?;
    }
    if let Some(show) = offline_copy(r) {
        writeln!(out, "{INDENT}{show}")?;
    }
    Ok(())
}

fn colour(v: Verdict) -> &'static str {
    match v {
        Verdict::Dead => "31",
        Verdict::Changed => "35",
        Verdict::Missing => "33",
        Verdict::Unreachable => "36",
        _ => "32",
    }
}

/// How the citation moved since the last run, in words, with its colour:
/// `new`, `still broken since 2026-11-02`, `recovered`.
pub(crate) fn change_marker(r: &CitationResult) -> Option<(String, &'static str)> {
    match r.change? {
        Change::New if r.verdict.is_flagged() => Some(("new".into(), "1;33")),
        Change::Still if r.verdict.is_flagged() => {
            let since = r.history.as_ref().and_then(|h| h.failing_since.as_deref());
            Some(match since {
                Some(s) => (format!("still broken since {}", day(s)), "2"),
                None => (format!("still {}", r.verdict), "2"),
            })
        }
        Change::Recovered => Some(("recovered".into(), "32")),
        _ => None,
    }
}

/// Where the offline copy is: `offline copy of 2010-08-25: citeguard show …`.
pub(crate) fn offline_copy(r: &CitationResult) -> Option<String> {
    let o = r.offline.as_ref()?;
    let show = strip_controls(&o.show);
    if show.trim().is_empty() {
        return None;
    }
    Some(match &o.baseline_at {
        Some(at) => format!("offline copy of {}: {show}", day(at)),
        None => format!("offline copy: {show}"),
    })
}

/// The first stretch removed from and added to the text since the
/// baseline, for a changed source with a diff.
pub(crate) fn diff_lines(r: &CitationResult) -> Vec<String> {
    let mut lines = Vec::new();
    for (op, label) in [(DiffOp::Delete, "removed"), (DiffOp::Insert, "added")] {
        let spans: Vec<&str> = r
            .diff
            .iter()
            .filter(|d| d.op == op)
            .map(|d| d.text.as_str())
            .filter(|t| !t.trim().is_empty())
            .collect();
        if let Some(first) = spans.first() {
            let more = match spans.len() - 1 {
                0 => String::new(),
                n => format!(" (and {n} more)"),
            };
            lines.push(format!(
                "{label}: \"{}\"{more}",
                shorten(strip_controls(first).trim(), 70)
            ));
        }
    }
    lines
}

/// The run's counts on one line; with a store, how many are new, still
/// flagged and recovered since the last run.
pub(crate) fn summary_line(report: &Report) -> String {
    let s = &report.summary;
    let mut line = format!(
        "{} citations, {} sources: {} ok, {} dead, {} changed, {} missing, {} unreachable, {} skipped",
        s.citations, s.sources, s.ok, s.dead, s.changed, s.missing, s.unreachable, s.skipped
    );
    if let Some((new, still, recovered)) = super::since_last_run(report) {
        line.push_str(&format!(
            "; since last run: {new} new, {still} still flagged, {recovered} recovered"
        ));
    }
    line
}

/// The date part of an RFC 3339 time stamp (`2026-11-02`), as written.
pub(crate) fn day(s: &str) -> String {
    let s = strip_controls(s);
    match s.get(..10) {
        Some(d) if chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok() => d.to_string(),
        _ => s,
    }
}

/// At most `max` characters, an ellipsis marking a cut.
pub(crate) fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() > max {
        format!("{}…", s.chars().take(max - 1).collect::<String>())
    } else {
        s.to_string()
    }
}

/// ` (detail)`, or nothing when there is no detail.
fn paren(detail: &str) -> String {
    if detail.trim().is_empty() {
        String::new()
    } else {
        format!(" ({detail})")
    }
}

/// `: detail`, or nothing when there is no detail.
fn colon(detail: &str) -> String {
    if detail.trim().is_empty() {
        String::new()
    } else {
        format!(": {detail}")
    }
}

/// `since 2026-11-02, 3 checks`: how long a source has been failing, when
/// the store remembers more than this run's failure (on a first failure it
/// would only repeat today's date).
fn failing(r: &CitationResult) -> Option<String> {
    let h = r.history.as_ref()?;
    let since = day(h.failing_since.as_deref()?);
    (h.consecutive_failures >= 2)
        .then(|| format!("since {since}, {} checks", h.consecutive_failures))
}

/// "was an article on 2010-08-25, now application/pdf" from the detail of
/// a `type-changed` row: `was TYPE on DAY, now TYPE` (what the store
/// writes) or `BASELINE → LIVE`, the baseline's type put in words.
fn type_change_in_words(detail: &str) -> String {
    let detail = detail.trim();
    if detail.is_empty() {
        return "no longer the kind of document that was cited".into();
    }
    if let Some(rest) = detail.strip_prefix("was ") {
        let Some((from, now)) = rest.split_once(", now ") else {
            return detail.to_string();
        };
        let (kind, on) = match from.split_once(" on ") {
            Some((kind, day)) => (kind, format!(" on {}", day.trim())),
            None => (from, String::new()),
        };
        return format!("was {}{on}, now {}", kind_in_words(kind.trim()), now.trim());
    }
    let split = detail.split_once('→').or_else(|| detail.split_once("->"));
    match split {
        Some((from, to)) => format!("was {}, now {}", kind_in_words(from.trim()), to.trim()),
        None => format!("now {detail}, no longer the kind of document that was cited"),
    }
}

fn kind_in_words(content_type: &str) -> String {
    match crate::compare::content_family(Some(content_type)) {
        "html" => "an article".into(),
        "pdf" => "a PDF".into(),
        "image" => "an image".into(),
        "video" => "a video".into(),
        "audio" => "a sound file".into(),
        "text" => "plain text".into(),
        _ => content_type.to_string(),
    }
}

/// The reason as a person would say it, from this run's evidence alone
/// (the formats that show the store's history on their own use this).
pub fn reason_in_words(r: &CitationResult) -> String {
    words(r, false)
}

/// The reason in words with what the store remembers: "the server says
/// the page is gone (HTTP 404 since 2026-11-02, 3 checks)", "unreachable on
/// 3 checks since 2026-11-02".
pub(crate) fn reason_with_history(r: &CitationResult) -> String {
    words(r, true)
}

fn words(r: &CitationResult, with_history: bool) -> String {
    let status = r.status.map(|s| format!("HTTP {s}"));
    let detail = r.detail.as_deref().map(strip_controls).unwrap_or_default();
    let to = r
        .final_url
        .as_deref()
        .map(strip_controls)
        .unwrap_or_default();
    let failing = if with_history { failing(r) } else { None };
    let words = match r.reason {
        Reason::Ok => match (&r.final_url, r.url.as_deref()) {
            (Some(f), Some(u)) if f != u && !r.redirects.is_empty() => {
                format!("ok, redirected to {to}")
            }
            _ => "ok".into(),
        },
        Reason::Moved => format!("moved permanently to {to}: consider citing the new address"),
        Reason::HttpStatus => {
            let evidence = match (&status, &failing) {
                (Some(s), Some(f)) => format!(" ({s} {f})"),
                (Some(s), None) => format!(" ({s})"),
                (None, Some(f)) => format!(" ({f})"),
                (None, None) => String::new(),
            };
            format!("the server says the page is gone{evidence}")
        }
        Reason::Dns => "the domain no longer exists (DNS: no such host)".into(),
        Reason::DnsTemporary => format!(
            "the name did not resolve this time, checked again next run{}",
            paren(&detail)
        ),
        Reason::Soft404 => format!("a \"not found\" page served as a success{}", colon(&detail)),
        Reason::RedirectToRoot => format!("redirects to the front page or a login page ({to})"),
        Reason::PersistentFailure => {
            let last = paren(&if detail.is_empty() {
                String::new()
            } else {
                format!("last: {detail}")
            });
            match r.history.as_ref().filter(|_| with_history) {
                Some(h) if h.failing_since.is_some() => format!(
                    "unreachable on {} checks since {}{last}",
                    h.consecutive_failures,
                    day(h.failing_since.as_deref().unwrap_or_default())
                ),
                _ => format!("has failed on every check for days{}", paren(&detail)),
            }
        }
        Reason::ContentDrift => {
            let copy = match r.offline.as_ref().and_then(|o| o.baseline_at.as_deref()) {
                Some(at) => format!("the copy of {}", day(at)),
                None => "the copy first archived".into(),
            };
            match r.similarity {
                Some(s) => format!("text {:.0}% similar to {copy}", s * 100.0),
                None => format!("the text differs from {copy}"),
            }
        }
        Reason::QuoteMissing => match r.quote.as_deref().map(strip_controls) {
            Some(q) if !q.trim().is_empty() => format!(
                "quoted passage no longer on the page: \"{}\"",
                shorten(q.trim(), 60)
            ),
            _ => "quoted passage no longer on the page".into(),
        },
        Reason::TypeChanged => type_change_in_words(&detail),
        Reason::NoLink => "an attribution or quote with no link to its source".into(),
        Reason::EmptyLink => "the link is empty or a placeholder".into(),
        Reason::SnapshotLost => "the stored copy is gone or corrupt".into(),
        Reason::Timeout => "timed out (may pass; checked again next run)".into(),
        Reason::Refused => "connection refused (may pass; checked again next run)".into(),
        Reason::Reset => "connection reset (may pass; checked again next run)".into(),
        Reason::Tls => format!("TLS failure{}", colon(&detail)),
        Reason::Http5xx => format!(
            "server error {} (may pass; checked again next run)",
            status.as_deref().unwrap_or("5xx")
        ),
        Reason::Http429 => "rate limited (HTTP 429) after retries".into(),
        Reason::Blocked => format!(
            "blocked for a robot{}; check it in a browser",
            paren(if detail.is_empty() {
                status.as_deref().unwrap_or_default()
            } else {
                &detail
            })
        ),
        Reason::RedirectLoop => format!("redirect loop{}", colon(&detail)),
        Reason::Network => format!("network error{}", colon(&detail)),
        Reason::Excluded => "excluded by --exclude/--include or the config".into(),
        Reason::Robots => {
            "robots.txt asks robots not to fetch it (--ignore-robots to override)".into()
        }
        Reason::Scheme => format!("not a web link{}", paren(&detail)),
        Reason::RedirectScheme => format!("redirects to a non-web address{}", colon(&detail)),
        Reason::InvalidUrl => format!("not a valid URL{}", colon(&detail)),
        Reason::UrlTooLong => format!("URL too long to fetch{}", paren(&detail)),
        Reason::PrivateAddress => format!(
            "leads into a private network, not fetched{}",
            colon(&detail)
        ),
        Reason::FileNotFound => format!("no such local file{}", paren(&detail)),
        Reason::Template => format!(
            "template syntax, not a URL: check the built page{}",
            paren(&detail)
        ),
        Reason::Unresolved => format!(
            "a relative link with no base to resolve it against (--base-url or --root-dir){}",
            paren(&detail)
        ),
    };
    // Other failures say how long they have lasted, when the store knows.
    let told = matches!(r.reason, Reason::HttpStatus | Reason::PersistentFailure);
    match failing {
        Some(f) if !told && matches!(r.verdict, Verdict::Dead | Verdict::Unreachable) => {
            format!("{words}; failing {f}")
        }
        _ => words,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DiffSpan, Kind, Memento, Offline, RunInfo, SourceHistory, Summary};

    fn row(verdict: Verdict, reason: Reason) -> CitationResult {
        CitationResult::new(
            "posts/tajik.html",
            62,
            Some("http://www.nytimes.com/2010/08/24/world/asia/24tajik.html".into()),
            "NYT",
            Kind::Link,
            verdict,
            reason,
        )
    }

    fn history(since: &str, failures: u32) -> Option<Box<SourceHistory>> {
        Some(Box::new(SourceHistory {
            first_seen: Some("2010-08-25T09:00:00Z".into()),
            last_ok: None,
            consecutive_failures: failures,
            failing_since: Some(since.into()),
            checks: failures + 4,
        }))
    }

    fn render_rows(rows: Vec<CitationResult>, color: bool) -> String {
        let mut summary = Summary::default();
        for r in &rows {
            summary.count(r.verdict);
        }
        let report = Report {
            version: 1,
            run: RunInfo {
                id: "r".into(),
                started_at: "2026-11-24T12:00:00Z".into(),
                finished_at: "2026-11-24T12:00:05Z".into(),
            },
            summary,
            citations: rows,
            recovered: Vec::new(),
            still: Vec::new(),
            store: None,
        };
        let mut out = Vec::new();
        render(
            &report,
            &RenderOptions {
                color,
                ..RenderOptions::default()
            },
            &mut out,
        )
        .unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_404_says_how_long_it_has_been_gone_when_the_store_knows() {
        let mut r = row(Verdict::Dead, Reason::HttpStatus);
        r.status = Some(404);
        assert_eq!(
            reason_in_words(&r),
            "the server says the page is gone (HTTP 404)"
        );
        r.history = history("2026-11-02T03:00:00Z", 3);
        assert_eq!(
            reason_with_history(&r),
            "the server says the page is gone (HTTP 404 since 2026-11-02, 3 checks)"
        );
        // the formats that show the history apart keep the plain words
        assert_eq!(
            reason_in_words(&r),
            "the server says the page is gone (HTTP 404)"
        );
    }

    #[test]
    fn a_first_failure_has_no_history_to_tell() {
        let mut r = row(Verdict::Dead, Reason::HttpStatus);
        r.status = Some(410);
        r.history = history("2026-11-25T03:00:00Z", 1);
        assert_eq!(
            reason_with_history(&r),
            "the server says the page is gone (HTTP 410)"
        );
    }

    #[test]
    fn a_persistent_failure_counts_its_checks() {
        let mut r = row(Verdict::Dead, Reason::PersistentFailure);
        r.detail = Some("connection refused".into());
        r.history = history("2026-11-02T03:00:00Z", 3);
        assert_eq!(
            reason_with_history(&r),
            "unreachable on 3 checks since 2026-11-02 (last: connection refused)"
        );
        assert_eq!(
            reason_in_words(&r),
            "has failed on every check for days (connection refused)"
        );
    }

    #[test]
    fn other_failures_say_since_when_they_fail() {
        let mut r = row(Verdict::Unreachable, Reason::Timeout);
        r.history = history("2026-11-20T03:00:00Z", 2);
        assert_eq!(
            reason_with_history(&r),
            "timed out (may pass; checked again next run); failing since 2026-11-20, 2 checks"
        );
    }

    #[test]
    fn drift_names_the_copy_it_was_compared_with() {
        let mut r = row(Verdict::Changed, Reason::ContentDrift);
        r.similarity = Some(0.41);
        assert_eq!(
            reason_in_words(&r),
            "text 41% similar to the copy first archived"
        );
        r.offline = Some(Box::new(Offline {
            baseline_at: Some("2010-08-25T09:00:00Z".into()),
            show: "citeguard show http://www.nytimes.com/x".into(),
            ..Offline::default()
        }));
        assert_eq!(
            reason_in_words(&r),
            "text 41% similar to the copy of 2010-08-25"
        );
    }

    #[test]
    fn a_type_change_says_what_it_was_and_what_it_is() {
        let mut r = row(Verdict::Changed, Reason::TypeChanged);
        r.detail = Some("was text/html on 2010-08-25, now application/pdf".into());
        assert_eq!(
            reason_in_words(&r),
            "was an article on 2010-08-25, now application/pdf"
        );
        r.detail = Some("text/html → application/pdf".into());
        assert_eq!(reason_in_words(&r), "was an article, now application/pdf");
        r.detail = Some("image/png -> text/html".into());
        assert_eq!(reason_in_words(&r), "was an image, now text/html");
        r.detail = None;
        assert_eq!(
            reason_in_words(&r),
            "no longer the kind of document that was cited"
        );
    }

    #[test]
    fn a_dead_citation_shows_its_replacement_offline_copy_and_change() {
        let mut r = row(Verdict::Dead, Reason::HttpStatus);
        r.status = Some(404);
        r.change = Some(Change::Still);
        r.history = history("2026-11-02T03:00:00Z", 3);
        r.archived = Some(Box::new(Memento {
            url: "https://web.archive.org/web/20100825000000/http://www.nytimes.com/x".into(),
            datetime: "2010-08-25T00:00:00Z".into(),
        }));
        r.offline = Some(Box::new(Offline {
            baseline_at: Some("2010-08-25T09:00:00Z".into()),
            show: "citeguard show http://www.nytimes.com/2010/08/24/world/asia/24tajik.html".into(),
            ..Offline::default()
        }));
        let t = render_rows(vec![r], false);
        assert!(
            t.contains("    line 62    NYT  [still broken since 2026-11-02]\n"),
            "{t}"
        );
        assert!(t.contains(&format!("{INDENT}suggested replacement: https://web.archive.org/web/20100825000000/http://www.nytimes.com/x (archived 2010-08-25)\n")), "{t}");
        assert!(t.contains(&format!("{INDENT}offline copy of 2010-08-25: citeguard show http://www.nytimes.com/2010/08/24/world/asia/24tajik.html\n")), "{t}");
    }

    #[test]
    fn a_changed_citation_shows_what_was_removed_and_added() {
        let mut r = row(Verdict::Changed, Reason::ContentDrift);
        r.diff = vec![
            DiffSpan {
                op: DiffOp::Equal,
                text: "About".into(),
            },
            DiffSpan {
                op: DiffOp::Delete,
                text: "25 prisoners escaped".into(),
            },
            DiffSpan {
                op: DiffOp::Insert,
                text: "nothing happened".into(),
            },
            DiffSpan {
                op: DiffOp::Delete,
                text: "guards".into(),
            },
        ];
        let t = render_rows(vec![r], false);
        assert!(
            t.contains("removed: \"25 prisoners escaped\" (and 1 more)"),
            "{t}"
        );
        assert!(t.contains("added: \"nothing happened\"\n"), "{t}");
    }

    #[test]
    fn colour_only_when_asked_and_never_from_the_post() {
        let mut r = row(Verdict::Dead, Reason::HttpStatus);
        r.url = Some("http://evil.example/\u{1b}[31mred".into());
        r.text = "\u{1b}]0;title\u{7}NYT".into();
        r.change = Some(Change::New);
        let plain = render_rows(vec![r.clone()], false);
        assert!(!plain.contains('\u{1b}'), "{plain}");
        assert!(plain.contains("http://evil.example/[31mred"));
        let coloured = render_rows(vec![r], true);
        assert!(coloured.contains("\u{1b}[31mdead\u{1b}[0m"), "{coloured}");
        assert!(
            coloured.contains("\u{1b}[1;33m[new]\u{1b}[0m"),
            "{coloured}"
        );
        // the only escapes are the renderer's own: each one closes again
        assert_eq!(
            coloured.matches("\u{1b}[").count(),
            2 * coloured.matches("\u{1b}[0m").count()
        );
    }
}
