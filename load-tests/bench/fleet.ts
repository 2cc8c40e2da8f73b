/**
 * The simulated gateway fleet: one MQTT 5 connection per site (edge-agent's GatewayPublisher:
 * QoS 1, per-device seq, retained births, a bounded window of publishes waiting for PUBACK),
 * each carrying the batches of its site's simulated machines (workload.ts).
 *
 * Two ways to pace it:
 * - `rate`: open loop, a fixed offered rate in samples/s (a ramp step). A step the system cannot
 *   take shows as a growing backlog, not as a slower fleet.
 * - `window`: closed loop over the whole system, at most `aheadSamples` published and not yet
 *   consumed (stored in InfluxDB, or received by the broker's subscriber). This offers as much as
 *   the consumer takes, with a bounded backlog: its rate is the consumer's sustained maximum.
 *   (Open loop above capacity would instead pile the excess up in the broker, whose queueing
 *   then steals the CPU the consumer needs on this 2-core machine.)
 */
import type { Sample } from '../../src/contract/index.js';
import { GatewayPublisher } from '../../edge-agent/index.js';
import type { Workload } from './workload.js';

export type Pace = { kind: 'rate'; samplesPerS: number } | { kind: 'window'; consumed: () => number; aheadSamples: number };

export interface FleetRun {
  seconds: number;
  messages: number;
  samples: number;
}

const TICK_MS = 5;
/** Open loop: a fleet that fell behind (the broker was slow) catches up by at most this much at once. */
const MAX_CATCH_UP_S = 0.2;

export class Fleet {
  readonly gateways: GatewayPublisher[] = [];
  private readonly gatewayOf: GatewayPublisher[] = [];
  private next = 0;
  private failure: Error | null = null;
  private readonly pending = new Set<Promise<unknown>>();
  /** Samples handed to publish() (acknowledged or not yet). */
  published = 0;

  constructor(
    readonly workload: Workload,
    brokerUrl: string,
    clientPrefix: string,
    maxInFlight = 200,
  ) {
    const bySite = new Map<string, GatewayPublisher>();
    for (const ref of workload.devices) {
      let gw = bySite.get(ref.site);
      if (!gw) {
        const devices = workload.devices.filter((d) => d.site === ref.site);
        gw = new GatewayPublisher({ brokerUrl, gatewayId: `${clientPrefix}-${ref.site}`, site: ref.site, devices, maxInFlight, stopTimeoutMs: 30_000 });
        bySite.set(ref.site, gw);
        this.gateways.push(gw);
      }
      this.gatewayOf.push(gw);
    }
  }

  async connect(): Promise<void> {
    await Promise.all(this.gateways.map((g) => g.connect()));
  }

  /** Samples and messages the broker acknowledged. */
  get acked(): { messages: number; samples: number } {
    let messages = 0;
    let samples = 0;
    for (const g of this.gateways) {
      messages += g.messagesAcked;
      samples += g.samplesAcked;
    }
    return { messages, samples };
  }

  /** Publish one message of device `i` (its next samples, newest stamped now), optionally altered. */
  publishDevice(i: number, alter?: (newest: Sample) => void): { ts: number } {
    const samples = this.workload.nextSamples(i);
    const newest = samples[samples.length - 1]!;
    alter?.(newest);
    this.published += samples.length;
    const p = this.gatewayOf[i]!.publish(this.workload.devices[i]!, samples).catch((err: Error) => {
      this.failure ??= err;
    });
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
    return { ts: newest.ts };
  }

  /** Publishes waiting for PUBACK or for a window slot, over all gateways. */
  private get backlog(): number {
    let n = 0;
    for (const g of this.gateways) n += g.queued;
    return n;
  }

  /** Publish for `durationMs` at `pace`, round-robin over the devices; resolves when every publish of the run is acknowledged. */
  async run(pace: Pace, durationMs: number, onTick?: (elapsedMs: number) => void): Promise<FleetRun> {
    const per = this.workload.samplesPerMessage;
    const start = performance.now();
    const acked0 = this.acked;
    let paced = 0; // messages counted against an open-loop rate
    for (let elapsed = 0; elapsed < durationMs; elapsed = performance.now() - start) {
      if (this.failure) throw this.failure;
      let allowed: number;
      if (pace.kind === 'rate') {
        const due = ((elapsed / 1000) * pace.samplesPerS) / per;
        const cap = (pace.samplesPerS * MAX_CATCH_UP_S) / per;
        // Fell behind by more than the catch-up allowance: that part of the offer is forgone.
        if (due - paced > cap) paced = due - cap;
        allowed = Math.floor(due - paced);
      } else {
        allowed = Math.floor((pace.consumed() + pace.aheadSamples - this.published) / per);
      }
      // Never queue more than a few hundred messages inside the gateways: they would be sent in a
      // burst later and spoil the next phase.
      allowed = Math.min(allowed, Math.max(0, 500 - this.backlog));
      for (let k = 0; k < allowed; k++) {
        this.publishDevice(this.next);
        this.next = (this.next + 1) % this.workload.size;
        paced++;
      }
      onTick?.(elapsed);
      await new Promise((r) => setTimeout(r, TICK_MS));
    }
    await Promise.all(this.pending);
    if (this.failure) throw this.failure;
    const acked = this.acked;
    return { seconds: (performance.now() - start) / 1000, messages: acked.messages - acked0.messages, samples: acked.samples - acked0.samples };
  }

  async stop(): Promise<void> {
    await Promise.all(this.pending);
    await Promise.all(this.gateways.map((g) => g.stop()));
  }
}
