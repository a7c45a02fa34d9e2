//! Which addresses a webhook may reach. Any user can set a webhook URL and
//! the worker posts to it, so without this a user could make the worker
//! call services on its own network (a cloud metadata endpoint, an admin
//! port on localhost): server-side request forgery. A URL is checked when
//! it is set, and the addresses its host resolves to are checked again
//! when each delivery is sent, since a name can resolve elsewhere later.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Whether webhooks may reach private networks (`ALLOW_PRIVATE_WEBHOOKS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WebhookTargets {
    /// Only public addresses: the production setting.
    PublicOnly,
    /// Any address, for development and tests with a local receiver.
    Any,
}

impl WebhookTargets {
    pub fn from_setting(allow_private: bool) -> Self {
        if allow_private {
            Self::Any
        } else {
            Self::PublicOnly
        }
    }

    /// Whether a URL's host may be posted to, as far as can be told
    /// without resolving it: an address literal is checked, and so are the
    /// names that always mean this machine.
    pub fn allows_host(self, host: &url::Host<&str>) -> bool {
        if self == Self::Any {
            return true;
        }
        match host {
            url::Host::Domain(name) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                name != "localhost" && !name.ends_with(".localhost")
            }
            url::Host::Ipv4(ip) => is_public(IpAddr::V4(*ip)),
            url::Host::Ipv6(ip) => is_public(IpAddr::V6(*ip)),
        }
    }

    /// Whether a resolved address may be connected to.
    pub fn allows_address(self, ip: IpAddr) -> bool {
        self == Self::Any || is_public(ip)
    }
}

/// The message a refused target gets, at set time and at send time.
pub const PRIVATE_TARGET: &str =
    "must not point at a private, loopback or link-local network address";

/// Not loopback, private, link-local, shared (CGNAT), unspecified,
/// broadcast, multicast or documentation space, in IPv4 or IPv6 (an IPv6
/// address that carries an IPv4 one is judged by that one).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    let shared = a == 100 && (64..128).contains(&b);
    let benchmarking = a == 198 && (b == 18 || b == 19);
    let reserved = a >= 240;
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || shared
        || benchmarking
        || reserved)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let documentation = ip.segments()[0] == 0x2001 && ip.segments()[1] == 0x0db8;
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_unique_local()
        || ip.is_unicast_link_local()
        || documentation)
}

/// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`),
/// IPv4-compatible (`::a.b.c.d`) or NAT64 (`64:ff9b::a.b.c.d`) address.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = ip.segments();
    let last = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    let nat64 = s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0; 4];
    let compatible = s[..6] == [0; 6] && !ip.is_loopback() && !ip.is_unspecified();
    (nat64 || compatible).then_some(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(raw: &str) -> bool {
        is_public(raw.parse().unwrap())
    }

    #[test]
    fn private_loopback_and_link_local_addresses_are_not_public() {
        for raw in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(!public(raw), "{raw}");
        }
    }

    #[test]
    fn ordinary_internet_addresses_are_public() {
        for raw in [
            "93.184.216.34",
            "1.1.1.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(public(raw), "{raw}");
        }
    }

    #[test]
    fn localhost_names_are_refused_without_resolving() {
        let targets = WebhookTargets::PublicOnly;
        assert!(!targets.allows_host(&url::Host::Domain("localhost")));
        assert!(!targets.allows_host(&url::Host::Domain("api.LOCALHOST.")));
        assert!(targets.allows_host(&url::Host::Domain("hooks.example.com")));
        assert!(WebhookTargets::Any.allows_host(&url::Host::Domain("localhost")));
    }
}
