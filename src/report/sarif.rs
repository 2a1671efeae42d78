//! `--format sarif`: SARIF 2.1.0, one result per flagged citation, located
//! at the post file and line, so code-scanning views show a broken citation
//! at the line that cites it. One rule per reason.

use serde_json::{Value, json};

use super::text::reason_in_words;
use crate::base::escape::strip_controls;
use crate::model::{Report, Verdict};

pub fn render(report: &Report, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let flagged: Vec<_> = report
        .citations
        .iter()
        .filter(|c| c.verdict.is_flagged())
        .collect();
    let mut rules: Vec<String> = flagged
        .iter()
        .map(|c| rule_id(c.verdict, c.reason.as_str()))
        .collect();
    rules.sort();
    rules.dedup();
    let results: Vec<Value> = flagged
        .iter()
        .map(|c| {
            let level = match c.verdict {
                Verdict::Dead | Verdict::Missing => "error",
                Verdict::Changed => "warning",
                _ => "note",
            };
            let credentials = if c.credentials {
                format!(", {}", super::redact::CREDENTIALS_REMOVED)
            } else {
                String::new()
            };
            let text = match &c.url {
                Some(u) => format!(
                    "{} citation \"{}\" ({}{credentials}): {}",
                    c.verdict,
                    strip_controls(&c.text),
                    strip_controls(u),
                    reason_in_words(c)
                ),
                None => format!(
                    "{} citation \"{}\": {}",
                    c.verdict,
                    strip_controls(&c.text),
                    reason_in_words(c)
                ),
            };
            let mut properties =
                json!({"verdict": c.verdict, "reason": c.reason, "url": c.url, "status": c.status});
            if c.credentials {
                properties["credentials"] = json!(true);
            }
            json!({
                "ruleId": rule_id(c.verdict, c.reason.as_str()),
                "level": level,
                "message": {"text": text},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": c.post},
                        "region": {"startLine": c.line.max(1)}
                    }
                }],
                "properties": properties
            })
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "citeguard",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/citeguard/citeguard",
                "rules": rules.iter().map(|r| json!({"id": r, "shortDescription": {"text": format!("citation {}", r.replace('/', ": "))}})).collect::<Vec<_>>()
            }},
            "results": results
        }]
    });
    serde_json::to_writer_pretty(&mut *out, &doc).map_err(std::io::Error::other)?;
    writeln!(out)
}

fn rule_id(verdict: Verdict, reason: &str) -> String {
    format!("{verdict}/{reason}")
}
