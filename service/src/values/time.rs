//! Time zones and local times of day: parsed where they come in, from a
//! client, an operator or a file, and again, strictly, where a stored one
//! is read back.

use std::str::FromStr as _;

use chrono::NaiveTime;

use crate::Error;

/// A value read back from the database that no longer parses. Only parsed
/// values are ever written, so this is a fault to report, not a reason to
/// guess a default.
fn corrupt(what: &str, raw: &str, message: String) -> Error {
    Error::Internal(anyhow::anyhow!("the stored {what} '{raw}' {message}"))
}

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

    /// A zone as stored: one chrono-tz no longer knows is an error.
    pub fn stored(raw: &str) -> crate::Result<Self> {
        Self::parse(raw).map_err(|message| corrupt("time zone", raw, message))
    }

    pub fn tz(self) -> chrono_tz::Tz {
        self.0
    }

    /// The canonical spelling, as stored.
    pub fn name(self) -> &'static str {
        self.0.name()
    }
}

impl std::fmt::Display for TimeZone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
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

    /// A time as stored: anything but `HH:MM` is an error.
    pub fn stored(raw: &str) -> crate::Result<Self> {
        Self::parse(raw).map_err(|message| corrupt("time of day", raw, message))
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
    fn a_stored_zone_or_time_that_no_longer_parses_is_an_error_naming_it() {
        let err = TimeZone::stored("Europe/Atlantis").unwrap_err();
        assert!(matches!(err, Error::Internal(_)));
        assert!(format!("{:#}", anyhow::Error::new(err)).contains("'Europe/Atlantis'"));
        assert!(matches!(LocalTime::stored("8am"), Err(Error::Internal(_))));
        assert_eq!(LocalTime::stored("08:00").unwrap().to_string(), "08:00");
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
