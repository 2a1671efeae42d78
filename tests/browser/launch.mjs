// The one way the browser tests start Chromium: Debian's build, headless,
// with nothing that reaches out on its own (background networking,
// component updates, sync), since this machine's network is closed and a
// stray request would be counted against the page under test.

import { chromium } from 'playwright-core';

const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launch(extraArgs = []) {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: [...ARGS, ...extraArgs] });
}
