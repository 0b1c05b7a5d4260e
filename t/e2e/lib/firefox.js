'use strict';
// Launch the system (Debian) Firefox ESR headless through puppeteer-core,
// over WebDriver BiDi.
//
// Never download a browser (puppeteer-core does not; PUPPETEER_SKIP_DOWNLOAD
// for npm ci): we always use the distribution binary, /usr/bin/firefox-esr
// by default ($FIREFOX).
//
// The profile is a fresh directory with:
//  - the fake camera and microphone, no permission prompt, loopback ICE
//    candidates as plain addresses;
//  - permissions.sqlite granting camera and microphone to the given
//    origins: without a granted permission Firefox gathers only host
//    candidates of the default route and never pairs them with the server's
//    127.0.0.1 candidate;
//  - every background service off (remote settings, telemetry, captive
//    portal, connectivity checks, DNS prefetch, safe browsing, updates,
//    normandy, push, ...), and MOZ_REMOTE_SETTINGS_DEVTOOLS=1 in the
//    environment (release builds ignore services.settings.server without
//    it): Firefox sends nothing but to the test's loopback origin.
//
// Usage:
//   const { launch } = require('./lib/firefox');
//   const b = await launch({ origins: ['https://127.0.0.1:8443'] });
//   const page = await b.browser.newPage();
//   ...
//   await b.close();          // closes Firefox, removes the profile

const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const puppeteer = require('puppeteer-core');

const DEFAULT_EXECUTABLE = process.env.FIREFOX || '/usr/bin/firefox-esr';

// nothing may leave the machine: URLs of services point nowhere
const NOWHERE = 'data:,';

const PREFS = {
  // WebRTC: fake devices, no prompt, loopback candidates, no mDNS names
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  'media.peerconnection.ice.loopback': true,
  'media.peerconnection.ice.obfuscate_host_addresses': false,
  'media.peerconnection.ice.default_address_only': false,
  'media.peerconnection.ice.no_host': false,
  'media.peerconnection.ice.link_local': false,
  'media.autoplay.default': 0,
  'media.autoplay.blocking_policy': 0,

  // remote settings (with MOZ_REMOTE_SETTINGS_DEVTOOLS=1), blocklists
  'services.settings.server': NOWHERE,
  'services.settings.poll_interval': 864000,
  'extensions.blocklist.enabled': false,
  'security.remote_settings.crlite_filters.enabled': false,
  'security.remote_settings.intermediates.enabled': false,
  'security.OCSP.enabled': 0,
  'security.certerrors.mitm.priming.enabled': false,

  // telemetry, data reporting, crash reports, studies
  'toolkit.telemetry.enabled': false,
  'toolkit.telemetry.unified': false,
  'toolkit.telemetry.server': NOWHERE,
  'toolkit.telemetry.archive.enabled': false,
  'toolkit.telemetry.newProfilePing.enabled': false,
  'toolkit.telemetry.shutdownPingSender.enabled': false,
  'toolkit.telemetry.firstShutdownPing.enabled': false,
  'toolkit.telemetry.updatePing.enabled': false,
  'toolkit.telemetry.bhrPing.enabled': false,
  'toolkit.telemetry.coverage.opt-out': true,
  'toolkit.coverage.opt-out': true,
  'toolkit.coverage.endpoint.base': '',
  'datareporting.healthreport.uploadEnabled': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'datareporting.usage.uploadEnabled': false,
  'browser.ping-centre.telemetry': false,
  'browser.tabs.crashReporting.sendReport': false,
  'breakpad.reportURL': '',
  'app.normandy.enabled': false,
  'app.normandy.api_url': '',
  'app.shield.optoutstudies.enabled': false,
  'messaging-system.rsexperimentloader.enabled': false,
  'nimbus.rollouts.enabled': false,

  // network checks, prefetching, DNS over HTTPS, proxies
  'network.captive-portal-service.enabled': false,
  'captivedetect.canonicalURL': '',
  'network.connectivity-service.enabled': false,
  'network.connectivity-service.IPv4.url': '',
  'network.connectivity-service.IPv6.url': '',
  'network.dns.disablePrefetch': true,
  'network.dns.disablePrefetchFromHTTPS': true,
  'network.prefetch-next': false,
  'network.predictor.enabled': false,
  'network.predictor.enable-prefetch': false,
  'network.http.speculative-parallel-limit': 0,
  'browser.places.speculativeConnect.enabled': false,
  'browser.urlbar.speculativeConnect.enabled': false,
  'network.trr.mode': 5,
  'doh-rollout.disable-heuristics': true,
  'network.proxy.type': 0,
  'network.http.http3.enable': false,

  // safe browsing
  'browser.safebrowsing.malware.enabled': false,
  'browser.safebrowsing.phishing.enabled': false,
  'browser.safebrowsing.downloads.enabled': false,
  'browser.safebrowsing.downloads.remote.enabled': false,
  'browser.safebrowsing.blockedURIs.enabled': false,
  'browser.safebrowsing.provider.google.updateURL': '',
  'browser.safebrowsing.provider.google4.updateURL': '',
  'browser.safebrowsing.provider.mozilla.updateURL': '',

  // updates: the application, add-ons, system add-ons, plugins (OpenH264)
  'app.update.auto': false,
  'app.update.disabledForTesting': true,
  'app.update.staging.enabled': false,
  'extensions.update.enabled': false,
  'extensions.systemAddon.update.enabled': false,
  'extensions.systemAddon.update.url': '',
  'extensions.getAddons.cache.enabled': false,
  'media.gmp-manager.updateEnabled': false,
  'media.gmp-manager.url': NOWHERE,
  'media.gmp-gmpopenh264.autoupdate': false,
  'media.gmp-widevinecdm.enabled': false,
  'media.eme.enabled': false,

  // push, accounts, geolocation, search and region lookups, new tab
  'dom.push.enabled': false,
  'dom.push.connection.enabled': false,
  'dom.push.serverURL': '',
  'identity.fxaccounts.enabled': false,
  'geo.enabled': false,
  'geo.provider.network.url': '',
  'browser.region.network.url': '',
  'browser.region.update.enabled': false,
  'browser.search.geoSpecificDefaults': false,
  'browser.search.update': false,
  'browser.newtabpage.enabled': false,
  'browser.newtabpage.activity-stream.feeds.system.topstories': false,
  'browser.newtabpage.activity-stream.feeds.section.topstories': false,
  'browser.newtabpage.activity-stream.feeds.topsites': false,
  'browser.newtabpage.activity-stream.feeds.snippets': false,
  'browser.newtabpage.activity-stream.telemetry': false,
  'browser.topsites.contile.enabled': false,
  'browser.urlbar.quicksuggest.enabled': false,
  'browser.urlbar.suggest.quicksuggest.sponsored': false,
  'browser.discovery.enabled': false,
  'extensions.pocket.enabled': false,
  'browser.translations.enable': false,
  'browser.ml.enable': false,
  'browser.contentblocking.report.lockwise.enabled': false,
  'privacy.trackingprotection.enabled': false,
  'browser.startup.page': 0,
  'browser.startup.homepage': 'about:blank',
};

