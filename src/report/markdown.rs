//! `--format markdown`: a report that reads well as a GitHub/GitLab issue
//! body. A summary line and the counts; with a store, what is new since
//! the last run first; then a task list per post (each flagged citation
//! with its line, link, the reason in words, the archived copy to cite
//! instead and the command that shows the offline copy); then what
//! recovered.
//!
//! Everything that came from a post or a server is escaped: it cannot add
//! markup, HTML, table cells, code spans, @-mentions or issue references.

use std::collections::BTreeMap;

use super::text::{change_marker, day, diff_lines, reason_with_history, shorten};
use crate::base::escape::strip_controls;
use crate::base::web::is_http;
use crate::model::{Change, CitationResult, Report};

pub fn render(report: &Report, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let s = &report.summary;
    let need = s.dead + s.changed + s.missing + s.unreachable;
    if report.still.is_empty() {
        writeln!(
            out,
            "## citeguard: {need} of {} citations need attention",
            s.citations
        )?;
    } else {
        // `--new-only`: the list holds only what broke since the last run.
        writeln!(
            out,
            "## citeguard: {need} new problem{}, {} still broken from before",
            if need == 1 { "" } else { "s" },
            report.still.len()
        )?;
    }
    writeln!(out)?;
    if let Some((new, still, recovered)) = super::since_last_run(report) {
        writeln!(
            out,
            "Since the last run: **{new} new**, {still} still flagged, {recovered} recovered."
        )?;
        writeln!(out)?;
    }
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

    let mut flagged: Vec<&CitationResult> = report
        .citations
        .iter()
        .filter(|c| c.verdict.is_flagged())
        .collect();
    flagged.sort_by(|a, b| {
        (&a.post, std::cmp::Reverse(a.verdict.rank()), a.line).cmp(&(
            &b.post,
            std::cmp::Reverse(b.verdict.rank()),
            b.line,
        ))
    });

    // New ones first, each named with its post; the per-post lists hold
    // the rest, so that every citation has one checkbox.
    let (new, rest): (Vec<&CitationResult>, Vec<&CitationResult>) = flagged
        .into_iter()
        .partition(|c| c.change == Some(Change::New));
    if !new.is_empty() {
        writeln!(out, "### New since last run")?;
        writeln!(out)?;
        for r in &new {
            item(r, true, out)?;
        }
        writeln!(out)?;
    }

    let mut posts: BTreeMap<&str, Vec<&CitationResult>> = BTreeMap::new();
    for r in rest {
        posts.entry(r.post.as_str()).or_default().push(r);
    }
    for (post, rows) in posts {
        writeln!(out, "### {}", escape(post))?;
        writeln!(out)?;
        for r in rows {
            item(r, false, out)?;
        }
        writeln!(out)?;
    }

    if !report.still.is_empty() {
        writeln!(out, "### Still broken (reported before)")?;
        writeln!(out)?;
        for r in &report.still {
            let url = r.url.as_deref().unwrap_or("-");
            let since = r
                .since
                .as_deref()
                .map(|d| format!(" since {}", escape(d.get(..10).unwrap_or(d))))
                .unwrap_or_default();
            writeln!(
                out,
                "- {} line {}: {} — {} ({}){since}",
                escape(&r.post),
                r.line,
                link(url, url),
                r.verdict,
                r.reason
            )?;
        }
        writeln!(out)?;
    }

    if !report.recovered.is_empty() {
        writeln!(out, "### Recovered since last run")?;
        writeln!(out)?;
        for r in &report.recovered {
            writeln!(
                out,
                "- [x] {}: {} (was **{}**)",
                escape(&r.post),
                link(&r.url, &r.url),
                r.was
            )?;
        }
        writeln!(out)?;
    }

    let store = match &report.store {
        Some(dir) => format!(" · offline copies in {}", code_span(dir)),
        None => String::new(),
    };
    writeln!(
        out,
        "<sub>run {} · {} → {}{store}</sub>",
        escape(&report.run.id),
        escape(&report.run.started_at),
        escape(&report.run.finished_at)
    )
}

