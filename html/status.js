// status.html[?stream=NAME]: the server's webrtc_status JSON read every
// second, as plots of the last minutes (viewers, bitrate in and packet
// loss of each stream), a table of the workers, the forwarding delay
// histogram and the sessions, where the JSON has them (the status
// location lists a stream's sessions when asked for the stream by name:
// ?stream=NAME shows that stream alone).  The status URL: config.js, or
// ?status= / ?server= (endpoints.js).  Fields the page does not know are
// ignored, missing ones shown as "—".
//
// For tests: window.__statusPlots {stream: {viewers, bitrate, loss}}, each
// {points, min, max, last} as last drawn; window.__statusHistogram {bars,
// total}; window.__statusPolls {ok, errors}; window.__statusError (the
// last error's text, or null); window.__state ('live', 'error', ...).

import { endpoints } from './endpoints.js';
import {
    $, setStatus, escapeHtml, showEndpoints, STREAM_RE,
} from './ui.js';

const POLL = 1000;              /* ms between reads */
const POLL_ERROR = 3000;        /* ms between reads after an error */
const TIMEOUT = 5000;           /* ms for one read */
const WINDOW = 5 * 60 * 1000;   /* ms of history plotted */
const GAP = 3500;               /* ms without a read: the line breaks */
const SPAN = 20 * 1000;         /* ms: the shortest time axis */

const SVG = 'http://www.w3.org/2000/svg';
const NUM = new Intl.NumberFormat('en');

const streams = new Map();      /* stream name -> its series and card */
const workers = new Map();      /* worker slot -> {pid, t, pin, pout} */
const delays = [];              /* [t, counts[]] of the last minute */

const polls = window.__statusPolls = { ok: 0, errors: 0 };
const plots = window.__statusPlots = {};
window.__statusHistogram = { bars: 0, total: 0 };
window.__statusError = null;

/* ?stream=NAME: that stream alone, and its sessions */

const only = (() => {
    const v = (new URLSearchParams(location.search).get('stream') || '')
              .trim();
    return STREAM_RE.test(v) ? v : '';
})();

const statusUrl = (() => {
    const u = new URL(endpoints.status);
    if (only) {
        u.searchParams.set('stream', only);
    }
    return u.href;
})();

let first = 0;                  /* when the first good read came */
let last = 0;                   /* when the last good read came */
let lastForwarding = null;      /* its "forwarding", for a new range */


/* numbers of the JSON: a finite number, or null */

function num(v) {
    return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function count(v) {
    return v === null || v === undefined ? '—' : NUM.format(v);
}

function bps(v) {
    if (v === null || v === undefined) {
        return '—';
    }
    if (v >= 1e6) {
        return `${(v / 1e6).toFixed(2)} Mbps`;
    }
    return v >= 1e3 ? `${(v / 1e3).toFixed(0)} kbps` : `${Math.round(v)} bps`;
}

function us(v) {
    if (v === null || v === undefined) {
        return '—';
    }
    if (v >= 1e6) {
        return `${+(v / 1e6).toFixed(2)} s`;
    }
    return v >= 1e3 ? `${+(v / 1e3).toFixed(2)} ms` : `${Math.round(v)} µs`;
}

function pct(v) {
    return v === null || v === undefined ? '—' : `${+v.toFixed(2)} %`;
}

function uptime(s) {
    if (s === null) {
        return '—';
    }
    const h = Math.floor(s / 3600);
    const m = Math.floor(s / 60) % 60;
    return h ? `${h} h ${m} min` : m ? `${m} min ${s % 60} s` : `${s} s`;
}

function clock(t) {
    return new Date(t).toLocaleTimeString('en-GB');
}


/* SVG */

function svg(name, attrs, text) {
    const e = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs || {})) {
        e.setAttribute(k, v);
    }
    if (text !== undefined) {
        e.textContent = text;
    }
    return e;
}

const W = 320;                  /* the plots' viewBox */
const H = 120;
const HW = 640;                 /* the histogram's */
const HH = 160;
const M = { l: 50, r: 6, t: 8, b: 16 };

function ago(ms) {
    return ms >= 120000 ? `−${Math.round(ms / 60000)} min`
                        : `−${Math.round(ms / 1000)} s`;
}

