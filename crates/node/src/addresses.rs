//! Which addresses another node may make us dial. identify lets any peer claim any
//! address, and mDNS lets anyone on the LAN answer for anyone: a hostile peer could fill
//! the peer book with junk, make us dial the internet from a LAN (revealing that a node
//! runs here), or aim our redials at a third party. So a claimed address is kept only when
//! it is plausible for the link it was learned on: the same kind of network (loopback,
//! the same private range, or the public internet), a plain IP with a TCP or QUIC port,
//! and never a DNS name (a lookup the user did not ask for tells a resolver who we meet).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use qoima_net::libp2p::Multiaddr;
use qoima_net::libp2p::multiaddr::Protocol;

/// What kind of network an IP address belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// This machine.
    Loopback,
    /// A private range, named by its block so two different private networks differ.
    Private(PrivateRange),
    /// The internet.
    Public,
    /// Nowhere a peer can be reached: unspecified, multicast, link-local (needs a scope we
    /// do not have), documentation and reserved ranges.
    Unusable,
}

/// The private address blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrivateRange {
    /// 10.0.0.0/8
    Ten,
    /// 172.16.0.0/12
    OneSevenTwo,
    /// 192.168.0.0/16
    OneNineTwo,
    /// 100.64.0.0/10: carrier-grade NAT, what many phone hotspots hand out.
    SharedCgnat,
    /// fc00::/7: IPv6 unique local addresses.
    UniqueLocal,
}

/// Classifies `ip`.
pub fn reach(ip: IpAddr) -> Reach {
    match ip {
        IpAddr::V4(v4) => reach_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => reach_v4(v4),
            None => reach_v6(v6),
        },
    }
}

fn reach_v4(ip: Ipv4Addr) -> Reach {
    let [a, b, c, _] = ip.octets();
    if ip.is_loopback() {
        Reach::Loopback
    } else if ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_link_local()
        || a == 0
        || a >= 240
        || (a, b, c) == (192, 0, 2)
        || (a, b, c) == (198, 51, 100)
        || (a, b, c) == (203, 0, 113)
    {
        Reach::Unusable
    } else if a == 10 {
        Reach::Private(PrivateRange::Ten)
    } else if a == 172 && (16..32).contains(&b) {
        Reach::Private(PrivateRange::OneSevenTwo)
    } else if a == 192 && b == 168 {
        Reach::Private(PrivateRange::OneNineTwo)
    } else if a == 100 && (64..128).contains(&b) {
        Reach::Private(PrivateRange::SharedCgnat)
    } else {
        Reach::Public
    }
}

fn reach_v6(ip: Ipv6Addr) -> Reach {
    let first = ip.segments()[0];
    if ip.is_loopback() {
        Reach::Loopback
    } else if ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xffc0) == 0xfe80 // link-local
        || (first == 0x2001 && ip.segments()[1] == 0x0db8)
    // documentation
    {
        Reach::Unusable
    } else if (first & 0xfe00) == 0xfc00 {
        Reach::Private(PrivateRange::UniqueLocal)
    } else {
        Reach::Public
    }
}

/// The IP of a plain `/ip4|ip6/…/tcp|udp/…` address, or `None` for anything else (DNS
/// names, relays, unknown protocols, port 0).
pub fn dialable_ip(addr: &Multiaddr) -> Option<IpAddr> {
    let mut parts = addr.iter();
    let ip = match parts.next()? {
        Protocol::Ip4(ip) => IpAddr::V4(ip),
        Protocol::Ip6(ip) => IpAddr::V6(ip),
        _ => return None,
    };
    match parts.next()? {
        Protocol::Tcp(port) if port != 0 => {}
        Protocol::Udp(port) if port != 0 => {
            if !matches!(parts.next()?, Protocol::QuicV1) {
                return None;
            }
        }
        _ => return None,
    }
    match parts.next() {
        None | Some(Protocol::P2p(_)) => {}
        Some(_) => return None,
    }
    parts.next().is_none().then_some(ip)
}

/// True if a peer reached at `observed` may plausibly listen on `claimed`.
pub fn plausible(claimed: &Multiaddr, observed: IpAddr) -> bool {
    let Some(ip) = dialable_ip(claimed) else {
        return false;
    };
    match (reach(ip), reach(observed)) {
        (Reach::Unusable, _) => false,
        (claimed, link) => claimed == link,
    }
}

