//! `--format text`: grouped by post, then by verdict, flagged citations
//! first, each with the line, anchor text, URL and the reason in words. A
//! one-line summary ends it. Fit for a terminal or a cron mail.

use std::collections::BTreeMap;

use super::{RenderOptions, strip_controls};
use crate::model::{CitationResult, Reason, Report, Verdict};

const ORDER: [Verdict; 6] = [
    Verdict::Dead,
    Verdict::Changed,
    Verdict::Missing,
    Verdict::Unreachable,
    Verdict::Skipped,
    Verdict::Ok,
];

pub fn render(
    report: &Report,
    opts: &RenderOptions,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let paint = |s: &str, code: &str| {
        if opts.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    };
    let mut posts: BTreeMap<&str, Vec<&CitationResult>> = BTreeMap::new();
    for c in &report.citations {
        posts.entry(c.post.as_str()).or_default().push(c);
    }
    for (post, rows) in &posts {
        let flagged = rows
            .iter()
            .filter(|r| !matches!(r.verdict, Verdict::Ok | Verdict::Skipped))
            .count();
        writeln!(
            out,
            "{}  ({} citations, {} need attention)",
            paint(&strip_controls(post), "1"),
            rows.len(),
            flagged
        )?;
        for verdict in ORDER {
            let group: Vec<&&CitationResult> =
                rows.iter().filter(|r| r.verdict == verdict).collect();
            if group.is_empty() {
                continue;
            }
            let colour = match verdict {
                Verdict::Dead => "31",
                Verdict::Changed => "35",
                Verdict::Missing => "33",
                Verdict::Unreachable => "36",
                _ => "32",
            };
            writeln!(
                out,
                "  {} ({})",
                paint(verdict.as_str(), colour),
                group.len()
            )?;
            for r in group {
                let text = strip_controls(&r.text);
                let text = if text.chars().count() > 60 {
                    format!("{}…", text.chars().take(59).collect::<String>())
                } else {
                    text
                };
                writeln!(out, "    line {:<5} {}", r.line, text)?;
                if let Some(url) = &r.url {
                    writeln!(out, "               {}", strip_controls(url))?;
                }
                writeln!(out, "               {}", reason_in_words(r))?;
            }
        }
        writeln!(out)?;
    }
    let s = &report.summary;
    writeln!(
        out,
        "{} citations, {} sources: {} ok, {} dead, {} changed, {} missing, {} unreachable, {} skipped",
        s.citations, s.sources, s.ok, s.dead, s.changed, s.missing, s.unreachable, s.skipped
    )
}

/// The reason as a person would say it.
pub fn reason_in_words(r: &CitationResult) -> String {
    let status = r.status.map(|s| format!("HTTP {s}")).unwrap_or_default();
    let detail = r.detail.as_deref().map(strip_controls).unwrap_or_default();
    let to = r
        .final_url
        .as_deref()
        .map(strip_controls)
        .unwrap_or_default();
    match r.reason {
        Reason::Ok => match (&r.final_url, r.url.as_deref()) {
            (Some(f), Some(u)) if f != u && !r.redirects.is_empty() => {
                format!("ok, redirected to {to}")
            }
            _ => "ok".into(),
        },
        Reason::Moved => format!("moved permanently to {to}: consider citing the new address"),
        Reason::HttpStatus => format!("the server says the page is gone ({status})"),
        Reason::Dns => "the domain no longer exists (DNS: no such host)".into(),
        Reason::DnsTemporary => {
            format!("the name did not resolve this time, checked again next run ({detail})")
        }
        Reason::Soft404 => format!("a \"not found\" page served as a success: {detail}"),
        Reason::RedirectToRoot => format!("redirects to the front page or a login page ({to})"),
        Reason::PersistentFailure => format!("has failed on every check for days ({detail})"),
        Reason::ContentDrift => match r.similarity {
            Some(s) => format!(
                "the text is only {:.0}% similar to the copy first archived",
                s * 100.0
            ),
            None => "the text differs from the copy first archived".into(),
        },
        Reason::QuoteMissing => "the quoted passage is no longer on the page".into(),
        Reason::TypeChanged => format!("the source is now a different kind of document ({detail})"),
        Reason::NoLink => "an attribution or quote with no link to its source".into(),
        Reason::EmptyLink => "the link is empty or a placeholder".into(),
        Reason::SnapshotLost => "the archived copy is gone or corrupt".into(),
        Reason::Timeout => "timed out (may pass; checked again next run)".into(),
        Reason::Refused => "connection refused (may pass; checked again next run)".into(),
        Reason::Reset => "connection reset (may pass; checked again next run)".into(),
        Reason::Tls => format!("TLS failure: {detail}"),
        Reason::Http5xx => format!("server error {status} (may pass; checked again next run)"),
        Reason::Http429 => "rate limited (HTTP 429) after retries".into(),
        Reason::Blocked => format!(
            "blocked for a robot ({}); check it in a browser",
            if detail.is_empty() { status } else { detail }
        ),
        Reason::RedirectLoop => format!("redirect loop: {detail}"),
        Reason::Network => format!("network error: {detail}"),
        Reason::Excluded => "excluded by --exclude/--include or the config".into(),
        Reason::Robots => {
            "robots.txt asks robots not to fetch it (--ignore-robots to override)".into()
        }
        Reason::Scheme => format!("not a web link ({detail})"),
    }
}
