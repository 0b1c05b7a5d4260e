'use strict';
// Republish: a publisher stops (DELETE of its Location, pc.close()) and a
// new one starts on the same stream; the connected viewer decodes the new
// publisher's frames without reconnecting.  The new publisher sends at
// half the resolution (scaleResolutionDownBy 2) to tell its frames apart.
//
// Parameters: E2E_STREAM ("re"), E2E_CODEC (VP8), E2E_WAIT (ms, 5000: how
// long the viewer may take to decode 10 new frames).
// Result: { first: {status, state, deleteStatus}, second: {status, state},
//           viewer: {status, state, states, before, gap, after} }

const { run } = require('./lib/scenario');

run(async (env) => {
  const { rtc } = env;
  const stream = env.param('STREAM', 're');
  const codec = env.param('CODEC', 'VP8');
  const wait = Number(env.param('WAIT', 5000));

  const [pa, pb, pv] = [await env.page(), await env.page(), await env.page()];

  const a = await rtc.publish(pa, 'pub', { url: '/whip/' + stream, codec, wait: 8000 });
  env.log(`first publisher ${a.status} ${a.state}`);
  const res = { first: { status: a.status, state: a.state, location: a.location } };
  if (a.status !== 201) {
    return res;
  }

  const v = await rtc.play(pv, 'v', { url: '/whep/' + stream, wait: 8000 });
  res.viewer = { status: v.status, location: v.location };
  if (v.status !== 201) {
    return res;
  }
  // decoding the first publisher
  res.viewer.before = await rtc.waitFrames(pv, 'v', 0, 20, 8000);
  env.log(`viewer ${v.status}, ${res.viewer.before.video.framesDecoded} frames`);

  // the switch
  res.first.deleteStatus = await rtc.del(pa, 'pub');
  await rtc.close(pa, 'pub');
  await env.sleep(500);
  res.viewer.gap = await rtc.stats(pv, 'v');
  env.log(`first publisher deleted (${res.first.deleteStatus}), viewer at `
    + `${res.viewer.gap.video.framesDecoded} frames`);

  const b = await rtc.publish(pb, 'pub', { url: '/whip/' + stream, codec, scale: 2, wait: 8000 });
  res.second = { status: b.status, state: b.state, location: b.location };
  env.log(`second publisher ${b.status} ${b.state}`);

  // 10 new frames, then until the new resolution shows (same bound)
  const from = res.viewer.gap.video.framesDecoded;
  const t0 = env.now();
  res.viewer.after = await rtc.waitFrames(pv, 'v', from, 10, wait);
  res.viewer.after.sincePostMs = env.now() - t0;
  let s = res.viewer.after;
  while (!(s.video.frameWidth > 0 && s.video.frameWidth <= 320) && env.now() - t0 < wait) {
    await env.sleep(100);
    s = await rtc.stats(pv, 'v');
  }
  res.viewer.end = s;
  res.viewer.state = s.state;
  res.viewer.states = s.states;
  res.second.stats = await rtc.stats(pb, 'pub');
  env.log(`viewer at ${s.video.framesDecoded} frames, ${s.video.frameWidth} wide`);
  return res;
});
