//! `--format html`: one self-contained page for people, to open from disk
//! or attach to a mail. Flagged citations first; counts per verdict that
//! filter, a post filter, a search box and sortable columns.
//!
//! The page loads nothing: its CSS and its small script are inline, and a
//! Content-Security-Policy pins both by hash, so even a tag that escaped
//! escaping could neither run nor fetch. The only URLs in it are the
//! citations' own (and their archived copies), and only http(s) ones become
//! links. With scripting off every row is shown and only the controls are
//! hidden. Everything from a post, a server or the store is escaped here,
//! and the script reads rows from `data-*` attributes: no report string is
//! ever written into script text.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io;

use data_encoding::BASE64;
use sha2::{Digest, Sha256};

use super::text::{day, reason_in_words};
use crate::base::escape::{self, strip_controls};
use crate::base::web::is_http;
use crate::model::{Change, CitationResult, DiffOp, Reason, Report, Verdict};

pub fn render(report: &Report, out: &mut dyn io::Write) -> io::Result<()> {
    let mut page = String::with_capacity(16 * 1024 + report.citations.len() * 1024);
    write_page(report, &mut page).map_err(|_| io::Error::other("formatting the HTML report"))?;
    out.write_all(page.as_bytes())
}

fn write_page(report: &Report, p: &mut String) -> std::fmt::Result {
    let s = &report.summary;
    let flagged = s.dead + s.changed + s.missing + s.unreachable;
    writeln!(p, "<!DOCTYPE html>")?;
    writeln!(p, "<html lang=\"en\">")?;
    writeln!(p, "<head>")?;
    writeln!(p, "<meta charset=\"utf-8\">")?;
    writeln!(
        p,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src '{}'; script-src '{}'; base-uri 'none'; form-action 'none'\">",
        csp_hash(STYLE),
        csp_hash(SCRIPT)
    )?;
    writeln!(p, "<meta name=\"referrer\" content=\"no-referrer\">")?;
    writeln!(
        p,
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    )?;
    writeln!(p, "<title>citeguard report {}</title>", esc(&report.run.id))?;
    writeln!(p, "<style>{STYLE}</style>")?;
    writeln!(p, "</head>")?;
    writeln!(p, "<body>")?;

    // Header: which run, when, where its copies are.
    writeln!(p, "<header>")?;
    writeln!(
        p,
        "<h1>citeguard: {flagged} of {} citations need attention</h1>",
        s.citations
    )?;
    writeln!(p, "<dl class=\"run\">")?;
    writeln!(
        p,
        "<dt>run</dt><dd><code>{}</code></dd>",
        esc(&report.run.id)
    )?;
    writeln!(
        p,
        "<dt>checked</dt><dd><time>{}</time> → <time>{}</time></dd>",
        esc(&report.run.started_at),
        esc(&report.run.finished_at)
    )?;
    writeln!(p, "<dt>sources</dt><dd>{}</dd>", s.sources)?;
    if let Some(store) = &report.store {
        writeln!(p, "<dt>store</dt><dd><code>{}</code></dd>", esc(store))?;
    }
    writeln!(p, "</dl>")?;
    writeln!(p, "</header>")?;

    // Counts per verdict; with scripting on, each one filters the table.
    writeln!(p, "<nav class=\"summary\" aria-label=\"verdicts\">")?;
    writeln!(
        p,
        "<button type=\"button\" id=\"all\" class=\"toggle js-only\" aria-pressed=\"true\">all <b>{}</b></button>",
        s.citations
    )?;
    for v in Verdict::WORST_FIRST {
        writeln!(
            p,
            "<button type=\"button\" class=\"toggle v-{v}\" data-verdict=\"{v}\" aria-pressed=\"false\">{v} <b>{}</b></button>",
            s.get(v)
        )?;
    }
    writeln!(p, "</nav>")?;

    let posts: BTreeSet<String> = report
        .citations
        .iter()
        .map(|c| strip_controls(&c.post))
        .collect();
    writeln!(p, "<div class=\"controls js-only\">")?;
    writeln!(
        p,
        "<label>post <select id=\"post\"><option value=\"\">all posts</option>"
    )?;
    for post in &posts {
        let post = esc(post);
        writeln!(p, "<option value=\"{post}\">{post}</option>")?;
    }
    writeln!(p, "</select></label>")?;
    writeln!(
        p,
        "<label>search <input type=\"search\" id=\"search\" placeholder=\"URL, text, post or reason\" autocomplete=\"off\"></label>"
    )?;
    writeln!(p, "<span id=\"shown\" aria-live=\"polite\"></span>")?;
    writeln!(p, "</div>")?;

    // The citations, worst first (the script sorts by `data-rank` alike).
    let mut rows: Vec<(usize, &CitationResult)> = report.citations.iter().enumerate().collect();
    rows.sort_by(|(i, a), (j, b)| {
        b.verdict
            .rank()
            .cmp(&a.verdict.rank())
            .then_with(|| a.post.cmp(&b.post))
            .then_with(|| a.line.cmp(&b.line))
            .then_with(|| i.cmp(j))
    });
    writeln!(p, "<main>")?;
    writeln!(p, "<table id=\"citations\">")?;
    writeln!(p, "<thead><tr>")?;
    writeln!(
        p,
        "<th scope=\"col\"><button type=\"button\" data-sort=\"where\">post:line</button></th>"
    )?;
    writeln!(p, "<th scope=\"col\">cited as</th>")?;
    writeln!(
        p,
        "<th scope=\"col\"><button type=\"button\" data-sort=\"url\">source</button></th>"
    )?;
    writeln!(
        p,
        "<th scope=\"col\" aria-sort=\"ascending\"><button type=\"button\" data-sort=\"verdict\">verdict</button></th>"
    )?;
    writeln!(p, "</tr></thead>")?;
    writeln!(p, "<tbody id=\"rows\">")?;
    for (order, (_, r)) in rows.into_iter().enumerate() {
        write_row(report, r, order, p)?;
    }
    writeln!(p, "</tbody>")?;
    writeln!(p, "</table>")?;
    writeln!(p, "</main>")?;

    if !report.recovered.is_empty() {
        writeln!(p, "<section id=\"recovered\">")?;
        writeln!(p, "<h2>Recovered since last run</h2>")?;
        writeln!(p, "<ul>")?;
        for r in &report.recovered {
            writeln!(
                p,
                "<li><span class=\"post\">{}</span>: {} <span class=\"was\">(was <span class=\"badge v-{}\">{}</span>)</span></li>",
                esc(&r.post),
                link(&r.url, &esc(&r.url)),
                r.was,
                r.was
            )?;
        }
        writeln!(p, "</ul>")?;
        writeln!(p, "</section>")?;
    }

    writeln!(p, "<script>{SCRIPT}</script>")?;
    writeln!(p, "</body>")?;
    writeln!(p, "</html>")
}

