import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Platform } from '../../src/app/platform.js';
import { InfluxV2Sink, SinkError } from '../../src/storage/index.js';
import { publishBurst } from '../../edge-agent/index.js';
import { scrapeMetric, startTestPlatform } from '../support/platform.js';
import { waitFor } from '../support/ports.js';
import { startVictoriaMetrics, type VictoriaMetricsProcess } from '../support/victoria-metrics.js';

let vm: VictoriaMetricsProcess;
let platform: Platform;

beforeAll(async () => {
  vm = await startVictoriaMetrics();
  // The embedded broker too: this is the path `npm start` takes, with the 2.x API for storage.
  platform = await startTestPlatform({ PP_INFLUX_API: 'v2', PP_INFLUX_URL: vm.url, PP_INFLUX_TOKEN: 'test-token', PP_INFLUX_ORG: 'plant', PP_INFLUX_BUCKET: 'telemetry', PP_MQTT_EMBEDDED_PORT: '0' });
});
afterAll(async () => {
  await platform?.stop();
  await vm?.stop();
});

describe('InfluxDB 2.x write API (against VictoriaMetrics)', () => {
  it('stores HTTP-ingested samples with exact values and millisecond timestamps', async () => {
    const base = Date.now() - 600_000;
    const samples = Array.from({ length: 250 }, (_, i) => ({ ts: base + i * 1000 + 7, m: { power_kw: i / 4, temperature_c: Math.round((20 + i / 100) * 100) / 100 } }));
    const res = await fetch(`${platform.httpUrl}/api/v1/ingest/site-v/line-1/dev-1`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ seq: 0, samples }) });
    expect(res.status).toBe(200);
    const series = await vm.exportSeries('{__name__="telemetry_power_kw",site="site-v"}');
    expect(series).toHaveLength(1);
    expect(series[0]!.metric).toMatchObject({ site: 'site-v', line: 'line-1', device: 'dev-1' });
    expect(series[0]!.timestamps).toEqual(samples.map((s) => s.ts));
    expect(series[0]!.values).toEqual(samples.map((s) => s.m.power_kw));
    const temp = await vm.exportSeries('{__name__="telemetry_temperature_c",site="site-v"}');
    expect(temp[0]!.values).toEqual(samples.map((s) => s.m.temperature_c));
  });

  it('stores a simulated factory published through the embedded broker (MQTT 3.1.1)', async () => {
    const burst = await publishBurst({ brokerUrl: platform.mqttUrl, protocolVersion: 4, sites: 1, linesPerSite: 2, machinesPerLine: 5, seed: 3, samplesPerDevice: 120, samplesPerMessage: 12 });
    expect(burst.samples).toBe(1200);
    await waitFor(async () => (await scrapeMetric(platform.httpUrl, 'pp_samples_stored_total', { source: 'mqtt' })) >= burst.samples, 30_000, 'samples stored');
    const series = await vm.exportSeries('{__name__="telemetry_power_kw",site="site-01"}');
    expect(series).toHaveLength(10);
    expect(series.reduce((n, s) => n + s.values.length, 0)).toBe(1200);
    const key = 'site-01/line-02/m-003';
    const sent = burst.sent.get(key)!;
    const one = series.find((s) => `${s.metric.site}/${s.metric.line}/${s.metric.device}` === key)!;
    expect(one.timestamps).toEqual(sent.map((s) => s.ts));
    expect(one.values).toEqual(sent.map((s) => s.m.power_kw));
  });

  it('an unreachable server is a retryable error', async () => {
    const down = new InfluxV2Sink({ url: 'http://127.0.0.1:9', org: 'o', bucket: 'b', token: 't', timeoutMs: 2000 });
    const err = await down.write('telemetry,site=x power_kw=1').then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(SinkError);
    expect((err as SinkError).retryable).toBe(true);
  });
});
