/**
 * webrtc.js: a small, dependency-free WebRTC client for nginx-webrtc-module
 * (and for other WHIP/WHEP servers). Plain ES module, no build step.
 *
 * Publish a camera:
 *
 *     import { Publisher } from './webrtc.js';
 *
 *     const media = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
 *     const pub = new Publisher({
 *         url: '/whip/',              // endpoint base: POST /whip/<stream>
 *         stream: 'test',
 *         videoCodec: 'H264',         // 'H264' (default) | 'VP8' | 'VP9' | 'AV1'
 *         maxBitrate: 2_500_000,      // bps, RTCRtpSender.setParameters()
 *         onState: (state) => console.log(state),
 *         onStats: (s) => console.log(s.bitrate, 'kbps', s.fps, 'fps'),
 *     });
 *     await pub.start(media);         // rejects with a WebRTCError
 *     ...
 *     await pub.stop();               // DELETE the session, close
 *
 * Play it:
 *
 *     import { Player } from './webrtc.js';
 *
 *     const player = new Player({ url: '/whep/', stream: 'test' });
 *     video.srcObject = await player.start();   // a MediaStream
 *
 * Options (both classes):
 *
 *   url          endpoint base. Transport 'whip': '/whip/' or '/whep/' (the
 *                default), the stream name is appended when url ends with
 *                '/', otherwise url is the endpoint itself. Transport
 *                'websocket': '/ws' (the default) or 'wss://host/ws'; a
 *                relative or http(s) URL becomes ws(s).
 *   transport    'whip' (WHIP RFC 9725 to publish, WHEP to play; the default)
 *                or 'websocket' (JSON messages, one session per socket).
 *   stream       stream name.
 *   token        bearer token: "Authorization: Bearer" over HTTP, the
 *                "token" member of the first WebSocket message.
 *   iceServers   RTCIceServer[]; ICE servers that the WHIP/WHEP answer lists
 *                in Link: <...>; rel="ice-server" headers are added to them
 *                before the browser gathers its candidates.
 *   iceTransportPolicy  'all' (the default) or 'relay': TURN only.
 *   videoCodec   publisher: the preferred video codec (setCodecPreferences);
 *                the other codecs stay as fallbacks, the one in use is
 *                reported as stats.codec.
 *   maxBitrate   publisher: bps cap of the video encoding, 0 for none.
 *   onState      (state, session) => void, state is one of 'new',
 *                'connecting', 'connected', 'disconnected', 'restarting',
 *                'failed' (the session is over, its WHIP/WHEP resource is
 *                deleted: start a new one), 'closed' (after stop()). A
 *                failure that start() rejects with is not reported again
 *                here.
 *   onStats      (stats, session) => void, every statsInterval ms (1000).
 *   onEvent      (event, session) => void, event.type is one of
 *                'session'   {id, url}: the server accepted the offer;
 *                'publisher-started' / 'publisher-stopped' {stream}
 *                            (WebSocket);
 *                'viewers'   {stream, count} (WebSocket);
 *                'first-frame' {ms}: player, time to the first decoded frame;
 *                'ice-restart' {ok};
 *                'close'     {code, reason}: the socket closed (WebSocket);
 *                'resumed'   {id}: after a close with 1012 (nginx -s reload),
 *                            a new socket carries the session (WebSocket);
 *                'refused'   {kind, reason, message}: the server's answer
 *                            refused the audio or the video (an m= section
 *                            with port 0, a stopped or inactive
 *                            transceiver); the session goes on with the
 *                            rest (start() rejects only when everything
 *                            was refused);
 *                'warning'   {message};
 *                'error'     {error}: a WebRTCError after start().
 *   timeout      ms for each HTTP request and for the WebSocket answer
 *                (10000).
 *   iceRestart   restart ICE when it fails (WHIP/WHEP only; true).
 *   statsInterval ms between onStats calls (1000).
 *
 * Methods: start(), stop() (call it on pagehide too: its DELETE is sent
 * with keepalive), getStats(), restartIce(), Publisher#setMaxBitrate(bps),
 * Publisher#replaceTrack(track).
 * Properties: state, pc (the RTCPeerConnection), resourceUrl (WHIP/WHEP
 * session URL), refused ([{kind, reason}]: what the answer refused),
 * sessionId, viewers (WebSocket publisher), stream (Player: the
 * MediaStream), timeToFirstFrame (Player, ms).
 *
 * getStats() resolves to {bitrate (kbps, audio + video, from byte deltas),
 * videoBitrate, audioBitrate, fps, width, height, rtt (ms, selected
 * candidate pair), jitter (ms), packetsLost, codec, audioCodec,
 * framesEncoded|framesDecoded, framesDropped, qualityLimitation,
 * timeToFirstFrame (ms, players), viewers (WebSocket publishers)}; numbers
 * the browser does not know yet are null.
 *
 * Errors are WebRTCError: {code, status, reason, retryAfter, url}. code is
 * 'server' (the server refused: status is the HTTP or WebSocket status,
 * reason its one-line text), 'endpoint' (no such location: the WHIP, WHEP,
 * WebSocket or status URL answers 404 from nginx itself, or is not a
 * WebSocket endpoint), 'origin' (the server refused this page's origin: no
 * CORS headers for it, or the WebSocket origin check), 'network' (server
 * unreachable), 'timeout', 'closed' (the signaling socket closed),
 * 'unsupported' (the browser cannot, e.g. no such codec), 'protocol' (a
 * malformed answer) or 'aborted' (stop() during start()). url is the URL
 * the error is about. A browser tells a page neither why a fetch() failed
 * nor the status of a refused WebSocket handshake: the client asks the URL
 * again (a no-cors fetch, a plain GET of the WebSocket URL) to tell these
 * apart.
 *
 * Also exported: WebRTCError, parseLinkHeader(value) (Link headers to
 * RTCIceServer[]), fetchStreamStatus(stream, {url}) (the server's
 * webrtc_status), fetchStreams({url}) (every stream of it).
 *
 * A page on another origin than the server needs CORS headers on the
 * endpoints, including Access-Control-Expose-Headers: Location, ETag, Link,
 * and the page's origin in webrtc_websocket_origins (see the README and
 * conf-examples/cross-origin.conf).
 *
 * WebSocket messages: the client sends {type: 'publish'|'play', stream, sdp,
 * token?}, {type: 'candidate', candidate, mid}, {type: 'end-of-candidates'},
 * {type: 'ping'} every 20 s and {type: 'stop'}; the server sends
 * {type: 'answer', sdp, session}, {type: 'error', status, reason},
 * {type: 'event', event, stream}, {type: 'viewers', stream, count} and
 * {type: 'pong'}.  When the server closes with 1012 (service restart: nginx
 * reloads and keeps the session), the client opens a new WebSocket (5
 * tries, 200 ms apart) and sends {type: 'resume', session, role:
 * 'publish'|'play', stream, token?}; the server answers {type: 'resumed',
 * session} and goes on; the peer connection is not touched.
 *
 * @module webrtc
 */

