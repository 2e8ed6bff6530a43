//! check-consistency: runs the invariant checker against both databases and
//! prints what it checked and what is off; exits 0 when everything holds, 1
//! when something is off, 2 when it could not check.
//!
//! `ORDERS_DATABASE_URL` (default `postgres://127.0.0.1/orders`) and
//! `CUSTOMERS_DATABASE_URL` (default `postgres://127.0.0.1/customers`);
//! `SAGA_GRACE` and `OUTBOX_GRACE` (default `60s`) bound what counts as stuck.

use std::process::ExitCode;

use order_svc::consistency::{self, Bounds};
use sqlx::postgres::PgPoolOptions;

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(error) => {
            eprintln!("check-consistency could not check: {error:#}");
            ExitCode::from(2)
        }
    }
}

async fn run() -> anyhow::Result<bool> {
    let setting =
        |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
    let grace = |name: &str| -> anyhow::Result<std::time::Duration> {
        humantime::parse_duration(&setting(name, "60s")).map_err(|e| anyhow::anyhow!("{name}: {e}"))
    };
    let bounds = Bounds {
        saga_grace: grace("SAGA_GRACE")?,
        outbox_grace: grace("OUTBOX_GRACE")?,
    };
    let connect = |url: String| PgPoolOptions::new().max_connections(2).connect_lazy(&url);
    let orders = connect(setting(
        "ORDERS_DATABASE_URL",
        "postgres://127.0.0.1/orders",
    ))?;
    let customers = connect(setting(
        "CUSTOMERS_DATABASE_URL",
        "postgres://127.0.0.1/customers",
    ))?;
    let report = consistency::check(&orders, &customers, bounds, None).await?;
    print!("{report}");
    println!(
        "not checked: stock conservation (needs each product's starting stock; the tests give it)"
    );
    Ok(report.holds())
}
