import { describe, expect, it } from 'vitest';
import type { Sample } from '../../../src/contract/index.js';
import { DEFAULT_QUALITY_CONFIG, type QualityConfig } from '../../../src/quality/config.js';
import { DelayPeriods } from '../../../src/quality/delay-periods.js';
import { DeviceTracker } from '../../../src/quality/device-tracker.js';
import { percentages } from '../../../src/quality/figures.js';
import { AlertLatches, REPEAT_MS, siteCompletenessEvent } from '../../../src/quality/quality-alerts.js';
import { rollupPoints } from '../../../src/quality/quality-points.js';
import { rollup } from '../../../src/quality/rollup.js';
import { parseStatus } from '../../../src/contract/index.js';

const S = 1000;
const MIN = 60 * S;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2026, 0, 5, 16);
const cfg: QualityConfig = { ...DEFAULT_QUALITY_CONFIG, utcOffsetMs: 8 * HOUR };
const every = (stepMs: number, from: number, n: number): Sample[] => Array.from({ length: n }, (_, i) => ({ ts: from + i * stepMs, m: { x: i } }));

describe('rollup', () => {
  it('sums devices into line, site and gateway; completeness counts each device at most its expectation', () => {
    const a = new DeviceTracker({ site: 's1', line: 'l1', device: 'a' });
    const b = new DeviceTracker({ site: 's1', line: 'l1', device: 'b' });
    const c = new DeviceTracker({ site: 's1', line: 'l2', device: 'c' });
    const now = T0 + HOUR + 10 * MIN;
    // a: every 10 s for the whole hour (360), then one extra sample off the grid: 361 received, 360 expected.
    a.accept({ ...a.ref, seq: 0, samples: every(10 * S, T0, 360) }, now, cfg, null);
    a.accept({ ...a.ref, seq: 1, samples: [{ ts: T0 + 5 * S, m: { x: 0 } }] }, now, cfg, null);
    // b: half the hour. c: a quarter.
    b.accept({ ...b.ref, seq: 0, samples: every(10 * S, T0, 180) }, now, cfg, null);
    b.accept({ ...b.ref, seq: 2, samples: [{ ts: T0 + HOUR - 10 * S, m: { x: 0 } }] }, now, cfg, null); // seq 1 lost, last slot present
    c.accept({ ...c.ref, seq: 0, samples: every(10 * S, T0, 90) }, now, cfg, null);
    c.accept({ ...c.ref, seq: 1, samples: [{ ts: T0 + HOUR - 10 * S, m: { x: 0 } }] }, now, cfg, null);
    a.state.gateway = 'gw-1';
    b.state.gateway = 'gw-1';
    const r = rollup([a, b, c], '1h', T0, now, cfg);
    expect(r.devices.get('s1/l1/a')!.figures).toMatchObject({ expected: 360, received: 361, receivedCounted: 360 });
    // Every device starts at 00:00 and is expected until the hour's end: 360 each.
    const line1 = r.lines.get('s1/l1')!;
    expect(line1).toMatchObject({ devices: 2, expected: 720, received: 361 + 181, receivedCounted: 360 + 181 });
    expect(percentages(line1).completenessPct).toBeCloseTo((100 * 541) / 720, 10);
    const site = r.sites.get('s1')!;
    expect(site).toMatchObject({ devices: 3, expected: 1080, receivedCounted: 360 + 181 + 91 });
    expect(r.gateways.get('s1/gw-1')).toMatchObject({ devices: 2, expected: 720 });
    const points = rollupPoints(r);
    expect(points.map((p) => `${p.tags.level} ${p.tags.line ?? p.tags.gateway ?? '-'} ${p.tags.device ?? '-'}`).sort()).toEqual(['device l1 a', 'device l1 b', 'device l2 c', 'gateway gw-1 -', 'line l1 -', 'line l2 -', 'site - -']);
    for (const p of points) expect(p).toMatchObject({ measurement: 'quality', ts: T0, tags: { window: '1h', site: 's1' } });
    // The day is the sum of its hours.
    const day = rollup([a, b, c], '1d', T0, now, cfg).sites.get('s1')!;
    expect(day).toMatchObject({ expected: 1080 + 3 * 60, receivedCounted: 632 });
  });
});

