//! `--format junit`: one test suite per post, one test case per citation;
//! flagged citations are failures (per `--fail-on`), unreachable ones that
//! are not failing are marked skipped, so CI dashboards show each broken
//! citation by post and line.

use std::collections::BTreeMap;

use super::text::reason_in_words;
use crate::base::escape::xml;
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
        .filter(|c| c.verdict.fails(fail_on))
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
        let f = rows.iter().filter(|c| c.verdict.fails(fail_on)).count();
        let skipped = rows
            .iter()
            .filter(|c| !c.verdict.fails(fail_on) && c.verdict != Verdict::Ok)
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
            let mut name = format!("line {}: {}", r.line, r.url.as_deref().unwrap_or(&r.text));
            if r.credentials {
                name.push_str(&format!(" ({})", super::redact::CREDENTIALS_REMOVED));
            }
            write!(
                out,
                r#"    <testcase classname="{}" name="{}" file="{}" line="{}">"#,
                xml(post),
                xml(&name),
                xml(post),
                r.line
            )?;
            let message = format!("{}/{}: {}", r.verdict, r.reason, reason_in_words(r));
            if r.verdict.fails(fail_on) {
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
