//! The settings every service reads the same way: its database, the broker,
//! where it listens, who may do what, CORS, logging and the shop's currency.
//! Each service's `Config` holds one of these beside its own settings.

use std::net::SocketAddr;

use amqp::AmqpSettings;
use contract::Currency;

use super::settings::{ConfigError, Settings};
use crate::access_config::{self, AccessConfig};

/// The variables [`ServiceConfig`] reads besides the access settings.
const VARIABLES: &[&str] = &[
    "DATABASE_URL",
    "DATABASE_MAX_CONNECTIONS",
    "AMQP_URL",
    "AMQP_NAMESPACE",
    "AMQP_TLS_CA_FILE",
    "AMQP_QUEUE_EXPIRY_MS",
    "HTTP_ADDR",
    "CORS_ORIGINS",
    "LOG_FORMAT",
    "SHOP_CURRENCY",
];

/// Every environment variable a service reads: the shared ones and `own`
/// (besides `RUST_LOG`, which the logging filter reads itself). The compose
/// file is checked against it.
pub fn variables(own: &[&'static str]) -> Vec<&'static str> {
    VARIABLES
        .iter()
        .chain(access_config::VARIABLES)
        .chain(own)
        .copied()
        .collect()
}

/// What differs between services in the shared settings: their defaults.
#[derive(Debug, Clone, Copy)]
pub struct ServiceDefaults {
    /// The service's name (the broker connection's `app_id`).
    pub name: &'static str,
    /// `DATABASE_URL`.
    pub database_url: &'static str,
    /// `DATABASE_MAX_CONNECTIONS`.
    pub database_max_connections: &'static str,
    /// `HTTP_ADDR`.
    pub http_addr: &'static str,
    /// `CORS_ORIGINS`.
    pub cors_origins: &'static str,
}

/// The shared settings.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// The service's name.
    pub name: &'static str,
    /// `DATABASE_URL`: this service's own database.
    pub database_url: String,
    /// `DATABASE_MAX_CONNECTIONS`.
    pub database_max_connections: u32,
    /// `AMQP_URL`, `AMQP_NAMESPACE`, `AMQP_TLS_CA_FILE`, `AMQP_QUEUE_EXPIRY_MS`.
    pub amqp: AmqpSettings,
    /// `HTTP_ADDR`: where the service listens (port 0: any free port).
    pub http_addr: SocketAddr,
    /// `APP_ENV`, `ADMIN_TOKEN`, `ACCESS_TOKEN_SECRET`, `ACCESS_TOKEN_TTL`,
    /// `TRUSTED_PROXIES`: who may do what.
    pub access: AccessConfig,
    /// `CORS_ORIGINS`: comma-separated origins allowed to call from another site.
    pub cors_origins: Vec<String>,
    /// `LOG_FORMAT`: `pretty` or `json`.
    pub log_format: String,
    /// `SHOP_CURRENCY` (ISO 4217, default `EUR`): the one currency the shop
    /// sells in; both services must agree on it.
    pub shop_currency: Currency,
}

impl ServiceConfig {
    /// Reads the shared settings, with this service's defaults.
    pub fn read(
        settings: &Settings<impl Fn(&str) -> Option<String>>,
        defaults: ServiceDefaults,
    ) -> Result<Self, ConfigError> {
        Ok(Self {
            name: defaults.name,
            database_url: settings.text("DATABASE_URL", defaults.database_url),
            database_max_connections: settings.parsed(
                "DATABASE_MAX_CONNECTIONS",
                defaults.database_max_connections,
            )?,
            amqp: AmqpSettings::from_lookup(settings.lookup(), defaults.name)
                .map_err(ConfigError)?,
            http_addr: settings.parsed("HTTP_ADDR", defaults.http_addr)?,
            access: AccessConfig::from_lookup(settings.lookup()).map_err(ConfigError)?,
            cors_origins: crate::parse_origins(
                &settings.text("CORS_ORIGINS", defaults.cors_origins),
            )
            .map_err(|e| ConfigError(format!("CORS_ORIGINS: {e}")))?,
            log_format: settings.text("LOG_FORMAT", "pretty"),
            shop_currency: Currency::parse(&settings.text("SHOP_CURRENCY", Currency::DEFAULT))
                .map_err(|e| ConfigError(format!("SHOP_CURRENCY {}", e.0)))?,
        })
    }
}
