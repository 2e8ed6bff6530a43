//! The settings that guard the doors, read the same way by both services:
//! `APP_ENV`, `ADMIN_TOKEN`, `ACCESS_TOKEN_SECRET`, `ACCESS_TOKEN_TTL` and
//! `TRUSTED_PROXIES`. In development the secrets fall back to documented
//! values (and the service warns); with `APP_ENV=production` a missing or
//! documented secret (the development values, `.env.example`'s `change-me…`
//! placeholders) stops the service at start-up, naming the variable.

use std::{fmt, time::Duration};

use super::{auth::Access, client::TrustedProxies, tokens::AccessTokens};

/// The documented development value of `ADMIN_TOKEN`.
pub const DEV_ADMIN_TOKEN: &str = "dev-admin-token";
/// The documented development value of `ACCESS_TOKEN_SECRET`.
pub const DEV_ACCESS_TOKEN_SECRET: &str = "dev-access-token-secret-change-me-in-production";
/// How the placeholders of `.env.example` begin; production refuses them too.
pub const PLACEHOLDER_PREFIX: &str = "change-me";
/// Shortest `ACCESS_TOKEN_SECRET` production accepts (bytes): an HMAC-SHA256
/// key should carry at least 256 bits.
pub const MIN_SECRET_LENGTH: usize = 32;
/// The variables read here (each service adds them to its own list).
pub const VARIABLES: &[&str] = &[
    "APP_ENV",
    "ADMIN_TOKEN",
    "ACCESS_TOKEN_SECRET",
    "ACCESS_TOKEN_TTL",
    "TRUSTED_PROXIES",
];

/// Where the service runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    /// Documented defaults allowed, with a warning.
    Development,
    /// Documented defaults refused.
    Production,
}

/// The access settings. `Debug` never shows the secrets.
#[derive(Clone)]
pub struct AccessConfig {
    /// `APP_ENV`.
    pub app_env: AppEnv,
    /// `ADMIN_TOKEN`.
    pub admin_token: String,
    /// `ACCESS_TOKEN_SECRET`.
    token_secret: String,
    /// `ACCESS_TOKEN_TTL`.
    pub token_ttl: Duration,
    /// `TRUSTED_PROXIES`.
    pub trusted_proxies: TrustedProxies,
}

impl fmt::Debug for AccessConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessConfig")
            .field("app_env", &self.app_env)
            .field("token_ttl", &self.token_ttl)
            .field("trusted_proxies", &self.trusted_proxies)
            .finish_non_exhaustive()
    }
}

