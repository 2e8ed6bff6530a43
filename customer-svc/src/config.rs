//! Typed configuration, read once from the environment (see the README's table).

use std::{net::SocketAddr, time::Duration};

use amqp::AmqpSettings;
use contract::{Currency, Money};
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
    /// `HTTP_ADDR`: where the REST API listens (port 0: any free port).
    pub http_addr: SocketAddr,
    /// `APP_ENV`, `ADMIN_TOKEN`, `ACCESS_TOKEN_SECRET`, `ACCESS_TOKEN_TTL`,
    /// `TRUSTED_PROXIES`: who may do what.
    pub access: AccessConfig,
    /// `CORS_ORIGINS`: comma-separated origins allowed to call from a browser.
    pub cors_origins: Vec<String>,
    /// `DEFAULT_CREDIT_LIMIT`: credit of customers created without one.
    pub default_credit_limit: Money,
    /// `RESERVATION_TTL` (e.g. `15m`, `90s`): how long credit stays held
    /// for a saga that no `order.confirmed` settles.
    pub reservation_ttl: Duration,
    /// `LEASE_SWEEP_INTERVAL`: how often lapsed reservations are released.
    pub lease_sweep_interval: Duration,
    /// `INBOX_RETENTION`: how long processed message ids are remembered.
    pub inbox_retention: Duration,
    /// `RPC_PREFETCH`: RPC requests handled at once.
    pub rpc_prefetch: u16,
    /// `EVENTS_PREFETCH`: events handled at once.
    pub events_prefetch: u16,
    /// `LOG_FORMAT`: `pretty` or `json`.
    pub log_format: String,
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
    "CORS_ORIGINS",
    "DEFAULT_CREDIT_LIMIT",
    "RESERVATION_TTL",
    "LEASE_SWEEP_INTERVAL",
    "INBOX_RETENTION",
    "RPC_PREFETCH",
    "EVENTS_PREFETCH",
    "LOG_FORMAT",
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
        // Every period and lifetime here must be longer than zero (a zero
        // interval panics a ticker, a zero lease or TTL means nothing holds).
        let parse_duration = |name: &str, default: &str| {
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
        let parse_number = |name: &str, default: &str| {
            get(name, default)
                .parse::<u32>()
                .map_err(|e| ConfigError(format!("{name}: {e}")))
        };
        let prefetch = |name: &str| {
            parse_number(name, "64").and_then(|n| {
                u16::try_from(n.clamp(1, 1000)).map_err(|e| ConfigError(format!("{name}: {e}")))
            })
        };

        let amqp = AmqpSettings::from_lookup(&lookup, "customer-svc").map_err(ConfigError)?;

        Ok(Self {
            database_url: get("DATABASE_URL", "postgres://127.0.0.1/customers"),
            database_max_connections: parse_number("DATABASE_MAX_CONNECTIONS", "10")?,
            amqp,
            http_addr: get("HTTP_ADDR", "127.0.0.1:3002")
                .parse()
                .map_err(|e| ConfigError(format!("HTTP_ADDR: {e}")))?,
            access: AccessConfig::from_lookup(&lookup).map_err(ConfigError)?,
            cors_origins: edge::parse_origins(&get(
                "CORS_ORIGINS",
                "http://127.0.0.1:3001,http://localhost:3001",
            ))
            .map_err(|e| ConfigError(format!("CORS_ORIGINS: {e}")))?,
            default_credit_limit: Money::parse(&get("DEFAULT_CREDIT_LIMIT", "5000.00"))
                .map_err(|e| ConfigError(format!("DEFAULT_CREDIT_LIMIT: {e}")))?,
            reservation_ttl: parse_duration("RESERVATION_TTL", "15m")?,
            lease_sweep_interval: parse_duration("LEASE_SWEEP_INTERVAL", "10s")?,
            inbox_retention: parse_duration("INBOX_RETENTION", "30d")?,
            rpc_prefetch: prefetch("RPC_PREFETCH")?,
            events_prefetch: prefetch("EVENTS_PREFETCH")?,
            log_format: get("LOG_FORMAT", "pretty"),
            shop_currency: Currency::parse(&get("SHOP_CURRENCY", Currency::DEFAULT))
                .map_err(|e| ConfigError(format!("SHOP_CURRENCY {}", e.0)))?,
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
        assert_eq!(config.database_url, "postgres://127.0.0.1/customers");
        assert_eq!(config.http_addr.to_string(), "127.0.0.1:3002");
        assert_eq!(config.amqp.namespace.as_str(), "commerce");
        assert_eq!(config.access.admin_token, DEV_ADMIN_TOKEN);
        assert_eq!(config.default_credit_limit.to_string(), "5000.00");
        assert_eq!(config.reservation_ttl, Duration::from_secs(900));
        assert_eq!(
            config.cors_origins,
            vec!["http://127.0.0.1:3001", "http://localhost:3001"]
        );
    }

    #[test]
    fn zero_periods_are_refused_with_their_name() {
        for name in ["RESERVATION_TTL", "LEASE_SWEEP_INTERVAL"] {
            let error = Config::from_lookup(|n| (n == name).then(|| "0s".into()))
                .unwrap_err()
                .to_string();
            assert!(error.contains(name), "{error}");
        }
    }

    #[test]
    fn bad_values_are_refused_with_their_name() {
        let error = Config::from_lookup(|n| (n == "HTTP_ADDR").then(|| "nowhere".into()))
            .unwrap_err()
            .to_string();
        assert!(error.contains("HTTP_ADDR"), "{error}");
        let error = Config::from_lookup(|n| (n == "RESERVATION_TTL").then(|| "soon".into()))
            .unwrap_err()
            .to_string();
        assert!(error.contains("RESERVATION_TTL"), "{error}");
        let error = Config::from_lookup(|n| (n == "CORS_ORIGINS").then(|| "localhost:3001".into()))
            .unwrap_err()
            .to_string();
        assert!(error.contains("CORS_ORIGINS"), "{error}");
    }
}
