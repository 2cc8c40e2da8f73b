/**
 * The Grafana dashboards (dashboards/grafana/dashboards) against a real InfluxQL engine: points
 * built by PlantPulse's own code (telemetryPoints, toEnergyPoint, alertPoint) are written to a
 * real influxd, and every dashboard query, interpolated as Grafana does, must run and give the
 * figures a plant manager expects. (Compose runs InfluxDB 2.7, which answers the same InfluxQL
 * on its v1-compatible endpoint; the test runs Debian's influxd 1.x.)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toEnergyPoint } from '../../src/analytics/energy/energy-point.js';
import type { EnergyWindow } from '../../src/analytics/energy/energy-window.js';
import { windowStart } from '../../src/analytics/energy/window-sizes.js';
import { alertPoint } from '../../src/alerts/alert-points.js';
import type { Alert, AlertTransition } from '../../src/alerts/types.js';
import type { Category, Severity } from '../../src/alerts/types.js';
import type { TelemetryBatch } from '../../src/contract/index.js';
import { telemetryPoints } from '../../src/pipeline/to-points.js';
import { InfluxV1Sink, pointsToLineProtocol, queryInfluxQL, type Point, type Row } from '../../src/storage/index.js';
import { dashboardQueries, grafanaInterpolate, type GrafanaDashboard } from '../support/deploy-checks.js';
import { startInfluxd, type InfluxdProcess } from '../support/influxd.js';

const DIR = fileURLToPath(new URL('../../dashboards/grafana/dashboards/', import.meta.url));
const dashboards = Object.fromEntries(readdirSync(DIR).filter((f) => f.endsWith('.json')).map((f) => [f, JSON.parse(readFileSync(join(DIR, f), 'utf8')) as GrafanaDashboard]));
const DB = 'plantpulse';
const HOUR = 3_600_000;
const DAY = 86_400_000;
const UTC8 = 8 * HOUR;
/** A plant day (local midnight, UTC+8) two days ago: every window of it is closed. */
const dayStart = windowStart(Date.now() - 2 * DAY, DAY, UTC8);
const range = { from: dayStart - HOUR, to: dayStart + DAY + HOUR };

/** Devices: kWh per 15 min, output per 15 min (per hour of day), idle kWh per 15 min. */
const DEVICES = [
  { site: 'site-01', line: 'line-01', device: 'm-001', kwh: 10, output: () => 5, idle: 1 },
  { site: 'site-01', line: 'line-01', device: 'm-002', kwh: 20, output: (h: number) => (h < 6 ? 0 : 10), idle: 2 },
  // A line that produces nothing all day (compressors): no intensity, rather than 0.
  { site: 'site-01', line: 'line-02', device: 'c-001', kwh: 30, output: () => 0, idle: 30 },
  { site: 'site-02', line: 'line-01', device: 'm-101', kwh: 5, output: () => 1, idle: 0 },
];

function window(d: (typeof DEVICES)[number], start: number, sizeMs: number): EnergyWindow {
  const quarters = sizeMs / 900_000;
  let outputUnits = 0;
  for (let q = 0; q < quarters; q++) outputUnits += d.output(Math.floor(((start - dayStart) / 900_000 + q) / 4));
  const kwh = d.kwh * quarters;
  const kgce = kwh * 0.1229;
  return {
    start, end: start + sizeMs, windowMs: sizeMs, site: d.site, line: d.line, device: d.device,
    kwh, gasM3: 0, steamT: 0, waterM3: 0, outputUnits, idleKwh: d.idle * quarters, kgce, tce: kgce / 1000, co2Kg: kwh * 0.5306,
    kwhPerUnit: outputUnits > 0 ? kwh / outputUnits : null, kgcePerUnit: outputUnits > 0 ? kgce / outputUnits : null,
    samples: 60 * quarters * 15, powerFactorAvg: 0.9, implausibleJumps: 0, notInTce: [], notInCo2: [],
  };
}

function energyPoints(): Point[] {
  const points: Point[] = [];
  for (const d of DEVICES) {
    for (const [size, n] of [[900_000, 96], [HOUR, 24], [DAY, 1]] as const) for (let i = 0; i < n; i++) points.push(toEnergyPoint(window(d, dayStart + i * size, size)));
  }
  return points;
}

