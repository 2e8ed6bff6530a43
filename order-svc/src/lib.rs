//! order-svc: the catalogue, stock and orders behind a REST API, and the
//! orchestrator of the checkout saga (record the order, verify the customer and
//! reserve credit over AMQP request/reply, reserve stock, confirm, publish
//! `order.confirmed`; compensate when the customer is refused, the reply times
//! out, or stock runs short).

pub mod config;
pub mod consistency;
pub mod db;
pub mod domain;
pub mod http;
pub mod relay;
pub mod saga;
mod startup;
pub mod usecases;

pub use config::Config;
pub use startup::Application;
