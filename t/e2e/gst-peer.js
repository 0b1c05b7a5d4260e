'use strict';
// Chromium on the other side of a GStreamer webrtcbin client (t/190):
// E2E_ROLE "view" plays a stream webrtcbin publishes, "publish" publishes
// one for webrtcbin to play.
//
// Parameters (environment): E2E_ROLE (view), E2E_STREAM (gst), E2E_CODEC
// (video codec the publisher prefers, VP8), E2E_HOLD (ms the publisher
// stays after connecting, 8000).
// Result: view: { viewer: {status, location, state, answerCodec, s1, s2} }
// with s1 and s2 stats one second apart after the first decoded frame;
// publish: { publisher: {status, location, state, answerCodec, stats,
// deleted} }.

const { run } = require('./lib/scenario');
const { answerCodec } = require('./lib/sdp');

run(async (env) => {
  const { rtc } = env;
  const role = env.param('ROLE', 'view');
  const stream = env.param('STREAM', 'gst');
  const page = await env.page();

  if (role === 'publish') {
    const codec = env.param('CODEC', 'VP8');
    const hold = Number(env.param('HOLD', 8000));
    const p = await rtc.publish(page, 'pub',
      { url: '/whip/' + stream, codec, wait: 8000 });
    env.log(`publisher ${p.status} ${p.location} ${p.state}`);
    const publisher = {
      status: p.status, location: p.location, state: p.state,
      answerCodec: answerCodec(p.answer, 'video'),
    };
    if (p.status !== 201) {
      publisher.answer = p.answer;
      return { publisher };
    }
    await env.sleep(hold);
    publisher.stats = await rtc.stats(page, 'pub');
    publisher.deleted = await rtc.del(page, 'pub');
    return { publisher };
  }

  const v = await rtc.play(page, 'v', { url: '/whep/' + stream, wait: 8000 });
  env.log(`viewer ${v.status} ${v.location} ${v.state}`);
  const viewer = {
    status: v.status, location: v.location, state: v.state,
    answerCodec: answerCodec(v.answer, 'video'),
  };
  if (v.status !== 201) {
    viewer.answer = v.answer;
    return { viewer };
  }
  viewer.s1 = await rtc.waitFrames(page, 'v', 0, 0, 8000);
  await env.sleep(1000);
  viewer.s2 = await rtc.stats(page, 'v');
  viewer.deleted = await rtc.del(page, 'v');
  return { viewer };
});
