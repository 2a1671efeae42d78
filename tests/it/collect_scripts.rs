//! `citeguard collect` on a directory of real posts written in several
//! scripts — Arabic, Cyrillic, Greek, Hebrew, Chinese, Japanese, Korean,
//! Devanagari, Thai — in the encodings they were published in (UTF-8,
//! windows-1251, iso-8859-7, windows-1255, big5, euc-kr, tis-620): every
//! file is read, none fails, and each prints its citations with their
//! anchor text in its own script. Every script of issue 10's list has a
//! post with links among them: feeds, an HTML page and Markdown posts
//! (READMEs written in Arabic, Hebrew, Greek and Hindi, Russian and
//! Japanese).
//!
//! The posts come from the real-world corpus (`tests/corpus/`), which the
//! test installs first through `.ci/setup-corpus`, as the corpus test does.

use std::path::{Path, PathBuf};

use crate::util::{Dir, json, stderr};

/// Installs the corpus (idempotent, quick once there) and returns its
/// directory and the manifest.
pub fn corpus() -> (PathBuf, serde_json::Value) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let status = std::process::Command::new("bash")
        .arg(root.join(".ci/setup-corpus"))
        .stdout(std::process::Stdio::null())
        .status()
        .expect("running .ci/setup-corpus");
    assert!(status.success(), ".ci/setup-corpus failed: {status}");
    let cache = std::env::var_os("CITEGUARD_CORPUS")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/citeguard/corpus")))
        .expect("HOME or CITEGUARD_CORPUS is set");
    let manifest = std::fs::read_to_string(root.join("tests/corpus/manifest.json"))
        .expect("tests/corpus/manifest.json");
    (
        cache,
        serde_json::from_str(&manifest).expect("manifest is JSON"),
    )
}

/// The path under the cache of a manifest entry.
pub fn corpus_path(cache: &Path, manifest: &serde_json::Value, id: &str) -> PathBuf {
    let entry = manifest["files"]
        .as_array()
        .and_then(|f| f.iter().find(|e| e["id"] == id))
        .unwrap_or_else(|| panic!("{id} is not in the manifest"));
    cache.join(entry["path"].as_str().expect("a path"))
}

/// A corpus post: its manifest id, its name in the directory, and some
/// (URL, anchor text) it cites.
type Post = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