/* doc/registry-design.md 7.9: a WebSocket closed with 1012 is resumed */
const RESUME_TRIES = 5;
const RESUME_DELAY = 200;

const DEFAULTS = {
    transport: 'whip',
    videoCodec: 'H264',
    maxBitrate: 0,
    timeout: 10000,
    iceRestart: true,
    statsInterval: 1000,
    pingInterval: 20000,
};

const TRICKLE_DELAY = 30;       /* ms: gather candidates into one PATCH */
const MAX_RESTARTS = 2;         /* ICE restarts in a row without success */


/**
 * An error of the signaling or of the browser.
 */
export class WebRTCError extends Error {
    /**
     * @param {string} code    'server'|'network'|'timeout'|'closed'|
     *                         'unsupported'|'protocol'|'aborted'
     * @param {string} reason  human readable, the server's text for 'server'
     * @param {object} [extra] {status, retryAfter, cause, url}
     */
    constructor(code, reason, extra = {}) {
        const status = extra.status || 0;
        super(status ? `${status} ${reason}` : reason,
              extra.cause ? { cause: extra.cause } : undefined);
        this.name = 'WebRTCError';
        this.code = code;
        this.status = status;
        this.reason = reason;
        this.retryAfter = extra.retryAfter ?? null;
        this.url = extra.url ?? null;
    }
}


/**
 * Parses Link header values (RFC 8288) into RTCIceServer objects: the links
 * with rel="ice-server" (RFC 9725, 4.6).
 *
 * @param {string|null} value  one header value, or several joined by ", "
 * @returns {RTCIceServer[]}
 */
export function parseLinkHeader(value) {
    const servers = [];

    if (!value) {
        return servers;
    }

    for (const link of splitOutside(value, ',')) {
        const m = /^\s*<([^>]*)>(.*)$/s.exec(link);
        if (!m) {
            continue;
        }

        const params = {};
        for (const p of splitOutside(m[2], ';')) {
            const kv = /^\s*([^=\s]+)\s*(?:=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s]*)))?\s*$/s.exec(p);
            if (kv) {
                params[kv[1].toLowerCase()] =
                    kv[2] !== undefined ? kv[2].replace(/\\(.)/g, '$1')
                                        : (kv[3] ?? '');
            }
        }

        if (!(params.rel || '').toLowerCase().split(/\s+/).includes('ice-server')) {
            continue;
        }

        const server = { urls: m[1] };
        if (params.username !== undefined) {
            server.username = params.username;
        }
        if (params.credential !== undefined) {
            server.credential = params.credential;
        }
        servers.push(server);
    }

    return servers;
}


/* splits s at sep, except inside <...> and "..." */

function splitOutside(s, sep) {
    const out = [];
    let cur = '', quote = false, angle = false;

    for (let i = 0; i < s.length; i++) {
        const c = s[i];
        if (quote) {
            if (c === '\\' && i + 1 < s.length) {
                cur += c + s[++i];
                continue;
            }
            if (c === '"') {
                quote = false;
            }
        } else if (c === '"') {
            quote = true;
        } else if (c === '<') {
            angle = true;
        } else if (c === '>') {
            angle = false;
        } else if (c === sep && !angle) {
            out.push(cur);
            cur = '';
            continue;
        }
        cur += c;
    }

    if (cur.trim()) {
        out.push(cur);
    }

    return out;
}


/**
 * Asks the server's status endpoint about a stream (nginx-webrtc-module's
 * `webrtc_status`): GET url?stream=NAME answering
 * {"streams": [{"name", "live", "viewers"}]}.
 *
 * @param {string} stream
 * @param {object} [opts]  {url: '/webrtc/status', timeout: 5000}
 * @returns {Promise<{name: string, live: boolean, viewers: number,
 *          uptime: number, packets_in: number, bytes_in: number,
 *          packets_lost: number, bitrate_in: number}|null>}
 *          null when the stream is not listed; rejects with a WebRTCError
 *          (code 'endpoint', status 404, when there is no status location
 *          at the URL; code 'server', status 403, when it is refused)
 */
export async function fetchStreamStatus(stream, opts = {}) {
    const list = await fetchStreams({ ...opts, stream });
    return list.find((s) => s && s.name === stream) || null;
}

/**
 * Every stream the status endpoint lists (GET url), as fetchStreamStatus()
 * describes them.
 *
 * @param {object} [opts]  {url: '/webrtc/status', timeout: 5000}
 * @returns {Promise<object[]>}  rejects with a WebRTCError
 */
export async function fetchStreams(opts = {}) {
    const url = new URL(opts.url || '/webrtc/status', document.baseURI);
    if (opts.stream) {
        url.searchParams.set('stream', opts.stream);
    }

    const res = await request(url.href, { cache: 'no-store' },
                              opts.timeout || 5000);
    if (!res.ok) {
        throw await httpError(res, 'status location');
    }

    let json;
    try {
        json = await res.json();
    } catch (e) {
        throw new WebRTCError('protocol', `the status at ${url.href} is not JSON`,
                              { cause: e, url: url.href });
    }

    return Array.isArray(json.streams) ? json.streams : [];
}


/* fetch() with a timeout and errors turned into WebRTCError */

async function request(url, init, timeout, abort) {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort('timeout'), timeout);
    const onAbort = () => ctl.abort('aborted');

    abort?.addEventListener('abort', onAbort);

    try {
        return await fetch(url, { ...init, signal: ctl.signal });

    } catch (e) {
        if (ctl.signal.aborted) {
            throw ctl.signal.reason === 'timeout'
                ? new WebRTCError('timeout',
                                  `no answer from ${url} in ${timeout / 1000} s`,
                                  { url })
                : new WebRTCError('aborted', 'stopped');
        }
        throw await unreachable(url, e, timeout);

    } finally {
        clearTimeout(timer);
        abort?.removeEventListener('abort', onAbort);
    }
}

/*
 * Why a fetch() failed: the browser says only "TypeError: Failed to
 * fetch". For another origin, a no-cors HEAD of the same URL tells
 * whether the server is there at all: if it answers, it is the CORS check
 * that refused this page's origin (the server sends no
 * Access-Control-Allow-Origin for it, or another one).
 */

