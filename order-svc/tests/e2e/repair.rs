//! Repair without SQL (the contract's "Operating it"): the stuck sagas an
//! operator lists, resumes and compensates through the admin API, and the
//! automatic compensation past `SAGA_AUTO_COMPENSATE_AFTER`; on the real
//! broker and databases, with customer-svc away or an order-svc that died.

use reqwest::Method;
use serde_json::Value;
use uuid::Uuid;

use crate::{
    faults::crash_after_verification,
    harness::*,
    operating::{gauge, metrics},
};

/// The dead instance's lease in the tests below: far beyond `PATIENCE`, so
/// that only a repair moves the saga within a test.
const DEAD_LEASE: &str = "300s";

impl System {
    /// `GET /api/v1/admin/sagas/stuck` with `token` as the bearer.
    async fn stuck_sagas(&self, token: Option<&str>) -> (u16, Value) {
        self.get_as(&self.order_url("/api/v1/admin/sagas/stuck"), token)
            .await
    }

    /// The stuck saga of `order_id`, once the list shows it.
    async fn stuck_saga_of(&self, order_id: &str) -> Value {
        eventually(PATIENCE, "the saga in the stuck list", || async {
            let (status, page) = self.stuck_sagas(Some(ADMIN_TOKEN)).await;
            assert_eq!(status, 200, "{page}");
            page["items"]
                .as_array()?
                .iter()
                .find(|saga| saga["order_id"] == order_id)
                .cloned()
        })
        .await
    }

    /// Waits until the stuck list no longer shows the saga of `order_id`.
    async fn not_stuck(&self, order_id: &str) {
        eventually(PATIENCE, "the saga gone from the stuck list", || async {
            let (status, page) = self.stuck_sagas(Some(ADMIN_TOKEN)).await;
            assert_eq!(status, 200, "{page}");
            let listed = page["items"]
                .as_array()?
                .iter()
                .any(|saga| saga["order_id"] == order_id);
            (!listed).then_some(())
        })
        .await;
    }

    /// `POST /api/v1/admin/sagas/{saga_id}/{action}` with `token` as the bearer.
    async fn repair_as(&self, saga_id: &str, action: &str, token: Option<&str>) -> (u16, Value) {
        let url = self.order_url(&format!("/api/v1/admin/sagas/{saga_id}/{action}"));
        self.call_as(Method::POST, &url, None, token).await
    }

    /// The admin's `POST /api/v1/admin/sagas/{saga_id}/{action}` on instance `instance`.
    async fn repair_on(&self, instance: usize, saga_id: &str, action: &str) -> (u16, Value) {
        let base = &self.orders[instance].base;
        let url = format!("{base}/api/v1/admin/sagas/{saga_id}/{action}");
        self.call_as(Method::POST, &url, None, Some(ADMIN_TOKEN))
            .await
    }

    async fn repair(&self, saga_id: &str, action: &str) -> (u16, Value) {
        self.repair_as(saga_id, action, Some(ADMIN_TOKEN)).await
    }
}

/// A saga's timeline as `step:status`.
fn entries(saga: &Value) -> Vec<String> {
    timeline(&serde_json::json!({ "saga": saga["timeline"] }))
}

#[tokio::test]
async fn a_saga_stuck_while_customer_svc_is_away_is_listed_and_an_operator_compensates_it() {
    let mut system = System::without_services().await;
    // customer-svc is away and step 2 waits a minute for it: the saga stays
    // at verify_customer, and is stuck after a second.
    system
        .start_order_svc(&[
            ("RPC_TIMEOUT_MS", "60000"),
            ("SAGA_LEASE", "120s"),
            ("SAGA_STUCK_AFTER", "1s"),
            ("CHECKOUT_WAIT_MS", "100"),
        ])
        .await;
    let mug = system.product("12.50", 10).await;
    let (status, order) = system.checkout("stuck@example.com", &[(&mug, 2)]).await;
    assert_eq!(status, 202, "{order}");
    let order_id = order["id"].as_str().expect("an order id");

    let stuck = system.stuck_saga_of(order_id).await;
    assert_eq!(
        (&stuck["step"], &stuck["status"], &stuck["attempt"]),
        (&"verify_customer".into(), &"running".into(), &1.into()),
        "{stuck}"
    );
    assert_eq!(stuck["stuck_because"], "pending_too_long", "{stuck}");
    assert!(
        stuck["age_seconds"].as_f64().expect("an age") >= 1.0,
        "{stuck}"
    );
    assert!(stuck["deadline"].is_string(), "{stuck}");
    assert_eq!(entries(&stuck), ["record_order:completed"], "{stuck}");
    let saga_id = stuck["id"].as_str().expect("a saga id").to_owned();

    let (status, compensating) = system.repair(&saga_id, "compensate").await;
    assert_eq!(status, 200, "{compensating}");
    assert_eq!(compensating["step"], "release_credit", "{compensating}");
    assert_eq!(compensating["status"], "compensating", "{compensating}");
    assert_eq!(compensating["reason"], "customer_service_unavailable");
    assert_eq!(
        entries(&compensating).last().map(String::as_str),
        Some("verify_customer:compensation_ordered"),
        "{compensating}"
    );
    assert_eq!(
        compensating["last_detail"], "compensation ordered by an operator",
        "{compensating}"
    );
    let rejected = system.order(order_id).await;
    assert_eq!(rejected["status"], "rejected", "{rejected}");
    assert_eq!(rejected["reason"], "customer_service_unavailable");
    assert_eq!(system.stock_of(&mug).await, 10, "no stock stays taken");
    let (status, again) = system.repair(&saga_id, "compensate").await;
    assert_eq!(status, 409, "{again}");
    assert_eq!(again["error"]["code"], "saga_compensating", "{again}");

    // Once customer-svc is back, the compensation completes and the saga
    // leaves the list.
    system.start_customer_svc().await;
    system.not_stuck(order_id).await;
    let order = system
        .order_when(order_id, "the compensation on the timeline", |o| {
            timeline(o).contains(&"release_credit:compensated".to_owned())
        })
        .await;
    assert_eq!(order["status"], "rejected", "{order}");
    assert_eq!(system.stock_of(&mug).await, 10);
    system.stop().await;
}