/**
 * Draws the points [[t, v], ...] between the times t0 and t1 into an
 * <svg>, replacing what it held: the axes, the values' range on the value
 * axis (from 0, or the smallest value when below 0, to the largest), the
 * time axis, the line (broken where reads are more than GAP apart) and a
 * dot on the last point.  Returns what it drew: {points, min, max, last}.
 */
function plot(el, points, t0, t1, format) {
    const x0 = M.l, x1 = W - M.r, y0 = H - M.b, y1 = M.t;
    const shown = points.filter(([t]) => t >= t0 && t <= t1);
    const values = shown.map(([, v]) => v);
    const min = values.length ? Math.min(...values) : null;
    const max = values.length ? Math.max(...values) : null;

    const lo = Math.min(0, min ?? 0);
    const hi = max !== null && max > lo ? max : lo + 1;

    const X = (t) => x0 + (t - t0) / (t1 - t0) * (x1 - x0);
    const Y = (v) => y0 - (v - lo) / (hi - lo) * (y0 - y1);

    el.replaceChildren();
    el.setAttribute('viewBox', `0 0 ${W} ${H}`);

    el.append(
        svg('path', { class: 'grid', d: `M${x0} ${y1}H${x1}` }),
        svg('path', { class: 'axis', d: `M${x0} ${y1 - 2}V${y0}H${x1}` }),
        svg('text', { x: x0 - 4, y: y1 + 4, 'text-anchor': 'end' },
            max === null ? '' : format(hi)),
        svg('text', { x: x0 - 4, y: y0, 'text-anchor': 'end' }, format(lo)),
        svg('text', { x: x0, y: H - 2 }, ago(t1 - t0)),
        svg('text', { x: x1, y: H - 2, 'text-anchor': 'end' }, 'now'));

    if (!shown.length) {
        el.append(svg('text', { x: (x0 + x1) / 2, y: (y0 + y1) / 2,
                                'text-anchor': 'middle' }, 'no data yet'));
        return { points: 0, min, max, last: null };
    }

    let d = '';
    let prev = -Infinity;

    for (const [t, v] of shown) {
        d += `${t - prev > GAP ? 'M' : 'L'}${X(t).toFixed(1)} `
             + `${Y(v).toFixed(1)}`;
        prev = t;
    }

    const [tl, vl] = shown[shown.length - 1];

    el.append(svg('path', { class: 'line', d }),
              svg('circle', { class: 'dot', cx: X(tl).toFixed(1),
                              cy: Y(vl).toFixed(1), r: 2.5 }));

    return { points: shown.length, min, max, last: vl };
}

/**
 * Draws the histogram counts[i] (up to bounds[i], the last past the last
 * bound) as bars, one a bucket; the bounds that are powers of 10 label the
 * delay axis.  Returns {bars, total}: the buckets drawn with copies in them.
 */
function bars(el, bounds, counts) {
    const x0 = M.l, x1 = HW - M.r, y0 = HH - M.b, y1 = M.t;
    const n = counts.length;
    const bw = (x1 - x0) / Math.max(n, 1);
    const total = counts.reduce((a, c) => a + c, 0);
    const top = Math.max(...counts, 1);

    el.replaceChildren();
    el.setAttribute('viewBox', `0 0 ${HW} ${HH}`);

    el.append(
        svg('path', { class: 'grid', d: `M${x0} ${y1}H${x1}` }),
        svg('path', { class: 'axis', d: `M${x0} ${y1 - 2}V${y0}H${x1}` }),
        svg('text', { x: x0 - 4, y: y1 + 4, 'text-anchor': 'end' },
            total ? count(top) : ''),
        svg('text', { x: x0 - 4, y: y0, 'text-anchor': 'end' }, '0'));

    let drawn = 0;

    counts.forEach((c, i) => {
        const x = x0 + i * bw;
        const b = bounds[i];

        if (b !== undefined && Math.log10(b) % 1 === 0) {
            el.append(svg('path', { class: 'axis', d: `M${x + bw} ${y0}v3` }),
                      svg('text', { x: x + bw, y: HH - 2,
                                    'text-anchor': 'middle' }, us(b)));
        }

        if (!c) {
            return;
        }

        const h = Math.max(c / top * (y0 - y1), 1);
        const r = svg('rect', { class: 'bar', x: (x + 0.5).toFixed(1),
                                y: (y0 - h).toFixed(1),
                                width: Math.max(bw - 1, 1).toFixed(1),
                                height: h.toFixed(1) });
        const range = b === undefined ? `over ${us(bounds[n - 2])}`
                                      : `up to ${us(b)}`;
        r.append(svg('title', {}, `${range}: ${count(c)} copies`));
        el.append(r);
        drawn++;
    });

    if (!total) {
        el.append(svg('text', { x: (x0 + x1) / 2, y: (y0 + y1) / 2,
                                'text-anchor': 'middle' },
                      'no copies forwarded'));
    }

    return { bars: drawn, total };
}


