//! A source's result as it travels from a worker to the coordinator: the
//! `Check` and the store's `Evidence`, as JSON in the source's queue row,
//! or the error that ends the run (a fetch that panicked, as it would end
//! a local run).

use serde::{Deserialize, Serialize};

use crate::compare::QuoteFinding;
use crate::model::{Check, DiffSpan, Offline, SourceHistory};
use crate::store::hook::Evidence;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    Checked {
        check: Box<Check>,
        #[serde(default)]
        evidence: Box<WireEvidence>,
    },
    /// The fetch gave nothing back (as "never fetched" in a local run).
    Unfetched,
    Failed {
        error: String,
    },
}

/// `Evidence`, field for field.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WireEvidence {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub similarity: Option<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quotes: Vec<WireQuote>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offline: Option<Offline>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<SourceHistory>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diff: Vec<DiffSpan>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WireQuote {
    pub text: String,
    pub in_baseline: bool,
    pub in_live: bool,
}

impl From<&Evidence> for WireEvidence {
    fn from(e: &Evidence) -> WireEvidence {
        WireEvidence {
            similarity: e.similarity,
            quotes: e
                .quotes
                .iter()
                .map(|(text, f)| WireQuote {
                    text: text.clone(),
                    in_baseline: f.in_baseline,
                    in_live: f.in_live,
                })
                .collect(),
            baseline: e.baseline.clone(),
            offline: e.offline.as_deref().cloned(),
            history: e.history.as_deref().cloned(),
            diff: e.diff.clone(),
        }
    }
}

impl From<WireEvidence> for Evidence {
    fn from(w: WireEvidence) -> Evidence {
        Evidence {
            similarity: w.similarity,
            quotes: w
                .quotes
                .into_iter()
                .map(|q| {
                    (
                        q.text,
                        QuoteFinding {
                            in_baseline: q.in_baseline,
                            in_live: q.in_live,
                        },
                    )
                })
                .collect(),
            baseline: w.baseline,
            offline: w.offline.map(Box::new),
            history: w.history.map(Box::new),
            diff: w.diff,
        }
    }
}

impl Outcome {
    pub fn checked(check: &Check, evidence: &Evidence) -> Outcome {
        Outcome::Checked {
            check: Box::new(check.clone()),
            evidence: Box::new(evidence.into()),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| {
            serde_json::json!({"outcome": "failed", "error": format!("a result could not be written: {e}")})
                .to_string()
        })
    }

    /// A row's result; one that cannot be read is the error it is.
    pub fn from_json(json: &str) -> Outcome {
        serde_json::from_str(json).unwrap_or_else(|e| Outcome::Failed {
            error: format!("a worker's result cannot be read: {e}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Reason, Verdict};

    #[test]
    fn a_check_and_its_evidence_cross_the_wire_unchanged() {
        let check = Check {
            url: "http://127.0.0.1/a".into(),
            verdict: Verdict::Changed,
            reason: Reason::ContentDrift,
            status: Some(200),
            final_url: None,
            redirects: Vec::new(),
            content_type: Some("text/html".into()),
            attempts: 1,
            elapsed_ms: 12,
            detail: Some("similarity 0.41".into()),
            checked_at: "2026-11-28T12:00:00Z".into(),
        };
        let evidence = Evidence {
            similarity: Some(0.41),
            quotes: vec![(
                "a quoted passage".into(),
                QuoteFinding {
                    in_baseline: true,
                    in_live: false,
                },
            )],
            baseline: Some("ab".repeat(32)),
            ..Evidence::default()
        };
        let json = Outcome::checked(&check, &evidence).to_json();
        let Outcome::Checked {
            check: back,
            evidence: wire,
        } = Outcome::from_json(&json)
        else {
            panic!("not a check: {json}");
        };
        let back_evidence: Evidence = (*wire).into();
        assert_eq!(*back, check);
        assert_eq!(back_evidence.similarity, evidence.similarity);
        assert_eq!(back_evidence.quotes, evidence.quotes);
        assert_eq!(back_evidence.baseline, evidence.baseline);
    }

    #[test]
    fn a_result_that_cannot_be_read_is_an_error_not_a_verdict() {
        assert!(matches!(
            Outcome::from_json("{not json"),
            Outcome::Failed { error } if error.contains("cannot be read")
        ));
    }
}
