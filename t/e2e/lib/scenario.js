'use strict';
// Runner for e2e scenario scripts (t/e2e/<name>.js), driven by the Perl
// wrappers t/1NN-e2e-*.t.
//
//   require('./lib/scenario').run(async (env) => {
//     const page = await env.page();          // a page of the origin, rtc installed
//     const ff = await env.firefoxPage();     // the same in Firefox (lib/firefox.js)
//     ...
//     return { some: 'results' };
//   });
//
// Chromium pages are playwright-core pages, Firefox pages puppeteer-core
// pages: both have evaluate(fn, arg), screenshot({path}), goto(url), and
// lib/rtc.js works with either.
//
// Environment: E2E_BASE (origin, e.g. https://127.0.0.1:8443), E2E_TIMEOUT
// (overall limit, seconds, default 60), E2E_PAGE (page path, /index.html).
// Other E2E_* variables are the scenario's parameters (env.param()).
//
// Prints exactly one line "RESULT <json>" on stdout: the scenario's result,
// or { error } if it threw or ran out of time (with what the scenario put
// into env.partial so far), plus "log": progress notes (env.log()).
// Always closes the browsers and exits by itself.

const fs = require('fs');
const { launch } = require('./browser');
const firefox = require('./firefox');
const rtc = require('./rtc');

function run(scenario) {
  const base = process.env.E2E_BASE || process.argv[2];
  const limit = Number(process.env.E2E_TIMEOUT || 60) * 1000;
  const pagePath = process.env.E2E_PAGE || '/index.html';
  const t0 = Date.now();
  const notes = [];
  let browser = null;
  let launching = null;
  let ff = null;              // Firefox, when a scenario asks for it
  let ffLaunching = null;
  let printed = false;

  const print = (obj) => {
    if (printed) {
      return;
    }
    printed = true;
    obj.log = notes;
    obj.elapsedMs = Date.now() - t0;
    process.stdout.write('RESULT ' + JSON.stringify(obj) + '\n');
  };

  let finishing = null;
  const finish = (obj, code) => {
    print(obj);
    if (!finishing) {
      finishing = (async () => {
        if ((!browser && launching) || (!ff && ffLaunching)) {
          // timed out while a browser was starting
          await Promise.race([
            Promise.all([launching, ffLaunching].map((l) => l && l.catch(() => {}))),
            new Promise((r) => setTimeout(r, 5000).unref())]);
        }
        if (ff) {
          await ff.close();             // bounded (10 s), removes the profile
        }
        if (browser) {
          const dir = browser.userDataDir;
          await browser.close();        // bounded (10 s)
          // Chromium may still be writing its profile as it exits
          try {
            fs.rmSync(dir, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 });
          } catch (_) { /* ignore */ }
        }
        process.exit(code);
      })();
    }
    return finishing;
  };

  const timer = setTimeout(() => {
    // bounded: browser.close() itself gives up after 10 s
    finish(Object.assign({}, env.partial,
      { error: 'scenario timed out after ' + limit + ' ms' }), 2);
    setTimeout(() => process.exit(3), 15000).unref();
  }, limit);
  timer.unref();

  const env = {
    base,
    rtc,
    partial: {},        // results so far, printed if the scenario times out
    log: (msg) => notes.push(((Date.now() - t0) / 1000).toFixed(2) + ' ' + msg),
    param: (name, def) => {
      const v = process.env['E2E_' + name];
      return v === undefined || v === '' ? def : v;
    },
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    now: () => Date.now() - t0,
    // a page of the origin (pagePath, or the given path), rtc installed
    async page(where) {
      if (!launching) {
        // one browser, also for pages asked for at the same time
        launching = launch().then((b) => {
          browser = b;
          env.log('browser profile ' + b.userDataDir);
          return b;
        });
      }
      await launching;
      const page = await browser.context.newPage();
      page.on('pageerror', (e) => env.log('pageerror: ' + e.message));
      await page.goto(base + (where || pagePath));
      await rtc.install(page);
      return page;
    },
    // a second, independent browser (its own processes)
    async browser() {
      return launch();
    },
    // a page of the origin in Firefox (one Firefox for the scenario, its
    // profile granting camera and microphone to the origin), rtc installed
    async firefoxPage(where) {
      if (!ffLaunching) {
        ffLaunching = firefox.launch({ origins: [new URL(base).origin] })
          .then((b) => {
            ff = b;
            env.log('firefox profile ' + b.userDataDir);
            return b;
          });
      }
      await ffLaunching;
      const page = await ff.browser.newPage();
      page.on('pageerror', (e) => env.log('firefox pageerror: ' + e.message));
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warn' || m.type() === 'warning') {
          env.log('firefox console.' + m.type() + ': ' + m.text());
        }
      });
      await page.goto(base + (where || pagePath));
      await rtc.install(page);
      return page;
    },
  };

  (async () => {
    if (!base) {
      throw new Error('E2E_BASE is not set');
    }
    const res = await scenario(env);
    clearTimeout(timer);
    await finish(res || {}, 0);
  })().catch((e) => {
    clearTimeout(timer);
    finish(Object.assign({}, env.partial, { error: String(e && e.stack || e) }), 1);
  });
}

module.exports = { run };
