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

const fs = require('fs');
const { run } = require('./lib/scenario');

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

// as in t/e2e/reload.js, but frames that disappear (the peer connection
// closed) count as standing still
function startWatch(name) {
  const e = window.__rtc.pcs[name];
  const pc = e.pc;
  const t0 = performance.now();
  const w = {
    events: [], samples: 0, maxGapMs: 0, frames: [null, null],
    transport: [null, null], stop: false, lastChange: t0, lastFrames: null,
    errors: 0,
  };
  const now = () => Math.round(performance.now() - t0);

  pc.addEventListener('connectionstatechange', () => {
    w.events.push({ t: now(), type: 'connection', state: pc.connectionState });
  });
  pc.addEventListener('signalingstatechange', () => {
    w.events.push({ t: now(), type: 'signaling', state: pc.signalingState });
  });

  (async () => {
    while (!w.stop) {
      const at = performance.now();
      try {
        const st = await pc.getStats();
        let frames = null;
        let transport = null;
        st.forEach((s) => {
          if (s.type === 'inbound-rtp' && s.kind === 'video') {
            frames = s.framesDecoded || 0;
          } else if (s.type === 'transport') {
            transport = { dtlsState: s.dtlsState || null,
              srtpCipher: s.srtpCipher || null };
          }
        });
        w.samples++;
        if (w.frames[0] === null) {
          w.frames[0] = frames;
          w.transport[0] = transport;
        }
        w.frames[1] = frames;
        w.transport[1] = transport;
        if (frames !== null && frames !== w.lastFrames) {
          w.lastFrames = frames;
          w.lastChange = at;
        }
        // a peer connection closed under the watch stands still too
        if (w.lastFrames !== null) {
          w.maxGapMs = Math.max(w.maxGapMs, Math.round(at - w.lastChange));
        }
      } catch (err) {
        w.errors++;
      }
      await new Promise((r) => setTimeout(r, Math.max(0, 100 - (performance.now() - at))));
    }
  })();

  window.__watch = window.__watch || {};
  window.__watch[name] = w;
}

function endWatch(name) {
  const w = window.__watch[name];
  w.stop = true;
  w.stateAtEnd = window.__rtc.pcs[name].pc.connectionState;
  const out = Object.assign({}, w);
  delete out.stop;
  delete out.lastChange;
  delete out.lastFrames;
  return out;
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

  await pubPage.evaluate(startWatch, 'pub');
  await viewPage.evaluate(startWatch, 'v');
  fs.writeFileSync(ready, 'ready\n');
  env.log('ready');

  const end = env.now() + watch;
  while (!fs.existsSync(done) && env.now() < end) {
    await env.sleep(100);
  }
  env.log(fs.existsSync(done) ? 'done' : 'no done file: watched ' + watch + ' ms');

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
