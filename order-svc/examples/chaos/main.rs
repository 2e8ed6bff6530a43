//! The fault suite behind `scripts/chaos.sh`: runs each scenario under
//! concurrent checkout load against both services as their own processes,
//! each on fresh databases, behind TCP proxies it can cut, on RabbitMQ nodes
//! of its own (never the developer's broker); then waits for the system to
//! settle, runs the invariant checker (`order_svc::consistency`) and prints a
//! table: per scenario, checkouts run, confirmed, lost, oversold, double
//! counted, credit off, checkouts answered 500, dead letters. Exits 1 when
//! any of those is not zero. The scenarios in which PostgreSQL itself
//! refuses a service (closed, restarted, exhausted, read-only) put that
//! service's database on a server of the suite's own.
//!
//! Settings (environment, as `scripts/chaos.sh` passes them):
//! - `CHAOS_BIN`: the folder holding the `order-svc` and `customer-svc`
//!   binaries;
//! - `CHAOS_WORK`: a folder for the nodes' data and every process's log;
//! - `CHAOS_POSTGRES_URL`: a server URL whose user may create databases;
//! - `CHAOS_PG_BIN`: the folder of PostgreSQL's `initdb` and `pg_ctl`, for
//!   the server of the suite's own that the refusal scenarios restart and
//!   exhaust (`instance`);
//! - `RABBITMQ_SBIN`: the folder of `rabbitmq-server` and `rabbitmqctl`
//!   (the real scripts, not Debian's wrapper that runs them as `rabbitmq`);
//! - `CHAOS_SCENARIOS`: names to run (default: all, in the order below);
//! - `CHAOS_CLIENTS`: concurrent shoppers (default 8);
//! - `CHAOS_RUN`: a name for this run, in every database and node name it
//!   makes, so that the script can clean up after it (default: the pid).

mod cluster;
mod database;
mod duplicator;
mod instance;
mod load;
mod scenario;
mod system;
mod tally;

use std::{path::PathBuf, process::ExitCode, time::Duration};

use anyhow::{Context, bail};
use tokio_util::sync::CancellationToken;

use crate::{
    cluster::Cluster,
    database::Server,
    instance::Instance,
    scenario::{Scenario, Side},
    system::{Placement, System},
    tally::Row,
};

/// Load before the fault, so that it strikes sagas in flight.
const LOAD_BEFORE_FAULT: Duration = Duration::from_secs(4);
/// Load after the fault healed, so that recovery happens under load too.
pub const LOAD_AFTER_FAULT: Duration = Duration::from_secs(4);

/// Where the suite runs.
pub struct Settings {
    run: String,
    bin: PathBuf,
    work: PathBuf,
    postgres_url: String,
    postgres_bin: PathBuf,
    rabbitmq_sbin: PathBuf,
    scenarios: Vec<Scenario>,
    clients: usize,
}

impl Settings {
    fn from_env() -> anyhow::Result<Self> {
        let var = |name: &str| std::env::var(name).with_context(|| format!("{name} is not set"));
        let mut scenarios: Vec<Scenario> = match std::env::var("CHAOS_SCENARIOS") {
            Ok(names) if !names.trim().is_empty() => names
                .split_whitespace()
                .map(Scenario::parse)
                .collect::<Result<_, _>>()?,
            _ => Scenario::ALL.to_vec(),
        };
        // In the suite's order whatever the order asked: the cluster
        // scenario leaves the first node dead, so it comes last.
        scenarios.sort_by_key(|scenario| Scenario::ALL.iter().position(|s| s == scenario));
        scenarios.dedup();
        let clients = match std::env::var("CHAOS_CLIENTS") {
            Ok(raw) => raw.parse().context("CHAOS_CLIENTS must be a number")?,
            Err(_) => 8,
        };
        let run = std::env::var("CHAOS_RUN").unwrap_or_else(|_| std::process::id().to_string());
        if run.is_empty() || !run.chars().all(|c| c.is_ascii_alphanumeric()) {
            bail!("CHAOS_RUN must be letters and digits, not {run:?}");
        }
        Ok(Self {
            run,
            bin: var("CHAOS_BIN")?.into(),
            work: var("CHAOS_WORK")?.into(),
            postgres_url: var("CHAOS_POSTGRES_URL")?,
            postgres_bin: var("CHAOS_PG_BIN")?.into(),
            rabbitmq_sbin: var("RABBITMQ_SBIN")?.into(),
            scenarios,
            clients,
        })
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    match run().await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(error) => {
            eprintln!("chaos: could not run: {error:#}");
            ExitCode::from(2)
        }
    }
}