/* streams: a card each, three plots */

const SERIES = [
    ['viewers', 'Viewers', count],
    ['bitrate', 'Bitrate in', bps],
    ['loss', 'Packet loss', pct],
];

/* a link to one of the pages, with the query parameters of endpoints */

function page(path, stream) {
    const u = new URL(path, location.href);
    for (const [k, v] of endpoints.params) {
        u.searchParams.set(k, v);
    }
    u.searchParams.set('stream', stream);
    return u.href;
}

function card(name) {
    const el = document.createElement('article');
    el.className = 'stream-card';
    el.dataset.stream = name;
    el.innerHTML = `<h3><a class="name"></a>
        <span class="badge" data-field="live"></span>
        <span class="meta" data-field="meta"></span>
        <a class="meta" data-field="watch">watch</a></h3>
        <div class="charts">${SERIES.map(([k, label]) => `
          <figure class="chart" data-series="${k}">
            <figcaption><span>${escapeHtml(label)}</span>
              <b data-field="${k}">—</b></figcaption>
            <svg class="plot" role="img"></svg>
            <div class="range" data-field="${k}-range"></div>
          </figure>`).join('')}
        </div>`;
    const a = el.querySelector('.name');
    a.textContent = name;
    if (only) {
        a.removeAttribute('href');
    } else {
        a.href = page('status.html', name);
        a.title = 'This stream alone, with its sessions';
    }
    el.querySelector('[data-field="watch"]').href = page('watch.html', name);
    for (const s of el.querySelectorAll('svg')) {
        s.setAttribute('aria-label', `${name}: `
            + s.closest('figure').querySelector('span').textContent
            + ', the last minutes');
    }
    return el;
}

function addStreams(list, t) {
    const seen = new Set();

    for (const st of list) {
        if (!st || typeof st.name !== 'string' || seen.has(st.name)) {
            continue;
        }
        seen.add(st.name);

        let h = streams.get(st.name);
        if (!h) {
            h = { viewers: [], bitrate: [], loss: [], prev: null,
                  el: card(st.name) };
            streams.set(st.name, h);
        }

        h.st = st;
        h.seen = t;

        const viewers = num(st.viewers);
        const bitrate = num(st.bitrate_in);
        const pin = num(st.packets_in);
        const lost = num(st.packets_lost);

        if (viewers !== null) {
            h.viewers.push([t, viewers]);
        }
        if (bitrate !== null) {
            h.bitrate.push([t, bitrate]);
        }

        /* lost of what was due since the last read: counters only grow */

        if (pin !== null && lost !== null) {
            const p = h.prev;
            if (p && pin >= p.pin && lost >= p.lost) {
                const due = pin - p.pin + lost - p.lost;
                h.loss.push([t, due ? (lost - p.lost) / due * 100 : 0]);
            }
            h.prev = { pin, lost };
        }
    }

    for (const [name, h] of streams) {
        if (!seen.has(name)) {
            h.st = null;        /* gone: no more points */
            h.prev = null;
        }
    }
}

