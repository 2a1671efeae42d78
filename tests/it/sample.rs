//! The one sample report every renderer is tested on: as a run with a
//! store makes it, with every verdict, a store's evidence (history, changes
//! since the last run, offline copies, a diff, archived copies, recovered
//! citations) and hostile text from posts and servers: tags and quotes in
//! anchor texts, a post named like a tag, terminal escapes in URLs,
//! Markdown and mentions in anchor texts, backticks in a command, a
//! `javascript:` link and a `javascript:` archived copy.

use citeguard::model::Change;
use citeguard::model::*;

/// The store the run wrote to.
pub const STORE: &str = "/var/lib/citeguard/store";
pub const NYT: &str = "http://www.nytimes.com/2010/08/24/world/asia/24tajik.html";
pub const NYT_ARCHIVED: &str = "https://web.archive.org/web/20100825000000/http://www.nytimes.com/2010/08/24/world/asia/24tajik.html";
pub const MONITOR: &str = "http://tajikistanmonitor.blogspot.com/2010/08/x.html";
pub const EURASIANET: &str = "http://www.eurasianet.org/node/61799";
/// A URL with terminal escapes in it.
pub const EVIL: &str = "http://evil.example/\u{1b}[31mred\u{1b}[0m";
/// A URL with backticks, which a Markdown code span must hold.
pub const DOWN: &str = "http://down.example/`whoami`";
/// A post named like a tag.
pub const EVIL_POST: &str = "posts/<img src=x onerror=alert(5)>.md";

fn row(
    post: &str,
    line: usize,
    url: Option<&str>,
    text: &str,
    verdict: Verdict,
    reason: Reason,
    status: Option<u16>,
) -> CitationResult {
    let kind = if url.is_some() {
        Kind::Link
    } else {
        Kind::Unlinked
    };
    CitationResult {
        status,
        ..CitationResult::new(
            post,
            line,
            url.map(String::from),
            text,
            kind,
            verdict,
            reason,
        )
    }
}

fn history(since: &str, failures: u32) -> Option<Box<SourceHistory>> {
    Some(Box::new(SourceHistory {
        first_seen: Some("2010-08-25T09:00:00Z".into()),
        last_ok: Some("2026-10-30T03:00:00Z".into()),
        consecutive_failures: failures,
        failing_since: Some(since.into()),
        checks: 40,
    }))
}

fn offline(url: &str) -> Option<Box<Offline>> {
    Some(Box::new(Offline {
        baseline: Some("a".repeat(64)),
        baseline_at: Some("2010-08-25T09:00:00Z".into()),
        latest: Some("b".repeat(64)),
        latest_at: Some("2026-11-24T12:00:01Z".into()),
        show: format!("citeguard show '{url}' --as html"),
        path: Some(format!("objects/aa/{}", "a".repeat(62))),
        page: None,
    }))
}

