//! What an operator is promised in the contract's "Operating it": the
//! backlog gauges on `/metrics`, and `X-Request-Id` on every answer of both
//! services.

use crate::harness::*;

/// The value of an unlabelled gauge (or counter) in a Prometheus text exposition.
pub(crate) fn gauge(exposition: &str, name: &str) -> Option<f64> {
    exposition.lines().find_map(|line| {
        let (metric, value) = line.split_once(' ')?;
        (metric == name).then(|| value.trim().parse().ok())?
    })
}

pub(crate) async fn metrics(system: &System) -> String {
    system
        .http
        .get(system.order_url("/metrics"))
        .send()
        .await
        .expect("order-svc answers /metrics")
        .text()
        .await
        .expect("a text exposition")
}

#[tokio::test]
async fn the_gauges_count_a_saga_in_flight_until_it_ends() {
    let mut system = System::without_services().await;
    // Without customer-svc the saga is rejected after a short RPC timeout,
    // and its compensation stays in flight until customer-svc is back.
    system.start_order_svc(&[("RPC_TIMEOUT_MS", "1000")]).await;
    let mug = system.product("12.50", 10).await;
    let (_, order) = system.checkout("gauges@example.com", &[(&mug, 1)]).await;
    assert_eq!(order["status"], "rejected", "{order}");

    let oldest = eventually(PATIENCE, "the compensating saga in the gauges", || async {
        let exposition = metrics(&system).await;
        let in_flight = gauge(&exposition, "sagas_in_flight")?;
        let oldest = gauge(&exposition, "saga_oldest_in_flight_seconds")?;
        (in_flight == 1.0 && oldest > 0.0).then_some(oldest)
    })
    .await;
    assert!(
        oldest < PATIENCE.as_secs_f64(),
        "its age, not a date: {oldest}"
    );

    system.start_customer_svc().await;
    eventually(PATIENCE, "no saga and no event left in flight", || async {
        let exposition = metrics(&system).await;
        let ended = gauge(&exposition, "sagas_in_flight")? == 0.0
            && gauge(&exposition, "saga_oldest_in_flight_seconds")? == 0.0
            && gauge(&exposition, "outbox_backlog")? == 0.0
            && gauge(&exposition, "outbox_oldest_unsent_seconds")? == 0.0;
        ended.then_some(())
    })
    .await;
    system.stop().await;
}

#[tokio::test]
async fn every_answer_of_both_services_carries_a_request_id() {
    let system = System::start().await;
    for url in [
        system.order_url("/api/v1/products"),
        system.order_url("/api/v1/no-such-route"),
        system.customer_url("/api/v1/customers"),
        system.customer_url("/healthz"),
    ] {
        let sent = system
            .http
            .get(&url)
            .header("x-request-id", "operator-trace-7")
            .send()
            .await
            .expect("an answer");
        assert_eq!(
            sent.headers()["x-request-id"],
            "operator-trace-7",
            "the caller's id echoed: {url}"
        );
        let fresh = system.http.get(&url).send().await.expect("an answer");
        let id = fresh.headers()["x-request-id"].to_str().expect("ASCII");
        assert!(
            uuid::Uuid::parse_str(id).is_ok(),
            "a new id when none was sent: {url} {id}"
        );
    }
    system.stop().await;
}
