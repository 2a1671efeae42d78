//! The `srcset` attribute of `<img>` and `<source>`, parsed as the HTML
//! standard says ("parse a srcset attribute", WHATWG HTML §4.8.4.3.10).
//! The collector (one citation per image) and the offline copy (which
//! candidate to inline) read it through here, so both see the same URLs.
//!
//! The hard case is the comma. It separates candidates, but it is also a
//! legal character inside a URL, and image CDNs use it all the time:
//! `https://cdn.example/w_400,h_300/a.jpg 400w, https://cdn.example/w_800,h_600/a.jpg 800w`
//! holds two candidates, not four. Splitting on `,` invents URLs such as
//! `h_300/a.jpg 400w` that `check` would then report dead. The standard's
//! answer, followed here: a URL runs to the next white space, whatever
//! commas it holds (only commas at its very end are separators); after it,
//! the descriptors run to the next comma outside parentheses. So
//! `a.jpg,b.jpg` with no space is one URL, as browsers read it.
//!
//! Pure string work: no URL is resolved or fetched.

/// What a candidate says about itself.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Descriptor {
    /// No descriptor: the same as `1x`.
    None,
    /// `400w`: the image's intrinsic width in pixels.
    Width(u32),
    /// `2x`: the pixel density it is meant for.
    Density(f64),
}

/// One image candidate of a `srcset`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate<'a> {
    /// The URL as written (not resolved), never empty.
    pub url: &'a str,
    pub descriptor: Descriptor,
}

impl Candidate<'_> {
    /// The pixel density it is meant for: `Some(1.0)` when it gives none,
    /// `None` when it gives a width instead.
    pub fn density(&self) -> Option<f64> {
        match self.descriptor {
            Descriptor::None => Some(1.0),
            Descriptor::Density(d) => Some(d),
            Descriptor::Width(_) => None,
        }
    }
}

/// HTML's ASCII white space.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0C' | b'\r')
}

/// The candidates of a `srcset`, in order. A candidate whose descriptors
/// are invalid (`2q`, `0w`, two widths, `h` without `w`) is dropped, as
/// the standard says.
pub fn parse(set: &str) -> Vec<Candidate<'_>> {
    let b = set.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        // Splitting loop: white space and commas before a candidate.
        while i < b.len() && (is_space(b[i]) || b[i] == b',') {
            i += 1;
        }
        if i >= b.len() {
            return out;
        }
        let start = i;
        while i < b.len() && !is_space(b[i]) {
            i += 1;
        }
        let mut url = &set[start..i];
        let mut descriptors: Vec<&str> = Vec::new();
        if url.ends_with(',') {
            // "a.jpg," — the comma ends the candidate; it has no descriptors.
            url = url.trim_end_matches(',');
        } else {
            i = tokenize_descriptors(set, i, &mut descriptors);
        }
        if url.is_empty() {
            continue;
        }
        if let Some(descriptor) = parse_descriptors(&descriptors) {
            out.push(Candidate { url, descriptor });
        }
    }
}

/// The standard's descriptor tokenizer, from byte `i` (just past the URL):
/// splits at white space, keeps parenthesised runs whole, and stops past
/// the comma that ends the candidate. Returns where it stopped.
fn tokenize_descriptors<'a>(set: &'a str, mut i: usize, out: &mut Vec<&'a str>) -> usize {
    let b = set.as_bytes();
    while i < b.len() && is_space(b[i]) {
        i += 1;
    }
    let mut start = i;
    let mut in_parens = false;
    while i < b.len() {
        let c = b[i];
        if in_parens {
            if c == b')' {
                in_parens = false;
            }
        } else if is_space(c) {
            if i > start {
                out.push(&set[start..i]);
            }
            start = i + 1;
        } else if c == b',' {
            if i > start {
                out.push(&set[start..i]);
            }
            return i + 1;
        } else if c == b'(' {
            in_parens = true;
        }
        i += 1;
    }
    if i > start {
        out.push(&set[start..i]);
    }
    i
}

/// The standard's descriptor parser: at most one of a width and a
/// density, each valid; `None` when the candidate must be dropped.
fn parse_descriptors(descriptors: &[&str]) -> Option<Descriptor> {
    let mut width: Option<u32> = None;
    let mut density: Option<f64> = None;
    let mut height = false;
    for d in descriptors {
        let (cut, _) = d.char_indices().next_back()?;
        let (value, unit) = d.split_at(cut);
        match unit {
            "w" if width.is_none() && density.is_none() => {
                width = Some(parse_positive_integer(value)?);
            }
            "x" if width.is_none() && density.is_none() && !height => {
                density = Some(parse_density(value)?);
            }
            "h" if !height && density.is_none() => {
                parse_positive_integer(value)?;
                height = true;
            }
            _ => return None,
        }
    }
    if height && width.is_none() {
        return None;
    }
    Some(match (width, density) {
        (Some(w), _) => Descriptor::Width(w),
        (_, Some(d)) => Descriptor::Density(d),
        _ => Descriptor::None,
    })
}

