import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deviceStateFrom, initialDeviceState, NEVER, storedDeviceState, type DeviceState } from '../../../src/quality/device-state.js';
import { DeviceRowWriter, storedStateOfRow } from '../../../src/quality/device-state-row.js';
import { QualityStore } from '../../../src/quality/quality-store.js';

const T0 = Date.UTC(2026, 0, 5, 16);
const ref = (device: string) => ({ site: 's1', line: 'l1', device });

/** States with every kind of value a field can hold: times not yet happened, null seq, gaps, uneven spacings, strings. */
function states(): DeviceState[] {
  const steady = initialDeviceState();
  Object.assign(steady, { firstTs: T0, newestTs: T0 + 31_000, prevTs: T0 + 31_000, firstHeard: T0 + 5, lastArrival: T0 + 31_017.5, lastAdvance: T0 + 31_017.5 });
  steady.seq.highest = 31;
  steady.lastSeq = { epoch: 0, seq: 31 };
  steady.spacings.push(...Array.from({ length: 32 }, () => 1000)); // one sample a second

  const uneven = deviceStateFrom({
    seq: { epoch: 3, highest: 9_007_199_254_740_000, gaps: [{ from: 4, to: 9, at: T0 + 1 }, { from: 12, to: 12, at: T0 + 2.25 }] },
    lastSeq: { epoch: 3, seq: 9_007_199_254_740_000 },
    // 32 runs of one: every spacing differs from the one before.
    spacings: Array.from({ length: 32 }, (_, i) => (i % 2 === 0 ? 1000 + i : 0.125 * (i + 1))),
    firstTs: -5,
    newestTs: T0,
    prevTs: T0 - 1,
    firstHeard: T0,
    lastArrival: T0 + 7,
    status: 'offline',
    statusAt: T0 + 3,
    statusReason: 'power cut, 断电',
    gateway: 'gw-7',
    lastAdvance: T0 + 7,
    tooLate: 12,
    abandoned: 4_000_000,
  });

  const runs = initialDeviceState();
  runs.spacings.push(1000, 1000, 1000, 2000, 1000, 1000, 500);
  runs.status = 'online';
  runs.statusAt = T0;
  return [initialDeviceState(), steady, uneven, runs];
}

describe('a device state as a quality_device row', () => {
  it('reads back as exactly the stored form of the state (null for NEVER), field by field', () => {
    const writer = new DeviceRowWriter();
    for (const s of states()) {
      const row = writer.row(s);
      expect(storedStateOfRow(Buffer.from(row.packed), row.gaps, row.status, row.statusReason, row.gateway)).toEqual(storedDeviceState(s));
    }
  });

  it('keeps a steady device in 128 bytes of numbers, under a third of its JSON, with no gaps column', () => {
    const steady = states()[1]!;
    const row = new DeviceRowWriter().row(steady);
    expect(row.packed.length).toBe(128); // 14 numbers and one (spacing, repeats) run
    expect(row.gaps).toBeNull();
    expect(JSON.stringify(steady).length).toBeGreaterThan(3.5 * row.packed.length); // the form saved before
  });

  it('refuses a row it cannot read rather than restoring a wrong state', () => {
    const row = new DeviceRowWriter().row(states()[1]!);
    expect(() => storedStateOfRow(Buffer.from(row.packed).subarray(0, 100), null, null, null, null)).toThrow(/not one this release wrote/);
    const future = Buffer.from(row.packed);
    future.writeDoubleLE(2, 0);
    expect(() => storedStateOfRow(future, null, null, null, null)).toThrow(/format 2/);
  });
});

describe('QualityStore: device states', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pp-quality-row-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('saves several devices in one transaction (one reused buffer) and restores each exactly', () => {
    const store = new QualityStore(join(dir, 'q.sqlite'));
    const all = states().map((state, i) => ({ key: `s1/l1/d${i}`, ref: ref(`d${i}`), state }));
    store.saveDevices(all);
    store.close();

    const again = new QualityStore(join(dir, 'q.sqlite'));
    const byDevice = new Map(again.devices().map((d) => [d.ref.device, d.state]));
    again.close();
    for (const d of all) expect(byDevice.get(d.ref.device)).toEqual(storedDeviceState(d.state));
    // The state in columns, not as JSON.
    const db = new Database(join(dir, 'q.sqlite'), { readonly: true });
    const rows = db.prepare<[], { state: string; packed: Buffer | null }>('SELECT state, packed FROM quality_device').all();
    db.close();
    expect(rows.every((r) => r.state === '' && r.packed !== null)).toBe(true);
  });

  it('reads a state an earlier release saved as JSON, and saves over it in columns', () => {
    // A file as the earlier release left it: schema version 1, the state JSON in `state`.
    const path = join(dir, 'old.sqlite');
    const old = new Database(path);
    old.exec('CREATE TABLE quality_device (key TEXT PRIMARY KEY, site TEXT NOT NULL, line TEXT NOT NULL, device TEXT NOT NULL, state TEXT NOT NULL)');
    old.exec('CREATE TABLE quality_gateway (key TEXT PRIMARY KEY, state TEXT NOT NULL, at INTEGER NOT NULL)');
    old.exec('CREATE TABLE quality_window (key TEXT NOT NULL, start INTEGER NOT NULL, state TEXT NOT NULL, times BLOB, PRIMARY KEY (key, start))');
    old.pragma('user_version = 1');
    const uneven = states()[2]!;
    old.prepare('INSERT INTO quality_device (key, site, line, device, state) VALUES (?, ?, ?, ?, ?)').run('s1/l1/d2', 's1', 'l1', 'd2', JSON.stringify(uneven));
    old.close();

    const store = new QualityStore(path);
    const [restored] = store.devices();
    expect(restored!.state).toEqual(storedDeviceState(uneven));
    // Going on from it: the next save replaces the JSON.
    const state = deviceStateFrom(restored!.state);
    state.seq.highest! += 1;
    state.lastArrival = T0 + 60_000;
    state.prevTs = NEVER;
    store.saveDevice('s1/l1/d2', ref('d2'), state);
    expect(store.devices()).toEqual([{ ref: ref('d2'), state: storedDeviceState(state) }]);
    store.close();
  });
});
