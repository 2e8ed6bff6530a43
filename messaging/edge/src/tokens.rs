//! Shoppers' access tokens: signed (HMAC-SHA256 JWTs through `jsonwebtoken`)
//! with `ACCESS_TOKEN_SECRET`, expiring after `ACCESS_TOKEN_TTL`, and checked
//! the same way by both services, which share the secret. A token grants one
//! thing: a customer's own records (after sign-in) or one order (given with
//! the checkout's answer).

use std::{fmt, sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Who issued the tokens; a token from anywhere else is refused.
const ISSUER: &str = "commerce";
/// Clock skew tolerated between the services that issue and check tokens.
const LEEWAY_SECONDS: u64 = 5;

/// What a valid token grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    /// A signed-in customer's own records.
    Customer {
        /// The customer.
        id: Uuid,
        /// Their (normalised) email, so that order-svc can place a checkout
        /// for them without asking customer-svc.
        email: String,
    },
    /// One order: reading and cancelling it.
    Order(Uuid),
}

/// A freshly signed token and when it stops working.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The bearer token.
    pub token: String,
    /// Its expiry.
    pub expires_at: DateTime<Utc>,
}

/// Why a token was refused. Deliberately coarse: the caller gets a 401
/// whatever the reason; the reason is for logs and tests.
#[derive(Debug, thiserror::Error)]
#[error("access token refused: {0}")]
pub struct Refused(String);

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Scope {
    Customer,
    Order,
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    sub: Uuid,
    scope: Scope,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    iat: i64,
    exp: i64,
}

/// Issues and checks access tokens. Cheap to clone.
#[derive(Clone)]
pub struct AccessTokens {
    keys: Arc<(EncodingKey, DecodingKey)>,
    validation: Arc<Validation>,
    ttl: Duration,
}

