// Reader-mode extraction of the corpus pages, for tests/corpus/derive.py.
//
// Reads one JSON request a line on stdin: {"id", "path", "url"}; runs
// Mozilla's Readability (the reader view of Firefox) on the page as its
// own test suite does (jsdom with the page's URL, comments removed), and
// prints one JSON line per page on stdout:
//   {"id", "ok", "title", "links": [{"href", "text"}], "images": [...],
//    "embeds": [...], "error"}
// Every URL is resolved against the page's URL (or its <base href>).
//
// Needs @mozilla/readability and jsdom: `bash .ci/setup-corpus --tools`
// installs the pinned versions under <cache>/tools/node_modules, and
// derive.py puts that folder on NODE_PATH.
"use strict";

const fs = require("fs");
const readline = require("readline");
const { JSDOM, VirtualConsole } = require("jsdom");
const { Readability } = require("@mozilla/readability");

function quietConsole() {
  // Pages log CSS and script errors; none of it matters here.
  return new VirtualConsole();
}

function removeComments(node) {
  for (let i = node.childNodes.length - 1; i >= 0; i--) {
    const child = node.childNodes[i];
    if (child.nodeType === child.COMMENT_NODE) {
      node.removeChild(child);
    } else if (child.hasChildNodes()) {
      removeComments(child);
    }
  }
}

function text(node) {
  return (node.textContent || "").replace(/\s+/g, " ").trim();
}

function extract(request) {
  const bytes = fs.readFileSync(request.path);
  const dom = new JSDOM(bytes, {
    url: request.url,
    contentType: "text/html",
    virtualConsole: quietConsole(),
  });
  const doc = dom.window.document;
  removeComments(doc);
  const article = new Readability(doc, {
    classesToPreserve: ["caption"],
  }).parse();
  if (!article || !article.content) {
    return { id: request.id, ok: false, error: "readability found no article" };
  }
  // The article is serialised with absolute URLs already (Readability
  // fixes relative ones against the document's base); parsing it again
  // with the same URL keeps in-page "#…" links resolvable too.
  const out = new JSDOM(article.content, {
    url: request.url,
    virtualConsole: quietConsole(),
  }).window.document;
  const links = [];
  for (const a of out.querySelectorAll("a[href]")) {
    links.push({ href: a.href, raw: a.getAttribute("href"), text: text(a) });
  }
  const images = [];
  for (const img of out.querySelectorAll("img")) {
    images.push({
      src: img.getAttribute("src") ? img.src : "",
      srcset: img.getAttribute("srcset") || "",
      alt: img.getAttribute("alt") || "",
    });
  }
  const embeds = [];
  for (const el of out.querySelectorAll(
    "iframe[src], video[src], audio[src], source[src], embed[src], object[data]"
  )) {
    embeds.push({ tag: el.tagName.toLowerCase(), src: el.src || el.data || "" });
  }
  return {
    id: request.id,
    ok: true,
    title: article.title || "",
    text_length: (article.textContent || "").length,
    links,
    images,
    embeds,
  };
}

const rl = readline.createInterface({ input: process.stdin, terminal: false });
rl.on("line", (line) => {
  if (!line.trim()) return;
  const request = JSON.parse(line);
  let result;
  try {
    result = extract(request);
  } catch (err) {
    result = { id: request.id, ok: false, error: String(err && err.message ? err.message : err) };
  }
  process.stdout.write(JSON.stringify(result) + "\n");
});
