//! A blog that `collect` reads by URL: a post behind a permanent redirect
//! (`/old-post`), whose relative links resolve against where it ended up; a
//! Latin-1 page that says so only in its `Content-Type` header; an RSS feed
//! and a sitemap that list posts by absolute URL, one of them gone.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::Asked;

/// The sitemap of the blog served at `base` (`http://127.0.0.x:port`).
pub fn sitemap(base: &str) -> String {
    format!(
        "<?xml version=\"1.0\"?><urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\"><url><loc>{base}/2010/08/post.html</loc></url><url><loc>{base}/gone.html</loc></url><url><loc>{base}/latin.html</loc></url></urlset>"
    )
}

pub fn answer(asked: &Asked) -> Option<Response> {
    let base = format!("http://{}", asked.host());
    let html = |charset: &str, body: &'static [u8]| {
        (
            [(
                header::CONTENT_TYPE,
                format!("text/html; charset={charset}"),
            )],
            body,
        )
            .into_response()
    };
    let r = match asked.path() {
        "/old-post" => (
            StatusCode::MOVED_PERMANENTLY,
            [(header::LOCATION, "/2010/08/post.html")],
        )
            .into_response(),
        "/2010/08/post.html" => html(
            "utf-8",
            b"<html><body><nav><a href=\"/\">Home</a></nav><article><p>See <a href=\"../figures/table.html\">the table</a>. Turbines were installed last week (Reuters).</p></article></body></html>",
        ),
        "/latin.html" => html(
            "iso-8859-1",
            b"<article><p><a href=\"https://cafe.example/\">caf\xe9</a></p></article>",
        ),
        "/feed" => (
            [(header::CONTENT_TYPE, "application/rss+xml")],
            format!(
                "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><item><link>{base}/2010/08/post.html</link><description>&lt;a href=\"/cited\"&gt;cited&lt;/a&gt;</description></item></channel></rss>"
            ),
        )
            .into_response(),
        "/sitemap.xml" => (
            [(header::CONTENT_TYPE, "application/xml")],
            sitemap(&base),
        )
            .into_response(),
        _ => return None,
    };
    Some(r)
}
