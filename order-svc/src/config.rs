//! Typed configuration, read once from the environment (see the README's table).

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use amqp::AmqpSettings;
use contract::Currency;
use edge::access_config::{self, AccessConfig};

/// The service's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// `DATABASE_URL`: this service's own database.
    pub database_url: String,
    /// `DATABASE_MAX_CONNECTIONS`.
    pub database_max_connections: u32,
    /// `AMQP_URL`, `AMQP_NAMESPACE`, `AMQP_QUEUE_EXPIRY_MS`.
    pub amqp: AmqpSettings,
    /// `HTTP_ADDR`: where the REST API and the UI are served (port 0: any).
    pub http_addr: SocketAddr,
    /// `RPC_TIMEOUT_MS`: how long the saga waits for customer-svc before it compensates.
    pub rpc_timeout: Duration,
    /// `CHECKOUT_WAIT_MS`: how long `POST /api/v1/orders` waits for the saga's
    /// end before answering 202 (default: `RPC_TIMEOUT_MS` plus 2 s).
    pub checkout_wait: Duration,
    /// `APP_ENV`, `ADMIN_TOKEN`, `ACCESS_TOKEN_SECRET`, `ACCESS_TOKEN_TTL`,
    /// `TRUSTED_PROXIES`: who may do what.
    pub access: AccessConfig,
    /// `UI_DIR`: the built WASM UI, served at `/`.
    pub ui_dir: PathBuf,
    /// `CUSTOMER_API_URL`: customer-svc's base URL as the browser reaches it,
    /// handed to the UI in `/ui-config.json`.
    pub customer_api_url: String,
    /// `CORS_ORIGINS`: origins allowed to call from another site (none by
    /// default: the UI is served by this service).
    pub cors_origins: Vec<String>,
    /// `SAGA_LEASE` (e.g. `10s`): how long an instance owns a saga it drives
    /// before another instance may take it over.
    pub saga_lease: Duration,
    /// `RECOVERY_INTERVAL`: how often unfinished sagas whose lease ran out are
    /// resumed or compensated (also done at start-up).
    pub recovery_interval: Duration,
    /// `INSTANCE_ID`: this instance's name in saga leases.
    pub instance_id: String,
    /// `LOG_FORMAT`: `pretty` or `json`.
    pub log_format: String,
    /// `CHECKOUT_RATE_PER_MINUTE`: checkouts a minute per client IP, in
    /// bursts of as many; beyond that a 429 with `Retry-After`.
    pub checkout_rate_per_minute: std::num::NonZeroU32,
    /// `IDEMPOTENCY_KEY_TTL` (e.g. `24h`): how long an `Idempotency-Key` is
    /// remembered.
    pub idempotency_key_ttl: Duration,
    /// `OUTBOX_RETENTION`: how long a sent event stays in the outbox.
    pub outbox_retention: Duration,
    /// `SAGA_TIMELINE_RETENTION`: how long a finished saga's timeline is kept.
    pub saga_timeline_retention: Duration,
    /// `FAULT_CRASH_AFTER`: fault injection for tests only. When set to a saga
    /// step (`verify_customer`), the process aborts once that step's answer
    /// has arrived, before it is committed, exactly as a crash would. Never
    /// set in production.
    pub crash_after: Option<String>,
    /// `SHOP_CURRENCY` (ISO 4217, default `EUR`): the one currency the
    /// shop sells in; both services must agree on it.
    pub shop_currency: Currency,
}

/// The environment variables only this service reads; [`variables`] adds
/// the access settings both services share.
pub const VARIABLES: &[&str] = &[
    "DATABASE_URL",
    "DATABASE_MAX_CONNECTIONS",
    "AMQP_URL",
    "AMQP_NAMESPACE",
    "AMQP_TLS_CA_FILE",
    "AMQP_QUEUE_EXPIRY_MS",
    "HTTP_ADDR",
    "RPC_TIMEOUT_MS",
    "CHECKOUT_WAIT_MS",
    "UI_DIR",
    "CUSTOMER_API_URL",
    "CORS_ORIGINS",
    "SAGA_LEASE",
    "RECOVERY_INTERVAL",
    "INSTANCE_ID",
    "LOG_FORMAT",
    "FAULT_CRASH_AFTER",
    "CHECKOUT_RATE_PER_MINUTE",
    "IDEMPOTENCY_KEY_TTL",
    "OUTBOX_RETENTION",
    "SAGA_TIMELINE_RETENTION",
    "SHOP_CURRENCY",
];

/// Every environment variable the service reads (besides `RUST_LOG`, which
/// the logging filter reads itself). The compose file is checked against it.
pub fn variables() -> Vec<&'static str> {
    VARIABLES
        .iter()
        .chain(access_config::VARIABLES)
        .copied()
        .collect()
}

