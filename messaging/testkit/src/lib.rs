//! What every test suite of the workspace shares, and only tests: waiting
//! for a condition with a deadline (never for a fixed time), a broker
//! namespace and a database per test, both torn down even when the test
//! panics, the broker's address, a service binary's refusals under
//! `APP_ENV=production`, a TCP proxy that plays the network's and the
//! servers' faults, hostile input for property and fuzz tests, reading
//! `/metrics`, and JSON log lines captured to be searched by request id. A
//! dev-dependency everywhere, so no production build carries it.

#![warn(missing_docs)]

pub mod database;
pub mod exposition;
pub mod hostile;
pub mod hostile_http;
pub mod logs;
pub mod proxy;

use std::{future::Future, ops::Deref, time::Duration};

use tokio::time::Instant;
use uuid::Uuid;

use amqp::{AmqpSettings, Namespace, Topology};

/// How long a test waits for something that must happen, whatever the
/// machine is doing: a debug build on two cores with every suite and a
/// browser running beside it. A green run never waits this long (the
/// waits poll); only a red one does. Tests *about* timeouts set their own
/// short ones instead.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// Polls `check` every 25 ms until it returns `Some`, and returns that value;
/// panics naming `what` after `within`.
pub async fn eventually<T, F, Fut>(within: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// `AMQP_URL` (its first node, when it lists a cluster's), or the local broker.
pub fn amqp_url() -> String {
    let url = std::env::var("AMQP_URL").unwrap_or_else(|_| AmqpSettings::DEFAULT_URL.to_owned());
    match url.split(',').map(str::trim).find(|node| !node.is_empty()) {
        Some(first) => first.to_owned(),
        None => AmqpSettings::DEFAULT_URL.to_owned(),
    }
}

/// A namespace of the test's own (`test_<uuid>`) whose queues and exchanges
/// are deleted when it is dropped: when the test ends, and when it panics.
///
/// It dereferences to the [`Namespace`] (so `namespace.clone()` is the plain
/// `Namespace`, for a `Topology` to own); register what the test declares
/// with [`TestNamespace::deletes`]. (Reply queues are exclusive and vanish with
/// their connection; queues also expire on their own when the test sets
/// `queue_expiry`, which covers a process that is killed outright.)
#[derive(Debug)]
pub struct TestNamespace {
    namespace: Namespace,
    topologies: Vec<Topology>,
}

impl TestNamespace {
    /// A namespace no other test uses, with nothing registered yet.
    pub fn new() -> Self {
        let namespace = Namespace::parse(&format!("test_{}", Uuid::new_v4().simple()))
            .expect("a uuid makes a valid namespace");
        Self {
            namespace,
            topologies: Vec::new(),
        }
    }

    /// Deletes `topology` (queues, their dead-letter queues, the exchanges)
    /// when this is dropped.
    pub fn deletes(&mut self, topology: &Topology) {
        self.topologies.push(topology.clone());
    }
}

impl Default for TestNamespace {
    fn default() -> Self {
        Self::new()
    }
}

impl Deref for TestNamespace {
    type Target = Namespace;

    fn deref(&self) -> &Namespace {
        &self.namespace
    }
}

impl Drop for TestNamespace {
    fn drop(&mut self) {
        let topologies = std::mem::take(&mut self.topologies);
        if topologies.is_empty() {
            return;
        }
        run_to_completion("deleting the test namespace", async move {
            use lapin::{Connection, ConnectionProperties};
            let connection =
                Connection::connect(&amqp_url(), ConnectionProperties::default()).await?;
            let channel = connection.create_channel().await?;
            for topology in &topologies {
                topology.delete(&channel).await?;
            }
            connection.close(200, "test namespace deleted".into()).await
        });
    }
}

/// Runs `cleanup` to its end from a `Drop`, which cannot await and may run
/// inside a runtime (a test's) or outside one: on a runtime of its own, in a
/// thread of its own, bounded in time. A clean-up that fails fails the test
/// (leaks would pile up unseen), unless the test is already failing: then it
/// is reported beside that failure.
pub(crate) fn run_to_completion<E: std::fmt::Display>(
    what: &'static str,
    cleanup: impl Future<Output = Result<(), E>> + Send + 'static,
) {
    const BOUND: Duration = Duration::from_secs(30);
    let worker = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| error.to_string())?;
        let outcome = runtime.block_on(async move {
            match tokio::time::timeout(BOUND, cleanup).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(error)) => Err(error.to_string()),
                Err(_) => Err(format!("not done within {BOUND:?}")),
            }
        });
        // Nor does a blocking task left behind (a name lookup) hold the thread.
        runtime.shutdown_timeout(Duration::from_secs(1));
        outcome
    });
    let failure = match worker.join() {
        Ok(Ok(())) => return,
        Ok(Err(error)) => format!("test clean-up: {what} failed: {error}"),
        Err(_) => format!("test clean-up: {what} panicked"),
    };
    if std::thread::panicking() {
        eprintln!("{failure}");
    } else {
        panic!("{failure}");
    }
}

/// Runs a service `binary` with `APP_ENV=production` and, in turn, no
/// secrets, the documented development admin token, a real admin token
/// alone, and `.env.example`'s placeholder secret: each run must fail at
/// start-up, naming the variable at fault.
pub fn assert_production_refuses_documented_secrets(binary: &str) {
    let cases: [(&[(&str, &str)], &str); 4] = [
        (&[], "ADMIN_TOKEN"),
        (&[("ADMIN_TOKEN", "dev-admin-token")], "ADMIN_TOKEN"),
        (
            &[("ADMIN_TOKEN", "a-real-admin-secret")],
            "ACCESS_TOKEN_SECRET",
        ),
        (
            &[
                ("ADMIN_TOKEN", "a-real-admin-secret"),
                ("ACCESS_TOKEN_SECRET", "change-me-access-token-secret"),
            ],
            "ACCESS_TOKEN_SECRET",
        ),
    ];
    for (settings, named) in cases {
        let output = std::process::Command::new(binary)
            .current_dir(std::env::temp_dir()) // no .env to pick up
            .env_clear()
            .env("APP_ENV", "production")
            .env("HTTP_ADDR", "127.0.0.1:0")
            .envs(settings.iter().copied())
            .output()
            .expect("the service binary runs");
        let said = String::from_utf8_lossy(&output.stderr);
        assert!(
            !output.status.success(),
            "{binary} started with {settings:?}"
        );
        assert!(said.contains(named), "{settings:?}: {said}");
    }
}

/// The environment variables `read` asks for when none is set: a service's
/// configuration test compares them with the list it declares (which the
/// compose file is checked against).
pub fn variables_read<T, E: std::fmt::Debug>(
    read: impl FnOnce(&dyn Fn(&str) -> Option<String>) -> Result<T, E>,
) -> std::collections::BTreeSet<String> {
    let asked = std::sync::Mutex::new(std::collections::BTreeSet::new());
    let lookup = |name: &str| {
        if let Ok(mut asked) = asked.lock() {
            asked.insert(name.to_owned());
        }
        None
    };
    read(&lookup).expect("the defaults are a valid configuration");
    asked.into_inner().unwrap_or_default()
}
