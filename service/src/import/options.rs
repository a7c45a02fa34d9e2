//! What the operator tells the importer, parsed once at the boundary so the
//! importer never sees a bad code, season label or time zone.

use chrono_tz::Tz;
use entity::CompetitionKind;

/// How to file the matches of one source file.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// The competition the file belongs to; created when new.
    pub competition_code: CompetitionCode,
    /// The season the file holds; created when new.
    pub season: SeasonLabel,
    /// The zone the file's local kick-off times are in.
    pub time_zone: LocalTimeZone,
    /// The competition's name; taken from the file when not given.
    pub competition_name: Option<CompetitionName>,
    /// League or cup; inferred from the rounds when not given.
    pub kind: Option<CompetitionKind>,
}

impl ImportOptions {
    /// Options with the name and kind left to the file.
    pub fn new(
        competition_code: CompetitionCode,
        season: SeasonLabel,
        time_zone: LocalTimeZone,
    ) -> Self {
        Self {
            competition_code,
            season,
            time_zone,
            competition_name: None,
            kind: None,
        }
    }
}

/// A competition code such as `PL` or `CL`: letters and digits, stored in
/// upper case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompetitionCode(String);

impl CompetitionCode {
    /// The column holds 16 characters.
    const MAX_LEN: usize = 16;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let code = raw.trim();
        if code.is_empty()
            || code.len() > Self::MAX_LEN
            || !code.chars().all(|c| c.is_ascii_alphanumeric())
        {
            return Err(format!(
                "'{raw}' is not a competition code: use 1 to {} letters or digits, such as PL",
                Self::MAX_LEN
            ));
        }
        Ok(Self(code.to_ascii_uppercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for CompetitionCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A season label `YYYY/YY` whose second year follows the first, such as
/// `2023/24`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeasonLabel(String);

impl SeasonLabel {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let label = raw.trim();
        let bad = || format!("'{raw}' is not a season label: use YYYY/YY, such as 2023/24");
        let (first, second) = label.split_once('/').ok_or_else(bad)?;
        let all_digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if first.len() != 4 || second.len() != 2 || !all_digits(first) || !all_digits(second) {
            return Err(bad());
        }
        let first: u32 = first.parse().map_err(|_| bad())?;
        let second: u32 = second.parse().map_err(|_| bad())?;
        if (first + 1) % 100 != second {
            return Err(format!(
                "'{raw}' is not a season label: the second year must follow the first, such as {first}/{:02}",
                (first + 1) % 100
            ));
        }
        Ok(Self(label.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for SeasonLabel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An IANA time zone such as `Europe/London`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalTimeZone(Tz);

impl LocalTimeZone {
    pub fn parse(raw: &str) -> Result<Self, String> {
        raw.trim().parse::<Tz>().map(Self).map_err(|_| {
            format!("'{raw}' is not an IANA time zone: use a name such as Europe/London")
        })
    }

    pub fn tz(&self) -> Tz {
        self.0
    }
}

impl std::fmt::Display for LocalTimeZone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.name())
    }
}

/// A competition's display name: not blank.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompetitionName(String);

impl CompetitionName {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let name = raw.trim();
        if name.is_empty() {
            return Err("a competition name cannot be blank".to_owned());
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_competition_code_is_letters_and_digits_in_upper_case() {
        assert_eq!(CompetitionCode::parse(" pl ").unwrap().as_str(), "PL");
        assert_eq!(CompetitionCode::parse("BL1").unwrap().as_str(), "BL1");
    }

    #[test]
    fn a_competition_code_with_other_characters_or_too_long_is_refused() {
        for bad in ["", "P L", "PL/1", "ABCDEFGHIJKLMNOPQ"] {
            let err = CompetitionCode::parse(bad).unwrap_err();
            assert!(err.contains("not a competition code"), "{bad}: {err}");
        }
    }

    #[test]
    fn a_season_label_is_yyyy_slash_yy_with_consecutive_years() {
        assert_eq!(SeasonLabel::parse("2023/24").unwrap().as_str(), "2023/24");
        assert_eq!(SeasonLabel::parse("1999/00").unwrap().as_str(), "1999/00");
    }

    #[test]
    fn a_season_label_in_another_shape_is_refused_with_an_example() {
        for bad in [
            "2023",
            "2023-24",
            "23/24",
            "2023/2024",
            "abcd/ef",
            "2023/24/25",
        ] {
            let err = SeasonLabel::parse(bad).unwrap_err();
            assert!(err.contains("use YYYY/YY, such as 2023/24"), "{bad}: {err}");
        }
    }

    #[test]
    fn a_season_label_whose_years_do_not_follow_is_refused() {
        let err = SeasonLabel::parse("2023/25").unwrap_err();
        assert!(err.contains("such as 2023/24"), "{err}");
    }

    #[test]
    fn a_time_zone_is_an_iana_name() {
        assert_eq!(
            LocalTimeZone::parse("Europe/London").unwrap().tz(),
            Tz::Europe__London
        );
    }

    #[test]
    fn an_unknown_time_zone_is_refused_naming_it() {
        let err = LocalTimeZone::parse("Mars/Olympus").unwrap_err();
        assert_eq!(
            err,
            "'Mars/Olympus' is not an IANA time zone: use a name such as Europe/London"
        );
    }

    #[test]
    fn a_blank_competition_name_is_refused() {
        assert!(CompetitionName::parse("  ").is_err());
        assert_eq!(
            CompetitionName::parse(" Premier League ").unwrap().as_str(),
            "Premier League"
        );
    }
}
