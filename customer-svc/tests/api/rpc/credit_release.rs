//! Credit given back: a release (once, or ahead of its reserve, fencing it)
//! and a reservation no confirmation settles lapsing after its TTL.

use contract::{RefusalReason, VerifyOrCreateReply};
use uuid::Uuid;

use crate::helpers::*;

#[tokio::test]
async fn a_release_gives_the_credit_back_once() {
    let app = TestApp::spawn().await;
    let saga = Uuid::new_v4();
    app.verify_or_create(saga, "giver@example.com", "Giver", "250.00")
        .await
        .unwrap();

    let first = app.release_credit(saga).await;
    let second = app.release_credit(saga).await;

    assert_eq!(first.released.to_string(), "250.00");
    assert_eq!(second.released.to_string(), "0.00");
    assert_eq!(app.credit_available("giver@example.com").await, "5000.00");
    app.stop().await;
}

#[tokio::test]
async fn a_release_that_overtakes_its_reserve_fences_it() {
    let app = TestApp::spawn().await;
    let saga = Uuid::new_v4();

    let released = app.release_credit(saga).await;
    let late = app
        .verify_or_create(saga, "late@example.com", "Late", "80.00")
        .await
        .unwrap();
    let again = app
        .verify_or_create(saga, "late@example.com", "Late", "80.00")
        .await
        .unwrap();

    assert_eq!(released.released.to_string(), "0.00");
    assert!(
        matches!(
            late,
            VerifyOrCreateReply::Refused {
                reason: RefusalReason::SagaReleased,
                ..
            }
        ),
        "{late:?}"
    );
    assert_eq!(late, again);
    assert_eq!(
        app.customer_by_email("late@example.com").await,
        None,
        "a fenced saga creates no customer and holds no credit"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_reservation_no_confirmation_settles_lapses_after_its_ttl() {
    let app =
        TestApp::spawn_with(&[("RESERVATION_TTL", "1s"), ("LEASE_SWEEP_INTERVAL", "100ms")]).await;
    let (held, settled) = (Uuid::new_v4(), Uuid::new_v4());
    app.verify_or_create(held, "lease@example.com", "Lease", "100.00")
        .await
        .unwrap();
    let VerifyOrCreateReply::Reserved { customer_id } = app
        .verify_or_create(settled, "lease@example.com", "Lease", "30.00")
        .await
        .unwrap()
    else {
        panic!("reserved")
    };
    app.publish(
        contract::ORDER_CONFIRMED,
        contract::OrderConfirmed {
            order_id: Uuid::new_v4(),
            saga_id: settled,
            customer_id,
            total: contract::Money::parse("30.00").unwrap(),
            currency: contract::Currency::default(),
            item_count: 1,
            placed_at: chrono::Utc::now(),
        },
        Uuid::new_v4(),
    )
    .await;
    assert_eq!(app.credit_available("lease@example.com").await, "4870.00");

    eventually(PATIENCE, "the unsettled reservation to lapse", || async {
        (app.credit_available("lease@example.com").await == "4970.00").then_some(())
    })
    .await;
    let late = app
        .verify_or_create(held, "lease@example.com", "Lease", "100.00")
        .await
        .unwrap();
    assert!(
        matches!(
            late,
            VerifyOrCreateReply::Refused {
                reason: RefusalReason::SagaReleased,
                ..
            }
        ),
        "{late:?}"
    );
    app.stop().await;
}
