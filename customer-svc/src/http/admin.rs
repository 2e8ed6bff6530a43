//! `/api/v1/admin/dead-letters`: the operator's view of what customer-svc
//! could not process (its RPC requests and order events, dead-lettered),
//! and the repairs: replay into the source queue or discard, one message
//! or all. Admin only.

use std::collections::HashMap;

use amqp::dead_letters::{Body, DeadLetter, QueueLetters, Target};
use chrono::{DateTime, Utc};
use edge::{
    auth::Caller,
    openapi::{self as doc, PageParams},
    paging::Paging,
};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use warp::{Filter, Rejection, Reply, reply::Response};

use super::AppState;

/// How much of a body that is JSON but not an object is shown.
const OTHER_JSON_PREVIEW_CHARS: usize = 1024;

/// Each queue's dead letters, one page of them.
#[derive(Debug, Serialize, ToSchema)]
struct DeadLettersView {
    queues: Vec<QueueView>,
}

/// What a replay did.
#[derive(Debug, Serialize, ToSchema)]
struct Replayed {
    /// Dead letters republished to their queue (confirmed) and removed.
    replayed: usize,
}

/// What a discard did.
#[derive(Debug, Serialize, ToSchema)]
struct Discarded {
    /// Dead letters removed for good.
    discarded: usize,
}

#[derive(Debug, Serialize, ToSchema)]
struct QueueView {
    /// The source queue (what `?queue=` takes).
    queue: String,
    dead_letter_queue: String,
    /// Messages in the dead-letter queue.
    depth: u32,
    /// How many it keeps; at the limit it is `full` and refuses more.
    limit: i64,
    full: bool,
    items: Vec<LetterView>,
    page: u32,
    per_page: u32,
    total: i64,
}

#[derive(Debug, Serialize, ToSchema)]
struct LetterView {
    message_id: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    routing_key: Option<String>,
    reason: Option<String>,
    dead_lettered_count: u64,
    first_dead_lettered_at: Option<DateTime<Utc>>,
    request_id: Option<String>,
    correlation_id: Option<String>,
    size_bytes: usize,
    /// The body when it is a JSON object (every message the services send).
    #[schema(value_type = Option<Object>)]
    body: Option<Value>,
    /// Otherwise the start of it.
    body_preview: Option<PreviewView>,
}

#[derive(Debug, Serialize, ToSchema)]
struct PreviewView {
    encoding: &'static str,
    data: String,
    truncated: bool,
}

impl From<DeadLetter> for LetterView {
    fn from(letter: DeadLetter) -> Self {
        let (body, body_preview) = match letter.body {
            Body::Json(json) if json.is_object() => (Some(json), None),
            // JSON, but no envelope (a bare number, string or array).
            Body::Json(other) => {
                let text = other.to_string();
                let data: String = text.chars().take(OTHER_JSON_PREVIEW_CHARS).collect();
                (
                    None,
                    Some(PreviewView {
                        encoding: "text",
                        truncated: data.len() < text.len(),
                        data,
                    }),
                )
            }
            Body::Text { preview, truncated } => (
                None,
                Some(PreviewView {
                    encoding: "text",
                    data: preview,
                    truncated,
                }),
            ),
            Body::Binary { base64, truncated } => (
                None,
                Some(PreviewView {
                    encoding: "base64",
                    data: base64,
                    truncated,
                }),
            ),
        };
        Self {
            message_id: letter.message_id,
            kind: letter.kind,
            routing_key: letter.routing_key,
            reason: letter.reason,
            dead_lettered_count: letter.count,
            first_dead_lettered_at: letter.first_dead_lettered_at,
            request_id: letter.request_id,
            correlation_id: letter.correlation_id,
            size_bytes: letter.size,
            body,
            body_preview,
        }
    }
}

impl QueueView {
    fn new(listed: QueueLetters, paging: Paging) -> Self {
        Self {
            queue: listed.queue,
            dead_letter_queue: listed.dead_letter_queue,
            depth: listed.depth,
            limit: listed.limit,
            full: listed.full,
            items: listed.letters.into_iter().map(LetterView::from).collect(),
            page: paging.page,
            per_page: paging.per_page,
            total: i64::from(listed.depth),
        }
    }
}

/// The routes of this module.
pub fn routes(state: AppState) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let collection = warp::path!("api" / "v1" / "admin" / "dead-letters");
    let everything_replayed = warp::path!("api" / "v1" / "admin" / "dead-letters" / "replay");
    let item = warp::path!("api" / "v1" / "admin" / "dead-letters" / String);
    let item_replayed = warp::path!("api" / "v1" / "admin" / "dead-letters" / String / "replay");

    let list = collection
        .and(warp::get())
        .and(edge::routes::called_with_query(&state))
        .and_then(list);
    let replay_all = everything_replayed
        .and(warp::post())
        .and(edge::routes::called_with_query(&state))
        .and_then(replay_all);
    let replay_one = item_replayed
        .and(warp::post())
        .and(edge::routes::called(&state))
        .and_then(replay_one);
    let discard_all = collection
        .and(warp::delete())
        .and(edge::routes::called_with_query(&state))
        .and_then(discard_all);
    let discard_one = item
        .and(warp::delete())
        .and(edge::routes::called(&state))
        .and_then(discard_one);
    list.or(replay_all)
        .unify()
        .or(replay_one)
        .unify()
        .or(discard_all)
        .unify()
        .or(discard_one)
        .unify()
}

