//! The saga participant over the real broker: verify_or_create and release_credit.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use amqp::lapin::{
    BasicProperties, Connection, ConnectionProperties,
    options::BasicPublishOptions,
    types::{AMQPValue, FieldTable},
};
use contract::{RefusalReason, VerifyOrCreateReply};
use uuid::Uuid;

use crate::helpers::*;

#[tokio::test]
async fn a_new_email_creates_the_customer_and_reserves_the_amount() {
    let app = TestApp::spawn().await;

    let reply = app
        .verify_or_create(Uuid::new_v4(), "Fresh@Example.com", "Fresh Face", "120.50")
        .await
        .unwrap();

    let VerifyOrCreateReply::Reserved { customer_id } = reply else {
        panic!("{reply:?}")
    };
    let customer = app
        .customer_by_email("fresh@example.com")
        .await
        .expect("created");
    assert_eq!(customer["id"], customer_id.to_string());
    assert_eq!(customer["name"], "Fresh Face");
    assert_eq!(customer["credit_available"], "4879.50");
    app.stop().await;
}

#[tokio::test]
async fn an_existing_customer_is_found_and_keeps_its_name() {
    let app = TestApp::spawn().await;

    let reply = app
        .verify_or_create(Uuid::new_v4(), "ADA@example.com", "Someone Else", "10.00")
        .await
        .unwrap();

    assert_eq!(
        reply,
        VerifyOrCreateReply::Reserved {
            customer_id: ADA.parse().unwrap()
        }
    );
    let (_, ada) = app.get(&format!("/api/v1/customers/{ADA}")).await;
    assert_eq!(ada["name"], "Ada Lovelace");
    assert_eq!(ada["credit_available"], "4990.00");
    app.stop().await;
}

#[tokio::test]
async fn a_blocked_customer_is_refused_and_nothing_is_reserved() {
    let app = TestApp::spawn().await;

    let reply = app
        .verify_or_create(Uuid::new_v4(), BLOCKED_EMAIL, "Mallory", "1.00")
        .await
        .unwrap();

    assert!(
        matches!(
            reply,
            VerifyOrCreateReply::Refused {
                reason: RefusalReason::CustomerBlocked,
                customer_id: Some(_)
            }
        ),
        "{reply:?}"
    );
    assert_eq!(app.credit_available(BLOCKED_EMAIL).await, "5000.00");
    app.stop().await;
}

