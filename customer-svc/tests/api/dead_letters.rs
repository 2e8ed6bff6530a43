//! `/api/v1/admin/dead-letters` on the real broker: what customer-svc could
//! not process, listed with its reason and left where it is; a confirmation
//! that was dead-lettered, replayed into the history once; dead letters
//! discarded; and who may do it.

use std::time::{SystemTime, UNIX_EPOCH};

use amqp::{
    Envelope, MessageMeta,
    lapin::{
        BasicProperties, Connection, ConnectionProperties,
        options::BasicPublishOptions,
        types::{AMQPValue, FieldArray, FieldTable, LongString},
    },
};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    events::orders::{confirmed, history_when, reserved_order},
    helpers::*,
};

const DEAD_LETTERS: &str = "/api/v1/admin/dead-letters";

fn order_events(app: &TestApp) -> String {
    amqp::system::customer_order_events_queue(&app.namespace)
}

fn dead_letter_queue(app: &TestApp) -> String {
    format!("{}.dlq", order_events(app))
}

/// Publishes `body` to `exchange` with `routing_key` on a connection of the
/// test's own (what the library would never send).
async fn publish_raw(exchange: &str, routing_key: &str, body: &[u8], properties: BasicProperties) {
    let connection = Connection::connect(&amqp_url(), ConnectionProperties::default())
        .await
        .expect("broker reachable");
    let channel = connection.create_channel().await.expect("channel");
    channel
        .basic_publish(
            exchange.into(),
            routing_key.into(),
            BasicPublishOptions::default(),
            body,
            properties,
        )
        .await
        .expect("published")
        .await
        .expect("written");
    let _ = connection.close(200, "done".into()).await;
}

/// Puts `event` into the order-events dead-letter queue as RabbitMQ would
/// have, had customer-svc rejected it: through the namespace's `.dlx`, with
/// the `x-death` the broker writes.
async fn dead_letter<T: serde::Serialize>(app: &TestApp, event: &Envelope<T>) {
    let queue = order_events(app);
    let long = |s: &str| AMQPValue::LongString(LongString::from(s));
    let mut death = FieldTable::default();
    death.insert("count".into(), AMQPValue::LongLongInt(1));
    death.insert("reason".into(), long("rejected"));
    death.insert("queue".into(), long(&queue));
    death.insert("exchange".into(), long(&app.namespace.events_exchange()));
    death.insert(
        "routing-keys".into(),
        AMQPValue::FieldArray(FieldArray::from(vec![long(&event.kind)])),
    );
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    death.insert("time".into(), AMQPValue::Timestamp(now.as_secs()));
    let mut headers = FieldTable::default();
    headers.insert(
        "x-death".into(),
        AMQPValue::FieldArray(FieldArray::from(vec![AMQPValue::FieldTable(death)])),
    );
    if let Some(request_id) = &event.request_id {
        headers.insert("x-request-id".into(), long(request_id));
    }
    let properties = BasicProperties::default()
        .with_message_id(event.message_id.to_string().into())
        .with_type(event.kind.as_str().into())
        .with_correlation_id(event.correlation_id.as_str().into())
        .with_content_type("application/json".into())
        .with_delivery_mode(2)
        .with_headers(headers);
    let body = serde_json::to_vec(event).unwrap();
    let dlx = app.namespace.dead_letter_exchange();
    publish_raw(&dlx, &queue, &body, properties).await;
}

async fn depth_reaches(app: &TestApp, wanted: u32) {
    let dlq = dead_letter_queue(app);
    eventually(PATIENCE, &format!("{wanted} dead letters"), || async {
        (app.queue_length(&dlq).await == wanted).then_some(())
    })
    .await;
}

/// The listing's entry for the order-events queue.
async fn listed(app: &TestApp) -> Value {
    let (status, body) = app.get(DEAD_LETTERS).await;
    assert_eq!(status, 200, "{body}");
    let queues = body["queues"].as_array().expect("queues");
    assert_eq!(
        queues.len(),
        2,
        "the RPC queue and the order events: {body}"
    );
    queues
        .iter()
        .find(|q| q["queue"] == order_events(app))
        .cloned()
        .expect("the order-events queue listed")
}

