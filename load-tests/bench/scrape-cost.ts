/**
 * `npx tsx load-tests/bench/scrape-cost.ts [--rounds 3] [--seconds 5] [--per-s 20]`: what one read
 * of `/metrics` (as the benches' counters poll it) costs the platform in CPU. The built platform
 * (platform-process.ts) with its own Mosquitto and influxd, after the 200-device fleet has reported
 * a few times (so every device's labels exist), is left with no load; its CPU (`/proc/<pid>/stat`)
 * is read over windows with no scrape and with `--per-s` scrapes a second, alternated: the
 * difference per scrape is what each poll takes from the platform under test.
 */
import { startInfluxd } from '../../test/support/influxd.js';
import { startMosquitto } from '../../test/support/mosquitto.js';
import { argOf } from './cli-args.js';
import { Fleet } from './fleet.js';
import { buildPlatform, scrape, spawnBuiltPlatform } from './platform-process.js';
import { cpuSeconds, loadAverage } from './proc-stats.js';
import { median } from './stats.js';
import { Workload } from './workload.js';

const arg = argOf(process.argv.slice(2));
const rounds = Number(arg('--rounds', '3'));
const seconds = Number(arg('--seconds', '5'));
const perS = Number(arg('--per-s', '20'));
if (!(rounds >= 1 && seconds > 0 && perS > 0)) throw new Error('usage: scrape-cost.ts [--rounds N ≥ 1] [--seconds S > 0] [--per-s R > 0]');
const say = (s: string) => process.stdout.write(`${s}\n`);

await buildPlatform(say);
const [influx, mosquitto] = await Promise.all([startInfluxd(), startMosquitto()]);
const platform = await spawnBuiltPlatform({ env: { PP_MQTT_URL: mosquitto.url, PP_INFLUX_URL: influx.url, PP_INFLUX_DATABASE: 'scrape_cost', PP_MQTT_CLIENT_ID: 'pp-scrape-cost', PP_AUTH: 'off' } });
const fleet = new Fleet(new Workload({ sites: 20, linesPerSite: 10, machinesPerLine: 1, samplesPerMessage: 10 }), mosquitto.url, 'scrape-cost');
try {
  await fleet.connect();
  await fleet.run({ kind: 'rate', samplesPerS: 4000 }, 3000);
  await new Promise((r) => setTimeout(r, 2000)); // stored and quiet
  const cpuOver = async (scrapes: boolean): Promise<{ ms: number; n: number }> => {
    const c0 = cpuSeconds(platform.pid);
    const t0 = performance.now();
    let n = 0;
    while (performance.now() - t0 < seconds * 1000) {
      if (scrapes) {
        await scrape(platform.url, ['pp_samples_stored_total', 'pp_mqtt_inflight_messages']);
        n++;
      }
      // Paced from the start, so a slow answer does not lower the rate.
      const next = t0 + ((n + (scrapes ? 0 : 1)) * 1000) / perS;
      await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
    }
    return { ms: ((cpuSeconds(platform.pid) - c0) * 1000) / ((performance.now() - t0) / 1000), n: n / ((performance.now() - t0) / 1000) };
  };
  say(`the platform's CPU per /metrics scrape, ${rounds} rounds of ${seconds} s without and with ${perS} scrapes/s, load average ${loadAverage()}`);
  const perScrape: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? [false, true] : [true, false];
    const got = new Map<boolean, { ms: number; n: number }>();
    for (const s of order) got.set(s, await cpuOver(s));
    const quiet = got.get(false)!;
    const polled = got.get(true)!;
    const us = ((polled.ms - quiet.ms) / polled.n) * 1000;
    perScrape.push(us);
    say(`  round ${r + 1}: idle ${quiet.ms.toFixed(1)} ms of CPU per s, scraped ${polled.n.toFixed(1)}/s ${polled.ms.toFixed(1)} ms per s: ${Math.round(us)} µs per scrape`);
  }
  say(`median ${Math.round(median(perScrape))} µs of the platform's CPU per scrape; load average ${loadAverage()}`);
} finally {
  await fleet.stop();
  await platform.stop();
  await Promise.all([mosquitto.stop(), influx.stop()]);
}
process.exit(0);