fn write_row(
    report: &Report,
    r: &CitationResult,
    order: usize,
    p: &mut String,
) -> std::fmt::Result {
    let post = strip_controls(&r.post);
    let url = r.url.as_deref().map(strip_controls).unwrap_or_default();
    let why = why(r);
    let words = reason_in_words(r);
    let search = [
        post.as_str(),
        strip_controls(&r.text).as_str(),
        url.as_str(),
        r.reason.as_str(),
        why.as_str(),
        words.as_str(),
    ]
    .join(" · ");
    writeln!(
        p,
        "<tr class=\"row v-{v}\" data-verdict=\"{v}\" data-rank=\"{}\" data-post=\"{}\" data-line=\"{}\" data-url=\"{}\" data-order=\"{order}\" data-search=\"{}\">",
        r.verdict.rank(),
        esc(&post),
        r.line,
        esc(&url),
        esc(&search),
        v = r.verdict,
    )?;

    // Where.
    write!(
        p,
        "<td class=\"where\"><span class=\"post\">{}</span>:<span class=\"line\">{}</span>",
        esc(&post),
        r.line
    )?;
    if let Some(date) = &r.post_date {
        write!(p, "<br><small>posted {}</small>", esc(&day(date)))?;
    }
    writeln!(p, "</td>")?;

    // Cited as.
    writeln!(
        p,
        "<td class=\"cited\">{} <small class=\"kind\">{}</small></td>",
        esc(&r.text),
        r.kind.as_str()
    )?;

    // Source.
    write!(p, "<td class=\"source\">")?;
    match &r.url {
        Some(u) => p.push_str(&link(u, &esc(u))),
        None => p.push_str("<span class=\"none\">no link</span>"),
    }
    if r.credentials {
        write!(
            p,
            " <small class=\"credentials\">({})</small>",
            super::redact::CREDENTIALS_REMOVED
        )?;
    }
    if let Some(f) = &r.final_url
        && Some(f) != r.url.as_ref()
    {
        write!(p, "<br><small>→ {}</small>", link(f, &esc(f)))?;
    }
    writeln!(p, "</td>")?;

    // Verdict, the reason in words, and the evidence.
    write!(
        p,
        "<td class=\"verdict\"><span class=\"badge v-{v}\">{v}</span> <code class=\"reason\">{}</code>",
        r.reason,
        v = r.verdict
    )?;
    if let Some(marker) = change_marker(r) {
        write!(p, " {marker}")?;
    }
    write!(p, "<p class=\"why\">{}</p>", esc(&why))?;
    if failing_for(r).is_some() {
        // The short form above names no cause; say it in full too.
        write!(p, "<p class=\"more\">{}</p>", esc(&words))?;
    }
    if r.reason == Reason::QuoteMissing
        && let Some(q) = &r.quote
    {
        write!(p, "<blockquote>{}</blockquote>", esc(q))?;
    }
    if let Some(a) = &r.archived
        && let Some(href) = safe_href(&a.url)
    {
        write!(
            p,
            "<p class=\"archived\">suggested replacement: <a href=\"{}\" rel=\"noopener noreferrer\" target=\"_blank\">archived copy of {}</a></p>",
            esc(&href),
            esc(&day(&a.datetime))
        )?;
    }
    if let Some(o) = &r.offline {
        write!(p, "<p class=\"offline\">offline copy")?;
        if let Some(at) = &o.baseline_at {
            write!(p, " of {}", esc(&day(at)))?;
        }
        write!(p, ": <code>{}</code>", esc(&o.show))?;
        if let Some(page) = o.page.as_deref().filter(|pg| is_relative_path(pg)) {
            write!(
                p,
                " <a href=\"{}\" target=\"_blank\">open the offline copy</a>",
                esc(page)
            )?;
        } else if let (Some(path), Some(store)) = (&o.path, &report.store) {
            write!(
                p,
                " <a href=\"{}\" target=\"_blank\">open file</a>",
                esc(&file_href(store, path))
            )?;
        }
        write!(p, "</p>")?;
    }
    if !r.diff.is_empty() {
        write_diff(r, p)?;
    }
    writeln!(p, "</td>")?;
    writeln!(p, "</tr>")
}

