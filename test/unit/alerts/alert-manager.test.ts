import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AlertManager, AlertStore, alertPoint, DEFAULT_ALERT_OPTIONS, type AlertManagerOptions } from '../../../src/alerts/index.js';
import type { AnomalyEvent } from '../../../src/alerts/types.js';

const T0 = Date.UTC(2026, 10, 29, 8, 0, 0);
const MIN = 60_000;

function ev(kind: 'raise' | 'clear', ts: number, value = 100, over: Partial<AnomalyEvent> = {}): AnomalyEvent {
  return {
    kind,
    ts,
    value,
    threshold: 95,
    message: { en: `temperature ${value}`, zh: `温度 ${value}` },
    site: 's1',
    line: 'l1',
    device: 'd1',
    rule: 'temperature-high',
    metric: 'temperature_c',
    category: 'safety',
    severity: 'critical',
    ...over,
  };
}

let clockNow = T0;
const clock = () => clockNow;
const stores: AlertStore[] = [];
function manager(opts: Partial<AlertManagerOptions> = {}, store = new AlertStore(':memory:')) {
  stores.push(store);
  return { m: new AlertManager(store, { ...DEFAULT_ALERT_OPTIONS, ...opts }, clock), store };
}
afterEach(() => {
  for (const s of stores.splice(0)) {
    try {
      s.close();
    } catch {
      /* already closed */
    }
  }
  clockNow = T0;
});

