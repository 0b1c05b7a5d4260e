'use strict';
// Live sessions across a worker's crash (t/325-e2e-kill.t): a publisher and
// E2E_VIEWERS viewers (2) stream while the Perl side kills nginx workers
// with SIGKILL.  The same scenario as t/e2e/reload.js (which t/310 runs and
// this file leaves alone), with more detail in each page's watch, to tell
// which kill froze which viewer and for how long:
//
// Once every viewer decodes, each page watches its connection: every
// connectionstatechange and signalingstatechange from then on (time and
// state), and, every 100 ms, getStats(): the viewers' video framesDecoded,
// the transport's dtlsState and srtpCipher, and the publisher's key frames
// and PLIs received.  Then the file E2E_READY is written, and the watch goes
// on until the file E2E_DONE appears (written by the Perl side after its
// kills; E2E_WATCH ms at most, 40000).  Then a new publisher and viewer of
// the stream E2E_AFTER ("kill-after") show whether new sessions work.
//
// Result: { publisher: {status, state, watch}, viewers: [{status, state,
//           watch}], after: {publisher, viewer, frames} }, where watch is
// { epochMs (wall clock of the watch's start, ms since 1970), events:
//   [{t, type, state}], samples, maxGapMs (the longest time framesDecoded
//   stood still, from the sample where it last changed to the last sample
//   where it had not, as reload.js measures it), gaps: [{t, ms}] (each
//   standstill of 200 ms or more: its start, ms after epochMs, and length),
//   frames: [first, last], transport: [first, last] ({dtlsState,
//   srtpCipher}), pli: [first, last] and keyFrames: [first, last] (the
//   publisher's outbound video pliCount and keyFramesEncoded), stateAtEnd }.

const fs = require('fs');
const { run } = require('./lib/scenario');

// Runs in the page: starts watching the peer connection of the name.
function startWatch(name) {
  const e = window.__rtc.pcs[name];
  const pc = e.pc;
  const t0 = performance.now();
  const w = {
    epochMs: Math.round(performance.timeOrigin + t0),
    events: [], samples: 0, maxGapMs: 0, gaps: [], frames: [null, null],
    transport: [null, null], pli: [null, null], keyFrames: [null, null],
    stop: false, lastChange: t0, lastFrames: null, cur: null, errors: 0,
  };
  const now = () => Math.round(performance.now() - t0);

  pc.addEventListener('connectionstatechange', () => {
    w.events.push({ t: now(), type: 'connection', state: pc.connectionState });
  });
  pc.addEventListener('signalingstatechange', () => {
    w.events.push({ t: now(), type: 'signaling', state: pc.signalingState });
  });

  const firstLast = (pair, v) => {
    if (v === null) {
      return;
    }
    if (pair[0] === null) {
      pair[0] = v;
    }
    pair[1] = v;
  };

  (async () => {
    while (!w.stop) {
      const at = performance.now();
      try {
        const st = await pc.getStats();
        let frames = null;
        let transport = null;
        let pli = null;
        let keyFrames = null;
        st.forEach((s) => {
          if (s.type === 'inbound-rtp' && s.kind === 'video') {
            frames = s.framesDecoded || 0;
          } else if (s.type === 'outbound-rtp' && s.kind === 'video') {
            pli = (pli || 0) + (s.pliCount || 0);
            keyFrames = (keyFrames || 0) + (s.keyFramesEncoded || 0);
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
        firstLast(w.pli, pli);
        firstLast(w.keyFrames, keyFrames);
        if (frames !== null && frames !== w.lastFrames) {
          if (w.cur && w.cur.ms >= 200) {
            w.gaps.push(w.cur);
          }
          w.cur = null;
          w.lastFrames = frames;
          w.lastChange = at;
        }
        if (frames !== null) {
          const gap = Math.round(at - w.lastChange);
          w.maxGapMs = Math.max(w.maxGapMs, gap);
          if (gap > 0) {
            w.cur = { t: Math.round(w.lastChange - t0), ms: gap };
          }
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
  if (w.cur && w.cur.ms >= 200) {
    w.gaps.push(w.cur);
  }
  const out = Object.assign({}, w);
  delete out.stop;
  delete out.lastChange;
  delete out.lastFrames;
  delete out.cur;
  return out;
}

run(async (env) => {
  const { rtc } = env;
  const stream = env.param('STREAM', 'kill');
  const after = env.param('AFTER', 'kill-after');
  const n = Number(env.param('VIEWERS', 2));
  const ready = env.param('READY');
  const done = env.param('DONE');
  const watch = Number(env.param('WATCH', 40000));

  const pubPage = await env.page();
  const p = await rtc.publish(pubPage, 'pub', { url: '/whip/' + stream, codec: 'VP8', wait: 8000 });
  env.log(`publisher ${p.status} ${p.location} ${p.state}`);
  const res = { publisher: { status: p.status, location: p.location, state: p.state }, viewers: [] };
  env.partial = res;
  if (p.status !== 201) {
    return res;
  }

  const pages = [];
  for (let i = 0; i < n; i++) {
    pages.push(await env.page());
  }
  const plays = await Promise.all(pages.map((pg, i) =>
    rtc.play(pg, 'v' + i, { url: '/whep/' + stream, wait: 8000 })));
  res.viewers = plays.map((v) => ({ status: v.status, location: v.location, state: v.state }));
  if (plays.some((v) => v.status !== 201)) {
    return res;
  }

  const first = await Promise.all(pages.map((pg, i) => rtc.waitFrames(pg, 'v' + i, 0, 5, 8000)));
  res.viewers.forEach((v, i) => { v.framesBefore = first[i].video.framesDecoded; });
  env.log('viewers decode ' + first.map((s) => s.video.framesDecoded).join(', '));

  await pubPage.evaluate(startWatch, 'pub');
  await Promise.all(pages.map((pg, i) => pg.evaluate(startWatch, 'v' + i)));
  fs.writeFileSync(ready, 'ready\n');
  env.log('ready');

  const end = env.now() + watch;
  while (!fs.existsSync(done) && env.now() < end) {
    await env.sleep(100);
  }
  env.log(fs.existsSync(done) ? 'done' : 'no done file: watched ' + watch + ' ms');

  res.publisher.watch = await pubPage.evaluate(endWatch, 'pub');
  const ws = await Promise.all(pages.map((pg, i) => pg.evaluate(endWatch, 'v' + i)));
  ws.forEach((w, i) => { res.viewers[i].watch = w; });

  // new sessions after the kills
  const [ap, av] = [await env.page(), await env.page()];
  const p2 = await rtc.publish(ap, 'pub', { url: '/whip/' + after, codec: 'VP8', wait: 8000 });
  res.after = { publisher: p2.status };
  if (p2.status === 201) {
    const v2 = await rtc.play(av, 'v', { url: '/whep/' + after, wait: 8000 });
    res.after.viewer = v2.status;
    if (v2.status === 201) {
      const s = await rtc.waitFrames(av, 'v', 0, 5, 8000);
      res.after.frames = s.video.framesDecoded;
      await rtc.del(av, 'v');
    }
    await rtc.del(ap, 'pub');
  }

  return res;
});
