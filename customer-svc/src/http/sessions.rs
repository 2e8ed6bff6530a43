//! `POST /api/v1/sessions`: sign in with email and password, answered with
//! an access token for the customer's own records.
//!
//! Nothing tells an unknown email from a wrong password: both get the same
//! 401 (see [`crate::usecases::sessions`]). Guessing is slowed twice over,
//! before the password is checked: attempts per account and per client are
//! rate limited ([`super::sign_in_guard`]).

use std::net::IpAddr;

use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;
use warp::{Filter, Rejection, Reply, reply::Response};

use edge::{client::client_ip, error::ApiError, fields::FieldErrors, json, openapi as doc};
use utoipa::ToSchema;

use super::{AppState, requests::SignInBody};
use crate::{domain::Email, usecases::Session};

/// A signed-in session.
#[derive(Serialize, ToSchema)]
pub struct SessionView {
    /// Grants the customer's own records on both services.
    access_token: String,
    customer_id: Uuid,
    expires_at: chrono::DateTime<chrono::Utc>,
}

impl From<Session> for SessionView {
    fn from(session: Session) -> Self {
        Self {
            access_token: session.access_token,
            customer_id: session.customer_id,
            expires_at: session.expires_at,
        }
    }
}

/// The routes of this module.
pub fn routes(state: AppState) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    warp::path!("api" / "v1" / "sessions")
        .and(warp::post())
        .and(client_ip(state.sign_in.proxies()))
        .and(json::body::<Map<String, Value>>())
        .and(edge::routes::state(&state))
        .and_then(sign_in)
}

/// Signs in with email and password. An unknown email and a wrong
/// password get the same 401; attempts are rate limited per account and
/// per client.
#[utoipa::path(
    post, path = "/api/v1/sessions", operation_id = "sign_in", tag = "sessions",
    request_body = SignInBody,
    responses(
        (status = 200, description = "Signed in.", body = SessionView),
        (status = 400, response = doc::BadRequest),
        (status = 401, response = doc::Unauthorized),
        (status = 413, response = doc::PayloadTooLarge),
        (status = 422, response = doc::Unprocessable),
        (status = 429, response = doc::TooManyRequests),
    ),
)]
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
    state.sign_in.admit(client, &email)?;
    let session = state.sessions.sign_in(&email, password).await?;
    Ok(warp::reply::json(&SessionView::from(session)).into_response())
}
