// watch.html?stream=NAME[&transport=websocket][&token=T]: a player that
// reconnects by itself; without a stream, a form and the live streams.
// The signaling URLs: config.js, or ?server=, ?whep=, ?ws=, ?status=
// (endpoints.js).

import { Player, fetchStreamStatus, fetchStreams } from './webrtc.js';
import { endpoints } from './endpoints.js';
import {
    $, setStatus, setNotice, insecureContextHtml, describeError,
    renderStats, fmt, STREAM_RE, escapeHtml, showEndpoints,
} from './ui.js';

const WAIT_RETRY = 2000;        /* ms: stream not live yet (404) */
const RETRY_MAX = 5000;         /* ms: reconnect backoff cap */
const GRACE = 5000;             /* ms disconnected before starting over */
const STALL = 3;                /* s without a new frame: publisher away */
const STALL_CHECK = 6;          /* s without a frame: ask whether it is live */

const q = new URLSearchParams(location.search);
const stream = (q.get('stream') || '').trim();
const transport = q.get('transport') === 'websocket' ? 'websocket' : 'whip';
const token = q.get('token') || undefined;

let player = null;
let retries = 0;
let retryTimer = null;
let graceTimer = null;
let lastFrames = 0;
let stalled = 0;
let live = false;
let publisherAway = false;
let refused = [];               /* kinds the server refused: 'video', ... */

window.__state = 'idle';
window.__stats = emptyStats();
window.__events = [];           /* the client's events, for tests */
window.__refused = refused;
window.__session = null;        /* {id, url} of the current session */

function emptyStats() {
    return {
        bitrate: null, fps: null, width: null, height: null, jitter: null,
        packetsLost: null, framesDecoded: 0, timeToFirstFrame: null,
    };
}

function name() {
    return `“${stream}”`;
}


function connect() {
    clearTimeout(retryTimer);
    clearTimeout(graceTimer);

    live = false;
    publisherAway = false;
    lastFrames = 0;
    stalled = 0;
    if (refused.length) {
        setNotice('');
    }
    refused = window.__refused = [];

    setStatus('connecting', retries
        ? `Reconnecting to stream ${name()}…`
        : `Connecting to stream ${name()}…`);

    const p = new Player({
        transport,
        url: transport === 'websocket' ? endpoints.ws : endpoints.whep,
        stream,
        token,
        onState: (s) => onState(p, s),
        onStats: (st) => onStats(p, st),
        onEvent: (ev) => onEvent(p, ev),
    });

    player = p;

    p.start().then((ms) => {
        if (player !== p) {
            return;
        }
        const video = $('video');
        video.srcObject = ms;
        video.play().catch(() => {
            /* autoplay refused even muted: a click starts it */
            $('unmute').textContent = 'Play';
        });
    }, (e) => {
        if (player !== p) {
            return;
        }
        player = null;

        if (e.code === 'server' && e.status === 404) {
            setStatus('waiting', `Stream ${stream} is not live yet — waiting…`);
            retryTimer = setTimeout(connect, WAIT_RETRY);
            return;
        }

        if (e.code === 'endpoint' || e.code === 'origin') {
            /* the page or the server needs a fix: trying again won't do */
            setStatus('error', describeError(e, stream));
            return;
        }

        if (e.code === 'server' && e.status < 500 && e.status !== 409 && e.status !== 429) {
            setStatus('error', describeError(e, stream));     /* needs a fix */
            return;
        }

        retry(describeError(e, stream), 'error', e.retryAfter ? e.retryAfter * 1000 : 0);
    });
}

function retry(why, state, after = 0) {
    const delay = after || Math.min(RETRY_MAX, 1000 * 2 ** Math.min(retries, 3));
    retries++;
    setStatus(state, `${why} Retrying in ${Math.round(delay / 1000)} s…`);
    retryTimer = setTimeout(connect, delay);
}

function teardown(why) {
    const p = player;
    player = null;
    clearTimeout(graceTimer);
    p?.stop();
    document.body.classList.remove('is-live');
    retry(why, 'connecting');
}

