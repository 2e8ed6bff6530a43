//! Hostile HTTP input against the real order-svc, with the real customer-svc
//! behind it: [`REQUESTS`] requests, generated up front by proptest from a
//! fixed seed (the same requests every run), over every route of the
//! contract: methods × paths (valid ids, random UUIDs, garbage, encoded
//! control characters, overlong segments), query strings, bodies (valid ones
//! with a field of another type, random bytes, truncated JSON, deep nesting,
//! huge numbers, duplicate keys, wrong content types) and headers (garbage
//! `Authorization`, `Idempotency-Key`, `Origin`), as the admin, a shopper
//! (an account's token, an order's token) and anonymous. Whatever comes: no
//! 5xx, every 4xx in the contract's error shape, and no row written that no
//! successful answer accounts for. `FUZZ_ROUTES=1` prints what each route
//! answered.

mod bodies;
mod effects;
mod fixture;
mod plans;
mod snapshot;

use std::time::Instant;

use uuid::Uuid;

use testkit::hostile_http;

use crate::harness::*;
use effects::Effects;
use fixture::{Fixture, Slot};
use plans::generate;
use snapshot::Snapshot;

/// Requests sent: a matrix of every route × method × caller, then random ones.
const REQUESTS: usize = 2_000;
/// The account whose token the shopper's requests carry.
const ACCOUNT_EMAIL: &str = "fuzz-account@example.com";
/// The seeded catalogue (`migrations/orders/*_seed_demo_catalogue.sql`).
const SEEDED_PRODUCTS: u128 = 14;

type Plan = hostile_http::Plan<Slot>;

#[tokio::test]
async fn hostile_requests_get_a_4xx_in_the_error_shape_and_write_nothing() {
    let started = Instant::now();
    let mut system = System::without_services().await;
    system.start_customer_svc().await;
    // The checkout quota would turn most checkouts into 429s before their
    // bodies are read; it has a test of its own.
    system
        .start_order_svc(&[("CHECKOUT_RATE_PER_MINUTE", "1000000")])
        .await;
    let fixture = Fixture::create(&system).await;

    let plans = generate();
    let client = hostile_http::client();
    let base = system.order_url("");
    let fill = |slot: &Slot| fixture.fill(slot);
    let requests = hostile_http::render_all(&plans, &base, ADMIN_TOKEN, &fill, &client);

    let before = Snapshot::take(&system).await;
    let answers = hostile_http::send_all(&client, &requests).await;
    let after = Snapshot::take(&system).await;

    let effects = Effects::of(&requests, &answers, &fixture);
    let unexplained = effects.unexplained(&before, &after, &requests);
    assert_eq!(requests.len(), REQUESTS);
    hostile_http::judge(
        "order-svc",
        &requests,
        &answers,
        unexplained,
        started.elapsed(),
    );
    system.stop().await;
}

#[test]
fn the_requests_are_the_same_every_run() {
    hostile_http::assert_deterministic(generate, REQUESTS);
}

/// Found by the test above: a UI path the file system cannot open (a name
/// longer than it allows, a NUL, a file taken for a directory) was a 500.
#[tokio::test]
async fn a_ui_path_the_file_system_cannot_open_is_a_404() {
    let dir = std::env::temp_dir().join(format!("fuzz-ui-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("a UI directory");
    std::fs::write(dir.join("index.html"), "<html></html>").expect("index.html");
    let mut system = System::without_services().await;
    let ui_dir = dir.to_str().expect("a UTF-8 path").to_owned();
    system.start_order_svc(&[("UI_DIR", &ui_dir)]).await;

    for path in [
        format!("/{}", "a".repeat(300)),
        format!("/x/{}/y", "é".repeat(200)),
        "/index.html/inside-a-file".to_owned(),
        "/a%00b".to_owned(),
    ] {
        let (status, body) = system.get_as(&system.order_url(&path), None).await;
        assert_eq!(status, 404, "{path}: {body}");
        assert_eq!(body["error"]["code"], "not_found", "{path}");
    }
    let (status, _) = system.get_as(&system.order_url("/"), None).await;
    assert_eq!(status, 200, "the UI is still served");
    system.stop().await;
    std::fs::remove_dir_all(dir).expect("removed");
}
