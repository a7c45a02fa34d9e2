//! Quiet hours: a local window (which may cross midnight) in which live
//! notifications are held back for the next digest.

use chrono::{DateTime, NaiveTime, Utc};
use chrono_tz::Tz;

/// True when `now` falls in `[start, end)` in the user's zone. A window
/// whose start is after its end runs over midnight (22:00 to 07:00).
pub fn contains(tz: Tz, start: NaiveTime, end: NaiveTime, now: DateTime<Utc>) -> bool {
    let local = now.with_timezone(&tz).time();
    if start <= end {
        start <= local && local < end
    } else {
        local >= start || local < end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> NaiveTime {
        NaiveTime::parse_from_str(s, "%H:%M").unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_window_over_midnight_holds_late_evening_and_early_morning() {
        let tz = chrono_tz::Europe::Warsaw;
        let (start, end) = (t("22:00"), t("07:00"));
        assert!(contains(tz, start, end, at("2026-11-29T22:30:00Z")));
        assert!(contains(tz, start, end, at("2026-11-29T05:59:00Z")));
        assert!(!contains(tz, start, end, at("2026-11-29T06:00:00Z")));
        assert!(!contains(tz, start, end, at("2026-11-29T20:59:00Z")));
    }

    #[test]
    fn a_daytime_window_holds_only_inside_it() {
        let tz = chrono_tz::UTC;
        assert!(contains(
            tz,
            t("09:00"),
            t("17:00"),
            at("2026-11-29T09:00:00Z")
        ));
        assert!(!contains(
            tz,
            t("09:00"),
            t("17:00"),
            at("2026-11-29T17:00:00Z")
        ));
    }
}
