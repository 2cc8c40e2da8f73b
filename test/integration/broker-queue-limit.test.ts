import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedBroker } from '../../src/broker/index.js';
import { createLogger } from '../../src/observability/index.js';
import { BROKER_STAT_TOPICS, BrokerStatsWatcher } from '../../src/sources/mqtt/broker-stats.js';
import { queryInfluxQL } from '../../src/storage/index.js';
import { startInfluxd, type InfluxdProcess } from '../support/influxd.js';
import { startMosquitto, type MosquittoProcess } from '../support/mosquitto.js';
import { scrapeMetric, spawnPlatform, startTestPlatform, type PlatformProcess } from '../support/platform.js';
import { freePort, waitFor } from '../support/ports.js';
import { startVictoriaMetrics, type VictoriaMetricsProcess } from '../support/victoria-metrics.js';
import { startVmalert, type VmalertProcess } from '../support/vmalert.js';

/**
 * The broker's own queue limit, on real Mosquitto 2.0 with the shipped mosquitto.conf and a
 * tiny `max_queued_bytes`: messages beyond it are PUBACKed to the gateway and then dropped by
 * the broker, never reaching the platform. The platform cannot save them; it must say so
 * (pp_broker_dropped_messages, an error in its log, the shipped alert rule firing in a real
 * scraper and rule evaluator), and store everything the broker kept.
 */
const DB = 'broker_queue_limit';
/** Bytes of payload the broker queues for a client at most: a few dozen of these messages. */
const QUEUE_BYTES = 4096;
/** A small window, so that the broker queues (and then drops) beyond it while the platform is held. */
const WINDOW = 10;

let influx: InfluxdProcess;
let mosquitto: MosquittoProcess;
let platform: PlatformProcess | null = null;
const clients: MqttClient[] = [];
let vm: VictoriaMetricsProcess | undefined;
let vmalert: VmalertProcess | undefined;
/** The shipped alert rules (deploy/prometheus/alerts.yml), evaluated as Prometheus would. */
const ALERT_RULES = fileURLToPath(new URL('../../deploy/prometheus/alerts.yml', import.meta.url));

beforeAll(async () => {
  [influx, mosquitto] = await Promise.all([
    startInfluxd(),
    // sys_interval 1: the broker's statistics every second instead of every 10 s.
    startMosquitto('sys_interval 1', { transform: (conf) => conf.replace(/^max_queued_bytes .*$/m, `max_queued_bytes ${QUEUE_BYTES}`) }),
  ]);
}, 60_000);
afterAll(async () => {
  for (const c of clients) c.end(true);
  if (platform) {
    platform.child.kill('SIGCONT');
    await platform.kill();
  }
  await vmalert?.stop();
  await Promise.all([mosquitto?.stop(), influx?.stop(), vm?.stop()]);
});

/** A Prometheus-compatible scraper of the platform every second, and the shipped rules evaluated on what it stores. */
async function startAlerting(platformUrl: string): Promise<{ vm: VictoriaMetricsProcess; vmalert: VmalertProcess }> {
  const dir = mkdtempSync(join(tmpdir(), 'pp-queue-limit-prom-'));
  const config = join(dir, 'prometheus.yml');
  writeFileSync(config, `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: plantpulse\n    static_configs:\n      - targets: ['${new URL(platformUrl).host}']\n`);
  // latencyOffset 1s: the rules see samples a second old (the default, 30 s, would hide the rise).
  const scraper = await startVictoriaMetrics([`-promscrape.config=${config}`, '-search.latencyOffset=1s']);
  return { vm: scraper, vmalert: await startVmalert(ALERT_RULES, scraper.url) };
}

async function client(clientId: string): Promise<MqttClient> {
  const c = mqtt.connect(mosquitto.url, { clientId, protocolVersion: 5, reconnectPeriod: 0 });
  clients.push(c);
  await new Promise<void>((resolve, reject) => {
    c.once('connect', () => resolve());
    c.once('error', reject);
  });
  return c;
}

/** The broker's dropped count as it publishes it, read by a client of our own (not the platform). */
async function brokerDropped(): Promise<() => number> {
  const c = await client(`queue-limit-observer-${clients.length}`);
  let dropped = -1;
  c.on('message', (_topic, payload) => (dropped = Number(payload.toString())));
  await c.subscribeAsync(BROKER_STAT_TOPICS.dropped, { qos: 0 });
  return () => dropped;
}

