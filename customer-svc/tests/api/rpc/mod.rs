//! The saga participant over the real broker: verify_or_create and release_credit.

mod credit_release;
mod delivery;
mod verify_or_create;
