//! The process-wide Prometheus recorder, and per-request HTTP metrics.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the recorder on first use (once per process, however many
/// services a test starts) and returns its handle.
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        // Another recorder may already be installed (by an embedding program);
        // then this handle simply renders nothing of ours.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// The current metrics in Prometheus text format.
pub fn render() -> String {
    handle().render()
}

/// Records one finished HTTP request: its metrics, and one access-log line
/// (inside the request's span, which carries its `x-request-id`).
pub fn record_request(info: warp::log::Info<'_>) {
    let status = info.status().as_u16();
    let elapsed_ms = format!("{:.2}", info.elapsed().as_secs_f64() * 1000.0);
    if status >= 500 {
        tracing::error!(method = %info.method(), path = info.path(), status, %elapsed_ms, "request failed");
    } else {
        tracing::info!(method = %info.method(), path = info.path(), status, %elapsed_ms, "request");
    }
    let labels = [
        ("method", info.method().to_string()),
        ("status", info.status().as_u16().to_string()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(info.elapsed().as_secs_f64());
}