/// A valid non-negative integer above zero: ASCII digits only.
fn parse_positive_integer(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // A width too large for u32 is still a width: saturate.
    let n = s
        .parse::<u64>()
        .unwrap_or(u64::MAX)
        .min(u64::from(u32::MAX)) as u32;
    (n > 0).then_some(n)
}

/// A valid floating-point number that is not negative: digits, one dot,
/// an exponent — no sign, no `inf`, no `nan`.
fn parse_density(s: &str) -> Option<f64> {
    let ok = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'))
        && s.as_bytes()[0] != b'-'
        && s.as_bytes()[0] != b'+';
    let d = s.parse::<f64>().ok().filter(|_| ok)?;
    (d.is_finite() && d >= 0.0).then_some(d)
}

/// The URL of the largest candidate: the widest when the set gives
/// widths, else the densest (a candidate without a descriptor is `1x`);
/// the first of equals. `None` when the set holds no valid candidate.
pub fn largest(set: &str) -> Option<&str> {
    let candidates = parse(set);
    let widest = candidates
        .iter()
        .filter_map(|c| match c.descriptor {
            Descriptor::Width(w) => Some((c.url, w)),
            _ => None,
        })
        .fold(None, |best: Option<(&str, u32)>, (url, w)| match best {
            Some((_, b)) if b >= w => best,
            _ => Some((url, w)),
        });
    if let Some((url, _)) = widest {
        return Some(url);
    }
    candidates
        .iter()
        .filter_map(|c| c.density().map(|d| (c.url, d)))
        .fold(None, |best: Option<(&str, f64)>, (url, d)| match best {
            Some((_, b)) if b >= d => best,
            _ => Some((url, d)),
        })
        .map(|(url, _)| url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(set: &str) -> Vec<&str> {
        parse(set).iter().map(|c| c.url).collect()
    }

    #[test]
    fn commas_inside_urls_are_part_of_the_url() {
        let set = "https://cdn.example/w_400,h_300/a.jpg 400w, https://cdn.example/w_800,h_600/a.jpg 800w";
        assert_eq!(
            parse(set),
            vec![
                Candidate {
                    url: "https://cdn.example/w_400,h_300/a.jpg",
                    descriptor: Descriptor::Width(400)
                },
                Candidate {
                    url: "https://cdn.example/w_800,h_600/a.jpg",
                    descriptor: Descriptor::Width(800)
                },
            ]
        );
        // No space after the comma: one URL, as a browser reads it.
        assert_eq!(urls("a.jpg,b.jpg"), vec!["a.jpg,b.jpg"]);
        // A comma at the very end of a URL separates candidates.
        assert_eq!(urls("a.jpg,  b.jpg 2x"), vec!["a.jpg", "b.jpg"]);
        assert_eq!(urls("a.jpg,,, b.jpg"), vec!["a.jpg", "b.jpg"]);
    }

    #[test]
    fn descriptors_are_parsed_and_invalid_candidates_dropped() {
        let d =
            |set: &str| -> Vec<Descriptor> { parse(set).iter().map(|c| c.descriptor).collect() };
        assert_eq!(
            d("a 1.5x, b 300w, c"),
            vec![
                Descriptor::Density(1.5),
                Descriptor::Width(300),
                Descriptor::None
            ]
        );
        assert_eq!(d("a 300w 200h"), vec![Descriptor::Width(300)]);
        for bad in [
            "a 2q",
            "a 0w",
            "a -1x",
            "a 300w 2x",
            "a 200h",
            "a 1x 2x",
            "a +2x",
        ] {
            assert!(parse(bad).is_empty(), "{bad}");
        }
        // Parentheses keep a (future) descriptor's commas together; it is
        // not a valid descriptor today, so its candidate is dropped.
        assert_eq!(urls("a 2x (c, d), b"), vec!["b"]);
        // A multi-byte last character is no unit, and no panic.
        assert_eq!(urls("a 2é, b"), vec!["b"]);
        assert_eq!(urls(""), Vec::<&str>::new());
        assert_eq!(urls("  ,  , "), Vec::<&str>::new());
    }

    #[test]
    fn the_largest_candidate_is_the_widest_or_the_densest() {
        assert_eq!(
            largest("a.jpg 300w, b.jpg 1024w, c.jpg 768w"),
            Some("b.jpg")
        );
        assert_eq!(largest("a.jpg, b.jpg 2x, c.jpg 1.5x"), Some("b.jpg"));
        assert_eq!(largest("only.jpg"), Some("only.jpg"));
        assert_eq!(
            largest(
                "https://i.example/w_300,h_200/x.jpg 300w, https://i.example/w_600,h_400/x.jpg 600w"
            ),
            Some("https://i.example/w_600,h_400/x.jpg")
        );
        assert_eq!(largest("a.jpg 2q"), None);
        assert_eq!(largest(""), None);
    }
}