fn listed_ids(queue: &Value) -> Vec<String> {
    queue["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| item["message_id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn admin(app: &TestApp, method: Method, path: &str) -> (u16, Value) {
    app.call_as(method, path, None, Some(ADMIN_TOKEN)).await
}

#[tokio::test]
async fn poison_events_are_listed_with_their_reason_and_listing_takes_nothing() {
    let app = TestApp::spawn().await;
    let events = app.namespace.events_exchange();
    publish_raw(
        &events,
        contract::ORDER_CONFIRMED,
        b"{not an envelope",
        BasicProperties::default().with_message_id("poison-1".into()),
    )
    .await;
    depth_reaches(&app, 1).await;
    let invalid = Envelope::new(
        contract::ORDER_CONFIRMED,
        json!({"order_id": "not even a uuid"}),
        MessageMeta {
            request_id: Some("req-poison".into()),
            ..MessageMeta::default()
        },
    );
    app.events.publish(&invalid).await.expect("confirmed");
    depth_reaches(&app, 2).await;

    let first = listed(&app).await;
    let second = listed(&app).await;

    assert_eq!(first["dead_letter_queue"], dead_letter_queue(&app));
    assert_eq!(first["depth"], 2);
    assert_eq!(first["total"], 2);
    assert_eq!(first["full"], false);
    assert_eq!(first["limit"], 100_000);
    assert_eq!(
        listed_ids(&first),
        vec!["poison-1".to_owned(), invalid.message_id.to_string()]
    );
    let undecodable = &first["items"][0];
    assert_eq!(undecodable["reason"], "rejected", "{undecodable}");
    assert_eq!(undecodable["routing_key"], contract::ORDER_CONFIRMED);
    assert_eq!(undecodable["dead_lettered_count"], 1);
    assert!(undecodable["first_dead_lettered_at"].is_string());
    assert_eq!(undecodable["body"], Value::Null);
    assert_eq!(undecodable["body_preview"]["encoding"], "text");
    assert_eq!(undecodable["body_preview"]["data"], "{not an envelope");
    let refused = &first["items"][1];
    assert_eq!(refused["reason"], "rejected", "{refused}");
    assert_eq!(refused["type"], contract::ORDER_CONFIRMED);
    assert_eq!(refused["request_id"], "req-poison");
    assert_eq!(refused["body"]["payload"]["order_id"], "not even a uuid");
    assert_eq!(listed_ids(&second), listed_ids(&first), "the same, twice");
    assert_eq!(
        app.queue_length(&dead_letter_queue(&app)).await,
        2,
        "listing took nothing"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_undecodable_request_is_listed_under_the_rpc_queue() {
    let app = TestApp::spawn().await;
    let rpc = amqp::system::customer_rpc_queue(&app.namespace);
    publish_raw(
        "",
        &rpc,
        b"\xff\xfe not a request",
        BasicProperties::default().with_message_id("bad-request".into()),
    )
    .await;
    let dlq = format!("{rpc}.dlq");
    eventually(PATIENCE, "the request dead-lettered", || async {
        (app.queue_length(&dlq).await == 1).then_some(())
    })
    .await;

    let (status, body) = app.get(&format!("{DEAD_LETTERS}?queue={rpc}")).await;

    assert_eq!(status, 200, "{body}");
    let queues = body["queues"].as_array().expect("queues");
    assert_eq!(queues.len(), 1, "only the queue asked for: {body}");
    assert_eq!(queues[0]["queue"], rpc);
    assert_eq!(listed_ids(&queues[0]), vec!["bad-request".to_owned()]);
    let letter = &queues[0]["items"][0];
    assert_eq!(letter["reason"], "rejected");
    assert_eq!(letter["body_preview"]["encoding"], "base64", "{letter}");

    // Requests are not replayed: their callers gave up long ago.
    let replay = format!("{DEAD_LETTERS}/replay");
    let (status, body) = admin(&app, Method::POST, &format!("{replay}?queue={rpc}")).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (422, &json!("not_replayable"))
    );
    let (status, body) = admin(&app, Method::POST, &replay).await;
    assert_eq!((status, &body["replayed"]), (200, &json!(0)), "{body}");
    assert_eq!(
        app.queue_length(&dlq).await,
        1,
        "the request is still a dead letter"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_dead_lettered_confirmation_replayed_shows_in_the_history_once() {
    let app = TestApp::spawn().await;
    let order = reserved_order(&app, "replayed@example.com", "30.00").await;
    let event = Envelope::new(
        contract::ORDER_CONFIRMED,
        confirmed(&order, "30.00"),
        MessageMeta::default(),
    );
    dead_letter(&app, &event).await;
    depth_reaches(&app, 1).await;
    let listed_once = listed(&app).await;
    assert_eq!(listed_ids(&listed_once), vec![event.message_id.to_string()]);
    assert_eq!(listed_once["items"][0]["reason"], "rejected");

    let (status, body) = admin(
        &app,
        Method::POST,
        &format!("{DEAD_LETTERS}/{}/replay", event.message_id),
    )
    .await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(body["replayed"], 1);
    let history = history_when(&app, order.customer_id, "the replayed order", |b| {
        b["total"] == 1
    })
    .await;
    assert_eq!(history["items"][0]["order_id"], order.order_id.to_string());
    assert_eq!(history["stats"]["total_spent"], "30.00");
    assert_eq!(app.queue_length(&dead_letter_queue(&app)).await, 0);
    assert_eq!(app.counter("dead_letters_replayed_total").await, 1.0);
    let (status, _) = admin(
        &app,
        Method::POST,
        &format!("{DEAD_LETTERS}/{}/replay", event.message_id),
    )
    .await;
    assert_eq!(status, 404, "nothing left to replay");

    // The same confirmation dead-lettered again and replayed with all the
    // rest: the history deduplicates it by its message id.
    dead_letter(&app, &event).await;
    depth_reaches(&app, 1).await;
    let (status, body) = admin(&app, Method::POST, &format!("{DEAD_LETTERS}/replay")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["replayed"], 1);
    let later = reserved_order(&app, "replayed@example.com", "5.00").await;
    app.publish(
        contract::ORDER_CONFIRMED,
        confirmed(&later, "5.00"),
        Uuid::new_v4(),
    )
    .await;
    let history = history_when(&app, order.customer_id, "the later order", |b| {
        b["total"] == 2
    })
    .await;
    assert_eq!(history["stats"]["order_count"], 2, "{history}");
    assert_eq!(history["stats"]["total_spent"], "35.00", "counted once");
    assert_eq!(app.queue_length(&dead_letter_queue(&app)).await, 0);
    app.stop().await;
}

#[tokio::test]
async fn dead_letters_are_discarded_one_by_one_or_all_of_a_queue() {
    let app = TestApp::spawn().await;
    let order = reserved_order(&app, "discarded@example.com", "10.00").await;
    let mut sent = Vec::new();
    for _ in 0..3 {
        let event = Envelope::new(
            contract::ORDER_CONFIRMED,
            confirmed(&order, "10.00"),
            MessageMeta::default(),
        );
        dead_letter(&app, &event).await;
        sent.push(event.message_id.to_string());
    }
    depth_reaches(&app, 3).await;

    let (status, body) = admin(&app, Method::DELETE, &format!("{DEAD_LETTERS}/{}", sent[0])).await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(body["discarded"], 1);
    assert_eq!(listed_ids(&listed(&app).await), sent[1..].to_vec());

    let all = format!("{DEAD_LETTERS}?queue={}", order_events(&app));
    let (status, body) = admin(&app, Method::DELETE, &all).await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(body["discarded"], 2);
    assert_eq!(app.queue_length(&dead_letter_queue(&app)).await, 0);
    let history = history_when(&app, order.customer_id, "the history read", |_| true).await;
    assert_eq!(history["total"], 0, "nothing discarded was applied");
    assert_eq!(app.counter("dead_letters_discarded_total").await, 3.0);
    app.stop().await;
}

#[tokio::test]
async fn only_the_admin_repairs_and_mistakes_are_clear() {
    let app = TestApp::spawn().await;
    let (_, customer_token) = app
        .sign_up("not-admin@example.com", "a-long-enough-password")
        .await;
    let routes = [
        (Method::GET, DEAD_LETTERS.to_owned()),
        (Method::POST, format!("{DEAD_LETTERS}/replay")),
        (Method::POST, format!("{DEAD_LETTERS}/some-id/replay")),
        (Method::DELETE, DEAD_LETTERS.to_owned()),
        (Method::DELETE, format!("{DEAD_LETTERS}/some-id")),
    ];
    for (method, path) in &routes {
        let (status, body) = app.call_as(method.clone(), path, None, None).await;
        assert_eq!(status, 401, "{method} {path} anonymous: {body}");
        assert_eq!(body["error"]["code"], "unauthorized");
        let (status, body) = app
            .call_as(method.clone(), path, None, Some(&customer_token))
            .await;
        assert_eq!(status, 403, "{method} {path} as a customer: {body}");
        assert_eq!(body["error"]["code"], "forbidden");
    }

    for (method, path) in [
        (Method::GET, format!("{DEAD_LETTERS}?queue=elsewhere")),
        (
            Method::POST,
            format!("{DEAD_LETTERS}/replay?queue=elsewhere"),
        ),
        (Method::DELETE, format!("{DEAD_LETTERS}?queue=elsewhere")),
    ] {
        let (status, body) = admin(&app, method.clone(), &path).await;
        assert_eq!(status, 422, "{method} {path}: {body}");
        assert_eq!(body["error"]["code"], "unknown_queue");
    }
    let unknown = Uuid::new_v4();
    for (method, path) in [
        (Method::POST, format!("{DEAD_LETTERS}/{unknown}/replay")),
        (Method::DELETE, format!("{DEAD_LETTERS}/{unknown}")),
    ] {
        let (status, body) = admin(&app, method.clone(), &path).await;
        assert_eq!(status, 404, "{method} {path}: {body}");
        assert_eq!(body["error"]["code"], "not_found");
    }
    let (status, body) = app.get(&format!("{DEAD_LETTERS}?per_page=0")).await;
    assert_eq!(status, 422, "{body}");
    app.stop().await;
}

#[tokio::test]
async fn an_unreachable_broker_is_a_503() {
    let mut uri: amqp::lapin::uri::AMQPUri = amqp_url().parse().expect("valid AMQP_URL");
    let broker = format!("{}:{}", uri.authority.host, uri.authority.port);
    let proxy = testkit::proxy::TcpProxy::start(broker).await;
    uri.authority.host = "127.0.0.1".to_owned();
    uri.authority.port = proxy.port();
    let through_proxy = uri.to_string();
    let app = TestApp::spawn_with(&[("AMQP_URL", &through_proxy)]).await;

    proxy.refuse();
    let (status, body) = app.get(DEAD_LETTERS).await;

    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "unavailable");
    proxy.accept_again();
    app.stop().await;
}
