/**
 * `npm run bench:soak`: the platform (its own process) under steady load for PP_SOAK_MINUTES
 * (default 30) at PP_SOAK_SAMPLES_PER_S (default 16,000: about half the end-to-end maximum that
 * `npm run bench` measures on a 2-core machine), with InfluxDB killed for 30 s every 5 minutes.
 * Samples the platform's RSS every 10 s, and at the end counts exactly: sent = stored.
 * Real Mosquitto and influxd on 127.0.0.1; bounded in time. Results: load-tests/results/soak.json.
 */
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { queryInfluxQL } from '../../src/storage/index.js';
import { startInfluxd } from '../../test/support/influxd.js';
import { startMosquitto } from '../../test/support/mosquitto.js';
import { spawnPlatform, scrapeMetric } from '../../test/support/platform.js';
import { waitFor } from '../../test/support/ports.js';
import { steadyLoad } from '../../test/support/steady-load.js';

const minutes = Number(process.env.PP_SOAK_MINUTES ?? 30);
const samplesPerS = Number(process.env.PP_SOAK_SAMPLES_PER_S ?? 16_000);
const outageEveryS = Number(process.env.PP_SOAK_OUTAGE_EVERY_S ?? 300);
const outageS = Number(process.env.PP_SOAK_OUTAGE_S ?? 30);
const say = (s: string) => process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${s}\n`);

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function main() {
  const [influx, mosquitto] = await Promise.all([startInfluxd(), startMosquitto()]);
  const platform = await spawnPlatform({ PP_MQTT_URL: mosquitto.url, PP_INFLUX_URL: influx.url, PP_INFLUX_DATABASE: 'soak', PP_MQTT_CLIENT_ID: 'pp-soak' });
  const pid = platform.child.pid!;
  const samplesPerMessage = 20;
  const load = steadyLoad({ brokerUrl: mosquitto.url, devices: 200, messagesPerSecond: samplesPerS / samplesPerMessage, samplesPerMessage, durationMs: minutes * 60_000 });
  say(`soak: ${minutes} min at ${samplesPerS} samples/s, InfluxDB down ${outageS} s every ${outageEveryS} s; platform pid ${pid}`);
  const rss: { t: number; mib: number }[] = [];
  const started = Date.now();
  let outages = 0;
  let down = false;
  const timer = setInterval(async () => {
    const t = Math.round((Date.now() - started) / 1000);
    rss.push({ t, mib: Number(rssMiB(pid).toFixed(1)) });
    const phase = t % outageEveryS;
    if (!down && phase >= outageEveryS - outageS && t < minutes * 60 - outageS) {
      down = true;
      outages++;
      await influx.kill('SIGKILL');
      say(`  InfluxDB killed (outage ${outages})`);
    } else if (down && phase < outageEveryS - outageS) {
      await influx.restart();
      down = false;
      say('  InfluxDB restarted');
    }
    const spool = await scrapeMetric(platform.url, 'pp_spool_bytes').catch(() => NaN);
    say(`  t=${t}s sent=${load.progress().samples} rss=${rss.at(-1)!.mib} MiB spool=${(spool / 1024 / 1024).toFixed(1)} MiB`);
  }, 10_000);
  const sent = await load.done;
  clearInterval(timer);
  if (down) await influx.restart();
  say(`load done: ${sent.samples} samples acknowledged by the broker; waiting for InfluxDB to hold them all`);
  const count = async () => Number((await queryInfluxQL(influx.url, 'soak', 'SELECT count(power_kw) FROM telemetry'))[0]?.count ?? 0);
  await waitFor(async () => (await count()) === sent.samples, 600_000, 'every sample stored', 2000);
  const stored = await count();
  const mibs = rss.map((r) => r.mib);
  const firstQuarter = mibs.slice(0, Math.max(1, Math.floor(mibs.length / 4)));
  const lastQuarter = mibs.slice(-Math.max(1, Math.floor(mibs.length / 4)));
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const result = {
    date: new Date().toISOString(),
    minutes,
    samplesPerS,
    outages,
    sent: sent.samples,
    stored,
    lost: sent.samples - stored,
    rssMiB: { min: Math.min(...mibs), max: Math.max(...mibs), medianFirstQuarter: med(firstQuarter), medianLastQuarter: med(lastQuarter) },
    samples: rss,
  };
  await mkdir(new URL('../results/', import.meta.url), { recursive: true });
  await writeFile(new URL('../results/soak.json', import.meta.url), JSON.stringify(result, null, 2));
  say(`soak: sent ${result.sent}, stored ${result.stored}, lost ${result.lost}; RSS min ${result.rssMiB.min} / max ${result.rssMiB.max} MiB, median first quarter ${result.rssMiB.medianFirstQuarter}, last quarter ${result.rssMiB.medianLastQuarter}`);
  await platform.kill('SIGTERM');
  await Promise.all([mosquitto.stop(), influx.stop()]);
  process.exit(result.lost === 0 ? 0 : 1);
}

main().catch((err: Error) => {
  process.stderr.write(`soak failed: ${err.stack}\n`);
  process.exit(1);
});
