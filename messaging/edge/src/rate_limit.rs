//! Per-client rate limiting (GCRA, from `governor`), keyed by the client's IP
//! address (behind `TRUSTED_PROXIES`, the one they forwarded for): a client
//! over its quota gets a 429 with `Retry-After`, and the service keeps
//! serving everyone else.

use std::{hash::Hash, net::IpAddr, num::NonZeroU32, sync::Arc};

use governor::{
    DefaultKeyedRateLimiter, Quota, RateLimiter,
    clock::{Clock, DefaultClock},
};
use warp::{Filter, Rejection};

use super::{
    client::{TrustedProxies, client_ip},
    error::ApiError,
};

/// Clients remembered before idle ones are forgotten.
const FORGET_ABOVE: usize = 10_000;

/// A quota per key (by default a client IP). Cheap to clone.
#[derive(Clone)]
pub struct PerClientLimit<K: Hash + Eq + Clone = IpAddr> {
    limiter: Arc<DefaultKeyedRateLimiter<K>>,
}

impl<K: Hash + Eq + Clone> PerClientLimit<K> {
    /// `per_minute` requests a minute per key, in bursts of as many.
    pub fn per_minute(per_minute: NonZeroU32) -> Self {
        Self::with_quota(Quota::per_minute(per_minute))
    }

    /// Any quota per key.
    pub fn with_quota(quota: Quota) -> Self {
        Self {
            limiter: Arc::new(RateLimiter::keyed(quota)),
        }
    }

    /// Counts one request for `client`: `Err` with the 429 when over quota.
    pub fn check(&self, client: &K) -> Result<(), ApiError> {
        if self.limiter.len() > FORGET_ABOVE {
            self.limiter.retain_recent();
        }
        self.limiter.check_key(client).map_err(|not_until| {
            metrics::counter!("http_rate_limited_total").increment(1);
            ApiError::RateLimited {
                retry_after: not_until.wait_time_from(DefaultClock::default().now()),
            }
        })
    }
}

impl PerClientLimit<IpAddr> {
    /// A filter that passes requests within the quota of their client, as
    /// `proxies` decide who that is.
    pub fn filter(
        &self,
        proxies: TrustedProxies,
    ) -> impl Filter<Extract = (), Error = Rejection> + Clone + use<> {
        let limit = self.clone();
        client_ip(proxies)
            .and_then(move |client: IpAddr| {
                let checked = limit.check(&client);
                async move { checked.map_err(warp::reject::custom) }
            })
            .untuple_one()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_over_its_quota_is_told_when_to_come_back() {
        let limit = PerClientLimit::<IpAddr>::per_minute(NonZeroU32::new(2).unwrap());
        let (a, b) = (IpAddr::from([10, 0, 0, 1]), IpAddr::from([10, 0, 0, 2]));
        assert!(limit.check(&a).is_ok());
        assert!(limit.check(&a).is_ok());
        match limit.check(&a) {
            Err(ApiError::RateLimited { retry_after }) => {
                assert!(retry_after.as_secs() <= 30, "{retry_after:?}");
            }
            other => panic!("expected a 429, got {other:?}"),
        }
        assert!(limit.check(&b).is_ok(), "other clients are not affected");
    }
}
