//! Passwords: the length rule, and argon2id hashing off the async runtime.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use tokio::sync::{Semaphore, SemaphorePermit};

use crate::{Error, Result};

pub const MIN_CHARS: usize = 8;
pub const MAX_CHARS: usize = 128;

/// A password that meets the length rule. It never prints.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// Length is counted in characters, not bytes, so that a passphrase in
    /// any script gets the same allowance. The upper bound keeps hashing
    /// cost bounded.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let chars = raw.chars().count();
        if chars < MIN_CHARS {
            return Err(format!("must be at least {MIN_CHARS} characters"));
        }
        if chars > MAX_CHARS {
            return Err(format!("must be at most {MAX_CHARS} characters"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

/// Argon2id with the OWASP-recommended minimum (19 MiB, 2 passes, 1 lane).
fn hasher() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::default())
}

/// Hashes into a PHC string (`$argon2id$v=19$m=…`) that carries its own salt
/// and parameters. Runs on the blocking pool: a hash takes tens of
/// milliseconds of CPU, too long for an async worker thread.
pub async fn hash(password: &Password) -> Result<String> {
    let _permit = hashing_slot().await?;
    let password = password.clone();
    tokio::task::spawn_blocking(move || hash_blocking(password.expose()))
        .await
        .map_err(|e| Error::Internal(e.into()))?
}

fn hash_blocking(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| Error::Internal(anyhow::anyhow!("salt: {e}")))?;
    let salt =
        SaltString::encode_b64(&salt).map_err(|e| Error::Internal(anyhow::anyhow!("salt: {e}")))?;
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| Error::Internal(anyhow::anyhow!("hashing a password: {e}")))
}

/// True when `password` matches the stored hash. `stored: None` (no such
/// account) still spends the time of one verification, so that response
/// times do not tell which emails have accounts.
pub async fn verify(password: &str, stored: Option<&str>) -> Result<bool> {
    // No account can have a longer password, and hashing megabytes of
    // attacker-chosen text is work worth refusing.
    if password.chars().count() > MAX_CHARS {
        return Ok(false);
    }
    let _permit = hashing_slot().await?;
    let password = password.to_owned();
    let stored = stored.map(str::to_owned);
    tokio::task::spawn_blocking(move || {
        let account_exists = stored.is_some();
        let stored = match &stored {
            Some(stored) => stored.as_str(),
            None => dummy_hash()?,
        };
        let parsed = PasswordHash::new(stored).map_err(|e| {
            Error::Internal(anyhow::anyhow!("a stored password hash is corrupt: {e}"))
        })?;
        let matches = hasher()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok(matches && account_exists)
    })
    .await
    .map_err(|e| Error::Internal(e.into()))?
}

/// One hash per core at a time; the rest wait their turn, so that a burst
/// of sign-ins queues instead of starving every other request of CPU.
async fn hashing_slot() -> Result<SemaphorePermit<'static>> {
    static SLOTS: OnceLock<Semaphore> = OnceLock::new();
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    SLOTS
        .get_or_init(|| Semaphore::new(cores))
        .acquire()
        .await
        .map_err(|e| Error::Internal(e.into()))
}

fn dummy_hash() -> Result<&'static str> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    if let Some(hash) = DUMMY.get() {
        return Ok(hash);
    }
    let hash = hash_blocking("not a password anyone has; only burns time")?;
    Ok(DUMMY.get_or_init(|| hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seven_characters_are_too_few() {
        assert_eq!(
            Password::parse("1234567").unwrap_err(),
            "must be at least 8 characters"
        );
    }

    #[test]
    fn eight_characters_are_enough() {
        assert!(Password::parse("12345678").is_ok());
    }

    #[test]
    fn length_is_counted_in_characters_not_bytes() {
        // Eight characters, sixteen bytes.
        assert!(Password::parse("ßßßßßßßß").is_ok());
        assert!(Password::parse("ßßßßßßß").is_err());
    }

    #[test]
    fn more_than_128_characters_are_too_many() {
        assert!(Password::parse(&"x".repeat(128)).is_ok());
        assert_eq!(
            Password::parse(&"x".repeat(129)).unwrap_err(),
            "must be at most 128 characters"
        );
    }

    #[test]
    fn a_password_never_prints() {
        let password = Password::parse("correct horse").unwrap();
        assert!(!format!("{password:?}").contains("horse"));
    }

    #[tokio::test]
    async fn a_hash_is_argon2id_salted_and_verifies_only_its_password() {
        let password = Password::parse("correct horse battery").unwrap();
        let first = hash(&password).await.unwrap();
        let second = hash(&password).await.unwrap();
        assert!(first.starts_with("$argon2id$"), "{first}");
        assert_ne!(first, second, "each hash has its own salt");
        assert!(verify("correct horse battery", Some(&first)).await.unwrap());
        assert!(!verify("correct horse staple", Some(&first)).await.unwrap());
    }

    #[tokio::test]
    async fn a_password_longer_than_any_account_can_have_never_verifies() {
        let long = "x".repeat(MAX_CHARS + 1);
        let stored = hash(&Password::parse("x".repeat(MAX_CHARS).as_str()).unwrap())
            .await
            .unwrap();
        assert!(!verify(&long, Some(&stored)).await.unwrap());
    }

    #[tokio::test]
    async fn verifying_against_no_account_always_fails() {
        assert!(!verify("anything at all", None).await.unwrap());
    }
}