/// A plain relative path (no scheme, no leading slash), safe as an href.
fn is_relative_path(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('/')
        && !s.contains(':')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
}

/// The word-level diff, collapsed: removed words struck through in red,
/// added ones in green.
fn write_diff(r: &CitationResult, p: &mut String) -> std::fmt::Result {
    let count = |op: DiffOp| -> usize {
        r.diff
            .iter()
            .filter(|d| d.op == op)
            .map(|d| d.text.split_whitespace().count())
            .sum()
    };
    write!(
        p,
        "<details class=\"diff\"><summary>what changed: {} words removed, {} added</summary><p>",
        count(DiffOp::Delete),
        count(DiffOp::Insert)
    )?;
    for d in &r.diff {
        let text = esc(&d.text);
        match d.op {
            DiffOp::Equal => p.push_str(&text),
            DiffOp::Delete => write!(p, "<del>{text}</del>")?,
            DiffOp::Insert => write!(p, "<ins>{text}</ins>")?,
        }
    }
    write!(p, "</p></details>")
}

/// The reason in the fewest words, with the store's evidence when there is
/// some: how long a source has failed, how far its text has drifted.
fn why(r: &CitationResult) -> String {
    if let Some(failing) = failing_for(r) {
        return failing;
    }
    match r.reason {
        Reason::ContentDrift => {
            let of = r
                .offline
                .as_ref()
                .and_then(|o| o.baseline_at.as_deref())
                .map(|at| format!("the copy of {}", day(at)))
                .unwrap_or_else(|| "the copy first archived".into());
            match r.similarity {
                Some(sim) => format!("text {:.0}% similar to {of}", sim * 100.0),
                None => format!("text differs from {of}"),
            }
        }
        Reason::QuoteMissing => "quoted passage no longer on the page".into(),
        _ => reason_in_words(r),
    }
}

/// "404 since 2026-11-02, 3 checks": how long a failing source has failed,
/// when the store's history says so.
fn failing_for(r: &CitationResult) -> Option<String> {
    if !matches!(r.verdict, Verdict::Dead | Verdict::Unreachable) {
        return None;
    }
    let h = r.history.as_ref()?;
    let since = h.failing_since.as_deref()?;
    let what = match r.status {
        Some(s) => s.to_string(),
        None => r.reason.as_str().to_string(),
    };
    let n = h.consecutive_failures.max(1);
    Some(format!(
        "{what} since {}, {n} check{}",
        day(since),
        if n == 1 { "" } else { "s" }
    ))
}

