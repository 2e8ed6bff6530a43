//! One trace per checkout (the contract's "Operating it"): the request id a
//! checkout is placed with (`X-Request-Id`, else a `traceparent`'s trace-id)
//! is echoed, and finds that checkout's lines, and only its lines, in the
//! JSON logs of both services: order-svc's saga, customer-svc's RPC and the
//! event it applied to the history; also when the saga is finished by
//! another order-svc after the first one crashed.
//!
//! order-svc runs as a child process with `LOG_FORMAT=json` (its stdout is
//! read); customer-svc runs in the test, logging through the subscriber
//! `LOG_FORMAT=json` installs (`edge::telemetry::json_subscriber`) into
//! memory.

use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};
use testkit::logs::JsonLog;
use tracing::subscriber::DefaultGuard;
use uuid::Uuid;

use crate::harness::*;

#[tokio::test]
async fn a_checkouts_request_id_finds_its_lines_in_both_services_logs_and_no_other() {
    let traced = Traced::start(&[]).await;
    let mug = traced.product().await;
    let mine = format!("trace-{}", Uuid::new_v4());
    let theirs = format!("trace-{}", Uuid::new_v4());

    let (echoed, order) = traced
        .checkout("mine@example.com", &mug, ("x-request-id", &mine))
        .await;
    let (_, other) = traced
        .checkout("theirs@example.com", &mug, ("x-request-id", &theirs))
        .await;

    assert_eq!(echoed, mine);
    let order_id = order["id"].as_str().expect("an order id");
    let other_id = other["id"].as_str().expect("an order id");
    traced.assert_traced(&mine, order_id).await;
    traced.assert_traced(&theirs, other_id).await;
    traced.assert_access_line(&mine);
    for (id, foreign_order, foreign_id) in [(&mine, other_id, &theirs), (&theirs, order_id, &mine)]
    {
        for log in [&traced.order_svc.log, &traced.customer_log] {
            for line in log.carrying(id) {
                let text = line.to_string();
                assert!(
                    !text.contains(foreign_order) && !text.contains(foreign_id.as_str()),
                    "a line of {id} names the other checkout: {text}"
                );
            }
        }
    }
    traced.stop().await;
}

#[tokio::test]
async fn a_checkout_with_only_a_traceparent_is_traced_by_its_trace_id() {
    let traced = Traced::start(&[]).await;
    let mug = traced.product().await;
    let trace_id = Uuid::new_v4().simple().to_string();
    let traceparent = format!("00-{trace_id}-00f067aa0ba902b7-01");

    let (echoed, order) = traced
        .checkout("w3c@example.com", &mug, ("traceparent", &traceparent))
        .await;

    assert_eq!(echoed, trace_id);
    traced
        .assert_traced(&trace_id, order["id"].as_str().expect("an order id"))
        .await;
    traced.assert_access_line(&trace_id);
    traced.stop().await;
}

#[tokio::test]
async fn a_cancellations_request_id_goes_with_its_order_cancelled() {
    let traced = Traced::start(&[]).await;
    let mug = traced.product().await;
    let checkout_id = format!("trace-{}", Uuid::new_v4());
    let (_, order) = traced
        .checkout("cancels@example.com", &mug, ("x-request-id", &checkout_id))
        .await;
    let order_id = order["id"].as_str().expect("an order id");
    let cancel_id = format!("trace-{}", Uuid::new_v4());

    let (status, cancelled) = send(
        traced
            .system
            .http
            .post(format!(
                "{}/api/v1/orders/{order_id}/cancel",
                traced.order_svc.base
            ))
            .bearer_auth(order["access_token"].as_str().expect("a token"))
            .header("x-request-id", &cancel_id),
    )
    .await;

    assert_eq!(status, 200, "{cancelled}");
    eventually(
        PATIENCE,
        "customer-svc's line for the cancellation",
        || async {
            traced
                .customer_log
                .carrying(&cancel_id)
                .iter()
                .any(|line| {
                    line["message"] == "order event applied to the history"
                        && line["kind"] == "order.cancelled"
                        && line["order_id"] == order_id
                })
                .then_some(())
        },
    )
    .await;
    traced.stop().await;
}

#[tokio::test]
async fn a_saga_finished_by_another_instance_after_a_crash_still_carries_its_request_id() {
    // The first order-svc aborts once customer-svc has answered step 2; the
    // next one takes the saga over once its lease lapses (as short as the
    // configuration allows beside the wide RPC timeout).
    let crash = [
        ("FAULT_CRASH_AFTER", "verify_customer"),
        ("SAGA_LEASE", "11s"),
    ];
    let mut traced = Traced::start(&crash).await;
    let mug = traced.product().await;
    let request_id = format!("trace-{}", Uuid::new_v4());
    let outcome = traced
        .system
        .http
        .post(format!("{}/api/v1/orders", traced.order_svc.base))
        .header("x-request-id", &request_id)
        .json(&checkout_body("crash@example.com", &[(&mug, 1)]))
        .send()
        .await;
    assert!(
        outcome.is_err(),
        "the process died before answering: {outcome:?}"
    );

    let pool = traced.system.orders_db().await;
    let (order_id, kept): (Uuid, Option<String>) =
        sqlx::query_as("SELECT order_id, request_id FROM sagas")
            .fetch_one(&pool)
            .await
            .expect("the saga was recorded");
    assert_eq!(
        kept.as_deref(),
        Some(request_id.as_str()),
        "kept with the saga"
    );
    pool.close().await;
    traced.order_svc = OrderSvcProcess::start(&traced.system, &[]).await;

    traced
        .assert_traced(&request_id, &order_id.to_string())
        .await;
    traced.stop().await;
}

