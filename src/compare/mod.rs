//! Compare: is the live copy of a source still what was cited?
//!
//! Pure functions over extracted main text; no I/O, no HTML. Texts are
//! compared after normalisation (NFKC, case, typographic quotes and dashes,
//! punctuation, whitespace), never as raw bytes: ads, timestamps and tokens
//! change on every load and must not count.
//!
//! Similarity is the Jaccard index of word 5-gram shingles. It is exact,
//! linear in the text, and reads well as "41% similar"; SimHash would only
//! pay off as a pre-filter over millions of pages, which one run never has.

use std::collections::HashSet;
use std::hash::{Hash, Hasher};

use unicode_normalization::UnicodeNormalization;

use crate::model::{Reason, Verdict};

/// Words per shingle for page similarity.
const PAGE_SHINGLE: usize = 5;
/// Words per shingle for quote search: short, so a small edit costs little.
const QUOTE_SHINGLE: usize = 3;
/// Share of a quote's shingles that must be on the page for it to be found.
const QUOTE_CONTAINMENT: f64 = 0.8;

/// Normalises text for comparison.
pub fn normalize(text: &str) -> String {
    use unicode_normalization::{IsNormalized, is_nfkc_quick};
    // NFKC leaves a text that its quick check passes as it is (any ASCII
    // text among them), and composing it again would cost most of the
    // time spent here: only the rest is composed. ASCII, the common case,
    // is taken byte by byte.
    if text.is_ascii() {
        normalize_chars(
            text.bytes().map(|b| char::from(b.to_ascii_lowercase())),
            text.len(),
        )
    } else if is_nfkc_quick(text.chars()) == IsNormalized::Yes {
        normalize_chars(text.chars().flat_map(char::to_lowercase), text.len())
    } else {
        normalize_chars(text.nfkc().flat_map(char::to_lowercase), text.len())
    }
}

/// The rest of `normalize`, on the text's characters once composed
/// (NFKC) and lowercased.
fn normalize_chars(chars: impl Iterator<Item = char>, len: usize) -> String {
    let mut out = String::with_capacity(len);
    let mut space = true;
    for c in chars {
        let c = match c {
            '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{2032}' | '`' => '\'',
            '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{00AB}' | '\u{00BB}' => '"',
            c => c,
        };
        if c.is_alphanumeric() || (c == '\'' && !space) {
            out.push(c);
            space = false;
        } else if !space {
            out.push(' ');
            space = true;
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    // An apostrophe only counts inside a word ("don't"), not as a quote mark.
    out.replace("' ", " ").trim_end_matches('\'').to_string()
}

fn shingles(normalized: &str, size: usize) -> HashSet<u64> {
    let words: Vec<&str> = normalized.split(' ').filter(|w| !w.is_empty()).collect();
    let size = size.min(words.len()).max(1);
    words
        .windows(size)
        .map(|w| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            w.hash(&mut h);
            h.finish()
        })
        .collect()
}

/// Similarity of two texts in [0, 1]: 1 for the same words in the same
/// order, whatever their case, punctuation or spacing.
pub fn similarity(a: &str, b: &str) -> f64 {
    let (na, nb) = (normalize(a), normalize(b));
    if na == nb {
        return 1.0;
    }
    let (sa, sb) = (shingles(&na, PAGE_SHINGLE), shingles(&nb, PAGE_SHINGLE));
    if sa.is_empty() || sb.is_empty() {
        return 0.0;
    }
    let inter = sa.intersection(&sb).count() as f64;
    inter / (sa.len() as f64 + sb.len() as f64 - inter)
}

/// Whether `quote` appears in `text`, tolerant of whitespace, typographic
/// quotes, case and small edits (a word changed here and there).
pub fn quote_found(quote: &str, text: &str) -> bool {
    let (nq, nt) = (normalize(quote), normalize(text));
    if nq.is_empty() {
        return true;
    }
    if nt.contains(&nq) {
        return true;
    }
    let sq = shingles(&nq, QUOTE_SHINGLE);
    let st = shingles(&nt, QUOTE_SHINGLE);
    if sq.is_empty() {
        return false;
    }
    sq.intersection(&st).count() as f64 / sq.len() as f64 >= QUOTE_CONTAINMENT
}

/// What a quoted passage was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuoteFinding {
    pub in_baseline: bool,
    pub in_live: bool,
}

/// The outcome of comparing a live copy with the baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub similarity: f64,
    pub quotes: Vec<QuoteFinding>,
    /// `Some` when the comparison changes the verdict of a reachable source.
    pub verdict: Option<(Verdict, Reason)>,
}

impl Comparison {
    /// Whether every quote was found in the live copy (`None` without quotes).
    pub fn quote_found(&self) -> Option<bool> {
        (!self.quotes.is_empty()).then(|| self.quotes.iter().all(|q| q.in_live))
    }
}

