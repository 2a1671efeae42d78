// Opens offline copies in headless chromium, as a person opening the file
// would, and records everything a copy must never make the browser do:
// requests that are not a local file or inline data, navigations away from
// the file, pop-ups, dialogs. Each copy is opened twice: as written (its
// Content-Security-Policy on) and with the policy bypassed, so that the
// sanitizing alone is tested too.
//
// Requests to loopback addresses are let through (after being recorded), so
// the test's own server records them as well; anything else is blocked.
// Prints one JSON object on stdout; judging it is the Rust test's job
// (tests/it/hostile_offline.rs).
//
// usage: node open-offline.mjs file:///a.html file:///b.html ...

import { launch } from './launch.mjs';

const urls = process.argv.slice(2);
if (urls.length === 0 || !urls.every((u) => u.startsWith('file://'))) {
  console.error('usage: node open-offline.mjs file:///path/to/copy.html ...');
  process.exit(2);
}

function local(u) {
  return u.startsWith('file:') || u.startsWith('data:') || u.startsWith('about:') || u.startsWith('blob:');
}

function loopback(u) {
  try {
    return new URL(u).hostname.startsWith('127.');
  } catch {
    return false;
  }
}

async function open(browser, url, options) {
  const context = await browser.newContext(options);
  const seen = { requests: [], navigations: [], dialogs: [], popups: [], errors: [] };
  const note = (u) => {
    if (!local(u) && !seen.requests.includes(u)) {
      seen.requests.push(u);
    }
  };
  await context.route('**/*', (route) => {
    const u = route.request().url();
    note(u);
    if (local(u) || loopback(u)) {
      return route.continue();
    }
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  page.on('request', (r) => note(r.url()));
  page.on('framenavigated', (f) => {
    const u = f.url();
    if (u !== url && u !== 'about:blank' && u !== 'about:srcdoc') {
      seen.navigations.push(u);
    }
  });
  page.on('dialog', async (d) => {
    seen.dialogs.push(`${d.type()}: ${d.message()}`);
    await d.dismiss().catch(() => {});
  });
  page.on('popup', (p) => seen.popups.push(p.url()));
  page.on('pageerror', (e) => seen.errors.push(String(e && e.message ? e.message : e)));
  await page.goto(url, { waitUntil: 'load' });
  // Time for a refresh of 0 seconds, animations, lazy images and fonts;
  // scrolled to the end so lazy loading has every reason to start.
  await page.evaluate(() => window.scrollTo(0, document.body ? document.body.scrollHeight : 0)).catch(() => {});
  await page.waitForTimeout(1200);
  const dom = await page
    .evaluate(() => ({
      forms: document.querySelectorAll('form').length,
      bases: document.querySelectorAll('base').length,
      metas: [...document.querySelectorAll('meta[http-equiv]')].map((m) => m.getAttribute('http-equiv')),
      math: document.getElementsByTagNameNS('http://www.w3.org/1998/Math/MathML', '*').length,
      frames: document.querySelectorAll('iframe, frame, object, embed').length,
      final_url: location.href,
    }))
    .catch((e) => ({ error: String(e) }));
  if (dom.final_url && dom.final_url !== url) {
    seen.navigations.push(dom.final_url);
  }
  await context.close();
  return { ...seen, dom };
}

async function main() {
  const browser = await launch(['--autoplay-policy=no-user-gesture-required']);
  const result = {};
  try {
    // A few at a time: each waits for refreshes and late loads.
    const queue = [...urls];
    const worker = async () => {
      while (queue.length > 0) {
        const url = queue.shift();
        result[url] = {
          shipped: await open(browser, url, {}),
          no_csp: await open(browser, url, { bypassCSP: true }),
        };
      }
    };
    await Promise.all(Array.from({ length: 6 }, worker));
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(result) + '\n');
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
});