#[tokio::test]
async fn two_operators_compensating_one_saga_on_two_instances_at_once_compensate_it_once() {
    let mut system = System::without_services().await;
    let settings = [
        ("RPC_TIMEOUT_MS", "60000"),
        ("SAGA_LEASE", "120s"),
        ("SAGA_STUCK_AFTER", "1s"),
        ("CHECKOUT_WAIT_MS", "100"),
    ];
    system.start_order_svc(&settings).await;
    system.start_order_svc(&settings).await;
    let mug = system.product("12.50", 10).await;
    let (status, order) = system.checkout("twice@example.com", &[(&mug, 1)]).await;
    assert_eq!(status, 202, "{order}");
    let order_id = order["id"].as_str().expect("an order id");
    let stuck = system.stuck_saga_of(order_id).await;
    let saga_id = stuck["id"].as_str().expect("a saga id");

    let (first, second) = tokio::join!(
        system.repair_on(0, saga_id, "compensate"),
        system.repair_on(1, saga_id, "compensate"),
    );
    let mut statuses = [first.0, second.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "{first:?} {second:?}");
    let rejected = system.order(order_id).await;
    assert_eq!(rejected["status"], "rejected", "{rejected}");
    let ordered = timeline(&rejected)
        .iter()
        .filter(|entry| entry.ends_with(":compensation_ordered"))
        .count();
    assert_eq!(ordered, 1, "one compensation written: {rejected}");

    // customer-svc back: the compensation completes, once.
    system.start_customer_svc().await;
    let order = system
        .order_when(order_id, "the compensation on the timeline", |o| {
            timeline(o).contains(&"release_credit:compensated".to_owned())
        })
        .await;
    let released = timeline(&order)
        .iter()
        .filter(|entry| entry.as_str() == "release_credit:compensated")
        .count();
    assert_eq!(released, 1, "{order}");
    system.stop().await;
}

#[tokio::test]
async fn an_operator_resumes_a_saga_whose_instance_died_and_it_is_confirmed() {
    let mut system = System::without_services().await;
    let (mug, order_id, pool) =
        crash_after_verification(&mut system, "resume@example.com", DEAD_LEASE).await;
    pool.close().await;
    // The dead instance holds the saga for five minutes: without a repair,
    // this instance leaves it alone.
    system.start_order_svc(&[("SAGA_STUCK_AFTER", "1s")]).await;
    let order_id = order_id.to_string();

    let stuck = system.stuck_saga_of(&order_id).await;
    assert_eq!(stuck["step"], "verify_customer", "{stuck}");
    assert!(
        stuck["lease_owner"].is_string(),
        "held by the dead instance: {stuck}"
    );
    let why = stuck["stuck_because"].as_str().expect("a reason");
    assert!(
        ["pending_too_long", "past_deadline"].contains(&why),
        "{stuck}"
    );

    let (status, resumed) = system.repair(stuck["id"].as_str().unwrap(), "resume").await;
    assert_eq!(status, 200, "{resumed}");
    assert!(
        entries(&resumed).contains(&"verify_customer:resumed".to_owned()),
        "{resumed}"
    );

    let order = system
        .order_when(&order_id, "the resumed saga to end", |o| {
            o["status"] != "pending"
        })
        .await;
    assert_eq!(order["status"], "confirmed", "{order}");
    assert_eq!(system.stock_of(&mug).await, 7);
    let customer = system.customer("resume@example.com").await.unwrap();
    assert_eq!(
        customer["credit_available"], "4962.50",
        "credit reserved once"
    );
    let (status, finished) = system.repair(stuck["id"].as_str().unwrap(), "resume").await;
    assert_eq!(status, 409, "{finished}");
    assert_eq!(finished["error"]["code"], "saga_finished", "{finished}");
    system.stop().await;
}

