//! Which client sent a request: the peer address, or, when the peer is one
//! of `TRUSTED_PROXIES`, the address that proxy says it forwarded for
//! (`X-Forwarded-For`). Only trusted proxies are believed: anyone else could
//! write any address in that header and dodge the rate limits.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::Arc,
};

use ipnet::IpNet;
use warp::Filter;

/// The proxies whose `X-Forwarded-For` is believed. Cheap to clone; empty
/// (the default) believes no one.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Arc<Vec<IpNet>>);

impl TrustedProxies {
    /// Parses a comma-separated list of addresses and networks
    /// (`10.0.0.0/8, 127.0.0.1`).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut networks = Vec::new();
        for item in raw.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let network = item
                .parse::<IpNet>()
                .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("{item:?} is neither an IP address nor a network"))?;
            networks.push(network);
        }
        Ok(Self(Arc::new(networks)))
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|network| network.contains(&ip))
    }

    /// The client of a request from `peer` carrying `forwarded_for`: the
    /// peer itself unless it is trusted; else the nearest address in the
    /// header, from the right, that is not a trusted proxy.
    pub fn client(&self, peer: Option<SocketAddr>, forwarded_for: Option<&str>) -> IpAddr {
        let mut client = peer.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
        let Some(header) = forwarded_for else {
            return client;
        };
        for hop in header.rsplit(',') {
            if !self.trusts(client) {
                break;
            }
            match hop.trim().parse::<IpAddr>() {
                Ok(ip) => client = ip,
                Err(_) => break,
            }
        }
        client
    }
}

/// The client's address, as [`TrustedProxies::client`] decides.
pub fn client_ip(
    proxies: TrustedProxies,
) -> impl Filter<Extract = (IpAddr,), Error = std::convert::Infallible> + Clone {
    warp::addr::remote()
        .and(warp::header::headers_cloned())
        .map(
            move |peer: Option<SocketAddr>, headers: warp::http::HeaderMap| {
                // Every `X-Forwarded-For` line, in order, as one list: a proxy
                // may add its own line rather than append to the client's.
                let lines: Vec<&str> = headers
                    .get_all("x-forwarded-for")
                    .iter()
                    .filter_map(|value| value.to_str().ok())
                    .collect();
                let forwarded = (!lines.is_empty()).then(|| lines.join(","));
                proxies.client(peer, forwarded.as_deref())
            },
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(ip: &str) -> Option<SocketAddr> {
        Some(SocketAddr::new(ip.parse().unwrap(), 4000))
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        let none = TrustedProxies::default();
        let client = none.client(peer("203.0.113.9"), Some("198.51.100.1"));
        assert_eq!(client, "203.0.113.9".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn a_trusted_proxy_is_believed_up_to_the_first_untrusted_hop() {
        let proxies = TrustedProxies::parse("10.0.0.0/8, 127.0.0.1").unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(
            proxies.client(peer("127.0.0.1"), Some("198.51.100.1")),
            ip("198.51.100.1")
        );
        // The client wrote a fake first hop; the proxies appended what they saw.
        assert_eq!(
            proxies.client(peer("10.0.0.2"), Some("1.2.3.4, 198.51.100.7, 10.0.0.5")),
            ip("198.51.100.7")
        );
        assert_eq!(proxies.client(peer("10.0.0.2"), None), ip("10.0.0.2"));
        assert_eq!(
            proxies.client(peer("10.0.0.2"), Some("garbage")),
            ip("10.0.0.2")
        );
        // An untrusted peer's header is not believed.
        assert_eq!(
            proxies.client(peer("198.51.100.9"), Some("1.2.3.4")),
            ip("198.51.100.9")
        );
    }

    #[test]
    fn bad_entries_are_refused_by_name() {
        let error = TrustedProxies::parse("10.0.0.0/8, proxy.local").unwrap_err();
        assert!(error.contains("proxy.local"), "{error}");
    }
}
