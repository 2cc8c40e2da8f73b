import { afterEach, describe, expect, it } from 'vitest';
import { AlertManager, AlertStore, DEFAULT_ALERT_OPTIONS } from '../../../src/alerts/index.js';
import type { AnomalyEvent } from '../../../src/alerts/types.js';

/**
 * A NATS worker holds open alerts only for the devices it owns (docs/scale-out.md, Hand-over):
 * none of a device's at start, the handed-over ones on claim, nothing judged after release.
 */
const T0 = Date.UTC(2026, 10, 29, 8, 0, 0);
const MIN = 60_000;
let now = T0;
const stores: AlertStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  now = T0;
});

function ev(kind: 'raise' | 'clear', ts: number, device = 'd1'): AnomalyEvent {
  return { kind, ts, value: 100, threshold: 95, message: { en: 'hot', zh: '热' }, site: 's1', line: 'l1', device, rule: 'temperature-high', metric: 'temperature_c', category: 'safety', severity: 'critical' };
}

const deviceAlertsOnly = (a: { line: string }) => a.line === '_gateway' || a.line === '_site';

function store(): AlertStore {
  const s = new AlertStore(':memory:');
  stores.push(s);
  return s;
}

describe('open alerts held only for owned devices', () => {
  it('a restarted worker holds no device alert from its store: none resolves as stale there', () => {
    const s = store();
    const before = new AlertManager(s, { ...DEFAULT_ALERT_OPTIONS, staleAfterMs: 10 * MIN }, () => now);
    before.handle([ev('raise', T0, 'd1'), ev('raise', T0, 'd2')]);
    const restarted = new AlertManager(s, { ...DEFAULT_ALERT_OPTIONS, staleAfterMs: 10 * MIN }, () => now, deviceAlertsOnly);
    expect(restarted.openCount).toBe(0);
    now += 60 * MIN;
    expect(restarted.tick()).toEqual([]);
    // d1 comes back to this worker with no state handed over: what its store has is held again.
    expect(restarted.loadOpenOf('s1', 'l1', 'd1')).toBe(1);
    expect(restarted.tick().map((t) => [t.alert.device, t.type, t.reason])).toEqual([['d1', 'resolved', 'stale']]);
  });

  it('a claim takes the handed-over alerts; what the store had open that the owner settled is removed, and a new episode opens', () => {
    const s = store();
    const mine = new AlertManager(s, DEFAULT_ALERT_OPTIONS, () => now);
    const old = mine.handle([ev('raise', T0)])[0]!.alert;
    mine.forget('s1', 'l1', 'd1'); // released: another worker resolved it meanwhile
    const restarted = new AlertManager(s, DEFAULT_ALERT_OPTIONS, () => now, deviceAlertsOnly);
    restarted.takeOver('s1', 'l1', 'd1', []);
    expect(s.get(old.id)).toBeNull();
    const [opened] = restarted.handle([ev('raise', T0 + 30 * MIN)]);
    expect(opened).toMatchObject({ type: 'opened' });
    expect(s.allOpen().map((a) => a.id)).toEqual([opened!.alert.id]);
  });

  it('the next owner of an alert keeps an acknowledgement heard while another worker held it', () => {
    const owner = new AlertManager(store(), DEFAULT_ALERT_OPTIONS, () => now);
    const alert = owner.handle([ev('raise', T0)])[0]!.alert;
    const other = new AlertManager(store(), DEFAULT_ALERT_OPTIONS, () => now, deviceAlertsOnly);
    // Not held there: recorded quietly (no transition to tell), kept for a hand-over.
    expect(other.acknowledgedElsewhere(alert.id, { ackedAt: T0 + MIN, ackedBy: 'operator', ackNote: null })).toBeNull();
    other.takeOver('s1', 'l1', 'd1', [alert]);
    expect(other.openFor(alert.key)).toMatchObject({ id: alert.id, ackedAt: T0 + MIN, ackedBy: 'operator' });
    // The owner hears it: a transition at the acknowledgement's own time; a second time, nothing.
    expect(owner.acknowledgedElsewhere(alert.id, { ackedAt: T0 + MIN, ackedBy: 'operator', ackNote: 'seen' })).toMatchObject({ type: 'acknowledged', ts: T0 + MIN, alert: { ackNote: 'seen' } });
    expect(owner.acknowledgedElsewhere(alert.id, { ackedAt: T0 + 2 * MIN, ackedBy: 'x', ackNote: null })).toBeNull();
  });

  it('acknowledging an alert that is not held does not start judging it', () => {
    const s = store();
    new AlertManager(s, DEFAULT_ALERT_OPTIONS, () => now).handle([ev('raise', T0)]);
    const m = new AlertManager(s, { ...DEFAULT_ALERT_OPTIONS, staleAfterMs: 10 * MIN }, () => now, deviceAlertsOnly);
    const id = s.allOpen()[0]!.id;
    expect(m.acknowledge(id, 'op', null)?.transition?.type).toBe('acknowledged');
    now += 60 * MIN;
    expect(m.tick()).toEqual([]);
  });
});
