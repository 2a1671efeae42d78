// Drives citeguard's HTML report in headless chromium, as a person would:
// click the "dead" count, type in the search box, sort by the column heads,
// pick a post. Prints one JSON object on stdout with the rows visible after
// each step, and everything that must not happen (network requests, dialogs,
// page errors, console errors). Exits non-zero only when the driving itself
// fails; judging the result is the Rust test's job (tests/it/report_html.rs).
//
// usage: node check-report.mjs file:///path/to/report.html

import { launch } from './launch.mjs';

const url = process.argv[2];
if (!url || !url.startsWith('file://')) {
  console.error('usage: node check-report.mjs file:///path/to/report.html');
  process.exit(2);
}

// Local files and inline data are all a report may load; anything else is
// blocked before it leaves the machine, and counted.
function local(u) {
  return u.startsWith('file:') || u.startsWith('data:') || u.startsWith('about:');
}

async function open(browser, options) {
  const context = await browser.newContext(options);
  const seen = { requests: [], dialogs: [], errors: [], console: [] };
  await context.route('**/*', (route) => {
    const u = route.request().url();
    if (local(u)) {
      return route.continue();
    }
    if (!seen.requests.includes(u)) {
      seen.requests.push(u);
    }
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  page.on('request', (r) => {
    const u = r.url();
    if (!local(u) && !seen.requests.includes(u)) {
      seen.requests.push(u);
    }
  });
  page.on('dialog', async (d) => {
    seen.dialogs.push(`${d.type()}: ${d.message()}`);
    await d.dismiss().catch(() => {});
  });
  page.on('pageerror', (e) => seen.errors.push(String(e && e.message ? e.message : e)));
  page.on('console', (m) => {
    if (m.type() === 'error') {
      seen.console.push(m.text());
    }
  });
  page.on('popup', (p) => seen.errors.push(`popup opened: ${p.url()}`));
  await page.goto(url, { waitUntil: 'load' });
  return { context, page, seen };
}

// The rows a person can see, in the order they see them.
async function visible(page) {
  return page.$$eval('#rows tr.row', (rows) =>
    rows
      .filter((tr) => !tr.hidden && tr.getClientRects().length > 0)
      .map((tr) => ({
        post: tr.getAttribute('data-post'),
        line: Number(tr.getAttribute('data-line')),
        verdict: tr.getAttribute('data-verdict'),
        url: tr.getAttribute('data-url'),
      })),
  );
}

async function main() {
  const browser = await launch();
  const result = {};
  try {
    // 1. The page as shipped: its Content-Security-Policy on, scripting on.
    {
      const { context, page, seen } = await open(browser, {});
      const steps = [];
      const step = async (name) => steps.push({ name, rows: await visible(page) });
      await step('initial');
      result.shown = await page.textContent('#shown');
      await page.click('button[data-verdict="dead"]');
      await step('dead');
      await page.click('button[data-verdict="changed"]');
      await step('dead+changed');
      await page.click('#all');
      await step('all');
      await page.fill('#search', 'tajik');
      await step('search:tajik');
      await page.fill('#search', 'SIMILAR');
      await step('search:similar');
      await page.fill('#search', '');
      await page.click('th button[data-sort="url"]');
      await step('sort:url');
      await page.click('th button[data-sort="url"]');
      await step('sort:url-desc');
      await page.click('th button[data-sort="where"]');
      await step('sort:where');
      const firstPost = await page.$eval('#post option:nth-child(2)', (o) => o.value);
      await page.selectOption('#post', firstPost);
      await step('post:first');
      result.controls_visible = await page.isVisible('#search');
      result.steps = steps;
      result.shipped = seen;
      await context.close();
    }
    // 2. The same page with its policy bypassed: escaping alone must keep
    //    injected markup inert and the page off the network.
    {
      const { context, page, seen } = await open(browser, { bypassCSP: true });
      result.no_csp = { ...seen, rows: (await visible(page)).length };
      await context.close();
    }
    // 3. Scripting off: every row shown, controls hidden.
    {
      const { context, page, seen } = await open(browser, { javaScriptEnabled: false });
      result.no_js = {
        ...seen,
        rows: (await visible(page)).length,
        controls_visible: await page.isVisible('#search'),
      };
      await context.close();
    }
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(result) + '\n');
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
});
