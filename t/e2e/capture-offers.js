#!/usr/bin/env node
'use strict';
// Capture real SDP offers from headless Chromium, for the SDP parser's tests.
//
//   node t/e2e/capture-offers.js OUTDIR      (e.g. t/sdp)
//
// A tiny page is served from a Node http server on 127.0.0.1 (loopback is a
// secure context, so getUserMedia works with the fake devices). Inside the
// page RTCPeerConnections are created and their offers are returned verbatim
// (CRLF line endings kept) and written to OUTDIR. Only loopback is used; the
// whole run is bounded by an overall timeout and the process exits by itself.

const fs = require('fs');
const { startServer } = require('./lib/capture');
const path = require('path');
const { launch } = require('./lib/browser');

const OVERALL_TIMEOUT_MS = 60000;
const GATHER_TIMEOUT_MS = 2000;

function usage() {
  process.stderr.write('usage: node capture-offers.js OUTDIR\n');
  process.exit(64);
}

const outDir = process.argv[2];
if (!outDir) usage();

const watchdog = setTimeout(() => {
  process.stderr.write(`capture-offers: overall timeout (${OVERALL_TIMEOUT_MS} ms) hit, exiting\n`);
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

  // Named codec first (all its profiles/variants, in original order), then the
  // rest in Chromium's default order (as a real client would do).
  // Publishers use the sender capabilities, viewers the receiver ones.
  function preferCodec(Cls, kind, mime) {
    const caps = (Cls.getCapabilities(kind) || { codecs: [] }).codecs;
    const first = caps.filter((c) => c.mimeType.toLowerCase() === mime.toLowerCase());
    if (first.length === 0) throw new Error(`codec ${mime} not in ${kind} capabilities`);
    const rest = caps.filter((c) => c.mimeType.toLowerCase() !== mime.toLowerCase());
    return first.concat(rest);
  }

  async function offer(pc, wait) {
    const o = await pc.createOffer();
    await pc.setLocalDescription(o);
    if (!wait) {
      // Right after setLocalDescription, before any candidate was gathered.
      return { sdp: pc.localDescription.sdp, gathered: false };
    }
    const complete = await waitGathering(pc);
    return { sdp: pc.localDescription.sdp, gathered: complete };
  }

  const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  const [audioTrack] = stream.getAudioTracks();
  const [videoTrack] = stream.getVideoTracks();

  // WHIP/WHEP (RFC 9725) clients use bundlePolicy 'max-bundle'; 'balanced'
  // is the browser default that naive pages get.
  async function publish(videoMime, wait = true, bundlePolicy = 'max-bundle') {
    const pc = new RTCPeerConnection({ bundlePolicy });
    try {
      pc.addTransceiver(audioTrack, { direction: 'sendonly', streams: [stream] });
      const vt = pc.addTransceiver(videoTrack, { direction: 'sendonly', streams: [stream] });
      if (videoMime) vt.setCodecPreferences(preferCodec(RTCRtpSender, 'video', videoMime));
      return await offer(pc, wait);
    } finally {
      pc.close();
    }
  }

  async function play(videoMime) {
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    try {
      pc.addTransceiver('audio', { direction: 'recvonly' });
      const vt = pc.addTransceiver('video', { direction: 'recvonly' });
      if (videoMime) vt.setCodecPreferences(preferCodec(RTCRtpReceiver, 'video', videoMime));
      return await offer(pc, true);
    } finally {
      pc.close();
    }
  }

  const out = {};
  out['chromium-publish-vp8.sdp'] = await publish('video/VP8');
  out['chromium-publish-h264.sdp'] = await publish('video/H264');
  out['chromium-publish-vp9.sdp'] = await publish('video/VP9');
  out['chromium-publish-av1.sdp'] = await publish('video/AV1');
  out['chromium-play.sdp'] = await play(null);
  out['chromium-play-h264.sdp'] = await play('video/H264');
  out['chromium-publish-nocand.sdp'] = await publish(null, false);
  out['chromium-publish-balanced.sdp'] = await publish(null, true, 'balanced');

  stream.getTracks().forEach((t) => t.stop());
  return { userAgent: navigator.userAgent, offers: out };
}

function summarize(name, sdp, gathered) {
  const lines = sdp.split(/\r?\n/);
  const m = lines.filter((l) => l.startsWith('m=')).length;
  const rtpmap = lines.filter((l) => l.startsWith('a=rtpmap:')).length;
  const cands = lines.filter((l) => l.startsWith('a=candidate:'));
  const crlf = sdp.includes('\r\n') && !/[^\r]\n/.test(sdp);
  return `${name}: ${Buffer.byteLength(sdp)} bytes, ${m} m=, ${rtpmap} a=rtpmap, ` +
    `candidates: ${cands.length ? `yes (${cands.length})` : 'no'}` +
    `${gathered === false && cands.length ? ' (gathering not complete)' : ''}` +
    `, ${crlf ? 'CRLF' : 'NOT CRLF'}`;
}

async function main() {
  fs.mkdirSync(outDir, { recursive: true });
  const server = await startServer();
  const url = `http://127.0.0.1:${server.address().port}/`;
  let browser;
  try {
    browser = await launch();
    const page = await browser.context.newPage();
    page.on('console', (msg) => process.stderr.write(`[page] ${msg.text()}\n`));
    await page.goto(url, { timeout: 15000 });
    const res = await page.evaluate(captureInPage, GATHER_TIMEOUT_MS);
    process.stdout.write(`${res.userAgent}\n`);
    for (const [name, { sdp, gathered }] of Object.entries(res.offers)) {
      fs.writeFileSync(path.join(outDir, name), sdp);
      process.stdout.write(summarize(name, sdp, gathered) + '\n');
    }
  } finally {
    if (browser) await browser.close();
    await new Promise((resolve) => server.close(resolve));
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`capture-offers: ${err && err.stack ? err.stack : err}\n`);
    process.exit(1);
  },
);
