'use strict';
// The pages in html/ with Firefox.  First what the pages do, in Chromium
// and in Firefox, when the server's answer refuses the video (an m=
// section with port 0; made here by rewriting the answers in the page, as
// no server setting refuses one section): publish.html stays live with
// audio and says so (Firefox's bitrate cap on the stopped sender ended the
// session before), watch.html plays the audio and does not start over.  Then publish.html in Firefox
// publishes (WHIP, VP8), watch.html in Chromium and in Firefox decode it;
// publish.html in Chromium publishes over WebSocket and watch.html in
// Firefox plays it over WebSocket.  Screenshots in E2E_SHOTS.
//
// Result: { ff: {publisher, viewers: {chromium, firefox}},
//           ws: {publisher, viewers: {firefox}},
//           refused: {chromium: {publisher, viewer}, firefox: {...}},
//           shots: [paths] }

const path = require('path');
const { run } = require('./lib/scenario');

// Runs in the page before its scripts (an init script): the answers to
// WHIP and WHEP POSTs get the video refused, port 0 and out of the BUNDLE
// group, as a server refusing it would answer.
function refuseVideoInPage() {
  const refuseVideo = (sdp) => {
    const video = sdp.split(/\r?\n(?=m=)/).find((s) => s.startsWith('m=video ')) || '';
    const mid = (video.match(/^a=mid:(\S+)/m) || [])[1];
    let out = sdp.replace(/^m=video \d+ /m, 'm=video 0 ');
    if (mid !== undefined) {
      out = out.replace(/^a=group:BUNDLE .*$/m,
        (l) => l.split(' ').filter((x) => x !== mid).join(' '));
    }
    return out;
  };
  const fetch0 = window.fetch;
  window.fetch = async (url, init) => {
    const res = await fetch0(url, init);
    if (!init || init.method !== 'POST' || !/\/(whip|whep)\//.test(String(url))
        || res.status !== 201)
    {
      return res;
    }
    return new Response(refuseVideo(await res.text()),
      { status: res.status, statusText: res.statusText, headers: res.headers });
  };
}

