//! order-svc: prepares the process (configuration, the `healthcheck` probe
//! for containers, logging; see `edge::service::prepare`), then builds the
//! service and runs it until SIGTERM or SIGINT. Everything else lives in the
//! library, so that tests start the service exactly as production does.

use order_svc::{Application, Config};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config: Config = edge::service::prepare()?;
    let app = Application::build(config).await?;
    app.run_until(edge::telemetry::shutdown_signal()).await
}
