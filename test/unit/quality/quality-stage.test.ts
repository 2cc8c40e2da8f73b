import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AnomalyEvent } from '../../../src/analytics/index.js';
import type { Sample, TelemetryBatch } from '../../../src/contract/index.js';
import { createLogger } from '../../../src/observability/index.js';
import { DEFAULT_QUALITY_CONFIG, type QualityConfig } from '../../../src/quality/config.js';
import { initialDeviceState } from '../../../src/quality/device-state.js';
import { createQualityMetrics } from '../../../src/quality/quality-metrics.js';
import { QualityStage } from '../../../src/quality/quality-stage.js';
import { QualityStore } from '../../../src/quality/quality-store.js';
import type { HistoryReader, Point, Row } from '../../../src/storage/index.js';

const S = 1000;
const MIN = 60 * S;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2026, 0, 5, 16);
const cfg: QualityConfig = {
  ...DEFAULT_QUALITY_CONFIG,
  utcOffsetMs: 8 * HOUR,
  closeAfterMs: MIN,
  flushMs: HOUR, // flushes only when asked (or when an hour closes)
  alerts: { siteMinCompletenessPct: 90, siteWindow: '1h', gatewayDelayP95Ms: 120 * S, delayPeriodMs: 5 * MIN, offlineAfterMs: 10 * MIN },
};
const ref = { site: 's1', line: 'l1', device: 'd1' };
const minute = (k: number): Sample[] => Array.from({ length: 6 }, (_, j) => ({ ts: T0 + k * MIN + j * 10 * S, m: { power_kw: 1 } }));
const batch = (seq: number, samples: Sample[]): TelemetryBatch => ({ ...ref, seq, samples });

let dir: string;
let now: number;
let written: Point[];
let events: AnomalyEvent[];
let counts: Row[];
const stores: QualityStore[] = [];

function stage(history: HistoryReader = { available: true, query: async () => counts }, restoredDevicesParked = false, deviceAlertsOnly = false): QualityStage {
  const store = new QualityStore(join(dir, 'quality.sqlite'));
  stores.push(store);
  return new QualityStage({
    config: cfg,
    store,
    history,
    write: async (p) => void written.push(...p),
    raise: (e) => void events.push(...e),
    metrics: createQualityMetrics(new Registry(), { devices: () => 0, online: () => 0, missingMessages: () => 0, timestampBytes: () => 0 }),
    log: createLogger('silent'),
    clock: () => now,
    restoredDevicesParked,
    deviceAlertsOnly,
  });
}