async function unreachable(url, cause, timeout) {
    let u;
    try {
        u = new URL(url, document.baseURI);
    } catch (_) {
        return new WebRTCError('network', `cannot reach ${url}`, { cause, url });
    }

    if (/^https?:$/.test(u.protocol) && u.origin !== self.location?.origin) {
        const ctl = new AbortController();
        const timer = setTimeout(() => ctl.abort(), Math.min(timeout, 5000));
        const there = await fetch(u.href, {
            method: 'HEAD', mode: 'no-cors', cache: 'no-store',
            credentials: 'omit',
            signal: ctl.signal,
        }).then(() => true, () => false);
        clearTimeout(timer);

        if (there) {
            return new WebRTCError('origin',
                `the signaling server ${u.origin} refused this page's origin`
                + ` ${self.location.origin}: it sends no CORS headers for it`,
                { cause, url });
        }
    }

    return new WebRTCError('network', `cannot reach ${url}`, { cause, url });
}

/*
 * A WebSocket that closed before it opened: the browser does not tell
 * why. A HEAD of the same URL does: 404, there is no such location; the
 * module's WebSocket location answers 405 (only GET opens a WebSocket),
 * other servers 400 or 426; a refused CORS check means the server does
 * not take this page's origin (cross-origin.conf sends the CORS headers
 * on /ws too). HEAD, not GET: another server's 426 to a GET over HTTP/2
 * may carry an Upgrade header, which HTTP/2 forbids, and fail as a network
 * error (this module answers such a GET 400).
 */

async function wsRefused(url, timeout) {
    const u = new URL(url);
    u.protocol = u.protocol === 'wss:' ? 'https:' : 'http:';

    let res;
    try {
        res = await request(u.href, {
            method: 'HEAD', cache: 'no-store', credentials: 'omit',
        }, Math.min(timeout, 5000));

    } catch (e) {
        if (e.code === 'origin') {
            return new WebRTCError('origin',
                `the signaling server ${u.origin} refused this page's origin`
                + ` ${self.location.origin}: the WebSocket handshake failed`
                + ' and its URL sends no CORS headers for it', { url });
        }
        if (e.code === 'timeout') {
            return new WebRTCError('timeout', e.reason, { url });
        }
        return new WebRTCError('network', `cannot reach ${url}`, { url });
    }

    if (res.status === 404) {
        return new WebRTCError('endpoint', `no WebSocket location at ${url}`,
                               { status: 404, url });
    }

    if (res.status === 403) {
        return new WebRTCError('origin',
            `the signaling server ${u.origin} refused the WebSocket of this`
            + ` page's origin ${self.location.origin}`, { status: 403, url });
    }

    if (res.status === 405 || res.status === 426 || res.status === 400) {
        /* a WebSocket location: the handshake itself was refused */
        return new WebRTCError('origin',
            `the WebSocket handshake with ${url} failed: the server may not`
            + ` take this page's origin ${self.location.origin}`
            + ' (webrtc_websocket_origins)', { url });
    }

    return new WebRTCError('endpoint',
        `${url} is not a WebSocket location (HEAD answers ${res.status})`,
        { status: res.status, url });
}


/*
 * The error of a response that is not ok; what: the kind of location
 * asked ('WHIP location' ...), for a 404 that is not the module's (the
 * module's reasons are text/plain, nginx's own error pages HTML; a status
 * location never answers 404)
 */

async function httpError(res, what) {
    let text = '';
    try {
        text = await res.text();
    } catch (_) { /* no body */ }

    const html = /html/i.test(res.headers.get('Content-Type') || '');

    if (what && res.status === 404 && (html || what === 'status location')) {
        return new WebRTCError('endpoint', `no ${what} at ${res.url}`,
                               { status: 404, url: res.url });
    }

    if (html) {
        /* not this server's one-line reason: an error page */
        text = /<title>([^<]*)<\/title>/i.exec(text)?.[1] || '';
    }

    text = text.trim().split(/\r?\n/)[0].trim().slice(0, 300);

    const ra = parseInt(res.headers.get('Retry-After'), 10);

    return new WebRTCError('server', text || res.statusText || 'error', {
        status: res.status,
        retryAfter: Number.isFinite(ra) ? ra : null,
        url: res.url,
    });
}


/* SDP helpers */

function sdpAttr(sdp, name) {
    const m = new RegExp(`^a=${name}:(.*)$`, 'm').exec(sdp);
    return m ? m[1].trim() : null;
}

function sdpLines(sdp) {
    return sdp.split(/\r?\n/).filter((l) => l !== '');
}

/* the m= sections of an SDP: [{kind, port, mid, bundleOnly}] */

function sdpSections(sdp) {
    const out = [];

    for (const line of sdpLines(sdp)) {
        const m = /^m=(\S+) (\d+)/.exec(line);
        if (m) {
            out.push({ kind: m[1], port: Number(m[2]), mid: null,
                       bundleOnly: false });
        } else if (out.length && line.startsWith('a=mid:')) {
            out[out.length - 1].mid = line.slice(6).trim();
        } else if (out.length && line === 'a=bundle-only') {
            out[out.length - 1].bundleOnly = true;
        }
    }

    return out;
}

/*
 * Why the answer refused a transceiver, or null: its m= section has port
 * zero without a=bundle-only (RFC 3264, 6; RFC 8843, 7.3.3), or the
 * browser stopped it or made it inactive.
 */

function refusal(transceiver, mid, sections, index, current) {
    const t = transceiver;
    const m = mid !== null ? sections.find((s) => s.mid === mid)
                           : sections[index];

    if (m && m.port === 0 && !m.bundleOnly) {
        return 'its m= section has port 0';
    }
    if (t.stopped || t.currentDirection === 'stopped'
        || !current.includes(t))
    {
        /* Chromium removes a stopped transceiver from the connection */
        return 'the browser stopped its transceiver';
    }
    if (t.currentDirection === 'inactive') {
        return 'the answer made it inactive';
    }
    return null;
}

function isStopped(transceiver) {
    return !transceiver || transceiver.stopped
           || transceiver.currentDirection === 'stopped'
           || transceiver.currentDirection === 'inactive';
}

/*
 * RFC 8840 sdpfrag: session-level ICE credentials, then one m= section per
 * mid with its candidates; a=end-of-candidates closes the m= sections.
 */

function buildFragment(ufrag, pwd, groups, end) {
    let s = `a=ice-ufrag:${ufrag}\r\na=ice-pwd:${pwd}\r\n`;

    for (const [mid, cands] of groups) {
        s += `m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:${mid}\r\n`;
        for (const c of cands) {
            s += `a=${c}\r\n`;
        }
        if (end) {
            s += 'a=end-of-candidates\r\n';
        }
    }

    return s;
}

/*
 * Applies the server's ICE restart sdpfrag to the remote description:
 * new a=ice-ufrag and a=ice-pwd everywhere and, if the fragment has
 * candidates, they replace those of each m= section.
 */

