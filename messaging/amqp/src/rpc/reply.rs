//! The payload of every reply: a result, or a typed error.

use contract::ErrorCode;
use serde::{Deserialize, Serialize};

/// Message type of replies.
pub(crate) const REPLY_KIND: &str = "rpc.reply";

/// What a server answers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub(crate) enum RpcReply {
    /// The handler's result.
    Ok { result: serde_json::Value },
    /// The handler's (or the server's) error.
    Error { error: RemoteError },
}

/// An error as it travels in a reply.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RemoteError {
    pub(crate) code: ErrorCode,
    pub(crate) message: String,
}
