//! Named blobs: whole files kept under a name (`objects/ab/cdef…`,
//! `warc/<run>.warc.gz`), in a local directory or on S3-compatible
//! storage, behind one set of calls: `put` (whole), `put_file`, `get`,
//! `get_range`, `size` (head), `list`, `delete`.
//!
//! Both kinds go through the `object_store` crate (its local file store
//! and its S3 client), so a test of one exercises the code of the other.
//! A blob is written whole or not at all: S3 makes a `PUT` visible only
//! when complete, and the local store writes a temporary file and renames
//! it. Nothing here knows what the bytes are: hashing, layout and the
//! index are the caller's.
//!
//! A failure is a `BlobError` that names the store (`s3://bucket/prefix`
//! or the directory), the blob and the cause in one line; a blob that is
//! not there is told apart (`is_not_found`), as `verify` reports it as
//! missing rather than unreachable.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures_util::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as Key;
use object_store::{BackoffConfig, ClientOptions, ObjectStore, PutPayload, RetryConfig};

use crate::config::S3Credentials;

/// Where S3 blobs live: `s3://bucket/prefix`, with the endpoint, region
/// and credentials the configuration gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Spec {
    pub bucket: String,
    /// Without leading or trailing `/`; empty for the bucket's root.
    pub prefix: String,
    pub endpoint: Option<String>,
    pub region: Option<String>,
}

impl S3Spec {
    /// Parses `s3://bucket` or `s3://bucket/some/prefix`.
    pub fn parse(url: &str) -> Result<S3Spec, String> {
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| format!("'{url}' is not an s3:// URL"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let valid_bucket = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
        if !valid_bucket {
            return Err(format!(
                "'{url}': '{bucket}' is not a bucket name (3 to 63 lower-case letters, digits, \
                 '-' or '.')"
            ));
        }
        let prefix = prefix.trim_matches('/');
        if prefix.split('/').any(|p| p == "." || p == "..")
            || prefix.contains("//")
            || prefix.chars().any(char::is_control)
        {
            return Err(format!(
                "'{url}': the prefix '{prefix}' is not a plain path"
            ));
        }
        Ok(S3Spec {
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
            endpoint: None,
            region: None,
        })
    }

    pub fn url(&self) -> String {
        if self.prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{}", self.bucket, self.prefix)
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{store}: {name}: {cause}")]
pub struct BlobError {
    /// `s3://bucket/prefix`, or the directory.
    pub store: String,
    pub name: String,
    pub cause: String,
    not_found: bool,
}

impl BlobError {
    pub fn is_not_found(&self) -> bool {
        self.not_found
    }
}

pub type BlobResult<T> = std::result::Result<T, BlobError>;

/// A store of named blobs.
#[derive(Clone)]
pub struct Blobs {
    inner: Arc<dyn ObjectStore>,
    /// The prefix every name is put under (S3), empty for a directory.
    prefix: String,
    /// What messages call it: `s3://bucket/prefix` or the directory.
    describe: String,
    local: Option<PathBuf>,
}

impl std::fmt::Debug for Blobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe)
    }
}

/// How long S3 is retried before a request fails: a store that is down
/// is said so in seconds, not after object_store's default three minutes.
fn retry() -> RetryConfig {
    RetryConfig {
        backoff: BackoffConfig {
            init_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            base: 2.0,
        },
        max_retries: 3,
        retry_timeout: Duration::from_secs(20),
    }
}

impl Blobs {
    /// Blobs as files under `dir`, created if missing.
    pub fn local(dir: &Path) -> BlobResult<Blobs> {
        let describe = dir.display().to_string();
        let fail = |cause: String| BlobError {
            store: describe.clone(),
            name: String::new(),
            cause,
            not_found: false,
        };
        std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
        let fs = LocalFileSystem::new_with_prefix(dir).map_err(|e| fail(e.to_string()))?;
        Ok(Blobs {
            inner: Arc::new(fs),
            prefix: String::new(),
            describe,
            local: Some(dir.to_path_buf()),
        })
    }

    /// Blobs in an S3 bucket under a prefix. Credentials come from the
    /// configuration (the binary reads them from `AWS_*`); without them
    /// the client asks the machine's instance metadata, as AWS's own
    /// tools do. Nothing is sent until the first call.
    pub fn s3(spec: &S3Spec, credentials: Option<&S3Credentials>) -> BlobResult<Blobs> {
        let mut b = AmazonS3Builder::new()
            .with_bucket_name(&spec.bucket)
            .with_region(spec.region.as_deref().unwrap_or("us-east-1"))
            .with_retry(retry())
            .with_client_options(
                ClientOptions::new()
                    .with_connect_timeout(Duration::from_secs(10))
                    .with_timeout(Duration::from_secs(120)),
            );
        if let Some(endpoint) = &spec.endpoint {
            b = b
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"))
                .with_virtual_hosted_style_request(false);
        }
        if let Some(c) = credentials {
            b = b
                .with_access_key_id(&c.access_key_id)
                .with_secret_access_key(&c.secret_access_key);
            if let Some(t) = &c.session_token {
                b = b.with_token(t);
            }
        }
        let describe = spec.url();
        let s3 = b.build().map_err(|e| BlobError {
            store: describe.clone(),
            name: String::new(),
            cause: e.to_string(),
            not_found: false,
        })?;
        Ok(Blobs {
            inner: Arc::new(s3),
            prefix: spec.prefix.clone(),
            describe,
            local: None,
        })
    }

