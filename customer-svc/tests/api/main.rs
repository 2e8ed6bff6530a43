//! Black-box tests of customer-svc: each test starts the real service on a
//! port the OS picks, with a fresh database and its own AMQP namespace, on the
//! real PostgreSQL and RabbitMQ.

mod api_docs;
mod customers;
mod dead_letters;
mod events;
mod fuzz;
mod health;
mod helpers;
mod rpc;
mod sessions;
