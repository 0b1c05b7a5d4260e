'use strict';
// Launch the system (Debian) Chromium headless through playwright-core.
//
// Never run `npx playwright install`: browsers are not downloadable here; we
// always use the distribution binary (/usr/bin/chromium by default).
//
// The Debian chromium wrapper script prints a harmless
// "/usr/bin/chromium: 9: [: NNN: unexpected operator" line on stderr.
//
// Usage:
//   const { launch } = require('./lib/browser');
//   const b = await launch();               // { context, close() }
//   const page = await b.context.newPage();
//   ...
//   await b.close();                        // closes browser, removes profile dir

const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const DEFAULT_EXECUTABLE = process.env.CHROMIUM || '/usr/bin/chromium';

const BASE_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
  // no name lookups but localhost (and E2E_HOSTS, addresses a test made):
  // Chromium otherwise resolves Google's hosts (accounts, update, clients2,
  // optimizationguide) at start
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1, EXCLUDE [::1]'
    + (process.env.E2E_HOSTS || '').split(',').filter((h) => h)
      .map((h) => ', EXCLUDE ' + h).join(''),
];

/**
 * @param {object} [opts]
 * @param {string[]} [opts.args]            extra Chromium command-line flags
 * @param {string}   [opts.executablePath]  defaults to $CHROMIUM or /usr/bin/chromium
 * @param {number}   [opts.timeout]         launch timeout in ms (default 30000)
 * @param {object}   [opts.contextOptions]  extra options for launchPersistentContext
 * @returns {Promise<{context: import('playwright-core').BrowserContext,
 *                    userDataDir: string, close: () => Promise<void>}>}
 */
async function launch(opts = {}) {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'webrtc-e2e-chromium-'));
  const removeDir = () => {
    try {
      fs.rmSync(userDataDir, { recursive: true, force: true });
    } catch (_) { /* ignore */ }
  };

  let context;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: opts.executablePath || DEFAULT_EXECUTABLE,
      headless: true,
      ignoreHTTPSErrors: true,
      timeout: opts.timeout || 30000,
      args: [...BASE_ARGS, ...(opts.args || [])],
      ...(opts.contextOptions || {}),
    });
  } catch (err) {
    removeDir();
    throw err;
  }

  let closed = false;
  async function close() {
    if (closed) return;
    closed = true;
    try {
      // Bound the close: a wedged browser must not hang the test run.
      await Promise.race([
        context.close(),
        new Promise((resolve) => setTimeout(resolve, 10000).unref()),
      ]);
    } catch (_) { /* ignore */ }
    removeDir();
  }

  return { context, userDataDir, close };
}

module.exports = { launch, BASE_ARGS, DEFAULT_EXECUTABLE };
