//! The one place where what a use case refuses becomes an HTTP answer: each
//! use-case error converts into the edge's [`ApiError`] by one `From` here,
//! and `edge::error::recover` renders it. Handlers never translate an error
//! themselves; their `?` does it.

use edge::error::ApiError;

use crate::usecases::{AccountError, HistoryError, RepairError, SignInError};

impl From<AccountError> for ApiError {
    fn from(error: AccountError) -> Self {
        match error {
            AccountError::NotFound => ApiError::NotFound("customer"),
            AccountError::EmailTaken(_) => ApiError::Conflict {
                code: "email_taken",
                message: error.to_string(),
            },
            AccountError::LimitBelowUsage(_) => ApiError::Conflict {
                code: "credit_limit_below_usage",
                message: error.to_string(),
            },
            AccountError::Db(cause) => ApiError::from(cause),
            AccountError::DefaultLimit(_) | AccountError::PasswordHash(_) => {
                ApiError::internal(error)
            }
        }
    }
}

impl From<SignInError> for ApiError {
    fn from(error: SignInError) -> Self {
        match error {
            SignInError::InvalidCredentials => ApiError::Unauthenticated {
                code: "invalid_credentials",
                message: error.to_string(),
            },
            SignInError::Token(cause) => ApiError::internal(cause),
            SignInError::Db(cause) => ApiError::from(cause),
        }
    }
}

impl From<HistoryError> for ApiError {
    fn from(error: HistoryError) -> Self {
        match error {
            HistoryError::UnknownCustomer => ApiError::NotFound("customer"),
            HistoryError::Db(cause) => ApiError::from(cause),
        }
    }
}

impl From<RepairError> for ApiError {
    fn from(error: RepairError) -> Self {
        match error {
            RepairError::UnknownQueue(_) => ApiError::Unprocessable {
                code: "unknown_queue",
                message: error.to_string(),
            },
            RepairError::UnknownMessage(_) => ApiError::NotFound("dead letter"),
            RepairError::NotReplayable(_) => ApiError::Unprocessable {
                code: "not_replayable",
                message: error.to_string(),
            },
            RepairError::BrokerUnavailable { done, cause } => {
                tracing::warn!(%cause, done, "dead-letter repair failed at the broker");
                ApiError::Unavailable(format!(
                    "the broker is unavailable; try again shortly ({done} dead letters were handled before)"
                ))
            }
        }
    }
}

// Each error above, usable with `?` in a handler.
edge::rejected_as_api_error!(AccountError, HistoryError, RepairError, SignInError);
