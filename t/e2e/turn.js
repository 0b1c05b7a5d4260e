'use strict';
// Publish and watch through a TURN server only (t/350-e2e-turn.t runs a
// coturn on loopback): a publisher POSTs its offer over WHIP, a viewer
// over WHEP, each peer connection with iceTransportPolicy 'relay' (no host
// candidate: media can only flow through the relay) and with the ICE
// servers of the answer's Link header, parsed by the pages' client
// (parseLinkHeader of html/webrtc.js).
//
// E2E_CASES: comma-separated prefixes, each a pair of locations
// /<case>/whip/ and /<case>/whep/ with one webrtc_ice_server each (udp,
// tcp, tls); E2E_NOCONNECT: a case whose credentials coturn refuses (the
// publisher alone, E2E_NOCONNECT_MS of waiting to see it never connect),
// or whose TURN server cannot be reached; E2E_NOCONNECT_WATCH: a case
// whose stream (still published) a viewer of the E2E_NOCONNECT case
// watches, instead of that case's publisher.
//
// E2E_CLIENT: a case whose locations the pages' client (Publisher and
// Player of html/webrtc.js, iceTransportPolicy 'relay') uses too.
//
// Result: { cases: { <case>: { pub, view, framesDecoded, framesLater } },
//           refused: { <case>: { pub } or { view } },
//           client: { states: {pub, view, error}, framesDecoded, pubPair,
//           viewPair } }
// where pub and view are { status, id, link, policy, servers: [{urls,
// username}], state, pair: { local: {candidateType, relayProtocol,
// address, port}, remote: {...} } }.

const { run } = require('./lib/scenario');
const { launch } = require('./lib/browser');

// Runs in the page: the selected candidate pair of a peer connection
async function selectedPair(pc) {
  const st = await pc.getStats();
  let pairId = null;
  st.forEach((s) => {
    if (s.type === 'transport' && s.selectedCandidatePairId) {
      pairId = s.selectedCandidatePairId;
    }
  });
  const pair = pairId && st.get(pairId);
  if (!pair) {
    return null;
  }
  const cand = (id) => {
    const c = st.get(id) || {};
    return { candidateType: c.candidateType || null,
      relayProtocol: c.relayProtocol || null,
      protocol: c.protocol || null,
      address: c.address || c.ip || null, port: c.port || null,
      url: c.url || null };
  };
  return { state: pair.state, nominated: !!pair.nominated,
    bytesReceived: pair.bytesReceived || 0, bytesSent: pair.bytesSent || 0,
    local: cand(pair.localCandidateId), remote: cand(pair.remoteCandidateId) };
}

run(async (env) => {
  const cases = env.param('CASES', 'udp,tcp,tls').split(',').filter(Boolean);
  const refused = env.param('NOCONNECT', '').split(',').filter(Boolean);
  const noConnectMs = Number(env.param('NOCONNECT_MS', 8000));
  const res = { cases: {}, refused: {} };
  env.partial = res;

  // turns: to coturn, whose certificate is the test's self-signed one
  // for localhost: Chromium accepts it for its public key's hash alone
  // (E2E_SPKI), as it does nothing else
  const spki = env.param('SPKI', '');
  const browser = await launch({ args: spki
    ? ['--ignore-certificate-errors-spki-list=' + spki] : [] });
  env.log('browser profile ' + browser.userDataDir);
  try {
    await scenario(env, browser, res, cases, refused, noConnectMs);
  } finally {
    await browser.close();
  }
  return res;
});