function applyFragment(sdp, frag) {
    const ufrag = sdpAttr(frag, 'ice-ufrag');
    const pwd = sdpAttr(frag, 'ice-pwd');

    if (!ufrag || !pwd) {
        throw new WebRTCError('protocol',
                              'ICE restart answer without ice-ufrag/ice-pwd');
    }

    const cands = sdpLines(frag).filter((l) => l.startsWith('a=candidate:'));
    const out = [];
    let media = false;

    const closeSection = () => {
        if (media && cands.length) {
            out.push(...cands, 'a=end-of-candidates');
        }
    };

    for (const line of sdpLines(sdp)) {
        if (line.startsWith('m=')) {
            closeSection();
            media = true;
        } else if (line.startsWith('a=ice-ufrag:')) {
            out.push(`a=ice-ufrag:${ufrag}`);
            continue;
        } else if (line.startsWith('a=ice-pwd:')) {
            out.push(`a=ice-pwd:${pwd}`);
            continue;
        } else if (cands.length && (line.startsWith('a=candidate:')
                                    || line === 'a=end-of-candidates'))
        {
            continue;
        }
        out.push(line);
    }

    closeSection();

    return out.join('\r\n') + '\r\n';
}

/*
 * Puts the wanted codec first in a transceiver's preferences; for H.264
 * packetization-mode=1 and Constrained Baseline first (what the server and
 * every viewer decode), for VP9 profile 0.
 */

function preferCodec(transceiver, kind, name) {
    const caps = RTCRtpReceiver.getCapabilities?.(kind)
                 || RTCRtpSender.getCapabilities?.(kind);
    const mime = `${kind}/${name}`.toLowerCase();

    if (!caps || typeof transceiver.setCodecPreferences !== 'function') {
        return false;
    }

    const senderCaps = RTCRtpSender.getCapabilities(kind).codecs;
    if (!senderCaps.some((c) => c.mimeType.toLowerCase() === mime)) {
        throw new WebRTCError('unsupported',
                              `this browser cannot send ${name} video`);
    }

    const score = (c) => {
        const f = c.sdpFmtpLine || '';
        let s = 0;
        if (/packetization-mode=1/.test(f)) s -= 4;
        if (/profile-level-id=42e0/i.test(f)) s -= 2;
        if (/profile-level-id=4200/i.test(f)) s -= 1;
        if (/profile-id=0/.test(f) || (mime === 'video/vp9' && !f)) s -= 1;
        return s;
    };

    const codecs = caps.codecs;
    const wanted = codecs.filter((c) => c.mimeType.toLowerCase() === mime)
                         .sort((a, b) => score(a) - score(b));
    const rest = codecs.filter((c) => c.mimeType.toLowerCase() !== mime);

    transceiver.setCodecPreferences([...wanted, ...rest]);
    return true;
}

function wsUrl(url) {
    const u = new URL(url, document.baseURI);
    if (u.protocol === 'https:') {
        u.protocol = 'wss:';
    } else if (u.protocol === 'http:') {
        u.protocol = 'ws:';
    }
    return u.href;
}


/*
 * Stats: byte and frame deltas between two getStats() samples.
 */

class StatsTracker {
    constructor(direction) {
        this.direction = direction;     /* 'send' or 'recv' */
        this.prev = null;
    }

    compute(report, now) {
        const send = this.direction === 'send';
        const rtp = send ? 'outbound-rtp' : 'inbound-rtp';
        const cur = { audioBytes: 0, videoBytes: 0, frames: 0, t: now };
        const st = {
            bitrate: null, videoBitrate: null, audioBitrate: null,
            fps: null, width: null, height: null, rtt: null, jitter: null,
            packetsLost: null, codec: null, audioCodec: null,
        };
        let pairId = null, pairRtt = null, remoteRtt = null;
        let videoJitter = null, audioJitter = null, video = null;

        report.forEach((s) => {
            if (s.type === rtp) {
                const bytes = send ? s.bytesSent : s.bytesReceived;
                const kind = s.kind || s.mediaType;

                if (kind === 'video') {
                    cur.videoBytes += bytes || 0;
                    video = s;
                    videoJitter = s.jitter ?? videoJitter;
                } else {
                    cur.audioBytes += bytes || 0;
                    audioJitter = s.jitter ?? audioJitter;
                    if (s.codecId && report.get(s.codecId)) {
                        st.audioCodec = report.get(s.codecId).mimeType;
                    }
                }

                if (!send && s.packetsLost !== undefined) {
                    st.packetsLost = (st.packetsLost || 0) + s.packetsLost;
                }

            } else if (s.type === 'remote-inbound-rtp' && send) {
                if (s.packetsLost !== undefined) {
                    st.packetsLost = (st.packetsLost || 0) + s.packetsLost;
                }
                if (s.kind === 'video' && s.jitter !== undefined) {
                    videoJitter = s.jitter;
                }
                if (s.roundTripTime !== undefined) {
                    remoteRtt = s.roundTripTime;
                }

            } else if (s.type === 'transport' && s.selectedCandidatePairId) {
                pairId = s.selectedCandidatePairId;

            } else if (s.type === 'candidate-pair' && s.nominated
                       && s.state === 'succeeded' && pairRtt === null)
            {
                pairRtt = s.currentRoundTripTime ?? null;
            }
        });

        if (pairId && report.get(pairId)) {
            pairRtt = report.get(pairId).currentRoundTripTime ?? pairRtt;
        }

        const rtt = pairRtt ?? remoteRtt;
        st.rtt = rtt === null ? null : Math.round(rtt * 1000);

        const jitter = videoJitter ?? audioJitter;
        st.jitter = jitter === null ? null : Math.round(jitter * 10000) / 10;

        if (video) {
            st.width = video.frameWidth ?? null;
            st.height = video.frameHeight ?? null;
            cur.frames = (send ? video.framesEncoded : video.framesDecoded) || 0;

            if (send) {
                st.framesEncoded = video.framesEncoded ?? null;
                st.framesSent = video.framesSent ?? null;
                st.qualityLimitation = video.qualityLimitationReason ?? null;
            } else {
                st.framesDecoded = video.framesDecoded ?? 0;
                st.framesDropped = video.framesDropped ?? null;
                st.freezeCount = video.freezeCount ?? null;
            }

            if (video.codecId && report.get(video.codecId)) {
                st.codec = report.get(video.codecId).mimeType;
            }
            st.fps = video.framesPerSecond ?? null;
        } else if (!send) {
            st.framesDecoded = 0;
        }

        const p = this.prev;
        if (p && cur.t > p.t) {
            const dt = cur.t - p.t;     /* ms; bits per ms = kbps */
            const rate = (b, a) => Math.max(0, Math.round((b - a) * 8 / dt));

            st.videoBitrate = rate(cur.videoBytes, p.videoBytes);
            st.audioBitrate = rate(cur.audioBytes, p.audioBytes);
            st.bitrate = st.videoBitrate + st.audioBitrate;

            if (st.fps === null && video) {
                st.fps = Math.round(Math.max(0, cur.frames - p.frames) * 1000 / dt);
            }
        }

        this.prev = cur;
        return st;
    }
}