function drawStreams(t) {
    const box = $('streams');
    const t0 = t - WINDOW;

    /* the time axis: from the first read, SPAN at least, WINDOW at most */

    const from = Math.max(t0, Math.min(first || t, t - SPAN));

    for (const [name, h] of streams) {
        for (const [k] of SERIES) {
            while (h[k].length && h[k][0][0] < t0) {
                h[k].shift();
            }
        }

        if (!h.st && !h.viewers.length && !h.bitrate.length
            && !h.loss.length)
        {
            h.el.remove();
            streams.delete(name);
            delete plots[name];
            continue;
        }

        const st = h.st || {};
        const live = h.st ? st.live === true : false;
        const badge = h.el.querySelector('[data-field="live"]');
        badge.dataset.live = live;
        badge.textContent = h.st ? (live ? 'LIVE' : 'NOT LIVE') : 'GONE';

        const meta = [];
        if (h.st) {
            meta.push(`up ${uptime(num(st.uptime))}`,
                      `${count(num(st.packets_in))} packets in`,
                      `${count(num(st.packets_lost))} lost`);
            if (typeof st.h264_profile === 'string') {
                meta.push(`H.264 ${st.h264_profile}`);
            }
        } else {
            meta.push(`not listed since ${clock(h.seen)}`);
        }
        h.el.querySelector('[data-field="meta"]').textContent =
            meta.join(' · ');

        const drawn = plots[name] = {};

        for (const [k, , format] of SERIES) {
            const fig = h.el.querySelector(`figure[data-series="${k}"]`);
            const r = drawn[k] = plot(fig.querySelector('svg'), h[k], from,
                                      t, format);
            fig.querySelector(`[data-field="${k}"]`).textContent =
                h.st && r.last !== null
                && h[k].at(-1)[0] === h.seen ? format(r.last) : '—';
            fig.querySelector(`[data-field="${k}-range"]`).textContent =
                r.points ? `min ${format(r.min)} · max ${format(r.max)}`
                         : '';
        }

        if (h.el.parentNode !== box) {
            box.append(h.el);
        }
    }

    $('streams-none').hidden = streams.size > 0;
}


/* workers: a row each, with the rates since the last read */

function drawWorkers(list, t) {
    const rows = [];

    for (const w of list) {
        if (!w || typeof w !== 'object') {
            continue;
        }

        const slot = num(w.worker);
        const pid = num(w.pid);
        const pin = num(w.packets_in);
        const pout = num(w.packets_out);
        const p = workers.get(slot);
        const dt = p && p.pid === pid ? (t - p.t) / 1000 : 0;

        const rate = (v, was) => (dt > 0 && v !== null && was !== null
            && v >= was ? ` <small>${NUM.format(Math.round((v - was) / dt))}`
                          + '/s</small>' : '');

        rows.push(`<tr data-worker="${escapeHtml(slot ?? '')}">
            <td>${count(slot)}</td><td>${count(pid)}</td>
            <td>${count(num(w.publishers))}</td>
            <td>${count(num(w.viewers))}</td>
            <td>${count(pin)}${rate(pin, p ? p.pin : null)}</td>
            <td>${count(pout)}${rate(pout, p ? p.pout : null)}</td>
            <td>${count(num(w.dropped_out))}</td>
            <td>${count(num(w.relay_dropped))}</td>
            <td>${count(num(w.keyframe_requests))}</td></tr>`);

        workers.set(slot, { pid, t, pin, pout });
    }

    $('workers').tBodies[0].innerHTML = rows.join('');
    $('workers-none').hidden = rows.length > 0;
}


/* the forwarding delay: percentiles since the start, the histogram */

function drawDelay(fw, t, read = true) {
    fw = fw && typeof fw === 'object' ? fw : {};
    lastForwarding = fw;
    const d = fw.delay_us && typeof fw.delay_us === 'object'
        ? fw.delay_us : {};

    for (const dd of $('percentiles').querySelectorAll('dd[data-pct]')) {
        const k = dd.dataset.pct;
        dd.textContent = k === 'packets' ? count(num(fw.packets))
                                         : us(num(d[k]));
    }

    const hist = fw.histogram && typeof fw.histogram === 'object'
        ? fw.histogram : {};
    const bounds = Array.isArray(hist.le_us) ? hist.le_us.map(num) : [];
    const counts = Array.isArray(hist.count)
        ? hist.count.map((c) => num(c) ?? 0) : [];

    /* the reads of the last minute, of the same buckets */

    if (read && counts.length) {
        if (delays.length && delays[0][1].length !== counts.length) {
            delays.length = 0;
        }
        delays.push([t, counts]);
        while (delays.length > 1 && delays[0][0] < t - 60000) {
            delays.shift();
        }
    }

    const span = Number($('hist-range').value);
    let shown = counts;
    let caption = 'since the start';

    if (span && delays.length > 1) {
        const [t1, old] = delays[0];
        if (counts.every((c, i) => c >= old[i])) {
            shown = counts.map((c, i) => c - old[i]);
            caption = `over the last ${Math.round((t - t1) / 1000)} s`;
        }
    } else if (span) {
        caption = 'since the start, until the next read';
    }

    $('hist-caption').textContent = 'Copies by delay, from a publisher'
        + ' packet\'s arrival to each viewer\'s copy handed to the kernel,'
        + ` ${caption}`;

    window.__statusHistogram = bars($('histogram'), bounds, shown);
}


