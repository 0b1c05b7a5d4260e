// The signaling URLs of the pages: config.js, then the page's query
// parameters (if config.js allows them), resolved against the page.
//
//   import { endpoints } from './endpoints.js';
//   endpoints.whip      'https://signal.example.com/whip/'
//   endpoints.whep, endpoints.ws (ws: or wss:), endpoints.status
//   endpoints.origin    the signaling origin ('https://signal.example.com')
//   endpoints.cross     true when it is not the page's origin
//   endpoints.params    the query parameters that set them, to carry over
//                       to links between the pages
//   endpoints.problems  what was wrong in config.js or the query: sentences

const NAMES = ['server', 'whip', 'whep', 'ws', 'status'];

const DEFAULTS = {
    server: '',
    whip: 'whip/',
    whep: 'whep/',
    ws: 'ws',
    status: 'webrtc/status',
    query: true,
};

const problems = [];

/*
 * A missing or broken config.js leaves the defaults and says so: the
 * pages still work on their own origin.
 */

let config = {};

try {
    config = (await import('./config.js')).default || {};
} catch (e) {
    problems.push(`config.js could not be loaded (${e.message}): the`
                  + ' signaling server is taken to be this page\'s origin.');
}

function resolve() {
    const q = new URLSearchParams(location.search);
    const values = {};
    const params = new URLSearchParams();

    for (const k of NAMES) {
        const v = config[k];
        values[k] = typeof v === 'string' ? v.trim() : DEFAULTS[k];
    }

    if (config.query ?? DEFAULTS.query) {
        for (const k of NAMES) {
            const v = q.get(k);
            if (v !== null && v.trim() !== '') {
                values[k] = v.trim();
                params.set(k, v.trim());
            }
        }
    }

    const base = url(values.server || '/', location.href, 'server');
    if (base && !base.pathname.endsWith('/')) {
        base.pathname += '/';       /* 'https://host/rtc' is a prefix */
    }
    const from = base || new URL('/', location.href);

    const out = { params, problems };

    for (const k of ['whip', 'whep', 'ws', 'status']) {
        const u = url(values[k], from, k) || url(DEFAULTS[k], from, k);
        if (k === 'ws') {
            if (u.protocol === 'https:') {
                u.protocol = 'wss:';
            } else if (u.protocol === 'http:') {
                u.protocol = 'ws:';
            }
        }
        out[k] = u.href;
    }

    out.origin = from.origin;
    out.cross = from.origin !== location.origin;

    return out;
}

/* an http(s) or ws(s) URL, or null and a problem */

function url(value, base, name) {
    let u;
    try {
        u = new URL(value, base);
    } catch (_) {
        u = null;
    }

    if (!u || !/^(https?|wss?):$/.test(u.protocol)) {
        problems.push(`The ${name} URL “${value}” is not an http(s) or`
                      + ' ws(s) URL: it is ignored.');
        return null;
    }

    return u;
}

export const endpoints = resolve();
