//! The page's parts, one per file.

pub mod account;
pub mod cart_panel;
pub mod catalogue;
pub mod checkout;
pub mod history;
pub mod order_view;
