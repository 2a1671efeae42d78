//! GitHub Actions workflow-command annotations (`::error file=…,line=…::…`)
//! for flagged citations, so a workflow run shows each broken citation at
//! the line that cites it. The binary prints them when `GITHUB_ACTIONS` is
//! set, on stderr so that stdout stays the report alone (the runner reads
//! workflow commands from both streams).

use super::text::reason_in_words;
use crate::base::escape::strip_controls;
use crate::model::{Report, Verdict};

pub fn render(
    report: &Report,
    fail_on: &[Verdict],
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let report = &*super::redact::redacted(report);
    for c in report.citations.iter().filter(|c| c.verdict.is_flagged()) {
        let level = if c.verdict.fails(fail_on) {
            "error"
        } else {
            "warning"
        };
        let title = format!("citation {}: {}", c.verdict, c.reason);
        let message = match &c.url {
            Some(u) if c.credentials => format!(
                "\"{}\" {u} ({}) — {}",
                c.text,
                super::redact::CREDENTIALS_REMOVED,
                reason_in_words(c)
            ),
            Some(u) => format!("\"{}\" {} — {}", c.text, u, reason_in_words(c)),
            None => format!("\"{}\" — {}", c.text, reason_in_words(c)),
        };
        writeln!(
            out,
            "::{level} file={},line={},title={}::{}",
            property(&strip_controls(&c.post)),
            c.line.max(1),
            property(&title),
            data(&strip_controls(&message))
        )?;
    }
    Ok(())
}

/// Escapes a command's message, per the workflow-command rules.
fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a command property value, which also may not hold ':' or ','.
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_and_messages_are_escaped() {
        assert_eq!(property("a,b:c%\n"), "a%2Cb%3Ac%25%0A");
        assert_eq!(data("50%\r\nnext"), "50%25%0D%0Anext");
    }
}
