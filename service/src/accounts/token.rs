//! Bearer tokens: 32 random bytes shown to the client once; the database
//! keeps only their SHA-256, so a leaked table grants nothing.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};

use crate::{Error, Result};

/// Marks our tokens so that secret scanners and people can recognise one.
pub const PREFIX: &str = "itg_";

/// A freshly generated token: the text for the client and the hash to store.
pub struct NewToken {
    pub token: String,
    pub hash: String,
}

impl std::fmt::Debug for NewToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewToken")
            .field("hash", &self.hash)
            .finish()
    }
}

/// 256 bits from the operating system's CSPRNG.
pub fn generate() -> Result<NewToken> {
    let token = format!("{PREFIX}{}", random_base64url(32)?);
    let hash = hash(&token);
    Ok(NewToken { token, hash })
}

/// The stored form of a token: lower-case hex SHA-256. Tokens carry 256
/// bits of entropy, so a fast unsalted hash is enough: there is nothing
/// to guess.
pub fn hash(token: &str) -> String {
    digest(token).iter().map(|b| format!("{b:02x}")).collect()
}

/// The token's SHA-256 as bytes: what a process keeps in memory to know a
/// token again without keeping the token.
pub fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// `bytes` random bytes, base64url without padding.
pub fn random_base64url(bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf)
        .map_err(|e| Error::Internal(anyhow::anyhow!("the OS random source failed: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_prefixed_base64url_of_32_bytes() {
        let new = generate().unwrap();
        let body = new.token.strip_prefix(PREFIX).unwrap();
        assert_eq!(URL_SAFE_NO_PAD.decode(body).unwrap().len(), 32);
    }

    #[test]
    fn two_tokens_differ() {
        assert_ne!(generate().unwrap().token, generate().unwrap().token);
    }

    #[test]
    fn the_stored_hash_is_the_sha256_of_the_token_and_not_the_token() {
        let new = generate().unwrap();
        assert_eq!(new.hash, hash(&new.token));
        assert_eq!(new.hash.len(), 64);
        assert!(!new.hash.contains(&new.token));
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn debug_output_hides_the_token() {
        let new = generate().unwrap();
        assert!(!format!("{new:?}").contains(&new.token));
    }
}
