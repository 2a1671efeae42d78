//! `srcset` read as browsers read it, and the one candidate an offline copy
//! keeps of it.
//!
//! It owns the choice of the candidate closest to 1x; the list itself is
//! split by `base::srcset`, the one parser the collector uses too. It never resolves the URLs it
//! returns and never looks at anything but the attribute's text.

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
/// descriptor), as `base::srcset` parses them (commas inside URLs survive).
fn srcset_candidates(set: &str) -> Vec<(&str, Option<f64>)> {
    crate::base::srcset::parse(set)
        .iter()
        .map(|c| (c.url, c.density()))
        .collect()
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
