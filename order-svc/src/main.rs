//! order-svc: reads its configuration, starts, and runs until SIGTERM or
//! SIGINT. Everything else lives in the library so that tests start the service
//! exactly as production does.

use messaging::edge::telemetry;
use order_svc::{Application, Config};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = dotenvy::dotenv();
    let config = Config::from_env()?;
    telemetry::init(&config.log_format);
    let app = Application::build(config).await?;
    app.run_until(telemetry::shutdown_signal()).await
}