#[test]
fn collect_prints_the_citations_of_real_posts_in_nine_scripts() {
    let (cache, manifest) = corpus();
    let dir = Dir::new();
    // (manifest id, name in the directory, (URL, its anchor text) cited)
    let posts: &[Post] = &[
        (
            "html-test_cnn_arabic",
            "arabic-cnn.html",
            &[(
                "http://arabic.cnn.com/2013/middle_east/8/2/jordan.syria.borders.drugs.and.weapons/index.html",
                "مستودعات للذخيرة",
            )],
        ),
        (
            "atom-janulalife.blogspot.com",
            "cyrillic-janulalife-windows-1251.xml",
            &[("http://picasa.google.com/", "Posted by Picasa")],
        ),
        (
            "markdown-readme",
            "cyrillic-vk-api.md",
            &[("https://t.me/python273_vk_api", "Чат в Telegram")],
        ),
        (
            "rss-naftemporiki.gr.wld",
            "greek-naftemporiki-iso-8859-7.xml",
            &[],
        ),
        (
            "rss-whatsup.org.il",
            "hebrew-whatsup-windows-1255.xml",
            &[("http://www.whatsup.co.il/article/3786", "")],
        ),
        (
            "rdf-upsaid.com",
            "chinese-upsaid-big5.xml",
            &[("http://odeo.com/", "Odeo")],
        ),
        (
            "markdown-automaton-media-com-monster-hunter-wilds-20250325-332715",
            "japanese-automaton.md",
            &[(
                "https://automaton-media.com/articles/newsjp/loawson-20250321-332249/",
                "PSストアカード1万円券以上をローソンで買えば",
            )],
        ),
        (
            "rss-ittrend.egloos.com",
            "korean-ittrend-euc-kr.xml",
            &[(
                "http://cyber.law.harvard.edu/home/home?func=view&wid=10&pn=3",
                "Regulating Search",
            )],
        ),
        ("text-hindi_article", "hindi-article.txt", &[]),
        // READMEs written in Arabic, Hebrew, Greek and Hindi (their links
        // are checked below, by the end of the URL).
        ("markdown-readme-12", "arabic-arabi-lang.md", &[]),
        ("markdown-readme-13", "hebrew-yemot-ai.md", &[]),
        ("markdown-readme-14", "greek-pythonas.md", &[]),
        ("markdown-readme-15", "hindi-ajgar.md", &[]),
        (
            "rss-trickspot.boxchart.com",
            "thai-trickspot-tis-620.xml",
            &[("http://cssed.sourceforge.net/", "")],
        ),
    ];
    for (id, name, _) in posts {
        let from = corpus_path(&cache, &manifest, id);
        std::fs::copy(&from, dir.join(name))
            .unwrap_or_else(|e| panic!("copying {}: {e}", from.display()));
    }
    let out = dir.run(["collect", "--format", "json", "."]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        !stderr(&out).contains("error"),
        "every post is read: {}",
        stderr(&out)
    );
    let doc = json(&out);
    let citations = doc["citations"].as_array().expect("citations");
    for (id, name, cited) in posts {
        for (url, text) in *cited {
            let found = citations
                .iter()
                .find(|c| c["url"] == *url)
                .unwrap_or_else(|| panic!("{name} ({id}): {url} not cited"));
            let got = found["text"].as_str().unwrap_or("");
            assert!(
                got.starts_with(text),
                "{name}: the anchor text of {url} is {got:?}, expected {text:?}"
            );
        }
    }
    // Links relative to the post (resolved in the directory) or to a host
    // this repository does not name: found by the end of their URL, with
    // their anchor text or their sentence in the post's own script.
    for (name, url_end, words) in [
        (
            "arabic-arabi-lang.md",
            "/CTO-DRS/arabi-lang/releases",
            "الإصدارات",
        ),
        ("hebrew-yemot-ai.md", "/yemot-ai/wiki", "תיעוד מלא"),
        ("greek-pythonas.md", "/docs/api.md", "Πλήρης αναφορά API"),
        ("hindi-ajgar.md", "/project/ajgar-alpha", "आर्काइव किया गया"),
    ] {
        let found = citations.iter().any(|c| {
            c["post"].as_str().is_some_and(|p| p.ends_with(name))
                && c["url"].as_str().is_some_and(|u| u.ends_with(url_end))
                && [&c["text"], &c["context"]]
                    .iter()
                    .any(|t| t.as_str().is_some_and(|t| t.contains(words)))
        });
        assert!(found, "{name}: no citation of …{url_end} with {words:?}");
    }
    // The feeds' posts are named by their own links; the files by their
    // paths: each of the files with links gave citations.
    let posts_with_citations: std::collections::BTreeSet<&str> = citations
        .iter()
        .filter_map(|c| c["post"].as_str())
        .collect();
    for (host_or_file, script) in [
        ("arabic-cnn.html", "Arabic"),
        ("janulalife.blogspot.com", "Cyrillic"),
        ("cyrillic-vk-api.md", "Cyrillic"),
        ("whatsup.co.il", "Hebrew"),
        ("upsaid.com", "Han"),
        ("japanese-automaton.md", "Kana and Han"),
        ("ittrend.egloos.com", "Hangul"),
        ("trickspot.boxchart.com", "Thai"),
        ("arabic-arabi-lang.md", "Arabic"),
        ("hebrew-yemot-ai.md", "Hebrew"),
        ("greek-pythonas.md", "Greek"),
        ("hindi-ajgar.md", "Devanagari"),
    ] {
        assert!(
            posts_with_citations
                .iter()
                .any(|p| p.contains(host_or_file)),
            "no citation from the {script} post {host_or_file}"
        );
    }
    // Unlinked attributions are found in other languages too: the Chinese
    // blog cites "根據香港媒體報導" (according to Hong Kong media reports).
    assert!(
        citations
            .iter()
            .any(|c| c["kind"] == "unlinked" && c["text"] == "根據香港媒體報導"),
        "the Chinese attribution"
    );
}
