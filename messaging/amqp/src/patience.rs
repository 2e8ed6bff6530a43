//! How long the library waits for the broker to answer one AMQP method.
//!
//! lapin resolves a method's promise when the broker answers or when the
//! connection dies. A socket that stops carrying traffic without closing, or
//! a connection lost while a method is in flight in a way lapin does not
//! report, would leave that promise pending forever, and with it whatever
//! awaits it: a consumer that never resumes, a shutdown that never returns.
//! So every await on the broker in this crate is bounded, and a broker that
//! does not answer in time is treated like a lost connection.

use std::{future::Future, time::Duration};

use crate::error::MessagingError;

/// Awaits `answer`, at most `within` (the settings' `answer_timeout`);
/// `what` names the method in the error.
pub(crate) async fn answered<T>(
    within: Duration,
    what: &'static str,
    answer: impl Future<Output = lapin::Result<T>>,
) -> Result<T, MessagingError> {
    match tokio::time::timeout(within, answer).await {
        Ok(result) => Ok(result?),
        Err(_) => Err(MessagingError::BrokerSilent {
            what,
            waited: within,
        }),
    }
}
