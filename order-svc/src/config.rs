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
    /// `SAGA_STUCK_AFTER` (default `2m`): an unfinished saga older than this
    /// (or past its step's deadline) is listed as stuck by
    /// `GET /api/v1/admin/sagas/stuck`.
    pub saga_stuck_after: Duration,
    /// `SAGA_AUTO_COMPENSATE_AFTER` (default `30m`): a saga still short of a
    /// confirmation this long after it started is compensated by the
    /// recovery round. Longer than `SAGA_STUCK_AFTER` (an operator sees it
    /// stuck first) and than every try step 2 may get after crashes
    /// (`MAX_VERIFY_ATTEMPTS` × (`SAGA_LEASE` + `RPC_TIMEOUT_MS`)), so that it
    /// never cuts short a saga that is still making progress.
    pub saga_auto_compensate_after: Duration,
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
    "SAGA_STUCK_AFTER",
    "SAGA_AUTO_COMPENSATE_AFTER",
];

/// The longest `SAGA_STUCK_AFTER` and `SAGA_AUTO_COMPENSATE_AFTER`: a
/// checkout left unanswered for longer is no longer repaired, it is lost
/// (and a larger value is more likely a typo, `30d` for `30m`).
const LONGEST_SAGA_AGE: Duration = Duration::from_secs(7 * 24 * 3600);

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
        let (saga_stuck_after, saga_auto_compensate_after) =
            saga_ages(&settings, rpc_timeout, saga_lease)?;
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
            saga_stuck_after,
            saga_auto_compensate_after,
            crash_after: settings
                .optional("FAULT_CRASH_AFTER")
                .filter(|s| !s.is_empty()),
        })
    }

    fn shared(&self) -> &ServiceConfig {
        &self.service
    }
}

/// `SAGA_STUCK_AFTER` and `SAGA_AUTO_COMPENSATE_AFTER`, checked against
/// each other and against how long step 2 may rightly take.
fn saga_ages(
    settings: &Settings<impl Fn(&str) -> Option<String>>,
    rpc_timeout: Duration,
    saga_lease: Duration,
) -> Result<(Duration, Duration), ConfigError> {
    let stuck_after = settings.period("SAGA_STUCK_AFTER", "2m")?;
    let auto_after = settings.period("SAGA_AUTO_COMPENSATE_AFTER", "30m")?;
    for (name, age) in [
        ("SAGA_STUCK_AFTER", stuck_after),
        ("SAGA_AUTO_COMPENSATE_AFTER", auto_after),
    ] {
        if age > LONGEST_SAGA_AGE {
            return Err(ConfigError(format!("{name} must be at most 7 days")));
        }
    }
    if auto_after <= stuck_after {
        return Err(ConfigError(
            "SAGA_AUTO_COMPENSATE_AFTER must be longer than SAGA_STUCK_AFTER".into(),
        ));
    }
    let tries = u32::try_from(crate::saga::MAX_VERIFY_ATTEMPTS).unwrap_or(u32::MAX);
    let slowest_progress = (saga_lease + rpc_timeout).saturating_mul(tries);
    if auto_after <= slowest_progress {
        return Err(ConfigError(format!(
            "SAGA_AUTO_COMPENSATE_AFTER must be longer than {} ({tries} tries of \
             SAGA_LEASE + RPC_TIMEOUT_MS), or it would compensate sagas still in progress",
            humantime::format_duration(slowest_progress)
        )));
    }
    Ok((stuck_after, auto_after))
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
        assert_eq!(config.saga_stuck_after, Duration::from_secs(120));
        assert_eq!(config.saga_auto_compensate_after, Duration::from_secs(1800));
    }

    fn refusal(pairs: &[(&str, &str)]) -> String {
        Config::from_lookup(|name| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        })
        .unwrap_err()
        .to_string()
    }

    #[test]
    fn saga_ages_that_are_zero_absurd_or_unreadable_are_refused_with_their_name() {
        for name in ["SAGA_STUCK_AFTER", "SAGA_AUTO_COMPENSATE_AFTER"] {
            for bad in ["0s", "8d", "soon", "-5m"] {
                let error = refusal(&[(name, bad)]);
                assert!(error.contains(name), "{name}={bad}: {error}");
            }
        }
    }

    #[test]
    fn automatic_compensation_waits_for_the_stuck_list_and_for_step_two() {
        let error = refusal(&[("SAGA_STUCK_AFTER", "30m")]);
        assert!(error.contains("SAGA_STUCK_AFTER"), "{error}");
        // 3 tries of 10 s of lease and 3 s of RPC timeout: 39 s.
        let error = refusal(&[
            ("SAGA_AUTO_COMPENSATE_AFTER", "39s"),
            ("SAGA_STUCK_AFTER", "5s"),
        ]);
        assert!(error.contains("39s"), "{error}");
        let config = Config::from_lookup(|name| match name {
            "SAGA_AUTO_COMPENSATE_AFTER" => Some("40s".into()),
            "SAGA_STUCK_AFTER" => Some("5s".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(config.saga_auto_compensate_after, Duration::from_secs(40));
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
