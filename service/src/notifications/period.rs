//! When a user's digest is due, in their own time zone.
//!
//! A digest's time is a wall-clock time ("08:00") in the user's IANA zone.
//! Each instant maps to the latest such time at or before it, and that
//! time's local date (or ISO week) names the period. Every instant of a day
//! maps to exactly one period, so a dispatcher that runs every minute, or
//! late, or twice, finds each period once: also on the days the clocks
//! change, when the day has 23 or 25 hours.

use chrono::{DateTime, Datelike as _, Days, NaiveDate, NaiveTime, TimeZone as _, Utc, Weekday};
use chrono_tz::Tz;

use entity::NotificationKind;

/// Which digest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DigestKind {
    Daily,
    Weekly,
}

impl DigestKind {
    pub fn notification_kind(self) -> NotificationKind {
        match self {
            Self::Daily => NotificationKind::DailyDigest,
            Self::Weekly => NotificationKind::WeeklyDigest,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Daily => "daily",
            Self::Weekly => "weekly",
        }
    }
}

/// One due digest time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Occurrence {
    /// The instant the digest became due.
    pub at: DateTime<Utc>,
    /// The user's local date of that instant.
    pub local_date: NaiveDate,
    /// `2026-03-29` for a daily digest, `2026-W13` for a weekly one.
    pub period: String,
}

/// The instant a local date and time of day happen in `tz`. A time the
/// clocks skip (02:30 on a spring-forward night) happens when they land
/// (03:00); a time that happens twice (autumn) counts the first time.
pub fn resolve(tz: Tz, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let mut local = date.and_time(time);
    // Gaps are at most a few hours; step over one a minute at a time.
    for _ in 0..=24 * 60 {
        if let Some(at) = tz.from_local_datetime(&local).earliest() {
            return at.with_timezone(&Utc);
        }
        local += chrono::Duration::minutes(1);
    }
    // Unreachable for any real zone; fall back to reading the time as UTC.
    Utc.from_utc_datetime(&date.and_time(time))
}

/// The latest daily digest time at or before `now`.
pub fn latest_daily(tz: Tz, time: NaiveTime, now: DateTime<Utc>) -> Occurrence {
    let today = now.with_timezone(&tz).date_naive();
    let date = [today, today - Days::new(1)]
        .into_iter()
        .find(|date| resolve(tz, *date, time) <= now)
        .unwrap_or(today - Days::new(1));
    Occurrence {
        at: resolve(tz, date, time),
        local_date: date,
        period: date.format("%Y-%m-%d").to_string(),
    }
}

/// The latest weekly digest time (that weekday, that time) at or before `now`.
pub fn latest_weekly(tz: Tz, day: Weekday, time: NaiveTime, now: DateTime<Utc>) -> Occurrence {
    let today = now.with_timezone(&tz).date_naive();
    let date = (0..=7)
        .map(|back| today - Days::new(back))
        .find(|date| date.weekday() == day && resolve(tz, *date, time) <= now)
        .unwrap_or(today - Days::new(7));
    let week = date.iso_week();
    Occurrence {
        at: resolve(tz, date, time),
        local_date: date,
        period: format!("{}-W{:02}", week.year(), week.week()),
    }
}

/// Local midnight starting `date` in `tz`, as an instant.
pub fn start_of_day(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    resolve(tz, date, NaiveTime::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn eight() -> NaiveTime {
        NaiveTime::from_hms_opt(8, 0, 0).unwrap()
    }

    #[test]
    fn a_warsaw_morning_is_0700_utc_in_winter_and_0600_in_summer() {
        let tz = chrono_tz::Europe::Warsaw;
        let winter = latest_daily(tz, eight(), at("2026-03-28T12:00:00Z"));
        assert_eq!(winter.at, at("2026-03-28T07:00:00Z"));
        let summer = latest_daily(tz, eight(), at("2026-03-29T12:00:00Z"));
        assert_eq!(summer.at, at("2026-03-29T06:00:00Z"));
        assert_eq!(summer.period, "2026-03-29");
    }

    #[test]
    fn before_the_digest_time_the_period_is_yesterday() {
        let tz = chrono_tz::Europe::Warsaw;
        let early = latest_daily(tz, eight(), at("2026-10-25T06:59:00Z"));
        assert_eq!(early.period, "2026-10-24");
        let due = latest_daily(tz, eight(), at("2026-10-25T07:00:00Z"));
        assert_eq!(due.period, "2026-10-25");
    }

    #[test]
    fn a_skipped_local_time_happens_when_the_clocks_land() {
        let tz = chrono_tz::Europe::Warsaw;
        let half_two = NaiveTime::from_hms_opt(2, 30, 0).unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 3, 29).unwrap();
        assert_eq!(resolve(tz, day, half_two), at("2026-03-29T01:00:00Z"));
    }

    #[test]
    fn a_repeated_local_time_counts_the_first_time() {
        let tz = chrono_tz::Europe::Warsaw;
        let half_two = NaiveTime::from_hms_opt(2, 30, 0).unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 10, 25).unwrap();
        assert_eq!(resolve(tz, day, half_two), at("2026-10-25T00:30:00Z"));
    }

    #[test]
    fn a_weekly_period_is_the_iso_week_of_its_day() {
        let tz = chrono_tz::Europe::London;
        let due = latest_weekly(tz, Weekday::Mon, eight(), at("2026-12-02T10:00:00Z"));
        assert_eq!(due.at, at("2026-11-30T08:00:00Z"));
        assert_eq!(due.period, "2026-W49");
    }
}