describe('AlertManager', () => {
  it('opens once, updates count, last seen and peak, and resolves on clear', () => {
    const { m } = manager();
    const opened = m.handle([ev('raise', T0, 97)]);
    expect(opened.map((t) => t.type)).toEqual(['opened']);
    const updated = m.handle([ev('raise', T0 + 1000, 103), ev('raise', T0 + 2000, 99)]);
    expect(updated.map((t) => t.type)).toEqual(['updated', 'updated']);
    const a = m.get(opened[0]!.alert.id)!;
    expect(a).toMatchObject({ state: 'open', count: 3, lastSeen: T0 + 2000, value: 99, peak: 103, openedAt: T0 });
    const resolved = m.handle([ev('clear', T0 + 5000, 93)]);
    expect(resolved).toHaveLength(1);
    expect(resolved[0]).toMatchObject({ type: 'resolved', ts: T0 + 5000, reason: 'cleared' });
    expect(m.get(a.id)).toMatchObject({ state: 'resolved', resolvedAt: T0 + 5000, count: 3 });
    expect(m.openCount).toBe(0);
  });

  it('peak follows the direction of a low-limit episode (the lowest value)', () => {
    const { m } = manager();
    const [t] = m.handle([ev('raise', T0, 0.8, { threshold: 0.85, rule: 'pf-low', metric: 'power_factor' }), ev('raise', T0 + 1, 0.7, { threshold: 0.85, rule: 'pf-low', metric: 'power_factor' }), ev('raise', T0 + 2, 0.82, { threshold: 0.85, rule: 'pf-low', metric: 'power_factor' })]);
    expect(m.get(t!.alert.id)!.peak).toBe(0.7);
  });

  it('keeps exactly one open alert per key when the same events are replayed, and the ids agree', () => {
    const events = [ev('raise', T0), ev('raise', T0 + 10), ev('raise', T0 + 20)];
    const { m, store } = manager();
    m.handle(events);
    // A replay of the same events (at-least-once delivery, a restart re-reading unacknowledged messages).
    expect(m.handle(events)).toEqual([]);
    expect(store.query({})).toHaveLength(1);
    expect(store.query({})[0]!.count).toBe(3);
    // A second instance seeing the same data mints the same id.
    const other = manager();
    other.m.handle(events);
    expect(other.store.query({})[0]!.id).toBe(store.query({})[0]!.id);
  });

  it('a replay of an episode already resolved does not reopen it', () => {
    const { m, store } = manager();
    m.handle([ev('raise', T0), ev('raise', T0 + 10), ev('clear', T0 + 20)]);
    expect(m.handle([ev('raise', T0 + 5), ev('raise', T0 + 10)])).toEqual([]);
    expect(store.query({})).toHaveLength(1);
    // A genuinely new episode after the resolution opens a new alert.
    expect(m.handle([ev('raise', T0 + 30)]).map((t) => t.type)).toEqual(['opened']);
    expect(store.query({ state: 'open' })).toHaveLength(1);
    expect(store.query({})).toHaveLength(2);
  });

  it('the database itself refuses a second open alert for a key', () => {
    const { m, store } = manager();
    const [t] = m.handle([ev('raise', T0)]);
    expect(() => store.save({ ...t!.alert, id: 'another-id' })).toThrow(/UNIQUE/);
  });

  it('survives a restart: open alerts are reloaded, and keep deduplicating', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pp-alerts-'));
    try {
      const path = join(dir, 'alerts.sqlite');
      const first = manager({}, new AlertStore(path));
      first.m.handle([ev('raise', T0), ev('raise', T0 + 1000)]);
      first.store.close();
      const second = manager({}, new AlertStore(path));
      expect(second.m.openCount).toBe(1);
      expect(second.m.handle([ev('raise', T0 + 1000)])).toEqual([]);
      expect(second.m.handle([ev('raise', T0 + 2000)]).map((t) => t.type)).toEqual(['updated']);
      expect(second.m.handle([ev('clear', T0 + 3000)]).map((t) => t.type)).toEqual(['resolved']);
      expect(second.store.query({})).toMatchObject([{ state: 'resolved', count: 3 }]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('damps flapping: the Nth episode in the window is held open until the condition stays clear', () => {
    const { m, store } = manager({ flapThreshold: 3, flapWindowMs: 10 * MIN, flapQuietMs: 5 * MIN });
    m.handle([ev('raise', T0), ev('clear', T0 + MIN)]);
    m.handle([ev('raise', T0 + 2 * MIN), ev('clear', T0 + 3 * MIN)]);
    const third = m.handle([ev('raise', T0 + 4 * MIN)]);
    expect(third[0]!.alert.flapping).toBe(true);
    // Clear, raise, clear again: no new alerts, no resolution yet.
    clockNow = T0 + 7 * MIN;
    const churn = m.handle([ev('clear', T0 + 5 * MIN), ev('raise', T0 + 6 * MIN), ev('clear', T0 + 7 * MIN)]);
    expect(churn.map((t) => t.type)).toEqual(['updated', 'updated', 'updated']);
    expect(store.query({})).toHaveLength(3);
    expect(m.tick()).toEqual([]);
    clockNow = T0 + 11 * MIN; // quiet period counts from the last change (wall clock)
    expect(m.tick()).toEqual([]);
    clockNow = T0 + 12 * MIN;
    const resolved = m.tick();
    expect(resolved).toHaveLength(1);
    expect(resolved[0]).toMatchObject({ type: 'resolved', ts: T0 + 7 * MIN, reason: 'cleared' });
    expect(store.query({ state: 'open' })).toHaveLength(0);
  });

  it('resolves an alert nothing was heard about for too long as stale', () => {
    const { m } = manager({ staleAfterMs: 30 * MIN });
    const [t] = m.handle([ev('raise', T0)]);
    clockNow = T0 + 29 * MIN;
    expect(m.tick()).toEqual([]);
    clockNow = T0 + 30 * MIN;
    expect(m.tick()).toMatchObject([{ type: 'resolved', reason: 'stale', ts: T0 }]);
    expect(m.get(t!.alert.id)!.state).toBe('resolved');
  });

  it('acknowledges once; unknown ids are null', () => {
    const { m } = manager();
    const [t] = m.handle([ev('raise', T0)]);
    clockNow = T0 + 5000;
    const ack = m.acknowledge(t!.alert.id, 'li.wei', 'checking the cooling water');
    expect(ack?.transition).toMatchObject({ type: 'acknowledged', ts: T0 + 5000 });
    expect(ack?.alert).toMatchObject({ ackedAt: T0 + 5000, ackedBy: 'li.wei', ackNote: 'checking the cooling water', state: 'open' });
    expect(m.acknowledge(t!.alert.id, 'someone.else', null)?.transition).toBeNull();
    expect(m.get(t!.alert.id)!.ackedBy).toBe('li.wei');
    expect(m.acknowledge('nope', 'x', null)).toBeNull();
    // The acknowledgement is kept through later updates.
    m.handle([ev('raise', T0 + 6000)]);
    expect(m.get(t!.alert.id)!.ackedBy).toBe('li.wei');
  });

  it('filters in the query: state, site, category and overlap with a time range', () => {
    const { m } = manager();
    m.handle([ev('raise', T0), ev('clear', T0 + MIN)]);
    m.handle([ev('raise', T0 + 10 * MIN, 1, { site: 's2', rule: 'silence', category: 'sensor' })]);
    expect(m.query({ state: 'open' }).map((a) => a.site)).toEqual(['s2']);
    expect(m.query({ site: 's1' })).toHaveLength(1);
    expect(m.query({ category: 'sensor' })).toHaveLength(1);
    expect(m.query({ from: T0 + 2 * MIN }).map((a) => a.site)).toEqual(['s2']); // the s1 episode ended before
    expect(m.query({ to: T0 + 5 * MIN }).map((a) => a.site)).toEqual(['s1']); // the s2 one opened after
  });

  it('turns transitions into alert points, but not repeats', () => {
    const { m } = manager();
    const [opened] = m.handle([ev('raise', T0)]);
    const [updated] = m.handle([ev('raise', T0 + 1)]);
    expect(alertPoint(updated!)).toBeNull();
    expect(alertPoint(opened!)).toMatchObject({
      measurement: 'alert',
      tags: { site: 's1', line: 'l1', device: 'd1', rule: 'temperature-high', category: 'safety', severity: 'critical', transition: 'opened' },
      fields: { id: opened!.alert.id, value: 100, threshold: 95, count: 1 },
      ts: T0,
    });
  });
});