/// `?queue=`: a source queue's name (or its `.dlq`'s); absent or blank, all.
fn queue(query: &HashMap<String, String>) -> Option<&str> {
    query
        .get("queue")
        .map(|q| q.trim())
        .filter(|q| !q.is_empty())
}

/// Each queue's dead letters, oldest first, listed without taking them.
#[utoipa::path(
    get, path = "/api/v1/admin/dead-letters", operation_id = "list_dead_letters", tag = "repair",
    params(PageParams, ("queue" = Option<String>, Query, description = "A source queue's name (or its `.dlq`'s); absent, every queue.")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "A page of each queue's dead letters.", body = DeadLettersView),
        (status = 401, response = doc::Unauthorized),
        (status = 403, response = doc::Forbidden),
        (status = 400, response = doc::BadRequest),
        (status = 422, response = doc::Unprocessable),
    ),
)]
async fn list(
    caller: Caller,
    query: HashMap<String, String>,
    state: AppState,
) -> Result<Response, Rejection> {
    caller.require_admin()?;
    let paging = Paging::from_query(&query)?;
    let listed = state.dead_letters.list(queue(&query), paging).await?;
    let view = DeadLettersView {
        queues: listed
            .into_iter()
            .map(|queue| QueueView::new(queue, paging))
            .collect(),
    };
    Ok(warp::reply::json(&view).into_response())
}

/// Replays every dead letter of one queue, or of every queue.
#[utoipa::path(
    post, path = "/api/v1/admin/dead-letters/replay", operation_id = "replay_dead_letters", tag = "repair",
    params(("queue" = Option<String>, Query, description = "A source queue's name (or its `.dlq`'s); absent, every queue.")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "How many were replayed.", body = Replayed),
        (status = 401, response = doc::Unauthorized),
        (status = 403, response = doc::Forbidden),
        (status = 400, response = doc::BadRequest),
        (status = 422, response = doc::Unprocessable),
    ),
)]
async fn replay_all(
    caller: Caller,
    query: HashMap<String, String>,
    state: AppState,
) -> Result<Response, Rejection> {
    caller.require_admin()?;
    let replayed = state
        .dead_letters
        .replay(Target::All(queue(&query)))
        .await?;
    Ok(warp::reply::json(&Replayed { replayed }).into_response())
}

/// Replays one dead letter (every copy of that message id) into its queue.
#[utoipa::path(
    post, path = "/api/v1/admin/dead-letters/{message_id}/replay", operation_id = "replay_dead_letter", tag = "repair",
    params(("message_id" = String, Path, description = "The dead letter's message id.")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "How many were replayed.", body = Replayed),
        (status = 401, response = doc::Unauthorized),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
    ),
)]
async fn replay_one(
    message_id: String,
    caller: Caller,
    state: AppState,
) -> Result<Response, Rejection> {
    caller.require_admin()?;
    let replayed = state
        .dead_letters
        .replay(Target::Message(&message_id))
        .await?;
    Ok(warp::reply::json(&Replayed { replayed }).into_response())
}

/// Discards every dead letter of one queue, or of every queue.
#[utoipa::path(
    delete, path = "/api/v1/admin/dead-letters", operation_id = "discard_dead_letters", tag = "repair",
    params(("queue" = Option<String>, Query, description = "A source queue's name (or its `.dlq`'s); absent, every queue.")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "How many were discarded.", body = Discarded),
        (status = 401, response = doc::Unauthorized),
        (status = 403, response = doc::Forbidden),
        (status = 400, response = doc::BadRequest),
        (status = 422, response = doc::Unprocessable),
    ),
)]
async fn discard_all(
    caller: Caller,
    query: HashMap<String, String>,
    state: AppState,
) -> Result<Response, Rejection> {
    caller.require_admin()?;
    let discarded = state
        .dead_letters
        .discard(Target::All(queue(&query)))
        .await?;
    Ok(warp::reply::json(&Discarded { discarded }).into_response())
}

/// Discards one dead letter (every copy of that message id).
#[utoipa::path(
    delete, path = "/api/v1/admin/dead-letters/{message_id}", operation_id = "discard_dead_letter", tag = "repair",
    params(("message_id" = String, Path, description = "The dead letter's message id.")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "How many were discarded.", body = Discarded),
        (status = 401, response = doc::Unauthorized),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
    ),
)]
async fn discard_one(
    message_id: String,
    caller: Caller,
    state: AppState,
) -> Result<Response, Rejection> {
    caller.require_admin()?;
    let discarded = state
        .dead_letters
        .discard(Target::Message(&message_id))
        .await?;
    Ok(warp::reply::json(&Discarded { discarded }).into_response())
}
