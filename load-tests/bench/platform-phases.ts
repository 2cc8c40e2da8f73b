/**
 * The platform's own measurements, on the running platform with the fleet, the live dashboard
 * client and the alert subscriber attached: its saturation rate (closed loop), and the ramp
 * (open-loop steps) with end-to-end latency, alert latency, CPU and memory per step.
 */
import { deviceKey } from '../../src/contract/index.js';
import type { Fleet } from './fleet.js';
import { scrape, type PlatformProcess } from './platform-process.js';
import { RssSampler, UsageWindow, type WindowUsage } from './proc-stats.js';
import { percentiles, type Percentiles } from './stats.js';
import type { AlertWatcher, LiveWatcher } from './watchers.js';
import type { WebhookWatcher } from './webhook-watcher.js';

export interface PlatformContext {
  platform: PlatformProcess;
  fleet: Fleet;
  live: LiveWatcher;
  alerts: AlertWatcher;
  /** Fault → signed webhook received (a subscription of the harness's receiver); absent: not measured. */
  webhooks?: WebhookWatcher;
  rss: RssSampler;
  pids: () => Record<string, number | null>;
  say: (s: string) => void;
}

const COUNTED = ['pp_samples_stored_total', 'pp_mqtt_inflight_messages'];
const MIN_POLL_MS = 200;
/** At least two polls a second: the window's peak in flight is a maximum over polls, and needs them that often. */
const MAX_POLL_MS = 500;

/** A count of samples made durable, polled on demand (one platform, or the sum over several). */
export interface DurableCount {
  readonly value: number;
  poll(): Promise<number>;
}

/**
 * Samples the platform has made durable, polled from /metrics (what the closed loop and the ramp
 * count), and the most messages it held unacknowledged (`pp_mqtt_inflight_messages`) at any poll:
 * one scrape for both. Every scrape costs the platform about as much as storing a few hundred
 * samples (`scrape-cost.ts`: the whole registry is rendered, a logger runs per request, the webhook
 * outbox's depth is queried), so it polls no more often than what it paces needs:
 * - `everyMs` (default 200): a fixed period;
 * - `leadSamples`: a closed loop's lead (how far its fleet may be ahead of this count). The count
 *   is then read whenever a quarter of the lead may have been stored at the rate seen so far
 *   (every 200 to 500 ms), so the fleet never waits for a fresher count before the platform runs
 *   short of messages; a short lead (a small window, 1-sample messages) is polled more often.
 */
export class StoredCounter implements DurableCount {
  value = 0;
  peakInflight = 0;
  /** Polls made (by the timer and by `poll()`). */
  polls = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** The latest poll's count and when it was read (performance.now()): a rate over polls is exact, whatever their period. */
  last = { value: Number.NaN, at: 0 };
  private rate = 0;

  constructor(
    private readonly url: string,
    private readonly opts: { everyMs?: number; leadSamples?: number } = {},
  ) {
    this.schedule(opts.everyMs ?? MIN_POLL_MS);
  }

  async poll(): Promise<number> {
    try {
      const m = await scrape(this.url, COUNTED);
      this.polls++;
      this.value = m.pp_samples_stored_total!;
      this.peakInflight = Math.max(this.peakInflight, m.pp_mqtt_inflight_messages!);
      const at = performance.now();
      // The stored rate, smoothed over the last few polls.
      if (Number.isFinite(this.last.value) && at > this.last.at) {
        const now = ((this.value - this.last.value) * 1000) / (at - this.last.at);
        this.rate = this.rate === 0 ? now : 0.5 * this.rate + 0.5 * now;
      }
      this.last = { value: this.value, at };
    } catch {
      // a missed scrape only delays the count
    }
    return this.value;
  }

  /** The next poll's delay: fixed, or a quarter of the lead at the rate seen (200 ms while it is unknown). */
  nextDelayMs(): number {
    const { everyMs, leadSamples } = this.opts;
    if (leadSamples === undefined) return everyMs ?? MIN_POLL_MS;
    if (!(this.rate > 0)) return MIN_POLL_MS;
    return Math.min(MAX_POLL_MS, Math.max(MIN_POLL_MS, ((leadSamples / 4) * 1000) / this.rate));
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.poll().then(() => this.schedule(this.nextDelayMs()));
    }, ms);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}

/**
 * Wait until the platform has stored everything the fleet published, polling every `everyMs`;
 * returns how long that took (ms), or -1 on timeout.
 */
export async function drain(stored: DurableCount, fleet: Fleet, timeoutMs: number, everyMs = 100): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < timeoutMs) {
    if ((await stored.poll()) >= fleet.published) return Math.round(performance.now() - t0);
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return -1;
}

export interface SaturationResult {
  samplesPerS: number;
  messagesPerS: number;
  seconds: number;
  usage: WindowUsage;
  peakRssMiB: number;
  /** Mean lines per InfluxDB write in the window (the platform's batches). */
  meanBatchLines: number;
}

