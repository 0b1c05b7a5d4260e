// publish.html: camera and microphone to a WHIP or WebSocket publisher.
// The signaling URLs: config.js, or ?server=, ?whip=, ?ws=, ?status=
// (endpoints.js).

import { Publisher, fetchStreamStatus } from './webrtc.js';
import { endpoints } from './endpoints.js';
import {
    $, setStatus, setNotice, insecureContextHtml, describeError,
    describeMediaError, renderStats, fmt, STREAM_RE, escapeHtml,
    showEndpoints,
} from './ui.js';

const RETRY_MAX = 5000;         /* ms, reconnect backoff cap */
const STATUS_POLL = 2000;       /* ms, GET /webrtc/status */
const GRACE = 5000;             /* ms disconnected before starting over */

let media = null;               /* the camera and microphone */
let publisher = null;
let wanted = false;             /* the user pressed Start, not Stop */
let retryTimer = null;
let retries = 0;
let viewers = null;
let statusTimer = null;
let opening = null;             /* getUserMedia in progress */
let connectedOnce = false;      /* the current publisher was connected */
let graceTimer = null;
let codecNoticeShown = false;
let refused = [];               /* kinds the server refused: 'video', ... */

window.__state = 'idle';
window.__stats = { bitrate: null, fps: null, width: null, height: null, rtt: null, viewers: null };
window.__refused = refused;     /* for tests */
window.__session = null;        /* {id, url} of the current session */


function settings() {
    return {
        stream: $('stream').value.trim(),
        token: $('token').value.trim(),
        transport: $('transport').value,
        codec: $('codec').value,
        bitrate: Math.max(0, parseInt($('bitrate').value, 10) || 0),
    };
}

function updateWatchLink() {
    const { stream, transport } = settings();
    const u = new URL('watch.html', location.href);
    u.search = endpoints.params.toString();     /* the same server */
    u.searchParams.set('stream', stream || 'test');
    if (transport === 'websocket') {
        u.searchParams.set('transport', 'websocket');
    }
    const link = $('watch-link');
    link.href = u.href;
    link.textContent = u.href;
}

function setLive(on) {
    $('start').disabled = on;
    $('stop').disabled = !on;
    $('session-fields').disabled = on;
    document.body.classList.toggle('is-live', on && window.__state === 'live');
}


/* camera and microphone */

async function openMedia() {
    const cam = $('camera').value;
    const mic = $('microphone').value;
    const video = cam ? { deviceId: { exact: cam } } : true;
    const audio = mic ? { deviceId: { exact: mic } } : true;
    let ms, missing = '';

    try {
        ms = await navigator.mediaDevices.getUserMedia({ video, audio });

    } catch (e) {
        if (e.name !== 'NotFoundError' && e.name !== 'OverconstrainedError') {
            throw e;
        }

        /* one of the two may exist: publish what there is */
        ms = await navigator.mediaDevices.getUserMedia({ video })
            .then((m) => { missing = 'microphone'; return m; })
            .catch(() => navigator.mediaDevices.getUserMedia({ audio })
                .then((m) => { missing = 'camera'; return m; }))
            .catch(() => { throw e; });
    }

    setMedia(ms);
    setNotice(missing ? `No ${missing} was found: publishing ${missing === 'camera' ? 'audio' : 'video'} only.` : '');
    await listDevices();
    return ms;
}

function setMedia(ms) {
    if (media && media !== ms) {
        for (const t of media.getTracks()) {
            if (!ms.getTracks().includes(t)) {
                t.stop();
            }
        }
    }
    media = ms;
    $('preview').srcObject = ms;
}

async function listDevices() {
    const devices = await navigator.mediaDevices.enumerateDevices();

    fill($('camera'), devices.filter((d) => d.kind === 'videoinput'),
         media?.getVideoTracks()[0], 'Camera');
    fill($('microphone'), devices.filter((d) => d.kind === 'audioinput'),
         media?.getAudioTracks()[0], 'Microphone');
}

function fill(select, devices, track, what) {
    const current = track?.getSettings().deviceId || select.value;

    select.replaceChildren();

    if (devices.length === 0) {
        select.append(new Option(`No ${what.toLowerCase()} found`, ''));
        select.disabled = true;
        return;
    }

    select.disabled = false;
    devices.forEach((d, i) => {
        select.append(new Option(d.label || `${what} ${i + 1}`, d.deviceId));
    });
    if (devices.some((d) => d.deviceId === current)) {
        select.value = current;
    }
}

/* another camera or microphone: a new preview, the same session */

async function changeDevice(kind) {
    const id = (kind === 'video' ? $('camera') : $('microphone')).value;

    try {
        const ms = await navigator.mediaDevices.getUserMedia({
            [kind]: id ? { deviceId: { exact: id } } : true,
        });
        const track = ms.getTracks()[0];
        const next = new MediaStream([
            ...(media ? media.getTracks().filter((t) => t.kind !== kind) : []),
            track,
        ]);

        if (publisher && !(await publisher.replaceTrack(track))) {
            setNotice(`The ${kind === 'video' ? 'camera' : 'microphone'} is used from the next Start.`);
        }
        setMedia(next);

    } catch (e) {
        setStatus('error', describeMediaError(e));
    }
}


