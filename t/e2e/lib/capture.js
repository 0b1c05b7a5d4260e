'use strict';
// Shared by the offer capture scripts (capture-offers.js for Chromium,
// capture-firefox-offers.js): a blank page on 127.0.0.1, an origin for
// getUserMedia() and RTCPeerConnection, on a free port.

const http = require('http');

const PAGE = '<!doctype html><meta charset="utf-8"><title>capture-offers</title><body>capture</body>';

function startServer() {
  return new Promise((resolve, reject) => {
    const server = http.createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(PAGE);
    });
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

module.exports = { startServer };
