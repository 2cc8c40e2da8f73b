import { describe, expect, it } from 'vitest';
import { AlertManager, AlertRaiser, AlertStore, DEFAULT_ALERT_OPTIONS, type AlertTransition } from '../../../src/alerts/index.js';
import { AnalyticsEngine } from '../../../src/analytics/index.js';
import { parseEnergyConfig } from '../../../src/analytics/energy/index.js';
import { parseRulesConfig } from '../../../src/analytics/rules/index.js';
import { createLogger, createMetrics } from '../../../src/observability/index.js';
import { AnalyticsStage } from '../../../src/pipeline/analytics-stage.js';

// A gateway that goes offline takes all its devices with it: their silence alerts are decided
// and saved together. One SQLite transaction each (an fsync each) kept a platform's thread busy
// for seconds when 5,000 devices' gateways stopped at once.
describe('AnalyticsStage.status: a gateway offline', () => {
  it('raises every one of its devices offline in one alert-store transaction', () => {
    const T0 = Date.UTC(2026, 0, 5, 8);
    let now = T0;
    const store = new AlertStore(':memory:');
    let transactions = 0;
    const transaction = store.transaction.bind(store);
    store.transaction = (fn) => {
      transactions++;
      return transaction(fn);
    };
    const heard: AlertTransition[] = [];
    const raiser = new AlertRaiser(new AlertManager(store, DEFAULT_ALERT_OPTIONS, () => now), { name: 'test', notify: (t) => void heard.push(...t) }, createMetrics());
    const stage = new AnalyticsStage(new AnalyticsEngine(parseRulesConfig({}), parseEnergyConfig({})), raiser, createMetrics(), createLogger('silent'), () => now);
    const devices = Array.from({ length: 50 }, (_, i) => ({ site: 's1', line: 'l1', device: `m${i}` }));
    for (const ref of devices) stage.process({ ...ref, seq: 0, samples: [{ ts: T0, m: { power_kw: 5 } }] });
    now = T0 + 1000;
    const before = transactions;
    stage.status({ kind: 'gateway', site: 's1', gateway: 'gw-1', state: 'offline', reason: 'connection lost', devices });
    expect(transactions - before).toBe(1);
    const opened = heard.filter((t) => t.type === 'opened');
    expect(opened).toHaveLength(50);
    expect(new Set(opened.map((t) => t.alert.device))).toEqual(new Set(devices.map((d) => d.device)));
    expect(store.allOpen()).toHaveLength(50);
    store.close();
  });
});
