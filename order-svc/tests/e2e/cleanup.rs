//! A test that fails cleans up all the same: its databases are dropped and
//! its namespace deleted by guards, not by code that a panic skips.

use amqp::lapin::{
    Connection, ConnectionProperties, ExchangeKind,
    options::{ExchangeDeclareOptions, QueueDeclareOptions},
    types::FieldTable,
};
use sqlx::{Connection as _, PgConnection};
use testkit::database::admin_url;

use crate::harness::*;

#[tokio::test]
async fn a_test_that_panics_leaves_neither_its_databases_nor_its_namespace_behind() {
    let (names_tx, names_rx) = std::sync::mpsc::channel();
    // A failing test as `#[tokio::test]` runs one: on a current-thread
    // runtime, whose services stand still while the guards clean up.
    let failing_test = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let system = System::start().await;
            let mug = system.product("12.50", 10).await;
            system.checkout("doomed@example.com", &[(&mug, 1)]).await;
            names_tx
                .send((
                    vec![
                        system.orders_db.name().to_owned(),
                        system.customers_db.name().to_owned(),
                    ],
                    system.namespace.events_exchange(),
                    amqp::system::customer_rpc_queue(&system.namespace),
                ))
                .expect("names sent");
            panic!("a test failing with everything running");
        })
    });

    let outcome = tokio::task::spawn_blocking(move || failing_test.join())
        .await
        .expect("joined");

    assert!(outcome.is_err(), "the failing test panicked");
    let (databases, exchange, queue) = names_rx.recv().expect("the test got far enough");
    let mut admin = PgConnection::connect(&admin_url()).await.expect("admin");
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_database WHERE datname = ANY($1)")
        .bind(&databases)
        .fetch_one(&mut admin)
        .await
        .expect("pg_database");
    assert_eq!(left, 0, "databases left behind: {databases:?}");
    let broker = Connection::connect(&amqp_url(), ConnectionProperties::default())
        .await
        .expect("broker");
    let passive_exchange = broker
        .create_channel()
        .await
        .expect("channel")
        .exchange_declare(
            exchange.as_str().into(),
            ExchangeKind::Topic,
            ExchangeDeclareOptions {
                passive: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await;
    assert!(passive_exchange.is_err(), "{exchange} left behind");
    let passive_queue = broker
        .create_channel()
        .await
        .expect("channel")
        .queue_declare(
            queue.as_str().into(),
            QueueDeclareOptions {
                passive: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await;
    assert!(passive_queue.is_err(), "{queue} left behind");
    let _ = broker.close(200, "checked".into()).await;
}