/*
 * Sessions: a list at the top ("sessions": [...]) or in each stream
 * ("streams": [{"sessions": [...]}]); a column for every field the
 * sessions have, objects flattened one level ("rtt.ms").  An object of
 * counters at the top ("sessions": {...}) is shown as numbers.
 */

const FIRST = ['id', 'session', 'stream', 'role'];
const MAX_ROWS = 200;

function flatten(o, prefix, out) {
    for (const [k, v] of Object.entries(o)) {
        const key = prefix ? `${prefix}.${k}` : k;
        if (v && typeof v === 'object' && !Array.isArray(v) && !prefix) {
            flatten(v, key, out);
        } else {
            out[key] = v;
        }
    }
    return out;
}

/* a cell: numbers right-aligned, the rest ("text" columns) left */

function cell(key, v, text) {
    const td = text ? '<td class="text">' : '<td>';

    if (v === null || v === undefined) {
        return `${td}—</td>`;
    }
    if (typeof v === 'number') {
        return `${td}${escapeHtml(/bitrate|bps/i.test(key) ? bps(v)
                                  : NUM.format(v))}</td>`;
    }
    if (typeof v === 'boolean') {
        return `${td}${v ? 'yes' : 'no'}</td>`;
    }
    if (Array.isArray(v)) {
        v = v.map((x) => (x && typeof x === 'object' ? JSON.stringify(x)
                                                      : String(x))).join(', ');
    } else if (typeof v === 'object') {
        v = JSON.stringify(v);
    }
    return `${td}${escapeHtml(v)}</td>`;
}

function drawSessions(json) {
    const rows = [];

    if (Array.isArray(json.sessions)) {
        rows.push(...json.sessions);
    }
    for (const st of Array.isArray(json.streams) ? json.streams : []) {
        if (st && Array.isArray(st.sessions)) {
            rows.push(...st.sessions.map((s) => (
                s && typeof s === 'object' && !('stream' in s)
                    ? { stream: st.name, ...s } : s)));
        }
    }

    const flat = rows.filter((s) => s && typeof s === 'object'
                                    && !Array.isArray(s))
                     .map((s) => flatten(s, '', {}));

    const keys = [];
    for (const s of flat) {
        for (const k of Object.keys(s)) {
            if (!keys.includes(k)) {
                keys.push(k);
            }
        }
    }
    keys.sort((a, b) => rank(a) - rank(b));

    const table = $('sessions');
    const text = new Set(keys.filter((k) => flat.some((s) => s[k] != null
                                       && typeof s[k] !== 'number')));

    table.tHead.rows[0].innerHTML = keys.map((k) =>
        `<th scope="col"${text.has(k) ? ' class="text"' : ''}>`
        + `${escapeHtml(k.replace(/_/g, ' '))}</th>`).join('');
    table.tBodies[0].innerHTML = flat.slice(0, MAX_ROWS).map((s) =>
        `<tr>${keys.map((k) => cell(k, s[k], text.has(k))).join('')}</tr>`)
        .join('');
    table.closest('.table-wrap').hidden = !flat.length;

    const more = $('sessions-more');
    more.hidden = flat.length <= MAX_ROWS;
    more.textContent = `And ${flat.length - MAX_ROWS} more.`;

    /* counters: an object, not a list */

    const counters = $('session-counters');
    const o = json.sessions && typeof json.sessions === 'object'
              && !Array.isArray(json.sessions)
        ? flatten(json.sessions, '', {}) : {};
    const items = Object.entries(o).filter(([, v]) => num(v) !== null);
    counters.innerHTML = items.map(([k, v]) => `<div><dt>${escapeHtml(
        k.replace(/_/g, ' '))}</dt><dd>${count(v)}</dd></div>`).join('');
    counters.hidden = !items.length;

    $('sessions-block').hidden = !flat.length && !items.length;
}

