//! What the requests name that exists only once the service runs (an
//! account, customers to change, tokens), and the fixture that fills it in.

use std::time::Duration;

use edge::tokens::AccessTokens;
use uuid::Uuid;

use super::{ACCOUNT_EMAIL, ACCOUNT_PASSWORD, SEEDED_CUSTOMERS};
use crate::helpers::{TOKEN_SECRET, TestApp};

/// What a request names that exists only once the service runs.
#[derive(Debug, Clone)]
pub(super) enum Slot {
    /// A seeded customer.
    Seeded(u128),
    /// The signed-in account.
    Account,
    /// Customers the requests may change and remove.
    Victim(u8),
    AccountToken,
    /// A token for an order (of order-svc): valid, but for no customer.
    OrderToken,
    /// The account's token, expired.
    ExpiredToken,
}

fn seeded_customer(index: u128) -> Uuid {
    Uuid::from_u128(0x0193a000_0000_7000_8000_000000000001 + (index % SEEDED_CUSTOMERS))
}

/// What the requests refer to that only exists once the service runs.
pub(super) struct Fixture {
    account: Uuid,
    account_token: String,
    victims: Vec<Uuid>,
    order_token: String,
    expired_token: String,
}

impl Fixture {
    pub(super) async fn create(app: &TestApp) -> Self {
        let (account, account_token) = app.sign_up(ACCOUNT_EMAIL, ACCOUNT_PASSWORD).await;
        let mut victims = Vec::new();
        for n in 0..3 {
            let victim = app
                .create_customer(&format!("fuzz-victim-{n}@example.com"), "Victim")
                .await;
            victims.push(victim["id"].as_str().expect("id").parse().expect("a uuid"));
        }
        let account: Uuid = account.parse().expect("a uuid");
        let tokens = AccessTokens::new(TOKEN_SECRET.as_bytes(), Duration::from_secs(3600));
        Self {
            account,
            account_token,
            victims,
            order_token: tokens.for_order(Uuid::new_v4()).expect("a token").token,
            expired_token: tokens.expired_for_customer(
                account,
                ACCOUNT_EMAIL,
                Duration::from_secs(60),
            ),
        }
    }

    pub(super) fn fill(&self, slot: &Slot) -> String {
        match slot {
            Slot::Seeded(n) => seeded_customer(*n).to_string(),
            Slot::Account => self.account.to_string(),
            Slot::Victim(n) => self.victims[usize::from(*n) % self.victims.len()].to_string(),
            Slot::AccountToken => self.account_token.clone(),
            Slot::OrderToken => self.order_token.clone(),
            Slot::ExpiredToken => self.expired_token.clone(),
        }
    }
}
