import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryInfluxQL } from '../../src/storage/index.js';
import { Fleet } from '../../load-tests/bench/fleet.js';
import { cpuSeconds, RssSampler } from '../../load-tests/bench/proc-stats.js';
import { Workload } from '../../load-tests/bench/workload.js';
import { startInfluxd, type InfluxdProcess } from '../support/influxd.js';
import { startMosquitto, type MosquittoProcess } from '../support/mosquitto.js';
import { scrapeMetric, spawnPlatform, type PlatformProcess } from '../support/platform.js';
import { waitFor } from '../support/ports.js';

const DB = 'overload';
const WINDOW = 2000;
const SAMPLES_PER_MESSAGE = 10;
/** 4 gateways of 25 simulated machines (the benchmarks' load generator: realistic telemetry, cheap to send). */
const SHAPE = { sites: 4, linesPerSite: 5, machinesPerLine: 5, samplesPerMessage: SAMPLES_PER_MESSAGE };
const CLOSED_LOOP_MS = 10_000;
const OVERLOAD_MS = 15_000;
/**
 * What is asserted is what the platform controls, each measured in both phases of one run.
 *
 * The stored rate is the platform's share of the CPU divided by its CPU per sample. On this
 * shared 2-core machine the share is the scheduler's: other work (and the load generator, whose
 * CPU doubles with the offer) takes it, and it moves by a factor of two between two 10-second
 * windows when other test suites run (stored ÷ closed-loop rate: 85–95 % quiet, 44 % under
 * load). A floor on that ratio fails on a busy machine without telling anything about the
 * platform, so instead:
 * - CPU per stored sample under the offer at most MAX_COST_GROWTH × the closed loop's: offered
 *   twice what it stores, the platform spends its CPU as well as at its maximum (no retry storm,
 *   no thrashing, no work per message that grows with the backlog). This is the "no collapse"
 *   claim, freed of the scheduler: a collapse of a third or less in the same share is a cost
 *   growth of ×3, far beyond the bound, while load moves this ratio by ×0.9–1.1.
 * - never more than MAX_GAP_MS without storing while a backlog waits: the platform keeps
 *   consuming (a wedged window or a stalled writer is a gap, whatever the CPU share).
 * - at most the window held, peak RSS under the offer at most MAX_RSS_GROWTH × the closed loop's
 *   (the backlog waits in the broker, not in the platform), and every acknowledged sample stored.
 */
const MAX_COST_GROWTH = 1.5;
const MAX_GAP_MS = 5000;
const MAX_RSS_GROWTH = 1.5;

let influx: InfluxdProcess;
let mosquitto: MosquittoProcess;
let platform: PlatformProcess | null = null;

beforeAll(async () => {
  [influx, mosquitto] = await Promise.all([startInfluxd(), startMosquitto()]);
});
afterAll(async () => {
  await platform?.kill();
  await Promise.all([mosquitto?.stop(), influx?.stop()]);
});

const counted = async () => Number((await queryInfluxQL(influx.url, DB, 'SELECT count(power_kw) FROM telemetry'))[0]?.count ?? 0);

describe('offered twice what the platform stores', () => {
  it('stores at the CPU cost per sample of its closed loop without stalling, holds at most the window, keeps its memory, loses nothing', { timeout: 300_000 }, async () => {
    platform = await spawnPlatform({ PP_MQTT_URL: mosquitto.url, PP_INFLUX_URL: influx.url, PP_INFLUX_DATABASE: DB, PP_MQTT_CLIENT_ID: 'pp-overload', PP_MQTT_RECEIVE_MAXIMUM: String(WINDOW), PP_LOG_LEVEL: 'warn' });
    const { url } = platform;
    const pid = platform.child.pid!;
    let stored = 0;
    let lastGain = performance.now();
    const poll = setInterval(
      () =>
        void scrapeMetric(url, 'pp_samples_stored_total').then((v) => {
          if (v > stored) lastGain = performance.now();
          stored = v;
        }, () => undefined),
      100,
    );
    const rss = new RssSampler(() => pid, 100);
    const fleet = new Fleet(new Workload(SHAPE), mosquitto.url, 'overload', 500);
    await fleet.connect();
    try {
      // Closed loop: as much as the platform takes, with a bounded backlog (three windows).
      const closed = { kind: 'window' as const, consumed: () => stored, aheadSamples: 3 * WINDOW * SAMPLES_PER_MESSAGE };
      await fleet.run(closed, 3000); // warm-up
      let s0 = stored;
      let cpu0 = cpuSeconds(pid);
      let t0 = performance.now();
      rss.reset();
      await fleet.run(closed, CLOSED_LOOP_MS);
      const closedRate = (stored - s0) / ((performance.now() - t0) / 1000);
      const closedCost = (cpuSeconds(pid) - cpu0) / (stored - s0);
      const closedShare = (cpuSeconds(pid) - cpu0) / ((performance.now() - t0) / 1000);
      const closedRss = rss.peak;

      // Open loop at twice that: the broker's queue for the platform grows for the whole offer.
      s0 = stored;
      cpu0 = cpuSeconds(pid);
      const p0 = fleet.published;
      let longestGap = 0;
      const gaps = setInterval(() => (longestGap = Math.max(longestGap, performance.now() - lastGain)), 100);
      lastGain = performance.now();
      t0 = performance.now();
      rss.reset();
      await fleet.run({ kind: 'rate', samplesPerS: 2 * closedRate }, OVERLOAD_MS);
      clearInterval(gaps);
      const seconds = (performance.now() - t0) / 1000;
      const storedRate = (stored - s0) / seconds;
      const offeredRate = (fleet.published - p0) / seconds;
      const overCost = (cpuSeconds(pid) - cpu0) / (stored - s0);
      const overShare = (cpuSeconds(pid) - cpu0) / seconds;
      const overRss = rss.peak;
      await fleet.stop();
      const acked = fleet.acked.samples;
      await waitFor(async () => (await counted()) >= acked, 180_000, 'every acknowledged sample stored', 500);
      const held = await scrapeMetric(url, 'pp_mqtt_inflight_messages_peak');
      console.log(
        `overload: closed loop ${Math.round(closedRate)} samples/s at ${(closedCost * 1e6).toFixed(1)} µs CPU per sample (${(closedShare * 100).toFixed(0)} % of a core), peak RSS ${closedRss.toFixed(0)} MiB; ` +
          `offered ${Math.round(offeredRate)}, stored ${Math.round(storedRate)} samples/s (${((storedRate / closedRate) * 100).toFixed(0)} % of closed loop) at ${(overCost * 1e6).toFixed(1)} µs CPU per sample (×${(overCost / closedCost).toFixed(2)}; ${(overShare * 100).toFixed(0)} % of a core), ` +
          `longest without storing ${Math.round(longestGap)} ms, peak RSS ${overRss.toFixed(0)} MiB (under tsx); most held ${held} (window ${WINDOW}); ${acked} samples acknowledged by the broker`,
      );

      expect(offeredRate).toBeGreaterThan(storedRate); // it was an overload: a backlog formed
      expect(overCost).toBeLessThanOrEqual(MAX_COST_GROWTH * closedCost);
      expect(longestGap).toBeLessThan(MAX_GAP_MS);
      expect(overRss).toBeLessThanOrEqual(MAX_RSS_GROWTH * closedRss);
      expect(held).toBeGreaterThan(0);
      expect(held).toBeLessThanOrEqual(WINDOW);
      expect(await counted()).toBe(acked);
    } finally {
      clearInterval(poll);
      rss.stop();
      await fleet.stop().catch(() => undefined);
    }
  });
});
