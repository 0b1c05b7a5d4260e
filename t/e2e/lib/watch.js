'use strict';
// Watching live sessions while the Perl side reloads nginx or kills its
// workers (t/e2e/reload.js, kill.js, ws-reload.js; t/310, t/325, t/315).
//
// startWatch runs in a page (page.evaluate(startWatch, { name, ... })):
// from then on it records every connectionstatechange and
// signalingstatechange of the peer connection window.__rtc.pcs[name].pc
// (time and state) and, every 100 ms, getStats(): the video framesDecoded
// and the transport's dtlsState and srtpCipher.  endWatch (also in the
// page, page.evaluate(endWatch, name)) stops it and returns
//
//   { events: [{t, type, state}], samples, maxGapMs (the longest time
//     framesDecoded stood still, from the sample where it last changed to
//     the last sample where it had not), frames: [first, last],
//     transport: [first, last] ({dtlsState, srtpCipher}), errors,
//     stateAtEnd }
//
// and with { detail: true } also epochMs (wall clock of the watch's start,
// ms since 1970), gaps: [{t, ms}] (each standstill of 200 ms or more: its
// start, ms after epochMs, and length), pli: [first, last] and keyFrames:
// [first, last] (the outbound video pliCount and keyFramesEncoded).  With
// { stillWhenGone: true } frames that disappear (the peer connection
// closed) count as standing still.
//
// watchUntilDone(env, { ready, done, watch }) writes the file ready, then
// waits until the file done appears (watch ms at most).
//
// watchLive(env, { stream, after, detail }) is the scenario of reload.js
// and kill.js: a publisher and E2E_VIEWERS viewers (2) of E2E_STREAM
// (stream), watched from the moment every viewer decodes until the file
// E2E_DONE appears (E2E_READY written then, E2E_WATCH ms at most, 40000);
// then a new publisher and viewer of E2E_AFTER (after) show whether new
// sessions work.  Result: { publisher: {status, location, state, watch},
// viewers: [{status, location, state, framesBefore, watch}], after:
// {publisher, viewer, frames} }.

const fs = require('fs');

// Runs in the page: starts watching the peer connection of the name.
function startWatch(arg) {
  const { name, detail, stillWhenGone } = arg;
  const e = window.__rtc.pcs[name];
  const pc = e.pc;
  const t0 = performance.now();
  const w = {
    events: [], samples: 0, maxGapMs: 0, frames: [null, null],
    transport: [null, null], stop: false, lastChange: t0, lastFrames: null,
    errors: 0,
  };
  if (detail) {
    Object.assign(w, {
      epochMs: Math.round(performance.timeOrigin + t0),
      gaps: [], pli: [null, null], keyFrames: [null, null], cur: null,
    });
  }
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
        if (detail) {
          firstLast(w.pli, pli);
          firstLast(w.keyFrames, keyFrames);
        }
        if (frames !== null && frames !== w.lastFrames) {
          if (detail) {
            if (w.cur && w.cur.ms >= 200) {
              w.gaps.push(w.cur);
            }
            w.cur = null;
          }
          w.lastFrames = frames;
          w.lastChange = at;
        }
        // stillWhenGone: a peer connection closed under the watch stands
        // still too
        if (stillWhenGone ? w.lastFrames !== null : frames !== null) {
          const gap = Math.round(at - w.lastChange);
          w.maxGapMs = Math.max(w.maxGapMs, gap);
          if (detail && gap > 0) {
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

// Runs in the page: stops the watch of the name, returns what it saw.
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

async function watchUntilDone(env, { ready, done, watch }) {
  fs.writeFileSync(ready, 'ready\n');
  env.log('ready');

  const end = env.now() + watch;
  while (!fs.existsSync(done) && env.now() < end) {
    await env.sleep(100);
  }
  env.log(fs.existsSync(done) ? 'done' : 'no done file: watched ' + watch + ' ms');
}

async function watchLive(env, opts) {
  const { rtc } = env;
  const stream = env.param('STREAM', opts.stream);
  const after = env.param('AFTER', opts.after);
  const n = Number(env.param('VIEWERS', 2));
  const ready = env.param('READY');
  const done = env.param('DONE');
  const watch = Number(env.param('WATCH', 40000));
  const detail = !!opts.detail;

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

  await pubPage.evaluate(startWatch, { name: 'pub', detail });
  await Promise.all(pages.map((pg, i) => pg.evaluate(startWatch, { name: 'v' + i, detail })));
  await watchUntilDone(env, { ready, done, watch });

  res.publisher.watch = await pubPage.evaluate(endWatch, 'pub');
  const ws = await Promise.all(pages.map((pg, i) => pg.evaluate(endWatch, 'v' + i)));
  ws.forEach((w, i) => { res.viewers[i].watch = w; });

  // new sessions after the reloads or kills
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
}

module.exports = { startWatch, endWatch, watchUntilDone, watchLive };
