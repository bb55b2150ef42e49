//! Times as the cache and the UI hold them: RFC 3339 in UTC with exactly
//! three fractional digits, so that comparing the strings compares the
//! times. Graph sends anything from zero to seven fractional digits.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

const CANONICAL: &[time::format_description::BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// The canonical form of a Graph timestamp; text that is not a timestamp
/// is kept as it is (it then sorts somewhere, but never crashes a sync).
pub fn normalize(text: &str) -> String {
    match OffsetDateTime::parse(text, &Rfc3339) {
        Ok(at) => format(at),
        Err(_) => text.to_owned(),
    }
}

/// `at`, in the canonical form.
pub fn at(at: std::time::SystemTime) -> String {
    format(OffsetDateTime::from(at))
}

fn format(at: OffsetDateTime) -> String {
    at.to_offset(UtcOffset::UTC)
        .format(CANONICAL)
        .expect("a UTC time formats")
}

/// `at` moved by `millis`, in the canonical form (unparseable text is
/// returned as it is).
pub fn shift(at: &str, millis: i64) -> String {
    match OffsetDateTime::parse(at, &Rfc3339) {
        Ok(t) => format(t + time::Duration::milliseconds(millis)),
        Err(_) => at.to_owned(),
    }
}

/// Milliseconds between two canonical times (`b - a`), if both parse.
pub fn millis_between(a: &str, b: &str) -> Option<i64> {
    let a = OffsetDateTime::parse(a, &Rfc3339).ok()?;
    let b = OffsetDateTime::parse(b, &Rfc3339).ok()?;
    Some((b - a).whole_milliseconds() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_timestamps_become_comparable_text() {
        assert_eq!(
            normalize("2026-11-27T11:26:29Z"),
            "2026-11-27T11:26:29.000Z"
        );
        assert_eq!(
            normalize("2026-11-27T11:26:29.1234567Z"),
            "2026-11-27T11:26:29.123Z"
        );
        assert_eq!(
            normalize("2026-11-27T12:26:29.5+01:00"),
            "2026-11-27T11:26:29.500Z"
        );
        assert_eq!(normalize("not a time"), "not a time");
        assert!(normalize("2026-11-27T11:26:29.9Z") > normalize("2026-11-27T11:26:29.10Z"));
        assert_eq!(
            shift("2026-11-27T11:26:29.000Z", -1),
            "2026-11-27T11:26:28.999Z"
        );
        assert_eq!(
            millis_between("2026-11-27T11:26:29.000Z", "2026-11-27T11:26:30.250Z"),
            Some(1250)
        );
    }
}