/* publishing */

async function start() {
    const s = settings();

    if (!STREAM_RE.test(s.stream)) {
        setStatus('error', 'The stream name must be 1 to 64 letters, digits or - _ . ~');
        $('stream').focus();
        return;
    }

    wanted = true;
    setLive(true);

    if (!media) {
        setStatus('connecting', 'Opening the camera and microphone…');
        try {
            await (opening || openMedia());
        } catch (e) {
            wanted = false;
            setLive(false);
            setStatus('error', describeMediaError(e));
            return;
        }
    }

    connect();
}

async function connect() {
    clearTimeout(retryTimer);

    if (!wanted) {
        return;
    }

    const s = settings();
    const label = s.transport === 'websocket' ? 'WebSocket' : 'WHIP';

    setStatus('connecting', retries
        ? `Reconnecting to the server (${label})…`
        : `Connecting to the server (${label})…`);

    const p = new Publisher({
        transport: s.transport,
        url: s.transport === 'websocket' ? endpoints.ws : endpoints.whip,
        stream: s.stream,
        token: s.token || undefined,
        videoCodec: s.codec,
        maxBitrate: s.bitrate * 1000,
        onState: (state) => onState(p, state),
        onStats: (st) => onStats(p, st),
        onEvent: (ev) => onEvent(p, ev),
    });

    publisher = p;
    connectedOnce = false;
    codecNoticeShown = false;
    if (refused.length) {
        setNotice('');
    }
    refused = window.__refused = [];

    try {
        await p.start(media);

    } catch (e) {
        if (publisher !== p) {
            return;     /* stopped meanwhile */
        }
        publisher = null;

        /*
         * after a lost connection the server may still hold the old
         * session (409) until its consent times out: keep trying
         */
        const retry = retries > 0
            && (e.code === 'network' || e.code === 'timeout' || e.code === 'closed'
                || (e.code === 'server' && (e.status === 409 || e.status >= 500)));

        if (retry) {
            scheduleRetry(describeError(e, s.stream));
        } else {
            wanted = false;
            setLive(false);
            setStatus('error', describeError(e, s.stream));
        }
        return;
    }

    if (s.transport === 'whip') {
        pollStatus(p, s.stream);
    }
}

function scheduleRetry(why) {
    const delay = Math.min(RETRY_MAX, 1000 * 2 ** Math.min(retries, 3));
    retries++;
    setStatus('connecting', `${why} Reconnecting in ${Math.round(delay / 1000)} s…`);
    retryTimer = setTimeout(connect, delay);
}

function onState(p, state) {
    if (p !== publisher) {
        return;
    }

    const { stream } = settings();

    if (state === 'disconnected' || state === 'restarting') {
        graceTimer ??= setTimeout(() => {
            graceTimer = null;
            if (publisher === p) {
                onState(p, 'failed');
            }
        }, GRACE);
    } else {
        clearTimeout(graceTimer);
        graceTimer = null;
    }

    switch (state) {
    case 'connecting':
        setStatus('connecting', 'Connecting the media…');
        break;
    case 'connected':
        retries = 0;
        connectedOnce = true;
        setStatus('live', `Live: publishing “${stream}”${onlyWhat()}.`);
        break;
    case 'disconnected':
        setStatus('connecting', 'The connection is interrupted — trying to recover…');
        break;
    case 'restarting':
        setStatus('connecting', 'The connection failed — restarting ICE…');
        break;
    case 'failed':
        /* the session is over: a new one, until Stop */
        publisher = null;
        p.stop();
        stopPolling();
        if (wanted) {
            scheduleRetry(connectedOnce
                ? 'The connection to the server was lost.'
                : 'The media connection could not be established (is the'
                  + ' server\'s UDP port reachable?).');
        }
        break;
    }

    setLive(wanted);
}

function onEvent(p, ev) {
    if (p !== publisher) {
        return;
    }

    if (ev.type === 'session') {
        window.__session = { id: ev.id, url: ev.url };
    } else if (ev.type === 'viewers') {
        viewers = ev.count;
    } else if (ev.type === 'refused') {
        /* the session goes on with the rest */
        refused.push(ev.kind);
        const kind = ev.kind[0].toUpperCase() + ev.kind.slice(1);
        setNotice(`${escapeHtml(kind)} was refused by the server`
                  + ` (${escapeHtml(ev.reason)}): publishing`
                  + ` ${escapeHtml(leftKinds().join(' and '))} only.`);
    } else if (ev.type === 'warning') {
        console.warn('webrtc:', ev.message);
    } else if (ev.type === 'error') {
        console.warn('webrtc:', ev.error);
    }
}