/** `count` one-sample messages from one gateway, each at its own timestamp; resolves once the broker PUBACKed them all. */
let nextTs = Date.now() - 3_600_000;
async function publish(gw: MqttClient, count: number): Promise<number> {
  await Promise.all(
    Array.from({ length: count }, (_, i) => {
      const ts = nextTs++;
      return gw.publishAsync(`pp/v1/site-q/line-1/dev-${i % 5}/metrics`, JSON.stringify({ seq: ts, samples: [{ ts, m: { power_kw: i } }] }), { qos: 1 });
    }),
  );
  return count;
}

const stored = async () => Number((await queryInfluxQL(influx.url, DB, 'SELECT count(power_kw) FROM telemetry'))[0]?.count ?? 0);

interface LogLine {
  level: number;
  component?: string;
  msg: string;
  droppedMessages?: number;
  brokerDroppedTotal?: number;
  sinceBrokerStart?: boolean;
}
const logLines = (p: PlatformProcess): LogLine[] =>
  p
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
const ERROR = 50;

describe("Mosquitto's queue limit, seen by the platform", () => {
  it('the normal case: the statistics arrive, nothing is dropped, nothing is logged as an error, everything is stored', async () => {
    platform = await spawnPlatform({ PP_MQTT_URL: mosquitto.url, PP_INFLUX_URL: influx.url, PP_INFLUX_DATABASE: DB, PP_MQTT_CLIENT_ID: 'pp-queue-limit', PP_MQTT_RECEIVE_MAXIMUM: String(WINDOW) });
    const url = platform.url;
    // The broker's store holds at least its own retained $SYS messages: a watcher that reads it sees more than 0.
    await waitFor(async () => (await scrapeMetric(url, 'pp_broker_stored_messages')) > 0, 15_000, 'pp_broker_stored_messages');
    expect(await scrapeMetric(url, 'pp_broker_stored_bytes')).toBeGreaterThan(0);
    const gw = await client('queue-limit-gw-1');
    // 40 messages of about 70 bytes: fewer than the queue holds even if the platform took none.
    const sent = await publish(gw, 40);
    await waitFor(async () => (await stored()) >= sent, 20_000, `${sent} samples stored`, 200);
    // Two more statistics intervals, for a drop to show if there were one.
    await new Promise((r) => setTimeout(r, 2500));
    expect(await stored()).toBe(sent);
    expect(await scrapeMetric(url, 'pp_broker_dropped_messages')).toBe(0);
    expect(logLines(platform).filter((l) => l.level >= ERROR)).toEqual([]);
  });

  it('messages the broker drops at its queue limit while the window is held: counted on /metrics within seconds, logged as an error once per rise, the shipped alert fires, and everything it kept is stored', async () => {
    const p = platform!;
    const before = await stored();
    const dropped = await brokerDropped();
    await waitFor(() => dropped() === 0, 5000, "the broker's dropped count (0)");
    ({ vm, vmalert } = await startAlerting(p.url));
    // The scraper has seen the count at 0 before the drops, and nothing fires.
    await vm.exportSeries('{__name__="pp_broker_dropped_messages"}', { minSamples: 2, timeoutMs: 20_000 });
    expect(await vmalert.firing()).toEqual([]);
    // The platform frozen (SIGSTOP) with its connection open: it reads nothing, so its window
    // stays full and the broker queues for it, up to max_queued_bytes, then drops.
    p.child.kill('SIGSTOP');
    let sent: number;
    try {
      const gw = await client('queue-limit-gw-2');
      sent = await publish(gw, 400); // every one PUBACKed to the gateway
      await waitFor(() => dropped() > 0, 10_000, 'the broker to drop messages');
      // The count is published once a second: let a publication that fell mid-burst be followed by the final one.
      await new Promise((r) => setTimeout(r, 2200));
    } finally {
      p.child.kill('SIGCONT');
    }
    expect(mosquitto.log()).toMatch(/Outgoing messages are being dropped for client pp-queue-limit/);
    const brokerCount = dropped();
    expect(brokerCount).toBeGreaterThan(0);
    expect(brokerCount).toBeLessThan(sent);

    // Seen by the platform within a few statistics intervals of its waking up.
    await waitFor(async () => (await scrapeMetric(p.url, 'pp_broker_dropped_messages')) === brokerCount, 15_000, `pp_broker_dropped_messages = ${brokerCount}`);
    const errors = () => logLines(p).filter((l) => l.level >= ERROR);
    const logged = () => errors().reduce((n, l) => n + (l.droppedMessages ?? 0), 0);
    await waitFor(() => logged() >= brokerCount, 5000, 'error lines for every dropped message');
    // One line per rise of the count (the broker publishes it once a second, not per message):
    // the burst took a second or two. Rises seen while running, not a count found at start.
    expect(errors().length).toBeGreaterThanOrEqual(1);
    expect(errors().length).toBeLessThanOrEqual(3);
    expect(logged()).toBe(brokerCount);
    for (const e of errors()) {
      expect(e).toMatchObject({ component: 'broker-stats' });
      expect(e.sinceBrokerStart).toBeUndefined();
      expect(e.msg).toMatch(/dropped \d+ message\(s\).*queue limit.*lost.*max_queued_bytes/);
    }
    expect(errors().at(-1)!.brokerDroppedTotal).toBe(brokerCount);

    // What the broker kept (queued or in flight) reaches storage: exactly the sent minus the dropped.
    const kept = sent - brokerCount;
    await waitFor(async () => (await stored()) - before >= kept, 30_000, `${kept} samples stored`, 200);
    await new Promise((r) => setTimeout(r, 1000));
    expect((await stored()) - before).toBe(kept);
    // The shipped alert fires, and reaches Alertmanager.
    await waitFor(async () => (await vmalert!.firing()).includes('PlantPulseBrokerDroppedMessages'), 30_000, 'the PlantPulseBrokerDroppedMessages alert', 500);
    await waitFor(() => vmalert!.notified().includes('PlantPulseBrokerDroppedMessages'), 10_000, 'the alert at Alertmanager');
    expect(await vmalert!.firing()).not.toContain('PlantPulseBrokerQueueGrowing');
    console.log(`queue limit ${QUEUE_BYTES} B, window ${WINDOW}: sent ${sent}, broker dropped ${brokerCount}, stored ${kept}`);
  });

  it('a platform started after the drops (as after an outage) reports the count the broker holds since it started, once', async () => {
    const brokerCount = await scrapeMetric(platform!.url, 'pp_broker_dropped_messages');
    expect(brokerCount).toBeGreaterThan(0);
    await platform!.kill('SIGTERM');
    platform = await spawnPlatform({ PP_MQTT_URL: mosquitto.url, PP_INFLUX_URL: influx.url, PP_INFLUX_DATABASE: DB, PP_MQTT_CLIENT_ID: 'pp-queue-limit', PP_MQTT_RECEIVE_MAXIMUM: String(WINDOW) });
    const p = platform;
    await waitFor(async () => (await scrapeMetric(p.url, 'pp_broker_dropped_messages')) === brokerCount, 15_000, `pp_broker_dropped_messages = ${brokerCount}`);
    await waitFor(() => logLines(p).some((l) => l.level >= ERROR), 5000, 'the error line');
    await new Promise((r) => setTimeout(r, 2200)); // two more publications of the same count: no more lines
    const errors = logLines(p).filter((l) => l.level >= ERROR);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ component: 'broker-stats', droppedMessages: brokerCount, brokerDroppedTotal: brokerCount, sinceBrokerStart: true });
    expect(errors[0]!.msg).toMatch(/since it started/);
  });
});