function onState(p, state) {
    if (p !== player) {
        return;
    }

    switch (state) {
    case 'connected':
        clearTimeout(graceTimer);
        graceTimer = null;
        showPlaying();
        break;

    case 'disconnected':
    case 'restarting':
        setStatus('connecting', 'The connection is interrupted — recovering…');
        if (!graceTimer) {
            graceTimer = setTimeout(() => {
                if (player === p) {
                    teardown('The connection was lost.');
                }
            }, GRACE);
        }
        break;

    case 'failed':
        teardown('The connection was lost.');
        break;
    }
}

function showPlaying() {
    if (publisherAway) {
        setStatus('waiting', `The publisher of ${name()} has stopped — waiting for them to come back…`);
    } else if (live) {
        retries = 0;
        setStatus('live', `Live: ${stream}`
                  + (refused.length ? ` (${refused.includes('video')
                                            ? 'audio' : 'video'} only)` : ''));
    } else {
        setStatus('connecting', `Connected to ${name()} — waiting for the first frame…`);
    }
    document.body.classList.toggle('is-live', live && !publisherAway);
}

function onEvent(p, ev) {
    if (p !== player) {
        return;
    }

    window.__events.push({ t: Date.now(), type: ev.type, count: ev.count, ms: ev.ms });
    if (window.__events.length > 50) {
        window.__events.shift();
    }

    switch (ev.type) {
    case 'session':
        window.__session = { id: ev.id, url: ev.url };
        break;
    case 'refused': {
        /* the session goes on with the rest: no video is not a stall */
        refused.push(ev.kind);
        const kind = ev.kind[0].toUpperCase() + ev.kind.slice(1);
        setNotice(`${escapeHtml(kind)} was refused by the server`
                  + ` (${escapeHtml(ev.reason)}): playing`
                  + ` ${ev.kind === 'video' ? 'audio' : 'video'} only.`);
        break;
    }
    case 'first-frame':
        live = true;
        showPlaying();
        break;
    case 'publisher-stopped':
        publisherAway = true;
        showPlaying();
        break;
    case 'publisher-started':
        publisherAway = false;
        live = false;
        lastFrames = window.__stats.framesDecoded || 0;
        setStatus('connecting', `The publisher of ${name()} is back — waiting for video…`);
        break;
    case 'warning':
        console.warn('webrtc:', ev.message);
        break;
    case 'error':
        console.warn('webrtc:', ev.error);
        break;
    }
}

function onStats(p, st) {
    if (p !== player) {
        return;
    }

    /*
     * no new frame for a while: the publisher is away (the session stays);
     * without video, no audio for a while
     */
    const frames = st.framesDecoded || 0;
    const moving = refused.includes('video')
        ? (st.audioBitrate || 0) > 0 : frames > lastFrames;
    if (moving) {
        stalled = 0;
        if (!live || publisherAway) {
            live = true;
            publisherAway = false;
            showPlaying();
        }
    } else if (!publisherAway && p.state === 'connected') {
        stalled++;
        if (live && stalled >= STALL) {
            live = false;
            setStatus('waiting', `No video from ${name()}: the publisher is away — waiting…`);
            document.body.classList.remove('is-live');
        }
        if (stalled % STALL_CHECK === 0) {
            checkStalled(p);
        }
    }
    lastFrames = frames;

    const numbers = {
        bitrate: st.bitrate,
        fps: st.fps,
        width: st.width,
        height: st.height,
        jitter: st.jitter,
        packetsLost: st.packetsLost,
        framesDecoded: frames,
        timeToFirstFrame: st.timeToFirstFrame,
    };

    window.__stats = numbers;

    renderStats({ ...numbers, codec: st.codec }, {
        bitrate: fmt.bitrate(st.bitrate),
        fps: fmt.fps(st.fps),
        resolution: fmt.resolution(st),
        jitter: fmt.ms(st.jitter),
        packetsLost: fmt.num(st.packetsLost),
        timeToFirstFrame: fmt.ms(st.timeToFirstFrame),
        codec: fmt.codec(st.codec),
    });
}


/*
 * No video although the server says the stream is live: this session's
 * media is lost (e.g. the network path changed), start a new one.
 */

async function checkStalled(p) {
    const s = await fetchStreamStatus(stream, { url: endpoints.status })
        .catch(() => null);
    if (s && s.live && player === p && !publisherAway) {
        teardown('No video arrives although the stream is live.');
    }
}


/* controls */