/**
 * What Publisher and Player share: the peer connection, the signaling
 * transport, trickle ICE, ICE restart, stats.
 */
class Session {
    constructor(role, options = {}) {
        this.role = role;
        this.options = {
            ...DEFAULTS,
            url: options.transport === 'websocket'
                ? '/ws' : role === 'publisher' ? '/whip/' : '/whep/',
            ...options,
        };

        if (!['whip', 'websocket'].includes(this.options.transport)) {
            throw new TypeError(`unknown transport "${this.options.transport}"`);
        }

        this.state = 'new';
        this.pc = null;
        this.resourceUrl = null;
        this.sessionId = null;
        this.viewers = null;
        this.refused = [];
        this._offered = null;

        this._etag = null;
        this._ws = null;
        this._ping = null;
        this._stopped = false;
        this._abort = new AbortController();
        this._answered = false;
        this._pending = [];         /* candidates (null: end) to send */
        this._trickleTimer = null;
        this._trickle = true;
        this._patches = Promise.resolve();
        this._restarting = false;
        this._restarts = 0;
        this._statsTimer = null;
        this._stats = new StatsTracker(role === 'publisher' ? 'send' : 'recv');
        this._t0 = 0;
    }

    /** The endpoint URL: the base url with the stream name appended. */
    get endpoint() {
        const { url, stream, transport } = this.options;

        if (transport === 'websocket') {
            return wsUrl(url);
        }

        const full = url.endsWith('/') ? url + encodeURIComponent(stream) : url;
        return new URL(full, document.baseURI).href;
    }

    async _start() {
        if (this.state !== 'new') {
            throw new Error('a session starts once: create a new one');
        }

        const { transport, url, stream } = this.options;
        if (!stream && (transport === 'websocket' || url.endsWith('/'))) {
            throw new TypeError('no stream name');
        }

        if (typeof RTCPeerConnection === 'undefined') {
            throw new WebRTCError('unsupported', 'this browser has no WebRTC');
        }

        this._t0 = performance.now();
        this._setState('connecting');

        try {
            await this._connect();

        } catch (e) {
            const err = this._stopped && !(e instanceof WebRTCError)
                ? new WebRTCError('aborted', 'stopped') : e;
            this._release();
            this._close();
            if (!this._stopped) {
                this.state = 'failed';  /* the rejection reports it */
            }
            throw err;
        }

        if (this.options.onStats) {
            this._statsTimer = setInterval(async () => {
                const s = await this.getStats().catch(() => null);
                if (s && this._statsTimer) {
                    this._call('onStats', s);
                }
            }, this.options.statsInterval);
        }
    }

    async _connect() {
        const opts = this.options;
        const pc = new RTCPeerConnection({
            bundlePolicy: 'max-bundle',
            iceServers: opts.iceServers || [],
            iceTransportPolicy: opts.iceTransportPolicy || 'all',
        });

        this.pc = pc;

        pc.addEventListener('icecandidate', (e) => this._onCandidate(e.candidate));
        pc.addEventListener('iceconnectionstatechange', () => this._update());
        pc.addEventListener('connectionstatechange', () => this._update());

        this._addTransceivers(pc);

        /*
         * The offer goes out before setLocalDescription(): the ICE servers
         * of the answer's Link headers must be set before the browser
         * gathers its candidates, which setLocalDescription() starts (a
         * later setConfiguration() takes effect at an ICE restart only)
         */

        const offer = await pc.createOffer();
        this._check();

        const answer = opts.transport === 'websocket'
            ? await this._wsOffer(offer.sdp)
            : await this._httpOffer(offer.sdp);
        this._check();

        if (this._linkServers?.length) {
            try {
                pc.setConfiguration({
                    ...pc.getConfiguration(),
                    iceServers: [...(opts.iceServers || []), ...this._linkServers],
                });
            } catch (e) {
                this._warn(`cannot use the ICE servers of the answer: ${e.message}`);
            }
        }

        await pc.setLocalDescription(offer);
        this._check();

        /* what was offered, with the mids: _checkRefused() */
        this._offered = pc.getTransceivers().map((t) => ({
            t, mid: t.mid,
            kind: t.sender.track?.kind || t.receiver.track?.kind || null,
        }));

        try {
            await pc.setRemoteDescription({ type: 'answer', sdp: answer });
        } catch (e) {
            throw new WebRTCError('protocol', `bad answer: ${e.message}`, { cause: e });
        }
        this._check();

        this._answered = true;
        this._checkRefused(pc, answer);

        this._call('onEvent', {
            type: 'session',
            id: this.sessionId,
            url: this.resourceUrl,
        });

        this._flush();
        await this._afterAnswer();
        this._update();
    }

    /* subclasses: transceivers before the offer, work after the answer */
    _addTransceivers() {}
    async _afterAnswer() {}

    /*
     * A refused audio or video does not end the session: it is reported
     * ('refused' events, this.refused) and the rest goes on; only an
     * answer that refuses everything fails.
     */

    _checkRefused(pc, answer) {
        const sections = sdpSections(answer);
        const current = pc.getTransceivers();
        const all = this._offered || [];

        all.forEach((o, i) => {
            const reason = refusal(o.t, o.mid, sections, i, current);
            if (!reason) {
                return;
            }
            const kind = o.kind || sections[i]?.kind || 'media';
            this.refused.push({ kind, reason });
            this._call('onEvent', {
                type: 'refused', kind, reason,
                message: `${kind} was refused by the server: ${reason}`,
            });
        });

        if (all.length && this.refused.length === all.length) {
            const what = this.refused.map((r) => `${r.kind} (${r.reason})`);
            throw new WebRTCError('server',
                                  `the server refused ${what.join(' and ')}`);
        }
    }

    _check() {
        if (this._stopped) {
            throw new WebRTCError('aborted', 'stopped');
        }
    }

    _auth() {
        return this.options.token
            ? { Authorization: `Bearer ${this.options.token}` } : {};
    }

    /* WHIP/WHEP: POST the offer, RFC 9725, 4.2 */

    async _httpOffer(sdp) {
        const url = this.endpoint;
        const res = await request(url, {
            method: 'POST',
            headers: { 'Content-Type': 'application/sdp', ...this._auth() },
            body: sdp,
        }, this.options.timeout, this._abort.signal);

        if (!res.ok) {
            throw await httpError(res, this.role === 'publisher'
                                       ? 'WHIP location' : 'WHEP location');
        }

        const loc = res.headers.get('Location');
        if (loc) {
            this.resourceUrl = new URL(loc, res.url || url).href;
            this.sessionId = this.resourceUrl.replace(/\/+$/, '').split('/').pop();
        } else {
            this._warn('no Location in the answer (a cross-origin server must '
                       + 'expose it): the session cannot be stopped');
        }

        this._etag = res.headers.get('ETag');
        this._linkServers = parseLinkHeader(res.headers.get('Link'));

        const text = await res.text();
        if (!/^v=0/m.test(text)) {
            throw new WebRTCError('protocol', 'the answer is not SDP');
        }
        return text;
    }

