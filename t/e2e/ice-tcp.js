'use strict';
// ICE-TCP: a publisher and viewers, each told by its location which
// candidates the server has: E2E_PUB (the WHIP path), E2E_VIEWS (WHEP
// paths, comma-separated).  Each must reach connected and its viewers
// decode; the result has each one's stats (with the selected candidate
// pair) after the first frames and a second later.

const { run } = require('./lib/scenario');

run(async (env) => {
  const { rtc } = env;
  const pub = env.param('PUB', '/whip-tcp/icetcp');
  const views = env.param('VIEWS', '/whep-tcp/icetcp,/whep/icetcp').split(',');

  const pubPage = await env.page();
  const p = await rtc.publish(pubPage, 'pub', { url: pub, wait: 10000 });
  env.log(`publisher ${p.status} ${p.location} ${p.state}`);

  const publisher = { status: p.status, state: p.state, answer: p.answer };
  if (p.status !== 201) {
    return { publisher, viewers: [] };
  }

  const pages = [];
  for (let i = 0; i < views.length; i++) {
    pages.push(await env.page());
  }

  const plays = await Promise.all(pages.map((pg, i) =>
    rtc.play(pg, 'v' + i, { url: views[i], wait: 10000 })));

  const viewers = plays.map((v, i) => {
    env.log(`viewer ${i} ${views[i]} ${v.status} ${v.location} ${v.state}`);
    return { url: views[i], status: v.status, state: v.state, answer: v.answer };
  });

  await Promise.all(pages.map((pg, i) =>
    viewers[i].status === 201 ? rtc.waitFrames(pg, 'v' + i, 0, 0, 10000) : null));

  for (let i = 0; i < pages.length; i++) {
    viewers[i].s1 = await rtc.stats(pages[i], 'v' + i);
  }
  await env.sleep(1500);
  for (let i = 0; i < pages.length; i++) {
    viewers[i].s2 = await rtc.stats(pages[i], 'v' + i);
  }
  publisher.stats = await rtc.stats(pubPage, 'pub');

  return { publisher, viewers };
});
