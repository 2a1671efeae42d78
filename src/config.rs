//! The one configuration struct: built from defaults, then `citeguard.toml`,
//! then command-line flags, and passed down. Nothing deeper in the library
//! reads the environment or globals.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::Verdict;

/// The name of the config file read from the working directory.
pub const CONFIG_FILE: &str = "citeguard.toml";

/// Where the store is when neither a flag nor the config says.
pub const DEFAULT_STORE: &str = "snapshots";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub collect: CollectConfig,
    pub fetch: FetchConfig,
    pub compare: CompareConfig,
    pub schedule: ScheduleConfig,
    /// The store: a directory (the SQLite index, and the copies unless
    /// `objects` says otherwise), or `postgres://user@host:port/db` for an
    /// index on PostgreSQL shared by many processes.
    pub store: PathBuf,
    /// Where bodies, texts and WARC files go when not inside the store
    /// directory: another directory, or `s3://bucket/prefix` on
    /// S3-compatible storage. Required with a PostgreSQL index.
    pub objects: Option<String>,
    /// The S3 endpoint for storage other than AWS (`http://127.0.0.1:9000`);
    /// AWS's own endpoint for the region when unset.
    pub s3_endpoint: Option<String>,
    /// The S3 region (`us-east-1` when unset).
    pub s3_region: Option<String>,
    /// The S3 credentials: never from the config file, only from the
    /// environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
    /// `AWS_SESSION_TOKEN`), which the binary reads.
    #[serde(skip)]
    pub s3_credentials: Option<S3Credentials>,
    /// Verdicts that make the exit code 1.
    pub fail_on: Vec<Verdict>,
    /// Per-host settings, keyed by host name (`"www.nytimes.com"`).
    pub hosts: BTreeMap<String, HostConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            collect: CollectConfig::default(),
            fetch: FetchConfig::default(),
            compare: CompareConfig::default(),
            schedule: ScheduleConfig::default(),
            store: PathBuf::from(DEFAULT_STORE),
            objects: None,
            s3_endpoint: None,
            s3_region: None,
            s3_credentials: None,
            fail_on: vec![Verdict::Dead, Verdict::Changed, Verdict::Missing],
            hosts: BTreeMap::new(),
        }
    }
}

/// S3 credentials, as the environment gives them. Their `Debug` hides the
/// secret.
#[derive(Clone, Default)]
pub struct S3Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl std::fmt::Debug for S3Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"[redacted]")
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CollectConfig {
    /// A CSS selector for the post's content, overriding detection.
    pub content_selector: Option<String>,
    /// Take every link on the page, chrome included.
    pub all_links: bool,
    /// The base URL for relative links when the post gives none.
    pub base_url: Option<String>,
    /// The local directory a local post's root-relative links (`/img/a.png`)
    /// name files under, as the web server serving it would.
    pub root_dir: Option<PathBuf>,
    /// Query parameters dropped from a URL's identity; a trailing `*` is a
    /// prefix match (`utm_*`).
    pub strip_params: Vec<String>,
    /// Largest input (file, stdin, fetched post) read, in bytes; bigger
    /// inputs are refused without being read.
    pub max_file_size: u64,
}

