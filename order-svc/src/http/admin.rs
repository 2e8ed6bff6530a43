//! `/api/v1/admin/sagas`: the operator's repairs of the checkout saga,
//! admin only: the stuck sagas with their timelines (`GET …/stuck`), and
//! one resumed (`POST …/{id}/resume`) or compensated
//! (`POST …/{id}/compensate`). Each handler checks the caller, parses, calls
//! the repair use case (`crate::usecases::Repair`) and renders the saga.

use std::{collections::HashMap, time::Duration};

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;
use warp::{Filter, Rejection, Reply, reply::Response};

use edge::{
    auth::Caller,
    openapi::{self as doc, PageParams},
    paging::{Page, Paging},
};

use super::{AppState, views::StepView};
use crate::{db::sagas::SagaReport, domain::saga::Step};

/// The routes of this module.
pub fn routes(state: AppState) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let stuck = warp::path!("api" / "v1" / "admin" / "sagas" / "stuck")
        .and(warp::get())
        .and(edge::routes::called_with_query(&state))
        .and_then(stuck);
    let resume = warp::path!("api" / "v1" / "admin" / "sagas" / String / "resume")
        .and(warp::post())
        .and(edge::routes::called(&state))
        .and_then(resume);
    let compensate = warp::path!("api" / "v1" / "admin" / "sagas" / String / "compensate")
        .and(warp::post())
        .and(edge::routes::called(&state))
        .and_then(compensate);
    stuck.or(resume).unify().or(compensate).unify()
}

/// The stuck sagas, oldest first: unfinished, and past their step's
/// deadline or older than `SAGA_STUCK_AFTER`.
#[utoipa::path(
    get, path = "/api/v1/admin/sagas/stuck", operation_id = "list_stuck_sagas", tag = "repair",
    params(PageParams),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "A page of stuck sagas, each with its timeline.", body = Page<SagaView>),
        (status = 400, response = doc::BadRequest),
        (status = 401, response = doc::Unauthorized),
        (status = 403, response = doc::Forbidden),
        (status = 422, response = doc::Unprocessable),
    ),
)]
async fn stuck(
    caller: Caller,
    query: HashMap<String, String>,
    state: AppState,
) -> Result<Response, Rejection> {
    caller.require_admin()?;
    let paging = Paging::from_query(&query)?;

    let repair = &state.usecases.repair;
    let (reports, total) = repair.stuck(paging).await?;

    let items = reports
        .into_iter()
        .map(|report| SagaView::new(report, repair.stuck_after()))
        .collect();
    Ok(warp::reply::json(&Page::new(items, paging, total)).into_response())
}

/// Runs the saga again now: its lease and retry delay cleared, a `resumed`
/// entry in its timeline.
#[utoipa::path(
    post, path = "/api/v1/admin/sagas/{id}/resume", operation_id = "resume_saga", tag = "repair",
    params(("id" = Uuid, Path, description = "The saga's id.")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The saga as it now stands.", body = SagaView),
        (status = 400, response = doc::BadRequest),
        (status = 401, response = doc::Unauthorized),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
        (status = 409, response = doc::Conflict),
    ),
)]
async fn resume(id: String, caller: Caller, state: AppState) -> Result<Response, Rejection> {
    caller.require_admin()?;
    let id = edge::path_id(&id)?;

    let repair = &state.usecases.repair;
    let report = repair.resume(id).await?;

    Ok(warp::reply::json(&SagaView::new(report, repair.stuck_after())).into_response())
}

/// Compensates the saga as a timeout would: its credit released, its order
/// rejected (`customer_service_unavailable`), a `compensation_ordered` entry.
#[utoipa::path(
    post, path = "/api/v1/admin/sagas/{id}/compensate", operation_id = "compensate_saga", tag = "repair",
    params(("id" = Uuid, Path, description = "The saga's id.")),
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The saga as it now stands, compensating.", body = SagaView),
        (status = 400, response = doc::BadRequest),
        (status = 401, response = doc::Unauthorized),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
        (status = 409, response = doc::Conflict),
    ),
)]
async fn compensate(id: String, caller: Caller, state: AppState) -> Result<Response, Rejection> {
    caller.require_admin()?;
    let id = edge::path_id(&id)?;

    let repair = &state.usecases.repair;
    let report = repair.compensate(id).await?;

    Ok(warp::reply::json(&SagaView::new(report, repair.stuck_after())).into_response())
}

/// A saga as an operator sees it.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct SagaView {
    id: Uuid,
    order_id: Uuid,
    /// `verify_customer`, `reserve_stock`, `release_credit` or `done`.
    step: &'static str,
    /// `running`, `compensating`, `confirmed` or `rejected`.
    status: &'static str,
    /// Tries of the current step.
    attempt: i32,
    created_at: DateTime<Utc>,
    /// The request id of the checkout that started it: its log lines in
    /// both services carry it as `request_id`.
    request_id: Option<String>,
    updated_at: DateTime<Utc>,
    /// Seconds since it started.
    age_seconds: f64,
    /// When the current try of its step gives up, if it has a deadline.
    deadline: Option<DateTime<Utc>>,
    /// `past_deadline`, `pending_too_long`, or null when it is not stuck.
    stuck_because: Option<&'static str>,
    /// The order's rejection reason, once rejected.
    reason: Option<String>,
    /// The latest timeline entry's words (the last error, when it failed).
    last_detail: Option<String>,
    /// The instance that holds it, if any, and until when (with no owner:
    /// when a postponed compensation is due again).
    lease_owner: Option<String>,
    lease_expires_at: Option<DateTime<Utc>>,
    /// Its timeline's latest 50 entries, oldest first.
    timeline: Vec<StepView>,
}

impl SagaView {
    fn new(report: SagaReport, stuck_after: Duration) -> Self {
        let saga = report.saga;
        let stuck_because = if saga.step == Step::Done {
            None
        } else if report.past_deadline {
            Some("past_deadline")
        } else if report.age_seconds > stuck_after.as_secs_f64() {
            Some("pending_too_long")
        } else {
            None
        };
        let timeline = report.timeline.0;
        Self {
            id: saga.id,
            order_id: saga.order_id,
            step: saga.step.as_str(),
            status: saga.status.as_str(),
            attempt: saga.attempt,
            created_at: saga.started_at,
            request_id: saga.request_id,
            updated_at: report.updated_at,
            age_seconds: report.age_seconds,
            deadline: saga.deadline,
            stuck_because,
            reason: saga.reason,
            last_detail: timeline.last().and_then(|entry| entry.detail.clone()),
            lease_owner: report.lease_owner,
            lease_expires_at: report.lease_expires_at,
            timeline: timeline.into_iter().map(StepView::from).collect(),
        }
    }
}
