//! What both services and the browser UI agree on: routing keys, message
//! types, the payloads of requests, replies and events, and the values those
//! carry (email, name, money, currency), validated the same way on every side.
//! One place, so they cannot drift apart. No I/O: it compiles to WebAssembly
//! for the UI as it is.
#![warn(missing_docs)]

mod currency;
mod customer_rpc;
mod error_code;
mod order_events;
mod rejection;
mod values;

pub use currency::Currency;
pub use customer_rpc::{
    RefusalReason, ReleaseCreditReply, ReleaseCreditRequest, VerifyOrCreateReply,
    VerifyOrCreateRequest,
};
pub use error_code::ErrorCode;
pub use order_events::{OrderCancelled, OrderConfirmed};
pub use rejection::RejectionReason;
pub use values::{Email, Money, PersonName, ValueError};

/// RPC: find or create a customer and reserve credit for a saga.
pub const CUSTOMER_VERIFY_OR_CREATE: &str = "customer.verify_or_create";
/// RPC: release a saga's credit reservation.
pub const CUSTOMER_RELEASE_CREDIT: &str = "customer.release_credit";
/// Event: an order was confirmed.
pub const ORDER_CONFIRMED: &str = "order.confirmed";
/// Event: a confirmed order was cancelled.
pub const ORDER_CANCELLED: &str = "order.cancelled";
