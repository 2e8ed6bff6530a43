//! What the requests name that exists only once the system runs (a product,
//! an order, a customer, their tokens), and the fixture that fills it in.

use uuid::Uuid;

use super::{ACCOUNT_EMAIL, SEEDED_PRODUCTS};
use crate::harness::System;

/// What a request names that exists only once the system runs.
#[derive(Debug, Clone)]
pub(super) enum Slot {
    /// A product of the seeded catalogue.
    Seeded(u128),
    /// The fixture's own product, which requests may change and retire.
    Product,
    Order,
    Customer,
    OrderToken,
    CustomerToken,
}

pub(super) fn seeded_product(index: u128) -> Uuid {
    Uuid::from_u128(0x0193b000_0000_7000_8000_000000000001 + (index % SEEDED_PRODUCTS))
}

/// What the requests refer to that only exists once the system runs.
pub(super) struct Fixture {
    product: Uuid,
    order: Uuid,
    order_token: String,
    customer: Uuid,
    customer_token: String,
    /// Customers whose credit and history the fixture's own writes change.
    pub(super) emails: Vec<String>,
}

impl Fixture {
    pub(super) async fn create(system: &System) -> Self {
        let product = system.product("7.50", 1000).await;
        let (customer, customer_token) = system.sign_up(ACCOUNT_EMAIL).await;
        let email = "fuzz-fixture@example.com";
        let (status, order) = system.checkout(email, &[(&product, 1)]).await;
        assert_eq!(status, 201, "{order}");
        Self {
            product: product.parse().expect("product id"),
            order: order["id"]
                .as_str()
                .and_then(|id| id.parse().ok())
                .expect("order id"),
            order_token: order["access_token"].as_str().expect("token").to_owned(),
            customer: customer.parse().expect("customer id"),
            customer_token,
            emails: vec![email.to_owned(), ACCOUNT_EMAIL.to_owned()],
        }
    }

    pub(super) fn fill(&self, slot: &Slot) -> String {
        match slot {
            Slot::Seeded(n) => seeded_product(*n).to_string(),
            Slot::Product => self.product.to_string(),
            Slot::Order => self.order.to_string(),
            Slot::Customer => self.customer.to_string(),
            Slot::OrderToken => self.order_token.clone(),
            Slot::CustomerToken => self.customer_token.clone(),
        }
    }
}
