//! How the saga behaves in this instance: its deadlines, its leases, its
//! name, its currency, and the fault injected for tests.

use std::time::Duration;

use contract::Currency;

/// How the saga behaves.
#[derive(Debug, Clone)]
pub struct SagaSettings {
    /// How long step 2 waits for customer-svc.
    pub rpc_timeout: Duration,
    /// How long this instance owns a saga it drives.
    pub lease: Duration,
    /// This instance's name in leases.
    pub instance_id: String,
    /// Fault injection for tests: abort the process after committing this step.
    pub crash_after: Option<String>,
    /// The shop's currency: an order in any other is refused.
    pub currency: Currency,
}
