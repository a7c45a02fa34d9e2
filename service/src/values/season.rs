//! Season labels, `2023/24`: how a competition names its seasons.

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
