//! Time stamps as the contract writes them: RFC 3339 in UTC with a `Z` and
//! whole seconds (`2026-11-24T03:00:00Z`), and run ids that sort by time.
//! Every stage that writes or reads a time stamp goes through here, so the
//! index, the WARC files and the reports agree on one spelling.

use chrono::{DateTime, SecondsFormat, Utc};

/// `2026-11-24T03:00:00Z`: RFC 3339, UTC, whole seconds (which every WARC
/// reader accepts, and which sorts as text).
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Reads an RFC 3339 time stamp (any offset) as UTC.
pub fn parse_rfc3339(s: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
    DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc))
}

/// A run id that sorts by time and is unique enough for one store:
/// `20261124T030000Z-1a2b`.
pub fn run_id(t: DateTime<Utc>) -> String {
    format!(
        "{}-{:04x}",
        t.format("%Y%m%dT%H%M%SZ"),
        rand::random::<u16>()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_stamps_round_trip_in_utc() {
        let t = parse_rfc3339("2026-11-24T05:00:00+02:00").unwrap();
        assert_eq!(rfc3339(t), "2026-11-24T03:00:00Z");
        assert_eq!(parse_rfc3339(&rfc3339(t)).unwrap(), t);
        assert!(parse_rfc3339("2026-11-24").is_err());
    }

    #[test]
    fn run_ids_start_with_the_time() {
        let t = parse_rfc3339("2026-11-24T03:00:00Z").unwrap();
        let id = run_id(t);
        assert!(id.starts_with("20261124T030000Z-"), "{id}");
        assert_eq!(id.len(), "20261124T030000Z-".len() + 4);
    }
}