    /// `s3://bucket/prefix` or the directory.
    pub fn describe(&self) -> &str {
        &self.describe
    }

    /// The directory, for local blobs.
    pub fn local_dir(&self) -> Option<&Path> {
        self.local.as_deref()
    }

    /// Where a name is kept, as a person would find it:
    /// `s3://bucket/prefix/objects/ab/…` or the file's path.
    pub fn locate(&self, name: &str) -> String {
        match &self.local {
            Some(dir) => dir.join(name).display().to_string(),
            None => format!("{}/{name}", self.describe),
        }
    }

    fn key(&self, name: &str) -> BlobResult<Key> {
        let full = if self.prefix.is_empty() {
            name.to_string()
        } else {
            format!("{}/{name}", self.prefix)
        };
        Key::parse(&full).map_err(|e| self.fail(name, e))
    }

    fn fail(&self, name: &str, e: impl std::fmt::Display) -> BlobError {
        BlobError {
            store: self.describe.clone(),
            name: name.to_string(),
            cause: one_line(&e.to_string()),
            not_found: false,
        }
    }

    fn failed(&self, name: &str, e: object_store::Error) -> BlobError {
        let not_found = matches!(e, object_store::Error::NotFound { .. });
        BlobError {
            not_found,
            ..self.fail(
                name,
                if not_found {
                    "not found".into()
                } else {
                    e.to_string()
                },
            )
        }
    }

    /// Stores `bytes` under `name`, whole, replacing what was there.
    pub async fn put(&self, name: &str, bytes: Vec<u8>) -> BlobResult<()> {
        let key = self.key(name)?;
        self.inner
            .put(&key, PutPayload::from(bytes))
            .await
            .map_err(|e| self.failed(name, e))?;
        Ok(())
    }

    /// Stores a local file under `name`, whole: in parts of 8 MiB (a
    /// multipart upload on S3, completed only when every part is in), so
    /// a WARC file of any size is never held in memory.
    pub async fn put_file(&self, name: &str, file: &Path) -> BlobResult<()> {
        use tokio::io::AsyncReadExt;
        const PART: usize = 8 << 20;
        let key = self.key(name)?;
        let mut f = tokio::fs::File::open(file)
            .await
            .map_err(|e| self.fail(name, format!("{}: {e}", file.display())))?;
        let len = f.metadata().await.map(|m| m.len()).unwrap_or(0);
        if len <= PART as u64 {
            let mut bytes = Vec::with_capacity(len as usize);
            f.read_to_end(&mut bytes)
                .await
                .map_err(|e| self.fail(name, format!("{}: {e}", file.display())))?;
            return self.put(name, bytes).await;
        }
        let upload = self
            .inner
            .put_multipart(&key)
            .await
            .map_err(|e| self.failed(name, e))?;
        let mut writer = object_store::WriteMultipart::new_with_chunk_size(upload, PART);
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = match f.read(&mut buf).await {
                Ok(n) => n,
                Err(e) => {
                    let _ = writer.abort().await;
                    return Err(self.fail(name, format!("{}: {e}", file.display())));
                }
            };
            if n == 0 {
                break;
            }
            writer
                .wait_for_capacity(4)
                .await
                .map_err(|e| self.failed(name, e))?;
            writer.write(&buf[..n]);
        }
        writer.finish().await.map_err(|e| self.failed(name, e))?;
        Ok(())
    }

    /// The whole blob.
    pub async fn get(&self, name: &str) -> BlobResult<Vec<u8>> {
        let key = self.key(name)?;
        let got = self
            .inner
            .get(&key)
            .await
            .map_err(|e| self.failed(name, e))?;
        Ok(got
            .bytes()
            .await
            .map_err(|e| self.failed(name, e))?
            .to_vec())
    }

    /// The bytes of `range`; shorter when the blob ends first, an error
    /// when it starts past the end.
    pub async fn get_range(&self, name: &str, range: Range<u64>) -> BlobResult<Vec<u8>> {
        let key = self.key(name)?;
        if range.is_empty() {
            return Ok(Vec::new());
        }
        Ok(self
            .inner
            .get_range(&key, range)
            .await
            .map_err(|e| self.failed(name, e))?
            .to_vec())
    }

    /// The blob's size, or `None` when there is no such blob.
    pub async fn size(&self, name: &str) -> BlobResult<Option<u64>> {
        let key = self.key(name)?;
        match self.inner.head(&key).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.failed(name, e)),
        }
    }

    pub async fn exists(&self, name: &str) -> BlobResult<bool> {
        Ok(self.size(name).await?.is_some())
    }

    /// Every blob whose name starts with `under/` (every blob for ""),
    /// by name, sorted, with its size.
    pub async fn list(&self, under: &str) -> BlobResult<Vec<(String, u64)>> {
        let under = under.trim_matches('/');
        let prefix = match (self.prefix.is_empty(), under.is_empty()) {
            (true, true) => None,
            (true, false) => Some(Key::parse(under).map_err(|e| self.fail(under, e))?),
            (false, true) => Some(Key::parse(&self.prefix).map_err(|e| self.fail(under, e))?),
            (false, false) => Some(
                Key::parse(format!("{}/{under}", self.prefix)).map_err(|e| self.fail(under, e))?,
            ),
        };
        let strip = if self.prefix.is_empty() {
            0
        } else {
            self.prefix.len() + 1
        };
        let metas: Vec<_> = self
            .inner
            .list(prefix.as_ref())
            .try_collect()
            .await
            .map_err(|e| self.failed(under, e))?;
        let mut out: Vec<(String, u64)> = metas
            .into_iter()
            .filter_map(|m| {
                let full = m.location.to_string();
                full.get(strip..).map(|n| (n.to_string(), m.size))
            })
            .collect();
        out.sort();
        Ok(out)
    }

    /// Removes a blob; one that is not there is no error.
    pub async fn delete(&self, name: &str) -> BlobResult<()> {
        let key = self.key(name)?;
        match self.inner.delete(&key).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.failed(name, e)),
        }
    }
}