/// How the verdict moved since the last run, as a small badge.
fn change_marker(r: &CitationResult) -> Option<String> {
    let since = r
        .history
        .as_ref()
        .and_then(|h| h.failing_since.as_deref())
        .map(day);
    let change = r.change?;
    let words = match change {
        Change::New | Change::Recovered => change.as_str().to_string(),
        Change::Still => match since {
            Some(d) => format!("still broken since {}", esc(&d)),
            None => format!("still {}", r.verdict),
        },
        Change::Unchanged => return None,
    };
    let class = change.as_str();
    Some(format!(
        "<span class=\"change change-{class}\">{words}</span>"
    ))
}

/// A link when the URL is http(s), the escaped text alone otherwise.
fn link(url: &str, label: &str) -> String {
    match safe_href(url) {
        Some(href) => format!(
            "<a href=\"{}\" rel=\"noopener noreferrer\" target=\"_blank\">{label}</a>",
            esc(&href)
        ),
        None => format!("<span class=\"nolink\">{label}</span>"),
    }
}

/// The URL fit for an `href`, only when its scheme is http or https: no
/// `javascript:`, `data:` or `file:` link can come from a post.
fn safe_href(url: &str) -> Option<String> {
    let u: String = strip_controls(url)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let rest = u.split_once("://").map_or("", |(_, rest)| rest);
    (is_http(&u) && !rest.is_empty()).then_some(u)
}

/// `<store>/<path>` as a relative or absolute file reference. Every byte
/// but the plainest is percent-encoded, so a store path can never turn
/// into a scheme (`javascript:`) or carry a query or a fragment.
fn file_href(store: &str, path: &str) -> String {
    let joined = format!(
        "{}/{}",
        strip_controls(store).trim_end_matches(['/', '\\']),
        strip_controls(path).trim_start_matches(['/', '\\'])
    )
    .replace('\\', "/");
    // A Windows drive letter keeps its colon behind an explicit scheme.
    let b = joined.as_bytes();
    let (prefix, rest) =
        if b.len() > 2 && b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'/' {
            (format!("file:///{}:", b[0] as char), &joined[2..])
        } else {
            (String::new(), joined.as_str())
        };
    let mut href = prefix;
    for byte in rest.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            href.push(byte as char);
        } else {
            let _ = write!(href, "%{byte:02X}");
        }
    }
    href
}

/// Escapes text for an element or a double- or single-quoted attribute,
/// after dropping control characters (terminal escapes among them).
fn esc(s: &str) -> String {
    escape::html(&strip_controls(s))
}

/// A CSP source expression pinning one inline block by its SHA-256.
fn csp_hash(block: &str) -> String {
    format!(
        "sha256-{}",
        BASE64.encode(&Sha256::digest(block.as_bytes()))
    )
}