/** Telemetry: one sample a minute over the last hour of the day; m-002 is in fault for the last 10 minutes. */
function telemetry(): Point[] {
  return DEVICES.flatMap((d) => {
    const samples = Array.from({ length: 60 }, (_, i) => {
      const fault = d.device === 'm-002' && i >= 50;
      return { ts: dayStart + DAY - HOUR + i * 60_000, m: { power_kw: fault ? 2 : 40, temperature_c: 60 + i / 10, vibration_mm_s: fault ? 12 : 2, state: fault ? 3 : 2, output_units: 1000 + i * 3, power_factor: 0.9, current_a: 60 } };
    });
    return telemetryPoints({ site: d.site, line: d.line, device: d.device, seq: 0, samples } as TelemetryBatch);
  });
}

const ALERTS: { device: string; rule: string; category: Category; severity: Severity; transitions: ['opened' | 'resolved' | 'acknowledged', number][] }[] = [
  { device: 'm-002', rule: 'vibration-high-critical', category: 'safety', severity: 'critical', transitions: [['opened', 23.85], ['acknowledged', 23.9]] },
  { device: 'm-001', rule: 'temperature-baseline', category: 'safety', severity: 'warning', transitions: [['opened', 10], ['resolved', 10.5]] },
  { device: 'c-001', rule: 'idle-share', category: 'energy', severity: 'warning', transitions: [['opened', 1], ['resolved', 2], ['opened', 5]] },
];

function alertPoints(): Point[] {
  return ALERTS.flatMap((a) => {
    const d = DEVICES.find((x) => x.device === a.device)!;
    return a.transitions.map(([type, hour], i) => {
      const ts = dayStart + hour * HOUR;
      const alert = { id: `${a.device}-${a.rule}-${i}`, site: d.site, line: d.line, device: d.device, rule: a.rule, metric: 'm', category: a.category, severity: a.severity, value: 1, peak: 2, count: 1, openedAt: ts, flapping: false, threshold: 1, baseline: null, ackedBy: type === 'acknowledged' ? 'shift lead' : null, message: { en: `${a.rule} on ${a.device}`, zh: `${a.device} 告警`, updatedAt: ts } } as unknown as Alert;
      return alertPoint({ type, ts, alert, ...(type === 'resolved' ? { reason: 'cleared' } : {}) } as AlertTransition)!;
    });
  });
}

let influx: InfluxdProcess;

beforeAll(async () => {
  influx = await startInfluxd({ database: DB });
  const sink = new InfluxV1Sink({ url: influx.url, database: DB });
  await sink.write(pointsToLineProtocol([...energyPoints(), ...telemetry(), ...alertPoints()]));
});

afterAll(async () => {
  await influx?.stop();
});

type Vars = Record<string, readonly string[] | 'all'>;
const ALL: Vars = { site: 'all', line: 'all', device: 'all', category: 'all', severity: 'all' };

function panelQuery(file: string, title: string): string {
  const q = dashboardQueries(dashboards[file]!).find((x) => x.where.startsWith(`panel "${title}"`));
  if (!q) throw new Error(`${file}: no panel "${title}"`);
  return q.query;
}
const run = (query: string, vars: Vars = ALL, r = range, interval = '1m'): Promise<Row[]> => queryInfluxQL(influx.url, DB, grafanaInterpolate(query, { ...r, interval, vars }));
const sumOf = (rows: Row[], col: string) => rows.reduce((s, r) => s + Number(r[col]), 0);