/// Runs async blob work from synchronous code inside the runtime: the
/// multi-threaded runtime the binary runs lends this thread to it; on a
/// single-threaded one (a unit test) the work runs on a thread of its own.
pub fn wait<F>(work: F) -> F::Output
where
    F: std::future::Future + Send,
    F::Output: Send,
{
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(|| h.block_on(work))
        }
        _ => std::thread::scope(|s| {
            s.spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map(|rt| rt.block_on(work))
            })
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
            .unwrap_or_else(|e| panic!("cannot start a runtime for blob I/O: {e}"))
        }),
    }
}

/// An error's text on one line (S3 errors carry the server's XML).
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_urls_name_a_bucket_and_a_prefix() {
        let s = S3Spec::parse("s3://archive-1/citeguard/nightly/").unwrap();
        assert_eq!(
            (s.bucket.as_str(), s.prefix.as_str()),
            ("archive-1", "citeguard/nightly")
        );
        assert_eq!(s.url(), "s3://archive-1/citeguard/nightly");
        let s = S3Spec::parse("s3://archive-1").unwrap();
        assert_eq!(s.prefix, "");
        assert_eq!(s.url(), "s3://archive-1");
        for bad in [
            "s3://",
            "s3://A_B/x",
            "http://b/x",
            "s3://ok-bucket/a/../b",
            "s3://ab",
        ] {
            assert!(S3Spec::parse(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn local_blobs_are_put_read_ranged_listed_and_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let b = Blobs::local(&dir.path().join("blobs")).unwrap();
        b.put("objects/ab/cdef", b"hello world".to_vec())
            .await
            .unwrap();
        assert_eq!(b.get("objects/ab/cdef").await.unwrap(), b"hello world");
        assert_eq!(
            b.get_range("objects/ab/cdef", 6..11).await.unwrap(),
            b"world"
        );
        assert_eq!(b.size("objects/ab/cdef").await.unwrap(), Some(11));
        assert_eq!(b.size("objects/ab/none").await.unwrap(), None);
        let err = b.get("objects/ab/none").await.unwrap_err();
        assert!(err.is_not_found(), "{err}");
        assert!(err.to_string().contains("objects/ab/none"), "{err}");

        let big = dir.path().join("big");
        let bytes: Vec<u8> = (0..(9u32 << 20)).map(|i| (i % 251) as u8).collect();
        std::fs::write(&big, &bytes).unwrap();
        b.put_file("warc/run.warc.gz", &big).await.unwrap();
        assert_eq!(b.get("warc/run.warc.gz").await.unwrap(), bytes);

        assert_eq!(
            b.list("objects").await.unwrap(),
            vec![("objects/ab/cdef".to_string(), 11)]
        );
        assert_eq!(b.list("").await.unwrap().len(), 2);
        b.delete("objects/ab/cdef").await.unwrap();
        b.delete("objects/ab/cdef").await.unwrap();
        assert!(!b.exists("objects/ab/cdef").await.unwrap());
        assert!(dir.path().join("blobs/warc/run.warc.gz").is_file());
        assert_eq!(wait(b.get("warc/run.warc.gz")).unwrap().len(), bytes.len());
    }
}