/* " (audio only)" when the server refused the video, and so on */

function leftKinds() {
    return (media ? media.getTracks() : [])
        .map((t) => t.kind).filter((k) => !refused.includes(k));
}

function onlyWhat() {
    const left = leftKinds();
    return refused.length && left.length ? ` (${left.join(' and ')} only)` : '';
}

function onStats(p, st) {
    if (p !== publisher) {
        return;
    }

    if (st.viewers !== null && st.viewers !== undefined) {
        viewers = st.viewers;
    }

    /* the server may allow other codecs than the one asked for */
    const wantedCodec = `video/${settings().codec}`;
    if (st.codec && st.codec.toLowerCase() !== wantedCodec.toLowerCase()
        && !codecNoticeShown)
    {
        codecNoticeShown = true;
        setNotice(`The server chose ${fmt.codec(st.codec)} instead of`
                  + ` ${fmt.codec(wantedCodec)}.`);
    }

    showStats({ ...st, viewers });
}

function showStats(st) {
    const numbers = {
        bitrate: st.bitrate ?? null,
        fps: st.fps ?? null,
        width: st.width ?? null,
        height: st.height ?? null,
        rtt: st.rtt ?? null,
        viewers: st.viewers ?? null,
    };

    window.__stats = numbers;

    renderStats({ ...numbers, codec: st.codec ?? null }, {
        bitrate: fmt.bitrate(numbers.bitrate),
        fps: fmt.fps(numbers.fps),
        resolution: fmt.resolution(numbers),
        rtt: fmt.ms(numbers.rtt),
        viewers: fmt.num(numbers.viewers),
        codec: fmt.codec(st.codec),
    });
}

/* viewers of a WHIP publisher: the server's status endpoint, if any */

function pollStatus(p, stream) {
    stopPolling();

    const poll = async () => {
        try {
            const s = await fetchStreamStatus(stream, { url: endpoints.status });
            viewers = s ? s.viewers : 0;
        } catch (e) {
            if (e.code === 'endpoint' || e.code === 'origin'
                || e.status === 403 || e.status === 404)
            {
                viewers = null;     /* no status location, or not for us */
                return;
            }
        }
        if (publisher === p) {
            statusTimer = setTimeout(poll, STATUS_POLL);
        }
    };

    poll();
}

function stopPolling() {
    clearTimeout(statusTimer);
    statusTimer = null;
}

async function stop() {
    wanted = false;
    retries = 0;
    clearTimeout(retryTimer);
    clearTimeout(graceTimer);
    graceTimer = null;
    stopPolling();

    const p = publisher;
    publisher = null;
    setLive(false);
    setStatus('idle', 'Stopped. Press Start to publish again.');
    showStats({});
    viewers = null;

    if (p) {
        await p.stop();
    }
}


/* the page */

function init() {
    const q = new URLSearchParams(location.search);

    showEndpoints(endpoints);

    if (q.get('stream')) {
        $('stream').value = q.get('stream');
    }
    for (const k of ['transport', 'codec']) {
        const v = q.get(k);
        if (v && [...$(k).options].some((o) => o.value === v)) {
            $(k).value = v;
        }
    }

    updateWatchLink();
    showStats({});

    for (const id of ['stream', 'transport']) {
        $(id).addEventListener('input', updateWatchLink);
    }

    $('form').addEventListener('submit', (e) => {
        e.preventDefault();
        if (!publisher && !wanted) {
            start();
        }
    });
    $('stop').addEventListener('click', stop);

    $('bitrate').addEventListener('change', () => {
        publisher?.setMaxBitrate(settings().bitrate * 1000).catch((e) => {
            console.warn('setMaxBitrate:', e);
        });
    });

    addEventListener('pagehide', () => publisher?.stop());

    if (!window.isSecureContext) {
        setLive(false);
        $('start').disabled = true;
        setStatus('error', 'The camera cannot be used: this page is not a'
                  + ' secure context (http:// on a host other than localhost).'
                  + ' Open it over https://.');
        setNotice(insecureContextHtml('Browsers give the camera and microphone'
                                      + ' only to secure pages.'));
        return;
    }

    if (!navigator.mediaDevices?.getUserMedia || typeof RTCPeerConnection === 'undefined') {
        $('start').disabled = true;
        setStatus('error', 'This browser cannot capture a camera or use WebRTC.');
        return;
    }

    $('camera').addEventListener('change', () => changeDevice('video'));
    $('microphone').addEventListener('change', () => changeDevice('audio'));
    navigator.mediaDevices.addEventListener('devicechange', () => {
        listDevices().catch(() => {});
    });

    opening = openMedia();
    opening.finally(() => { opening = null; }).catch(() => {});
    opening.then(() => {
        if (window.__state === 'idle') {
            setStatus('idle', 'Camera ready. Press Start to go live.');
        }
    }, (e) => {
        setStatus('error', describeMediaError(e));
    });
}

init();
