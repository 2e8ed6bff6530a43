//! What customer-svc does, apart from how it is asked: each use case takes
//! typed inputs (parsed at the edge) and returns a typed result or its own
//! error enum. The HTTP handlers and the RPC handlers only parse, call one of
//! these and render; how each error is answered is decided at each boundary,
//! once (`http::errors`, `rpc`).

mod accounts;
mod credit;
mod dead_letters;
mod order_history;
mod sessions;

pub use accounts::{AccountError, Accounts};
pub use credit::{CreditDesk, CreditError};
pub use dead_letters::{DeadLetterDesk, RepairError};
pub use order_history::{HistoryError, HistoryPage, OrderHistory};
pub use sessions::{Session, Sessions, SignInError};
