'use strict';
// Simulcast: Chromium publishes over WHIP with three encodings, rids "0",
// "1" and "2" (scaleResolutionDownBy 1, 2 and 4; OBS 32.1+ names its
// layers the same way, "0" the full resolution); the server forwards layer
// "0" alone, so a viewer decodes the full width, without freezes.
//
// Parameters (environment): E2E_STREAM (default "simulcast"), E2E_CODEC
// (VP8), E2E_SECONDS (how long the viewer is watched, 4), E2E_LAYERS (3;
// 1: no simulcast, to compare).
// Result: { publisher: {status, state, answer, layers: [{rid, width,
//           framesEncoded, packetsSent}]},
//           viewer: {status, state, s1, s2} }
// where s1 and s2 are the viewer's video stats E2E_SECONDS apart.

const { run } = require('./lib/scenario');

run(async (env) => {
  const { rtc } = env;
  const stream = env.param('STREAM', 'simulcast');
  const codec = env.param('CODEC', 'VP8');
  const seconds = Number(env.param('SECONDS', 4));
  const layers = Number(env.param('LAYERS', 3));

  const pubPage = await env.page();
  const publisher = await pubPage.evaluate(async ([url, codec, layers]) => {
    const ms = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    window.__pub = pc;
    for (const t of ms.getTracks()) {
      const init = { direction: 'sendonly' };
      if (t.kind === 'video' && layers > 1) {
        init.sendEncodings = [
          { rid: '0', scaleResolutionDownBy: 1 },
          { rid: '1', scaleResolutionDownBy: 2 },
          { rid: '2', scaleResolutionDownBy: 4 },
        ].slice(0, layers);
      }
      const tr = pc.addTransceiver(t, init);
      if (t.kind === 'video') {
        const mime = 'video/' + codec.toLowerCase();
        const caps = RTCRtpSender.getCapabilities('video').codecs;
        tr.setCodecPreferences(caps.filter((c) => c.mimeType.toLowerCase() === mime)
          .concat(caps.filter((c) => c.mimeType.toLowerCase() !== mime)));
      }
    }
    await pc.setLocalDescription(await pc.createOffer());
    const res = await fetch(url, {
      method: 'POST', headers: { 'Content-Type': 'application/sdp' },
      body: pc.localDescription.sdp,
    });
    const body = await res.text();
    const out = { status: res.status, location: res.headers.get('Location'),
      offer: pc.localDescription.sdp, answer: body };
    if (res.status !== 201) {
      return out;
    }
    await pc.setRemoteDescription({ type: 'answer', sdp: body });
    const end = performance.now() + 8000;
    while (pc.connectionState !== 'connected' && performance.now() < end) {
      await new Promise((r) => setTimeout(r, 50));
    }
    out.state = pc.connectionState;
    return out;
  }, ['/whip/' + stream, codec, layers]);

  env.log(`publisher ${publisher.status} ${publisher.state}`);
  if (publisher.status !== 201) {
    return { publisher };
  }

  const vPage = await env.page();
  const v = await rtc.play(vPage, 'v', { url: '/whep/' + stream, wait: 8000 });
  const viewer = { status: v.status, state: v.state, answer: v.answer };
  env.log(`viewer ${v.status} ${v.state}`);

  const videoStats = (page) => page.evaluate(async () => {
    const pc = window.__rtc.pcs.v.pc;
    const st = await pc.getStats();
    let out = {};
    st.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') {
        out = { framesDecoded: s.framesDecoded || 0, frameWidth: s.frameWidth || 0,
          frameHeight: s.frameHeight || 0, freezeCount: s.freezeCount || 0,
          totalFreezesDuration: s.totalFreezesDuration || 0,
          packetsReceived: s.packetsReceived || 0, packetsLost: s.packetsLost || 0,
          ssrc: s.ssrc };
      }
    });
    return out;
  });

  if (v.status === 201) {
    // the first key frame of layer 0, then a steady picture
    await rtc.waitFrames(vPage, 'v', 0, 20, 8000);
    viewer.s1 = await videoStats(vPage);
    await env.sleep(seconds * 1000);
    viewer.s2 = await videoStats(vPage);
  }

  publisher.layers = await pubPage.evaluate(async () => {
    const st = await window.__pub.getStats();
    const out = [];
    st.forEach((s) => {
      if (s.type === 'outbound-rtp' && s.kind === 'video') {
        out.push({ rid: s.rid, ssrc: s.ssrc, width: s.frameWidth || 0,
          framesEncoded: s.framesEncoded || 0, packetsSent: s.packetsSent || 0,
          active: s.active });
      }
    });
    return out.sort((a, b) => String(a.rid).localeCompare(String(b.rid)));
  });

  return { publisher, viewer };
});
