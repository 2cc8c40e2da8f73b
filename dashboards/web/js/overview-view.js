import { h, replaceChildren, setText } from './dom.js';
import { sumRows } from './energy.js';
import { num, signedPct, duration } from './format.js';
import { statusOf } from './machine-status.js';
import { changes, openAlertsOf, state } from './plant-state.js';
import { t } from './strings.js';

/**
 * The plant overview: plant-wide figures, then sites → lines → machine tiles (state colour,
 * power, temperature, open alerts). Tiles are built once per device and updated in place, at
 * most once a frame, so hundreds of machines updating twice a second stay cheap.
 */
export function mountOverview(root) {
  const tiles = new Map();
  const lineHeads = new Map();
  const kpis = {};
  let dirty = true;
  let structureChanged = true;
  let frame = 0;

  const kpi = (key, labelKey) => {
    const value = h('span', { class: 'kpi-value', dataset: { kpi: key } });
    const sub = h('span', { class: 'kpi-sub' });
    kpis[key] = { value, sub, label: h('span', { class: 'kpi-label' }, t(labelKey)), labelKey };
    return h('div', { class: 'kpi' }, kpis[key].label, value, sub);
  };
  const kpiRow = h('div', { class: 'kpis' }, kpi('power', 'totalPower'), kpi('energy', 'energyToday'), kpi('intensity', 'intensityToday'), kpi('running', 'machinesRunning'), kpi('alerts', 'openAlerts'));
  const sitesEl = h('div', { class: 'sites' });
  replaceChildren(root, h('h1', { class: 'view-title' }, t('plantOverview')), kpiRow, sitesEl);

  function build() {
    const bySite = new Map();
    for (const d of [...state.devices.values()].sort((a, b) => a.key.localeCompare(b.key))) {
      if (!bySite.has(d.site)) bySite.set(d.site, new Map());
      const lines = bySite.get(d.site);
      if (!lines.has(d.line)) lines.set(d.line, []);
      lines.get(d.line).push(d);
    }
    tiles.clear();
    lineHeads.clear();
    if (bySite.size === 0) return replaceChildren(sitesEl, h('p', { class: 'empty' }, t('waitingForData')));
    replaceChildren(
      sitesEl,
      [...bySite].map(([site, lines]) =>
        h('section', { class: 'site', dataset: { site } }, h('h2', {}, `${t('site')} ${site}`), [...lines].map(([line, devices]) => buildLine(site, line, devices))),
      ),
    );
  }

  function buildLine(site, line, devices) {
    const head = { power: h('span'), energy: h('span'), output: h('span'), intensity: h('span') };
    lineHeads.set(`${site}/${line}`, head);
    return h(
      'div',
      { class: 'line', dataset: { line: `${site}/${line}` } },
      h('div', { class: 'line-head' }, h('h3', {}, `${t('line')} ${line}`), h('span', { class: 'line-figures' }, head.power, head.energy, head.output, head.intensity)),
      h('div', { class: 'tiles' }, devices.map(buildTile)),
    );
  }

  function buildTile(d) {
    const parts = { state: h('span', { class: 'tile-state' }), power: h('span', { class: 'tile-power' }), temp: h('span', { class: 'tile-temp' }), age: h('span', { class: 'tile-age' }), alerts: h('span', { class: 'tile-alerts' }) };
    const el = h('a', { class: 'tile', href: `#/machine/${d.key}`, dataset: { device: d.key } }, h('span', { class: 'tile-name' }, d.device, parts.alerts), parts.state, h('span', { class: 'tile-values' }, parts.power, parts.temp), parts.age);
    tiles.set(d.key, { el, ...parts });
    return el;
  }

  function update() {
    frame = 0;
    if (structureChanged) build();
    structureChanged = false;
    dirty = false;
    const now = Date.now();
    const alertsByDevice = new Map();
    for (const a of openAlertsOf()) {
      const key = `${a.site}/${a.line}/${a.device}`;
      alertsByDevice.set(key, [...(alertsByDevice.get(key) ?? []), a]);
    }
    let power = 0;
    let running = 0;
    const linePower = new Map();
    for (const d of state.devices.values()) {
      const tile = tiles.get(d.key);
      const alerts = alertsByDevice.get(d.key) ?? [];
      const status = statusOf(d, now, alerts);
      const kw = d.m.power_kw;
      if (Number.isFinite(kw) && !status.stale) {
        power += kw;
        linePower.set(`${d.site}/${d.line}`, (linePower.get(`${d.site}/${d.line}`) ?? 0) + kw);
      }
      if (status.name === 'running' && !status.stale) running++;
      if (!tile) continue;
      tile.el.dataset.state = status.stale ? 'silent' : status.name;
      setText(tile.state, status.label);
      setText(tile.power, `${num(kw, 1)} kW`);
      setText(tile.temp, `${num(d.m.temperature_c, 1)} °C`);
      setText(tile.age, status.stale ? t('noDataFor', { d: duration(status.silentMs) }) : '');
      setText(tile.alerts, alerts.length > 0 ? `⚠ ${alerts.length}` : '');
    }
    for (const [key, head] of lineHeads) {
      const [site, line] = key.split('/');
      const rows = state.energy.get(site)?.today?.lines?.[line];
      const e = rows ? sumRows(rows) : null;
      setText(head.power, `${num(linePower.get(key) ?? 0, 1)} kW`);
      setText(head.energy, e ? `${num(e.kwh, 1)} kWh` : '');
      setText(head.output, e ? `${num(e.outputUnits, 0)} ${t('units')}` : '');
      setText(head.intensity, e?.kwhPerUnit != null ? `${num(e.kwhPerUnit, 2)} ${t('perUnit')}` : '');
    }
    updateKpis(power, running);
  }

  function updateKpis(power, running) {
    let kwh = 0;
    let units = 0;
    let baseKwh = 0;
    let baseUnits = 0;
    let haveEnergy = false;
    for (const { today, baseline } of state.energy.values()) {
      if (today) {
        haveEnergy = true;
        kwh += today.total.kwh;
        units += today.total.outputUnits;
      }
      if (baseline) {
        baseKwh += baseline.total.kwh;
        baseUnits += baseline.total.outputUnits;
      }
    }
    const intensity = units > 0 ? kwh / units : null;
    const base = baseUnits > 0 ? baseKwh / baseUnits : null;
    setText(kpis.power.value, `${num(power, 1)} kW`);
    setText(kpis.energy.value, haveEnergy ? `${num(kwh, 1)} kWh` : '—');
    setText(kpis.intensity.value, intensity === null ? '—' : `${num(intensity, 3)} ${t('perUnit')}`);
    setText(kpis.intensity.sub, intensity !== null && base !== null ? t('vsBaseline', { pct: signedPct(intensity / base) }) : t('noBaseline'));
    kpis.intensity.sub.dataset.trend = intensity !== null && base !== null ? (intensity > base ? 'worse' : 'better') : '';
    setText(kpis.running.value, `${running} / ${state.devices.size}`);
    setText(kpis.alerts.value, String(openAlertsOf().length));
  }

  const schedule = () => {
    dirty = true;
    frame ||= requestAnimationFrame(update);
  };
  const onTelemetry = (ev) => {
    if (ev.detail.isNew) structureChanged = true;
    schedule();
  };
  changes.addEventListener('telemetry', onTelemetry);
  changes.addEventListener('alerts', schedule);
  changes.addEventListener('energy', schedule);
  const ticker = setInterval(() => dirty || schedule(), 1000); // ages and silence, with no message to trigger them
  update();

  return {
    destroy() {
      cancelAnimationFrame(frame);
      clearInterval(ticker);
      changes.removeEventListener('telemetry', onTelemetry);
      changes.removeEventListener('alerts', schedule);
      changes.removeEventListener('energy', schedule);
    },
  };
}