/// True if an address announced on the local network (mDNS) is worth dialing: a plain
/// loopback or private address, never one on the internet.
pub fn plausible_on_lan(claimed: &Multiaddr) -> bool {
    dialable_ip(claimed).is_some_and(|ip| matches!(reach(ip), Reach::Loopback | Reach::Private(_)))
}

/// The IP at the far end of a connection, if its address has one.
pub fn remote_ip(addr: &Multiaddr) -> Option<IpAddr> {
    addr.iter().find_map(|p| match p {
        Protocol::Ip4(ip) => Some(IpAddr::V4(ip)),
        Protocol::Ip6(ip) => Some(IpAddr::V6(ip)),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn check(claimed: &str, observed: &str, expected: bool) {
        let claimed: Multiaddr = claimed.parse().unwrap();
        let observed: IpAddr = observed.parse().unwrap();
        assert_eq!(
            plausible(&claimed, observed),
            expected,
            "{claimed} claimed by a peer seen at {observed}"
        );
    }

    #[test]
    fn the_same_kind_of_network_is_plausible() {
        check("/ip4/192.168.1.7/tcp/4270", "192.168.1.20", true);
        check("/ip4/192.168.5.7/udp/4270/quic-v1", "192.168.1.20", true);
        check("/ip4/127.0.0.1/tcp/4270", "127.0.0.1", true);
        check("/ip4/10.1.2.3/tcp/4270", "10.9.9.9", true);
        check("/ip4/100.64.3.4/tcp/4270", "100.100.1.1", true);
        check("/ip4/8.8.4.4/tcp/4270", "1.1.1.1", true);
        check("/ip6/fd00::1/tcp/4270", "fd12::5", true);
        let with_peer =
            "/ip4/192.168.1.7/tcp/4270/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN";
        check(with_peer, "192.168.1.20", true);
    }

    #[test]
    fn another_network_is_not() {
        // A LAN peer cannot make us dial this machine, another private range or the
        // internet; an internet peer cannot aim us at a LAN.
        check("/ip4/127.0.0.1/tcp/4270", "192.168.1.20", false);
        check("/ip4/10.0.0.1/tcp/4270", "192.168.1.20", false);
        check("/ip4/8.8.8.8/tcp/4270", "192.168.1.20", false);
        check("/ip4/192.168.1.1/tcp/4270", "8.8.8.8", false);
        check("/ip6/::1/tcp/4270", "192.168.1.20", false);
    }

    #[test]
    fn unusable_addresses_never_are() {
        for claimed in [
            "/ip4/0.0.0.0/tcp/4270",
            "/ip4/169.254.1.1/tcp/4270",
            "/ip4/224.0.0.251/udp/5353/quic-v1",
            "/ip4/255.255.255.255/tcp/1",
            "/ip4/192.0.2.1/tcp/4270",
            "/ip6/fe80::1/tcp/4270",
            "/ip6/::/tcp/4270",
            "/ip4/192.168.1.7/tcp/0",
        ] {
            check(claimed, "192.168.1.20", false);
            check(claimed, "169.254.1.2", false);
        }
    }

    #[test]
    fn only_plain_ip_transports() {
        for claimed in [
            "/dns4/example.org/tcp/4270",
            "/dns/node.local/tcp/4270",
            "/ip4/192.168.1.7/udp/4270",
            "/ip4/192.168.1.7/tcp/4270/ws",
            "/ip4/192.168.1.7/tcp/4270/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN/p2p-circuit",
        ] {
            check(claimed, "192.168.1.20", false);
        }
    }

    #[test]
    fn mdns_announces_only_local_addresses() {
        let lan = |s: &str| plausible_on_lan(&s.parse().unwrap());
        assert!(lan("/ip4/192.168.1.7/tcp/4270"));
        assert!(lan("/ip4/10.3.0.2/udp/4270/quic-v1"));
        assert!(!lan("/ip4/8.8.8.8/tcp/4270"));
        assert!(!lan("/dns4/example.org/tcp/4270"));
        assert!(!lan("/ip4/169.254.3.3/tcp/4270"));
    }
}