    /* WebSocket: send the offer, resolve with the answer */

    _wsOffer(sdp) {
        const opts = this.options;
        const url = this.endpoint;

        return new Promise((resolve, reject) => {
            let opened = false, done = false;
            const ws = new WebSocket(url);

            this._ws = ws;

            const fail = (err) => {
                if (!done) {
                    done = true;
                    clearTimeout(timer);
                    reject(err);
                }
            };

            const timer = setTimeout(() => {
                fail(new WebRTCError('timeout',
                                     `no answer from ${url} in ${opts.timeout / 1000} s`));
                ws.close();
            }, opts.timeout);

            this._abort.signal.addEventListener('abort', () => {
                fail(new WebRTCError('aborted', 'stopped'));
            });

            ws.addEventListener('open', () => {
                opened = true;
                const msg = {
                    type: this.role === 'publisher' ? 'publish' : 'play',
                    stream: opts.stream,
                    sdp,
                };
                if (opts.token) {
                    msg.token = opts.token;
                }
                this._send(msg);
                this._ping = setInterval(() => this._send({ type: 'ping' }),
                                         opts.pingInterval);
            });

            ws.addEventListener('message', (e) => {
                let msg;
                try {
                    msg = JSON.parse(e.data);
                } catch (_) {
                    this._warn('a WebSocket message that is not JSON');
                    return;
                }

                switch (msg.type) {
                case 'answer':
                    if (!done) {
                        done = true;
                        clearTimeout(timer);
                        this.sessionId = msg.session ?? null;
                        resolve(msg.sdp);
                    }
                    break;

                case 'error':
                    if (!done) {
                        fail(new WebRTCError('server', msg.reason || 'error',
                                             { status: msg.status || 0 }));
                        break;
                    }
                    /* fall through */

                default:
                    this._wsMessage(msg);
                }
            });

            ws.addEventListener('close', (e) => {
                clearInterval(this._ping);
                this._ping = null;

                if (!done && opened) {
                    fail(new WebRTCError('closed',
                                         `the server closed the connection (${e.code}${e.reason ? ' ' + e.reason : ''})`));
                    return;
                }

                if (!done) {
                    /* the handshake failed: ask why, within the timeout */
                    wsRefused(url, opts.timeout).then(fail, () => {
                        fail(new WebRTCError('network', `cannot reach ${url}`,
                                             { url }));
                    });
                    return;
                }

                this._wsClosed(e);
            });
        });
    }

    /* a message after the answer, on the first or a resumed WebSocket */

    _wsMessage(msg) {
        switch (msg.type) {
        case 'error':
            this._call('onEvent', {
                type: 'error',
                error: new WebRTCError('server', msg.reason || 'error',
                                       { status: msg.status || 0 }),
            });
            break;

        case 'event':
            this._call('onEvent', { type: msg.event, stream: msg.stream });
            break;

        case 'viewers':
            this.viewers = msg.count;
            this._call('onEvent', {
                type: 'viewers', stream: msg.stream, count: msg.count,
            });
            break;

        case 'pong':
            break;

        default:
            this._warn(`unknown WebSocket message "${msg.type}"`);
        }
    }

    /*
     * The signaling connection closed after the answer.  1012 "service
     * restart": nginx reloaded and keeps the session for a while; a new
     * WebSocket resumes it, the peer connection is not touched.
     */

    _wsClosed(e) {
        clearInterval(this._ping);
        this._ping = null;

        if (this._stopped) {
            return;
        }

        this._call('onEvent', { type: 'close', code: e.code, reason: e.reason });

        if (e.code === 1012 && this.sessionId) {
            this._wsResume();
            return;
        }

        this._fail(new WebRTCError('closed', 'the signaling connection closed'));
    }

    /* RESUME_TRIES new WebSockets, RESUME_DELAY ms apart, until one resumes */

    async _wsResume() {
        let last = null;

        this._ws = null;

        for (let i = 0; i < RESUME_TRIES; i++) {
            await new Promise((r) => setTimeout(r, RESUME_DELAY));

            if (this._stopped) {
                return;
            }

            try {
                await this._wsResumeOnce();
                this._call('onEvent', { type: 'resumed', id: this.sessionId });
                return;

            } catch (err) {
                last = err;

                if (err.code === 'server') {
                    break;      /* refused: the session is gone */
                }
            }
        }

        if (!this._stopped) {
            this._fail(new WebRTCError('closed',
                'the signaling connection closed and the session could not'
                + ` be resumed${last ? ': ' + last.message : ''}`));
        }
    }

    _wsResumeOnce() {
        const opts = this.options;
        const url = this.endpoint;

        return new Promise((resolve, reject) => {
            let done = false, resumed = false;
            const ws = new WebSocket(url);

            this._ws = ws;

            const finish = (err) => {
                if (!done) {
                    done = true;
                    clearTimeout(timer);
                    if (err) {
                        reject(err);
                    } else {
                        resolve();
                    }
                }
            };

            const timer = setTimeout(() => {
                finish(new WebRTCError('timeout',
                                       `no resume from ${url} in ${opts.timeout / 1000} s`));
                ws.close();
            }, opts.timeout);

            ws.addEventListener('open', () => {
                const msg = {
                    type: 'resume',
                    session: this.sessionId,
                    role: this.role === 'publisher' ? 'publish' : 'play',
                    stream: opts.stream,
                };
                if (opts.token) {
                    msg.token = opts.token;
                }
                this._send(msg);
            });

            ws.addEventListener('message', (e) => {
                let msg;
                try {
                    msg = JSON.parse(e.data);
                } catch (_) {
                    this._warn('a WebSocket message that is not JSON');
                    return;
                }

                if (resumed) {
                    this._wsMessage(msg);
                    return;
                }

                if (msg.type === 'resumed') {
                    resumed = true;
                    this._ping = setInterval(() => this._send({ type: 'ping' }),
                                             opts.pingInterval);
                    finish();
                    return;
                }

                if (msg.type === 'error') {
                    finish(new WebRTCError('server', msg.reason || 'error',
                                           { status: msg.status || 0 }));
                    ws.close();
                }
            });

            ws.addEventListener('close', (e) => {
                if (!resumed) {
                    finish(new WebRTCError('closed',
                                           `the server closed the connection (${e.code})`));
                    return;
                }

                if (this._ws === ws) {
                    this._wsClosed(e);
                }
            });
        });
    }

    _send(msg) {
        if (this._ws && this._ws.readyState === WebSocket.OPEN) {
            this._ws.send(JSON.stringify(msg));
        }
    }

    /* trickle ICE */

