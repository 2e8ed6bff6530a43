//! An `Idempotency-Key`, parsed: what tells a retried checkout from a new
//! one. 1 to 200 printable ASCII characters, surrounding blanks trimmed.

/// Longest key accepted.
pub const MAX_LENGTH: usize = 200;

/// A valid `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

/// A key that is empty, too long, or not printable ASCII.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an Idempotency-Key must be 1 to {MAX_LENGTH} printable ASCII characters")]
pub struct InvalidIdempotencyKey;

impl IdempotencyKey {
    /// Reads a key as sent, trimmed.
    pub fn parse(raw: &str) -> Result<Self, InvalidIdempotencyKey> {
        let key = raw.trim();
        let printable = key.chars().all(|c| c.is_ascii_graphic());
        if key.is_empty() || key.len() > MAX_LENGTH || !printable {
            return Err(InvalidIdempotencyKey);
        }
        Ok(Self(key.to_owned()))
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_trimmed_and_must_be_printable_ascii_of_bounded_length() {
        assert_eq!(IdempotencyKey::parse(" abc-1 ").unwrap().as_str(), "abc-1");
        assert_eq!(IdempotencyKey::parse("   "), Err(InvalidIdempotencyKey));
        assert_eq!(IdempotencyKey::parse("a b"), Err(InvalidIdempotencyKey));
        assert_eq!(IdempotencyKey::parse("clé"), Err(InvalidIdempotencyKey));
        assert!(IdempotencyKey::parse(&"k".repeat(MAX_LENGTH)).is_ok());
        assert!(IdempotencyKey::parse(&"k".repeat(MAX_LENGTH + 1)).is_err());
    }
}
