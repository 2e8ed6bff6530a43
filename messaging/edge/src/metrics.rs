//! The process-wide Prometheus recorder, and per-request HTTP metrics.
//!
//! Durations (every histogram whose name ends in `_seconds`) are exported as
//! Prometheus histograms with fixed buckets, so that a dashboard can take
//! quantiles over several instances (`histogram_quantile` over `_bucket`);
//! other histograms are summaries.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Bucket bounds of every `*_seconds` histogram: from an HTTP answer (5 ms)
/// to a saga compensated for its age (`SAGA_AUTO_COMPENSATE_AFTER`, 30
/// minutes by default) or after hours of an outage.
const SECONDS_BUCKETS: [f64; 19] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0,
    1800.0, 3600.0, 7200.0,
];

/// Installs the recorder on first use (once per process, however many
/// services a test starts) and returns its handle.
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &SECONDS_BUCKETS)
            // Refused only for no buckets at all: then summaries, as before.
            .unwrap_or_else(|_| PrometheusBuilder::new())
            .build_recorder();
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