    _onCandidate(c) {
        if (c && !c.candidate) {
            return;     /* Firefox's empty end-of-generation candidate */
        }

        this._pending.push(c);

        if (this._answered) {
            this._flush();
        }
    }

    _flush() {
        if (this.options.transport === 'websocket') {
            for (const c of this._pending.splice(0)) {
                this._send(c ? { type: 'candidate', candidate: c.candidate, mid: c.sdpMid }
                             : { type: 'end-of-candidates' });
            }
            return;
        }

        if (!this._trickleTimer) {
            this._trickleTimer = setTimeout(() => {
                this._trickleTimer = null;
                this._patches = this._patches.then(() => this._patchCandidates())
                                             .catch(() => {});
            }, TRICKLE_DELAY);
        }
    }

    /* RFC 9725, 4.3.1: PATCH the candidates gathered since the last one */

    async _patchCandidates() {
        const list = this._pending.splice(0);

        if (!this.resourceUrl || !this._trickle || this._stopped || !this.pc) {
            return;
        }

        const sdp = this.pc.localDescription.sdp;
        const ufrag = sdpAttr(sdp, 'ice-ufrag');
        const pwd = sdpAttr(sdp, 'ice-pwd');
        const groups = new Map();
        let end = false;

        for (const c of list) {
            if (c === null) {
                end = true;
            } else if (!c.usernameFragment || c.usernameFragment === ufrag) {
                const mid = c.sdpMid ?? '0';
                if (!groups.has(mid)) {
                    groups.set(mid, []);
                }
                groups.get(mid).push(c.candidate);
            }
        }

        if (groups.size === 0) {
            if (!end) {
                return;
            }
            groups.set(sdpAttr(sdp, 'mid') ?? '0', []);
        }

        const headers = {
            'Content-Type': 'application/trickle-ice-sdpfrag',
            ...this._auth(),
        };
        if (this._etag) {
            headers['If-Match'] = this._etag;
        }

        const res = await request(this.resourceUrl, {
            method: 'PATCH',
            headers,
            body: buildFragment(ufrag, pwd, groups, end),
        }, this.options.timeout, this._abort.signal).catch((e) => {
            if (e.code !== 'aborted') {
                this._warn(`could not send ICE candidates: ${e.message}`);
            }
            return null;
        });

        if (!res || res.ok) {
            return;
        }

        if (res.status === 405 || res.status === 501) {
            this._trickle = false;      /* the server does not trickle */
            return;
        }

        const err = await httpError(res);
        this._warn(`the server refused ICE candidates: ${err.message}`);
    }

    /**
     * Restarts ICE (RFC 9725, 4.4): new local credentials PATCHed with
     * If-Match: "*", the server's new credentials applied to the remote
     * description. Called by itself when ICE fails (WHIP/WHEP); resolves to
     * true when the restart was accepted.
     *
     * @returns {Promise<boolean>}
     */
    restartIce() {
        if (this._restarting || !this.pc || this._stopped || !this._answered) {
            return Promise.resolve(false);
        }

        if (this.options.transport !== 'whip' || !this.resourceUrl) {
            return Promise.resolve(false);
        }

        this._restarting = true;
        this._restarts++;
        this._update();

        const run = async () => {
            const pc = this.pc;
            let ok = false;

            try {
                pc.restartIce();
                await pc.setLocalDescription(await pc.createOffer({ iceRestart: true }));
                this._check();

                const sdp = pc.localDescription.sdp;
                const mid = sdpAttr(sdp, 'mid') ?? '0';
                const body = buildFragment(sdpAttr(sdp, 'ice-ufrag'),
                                           sdpAttr(sdp, 'ice-pwd'),
                                           new Map([[mid, []]]), false);

                const res = await request(this.resourceUrl, {
                    method: 'PATCH',
                    headers: {
                        'Content-Type': 'application/trickle-ice-sdpfrag',
                        'If-Match': '"*"',
                        ...this._auth(),
                    },
                    body,
                }, this.options.timeout, this._abort.signal);

                if (res.status !== 200) {
                    throw res.ok
                        ? new WebRTCError('protocol', `ICE restart answered ${res.status}`)
                        : await httpError(res);
                }

                this._etag = res.headers.get('ETag') || this._etag;
                const frag = await res.text();
                this._check();

                await pc.setRemoteDescription({
                    type: 'answer',
                    sdp: applyFragment(pc.remoteDescription.sdp, frag),
                });

                this._call('onEvent', { type: 'ice-restart', ok: true });
                ok = true;
                return true;

            } catch (e) {
                if (pc.signalingState === 'have-local-offer') {
                    await pc.setLocalDescription({ type: 'rollback' }).catch(() => {});
                }
                if (!this._stopped) {
                    this._call('onEvent', { type: 'ice-restart', ok: false, error: e });
                    this._fail(e instanceof WebRTCError ? e
                               : new WebRTCError('protocol', `ICE restart: ${e.message}`));
                }
                return false;

            } finally {
                this._restarting = false;
                if (ok) {
                    /* new checks are under way: no second restart yet */
                    this._setState(pc.connectionState === 'connected'
                                   ? 'connected' : 'connecting');
                }
            }
        };

        /* after the PATCHes of candidates already queued */
        const p = this._patches.then(run);
        this._patches = p.catch(() => {});
        return p;
    }

    /* the session's state from the peer connection's */

    _update() {
        const pc = this.pc;

        if (this._stopped || this.state === 'failed' || !pc) {
            return;
        }

        if (this._restarting) {
            this._setState('restarting');
            return;
        }

        const ice = pc.iceConnectionState;
        const conn = pc.connectionState;

        if (ice === 'connected' || ice === 'completed') {
            this._restarts = 0;
        }

        if (ice === 'failed' || conn === 'failed') {
            if (this.options.iceRestart && this.options.transport === 'whip'
                && this._answered && this._restarts < MAX_RESTARTS)
            {
                this.restartIce();
                return;
            }
            this._fail(new WebRTCError('network', 'the media connection failed'));
            return;
        }

        if (!this._answered) {
            return;
        }

        if (conn === 'connected') {
            this._setState('connected');
        } else if (conn === 'disconnected') {
            this._setState('disconnected');
        } else if (conn === 'new' || conn === 'connecting') {
            this._setState('connecting');
        }
    }

    _fail(err) {
        if (this._stopped || this.state === 'failed') {
            return;
        }
        this._call('onEvent', { type: 'error', error: err });
        this._setState('failed');
        this._release();
        this._close();
    }

    _setState(s) {
        if (this.state !== s) {
            this.state = s;
            this._call('onState', s);
        }
    }

    _warn(message) {
        this._call('onEvent', { type: 'warning', message });
    }

    _call(name, arg) {
        const f = this.options[name];
        if (f) {
            try {
                f(arg, this);
            } catch (e) {
                setTimeout(() => { throw e; });
            }
        }
    }

