//! The typed errors of this crate: one enum for the transport, one for a call,
//! one for what a handler may answer.

use std::time::Duration;

use contract::ErrorCode;

/// What went wrong while talking to the broker.
#[derive(Debug, thiserror::Error)]
pub enum MessagingError {
    /// No connection became available within the bound the caller allows.
    #[error("not connected to the broker (waited {waited:?})")]
    NotConnected {
        /// How long the caller waited for a connection.
        waited: Duration,
    },
    /// The broker returned a `mandatory` message: nothing is bound to receive it.
    #[error("unroutable: exchange {exchange:?} has no queue for routing key {routing_key:?}")]
    Unroutable {
        /// The exchange the message was published to (`""` is the default exchange).
        exchange: String,
        /// The routing key that matched nothing.
        routing_key: String,
    },
    /// The broker refused the message (negative publisher confirm).
    #[error("the broker refused the message (nack)")]
    Nacked,
    /// The broker did not confirm the message within the bound.
    #[error("no publisher confirm within {0:?}")]
    ConfirmTimeout(Duration),
    /// The broker did not answer an AMQP method within the bound; the
    /// connection is treated as lost.
    #[error("the broker did not answer {what} within {waited:?}")]
    BrokerSilent {
        /// The method that went unanswered.
        what: &'static str,
        /// How long it was waited for.
        waited: Duration,
    },
    /// The service is shutting down and takes no new work.
    #[error("shutting down")]
    ShuttingDown,
    /// A message could not be encoded.
    #[error("cannot encode message: {0}")]
    Encode(#[from] serde_json::Error),
    /// An AMQP-level failure (channel closed, connection lost, protocol error).
    #[error("amqp: {0}")]
    Amqp(#[from] lapin::Error),
}

/// What went wrong with one RPC call.
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    /// No reply arrived in time. The request may still be processed later, so a
    /// caller with side effects to undo must compensate.
    #[error("no reply within {0:?}")]
    Timeout(Duration),
    /// The request could not be delivered (not connected, unroutable, refused).
    #[error(transparent)]
    Transport(#[from] MessagingError),
    /// The server answered with an error.
    #[error("remote error {code}: {message}")]
    Remote {
        /// What kind of error (the contract's [`ErrorCode`]).
        code: ErrorCode,
        /// A human sentence.
        message: String,
    },
    /// The reply arrived but its payload is not what the caller expected.
    #[error("cannot decode reply: {0}")]
    Decode(serde_json::Error),
}

impl RpcError {
    /// True when the server refused the request as invalid: asking again
    /// cannot help.
    pub fn is_invalid_request(&self) -> bool {
        matches!(self, RpcError::Remote { code, .. } if *code == ErrorCode::InvalidRequest)
    }

    /// True when the request may not have reached a server and may be retried
    /// by an idempotent caller: no connection, or the broker did not confirm.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            RpcError::Transport(
                MessagingError::NotConnected { .. }
                    | MessagingError::ConfirmTimeout(_)
                    | MessagingError::Amqp(_)
            )
        )
    }
}

/// The error a message handler returns.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {message}")]
pub struct HandlerError {
    /// What kind of error (the contract's [`ErrorCode`]).
    pub code: ErrorCode,
    /// A human sentence.
    pub message: String,
    /// Something the handler needs is briefly unavailable (its database, a
    /// lock it lost to a deadlock): the same message will succeed later, so
    /// it is retried for as long as that lasts, never dead-lettered for it.
    pub transient: bool,
}

impl HandlerError {
    /// An error with a code and a message.
    pub fn new(code: impl Into<ErrorCode>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
            transient: false,
        }
    }

    /// A transient failure (see [`HandlerError::transient`]'s field).
    pub fn transient(cause: impl std::fmt::Display) -> Self {
        Self {
            transient: true,
            ..Self::unavailable(cause.to_string())
        }
    }

    /// The request was well formed JSON but its payload did not fit the method.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, message)
    }

    /// The handler cannot do it now, and says why (not retried in place).
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unavailable, message)
    }

    /// True for [`HandlerError::invalid_request`]: permanent.
    pub fn is_invalid_request(&self) -> bool {
        self.code == ErrorCode::InvalidRequest
    }

    /// A fault of the handler itself (database down, bug); the cause is logged.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::new(ErrorCode::Internal, cause.to_string())
    }
}
