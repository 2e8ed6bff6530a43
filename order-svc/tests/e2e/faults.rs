//! Faults: order-svc killed mid-saga, and a customer service that answers
//! twice or too late.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    sync::{Arc, Mutex},
};

use amqp::lapin::{
    BasicProperties, Connection, ConnectionProperties,
    options::{BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions},
    types::FieldTable,
};
use futures_util::StreamExt;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::*;

/// The restarted instance takes the saga over once this lease lapses: as
/// short as the configuration allows beside the wide RPC timeout.
const RESTART_LEASE: &str = "11s";

#[tokio::test]
async fn a_saga_interrupted_between_customer_svcs_answer_and_its_commit_finishes_after_a_restart() {
    let mut system = System::without_services().await;
    let (mug, order_id, pool) =
        crash_after_verification(&mut system, "crash@example.com", RESTART_LEASE).await;
    assert_eq!(system.stock_of_db(&pool, &mug).await, 10);

    system.start_order_svc(&[]).await;
    let order = system
        .order_when(&order_id.to_string(), "the resumed saga to finish", |o| {
            o["status"] != "pending"
        })
        .await;
    assert_eq!(order["status"], "confirmed", "{order}");
    assert_eq!(system.stock_of(&mug).await, 7);
    let customer_id = order["customer_id"].as_str().unwrap().to_owned();
    eventually(PATIENCE, "the order in the customer's history", || async {
        (system.history(&customer_id).await["total"] == 1).then_some(())
    })
    .await;
    let customer = system.customer("crash@example.com").await.unwrap();
    assert_eq!(
        customer["credit_available"], "4962.50",
        "credit reserved once"
    );
    pool.close().await;
    system.stop().await;
}

#[tokio::test]
async fn a_saga_resumed_at_reserve_stock_that_finds_too_little_is_rejected_and_its_credit_released()
{
    let mut system = System::without_services().await;
    let (mug, order_id, pool) =
        crash_after_verification(&mut system, "short@example.com", RESTART_LEASE).await;
    // As an earlier version left it: step 2 committed on its own, then the
    // process stopped; meanwhile the stock ran low.
    let customer = system.customer("short@example.com").await.unwrap();
    assert_eq!(customer["credit_available"], "4962.50", "credit held");
    let customer_id: Uuid = customer["id"].as_str().unwrap().parse().unwrap();
    sqlx::query(
        "UPDATE sagas SET step = 'reserve_stock', attempt = 1, deadline = NULL,
                          customer_id = $1, lease_owner = NULL, lease_expires_at = NULL",
    )
    .bind(customer_id)
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("UPDATE products SET stock = 2")
        .execute(&pool)
        .await
        .unwrap();

    system.start_order_svc(&[]).await;
    let order = system
        .order_when(&order_id.to_string(), "the resumed saga to finish", |o| {
            o["status"] != "pending"
        })
        .await;
    assert_eq!(order["status"], "rejected", "{order}");
    assert_eq!(order["reason"], "insufficient_stock", "{order}");
    assert_eq!(system.stock_of(&mug).await, 2, "no stock taken");
    eventually(PATIENCE, "the held credit released", || async {
        let customer = system.customer("short@example.com").await?;
        (customer["credit_available"] == "5000.00").then_some(())
    })
    .await;
    let confirmed: i64 =
        sqlx::query_scalar("SELECT count(*) FROM outbox WHERE message_type = 'order.confirmed'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(confirmed, 0, "no order.confirmed queued");
    pool.close().await;
    system.stop().await;
}

/// Starts customer-svc, seeds a product (10 units at 12.50), and checks out
/// 3 of it for `email` on an order-svc process that aborts once customer-svc
/// has answered step 2, before the answer is committed; the dead process
/// holds the saga's lease for `lease`. Returns the product, the order, and a
/// pool on the orders database; no order-svc is left running.
pub(crate) async fn crash_after_verification(
    system: &mut System,
    email: &str,
    lease: &str,
) -> (String, Uuid, sqlx::PgPool) {
    system.start_customer_svc().await;
    // Seed a product through a normal instance first.
    system.start_order_svc(&[]).await;
    let mug = system.product("12.50", 10).await;
    system.orders.pop().expect("instance").stop().await;

    let mut child = Command::new(env!("CARGO_BIN_EXE_order-svc"))
        .envs(system.order_env())
        .env("LOG_FORMAT", "json")
        .env("FAULT_CRASH_AFTER", "verify_customer")
        .env("SAGA_LEASE", lease)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("order-svc binary starts");
    let stdout = child.stdout.take().expect("stdout");
    // Bounded: a child that never says so fails the test, not hangs it.
    let reader = tokio::task::spawn_blocking(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .filter_map(|line| serde_json::from_str::<Value>(&line).ok())
            .find(|line| line["message"] == "order-svc listening")
            .and_then(|line| line["address"].as_str().map(str::to_owned))
    });
    let address = tokio::time::timeout(PATIENCE, reader)
        .await
        .expect("the child says where it listens within PATIENCE")
        .expect("log reader")
        .expect("the child says where it listens");

    let outcome = system
        .http
        .post(format!("http://{address}/api/v1/orders"))
        .json(&checkout_body(email, &[(&mug, 3)]))
        .send()
        .await;
    assert!(
        outcome.is_err(),
        "the process died before answering: {outcome:?}"
    );
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(!status.success(), "aborted: {status:?}");

    let pool = system.orders_db().await;
    let (order_id, step): (Uuid, String) = sqlx::query_as("SELECT order_id, step FROM sagas")
        .fetch_one(&pool)
        .await
        .expect("the saga was recorded");
    assert_eq!(
        step, "verify_customer",
        "the answer was lost with the process"
    );
    (mug, order_id, pool)
}

