import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchWriter, InfluxV2Sink, pointsToLineProtocol, type Point } from '../../../src/storage/index.js';
import { startVictoriaMetrics, type VictoriaMetricsProcess } from '../../support/victoria-metrics.js';

// The 2.x write path (InfluxV2Sink through @influxdata/influxdb-client's transport) against a
// real server for `/api/v2/write`: Debian's VictoriaMetrics, read back with /api/v1/export.
// How VictoriaMetrics maps points to series is described in test/support/victoria-metrics.ts.

let vm: VictoriaMetricsProcess;
let sink: InfluxV2Sink;
const base = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;

beforeAll(async () => {
  vm = await startVictoriaMetrics();
  sink = new InfluxV2Sink({ url: vm.url, org: 'plant', bucket: 'telemetry', token: 'test-token' });
});
afterAll(async () => {
  await vm?.stop();
});

describe('InfluxV2Sink against VictoriaMetrics', () => {
  it('connect() and ping() reach /health', async () => {
    await expect(sink.connect()).resolves.toBeUndefined();
    await expect(sink.ping()).resolves.toBeUndefined();
  });

  it('stores batched points with exact values and millisecond timestamps, one series per field', async () => {
    const devices = ['dev-1', 'dev-2', 'dev-3'];
    const n = 300;
    const writer = new BatchWriter(sink, { maxBatchLines: 250, flushIntervalMs: 5 });
    const sent = new Map<string, Point[]>();
    await Promise.all(
      devices.map((device, d) => {
        const tags = { site: 'site-v2', line: 'line-1', device };
        // Consecutive milliseconds: nothing may be merged or rounded away.
        const points = Array.from({ length: n }, (_, i): Point => ({ measurement: 'telemetry', tags, fields: { power_kw: i / 4 + d, temperature_c: Math.round((20 + i / 7) * 100) / 100, state: i % 4 }, ts: base + i }));
        sent.set(device, points);
        return writer.write(points);
      }),
    );
    await writer.close();

    const power = await vm.exportSeries('{__name__="telemetry_power_kw",site="site-v2"}', { minSamples: devices.length * n });
    expect(power.map((s) => s.metric).sort((a, b) => a.device!.localeCompare(b.device!))).toEqual(
      devices.map((device) => ({ __name__: 'telemetry_power_kw', site: 'site-v2', line: 'line-1', device })), // no org/bucket labels
    );
    for (const field of ['power_kw', 'temperature_c', 'state'] as const) {
      const series = await vm.exportSeries(`{__name__="telemetry_${field}",site="site-v2"}`, { minSamples: devices.length * n });
      for (const device of devices) {
        const one = series.find((s) => s.metric.device === device)!;
        const points = sent.get(device)!;
        expect(one.timestamps).toEqual(points.map((p) => p.ts));
        expect(one.values).toEqual(points.map((p) => p.fields[field]));
      }
    }
  });

  it('keeps escaped measurement names, field keys and tag values exactly', async () => {
    const tags = { site: 'a,b=c d', line: 'back\\slash', device: '工厂-1' };
    await sink.write(pointsToLineProtocol([{ measurement: 'lp test,m', tags, fields: { 'power kw': 1.25, 'a=b': 2 }, ts: base }]));
    const series = await vm.exportSeries('{__name__=~"lp test,m_.*"}', { minSamples: 2 });
    expect(series.map((s) => ({ ...s.metric })).sort((a, b) => a.__name__!.localeCompare(b.__name__!))).toEqual([
      { __name__: 'lp test,m_a=b', ...tags },
      { __name__: 'lp test,m_power kw', ...tags },
    ]);
    expect(series.map((s) => s.values[0]).sort()).toEqual([1.25, 2]);
  });

  it('stores booleans as 1 and 0', async () => {
    await sink.write(`flags,site=s on=true,off=false ${base}`);
    const series = await vm.exportSeries('{__name__=~"flags_.*"}', { minSamples: 2 });
    expect(Object.fromEntries(series.map((s) => [s.metric.__name__, s.values]))).toEqual({ flags_on: [1], flags_off: [0] });
  });

  it('answers 204 to a line it cannot parse, and drops it: why line protocol refuses ambiguous backslashes', async () => {
    // `t=end\` is what a tag value ending in a backslash looks like unescaped.
    await sink.write(`vm_bad,t=end\\ v=1 ${base}\nvm_good,t=x v=2 ${base}`);
    await vm.exportSeries('{__name__="vm_good_v"}', { minSamples: 1 });
    expect(await vm.exportSeries('{__name__="vm_bad_v"}', { minSamples: 0 })).toEqual([]);
    expect(vm.log()).toContain('vm_bad');
  });

  it('a retried batch (written twice) is stored once per timestamp', async () => {
    const batch = `replay,site=s v=1 ${base}\nreplay,site=s v=2 ${base + 1}`;
    await sink.write(batch);
    await sink.write(batch);
    const [series] = await vm.exportSeries('{__name__="replay_v"}', { minSamples: 2 });
    expect(series).toMatchObject({ timestamps: [base, base + 1], values: [1, 2] });
  });
});
