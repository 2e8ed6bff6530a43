//! A fresh database per test on the shared server, so that tests run in
//! parallel without seeing each other's rows.

use sqlx::{Connection, PgConnection};
use uuid::Uuid;

/// Where test databases are created: `DATABASE_ADMIN_URL`, by default the
/// local server's `postgres` database as user `postgres`.
pub fn admin_url() -> String {
    std::env::var("DATABASE_ADMIN_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A database created for one test, dropped by [`TestDatabase::drop_now`].
#[derive(Debug)]
pub struct TestDatabase {
    name: String,
    url: String,
}

impl TestDatabase {
    /// Creates `<prefix>_<uuid>` on the admin server.
    pub async fn create(prefix: &str) -> Result<Self, sqlx::Error> {
        let name = format!("{prefix}_{}", Uuid::new_v4().simple());
        let admin = admin_url();
        let mut connection = PgConnection::connect(&admin).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(r#"CREATE DATABASE "{name}""#)))
            .execute(&mut connection)
            .await?;
        let server = admin
            .rsplit_once('/')
            .map_or(admin.as_str(), |(server, _)| server);
        let url = format!("{server}/{name}");
        Ok(Self { name, url })
    }

    /// Its connection URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Drops it, closing whatever connections are left.
    pub async fn drop_now(self) {
        if let Ok(mut connection) = PgConnection::connect(&admin_url()).await {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                r#"DROP DATABASE IF EXISTS "{}" WITH (FORCE)"#,
                self.name
            )))
            .execute(&mut connection)
            .await;
        }
    }
}
