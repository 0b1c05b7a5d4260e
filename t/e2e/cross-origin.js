'use strict';
// The pages on one origin, the signaling on another, as
// conf-examples/cross-origin.conf sets them up (t/175-e2e-cross-origin.t):
// publish.html and watch.html of the pages origin publish and play through
// the signaling origin over WHIP/WHEP and over WebSocket; the sessions end
// there when the pages stop; pages of a third origin that the signaling
// server does not allow are refused and say so; a missing WebSocket, WHEP
// or status location is reported as what it is, and a refused status
// location leaves watch.html's stream form working.
//
// Parameters: E2E_PAGES, E2E_SIGNAL, E2E_FOREIGN (origins, with names that
// Chromium maps to 127.0.0.1).
//
// Result: { whip: {...}, websocket: {...}, foreign: {...}, errors: {...} }

const { run } = require('./lib/scenario');
const { launch } = require('./lib/browser');

run(async (env) => {
  const PAGES = env.param('PAGES');
  const SIGNAL = env.param('SIGNAL');
  const FOREIGN = env.param('FOREIGN');
  const res = env.partial;

  // the names of the three origins to loopback, nothing else resolved
  const names = [PAGES, SIGNAL, FOREIGN].map((o) => new URL(o).hostname);
  const rules = names.map((n) => `MAP ${n} 127.0.0.1`).join(', ')
    + ', MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1, EXCLUDE [::1]';

  const browser = await launch({ args: [`--host-resolver-rules=${rules}`] });

  try {
    const open = async (url) => {
      const page = await browser.context.newPage();
      page.on('pageerror', (e) => env.log(`pageerror ${url}: ${e.message}`));
      await page.goto(url);
      return page;
    };

    const waitFor = async (page, fn, arg, ms) => {
      try {
        await page.waitForFunction(fn, arg, { timeout: ms, polling: 100 });
        return true;
      } catch (e) {
        return false;
      }
    };

    const state = (page) => page.evaluate(() => ({
      state: window.__state,
      stats: window.__stats,
      session: window.__session || null,
      status: (document.getElementById('status') || {}).textContent || '',
      server: (document.getElementById('server') || {}).hidden === false
        ? document.getElementById('server').textContent : null,
    }));

    // the status of the signaling server, asked from a page of its own
    const sig = await open(`${SIGNAL}/webrtc/status`);
    const status = (stream) => sig.evaluate(async (s) => {
      const r = await fetch(`/webrtc/status?stream=${s}`, { cache: 'no-store' });
      const j = await r.json();
      const st = j.streams.find((x) => x.name === s) || null;
      return { live: !!(st && st.live), viewers: st ? st.viewers : 0 };
    }, stream);

    const until = async (fn, ms) => {
      const end = Date.now() + ms;
      for (;;) {
        const v = await fn();
        if (v.ok || Date.now() > end) {
          return v;
        }
        await env.sleep(200);
      }
    };

    const failed = async (url, click) => {
      const page = await open(url);
      if (click) {
        await page.waitForFunction(() => window.__state === 'idle'
          && !document.getElementById('start').disabled, null,
          { timeout: 5000 }).catch(() => {});
        await page.click('#start');
      }
      const error = await waitFor(page, () => window.__state === 'error',
                                  null, 8000);
      const r = Object.assign({ error }, await state(page));
      await page.close();
      return r;
    };

    for (const transport of ['whip', 'websocket']) {
      const stream = `co-${transport}`;
      const r = res[transport] = {};
      const ws = transport === 'websocket' ? '&transport=websocket' : '';

      const pub = await open(`${PAGES}/publish.html?stream=${stream}`
        + `&transport=${transport}&codec=VP8`);
      await pub.click('#start');
      r.publisher = { live: await waitFor(pub,
        () => window.__state === 'live', null, 10000) };
      Object.assign(r.publisher, await state(pub));
      env.log(`${transport}: publisher live ${r.publisher.live}`);

      const view = await open(`${PAGES}/watch.html?stream=${stream}${ws}`);
      const decoding = await waitFor(view, () => window.__stats
        && window.__stats.framesDecoded > 10 && window.__stats.width > 0,
        null, 10000);
      r.viewer = Object.assign({ decoding }, await state(view));
      r.during = await status(stream);
      env.log(`${transport}: viewer decoding ${decoding}`);

      if (transport === 'whip') {
        // the stream form lists the live stream (the status location)
        const picker = await open(`${PAGES}/watch.html`);
        await waitFor(picker, () => window.__pickList, null, 5000);
        r.picker = await picker.evaluate(() => window.__pickList || null);
        await picker.close();
      }

      // leaving the page ends its session (DELETE, or the socket)
      await view.goto('about:blank');
      r.viewerGone = await until(async () => {
        const s = await status(stream);
        return Object.assign(s, { ok: s.viewers === 0 });
      }, 5000);
      await view.close();

      if (transport === 'whip') {
        // a page of an origin the signaling server does not name
        const f = res.foreign = {};
        const server = `&server=${encodeURIComponent(SIGNAL)}`;
        f.whep = await failed(`${FOREIGN}/watch.html?stream=${stream}${server}`);
        f.websocket = await failed(`${FOREIGN}/watch.html?stream=${stream}`
          + `&transport=websocket${server}`);
        f.whip = await failed(`${FOREIGN}/publish.html?stream=co-foreign`
          + `&codec=VP8${server}`, true);
        f.after = await status(stream);
        env.log(`foreign: ${f.whep.error} ${f.websocket.error} ${f.whip.error}`);

        // locations that are not there, or not open to the page
        const e = res.errors = {};
        e.ws404 = await failed(`${FOREIGN}/watch.html?stream=${stream}`
          + '&transport=websocket');
        e.whep404 = await failed(`${FOREIGN}/watch.html?stream=${stream}`);

        for (const [k, url] of [
          ['status403', `${FOREIGN}/watch.html`],
          ['status404', `${PAGES}/watch.html?status=no-status`],
        ]) {
          const page = await open(url);
          await waitFor(page, () => window.__pickList, null, 5000);
          e[k] = Object.assign(await state(page), await page.evaluate(() => ({
            list: window.__pickList || null,
            form: !document.getElementById('pick').hidden,
            text: document.getElementById('pick-live').textContent,
          })));
          await page.close();
        }
      }

      await pub.click('#stop');
      r.stopped = await waitFor(pub, () => window.__state === 'idle',
                                null, 5000);
      r.publisherGone = await until(async () => {
        const s = await status(stream);
        return Object.assign(s, { ok: !s.live });
      }, 5000);
      await pub.close();
    }

    return res;

  } finally {
    await browser.close();
  }
});
