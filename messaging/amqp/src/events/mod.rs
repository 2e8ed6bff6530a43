//! Domain events on the namespace's topic exchange: confirmed publishing and
//! acknowledged, dead-lettering subscribers.

mod publisher;
mod subscriber;

pub use publisher::EventPublisher;
pub use subscriber::EventSubscriber;
