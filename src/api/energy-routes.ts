import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { PlantPulseError } from '../contract/index.js';
import type { HistoryReader, Row } from '../storage/index.js';
import { scopeInfluxQL } from '../auth/index.js';
import { idParam, lit, parseQuery, timeParam, timeRange } from './query-params.js';
import { scopeFor } from './scope-guard.js';

/** The stored window sizes the API serves (energy config `windows.sizes`; docs/analytics.md). */
const WINDOWS = { '1m': 60_000, '5m': 300_000, '15m': 900_000, '30m': 1_800_000, '1h': 3_600_000, '1d': 86_400_000 } as const;
type WindowName = keyof typeof WINDOWS;
const MAX_ROWS = 20_000;

export const energyQuery = z.strictObject({
  site: idParam,
  line: idParam.optional(),
  from: timeParam.optional(),
  to: timeParam.optional(),
  window: z.enum(Object.keys(WINDOWS) as [WindowName, ...WindowName[]]).default('1h'),
});

/** Additive fields summed over devices (and over the range for totals); intensities are recomputed. */
const ADDITIVE = { kwh: 'kwh', gasM3: 'gas_m3', steamT: 'steam_t', waterM3: 'water_m3', outputUnits: 'output_units', idleKwh: 'idle_kwh', kgce: 'kgce', tce: 'tce', co2Kg: 'co2_kg' } as const;
type Additive = Record<keyof typeof ADDITIVE, number>;

export interface EnergyRow extends Additive {
  start: number;
  kwhPerUnit: number | null;
  kgcePerUnit: number | null;
  /** Share of electricity drawn while producing nothing. */
  idleShare: number | null;
}

function zero(): Additive {
  return { kwh: 0, gasM3: 0, steamT: 0, waterM3: 0, outputUnits: 0, idleKwh: 0, kgce: 0, tce: 0, co2Kg: 0 };
}

function finish(start: number, a: Additive): EnergyRow {
  return {
    start,
    ...a,
    kwhPerUnit: a.outputUnits > 0 ? a.kwh / a.outputUnits : null,
    kgcePerUnit: a.outputUnits > 0 ? a.kgce / a.outputUnits : null,
    idleShare: a.kwh > 0 ? a.idleKwh / a.kwh : null,
  };
}

function add(into: Additive, r: Row): void {
  for (const [k, field] of Object.entries(ADDITIVE) as [keyof Additive, string][]) into[k] += typeof r[field] === 'number' ? (r[field] as number) : 0;
}

/**
 * `GET /api/v1/energy?site=&line=&from=&to=&window=`: the stored device windows of that size,
 * summed per window for the site (or line), per line (or device), and over the whole range.
 * Windows are tumbling and aligned on local midnight (`utcOffsetMs`), so a day is a plant's day.
 */
export function registerEnergyRoutes(app: FastifyInstance, history: HistoryReader, utcOffsetMs = 8 * 3_600_000): void {
  app.get('/api/v1/energy', async (req) => {
    const q = parseQuery(energyQuery, req.query);
    // The scope goes into the statement too, so no other site's rows are ever read.
    const scoped = scopeInfluxQL(scopeFor(req, q.site));
    const size = WINDOWS[q.window];
    const { from, to } = timeRange(q, 86_400_000, 400 * 86_400_000);
    const by = q.line ? 'device' : 'line';
    if ((to - from) / size > MAX_ROWS) throw new PlantPulseError('PP_ERR_INVALID_QUERY', `window=${q.window} over this range gives more than ${MAX_ROWS} windows; use a larger window`);
    const offset = (((-utcOffsetMs % size) + size) % size) / 1000;
    const sums = Object.values(ADDITIVE)
      .map((f) => `sum(${f}) AS ${f}`)
      .join(', ');
    const rows = await history.query(
      `SELECT ${sums} FROM energy WHERE site = ${lit(q.site)}${scoped ? ` AND ${scoped}` : ''}${q.line ? ` AND line = ${lit(q.line)}` : ''} AND "window" = ${lit(q.window)} ` +
        `AND time >= ${from}ms AND time < ${to}ms GROUP BY time(${size / 1000}s, ${offset}s), ${by} fill(none)`,
    );
    const perWindow = new Map<number, Additive>();
    const perMember = new Map<string, Map<number, Additive>>();
    const total = zero();
    for (const r of rows) {
      const start = r.time as number;
      const member = String(r[by]);
      const w = perWindow.get(start) ?? zero();
      add(w, r);
      perWindow.set(start, w);
      const m = perMember.get(member) ?? new Map<number, Additive>();
      const mw = zero();
      add(mw, r);
      m.set(start, mw);
      perMember.set(member, m);
      add(total, r);
    }
    const sorted = (m: Map<number, Additive>) => [...m.entries()].sort((a, b) => a[0] - b[0]).map(([start, a]) => finish(start, a));
    return {
      site: q.site,
      ...(q.line ? { line: q.line } : {}),
      window: q.window,
      from,
      to,
      total: finish(from, total),
      windows: sorted(perWindow),
      [q.line ? 'devices' : 'lines']: Object.fromEntries([...perMember.entries()].sort().map(([k, m]) => [k, sorted(m)])),
    };
  });
}
