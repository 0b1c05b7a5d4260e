'use strict';
// Firefox across reloads and a worker's crash (t/312-e2e-firefox-reload.t):
// a Firefox publisher (WHIP, VP8) of E2E_STREAM ("ffr"), a Firefox viewer
// and a Chromium viewer of it (WHEP), while the Perl side reloads nginx and
// kills the publisher's worker.  Firefox's SRTP both ways: what it
// encrypts (the publisher's media and both Firefox pages' RTCP) and what it
// decrypts (the viewer's media); the Chromium viewer decrypts what the
// module forwards of Firefox's media.
//
// Once both viewers decode, each page watches its connection with
// t/e2e/lib/watch.js (startWatch with detail: events, framesDecoded every
// 100 ms, standstills of 200 ms or more); then the file E2E_READY is
// written and the watch goes on until the file E2E_DONE appears
// (E2E_WATCH ms at most, 40000).
//
// The Firefox viewer runs in the publisher's page (one Firefox tab: a
// background tab's timers fire once a second at most, too few samples).
// Each connection also lists the report types its getStats gave
// (statTypes), to show where Firefox's differ from Chromium's.
//
// Result: { publisher, firefoxViewer, chromiumViewer: {status, location,
//           state, framesBefore, statTypes, watch} }; the viewers also have
// recovery: their inbound video's packetsLost, nackCount, pliCount,
// firCount, framesDropped, keyFramesDecoded at the end (what each engine
// has of them).

const { run } = require('./lib/scenario');
const { startWatch, endWatch, watchUntilDone } = require('./lib/watch');

// Runs in the page: the types of the getStats reports of the connection
async function statTypes(name) {
  const st = await window.__rtc.pcs[name].pc.getStats();
  const types = new Set();
  st.forEach((s) => types.add(s.type + (s.kind ? ':' + s.kind : '')));
  return Array.from(types).sort();
}

// Runs in the page: the connection's inbound video loss and recovery
// counters (what each engine did about the packets a reload or kill cost)
async function recovery(name) {
  const st = await window.__rtc.pcs[name].pc.getStats();
  let out = null;
  st.forEach((s) => {
    if (s.type === 'inbound-rtp' && s.kind === 'video') {
      out = {};
      for (const k of ['packetsReceived', 'packetsLost', 'nackCount', 'pliCount',
        'firCount', 'framesDropped', 'keyFramesDecoded']) {
        if (s[k] !== undefined) {
          out[k] = s[k];
        }
      }
    }
  });
  return out;
}

run(async (env) => {
  const { rtc } = env;
  const stream = env.param('STREAM', 'ffr');
  const ready = env.param('READY');
  const done = env.param('DONE');
  const watch = Number(env.param('WATCH', 40000));
  const res = {};
  env.partial = res;

  const pp = await env.firefoxPage();
  const p = await rtc.publish(pp, 'pub', { url: '/whip/' + stream, codec: 'VP8', wait: 8000 });
  env.log(`firefox publisher ${p.status} ${p.location} ${p.state}`);
  res.publisher = { status: p.status, location: p.location, state: p.state };
  if (p.status !== 201) {
    res.publisher.answer = p.answer;
    return res;
  }

  // the Firefox viewer in the publisher's page: Firefox throttles the
  // timers of a background tab to one a second, and the watch samples
  // every 100 ms
  const views = [
    ['firefoxViewer', pp, 'fv'],
    ['chromiumViewer', await env.page(), 'cv'],
  ];

  const plays = await Promise.all(views.map(([, pg, n]) =>
    rtc.play(pg, n, { url: '/whep/' + stream, wait: 8000 })));
  views.forEach(([key], i) => {
    res[key] = { status: plays[i].status, location: plays[i].location, state: plays[i].state };
    env.log(`${key} ${plays[i].status} ${plays[i].location} ${plays[i].state}`);
  });
  if (plays.some((v) => v.status !== 201)) {
    return res;
  }

  const first = await Promise.all(views.map(([, pg, n]) => rtc.waitFrames(pg, n, 0, 5, 10000)));
  views.forEach(([key], i) => { res[key].framesBefore = first[i].video.framesDecoded; });
  env.log('viewers decode ' + first.map((s) => s.video.framesDecoded).join(', '));
  if (first.some((s) => !s.reached)) {
    return res;
  }

  const all = [['publisher', pp, 'pub'], ...views];
  for (const [key, pg, n] of all) {
    res[key].statTypes = await pg.evaluate(statTypes, n);
  }

  for (const [, pg, n] of all) {
    await pg.evaluate(startWatch, { name: n, detail: true });
  }
  await watchUntilDone(env, { ready, done, watch });

  for (const [key, pg, n] of all) {
    res[key].watch = await pg.evaluate(endWatch, n);
  }
  for (const [key, pg, n] of views) {
    res[key].recovery = await pg.evaluate(recovery, n);
  }

  for (const [, pg, n] of all) {
    await rtc.del(pg, n).catch(() => {});
  }

  return res;
});
