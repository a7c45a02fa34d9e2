//! The rules that turn openfootball's text into our values: team names,
//! rounds, season suffixes and local kick-off times. Pure functions,
//! so each rule has its own unit test.

use chrono::{
    DateTime, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc,
};
use chrono_tz::Tz;

use crate::values::LocalTime;

/// A team name split into the club's name and the country code that
/// international files append, as in `Real Madrid CF (ESP)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TeamName {
    pub name: String,
    pub area: Option<String>,
}

impl TeamName {
    /// `None` when nothing is left of the name once trimmed.
    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        let split = raw
            .strip_suffix(')')
            .and_then(|rest| rest.rsplit_once(" ("))
            .filter(|(name, code)| {
                !name.trim().is_empty()
                    && (2..=3).contains(&code.len())
                    && code.chars().all(|c| c.is_ascii_uppercase())
            });
        let (name, area) = match split {
            Some((name, code)) => (name.trim(), Some(code.to_owned())),
            None => (raw, None),
        };
        (!name.is_empty()).then(|| Self {
            name: name.to_owned(),
            area,
        })
    }
}

/// openfootball's `round`: an optional stage before a comma, then the round.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Round {
    pub stage: Option<String>,
    pub round: String,
    /// Set for `Matchday N` rounds, the mark of a league-style round.
    pub matchday: Option<i32>,
}

impl Round {
    /// `None` when the text is blank.
    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        let (stage, round) = match raw.split_once(',') {
            Some((stage, round)) if !stage.trim().is_empty() && !round.trim().is_empty() => {
                (Some(stage.trim().to_owned()), round.trim())
            }
            _ => (None, raw),
        };
        if round.is_empty() {
            return None;
        }
        let matchday = round
            .strip_prefix("Matchday ")
            .and_then(|n| n.trim().parse::<i32>().ok())
            .filter(|n| *n > 0);
        Some(Self {
            stage,
            round: round.to_owned(),
            matchday,
        })
    }
}

/// The competition's name without a trailing season, so one competition
/// keeps one name across seasons: `English Premier League 2023/24` ->
/// `English Premier League`. Recognises `2023/24`, `2023-24`, `2023/2024`
/// and `2024`.
pub fn strip_season_suffix(name: &str) -> &str {
    let name = name.trim();
    match name.rsplit_once(' ') {
        Some((rest, last)) if looks_like_season(last) && !rest.trim().is_empty() => rest.trim(),
        _ => name,
    }
}

/// The season a name ends with, if it ends with one.
pub fn season_suffix(name: &str) -> Option<&str> {
    let name = name.trim();
    let (_, last) = name.rsplit_once(' ')?;
    looks_like_season(last).then_some(last)
}

fn looks_like_season(token: &str) -> bool {
    let digits = |s: &str, n: usize| s.len() == n && s.chars().all(|c| c.is_ascii_digit());
    if digits(token, 4) {
        return true;
    }
    match token.split_once(['/', '-']) {
        Some((first, second)) => digits(first, 4) && (digits(second, 2) || digits(second, 4)),
        None => false,
    }
}

/// A kick-off time of day as openfootball writes it: `20:00`, or with an
/// explicit offset, `20:00 UTC+3`, which then wins over the file's zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeOfDay {
    pub time: NaiveTime,
    pub offset: Option<FixedOffset>,
}

impl TimeOfDay {
    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        let (clock, zone) = match raw.split_once(' ') {
            Some((clock, zone)) => (clock, Some(zone.trim())),
            None => (raw, None),
        };
        let time = LocalTime::parse(clock).ok()?.time();
        let offset = match zone {
            None => None,
            Some(zone) => Some(parse_utc_offset(zone)?),
        };
        Some(Self { time, offset })
    }
}

/// `UTC+3`, `UTC-4`, `UTC+5:30`.
fn parse_utc_offset(zone: &str) -> Option<FixedOffset> {
    let rest = zone.strip_prefix("UTC")?;
    let (sign, rest) = match rest.chars().next()? {
        '+' => (1, &rest[1..]),
        '-' => (-1, &rest[1..]),
        _ => return None,
    };
    let (hours, minutes) = rest.split_once(':').unwrap_or((rest, "0"));
    let hours: i32 = hours.parse().ok()?;
    let minutes: i32 = minutes.parse().ok()?;
    if !(0..=14).contains(&hours) || !(0..60).contains(&minutes) {
        return None;
    }
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}