function updateUnmute() {
    const video = $('video');
    const b = $('unmute');
    b.textContent = video.muted ? 'Unmute' : 'Mute';
    b.setAttribute('aria-pressed', String(!video.muted));
}

function initControls() {
    const video = $('video');

    $('unmute').addEventListener('click', () => {
        video.muted = !video.muted;
        video.play().catch(() => {});
        updateUnmute();
    });
    video.addEventListener('volumechange', updateUnmute);

    const fs = $('fullscreen');
    if (!document.fullscreenEnabled) {
        fs.hidden = true;
    }
    fs.addEventListener('click', () => {
        const box = video.closest('.video-box');
        if (document.fullscreenElement) {
            document.exitFullscreen();
        } else {
            box.requestFullscreen?.().catch(() => {});
        }
    });
}

/*
 * No stream in the URL: a form to type one, and the live streams as links
 * when the status location lists them. It may not be there or not be open
 * to this page (demo.conf allows it from loopback only): then the form
 * alone.
 */

function pick() {
    const form = $('pick');
    form.hidden = false;
    setStatus('idle', 'Enter the name of the stream to watch.');

    form.addEventListener('submit', (e) => {
        e.preventDefault();
        const s = $('pick-stream').value.trim();
        if (!STREAM_RE.test(s)) {
            setStatus('error', 'The stream name must be 1 to 64 letters, digits or - _ . ~');
            return;
        }
        location.assign(watchUrl(s, $('pick-transport').value));
    });

    listLive();
}

function watchUrl(name, how) {
    const u = new URL(location.href);
    u.searchParams.set('stream', name);
    if (how === 'websocket') {
        u.searchParams.set('transport', 'websocket');
    } else {
        u.searchParams.delete('transport');
    }
    return u.href;
}

async function listLive() {
    const box = $('pick-live');
    const text = box.querySelector('p');
    const ul = box.querySelector('ul');
    let list;

    try {
        list = (await fetchStreams({ url: endpoints.status }))
            .filter((s) => s && s.live && STREAM_RE.test(s.name));

    } catch (e) {
        window.__pickList = { error: e.code, status: e.status };
        box.hidden = false;
        text.textContent = 'The list of live streams is not available: '
            + `${describeError(e, '')} Type the name of the stream.`;
        return;
    }

    window.__pickList = { streams: list.map((s) => s.name) };
    box.hidden = false;

    if (list.length === 0) {
        text.textContent = 'No stream is live right now.';
        return;
    }

    text.textContent = 'Live now:';
    ul.replaceChildren(...list.map((s) => {
        const li = document.createElement('li');
        const a = document.createElement('a');
        a.dataset.stream = s.name;
        a.href = watchUrl(s.name, $('pick-transport').value);
        a.textContent = `${s.name} (${s.viewers} watching)`;
        li.append(a);
        return li;
    }));

    $('pick-transport').addEventListener('change', () => {
        for (const a of ul.querySelectorAll('a')) {
            a.href = watchUrl(a.dataset.stream, $('pick-transport').value);
        }
    });
}

function init() {
    initControls();
    renderStats({}, {});
    showEndpoints(endpoints);

    if (!window.isSecureContext) {
        setNotice(insecureContextHtml('Playback may work, but browsers'
                                      + ' restrict WebRTC on insecure pages and'
                                      + ' the connection to the server is not'
                                      + ' protected.'));
    }

    if (typeof RTCPeerConnection === 'undefined') {
        setStatus('error', 'This browser does not support WebRTC.');
        return;
    }

    if (!stream) {
        pick();
        return;
    }

    if (!STREAM_RE.test(stream)) {
        setStatus('error', `“${stream}” is not a valid stream name.`);
        return;
    }

    document.title = `${stream} — Watch — nginx-webrtc-module`;
    $('title').textContent = `Watch “${stream}”`;

    addEventListener('pagehide', () => {
        const p = player;
        player = null;
        clearTimeout(retryTimer);
        clearTimeout(graceTimer);
        p?.stop();
    });
    addEventListener('pageshow', (e) => {
        if (e.persisted && !player) {
            connect();      /* back from the back-forward cache */
        }
    });
    addEventListener('online', () => {
        if (!player) {
            connect();
        }
    });

    connect();
}

init();
