'use strict';
// Late join: a viewer joins E2E_DELAY ms (10000) after the publisher
// started; time from its WHEP POST to its first decoded video frame
// (getStats polled every 50 ms, for at most 10 s).  One stream per codec
// of E2E_CODECS, all at the same time.
//
// Parameters: E2E_STREAM (prefix, default "late"; the stream of a codec is
// "<prefix>-<codec>"), E2E_CODECS ("VP8,H264"), E2E_DELAY (ms).
// Result: { runs: [{ codec, publisher: {status, state, joinAfterMs},
//           viewer: {status, state, postMs, firstFrameMs, codec,
//           after: stats once 10 more frames came (2 s max)} }] }

const { run } = require('./lib/scenario');

async function one(env, codec, stream, delay) {
  const { rtc } = env;
  const pubPage = await env.page();
  const page = await env.page();        // the viewer's page, loaded ahead

  const p = await rtc.publish(pubPage, 'pub', { url: '/whip/' + stream, codec, wait: 8000 });
  const tPub = env.now();
  env.log(`${codec} publisher ${p.status} ${p.state}`);
  const res = { codec, publisher: { status: p.status, state: p.state, location: p.location } };
  if (p.status !== 201) {
    return res;
  }

  // timers may fire a millisecond early: wait until the delay has passed
  while (env.now() - tPub < delay) {
    await env.sleep(Math.max(1, delay - (env.now() - tPub)));
  }
  res.publisher.joinAfterMs = env.now() - tPub;
  res.publisher.stats = await rtc.stats(pubPage, 'pub');

  const v = await rtc.play(page, 'v', { url: '/whep/' + stream, firstFrame: 10000 });
  env.log(`${codec} viewer ${v.status} first frame ${v.firstFrameMs} ms`);
  res.viewer = {
    status: v.status, location: v.location, postMs: v.postMs,
    firstFrameMs: v.firstFrameMs,
  };
  if (v.status === 201) {
    const s = await rtc.stats(page, 'v');
    res.viewer.after = await rtc.waitFrames(page, 'v', s.video.framesDecoded, 10, 2000);
    res.viewer.state = res.viewer.after.state;
    res.viewer.codec = res.viewer.after.video.codec;
  }
  return res;
}

run(async (env) => {
  const prefix = env.param('STREAM', 'late');
  const codecs = env.param('CODECS', 'VP8,H264').split(',');
  const delay = Number(env.param('DELAY', 10000));

  const runs = await Promise.all(codecs.map((c) =>
    one(env, c, prefix + '-' + c.toLowerCase(), delay)));
  return { runs };
});
