//! The pieces every route of both services is made of (who is calling, the
//! JSON body, the query string, the service's state), so that a service's
//! route table says only its paths, methods and handlers.

use std::{collections::HashMap, convert::Infallible};

use serde_json::{Map, Value};
use warp::{Filter, Rejection};

use crate::auth::{Access, Caller};

/// A service's state, which knows who may do what.
pub trait Guarded: Clone + Send + Sync + 'static {
    /// The admin token and the access tokens.
    fn access(&self) -> &Access;
}

/// The state, for a handler that needs nothing else.
pub fn state<S: Guarded>(
    state: &S,
) -> impl Filter<Extract = (S,), Error = Infallible> + Clone + use<S> {
    let state = state.clone();
    warp::any().map(move || state.clone())
}

/// Who is calling (from `Authorization`), then the state.
pub fn called<S: Guarded>(
    state: &S,
) -> impl Filter<Extract = (Caller, S), Error = Rejection> + Clone + use<S> {
    crate::auth::caller(state.access().clone()).and(self::state(state))
}

/// Who is calling, the JSON object body (size-limited), then the state.
pub fn called_with_body<S: Guarded>(
    state: &S,
) -> impl Filter<Extract = (Caller, Map<String, Value>, S), Error = Rejection> + Clone + use<S> {
    crate::auth::caller(state.access().clone())
        .and(crate::json::body::<Map<String, Value>>())
        .and(self::state(state))
}

/// Who is calling, the query string's parameters, then the state.
pub fn called_with_query<S: Guarded>(
    state: &S,
) -> impl Filter<Extract = (Caller, HashMap<String, String>, S), Error = Rejection> + Clone + use<S>
{
    crate::auth::caller(state.access().clone())
        .and(warp::query::<HashMap<String, String>>())
        .and(self::state(state))
}
