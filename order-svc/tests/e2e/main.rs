//! End-to-end tests of order-svc: the checkout saga with the real customer-svc
//! (or a stand-in where a test needs a misbehaving one), on the real
//! PostgreSQL and RabbitMQ. Each test has its own two databases and its own
//! AMQP namespace, and starts the services on ports the OS picks.

mod access;
mod api;
mod api_docs;
mod browser;
mod cleanup;
mod concurrency;
mod consistency;
mod dashboard;
mod faults;
mod fuzz;
mod harness;
mod operating;
mod outage;
mod repair;
mod saga;
mod saga_metrics;
mod trace;