#[tokio::test]
async fn a_saga_left_unfinished_past_the_age_limit_is_compensated_automatically() {
    let mut system = System::without_services().await;
    let (mug, order_id, pool) =
        crash_after_verification(&mut system, "auto@example.com", DEAD_LEASE).await;
    pool.close().await;
    // As short an age limit as the configuration allows beside a 2 s lease
    // and a 1 s RPC timeout (three tries of both: 9 s).
    system
        .start_order_svc(&[
            ("RPC_TIMEOUT_MS", "1000"),
            ("SAGA_LEASE", "2s"),
            ("SAGA_STUCK_AFTER", "1s"),
            ("SAGA_AUTO_COMPENSATE_AFTER", "10s"),
        ])
        .await;
    let order_id = order_id.to_string();

    let order = system
        .order_when(&order_id, "the automatic compensation to complete", |o| {
            timeline(o).contains(&"release_credit:compensated".to_owned())
        })
        .await;
    assert_eq!(order["status"], "rejected", "{order}");
    assert_eq!(order["reason"], "customer_service_unavailable", "{order}");
    let ordered = order["saga"]
        .as_array()
        .expect("a timeline")
        .iter()
        .find(|entry| entry["status"] == "compensation_ordered")
        .unwrap_or_else(|| panic!("the automatic compensation on the timeline: {order}"));
    let detail = ordered["detail"].as_str().expect("words");
    assert!(detail.contains("SAGA_AUTO_COMPENSATE_AFTER"), "{detail}");
    assert_eq!(system.stock_of(&mug).await, 10);
    let customer = system.customer("auto@example.com").await.unwrap();
    assert_eq!(customer["credit_available"], "5000.00", "credit released");
    system.not_stuck(&order_id).await;
    assert_eq!(
        gauge(&metrics(&system).await, "sagas_auto_compensated_total"),
        Some(1.0)
    );
    system.stop().await;
}

#[tokio::test]
async fn repairs_are_for_the_admin_and_refuse_unknown_and_finished_sagas() {
    let system = System::start().await;
    let mug = system.product("5.00", 10).await;
    let (status, order) = system.checkout("done@example.com", &[(&mug, 1)]).await;
    assert_eq!(status, 201, "{order}");
    assert_eq!(order["status"], "confirmed", "{order}");
    let pool = system.orders_db().await;
    let saga_id: Uuid = sqlx::query_scalar("SELECT id FROM sagas WHERE order_id = $1")
        .bind(Uuid::parse_str(order["id"].as_str().unwrap()).unwrap())
        .fetch_one(&pool)
        .await
        .expect("the order's saga");
    pool.close().await;
    let saga_id = saga_id.to_string();

    for action in ["compensate", "resume"] {
        let (status, body) = system.repair(&saga_id, action).await;
        assert_eq!(status, 409, "{action} a confirmed saga: {body}");
        assert_eq!(body["error"]["code"], "saga_finished", "{body}");
        let (status, body) = system.repair(&Uuid::new_v4().to_string(), action).await;
        assert_eq!(status, 404, "{action} an unknown saga: {body}");
        let (status, body) = system.repair("not-a-uuid", action).await;
        assert_eq!(status, 400, "{action} a malformed id: {body}");
    }
    let confirmed = system.order(order["id"].as_str().unwrap()).await;
    assert_eq!(confirmed["status"], "confirmed", "{confirmed}");
    assert_eq!(system.stock_of(&mug).await, 9);

    let (_, customer_token) = system.sign_up("shopper@example.com").await;
    let order_token = order["access_token"].as_str().expect("a token");
    for (token, expected) in [
        (None, 401),
        (Some(customer_token.as_str()), 403),
        (Some(order_token), 403),
    ] {
        let (status, body) = system.stuck_sagas(token).await;
        assert_eq!(status, expected, "list as {token:?}: {body}");
        for action in ["compensate", "resume"] {
            let (status, body) = system.repair_as(&saga_id, action, token).await;
            assert_eq!(status, expected, "{action} as {token:?}: {body}");
        }
    }
    let (status, page) = system.stuck_sagas(Some(ADMIN_TOKEN)).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["total"], 0, "a confirmed saga is not stuck: {page}");
    assert_eq!((&page["page"], &page["per_page"]), (&1.into(), &20.into()));
    system.stop().await;
}
