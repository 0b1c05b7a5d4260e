'use strict';
// Live sessions across reloads (t/310-e2e-reload.t): a publisher and
// E2E_VIEWERS viewers (2) stream while the Perl side reloads nginx.
//
// Once every viewer decodes, each page watches its connection: every
// connectionstatechange and signalingstatechange from then on (time and
// state), and, every 100 ms, getStats(): the viewers' video framesDecoded
// and the transport's dtlsState and srtpCipher.  Then the file E2E_READY
// is written, and the watch goes on until the file E2E_DONE appears
// (written by the Perl side after its reloads; E2E_WATCH ms at most,
// 40000).  Then a new publisher and viewer of the stream E2E_AFTER
// ("reload-after") show whether new sessions work.
//
// Result: { publisher: {status, state, watch}, viewers: [{status, state,
//           watch}], after: {publisher, viewer, frames} }, where watch is
// { events: [{t, type, state}], samples: n, maxGapMs, frames: [first,
//   last], transport: [first, last] ({dtlsState, srtpCipher}),
//   stateAtEnd }, and the detail of t/e2e/kill.js (epochMs, gaps, pli,
// keyFrames): the test places each standstill after its reload.

const { run } = require('./lib/scenario');
const { watchLive } = require('./lib/watch');

// the scenario and the watch: t/e2e/lib/watch.js
run((env) => watchLive(env, { stream: 'reload', after: 'reload-after', detail: true }));
