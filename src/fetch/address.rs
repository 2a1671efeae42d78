//! Which addresses a fetch may connect to: the rule that keeps a cited
//! page from turning citeguard against the network it runs in (a style
//! sheet at `http://169.254.169.254/`, a redirect to `http://127.0.0.1/`,
//! whose answer would be stored and inlined into a published offline copy).
//!
//! The rule: a fetch that starts at a public address (a cited source whose
//! host has a public address) stays on public addresses, through every
//! redirect, for every requisite of the page, and for the soft-404 probe.
//! A cited source on a loopback, private, link-local or unique-local
//! address (an intranet wiki, a test server) may go anywhere, and so may
//! every fetch with `--allow-private`.
//!
//! The check is made on the address connected to, not on the name: the
//! public-only client's resolver (`PublicOnly`) drops every address that
//! is not public from each answer, so a name that resolves (or rebinds)
//! to `10.0.0.1` connects nowhere. Hosts written as addresses never reach
//! a resolver, so the fetcher asks `Guard::refuses` before each request.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Where a fetch may connect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Public addresses only: the fetch started at one.
    Public,
    /// Any address: the cited source is itself on a private network, or
    /// the user allowed it (`--allow-private`).
    Any,
}

/// Why an address is not public, or `None` when it is.
pub fn non_public(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => non_public_v4(v4),
        IpAddr::V6(v6) => non_public_v6(v6),
    }
}

fn non_public_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b) {
        (127, _) => "loopback",
        (10, _) | (172, 16..=31) | (192, 168) => "private",
        (169, 254) => "link-local",
        // "This network": connecting to 0.0.0.0 reaches the machine itself.
        (0, _) => "unspecified",
        (100, 64..=127) => "shared (carrier-grade NAT)",
        (192, 0) if c == 0 => "reserved",
        (198, 18..=19) => "benchmarking",
        (224..=239, _) => "multicast",
        (240..=255, _) => "reserved",
        _ => return None,
    })
}

fn non_public_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = embedded_v4(ip) {
        return non_public_v4(v4);
    }
    let first = ip.segments()[0];
    Some(if ip.is_loopback() {
        "loopback"
    } else if ip.is_unspecified() {
        "unspecified"
    } else if first & 0xfe00 == 0xfc00 {
        "unique-local"
    } else if first & 0xffc0 == 0xfe80 {
        "link-local"
    } else if first & 0xffc0 == 0xfec0 {
        "site-local"
    } else if first & 0xff00 == 0xff00 {
        "multicast"
    } else {
        return None;
    })
}

/// The IPv4 address inside an IPv6 one that carries it: mapped
/// (`::ffff:a.b.c.d`), compatible (`::a.b.c.d`), NAT64 (`64:ff9b::/96`)
/// and 6to4 (`2002::/16`).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let v4 = |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    match s {
        [0, 0, 0, 0, 0, 0xffff, hi, lo] => Some(v4(hi, lo)),
        [0, 0, 0, 0, 0, 0, hi, lo] if hi != 0 => Some(v4(hi, lo)),
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => Some(v4(hi, lo)),
        [0x2002, hi, lo, ..] => Some(v4(hi, lo)),
        _ => None,
    }
}

/// A fetch refused because it would reach a non-public address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{host} is at {addr}, a {kind} address: not fetched for a page on a public one (--allow-private fetches it)"
)]
pub struct Refused {
    pub host: String,
    pub addr: IpAddr,
    pub kind: &'static str,
}

/// The rule, with the addresses a test treats as public.
#[derive(Debug, Default)]
pub struct Guard {
    public: HashSet<IpAddr>,
}

impl Guard {
    /// `public` lists addresses to treat as public (the tests' loopback
    /// "public" hosts); every other address is judged by `non_public`.
    pub fn new(public: impl IntoIterator<Item = IpAddr>) -> Guard {
        Guard {
            public: public.into_iter().collect(),
        }
    }

    /// Why `ip` is not public, or `None` when it is (or is listed as such).
    pub fn kind(&self, ip: IpAddr) -> Option<&'static str> {
        if self.public.contains(&ip) {
            return None;
        }
        non_public(ip)
    }

    /// Whether a request to `url` is refused for a fetch that may only
    /// reach public addresses: its host is written as an address that is
    /// not public. (Names are judged at connect time, by `PublicOnly`.)
    pub fn refuses(&self, reach: Reach, url: &url::Url) -> Option<Refused> {
        if reach == Reach::Any {
            return None;
        }
        let addr = match url.host()? {
            url::Host::Ipv4(v4) => IpAddr::V4(v4),
            url::Host::Ipv6(v6) => IpAddr::V6(v6),
            url::Host::Domain(_) => return None,
        };
        self.kind(addr).map(|kind| Refused {
            host: url.host_str().unwrap_or_default().to_string(),
            addr,
            kind,
        })
    }

    /// Where a cited source whose host resolved to `addrs` may reach: only
    /// when every address is not public is the source itself on a private
    /// network (a host with both kinds stays on its public ones).
    pub fn reach_of(&self, addrs: &[IpAddr]) -> Reach {
        if !addrs.is_empty() && addrs.iter().all(|a| self.kind(*a).is_some()) {
            Reach::Any
        } else {
            Reach::Public
        }
    }
}

