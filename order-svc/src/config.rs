//! Typed configuration, read once from the environment (see the README's table).

use std::{path::PathBuf, time::Duration};

use edge::service::{ConfigError, Configuration, ServiceConfig, ServiceDefaults, Settings};

/// The shared settings' defaults for this service.
const DEFAULTS: ServiceDefaults = ServiceDefaults {
    name: "order-svc",
    database_url: "postgres://127.0.0.1/orders",
    database_max_connections: "20",
    http_addr: "127.0.0.1:3001",
    // None: the UI is served by this service.
    cors_origins: "",
};

/// The service's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// The settings every service reads (database, broker, `HTTP_ADDR`, who
    /// may do what, CORS, logging, currency).
    pub service: ServiceConfig,
    /// `RPC_TIMEOUT_MS`: how long the saga waits for customer-svc before it compensates.
    pub rpc_timeout: Duration,
    /// `CHECKOUT_WAIT_MS`: how long `POST /api/v1/orders` waits for the saga's
    /// end before answering 202 (default: `RPC_TIMEOUT_MS` plus 2 s).
    pub checkout_wait: Duration,
    /// `UI_DIR`: the built WASM UI, served at `/`.
    pub ui_dir: PathBuf,
    /// `CUSTOMER_API_URL`: customer-svc's base URL as the browser reaches it,
    /// handed to the UI in `/ui-config.json`.
    pub customer_api_url: String,
    /// `SAGA_LEASE` (e.g. `10s`): how long an instance owns a saga it drives
    /// before another instance may take it over.
    pub saga_lease: Duration,
    /// `RECOVERY_INTERVAL`: how often unfinished sagas whose lease ran out are
    /// resumed or compensated (also done at start-up).
    pub recovery_interval: Duration,
    /// `INSTANCE_ID`: this instance's name in saga leases.
    pub instance_id: String,
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
}

/// The environment variables only this service reads.
const VARIABLES: &[&str] = &[
    "RPC_TIMEOUT_MS",
    "CHECKOUT_WAIT_MS",
    "UI_DIR",
    "CUSTOMER_API_URL",
    "SAGA_LEASE",
    "RECOVERY_INTERVAL",
    "INSTANCE_ID",
    "FAULT_CRASH_AFTER",
    "CHECKOUT_RATE_PER_MINUTE",
    "IDEMPOTENCY_KEY_TTL",
    "OUTBOX_RETENTION",
    "SAGA_TIMELINE_RETENTION",
];

/// Every environment variable the service reads. The compose file is
/// checked against it.
pub fn variables() -> Vec<&'static str> {
    edge::service::variables(VARIABLES)
}

impl Configuration for Config {
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let settings = Settings::new(lookup);
        let service = ServiceConfig::read(&settings, DEFAULTS)?;
        let rpc_timeout = settings.millis("RPC_TIMEOUT_MS", "3000")?;
        if rpc_timeout < Duration::from_millis(50) {
            return Err(ConfigError("RPC_TIMEOUT_MS must be at least 50".into()));
        }
        let default_wait = (rpc_timeout + Duration::from_secs(2))
            .as_millis()
            .to_string();
        let saga_lease = settings.period("SAGA_LEASE", "10s")?;
        if saga_lease <= rpc_timeout {
            return Err(ConfigError(
                "SAGA_LEASE must be longer than RPC_TIMEOUT_MS, or a slow call would lose its saga"
                    .into(),
            ));
        }
        Ok(Self {
            service,
            rpc_timeout,
            checkout_wait: settings.millis("CHECKOUT_WAIT_MS", &default_wait)?,
            ui_dir: PathBuf::from(settings.text("UI_DIR", "ui/dist")),
            customer_api_url: settings.text("CUSTOMER_API_URL", "http://127.0.0.1:3002"),
            saga_lease,
            recovery_interval: settings.period("RECOVERY_INTERVAL", "5s")?,
            instance_id: settings.optional("INSTANCE_ID").unwrap_or_else(|| {
                format!(
                    "order-svc-{}-{}",
                    std::process::id(),
                    uuid::Uuid::new_v4().simple()
                )
            }),
            checkout_rate_per_minute: settings.parsed("CHECKOUT_RATE_PER_MINUTE", "120").map_err(
                |_| ConfigError("CHECKOUT_RATE_PER_MINUTE must be a whole number from 1".into()),
            )?,
            idempotency_key_ttl: settings.period("IDEMPOTENCY_KEY_TTL", "24h")?,
            outbox_retention: settings.period("OUTBOX_RETENTION", "7d")?,
            saga_timeline_retention: settings.period("SAGA_TIMELINE_RETENTION", "90d")?,
            crash_after: settings
                .optional("FAULT_CRASH_AFTER")
                .filter(|s| !s.is_empty()),
        })
    }

    fn shared(&self) -> &ServiceConfig {
        &self.service
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use edge::access_config::DEV_ADMIN_TOKEN;

    #[test]
    fn it_reads_exactly_the_variables_it_declares() {
        let declared = variables().into_iter().map(str::to_owned).collect();
        assert_eq!(
            testkit::variables_read(|l| Config::from_lookup(l)),
            declared
        );
    }

    #[test]
    fn defaults_follow_the_contract() {
        let config = Config::from_lookup(|_| None).unwrap();
        assert_eq!(config.service.database_url, "postgres://127.0.0.1/orders");
        assert_eq!(config.service.http_addr.to_string(), "127.0.0.1:3001");
        assert_eq!(config.rpc_timeout, Duration::from_millis(3000));
        assert_eq!(config.checkout_wait, Duration::from_millis(5000));
        assert_eq!(config.ui_dir, PathBuf::from("ui/dist"));
        assert_eq!(config.service.access.admin_token, DEV_ADMIN_TOKEN);
        assert!(config.service.cors_origins.is_empty());
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
