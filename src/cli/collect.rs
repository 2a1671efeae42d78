//! `citeguard collect`: glue between the flags and `citeguard::collect`.
//! Prints each post's citations as the collector hands them over (text,
//! JSON or JSON Lines), input errors on stderr as they happen, and ends with
//! exit code 2 if any input failed.

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::output::Output;
use super::{CollectArgs, CollectFormat, Outcome};
use citeguard::base::escape::{is_bidi_control, visible};
use citeguard::collect::{self, Post};
use citeguard::error::{Error, Result};
use citeguard::model::{Kind, Missing, Skip};

pub fn run(args: CollectArgs) -> Result<Outcome> {
    let mut config = super::load_config(args.input.config.as_ref())?;
    super::apply_input_args(&mut config, &args.input);
    collect::validate(&config.collect)?;
    quiet_input_panics();
    let mut out = Output::open(args.output.as_ref())?;
    let mut printer = Printer::new(args.format);
    let mut failed = 0usize;
    let mut write_error: Option<io::Error> = None;
    collect::collect(
        &args.input.inputs,
        &config.collect,
        &mut |post| {
            if write_error.is_none()
                && let Err(e) = printer.post(&mut out, &post)
            {
                write_error = Some(e);
            }
        },
        &mut |e| {
            failed += 1;
            eprintln!("citeguard: {}", super::one_line(&e));
        },
    );
    let name = out.name().to_path_buf();
    let finished = match write_error {
        // The output file, if any, is left as it was.
        Some(e) => Err(e),
        None => printer.finish(&mut out, failed).and_then(|_| out.commit()),
    };
    match finished {
        // A reader that stops early (`| head`) is not an error.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
        Err(e) => return Err(Error::io(name, e)),
        Ok(()) => {}
    }
    Ok(if failed > 0 {
        Outcome::InputErrors
    } else {
        Outcome::Clean
    })
}

/// A panic while one input is read (a bug) is reported by the collector
/// as that input's one error line, with the panic's message, and the run
/// goes on: the default hook's message (and backtrace, under
/// `RUST_BACKTRACE`, which CI images often set) is kept for every other
/// panic only.
fn quiet_input_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !collect::is_reading_input() {
            default(info);
        }
    }));
}

/// A citation as one line of JSON. serde escapes control characters; the
/// bidi controls it leaves raw are escaped too (`\u202e` in a JSON string
/// is the same character), so no line can reorder a terminal's view of it.
fn json(c: &citeguard::model::Citation) -> io::Result<String> {
    let raw = serde_json::to_string(c).map_err(io::Error::other)?;
    if !raw.chars().any(is_bidi_control) {
        return Ok(raw);
    }
    Ok(raw
        .chars()
        .map(|ch| {
            if is_bidi_control(ch) {
                format!("\\u{:04x}", ch as u32)
            } else {
                ch.to_string()
            }
        })
        .collect())
}

/// Writes posts as they come, in one of the output formats.
struct Printer {
    format: CollectFormat,
    posts: usize,
    citations: usize,
    kinds: BTreeMap<Kind, usize>,
}

const TEXT_WIDTH: usize = 42;

impl Printer {
    fn new(format: CollectFormat) -> Self {
        Printer {
            format,
            posts: 0,
            citations: 0,
            kinds: BTreeMap::new(),
        }
    }

    fn post(&mut self, out: &mut dyn Write, post: &Post) -> io::Result<()> {
        for c in &post.citations {
            *self.kinds.entry(c.kind).or_default() += 1;
        }
        match self.format {
            CollectFormat::Text => self.text_post(out, post)?,
            CollectFormat::Json => {
                for c in &post.citations {
                    out.write_all(if self.citations == 0 {
                        b"{\"citations\": [\n  "
                    } else {
                        b",\n  "
                    })?;
                    out.write_all(json(c)?.as_bytes())?;
                    self.citations += 1;
                }
            }
            CollectFormat::Jsonl => {
                for c in &post.citations {
                    out.write_all(json(c)?.as_bytes())?;
                    out.write_all(b"\n")?;
                }
            }
        }
        self.posts += 1;
        if self.format != CollectFormat::Json {
            self.citations += post.citations.len();
        }
        Ok(())
    }