/// A configuration value that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(String);

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup` (tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str, default: &str| lookup(name).unwrap_or_else(|| default.to_owned());
        let millis = |name: &str, default: &str| {
            get(name, default)
                .parse::<u64>()
                .map(Duration::from_millis)
                .map_err(|e| ConfigError(format!("{name}: {e}")))
        };
        // Every period and lifetime here must be longer than zero (a zero
        // interval panics a ticker, a zero lease or TTL means nothing holds).
        let duration = |name: &str, default: &str| {
            humantime::parse_duration(&get(name, default))
                .map_err(|e| ConfigError(format!("{name}: {e}")))
                .and_then(|period| {
                    if period.is_zero() {
                        Err(ConfigError(format!("{name} must be longer than zero")))
                    } else {
                        Ok(period)
                    }
                })
        };

        let rpc_timeout = millis("RPC_TIMEOUT_MS", "3000")?;
        if rpc_timeout < Duration::from_millis(50) {
            return Err(ConfigError("RPC_TIMEOUT_MS must be at least 50".into()));
        }
        let default_wait = (rpc_timeout + Duration::from_secs(2))
            .as_millis()
            .to_string();
        let amqp = AmqpSettings::from_lookup(&lookup, "order-svc").map_err(ConfigError)?;
        let saga_lease = duration("SAGA_LEASE", "10s")?;
        if saga_lease <= rpc_timeout {
            return Err(ConfigError(
                "SAGA_LEASE must be longer than RPC_TIMEOUT_MS, or a slow call would lose its saga"
                    .into(),
            ));
        }
        Ok(Self {
            database_url: get("DATABASE_URL", "postgres://127.0.0.1/orders"),
            database_max_connections: get("DATABASE_MAX_CONNECTIONS", "20")
                .parse()
                .map_err(|e| ConfigError(format!("DATABASE_MAX_CONNECTIONS: {e}")))?,
            amqp,
            http_addr: get("HTTP_ADDR", "127.0.0.1:3001")
                .parse()
                .map_err(|e| ConfigError(format!("HTTP_ADDR: {e}")))?,
            rpc_timeout,
            checkout_wait: millis("CHECKOUT_WAIT_MS", &default_wait)?,
            access: AccessConfig::from_lookup(&lookup).map_err(ConfigError)?,
            ui_dir: PathBuf::from(get("UI_DIR", "ui/dist")),
            customer_api_url: get("CUSTOMER_API_URL", "http://127.0.0.1:3002"),
            cors_origins: edge::parse_origins(&get("CORS_ORIGINS", ""))
                .map_err(|e| ConfigError(format!("CORS_ORIGINS: {e}")))?,
            saga_lease,
            recovery_interval: duration("RECOVERY_INTERVAL", "5s")?,
            instance_id: lookup("INSTANCE_ID").unwrap_or_else(|| {
                format!(
                    "order-svc-{}-{}",
                    std::process::id(),
                    uuid::Uuid::new_v4().simple()
                )
            }),
            log_format: get("LOG_FORMAT", "pretty"),
            shop_currency: Currency::parse(&get("SHOP_CURRENCY", Currency::DEFAULT))
                .map_err(|e| ConfigError(format!("SHOP_CURRENCY {}", e.0)))?,
            checkout_rate_per_minute: get("CHECKOUT_RATE_PER_MINUTE", "120").parse().map_err(
                |_| ConfigError("CHECKOUT_RATE_PER_MINUTE must be a whole number from 1".into()),
            )?,
            idempotency_key_ttl: duration("IDEMPOTENCY_KEY_TTL", "24h")?,
            outbox_retention: duration("OUTBOX_RETENTION", "7d")?,
            saga_timeline_retention: duration("SAGA_TIMELINE_RETENTION", "90d")?,
            crash_after: lookup("FAULT_CRASH_AFTER").filter(|s| !s.is_empty()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use edge::access_config::DEV_ADMIN_TOKEN;

    #[test]
    fn it_reads_exactly_the_variables_it_declares() {
        let asked = std::sync::Mutex::new(std::collections::BTreeSet::new());
        Config::from_lookup(|name| {
            asked.lock().unwrap().insert(name.to_owned());
            None
        })
        .unwrap();
        let declared: std::collections::BTreeSet<String> =
            variables().into_iter().map(str::to_owned).collect();
        assert_eq!(*asked.lock().unwrap(), declared);
    }

    #[test]
    fn defaults_follow_the_contract() {
        let config = Config::from_lookup(|_| None).unwrap();
        assert_eq!(config.database_url, "postgres://127.0.0.1/orders");
        assert_eq!(config.http_addr.to_string(), "127.0.0.1:3001");
        assert_eq!(config.rpc_timeout, Duration::from_millis(3000));
        assert_eq!(config.checkout_wait, Duration::from_millis(5000));
        assert_eq!(config.ui_dir, PathBuf::from("ui/dist"));
        assert_eq!(config.access.admin_token, DEV_ADMIN_TOKEN);
        assert!(config.cors_origins.is_empty());
        assert!(config.crash_after.is_none());
    }

    #[test]
    fn zero_periods_are_refused_with_their_name() {
        for name in ["SAGA_LEASE", "RECOVERY_INTERVAL", "IDEMPOTENCY_KEY_TTL"] {
            let error = Config::from_lookup(|n| (n == name).then(|| "0s".into()))
                .unwrap_err()
                .to_string();
            assert!(error.contains(name), "{error}");
        }
    }

    #[test]
    fn a_lease_shorter_than_the_rpc_timeout_is_refused() {
        let error = Config::from_lookup(|n| (n == "SAGA_LEASE").then(|| "1s".into()))
            .unwrap_err()
            .to_string();
        assert!(error.contains("SAGA_LEASE"), "{error}");
    }
}
