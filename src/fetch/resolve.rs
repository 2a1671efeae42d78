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

/// Why a name did not resolve.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnsError {
    #[error("{0}: no such host (NXDOMAIN)")]
    NoSuchHost(String),
    #[error("{0}: {1}")]
    Temporary(String, String),
}

/// getaddrinfo in the blocking pool, with `--resolve` overrides and the
/// reserved `.invalid` names answered locally.
///
/// An NXDOMAIN is only believed when the resolver can still resolve a name
/// that must exist (the canary, asked once per run): an offline machine or a
/// resolver that denies everything must not turn every citation `dead`.
#[derive(Debug, Default)]
pub struct Resolver {
    overrides: BTreeMap<String, IpAddr>,
    canary: Arc<tokio::sync::OnceCell<bool>>,
}

/// A name reserved by IANA for documentation, which always resolves.
pub const CANARY: &str = "example.com";

impl Resolver {
    pub fn new(overrides: BTreeMap<String, IpAddr>) -> Self {
        Resolver {
            overrides: overrides
                .into_iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v))
                .collect(),
            canary: Arc::default(),
        }
    }
}

impl Resolve for Resolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().trim_end_matches('.').to_ascii_lowercase();
        if let Some(ip) = self.overrides.get(&host) {
            let addrs: Addrs = Box::new(std::iter::once(SocketAddr::new(*ip, 0)));
            return Box::pin(std::future::ready(Ok(addrs)));
        }
        // RFC 6761 reserves `.invalid`: such a name never exists, so no query
        // needs to leave the machine to know it.
        if host == "invalid" || host.ends_with(".invalid") {
            let err: Box<dyn std::error::Error + Send + Sync> =
                Box::new(DnsError::NoSuchHost(host));
            return Box::pin(std::future::ready(Err(err)));
        }
        let canary = self.canary.clone();
        Box::pin(async move {
            let mut result = blocking_lookup(host.clone()).await;
            if matches!(result, Err(DnsError::NoSuchHost(_))) {
                let resolver_works = *canary
                    .get_or_init(|| async { blocking_lookup(CANARY.to_string()).await.is_ok() })
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

    #[tokio::test]
    async fn reserved_invalid_names_are_nxdomain_without_a_query() {
        let r = Resolver::new(BTreeMap::new());
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
        let mut m = BTreeMap::new();
        m.insert("News.Example".to_string(), "127.0.0.7".parse().unwrap());
        let r = Resolver::new(m);
        let Ok(addrs) = r.resolve("news.example".parse().unwrap()).await else {
            panic!("no answer")
        };
        let addrs: Vec<_> = addrs.collect();
        assert_eq!(addrs, vec!["127.0.0.7:0".parse::<SocketAddr>().unwrap()]);
    }
}
