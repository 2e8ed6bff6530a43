//! Logging set-up and the process's stop signal, the same in both services.

use tracing_subscriber::{
    EnvFilter,
    fmt::{self, MakeWriter},
};

/// The default filter: `info`, with warp's own per-request lines left out
/// (the edge writes one access line per request instead).
const DEFAULT_FILTER: &str = "info,warp::filters::trace=off";

/// Installs the global subscriber: `RUST_LOG` filters (default `info`);
/// `LOG_FORMAT=json` for machines, anything else for people.
pub fn init(format: &str) {
    let _ = if format == "json" {
        json_builder(std::io::stdout).try_init()
    } else {
        tracing_subscriber::fmt()
            .with_env_filter(filter())
            .with_target(true)
            .try_init()
    };
}

/// The subscriber `LOG_FORMAT=json` installs, writing to `writer` (tests
/// read what it writes). One JSON object a line: the event's fields at the
/// top level, its current span's fields under `span` and every span it is
/// in under `spans` (outermost first), each with the span's `name`.
pub fn json_subscriber<W>(writer: W) -> impl tracing::Subscriber + Send + Sync + 'static
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    json_builder(writer).finish()
}

fn json_builder<W>(
    writer: W,
) -> fmt::SubscriberBuilder<
    fmt::format::JsonFields,
    fmt::format::Format<fmt::format::Json>,
    EnvFilter,
    W,
>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .with_env_filter(filter())
        .with_target(true)
        .with_writer(writer)
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(true)
}

fn filter() -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER))
}

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
    tracing::info!("stop signal received");
}

/// For tests: logs into the test output when `TEST_LOG` is set, filtered by
/// `RUST_LOG` (default `info`); silent otherwise.
pub fn init_for_tests() {
    if std::env::var_os("TEST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter())
            .with_test_writer()
            .try_init();
    }
}
