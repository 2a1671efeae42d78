//! `srcset` read as browsers read it, and the one candidate an offline copy
//! keeps of it.
//!
//! It owns splitting a candidate list (commas inside URLs survive) and the
//! choice of the candidate closest to 1x. It never resolves the URLs it
//! returns and never looks at anything but the attribute's text.
// TODO(merge): srcset — the collector's shared srcset parser
// (src/collect/html/) replaces `srcset_candidates` when the lead folds them.

/// The candidate of a `srcset` an offline copy keeps: the one closest to
/// 1x (the first on a tie); if the set only gives widths, its first. An
/// `<img>`'s `src` counts as the 1x candidate when the set has density
/// descriptors, as it does in browsers.
pub(super) fn best_candidate<'a>(srcset: &'a str, src: Option<&'a str>) -> Option<&'a str> {
    let mut candidates = srcset_candidates(srcset);
    let has_density = candidates.iter().any(|(_, d)| d.is_some());
    if let Some(src) = src.map(str::trim).filter(|s| !s.is_empty())
        && has_density
    {
        candidates.push((src, Some(1.0)));
    }
    let closest = candidates
        .iter()
        .filter_map(|&(url, d)| d.map(|d| (url, (d - 1.0).abs())))
        .fold(None, |best: Option<(&str, f64)>, (url, off)| match best {
            Some((_, b)) if b <= off => best,
            _ => Some((url, off)),
        });
    closest
        .map(|(url, _)| url)
        .or_else(|| candidates.first().map(|&(url, _)| url))
}

/// The candidates of a `srcset` with their density (`None` for a width
/// descriptor), split as the HTML standard does: a URL runs to white space
/// (so commas inside URLs survive), descriptors run to a comma outside
/// parentheses.
fn srcset_candidates(set: &str) -> Vec<(&str, Option<f64>)> {
    let b = set.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b',') {
            i += 1;
        }
        if i >= b.len() {
            return out;
        }
        let start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut url = &set[start..i];
        let mut descriptors = "";
        if url.ends_with(',') {
            url = url.trim_end_matches(',');
        } else {
            let from = i;
            let mut depth = 0usize;
            while i < b.len() {
                match b[i] {
                    b'(' => depth += 1,
                    b')' => depth = depth.saturating_sub(1),
                    b',' if depth == 0 => break,
                    _ => {}
                }
                i += 1;
            }
            descriptors = &set[from..i];
        }
        if url.is_empty() {
            continue;
        }
        let mut density = None;
        let mut width = false;
        for d in descriptors.split_ascii_whitespace() {
            if let Some(x) = d.strip_suffix(['x', 'X']) {
                density = x.parse::<f64>().ok().filter(|d| d.is_finite() && *d > 0.0);
            } else if d.ends_with(['w', 'W']) {
                width = true;
            }
        }
        if density.is_none() && !width {
            density = Some(1.0);
        }
        out.push((url, density));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn srcset_pick_is_the_candidate_closest_to_1x() {
        assert_eq!(
            best_candidate("a.png 2x, b.png 1x, c.png 3x", None),
            Some("b.png")
        );
        assert_eq!(
            best_candidate("a.png 2x, c.png 3x", Some("src.png")),
            Some("src.png")
        );
        assert_eq!(
            best_candidate("a.png 0.5x, b.png 1.5x", None),
            Some("a.png")
        );
        assert_eq!(
            best_candidate("a.png 300w, b.png 600w", Some("s.png")),
            Some("a.png")
        );
        assert_eq!(best_candidate("b.png", None), Some("b.png"));
        // Commas inside URLs survive.
        assert_eq!(
            best_candidate(
                "https://i.example/w_300,h_200/x.jpg 2x, https://i.example/w_150,h_100/x.jpg",
                None
            ),
            Some("https://i.example/w_150,h_100/x.jpg")
        );
        assert_eq!(best_candidate("  ,  ", None), None);
    }
}
