//! How fast sign-in may be tried: attempts per account and attempts per
//! client (behind `TRUSTED_PROXIES`, the address they forwarded for) are
//! rate limited, each answered with a 429 and `Retry-After`. Held in the
//! shared state, so it lives apart from the sign-in route that checks it.

use std::{net::IpAddr, num::NonZeroU32, time::Duration};

use edge::{client::TrustedProxies, error::ApiError, rate_limit::PerClientLimit};
use governor::Quota;

use crate::domain::Email;

/// Attempts one account may take in a burst, then one more per
/// [`ACCOUNT_REFILL`].
const ACCOUNT_BURST: u32 = 5;
const ACCOUNT_REFILL: Duration = Duration::from_secs(60);
/// Attempts one client may take in a burst, then one more per
/// [`CLIENT_REFILL`].
const CLIENT_BURST: u32 = 20;
const CLIENT_REFILL: Duration = Duration::from_secs(6);

/// The sign-in rate limits. Cheap to clone.
#[derive(Clone)]
pub struct SignInGuard {
    per_account: PerClientLimit<String>,
    per_client: PerClientLimit<IpAddr>,
    proxies: TrustedProxies,
}

impl SignInGuard {
    /// The limits, for clients as `proxies` identify them.
    pub fn new(proxies: TrustedProxies) -> Self {
        let quota = |burst: u32, refill: Duration| {
            Quota::with_period(refill)
                .unwrap_or_else(|| Quota::per_minute(NonZeroU32::MIN))
                .allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN))
        };
        Self {
            per_account: PerClientLimit::with_quota(quota(ACCOUNT_BURST, ACCOUNT_REFILL)),
            per_client: PerClientLimit::with_quota(quota(CLIENT_BURST, CLIENT_REFILL)),
            proxies,
        }
    }

    /// Who counts as the client of a request.
    pub fn proxies(&self) -> TrustedProxies {
        self.proxies.clone()
    }

    /// Counts one attempt from `client` for `email`: the client's allowance
    /// first, then the account's; a 429 when either is spent.
    pub fn admit(&self, client: IpAddr, email: &Email) -> Result<(), ApiError> {
        self.per_client.check(&client)?;
        self.per_account.check(&email.as_str().to_owned())
    }
}
