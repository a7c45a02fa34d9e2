//! The name other people see.

const MAX_CHARS: usize = 64;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let name = raw.trim();
        if name.is_empty() {
            return Err("is required".into());
        }
        if name.chars().count() > MAX_CHARS {
            return Err(format!("must be at most {MAX_CHARS} characters"));
        }
        if name.chars().any(char::is_control) {
            return Err("must not contain control characters".into());
        }
        Ok(Self(name.to_owned()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_trimmed() {
        assert_eq!(DisplayName::parse("  Ada ").unwrap().into_inner(), "Ada");
    }

    #[test]
    fn a_blank_name_is_required() {
        assert_eq!(DisplayName::parse(" \t").unwrap_err(), "is required");
    }

    #[test]
    fn a_name_longer_than_64_characters_is_refused() {
        assert!(DisplayName::parse(&"é".repeat(64)).is_ok());
        assert!(
            DisplayName::parse(&"é".repeat(65))
                .unwrap_err()
                .contains("64")
        );
    }

    #[test]
    fn control_characters_are_refused() {
        assert!(DisplayName::parse("Ada\u{0}Lovelace").is_err());
        assert!(DisplayName::parse("Ada\nLovelace").is_err());
    }
}
