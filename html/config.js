// config.js: where publish.html, watch.html and index.html find the
// signaling server. The operator edits it (or nginx serves its own, as
// conf-examples/cross-origin.conf does); the defaults are the page's own
// origin, as for the pages served by the same nginx.
//
// server   the signaling server's base URL: '' is the page's own origin
//          (the root, '/'); 'https://signal.example.com' another origin;
//          '/rtc/' a path prefix (a reverse proxy at /rtc/)
// whip, whep, ws, status
//          the locations of webrtc_whip, webrtc_whep, webrtc_websocket and
//          webrtc_status, relative to server, or absolute URLs
// query    true: the query parameters server, whip, whep, ws and status
//          of a page's URL override these values for that visit
//          (watch.html?stream=test&server=https://signal.example.com);
//          false: only this file counts
//
// The signaling origin must allow the pages' origin: CORS headers on the
// WHIP, WHEP and status locations, webrtc_websocket_origins on the
// WebSocket one (conf-examples/cross-origin.conf, the README).

export default {
    server: '',
    whip: 'whip/',
    whep: 'whep/',
    ws: 'ws',
    status: 'webrtc/status',
    query: true,
};
