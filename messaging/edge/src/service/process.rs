//! A service's process, the same for both: the configuration from the
//! environment (and `.env`), the `healthcheck` argument for container health
//! checks, and logging, before the service itself is built and run.

use super::{config::ServiceConfig, settings::ConfigError};

/// A service's whole configuration.
pub trait Configuration: Sized {
    /// Reads it through `lookup` (the process environment; tests pass a map).
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError>;

    /// The part every service shares.
    fn shared(&self) -> &ServiceConfig;

    /// Reads it from the process environment.
    fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }
}

/// Prepares this process to run a service: reads `.env` (when there is
/// one) and the configuration, and starts logging. With the argument
/// `healthcheck` it exits instead, 0 when a running instance answers
/// `/healthz` on `HTTP_ADDR`, 1 otherwise.
pub fn prepare<C: Configuration>() -> Result<C, ConfigError> {
    let _ = dotenvy::dotenv();
    let config = C::from_env()?;
    if std::env::args().nth(1).as_deref() == Some("healthcheck") {
        let healthy = crate::health::answers_locally(config.shared().http_addr);
        std::process::exit(if healthy { 0 } else { 1 });
    }
    crate::telemetry::init(&config.shared().log_format);
    Ok(config)
}
