//! Signing in: an email and a password become an access token for the
//! customer's own records.
//!
//! Nothing tells an unknown email from a wrong password: both are
//! [`SignInError::InvalidCredentials`], after the same argon2 work (a dummy
//! hash stands in for a missing one). Slowing guessing down (attempts per
//! account and per client) is the edge's, before this is called.

use chrono::{DateTime, Utc};
use edge::tokens::{AccessTokens, Refused};
use sqlx::PgPool;
use tracing::info;
use uuid::Uuid;

use crate::{
    db::customers,
    domain::{Email, password},
};

/// What signing in can run into.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// No account has this email, or its password is another one.
    #[error("the email or the password is not right")]
    InvalidCredentials,
    /// The access token could not be made.
    #[error(transparent)]
    Token(#[from] Refused),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// A signed-in customer's access token. No `Debug`: the token is a secret
/// and must not reach a log.
pub struct Session {
    /// The customer signed in.
    pub customer_id: Uuid,
    /// The bearer token for their own records.
    pub access_token: String,
    /// When the token stops working.
    pub expires_at: DateTime<Utc>,
}

/// The sign-in use case. Cheap to clone.
#[derive(Clone)]
pub struct Sessions {
    pool: PgPool,
    tokens: AccessTokens,
}

impl Sessions {
    /// Signs in against the accounts in `pool`, issuing tokens with `tokens`.
    pub fn new(pool: PgPool, tokens: AccessTokens) -> Self {
        Self { pool, tokens }
    }

    /// Checks `password` against the account with `email` and, when it is
    /// the one, issues an access token for that customer. Counted in
    /// `sign_ins_total` by outcome.
    pub async fn sign_in(&self, email: &Email, password: String) -> Result<Session, SignInError> {
        let (customer, stored) = match customers::credentials(&self.pool, email).await? {
            Some(found) => (Some((found.id, found.email)), found.password_hash),
            None => (None, None),
        };
        if !password::verify(password, stored).await {
            metrics::counter!("sign_ins_total", "outcome" => "refused").increment(1);
            return Err(SignInError::InvalidCredentials);
        }
        let Some((customer_id, email)) = customer else {
            return Err(SignInError::InvalidCredentials);
        };
        let issued = self.tokens.for_customer(customer_id, &email)?;
        metrics::counter!("sign_ins_total", "outcome" => "signed_in").increment(1);
        info!(%customer_id, "signed in");
        Ok(Session {
            customer_id,
            access_token: issued.token,
            expires_at: issued.expires_at,
        })
    }
}