/// Compares the main texts of the baseline and the live copy, and the
/// quoted passages, for a source that answered.
///
/// A quote the baseline had and the live copy lacks is `quote-missing`,
/// whatever the overall similarity: that is the change a reader of the post
/// would notice. A quote never found even in the baseline is the post's own
/// misquote, not a change of the source: it is reported in `quotes` and
/// leaves the verdict alone.
pub fn compare(baseline: &str, live: &str, quotes: &[String], threshold: f64) -> Comparison {
    let similarity = similarity(baseline, live);
    let quotes: Vec<QuoteFinding> = quotes
        .iter()
        .map(|q| QuoteFinding {
            in_baseline: quote_found(q, baseline),
            in_live: quote_found(q, live),
        })
        .collect();
    let verdict = if quotes.iter().any(|q| q.in_baseline && !q.in_live) {
        Some((Verdict::Changed, Reason::QuoteMissing))
    } else if similarity < threshold {
        Some((Verdict::Changed, Reason::ContentDrift))
    } else {
        None
    };
    Comparison {
        similarity,
        quotes,
        verdict,
    }
}

/// The broad kind of a content type, for `type-changed`: an article that is
/// now a PDF or an image is no longer what was cited; `text/html` against
/// `application/xhtml+xml` is the same thing.
pub fn content_family(content_type: Option<&str>) -> &'static str {
    match crate::base::web::essence(content_type.unwrap_or("")).as_str() {
        "text/html" | "application/xhtml+xml" => "html",
        "application/pdf" => "pdf",
        t if t.starts_with("image/") => "image",
        t if t.starts_with("video/") => "video",
        t if t.starts_with("audio/") => "audio",
        "text/plain" | "text/markdown" => "text",
        "" => "unknown",
        _ => "other",
    }
}

/// Whether the content type changed kind since the baseline.
pub fn type_changed(baseline: Option<&str>, live: Option<&str>) -> bool {
    let (a, b) = (content_family(baseline), content_family(live));
    a != "unknown" && b != "unknown" && a != b
}

/// Words of unchanged text kept on each side of a change in a diff; the
/// rest of a long unchanged stretch is shown as "…".
const DIFF_CONTEXT_WORDS: usize = 12;

/// A word-level diff of two texts, for a person: deletions (only in the
/// baseline), insertions (only in the live copy), and unchanged stretches
/// shortened to a few words around each change.
pub fn word_diff(baseline: &str, live: &str) -> Vec<crate::model::DiffSpan> {
    use crate::model::{DiffOp, DiffSpan};
    use similar::ChangeTag;
    let diff = similar::TextDiff::configure()
        .timeout(std::time::Duration::from_secs(2))
        .diff_words(baseline, live);
    let mut spans: Vec<DiffSpan> = Vec::new();
    for change in diff.iter_all_changes() {
        let op = match change.tag() {
            ChangeTag::Equal => DiffOp::Equal,
            ChangeTag::Delete => DiffOp::Delete,
            ChangeTag::Insert => DiffOp::Insert,
        };
        match spans.last_mut() {
            Some(last) if last.op == op => last.text.push_str(change.value()),
            _ => spans.push(DiffSpan {
                op,
                text: change.value().to_string(),
            }),
        }
    }
    let n = spans.len();
    for (i, span) in spans.iter_mut().enumerate() {
        if span.op == DiffOp::Equal {
            span.text = shorten(&span.text, i > 0, i + 1 < n);
        }
    }
    spans
}