/// A local kick-off turned into an instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kickoff {
    /// The local time names exactly one instant.
    Exact(DateTime<Utc>),
    /// The clocks went back, so the local time happened twice; we take the
    /// earlier instant, since a fixture is announced in the time in force
    /// before the change.
    Ambiguous {
        earlier: DateTime<Utc>,
        later: DateTime<Utc>,
    },
    /// The clocks went forward over this local time: it never happened.
    Nonexistent,
}

impl Kickoff {
    /// Converts a local date and time (midnight when the time is unknown)
    /// in `zone`, or at the time's own offset when it carries one.
    pub fn from_local(zone: Tz, date: NaiveDate, time: Option<TimeOfDay>) -> Self {
        let clock = time.map_or(NaiveTime::MIN, |t| t.time);
        let local = NaiveDateTime::new(date, clock);
        match time.and_then(|t| t.offset) {
            Some(offset) => Self::from_result(offset.from_local_datetime(&local)),
            None => Self::from_result(zone.from_local_datetime(&local)),
        }
    }

    fn from_result<Z: TimeZone>(result: LocalResult<DateTime<Z>>) -> Self {
        match result {
            LocalResult::Single(at) => Self::Exact(at.with_timezone(&Utc)),
            LocalResult::Ambiguous(a, b) => {
                let (a, b) = (a.with_timezone(&Utc), b.with_timezone(&Utc));
                Self::Ambiguous {
                    earlier: a.min(b),
                    later: a.max(b),
                }
            }
            LocalResult::None => Self::Nonexistent,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_country_suffix_becomes_the_area_and_leaves_the_name() {
        assert_eq!(
            TeamName::parse("Club Atlético de Madrid (ESP)"),
            Some(TeamName {
                name: "Club Atlético de Madrid".into(),
                area: Some("ESP".into())
            })
        );
    }

    #[test]
    fn a_name_without_a_country_suffix_is_kept_whole() {
        assert_eq!(
            TeamName::parse(" Burnley FC "),
            Some(TeamName {
                name: "Burnley FC".into(),
                area: None
            })
        );
        // Only two or three capitals in brackets are a country code.
        assert_eq!(
            TeamName::parse("Club (Reserves)").unwrap().name,
            "Club (Reserves)"
        );
        assert_eq!(TeamName::parse("(ESP)").unwrap().name, "(ESP)");
    }

    #[test]
    fn a_blank_team_name_is_no_name() {
        assert_eq!(TeamName::parse("   "), None);
    }

    #[test]
    fn a_plain_matchday_round_has_a_matchday_and_no_stage() {
        assert_eq!(
            Round::parse("Matchday 12"),
            Some(Round {
                stage: None,
                round: "Matchday 12".into(),
                matchday: Some(12)
            })
        );
    }

    #[test]
    fn a_stage_before_a_comma_is_split_off() {
        assert_eq!(
            Round::parse("League, Matchday 1"),
            Some(Round {
                stage: Some("League".into()),
                round: "Matchday 1".into(),
                matchday: Some(1)
            })
        );
    }

    #[test]
    fn a_knock_out_round_has_no_matchday() {
        assert_eq!(
            Round::parse("Finals, Quarterfinals"),
            Some(Round {
                stage: Some("Finals".into()),
                round: "Quarterfinals".into(),
                matchday: None
            })
        );
        assert_eq!(Round::parse("Final").unwrap().matchday, None);
        assert_eq!(Round::parse("Matchday X").unwrap().matchday, None);
    }

    #[test]
    fn a_blank_round_is_no_round() {
        assert_eq!(Round::parse("  "), None);
    }

    #[test]
    fn the_season_suffix_is_stripped_from_a_competition_name() {
        assert_eq!(
            strip_season_suffix("English Premier League 2023/24"),
            "English Premier League"
        );
        assert_eq!(
            strip_season_suffix("UEFA Champions League 2024-25"),
            "UEFA Champions League"
        );
        assert_eq!(strip_season_suffix("Allsvenskan 2024"), "Allsvenskan");
        assert_eq!(strip_season_suffix("Serie A"), "Serie A");
        // A name that is only a year is not stripped to nothing.
        assert_eq!(strip_season_suffix("2024"), "2024");
        assert_eq!(
            season_suffix("English Premier League 2023/24"),
            Some("2023/24")
        );
        assert_eq!(season_suffix("Serie A"), None);
    }

    #[test]
    fn a_time_of_day_is_hours_and_minutes_with_an_optional_utc_offset() {
        let t = TimeOfDay::parse("20:00").unwrap();
        assert_eq!(t.time, NaiveTime::from_hms_opt(20, 0, 0).unwrap());
        assert_eq!(t.offset, None);
        let t = TimeOfDay::parse("18:30 UTC+3").unwrap();
        assert_eq!(t.offset, FixedOffset::east_opt(3 * 3600));
        let t = TimeOfDay::parse("21:00 UTC-4:30").unwrap();
        assert_eq!(t.offset, FixedOffset::west_opt(4 * 3600 + 1800));
        for bad in ["25:00", "20.00", "8pm", "20:00 CET", "20:00 UTC+15"] {
            assert_eq!(TimeOfDay::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_summer_kickoff_in_london_is_an_hour_ahead_of_utc() {
        let kickoff = Kickoff::from_local(
            Tz::Europe__London,
            date("2023-08-11"),
            TimeOfDay::parse("20:00"),
        );
        assert_eq!(kickoff, Kickoff::Exact(utc("2023-08-11T19:00:00Z")));
    }

    #[test]
    fn a_winter_kickoff_in_berlin_is_an_hour_ahead_of_utc() {
        let kickoff = Kickoff::from_local(
            Tz::Europe__Berlin,
            date("2025-01-21"),
            TimeOfDay::parse("21:00"),
        );
        assert_eq!(kickoff, Kickoff::Exact(utc("2025-01-21T20:00:00Z")));
    }

    #[test]
    fn a_local_time_in_the_spring_gap_does_not_exist() {
        // London's clocks jumped from 01:00 to 02:00 on 2024-03-31.
        let kickoff = Kickoff::from_local(
            Tz::Europe__London,
            date("2024-03-31"),
            TimeOfDay::parse("01:30"),
        );
        assert_eq!(kickoff, Kickoff::Nonexistent);
    }

    #[test]
    fn a_local_time_in_the_autumn_overlap_takes_the_earlier_instant() {
        // London's clocks went back from 02:00 BST to 01:00 GMT on 2023-10-29,
        // so 01:30 happened at 00:30 UTC and again at 01:30 UTC.
        let kickoff = Kickoff::from_local(
            Tz::Europe__London,
            date("2023-10-29"),
            TimeOfDay::parse("01:30"),
        );
        assert_eq!(
            kickoff,
            Kickoff::Ambiguous {
                earlier: utc("2023-10-29T00:30:00Z"),
                later: utc("2023-10-29T01:30:00Z"),
            }
        );
    }

    #[test]
    fn an_unknown_time_is_local_midnight() {
        let kickoff = Kickoff::from_local(Tz::Europe__London, date("2026-03-21"), None);
        assert_eq!(kickoff, Kickoff::Exact(utc("2026-03-21T00:00:00Z")));
        let kickoff = Kickoff::from_local(Tz::Europe__London, date("2025-08-15"), None);
        assert_eq!(kickoff, Kickoff::Exact(utc("2025-08-14T23:00:00Z")));
    }

    #[test]
    fn an_explicit_utc_offset_wins_over_the_zone() {
        let kickoff = Kickoff::from_local(
            Tz::Europe__London,
            date("2022-11-20"),
            TimeOfDay::parse("19:00 UTC+3"),
        );
        assert_eq!(kickoff, Kickoff::Exact(utc("2022-11-20T16:00:00Z")));
    }
}
