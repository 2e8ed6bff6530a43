//! `POST /api/v1/sessions`: sign in with email and password, answered with
//! an access token for the customer's own records.
//!
//! Nothing tells an unknown email from a wrong password: both get the same
//! 401, after the same argon2 work (a dummy hash stands in for a missing
//! one). Guessing is slowed twice over: attempts per account and attempts
//! per client (behind `TRUSTED_PROXIES`, the address they forwarded for) are
//! rate limited, each with a 429 and `Retry-After`.

use std::{net::IpAddr, num::NonZeroU32, time::Duration};

use governor::Quota;
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;
use warp::{Filter, Rejection, Reply, reply::Response};

use edge::{
    client::{TrustedProxies, client_ip},
    error::ApiError,
    fields::FieldErrors,
    json,
    rate_limit::PerClientLimit,
};

use super::{AppState, with_state};
use crate::{
    db::customers,
    domain::{Email, password},
};

/// Attempts one account may take in a burst, then one more per
/// [`ACCOUNT_REFILL`].
const ACCOUNT_BURST: u32 = 5;
const ACCOUNT_REFILL: Duration = Duration::from_secs(60);
/// Attempts one client may take in a burst, then one more per
/// [`CLIENT_REFILL`].
const CLIENT_BURST: u32 = 20;
const CLIENT_REFILL: Duration = Duration::from_secs(6);

/// The sign-in rate limits. Cheap to clone.
#[derive(Clone)]
pub struct SignInGuard {
    per_account: PerClientLimit<String>,
    per_client: PerClientLimit<IpAddr>,
    proxies: TrustedProxies,
}

impl SignInGuard {
    /// The limits, for clients as `proxies` identify them.
    pub fn new(proxies: TrustedProxies) -> Self {
        let quota = |burst: u32, refill: Duration| {
            Quota::with_period(refill)
                .unwrap_or_else(|| Quota::per_minute(NonZeroU32::MIN))
                .allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN))
        };
        Self {
            per_account: PerClientLimit::with_quota(quota(ACCOUNT_BURST, ACCOUNT_REFILL)),
            per_client: PerClientLimit::with_quota(quota(CLIENT_BURST, CLIENT_REFILL)),
            proxies,
        }
    }
}

#[derive(Serialize)]
struct SessionView {
    access_token: String,
    customer_id: Uuid,
    expires_at: chrono::DateTime<chrono::Utc>,
}

/// The routes of this module.
pub fn routes(state: AppState) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("api" / "v1" / "sessions")
        .and(warp::post())
        .and(client_ip(state.sign_in.proxies.clone()))
        .and(json::body::<Map<String, Value>>())
        .and(with_state(state))
        .and_then(sign_in)
}

fn invalid_credentials() -> ApiError {
    ApiError::Unauthenticated {
        code: "invalid_credentials",
        message: "the email or the password is not right".into(),
    }
}

async fn sign_in(
    client: IpAddr,
    body: Map<String, Value>,
    state: AppState,
) -> Result<Response, Rejection> {
    let mut fields = FieldErrors::default();
    let email = fields.required(&body, "email", Email::parse);
    let password = fields.required(&body, "password", |raw: &str| Ok::<_, &str>(raw.to_owned()));
    fields.into_result()?;
    let (Some(email), Some(password)) = (email, password) else {
        return Err(ApiError::internal("validated fields missing").into());
    };
    state.sign_in.per_client.check(&client)?;
    state
        .sign_in
        .per_account
        .check(&email.as_str().to_owned())?;

    let found = customers::credentials(&state.pool, &email)
        .await
        .map_err(ApiError::from)?;
    let (customer, stored) = match found {
        Some(found) => (Some((found.id, found.email)), found.password_hash),
        None => (None, None),
    };
    if !password::verify(password, stored).await {
        metrics::counter!("sign_ins_total", "outcome" => "refused").increment(1);
        return Err(invalid_credentials().into());
    }
    let Some((customer_id, email)) = customer else {
        return Err(invalid_credentials().into());
    };
    let issued = state
        .access
        .tokens()
        .for_customer(customer_id, &email)
        .map_err(ApiError::internal)?;
    metrics::counter!("sign_ins_total", "outcome" => "signed_in").increment(1);
    tracing::info!(%customer_id, "signed in");
    Ok(warp::reply::json(&SessionView {
        access_token: issued.token,
        customer_id,
        expires_at: issued.expires_at,
    })
    .into_response())
}
