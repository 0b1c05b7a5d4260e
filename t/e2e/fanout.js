'use strict';
// Fan-out: one publisher (WHIP) and several viewers (WHEP), each a page of
// one browser; every viewer must decode video and receive audio.
//
// Parameters (environment): E2E_STREAM (default "fanout"), E2E_CODEC
// (video codec the publisher prefers, default VP8), E2E_VIEWERS (3).
// Result: { publisher: {status, location, state, codec},
//           viewers: [{status, location, state, answerCodec, s1, s2}] }
// where s1 and s2 are stats one second apart.

const { run } = require('./lib/scenario');
const { answerCodec } = require('./lib/sdp');

run(async (env) => {
  const { rtc } = env;
  const stream = env.param('STREAM', 'fanout');
  const codec = env.param('CODEC', 'VP8');
  const n = Number(env.param('VIEWERS', 3));

  const pubPage = await env.page();
  const p = await rtc.publish(pubPage, 'pub', { url: '/whip/' + stream, codec, wait: 8000 });
  env.log(`publisher ${p.status} ${p.location} ${p.state}`);
  const publisher = {
    status: p.status, location: p.location, state: p.state,
    answerCodec: answerCodec(p.answer, 'video'),
  };
  if (p.status !== 201) {
    return { publisher, viewers: [], answer: p.answer };
  }

  const pages = [];
  for (let i = 0; i < n; i++) {
    pages.push(await env.page());
  }

  const plays = await Promise.all(pages.map((pg, i) =>
    rtc.play(pg, 'v' + i, { url: '/whep/' + stream, wait: 8000 })));

  const viewers = plays.map((v, i) => {
    env.log(`viewer ${i} ${v.status} ${v.location} ${v.state}`);
    return {
      status: v.status, location: v.location, state: v.state,
      answerCodec: answerCodec(v.answer, 'video'),
      audioCodec: answerCodec(v.answer, 'audio'),
    };
  });

  // first frames, then two samples a second apart
  await Promise.all(pages.map((pg, i) =>
    viewers[i].status === 201 ? rtc.waitFrames(pg, 'v' + i, 0, 0, 8000) : null));
  const s1 = await Promise.all(pages.map((pg, i) => rtc.stats(pg, 'v' + i)));
  await env.sleep(1000);
  const s2 = await Promise.all(pages.map((pg, i) => rtc.stats(pg, 'v' + i)));
  viewers.forEach((v, i) => { v.s1 = s1[i]; v.s2 = s2[i]; });

  publisher.stats = await rtc.stats(pubPage, 'pub');
  return { publisher, viewers };
});
