//! Orders: recording checkouts (orders, lines, sagas, idempotency keys, a
//! batch of checkouts in one statement), reading them back with their saga
//! timeline, and cancelling. The rows are in `rows`; the queries, by
//! purpose, in `recording`, `reading` and `cancelling`.

mod cancelling;
mod reading;
mod recording;
mod rows;

pub use cancelling::{Cancelled, cancel};
pub use reading::{
    CheckoutDetails, OrderFilter, checkout_details, get, list, owner_of, records_in, status_of,
};
pub use recording::{KeyReused, NewCheckout, order_for_key, record_checkouts};
pub use rows::{LineRow, OrderRecord, OrderRow, StepRow};
