//! Fetching posts, feeds and sitemaps given by URL: one GET each, redirects
//! followed (the final URL is the post's base), the body read up to the size
//! cap, counted after decompression. Runs on its own current-thread runtime
//! because `collect` is called from plain synchronous code.
//!
//! It is only for inputs: cited sources are fetched by the fetch stage.

use std::time::Duration;

use url::Url;

/// How long one input may take to fetch.
const TIMEOUT: Duration = Duration::from_secs(60);

pub(crate) struct Remote {
    /// Always `Some` until dropped.
    rt: Option<tokio::runtime::Runtime>,
    client: reqwest::Client,
}

pub(crate) struct Fetched {
    pub final_url: Url,
    /// The charset the server names in Content-Type.
    pub charset: Option<String>,
    pub body: Vec<u8>,
}

impl Remote {
    pub fn new() -> Result<Self, String> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the HTTP runtime: {e}"))?;
        let client = reqwest::Client::builder()
            .user_agent(crate::config::default_user_agent())
            .timeout(TIMEOUT)
            .connect_timeout(Duration::from_secs(15))
            .build()
            .map_err(|e| crate::error::chain_text(&e))?;
        Ok(Remote {
            rt: Some(rt),
            client,
        })
    }

    pub fn get(&self, url: &str, cap: u64) -> Result<Fetched, String> {
        // Called from inside another runtime, blocking here would panic:
        // fetch from a plain thread instead.
        if tokio::runtime::Handle::try_current().is_ok() {
            return std::thread::scope(|s| {
                s.spawn(|| self.get_here(url, cap))
                    .join()
                    .unwrap_or_else(|_| Err("the fetching thread failed".into()))
            });
        }
        self.get_here(url, cap)
    }

    fn get_here(&self, url: &str, cap: u64) -> Result<Fetched, String> {
        let Some(rt) = &self.rt else {
            return Err("the HTTP runtime is shut down".into());
        };
        rt.block_on(async {
            let resp = self
                .client
                .get(url)
                .send()
                .await
                .map_err(|e| crate::error::chain_text(&e))?;
            let status = resp.status();
            if !status.is_success() {
                return Err(format!(
                    "HTTP {} {}",
                    status.as_u16(),
                    status.canonical_reason().unwrap_or("")
                )
                .trim_end()
                .to_string());
            }
            if let Some(len) = resp.content_length()
                && len > cap
            {
                return Err(format!(
                    "{} is over the {} input size limit (collect.max_file_size); not read",
                    super::input::human_size(len),
                    super::input::human_size(cap)
                ));
            }
            let final_url = resp.url().clone();
            let charset = resp
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .and_then(crate::base::web::charset);
            // Counted as decoded: a small compressed body that inflates
            // past the cap is cut there, not decompressed in full.
            let body = crate::base::cap::read_capped(resp.bytes_stream(), cap)
                .await
                .map_err(|e| crate::error::chain_text(&e))?;
            if body.cut {
                return Err(format!(
                    "more than the {} input size limit (collect.max_file_size); not read",
                    super::input::human_size(cap)
                ));
            }
            let body = body.bytes;
            Ok(Fetched {
                final_url,
                charset,
                body,
            })
        })
    }
}

impl Drop for Remote {
    // A runtime dropped the ordinary way waits for its tasks, which panics
    // inside another runtime; nothing of ours is left running, so don't wait.
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}
