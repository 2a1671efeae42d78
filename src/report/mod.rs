//! Report: a `Report` in, text for people or machines out. One file per
//! format; each is a pure function of the report and the render options.
//! Nothing here does I/O beyond writing to the given writer.

pub mod github;
mod html;
mod json;
mod junit;
mod markdown;
pub mod redact;
mod sarif;
pub mod text;

use crate::base::names::names;
use crate::model::Report;

/// The control-character filter every renderer applies (it lives in
/// `base::escape`; named here too for the callers that render reports).
pub use crate::base::escape::strip_controls;

names! {
    /// The output formats, as `--format` spells them.
    pub enum Format: "report format" {
        Text = "text",
        Json = "json",
        Markdown = "markdown",
        Junit = "junit",
        Sarif = "sarif",
        Html = "html",
    }
}

/// `--format`'s values come from the same table.
impl clap::ValueEnum for Format {
    fn value_variants<'a>() -> &'a [Self] {
        Format::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.as_str()))
    }
}

/// How to render.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// ANSI colour (the binary decides: a terminal, and no `NO_COLOR`).
    pub color: bool,
    /// Verdicts that count as failures (JUnit).
    pub fail_on: Vec<crate::model::Verdict>,
}

/// Renders `report` in `format`, with every credential removed
/// (`redact`).
pub fn render(
    report: &Report,
    format: Format,
    opts: &RenderOptions,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let report = &*redact::redacted(report);
    match format {
        Format::Text => text::render(report, opts, out),
        Format::Json => json::render(report, out),
        Format::Markdown => markdown::render(report, out),
        Format::Junit => junit::render(report, &opts.fail_on, out),
        Format::Sarif => sarif::render(report, out),
        Format::Html => html::render(report, out),
    }
}

/// How the run compares with the last one: flagged citations that are new,
/// flagged ones still broken (listed or, with `--new-only`, left out), and
/// recovered ones. `None` without a store's history.
pub(crate) fn since_last_run(report: &Report) -> Option<(usize, usize, usize)> {
    use crate::model::Change;
    let with_history = report.citations.iter().any(|c| c.change.is_some())
        || !report.recovered.is_empty()
        || !report.still.is_empty();
    if !with_history {
        return None;
    }
    let count = |want: Change| {
        report
            .citations
            .iter()
            .filter(|c| c.change == Some(want) && c.verdict.is_flagged())
            .count()
    };
    Some((
        count(Change::New),
        count(Change::Still) + report.still.len(),
        report.recovered.len(),
    ))
}
