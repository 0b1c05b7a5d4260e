'use strict';
// Live sessions across a worker's crash (t/325-e2e-kill.t): a publisher and
// E2E_VIEWERS viewers (2) stream while the Perl side kills nginx workers
// with SIGKILL.  The same scenario as t/e2e/reload.js (t/e2e/lib/watch.js),
// with more detail in each page's watch, to tell which kill froze which
// viewer and for how long:
//
// Once every viewer decodes, each page watches its connection: every
// connectionstatechange and signalingstatechange from then on (time and
// state), and, every 100 ms, getStats(): the viewers' video framesDecoded,
// the transport's dtlsState and srtpCipher, and the publisher's key frames
// and PLIs received.  Then the file E2E_READY is written, and the watch goes
// on until the file E2E_DONE appears (written by the Perl side after its
// kills; E2E_WATCH ms at most, 40000).  Then a new publisher and viewer of
// the stream E2E_AFTER ("kill-after") show whether new sessions work.
//
// Result: { publisher: {status, state, watch}, viewers: [{status, state,
//           watch}], after: {publisher, viewer, frames} }, where watch is
// { epochMs (wall clock of the watch's start, ms since 1970), events:
//   [{t, type, state}], samples, maxGapMs (the longest time framesDecoded
//   stood still, from the sample where it last changed to the last sample
//   where it had not, as reload.js measures it), gaps: [{t, ms}] (each
//   standstill of 200 ms or more: its start, ms after epochMs, and length),
//   frames: [first, last], transport: [first, last] ({dtlsState,
//   srtpCipher}), pli: [first, last] and keyFrames: [first, last] (the
//   publisher's outbound video pliCount and keyFramesEncoded), stateAtEnd }.

const { run } = require('./lib/scenario');
const { watchLive } = require('./lib/watch');

run((env) => watchLive(env, { stream: 'kill', after: 'kill-after', detail: true }));
