'use strict';
// Firefox and Chromium on either side: for each run one browser publishes
// (WHIP, VP8) and the other (or the same) plays (WHEP); the viewer must
// decode video and receive audio.  One Firefox and one Chromium serve all
// runs, one page each.
//
// Parameters (environment): E2E_RUNS, a comma-separated list of
// "PUBLISHER:VIEWER:BUNDLEPOLICY" (browsers "firefox" or "chromium",
// policies "max-bundle" or "balanced"), default
// "firefox:chromium:balanced,chromium:firefox:balanced".
// Result: { runs: [{ name, publisher: {status, location, state, answerCodec,
//           mlines, offerMlines, stats}, viewer: {status, location, state,
//           answerCodec, mlines, s1, s2} }] }
// where s1 and s2 are the viewer's stats one second apart.

const { run } = require('./lib/scenario');
const { answerCodec } = require('./lib/sdp');

const mlines = (sdp) => (sdp || '').match(/^m=.*$/mg) || [];

run(async (env) => {
  const { rtc } = env;
  const runs = env.param('RUNS',
    'firefox:chromium:balanced,chromium:firefox:balanced').split(',');
  const pages = {};
  const page = async (b) => {
    if (!pages[b]) {
      pages[b] = b === 'firefox' ? await env.firefoxPage() : await env.page();
    }
    return pages[b];
  };
  const out = [];

  for (let i = 0; i < runs.length; i++) {
    const [pub, view, bundlePolicy] = runs[i].split(':');
    const name = `${pub}-${view}-${bundlePolicy}`;
    const stream = `xb-${i}`;
    const r = { name, publisher: {}, viewer: {} };
    out.push(r);

    const pp = await page(pub);
    const vp = await page(view);
    const pn = 'p' + i;
    const vn = 'v' + i;

    const p = await rtc.publish(pp, pn,
      { url: '/whip/' + stream, codec: 'VP8', wait: 6000, bundlePolicy });
    env.log(`${name}: publisher ${p.status} ${p.location} ${p.state}`);
    Object.assign(r.publisher, {
      status: p.status, location: p.location, state: p.state,
      answerCodec: answerCodec(p.answer, 'video'),
      mlines: mlines(p.answer), offerMlines: mlines(p.offer),
    });
    if (p.status !== 201) {
      r.publisher.answer = p.answer;
      continue;
    }

    const v = await rtc.play(vp, vn, { url: '/whep/' + stream, wait: 6000, bundlePolicy });
    env.log(`${name}: viewer ${v.status} ${v.location} ${v.state}`);
    Object.assign(r.viewer, {
      status: v.status, location: v.location, state: v.state,
      answerCodec: answerCodec(v.answer, 'video'),
      mlines: mlines(v.answer), offerMlines: mlines(v.offer),
    });

    if (v.status === 201) {
      await rtc.waitFrames(vp, vn, 0, 0, 6000);
      r.viewer.s1 = await rtc.stats(vp, vn);
      await env.sleep(1000);
      r.viewer.s2 = await rtc.stats(vp, vn);
      env.log(`${name}: frames ${r.viewer.s1.video.framesDecoded}`
        + ` -> ${r.viewer.s2.video.framesDecoded}`);
      await rtc.del(vp, vn);
      await rtc.close(vp, vn);
    } else {
      r.viewer.answer = v.answer;
    }

    r.publisher.stats = await rtc.stats(pp, pn);
    await rtc.del(pp, pn);
    await rtc.close(pp, pn);
  }

  return { runs: out };
});
