//! Credentials never reach a report. A post may cite
//! `http://alice:s3cretpass@host/`: the user-info is needed to fetch the
//! source, never to show it. Every format renders the report this module
//! returns, in which every URL (and every text that may quote one: an
//! error message, an anchor text, the `show` command, a post's name) has
//! lost its user-info, and a row whose cited URL carried some says so
//! (`credentials`).
//!
//! The stored report keeps the URLs as cited (the store needs them to find
//! the sources again); redaction happens on the way out, every time.

use std::borrow::Cow;

use crate::base::web::{has_userinfo, without_userinfo};
use crate::model::{CitationResult, Report};

/// What a row says, in words, when its cited URL carried credentials.
pub const CREDENTIALS_REMOVED: &str = "credentials removed";

/// The report as every format shows it. Copied only when it holds a
/// credential: a large run's report is most of what it holds in memory.
pub fn redacted(report: &Report) -> Cow<'_, Report> {
    let holds_one = report.citations.iter().any(|c| row(&mut c.clone()))
        || report
            .still
            .iter()
            .any(|s| has_userinfo(&s.post) || s.url.as_deref().is_some_and(has_userinfo))
        || report
            .recovered
            .iter()
            .any(|s| has_userinfo(&s.post) || has_userinfo(&s.url));
    if !holds_one {
        return Cow::Borrowed(report);
    }
    let mut r = report.clone();
    let mut changed = false;
    for c in &mut r.citations {
        changed |= row(c);
    }
    for s in &mut r.still {
        changed |= clean(&mut s.post);
        changed |= s.url.as_mut().is_some_and(clean);
    }
    for s in &mut r.recovered {
        changed |= clean(&mut s.post);
        changed |= clean(&mut s.url);
    }
    if changed {
        Cow::Owned(r)
    } else {
        Cow::Borrowed(report)
    }
}

/// Removes the user-info from every string of a row that may hold a URL;
/// whether anything was removed.
fn row(c: &mut CitationResult) -> bool {
    if c.url.as_deref().is_some_and(has_userinfo) {
        c.credentials = true;
    }
    let mut changed = c.credentials;
    changed |= clean(&mut c.post);
    changed |= c.url.as_mut().is_some_and(clean);
    changed |= clean(&mut c.text);
    changed |= c.final_url.as_mut().is_some_and(clean);
    for hop in &mut c.redirects {
        changed |= clean(&mut hop.url);
    }
    for s in [&mut c.detail, &mut c.context, &mut c.quote] {
        changed |= s.as_mut().is_some_and(clean);
    }
    if let Some(o) = &mut c.offline {
        changed |= clean(&mut o.show);
    }
    if let Some(a) = &mut c.archived {
        changed |= clean(&mut a.url);
    }
    for span in &mut c.diff {
        changed |= clean(&mut span.text);
    }
    changed
}

fn clean(s: &mut String) -> bool {
    match without_userinfo(s) {
        Cow::Borrowed(_) => false,
        Cow::Owned(plain) => {
            *s = plain;
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Kind, Memento, Offline, Reason, Redirect, RunInfo, Summary, Verdict};

    fn report_of(citations: Vec<CitationResult>) -> Report {
        Report {
            version: 1,
            run: RunInfo {
                id: "run".into(),
                started_at: "2026-11-01T03:00:00Z".into(),
                finished_at: "2026-11-01T03:01:00Z".into(),
            },
            summary: Summary::default(),
            citations,
            recovered: Vec::new(),
            still: Vec::new(),
            store: None,
        }
    }

    #[test]
    fn every_url_of_a_row_loses_its_credentials_and_the_row_says_so() {
        let secret = "http://alice:s3cretpass@host.test/p";
        let mut c = CitationResult::new(
            "http://bob:pw@blog.test/post",
            3,
            Some(secret.into()),
            secret,
            Kind::BareUrl,
            Verdict::Dead,
            Reason::HttpStatus,
        );
        c.final_url = Some(secret.into());
        c.redirects = vec![Redirect {
            url: secret.into(),
            status: 301,
        }];
        c.detail = Some(format!("error sending request for url ({secret})"));
        c.offline = Some(Box::new(Offline {
            show: format!("citeguard show '{secret}' --as html"),
            ..Offline::default()
        }));
        c.archived = Some(Box::new(Memento {
            url: format!("https://web.archive.org/web/2010/{secret}"),
            datetime: "2010-01-01T00:00:00Z".into(),
        }));
        let report = report_of(vec![c]);
        let shown = redacted(&report);
        let json = serde_json::to_string(&*shown).unwrap();
        assert!(
            !json.contains("s3cret") && !json.contains("alice"),
            "{json}"
        );
        assert!(!json.contains("bob:pw"), "{json}");
        assert!(json.contains("\"credentials\":true"), "{json}");
        assert_eq!(
            shown.citations[0].url.as_deref(),
            Some("http://host.test/p")
        );
    }

    #[test]
    fn a_report_without_credentials_is_shown_as_it_is() {
        let c = CitationResult::new(
            "post.md",
            1,
            Some("http://host.test/a@b".into()),
            "t",
            Kind::Link,
            Verdict::Ok,
            Reason::Ok,
        );
        let report = report_of(vec![c]);
        assert!(matches!(redacted(&report), Cow::Borrowed(_)));
        let json = serde_json::to_string(&report).unwrap();
        assert!(!json.contains("credentials"), "{json}");
    }
}
