#!/usr/bin/env python3
"""Writes a corpus of WordPress-style blog posts for the collect benchmark.

Each post is a full page of a 2010s WordPress theme: header and navigation,
the article in `.entry-content` with 50 citations (links, images with srcset,
an embed, quotes with and without sources, a bare URL), share and like
widgets, related posts, comments with a reply form, a sidebar blogroll and a
footer: roughly 20 KB of HTML and 110 links in all, 50 of them cited.

Deterministic (seeded), so two runs measure the same files.
"""
import argparse
import os
import random

WORDS = ("the of and to in a is that for it as was with be by on not he this are or his from at "
         "which but have an they you were her she there been one all we their has would when if so "
         "no will more out up said about what can into than them only other new some could time "
         "these two may first then do any like my now over such our man me even most made after "
         "also did many before must through back years where much your way well down should because "
         "each just those people how too little state good very make world still own see men work "
         "long get here between both life being under never day same another know while last might "
         "us great old year off come since against go came right used take three").split()

HOSTS = ["www.nytimes.com", "www.eurasianet.org", "www.rferl.org", "www.reuters.com",
         "www.theguardian.com", "www.bbc.co.uk", "www.afp.com", "registan.net",
         "www.asiaplustj.info", "news.tj", "www.worldbank.org", "www.adb.org",
         "tajikistanmonitor.blogspot.com", "www.economist.com", "www.ft.com"]


