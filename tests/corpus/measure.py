#!/usr/bin/env python3
"""Measures `citeguard collect` against the real-world corpus.

    bash .ci/setup-corpus
    python3 tests/corpus/measure.py [--citeguard PATH] [--jobs N] [--out results.json]

For every file of tests/corpus/manifest.json (in the cache .ci/setup-corpus
fills) it runs `citeguard collect --format json FILE`, with `--base-url`
set to the page's published URL when the manifest knows it (the URL the
ground truth was resolved against), and records:

- whether it crashed (exit 101, or "panicked at" on stderr), failed
  otherwise (another non-zero exit), or printed no citation at all;
- for HTML pages, against tests/corpus/truth/<id>.json:
    recall = content links found / content links in the ground truth
    leak   = links reported that are not content links / links reported
  counted over distinct URLs (scheme and host lower-cased, fragment
  dropped), links meaning `<a href>` to http(s) URLs other than the page
  itself; the same for images and embeds together ("media");
- for feeds, WordPress exports and Markdown, the recall of the links of
  their content (every item's richest content field for feeds).

Sitemaps are listed but not run: collect fetches every URL a sitemap lists.
It prints per-file lines and the summary tables (Markdown) on stdout; with
--out, every figure per file as JSON. The exit code is 0 whatever the
figures: this is a measurement, not yet a test with thresholds.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import urllib.parse
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from derive import is_registry  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
CACHE = Path(os.environ.get("CITEGUARD_CORPUS") or Path.home() / ".cache/citeguard/corpus")
FEEDS = ("rss", "atom", "rdf", "wxr")


def norm_url(url):
    try:
        parts = urllib.parse.urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return url
    host = (parts.hostname or "").lower()
    netloc = host + (f":{port}" if port not in (None, 80, 443) else "")
    up = lambda s: re.sub(r"%[0-9a-fA-F]{2}", lambda m: m.group(0).upper(), s)
    return urllib.parse.urlunsplit((parts.scheme.lower(), netloc, up(parts.path) or "/", up(parts.query), ""))


def is_http(url):
    """An http(s) URL, other than one on a package registry's host (derive.py
    leaves those out of the ground truth)."""
    return bool(url) and re.match(r"https?://", url, re.I) is not None and not is_registry(url)


def run(citeguard, entry, timeout):
    path = CACHE / entry["path"]
    cmd = [citeguard, "collect", "--format", "json"]
    if entry.get("base"):
        cmd += ["--base-url", entry["base"]]
    cmd.append(str(path))
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout, cwd="/")
    except subprocess.TimeoutExpired:
        return dict(status="timeout", citations=[], stderr="")
    stderr = proc.stderr.decode("utf-8", "replace")
    out = proc.stdout.decode("utf-8", "replace")
    citations = []
    try:
        citations = json.loads(out)["citations"] if out.strip() else []
    except (ValueError, KeyError):
        pass
    if proc.returncode == 101 or "panicked at" in stderr:
        status = "panic"
    elif proc.returncode != 0:
        status = f"exit {proc.returncode}"
    elif not citations:
        status = "nothing"
    else:
        status = "ok"
    panic = ""
    m = re.search(r"panicked at ([^\n]*)\n([^\n]*)", stderr)
    if m:
        panic = f"{m.group(1)} {m.group(2)}".strip()
    return dict(status=status, citations=citations, stderr=stderr[-400:], panic=panic)


def ratio(a, b):
    return a / b if b else None


def score_html(entry, truth, result):
    page = norm_url(entry["base"]) if entry.get("base") else None
    want = {norm_url(l["url"]) for l in truth.get("links", [])}
    want_media = {norm_url(u) for u in truth.get("images", []) + truth.get("embeds", [])}
    got, got_media = set(), set()
    for c in result["citations"]:
        url = c.get("url")
        if not is_http(url):
            continue
        key = norm_url(url)
        if c.get("kind") == "link":
            if key != page:
                got.add(key)
        elif c.get("kind") in ("image", "embed"):
            got_media.add(key)
    return dict(truth=len(want), reported=len(got), found=len(want & got), extra=len(got - want),
                missed=sorted(want - got)[:10], leaked=sorted(got - want)[:10],
                media_truth=len(want_media), media_reported=len(got_media),
                media_found=len(want_media & got_media), media_extra=len(got_media - want_media))


def score_feed(truth, result):
    want = set()
    for item in truth.get("items", []):
        want |= {norm_url(u) for u in item["links"] + item["images"]}
    got = {norm_url(c["url"]) for c in result["citations"] if is_http(c.get("url"))}
    return dict(truth=len(want), reported=len(got), found=len(want & got), extra=len(got - want),
                missed=sorted(want - got)[:10], items=len(truth.get("items", [])))


def score_markdown(truth, result):
    want = {norm_url(u) for u in truth.get("links", []) + truth.get("images", [])}
    got = {norm_url(c["url"]) for c in result["citations"] if is_http(c.get("url"))}
    return dict(truth=len(want), reported=len(got), found=len(want & got), extra=len(got - want),
                missed=sorted(want - got)[:10])


def fmt(x, pct=False):
    if x is None:
        return "–"
    return f"{100 * x:.1f}%" if pct else f"{x:.3f}"


def summarise(rows):
    """Micro figures (over all links) and macro recall (mean of the pages
    that have content links) of a group of scored rows."""
    t = sum(r["score"]["truth"] for r in rows)
    f = sum(r["score"]["found"] for r in rows)
    rep = sum(r["score"]["reported"] for r in rows)
    ex = sum(r["score"]["extra"] for r in rows)
    per = [r["score"]["found"] / r["score"]["truth"] for r in rows if r["score"]["truth"]]
    zero = sum(1 for r in rows if r["score"]["truth"] and not r["score"]["found"])
    return dict(files=len(rows), truth=t, found=f, reported=rep, extra=ex, recall=ratio(f, t),
                macro=ratio(sum(per), len(per)), leak=ratio(ex, rep), lost=zero)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default = REPO / "target/debug/citeguard"
    ap.add_argument("--citeguard", default=os.environ.get("CITEGUARD_BIN") or str(default))
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--out", help="write every figure per file to this JSON file")
    ap.add_argument("--only", help="a regular expression: measure only the ids it matches")
    args = ap.parse_args()
    if not Path(args.citeguard).exists():
        sys.exit(f"measure: no citeguard at {args.citeguard} (cargo build, or --citeguard PATH)")
    manifest = json.loads((HERE / "manifest.json").read_text())
    entries = [e for e in manifest["files"] if e["format"] != "sitemap"]
    if args.only:
        entries = [e for e in entries if re.search(args.only, e["id"])]
    missing = [e["path"] for e in entries if not (CACHE / e["path"]).exists()]
    if missing:
        sys.exit(f"measure: {len(missing)} corpus files missing from {CACHE} (run bash .ci/setup-corpus), "
                 f"e.g. {missing[0]}")

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(lambda e: run(args.citeguard, e, args.timeout), entries))

    rows = []
    for e, r in zip(entries, results):
        tpath = HERE / "truth" / f"{e['id']}.json"
        truth = json.loads(tpath.read_text()) if tpath.exists() else None
        row = dict(id=e["id"], format=e["format"], script=e["script"], group=e["script_group"],
                   package=e["package"].split("@")[0] if not e["package"].startswith("@")
                   else "@" + e["package"][1:].split("@")[0],
                   status=r["status"], panic=r.get("panic", ""), citations=len(r["citations"]),
                   stderr=r["stderr"] if r["status"] not in ("ok", "nothing") else "")
        if truth is not None and e["format"] == "html":
            row["score"] = score_html(e, truth, r)
        elif truth is not None and e["format"] in FEEDS:
            row["score"] = score_feed(truth, r)
        elif truth is not None and e["format"] == "markdown":
            row["score"] = score_markdown(truth, r)
        rows.append(row)

    # per file
    for row in rows:
        s = row.get("score")
        fig = ""
        if s:
            fig = f"recall {fmt(ratio(s['found'], s['truth']))} ({s['found']}/{s['truth']})"
            if row["format"] == "html":
                fig += f" leak {fmt(ratio(s['extra'], s['reported']), True)} ({s['extra']}/{s['reported']})"
        print(f"{row['id']:<58} {row['status']:<8} {row['citations']:>5} cit  {fig}")

    print()
    print("## Runs")
    print()
    print("| format | files | crashed (panic) | other error | printed nothing | citations |")
    print("|---|---:|---:|---:|---:|---:|")
    by_fmt = defaultdict(list)
    for row in rows:
        by_fmt[row["format"]].append(row)
    for f in ("html", "markdown", "text", "rss", "atom", "rdf", "wxr"):
        rs = by_fmt.get(f, [])
        if not rs:
            continue
        print(f"| {f} | {len(rs)} | {sum(r['status'] == 'panic' for r in rs)} | "
              f"{sum(r['status'] not in ('ok', 'nothing', 'panic') for r in rs)} | "
              f"{sum(r['status'] == 'nothing' for r in rs)} | {sum(r['citations'] for r in rs)} |")

    html = [r for r in rows if r["format"] == "html" and "score" in r]
    print()
    print("## HTML pages: content links against the reader-mode ground truth")
    print()
    print("| group | pages | content links | found | recall | macro recall | pages losing all | "
          "links reported | not content | chrome leak |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    groups = [("all", html)]
    for pkg in sorted({r["package"] for r in html}):
        groups.append((f"from {pkg}", [r for r in html if r["package"] == pkg]))
    for g in sorted({r["group"] for r in html}):
        groups.append((f"script {g}", [r for r in html if r["group"] == g]))
    for name, rs in groups:
        s = summarise(rs)
        print(f"| {name} | {s['files']} | {s['truth']} | {s['found']} | {fmt(s['recall'])} | "
              f"{fmt(s['macro'])} | {s['lost']} | {s['reported']} | {s['extra']} | {fmt(s['leak'], True)} |")
    mt = sum(r["score"]["media_truth"] for r in html)
    mf = sum(r["score"]["media_found"] for r in html)
    mr = sum(r["score"]["media_reported"] for r in html)
    me = sum(r["score"]["media_extra"] for r in html)
    print()
    print(f"Images and embeds: {mf}/{mt} found (recall {fmt(ratio(mf, mt))}); "
          f"{me} of {mr} reported are not in the article ({fmt(ratio(me, mr), True)}).")

    print()
    print("## Feeds, WordPress exports, Markdown: links of the content")
    print()
    print("| format | files | links in content | found | recall | files with links, none found |")
    print("|---|---:|---:|---:|---:|---:|")
    for f in ("rss", "atom", "rdf", "wxr", "markdown"):
        rs = [r for r in rows if r["format"] == f and "score" in r]
        if rs:
            s = summarise(rs)
            print(f"| {f} | {s['files']} | {s['truth']} | {s['found']} | {fmt(s['recall'])} | {s['lost']} |")

    bad = [r for r in rows if r["status"] not in ("ok",)]
    if bad:
        print()
        print("## Inputs that crash, fail or print nothing")
        print()
        for r in bad:
            why = r["panic"] or r["stderr"].strip().splitlines()[-1:] or [""]
            why = why if isinstance(why, str) else why[0]
            print(f"- `{r['id']}` ({r['format']}, {r['script']}): {r['status']}" + (f" — {why[:160]}" if why else ""))

    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
