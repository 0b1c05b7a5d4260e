'use strict';
// html/status.html while media flows: a publisher (WHIP) and E2E_VIEWERS
// viewers (WHEP) in pages of one Chromium; then status.html, served by the
// same nginx, reads the status location for E2E_SECONDS seconds.  What its
// plots drew is read from the DOM (the points of each line, the bars of
// the histogram) and from window.__statusPlots; a full-page screenshot
// goes to E2E_SHOT.  Then status.html?stream=E2E_STREAM, the stream alone
// and its sessions.  Then status.html with a status location that answers
// 403 (E2E_DENIED) and one where nothing listens (E2E_DEAD): the page must
// say so, and throw nothing.  And JSON files of the test's own
// (E2E_FAKES): sessions, unknown fields, missing ones, wrong types.
//
// Result: { publisher, viewers: [{status, state, frames}], page: {...},
//           json (the status JSON just after the page was read),
//           one: {...}, fakes: {path: {...}}, denied: {...}, dead: {...},
//           shot }

const { run } = require('./lib/scenario');

run(async (env) => {
  const { rtc } = env;
  const stream = env.param('STREAM', 'status-page');
  const n = Number(env.param('VIEWERS', 3));
  const secs = Number(env.param('SECONDS', 8));
  const res = env.partial;

  const waitFor = async (page, fn, arg, ms) => {
    try {
      await page.waitForFunction(fn, arg, { timeout: ms, polling: 100 });
      return true;
    } catch (e) {
      return false;
    }
  };

  // a page of the origin whose console errors and exceptions are kept
  // from its first line on: opened on the e2e index, then sent to path
  const watched = async (path) => {
    const page = await env.page('/index.html');
    const log = { console: [], exceptions: [] };
    page.on('console', (m) => {
      if (m.type() === 'error') {
        log.console.push(m.text());
      }
    });
    page.on('pageerror', (e) => log.exceptions.push(String(e.message || e)));
    await page.goto(env.base + path);
    return { page, log };
  };

  const pubPage = await env.page();
  const p = await rtc.publish(pubPage, 'pub',
                              { url: '/whip/' + stream, codec: 'VP8', wait: 8000 });
  res.publisher = { status: p.status, state: p.state };
  env.log(`publisher ${p.status} ${p.state}`);
  if (p.status !== 201) {
    return res;
  }

  // the viewers: one page, a peer connection each
  const vPage = await env.page();
  res.viewers = [];
  for (let i = 0; i < n; i++) {
    const v = await rtc.play(vPage, 'v' + i, { url: '/whep/' + stream, wait: 8000 });
    const s = v.status === 201
      ? await rtc.waitFrames(vPage, 'v' + i, 0, 5, 8000) : null;
    res.viewers.push({ status: v.status, state: v.state,
                       frames: s ? s.video.framesDecoded : 0 });
  }
  env.log('viewers ' + JSON.stringify(res.viewers));

  // the status page: secs seconds of reads
  const { page, log } = await watched('/pages/status.html');
  await env.sleep(secs * 1000);
  await waitFor(page, (name) => {
    const p = window.__statusPlots && window.__statusPlots[name];
    return p && p.loss && p.loss.points >= 3;
  }, stream, 5000);

  res.page = await page.evaluate((name) => {
    // what the SVG of a plot holds: the points of its line, and whether
    // any of them is above the time axis (a value > 0 with 0 at the axis)
    const drawn = (svg) => {
      if (!svg) {
        return null;
      }
      const line = svg.querySelector('path.line');
      const axis = svg.querySelector('path.axis');
      const base = axis ? Number((axis.getAttribute('d').match(/V([\d.]+)/) || [])[1]) : NaN;
      const pts = line ? [...line.getAttribute('d').matchAll(/[ML]([\d.-]+) ([\d.-]+)/g)]
        .map((m) => [Number(m[1]), Number(m[2])]) : [];
      return {
        points: pts.length,
        above: pts.filter(([, y]) => y < base - 0.5).length,
        labels: [...svg.querySelectorAll('text')].map((t) => t.textContent),
      };
    };

    const card = document.querySelector(`article[data-stream="${name}"]`);
    const series = {};
    for (const fig of card ? card.querySelectorAll('figure[data-series]') : []) {
      const k = fig.dataset.series;
      series[k] = Object.assign(drawn(fig.querySelector('svg')), {
        value: (fig.querySelector(`[data-field="${k}"]`) || {}).textContent,
      });
    }

    const hist = document.getElementById('histogram');
    const bars = [...hist.querySelectorAll('rect.bar')]
      .filter((r) => Number(r.getAttribute('height')) > 0);

    const workers = [...document.querySelectorAll('#workers tbody tr')]
      .map((tr) => [...tr.cells].map((td) => td.textContent.trim()));

    const sessions = document.getElementById('sessions-block');

    return {
      state: window.__state,
      statusText: document.getElementById('status').textContent,
      error: window.__statusError,
      polls: window.__statusPolls,
      plots: window.__statusPlots[name] || null,
      histogram: window.__statusHistogram,
      card: !!card,
      badge: card ? card.querySelector('[data-field="live"]').textContent : null,
      series,
      bars: bars.length,
      workers,
      sessions: {
        shown: !sessions.hidden,
        rows: document.querySelectorAll('#sessions tbody tr').length,
        columns: [...document.querySelectorAll('#sessions thead th')]
          .map((th) => th.textContent),
      },
    };
  }, stream);
  res.page.console = log.console;
  res.page.exceptions = log.exceptions;

  // the status JSON at the time, as the page reads it
  const json = (page, url) => page.evaluate((u) => fetch(u, { cache: 'no-store' })
    .then((r) => r.json()).catch((e) => ({ error: String(e) })), url);
  res.json = await json(page, '/webrtc/status');

  const shot = env.param('SHOT', '');
  if (shot) {
    await page.screenshot({ path: shot, fullPage: true });
    res.shot = shot;
  }

  // the stream alone (?stream=): its card, and its sessions where the
  // status location lists them
  const one = await watched('/pages/status.html?stream=' + stream);
  await waitFor(one.page, () => window.__statusPolls.ok >= 2, null, 8000);
  res.one = await one.page.evaluate(() => ({
    state: window.__state,
    cards: [...document.querySelectorAll('article[data-stream]')]
      .map((a) => a.dataset.stream),
    sessions: {
      shown: !document.getElementById('sessions-block').hidden,
      columns: [...document.querySelectorAll('#sessions thead th')]
        .map((th) => th.textContent),
      rows: [...document.querySelectorAll('#sessions tbody tr')]
        .map((tr) => [...tr.cells].map((td) => td.textContent)),
    },
  }));
  res.one.json = await json(one.page, '/webrtc/status?stream=' + stream);
  res.one.exceptions = one.log.exceptions;
  res.one.console = one.log.console;
  if (shot) {
    res.one.shot = shot.replace(/\.png$/, '') + '-stream.png';
    await one.page.screenshot({ path: res.one.shot, fullPage: true });
  }
  await one.page.close();

  // status locations that fail: the page says why, throws nothing
  const failing = async (key, url) => {
    const w = await watched('/pages/status.html?status=' + encodeURIComponent(url));
    await waitFor(w.page, () => window.__state === 'error', null, 8000);
    await env.sleep(1500);              // and it keeps trying, quietly
    res[key] = await w.page.evaluate(() => ({
      state: window.__state,
      error: window.__statusError,
      text: document.getElementById('status').textContent,
      polls: window.__statusPolls,
    }));
    res[key].exceptions = w.log.exceptions;
    // the browser's own line for a failed load is not the page's doing
    res[key].console = w.log.console
      .filter((m) => !/^Failed to load resource/.test(m));
    await w.page.close();
  };

  // JSON of the test's own (E2E_FAKES: paths, comma-separated): fields
  // the page does not know, fields missing, sessions
  res.fakes = {};
  for (const path of env.param('FAKES', '').split(',').filter((p) => p)) {
    const w = await watched('/pages/status.html?status=' + encodeURIComponent(path));
    await waitFor(w.page, () => window.__statusPolls.ok + window.__statusPolls.errors >= 2,
                  null, 8000);
    res.fakes[path] = await w.page.evaluate(() => ({
      state: window.__state,
      error: window.__statusError,
      cards: [...document.querySelectorAll('article[data-stream]')]
        .map((a) => a.dataset.stream),
      sessions: {
        shown: !document.getElementById('sessions-block').hidden,
        columns: [...document.querySelectorAll('#sessions thead th')]
          .map((th) => th.textContent),
        rows: [...document.querySelectorAll('#sessions tbody tr')]
          .map((tr) => [...tr.cells].map((td) => td.textContent)),
      },
    }));
    if (shot) {
      const file = shot.replace(/\.png$/, '') + path.replace(/\W+/g, '-') + '.png';
      await w.page.screenshot({ path: file, fullPage: true });
      res.fakes[path].shot = file;
    }
    res.fakes[path].exceptions = w.log.exceptions;
    res.fakes[path].console = w.log.console;
    await w.page.close();
  }

  await failing('denied', env.param('DENIED', '/denied/status'));
  await failing('dead', env.param('DEAD', 'https://127.0.0.1:1/status'));

  return res;
});