const STYLE: &str = r#"
:root { color-scheme: light dark; --fg: #1d1f21; --bg: #fff; --muted: #666; --line: #ddd;
  --dead: #c62828; --changed: #7b1fa2; --missing: #b26a00; --unreachable: #00838f;
  --skipped: #757575; --ok: #2e7d32; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e6e6; --bg: #17181a; --muted: #a0a0a0;
  --line: #333; --dead: #ef6c6c; --changed: #ce93d8; --missing: #ffb74d; --unreachable: #4dd0e1;
  --skipped: #9e9e9e; --ok: #81c784; } }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 90rem; padding: 1rem 1.5rem 3rem; color: var(--fg);
  background: var(--bg); font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
h1 { font-size: 1.4rem; margin: 0 0 .5rem; }
h2 { font-size: 1.15rem; }
code { font: 13px/1.4 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
.run { display: grid; grid-template-columns: max-content 1fr; gap: .1rem 1rem; margin: 0 0 1rem; color: var(--muted); }
.run dt { font-weight: 600; } .run dd { margin: 0; overflow-wrap: anywhere; }
.summary { display: flex; flex-wrap: wrap; gap: .4rem; margin-bottom: .8rem; }
.toggle { font: inherit; padding: .25rem .7rem; border: 1px solid var(--line); border-radius: 1rem;
  background: transparent; color: inherit; cursor: pointer; }
.toggle b { margin-left: .25rem; }
.toggle[aria-pressed="true"] { background: var(--fg); color: var(--bg); }
html:not(.js) .toggle { cursor: default; }
.js-only { display: none !important; }
html.js .controls.js-only { display: flex !important; } html.js .toggle.js-only { display: inline-block !important; }
.controls { flex-wrap: wrap; gap: 1rem; align-items: center; margin-bottom: .8rem; }
.controls select, .controls input { font: inherit; margin-left: .3rem; max-width: 30rem; }
.controls input { width: 22rem; }
#shown { color: var(--muted); }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; vertical-align: top; padding: .45rem .5rem; border-bottom: 1px solid var(--line); }
th { position: sticky; top: 0; background: var(--bg); }
th button { font: inherit; font-weight: 600; border: 0; padding: 0; background: none; color: inherit; cursor: pointer; }
html:not(.js) th button { cursor: default; }
th[aria-sort="ascending"] button::after { content: " ▲"; } th[aria-sort="descending"] button::after { content: " ▼"; }
html:not(.js) th button::after { content: none !important; }
td { overflow-wrap: anywhere; }
td.where { white-space: nowrap; } td.where .post { white-space: normal; overflow-wrap: anywhere; }
td.cited { max-width: 20rem; } td.source { max-width: 28rem; } td.verdict { min-width: 18rem; }
small, .kind, .more { color: var(--muted); }
.why { margin: .25rem 0 0; } .more, .archived, .offline { margin: .2rem 0 0; font-size: .92em; }
.none, .nolink { color: var(--muted); }
.badge { display: inline-block; padding: 0 .45rem; border-radius: .3rem; color: #fff; font-weight: 600; font-size: .9em; }
.v-dead.badge { background: var(--dead); } .v-changed.badge { background: var(--changed); }
.v-missing.badge { background: var(--missing); } .v-unreachable.badge { background: var(--unreachable); }
.v-skipped.badge { background: var(--skipped); } .v-ok.badge { background: var(--ok); }
.toggle.v-dead { border-color: var(--dead); } .toggle.v-changed { border-color: var(--changed); }
.toggle.v-missing { border-color: var(--missing); } .toggle.v-unreachable { border-color: var(--unreachable); }
.toggle.v-skipped { border-color: var(--skipped); } .toggle.v-ok { border-color: var(--ok); }
tr.v-dead td:first-child { box-shadow: inset 3px 0 var(--dead); }
tr.v-changed td:first-child { box-shadow: inset 3px 0 var(--changed); }
tr.v-missing td:first-child { box-shadow: inset 3px 0 var(--missing); }
tr.v-unreachable td:first-child { box-shadow: inset 3px 0 var(--unreachable); }
.change { display: inline-block; padding: 0 .4rem; border: 1px solid currentColor; border-radius: .3rem; font-size: .85em; }
.change-new { color: var(--dead); } .change-still { color: var(--muted); } .change-recovered { color: var(--ok); }
blockquote { margin: .3rem 0; padding-left: .7rem; border-left: 3px solid var(--line); color: var(--muted); }
details.diff { margin-top: .3rem; } details.diff summary { cursor: pointer; }
details.diff p { margin: .3rem 0; padding: .5rem; border: 1px solid var(--line); border-radius: .3rem; white-space: pre-wrap; }
del { color: var(--dead); text-decoration: line-through; background: rgba(198, 40, 40, .1); }
ins { color: var(--ok); text-decoration: none; background: rgba(46, 125, 50, .12); }
#recovered ul { padding-left: 1.2rem; } #recovered li { overflow-wrap: anywhere; }
"#;

const SCRIPT: &str = r#"
(function () {
  'use strict';
  document.documentElement.classList.add('js');
  var body = document.getElementById('rows');
  var post = document.getElementById('post');
  var search = document.getElementById('search');
  var shown = document.getElementById('shown');
  var all = document.getElementById('all');
  if (!body || !post || !search || !shown || !all) return;
  var rows = Array.prototype.slice.call(body.querySelectorAll('tr.row'));
  var toggles = Array.prototype.slice.call(document.querySelectorAll('button[data-verdict]'));
  var heads = Array.prototype.slice.call(document.querySelectorAll('th button[data-sort]'));
  var hay = new Map();
  rows.forEach(function (tr) { hay.set(tr, (tr.getAttribute('data-search') || '').toLowerCase()); });
  var chosen = new Set();
  var sortKey = 'verdict';
  var sortDir = 1;

  function attr(tr, name) { return tr.getAttribute(name) || ''; }
  function num(tr, name) { return Number(tr.getAttribute(name)) || 0; }
  function text(a, b) { return a < b ? -1 : (a > b ? 1 : 0); }
  function byWhere(a, b) {
    return text(attr(a, 'data-post'), attr(b, 'data-post')) || num(a, 'data-line') - num(b, 'data-line');
  }
  var orders = {
    where: byWhere,
    verdict: function (a, b) { return num(b, 'data-rank') - num(a, 'data-rank') || byWhere(a, b); },
    url: function (a, b) { return text(attr(a, 'data-url'), attr(b, 'data-url')) || byWhere(a, b); }
  };

  function filter() {
    var p = post.value;
    var terms = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    var n = 0;
    rows.forEach(function (tr) {
      var visible = (chosen.size === 0 || chosen.has(attr(tr, 'data-verdict'))) &&
        (p === '' || attr(tr, 'data-post') === p) &&
        terms.every(function (t) { return hay.get(tr).indexOf(t) !== -1; });
      tr.hidden = !visible;
      if (visible) { n += 1; }
    });
    toggles.forEach(function (b) {
      b.setAttribute('aria-pressed', chosen.has(attr(b, 'data-verdict')) ? 'true' : 'false');
    });
    all.setAttribute('aria-pressed', chosen.size === 0 ? 'true' : 'false');
    shown.textContent = n + ' of ' + rows.length + ' citations shown';
  }

  function sort() {
    var cmp = orders[sortKey];
    rows.sort(function (a, b) { return sortDir * cmp(a, b) || num(a, 'data-order') - num(b, 'data-order'); });
    rows.forEach(function (tr) { body.appendChild(tr); });
    heads.forEach(function (b) {
      var th = b.parentNode;
      if (attr(b, 'data-sort') === sortKey) {
        th.setAttribute('aria-sort', sortDir > 0 ? 'ascending' : 'descending');
      } else {
        th.removeAttribute('aria-sort');
      }
    });
  }

  toggles.forEach(function (b) {
    b.addEventListener('click', function () {
      var v = attr(b, 'data-verdict');
      if (chosen.has(v)) { chosen.delete(v); } else { chosen.add(v); }
      filter();
    });
  });
  all.addEventListener('click', function () { chosen.clear(); filter(); });
  post.addEventListener('change', filter);
  search.addEventListener('input', filter);
  heads.forEach(function (b) {
    b.addEventListener('click', function () {
      var key = attr(b, 'data-sort');
      if (key === sortKey) { sortDir = -sortDir; } else { sortKey = key; sortDir = 1; }
      sort();
    });
  });
  filter();
})();
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_and_https_become_links() {
        assert_eq!(
            safe_href("https://example.org/a b").as_deref(),
            Some("https://example.org/ab")
        );
        assert_eq!(
            safe_href("HTTP://example.org/").as_deref(),
            Some("HTTP://example.org/")
        );
        assert_eq!(safe_href("javascript:alert(1)"), None);
        assert_eq!(safe_href(" java\tscript:alert(1)"), None);
        assert_eq!(safe_href("data:text/html,<script>"), None);
        assert_eq!(safe_href("mailto:desk@example.org"), None);
        assert_eq!(safe_href("http:"), None);
    }

    #[test]
    fn a_store_path_never_becomes_a_scheme_or_a_query() {
        assert_eq!(
            file_href("javascript:alert(1)", "objects/ab"),
            "javascript%3Aalert%281%29/objects/ab"
        );
        assert_eq!(
            file_href("/var/store/", "objects/a b?#"),
            "/var/store/objects/a%20b%3F%23"
        );
        assert_eq!(
            file_href("C:\\store", "objects\\ab"),
            "file:///C:/store/objects/ab"
        );
    }

    #[test]
    fn escapes_markup_quotes_and_drops_terminal_escapes() {
        assert_eq!(
            esc("<a href='x'>\"&\u{1b}[31m"),
            "&lt;a href=&#39;x&#39;&gt;&quot;&amp;[31m"
        );
    }

    #[test]
    fn dates_are_shortened_to_the_day() {
        assert_eq!(day("2026-11-02T03:00:00Z"), "2026-11-02");
        assert_eq!(day("yesterday"), "yesterday");
    }
}