impl Default for CollectConfig {
    fn default() -> Self {
        CollectConfig {
            content_selector: None,
            all_links: false,
            base_url: None,
            root_dir: None,
            strip_params: [
                "utm_*", "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "_hsenc",
                "_hsmi", "igshid", "yclid", "ref_src",
            ]
            .map(String::from)
            .to_vec(),
            max_file_size: 64 * 1024 * 1024,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FetchConfig {
    /// Requests in flight at once, over all hosts.
    pub concurrency: usize,
    /// Requests in flight at once to one host.
    pub per_host: usize,
    /// Minimum spacing between the starts of two requests to one host, in ms.
    pub host_delay_ms: u64,
    /// Whole-request timeout, in seconds.
    pub timeout_secs: f64,
    /// Connect timeout, in seconds.
    pub connect_timeout_secs: f64,
    /// Largest body read, in bytes; the rest is not downloaded.
    pub max_body: u64,
    pub max_redirects: usize,
    /// Retries after the first attempt for transient failures.
    pub retries: u32,
    /// Longest wait for one retry (caps `Retry-After`), in seconds.
    pub max_retry_wait_secs: f64,
    pub user_agent: String,
    /// Extra status codes treated as ok.
    pub accept: Vec<u16>,
    /// Regexes: a matching URL is `skipped`/`excluded`.
    pub exclude: Vec<String>,
    /// Regexes: when any is given, only matching URLs are checked.
    pub include: Vec<String>,
    pub ignore_robots: bool,
    /// Host name → address, like curl's `--resolve`: skips DNS for that host.
    pub resolve: BTreeMap<String, std::net::IpAddr>,
    /// Host names answered "no such host" without asking DNS, as `resolve`
    /// answers an address. The answer is weighed against the canary like
    /// DNS's own, so a test can play a dead domain, and an offline machine
    /// by listing the canary.
    pub no_such_host: Vec<String>,
    /// Let every fetch reach loopback, private, link-local and unique-local
    /// addresses: without it, only a cited source on such an address may
    /// (`--allow-private`).
    pub allow_private: bool,
    /// Addresses treated as public, for tests whose whole web is on
    /// loopback (not documented: no one else needs it).
    pub public_addresses: Vec<std::net::IpAddr>,
}

impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig {
            concurrency: 256,
            per_host: 8,
            host_delay_ms: 50,
            timeout_secs: 30.0,
            connect_timeout_secs: 10.0,
            max_body: 20 * 1024 * 1024,
            max_redirects: 10,
            retries: 2,
            max_retry_wait_secs: 30.0,
            user_agent: default_user_agent(),
            accept: Vec::new(),
            exclude: Vec::new(),
            include: Vec::new(),
            ignore_robots: false,
            resolve: BTreeMap::new(),
            no_such_host: Vec::new(),
            allow_private: false,
            public_addresses: Vec::new(),
        }
    }
}

/// The longest any one time setting may be: a day. Longer is a mistake
/// (`1e30`, `inf`), and would overflow the clock it is added to.
pub const MAX_SECS: f64 = 24.0 * 3600.0;

/// Seconds as a `Duration`, held between `min` and `MAX_SECS` whatever the
/// value (a config built without `validate` never panics here).
fn secs(value: f64, min: f64) -> Duration {
    let value = if value.is_nan() { min } else { value };
    Duration::from_secs_f64(value.clamp(min, MAX_SECS))
}

impl FetchConfig {
    pub fn timeout(&self) -> Duration {
        secs(self.timeout_secs, 0.001)
    }
    pub fn connect_timeout(&self) -> Duration {
        secs(self.connect_timeout_secs, 0.001)
    }
    pub fn host_delay(&self) -> Duration {
        millis(self.host_delay_ms)
    }
    pub fn max_retry_wait(&self) -> Duration {
        secs(self.max_retry_wait_secs, 0.0)
    }
}

/// Milliseconds as a `Duration`, at most `MAX_SECS`.
pub fn millis(ms: u64) -> Duration {
    Duration::from_millis(ms.min((MAX_SECS * 1000.0) as u64))
}

/// Why a number of seconds is not a usable time setting, if it is not:
/// not a finite number, negative (or zero when `positive`), or over a day.
pub fn check_seconds(value: f64, positive: bool) -> std::result::Result<(), String> {
    if !value.is_finite() {
        return Err("not a finite number of seconds".into());
    }
    if value < 0.0 || (positive && value == 0.0) {
        let least = if positive {
            "more than 0 seconds"
        } else {
            "0 seconds or more"
        };
        return Err(format!("must be {least}"));
    }
    if value > MAX_SECS {
        return Err(format!(
            "more than a day ({MAX_SECS} seconds), the most allowed"
        ));
    }
    Ok(())
}

/// The most days `dead_after_days` may be: a century.
pub const MAX_DAYS: f64 = 36_500.0;

pub fn default_user_agent() -> String {
    format!(
        "Mozilla/5.0 (compatible; citeguard/{}; +https://github.com/citeguard/citeguard)",
        env!("CARGO_PKG_VERSION")
    )
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HostConfig {
    /// Extra request headers for this host (e.g. `Cookie`, `Authorization`).
    pub headers: BTreeMap<String, String>,
    pub per_host: Option<usize>,
    pub host_delay_ms: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CompareConfig {
    /// Below this text similarity to the baseline a source is `changed`.
    pub drift_threshold: f64,
}

impl Default for CompareConfig {
    fn default() -> Self {
        CompareConfig {
            drift_threshold: 0.80,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScheduleConfig {
    /// Consecutive transient failures before `dead`/`persistent-failure`.
    pub dead_after_checks: u32,
    /// ...which must also span at least this many days.
    pub dead_after_days: f64,
    /// The Memento TimeGate asked for archived copies of dead sources.
    pub memento_endpoint: String,
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        ScheduleConfig {
            dead_after_checks: 3,
            dead_after_days: 3.0,
            memento_endpoint: "https://web.archive.org/web/".to_string(),
        }
    }
}

impl Config {
    /// Reads a config file. `explicit` is true when the user named it with
    /// `--config`: then a missing file is an error, while a missing
    /// `citeguard.toml` in the working directory just means defaults.
    pub fn load(path: &Path, explicit: bool) -> Result<Config> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => {
                return Ok(Config::default());
            }
            Err(e) => return Err(Error::io(path, e)),
        };
        Self::parse(&text).map_err(|cause| Error::Config {
            path: path.to_path_buf(),
            cause,
        })
    }

    pub fn parse(text: &str) -> std::result::Result<Config, String> {
        let config: Config = toml::from_str(text).map_err(|e| e.message().to_string())?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> std::result::Result<(), String> {
        if self.fetch.concurrency == 0 {
            return Err("fetch.concurrency must be at least 1".into());
        }
        if self.fetch.per_host == 0 {
            return Err("fetch.per_host must be at least 1".into());
        }
        let f = &self.fetch;
        for (key, value, positive) in [
            ("fetch.timeout_secs (--timeout)", f.timeout_secs, true),
            (
                "fetch.connect_timeout_secs (--connect-timeout)",
                f.connect_timeout_secs,
                true,
            ),
            (
                "fetch.max_retry_wait_secs (--max-retry-wait)",
                f.max_retry_wait_secs,
                false,
            ),
        ] {
            check_seconds(value, positive).map_err(|e| format!("{key}: {e}"))?;
        }
        let delays = std::iter::once((
            "fetch.host_delay_ms (--host-delay)".to_string(),
            f.host_delay_ms,
        ))
        .chain(self.hosts.iter().filter_map(|(host, h)| {
            h.host_delay_ms
                .map(|ms| (format!("hosts.\"{host}\".host_delay_ms"), ms))
        }));
        for (key, ms) in delays {
            if ms as f64 > MAX_SECS * 1000.0 {
                return Err(format!(
                    "{key}: {ms} ms is more than a day, the most allowed"
                ));
            }
        }
        let days = self.schedule.dead_after_days;
        if !days.is_finite() || !(0.0..=MAX_DAYS).contains(&days) {
            return Err(format!(
                "schedule.dead_after_days (--dead-after-days): {days} is not a number of days from 0 to {MAX_DAYS}"
            ));
        }
        if !(0.0..=1.0).contains(&self.compare.drift_threshold) {
            return Err("compare.drift_threshold must be between 0 and 1".into());
        }
        for re in self.fetch.exclude.iter().chain(&self.fetch.include) {
            regex::Regex::new(re).map_err(|e| format!("bad regex '{re}': {e}"))?;
        }
        Ok(())
    }

    /// The headers to send to `host`, from the per-host settings.
    pub fn host_headers(&self, host: &str) -> Option<&BTreeMap<String, String>> {
        self.hosts.get(host).map(|h| &h.headers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_file_overrides_defaults_and_keeps_the_rest() {
        let c = Config::parse(
            "fail_on = [\"dead\"]\n[fetch]\nper_host = 2\nexclude = ['^https://example\\.com/']\n[hosts.\"www.nytimes.com\"]\nheaders = { Cookie = \"nyt-a=1\" }\n",
        )
        .unwrap();
        assert_eq!(c.fetch.per_host, 2);
        assert_eq!(c.fetch.concurrency, FetchConfig::default().concurrency);
        assert_eq!(c.fail_on, vec![Verdict::Dead]);
        assert_eq!(
            c.host_headers("www.nytimes.com").unwrap()["Cookie"],
            "nyt-a=1"
        );
    }

    #[test]
    fn the_store_backends_are_config_keys_and_credentials_are_not() {
        let c = Config::parse(
            "store = \"postgres://cg@db:5432/cg\"\nobjects = \"s3://archive/cg\"\n\
             s3_endpoint = \"http://127.0.0.1:9000\"\ns3_region = \"eu-west-1\"\n",
        )
        .unwrap();
        assert_eq!(c.store, PathBuf::from("postgres://cg@db:5432/cg"));
        assert_eq!(c.objects.as_deref(), Some("s3://archive/cg"));
        assert_eq!(c.s3_endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(c.s3_region.as_deref(), Some("eu-west-1"));
        let e = Config::parse("s3_credentials = \"x\"\n").unwrap_err();
        assert!(e.contains("s3_credentials"), "{e}");
        let secret = S3Credentials {
            access_key_id: "AKIA".into(),
            secret_access_key: "hunter2".into(),
            session_token: None,
        };
        assert!(!format!("{secret:?}").contains("hunter2"));
    }

    #[test]
    fn unknown_keys_and_bad_values_are_errors_that_name_them() {
        let e = Config::parse("[fetch]\nper_hots = 2\n").unwrap_err();
        assert!(e.contains("per_hots"), "{e}");
        let e = Config::parse("[fetch]\nexclude = ['(']\n").unwrap_err();
        assert!(e.contains("bad regex"), "{e}");
    }

    #[test]
    fn time_settings_that_are_not_finite_negative_or_over_a_day_are_refused() {
        for bad in [
            "timeout_secs = inf",
            "timeout_secs = nan",
            "timeout_secs = 1e30",
            "timeout_secs = 0.0",
            "connect_timeout_secs = 1e300",
            "connect_timeout_secs = -1.0",
            "max_retry_wait_secs = inf",
            "max_retry_wait_secs = 86401.0",
            "host_delay_ms = 100000000000",
        ] {
            let e = Config::parse(&format!("[fetch]\n{bad}\n")).unwrap_err();
            let key = bad.split(' ').next().unwrap();
            assert!(e.contains(key), "{bad}: {e}");
        }
        let e = Config::parse("[schedule]\ndead_after_days = inf\n").unwrap_err();
        assert!(e.contains("dead_after_days"), "{e}");
        let ok = Config::parse("[fetch]\ntimeout_secs = 86400.0\nmax_retry_wait_secs = 0.0\n");
        assert!(ok.is_ok(), "{ok:?}");
    }

    #[test]
    fn durations_never_panic_even_unvalidated() {
        let mut f = FetchConfig {
            timeout_secs: f64::INFINITY,
            connect_timeout_secs: f64::NAN,
            max_retry_wait_secs: -5.0,
            host_delay_ms: u64::MAX,
            ..FetchConfig::default()
        };
        assert_eq!(f.timeout(), Duration::from_secs(86_400));
        assert_eq!(f.connect_timeout(), Duration::from_millis(1));
        assert_eq!(f.max_retry_wait(), Duration::ZERO);
        assert_eq!(f.host_delay(), Duration::from_secs(86_400));
        f.timeout_secs = 1e300;
        assert_eq!(f.timeout(), Duration::from_secs(86_400));
    }

    #[test]
    fn a_missing_default_config_file_means_defaults_but_a_named_one_is_an_error() {
        let dir = std::env::temp_dir().join("citeguard-config-test-missing");
        let path = dir.join("nope.toml");
        assert!(Config::load(&path, false).is_ok());
        assert!(Config::load(&path, true).is_err());
    }
}