// permissions.sqlite as Firefox 153 creates it (schema version 13: tables
// moz_perms, moz_hosts, moz_origin_interactions); permission 1 = allow,
// expireType 0 = never
function writePermissions(dir, origins) {
  const now = Date.now();
  const esc = (s) => s.replace(/'/g, "''");
  const rows = [];
  let id = 1;
  for (const o of origins) {
    for (const type of ['camera', 'microphone']) {
      rows.push(`INSERT INTO moz_perms VALUES (${id++}, '${esc(o)}', '${type}', 1, 0, 0, ${now});`);
    }
  }
  const sql = [
    'PRAGMA user_version = 13;',
    'CREATE TABLE moz_perms ( id INTEGER PRIMARY KEY,origin TEXT,type TEXT,'
      + 'permission INTEGER,expireType INTEGER,expireTime INTEGER,'
      + 'modificationTime INTEGER);',
    'CREATE TABLE moz_hosts ( id INTEGER PRIMARY KEY,host TEXT,type TEXT,'
      + 'permission INTEGER,expireType INTEGER,expireTime INTEGER,'
      + 'modificationTime INTEGER,isInBrowserElement INTEGER);',
    'CREATE TABLE moz_origin_interactions ( origin TEXT PRIMARY KEY,'
      + 'lastInteractionTime INTEGER);',
    ...rows,
  ].join('\n');
  execFileSync('sqlite3', [path.join(dir, 'permissions.sqlite')],
    { input: sql, stdio: ['pipe', 'ignore', 'pipe'] });
}

/**
 * @param {object} [opts]
 * @param {string[]} [opts.origins]        origins granted camera and
 *                                          microphone (e.g. https://127.0.0.1:8443)
 * @param {object}   [opts.prefs]           more preferences
 * @param {string}   [opts.executablePath]  $FIREFOX or /usr/bin/firefox-esr
 * @param {number}   [opts.timeout]         launch timeout in ms (30000)
 * @returns {Promise<{browser: import('puppeteer-core').Browser,
 *                    userDataDir: string, close: () => Promise<void>}>}
 */
async function launch(opts = {}) {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'webrtc-e2e-firefox-'));
  const removeDir = () => {
    try {
      fs.rmSync(userDataDir, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 });
    } catch (_) { /* ignore */ }
  };

  let browser;
  try {
    writePermissions(userDataDir, opts.origins || []);
    browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath: opts.executablePath || DEFAULT_EXECUTABLE,
      headless: true,
      acceptInsecureCerts: true,
      userDataDir,
      extraPrefsFirefox: { ...PREFS, ...(opts.prefs || {}) },
      env: { ...process.env, MOZ_REMOTE_SETTINGS_DEVTOOLS: '1' },
      timeout: opts.timeout || 30000,
      protocolTimeout: 30000,
    });
  } catch (err) {
    removeDir();
    throw err;
  }

  let closed = false;
  async function close() {
    if (closed) return;
    closed = true;
    const proc = browser.process();
    try {
      // Bound the close: a wedged browser must not hang the test run.
      await Promise.race([
        browser.close(),
        new Promise((resolve) => setTimeout(resolve, 10000).unref()),
      ]);
    } catch (_) { /* ignore */ }
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      try { proc.kill('SIGKILL'); } catch (_) { /* ignore */ }
    }
    removeDir();
  }

  return { browser, userDataDir, close };
}

module.exports = { launch, PREFS, DEFAULT_EXECUTABLE, writePermissions };