function rank(k) {
    const i = FIRST.indexOf(k);
    return i < 0 ? FIRST.length : i;
}


/* reading the status */

class StatusError extends Error {
    constructor(text, status) {
        super(text);
        this.status = status || 0;
    }
}

async function read(url) {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), TIMEOUT);
    let res;

    try {
        res = await fetch(url, { cache: 'no-store', signal: ctl.signal });
    } catch (e) {
        throw new StatusError(ctl.signal.aborted
            ? `The status location ${url} did not answer in`
              + ` ${TIMEOUT / 1000} s.`
            : `Cannot reach the status location ${url}: nginx is not`
              + ' running at this address'
              + (new URL(url).origin !== location.origin
                 ? ', or it sends no CORS headers for this'
                 + ` page's origin ${location.origin}` : '')
              + '.');
    } finally {
        clearTimeout(timer);
    }

    const st = `${res.status} ${res.statusText}`.trim();

    if (res.status === 403) {
        throw new StatusError(`The status location ${url} refused this`
            + ` browser (${st}). It names every stream, so it usually`
            + ' answers only some addresses (conf-examples/demo.conf: this'
            + ' machine only): open this page on the server, or allow your'
            + ' address there (README, webrtc_status).', 403);
    }
    if (res.status === 404) {
        throw new StatusError(`No status location at ${url} (${st}): add`
            + ' a location with webrtc_status; to the server, or set'
            + ' "status" in config.js (or ?status= in this page\'s URL).',
            404);
    }
    if (!res.ok) {
        const text = (await res.text().catch(() => '')).trim().slice(0, 200);
        throw new StatusError(`The status location ${url} answered ${st}`
            + (text && !/^</.test(text) ? `: ${text}` : '.'), res.status);
    }

    const type = res.headers.get('Content-Type') || '';

    try {
        return await res.json();
    } catch (_) {
        throw new StatusError(`The status at ${url} is not JSON`
            + (/text\/plain/.test(type) ? ' (the Prometheus form? this'
               + ' page needs the JSON one: ?format=json)' : '') + '.');
    }
}

async function poll() {
    const url = statusUrl;
    let wait = POLL;

    try {
        const json = await read(url);
        const t = Date.now();

        if (!json || typeof json !== 'object' || Array.isArray(json)) {
            throw new StatusError(`The status at ${url} is not a JSON`
                                  + ' object.');
        }

        render(json, t);

        polls.ok++;
        first = first || t;
        last = t;
        window.__statusError = null;
        $('data').classList.remove('stale');
        $('data').hidden = false;

        const list = Array.isArray(json.streams) ? json.streams : [];
        const live = list.filter((s) => s && s.live === true).length;
        setStatus('live', `Updated ${clock(t)}: ${list.length} `
            + `stream${list.length === 1 ? '' : 's'}, ${live} live.`);
        if (!only) {
            document.title = `Status (${live} live) — nginx-webrtc-module`;
        }

    } catch (e) {
        polls.errors++;
        wait = POLL_ERROR;

        const text = e instanceof StatusError ? e.message
            : `The status could not be shown: ${e.message || e}`;

        window.__statusError = text;
        $('data').classList.toggle('stale', last > 0);
        setStatus('error', last ? `${text} Last update ${clock(last)}.`
                                : text);
    }

    setTimeout(poll, wait);
}

function render(json, t) {
    addStreams(Array.isArray(json.streams) ? json.streams : [], t);
    drawStreams(t);
    drawWorkers(Array.isArray(json.workers) ? json.workers : [], t);
    drawDelay(json.forwarding, t);
    drawSessions(json);
}


showEndpoints(endpoints);
$('status-url').textContent = statusUrl;

if (only) {
    $('title').textContent = `Stream “${only}”`;
    $('scope').hidden = false;
    $('streams-title').textContent = 'Stream';
    $('streams-none').textContent = `The server has no stream “${only}”.`;
    document.title = `Status of “${only}” — nginx-webrtc-module`;
}

$('hist-range').addEventListener('change', () => {
    if (lastForwarding) {
        drawDelay(lastForwarding, Date.now(), false);
    }
});

poll();
