/**
 * The limits the platform is quoted against, measured in the same run on the same machine:
 * - broker alone: the same fleet (same gateways, payloads, QoS 1, window) publishing to a fresh
 *   Mosquitto with the shipped configuration, one subscriber process configured like the
 *   platform's MQTT source that only counts;
 * - InfluxDB alone: the platform's points as line protocol, in the platform's batch size and
 *   with its one write in flight, from a writer process, as fast as InfluxDB acknowledges.
 * Both run in processes of their own, like the platform, so nobody gets the harness's core.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { queryInfluxQL } from '../../src/storage/index.js';
import { startMosquitto } from '../../test/support/mosquitto.js';
import { waitFor } from '../../test/support/ports.js';
import { reapOnExit } from '../../test/support/child-reaper.js';
import { Fleet } from './fleet.js';
import { UsageWindow, type WindowUsage } from './proc-stats.js';
import type { Workload, WorkloadShape } from './workload.js';

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));

export interface RateMeasure {
  samplesPerS: number;
  messagesPerS: number;
  seconds: number;
  usage: WindowUsage;
}

function forkTs(file: string, args: string[]): ChildProcess {
  return reapOnExit(fork(here(file), args, { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
}

function untilMessage<T>(child: ChildProcess, type: string, timeoutMs = 60_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${type} from ${child.spawnfile} in ${timeoutMs} ms`)), timeoutMs);
    const on = (m: { type: string; message?: string }) => {
      if (m.type === 'error') reject(new Error(m.message));
      if (m.type !== type) return;
      clearTimeout(timer);
      child.off('message', on);
      resolve(m as T);
    };
    child.on('message', on);
  });
}

/**
 * Broker alone, closed loop (the fleet stays at most `aheadSamples` ahead of what the subscriber
 * received): the subscriber's receive rate after `warmupMs`.
 */
export async function measureBroker(workload: Workload, opts: { durationMs: number; warmupMs: number; aheadSamples: number; receiveMaximum: number; progress: (s: string) => void }): Promise<RateMeasure> {
  const broker = await startMosquitto();
  const sub = forkTs('broker-subscriber.ts', [broker.url, 'bench-limit-sub', String(opts.receiveMaximum)]);
  let received = 0;
  sub.on('message', (m: { type: string; metrics?: number }) => {
    if (m.type === 'count') received = m.metrics!;
  });
  const fleet = new Fleet(workload, broker.url, 'bench-limit');
  try {
    await untilMessage(sub, 'ready');
    await fleet.connect();
    const per = workload.samplesPerMessage;
    const usage = new UsageWindow(() => ({ mosquitto: broker.pid(), subscriber: sub.pid, harness: process.pid }));
    let t0 = 0;
    let r0 = 0;
    const run = fleet.run({ kind: 'window', consumed: () => received * per, aheadSamples: opts.aheadSamples }, opts.durationMs, (elapsed) => {
      if (t0 === 0 && elapsed >= opts.warmupMs) {
        t0 = performance.now();
        r0 = received;
        usage.start();
      }
    });
    const ticker = setInterval(() => opts.progress(`broker alone: ${(received * per).toLocaleString('en')} samples received`), 2000);
    await run.finally(() => clearInterval(ticker));
    const seconds = (performance.now() - t0) / 1000;
    const u = usage.stop();
    const messages = received - r0;
    return { samplesPerS: Math.round((messages * per) / seconds), messagesPerS: Math.round(messages / seconds), seconds: Number(seconds.toFixed(1)), usage: u };
  } finally {
    await fleet.stop().catch(() => undefined);
    sub.disconnect();
    await broker.stop();
  }
}

/** InfluxDB alone: closed-loop batched writes from a writer process; the rate over the run, checked against a count. */
export async function measureInflux(influx: { url: string; pid(): number | null }, database: string, shape: WorkloadShape, opts: { durationMs: number; batchLines: number; concurrency: number; progress: (s: string) => void }): Promise<RateMeasure & { batches: number; countedInInflux: number }> {
  const writer = forkTs('influx-writer.ts', [influx.url, database, JSON.stringify(shape), String(opts.batchLines), String(opts.concurrency), String(opts.durationMs)]);
  try {
    await untilMessage(writer, 'ready');
    const usage = new UsageWindow(() => ({ influxd: influx.pid(), writer: writer.pid, harness: process.pid })).start();
    writer.on('message', (m: { type: string; lines?: number }) => {
      if (m.type === 'progress') opts.progress(`InfluxDB alone: ${m.lines!.toLocaleString('en')} lines written`);
    });
    const done = await untilMessage<{ lines: number; batches: number; seconds: number }>(writer, 'done', opts.durationMs + 120_000);
    const u = usage.stop();
    // Every acknowledged line must be there (same series + timestamp would have overwritten).
    let counted = 0;
    await waitFor(async () => {
      counted = Number((await queryInfluxQL(influx.url, database, 'SELECT count(power_kw) FROM telemetry'))[0]?.count ?? 0);
      return counted >= done.lines;
    }, 60_000, 'the InfluxDB-limit lines to be counted', 500);
    return { samplesPerS: Math.round(done.lines / done.seconds), messagesPerS: Math.round(done.lines / done.seconds / shape.samplesPerMessage), seconds: Number(done.seconds.toFixed(1)), batches: done.batches, countedInInflux: counted, usage: u };
  } finally {
    if (writer.connected) writer.disconnect();
  }
}
