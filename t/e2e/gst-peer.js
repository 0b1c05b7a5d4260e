'use strict';
// Chromium on the other side of GStreamer webrtcbin clients (t/190):
// E2E_ROLE "view" plays streams webrtcbin publishes, "publish" publishes
// streams for webrtcbin to play; one page per stream, all at once.
//
// Parameters (environment): E2E_ROLE (view), E2E_STREAMS (comma-separated,
// "gst"), E2E_CODECS (publish: the video codec each publisher prefers,
// comma-separated, VP8), E2E_HOLD (publish: ms the publishers stay after
// connecting, 8000), E2E_STOP (publish: a file whose existence ends the
// hold early, checked every 100 ms), E2E_WAITPUB (view: ms a viewer
// retries while its stream is not published yet (404), 15000).
// Result: view: { viewers: [{stream, status, location, state, answerCodec,
// posts, s1, s2, deleted}] } with s1 and s2 stats one second apart after
// the first decoded frame; publish: { publishers: [{stream, status,
// location, state, answerCodec, stats, deleted}] }.

const fs = require('fs');
const { run } = require('./lib/scenario');
const { answerCodec } = require('./lib/sdp');

run(async (env) => {
  const { rtc } = env;
  const role = env.param('ROLE', 'view');
  const streams = env.param('STREAMS', 'gst').split(',');
  const pages = await Promise.all(streams.map(() => env.page()));

  if (role === 'publish') {
    const codecs = env.param('CODECS', 'VP8').split(',');
    const hold = Number(env.param('HOLD', 8000));
    const stop = env.param('STOP', null);
    const publishers = await Promise.all(streams.map(async (stream, i) => {
      const page = pages[i];
      const p = await rtc.publish(page, 'pub',
        { url: '/whip/' + stream, codec: codecs[i] || codecs[0], wait: 8000 });
      env.log(`${stream}: publisher ${p.status} ${p.location} ${p.state}`);
      const out = {
        stream, status: p.status, location: p.location, state: p.state,
        answerCodec: answerCodec(p.answer, 'video'),
      };
      if (p.status !== 201) {
        out.answer = p.answer;
        return out;
      }
      const end = env.now() + hold;
      while (env.now() < end && !(stop && fs.existsSync(stop))) {
        await env.sleep(100);
      }
      out.heldMs = hold - Math.max(0, end - env.now());
      out.stats = await rtc.stats(page, 'pub');
      out.deleted = await rtc.del(page, 'pub');
      return out;
    }));
    return { publishers };
  }

  const waitPub = Number(env.param('WAITPUB', 15000));
  const viewers = await Promise.all(streams.map(async (stream, i) => {
    const page = pages[i];
    const end = env.now() + waitPub;
    let v;
    let posts = 0;
    for (;;) {
      v = await rtc.play(page, 'v', { url: '/whep/' + stream, wait: 8000 });
      posts++;
      if (v.status !== 404 || env.now() >= end) {
        break;
      }
      await rtc.close(page, 'v');
      await env.sleep(250);
    }
    env.log(`${stream}: viewer ${v.status} ${v.location} ${v.state}`
      + ` (${posts} POSTs)`);
    const out = {
      stream, status: v.status, location: v.location, state: v.state,
      answerCodec: answerCodec(v.answer, 'video'), posts,
    };
    if (v.status !== 201) {
      out.answer = v.answer;
      return out;
    }
    out.s1 = await rtc.waitFrames(page, 'v', 0, 0, 8000);
    await env.sleep(1000);
    out.s2 = await rtc.stats(page, 'v');
    out.deleted = await rtc.del(page, 'v');
    return out;
  }));
  return { viewers };
});
