'use strict';
// The pages in html/ with Firefox.  First what the pages do when the
// server's answer refuses the video (an m= section with port 0; made here
// by rewriting the answers in Chromium, as no server setting refuses one
// section): publish.html stays live with audio and says so, watch.html
// plays the audio and does not start over.  Then publish.html in Firefox
// publishes (WHIP, VP8), watch.html in Chromium and in Firefox decode it;
// publish.html in Chromium publishes over WebSocket and watch.html in
// Firefox plays it over WebSocket.  Screenshots in E2E_SHOTS.
//
// Result: { ff: {publisher, viewers: {chromium, firefox}},
//           ws: {publisher, viewers: {firefox}},
//           refused: {publisher, viewer}, shots: [paths] }

const path = require('path');
const { run } = require('./lib/scenario');

// the video m= section of an answer refused: port 0, out of the BUNDLE group
function refuseVideo(sdp) {
  const video = sdp.split(/\r?\n(?=m=)/).find((s) => s.startsWith('m=video ')) || '';
  const mid = (video.match(/^a=mid:(\S+)/m) || [])[1];
  let out = sdp.replace(/^m=video \d+ /m, 'm=video 0 ');
  if (mid !== undefined) {
    out = out.replace(/^a=group:BUNDLE .*$/m,
      (l) => l.split(' ').filter((x) => x !== mid).join(' '));
  }
  return out;
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

  // a Chromium page whose WHIP/WHEP answers have the video refused
  const refusingPage = async (where) => {
    const page = await env.page();
    await page.route(/\/(whip|whep)\//, async (route) => {
      if (route.request().method() !== 'POST') {
        return route.continue();
      }
      const r = await route.fetch();
      const body = await r.text();
      return route.fulfill({ response: r, body: r.status() === 201 ? refuseVideo(body) : body });
    });
    await page.goto(env.base + where);
    return page;
  };

  // publish.html with the video refused: live with audio, said so; then
  // watch.html of that stream, also with the video refused: it plays the
  // audio and does not start over for want of video

  res.refused = {};
  const rp = await refusingPage('/pages/publish.html?stream=refused'
    + '&transport=whip&codec=VP8');
  await waitFor(rp, () => /ready/i.test(document.getElementById('status').textContent),
    null, 5000);
  await click(rp, 'start');
  const rpLive = await waitFor(rp, () => window.__state === 'live', null, 8000);
  await env.sleep(1500);                 // stays live
  res.refused.publisher = Object.assign({ live: rpLive }, await state(rp));
  await shot(rp, 'firefox-publish-video-refused');
  env.log(`publish.html with the video refused: live ${rpLive}`);

  const rv = await refusingPage('/pages/watch.html?stream=refused');
  const rvLive = await waitFor(rv, () => window.__state === 'live', null, 6000);
  await env.sleep(7000);                 // past watch.js's stall check (6 s)
  res.refused.viewer = Object.assign({ live: rvLive }, await state(rv));
  await shot(rv, 'firefox-watch-video-refused');
  env.log(`watch.html with the video refused: live ${rvLive}, `
    + `${res.refused.viewer.sessions} session(s)`);
  await click(rp, 'stop');

  // Firefox publishes from publish.html over WHIP, both browsers watch

  const ff = res.ff = { viewers: {} };
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
    }
    ff.publisher.viewersSeen = await waitFor(pub,
      (n) => window.__stats && window.__stats.viewers === n, 2, 5000);
  }
  Object.assign(ff.publisher, await state(pub));
  await shot(pub, 'firefox-publish-ff-pages');
  await click(pub, 'stop');
  ff.publisher.stopped = await waitFor(pub, () => window.__state === 'idle', null, 5000);

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
