import { mountAlertList } from './alert-feed.js';
import { series } from './api.js';
import { LiveChart } from './charts.js';
import { h, replaceChildren, setText } from './dom.js';
import { lineEnergyToday, sumRows } from './energy.js';
import { duration, num, time } from './format.js';
import { statusOf } from './machine-status.js';
import { changes, openAlertsOf, state } from './plant-state.js';
import { t } from './strings.js';

/** What the charts show: 15 minutes of history, then live. */
const WINDOW_MS = 15 * 60_000;
const CHARTS = [
  { metric: 'power_kw', title: 'chartPower', color: '#4cc9f0', digits: 1 },
  { metric: 'temperature_c', title: 'chartTemperature', color: '#f8961e', digits: 1 },
  { metric: 'vibration_mm_s', title: 'chartVibration', color: '#b5179e', digits: 2 },
  { metric: 'output_units', title: 'chartOutput', color: '#90be6d', digits: 0 },
];

/**
 * One machine: live figures, four charts (history from `/api/v1/series`, then live updates from
 * the hub) and its alerts.
 */
export function mountMachine(root, key) {
  const [site, line, device] = key.split('/');
  const figures = { state: h('span', { class: 'state-badge' }), power: h('span'), temp: h('span'), vib: h('span'), energy: h('span'), seen: h('span', { class: 'seen' }) };
  const chartsEl = h('div', { class: 'charts' });
  const alertsEl = h('ol', { class: 'alert-list' });
  const header = h('div', { class: 'machine-head', dataset: { device: key } }, h('a', { class: 'btn', href: '#/' }, t('back')), h('h1', { class: 'view-title' }, h('span', { class: 'crumb' }, `${site} › ${line} › `), device), figures.state, figures.seen);
  const figureRow = h(
    'div',
    { class: 'kpis' },
    [
      ['totalPower', figures.power],
      ['chartTemperature', figures.temp],
      ['chartVibration', figures.vib],
      ['energyToday', figures.energy],
    ].map(([label, el]) => h('div', { class: 'kpi' }, h('span', { class: 'kpi-label' }, t(label)), h('span', { class: 'kpi-value' }, el))),
  );
  replaceChildren(root, header, figureRow, chartsEl, h('h2', {}, t('machineAlerts')), alertsEl);

  const charts = new Map();
  for (const c of CHARTS) {
    const box = h('div', { class: 'chart', dataset: { metric: c.metric } });
    chartsEl.append(box);
    charts.set(c.metric, new LiveChart(box, { title: t(c.title), color: c.color, windowMs: WINDOW_MS, digits: c.digits }));
  }
  const from = Date.now() - WINDOW_MS;
  for (const [metric, chart] of charts) {
    series(key, metric, String(from))
      .then((res) => {
        chart.setHistory(res.points.map((p) => [p.ts, p.mean]));
        if (res.points.length === 0 && chart.xs.length === 0) chart.note(t('noMetricData'));
      })
      .catch((err) => chart.note(t('historyFailed', { reason: err.message }), 'error'));
  }
  lineEnergyToday(site, line)
    .then((res) => setText(figures.energy, `${num(sumRows(res.devices?.[device]).kwh, 2)} kWh`))
    .catch(() => setText(figures.energy, '—'));

  const showFigures = () => {
    const d = state.devices.get(key);
    if (!d) return;
    const status = statusOf(d, Date.now(), openAlertsOf((a) => a.site === site && a.line === line && a.device === device));
    figures.state.dataset.state = status.stale ? 'silent' : status.name;
    setText(figures.state, status.label);
    setText(figures.seen, status.stale ? t('noDataFor', { d: duration(status.silentMs) }) : time(d.ts));
    setText(figures.power, `${num(d.m.power_kw, 1)} kW`);
    setText(figures.temp, `${num(d.m.temperature_c, 1)} °C`);
    setText(figures.vib, `${num(d.m.vibration_mm_s, 2)} mm/s`);
  };
  const onTelemetry = (ev) => {
    if (ev.detail.device.key !== key) return;
    const { ts, m } = ev.detail.update;
    for (const [metric, chart] of charts) if (metric in m) chart.append(ts, m[metric]);
    showFigures();
  };
  changes.addEventListener('telemetry', onTelemetry);
  const ticker = setInterval(showFigures, 1000);
  showFigures();
  const alertList = mountAlertList(alertsEl, (all) => [...all].filter((a) => a.state === 'open' && a.site === site && a.line === line && a.device === device));

  return {
    destroy() {
      clearInterval(ticker);
      changes.removeEventListener('telemetry', onTelemetry);
      alertList.destroy();
      for (const chart of charts.values()) chart.destroy();
    },
  };
}
