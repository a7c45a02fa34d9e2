//! A user's notification times, read from their stored preferences once
//! into typed values: the zone, the digest times and the quiet hours. Only
//! values that parsed are ever written, so one that no longer parses (a
//! zone chrono-tz dropped, a row edited by hand) is an error naming it,
//! never a silent default.

use chrono::{DateTime, NaiveTime, Utc};
use chrono_tz::Tz;
use entity::{notification_preference as prefs, user};

use super::quiet_hours;
use crate::Result;
use crate::values::{LocalTime, TimeZone};

/// When a user's digests are due and when they are not to be disturbed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    pub tz: Tz,
    pub daily_time: NaiveTime,
    pub weekly_day: chrono::Weekday,
    pub weekly_time: NaiveTime,
    /// `(start, end)`; `None` when quiet hours are off.
    pub quiet_hours: Option<(NaiveTime, NaiveTime)>,
}

impl Schedule {
    pub fn read(user: &user::Model, preferences: &prefs::Model) -> Result<Self> {
        let time = |raw: &str| LocalTime::stored(raw).map(LocalTime::time);
        let quiet_hours = match (&preferences.quiet_start, &preferences.quiet_end) {
            (Some(start), Some(end)) => Some((time(start)?, time(end)?)),
            _ => None,
        };
        Ok(Self {
            tz: TimeZone::stored(&user.time_zone)?.tz(),
            daily_time: time(&preferences.daily_time)?,
            weekly_day: weekday(preferences.weekly_day),
            weekly_time: time(&preferences.weekly_time)?,
            quiet_hours,
        })
    }

    /// As `read`, for a batch over many users: a user whose row does not
    /// read is logged as an error and passed over, so that one broken row
    /// costs that user their `what`, not everyone theirs.
    pub fn read_or_skip(
        user: &user::Model,
        preferences: &prefs::Model,
        what: &str,
    ) -> Option<Self> {
        match Self::read(user, preferences) {
            Ok(schedule) => Some(schedule),
            Err(err) => {
                let error = format!("{:#}", anyhow::Error::new(err));
                tracing::error!(user_id = user.id, %error, "no {what} for this user: their stored preferences do not read");
                None
            }
        }
    }

    /// True when `now` falls in the user's quiet hours.
    pub fn is_quiet(&self, now: DateTime<Utc>) -> bool {
        self.quiet_hours
            .is_some_and(|(start, end)| quiet_hours::contains(self.tz, start, end, now))
    }
}

fn weekday(day: entity::Weekday) -> chrono::Weekday {
    use entity::Weekday as W;
    match day {
        W::Monday => chrono::Weekday::Mon,
        W::Tuesday => chrono::Weekday::Tue,
        W::Wednesday => chrono::Weekday::Wed,
        W::Thursday => chrono::Weekday::Thu,
        W::Friday => chrono::Weekday::Fri,
        W::Saturday => chrono::Weekday::Sat,
        W::Sunday => chrono::Weekday::Sun,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(time_zone: &str) -> user::Model {
        user::Model {
            id: 1,
            email: "ada@example.com".into(),
            display_name: "Ada".into(),
            password_hash: String::new(),
            role: entity::UserRole::User,
            time_zone: time_zone.into(),
            created_at: Utc::now(),
        }
    }

    fn preferences() -> prefs::Model {
        crate::accounts::preferences::defaults(1)
    }

    fn hm(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    #[test]
    fn stored_preferences_read_into_typed_times() {
        let mut stored = preferences();
        stored.daily_time = "07:30".into();
        stored.quiet_start = Some("22:00".into());
        stored.quiet_end = Some("07:00".into());
        let schedule = Schedule::read(&user("Europe/Warsaw"), &stored).unwrap();
        assert_eq!(schedule.tz, chrono_tz::Europe::Warsaw);
        assert_eq!(schedule.daily_time, hm(7, 30));
        assert_eq!(schedule.weekly_time, hm(8, 0));
        assert_eq!(schedule.weekly_day, chrono::Weekday::Mon);
        assert_eq!(schedule.quiet_hours, Some((hm(22, 0), hm(7, 0))));
    }

    #[test]
    fn a_stored_zone_or_time_that_does_not_parse_is_an_error_not_a_default() {
        assert!(Schedule::read(&user("Mars/Olympus"), &preferences()).is_err());
        let mut stored = preferences();
        stored.daily_time = "8am".into();
        assert!(Schedule::read(&user("UTC"), &stored).is_err());
        let mut stored = preferences();
        stored.quiet_start = Some("22:00".into());
        stored.quiet_end = Some("7".into());
        assert!(Schedule::read(&user("UTC"), &stored).is_err());
    }
}
