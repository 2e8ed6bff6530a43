//! `saga_duration_seconds{outcome}` on `/metrics`: each saga's life from its
//! stored start to its end, by how it ended, also for a saga that another
//! instance resumed.

use std::time::Instant;

use crate::harness::*;

async fn durations(system: &System, outcome: &str) -> (f64, f64) {
    let text = system
        .http
        .get(system.order_url("/metrics"))
        .send()
        .await
        .expect("/metrics answers")
        .text()
        .await
        .expect("a text exposition");
    let series =
        |name| testkit::exposition::value(&text, name, &[("outcome", outcome)]).unwrap_or_default();
    (
        series("saga_duration_seconds_count"),
        series("saga_duration_seconds_sum"),
    )
}

#[tokio::test]
async fn each_saga_is_timed_from_its_stored_start_to_its_end_by_outcome() {
    // customer-svc away: the saga times out and waits to compensate.
    let mut system = System::without_services().await;
    system.start_order_svc(&[("RPC_TIMEOUT_MS", "1000")]).await;
    let mug = system.product("12.50", 1).await;
    let yacht = system.product("6000.00", 1).await;
    let (_, timed_out) = system.checkout("timed@example.com", &[(&mug, 1)]).await;
    assert_eq!(timed_out["status"], "rejected", "{timed_out}");
    let answered = Instant::now();
    // Another instance resumes the saga once customer-svc is back.
    system.orders.remove(0).stop().await;
    system.start_customer_svc().await;
    system.start_order_svc(&[]).await;
    let resumed_after = answered.elapsed().as_secs_f64();
    let (count, sum) = eventually(PATIENCE, "the resumed saga compensated", || async {
        let (count, sum) = durations(&system, "compensated").await;
        (count == 1.0).then_some((count, sum))
    })
    .await;
    assert_eq!(count, 1.0);
    assert!(
        sum > resumed_after,
        "timed from its start on the first instance: {sum} s, resumed after {resumed_after} s"
    );

    let (_, confirmed) = system.checkout("timed@example.com", &[(&mug, 1)]).await;
    assert_eq!(confirmed["status"], "confirmed", "{confirmed}");
    let (_, refused) = system.checkout("timed@example.com", &[(&yacht, 1)]).await;
    assert_eq!(refused["reason"], "credit_limit_exceeded", "{refused}");
    let (_, short) = system.checkout("timed@example.com", &[(&mug, 1)]).await;
    assert_eq!(short["reason"], "insufficient_stock", "{short}");

    assert_eq!(durations(&system, "confirmed").await.0, 1.0);
    assert_eq!(durations(&system, "rejected").await.0, 1.0, "the refusal");
    eventually(PATIENCE, "the short order's credit released", || async {
        (durations(&system, "compensated").await.0 == 2.0).then_some(())
    })
    .await;
    system.stop().await;
}
