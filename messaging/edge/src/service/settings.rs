//! Reading settings from the environment, the same way in both services:
//! every value is parsed once at start-up, and an unusable one stops the
//! service with an error that names its variable.

use std::{fmt::Display, str::FromStr, time::Duration};

/// A configuration value that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(pub String);

/// Settings read through a lookup: the process environment, or a map in
/// tests.
pub struct Settings<L> {
    lookup: L,
}

impl<L: Fn(&str) -> Option<String>> Settings<L> {
    /// Settings read through `lookup`.
    pub fn new(lookup: L) -> Self {
        Self { lookup }
    }

    /// The raw value of `name`, if set.
    pub fn optional(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
    }

    /// The raw value of `name`, or `default`.
    pub fn text(&self, name: &str, default: &str) -> String {
        self.optional(name).unwrap_or_else(|| default.to_owned())
    }

    /// `name` parsed as a `T`, or `default` parsed.
    pub fn parsed<T>(&self, name: &str, default: &str) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: Display,
    {
        self.text(name, default)
            .parse()
            .map_err(|e| ConfigError(format!("{name}: {e}")))
    }

    /// `name` as whole milliseconds.
    pub fn millis(&self, name: &str, default: &str) -> Result<Duration, ConfigError> {
        self.parsed::<u64>(name, default).map(Duration::from_millis)
    }

    /// `name` as a period such as `15m` or `90s`, longer than zero (a zero
    /// interval panics a ticker; a zero lease or lifetime holds nothing).
    pub fn period(&self, name: &str, default: &str) -> Result<Duration, ConfigError> {
        let period = humantime::parse_duration(&self.text(name, default))
            .map_err(|e| ConfigError(format!("{name}: {e}")))?;
        if period.is_zero() {
            return Err(ConfigError(format!("{name} must be longer than zero")));
        }
        Ok(period)
    }

    /// The lookup itself, for readers of their own (the broker's, the access
    /// settings').
    pub fn lookup(&self) -> &L {
        &self.lookup
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::Settings;

    #[test]
    fn values_are_parsed_and_errors_name_the_variable() {
        let settings = Settings::new(|name: &str| match name {
            "PERIOD" => Some("90s".to_owned()),
            "ZERO" => Some("0s".to_owned()),
            "COUNT" => Some("many".to_owned()),
            _ => None,
        });
        assert_eq!(
            settings.period("PERIOD", "1s").unwrap(),
            Duration::from_secs(90)
        );
        assert_eq!(
            settings.millis("UNSET", "250").unwrap(),
            Duration::from_millis(250)
        );
        assert!(
            settings
                .period("ZERO", "1s")
                .unwrap_err()
                .to_string()
                .contains("ZERO")
        );
        assert!(
            settings
                .parsed::<u32>("COUNT", "1")
                .unwrap_err()
                .to_string()
                .contains("COUNT")
        );
    }
}