describe('AlertLatches', () => {
  it('raises once, again every REPEAT_MS while it holds, clears once; no evidence keeps a raised alert fresh', () => {
    const l = new AlertLatches();
    expect(l.judge('k', false, 0)).toBe('clear'); // unknown after a start: an alert left open must close
    expect(l.judge('k', false, 1)).toBeNull();
    expect(l.judge('k', true, 10)).toBe('raise');
    expect(l.judge('k', true, 10 + REPEAT_MS - 1)).toBeNull();
    expect(l.judge('k', null, 10 + REPEAT_MS)).toBe('raise');
    expect(l.judge('k', true, 10 + REPEAT_MS + 1)).toBeNull();
    expect(l.judge('k', false, 10 + REPEAT_MS + 2)).toBe('clear');
    expect(l.judge('k', null, 10 * REPEAT_MS)).toBeNull();
  });

  it('builds site alerts on the _site pseudo device, category data, in English and Chinese', () => {
    const e = siteCompletenessEvent('s1', 'raise', 5, 87.777, 90, '1h', T0);
    expect(e).toMatchObject({ site: 's1', line: '_site', device: '_site', rule: 'site-completeness-low', category: 'data', kind: 'raise', value: 87.777, threshold: 90, ts: 5 });
    expect(e.message.en).toContain('87.78 %');
    expect(e.message.zh).toContain('数据完整率');
  });
});

describe('DelayPeriods', () => {
  it('hands over each finished period with data once; empty periods are no evidence', () => {
    const p = new DelayPeriods(5 * MIN);
    p.add('gw', [1000, 2000], T0 + MIN);
    expect(p.takeCompleted(T0 + 4 * MIN).size).toBe(0);
    p.add('gw', [3000], T0 + 5 * MIN); // the next period: the first one is over
    const done = p.takeCompleted(T0 + 5 * MIN);
    expect(done.get('gw')!.start).toBe(T0);
    expect(done.get('gw')!.delays.count).toBe(2);
    expect(p.takeCompleted(T0 + 6 * MIN).size).toBe(0);
    expect(p.takeCompleted(T0 + 30 * MIN).get('gw')!.delays.percentile(0.95)).toBe(3000);
    expect(p.takeCompleted(T0 + 60 * MIN).size).toBe(0);
  });
});

describe('parseStatus', () => {
  const buf = (v: unknown) => Buffer.from(JSON.stringify(v));
  it('device and gateway messages, as the edge agent publishes them', () => {
    expect(parseStatus({ site: 's1', line: 'l1', device: 'd1' }, buf({ state: 'online', ts: 1, gateway: 'gw-1', agent: { version: '1' } }))).toEqual({ kind: 'device', ref: { site: 's1', line: 'l1', device: 'd1' }, state: 'online', gateway: 'gw-1', reason: null });
    expect(parseStatus({ site: 's1', line: '_gateway', device: 'gw-1' }, buf({ state: 'offline', reason: 'connection lost', gateway: 'gw-1', devices: ['l1/d1', 'bad id/x', 'l1/d2/x', '_gateway/y'] }))).toEqual({ kind: 'gateway', site: 's1', gateway: 'gw-1', state: 'offline', reason: 'connection lost', devices: [{ site: 's1', line: 'l1', device: 'd1' }] });
  });
  it('ignores what is not a status message; a Sparkplug group/node gateway name is not an id', () => {
    const ref = { site: 's1', line: 'l1', device: 'd1' };
    expect(parseStatus(ref, Buffer.alloc(0))).toBeNull();
    expect(parseStatus(ref, Buffer.from('nope'))).toBeNull();
    expect(parseStatus(ref, buf({ state: 'sleeping' }))).toBeNull();
    expect(parseStatus(ref, buf({ state: 'online', gateway: 'g/n' }))).toMatchObject({ gateway: null });
  });
});