    /**
     * Numbers of the session, see the module documentation.
     *
     * @returns {Promise<object>}
     */
    async getStats() {
        if (!this.pc || this.pc.connectionState === 'closed') {
            return this._lastStats || null;
        }
        const report = await this.pc.getStats();
        const st = this._stats.compute(report, performance.now());
        this._extraStats(st);
        this._lastStats = st;
        return st;
    }

    _extraStats() {}

    _clearTimers() {
        clearInterval(this._statsTimer);
        clearTimeout(this._trickleTimer);
        clearInterval(this._ping);
        this._statsTimer = this._trickleTimer = this._ping = null;
    }

    /* closes the peer connection and the socket; keeps the resource URL */

    _close() {
        this._clearTimers();

        if (this._ws) {
            this._send({ type: 'stop' });
            this._ws.close(1000);
            this._ws = null;
        }

        if (this.pc) {
            this.pc.close();
        }
    }

    /**
     * Ends the session: DELETE of the WHIP/WHEP session (RFC 9725, 4.2),
     * or "stop" and close over WebSocket; closes the peer connection.
     * Never rejects; safe to call in any state and in a pagehide handler.
     *
     * @returns {Promise<void>}
     */
    async stop() {
        if (this._stopped) {
            return;
        }

        this._stopped = true;
        this._abort.abort();
        this._clearTimers();
        this._setState('closed');

        /*
         * DELETE before closing the peer connection, whose DTLS
         * close_notify would end the session first
         */
        await this._release();
        this._close();
    }

    /* DELETE the WHIP/WHEP session, once; keepalive: it survives the page */

    _release() {
        const url = this.options.transport === 'whip' ? this.resourceUrl : null;
        this.resourceUrl = null;

        if (!url) {
            return Promise.resolve();
        }

        return request(url, {
            method: 'DELETE',
            headers: this._auth(),
            keepalive: true,
        }, this.options.timeout).catch(() => {});
    }
}


/**
 * Publishes a MediaStream: WHIP or WebSocket "publish".
 */
export class Publisher extends Session {
    /** @param {object} options  see the module documentation */
    constructor(options) {
        super('publisher', options);
        this.media = null;
        this._video = null;
        this._audio = null;
    }

    /**
     * Sends the offer and applies the answer; resolves once the server
     * accepted the session (media then connects, see onState).
     *
     * @param {MediaStream} media  at most one audio and one video track
     * @returns {Promise<void>}  rejects with a WebRTCError
     */
    start(media) {
        if (!media || media.getTracks().length === 0) {
            return Promise.reject(new TypeError('nothing to publish'));
        }
        this.media = media;
        return this._start();
    }

    _addTransceivers(pc) {
        const audio = this.media.getAudioTracks()[0];
        const video = this.media.getVideoTracks()[0];

        if (audio) {
            this._audio = pc.addTransceiver(audio, {
                direction: 'sendonly', streams: [this.media],
            });
        }

        if (video) {
            const init = { direction: 'sendonly', streams: [this.media] };
            if (this.options.maxBitrate > 0) {
                init.sendEncodings = [{ maxBitrate: this.options.maxBitrate }];
            }

            this._video = pc.addTransceiver(video, init);

            if (!preferCodec(this._video, 'video', this.options.videoCodec)) {
                this._warn('this browser cannot choose the codec');
            }
        }
    }

    async _afterAnswer() {
        if (this.options.maxBitrate > 0) {
            /* a cap the browser refuses does not end the session */
            await this.setMaxBitrate(this.options.maxBitrate).catch((e) => {
                this._warn(`cannot cap the video bitrate: ${e.message}`);
            });
        }
    }

    /**
     * Caps the video bitrate (RTCRtpSender.setParameters).
     *
     * @param {number} bps  bits per second; 0 or null removes the cap
     * @returns {Promise<void>}
     */
    async setMaxBitrate(bps) {
        this.options.maxBitrate = bps || 0;

        if (isStopped(this._video)) {
            return;     /* no video, or the server refused it */
        }

        const sender = this._video.sender;

        const params = sender.getParameters();
        if (!params.encodings || params.encodings.length === 0) {
            return;     /* before negotiation: sendEncodings has it */
        }

        if (bps > 0) {
            params.encodings[0].maxBitrate = bps;
        } else {
            delete params.encodings[0].maxBitrate;
        }

        await sender.setParameters(params);
    }

    /**
     * Replaces the published audio or video track (another camera or
     * microphone) without new signaling.
     *
     * @param {MediaStreamTrack} track  of a kind that is being published
     * @returns {Promise<boolean>}  false if nothing of that kind is published
     *          (or the server refused it)
     */
    async replaceTrack(track) {
        const tr = track.kind === 'video' ? this._video : this._audio;
        if (isStopped(tr)) {
            return false;
        }
        await tr.sender.replaceTrack(track);
        return true;
    }

    _extraStats(st) {
        st.viewers = this.viewers;
    }
}


/**
 * Plays a stream: WHEP or WebSocket "play".
 */
export class Player extends Session {
    /** @param {object} options  see the module documentation */
    constructor(options) {
        super('player', options);
        /** @type {MediaStream} the received tracks */
        this.stream = new MediaStream();
        this.timeToFirstFrame = null;
    }

    /**
     * Sends the offer and applies the answer.
     *
     * @returns {Promise<MediaStream>}  to put into a video element's
     *          srcObject; rejects with a WebRTCError (status 404: the
     *          stream was never published)
     */
    async start() {
        await this._start();
        return this.stream;
    }

    _addTransceivers(pc) {
        pc.addTransceiver('audio', { direction: 'recvonly' });
        pc.addTransceiver('video', { direction: 'recvonly' });

        pc.addEventListener('track', (e) => {
            this.stream.addTrack(e.track);
        });
    }

    async _afterAnswer() {
        if (!this.refused.some((r) => r.kind === 'video')) {
            this._watchFirstFrame();
        }
    }

    /* polls until the first decoded frame: time to first frame */

    async _watchFirstFrame() {
        const pc = this.pc;

        for (;;) {
            const elapsed = performance.now() - this._t0;
            await new Promise((r) => setTimeout(r, elapsed < 5000 ? 40 : 250));

            if (this._stopped || pc.connectionState === 'closed') {
                return;
            }

            let frames = 0;
            const report = await pc.getStats().catch(() => null);
            report?.forEach((s) => {
                if (s.type === 'inbound-rtp' && (s.kind || s.mediaType) === 'video') {
                    frames += s.framesDecoded || 0;
                }
            });

            if (frames > 0) {
                this.timeToFirstFrame = Math.round(performance.now() - this._t0);
                this._call('onEvent', { type: 'first-frame', ms: this.timeToFirstFrame });
                return;
            }
        }
    }

    _extraStats(st) {
        st.timeToFirstFrame = this.timeToFirstFrame;
        st.viewers = this.viewers;
    }
}
