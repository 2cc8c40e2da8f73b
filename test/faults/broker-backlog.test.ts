import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import type { DeviceRef, Sample } from '../../src/contract/index.js';
import { queryInfluxQL } from '../../src/storage/index.js';
import { GatewayPublisher } from '../../edge-agent/index.js';
import { startInfluxd, type InfluxdProcess } from '../support/influxd.js';
import { startMosquitto, type MosquittoProcess } from '../support/mosquitto.js';
import { scrapeMetric, spawnPlatform, type PlatformProcess } from '../support/platform.js';
import { waitFor } from '../support/ports.js';

const DB = 'broker_backlog';
/** The shipped window (PP_MQTT_RECEIVE_MAXIMUM and PP_MQTT_WINDOW_BYTES at their defaults). */
const WINDOW = loadConfig({}).mqtt.receiveMaximum;
const MESSAGES = 100_000;
const SAMPLES_PER_MESSAGE = 2;
const GATEWAYS = 4;
const DEVICES_PER_GATEWAY = 25;
/**
 * Peak RSS the platform may reach while it catches up. This process runs under tsx (idle RSS
 * ~170 MiB; the built platform's figures are the bench's); the commit before the window was
 * enforced held every queued message at once and did not even answer /readyz within 60 s here.
 */
const RSS_LIMIT_MIB = 400;

let influx: InfluxdProcess;
let mosquitto: MosquittoProcess;
let platform: PlatformProcess | null = null;

const env = () => ({ PP_MQTT_URL: mosquitto.url, PP_INFLUX_URL: influx.url, PP_INFLUX_DATABASE: DB, PP_MQTT_CLIENT_ID: 'pp-backlog', PP_LOG_LEVEL: 'warn' });

beforeAll(async () => {
  [influx, mosquitto] = await Promise.all([startInfluxd(), startMosquitto()]);
});
afterAll(async () => {
  await platform?.kill();
  await Promise.all([mosquitto?.stop(), influx?.stop()]);
});

const stored = async () => Number((await queryInfluxQL(influx.url, DB, 'SELECT count(power_kw) FROM telemetry'))[0]?.count ?? 0);

async function peakRssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmHWM:\s+(\d+) kB/m.exec(status)![1]) / 1024;
}

/** Publish `MESSAGES` messages from a few gateways; resolves with the samples the broker acknowledged. */
async function fillBacklog(): Promise<number> {
  const gateways = Array.from({ length: GATEWAYS }, (_, g) => {
    const site = `site-${g}`;
    const devices: DeviceRef[] = Array.from({ length: DEVICES_PER_GATEWAY }, (_, d) => ({ site, line: 'line-1', device: `dev-${d}` }));
    return { devices, gw: new GatewayPublisher({ brokerUrl: mosquitto.url, gatewayId: `backlog-${site}`, site, devices, maxInFlight: 2000 }) };
  });
  await Promise.all(gateways.map((g) => g.gw.connect()));
  const base = Date.now() - 3_600_000;
  let acked = 0;
  const perGateway = MESSAGES / GATEWAYS;
  await Promise.all(
    gateways.map(async ({ gw, devices }) => {
      const pending: Promise<void>[] = [];
      for (let n = 0; n < perGateway; n++) {
        const round = Math.floor(n / devices.length);
        // Distinct timestamps per device, so InfluxDB keeps every sample and the count is exact.
        const samples: Sample[] = Array.from({ length: SAMPLES_PER_MESSAGE }, (_, k) => ({ ts: base + round * SAMPLES_PER_MESSAGE + k, m: { power_kw: n + k / 10 } }));
        pending.push(gw.publish(devices[n % devices.length]!, samples).then(() => void (acked += samples.length)));
        if (pending.length >= 2000) await Promise.all(pending.splice(0));
      }
      await Promise.all(pending);
      await gw.stop();
    }),
  );
  return acked;
}

describe('a backlog queued in Mosquitto while the platform was down', () => {
  it('is caught up with at most the window in flight, bounded memory, and every sample stored', async () => {
    platform = await spawnPlatform(env()); // makes the persistent session
    await platform.kill('SIGTERM');
    platform = null;

    const t0 = Date.now();
    const sent = await fillBacklog();
    const fillS = (Date.now() - t0) / 1000;
    expect(sent).toBe(MESSAGES * SAMPLES_PER_MESSAGE);

    const t1 = Date.now();
    platform = await spawnPlatform(env());
    const url = platform.url;
    await waitFor(async () => (await stored()) >= sent, 90_000, `all ${sent} samples stored`, 500);
    const catchUpS = (Date.now() - t1) / 1000;
    // The platform's own high-water mark: it starts consuming before its HTTP port is up.
    const maxInflight = await scrapeMetric(url, 'pp_mqtt_inflight_messages_peak');
    const rss = await peakRssMiB(platform.child.pid!);
    const overruns = await scrapeMetric(url, 'pp_mqtt_window_overrun_messages_total');
    console.log(`backlog: ${MESSAGES} messages (${sent} samples) queued in ${fillS.toFixed(1)} s; caught up in ${catchUpS.toFixed(1)} s (${Math.round(sent / catchUpS)} samples/s incl. start); in flight max ${maxInflight} (window ${WINDOW}); peak RSS ${rss.toFixed(0)} MiB; broker overran the window by ${overruns} messages`);
    expect(await stored()).toBe(sent);
    expect(maxInflight).toBeGreaterThan(0);
    expect(maxInflight).toBeLessThanOrEqual(WINDOW);
    expect(rss).toBeLessThanOrEqual(RSS_LIMIT_MIB);
  });
});
