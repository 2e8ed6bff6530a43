//! Hostile HTTP input against the real customer-svc: [`REQUESTS`] requests,
//! generated up front by proptest from a fixed seed (the same requests every
//! run), over every route of the contract: methods × paths (valid ids,
//! random UUIDs, garbage, encoded control characters, overlong segments),
//! query strings, bodies (valid ones with a field of another type, random
//! bytes, truncated JSON, deep nesting, huge numbers, duplicate keys, wrong
//! content types) and headers (garbage `Authorization`, `Origin`), as the
//! admin, a signed-in customer (and an order's token, an expired token) and
//! anonymous. Whatever comes: no 5xx, every 4xx in the contract's error
//! shape, and no row written that no successful answer accounts for.
//! `FUZZ_ROUTES=1` prints what each route answered.

mod bodies;
mod effects;
mod fixture;
mod plans;
mod snapshot;

use std::time::Instant;

use testkit::hostile_http;

use crate::helpers::*;
use effects::Effects;
use fixture::{Fixture, Slot};
use plans::generate;
use snapshot::Snapshot;

/// Requests sent: a matrix of every route × method × caller, then random ones.
const REQUESTS: usize = 2_000;
/// The account whose token the shopper's requests carry.
const ACCOUNT_EMAIL: &str = "fuzz-account@example.com";
const ACCOUNT_PASSWORD: &str = "a passphrase long enough";
/// The seeded customers (`migrations/customers/*_seed_demo_customers.sql`).
const SEEDED_CUSTOMERS: u128 = 5;

type Plan = hostile_http::Plan<Slot>;

#[tokio::test]
async fn hostile_requests_get_a_4xx_in_the_error_shape_and_write_nothing() {
    let started = Instant::now();
    let app = TestApp::spawn().await;
    let fixture = Fixture::create(&app).await;

    let plans = generate();
    let client = hostile_http::client();
    let fill = |slot: &Slot| fixture.fill(slot);
    let requests = hostile_http::render_all(&plans, &app.base, ADMIN_TOKEN, &fill, &client);

    let database = sqlx::PgPool::connect(&app.database_url)
        .await
        .expect("the database");
    let before = Snapshot::take(&database).await;
    let answers = hostile_http::send_all(&client, &requests).await;
    let after = Snapshot::take(&database).await;
    database.close().await;

    let unexplained = Effects::of(&requests, &answers).unexplained(&before, &after, &requests);
    assert_eq!(requests.len(), REQUESTS);
    hostile_http::judge(
        "customer-svc",
        &requests,
        &answers,
        unexplained,
        started.elapsed(),
    );
    app.stop().await;
}

#[test]
fn the_requests_are_the_same_every_run() {
    hostile_http::assert_deterministic(generate, REQUESTS);
}
