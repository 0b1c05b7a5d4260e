// What publish.html and watch.html share: the status line, the stats list,
// messages for errors. The WebRTC client itself is webrtc.js.

export const $ = (id) => document.getElementById(id);

const STATUS_HTTP = {
    400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden',
    404: 'Not Found', 409: 'Conflict', 412: 'Precondition Failed',
    413: 'Payload Too Large', 415: 'Unsupported Media Type',
    422: 'Unprocessable Content', 429: 'Too Many Requests',
    500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway',
    503: 'Service Unavailable', 504: 'Gateway Timeout',
};

/**
 * Shows the page's state: window.__state is one of 'idle', 'connecting',
 * 'live', 'waiting', 'error'; #status holds the text.
 */
export function setStatus(state, text) {
    const el = $('status');
    window.__state = state;
    el.dataset.state = state;
    if (el.textContent !== text) {
        el.textContent = text;
    }
}

/** A non-blocking notice above the page (e.g. the insecure context). */
export function setNotice(html) {
    const el = $('notice');
    el.innerHTML = html;
    el.hidden = !html;
}

export function escapeHtml(s) {
    return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The notice of a page on http:// on a host other than localhost; what:
 * the consequence, as a sentence.
 */
export function insecureContextHtml(what) {
    const https = new URL(location.href);
    https.protocol = 'https:';
    if (location.port === '80' || location.port === '8080') {
        https.port = '';
    }

    return `This page was opened over <strong>http://</strong> on
        <strong>${escapeHtml(location.host)}</strong>, which is not a secure
        context (only https:// pages, and http:// on localhost, are). ${what}
        Open <a href="${escapeHtml(https.href)}">${escapeHtml(https.href)}</a>
        instead.`;
}

/** Text for a WebRTCError (or any error) of the signaling: a sentence. */
export function describeError(e, stream) {
    let text = errorText(e, stream);
    text = text.charAt(0).toUpperCase() + text.slice(1);
    return /[.!?…]$/.test(text) ? text : `${text}.`;
}

function errorText(e, stream) {
    const name = `“${stream}”`;
    const st = e.status ? `${e.status} ${STATUS_HTTP[e.status] || ''}`.trim() : '';
    const why = e.reason && e.reason !== st ? `${st}: ${e.reason}` : st;

    switch (e.code) {
    case 'network':
        return 'Cannot reach the server'
               + (e.url ? ` at ${e.url}` : '')
               + ': the network is down or nginx is not running at this'
               + ' address.';
    case 'endpoint':
        return `${e.reason} (${st || 'no such location'}): check the`
               + ' signaling URLs of the page (config.js, or the query'
               + ' parameters server, whip, whep, ws, status) and the'
               + ' server\'s locations.';
    case 'origin':
        return `${e.reason}. The signaling server must name this page's`
               + ' origin in its CORS headers (Access-Control-Allow-Origin)'
               + ' and in webrtc_websocket_origins, or the page must use'
               + ' another server (config.js).';
    case 'timeout':
        return 'The server did not answer in time.';
    case 'closed':
        return 'The server closed the signaling connection.';
    case 'unsupported':
    case 'protocol':
        return e.reason || e.message;
    case 'server':
        switch (e.status) {
        case 401:
            return `Not authorized (${why}). This stream needs a`
                   + ' valid token.';
        case 403:
            return `Access denied (${why}).`;
        case 404:
            return `Stream ${name} was not found (${why}).`;
        case 409:
            return `Stream ${name} is already being published (${st}:`
                   + ` ${e.reason}). Pick another name or stop the other`
                   + ' publisher.';
        case 503:
            return `The server is full (${why})`
                   + (e.retryAfter ? `, retry in ${e.retryAfter} s.` : '.');
        default:
            return `The server refused: ${why}`;
        }
    default:
        return e.message || String(e);
    }
}

/**
 * Shows which signaling server the page uses when it is not the page's
 * own origin (the page may have been given it in its URL), and what was
 * wrong in config.js or the query parameters.
 */
export function showEndpoints(ep) {
    const el = $('server');
    if (el && ep.cross) {
        el.hidden = false;
        el.querySelector('code').textContent = ep.origin;
    }
    if (ep.problems.length && $('notice')) {
        setNotice(ep.problems.map(escapeHtml).join('<br>'));
    }

    /* links to the other pages keep the server of the query */
    if ([...ep.params].length) {
        for (const a of document.querySelectorAll('a[href]')) {
            const href = a.getAttribute('href');
            if (!/^(\.\/|[\w-]+\.html)([?#]|$)/.test(href)) {
                continue;
            }
            const u = new URL(href, location.href);
            for (const [k, v] of ep.params) {
                u.searchParams.set(k, v);
            }
            a.href = u.href;
        }
    }
}

/** Text for a getUserMedia error. */
export function describeMediaError(e) {
    switch (e.name) {
    case 'NotAllowedError':
    case 'SecurityError':
        return 'Camera and microphone access was denied. Allow it in the'
               + ' browser (the camera icon in the address bar or the site'
               + ' settings), then press Start.';
    case 'NotFoundError':
    case 'OverconstrainedError':
        return 'No camera or microphone was found. Connect one, then press'
               + ' Start.';
    case 'NotReadableError':
    case 'AbortError':
        return 'The camera or microphone cannot be opened: another'
               + ' application may be using it.';
    default:
        return `Cannot open the camera or microphone: ${e.message || e.name}`;
    }
}

const fmt = {
    bitrate: (v) => (v === null ? '—' : v >= 1000 ? `${(v / 1000).toFixed(2)} Mbps` : `${v} kbps`),
    fps: (v) => (v === null ? '—' : `${Math.round(v)}`),
    resolution: (s) => (s.width ? `${s.width}×${s.height}` : '—'),
    ms: (v) => (v === null || v === undefined ? '—' : `${v} ms`),
    num: (v) => (v === null || v === undefined ? '—' : `${v}`),
    codec: (v) => (v ? v.replace(/^video\//, '').replace(/^H264$/, 'H.264') : '—'),
};

/**
 * Writes the numbers into #stats: each <dd data-stat="name"> gets its text,
 * #stats gets data-<name> attributes with the raw numbers.
 */
export function renderStats(numbers, display) {
    const el = $('stats');

    for (const [k, v] of Object.entries(numbers)) {
        el.dataset[k] = v === null || v === undefined ? '' : String(v);
    }

    for (const dd of el.querySelectorAll('dd[data-stat]')) {
        const k = dd.dataset.stat;
        const text = display[k] ?? '—';
        if (dd.textContent !== text) {
            dd.textContent = text;
        }
    }
}

export { fmt };

/** Stream names the server accepts: 1-64 of A-Z a-z 0-9 - _ . ~ */
export const STREAM_RE = /^[A-Za-z0-9._~-]{1,64}$/;
