import type { Logger } from 'pino';
import { deviceKey, type Sample } from '../src/contract/index.js';
import type { ResolvedOptions } from './options.js';
import type { GatewayPublisher } from './publisher/index.js';
import type { SentLog } from './sent-log.js';
import type { Machine, Plant } from './simulator/index.js';

/** After a stall (suspended laptop, paused VM) longer than this many samples, skip ahead instead of catching up. */
const MAX_CATCH_UP = 3600;

/**
 * Realtime mode: a sample per machine every `sampleIntervalMs` on a fixed grid (`startTs + k ×
 * interval`, never in the future, catching up after a late timer), published per device every
 * `publishIntervalMs` in batches of at most `samplesPerMessage`. While a gateway's window is
 * full (broker away or slow), messages wait; beyond `maxQueuedMessages` new ones are dropped and
 * counted: memory stays bounded. (A disk queue that keeps them instead is the next step.)
 */
export class RealtimeRunner {
  samplesDropped = 0;
  samplesSkipped = 0;
  private k = 0;
  private readonly t0: number;
  private readonly buffers = new Map<string, { machine: Machine; samples: Sample[] }>();
  private readonly pending = new Set<Promise<void>>();
  private sampleTimer: NodeJS.Timeout | undefined;
  private publishTimer: NodeJS.Timeout | undefined;
  private running = true;
  private lastDropWarning = 0;

  constructor(
    private readonly plant: Plant,
    private readonly gateways: ReadonlyMap<string, GatewayPublisher>,
    private readonly opts: ResolvedOptions,
    private readonly log: SentLog,
    private readonly logger: Logger | undefined,
  ) {
    this.t0 = opts.startTs ?? Date.now();
  }

  start(): void {
    this.tick();
    this.publishTimer = setInterval(() => this.flush(), this.opts.publishIntervalMs);
  }

  get samplesBuffered(): number {
    let n = 0;
    for (const b of this.buffers.values()) n += b.samples.length;
    return n;
  }

  /** Stop sampling and hand what is buffered to the gateways (whose `stop()` bounds the wait for PUBACKs). */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    clearTimeout(this.sampleTimer);
    clearInterval(this.publishTimer);
    this.flush();
  }

  /** Resolves when every publish handed out has been acknowledged or has failed. */
  async settled(): Promise<void> {
    await Promise.all(this.pending);
  }

  private tick(): void {
    if (!this.running) return;
    const interval = this.opts.sampleIntervalMs;
    const due = Math.floor((Date.now() - this.t0) / interval);
    if (due - this.k > MAX_CATCH_UP) {
      const skipped = due - this.k;
      this.plant.step(skipped * interval);
      this.samplesSkipped += skipped * this.plant.machines.length;
      this.logger?.warn({ skipped, intervalMs: interval }, 'sampling stalled; skipped ahead');
      this.k = due;
    }
    for (; this.k <= due; this.k++) {
      if (this.k > 0) this.plant.step(interval);
      for (const { machine, sample } of this.plant.sample(this.t0 + this.k * interval)) {
        const key = deviceKey(machine.ref);
        const buf = this.buffers.get(key) ?? { machine, samples: [] };
        buf.samples.push(sample);
        this.buffers.set(key, buf);
      }
    }
    this.sampleTimer = setTimeout(() => this.tick(), Math.max(0, this.t0 + this.k * interval - Date.now()));
  }

  private flush(): void {
    const per = this.opts.samplesPerMessage;
    for (const [key, { machine, samples }] of this.buffers) {
      if (samples.length === 0) continue;
      this.buffers.set(key, { machine, samples: [] });
      const gw = this.gateways.get(machine.ref.site)!;
      for (let i = 0; i < samples.length; i += per) {
        const batch = samples.slice(i, i + per);
        if (gw.queued >= this.opts.maxQueuedMessages) {
          this.drop(batch.length, gw);
          continue;
        }
        const p: Promise<void> = gw.publish(machine.ref, batch).then(
          (seq) => this.log.acked(machine.ref, batch, seq),
          (err: Error) => this.logger?.warn({ err: err.message, device: key }, 'publish failed'),
        );
        this.pending.add(p);
        void p.finally(() => this.pending.delete(p));
      }
    }
  }

  private drop(samples: number, gw: GatewayPublisher): void {
    this.samplesDropped += samples;
    const now = Date.now();
    if (now - this.lastDropWarning > 10_000) {
      this.lastDropWarning = now;
      this.logger?.warn({ gateway: gw.gatewayId, queued: gw.queued, samplesDropped: this.samplesDropped }, 'publish queue full (broker unreachable or slow): dropping samples');
    }
  }
}