impl System {
    async fn stock_of_db(&self, pool: &sqlx::PgPool, product_id: &str) -> i64 {
        let id: Uuid = product_id.parse().unwrap();
        let stock: i32 = sqlx::query_scalar("SELECT stock FROM products WHERE id = $1")
            .bind(id)
            .fetch_one(pool)
            .await
            .unwrap();
        i64::from(stock)
    }
}

/// How the stand-in customer service misbehaves.
#[derive(Clone, Copy)]
enum Stand {
    /// Answers every request twice.
    Twice,
    /// Answers `verify_or_create` only after the saga gave up on it.
    Late,
}

/// A stand-in for customer-svc on the namespace's RPC queue, speaking the
/// wire format directly (so that it can do what the library never would).
/// Returns the task (abort it when done) and the methods it was asked, in order.
async fn stand_in(
    system: &System,
    behaviour: Stand,
    order_svc: String,
) -> (tokio::task::JoinHandle<()>, Arc<Mutex<Vec<String>>>) {
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let connection = Connection::connect(&amqp_url(), ConnectionProperties::default())
        .await
        .unwrap();
    let channel = connection.create_channel().await.unwrap();
    channel
        .basic_qos(8, BasicQosOptions::default())
        .await
        .unwrap();
    let queue = amqp::system::customer_rpc_queue(&system.namespace);
    let mut consumer = channel
        .basic_consume(
            queue.as_str().into(),
            "".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    let http = system.http.clone();
    let log = seen.clone();
    let task = tokio::spawn(async move {
        let _connection = connection;
        while let Some(Ok(delivery)) = consumer.next().await {
            let request: Value = serde_json::from_slice(&delivery.data).unwrap();
            let method = request["type"].as_str().unwrap().to_owned();
            log.lock().unwrap().push(method.clone());
            let result = if method == contract::CUSTOMER_VERIFY_OR_CREATE {
                json!({"outcome": "reserved", "customer_id": Uuid::new_v4()})
            } else {
                json!({"released": "0.00"})
            };
            if matches!(behaviour, Stand::Late) && method == contract::CUSTOMER_VERIFY_OR_CREATE {
                // Wait until order-svc has given up on this request.
                let saga = request["payload"]["saga_id"].as_str().unwrap().to_owned();
                eventually(PATIENCE, "order-svc to give up", || async {
                    let orders: Value = http
                        .get(format!("{order_svc}/api/v1/orders?status=rejected"))
                        .bearer_auth(ADMIN_TOKEN)
                        .send()
                        .await
                        .ok()?
                        .json()
                        .await
                        .ok()?;
                    (orders["total"] == 1).then_some(saga.clone())
                })
                .await;
            }
            let reply = json!({
                "message_id": Uuid::new_v4(), "type": "rpc.reply", "schema_version": 1,
                "correlation_id": request["correlation_id"], "causation_id": request["message_id"],
                "timestamp": chrono::Utc::now(), "payload": {"status": "ok", "result": result}
            });
            let copies = if matches!(behaviour, Stand::Twice) {
                2
            } else {
                1
            };
            for _ in 0..copies {
                channel
                    .basic_publish(
                        "".into(),
                        delivery.properties.reply_to().clone().unwrap(),
                        BasicPublishOptions::default(),
                        reply.to_string().as_bytes(),
                        BasicProperties::default().with_correlation_id(
                            delivery.properties.correlation_id().clone().unwrap(),
                        ),
                    )
                    .await
                    .unwrap()
                    .await
                    .unwrap();
            }
            delivery
                .acker
                .ack(BasicAckOptions::default())
                .await
                .unwrap();
        }
    });
    (task, seen)
}

#[tokio::test]
async fn duplicate_replies_change_nothing_twice() {
    let mut system = System::without_services().await;
    system.start_order_svc(&[]).await;
    let mug = system.product("12.50", 10).await;
    let (stand, seen) = stand_in(&system, Stand::Twice, system.orders[0].base.clone()).await;

    let (status, order) = system.checkout("dup@example.com", &[(&mug, 2)]).await;
    let (again, other) = system.checkout("dup2@example.com", &[(&mug, 1)]).await;

    assert_eq!((status, again), (201, 201), "{order} {other}");
    assert_eq!(order["status"], "confirmed");
    assert_eq!(other["status"], "confirmed");
    assert_eq!(
        system.stock_of(&mug).await,
        7,
        "each order took its stock once"
    );
    let steps = timeline(&order);
    assert_eq!(
        steps
            .iter()
            .filter(|s| s.starts_with("verify_customer"))
            .count(),
        1,
        "{steps:?}"
    );
    assert_eq!(
        steps
            .iter()
            .filter(|s| s.starts_with("confirm_order"))
            .count(),
        1,
        "{steps:?}"
    );
    assert_eq!(seen.lock().unwrap().len(), 2, "one request per order");
    stand.abort();
    system.stop().await;
}

#[tokio::test]
async fn a_reply_after_the_timeout_does_not_revive_the_order() {
    let mut system = System::without_services().await;
    // This test is about the RPC timeout: a short one of its own, long enough
    // for the request to reach the stand-in before it expires.
    system.start_order_svc(&[("RPC_TIMEOUT_MS", "2000")]).await;
    let mug = system.product("12.50", 10).await;
    let (stand, seen) = stand_in(&system, Stand::Late, system.orders[0].base.clone()).await;

    let (status, order) = system.checkout("late@example.com", &[(&mug, 1)]).await;

    assert_eq!(status, 201, "{order}");
    assert_eq!(order["status"], "rejected");
    assert_eq!(order["reason"], "customer_service_unavailable");
    let id = order["id"].as_str().unwrap();
    let order = system
        .order_when(id, "the compensation", |o| {
            timeline(o).contains(&"release_credit:compensated".to_owned())
        })
        .await;
    assert_eq!(
        order["status"], "rejected",
        "the late 'reserved' changed nothing"
    );
    assert_eq!(system.stock_of(&mug).await, 10);
    let seen = seen.lock().unwrap().clone();
    let (first, rest) = seen.split_first().expect("the stand-in was asked");
    assert_eq!(first, contract::CUSTOMER_VERIFY_OR_CREATE, "{seen:?}");
    assert!(
        !rest.is_empty() && rest.iter().all(|m| m == contract::CUSTOMER_RELEASE_CREDIT),
        "one verification, then only releases: {seen:?}"
    );
    stand.abort();
    system.stop().await;
}