describe('Grafana dashboards on a real InfluxQL engine', () => {
  it('every query of every dashboard runs: all values, one site, several devices, an empty range', async () => {
    const selections: Vars[] = [ALL, { ...ALL, site: ['site-01'] }, { ...ALL, site: ['site-01'], line: ['line-01'], device: ['m-001', 'm-002'], severity: ['critical', 'warning'] }];
    let ran = 0;
    for (const [file, d] of Object.entries(dashboards)) {
      for (const q of dashboardQueries(d)) {
        for (const vars of selections) {
          await expect(run(q.query, vars), `${file} ${q.where}`).resolves.toBeInstanceOf(Array);
          ran++;
        }
        await expect(run(q.query, ALL, { from: range.from - 30 * DAY, to: range.from - 29 * DAY }), `${file} ${q.where} (no data)`).resolves.toBeInstanceOf(Array);
      }
    }
    expect(ran).toBeGreaterThan(100);
  });

  it('template variables list the stored ids, filtered by the variables before them', async () => {
    const energyVars = dashboardQueries(dashboards['plant-energy.json']!).filter((q) => !q.target);
    expect((await run(energyVars[0]!.query)).map((r) => r.value)).toEqual(['site-01', 'site-02']);
    expect((await run(energyVars[1]!.query, { site: ['site-01'] })).map((r) => r.value)).toEqual(['line-01', 'line-02']);
    expect((await run(energyVars[1]!.query, { site: ['site-02'] })).map((r) => r.value)).toEqual(['line-01']);
    const deviceVar = dashboardQueries(dashboards['machine-health.json']!).find((q) => q.where === 'variable $device')!;
    expect((await run(deviceVar.query, { site: ['site-01'], line: ['line-01'] })).map((r) => r.value)).toEqual(['m-001', 'm-002']);
  });

  it('plant energy: totals, energy per line per hour and per plant day, intensity only where something was made, idle share', async () => {
    const file = 'plant-energy.json';
    const day = (d: (typeof DEVICES)[number]) => window(d, dayStart, DAY);
    const site1 = DEVICES.filter((d) => d.site === 'site-01').map(day);
    expect(sumOf(await run(panelQuery(file, 'Electricity')), 'sum')).toBeCloseTo(DEVICES.map(day).reduce((s, w) => s + w.kwh, 0), 6);
    expect(sumOf(await run(panelQuery(file, 'Electricity'), { ...ALL, site: ['site-01'] }), 'sum')).toBeCloseTo(site1.reduce((s, w) => s + w.kwh, 0), 6);
    expect(sumOf(await run(panelQuery(file, 'Standard coal')), 'sum')).toBeCloseTo(DEVICES.map(day).reduce((s, w) => s + w.tce, 0), 9);
    const co2 = await run(panelQuery(file, 'CO₂'));
    expect(Number(Object.values(co2[0]!).find((v, i) => i > 0 && typeof v === 'number'))).toBeCloseTo(DEVICES.map(day).reduce((s, w) => s + w.co2Kg, 0) / 1000, 6);
    const intensity = await run(panelQuery(file, 'Energy intensity'), { ...ALL, site: ['site-01'] });
    expect(intensity).toHaveLength(1);
    expect(intensity[0]!.kwh_per_unit).toBeCloseTo(site1.reduce((s, w) => s + w.kwh, 0) / site1.reduce((s, w) => s + w.outputUnits, 0), 9);
    const idle = await run(panelQuery(file, 'Idle share'), { ...ALL, site: ['site-01'], line: ['line-02'] });
    expect(idle[0]!.idle_share).toBeCloseTo(1, 9);

    const hourly = await run(panelQuery(file, 'Electricity per line, hourly'));
    expect(hourly).toHaveLength(3 * 24);
    const l1 = hourly.filter((r) => r.site === 'site-01' && r.line === 'line-01');
    expect(l1.map((r) => r.time)).toEqual(Array.from({ length: 24 }, (_, h) => dayStart + h * HOUR));
    expect(l1.every((r) => r.sum === (10 + 20) * 4)).toBe(true);

    // Each plant day is one bar at its local midnight (16:00 UTC the day before), whatever the offset.
    const daily = await run(panelQuery(file, 'Electricity per line, daily'));
    expect(daily.map((r) => [r.site, r.line, r.time, r.sum]).sort()).toEqual([
      ['site-01', 'line-01', dayStart, (10 + 20) * 96],
      ['site-01', 'line-02', dayStart, 30 * 96],
      ['site-02', 'line-01', dayStart, 5 * 96],
    ]);
    expect(new Date(dayStart).getUTCHours()).toBe(16);

    const perLine = await run(panelQuery(file, 'Energy intensity per line, hourly'));
    expect(perLine.some((r) => r.line === 'line-02' && r.site === 'site-01')).toBe(false);
    const l1i = perLine.filter((r) => r.site === 'site-01' && r.line === 'line-01');
    expect(l1i).toHaveLength(24);
    expect(l1i[0]!.kwh_per_unit).toBeCloseTo((30 * 4) / (5 * 4), 9); // before 06:00 only m-001 produces
    expect(l1i[12]!.kwh_per_unit).toBeCloseTo((30 * 4) / (15 * 4), 9);
    const idleLine = await run(panelQuery(file, 'Idle share per line, hourly'), { ...ALL, site: ['site-01'] });
    expect(idleLine.filter((r) => r.line === 'line-02').every((r) => r.idle_share === 1)).toBe(true);

    const table = await run(panelQuery(file, 'Devices in the time range'));
    expect(table.map((r) => r.device).sort()).toEqual(['c-001', 'm-001', 'm-002', 'm-101']);
    expect(table.find((r) => r.device === 'm-002')!.kWh).toBe(20 * 96);
  });

  it('machine health: state now, state over time, power, vibration peaks and output per interval per machine', async () => {
    const file = 'machine-health.json';
    // Grafana's range is inclusive at both ends: stop just before the next interval starts.
    const lastHour = { from: dayStart + DAY - HOUR, to: dayStart + DAY - 1 };
    const now = await run(panelQuery(file, 'Machine state now'), ALL, lastHour);
    expect(Object.fromEntries(now.map((r) => [r.device, r.last]))).toEqual({ 'c-001': 2, 'm-001': 2, 'm-002': 3, 'm-101': 2 });
    const timeline = await run(panelQuery(file, 'State'), { ...ALL, device: ['m-002'] }, lastHour, '10m');
    expect(timeline.map((r) => r.last)).toEqual([2, 2, 2, 2, 2, 3]);
    const vibration = await run(panelQuery(file, 'Vibration (RMS velocity, peak per interval)'), { ...ALL, device: ['m-002'] }, lastHour, '30m');
    expect(vibration.map((r) => r.max)).toEqual([2, 12]);
    const power = await run(panelQuery(file, 'Power'), { ...ALL, site: ['site-02'] }, lastHour, '1h');
    expect(power.map((r) => [r.device, r.mean])).toEqual([['m-101', 40]]);
    const output = await run(panelQuery(file, 'Output per interval'), { ...ALL, device: ['m-001'] }, lastHour, '10m');
    expect(output.map((r) => r.non_negative_difference)).toEqual([30, 30, 30, 30, 30]);
  });

  it('alerts: counts by transition, category and severity, and the transitions newest first', async () => {
    const file = 'alerts.json';
    const count = async (title: string, vars: Vars = ALL) => sumOf(await run(panelQuery(file, title), vars), 'count');
    expect(await count('Opened')).toBe(4);
    expect(await count('Critical opened')).toBe(1);
    expect(await count('Resolved')).toBe(2);
    expect(await count('Acknowledged')).toBe(1);
    expect(await count('Opened', { ...ALL, category: ['energy'] })).toBe(2);
    expect(Object.fromEntries((await run(panelQuery(file, 'Opened by category'))).map((r) => [r.category, r.count]))).toEqual({ energy: 2, safety: 2 });
    expect(Object.fromEntries((await run(panelQuery(file, 'Opened by severity'))).map((r) => [r.severity, r.count]))).toEqual({ critical: 1, warning: 3 });
    const table = await run(panelQuery(file, 'Alert transitions'));
    expect(table).toHaveLength(7);
    expect(table.map((r) => r.time)).toEqual([...table.map((r) => r.time as number)].sort((a, b) => b - a));
    expect(table[0]).toMatchObject({ transition: 'acknowledged', severity: 'critical', category: 'safety', site: 'site-01', line: 'line-01', device: 'm-002', rule: 'vibration-high-critical', message_zh: 'm-002 告警' });
  });
});
