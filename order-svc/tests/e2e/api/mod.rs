//! order-svc's REST API on its own: catalogue reads and admin writes, order
//! validation, errors, health and the UI.

mod checkout;
mod health_and_ui;
mod hostile_input;
mod products;

use crate::harness::*;

async fn order_svc_alone() -> System {
    let mut system = System::without_services().await;
    system.start_order_svc(&[]).await;
    system
}
