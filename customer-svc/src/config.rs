//! Typed configuration, read once from the environment (see the README's table).

use std::time::Duration;

use contract::Money;
use edge::service::{ConfigError, Configuration, ServiceConfig, ServiceDefaults, Settings};

/// The shared settings' defaults for this service.
const DEFAULTS: ServiceDefaults = ServiceDefaults {
    name: "customer-svc",
    database_url: "postgres://127.0.0.1/customers",
    database_max_connections: "10",
    http_addr: "127.0.0.1:3002",
    // The UI, served by order-svc.
    cors_origins: "http://127.0.0.1:3001,http://localhost:3001",
};

/// The service's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// The settings every service reads (database, broker, `HTTP_ADDR`, who
    /// may do what, CORS, logging, currency).
    pub service: ServiceConfig,
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
}

/// The environment variables only this service reads.
const VARIABLES: &[&str] = &[
    "DEFAULT_CREDIT_LIMIT",
    "RESERVATION_TTL",
    "LEASE_SWEEP_INTERVAL",
    "INBOX_RETENTION",
    "RPC_PREFETCH",
    "EVENTS_PREFETCH",
];

/// Every environment variable the service reads. The compose file is
/// checked against it.
pub fn variables() -> Vec<&'static str> {
    edge::service::variables(VARIABLES)
}

impl Configuration for Config {
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let settings = Settings::new(lookup);
        let prefetch = |name: &str| {
            settings.parsed::<u32>(name, "64").and_then(|n| {
                u16::try_from(n.clamp(1, 1000)).map_err(|e| ConfigError(format!("{name}: {e}")))
            })
        };
        Ok(Self {
            service: ServiceConfig::read(&settings, DEFAULTS)?,
            default_credit_limit: Money::parse(&settings.text("DEFAULT_CREDIT_LIMIT", "5000.00"))
                .map_err(|e| ConfigError(format!("DEFAULT_CREDIT_LIMIT: {e}")))?,
            reservation_ttl: settings.period("RESERVATION_TTL", "15m")?,
            lease_sweep_interval: settings.period("LEASE_SWEEP_INTERVAL", "10s")?,
            inbox_retention: settings.period("INBOX_RETENTION", "30d")?,
            rpc_prefetch: prefetch("RPC_PREFETCH")?,
            events_prefetch: prefetch("EVENTS_PREFETCH")?,
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
        assert_eq!(
            config.service.database_url,
            "postgres://127.0.0.1/customers"
        );
        assert_eq!(config.service.http_addr.to_string(), "127.0.0.1:3002");
        assert_eq!(config.service.amqp.namespace.as_str(), "commerce");
        assert_eq!(config.service.access.admin_token, DEV_ADMIN_TOKEN);
        assert_eq!(config.default_credit_limit.to_string(), "5000.00");
        assert_eq!(config.reservation_ttl, Duration::from_secs(900));
        assert_eq!(
            config.service.cors_origins,
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
