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
            let u = trim_url_end(m.as_str());
            (u.len() > "https://".len()).then(|| (m.start(), u.to_string()))
        })
        .collect()
}

/// Cuts a sentence's punctuation and unbalanced closing brackets off the
/// end of a URL found in text, in one pass from the end (brackets counted
/// once: a URL followed by a long run of `)` costs no more than its length).
fn trim_url_end(u: &str) -> &str {
    const TRAILING: &[char] = &['.', ',', ';', ':', '!', '?', '\'', '"', '’', '”', '*', '_'];
    let open = u.matches('(').count();
    let mut close = u.matches(')').count();
    let mut end = u.len();
    while let Some(c) = u[..end].chars().next_back() {
        if TRAILING.contains(&c) {
            end -= c.len_utf8();
        } else if c == ')' && open < close {
            end -= 1;
            close -= 1;
        } else {
            break;
        }
    }
    &u[..end]
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
        assert_eq!(
            bare_urls("(see https://example.org/a_(b)).)"),
            vec![(5, "https://example.org/a_(b)".to_string())]
        );
    }

    #[test]
    fn a_long_run_of_closing_brackets_costs_its_length_not_its_square() {
        let text = format!("see http://x.example/a{}", ")".repeat(200_000));
        let start = std::time::Instant::now();
        assert_eq!(
            bare_urls(&text),
            vec![(4, "http://x.example/a".to_string())]
        );
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
    }
}
