'use strict';
// The pages themselves: publish.html publishes (WebSocket signaling, and
// WHIP), watch.html plays (WHEP, and WebSocket); frames decode, the
// publisher sees its viewer count.  A screenshot of each page is saved
// in E2E_SHOTS.
//
// Result: { ws: {publisher, viewers: {whep, websocket}},
//           whip: {publisher, viewers: {websocket}}, shots: [paths] }

const path = require('path');
const { run } = require('./lib/scenario');

run(async (env) => {
  const shots = env.param('SHOTS', '/tmp');
  const res = { shots: [] };

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
    status: (document.getElementById('status') || {}).textContent || '',
  }));

  const shot = async (page, name) => {
    const file = path.join(shots, name + '.png');
    await page.screenshot({ path: file });
    res.shots.push(file);
  };

  for (const [transport, stream, players] of [
    ['websocket', 'pages-ws', ['whip', 'websocket']],
    ['whip', 'pages-whip', ['websocket']],
  ]) {
    const key = transport === 'websocket' ? 'ws' : 'whip';
    const r = res[key] = { viewers: {} };

    const pub = await env.page(`/pages/publish.html?stream=${stream}`
      + `&transport=${transport}&codec=VP8`);
    await pub.click('#start');
    r.publisher = { live: await waitFor(pub, () => window.__state === 'live',
                                        null, 10000) };

    for (const p of players) {
      const url = `/pages/watch.html?stream=${stream}`
        + (p === 'websocket' ? '&transport=websocket' : '');
      const view = await env.page(url);
      const ok = await waitFor(view, () => window.__stats
        && window.__stats.framesDecoded > 10 && window.__stats.width > 0,
        null, 10000);
      r.viewers[p] = Object.assign({ decoding: ok }, await state(view));
      await shot(view, `watch-${stream}-${p}`);
      env.log(`${transport} publisher, ${p} viewer: decoding ${ok}`);
    }

    r.publisher.viewersSeen = await waitFor(pub,
      (n) => window.__stats && window.__stats.viewers === n,
      players.length, 6000);
    Object.assign(r.publisher, await state(pub));
    await shot(pub, `publish-${stream}`);

    await pub.click('#stop');
    r.publisher.stopped = await waitFor(pub, () => window.__state === 'idle',
                                        null, 5000);
  }

  const index = await env.page('/pages/index.html');
  await shot(index, 'index');

  return res;
});