async fn run() -> anyhow::Result<bool> {
    let settings = Settings::from_env()?;
    std::fs::create_dir_all(&settings.work)?;
    say(&format!(
        "starting a RabbitMQ node of the suite's own (logs and data: {})",
        settings.work.display()
    ));
    let mut cluster =
        Cluster::start(&settings.rabbitmq_sbin, &settings.work, &settings.run).await?;
    let mut instance = None;
    let mut rows = Vec::new();
    for scenario in &settings.scenarios {
        if scenario.refuses().is_some() && instance.is_none() {
            say("starting a PostgreSQL server of the suite's own");
            instance = Some(Instance::start(&settings.postgres_bin, &settings.run).await?);
        }
        say(&format!("scenario: {}", scenario.describe()));
        let row = run_scenario(*scenario, &settings, &mut cluster, instance.as_ref())
            .await
            .with_context(|| format!("scenario {}", scenario.name()))?;
        println!("{}", Row::HEADER);
        println!("{row}");
        for problem in &row.problems {
            println!("    OFF: {problem}");
        }
        rows.push(row);
    }
    cluster.stop().await;
    if let Some(instance) = instance {
        instance.destroy().await;
    }

    println!();
    println!(
        "fault suite: {} shoppers, load {}s before and {}s after each fault, then the checker",
        settings.clients,
        LOAD_BEFORE_FAULT.as_secs(),
        LOAD_AFTER_FAULT.as_secs()
    );
    println!("{}", Row::HEADER);
    println!("{}", Row::RULE);
    for row in &rows {
        println!("{row}");
    }
    let clean = rows.iter().all(Row::is_clean);
    if clean {
        say("every scenario: nothing lost, oversold, double counted or off");
    } else {
        say("some scenario broke an invariant (OFF lines above; logs in the work folder)");
    }
    Ok(clean)
}

async fn run_scenario(
    scenario: Scenario,
    settings: &Settings,
    cluster: &mut Cluster,
    instance: Option<&Instance>,
) -> anyhow::Result<Row> {
    if scenario.needs_cluster() {
        say("growing the suite's broker to a three-node cluster");
        cluster.grow_to(3).await?;
    }
    if !cluster.first_is_running() {
        bail!("the suite's first broker node is down; {scenario:?} needs it");
    }
    let machines = Server::at(&settings.postgres_url);
    let own = |side| match (scenario.refuses(), instance) {
        (Some(refused), Some(instance)) if refused == side => instance.server(),
        _ => machines.clone(),
    };
    let placement = Placement {
        orders: own(Side::Orders),
        customers: own(Side::Customers),
    };
    let mut system = System::start(settings, scenario.name(), cluster, &placement).await?;
    let result = async {
        let stop = CancellationToken::new();
        let load = tokio::spawn(load::run(system.shop(), settings.clients, stop.clone()));
        tokio::time::sleep(LOAD_BEFORE_FAULT).await;
        let note = scenario.strike(&mut system, cluster, instance).await?;
        tokio::time::sleep(LOAD_AFTER_FAULT).await;
        stop.cancel();
        let outcomes = load.await??;
        tally::settle_and_count(scenario.name(), &system, outcomes, note).await
    }
    .await;
    system.stop().await;
    result
}

fn say(what: &str) {
    println!("\x1b[1;34m==>\x1b[0m chaos: {what}");
}
