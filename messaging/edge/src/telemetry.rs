//! Logging set-up and the process's stop signal, the same in both services.

use tracing_subscriber::{EnvFilter, fmt};

/// The default filter: `info`, with warp's own per-request lines left out
/// (the edge writes one access line per request instead).
const DEFAULT_FILTER: &str = "info,warp::filters::trace=error";

/// Installs the global subscriber: `RUST_LOG` filters (default `info`);
/// `LOG_FORMAT=json` for machines, anything else for people.
pub fn init(format: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let builder = fmt().with_env_filter(filter).with_target(true);
    let _ = if format == "json" {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init()
    } else {
        builder.try_init()
    };
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
        let filter =
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
        let _ = fmt().with_env_filter(filter).with_test_writer().try_init();
    }
}
