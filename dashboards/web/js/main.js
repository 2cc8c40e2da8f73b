import { openAlerts } from './api.js';
import { mountAlertFeed } from './alert-feed.js';
import { toast } from './dom.js';
import { refreshSite, startEnergyRefresh } from './energy.js';
import { time } from './format.js';
import { LiveConnection } from './live-connection.js';
import { mountMachine } from './machine-view.js';
import { mountOverview } from './overview-view.js';
import { applyAlert, applyHello, applyTelemetry, setOpenAlerts } from './plant-state.js';
import { initSettings } from './settings.js';
import { applyStaticText, currentLang, onLangChange, setLang, t } from './strings.js';

/**
 * The dashboard's entry point: routes (`#/` overview, `#/machine/site/line/device`), the live
 * connection, the alert feed and the header (connection state, clock, language, settings).
 */
const viewEl = document.getElementById('view');
let view = null;

function route() {
  view?.destroy();
  const m = /^#\/machine\/([\w-]+\/[\w-]+\/[\w-]+)$/.exec(location.hash);
  view = m ? mountMachine(viewEl, m[1]) : mountOverview(viewEl);
  document.body.dataset.view = m ? 'machine' : 'overview';
}

const conn = document.getElementById('conn');
const STATUS_TEXT = { live: 'connLive', connecting: 'connConnecting', reconnecting: 'connReconnecting', unauthorized: 'connUnauthorized' };
function showStatus(status) {
  conn.dataset.state = status;
  conn.querySelector('.conn-text').textContent = t(STATUS_TEXT[status]);
}

const knownSites = new Set();
function onLive(msg) {
  if (msg.type === 'hello') applyHello(msg);
  else if (msg.type === 'telemetry') {
    applyTelemetry(msg);
    if (!knownSites.has(msg.site)) {
      knownSites.add(msg.site);
      void refreshSite(msg.site);
    }
  } else if (msg.type === 'alert') applyAlert(msg.alert);
  else if (msg.type === 'error') toast(msg.message);
}

async function loadAlerts() {
  try {
    setOpenAlerts((await openAlerts()).alerts);
  } catch (err) {
    toast(err.message);
  }
}

function renderChrome() {
  applyStaticText();
  const toggle = document.getElementById('lang-toggle');
  toggle.textContent = t('langButton');
  // The button is written in the other language: saying which lets screen readers read it
  // right and the browser pick that language's glyph forms from the fallback fonts.
  toggle.lang = currentLang() === 'zh' ? 'en' : 'zh-CN';
  showStatus(conn.dataset.state);
}

setLang(currentLang());
renderChrome();
const live = new LiveConnection(onLive, (status) => {
  showStatus(status);
  if (status === 'live') void loadAlerts(); // also after a reconnect: transitions missed meanwhile
});
const feed = mountAlertFeed(document.getElementById('alert-feed'), document.getElementById('alert-count'));
initSettings(() => {
  live.connect();
  void loadAlerts();
});
document.getElementById('lang-toggle').addEventListener('click', () => setLang(currentLang() === 'zh' ? 'en' : 'zh'));
onLangChange(() => {
  renderChrome();
  feed.render();
  route();
});
window.addEventListener('hashchange', route);
const clock = document.getElementById('clock');
setInterval(() => (clock.textContent = time(Date.now())), 1000);
startEnergyRefresh();
route();
live.connect();
