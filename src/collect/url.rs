//! URL identity: one source cited ten times, written ten ways, is one source.
//!
//! Normalisation lowercases scheme and host (the `url` crate does this),
//! drops default ports, drops the fragment for fetching (the citation keeps
//! it), removes tracking parameters, and sorts nothing else: query order can
//! matter to a server, so it is kept.

use url::Url;

/// Which query parameters are not part of a source's identity.
#[derive(Debug, Clone, Default)]
pub struct NormalizeOptions {
    /// Parameter names; a trailing `*` matches a prefix (`utm_*`).
    pub strip_params: Vec<String>,
}

impl NormalizeOptions {
    pub fn from_config(config: &crate::config::CollectConfig) -> Self {
        NormalizeOptions {
            strip_params: config.strip_params.clone(),
        }
    }

    fn strips(&self, name: &str) -> bool {
        self.strip_params.iter().any(|p| match p.strip_suffix('*') {
            Some(prefix) => name.starts_with(prefix),
            None => name == p,
        })
    }
}

/// Parses and normalises a URL for identity, keeping its fragment.
pub fn normalize(raw: &str, opts: &NormalizeOptions) -> Option<Url> {
    let mut url = Url::parse(raw.trim()).ok()?;
    if url.cannot_be_a_base() {
        return Some(url);
    }
    // `Url` already drops the scheme's default port and lowercases the host.
    if url.query().is_some() {
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| !opts.strips(k))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if kept.is_empty() {
            url.set_query(None);
        } else if kept.len() != url.query_pairs().count() {
            url.query_pairs_mut().clear().extend_pairs(kept);
        }
    }
    if url.path().is_empty() {
        url.set_path("/");
    }
    Some(url)
}

/// The key a source is fetched and stored under: normalised, no fragment.
/// `None` when `raw` is not an absolute URL.
pub fn source_key(raw: &str, opts: &NormalizeOptions) -> Option<String> {
    let mut url = normalize(raw, opts)?;
    url.set_fragment(None);
    Some(url.into())
}

/// Whether a URL's scheme is one citeguard fetches.
pub fn is_fetchable(url: &Url) -> bool {
    crate::base::web::is_http(url.as_str())
}

impl crate::model::Citation {
    /// The URL used to fetch this citation's source: normalised for
    /// identity, fragment dropped. `None` when there is nothing to fetch.
    /// (Declared here, not in `model`: URL identity is collect's rule.)
    pub fn source_url(&self, opts: &NormalizeOptions) -> Option<String> {
        self.url.as_deref().and_then(|u| source_key(u, opts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> NormalizeOptions {
        NormalizeOptions::from_config(&crate::config::CollectConfig::default())
    }

    #[test]
    fn one_source_written_many_ways_has_one_key() {
        let a = source_key(
            "HTTPS://WWW.NYTimes.com:443/2010/08/25/world/asia/25tajik.html#x",
            &opts(),
        );
        let b = source_key(
            "https://www.nytimes.com/2010/08/25/world/asia/25tajik.html?utm_source=feed&utm_medium=rss",
            &opts(),
        );
        let c = source_key(
            "https://www.nytimes.com/2010/08/25/world/asia/25tajik.html?fbclid=abc",
            &opts(),
        );
        assert_eq!(
            a.as_deref(),
            Some("https://www.nytimes.com/2010/08/25/world/asia/25tajik.html")
        );
        assert_eq!(a, b);
        assert_eq!(a, c);
    }

    #[test]
    fn meaningful_query_parameters_stay_in_order() {
        let k = source_key("http://example.com/view?b=2&utm_campaign=x&a=1", &opts()).unwrap();
        assert_eq!(k, "http://example.com/view?b=2&a=1");
    }

    #[test]
    fn normalize_keeps_the_fragment_for_the_record() {
        let u = normalize("http://Example.com:80#sec", &opts()).unwrap();
        assert_eq!(u.as_str(), "http://example.com/#sec");
    }
}
