'use strict';
// ICE restart (RFC 9725, 4.4.2) of playing viewers: each viewer restarts
// ICE with PATCH If-Match: "*"; Chromium gathers again from new local
// ports, which reuseport may steer to the other nginx worker than the one
// holding the session's DTLS and SRTP state.  Frames must keep coming.
//
// Parameters: E2E_STREAM ("rs"), E2E_VIEWERS (4).
// Result: { publisher: {status, state},
//           viewers: [{status, location, restart, state, before, after,
//                      pathBefore, pathAfter}] }

const { run } = require('./lib/scenario');

run(async (env) => {
  const { rtc } = env;
  const stream = env.param('STREAM', 'rs');
  const n = Number(env.param('VIEWERS', 4));

  const pp = await env.page();
  const p = await rtc.publish(pp, 'pub', { url: '/whip/' + stream, codec: 'VP8', wait: 8000 });
  const res = { publisher: { status: p.status, state: p.state }, viewers: [] };
  if (p.status !== 201) {
    return res;
  }

  for (let i = 0; i < n; i++) {
    const pv = await env.page();
    const v = await rtc.play(pv, 'v', { url: '/whep/' + stream, wait: 8000 });
    const r = { status: v.status, location: v.location };
    res.viewers.push(r);
    if (v.status !== 201) {
      continue;
    }

    const before = await rtc.waitFrames(pv, 'v', 0, 10, 8000);
    r.before = before.video.framesDecoded;

    Object.assign(r, await pv.evaluate(async () => {
      const e = window.__rtc.pcs.v;
      const pc = e.pc;

      const path = async () => {
        const st = await pc.getStats();
        let a = '';
        st.forEach((s) => {
          if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') {
            const l = st.get(s.localCandidateId);
            a = l.address + ':' + l.port;
          }
        });
        return a;
      };

      const pathBefore = await path();

      pc.restartIce();
      const offer = await pc.createOffer({ iceRestart: true });
      await pc.setLocalDescription(offer);

      const ufrag = offer.sdp.match(/a=ice-ufrag:(\S+)/)[1];
      const pwd = offer.sdp.match(/a=ice-pwd:(\S+)/)[1];
      const mid = offer.sdp.match(/a=mid:(\S+)/)[1];

      const res = await fetch(e.location, {
        method: 'PATCH',
        headers: { 'Content-Type': 'application/trickle-ice-sdpfrag', 'If-Match': '"*"' },
        body: `a=ice-ufrag:${ufrag}\r\na=ice-pwd:${pwd}\r\n`
          + `m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:${mid}\r\n`,
      });
      const frag = await res.text();
      if (res.status !== 200) {
        return { restart: res.status, error: frag };
      }

      const nu = frag.match(/a=ice-ufrag:(\S+)/)[1];
      const np = frag.match(/a=ice-pwd:(\S+)/)[1];
      const sdp = pc.remoteDescription.sdp
        .replace(/a=ice-ufrag:\S+/g, 'a=ice-ufrag:' + nu)
        .replace(/a=ice-pwd:\S+/g, 'a=ice-pwd:' + np);
      await pc.setRemoteDescription({ type: 'answer', sdp });

      /* the new pair is checked and selected */
      const end = performance.now() + 5000;
      let p2 = pathBefore;
      while (performance.now() < end) {
        await new Promise((r) => setTimeout(r, 200));
        p2 = await path();
        if (p2 && p2 !== pathBefore) {
          break;
        }
      }

      return { restart: res.status, pathBefore, pathAfter: p2 };
    }));

    const after = await rtc.waitFrames(pv, 'v', r.before, 20, 6000);
    r.after = after.video.framesDecoded;
    r.state = (await rtc.stats(pv, 'v')).state;
    env.log(`viewer ${i}: restart ${r.restart}, ${r.pathBefore} -> ${r.pathAfter}, `
      + `frames ${r.before} -> ${r.after}`);
  }

  return res;
});
