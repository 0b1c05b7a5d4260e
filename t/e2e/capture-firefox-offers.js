#!/usr/bin/env node
'use strict';
// Capture real SDP offers from headless Firefox ESR, for the SDP parser's
// tests (the Firefox counterpart of capture-offers.js).
//
//   node t/e2e/capture-firefox-offers.js OUTDIR      (e.g. t/sdp)
//
// A tiny page is served from a Node http server on 127.0.0.1 (loopback is a
// secure context); Firefox (lib/firefox.js: fake devices, camera and
// microphone granted to that origin, background services off) creates
// RTCPeerConnections there and the offers are written to OUTDIR byte for
// byte as pc.localDescription.sdp returned them once ICE gathering
// completed.  Only loopback is used; the run is bounded by an overall
// timeout and the process exits by itself.

const fs = require('fs');
const { startServer } = require('./lib/capture');
const path = require('path');
const firefox = require('./lib/firefox');

const OVERALL_TIMEOUT_MS = 90000;
const GATHER_TIMEOUT_MS = 5000;

const outDir = process.argv[2];
if (!outDir) {
  process.stderr.write('usage: node capture-firefox-offers.js OUTDIR\n');
  process.exit(64);
}

const watchdog = setTimeout(() => {
  process.stderr.write(`capture-firefox-offers: overall timeout (${OVERALL_TIMEOUT_MS} ms) hit, exiting\n`);
  process.exit(2);
}, OVERALL_TIMEOUT_MS);
watchdog.unref();

// Runs inside the page. Must be self-contained.
async function captureInPage(gatherTimeoutMs) {
  function waitGathering(pc) {
    if (pc.iceGatheringState === 'complete') return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), gatherTimeoutMs);
      pc.addEventListener('icegatheringstatechange', () => {
        if (pc.iceGatheringState === 'complete') {
          clearTimeout(t);
          resolve(true);
        }
      });
    });
  }

  // the named codec first, then the rest in Firefox's order
  function preferCodec(Cls, kind, mime) {
    const caps = (Cls.getCapabilities(kind) || { codecs: [] }).codecs;
    const first = caps.filter((c) => c.mimeType.toLowerCase() === mime.toLowerCase());
    if (first.length === 0) throw new Error(`codec ${mime} not in ${kind} capabilities`);
    const rest = caps.filter((c) => c.mimeType.toLowerCase() !== mime.toLowerCase());
    return first.concat(rest);
  }

  async function offer(pc) {
    await pc.setLocalDescription(await pc.createOffer());
    const complete = await waitGathering(pc);
    return { sdp: pc.localDescription.sdp, gathered: complete };
  }

  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  const [audioTrack] = stream.getAudioTracks();
  const [videoTrack] = stream.getVideoTracks();

  async function publish(videoMime, bundlePolicy) {
    const pc = new RTCPeerConnection({ bundlePolicy });
    try {
      pc.addTransceiver(audioTrack, { direction: 'sendonly', streams: [stream] });
      const vt = pc.addTransceiver(videoTrack, { direction: 'sendonly', streams: [stream] });
      if (videoMime) vt.setCodecPreferences(preferCodec(RTCRtpSender, 'video', videoMime));
      return await offer(pc);
    } finally {
      pc.close();
    }
  }

  async function play() {
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    try {
      pc.addTransceiver('audio', { direction: 'recvonly' });
      pc.addTransceiver('video', { direction: 'recvonly' });
      return await offer(pc);
    } finally {
      pc.close();
    }
  }

  const out = {};
  out['firefox-publish-vp8.sdp'] = await publish('video/VP8', 'max-bundle');
  out['firefox-publish-balanced.sdp'] = await publish(null, 'balanced');
  out['firefox-play.sdp'] = await play();

  stream.getTracks().forEach((t) => t.stop());
  return { userAgent: navigator.userAgent, offers: out };
}

function summarize(name, sdp, gathered) {
  const lines = sdp.split(/\r?\n/);
  const m = lines.filter((l) => l.startsWith('m=')).map((l) => l.split(' ').slice(0, 2).join(' '));
  const cands = lines.filter((l) => l.startsWith('a=candidate:'));
  const crlf = sdp.includes('\r\n') && !/[^\r]\n/.test(sdp);
  return `${name}: ${Buffer.byteLength(sdp)} bytes, ${m.join(', ')}, `
    + `${lines.filter((l) => l === 'a=bundle-only').length} a=bundle-only, `
    + `candidates: ${cands.length}${gathered ? '' : ' (gathering not complete)'}, `
    + `${crlf ? 'CRLF' : 'NOT CRLF'}`;
}

async function main() {
  fs.mkdirSync(outDir, { recursive: true });
  const server = await startServer();
  const origin = `http://127.0.0.1:${server.address().port}`;
  let b;
  try {
    b = await firefox.launch({ origins: [origin] });
    const page = await b.browser.newPage();
    await page.goto(origin + '/', { timeout: 15000 });
    const res = await page.evaluate(captureInPage, GATHER_TIMEOUT_MS);
    process.stdout.write(`${res.userAgent}\n`);
    for (const [name, { sdp, gathered }] of Object.entries(res.offers)) {
      fs.writeFileSync(path.join(outDir, name), sdp);
      process.stdout.write(summarize(name, sdp, gathered) + '\n');
    }
  } finally {
    if (b) await b.close();
    await new Promise((resolve) => server.close(resolve));
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`capture-firefox-offers: ${err && err.stack ? err.stack : err}\n`);
    process.exit(1);
  },
);
