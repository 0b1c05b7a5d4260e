'use strict';
// Fingerprint check: a publisher whose offer carries an altered
// a=fingerprint gets its 201 but no media through; a viewer of its stream
// decodes nothing, while a normal publisher and viewer of another stream
// work at the same time.
//
// The viewer of the bad stream joins after the bad publisher's 201 and
// before that publisher applies the answer (WHEP answers 404 for a stream
// never published), so it waits on the stream while the publisher's DTLS
// handshake fails.
//
// Parameters: E2E_BAD (stream, "bad"), E2E_GOOD ("good"), E2E_CODEC (VP8),
// E2E_WATCH (ms to watch the bad viewer, 5000).
// Result: { bad: {publisher, viewer}, good: {publisher, viewer} }

const { run } = require('./lib/scenario');

run(async (env) => {
  const { rtc } = env;
  const bad = env.param('BAD', 'bad');
  const good = env.param('GOOD', 'good');
  const codec = env.param('CODEC', 'VP8');
  const watch = Number(env.param('WATCH', 5000));

  const [bp, bv, gp, gv] = [await env.page(), await env.page(),
    await env.page(), await env.page()];

  // bad publisher: 201, the answer is applied after the viewer joined
  const b = await rtc.publish(bp, 'pub', {
    url: '/whip/' + bad, codec, mangleFingerprint: true, noAnswer: true,
  });
  env.log(`bad publisher ${b.status} ${b.location}`);
  const res = {
    bad: {
      publisher: {
        status: b.status, location: b.location,
        fingerprint: b.fingerprint, sentFingerprint: b.sentFingerprint,
      },
    },
    good: {},
  };
  if (b.status !== 201) {
    return res;
  }

  const v = await rtc.play(bv, 'v', { url: '/whep/' + bad, wait: 8000 });
  env.log(`bad viewer ${v.status} ${v.state}`);
  res.bad.viewer = { status: v.status, location: v.location, state: v.state };

  const start = env.now();
  res.bad.publisher.state = await rtc.answer(bp, 'pub', 3000);
  env.log(`bad publisher after answer: ${res.bad.publisher.state}`);

  // a normal publisher and viewer on another stream, meanwhile
  const g = await rtc.publish(gp, 'pub', { url: '/whip/' + good, codec, wait: 8000 });
  const w = await rtc.play(gv, 'v', { url: '/whep/' + good, wait: 8000 });
  env.log(`good publisher ${g.status} ${g.state}, viewer ${w.status} ${w.state}`);
  res.good.publisher = { status: g.status, location: g.location, state: g.state };
  res.good.viewer = { status: w.status, location: w.location, state: w.state };
  if (w.status === 201) {
    res.good.viewer.s1 = await rtc.waitFrames(gv, 'v', 0, 0, 5000);
  }

  await env.sleep(Math.max(0, watch - (env.now() - start)));

  if (w.status === 201) {
    res.good.viewer.s2 = await rtc.waitFrames(gv, 'v',
      res.good.viewer.s1.video.framesDecoded, 10, 3000);
  }
  if (v.status === 201) {
    res.bad.viewer.stats = await rtc.stats(bv, 'v');
  }
  res.bad.publisher.watchedMs = env.now() - start;
  res.bad.publisher.stats = await rtc.stats(bp, 'pub');
  return res;
});
