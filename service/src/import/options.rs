//! What the operator tells the importer, parsed once at the boundary so the
//! importer never sees a bad code, season label or time zone.

use entity::CompetitionKind;

use crate::values::{SeasonLabel, TimeZone};

/// How to file the matches of one source file.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// The competition the file belongs to; created when new.
    pub competition_code: CompetitionCode,
    /// The season the file holds; created when new.
    pub season: SeasonLabel,
    /// The zone the file's local kick-off times are in.
    pub time_zone: TimeZone,
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
        time_zone: TimeZone,
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
    fn a_blank_competition_name_is_refused() {
        assert!(CompetitionName::parse("  ").is_err());
        assert_eq!(
            CompetitionName::parse(" Premier League ").unwrap().as_str(),
            "Premier League"
        );
    }
}
