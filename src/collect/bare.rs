//! Bare URLs written out in text (`see https://example.org/report.`):
//! where each starts, with the sentence's punctuation and an unbalanced
//! closing bracket cut off. Shared by every format reader (HTML text,
//! Markdown, plain text), none of which imports another.

use std::sync::LazyLock;

use regex::Regex;

static BARE_URL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"https?://[^\s<>"'`{}|\\^\[\]]+"#).expect("static regex"));

/// Bare URLs in a piece of text: (byte offset, url) with trailing
/// punctuation and unbalanced closing brackets cut off.
pub(crate) fn bare_urls(text: &str) -> Vec<(usize, String)> {
    if !text.contains("http") {
        return Vec::new();
    }
    BARE_URL
        .find_iter(text)
        .filter_map(|m| {
            let mut u = m.as_str();
            loop {
                let t = u.trim_end_matches([
                    '.', ',', ';', ':', '!', '?', '\'', '"', '’', '”', '*', '_',
                ]);
                let t = if t.ends_with(')') && t.matches('(').count() < t.matches(')').count() {
                    &t[..t.len() - 1]
                } else {
                    t
                };
                if t.len() == u.len() {
                    break;
                }
                u = t;
            }
            (u.len() > "https://".len()).then(|| (m.start(), u.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn punctuation_and_unbalanced_brackets_are_not_part_of_the_url() {
        assert_eq!(
            bare_urls("See https://example.org/a_(b). And (http://x.example/c), or https://."),
            vec![
                (4, "https://example.org/a_(b)".to_string()),
                (36, "http://x.example/c".to_string()),
            ]
        );
        assert!(bare_urls("no links here").is_empty());
    }
}
