//! [`client_addr`]: the address a request is from — the TCP peer, or, when the peer is a
//! trusted proxy (the gateway), the client it names in `X-Forwarded-For`. Pure.
//!
//! Each proxy appends the address it received the request from, so the list reads
//! `client, proxy1, proxy2` and the peer is the last proxy. Walking it from the right, every
//! trusted address is a hop of ours; the first untrusted one is the client. Entries left of it
//! came from the client itself and are never believed. A peer that is not trusted is the client,
//! whatever it sends.

use std::net::{IpAddr, SocketAddr};

/// The client's address for rate limits and logs: `peer`, or the right-most address of the
/// `X-Forwarded-For` values that is not in `trusted`, when `peer` is. A malformed entry stops
/// the walk at the last good address (a proxy of ours never writes one).
pub fn client_addr<'a>(
    peer: SocketAddr,
    forwarded_for: impl DoubleEndedIterator<Item = &'a str>,
    trusted: &[IpAddr],
) -> SocketAddr {
    if !trusted.contains(&peer.ip()) {
        return peer;
    }
    let mut client = peer.ip();
    let entries = forwarded_for.rev().flat_map(|value| value.rsplit(',').collect::<Vec<_>>());
    for entry in entries {
        let Ok(ip) = entry.trim().parse::<IpAddr>() else { break };
        client = ip;
        if !trusted.contains(&ip) {
            break;
        }
    }
    SocketAddr::new(client, peer.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GATEWAY: &str = "127.0.0.1:4000";

    fn from(peer: &str, headers: &[&str], trusted: &[&str]) -> IpAddr {
        let trusted: Vec<IpAddr> = trusted.iter().map(|ip| ip.parse().unwrap()).collect();
        client_addr(peer.parse().unwrap(), headers.iter().copied(), &trusted).ip()
    }

    #[test]
    fn a_trusted_proxy_names_the_client() {
        assert_eq!(from(GATEWAY, &["203.0.113.7"], &["127.0.0.1"]).to_string(), "203.0.113.7");
        let chain = ["198.51.100.1, 203.0.113.7", "10.0.0.2"];
        assert_eq!(from(GATEWAY, &chain, &["127.0.0.1", "10.0.0.2"]).to_string(), "203.0.113.7");
        assert_eq!(from(GATEWAY, &[], &["127.0.0.1"]).to_string(), "127.0.0.1", "no header: the peer");
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_says() {
        assert_eq!(from("192.0.2.9:5000", &["203.0.113.7"], &["127.0.0.1"]).to_string(), "192.0.2.9");
        assert_eq!(from(GATEWAY, &["203.0.113.7"], &[]).to_string(), "127.0.0.1");
    }

    #[test]
    fn what_the_client_wrote_left_of_its_own_address_is_ignored() {
        // The client sent `X-Forwarded-For: 1.2.3.4`; the gateway appended the client's address.
        assert_eq!(from(GATEWAY, &["1.2.3.4, 203.0.113.7"], &["127.0.0.1"]).to_string(), "203.0.113.7");
        assert_eq!(from(GATEWAY, &["garbage, 203.0.113.7"], &["127.0.0.1"]).to_string(), "203.0.113.7");
        assert_eq!(from(GATEWAY, &["203.0.113.7, garbage"], &["127.0.0.1"]).to_string(), "127.0.0.1");
    }
}