    fn text_post(&mut self, out: &mut dyn Write, post: &Post) -> io::Result<()> {
        if self.posts > 0 {
            writeln!(out)?;
        }
        let unlinked = post
            .citations
            .iter()
            .filter(|c| c.kind == Kind::Unlinked)
            .count();
        write!(out, "{}", visible(&post.name))?;
        write!(
            out,
            "  ({} citation{}",
            post.citations.len(),
            plural(post.citations.len())
        )?;
        if unlinked > 0 {
            write!(out, ", {unlinked} unlinked")?;
        }
        if let Some(d) = &post.date {
            write!(out, ", posted {}", visible(d))?;
        }
        writeln!(out, ")")?;
        if let Some(b) = &post.base_url
            && b != &post.name
        {
            writeln!(out, "  base {}", visible(b))?;
        }
        for c in &post.citations {
            let text = if c.text.is_empty() {
                "-".to_string()
            } else {
                fit(&c.text, TEXT_WIDTH)
            };
            let pad = TEXT_WIDTH.saturating_sub(text.chars().count());
            write!(
                out,
                "  {:>5}  {:<8}  {}{}  ",
                c.line,
                c.kind.as_str(),
                text,
                " ".repeat(pad)
            )?;
            let raw = visible(c.raw.as_deref().unwrap_or(""));
            match (&c.url, c.missing) {
                _ if c.skip == Some(Skip::Template) => {
                    writeln!(out, "(template, not a URL: {raw})")?
                }
                _ if c.skip == Some(Skip::Unresolved) => writeln!(
                    out,
                    "(unresolved: {raw} has no base; give --base-url or --root-dir)"
                )?,
                (Some(u), _) => writeln!(out, "{}", visible(u))?,
                (None, Some(Missing::EmptyLink)) => {
                    writeln!(out, "!! MISSING: empty link (href=\"{raw}\")")?
                }
                (None, Some(Missing::NoLink)) => writeln!(out, "!! MISSING: no link")?,
                (None, None) => writeln!(out, "(not a URL: {raw})")?,
            }
            if let Some(q) = &c.quote {
                writeln!(out, "  {:>5}  {:<8}  quote: “{}”", "", "", fit(q, 90))?;
            }
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut dyn Write, failed: usize) -> io::Result<()> {
        match self.format {
            CollectFormat::Json => {
                if self.citations == 0 {
                    out.write_all(b"{\"citations\": [")?;
                }
                out.write_all(b"\n]}\n")?;
            }
            CollectFormat::Jsonl => {}
            CollectFormat::Text => {
                if self.posts > 0 {
                    writeln!(out)?;
                }
                let mut parts: Vec<String> = Vec::new();
                for (kind, n) in &self.kinds {
                    let name = match kind {
                        Kind::Link => "link",
                        Kind::Image => "image",
                        Kind::Embed => "embed",
                        Kind::Quote => "quote",
                        Kind::BareUrl => "bare URL",
                        Kind::Unlinked => "unlinked",
                    };
                    let s = if *kind == Kind::Unlinked {
                        ""
                    } else {
                        plural(*n)
                    };
                    parts.push(format!("{n} {name}{s}"));
                }
                write!(
                    out,
                    "{} post{}, {} citation{}",
                    self.posts,
                    plural(self.posts),
                    self.citations,
                    plural(self.citations)
                )?;
                if !parts.is_empty() {
                    write!(out, ": {}", parts.join(", "))?;
                }
                if failed > 0 {
                    write!(
                        out,
                        "; {failed} input{} failed (see stderr)",
                        plural(failed)
                    )?;
                }
                writeln!(out)?;
            }
        }
        Ok(())
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Shortens a text to `max` characters on one line, controls escaped.
fn fit(s: &str, max: usize) -> String {
    let one: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let one = visible(&one).into_owned();
    match one.char_indices().nth(max.saturating_sub(1)) {
        Some((i, _)) if one.chars().count() > max => format!("{}…", &one[..i]),
        _ => one,
    }
}
