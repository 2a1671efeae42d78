//! `--format markdown`: a report that reads well as a GitHub/GitLab issue
//! body. Flagged citations in a table per post; everything that came from
//! a post or a server is escaped so it cannot break the table or inject
//! markup.

use std::collections::BTreeMap;

use super::strip_controls;
use super::text::reason_in_words;
use crate::model::{CitationResult, Report, Verdict};

pub fn render(report: &Report, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let s = &report.summary;
    writeln!(
        out,
        "## citeguard: {} of {} citations need attention",
        s.dead + s.changed + s.missing + s.unreachable,
        s.citations
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "| ok | dead | changed | missing | unreachable | skipped | sources |"
    )?;
    writeln!(out, "|---:|---:|---:|---:|---:|---:|---:|")?;
    writeln!(
        out,
        "| {} | {} | {} | {} | {} | {} | {} |",
        s.ok, s.dead, s.changed, s.missing, s.unreachable, s.skipped, s.sources
    )?;
    writeln!(out)?;
    let mut posts: BTreeMap<&str, Vec<&CitationResult>> = BTreeMap::new();
    for c in report
        .citations
        .iter()
        .filter(|c| !matches!(c.verdict, Verdict::Ok | Verdict::Skipped))
    {
        posts.entry(c.post.as_str()).or_default().push(c);
    }
    for (post, mut rows) in posts {
        rows.sort_by_key(|r| (std::cmp::Reverse(r.verdict.severity()), r.line));
        writeln!(out, "### {}", escape(post))?;
        writeln!(out)?;
        writeln!(out, "| line | verdict | cited as | source | why |")?;
        writeln!(out, "|---:|---|---|---|---|")?;
        for r in rows {
            let source = match &r.url {
                Some(u) => format!("[{}]({})", escape(&shorten(u, 60)), link_target(u)),
                None => "—".to_string(),
            };
            writeln!(
                out,
                "| {} | **{}** `{}` | {} | {} | {} |",
                r.line,
                r.verdict,
                r.reason,
                escape(&shorten(&r.text, 60)),
                source,
                escape(&reason_in_words(r))
            )?;
        }
        writeln!(out)?;
    }
    writeln!(
        out,
        "<sub>run {} · {} → {}</sub>",
        escape(&report.run.id),
        report.run.started_at,
        report.run.finished_at
    )
}

/// Escapes text for a Markdown table cell: no markup, no HTML, no pipes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in strip_controls(s).chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '#' | '!' | '|' | '~' | '<' | '>'
            | '&' => match c {
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '&' => out.push_str("&amp;"),
                '|' => out.push_str("\\|"),
                _ => {
                    out.push('\\');
                    out.push(c);
                }
            },
            '\t' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// A URL made safe as a Markdown link target.
fn link_target(u: &str) -> String {
    strip_controls(u)
        .chars()
        .map(|c| match c {
            ' ' => "%20".to_string(),
            '(' => "%28".to_string(),
            ')' => "%29".to_string(),
            '<' => "%3C".to_string(),
            '>' => "%3E".to_string(),
            '|' => "%7C".to_string(),
            '`' => "%60".to_string(),
            c => c.to_string(),
        })
        .collect()
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() > max {
        format!("{}…", s.chars().take(max - 1).collect::<String>())
    } else {
        s.to_string()
    }
}