async function scenario(env, browser, res, cases, refused, noConnectMs) {
  const page = await browser.context.newPage();
  page.on('pageerror', (e) => env.log('pageerror: ' + e.message));
  await page.goto(env.base + '/index.html');
  await page.evaluate('window.__sel = ' + selectedPair.toString());
  await page.evaluate(`(async () => {
    window.__lib = await import('/pages/webrtc.js');
    window.__s = {};
    window.__media = await navigator.mediaDevices.getUserMedia(
      { audio: true, video: true });
  })()`);

  // a publisher or a viewer named n, relay only, with the TURN servers of
  // the answer's Link header: the offer is created, POSTed, and set as
  // the local description only once those servers are configured, so
  // that gathering uses them (Chromium does not gather again for a
  // setConfiguration() after setLocalDescription(): that is what
  // html/webrtc.js does, and relay only it never connects)
  const start = (n, role, url, stream) => page.evaluate(
    async ([n, role, url, stream]) => {
      const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle',
        iceTransportPolicy: 'relay' });
      window.__s[n] = { pc };
      if (role === 'pub') {
        for (const t of window.__media.getTracks()) {
          pc.addTransceiver(t, { direction: 'sendonly' });
        }
      } else {
        pc.addTransceiver('audio', { direction: 'recvonly' });
        pc.addTransceiver('video', { direction: 'recvonly' });
      }
      const offer = await pc.createOffer();
      const res = await fetch(url + stream, { method: 'POST',
        headers: { 'Content-Type': 'application/sdp' }, body: offer.sdp });
      const out = { status: res.status, link: res.headers.get('Link'),
        location: res.headers.get('Location'), error: null };
      out.id = (out.location || '').split('/').pop() || null;
      const answer = await res.text();
      if (res.status !== 201) {
        out.error = 'POST ' + res.status + ': ' + answer;
        return out;
      }
      try {
        pc.setConfiguration(Object.assign(pc.getConfiguration(),
          { iceServers: window.__lib.parseLinkHeader(out.link) }));
        await pc.setLocalDescription(offer);
        await pc.setRemoteDescription({ type: 'answer', sdp: answer });
      } catch (e) {
        out.error = String(e);
      }
      const cfg = pc.getConfiguration();
      out.policy = cfg.iceTransportPolicy;
      out.servers = (cfg.iceServers || []).map((x) => ({
        urls: [].concat(x.urls).join(' '), username: x.username }));
      return out;
    }, [n, role, url, stream]);

  // waits (bounded, in the page) until the peer connection is connected
  const connected = (n, ms) => page.evaluate(async ([n, ms]) => {
    const s = window.__s[n] || {};
    const end = performance.now() + ms;
    while (performance.now() < end && s.pc
           && s.pc.connectionState !== 'connected'
           && s.pc.connectionState !== 'failed')
    {
      await new Promise((r) => setTimeout(r, 50));
    }
    return s.pc ? s.pc.connectionState : 'none';
  }, [n, ms]);

  const pair = (n) => page.evaluate((n) => window.__s[n].pc
    ? window.__sel(window.__s[n].pc) : null, n);

  const decoded = (n) => page.evaluate(async (n) => {
    let f = 0;
    (await window.__s[n].pc.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') {
        f = s.framesDecoded || 0;
      }
    });
    return f;
  }, n);

  for (const c of cases) {
    const r = res.cases[c] = {};
    const stream = 'turn-' + c;

    r.pub = await start(c + '-pub', 'pub', `/${c}/whip/`, stream);
    r.pub.state = await connected(c + '-pub', 10000);
    r.pub.pair = await pair(c + '-pub');
    env.log(`${c}: publisher ${r.pub.state} ${JSON.stringify(r.pub.pair)}`);

    r.view = await start(c + '-view', 'view', `/${c}/whep/`, stream);
    r.view.state = await connected(c + '-view', 10000);

    // frames decoded, then more a second later: the stream keeps flowing
    const end = env.now() + 10000;
    r.framesDecoded = 0;
    while (env.now() < end && r.view.state === 'connected') {
      r.framesDecoded = await decoded(c + '-view');
      if (r.framesDecoded >= 10) {
        break;
      }
      await env.sleep(100);
    }
    await env.sleep(1000);
    r.framesLater = await decoded(c + '-view');
    r.view.pair = await pair(c + '-view');
    r.pub.pair = await pair(c + '-pub');
    env.log(`${c}: viewer ${r.view.state}, ${r.framesDecoded} then `
      + `${r.framesLater} frames ${JSON.stringify(r.view.pair)}`);
  }

  // the pages' client (html/webrtc.js) relay only: its Publisher and
  // Player must configure the Link servers before they gather (E2E_CLIENT:
  // the case whose locations they use)
  const client = env.param('CLIENT', '');
  if (client) {
    const r = res.client = {};
    r.states = await page.evaluate(async ([c, ms]) => {
      const lib = window.__lib;
      const o = { url: '', stream: 'turn-client', iceTransportPolicy: 'relay',
        iceRestart: false };
      const pub = new lib.Publisher({ ...o, url: `/${c}/whip/` });
      const view = new lib.Player({ ...o, url: `/${c}/whep/` });
      window.__s.clientPub = { pc: null };
      window.__s.clientView = { pc: null };
      const out = { error: null };
      const wait = async (s) => {
        const end = performance.now() + ms;
        while (performance.now() < end && s.pc
               && s.pc.connectionState !== 'connected'
               && s.pc.connectionState !== 'failed') {
          await new Promise((r) => setTimeout(r, 50));
        }
        return s.pc ? s.pc.connectionState : 'none';
      };
      try {
        await pub.start(window.__media);
        window.__s.clientPub.pc = pub.pc;
        out.pub = await wait(pub);
        await view.start();
        window.__s.clientView.pc = view.pc;
        out.view = await wait(view);
      } catch (e) {
        out.error = String(e);
      }
      return out;
    }, [client, 10000]);

    const end = env.now() + 10000;
    r.framesDecoded = 0;
    while (env.now() < end && r.states.view === 'connected') {
      r.framesDecoded = await decoded('clientView');
      if (r.framesDecoded >= 10) {
        break;
      }
      await env.sleep(100);
    }
    r.pubPair = await pair('clientPub');
    r.viewPair = await pair('clientView');
    env.log(`client: ${JSON.stringify(r.states)}, ${r.framesDecoded} frames`);
  }

  const watch = env.param('NOCONNECT_WATCH', '');
  for (const c of refused) {
    const r = res.refused[c] = {};
    if (watch) {
      r.view = await start(c + '-view', 'view', `/${c}/whep/`,
        'turn-' + watch);
      r.view.state = await connected(c + '-view', noConnectMs);
      r.view.pair = await pair(c + '-view');
      env.log(`${c}: viewer of turn-${watch} ${r.view.state} after `
        + `${noConnectMs} ms`);
      continue;
    }
    r.pub = await start(c + '-pub', 'pub', `/${c}/whip/`, 'turn-' + c);
    r.pub.state = await connected(c + '-pub', noConnectMs);
    r.pub.pair = await pair(c + '-pub');
    env.log(`${c}: publisher ${r.pub.state} after ${noConnectMs} ms`);
  }

}
