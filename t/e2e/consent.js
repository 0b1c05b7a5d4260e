'use strict';
// Consent freshness (RFC 7675): a viewer goes away without DELETE; nginx
// (webrtc_consent_timeout 3s) closes its session after the timeout, while
// the publisher and a second viewer, whose browser keeps sending checks,
// stay.
//
// How the viewer goes away, E2E_MODE: "crash" (default: its renderer
// process is crashed through CDP, nothing more is sent, as when a
// machine drops off the network), "page" (page.close()) or "pc"
// (pc.close() in the page; Chromium then sends a DTLS close_notify).
//
// The error log (E2E_ERROR_LOG) is polled every 100 ms, up to E2E_WATCH ms
// (12000), for the viewer's "closed" or "timed out" line; then a DELETE
// of its Location is sent.
//
// Parameters: E2E_STREAM ("consent"), E2E_CODEC (VP8), E2E_MODE, E2E_WATCH.
// The publisher and the other viewer are DELETEd at the end.
// Result: { publisher, gone: {status, location, before, closedAt, gone:
//           {ms, line}, deleteStatus}, stays: {status, s1, s2} }

const fs = require('fs');
const { run } = require('./lib/scenario');

run(async (env) => {
  const { rtc } = env;
  const stream = env.param('STREAM', 'consent');
  const codec = env.param('CODEC', 'VP8');
  const mode = env.param('MODE', 'crash');
  const watch = Number(env.param('WATCH', 12000));
  const logFile = env.param('ERROR_LOG');

  const [pp, pg, ps] = [await env.page(), await env.page(), await env.page()];

  const p = await rtc.publish(pp, 'pub', { url: '/whip/' + stream, codec, wait: 8000 });
  env.log(`publisher ${p.status} ${p.state}`);
  const res = { mode, publisher: { status: p.status, state: p.state, location: p.location } };
  if (p.status !== 201) {
    return res;
  }

  const [g, s] = await Promise.all([
    rtc.play(pg, 'v', { url: '/whep/' + stream, wait: 8000 }),
    rtc.play(ps, 'v', { url: '/whep/' + stream, wait: 8000 }),
  ]);
  res.gone = { status: g.status, location: g.location };
  res.stays = { status: s.status, location: s.location };
  if (g.status !== 201 || s.status !== 201) {
    return res;
  }
  res.gone.before = await rtc.waitFrames(pg, 'v', 0, 5, 8000);
  env.log(`viewers ${g.status} ${s.status}, the first decodes `
    + `${res.gone.before.video.framesDecoded} frames`);

  const id = (g.location || '').split('/').pop();
  const logSize = () => { try { return fs.statSync(logFile).size; } catch (e) { return 0; } };
  const from = logSize();

  // the viewer goes away without DELETE
  if (mode === 'crash') {
    const cdp = await pg.context().newCDPSession(pg);
    cdp.send('Page.crash').catch(() => {});
    await new Promise((r) => {
      pg.once('crash', r);
      setTimeout(r, 3000);
    });
  } else if (mode === 'page') {
    await pg.close();
  } else {
    // what this mode tests is a close_notify after the server released
    // the DTLS state, at the viewer's first SRTP or SRTCP: waited for (5 s
    // at most; t/150 checks it happened), as 5 frames may decode before
    // the browser's first receiver report on a busy host
    const released = 'session ' + id + ': DTLS state released';
    const t1 = env.now();
    while (env.now() - t1 < 5000) {
      let text = '';
      try { text = fs.readFileSync(logFile, 'latin1'); } catch (e) { text = ''; }
      if (text.includes(released)) {
        break;
      }
      await env.sleep(100);
    }
    await rtc.close(pg, 'v');
  }
  const t0 = env.now();
  res.gone.closedAt = t0;
  env.log(`viewer ${id} gone (${mode})`);

  // its session closes: poll error.log
  const re = new RegExp('session ' + id + '\\b.*(closed|timed out)');
  while (env.now() - t0 < watch) {
    const size = logSize();
    if (size > from) {
      const fd = fs.openSync(logFile, 'r');
      const buf = Buffer.alloc(size - from);
      fs.readSync(fd, buf, 0, buf.length, from);
      fs.closeSync(fd);
      const line = buf.toString().split('\n').find((l) => re.test(l));
      if (line) {
        res.gone.gone = { ms: env.now() - t0, line };
        break;
      }
    }
    await env.sleep(100);
  }
  env.log(`viewer session closed after ${res.gone.gone ? res.gone.gone.ms : '-'} ms`);

  res.gone.deleteStatus = await rtc.del(ps, 'v', g.location);

  // the other viewer still decodes, and the publisher is still there
  res.stays.s1 = await rtc.stats(ps, 'v');
  res.stays.s2 = await rtc.waitFrames(ps, 'v', res.stays.s1.video.framesDecoded, 10, 3000);
  res.publisher.stats = await rtc.stats(pp, 'pub');
  res.publisher.aliveMs = env.now() - t0;

  // the others end with DELETE: no more consent expiries after the test
  res.stays.deleteStatus = await rtc.del(ps, 'v');
  res.publisher.deleteStatus = await rtc.del(pp, 'pub');
  return res;
});