/// customer-svc in the test, its JSON lines captured; order-svc as a child
/// process logging JSON.
struct Traced {
    order_svc: OrderSvcProcess,
    customer_log: JsonLog,
    system: System,
    // Last: customer-svc logs into `customer_log` until it is stopped.
    _capture: DefaultGuard,
}

impl Traced {
    /// Both services; order-svc with `overrides` to its settings.
    async fn start(overrides: &[(&str, &str)]) -> Self {
        let customer_log = JsonLog::new();
        // This test's runtime runs on this thread alone: customer-svc's
        // tasks log here.
        let capture = tracing::subscriber::set_default(edge::telemetry::json_subscriber(
            customer_log.writer(),
        ));
        let mut system = System::without_services().await;
        system.start_customer_svc().await;
        let order_svc = OrderSvcProcess::start(&system, overrides).await;
        Self {
            order_svc,
            customer_log,
            system,
            _capture: capture,
        }
    }

    /// A product with plenty of stock; its id.
    async fn product(&self) -> String {
        let sku = format!("T-{}", &Uuid::new_v4().simple().to_string()[..12]);
        let body = json!({"sku": sku, "name": format!("Test {sku}"), "price": "12.50",
                          "currency": "EUR", "stock": 100, "category": "Test"});
        let (status, created) = self
            .system
            .admin(
                reqwest::Method::POST,
                &format!("{}/api/v1/products", self.order_svc.base),
                Some(&body),
            )
            .await;
        assert_eq!(status, 201, "{created}");
        created["id"].as_str().expect("id").to_owned()
    }

    /// Checks one unit of `product` out for `email` with the `header` given;
    /// the answer's `X-Request-Id` and the confirmed order.
    async fn checkout(&self, email: &str, product: &str, header: (&str, &str)) -> (String, Value) {
        let response = self
            .system
            .http
            .post(format!("{}/api/v1/orders", self.order_svc.base))
            .header(header.0, header.1)
            .json(&checkout_body(email, &[(product, 1)]))
            .send()
            .await
            .expect("order-svc answers");
        let echoed = response
            .headers()
            .get("x-request-id")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let status = response.status();
        let order: Value = response.json().await.expect("a JSON order");
        assert_eq!(status, 201, "{order}");
        assert_eq!(order["status"], "confirmed", "{order}");
        (echoed, order)
    }

    /// order-svc's access line of the checkout carries `request_id`.
    fn assert_access_line(&self, request_id: &str) {
        let lines = self.order_svc.log.carrying(request_id);
        assert!(
            lines.iter().any(|line| line["message"] == "request"
                && line["path"] == "/api/v1/orders"
                && line["span"]["name"] == "http"),
            "the access line: {lines:#?}"
        );
    }

    /// Both logs hold lines carrying `request_id` for order `order_id`:
    /// order-svc's saga's lines; customer-svc's line for the RPC it served
    /// and for the `order.confirmed` it applied.
    async fn assert_traced(&self, request_id: &str, order_id: &str) {
        let order_svc = eventually(PATIENCE, "order-svc's lines of the checkout", || async {
            let lines = self.order_svc.log.carrying(request_id);
            let confirmed = lines.iter().any(|line| {
                line["message"] == "order confirmed" && line["span"]["order_id"] == order_id
            });
            confirmed.then_some(lines)
        })
        .await;
        assert!(
            order_svc
                .iter()
                .any(|line| line["message"] == "customer verification decided"
                    && line["span"]["name"] == "saga"),
            "step 2's line in the saga's span: {order_svc:#?}"
        );

        let customer_svc = eventually(PATIENCE, "customer-svc's lines of the checkout", || async {
            let lines = self.customer_log.carrying(request_id);
            let applied = lines.iter().any(|line| {
                line["message"] == "order event applied to the history"
                    && line["kind"] == "order.confirmed"
                    && line["order_id"] == order_id
            });
            applied.then_some(lines)
        })
        .await;
        assert!(
            customer_svc.iter().any(|line| {
                line["message"] == "verify_or_create answered"
                    && line["span"]["name"] == "rpc.request"
            }),
            "the RPC's line in its span: {customer_svc:#?}"
        );
    }

    async fn stop(self) {
        let Self {
            order_svc,
            system,
            customer_log: _,
            _capture,
        } = self;
        drop(order_svc);
        system.stop().await;
    }
}

/// order-svc as a child process with `LOG_FORMAT=json`, its stdout read into
/// `log`; killed when dropped (also when the test fails).
struct OrderSvcProcess {
    child: Child,
    base: String,
    log: JsonLog,
}

impl OrderSvcProcess {
    async fn start(system: &System, overrides: &[(&str, &str)]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_order-svc"))
            .envs(system.order_env())
            .envs(overrides.iter().copied())
            .env("LOG_FORMAT", "json")
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("order-svc binary starts");
        let log = JsonLog::new();
        if let Some(stdout) = child.stdout.take() {
            log.read_from(stdout);
        }
        let mut process = Self {
            child,
            base: String::new(),
            log,
        };
        let address = eventually(PATIENCE, "order-svc says where it listens", || async {
            process.log.lines().iter().find_map(|line| {
                (line["message"] == "order-svc listening")
                    .then(|| line["address"].as_str().map(str::to_owned))
                    .flatten()
            })
        })
        .await;
        process.base = format!("http://{address}");
        let ready = format!("{}/readyz", process.base);
        eventually(PATIENCE, "order-svc ready", || async {
            let response = system.http.get(&ready).send().await.ok()?;
            (response.status() == 200).then_some(())
        })
        .await;
        process
    }
}

impl Drop for OrderSvcProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
