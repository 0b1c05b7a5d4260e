'use strict';
// Tiny SDP helpers for e2e scenarios.

// "VP8", "H264 profile-level-id=...", "opus"...: the first format of the
// m=<kind> section, with its a=fmtp parameters
function answerCodec(sdp, kind) {
  if (!sdp) {
    return null;
  }
  const sections = sdp.split(/\r?\n(?=m=)/);
  const m = sections.find((s) => s.startsWith('m=' + kind + ' '));
  if (!m) {
    return null;
  }
  const pt = m.split(/\r?\n/)[0].split(' ')[3];
  const rtpmap = m.match(new RegExp('^a=rtpmap:' + pt + ' ([^/\\r\\n]+)', 'm'));
  const fmtp = m.match(new RegExp('^a=fmtp:' + pt + ' (.*)$', 'm'));
  return rtpmap ? rtpmap[1] + (fmtp ? ' ' + fmtp[1].trim() : '') : null;
}

module.exports = { answerCodec };
