//! `--format junit`: one test suite per post, one test case per citation;
//! flagged citations are failures (per `--fail-on`), unreachable ones that
//! are not failing are marked skipped, so CI dashboards show each broken
//! citation by post and line.

use std::collections::BTreeMap;

use super::text::reason_in_words;
use crate::model::{CitationResult, Report, Verdict};

pub fn render(
    report: &Report,
    fail_on: &[Verdict],
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let mut posts: BTreeMap<&str, Vec<&CitationResult>> = BTreeMap::new();
    for c in &report.citations {
        posts.entry(c.post.as_str()).or_default().push(c);
    }
    let failures = report
        .citations
        .iter()
        .filter(|c| fail_on.contains(&c.verdict))
        .count();
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="citeguard" tests="{}" failures="{}" timestamp="{}">"#,
        report.citations.len(),
        failures,
        xml(&report.run.started_at)
    )?;
    for (post, rows) in posts {
        let f = rows.iter().filter(|c| fail_on.contains(&c.verdict)).count();
        let skipped = rows
            .iter()
            .filter(|c| !fail_on.contains(&c.verdict) && c.verdict != Verdict::Ok)
            .count();
        writeln!(
            out,
            r#"  <testsuite name="{}" tests="{}" failures="{}" skipped="{}">"#,
            xml(post),
            rows.len(),
            f,
            skipped
        )?;
        for r in rows {
            let name = format!("line {}: {}", r.line, r.url.as_deref().unwrap_or(&r.text));
            write!(
                out,
                r#"    <testcase classname="{}" name="{}" file="{}" line="{}">"#,
                xml(post),
                xml(&name),
                xml(post),
                r.line
            )?;
            let message = format!("{}/{}: {}", r.verdict, r.reason, reason_in_words(r));
            if fail_on.contains(&r.verdict) {
                write!(
                    out,
                    r#"<failure type="{}" message="{}">{}</failure>"#,
                    r.verdict,
                    xml(&message),
                    xml(&r.text)
                )?;
            } else if r.verdict != Verdict::Ok {
                write!(out, r#"<skipped message="{}"/>"#, xml(&message))?;
            }
            writeln!(out, "</testcase>")?;
        }
        writeln!(out, "  </testsuite>")?;
    }
    writeln!(out, "</testsuites>")
}

/// Escapes for XML text and attributes, dropping characters XML 1.0 forbids.
pub fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(' '),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}
