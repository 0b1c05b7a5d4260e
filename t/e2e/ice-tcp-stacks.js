'use strict';
// ICE-TCP with Firefox (t/406): a Firefox publisher (WHIP, VP8), a
// Firefox viewer (WHEP, in the publisher's tab: Firefox fires a
// background tab's timers once a second) and a Chromium viewer of its
// stream, each told by its location which candidates the server has.
// Each must reach connected and the viewers decode; the result has each
// peer connection's selected candidate pair (which transport carries its
// media) and the viewers' stats after the first frames and 1.5 s later.
//
// Parameters (environment): E2E_PUB (the WHIP path), E2E_VIEW (the WHEP
// path of both viewers).
// Result: { publisher: {status, location, state, answer, offerCandidates,
//           path}, viewers: [{name, status, location, state, answer, s1,
//           s2, path}] }, path: see pathOf() below.

const { run } = require('./lib/scenario');

// Runs in the page: the selected candidate pair of peer connection
// "name", found as the transport report's selectedCandidatePairId names
// it (Chromium), else the candidate pair marked "selected" (Firefox's
// own field), else the nominated pair that succeeded; with every
// local candidate's protocol and type (what the browser gathered)
async function pathOf(name) {
  const e = window.__rtc.pcs[name];
  const out = { how: null, state: null, local: null, remote: null, gathered: [] };
  if (!e || e.pc.connectionState === 'closed') {
    return out;
  }
  const st = await e.pc.getStats();
  let pair = null;
  st.forEach((s) => {
    if (!pair && s.type === 'transport' && s.selectedCandidatePairId) {
      pair = st.get(s.selectedCandidatePairId) || null;
      out.how = pair && 'transport';
    }
  });
  st.forEach((s) => {
    if (!pair && s.type === 'candidate-pair' && s.selected) {
      pair = s;
      out.how = 'selected';
    }
  });
  st.forEach((s) => {
    if (!pair && s.type === 'candidate-pair' && s.nominated
        && s.state === 'succeeded') {
      pair = s;
      out.how = 'nominated';
    }
  });
  st.forEach((s) => {
    if (s.type === 'local-candidate') {
      out.gathered.push(`${s.protocol} ${s.candidateType}`
        + (s.tcpType ? ' ' + s.tcpType : ''));
    }
  });
  const cand = (id) => {
    const c = id && st.get(id);
    return c ? { protocol: c.protocol, type: c.candidateType,
      address: c.address, port: c.port, tcpType: c.tcpType || null } : null;
  };
  if (pair) {
    out.state = pair.state;
    out.local = cand(pair.localCandidateId);
    out.remote = cand(pair.remoteCandidateId);
  }
  return out;
}

const candidates = (sdp) => (sdp || '').match(/^a=candidate:.*$/mg) || [];

run(async (env) => {
  const { rtc } = env;
  const pub = env.param('PUB', '/whip-tcp/ff-tcp');
  const view = env.param('VIEW', '/whep-tcp/ff-tcp');
  const path = (pg, name) => pg.evaluate(pathOf, name);

  const ff = await env.firefoxPage();
  const p = await rtc.publish(ff, 'pub', { url: pub, codec: 'VP8', wait: 10000 });
  env.log(`firefox publisher ${p.status} ${p.location} ${p.state}`);

  const publisher = { status: p.status, location: p.location, state: p.state,
    answer: p.answer, offerCandidates: candidates(p.offer) };
  env.partial = { publisher };
  if (p.status !== 201) {
    return { publisher, viewers: [] };
  }

  const cr = await env.page();
  const vs = [{ name: 'firefox', page: ff, pc: 'fv' },
    { name: 'chromium', page: cr, pc: 'cv' }];

  const plays = await Promise.all(vs.map((v) =>
    rtc.play(v.page, v.pc, { url: view, wait: 10000 })));

  const viewers = plays.map((r, i) => {
    env.log(`${vs[i].name} viewer ${r.status} ${r.location} ${r.state}`);
    return { name: vs[i].name, status: r.status, location: r.location,
      state: r.state, answer: r.answer };
  });
  env.partial = { publisher, viewers };

  await Promise.all(vs.map((v, i) =>
    viewers[i].status === 201 ? rtc.waitFrames(v.page, v.pc, 0, 0, 10000) : null));

  for (let i = 0; i < vs.length; i++) {
    viewers[i].s1 = await rtc.stats(vs[i].page, vs[i].pc);
  }
  await env.sleep(1500);
  for (let i = 0; i < vs.length; i++) {
    viewers[i].s2 = await rtc.stats(vs[i].page, vs[i].pc);
    viewers[i].path = await path(vs[i].page, vs[i].pc);
    env.log(`${vs[i].name} viewer: frames ${viewers[i].s1.video.framesDecoded}`
      + ` -> ${viewers[i].s2.video.framesDecoded}, path `
      + JSON.stringify(viewers[i].path));
  }
  publisher.path = await path(ff, 'pub');
  publisher.stats = await rtc.stats(ff, 'pub');
  env.log('firefox publisher path ' + JSON.stringify(publisher.path));

  for (let i = vs.length - 1; i >= 0; i--) {
    if (viewers[i].status === 201) {
      await rtc.del(vs[i].page, vs[i].pc);
      await rtc.close(vs[i].page, vs[i].pc);
    }
  }
  await rtc.del(ff, 'pub');
  await rtc.close(ff, 'pub');

  return { publisher, viewers };
});