impl AccessConfig {
    /// Reads the settings through `lookup`; `Err` names what is wrong.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let set = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let app_env = match set("APP_ENV").as_deref().map(str::trim) {
            None | Some("development") => AppEnv::Development,
            Some("production") => AppEnv::Production,
            Some(other) => {
                return Err(format!(
                    "APP_ENV must be development or production, not {other:?}"
                ));
            }
        };
        let admin_token = set("ADMIN_TOKEN");
        let token_secret = set("ACCESS_TOKEN_SECRET");
        if app_env == AppEnv::Production {
            match admin_token.as_deref() {
                None => return Err("ADMIN_TOKEN must be set when APP_ENV=production".into()),
                Some(token)
                    if token == DEV_ADMIN_TOKEN || token.starts_with(PLACEHOLDER_PREFIX) =>
                {
                    return Err(
                        "ADMIN_TOKEN is the documented development value; set a secret one for APP_ENV=production".into(),
                    );
                }
                Some(_) => {}
            }
            match token_secret.as_deref() {
                None => {
                    return Err("ACCESS_TOKEN_SECRET must be set when APP_ENV=production".into());
                }
                Some(secret)
                    if secret == DEV_ACCESS_TOKEN_SECRET
                        || secret.starts_with(PLACEHOLDER_PREFIX) =>
                {
                    return Err(
                        "ACCESS_TOKEN_SECRET is the documented development value; set a secret one for APP_ENV=production".into(),
                    );
                }
                Some(secret) if secret.len() < MIN_SECRET_LENGTH => {
                    return Err(format!(
                        "ACCESS_TOKEN_SECRET must be at least {MIN_SECRET_LENGTH} characters when APP_ENV=production"
                    ));
                }
                Some(_) => {}
            }
        }
        let raw_ttl = set("ACCESS_TOKEN_TTL").unwrap_or_else(|| "7d".to_owned());
        let token_ttl = humantime::parse_duration(raw_ttl.trim())
            .map_err(|e| format!("ACCESS_TOKEN_TTL: {e}"))?;
        if token_ttl.is_zero() {
            return Err("ACCESS_TOKEN_TTL must be longer than zero".into());
        }
        let trusted_proxies = TrustedProxies::parse(&set("TRUSTED_PROXIES").unwrap_or_default())
            .map_err(|e| format!("TRUSTED_PROXIES: {e}"))?;
        Ok(Self {
            app_env,
            admin_token: admin_token.unwrap_or_else(|| DEV_ADMIN_TOKEN.to_owned()),
            token_secret: token_secret.unwrap_or_else(|| DEV_ACCESS_TOKEN_SECRET.to_owned()),
            token_ttl,
            trusted_proxies,
        })
    }

    /// The checks of callers these settings describe.
    pub fn access(&self) -> Access {
        Access::new(
            &self.admin_token,
            AccessTokens::new(self.token_secret.as_bytes(), self.token_ttl),
        )
    }

    /// The documented development values still in use (the service warns
    /// about each at start-up).
    pub fn defaults_in_use(&self) -> Vec<&'static str> {
        let mut defaults = Vec::new();
        if self.admin_token == DEV_ADMIN_TOKEN {
            defaults.push("ADMIN_TOKEN");
        }
        if self.token_secret == DEV_ACCESS_TOKEN_SECRET {
            defaults.push("ACCESS_TOKEN_SECRET");
        }
        defaults
    }

    /// Logs a warning for each development default in use.
    pub fn warn_about_defaults(&self) {
        for variable in self.defaults_in_use() {
            tracing::warn!(
                variable,
                "the documented development value is in use; set a secret one in production (APP_ENV=production refuses it)"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn read(pairs: &[(&str, &str)]) -> Result<AccessConfig, String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        AccessConfig::from_lookup(|name| map.get(name).cloned())
    }

    const GOOD_SECRET: &str = "0123456789abcdef0123456789abcdef-long";

    #[test]
    fn development_falls_back_to_the_documented_values() {
        let config = read(&[]).unwrap();
        assert_eq!(config.app_env, AppEnv::Development);
        assert_eq!(config.admin_token, DEV_ADMIN_TOKEN);
        assert_eq!(config.token_ttl, Duration::from_secs(7 * 24 * 3600));
        assert_eq!(
            config.defaults_in_use(),
            vec!["ADMIN_TOKEN", "ACCESS_TOKEN_SECRET"]
        );
    }

    #[test]
    fn production_refuses_missing_or_documented_secrets_by_name() {
        let refusals = [
            (vec![("ACCESS_TOKEN_SECRET", GOOD_SECRET)], "ADMIN_TOKEN"),
            (
                vec![
                    ("ADMIN_TOKEN", DEV_ADMIN_TOKEN),
                    ("ACCESS_TOKEN_SECRET", GOOD_SECRET),
                ],
                "ADMIN_TOKEN",
            ),
            (vec![("ADMIN_TOKEN", "s3cret-admin")], "ACCESS_TOKEN_SECRET"),
            (
                vec![
                    ("ADMIN_TOKEN", "s3cret-admin"),
                    ("ACCESS_TOKEN_SECRET", DEV_ACCESS_TOKEN_SECRET),
                ],
                "ACCESS_TOKEN_SECRET",
            ),
            (
                vec![
                    ("ADMIN_TOKEN", "s3cret-admin"),
                    ("ACCESS_TOKEN_SECRET", "short"),
                ],
                "ACCESS_TOKEN_SECRET",
            ),
            (
                vec![
                    ("ADMIN_TOKEN", "change-me-admin-token"),
                    ("ACCESS_TOKEN_SECRET", GOOD_SECRET),
                ],
                "ADMIN_TOKEN",
            ),
        ];
        for (mut pairs, named) in refusals {
            pairs.push(("APP_ENV", "production"));
            let error = read(&pairs).unwrap_err();
            assert!(error.contains(named), "{pairs:?}: {error}");
        }
        let config = read(&[
            ("APP_ENV", "production"),
            ("ADMIN_TOKEN", "s3cret-admin"),
            ("ACCESS_TOKEN_SECRET", GOOD_SECRET),
        ])
        .unwrap();
        assert!(config.defaults_in_use().is_empty());
    }

    #[test]
    fn bad_values_are_named() {
        assert!(
            read(&[("APP_ENV", "prod")])
                .unwrap_err()
                .contains("APP_ENV")
        );
        assert!(
            read(&[("ACCESS_TOKEN_TTL", "a while")])
                .unwrap_err()
                .contains("ACCESS_TOKEN_TTL")
        );
        assert!(
            read(&[("TRUSTED_PROXIES", "nowhere")])
                .unwrap_err()
                .contains("TRUSTED_PROXIES")
        );
    }

    #[test]
    fn debug_shows_no_secret() {
        let config = read(&[
            ("ADMIN_TOKEN", "s3cret-admin"),
            ("ACCESS_TOKEN_SECRET", GOOD_SECRET),
        ])
        .unwrap();
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains(GOOD_SECRET),
            "{shown}"
        );
    }
}