describe('a broker that publishes no $SYS statistics (aedes)', () => {
  it('the platform on its embedded broker starts no watcher: no pp_broker_* metric', async () => {
    const embedded = await startTestPlatform({ PP_MQTT_EMBEDDED_PORT: '0' });
    try {
      expect(embedded.embeddedBroker).toBe(true);
      const text = await (await fetch(`${embedded.httpUrl}/metrics`)).text();
      expect(text).toContain('pp_mqtt_connected 1');
      expect(text).not.toContain('pp_broker_');
    } finally {
      await embedded.stop();
    }
  });


  it('costs one info line: no warning, no error, the metrics at 0', async () => {
    const silent = createLogger('silent');
    const broker = await startEmbeddedBroker('127.0.0.1', await freePort(), silent);
    const lines: { level: number; msg: string }[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _enc, done) => void (lines.push(JSON.parse(chunk.toString()) as { level: number; msg: string }), done()) });
    const registry = new Registry();
    const watcher = new BrokerStatsWatcher({ url: broker.url, clientId: 'stats-on-aedes', silenceMs: 1500 }, registry, createLogger('debug', sink));
    try {
      watcher.start();
      await waitFor(() => lines.some((l) => l.level === 30), 5000, 'the info line');
      await new Promise((r) => setTimeout(r, 300));
      expect(lines.filter((l) => l.level >= 30).map((l) => [l.level, l.msg])).toEqual([[30, expect.stringMatching(/no queue statistics on \$SYS within 1.5 s.*cannot be seen/)]]);
      const metrics = await registry.getMetricsAsJSON();
      expect(metrics.filter((m) => m.name.startsWith('pp_broker_')).flatMap((m) => m.values.map((v) => v.value))).toEqual([0, 0, 0]);
    } finally {
      await watcher.stop();
      await broker.close();
    }
  });
});