#[tokio::test]
async fn an_amount_in_another_currency_than_the_shops_is_refused_as_invalid() {
    let app = TestApp::spawn().await;

    let request = contract::VerifyOrCreateRequest {
        saga_id: Uuid::new_v4(),
        email: contract::Email::parse("dollars@example.com").unwrap(),
        name: contract::PersonName::parse("Dee Dollar").unwrap(),
        amount: contract::Money::parse("10.00").unwrap(),
        currency: contract::Currency::parse("USD").expect("a currency"),
        customer_id: None,
    };
    let refused = app.verify_or_create_request(&request).await;

    match refused {
        Err(amqp::RpcError::Remote { code, message }) => {
            assert_eq!(code, contract::ErrorCode::InvalidRequest);
            assert!(
                message.contains("EUR") && message.contains("USD"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(
        app.customer_by_email("dollars@example.com").await.is_none(),
        "nothing is written for a refused request"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_amount_over_the_available_credit_is_refused() {
    let app = TestApp::spawn().await;

    let over = app
        .verify_or_create(Uuid::new_v4(), LOW_CREDIT_EMAIL, "Lou", "50.01")
        .await
        .unwrap();
    let exact = app
        .verify_or_create(Uuid::new_v4(), LOW_CREDIT_EMAIL, "Lou", "50.00")
        .await
        .unwrap();
    let more = app
        .verify_or_create(Uuid::new_v4(), LOW_CREDIT_EMAIL, "Lou", "0.01")
        .await
        .unwrap();

    assert!(
        matches!(
            over,
            VerifyOrCreateReply::Refused {
                reason: RefusalReason::CreditLimitExceeded,
                ..
            }
        ),
        "{over:?}"
    );
    assert!(
        matches!(exact, VerifyOrCreateReply::Reserved { .. }),
        "{exact:?}"
    );
    assert!(
        matches!(
            more,
            VerifyOrCreateReply::Refused {
                reason: RefusalReason::CreditLimitExceeded,
                ..
            }
        ),
        "{more:?}"
    );
    assert_eq!(app.credit_available(LOW_CREDIT_EMAIL).await, "0.00");
    app.stop().await;
}

#[tokio::test]
async fn a_redelivered_request_gets_the_same_answer_and_reserves_once() {
    let app = TestApp::spawn().await;
    let saga = Uuid::new_v4();

    let first = app
        .verify_or_create(saga, "again@example.com", "Again", "100.00")
        .await
        .unwrap();
    let second = app
        .verify_or_create(saga, "again@example.com", "Again", "100.00")
        .await
        .unwrap();
    let (third, fourth) = tokio::join!(
        app.verify_or_create(saga, "again@example.com", "Again", "100.00"),
        app.verify_or_create(saga, "again@example.com", "Again", "100.00"),
    );

    assert_eq!(first, second);
    assert_eq!(first, third.unwrap());
    assert_eq!(first, fourth.unwrap());
    assert_eq!(app.credit_available("again@example.com").await, "4900.00");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sagas_for_one_new_email_create_one_customer() {
    let app = TestApp::spawn().await;

    let calls =
        (0..10).map(|_| app.verify_or_create(Uuid::new_v4(), "race@example.com", "Racer", "10.00"));
    let replies = futures_util::future::join_all(calls).await;

    let ids: std::collections::HashSet<_> = replies
        .into_iter()
        .map(|reply| match reply.unwrap() {
            VerifyOrCreateReply::Reserved { customer_id } => customer_id,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(ids.len(), 1, "one customer for one email");
    let (_, list) = app.get("/api/v1/customers?email=race@example.com").await;
    assert_eq!(list["total"], 1);
    assert_eq!(app.credit_available("race@example.com").await, "4900.00");
    app.stop().await;
}

#[tokio::test]
async fn concurrent_sagas_of_one_customer_never_hold_more_than_its_limit() {
    // Verifications that arrive together are decided in one transaction,
    // each against the holds decided before it in that batch.
    let app = TestApp::spawn_with(&[("DEFAULT_CREDIT_LIMIT", "50.00")]).await;

    let calls = (0..20)
        .map(|_| app.verify_or_create(Uuid::new_v4(), "frugal@example.com", "Frugal", "10.00"));
    let replies = futures_util::future::join_all(calls).await;

    let mut reserved = 0;
    for reply in replies {
        match reply.unwrap() {
            VerifyOrCreateReply::Reserved { .. } => reserved += 1,
            VerifyOrCreateReply::Refused { reason, .. } => {
                assert_eq!(reason, contract::RefusalReason::CreditLimitExceeded)
            }
        }
    }
    assert_eq!(reserved, 5, "50.00 holds five sagas of 10.00");
    assert_eq!(app.credit_available("frugal@example.com").await, "0.00");
    app.stop().await;
}

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
async fn a_request_past_its_deadline_is_dropped_without_side_effects() {
    let app = TestApp::spawn_with(&[("RPC_PREFETCH", "1")]).await;
    let connection = Connection::connect(
        &std::env::var("AMQP_URL").unwrap_or_else(|_| amqp::AmqpSettings::DEFAULT_URL.into()),
        ConnectionProperties::default(),
    )
    .await
    .unwrap();
    let channel = connection.create_channel().await.unwrap();
    let expired_at = SystemTime::now() - Duration::from_secs(5);
    let mut headers = FieldTable::default();
    headers.insert(
        "x-deadline-ms".into(),
        AMQPValue::LongLongInt(expired_at.duration_since(UNIX_EPOCH).unwrap().as_millis() as i64),
    );
    let stale = serde_json::json!({
        "message_id": Uuid::new_v4(), "type": contract::CUSTOMER_VERIFY_OR_CREATE, "schema_version": 1,
        "correlation_id": "stale", "causation_id": null, "timestamp": "2026-01-01T00:00:00Z",
        "payload": {"saga_id": Uuid::new_v4(), "email": "stale@example.com", "name": "Stale",
                    "amount": "10.00", "currency": "EUR"}
    });

    channel
        .basic_publish(
            "".into(),
            amqp::system::customer_rpc_queue(&app.namespace)
                .as_str()
                .into(),
            BasicPublishOptions::default(),
            stale.to_string().as_bytes(),
            BasicProperties::default()
                .with_reply_to(app.rpc.reply_queue().into())
                .with_correlation_id("stale-call".into())
                .with_type(contract::CUSTOMER_VERIFY_OR_CREATE.into())
                .with_headers(headers),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    // With one request at a time, this call is served after the stale one was settled.
    app.verify_or_create(Uuid::new_v4(), "fresh2@example.com", "Fresh", "1.00")
        .await
        .unwrap();

    assert!(
        app.customer_by_email("stale@example.com").await.is_none(),
        "the stale request created nothing"
    );
    let _ = connection.close(200, "done".into()).await;
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

#[tokio::test]
async fn a_request_waits_out_a_database_outage_while_its_caller_waits() {
    // The service reaches its database through a proxy the test can close.
    let (app, proxy) = TestApp::spawn_behind_database_proxy().await;

    proxy.refuse();
    let saga_id = uuid::Uuid::new_v4();
    let (answer, ()) = tokio::join!(
        app.verify_or_create(saga_id, "patient@example.com", "Patient", "12.00"),
        async {
            eventually(
                3 * PATIENCE,
                "the request tried through the outage",
                || async {
                    (app.counter("rpc_server_transient_retries_total").await >= 3.0).then_some(())
                },
            )
            .await;
            proxy.accept_again();
        }
    );

    assert!(
        matches!(answer, Ok(contract::VerifyOrCreateReply::Reserved { .. })),
        "answered once the database was back: {answer:?}"
    );
    assert_eq!(app.credit_available("patient@example.com").await, "4988.00");
    app.stop().await;
}