/** The last point written for a device hour. */
const devicePoint = (hour: number) => written.filter((p) => p.tags.level === 'device' && p.tags.window === '1h' && p.ts === hour).at(-1)!;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pp-quality-'));
  written = [];
  events = [];
  counts = [];
  now = T0;
});
afterEach(() => {
  for (const s of stores.splice(0)) {
    try {
      s.close();
    } catch {
      // already closed by stop()
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('QualityStage: restart', () => {
  it('after a clean stop, a new stage restores the same figures, and knows a redelivered message as a duplicate', async () => {
    const a = stage();
    await a.restore();
    for (const k of [0, 1, 2, 4, 5, 6, 7, 8, 9]) {
      now = T0 + (k + 1) * MIN;
      a.accept(batch(k, minute(k)));
    }
    await a.stop();
    const before = devicePoint(T0).fields;
    expect(before).toMatchObject({ expected: 60, received: 54, timed: 54, on_time: 54, delay_p50_ms: 30 * S, delay_p95_ms: 60 * S });

    written = [];
    const b = stage();
    counts = [{ time: T0, site: 's1', line: 'l1', device: 'd1', count_power_kw: 54 }]; // what InfluxDB holds
    await b.restore();
    b.accept(batch(9, minute(9))); // the broker redelivers the last message
    await b.flush();
    expect(devicePoint(T0).fields).toEqual({ ...before, duplicates: 6, duplicate_messages: 1 });
    expect(b.statusOf('s1')[0]).toMatchObject({ device: 'd1', missingMessages: 1, intervalMs: 10 * S });
  });

  it('after a crash, samples stored since the last flush are recounted from InfluxDB (received, not timed)', async () => {
    const a = stage();
    await a.restore();
    for (let k = 0; k < 10; k++) {
      now = T0 + (k + 1) * MIN;
      a.accept(batch(k, minute(k)));
      if (k === 4) await a.flush();
    }
    // The burst's device states are saved in one microtask queued by the first accept, which in
    // the platform runs before any of these messages is acknowledged.
    await Promise.resolve();
    // Crash: no stop, no flush. InfluxDB holds all 60 samples.
    counts = [{ time: T0, site: 's1', line: 'l1', device: 'd1', count_power_kw: 60, count_bad: 2 }];
    written = [];
    const b = stage();
    await b.restore();
    b.accept(batch(9, minute(9))); // redelivered: its seq was saved with it, so a duplicate
    await b.flush();
    expect(devicePoint(T0).fields).toMatchObject({ received: 60, timed: 30, on_time: 30, duplicates: 6, timeliness_pct: 100 });
  });

  it('rebuilds devices and received counts from InfluxDB alone when local state is lost', async () => {
    now = T0 + 2 * HOUR;
    counts = [{ time: T0, site: 's1', line: 'l1', device: 'd9', count_power_kw: 300 }];
    const b = stage();
    await b.restore();
    await b.flush();
    expect(written.find((p) => p.tags.level === 'device' && p.tags.device === 'd9' && p.ts === T0)?.fields).toMatchObject({ received: 300 });
    const failing = stage({ available: true, query: async () => Promise.reject(new Error('down')) });
    await expect(failing.restore()).resolves.toBeUndefined(); // starts from local state, says so in the log
  });
});

describe('QualityStage: restart from a state saved in the older form', () => {
  it('a device state with null for times not yet happened (and fields missing) restores as the same state saved now', async () => {
    const root = dir;
    // The form every release has saved after d1's first message: null for what has not happened.
    const oldForm = { seq: { epoch: 0, highest: 0, gaps: [] }, lastSeq: { epoch: 0, seq: 0 }, spacings: [10 * S, 10 * S, 10 * S, 10 * S, 10 * S], firstTs: T0, newestTs: T0 + 50 * S, prevTs: T0 + 50 * S, firstHeard: T0 + MIN, lastArrival: T0 + MIN, status: null, statusAt: null, statusReason: null, gateway: null, lastAdvance: T0 + MIN, tooLate: 0, abandoned: 0 };
    // d2 was rebuilt from InfluxDB counts alone (local state lost), so never heard here yet.
    const d2 = { site: 's1', line: 'l1', device: 'd2' };
    const d2OldForm = { seq: { epoch: 0, highest: null, gaps: [] }, lastSeq: null, spacings: [], firstTs: T0, newestTs: T0, prevTs: null, firstHeard: null, lastArrival: null, status: null, statusAt: null, statusReason: null, gateway: null, lastAdvance: null, tooLate: 0, abandoned: 0 };
    counts = [{ time: T0, site: 's1', line: 'l1', device: 'd2', count_power_kw: 30 }];
    try {
      dir = join(root, 'now');
      mkdirSync(dir);
      const a = stage();
      await a.restore();
      counts = [];
      now = T0 + MIN;
      a.accept(batch(0, minute(0)));
      await Promise.resolve(); // the burst's save
      const saved = () => new Map(stores.at(-1)!.devices().map((d) => [d.ref.device, d.state]));
      expect(saved().get('d1')).toEqual(oldForm); // saved as before: null, not -Infinity
      expect(a.exportDevice('s1/l1/d1')!).toMatchObject({ state: { statusAt: null, status: null } });
      now = T0 + 3 * MIN;
      await a.flush();
      expect(saved().get('d2')).toEqual(d2OldForm);
      await a.stop();

      // The same local state, its device row as an older release wrote it.
      cpSync(join(root, 'now'), join(root, 'old'), { recursive: true });
      dir = join(root, 'old');
      const { tooLate: _t, abandoned: _a, ...olderStill } = oldForm; // fields an older form lacked take their first values
      // As JSON in `state`, the form every release before device-state-row.ts saved.
      const db = new Database(join(dir, 'quality.sqlite'));
      const asJson = db.prepare("UPDATE quality_device SET state = ?, packed = NULL, gaps = NULL, status = NULL, status_reason = NULL, gateway = NULL WHERE key = ?");
      asJson.run(JSON.stringify(olderStill), 's1/l1/d1');
      asJson.run(JSON.stringify(d2OldForm), 's1/l1/d2');
      db.close();

      // Both go on from their saved state with the same messages: the same figures and status.
      const results = [];
      for (const sub of ['now', 'old']) {
        dir = join(root, sub);
        written = [];
        now = T0 + 3 * MIN;
        const b = stage({ available: false, query: async () => [] });
        await b.restore();
        expect(b.statusOf('s1')).toMatchObject([
          { device: 'd1', online: true, offlineSince: null, lastSeen: T0 + MIN, lastSampleTs: T0 + 50 * S, intervalMs: 10 * S },
          { device: 'd2', online: true, lastSeen: null, lastSampleTs: T0, intervalMs: null },
        ]);
        expect(b.counts().devices).toBe(1); // d2 is not watched before it is heard
        for (let k = 1; k < 10; k++) {
          now = T0 + (k + 3) * MIN;
          b.accept(batch(k, minute(k)));
          if (k >= 5) b.accept({ ...d2, seq: k, samples: minute(k) });
        }
        b.accept(batch(3, minute(3))); // redelivered
        expect(b.counts().devices).toBe(2);
        now = T0 + 20 * MIN;
        b.tick();
        await b.flush();
        const fields = (device: string) => written.filter((p) => p.tags.level === 'device' && p.tags.device === device && p.tags.window === '1h' && p.ts === T0).at(-1)!.fields;
        results.push({ fields: fields('d1'), d2: fields('d2'), status: b.statusOf('s1'), saved: b.exportDevice('s1/l1/d1') });
        await b.stop();
      }
      expect(results[0]!.fields).toMatchObject({ received: 60, duplicates: 6, duplicate_messages: 1 });
      expect(results[0]!.d2).toMatchObject({ received: 60, timed: 30 });
      expect(results[0]!.status[1]).toMatchObject({ device: 'd2', online: false, offlineReason: 'silent', lastSeen: T0 + 12 * MIN, intervalMs: 10 * S });
      expect(results[1]).toEqual(results[0]);
    } finally {
      dir = root;
    }
  });
});

describe('QualityStage: restart of one of several workers (restored devices parked)', () => {
  it('writes no figures, status or alerts for restored devices until their data, status or handed-over state comes here', async () => {
    now = T0 + 2 * HOUR;
    // Another worker accounts d9 and d8 (timed); this one's restart recounts them from InfluxDB (received only).
    counts = [
      { time: T0, site: 's1', line: 'l1', device: 'd9', count_power_kw: 300 },
      { time: T0, site: 's1', line: 'l1', device: 'd8', count_power_kw: 200 },
      { time: T0, site: 's1', line: 'l1', device: 'd7', count_power_kw: 100 },
    ];
    const b = stage(undefined, true);
    await b.restore();
    await b.flush();
    expect(written.filter((p) => p.tags.level === 'device')).toEqual([]);
    expect(b.statusOf('s1')).toEqual([]);
    expect(b.counts().devices).toBe(0);

    // d8 handed over with its state: 150 samples, timed by the other worker, which stored 50 more
    // after it saved that state. The state replaces the recount, but storage's 200 count as received.
    const handed = { counts: { received: 150, duplicates: 0, outOfOrder: 0, duplicateMessages: 0, lateMessages: 0, timed: 150, onTime: 150, onlineMs: 0, observedMs: 0, intervalMs: null }, delays: [[30 * S, 150]], timesComplete: true, timesReleased: true };
    // d7's data comes here (no saved state): it goes on from the recount.
    b.accept({ site: 's1', line: 'l1', device: 'd7', seq: 1, samples: [{ ts: T0 + HOUR + MIN, m: { power_kw: 1 } }] });
    b.importDevice({ ref: { site: 's1', line: 'l1', device: 'd8' }, state: { ...initialDeviceState(), firstTs: T0, newestTs: T0 + 59 * MIN }, windows: [{ start: T0, state: JSON.stringify(handed), times: null }] });
    await b.flush();
    const devices = new Set(written.filter((p) => p.tags.level === 'device').map((p) => p.tags.device));
    expect([...devices].sort()).toEqual(['d7', 'd8']);
    expect(written.find((p) => p.tags.level === 'device' && p.tags.device === 'd7' && p.ts === T0)?.fields).toMatchObject({ received: 100, timed: 0 });
    expect(written.find((p) => p.tags.level === 'device' && p.tags.device === 'd8' && p.ts === T0)?.fields).toMatchObject({ received: 200, timed: 150, on_time: 150 });
    // A parked device handed over elsewhere is forgotten like any other.
    expect(b.forgetDevice('s1/l1/d9')).toBe(true);
    expect(b.forgetDevice('s1/l1/d9')).toBe(false);
  });
});

describe('QualityStage: restart after downtime', () => {
  it('silence counts from the restart, not from before the downtime; downtime is not watched', async () => {
    const a = stage({ available: false, query: async () => [] });
    await a.restore();
    now = T0 + MIN;
    a.accept(batch(0, minute(0)));
    now = T0 + 3 * MIN;
    await a.stop();
    now = T0 + 3 * HOUR; // the platform was down for hours; the device's messages wait in the broker
    const b = stage({ available: false, query: async () => [] });
    await b.restore();
    events = [];
    b.tick();
    expect(b.statusOf('s1')[0]).toMatchObject({ online: true, lastSeen: T0 + MIN });
    now += 2 * MIN + 1; // nothing came within the silence limit after the restart
    b.tick();
    expect(b.statusOf('s1')[0]).toMatchObject({ online: false, offlineReason: 'silent', offlineSince: T0 + 3 * HOUR + 2 * MIN });
    await b.flush();
    // Watched 00:01–00:03 before (online 2 min), nothing while down, then 2 min online + 1 ms in hour 3.
    const h0 = written.filter((p) => p.tags.level === 'device' && p.tags.window === '1h' && p.ts === T0).at(-1)!;
    expect(h0.fields).toMatchObject({ observed_ms: 2 * MIN, online_ms: 2 * MIN });
    const h3 = written.filter((p) => p.tags.level === 'device' && p.tags.window === '1h' && p.ts === T0 + 3 * HOUR).at(-1)!;
    expect(h3.fields).toMatchObject({ observed_ms: 2 * MIN + 1, online_ms: 2 * MIN });
  });
});

describe('QualityStage: data alerts', () => {
  it('device offline ≥ 10 min raises, back online clears; site completeness over the last closed hour', async () => {
    const s = stage({ available: false, query: async () => [] });
    await s.restore();
    now = T0 + MIN;
    s.tick();
    s.accept(batch(0, minute(0)));
    s.status({ site: 's1', line: '_gateway', device: 'gw-1' }, Buffer.from(JSON.stringify({ state: 'online', gateway: 'gw-1', devices: ['l1/d1'] })));
    events = [];
    now = T0 + MIN + 2 * MIN + 10 * MIN - 1; // silent since 00:03, one ms short of 10 min
    s.tick();
    expect(events.filter((e) => e.rule === 'device-offline' && e.kind === 'raise')).toEqual([]);
    now += 1;
    s.tick();
    expect(events.filter((e) => e.kind === 'raise').map((e) => `${e.device} ${e.rule} ${e.value}`)).toEqual(['d1 device-offline 10']);
    events = [];
    now = T0 + 62 * MIN; // hour 0 closed (at 01:01): 6 of 360 samples
    s.accept(batch(1, minute(61)));
    s.tick();
    expect(events.map((e) => `${e.kind} ${e.site}/${e.line}/${e.device} ${e.rule}`).sort()).toEqual(['clear s1/l1/d1 device-offline', 'raise s1/_site/_site site-completeness-low']);
    const site = events.find((e) => e.rule === 'site-completeness-low')!;
    expect(site.value).toBeCloseTo((100 * 6) / 360, 10);
    expect(site.category).toBe('data');
  });

  it('gateway upload delay p95 over a period above the limit raises, a good period clears', async () => {
    const s = stage({ available: false, query: async () => [] });
    await s.restore();
    s.status({ site: 's1', line: 'l1', device: 'd1' }, Buffer.from(JSON.stringify({ state: 'online', gateway: 'gw-1' })));
    now = T0 + 30 * MIN;
    s.tick();
    s.accept(batch(0, minute(0))); // a backlog: delays 29–30 min
    now = T0 + 35 * MIN;
    events = [];
    s.tick();
    expect(events.filter((e) => e.kind === 'raise').map((e) => `${e.site}/${e.line}/${e.device} ${e.rule} ${e.value} ${e.threshold}`)).toEqual(['s1/_gateway/gw-1 upload-delay-high 1800 120']);
    s.accept(batch(1, minute(34))); // live again: 10–60 s
    now = T0 + 40 * MIN;
    events = [];
    s.tick();
    expect(events.filter((e) => e.rule === 'upload-delay-high').map((e) => `${e.kind} ${e.value}`)).toEqual(['clear 60']);
  });

  it('with device alerts only (workers sharing the devices), a site\'s completeness and a gateway\'s delay raise nothing; a device\'s own do', async () => {
    const s = stage({ available: false, query: async () => [] }, true, true);
    await s.restore();
    s.status({ site: 's1', line: 'l1', device: 'd1' }, Buffer.from(JSON.stringify({ state: 'online', gateway: 'gw-1' })));
    now = T0 + 30 * MIN;
    s.tick();
    s.accept(batch(0, minute(0))); // a backlog through gw-1: delays 29–30 min
    s.accept({ site: 's1', line: 'l1', device: 'd2', seq: 0, samples: minute(0) }); // the same backlog, no gateway known
    now = T0 + 35 * MIN;
    s.tick();
    now = T0 + 62 * MIN; // hour 0 closed: 6 of 360 samples per device; both silent for 32 min
    s.tick();
    // Each raised alert (a condition that holds is raised again every REPEAT_MS).
    expect([...new Set(events.filter((e) => e.kind === 'raise').map((e) => `${e.site}/${e.line}/${e.device} ${e.rule}`))].sort()).toEqual([
      's1/l1/d1 device-offline',
      's1/l1/d2 device-offline',
      's1/l1/d2 upload-delay-high',
    ]);
  });
});

describe('QualityStage: a flush with many devices', () => {
  const fleet = (n: number) => Array.from({ length: n }, (_, i) => ({ site: `s${i % 4}`, line: 'l1', device: `d${i}`, seq: 0, samples: minute(0) }));

  it('lets the event loop run between slices of devices, and writes the same figures as one piece would', async () => {
    const s = stage();
    await s.restore();
    for (const b of fleet(1000)) s.accept(b);
    now = T0 + 5 * MIN;
    const store = stores.at(-1)!;
    const saves: (number | null)[] = [];
    const saveAll = store.saveAll.bind(store);
    store.saveAll = (windows, devices, dropBefore) => {
      saves.push(dropBefore);
      saveAll(windows, devices, dropBefore);
    };
    let turns = 0;
    let flushing = true;
    const spin = () => {
      turns++;
      if (flushing) setImmediate(spin);
    };
    setImmediate(spin);
    await s.flush();
    flushing = false;
    // 1,000 devices: four slices saved (one transaction each, the last dropping old windows),
    // then each of the two rollups (the hour, the day) in four slices: turns in between.
    expect(saves).toHaveLength(4);
    expect(saves.slice(0, 3)).toEqual([null, null, null]);
    expect(saves[3]).toBeTypeOf('number');
    expect(turns).toBeGreaterThanOrEqual(9);
    const devices = written.filter((p) => p.tags.level === 'device' && p.tags.window === '1h');
    expect(devices).toHaveLength(1000);
    expect(devices.every((p) => p.fields.received === 6)).toBe(true);
    const sites = written.filter((p) => p.tags.level === 'site' && p.tags.window === '1h');
    expect(sites.map((p) => [p.tags.site, p.fields.received])).toEqual([['s0', 1500], ['s1', 1500], ['s2', 1500], ['s3', 1500]]);
  });

  it('a device forgotten while a flush runs is neither saved again nor written', async () => {
    const s = stage();
    await s.restore();
    for (const b of fleet(600)) s.accept(b);
    now = T0 + 5 * MIN;
    const flushed = s.flush();
    await new Promise((r) => setImmediate(r)); // the first slice is saved; d599 is in the last
    expect(s.forgetDevice('s3/l1/d599')).toBe(true);
    await flushed;
    expect(written.some((p) => p.tags.device === 'd599')).toBe(false);
    expect(written.filter((p) => p.tags.level === 'device' && p.tags.window === '1h')).toHaveLength(599);
    const db = new Database(join(dir, 'quality.sqlite'), { readonly: true });
    try {
      expect(db.prepare("SELECT count(*) AS n FROM quality_window WHERE key = 's3/l1/d599'").get()).toEqual({ n: 0 });
      expect(db.prepare("SELECT count(*) AS n FROM quality_device WHERE key = 's3/l1/d599'").get()).toEqual({ n: 0 });
      expect(db.prepare("SELECT count(*) AS n FROM quality_device WHERE key = 's2/l1/d598'").get()).toEqual({ n: 1 });
    } finally {
      db.close();
    }
  });
});
