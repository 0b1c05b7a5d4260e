'use strict';
// An H.264 publisher whose offer lies about its profile, as OBS does (it
// always writes profile-level-id=42e01f, E2E_LABEL): Chromium's encoder
// (OpenH264) only makes Constrained Baseline, so an encoded transform
// rewrites the profile_idc, constraint flags and level_idc of every SPS to
// E2E_PROFILE (default Main 4d401f: the same SPS syntax, so any decoder of
// Main still decodes the frames; with E2E_PROFILE 64001f, High, they are
// not decodable and E2E_FRAMES=0 skips waiting for frames).  Then:
// the status location's view of the stream, a viewer that can only decode
// Constrained Baseline (must be refused), and an ordinary viewer (must
// decode, its answer with the real profile).
//
// Result: { publisher: {status, state, offered, sent, stats},
//           status: <the stream's object of /status>,
//           cbViewer: {status, body}, viewer: {status, state, answerCodec,
//           s1, s2} }

const { run } = require('./lib/scenario');
const { answerCodec } = require('./lib/sdp');

run(async (env) => {
  const { rtc } = env;
  const stream = env.param('STREAM', 'h264-label');
  const profile = env.param('PROFILE', '4d401f');
  const label = env.param('LABEL', '42e01f');

  const pubPage = await env.page();
  const publisher = await pubPage.evaluate(async ([url, profile, label]) => {
    // every SPS of the encoded frames says the profile-level-id given
    const sps = [parseInt(profile.slice(0, 2), 16), parseInt(profile.slice(2, 4), 16),
      parseInt(profile.slice(4, 6), 16)];
    window.__spsRewritten = 0;
    const rewrite = new TransformStream({
      transform(frame, ctl) {
        const d = new Uint8Array(frame.data);
        for (let i = 0; i + 6 < d.length; i++) {
          if (d[i] === 0 && d[i + 1] === 0 && d[i + 2] === 1 && (d[i + 3] & 0x1f) === 7) {
            d[i + 4] = sps[0];
            d[i + 5] = sps[1];
            d[i + 6] = sps[2];
            window.__spsRewritten++;
          }
        }
        frame.data = d.buffer;
        ctl.enqueue(frame);
      },
    });

    const ms = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle',
      encodedInsertableStreams: true });
    window.__pub = pc;
    for (const t of ms.getTracks()) {
      const tr = pc.addTransceiver(t, { direction: 'sendonly' });
      const es = tr.sender.createEncodedStreams();
      if (t.kind === 'video') {
        const caps = RTCRtpSender.getCapabilities('video').codecs;
        const h264 = caps.filter((c) => c.mimeType === 'video/H264'
          && /packetization-mode=1/.test(c.sdpFmtpLine || '')
          && new RegExp('profile-level-id=' + label).test(c.sdpFmtpLine || ''));
        if (!h264.length) {
          throw new Error('no H.264 ' + label + ' to send');
        }
        tr.setCodecPreferences(h264.slice(0, 1));
        es.readable.pipeThrough(rewrite).pipeTo(es.writable);
      } else {
        es.readable.pipeTo(es.writable);
      }
    }
    await pc.setLocalDescription(await pc.createOffer());
    const res = await fetch(url, {
      method: 'POST', headers: { 'Content-Type': 'application/sdp' },
      body: pc.localDescription.sdp,
    });
    const body = await res.text();
    const out = { status: res.status, location: res.headers.get('Location'), answer: body };
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
  }, ['/whip/' + stream, profile, label]);

  env.log(`publisher ${publisher.status} ${publisher.state}`);
  publisher.answerCodec = answerCodec(publisher.answer, 'video');
  if (publisher.status !== 201) {
    return { publisher };
  }

  // key frames: the first at once, another after a PLI
  await env.sleep(2000);

  publisher.sent = await pubPage.evaluate(async () => {
    const st = await window.__pub.getStats();
    let out = null;
    st.forEach((s) => {
      if (s.type === 'outbound-rtp' && s.kind === 'video') {
        const c = s.codecId && st.get(s.codecId);
        out = { framesEncoded: s.framesEncoded, encoder: s.encoderImplementation,
          codec: c ? c.mimeType + ' ' + (c.sdpFmtpLine || '') : null };
      }
    });
    out.spsRewritten = window.__spsRewritten;
    return out;
  });

  const status = await pubPage.evaluate(async (name) => {
    const res = await fetch('/status?stream=' + name);
    const j = await res.json();
    return (j.streams || [])[0] || null;
  }, stream);

  // a viewer that only takes Constrained Baseline

  const cbPage = await env.page();
  const cbViewer = await cbPage.evaluate(async (url) => {
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    const tr = pc.addTransceiver('video', { direction: 'recvonly' });
    const caps = RTCRtpReceiver.getCapabilities('video').codecs;
    tr.setCodecPreferences(caps.filter((c) => c.mimeType === 'video/H264'
      && /profile-level-id=42e01f/.test(c.sdpFmtpLine || '')));
    await pc.setLocalDescription(await pc.createOffer());
    const res = await fetch(url, {
      method: 'POST', headers: { 'Content-Type': 'application/sdp' },
      body: pc.localDescription.sdp,
    });
    const out = { status: res.status, body: await res.text(),
      offered: (pc.localDescription.sdp.match(/profile-level-id=\w+/g) || []) };
    pc.close();
    return out;
  }, '/whep/' + stream);

  env.log(`constrained baseline viewer ${cbViewer.status}`);

  // an ordinary viewer

  const vPage = await env.page();
  const v = await rtc.play(vPage, 'v', { url: '/whep/' + stream, wait: 8000 });
  const viewer = { status: v.status, state: v.state,
    answerCodec: answerCodec(v.answer, 'video') };
  env.log(`viewer ${v.status} ${v.state}`);

  if (v.status === 201 && env.param('FRAMES', '1') === '1') {
    viewer.s1 = await rtc.waitFrames(vPage, 'v', 0, 0, 8000);
    await env.sleep(1000);
    viewer.s2 = await rtc.stats(vPage, 'v');
  }

  return { publisher, status, cbViewer, viewer };
});
