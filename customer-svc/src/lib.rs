//! customer-svc: customers and their credit behind a REST API, the checkout
//! saga's participant over AMQP request/reply, and each customer's order
//! history kept in sync from order events.

pub mod config;
pub mod consumers;
pub mod db;
pub mod domain;
pub mod http;
pub mod rpc;
mod startup;
pub mod sweeper;
pub mod usecases;

pub use config::Config;
pub use startup::Application;
