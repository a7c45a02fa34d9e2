//! Slugs: the URL-friendly keys of teams (`arsenal-fc`), also used to tell
//! two spellings of one name apart from two names.

/// A URL-friendly key: ASCII lower case, diacritics folded, words joined by
/// `-`. Empty when the text has no letters or digits at all.
pub fn slug(text: &str) -> String {
    let ascii = deunicode::deunicode(text);
    let mut slug = String::with_capacity(ascii.len());
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    while slug.ends_with('-') {
        slug.pop();
    }
    slug
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slug_is_lower_case_ascii_with_diacritics_folded() {
        assert_eq!(slug("Club Atlético de Madrid"), "club-atletico-de-madrid");
        assert_eq!(slug("FC Bayern München"), "fc-bayern-munchen");
        assert_eq!(slug("ŠK Slovan Bratislava"), "sk-slovan-bratislava");
        assert_eq!(slug("Brighton & Hove Albion FC"), "brighton-hove-albion-fc");
        assert_eq!(slug("1. FC Köln"), "1-fc-koln");
        assert_eq!(slug("  --Odd   spacing-- "), "odd-spacing");
    }

    #[test]
    fn a_slug_of_no_letters_or_digits_is_empty() {
        assert_eq!(slug("!!! ---"), "");
    }
}
