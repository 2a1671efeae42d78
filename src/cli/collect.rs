//! `citeguard collect`: glue between the flags and `citeguard::collect`.
//! Prints each post's citations as the collector hands them over (text,
//! JSON or JSON Lines), input errors on stderr as they happen, and ends with
//! exit code 2 if any input failed.

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::{CollectArgs, CollectFormat, Outcome};
use citeguard::collect::{self, Post};
use citeguard::error::{Error, Result};
use citeguard::model::{Kind, Missing};

pub fn run(args: CollectArgs) -> Result<Outcome> {
    let mut config = super::load_config(args.input.config.as_ref())?;
    super::apply_input_args(&mut config, &args.input);
    collect::validate(&config.collect)?;
    let mut out = super::open_output(args.output.as_ref())?;
    let mut printer = Printer::new(args.format);
    let mut failed = 0usize;
    let mut write_error: Option<io::Error> = None;
    collect::collect(
        &args.input.inputs,
        &config.collect,
        &mut |post| {
            for note in &post.notes {
                eprintln!("citeguard: {}: {note}", post.name);
            }
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
    let finished = match write_error {
        Some(e) => Err(e),
        None => printer.finish(&mut out, failed).and_then(|_| out.flush()),
    };
    match finished {
        // A reader that stops early (`| head`) is not an error.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
        Err(e) => {
            let name = args
                .output
                .clone()
                .unwrap_or_else(|| std::path::PathBuf::from("<stdout>"));
            return Err(Error::io(name, e));
        }
        Ok(()) => {}
    }
    Ok(if failed > 0 {
        Outcome::InputErrors
    } else {
        Outcome::Clean
    })
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
                    serde_json::to_writer(&mut *out, c).map_err(io::Error::other)?;
                    self.citations += 1;
                }
            }
            CollectFormat::Jsonl => {
                for c in &post.citations {
                    serde_json::to_writer(&mut *out, c).map_err(io::Error::other)?;
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
        write!(out, "{}", post.name)?;
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
            write!(out, ", posted {d}")?;
        }
        writeln!(out, ")")?;
        if let Some(b) = &post.base_url
            && b != &post.name
        {
            writeln!(out, "  base {b}")?;
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
            match (&c.url, c.missing) {
                (Some(u), _) => writeln!(out, "{u}")?,
                (None, Some(Missing::EmptyLink)) => writeln!(
                    out,
                    "!! MISSING: empty link (href=\"{}\")",
                    c.raw.as_deref().unwrap_or("")
                )?,
                (None, Some(Missing::NoLink)) => writeln!(out, "!! MISSING: no link")?,
                (None, None) => writeln!(out, "(not a URL: {})", c.raw.as_deref().unwrap_or(""))?,
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

/// Shortens a text to `max` characters on one line.
fn fit(s: &str, max: usize) -> String {
    let one: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    match one.char_indices().nth(max.saturating_sub(1)) {
        Some((i, _)) if one.chars().count() > max => format!("{}…", &one[..i]),
        _ => one,
    }
}