impl fmt::Debug for AccessTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the secret.
        f.debug_struct("AccessTokens")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl AccessTokens {
    /// Tokens signed with `secret`, valid for `ttl`.
    pub fn new(secret: &[u8], ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.leeway = LEEWAY_SECONDS;
        Self {
            keys: Arc::new((
                EncodingKey::from_secret(secret),
                DecodingKey::from_secret(secret),
            )),
            validation: Arc::new(validation),
            ttl,
        }
    }

    /// How long a token lives.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// A token for a signed-in customer.
    pub fn for_customer(&self, id: Uuid, email: &str) -> Result<Issued, Refused> {
        self.sign(id, Scope::Customer, Some(email.to_owned()), Utc::now())
    }

    /// A token that opens one order.
    pub fn for_order(&self, id: Uuid) -> Result<Issued, Refused> {
        self.sign(id, Scope::Order, None, Utc::now())
    }

    /// What `token` grants, if it is ours, intact and not expired.
    pub fn check(&self, token: &str) -> Result<Grant, Refused> {
        let claims = jsonwebtoken::decode::<Claims>(token, &self.keys.1, &self.validation)
            .map_err(|e| Refused(e.to_string()))?
            .claims;
        match (claims.scope, claims.email) {
            (Scope::Customer, Some(email)) => Ok(Grant::Customer {
                id: claims.sub,
                email,
            }),
            (Scope::Customer, None) => Err(Refused("a customer token without email".into())),
            (Scope::Order, _) => Ok(Grant::Order(claims.sub)),
        }
    }

    fn sign(
        &self,
        sub: Uuid,
        scope: Scope,
        email: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Issued, Refused> {
        let ttl = chrono::Duration::from_std(self.ttl).map_err(|e| Refused(e.to_string()))?;
        let expires_at = now + ttl;
        let claims = Claims {
            iss: ISSUER.to_owned(),
            sub,
            scope,
            email,
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.keys.0)
            .map_err(|e| Refused(e.to_string()))?;
        Ok(Issued { token, expires_at })
    }

    /// A customer token that expired `ago` (tests of expiry).
    #[doc(hidden)]
    pub fn expired_for_customer(&self, id: Uuid, email: &str, ago: Duration) -> String {
        let past = Utc::now()
            - chrono::Duration::from_std(self.ttl + ago).unwrap_or(chrono::Duration::zero());
        self.sign(id, Scope::Customer, Some(email.to_owned()), past)
            .map(|issued| issued.token)
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> AccessTokens {
        AccessTokens::new(b"a test secret of some length", Duration::from_secs(3600))
    }

    #[test]
    fn a_customer_token_grants_that_customer() {
        let id = Uuid::new_v4();
        let issued = tokens().for_customer(id, "ada@example.com").unwrap();
        assert_eq!(
            tokens().check(&issued.token).unwrap(),
            Grant::Customer {
                id,
                email: "ada@example.com".into()
            }
        );
        let left = issued.expires_at - Utc::now();
        assert!(left > chrono::Duration::minutes(59), "{left}");
    }

    #[test]
    fn an_order_token_grants_that_order() {
        let id = Uuid::new_v4();
        let issued = tokens().for_order(id).unwrap();
        assert_eq!(tokens().check(&issued.token).unwrap(), Grant::Order(id));
    }

    #[test]
    fn forged_tampered_and_expired_tokens_are_refused() {
        let id = Uuid::new_v4();
        let other = AccessTokens::new(b"another secret", Duration::from_secs(3600));
        let forged = other.for_customer(id, "ada@example.com").unwrap().token;
        assert!(tokens().check(&forged).is_err());

        let good = tokens().for_order(id).unwrap().token;
        let mut tampered: Vec<char> = good.chars().collect();
        let middle = good.find('.').unwrap() + 3;
        tampered[middle] = if tampered[middle] == 'A' { 'B' } else { 'A' };
        let tampered: String = tampered.into_iter().collect();
        assert!(tokens().check(&tampered).is_err());

        let expired = tokens().expired_for_customer(id, "ada@example.com", Duration::from_secs(60));
        assert!(tokens().check(&expired).is_err());
        assert!(tokens().check("not a token").is_err());
        assert!(tokens().check("").is_err());
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let shown = format!("{:?}", tokens());
        assert!(!shown.contains("secret"), "{shown}");
    }
}

#[cfg(test)]
mod props {
    //! Bearer tokens on hostile input: anything but an intact token of ours
    //! is refused, never a panic.

    use proptest::prelude::*;

    use super::*;
    use testkit::hostile::{config, hostile_text};

    fn tokens() -> AccessTokens {
        AccessTokens::new(b"a test secret of some length", Duration::from_secs(3600))
    }

    /// Three dot-separated base64url runs: shaped like a JWT, signed by nobody.
    fn token_shaped() -> impl Strategy<Value = String> {
        "[A-Za-z0-9_-]{0,60}\\.[A-Za-z0-9_-]{0,200}\\.[A-Za-z0-9_-]{0,60}"
    }

    /// A valid order or customer token.
    fn valid_token() -> impl Strategy<Value = String> {
        (any::<u128>(), any::<bool>()).prop_map(|(id, order)| {
            let id = Uuid::from_u128(id);
            let issued = if order {
                tokens().for_order(id)
            } else {
                tokens().for_customer(id, "ada@example.com")
            };
            issued.map(|issued| issued.token).unwrap_or_default()
        })
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn arbitrary_and_token_shaped_strings_are_refused(raw in prop_oneof![hostile_text(), token_shaped()]) {
            prop_assert!(tokens().check(&raw).is_err(), "{:?} accepted", raw);
        }

        #[test]
        fn a_token_changed_in_one_character_is_refused(
            token in valid_token(),
            at in any::<prop::sample::Index>(),
            replacement in prop::char::any(),
        ) {
            let mut chars: Vec<char> = token.chars().collect();
            let at = at.index(chars.len());
            prop_assume!(chars[at] != replacement);
            chars[at] = replacement;
            let changed: String = chars.into_iter().collect();
            prop_assert!(tokens().check(&changed).is_err(), "{:?} accepted", changed);
        }

        #[test]
        fn a_token_cut_short_or_extended_is_refused(
            token in valid_token(),
            cut in any::<prop::sample::Index>(),
            tail in "[A-Za-z0-9_.=-]{1,8}",
        ) {
            let cut = &token[..cut.index(token.len())];
            prop_assert!(tokens().check(cut).is_err(), "{:?} accepted", cut);
            let extended = format!("{token}{tail}");
            prop_assert!(tokens().check(&extended).is_err(), "{:?} accepted", extended);
        }

        #[test]
        fn a_token_with_claims_of_our_shape_but_another_algorithm_is_refused(
            id in any::<u128>(),
            algorithm in prop::sample::select(vec![Algorithm::HS384, Algorithm::HS512]),
        ) {
            // Signed with our secret, but not with the one algorithm we check.
            let claims = Claims {
                iss: ISSUER.to_owned(),
                sub: Uuid::from_u128(id),
                scope: Scope::Order,
                email: None,
                iat: Utc::now().timestamp(),
                exp: Utc::now().timestamp() + 600,
            };
            let key = EncodingKey::from_secret(b"a test secret of some length");
            let token = jsonwebtoken::encode(&Header::new(algorithm), &claims, &key).unwrap();
            prop_assert!(tokens().check(&token).is_err());
            // And unsigned: `alg: none` with the signature left off.
            let unsigned = format!(
                "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.",
                token.split('.').nth(1).unwrap_or("")
            );
            prop_assert!(tokens().check(&unsigned).is_err());
        }
    }
}
