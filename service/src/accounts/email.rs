//! Email addresses as accounts use them: trimmed, lower-cased, plausible.

/// An email address that passed the rules below, lower-cased so that one
/// mailbox can register only once whatever its capitalisation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

/// RFC 5321 caps a forward path at 254 characters and a local part at 64.
const MAX_LEN: usize = 254;
const MAX_LOCAL_LEN: usize = 64;

impl Email {
    /// Checks the shape only: deliverability is the mail server's business.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let email = raw.trim().to_lowercase();
        if email.is_empty() {
            return Err("is required".into());
        }
        if email.chars().count() > MAX_LEN {
            return Err(format!("must be at most {MAX_LEN} characters"));
        }
        if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("must not contain spaces or control characters".into());
        }
        let Some((local, domain)) = email.split_once('@') else {
            return Err("must look like name@example.com".into());
        };
        if local.is_empty() || domain.is_empty() || domain.contains('@') {
            return Err("must look like name@example.com".into());
        }
        if local.chars().count() > MAX_LOCAL_LEN {
            return Err(format!(
                "the part before @ must be at most {MAX_LOCAL_LEN} characters"
            ));
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2 || labels.iter().any(|label| label.is_empty()) {
            return Err("the part after @ must be a domain such as example.com".into());
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_address_is_accepted_trimmed_and_lower_cased() {
        let email = Email::parse("  Ada.Lovelace@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "ada.lovelace@example.com");
    }

    #[test]
    fn an_empty_address_is_required() {
        assert_eq!(Email::parse("   ").unwrap_err(), "is required");
    }

    #[test]
    fn an_address_without_at_is_refused() {
        assert!(
            Email::parse("ada.example.com")
                .unwrap_err()
                .contains("name@example.com")
        );
    }

    #[test]
    fn an_address_with_two_ats_is_refused() {
        assert!(Email::parse("ada@lovelace@example.com").is_err());
    }

    #[test]
    fn an_address_without_a_local_part_is_refused() {
        assert!(Email::parse("@example.com").is_err());
    }

    #[test]
    fn a_domain_without_a_dot_is_refused() {
        assert!(
            Email::parse("ada@localhost")
                .unwrap_err()
                .contains("domain")
        );
    }

    #[test]
    fn a_domain_with_an_empty_label_is_refused() {
        assert!(Email::parse("ada@example..com").is_err());
        assert!(Email::parse("ada@example.com.").is_err());
    }

    #[test]
    fn spaces_inside_are_refused() {
        assert!(
            Email::parse("ada lovelace@example.com")
                .unwrap_err()
                .contains("spaces")
        );
    }

    #[test]
    fn a_local_part_longer_than_64_characters_is_refused() {
        let raw = format!("{}@example.com", "a".repeat(65));
        assert!(Email::parse(&raw).unwrap_err().contains("64"));
    }

    #[test]
    fn an_address_longer_than_254_characters_is_refused() {
        let raw = format!("ada@{}.com", "a".repeat(250));
        assert!(Email::parse(&raw).unwrap_err().contains("254"));
    }
}
