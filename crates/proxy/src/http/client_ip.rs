//! Who the client is, for the per-client create limit (and, later, login limits and the
//! audit log): the peer address, unless the peer is one of `CHECKOUT_TRUSTED_PROXIES` — then
//! the rightmost `X-Forwarded-For` address that is not itself a trusted proxy (nginx's
//! `real_ip_recursive`). Whatever a client writes into its own `X-Forwarded-For` stands left
//! of what the trusted proxies appended, so it gains nothing.

use ipnet::IpNet;
use std::net::{IpAddr, Ipv6Addr};

/// The client behind `peer`, given the `X-Forwarded-For` values in the order they came.
pub fn client_ip<'a>(
    trusted: &[IpNet],
    peer: IpAddr,
    forwarded_for: impl DoubleEndedIterator<Item = &'a str>,
) -> IpAddr {
    let peer = peer.to_canonical();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    // Right to left: each address was appended by the hop before it; the first one that is
    // not a trusted proxy is the client. Garbage ends the walk at the last hop we trust.
    let mut client = peer;
    for value in forwarded_for.rev() {
        for entry in value.rsplit(',') {
            let Ok(ip) = entry.trim().parse::<IpAddr>().map(|ip| ip.to_canonical()) else {
                return client;
            };
            client = ip;
            if !is_trusted(&ip) {
                return ip;
            }
        }
    }
    client
}

/// The key a client is limited under: an IPv4 address, or an IPv6 address's /64 (one
/// subscriber's whole network: anyone holding one has all of it).
pub fn limit_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            let network = u128::from(v6) & !(u128::MAX >> 64);
            IpAddr::V6(Ipv6Addr::from(network))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().expect("cidr")).collect()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("ip")
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let trusted = nets(&["10.0.0.0/8"]);
        let spoofed = ["1.2.3.4, 5.6.7.8"];
        assert_eq!(
            client_ip(&trusted, ip("198.51.100.9"), spoofed.into_iter()),
            ip("198.51.100.9")
        );
        assert_eq!(
            client_ip(&[], ip("127.0.0.1"), spoofed.into_iter()),
            ip("127.0.0.1"),
            "nothing trusted when unset"
        );
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_address_is_the_client() {
        let trusted = nets(&["127.0.0.1/32", "10.0.0.0/8"]);
        let peer = ip("127.0.0.1");
        // What the client wrote itself stands left of what nginx appended.
        for written in ["1.2.3.4", "9.9.9.9, 8.8.8.8", "not-an-ip"] {
            let header = format!("{written}, 203.0.113.7");
            assert_eq!(
                client_ip(&trusted, peer, [header.as_str()].into_iter()),
                ip("203.0.113.7"),
                "{header}"
            );
        }
        // Two proxies: the CDN's address is trusted too, and skipped.
        assert_eq!(
            client_ip(&trusted, peer, ["203.0.113.7, 10.1.2.3"].into_iter()),
            ip("203.0.113.7")
        );
        // Several header lines read as one list, in order.
        assert_eq!(
            client_ip(
                &trusted,
                peer,
                ["6.6.6.6", "203.0.113.7, 10.1.2.3"].into_iter()
            ),
            ip("203.0.113.7")
        );
        // Garbage right of the client: the last trusted hop is all we know.
        assert_eq!(
            client_ip(&trusted, peer, ["203.0.113.7, junk, 10.1.2.3"].into_iter()),
            ip("10.1.2.3")
        );
        // No header, or only trusted addresses: the nearest is the best we have.
        assert_eq!(client_ip(&trusted, peer, std::iter::empty()), peer);
        assert_eq!(
            client_ip(&trusted, peer, ["10.9.9.9"].into_iter()),
            ip("10.9.9.9")
        );
        // IPv4 written as IPv6 is the same address.
        assert_eq!(
            client_ip(
                &trusted,
                ip("::ffff:127.0.0.1"),
                ["::ffff:203.0.113.7"].into_iter()
            ),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn ipv6_clients_share_their_64() {
        assert_eq!(
            limit_key(ip("2001:db8:1:2:aaaa::1")),
            limit_key(ip("2001:db8:1:2:bbbb::2"))
        );
        assert_ne!(
            limit_key(ip("2001:db8:1:2::1")),
            limit_key(ip("2001:db8:1:3::1"))
        );
        assert_eq!(limit_key(ip("203.0.113.7")), ip("203.0.113.7"));
        assert_eq!(limit_key(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
    }
}
