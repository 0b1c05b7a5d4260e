'use strict';
// WebRTC helpers for end-to-end tests: publish over WHIP and play over WHEP
// from pages of the nginx origin, read getStats() numbers.
//
// The WebRTC code runs inside the page (page.evaluate); the page keeps its
// peer connections by name in window.__rtc.  Each node-side function takes a
// playwright page and a name; all waits are bounded and done in the page.
//
//   const rtc = require('./lib/rtc');
//   await rtc.install(page);                       // once per page
//   const p = await rtc.publish(page, 'pub', { url: '/whip/s', codec: 'VP8' });
//   const v = await rtc.play(page, 'v1', { url: '/whep/s' });
//   const s = await rtc.stats(page, 'v1');         // { video: {...}, audio: {...},
//                                                  //   srtpCipher }

// Runs in the page: defines window.__rtc.
function pageLib() {
  if (window.__rtc) {
    return;
  }

  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const pcs = {};

  function track(name, pc) {
    const e = { pc, states: [pc.connectionState], t0: performance.now() };
    pc.addEventListener('connectionstatechange', () => {
      e.states.push(pc.connectionState);
    });
    pcs[name] = e;
    return e;
  }

  async function waitConnected(pc, ms) {
    const end = performance.now() + ms;
    while (pc.connectionState !== 'connected' && performance.now() < end) {
      if (pc.connectionState === 'failed' || pc.connectionState === 'closed') {
        break;
      }
      await sleep(50);
    }
    return pc.connectionState;
  }

  // a different value for every a=fingerprint of the SDP: the first hex
  // pair of each digest is inverted (all occurrences alike)
  function mangleFingerprint(sdp) {
    return sdp.replace(/^(a=fingerprint:\S+ )([0-9A-Fa-f]{2})/mg, (m, pre, hex) => {
      const v = (parseInt(hex, 16) ^ 0xff).toString(16).toUpperCase();
      return pre + v.padStart(2, '0');
    });
  }

  async function post(url, sdp) {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/sdp' },
      body: sdp,
    });
    return {
      status: res.status,
      location: res.headers.get('Location'),
      etag: res.headers.get('ETag'),
      body: await res.text(),
    };
  }

  // o: { url, codec ('VP8', 'H264', ...), mangleFingerprint, scale,
  //      wait (ms to wait for 'connected', 0: do not wait), noAnswer,
  //      bundlePolicy ('max-bundle' by default) }
  async function publish(name, o) {
    const ms = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    const pc = new RTCPeerConnection({ bundlePolicy: o.bundlePolicy || 'max-bundle' });
    const e = track(name, pc);
    e.media = ms;

    for (const t of ms.getTracks()) {
      const init = { direction: 'sendonly' };
      if (t.kind === 'video' && o.scale) {
        init.sendEncodings = [{ scaleResolutionDownBy: o.scale }];
      }
      const tr = pc.addTransceiver(t, init);
      if (t.kind === 'video' && o.codec) {
        const mime = 'video/' + o.codec.toLowerCase();
        const caps = RTCRtpSender.getCapabilities('video').codecs;
        const first = caps.filter((c) => c.mimeType.toLowerCase() === mime);
        if (!first.length) {
          throw new Error('no ' + o.codec + ' in the sender capabilities');
        }
        tr.setCodecPreferences(first.concat(
          caps.filter((c) => c.mimeType.toLowerCase() !== mime)));
      }
    }

    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);

    let sdp = pc.localDescription.sdp;
    const fp = (sdp.match(/^a=fingerprint:(.*)$/m) || [])[1] || null;
    if (o.mangleFingerprint) {
      sdp = mangleFingerprint(sdp);
    }

    const r = await post(o.url, sdp);
    e.location = r.location;
    const out = {
      status: r.status, location: r.location, etag: r.etag,
      answer: r.body, offer: sdp, fingerprint: fp,
      sentFingerprint: (sdp.match(/^a=fingerprint:(.*)$/m) || [])[1] || null,
    };

    if (r.status !== 201 || o.noAnswer) {
      e.pendingAnswer = r.body;
      out.state = pc.connectionState;
      return out;
    }

    await pc.setRemoteDescription({ type: 'answer', sdp: r.body });
    out.state = o.wait ? await waitConnected(pc, o.wait) : pc.connectionState;
    return out;
  }

  // apply an answer kept by publish(..., { noAnswer: true })
  async function answer(name, wait) {
    const e = pcs[name];
    await e.pc.setRemoteDescription({ type: 'answer', sdp: e.pendingAnswer });
    return wait ? waitConnected(e.pc, wait) : e.pc.connectionState;
  }

  // o: { url, wait, firstFrame (ms: poll getStats every 50 ms until the
  //      first decoded video frame), bundlePolicy ('max-bundle') }
  async function play(name, o) {
    const pc = new RTCPeerConnection({ bundlePolicy: o.bundlePolicy || 'max-bundle' });
    const e = track(name, pc);
    pc.addTransceiver('audio', { direction: 'recvonly' });
    pc.addTransceiver('video', { direction: 'recvonly' });

    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);

    const t0 = performance.now();
    const r = await post(o.url, pc.localDescription.sdp);
    const tPost = performance.now() - t0;
    e.location = r.location;
    const out = {
      status: r.status, location: r.location, answer: r.body,
      offer: pc.localDescription.sdp, postMs: Math.round(tPost),
    };

    if (r.status !== 201) {
      return out;
    }

    await pc.setRemoteDescription({ type: 'answer', sdp: r.body });

    if (o.firstFrame) {
      const end = t0 + o.firstFrame;
      out.firstFrameMs = null;
      while (performance.now() < end) {
        const v = (await stats(name)).video;
        if (v.framesDecoded > 0) {
          out.firstFrameMs = Math.round(performance.now() - t0);
          break;
        }
        await sleep(50);
      }
    }

    out.state = o.wait ? await waitConnected(pc, o.wait) : pc.connectionState;
    return out;
  }

  async function stats(name) {
    const e = pcs[name];
    const out = {
      state: e.pc.connectionState,
      ice: e.pc.iceConnectionState,
      states: e.states.slice(),
      video: { framesDecoded: 0, frameWidth: 0, frameHeight: 0, packetsReceived: 0,
        framesEncoded: 0, packetsSent: 0, codec: null },
      audio: { packetsReceived: 0, packetsSent: 0, codec: null },
      srtpCipher: null,
    };
    if (e.pc.connectionState === 'closed') {
      return out;
    }
    const st = await e.pc.getStats();
    st.forEach((s) => {
      if (s.type === 'transport') {
        out.srtpCipher = s.srtpCipher || null;
        // the selected pair's candidates: which transport carries media
        const pair = s.selectedCandidatePairId && st.get(s.selectedCandidatePairId);
        const l = pair && st.get(pair.localCandidateId);
        const r = pair && st.get(pair.remoteCandidateId);
        if (l && r) {
          out.path = {
            local: { protocol: l.protocol, type: l.candidateType,
              relayProtocol: l.relayProtocol || null, tcpType: l.tcpType || null },
            remote: { protocol: r.protocol, type: r.candidateType,
              address: r.address, port: r.port, tcpType: r.tcpType || null },
          };
        }
        return;
      }
      if (s.type !== 'inbound-rtp' && s.type !== 'outbound-rtp') {
        return;
      }
      const k = out[s.kind];
      if (!k) {
        return;
      }
      if (s.type === 'inbound-rtp') {
        k.packetsReceived = s.packetsReceived || 0;
        if (s.kind === 'video') {
          k.framesDecoded = s.framesDecoded || 0;
          k.frameWidth = s.frameWidth || 0;
          k.frameHeight = s.frameHeight || 0;
        }
      } else {
        k.packetsSent = s.packetsSent || 0;
        if (s.kind === 'video') {
          k.framesEncoded = s.framesEncoded || 0;
          k.frameWidth = s.frameWidth || 0;
        }
      }
      const c = s.codecId && st.get(s.codecId);
      if (c) {
        k.codec = c.mimeType + (c.sdpFmtpLine ? ' ' + c.sdpFmtpLine : '');
      }
    });
    return out;
  }

  // poll until video framesDecoded > from + n, at most ms; returns the
  // last stats and the time it took
  async function waitFrames(name, from, n, ms) {
    const t0 = performance.now();
    let s;
    for (;;) {
      s = await stats(name);
      if (s.video.framesDecoded > from + n || performance.now() - t0 >= ms) {
        break;
      }
      await sleep(50);
    }
    s.waitedMs = Math.round(performance.now() - t0);
    s.reached = s.video.framesDecoded > from + n;
    return s;
  }

  async function del(name, location) {
    const url = location || pcs[name].location;
    const res = await fetch(url, { method: 'DELETE' });
    await res.text();
    return res.status;
  }

  function close(name) {
    const e = pcs[name];
    e.pc.close();
    if (e.media) {
      e.media.getTracks().forEach((t) => t.stop());
    }
  }

  window.__rtc = { publish, answer, play, stats, waitFrames, del, close, pcs };
}

async function install(page) {
  await page.evaluate(pageLib);
}

function call(page, fn, ...args) {
  return page.evaluate(([f, a]) => window.__rtc[f](...a), [fn, args]);
}

module.exports = {
  install,
  publish: (page, name, o) => call(page, 'publish', name, o),
  answer: (page, name, wait) => call(page, 'answer', name, wait || 0),
  play: (page, name, o) => call(page, 'play', name, o),
  stats: (page, name) => call(page, 'stats', name),
  waitFrames: (page, name, from, n, ms) => call(page, 'waitFrames', name, from, n, ms),
  del: (page, name, location) => call(page, 'del', name, location || null),
  close: (page, name) => call(page, 'close', name),
  pageLib,
};
