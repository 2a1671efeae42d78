//! Name resolution for the fetcher, so that a dead domain (NXDOMAIN) can be
//! told apart from a resolver that failed this time (SERVFAIL, timeout).
//!
//! reqwest's own resolver folds both into one opaque error; the verdicts
//! differ (`dead`/`dns` against `unreachable`), so getaddrinfo's error code
//! is kept in a typed error that the classifier finds in the error chain.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::config::FetchConfig;

/// Why a name did not resolve.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnsError {
    #[error("{0}: no such host (NXDOMAIN)")]
    NoSuchHost(String),
    #[error("{0}: {1}")]
    Temporary(String, String),
}

/// getaddrinfo in the blocking pool, with the config's local answers
/// (`resolve`, `no_such_host`) and the reserved `.invalid` names answered
/// without a query.
///
/// An NXDOMAIN is only believed when the resolver can still resolve a name
/// that must exist (the canary, asked once per run, through the same local
/// answers): an offline machine or a resolver that denies everything must
/// not turn every citation `dead`.
#[derive(Debug, Default)]
pub struct Resolver {
    /// Names answered locally: an address, or `None` for "no such host".
    local: Arc<BTreeMap<String, Option<IpAddr>>>,
    canary: Arc<tokio::sync::OnceCell<bool>>,
}

/// A name reserved by IANA for documentation, which always resolves.
pub const CANARY: &str = "example.com";

impl Resolver {
    /// The resolver the config asks for; an address in `resolve` wins over
    /// the same name in `no_such_host`.
    pub fn new(config: &FetchConfig) -> Self {
        let mut local = BTreeMap::new();
        for name in &config.no_such_host {
            local.insert(name.to_ascii_lowercase(), None);
        }
        for (name, ip) in &config.resolve {
            local.insert(name.to_ascii_lowercase(), Some(*ip));
        }
        Resolver {
            local: Arc::new(local),
            canary: Arc::default(),
        }
    }
}

impl Resolve for Resolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().trim_end_matches('.').to_ascii_lowercase();
        // RFC 6761 reserves `.invalid`: such a name never exists, so no query
        // (and no canary) is needed to know it.
        if host == "invalid" || host.ends_with(".invalid") {
            let err: Box<dyn std::error::Error + Send + Sync> =
                Box::new(DnsError::NoSuchHost(host));
            return Box::pin(std::future::ready(Err(err)));
        }
        let local = self.local.clone();
        let canary = self.canary.clone();
        Box::pin(async move {
            let mut result = local_or_dns(&local, host.clone()).await;
            if matches!(result, Err(DnsError::NoSuchHost(_))) {
                let resolver_works = *canary
                    .get_or_init(|| async {
                        local_or_dns(&local, CANARY.to_string()).await.is_ok()
                    })
                    .await;
                if !resolver_works {
                    result = Err(DnsError::Temporary(
                        host.clone(),
                        format!(
                            "the resolver cannot resolve {CANARY} either: offline or filtered DNS"
                        ),
                    ));
                }
            }
            match result {
                Ok(addrs) => Ok(Box::new(addrs.into_iter()) as Addrs),
                Err(e) => Err(Box::new(e) as Box<dyn std::error::Error + Send + Sync>),
            }
        })
    }
}

/// The local answer for `host` when the config gives one, else DNS's.
async fn local_or_dns(
    local: &BTreeMap<String, Option<IpAddr>>,
    host: String,
) -> Result<Vec<SocketAddr>, DnsError> {
    match local.get(&host) {
        Some(Some(ip)) => Ok(vec![SocketAddr::new(*ip, 0)]),
        Some(None) => Err(DnsError::NoSuchHost(host)),
        None => blocking_lookup(host).await,
    }
}

async fn blocking_lookup(host: String) -> Result<Vec<SocketAddr>, DnsError> {
    let name = host.clone();
    tokio::task::spawn_blocking(move || lookup(&name))
        .await
        .map_err(|e| DnsError::Temporary(host, e.to_string()))
        .and_then(|r| r)
}

fn lookup(host: &str) -> Result<Vec<SocketAddr>, DnsError> {
    use dns_lookup::{AddrInfoHints, LookupErrorKind};
    let hints = AddrInfoHints {
        socktype: libc_sock_stream(),
        ..AddrInfoHints::default()
    };
    match dns_lookup::getaddrinfo(Some(host), None, Some(hints)) {
        Ok(iter) => {
            let addrs: Vec<SocketAddr> = iter.filter_map(|a| a.ok()).map(|a| a.sockaddr).collect();
            if addrs.is_empty() {
                Err(DnsError::NoSuchHost(host.to_string()))
            } else {
                Ok(addrs)
            }
        }
        Err(e) => match e.kind() {
            LookupErrorKind::NoName | LookupErrorKind::NoData => {
                Err(DnsError::NoSuchHost(host.to_string()))
            }
            other => Err(DnsError::Temporary(
                host.to_string(),
                format!("resolver failure ({other:?})"),
            )),
        },
    }
}

/// SOCK_STREAM, so getaddrinfo returns each address once rather than once
/// per socket type. Its value is 1 on every platform citeguard targets.
fn libc_sock_stream() -> i32 {
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answering(resolve: &[(&str, &str)], no_such_host: &[&str]) -> Resolver {
        let mut config = FetchConfig::default();
        for (name, ip) in resolve {
            config.resolve.insert(name.to_string(), ip.parse().unwrap());
        }
        config.no_such_host = no_such_host.iter().map(|n| n.to_string()).collect();
        Resolver::new(&config)
    }

    async fn answer(r: &Resolver, name: &str) -> Result<Vec<SocketAddr>, DnsError> {
        match r.resolve(name.parse().unwrap()).await {
            Ok(addrs) => Ok(addrs.collect()),
            Err(e) => Err(e.downcast_ref::<DnsError>().unwrap().clone()),
        }
    }

    #[tokio::test]
    async fn reserved_invalid_names_are_nxdomain_without_a_query() {
        let r = Resolver::new(&FetchConfig::default());
        let err = match r
            .resolve("no-such-publisher.invalid".parse().unwrap())
            .await
        {
            Err(e) => e,
            Ok(_) => panic!("resolved a .invalid name"),
        };
        let dns = err.downcast_ref::<DnsError>().unwrap();
        assert!(matches!(dns, DnsError::NoSuchHost(_)));
    }

    #[tokio::test]
    async fn overrides_answer_like_curl_resolve() {
        let r = answering(&[("News.Example", "127.0.0.7")], &[]);
        assert_eq!(
            answer(&r, "news.example").await,
            Ok(vec!["127.0.0.7:0".parse::<SocketAddr>().unwrap()])
        );
    }

    #[tokio::test]
    async fn no_such_host_is_believed_when_the_canary_resolves() {
        let r = answering(&[(CANARY, "127.0.0.1")], &["Gone.Example"]);
        assert_eq!(
            answer(&r, "gone.example").await,
            Err(DnsError::NoSuchHost("gone.example".into()))
        );
    }

    #[tokio::test]
    async fn no_such_host_is_temporary_when_the_canary_fails_too() {
        let r = answering(&[], &["gone.example", CANARY]);
        assert!(matches!(
            answer(&r, "gone.example").await,
            Err(DnsError::Temporary(host, _)) if host == "gone.example"
        ));
    }

    #[tokio::test]
    async fn an_address_wins_over_no_such_host() {
        let r = answering(&[("news.example", "127.0.0.7")], &["news.example"]);
        assert!(answer(&r, "news.example").await.is_ok());
    }
}
