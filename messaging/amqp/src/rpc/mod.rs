//! Request/reply over AMQP: the caller's side ([`RpcClient`]), the serving side
//! ([`RpcServer`] with an [`RpcRouter`]), and the reply's wire shape.

mod client;
mod reply;
mod server;

pub use client::{CallOptions, RpcClient};
pub use server::{RpcContext, RpcRouter, RpcServer};
