import { readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { TelemetryBatch } from '../../../../src/contract/index.js';
import { createLogger } from '../../../../src/observability/index.js';
import { DataType, DeviceStatusRegistry, parseSparkplugMapping, SparkplugHost } from '../../../../src/sources/sparkplug/index.js';
import { createSparkplugMetrics } from '../../../../src/sources/sparkplug/sparkplug-metrics.js';
import { EdgeNodeMessages } from '../../../support/sparkplug-edge-node.js';

const section = readFileSync(new URL('../../../../docs/sparkplug.md', import.meta.url), 'utf8');
const mappingYaml = /```yaml\n([\s\S]*?)```/.exec(section)![1]!;

describe('docs/sparkplug.md worked example', () => {
  it('maps exactly as the page says', async () => {
    const batches: TelemetryBatch[] = [];
    const statuses: string[] = [];
    const registry = new DeviceStatusRegistry();
    const host = new SparkplugHost(
      { mapping: parseSparkplugMapping(mappingYaml), limits: { maxBytes: 1 << 20, maxSamples: 1000, maxMetricsPerSample: 256, maxFutureSkewMs: 300_000 }, reorderTimeoutMs: 2000, rebirthMinIntervalMs: 10_000 },
      {
        ingest: async (b) => void batches.push(b),
        account: () => undefined,
        publish: async (topic, payload) => void (topic.startsWith('pp/v1/') && statuses.push(`${topic} ${JSON.parse(String(payload)).state}`)),
        deadLetter: async (_t, _p, r) => {
          throw new Error(`unexpected rejection: ${JSON.stringify(r)}`);
        },
      },
      createSparkplugMetrics(new Registry(), registry),
      registry,
      createLogger('silent'),
    );
    const ts = Date.now() - 1000;
    const edge = new EdgeNodeMessages('Plant 1', 'Gateway A', 3);
    for (const m of [
      edge.nbirth([{ name: 'Cabinet/Temperature', datatype: DataType.Float, value: 31.5, properties: { engUnit: '°C' } }], ts),
      edge.dbirth(
        'Press 3',
        [
          { name: 'Power', alias: 1, datatype: DataType.Float, value: 41500, properties: { engUnit: 'W' } },
          { name: 'Meter/Energy', alias: 2, datatype: DataType.Double, value: 183220.4, properties: { engUnit: 'kWh' } },
          { name: 'Running', alias: 3, datatype: DataType.Boolean, value: true },
          { name: 'Mode', alias: 4, datatype: DataType.String, value: 'AUTO' },
        ],
        ts,
      ),
      edge.ddata('Press 3', [{ alias: 1, datatype: DataType.Float, value: 42100 }, { alias: 3, datatype: DataType.Boolean, value: false }], ts + 1000),
    ]) {
      await host.receive(m.topic, m.payload);
    }
    host.close();
    expect(batches.map((b) => [`${b.site}/${b.line}/${b.device}`, b.samples[0]!.m])).toEqual([
      ['plant-1/press-shop/_node', { cabinet_temperature: 31.5 }],
      ['plant-1/press-shop/press-3', { power_kw: 41.5, energy_kwh: 183220.4, running: 1 }],
      ['plant-1/press-shop/press-3', { power_kw: 42.1, running: 0 }],
    ]);
    expect(statuses).toEqual(['pp/v1/plant-1/press-shop/_node/status online', 'pp/v1/plant-1/press-shop/press-3/status online']);
  });
});
