//! order-svc: reads its configuration, starts, and runs until SIGTERM or
//! SIGINT. With the argument `healthcheck` it instead probes a running
//! instance (for container health checks). Everything else lives in the
//! library, so that tests start the service exactly as production does.

use edge::telemetry;
use order_svc::{Application, Config};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = dotenvy::dotenv();
    let config = Config::from_env()?;
    if std::env::args().nth(1).as_deref() == Some("healthcheck") {
        // For container health checks: exit 0 when this service answers /healthz.
        let healthy = edge::health::answers_locally(config.http_addr);
        std::process::exit(if healthy { 0 } else { 1 });
    }
    telemetry::init(&config.log_format);
    let app = Application::build(config).await?;
    app.run_until(telemetry::shutdown_signal()).await
}