def words(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


def sentence(rng, n=14):
    s = words(rng, n)
    return s[0].upper() + s[1:] + "."


def url(rng, i, j):
    host = rng.choice(HOSTS)
    return f"https://{host}/{2008 + (i % 12)}/{1 + j % 12:02d}/{words(rng, 3).replace(' ', '-')}-{i}-{j}.html"


def post(rng, i, site):
    slug = f"post-{i}"
    link = f"{site}/{2010 + i % 10}/{1 + i % 12:02d}/{slug}/"
    body = []
    cited = 0
    j = 0
    while cited < 50:
        kind = j % 10
        if kind == 3:
            img = f"{site}/wp-content/uploads/{2010 + i % 10}/{1 + i % 12:02d}/photo-{i}-{j}"
            body.append(f'<div class="wp-caption aligncenter"><img class="size-full" src="{img}.jpg" '
                        f'alt="{words(rng, 4)}" srcset="{img}-300x200.jpg 300w, {img}-1024x683.jpg 1024w" />'
                        f'<p class="wp-caption-text">Pic: <a href="{url(rng, i, j)}">{words(rng, 2)}</a>.</p></div>')
            cited += 4
        elif kind == 6:
            body.append(f'<p>{sentence(rng)} As <a href="{url(rng, i, j)}">{words(rng, 2)}</a> put it:</p>')
            body.append(f'<blockquote><p>{sentence(rng, 30)} {sentence(rng, 20)}</p></blockquote>')
            cited += 1
        elif kind == 8:
            body.append(f'<blockquote cite="{url(rng, i, j)}"><p>{sentence(rng, 25)}</p></blockquote>')
            body.append(f'<p>{sentence(rng)} The data is at {url(rng, i, j + 1000)} for now.</p>')
            cited += 2
        elif kind == 9 and j % 20 == 9:
            body.append(f'<p><iframe width="500" height="281" src="https://www.youtube.com/embed/v{i}x{j}" frameborder="0"></iframe></p>')
            cited += 1
        else:
            links = []
            for k in range(3):
                links.append(f'{words(rng, 8)} <a href="{url(rng, i, j * 10 + k)}">{words(rng, 3)}</a>')
            body.append(f"<p>{sentence(rng, 18)} {', '.join(links)}. {sentence(rng, 30)}</p>")
            cited += 3
        j += 1
    blogroll = "\n".join(f'<li><a href="https://blog{k}.example.org/">Blog {k}</a></li>' for k in range(20))
    archives = "\n".join(f"<li><a href='{site}/20{10 + k // 12:02d}/{1 + k % 12:02d}/'>Month {k}</a></li>" for k in range(24))
    comments = "\n".join(
        f'<li class="comment" id="li-comment-{i}{k}"><div class="comment-author vcard"><cite class="fn">'
        f'<a href="https://commenter{k}.example.net/" class="url">Reader {k}</a></cite></div>'
        f'<div class="comment-body"><p>{sentence(rng, 25)}</p></div></li>' for k in range(4))
    return f"""<!DOCTYPE html>
<html dir="ltr" lang="en-US">
<head>
<meta charset="UTF-8" />
<title>{words(rng, 6)} | Bench Blog</title>
<link rel="stylesheet" type="text/css" media="all" href="{site}/wp-content/themes/twentyten/style.css" />
<link rel="canonical" href="{link}" />
<meta property="article:published_time" content="{2010 + i % 10}-{1 + i % 12:02d}-{1 + i % 28:02d}T10:00:00+00:00" />
<script type="text/javascript" src="{site}/wp-includes/js/jquery/jquery.js?ver=1.4.2"></script>
</head>
<body class="single single-post postid-{i}">
<div id="wrapper" class="hfeed">
<div id="header"><div id="masthead"><div id="branding" role="banner">
<h1 id="site-title"><span><a href="{site}/" rel="home">Bench Blog</a></span></h1>
<div id="site-description">{words(rng, 8)}</div></div>
<div id="access" role="navigation"><div class="menu"><ul>
<li><a href="{site}/">Home</a></li><li><a href="{site}/about/">About</a></li><li><a href="{site}/contact/">Contact</a></li>
<li><a href="{site}/archive/">Archive</a></li><li><a href="{site}/links/">Links</a></li></ul></div></div></div></div>
<div id="main"><div id="container"><div id="content" role="main">
<div id="nav-above" class="navigation"><div class="nav-previous"><a href="{site}/prev-{i}/" rel="prev">&larr; {words(rng, 4)}</a></div></div>
<div id="post-{i}" class="post-{i} post type-post hentry">
<h1 class="entry-title">{words(rng, 6)}</h1>
<div class="entry-meta">Posted on <a href="{link}" rel="bookmark"><span class="entry-date">{words(rng, 1)}</span></a> by <span class="author vcard"><a class="url fn n" href="{site}/author/admin/">admin</a></span></div>
<div class="entry-content">
{chr(10).join(body)}
<div class="sharedaddy sd-sharing-enabled"><div class="sd-block sd-social"><h3 class="sd-title">Share this:</h3><div class="sd-content"><ul>
<li class="share-twitter"><a class="share-twitter sd-button" href="{link}?share=twitter">Twitter</a></li>
<li class="share-facebook"><a class="share-facebook sd-button" href="{link}?share=facebook">Facebook</a></li>
<li class="share-email"><a class="share-email sd-button" href="{link}?share=email">Email</a></li>
<li class="share-reddit"><a class="share-reddit sd-button" href="{link}?share=reddit">Reddit</a></li></ul></div></div></div>
<div class="sharedaddy sd-block sd-like"><h3 class="sd-title">Like this:</h3><span class="button"><span>Like</span></span> <span class="wpl-count-text">Be the first to like this post.</span></div>
<div id="jp-relatedposts" class="jp-relatedposts"><h3 class="jp-relatedposts-headline"><em>Related</em></h3>
<a href="{site}/related-a-{i}/">{words(rng, 4)}</a> <a href="{site}/related-b-{i}/">{words(rng, 4)}</a> <a href="{site}/related-c-{i}/">{words(rng, 4)}</a></div>
</div>
<div class="entry-utility">This entry was posted in <a href="{site}/category/news/" rel="category tag">News</a>. Bookmark the <a href="{link}" rel="bookmark">permalink</a>.</div>
</div>
<div id="comments"><ol class="commentlist">
{comments}
</ol>
<div id="respond"><h3 id="reply-title">Leave a Reply</h3><form action="{site}/wp-comments-post.php" method="post" id="commentform"><p><textarea name="comment" id="comment" cols="45" rows="8"></textarea></p><p><input name="submit" type="submit" value="Post Comment" /></p></form></div></div>
</div></div>
<div id="primary" class="widget-area" role="complementary"><ul class="xoxo">
<li class="widget-container widget_links"><h3 class="widget-title">Blogroll</h3><ul class="xoxo blogroll">
{blogroll}
</ul></li>
<li class="widget-container widget_archive"><h3 class="widget-title">Archives</h3><ul>
{archives}
</ul></li></ul></div></div>
<div id="footer" role="contentinfo"><div id="colophon"><div id="site-info"><a href="{site}/" rel="home">Bench Blog</a></div>
<div id="site-generator"><a href="http://wordpress.org/" rel="generator">Proudly powered by WordPress.</a></div></div></div>
</div>
</body>
</html>
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--posts", type=int, default=10000)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    rng = random.Random(2010)
    site = "https://benchblog.example"
    total = 0
    for i in range(args.posts):
        d = os.path.join(args.out, f"{i // 1000:02d}")
        os.makedirs(d, exist_ok=True)
        text = post(rng, i, site)
        with open(os.path.join(d, f"post-{i:05d}.html"), "w", encoding="utf-8") as f:
            f.write(text)
        total += len(text.encode())
    print(f"wrote {args.posts} posts, {total / 1e6:.1f} MB, to {args.out}")


if __name__ == "__main__":
    main()
