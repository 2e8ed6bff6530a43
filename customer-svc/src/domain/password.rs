//! Passwords: checked at the edge (12 to 1024 characters), hashed with
//! argon2id and a random salt, never kept, logged or echoed in the clear.
//! Hashing and verifying are deliberately slow (tens of milliseconds), so
//! they run on the blocking pool, never on the request's worker thread.

use std::{fmt, sync::OnceLock};

use argon2::{
    Argon2,
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
};

/// Fewest characters a password may have.
pub const MIN_LENGTH: usize = 12;
/// Most characters a password may have (hashing a megabyte is a denial of service).
pub const MAX_LENGTH: usize = 1024;

/// A password that meets the rules. `Debug` never shows it.
#[derive(Clone)]
pub struct Password(String);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(…)")
    }
}

impl Password {
    /// Checks the length rules.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let length = raw.chars().count();
        if length < MIN_LENGTH {
            return Err(format!("must be at least {MIN_LENGTH} characters"));
        }
        if length > MAX_LENGTH {
            return Err(format!("must be at most {MAX_LENGTH} characters"));
        }
        Ok(Self(raw.to_owned()))
    }

    /// A salted argon2id hash in PHC form (`$argon2id$…`), computed on the
    /// blocking pool.
    pub async fn hash(self) -> anyhow::Result<String> {
        tokio::task::spawn_blocking(move || {
            let salt = random_salt()?;
            Argon2::default()
                .hash_password(self.0.as_bytes(), &salt)
                .map(|hash| hash.to_string())
                .map_err(|e| anyhow::anyhow!("hashing a password failed: {e}"))
        })
        .await?
    }
}

/// Whether `candidate` matches `stored` (a PHC hash). With no stored hash
/// (an unknown email, a guest) a dummy hash is verified instead, so that the
/// answer takes as long either way and timing tells nothing.
pub async fn verify(candidate: String, stored: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| dummy_hash().to_owned());
        let matches = PasswordHash::new(&stored).is_ok_and(|hash| {
            Argon2::default()
                .verify_password(candidate.as_bytes(), &hash)
                .is_ok()
        });
        known && matches
    })
    .await
    .unwrap_or(false)
}

/// A salt of two v4 UUIDs' bytes: 244 bits from the operating system's
/// random source (six bits of each UUID are fixed).
fn random_salt() -> anyhow::Result<SaltString> {
    let mut bytes = [0u8; 32];
    bytes[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    bytes[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    SaltString::encode_b64(&bytes).map_err(|e| anyhow::anyhow!("making a salt failed: {e}"))
}

/// Makes the dummy hash now, on the blocking pool, so that the first sign-in
/// for an unknown email does not take longer than the rest (start-up calls it).
pub async fn prepare() {
    let _ = tokio::task::spawn_blocking(dummy_hash).await;
}

/// A hash of a random password, made once, for verifying when there is no
/// account: the same parameters as real hashes, so the same cost.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        random_salt()
            .and_then(|salt| {
                Argon2::default()
                    .hash_password(salt.as_str().as_bytes(), &salt)
                    .map(|hash| hash.to_string())
                    .map_err(|e| anyhow::anyhow!("{e}"))
            })
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_length_rules_hold() {
        assert!(Password::parse("short").is_err());
        assert!(Password::parse(&"x".repeat(11)).is_err());
        assert!(Password::parse(&"x".repeat(12)).is_ok());
        assert!(Password::parse(&"é".repeat(12)).is_ok());
        assert!(Password::parse(&"x".repeat(1025)).is_err());
        assert_eq!(
            format!("{:?}", Password::parse("correct horse battery").unwrap()),
            "Password(…)"
        );
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let hash = Password::parse("correct horse battery")
            .unwrap()
            .hash()
            .await
            .unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(!hash.contains("correct horse"));
        assert!(verify("correct horse battery".into(), Some(hash.clone())).await);
        assert!(!verify("correct horse batterY".into(), Some(hash)).await);
        assert!(!verify("correct horse battery".into(), None).await);
    }
}
