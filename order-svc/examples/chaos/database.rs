//! A service's database as the suite sees it: created fresh for a scenario
//! on a server (the machine's, or the suite's own `Instance`), and refused
//! to its service the ways a database administrator refuses one: closed for
//! maintenance (`ALLOW_CONNECTIONS false`, sessions terminated: reconnections
//! are answered `55000`), or made read-only as after a failover to a standby
//! (`default_transaction_read_only`, sessions terminated: every write is
//! answered `25006`).

use anyhow::Context;
use sqlx::PgPool;

/// A PostgreSQL server: how the suite administers it and how services reach it.
#[derive(Debug, Clone)]
pub struct Server {
    /// A superuser's URL, without a database.
    pub admin_url: String,
    /// `host:port`, where the services' proxies point.
    pub address: String,
    /// The role the services connect as.
    pub service_user: String,
    /// The owner of the services' databases, when not the superuser.
    pub owner: Option<String>,
}

impl Server {
    /// The server `url` names (a superuser's, without a database); the
    /// services connect as that user too.
    pub fn at(url: &str) -> Self {
        let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
        let (user, address) = rest.rsplit_once('@').unwrap_or(("postgres", rest));
        Self {
            admin_url: url.to_owned(),
            address: address.to_owned(),
            service_user: user.to_owned(),
            owner: None,
        }
    }
}

/// One service's database.
pub struct ServiceDatabase {
    pub name: String,
    pub server: Server,
    admin: PgPool,
}

impl ServiceDatabase {
    /// Creates `name` afresh on `server`.
    pub async fn create(server: &Server, name: &str) -> anyhow::Result<Self> {
        let admin = PgPool::connect(&format!("{}/postgres", server.admin_url))
            .await
            .with_context(|| format!("connecting to {}", server.address))?;
        let database = Self {
            name: name.to_owned(),
            server: server.clone(),
            admin,
        };
        database.drop_it().await?;
        let owner = server
            .owner
            .as_ref()
            .map(|owner| format!(" OWNER {owner}"))
            .unwrap_or_default();
        // The names are the suite's own: run id, scenario name, role.
        database
            .run(&format!("CREATE DATABASE \"{name}\"{owner}"))
            .await?;
        Ok(database)
    }

    /// A pool straight to the database, as the superuser (for the checker).
    pub async fn direct_pool(&self) -> anyhow::Result<PgPool> {
        let url = format!(
            "{}/{}?application_name=chaos-checker",
            self.server.admin_url, self.name
        );
        Ok(PgPool::connect(&url).await?)
    }

    /// Closed for maintenance: no new connection, the service's cut.
    pub async fn close(&self) -> anyhow::Result<u64> {
        self.run(&format!(
            "ALTER DATABASE \"{}\" ALLOW_CONNECTIONS false",
            self.name
        ))
        .await?;
        self.terminate_service_sessions().await
    }

    /// Open again.
    pub async fn reopen(&self) -> anyhow::Result<()> {
        self.run(&format!(
            "ALTER DATABASE \"{}\" ALLOW_CONNECTIONS true",
            self.name
        ))
        .await
    }

    /// Read-only, as a standby the pool lands on after a failover: every
    /// session from now on refuses writes; the service's are cut.
    pub async fn make_read_only(&self) -> anyhow::Result<u64> {
        self.run(&format!(
            "ALTER DATABASE \"{}\" SET default_transaction_read_only = on",
            self.name
        ))
        .await?;
        self.terminate_service_sessions().await
    }

    /// Writable again, as once the standby is promoted: the read-only
    /// sessions are cut, so that the service reconnects to a writable one.
    pub async fn make_writable(&self) -> anyhow::Result<u64> {
        self.run(&format!(
            "ALTER DATABASE \"{}\" RESET default_transaction_read_only",
            self.name
        ))
        .await?;
        self.terminate_service_sessions().await
    }

    /// Ends the service's sessions on the database; how many there were.
    pub async fn terminate_service_sessions(&self) -> anyhow::Result<u64> {
        let ended: Vec<bool> = sqlx::query_scalar(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = $1 AND usename = $2 AND pid <> pg_backend_pid()
               AND application_name NOT LIKE 'chaos-checker%'",
        )
        .bind(&self.name)
        .bind(&self.server.service_user)
        .fetch_all(&self.admin)
        .await?;
        Ok(ended.into_iter().filter(|ended| *ended).count() as u64)
    }

    /// Drops the database, whoever is connected.
    pub async fn drop_it(&self) -> anyhow::Result<()> {
        self.run(&format!(
            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
            self.name
        ))
        .await
    }

    async fn run(&self, sql: &str) -> anyhow::Result<()> {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&self.admin)
            .await?;
        Ok(())
    }
}