run(async (env) => {
  const shots = env.param('SHOTS', '/tmp');
  const res = env.partial = { shots: [] };

  // polls fn(arg) in the page (playwright or puppeteer) until truthy
  const waitFor = async (page, fn, arg, ms) => {
    const end = Date.now() + ms;
    for (;;) {
      if (await page.evaluate(fn, arg).catch(() => false)) {
        return true;
      }
      if (Date.now() >= end) {
        return false;
      }
      await env.sleep(100);
    }
  };

  const state = (page) => page.evaluate(() => ({
    state: window.__state,
    stats: window.__stats,
    refused: window.__refused,
    sessions: (window.__events || []).filter((e) => e.type === 'session').length,
    status: (document.getElementById('status') || {}).textContent || '',
    notice: (document.getElementById('notice') || {}).textContent || '',
  }));

  const shot = async (page, name) => {
    const file = path.join(shots, name + '.png');
    await page.screenshot({ path: file });
    res.shots.push(file);
  };

  const click = (page, id) => page.evaluate((i) => document.getElementById(i).click(), id);

  const decoding = (page) => waitFor(page, () => window.__stats
    && window.__stats.framesDecoded > 10 && window.__stats.width > 0, null, 8000);

  // a page whose WHIP/WHEP answers have the video refused
  const refusingPage = async (browser, where) => {
    const page = browser === 'firefox' ? await env.firefoxPage() : await env.page();
    if (page.addInitScript) {
      await page.addInitScript(refuseVideoInPage);             // playwright
    } else {
      await page.evaluateOnNewDocument(refuseVideoInPage);     // puppeteer
    }
    await page.goto(env.base + where);
    return page;
  };

  // publish.html with the video refused, in each browser: live with
  // audio, said so; then watch.html of the other's stream, also with the
  // video refused: it plays the audio and does not start over for want of
  // video

  const refused = res.refused = {};
  const BROWSERS = ['chromium', 'firefox'];
  const rp = {};
  for (const b of BROWSERS) {
    rp[b] = await refusingPage(b, `/pages/publish.html?stream=refused-${b}`
      + '&transport=whip&codec=VP8');
  }
  await Promise.all(BROWSERS.map(async (b) => {
    await waitFor(rp[b], () => /ready/i.test(document.getElementById('status').textContent),
      null, 5000);
    await click(rp[b], 'start');
    refused[b] = {
      publisher: { live: await waitFor(rp[b], () => window.__state === 'live', null, 8000) },
    };
  }));
  await env.sleep(1500);                 // stays live
  for (const b of BROWSERS) {
    Object.assign(refused[b].publisher, await state(rp[b]));
    await shot(rp[b], `firefox-publish-video-refused-${b}`);
    env.log(`${b} publish.html with the video refused: live ${refused[b].publisher.live}`);
  }

  const rv = {};
  for (const b of BROWSERS) {
    const other = BROWSERS.find((x) => x !== b);
    rv[b] = await refusingPage(b, `/pages/watch.html?stream=refused-${other}`);
  }
  await Promise.all(BROWSERS.map(async (b) => {
    refused[b].viewer = { live: await waitFor(rv[b], () => window.__state === 'live', null, 6000) };
  }));
  // the viewers are looked at again past watch.js's stall check (6 s),
  // after the next part
  const stallEnd = Date.now() + 7000;

  // Firefox publishes from publish.html over WHIP, both browsers watch

  const ff = res.ff = { viewers: {} };
  const views = [];
  const pub = await env.firefoxPage('/pages/publish.html?stream=ff-pages'
    + '&transport=whip&codec=VP8');
  await click(pub, 'start');
  ff.publisher = { live: await waitFor(pub, () => window.__state === 'live', null, 8000) };
  env.log(`firefox publish.html live ${ff.publisher.live}`);

  if (ff.publisher.live) {
    for (const b of ['chromium', 'firefox']) {
      const where = '/pages/watch.html?stream=ff-pages';
      const view = b === 'firefox' ? await env.firefoxPage(where) : await env.page(where);
      const ok = await decoding(view);
      ff.viewers[b] = Object.assign({ decoding: ok }, await state(view));
      await shot(view, `firefox-watch-ff-pages-${b}`);
      env.log(`firefox publisher, ${b} watch.html: decoding ${ok}`);
      views.push(view);
    }
    ff.publisher.viewersSeen = await waitFor(pub,
      (n) => window.__stats && window.__stats.viewers === n, 2, 5000);
  }
  Object.assign(ff.publisher, await state(pub));
  await shot(pub, 'firefox-publish-ff-pages');
  await click(pub, 'stop');
  ff.publisher.stopped = await waitFor(pub, () => window.__state === 'idle', null, 5000);
  // pages done with are closed: decoding ones load a busy machine
  await Promise.all([pub, ...views].map((pg) => pg.close().catch(() => {})));

  await env.sleep(Math.max(0, stallEnd - Date.now()));
  for (const b of BROWSERS) {
    Object.assign(refused[b].viewer, await state(rv[b]));
    await shot(rv[b], `firefox-watch-video-refused-${b}`);
    env.log(`${b} watch.html with the video refused: live ${refused[b].viewer.live}, `
      + `${refused[b].viewer.sessions} session(s)`);
    await click(rp[b], 'stop');
  }
  await Promise.all([...Object.values(rp), ...Object.values(rv)]
    .map((pg) => pg.close().catch(() => {})));

  // Chromium publishes over WebSocket, Firefox watches over WebSocket

  const ws = res.ws = { viewers: {} };
  const cp = await env.page('/pages/publish.html?stream=ff-ws'
    + '&transport=websocket&codec=VP8');
  await click(cp, 'start');
  ws.publisher = { live: await waitFor(cp, () => window.__state === 'live', null, 8000) };
  if (ws.publisher.live) {
    const fv = await env.firefoxPage('/pages/watch.html?stream=ff-ws&transport=websocket');
    const ok = await decoding(fv);
    ws.viewers.firefox = Object.assign({ decoding: ok }, await state(fv));
    await shot(fv, 'firefox-watch-ff-ws-websocket');
    env.log(`chromium WebSocket publisher, firefox watch.html: decoding ${ok}`);
  }
  await click(cp, 'stop');

  return res;
});
