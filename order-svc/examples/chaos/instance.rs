//! A PostgreSQL server of the suite's own, on a loopback port the OS picks,
//! for the faults that need a whole server: stopped and started again as a
//! restart does (`pg_ctl stop -m fast`, then `start`), and its connection
//! slots all taken by another client. Its data lives in a temporary folder
//! owned by `postgres` (the server refuses to run as root), with trust
//! authentication on loopback; the services reach it as `shop`, a role that
//! is no superuser, so that the connection limits bind them as they bind a
//! production service.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use anyhow::{Context, bail};
use sqlx::{Connection, PgConnection};
use tokio::process::Command;

use crate::database::Server;

/// The role the services connect as.
pub const SERVICE_ROLE: &str = "shop";
/// The role of the client that takes every connection slot.
const HOG_ROLE: &str = "hog";
/// Connection slots: small, so that another client can take them all.
const MAX_CONNECTIONS: u32 = 40;
/// How long the server may take to start or stop on a loaded machine.
const PG_CTL_WAIT_SECONDS: &str = "120";

/// The suite's server.
pub struct Instance {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
}

impl Instance {
    /// Makes a fresh cluster under the temporary folder and starts it.
    pub async fn start(bin: &Path, run: &str) -> anyhow::Result<Self> {
        let data = std::env::temp_dir().join(format!("chaos-{run}-postgres"));
        if data.exists() {
            std::fs::remove_dir_all(&data)?;
        }
        std::fs::create_dir_all(&data)?;
        if running_as_root() {
            run_command(Command::new("chown").arg("postgres:postgres").arg(&data)).await?;
        }
        let instance = Self {
            bin: bin.to_owned(),
            data,
            port: crate::cluster::free_port()?,
        };
        let cluster = instance.data.join("cluster");
        instance
            .pg(
                "initdb",
                &[
                    "--auth=trust",
                    "--username=postgres",
                    "--encoding=UTF8",
                    "--no-sync",
                    "-D",
                    path(&cluster)?,
                ],
            )
            .await?;
        instance.pg_ctl_start().await?;
        let mut admin = PgConnection::connect(&format!("{}/postgres", instance.url())).await?;
        for role in [SERVICE_ROLE, HOG_ROLE] {
            // The names are the suite's own constants.
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE ROLE {role} LOGIN")))
                .execute(&mut admin)
                .await?;
        }
        admin.close().await?;
        Ok(instance)
    }

    /// The server as the services and the suite reach it.
    pub fn server(&self) -> Server {
        Server {
            admin_url: self.url(),
            address: format!("127.0.0.1:{}", self.port),
            service_user: SERVICE_ROLE.to_owned(),
            owner: Some(SERVICE_ROLE.to_owned()),
        }
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}", self.port)
    }

    /// A restart: a fast shutdown (sessions terminated, `57P01`), down for
    /// `down`, started again (`57P03` while it recovers).
    pub async fn restart(&self, down: Duration) -> anyhow::Result<()> {
        let cluster = self.data.join("cluster");
        self.pg(
            "pg_ctl",
            &[
                "stop",
                "-m",
                "fast",
                "-w",
                "-t",
                PG_CTL_WAIT_SECONDS,
                "-D",
                path(&cluster)?,
            ],
        )
        .await?;
        tokio::time::sleep(down).await;
        self.pg_ctl_start().await
    }

    /// Another client takes every connection slot a non-superuser may have
    /// and holds them for `hold`: the service's sessions are terminated and
    /// its reconnections refused (`53300`). Slots freed meanwhile are taken
    /// again. Says how many connections the client held at most.
    pub async fn exhaust(&self, database: &str, hold: Duration) -> anyhow::Result<usize> {
        let url = format!("postgres://{HOG_ROLE}@127.0.0.1:{}/{database}", self.port);
        let mut held = Vec::new();
        take_every_slot(&url, &mut held).await;
        let admin_url = format!("{}/postgres", self.url());
        let mut admin = PgConnection::connect(&admin_url).await?;
        sqlx::query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE usename = $1 AND datname = $2",
        )
        .bind(SERVICE_ROLE)
        .bind(database)
        .execute(&mut admin)
        .await?;
        admin.close().await?;
        let until = tokio::time::Instant::now() + hold;
        let mut most = held.len();
        while tokio::time::Instant::now() < until {
            take_every_slot(&url, &mut held).await;
            most = most.max(held.len());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        for connection in held {
            let _ = connection.close().await;
        }
        if most == 0 {
            bail!("the hog could not take a single connection slot");
        }
        Ok(most)
    }

    /// Stops the server at once and removes its data.
    pub async fn destroy(self) {
        if let Ok(cluster) = path(&self.data.join("cluster")) {
            let _ = self
                .pg("pg_ctl", &["stop", "-m", "immediate", "-D", cluster])
                .await;
        }
        let _ = std::fs::remove_dir_all(&self.data);
    }

    async fn pg_ctl_start(&self) -> anyhow::Result<()> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections={MAX_CONNECTIONS}",
            self.port,
            path(&self.data)?
        );
        let cluster = self.data.join("cluster");
        let log = self.data.join("postgres.log");
        self.pg(
            "pg_ctl",
            &[
                "start",
                "-w",
                "-t",
                PG_CTL_WAIT_SECONDS,
                "-D",
                path(&cluster)?,
                "-l",
                path(&log)?,
                "-o",
                &options,
            ],
        )
        .await
    }

    /// Runs one of the server's programs, as `postgres` when the suite runs
    /// as root.
    async fn pg(&self, program: &str, args: &[&str]) -> anyhow::Result<()> {
        let program = self.bin.join(program);
        let mut command = if running_as_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        };
        command.args(args);
        run_command(&mut command).await
    }
}

/// Opens connections until the server refuses one.
async fn take_every_slot(url: &str, held: &mut Vec<PgConnection>) {
    while let Ok(connection) = PgConnection::connect(url).await {
        held.push(connection);
    }
}

async fn run_command(command: &mut Command) -> anyhow::Result<()> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .await
        .with_context(|| format!("cannot run {command:?}"))?;
    if !output.status.success() {
        bail!(
            "{command:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

fn running_as_root() -> bool {
    std::env::var("USER").is_ok_and(|user| user == "root")
        || std::process::Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|out| out.stdout.starts_with(b"0"))
}

fn path(path: &Path) -> anyhow::Result<&str> {
    path.to_str().context("a path that is not UTF-8")
}
