'use strict';
// WebSocket sessions across reloads (t/315-e2e-ws-reload.t): a publisher
// and a viewer made by html/webrtc.js (Publisher and Player, transport
// 'websocket', as the pages do) stream while the Perl side reloads nginx.
//
// Once the viewer decodes, each page watches its peer connection as
// t/e2e/reload.js does (connectionstatechange, signalingstatechange,
// getStats() every 100 ms: framesDecoded, dtlsState, srtpCipher) and
// records the client's own events (onEvent: close with its code,
// resumed, error; onState).  Then the file E2E_READY is written; the
// watch goes on until the file E2E_DONE appears (E2E_WATCH ms at most).
// Then the viewer stops (stop over the resumed WebSocket).
//
// Result: { publisher: {id, watch, client}, viewer: {id, watch, client,
//           stopped} }, where client is { events: [{t, type, code,
//           state}], state, sessionId, wsOpen }.

const { run } = require('./lib/scenario');
const { startWatch, endWatch, watchUntilDone } = require('./lib/watch');

// Runs in the page: a webrtc.js session over the WebSocket
async function startWs(arg) {
  const { name, role, stream } = arg;
  const m = await import('/pages/webrtc.js');
  const t0 = performance.now();
  const client = { events: [] };
  const now = () => Math.round(performance.now() - t0);
  const opts = {
    transport: 'websocket',
    url: '/ws',
    stream,
    onEvent: (e) => client.events.push({ t: now(), type: e.type,
      code: e.code, message: e.error ? e.error.message : e.message }),
    onState: (s) => client.events.push({ t: now(), type: 'state', state: s }),
  };

  let s;
  if (role === 'publisher') {
    const media = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    s = new m.Publisher(Object.assign({ videoCodec: 'VP8' }, opts));
    await s.start(media);
  } else {
    s = new m.Player(opts);
    const ms = await s.start();
    const v = document.createElement('video');
    v.muted = true;
    v.autoplay = true;
    v.srcObject = ms;
    document.body.appendChild(v);
  }

  window.__rtc.pcs[name] = { pc: s.pc };
  window.__ws = window.__ws || {};
  window.__ws[name] = { s, client };
  return s.sessionId;
}

function clientState(name) {
  const { s, client } = window.__ws[name];
  return Object.assign({}, client, {
    state: s.state,
    sessionId: s.sessionId,
    wsOpen: !!(s._ws && s._ws.readyState === WebSocket.OPEN),
  });
}

async function waitFrames(name) {
  const pc = window.__rtc.pcs[name].pc;
  const end = performance.now() + 10000;
  while (performance.now() < end) {
    const st = await pc.getStats();
    let frames = 0;
    st.forEach((x) => {
      if (x.type === 'inbound-rtp' && x.kind === 'video') {
        frames = x.framesDecoded || 0;
      }
    });
    if (frames >= 5) {
      return frames;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return 0;
}

run(async (env) => {
  const stream = env.param('STREAM', 'wsreload');
  const ready = env.param('READY');
  const done = env.param('DONE');
  const watch = Number(env.param('WATCH', 40000));

  const res = { publisher: {}, viewer: {} };
  env.partial = res;

  const pubPage = await env.page();
  res.publisher.id = await pubPage.evaluate(startWs,
    { name: 'pub', role: 'publisher', stream });
  env.log(`publisher ${res.publisher.id}`);

  const viewPage = await env.page();
  res.viewer.id = await viewPage.evaluate(startWs,
    { name: 'v', role: 'viewer', stream });
  env.log(`viewer ${res.viewer.id}`);

  res.viewer.framesBefore = await viewPage.evaluate(waitFrames, 'v');
  env.log(`viewer decodes ${res.viewer.framesBefore}`);
  if (!res.viewer.framesBefore) {
    return res;
  }

  // as in t/e2e/reload.js, but frames that disappear (the peer
  // connection closed) count as standing still
  await pubPage.evaluate(startWatch, { name: 'pub', stillWhenGone: true });
  await viewPage.evaluate(startWatch, { name: 'v', stillWhenGone: true });
  await watchUntilDone(env, { ready, done, watch });

  res.publisher.watch = await pubPage.evaluate(endWatch, 'pub');
  res.viewer.watch = await viewPage.evaluate(endWatch, 'v');
  res.publisher.client = await pubPage.evaluate(clientState, 'pub');
  res.viewer.client = await viewPage.evaluate(clientState, 'v');

  // the viewer's stop goes over its resumed WebSocket
  await viewPage.evaluate(() => window.__ws.v.s.stop());
  res.viewer.stopped = true;
  await env.sleep(1000);

  return res;
});