/// One flagged citation as a task:
/// `- [ ] line 12: **dead** `http-status` [anchor](url) — why; suggested
/// replacement: …; offline copy: `citeguard show …``, and what changed in
/// the text under it.
fn item(r: &CitationResult, with_post: bool, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let mut line = String::from("- [ ] ");
    if with_post {
        line.push_str(&format!("{}, ", escape(&r.post)));
    }
    let cited = match &r.url {
        Some(u) if r.credentials => format!(
            "{} *({})*",
            link(&r.text, u),
            super::redact::CREDENTIALS_REMOVED
        ),
        Some(u) => link(&r.text, u),
        None => escape(&shorten(&r.text, 60)),
    };
    line.push_str(&format!(
        "line {}: **{}** `{}` {} — {}",
        r.line,
        r.verdict,
        r.reason,
        cited,
        escape(&reason_with_history(r))
    ));
    if let Some((marker, _)) = change_marker(r).filter(|_| r.change != Some(Change::New)) {
        line.push_str(&format!(" *({})*", escape(&marker)));
    }
    if let Some(a) = &r.archived {
        line.push_str(&format!(
            "; suggested replacement: {} (archived {})",
            link(&a.url, &a.url),
            escape(&day(&a.datetime))
        ));
    }
    if let Some(o) = &r.offline {
        let show = strip_controls(&o.show);
        if !show.trim().is_empty() {
            let of = match &o.baseline_at {
                Some(at) => format!(" of {}", escape(&day(at))),
                None => String::new(),
            };
            line.push_str(&format!("; offline copy{of}: {}", code_span(&show)));
        }
    }
    writeln!(out, "{line}")?;
    for d in diff_lines(r) {
        writeln!(out, "  - {}", escape(&d))?;
    }
    Ok(())
}

/// `[text](url)` for a web address (the text shortened, the URL when there
/// is no text); anything else (`javascript:`, `data:`) is shown, never
/// linked.
fn link(text: &str, url: &str) -> String {
    let text = if text.trim().is_empty() { url } else { text };
    let label = escape(&shorten(text, 60));
    let clean = strip_controls(url);
    if is_http(clean.trim_start()) {
        format!("[{label}]({})", link_target(clean.trim()))
    } else if text == url {
        code_span(&clean)
    } else {
        format!("{label} ({})", code_span(&clean))
    }
}

/// Escapes text for Markdown prose and table cells: no markup, no HTML, no
/// pipes, no math; `@name` and `#123` cannot mention anyone or reference an
/// issue (a word joiner, invisible, follows the `@` and `#`).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in strip_controls(s).chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '|' => out.push_str("\\|"),
            '@' => out.push_str("@\u{2060}"),
            '#' => out.push_str("\\#\u{2060}"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '!' | '~' | '$' => {
                out.push('\\');
                out.push(c);
            }
            '\t' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// A code span that holds any text: a fence longer than any run of
/// backticks inside, spaces when the text touches a backtick.
fn code_span(s: &str) -> String {
    let s: String = strip_controls(s).replace('\t', " ");
    let mut longest = 0;
    let mut run = 0;
    for c in s.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') || s.is_empty() {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

/// A URL made safe as a Markdown link target.
fn link_target(u: &str) -> String {
    strip_controls(u)
        .chars()
        .map(|c| match c {
            ' ' => "%20".to_string(),
            '\t' => "%09".to_string(),
            '(' => "%28".to_string(),
            ')' => "%29".to_string(),
            '<' => "%3C".to_string(),
            '>' => "%3E".to_string(),
            '|' => "%7C".to_string(),
            '`' => "%60".to_string(),
            '\\' => "%5C".to_string(),
            '"' => "%22".to_string(),
            c => c.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_text_adds_no_markup_mention_or_reference() {
        assert_eq!(
            escape("<b>x</b> | *y* [z](w) `c` $m$ @team #12"),
            "&lt;b&gt;x&lt;/b&gt; \\| \\*y\\* \\[z\\]\\(w\\) \\`c\\` \\$m\\$ @\u{2060}team \\#\u{2060}12"
        );
        assert_eq!(escape("a\u{1b}[31mb\nc"), "a\\[31mbc");
    }

    #[test]
    fn a_code_span_holds_backticks() {
        assert_eq!(code_span("citeguard show x"), "`citeguard show x`");
        assert_eq!(code_span("a`b"), "``a`b``");
        assert_eq!(code_span("`a``"), "``` `a`` ```");
    }

    #[test]
    fn only_web_addresses_become_links() {
        assert_eq!(
            link("NYT", "http://x.example/a b(c)"),
            "[NYT](http://x.example/a%20b%28c%29)"
        );
        assert_eq!(
            link("click", "javascript:alert(1)"),
            "click (`javascript:alert(1)`)"
        );
        assert_eq!(
            link("", "https://x.example/"),
            "[https://x.example/](https://x.example/)"
        );
    }
}
