#!/usr/bin/env python3
"""Generates the check benchmark's corpus: pages for 20 loopback hosts
(127.0.0.10-29) served by nginx, and posts that cite them.

One host is busier than the others (a newspaper cited far more often), so
the run is bound by politeness on that host, as real runs are."""
import argparse, os, random

p = argparse.ArgumentParser()
p.add_argument("--out", required=True)
p.add_argument("--pages", type=int, default=5000)
p.add_argument("--posts", type=int, default=200)
p.add_argument("--links", type=int, default=50)
p.add_argument("--missing-only", type=int, default=0,
               help="instead: this many unique URLs, all 404 (memory run)")
p.add_argument("--port", type=int, default=8080,
               help="the port the posts cite (another bench may hold 8080)")
a = p.parse_args()
rnd = random.Random(7)
hosts = [f"127.0.0.{i}" for i in range(10, 30)]
port = a.port
os.makedirs(f"{a.out}/posts", exist_ok=True)

urls = []
if a.missing_only:
    urls = [f"http://{hosts[i % 20]}:{port}/gone/{i}.html" for i in range(a.missing_only)]
else:
    # A fifth of the pages on the busiest host, the rest spread evenly.
    for i in range(a.pages):
        h = hosts[0] if i < a.pages // 5 else hosts[1 + i % 19]
        kind = rnd.random()
        if kind < 0.10:
            urls.append(f"http://{h}:{port}/p/missing-{i}.html")      # 404
        elif kind < 0.15:
            urls.append(f"http://{h}:{port}/r/{i}.html")              # 301 to /p/
        else:
            urls.append(f"http://{h}:{port}/p/{i}.html")
    words = "the of and prison escape capital government report security border dam river".split()
    for i, u in enumerate(urls):
        h = u.split("/")[2].split(":")[0]
        path = u.split(f":{port}")[1].replace("/r/", "/p/")
        if "missing" in path:
            continue
        size = rnd.randint(2000, 20000)
        body = " ".join(rnd.choice(words) for _ in range(size // 6))
        os.makedirs(f"{a.out}/www/{h}/p", exist_ok=True)
        with open(f"{a.out}/www/{h}{path}", "w") as f:
            f.write(f"<!doctype html><html><head><title>Story {i}</title></head>"
                    f"<body><article><h1>Story {i}</h1><p>{body}</p></article></body></html>")

per_post = a.links
posts = max(a.posts, (len(urls) + per_post - 1) // per_post)
# Each URL is cited at least once; the rest of the slots cite at random.
order = urls[:] + [rnd.choice(urls) for _ in range(max(0, posts * per_post - len(urls)))]
if not a.missing_only:
    rnd.shuffle(order)
for n in range(posts):
    links = order[n * per_post:(n + 1) * per_post]
    items = "\n".join(f'<p>As <a href="{u}">reported here</a>, things happened.</p>' for u in links)
    with open(f"{a.out}/posts/post-{n:05}.html", "w") as f:
        f.write(f"<!doctype html><html><body><article>\n{items}\n</article></body></html>\n")
with open(f"{a.out}/urls.txt", "w") as f:
    f.write("\n".join(urls) + "\n")
print(f"{len(urls)} unique URLs, {posts} posts x {per_post} links")
