//! Post dates: whatever a post says about when it was published, as RFC 3339
//! (when a time and offset are known) or `YYYY-MM-DD`. Later stages use the
//! date to ask web archives for a copy from the post's time.

use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use regex::Regex;

/// Date candidates found in a page, best (lowest) priority wins; the first
/// offer of a priority is kept.
#[derive(Default)]
pub(crate) struct Candidates {
    slots: [Option<String>; 4],
}

impl Candidates {
    pub fn offer(&mut self, priority: usize, raw: &str) {
        let Some(slot) = self.slots.get_mut(priority) else {
            return;
        };
        if slot.is_none() {
            *slot = normalize(raw);
        }
    }

    /// Whether a priority already has its date.
    pub fn has(&self, priority: usize) -> bool {
        self.slots.get(priority).is_some_and(Option::is_some)
    }

    pub fn best(self) -> Option<String> {
        self.slots.into_iter().flatten().next()
    }
}

static MONTH_DAY_YEAR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b")
        .expect("static regex")
});
static DAY_MONTH_YEAR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(\d{1,2})(?:st|nd|rd|th)?\s+(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?,?\s+(\d{4})\b")
        .expect("static regex")
});
static ISO_DATE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(\d{4})-(\d{2})-(\d{2})\b").expect("static regex"));
static JSON_LD_DATE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#""datePublished"\s*:\s*"([^"]+)""#).expect("static regex"));

fn month(name: &str) -> Option<u32> {
    let m = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let n = name.get(..3)?.to_ascii_lowercase();
    m.iter().position(|&x| x == n).map(|i| i as u32 + 1)
}

fn ymd(y: &str, m: u32, d: &str) -> Option<String> {
    let date = NaiveDate::from_ymd_opt(y.parse().ok()?, m, d.parse().ok()?)?;
    Some(date.format("%Y-%m-%d").to_string())
}

/// Normalises a date as a page, feed or front matter writes it.
pub(crate) fn normalize(raw: &str) -> Option<String> {
    let s = raw.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.to_rfc3339());
    }
    if let Ok(d) = DateTime::parse_from_rfc2822(s) {
        return Some(d.to_rfc3339());
    }
    // "2010-08-25 14:03:00 +0000" (Jekyll) and "2010-08-25T14:03:00+0000".
    for f in [
        "%Y-%m-%d %H:%M:%S %z",
        "%Y-%m-%dT%H:%M:%S%z",
        "%Y-%m-%d %H:%M %z",
    ] {
        if let Ok(d) = DateTime::parse_from_str(s, f) {
            return Some(d.to_rfc3339());
        }
    }
    if let Ok(d) = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S") {
        return Some(d.date().format("%Y-%m-%d").to_string());
    }
    in_text(s)
}

/// A date written anywhere in a short text: ISO, "August 25, 2010" or
/// "25 August 2010".
pub(crate) fn in_text(s: &str) -> Option<String> {
    if let Some(c) = ISO_DATE.captures(s) {
        let m: u32 = c[2].parse().ok()?;
        if let Some(d) = ymd(&c[1], m, &c[3]) {
            return Some(d);
        }
    }
    if let Some(c) = MONTH_DAY_YEAR.captures(s) {
        return ymd(&c[3], month(&c[1])?, &c[2]);
    }
    if let Some(c) = DAY_MONTH_YEAR.captures(s) {
        return ymd(&c[3], month(&c[2])?, &c[1]);
    }
    None
}

/// `datePublished` from a JSON-LD script.
pub(crate) fn from_json_ld(json: &str) -> Option<String> {
    JSON_LD_DATE.captures(json).map(|c| c[1].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_the_ways_posts_write_them() {
        assert_eq!(
            normalize("2010-08-25T10:00:00+05:00").as_deref(),
            Some("2010-08-25T10:00:00+05:00")
        );
        assert_eq!(
            normalize("Wed, 25 Aug 2010 10:00:00 +0000").as_deref(),
            Some("2010-08-25T10:00:00+00:00")
        );
        assert_eq!(normalize("August 25, 2010").as_deref(), Some("2010-08-25"));
        assert_eq!(normalize("25 Aug 2010").as_deref(), Some("2010-08-25"));
        assert_eq!(
            normalize("2010-08-25 14:03:00").as_deref(),
            Some("2010-08-25")
        );
        assert_eq!(
            normalize("Posted by: Christian | August 25, 2010").as_deref(),
            Some("2010-08-25")
        );
        assert_eq!(normalize("yesterday"), None);
    }
}
