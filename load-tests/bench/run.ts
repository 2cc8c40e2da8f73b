/**
 * `npm run bench`: first benchmarks (the full harness with ramps, limits and latency is the
 * benchmarks issue). Micro: decoder and line protocol on a realistic message. End-to-end: a
 * simulated fleet through real Mosquitto into the platform and a real influxd, counted in
 * InfluxDB. All traffic stays on 127.0.0.1; every loop is bounded. Results go to
 * load-tests/results/ as JSON and markdown.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { decodeMqttMessage } from '../../src/contract/index.js';
import { telemetryPoints } from '../../src/pipeline/index.js';
import { pointsToLineProtocol, queryInfluxQL } from '../../src/storage/index.js';
import { Plant, publishBurst } from '../../edge-agent/index.js';
import { startInfluxd } from '../../test/support/influxd.js';
import { startMosquitto } from '../../test/support/mosquitto.js';
import { startTestPlatform } from '../../test/support/platform.js';
import { waitFor } from '../../test/support/ports.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const say = (s: string) => process.stdout.write(`${s}\n`);

function micro() {
  const plant = new Plant({ sites: 1, linesPerSite: 1, machinesPerLine: 1, seed: 1 });
  const now = Date.now();
  const samples = Array.from({ length: 20 }, (_, i) => {
    plant.step(1000);
    return plant.sample(now - (20 - i) * 1000)[0]!.sample;
  });
  const payload = Buffer.from(JSON.stringify({ seq: 1, samples }));
  const topic = 'pp/v1/site-01/line-01/m-001/metrics';
  const runs: { decode: number; lineProtocol: number }[] = [];
  for (let r = 0; r < 5; r++) {
    let t = performance.now();
    let n = 0;
    while (performance.now() - t < 300) {
      decodeMqttMessage(topic, payload, undefined, now);
      n++;
    }
    const decode = (n * 20) / ((performance.now() - t) / 1000);
    const batch = decodeMqttMessage(topic, payload, undefined, now).batch!;
    t = performance.now();
    n = 0;
    while (performance.now() - t < 300) {
      pointsToLineProtocol(telemetryPoints(batch));
      n++;
    }
    runs.push({ decode, lineProtocol: (n * 20) / ((performance.now() - t) / 1000) });
  }
  return { payloadBytes: payload.length, decodeSamplesPerS: Math.round(median(runs.map((r) => r.decode))), lineProtocolSamplesPerS: Math.round(median(runs.map((r) => r.lineProtocol))) };
}

async function endToEnd(samplesPerDevice: number) {
  const [influx, mosquitto] = await Promise.all([startInfluxd(), startMosquitto()]);
  const platform = await startTestPlatform({ PP_MQTT_URL: mosquitto.url, PP_INFLUX_URL: influx.url, PP_INFLUX_DATABASE: 'bench', PP_MQTT_CLIENT_ID: 'pp-bench' });
  try {
    const started = performance.now();
    const progress = setInterval(async () => {
      const rows = await queryInfluxQL(influx.url, 'bench', 'SELECT count(power_kw) FROM telemetry').catch(() => []);
      say(`  … ${rows[0]?.count ?? 0} samples stored after ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }, 2000);
    const burst = await publishBurst({ brokerUrl: mosquitto.url, sites: 4, linesPerSite: 5, machinesPerLine: 5, seed: 2, samplesPerDevice, samplesPerMessage: 20, maxInFlight: 500 });
    const count = async () => Number((await queryInfluxQL(influx.url, 'bench', 'SELECT count(power_kw) FROM telemetry'))[0]?.count ?? 0);
    await waitFor(async () => (await count()) === burst.samples, 300_000, 'all samples stored', 100);
    clearInterval(progress);
    const seconds = (performance.now() - started) / 1000;
    return { devices: burst.perDevice.size, samples: burst.samples, messages: burst.messages, seconds: Number(seconds.toFixed(2)), samplesPerS: Math.round(burst.samples / seconds), messagesPerS: Math.round(burst.messages / seconds), lost: 0 };
  } finally {
    await platform.stop();
    await Promise.all([mosquitto.stop(), influx.stop()]);
  }
}

async function main() {
  say('micro: decoder and line protocol (median of 5 runs of 300 ms)');
  const m = micro();
  say(`  decode ${m.decodeSamplesPerS} samples/s, line protocol ${m.lineProtocolSamplesPerS} samples/s (message of 20 samples, ${m.payloadBytes} bytes)`);
  const perDevice = Number(process.env.PP_BENCH_SAMPLES_PER_DEVICE ?? 2000);
  say(`end-to-end: 100 simulated machines × ${perDevice} samples through Mosquitto → platform → influxd`);
  const e = await endToEnd(perDevice);
  say(`  ${e.samples} samples (${e.messages} messages) stored in ${e.seconds} s: ${e.samplesPerS} samples/s, ${e.messagesPerS} messages/s, none lost`);
  const results = { date: new Date().toISOString(), node: process.version, micro: m, endToEnd: e };
  await mkdir(new URL('../results/', import.meta.url), { recursive: true });
  await writeFile(new URL('../results/bench.json', import.meta.url), JSON.stringify(results, null, 2));
  const md = `| measure | value |\n|---|---|\n| decode (samples/s) | ${m.decodeSamplesPerS} |\n| line protocol (samples/s) | ${m.lineProtocolSamplesPerS} |\n| end-to-end stored (samples/s) | ${e.samplesPerS} |\n| end-to-end stored (messages/s) | ${e.messagesPerS} |\n| samples sent = stored | ${e.samples} = ${e.samples} |\n`;
  await writeFile(new URL('../results/bench.md', import.meta.url), md);
  say('results: load-tests/results/bench.json, bench.md');
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`bench failed: ${err.stack}\n`);
    process.exit(1);
  },
);
