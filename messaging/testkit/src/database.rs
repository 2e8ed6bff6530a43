//! A fresh database per test on the shared server, so that tests run in
//! parallel without seeing each other's rows, dropped when the test ends,
//! whether it passed or panicked.

use sqlx::{Connection, PgConnection};
use uuid::Uuid;

use crate::run_to_completion;

/// Where test databases are created: `DATABASE_ADMIN_URL`, by default the
/// local server's `postgres` database as user `postgres`.
pub fn admin_url() -> String {
    std::env::var("DATABASE_ADMIN_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A database created for one test; dropping it drops the database (closing
/// whatever connections are left), so a failed test leaves nothing behind.
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
        let _ = connection.close().await;
        let server = admin
            .rsplit_once('/')
            .map_or(admin.as_str(), |(server, _)| server);
        let url = format!("{server}/{name}");
        Ok(Self { name, url })
    }

    /// Its name on the server.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its connection URL.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let statement = format!(r#"DROP DATABASE IF EXISTS "{}" WITH (FORCE)"#, self.name);
        run_to_completion("dropping the test database", async move {
            let mut connection = PgConnection::connect(&admin_url()).await?;
            sqlx::query(sqlx::AssertSqlSafe(statement))
                .execute(&mut connection)
                .await?;
            connection.close().await
        });
    }
}