pub fn report() -> Report {
    let mut citations = vec![
        CitationResult {
            history: history("2026-11-02T03:00:00Z", 3),
            change: Some(Change::Still),
            offline: offline(NYT),
            archived: Some(Box::new(Memento {
                url: NYT_ARCHIVED.into(),
                datetime: "2010-08-25T00:00:00Z".into(),
            })),
            post_date: Some("2010-08-25".into()),
            ..row(
                "posts/tajik.html",
                62,
                Some(NYT),
                "NYT",
                Verdict::Dead,
                Reason::HttpStatus,
                Some(404),
            )
        },
        CitationResult {
            change: Some(Change::Still),
            ..row(
                "posts/tajik.html",
                64,
                None,
                "reported by <b>AFP</b> & co",
                Verdict::Missing,
                Reason::NoLink,
                None,
            )
        },
        CitationResult {
            change: Some(Change::Recovered),
            ..row(
                "posts/tajik.html",
                66,
                Some(MONITOR),
                "Tajikistan Monitor",
                Verdict::Ok,
                Reason::Ok,
                Some(200),
            )
        },
        CitationResult {
            change: Some(Change::New),
            history: history("2026-11-24T12:00:02Z", 1),
            ..row(
                "posts/evil.md",
                3,
                Some(EVIL),
                "<script>alert(1)</script> | *bold* [x](y)",
                Verdict::Unreachable,
                Reason::Http5xx,
                Some(503),
            )
        },
        row(
            "posts/evil.md",
            4,
            Some("mailto:desk@example.org"),
            "mail us",
            Verdict::Skipped,
            Reason::Scheme,
            None,
        ),
        CitationResult {
            similarity: Some(0.41),
            change: Some(Change::New),
            offline: offline(EURASIANET),
            diff: vec![
                DiffSpan {
                    op: DiffOp::Equal,
                    text: "… the escape could ".into(),
                },
                DiffSpan {
                    op: DiffOp::Delete,
                    text: "turn up the heat on the administration".into(),
                },
                DiffSpan {
                    op: DiffOp::Insert,
                    text: "<b>be</b> | forgotten `soon`".into(),
                },
            ],
            ..row(
                "posts/tajik.html",
                68,
                Some(EURASIANET),
                "Eurasianet",
                Verdict::Changed,
                Reason::ContentDrift,
                Some(200),
            )
        },
        CitationResult {
            kind: Kind::Quote,
            quote: Some("About 25 prisoners escaped".into()),
            quote_found: Some(false),
            change: Some(Change::Still),
            ..row(
                "posts/tajik.html",
                70,
                Some("http://wire.example/story"),
                "the wire story",
                Verdict::Changed,
                Reason::QuoteMissing,
                Some(200),
            )
        },
        CitationResult {
            detail: Some("was text/html on 2010-08-25, now application/pdf".into()),
            change: Some(Change::New),
            ..row(
                "posts/tajik.html",
                72,
                Some("http://report.example/2010"),
                "the report",
                Verdict::Changed,
                Reason::TypeChanged,
                Some(200),
            )
        },
        CitationResult {
            change: Some(Change::New),
            ..row(
                "posts/tajik.html",
                74,
                Some("http://asiaplus.example/news"),
                "Asia-Plus",
                Verdict::Missing,
                Reason::SnapshotLost,
                Some(200),
            )
        },
        CitationResult {
            history: history("2026-11-02T03:00:00Z", 3),
            detail: Some("connection refused".into()),
            change: Some(Change::New),
            offline: offline(DOWN),
            archived: Some(Box::new(Memento {
                url: "javascript:alert(1)".into(),
                datetime: "2010-08-25T00:00:00Z".into(),
            })),
            ..row(
                "posts/evil.md",
                5,
                Some(DOWN),
                "`rm -rf /` @admins #1",
                Verdict::Dead,
                Reason::PersistentFailure,
                None,
            )
        },
        row(
            "posts/evil.md",
            6,
            Some("javascript:alert(3)"),
            "\"><img src=x onerror=alert(2)>",
            Verdict::Skipped,
            Reason::Scheme,
            None,
        ),
        row(
            EVIL_POST,
            1,
            Some("https://x.example/'\"><script>alert(6)</script>"),
            "it's \"quoted\" & <i>tagged</i>",
            Verdict::Dead,
            Reason::HttpStatus,
            Some(410),
        ),
    ];
    citations.sort_by(|a, b| (&a.post, a.line).cmp(&(&b.post, b.line)));
    let mut summary = Summary {
        sources: 11,
        ..Summary::default()
    };
    for c in &citations {
        summary.count(c.verdict);
    }
    Report {
        version: 1,
        run: RunInfo {
            id: "20261124T120000Z-0001".into(),
            started_at: "2026-11-24T12:00:00Z".into(),
            finished_at: "2026-11-24T12:00:05Z".into(),
        },
        summary,
        citations,
        still: Vec::new(),
        recovered: vec![
            Recovered {
                post: "posts/tajik.html".into(),
                url: MONITOR.into(),
                was: Verdict::Unreachable,
            },
            Recovered {
                post: "posts/evil.md".into(),
                url: "http://back.example/\u{1b}[2J|*x*".into(),
                was: Verdict::Dead,
            },
        ],
        store: Some(STORE.into()),
    }
}
