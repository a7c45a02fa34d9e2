//! Time zones and local times of day, as people enter them.

use std::str::FromStr as _;

use chrono::NaiveTime;

/// An IANA time zone name that chrono-tz knows, such as `Europe/London`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeZone(chrono_tz::Tz);

impl TimeZone {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let name = raw.trim();
        if name.is_empty() {
            return Err("is required, e.g. Europe/London".into());
        }
        chrono_tz::Tz::from_str(name)
            .map(Self)
            .map_err(|_| format!("'{name}' is not an IANA time zone name such as Europe/London"))
    }

    pub fn tz(self) -> chrono_tz::Tz {
        self.0
    }

    /// The canonical spelling, as stored.
    pub fn name(self) -> &'static str {
        self.0.name()
    }
}

/// A wall-clock time of day in the user's zone, written `HH:MM` (24-hour).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalTime(NaiveTime);

impl LocalTime {
    /// Exactly two digits, a colon, two digits: what the column stores and
    /// what every client can produce. `7:30`, `07:30:00` and `24:00` are refused.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let shape = "must be a time of day written HH:MM, e.g. 07:30";
        let bytes = raw.as_bytes();
        if bytes.len() != 5
            || bytes[2] != b':'
            || ![0, 1, 3, 4].iter().all(|&i| bytes[i].is_ascii_digit())
        {
            return Err(shape.into());
        }
        let hour: u32 = raw[0..2].parse().map_err(|_| shape.to_owned())?;
        let minute: u32 = raw[3..5].parse().map_err(|_| shape.to_owned())?;
        if hour > 23 {
            return Err("the hour must be 00 to 23".into());
        }
        if minute > 59 {
            return Err("the minute must be 00 to 59".into());
        }
        NaiveTime::from_hms_opt(hour, minute, 0)
            .map(Self)
            .ok_or_else(|| shape.to_owned())
    }

    pub fn time(self) -> NaiveTime {
        self.0
    }
}

impl std::fmt::Display for LocalTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.format("%H:%M"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_iana_zone_is_accepted() {
        assert_eq!(
            TimeZone::parse("Europe/London").unwrap().name(),
            "Europe/London"
        );
        assert_eq!(TimeZone::parse(" UTC ").unwrap().name(), "UTC");
    }

    #[test]
    fn a_zone_that_does_not_exist_is_refused_by_name() {
        let err = TimeZone::parse("Mars/Olympus").unwrap_err();
        assert!(
            err.contains("'Mars/Olympus' is not an IANA time zone"),
            "{err}"
        );
    }

    #[test]
    fn an_empty_zone_is_required() {
        assert!(TimeZone::parse("").unwrap_err().contains("required"));
    }

    #[test]
    fn a_utc_offset_is_not_a_zone() {
        assert!(TimeZone::parse("+02:00").is_err());
    }

    #[test]
    fn hh_mm_is_accepted_and_printed_back_the_same() {
        assert_eq!(LocalTime::parse("07:30").unwrap().to_string(), "07:30");
        assert_eq!(LocalTime::parse("00:00").unwrap().to_string(), "00:00");
        assert_eq!(LocalTime::parse("23:59").unwrap().to_string(), "23:59");
    }

    #[test]
    fn a_time_without_leading_zero_is_refused() {
        assert!(LocalTime::parse("7:30").unwrap_err().contains("HH:MM"));
    }

    #[test]
    fn a_time_with_seconds_is_refused() {
        assert!(LocalTime::parse("07:30:00").is_err());
    }

    #[test]
    fn hour_24_and_beyond_is_refused() {
        assert_eq!(
            LocalTime::parse("24:00").unwrap_err(),
            "the hour must be 00 to 23"
        );
    }

    #[test]
    fn minute_60_is_refused() {
        assert_eq!(
            LocalTime::parse("12:60").unwrap_err(),
            "the minute must be 00 to 59"
        );
    }

    #[test]
    fn words_are_refused() {
        assert!(LocalTime::parse("noon!").is_err());
        assert!(LocalTime::parse("").is_err());
        assert!(LocalTime::parse("+1:30").is_err());
    }
}
