import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Platform } from '../../src/app/platform.js';
import type { DeviceRef, Sample } from '../../src/contract/index.js';
import { queryInfluxQL } from '../../src/storage/index.js';
import { GatewayPublisher } from '../../edge-agent/index.js';
import { startInfluxd, type InfluxdProcess } from '../support/influxd.js';
import { startTestPlatform } from '../support/platform.js';
import { waitFor } from '../support/ports.js';

const DB = 'embedded_window';
const WINDOW = 100;
const MESSAGES = 10_000;

let influx: InfluxdProcess;
let platform: Platform;

beforeAll(async () => {
  influx = await startInfluxd();
  platform = await startTestPlatform({ PP_INFLUX_URL: influx.url, PP_INFLUX_DATABASE: DB, PP_MQTT_EMBEDDED_PORT: '0', PP_MQTT_RECEIVE_MAXIMUM: String(WINDOW) });
});
afterAll(async () => {
  await platform?.stop();
  await influx?.stop();
});

const stored = async () => Number((await queryInfluxQL(influx.url, DB, 'SELECT count(power_kw) FROM telemetry'))[0]?.count ?? 0);

describe('the embedded aedes broker (MQTT 3.1.1: no receive-maximum at all)', () => {
  it('sends as fast as it can; the platform still holds at most its window, and stores everything', async () => {
    const site = 'site-aedes';
    const devices: DeviceRef[] = Array.from({ length: 20 }, (_, d) => ({ site, line: 'line-1', device: `dev-${d}` }));
    const gw = new GatewayPublisher({ brokerUrl: platform.mqttUrl, gatewayId: 'aedes-burst', site, devices, protocolVersion: 4, maxInFlight: 1000 });
    await gw.connect();
    const base = Date.now() - 3_600_000;
    const pending: Promise<number>[] = [];
    for (let n = 0; n < MESSAGES; n++) {
      const samples: Sample[] = [{ ts: base + Math.floor(n / devices.length), m: { power_kw: n } }];
      pending.push(gw.publish(devices[n % devices.length]!, samples));
    }
    await Promise.all(pending);
    await gw.stop();
    await waitFor(async () => (await stored()) >= MESSAGES, 60_000, `all ${MESSAGES} samples stored`, 250);
    expect(await stored()).toBe(MESSAGES);
    const peak = platform.metrics.probes.mqttInflightPeak();
    const overrun = (await platform.metrics.mqttWindowOverruns.get()).values.reduce((a, v) => a + v.value, 0);
    console.log(`aedes: ${MESSAGES} messages, peak held ${peak} (window ${WINDOW}), ${overrun} sent beyond the window`);
    expect(overrun).toBeGreaterThan(0); // aedes does not limit what it sends us
    expect(peak).toBeGreaterThan(WINDOW / 2);
    expect(peak).toBeLessThanOrEqual(WINDOW);
  });
});
