//! Starting the system for one test, and talking to it as a browser would.
#![allow(dead_code)]

mod http;
mod shop;
mod system;

pub use testkit::{PATIENCE, amqp_url, eventually};

pub use http::send;
pub use shop::{checkout_body, timeline};
pub use system::System;

pub const ADMIN_TOKEN: &str = "test-admin-token";
/// The access-token secret both services of a test system share.
pub const TOKEN_SECRET: &str = "test-access-token-secret-of-32-bytes-or-more";
/// How long the saga waits for customer-svc in tests that are not about
/// that timeout: wide enough for a debug build on a loaded two-core machine
/// (the default is 3 s). Tests about the timeout set a short one themselves.
pub const RPC_TIMEOUT_MS: &str = "10000";
/// Each service's database pool in tests.
pub const DATABASE_MAX_CONNECTIONS: &str = "4";
/// Test queues vanish two minutes after their last use.
pub const QUEUE_EXPIRY_MS: &str = "120000";