export async function measurePlatformSaturation(ctx: PlatformContext, stored: StoredCounter, opts: { durationMs: number; warmupMs: number; aheadSamples: number }): Promise<SaturationResult> {
  const per = ctx.fleet.workload.samplesPerMessage;
  const usage = new UsageWindow(ctx.pids);
  let t0 = 0;
  let s0 = 0;
  let b0 = { pp_write_batch_lines_sum: 0, pp_write_batch_lines_count: 0 };
  const ticker = setInterval(() => ctx.say(`platform saturation: ${stored.value.toLocaleString('en')} samples stored`), 2000);
  try {
    await ctx.fleet.run({ kind: 'window', consumed: () => stored.value, aheadSamples: opts.aheadSamples }, opts.durationMs, (elapsed) => {
      if (t0 === 0 && elapsed >= opts.warmupMs) {
        t0 = performance.now();
        s0 = stored.value;
        usage.start();
        ctx.rss.reset();
        void scrape(ctx.platform.url, ['pp_write_batch_lines_sum', 'pp_write_batch_lines_count']).then((b) => (b0 = b as typeof b0));
      }
    });
  } finally {
    clearInterval(ticker);
  }
  const seconds = (performance.now() - t0) / 1000;
  const u = usage.stop();
  const samples = stored.value - s0;
  const b1 = await scrape(ctx.platform.url, ['pp_write_batch_lines_sum', 'pp_write_batch_lines_count']);
  await drain(stored, ctx.fleet, 60_000);
  return {
    samplesPerS: Math.round(samples / seconds),
    messagesPerS: Math.round(samples / per / seconds),
    seconds: Number(seconds.toFixed(1)),
    usage: u,
    peakRssMiB: Number(ctx.rss.peak.toFixed(1)),
    meanBatchLines: Math.round((b1.pp_write_batch_lines_sum! - b0.pp_write_batch_lines_sum) / Math.max(1, b1.pp_write_batch_lines_count! - b0.pp_write_batch_lines_count)),
  };
}

export interface StepResult {
  fraction: number;
  offeredSamplesPerS: number;
  /** What the broker acknowledged over the step. */
  publishedSamplesPerS: number;
  storedSamplesPerS: number;
  storedMessagesPerS: number;
  /** After the step, how long until everything published was stored (ms); -1: not within 30 s. */
  drainMs: number;
  keptUp: boolean;
  latencyMs: Percentiles;
  alertLatencyMs?: Percentiles & { injected: number; missing: number };
  /** Fault sample ts → the signed webhook POST arriving at the harness's receiver (first of the fault). */
  webhookLatencyMs?: Percentiles & { injected: number; missing: number; badSignatures: number };
  usage: WindowUsage;
  peakRssMiB: number;
}

/** One open-loop step. Kept up: stored ≥ 95 % of what was published, and the backlog gone within 2 s after. */
export async function rampStep(ctx: PlatformContext, stored: StoredCounter, opts: { fraction: number; samplesPerS: number; durationMs: number; faults: number }): Promise<StepResult> {
  const per = ctx.fleet.workload.samplesPerMessage;
  const usage = new UsageWindow(ctx.pids).start();
  ctx.rss.reset();
  const s0 = await stored.poll();
  const p0 = ctx.fleet.acked.samples;
  ctx.live.record();
  const alertsBefore = ctx.alerts.latencies.length;
  const hooksBefore = ctx.webhooks?.latencies.length ?? 0;
  const faultEvery = opts.faults > 0 ? opts.durationMs / (opts.faults + 1) : Infinity;
  let injected = 0;
  const t0 = performance.now();
  const ticker = setInterval(() => ctx.say(`step ${Math.round(opts.fraction * 100)} % (${opts.samplesPerS.toLocaleString('en')} samples/s offered): ${(stored.value - s0).toLocaleString('en')} stored, ${ctx.live.latencies.length} live updates`), 2000);
  try {
    await ctx.fleet.run({ kind: 'rate', samplesPerS: opts.samplesPerS }, opts.durationMs, (elapsed) => {
      if (injected < opts.faults && elapsed >= (injected + 1) * faultEvery) {
        // A gas leak on one device (a different one each time: flapping damping must not hide it).
        const i = (injected * 7919 + 13) % ctx.fleet.workload.size;
        const { ts } = ctx.fleet.publishDevice(i, (s) => (s.m.gas_lel_pct = 30));
        ctx.alerts.expect(deviceKey(ctx.fleet.workload.devices[i]!), ts);
        ctx.webhooks?.expect(deviceKey(ctx.fleet.workload.devices[i]!), ts);
        injected++;
      }
    });
  } finally {
    clearInterval(ticker);
  }
  const seconds = (performance.now() - t0) / 1000;
  const s1 = await stored.poll();
  const published = ctx.fleet.acked.samples - p0;
  const drainMs = await drain(stored, ctx.fleet, 30_000);
  const u = usage.stop();
  // Alerts and live updates of the last samples arrive during the drain; webhooks, from the
  // outbox, may take a little longer (bounded: a missing one is reported as missing).
  await new Promise((r) => setTimeout(r, 1000));
  for (let waited = 0; injected > 0 && ctx.webhooks && ctx.webhooks.missing > 0 && waited < 10_000; waited += 100) await new Promise((r) => setTimeout(r, 100));
  const latencies = ctx.live.pause();
  const storedRate = (s1 - s0) / seconds;
  const alertLat = ctx.alerts.latencies.slice(alertsBefore);
  const hookLat = ctx.webhooks?.latencies.slice(hooksBefore) ?? [];
  return {
    fraction: opts.fraction,
    offeredSamplesPerS: opts.samplesPerS,
    publishedSamplesPerS: Math.round(published / seconds),
    storedSamplesPerS: Math.round(storedRate),
    storedMessagesPerS: Math.round(storedRate / per),
    drainMs,
    keptUp: s1 - s0 >= 0.95 * published && drainMs >= 0 && drainMs <= 2000,
    latencyMs: percentiles(latencies),
    ...(injected > 0 ? { alertLatencyMs: { ...percentiles(alertLat), injected, missing: injected - alertLat.length } } : {}),
    ...(injected > 0 && ctx.webhooks ? { webhookLatencyMs: { ...percentiles(hookLat), injected, missing: injected - hookLat.length, badSignatures: ctx.webhooks.badSignatures } } : {}),
    usage: u,
    peakRssMiB: Number(ctx.rss.peak.toFixed(1)),
  };
}