/// A resolver that answers only with public addresses: what is left of
/// the inner resolver's answer once every non-public address is dropped,
/// or `Refused` when nothing is left. The client built on it cannot
/// connect to a private network by name, whatever the name says next.
pub struct PublicOnly {
    pub inner: Arc<dyn Resolve>,
    pub guard: Arc<Guard>,
}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        let answer = self.inner.resolve(name);
        let guard = self.guard.clone();
        Box::pin(async move {
            let addrs: Vec<_> = answer.await?.collect();
            let refused = addrs
                .iter()
                .find_map(|a| guard.kind(a.ip()).map(|kind| (a.ip(), kind)));
            let public: Vec<_> = addrs
                .into_iter()
                .filter(|a| guard.kind(a.ip()).is_none())
                .collect();
            match (public.is_empty(), refused) {
                (true, Some((addr, kind))) => Err(Box::new(Refused { host, addr, kind })
                    as Box<dyn std::error::Error + Send + Sync>),
                _ => Ok(Box::new(public.into_iter()) as Addrs),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(s: &str) -> Option<&'static str> {
        non_public(s.parse().unwrap())
    }

    #[test]
    fn loopback_private_link_local_and_unique_local_addresses_are_not_public() {
        for (addr, what) in [
            ("127.0.0.1", "loopback"),
            ("127.9.9.9", "loopback"),
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("172.31.255.255", "private"),
            ("192.168.1.1", "private"),
            ("169.254.169.254", "link-local"),
            ("0.0.0.0", "unspecified"),
            ("100.64.0.1", "shared (carrier-grade NAT)"),
            ("::1", "loopback"),
            ("::", "unspecified"),
            ("fd00::1", "unique-local"),
            ("fc00::1", "unique-local"),
            ("fe80::1", "link-local"),
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:169.254.169.254", "link-local"),
            ("64:ff9b::a00:1", "private"),
            ("2002:c0a8:101::1", "private"),
        ] {
            assert_eq!(kind(addr), Some(what), "{addr}");
        }
        for public in [
            "93.184.216.34",
            "172.32.0.1",
            "8.8.8.8",
            "2606:2800:220:1:248:1893:25c8:1946",
            "::ffff:8.8.8.8",
        ] {
            assert_eq!(kind(public), None, "{public}");
        }
    }

    #[test]
    fn an_address_written_in_the_url_is_refused_only_for_a_public_fetch() {
        let guard = Guard::new(["127.0.0.20".parse().unwrap()]);
        let private = url::Url::parse("http://127.0.0.21:8080/style.css").unwrap();
        let listed = url::Url::parse("http://127.0.0.20:8080/style.css").unwrap();
        let named = url::Url::parse("http://intranet.example/").unwrap();
        let refused = guard.refuses(Reach::Public, &private).unwrap();
        assert_eq!(refused.kind, "loopback");
        assert!(refused.to_string().contains("--allow-private"), "{refused}");
        assert_eq!(guard.refuses(Reach::Any, &private), None);
        assert_eq!(guard.refuses(Reach::Public, &listed), None);
        assert_eq!(guard.refuses(Reach::Public, &named), None);
    }

    #[test]
    fn a_cited_host_is_private_only_when_all_its_addresses_are() {
        let guard = Guard::default();
        let ip = |s: &str| -> IpAddr { s.parse().unwrap() };
        assert_eq!(guard.reach_of(&[ip("10.0.0.1")]), Reach::Any);
        assert_eq!(
            guard.reach_of(&[ip("10.0.0.1"), ip("8.8.8.8")]),
            Reach::Public
        );
        assert_eq!(guard.reach_of(&[]), Reach::Public);
    }

    struct Answers(Vec<&'static str>);
    impl Resolve for Answers {
        fn resolve(&self, _name: Name) -> Resolving {
            let addrs: Vec<std::net::SocketAddr> = self
                .0
                .iter()
                .map(|a| std::net::SocketAddr::new(a.parse().unwrap(), 0))
                .collect();
            Box::pin(std::future::ready(Ok(Box::new(addrs.into_iter()) as Addrs)))
        }
    }

    #[tokio::test]
    async fn the_public_only_resolver_drops_private_answers_and_refuses_when_none_is_left() {
        let guarded = |answers| PublicOnly {
            inner: Arc::new(Answers(answers)),
            guard: Arc::new(Guard::default()),
        };
        let mixed = guarded(vec!["10.0.0.1", "93.184.216.34"]);
        let addrs: Vec<_> = match mixed.resolve("news.example".parse().unwrap()).await {
            Ok(a) => a.collect(),
            Err(e) => panic!("{e}"),
        };
        assert_eq!(addrs.len(), 1);
        assert_eq!(addrs[0].ip().to_string(), "93.184.216.34");
        let private = guarded(vec!["169.254.169.254"]);
        let err = match private.resolve("metadata.example".parse().unwrap()).await {
            Err(e) => e,
            Ok(_) => panic!("resolved to a link-local address"),
        };
        let refused = err.downcast_ref::<Refused>().unwrap();
        assert_eq!(refused.kind, "link-local");
        assert_eq!(refused.host, "metadata.example");
    }
}