/// Keeps the words of an unchanged stretch next to the changes it touches.
fn shorten(text: &str, after_change: bool, before_change: bool) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let keep = DIFF_CONTEXT_WORDS;
    let head = if after_change { keep } else { 0 };
    let tail = if before_change { keep } else { 0 };
    if words.len() <= head + tail + 1 {
        return text.to_string();
    }
    let lead = if text.starts_with(char::is_whitespace) {
        " "
    } else {
        ""
    };
    let trail = if text.ends_with(char::is_whitespace) {
        " "
    } else {
        ""
    };
    let mut out = String::from(lead);
    if head > 0 {
        out.push_str(&words[..head].join(" "));
        out.push(' ');
    }
    out.push('…');
    if tail > 0 {
        out.push(' ');
        out.push_str(&words[words.len() - tail..].join(" "));
    }
    out.push_str(trail);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const STORY: &str = "About 25-30 prisoners escaped, with various sketchy details as to their affiliation. \
        The escape could turn up the heat on Rahmon’s administration, which has struggled over the past year \
        to maintain a sense of socio-economic equilibrium in Tajikistan. Many of the fugitives are avowed \
        political enemies of the president.";

    #[test]
    fn case_spacing_quotes_and_ligatures_do_not_count_as_change() {
        let restyled = STORY
            .replace('’', "'")
            .replace("  ", " ")
            .to_uppercase()
            .replace("fi", "ﬁ");
        assert_eq!(similarity(STORY, &restyled), 1.0);
    }

    proptest::proptest! {
        /// The quick check only skips work: any text, composed or not,
        /// normalises as it would through NFKC every time.
        #[test]
        fn normalize_is_nfkc_then_the_same_rules(text in "(?s).{0,80}") {
            let full = normalize_chars(text.nfkc().flat_map(char::to_lowercase), text.len());
            proptest::prop_assert_eq!(normalize(&text), full);
        }

        #[test]
        fn ascii_normalises_as_any_text(text in "[\t\n -~]{0,80}") {
            let full = normalize_chars(text.nfkc().flat_map(char::to_lowercase), text.len());
            proptest::prop_assert_eq!(normalize(&text), full);
        }
    }

    #[test]
    fn a_text_needing_composition_and_one_not_normalise_alike() {
        // A fullwidth S, "a" and a combining diaeresis, the "fi" ligature,
        // "A" and a combining ring change under NFKC; "å" does not.
        assert_eq!(normalize("\u{FF33}a\u{308}\u{FB01} A\u{30A} å"), "säfi å å");
    }

    #[test]
    fn a_rewritten_story_is_below_the_threshold() {
        let other = "The government announced a new dam project on the Vakhsh river, which officials say \
            will end the winter power shortages that have troubled the country for years.";
        let s = similarity(STORY, other);
        assert!(s < 0.1, "{s}");
        let c = compare(STORY, other, &[], 0.8);
        assert_eq!(c.verdict, Some((Verdict::Changed, Reason::ContentDrift)));
    }

    #[test]
    fn a_small_correction_stays_above_the_threshold() {
        let corrected = STORY.replace("25-30", "about 30");
        let s = similarity(STORY, &corrected);
        assert!((0.8..1.0).contains(&s), "{s}");
        assert_eq!(compare(STORY, &corrected, &[], 0.8).verdict, None);
    }

    #[test]
    fn a_quote_is_found_despite_typography_and_a_small_edit() {
        let quote = "“The escape could turn up the heat on Rahmon's administration, which has struggled over the past year to maintain a sense of socio-economic equilibrium.”";
        assert!(quote_found(quote, STORY));
        let edited = STORY.replace("struggled", "strained");
        assert!(quote_found(quote, &edited));
    }

    #[test]
    fn a_quote_removed_from_the_source_is_quote_missing() {
        let quote =
            "Many of the fugitives are avowed political enemies of the president.".to_string();
        let cut = STORY.replace(
            "Many of the fugitives are avowed political enemies of the president.",
            "",
        );
        let c = compare(STORY, &cut, std::slice::from_ref(&quote), 0.5);
        assert_eq!(c.verdict, Some((Verdict::Changed, Reason::QuoteMissing)));
        assert_eq!(
            c.quotes,
            vec![QuoteFinding {
                in_baseline: true,
                in_live: false
            }]
        );
        assert_eq!(c.quote_found(), Some(false));
    }

    #[test]
    fn a_misquote_is_reported_but_is_not_a_change_of_the_source() {
        let quote = "They must all return home, otherwise they will become enemies and traitors."
            .to_string();
        let c = compare(STORY, STORY, std::slice::from_ref(&quote), 0.8);
        assert_eq!(c.verdict, None);
        assert_eq!(
            c.quotes,
            vec![QuoteFinding {
                in_baseline: false,
                in_live: false
            }]
        );
    }

    #[test]
    fn an_article_that_became_a_pdf_changed_type() {
        assert!(type_changed(
            Some("text/html; charset=utf-8"),
            Some("application/pdf")
        ));
        assert!(!type_changed(
            Some("text/html"),
            Some("application/xhtml+xml")
        ));
        assert!(!type_changed(None, Some("image/png")));
    }

    #[test]
    fn a_word_diff_shows_the_change_and_shortens_the_rest() {
        use crate::model::DiffOp;
        let filler = "lorem ipsum dolor sit amet ".repeat(20);
        let before = format!("{filler}the dam will be finished in 2012 {filler}");
        let after = format!("{filler}the dam was never finished {filler}");
        let spans = word_diff(&before, &after);
        let deleted: String = spans
            .iter()
            .filter(|s| s.op == DiffOp::Delete)
            .map(|s| s.text.as_str())
            .collect();
        let inserted: String = spans
            .iter()
            .filter(|s| s.op == DiffOp::Insert)
            .map(|s| s.text.as_str())
            .collect();
        assert!(
            deleted.contains("will") && deleted.contains("2012"),
            "{spans:?}"
        );
        assert!(
            inserted.contains("was") && inserted.contains("never"),
            "{spans:?}"
        );
        let shown: usize = spans.iter().map(|s| s.text.len()).sum();
        assert!(shown < before.len() / 2, "unchanged text was not shortened");
        assert!(spans.first().unwrap().text.starts_with('…'));
    }
}
