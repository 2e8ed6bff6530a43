//! Connecting to a service's own database: retry while it starts, then migrate;
//! and what its errors mean ([`fault`]).

mod fault;

pub use fault::{Fault, fault, of_sqlstate};

use std::time::Duration;

use std::str::FromStr;

use sqlx::{
    Connection, PgPool,
    migrate::Migrator,
    postgres::{PgConnectOptions, PgPoolOptions, PgSslMode},
};
use tokio_retry::{
    Retry,
    strategy::{ExponentialBackoff, jitter},
};
use tracing::warn;

/// A pooled connection idle for longer than this is pinged before it is
/// handed out; one in steady use is not. sqlx's default pings every
/// connection on every acquire: a round trip before each transaction, on
/// the checkout's path (issue 10). A busy connection that broke since its
/// last use fails its first statement instead, and the pool closes it.
const PING_WHEN_IDLE_FOR: Duration = Duration::from_secs(1);

/// Session settings of every pooled connection. The services' statements are
/// index lookups by key, prepared once per connection; PostgreSQL caches a
/// generic plan for each after a few runs, planned against the table's size
/// then. On a fresh database that is a handful of rows, a sequential scan
/// wins, and the cached plan keeps scanning as the table grows until an
/// autoanalyze replans it (a minute or more later): measured at 64 clients,
/// customers and credit reservations were read 11 million rows in 20 s.
/// With sequential scans priced out, the plans use the indexes from the
/// first run; a statement with no usable index still scans.
const SESSION_SETTINGS: [(&str, &str); 1] = [("enable_seqscan", "off")];

/// The connection options `url` describes, with the session settings. TLS
/// as `sslmode` in the URL says; without it, libpq's `prefer` for a remote
/// server, but none on loopback, where the bytes never leave the machine and
/// encrypting each round trip cost a third of the checkout rate (measured at
/// 64 clients: 458 against 937 checkouts/s).
pub fn connect_options(url: &str) -> Result<PgConnectOptions, sqlx::Error> {
    let options = PgConnectOptions::from_str(url)?.options(SESSION_SETTINGS);
    let says_sslmode = url
        .split_once('?')
        .is_some_and(|(_, query)| query.split('&').any(|pair| pair.starts_with("sslmode=")));
    let host = options.get_host();
    let loopback = host.starts_with('/')
        || host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    Ok(if !says_sslmode && loopback {
        options.ssl_mode(PgSslMode::Disable)
    } else {
        options
    })
}

/// Connects, retrying with backoff for about half a minute (the database may
/// still be starting), then applies `migrator`'s migrations (under an advisory
/// lock, so instances starting together apply them once).
pub async fn connect_and_migrate(
    url: &str,
    max_connections: u32,
    migrator: &Migrator,
) -> Result<PgPool, sqlx::Error> {
    let backoff = ExponentialBackoff::from_millis(2)
        .factor(100)
        .max_delay(Duration::from_secs(5))
        .map(jitter)
        .take(10);
    let options = connect_options(url)?;
    let pool = Retry::start(backoff, || async {
        PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(5))
            .test_before_acquire(false)
            .before_acquire(|connection, meta| {
                Box::pin(async move {
                    if meta.idle_for > PING_WHEN_IDLE_FOR {
                        connection.ping().await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(options.clone())
            .await
            .inspect_err(|error| warn!(%error, "database not reachable yet"))
    })
    .await?;
    migrator.run(&pool).await?;
    Ok(pool)
}

/// A read-only transaction on one snapshot: the queries of a paged answer
/// (the count and the page, a history and its stats) then agree with each
/// other even while writes land in between.
pub async fn snapshot(
    pool: &PgPool,
) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

/// True when `error` is the violation of the named constraint.
pub fn violates(error: &sqlx::Error, constraint: &str) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.constraint() == Some(constraint))
}

/// True when `error` is a serialisation failure or a deadlock: the
/// transaction lost a race and may simply be run again.
pub fn lost_a_race(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db)
        if matches!(db.code().as_deref(), Some("40001" | "40P01")))
}

/// A `LIKE` pattern matching `text` anywhere, case-insensitively (compare with
/// a lower-cased column), with `LIKE`'s wildcards in `text` escaped.
pub fn like_pattern(text: &str) -> String {
    let escaped = text
        .trim()
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

#[cfg(test)]
mod tls_tests {
    use super::*;

    fn mode(url: &str) -> String {
        format!("{:?}", connect_options(url).unwrap().get_ssl_mode())
    }

    #[test]
    fn tls_follows_sslmode_and_skips_loopback_unless_asked() {
        assert_eq!(mode("postgres://u@127.0.0.1:5432/db"), "Disable");
        assert_eq!(mode("postgres://u@localhost/db"), "Disable");
        assert_eq!(mode("postgres://u@[::1]:5432/db"), "Disable");
        assert_eq!(mode("postgres://u@db.internal:5432/db"), "Prefer");
        assert_eq!(mode("postgres://u@127.0.0.1/db?sslmode=require"), "Require");
        assert_eq!(
            mode("postgres://u@db.internal/db?sslmode=verify-full"),
            "VerifyFull"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(like_pattern(" Ada "), "%ada%");
        assert_eq!(like_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }
}
