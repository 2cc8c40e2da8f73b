/**
 * The simulated gateway fleet: one MQTT 5 connection per site (wire-gateway.ts: what the edge
 * agent's GatewayPublisher sends, QoS 1, per-device seq, retained births, a bounded window of
 * publishes waiting for PUBACK, written straight to the socket), each carrying the batches of its
 * site's simulated machines (workload.ts), replayed from a recording (recorded-telemetry.ts).
 * The fleet shares the machine with the platform, so every microsecond it spends per message is
 * taken from what is being measured: a message is its recorded text with the seq, timestamps
 * and counters filled in, written as bytes straight into its gateway's output buffer, and a
 * gateway writes a turn's messages to its socket in one go.
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
import { RecordedTelemetry } from './recorded-telemetry.js';
import { WireGateway } from './wire-gateway.js';
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
  readonly gateways: WireGateway[] = [];
  private readonly gatewayOf: WireGateway[] = [];
  /** Device i's index among its gateway's devices. */
  private readonly slotOf: number[] = [];
  /** Device i's next seq (the first message carries 0, as the edge agent's). */
  private readonly seq: Uint32Array;
  private readonly telemetry: RecordedTelemetry;
  private next = 0;
  /** Samples handed to a gateway (acknowledged or not yet). */
  published = 0;

  constructor(
    readonly workload: Workload,
    brokerUrl: string,
    clientPrefix: string,
    maxInFlight = 200,
  ) {
    const bySite = new Map<string, { gw: WireGateway; n: number }>();
    for (const ref of workload.devices) {
      let entry = bySite.get(ref.site);
      if (!entry) {
        const devices = workload.devices.filter((d) => d.site === ref.site);
        entry = { gw: new WireGateway({ brokerUrl, gatewayId: `${clientPrefix}-${ref.site}`, site: ref.site, devices, maxInFlight }), n: 0 };
        bySite.set(ref.site, entry);
        this.gateways.push(entry.gw);
      }
      this.gatewayOf.push(entry.gw);
      this.slotOf.push(entry.n++);
    }
    this.seq = new Uint32Array(workload.size);
    this.telemetry = RecordedTelemetry.of(workload);
  }

  /** Connect every gateway; record the telemetry now, so no measurement pays for it. */
  async connect(): Promise<void> {
    this.telemetry.recordAll();
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
    const n = this.workload.samplesPerMessage;
    this.published += n;
    if (alter) {
      const samples = this.telemetry.nextSamples(i);
      const newest = samples[n - 1]!;
      alter(newest);
      this.gatewayOf[i]!.publish(this.slotOf[i]!, JSON.stringify({ seq: this.seq[i]!++, samples }), n);
      return { ts: newest.ts };
    }
    this.gatewayOf[i]!.publishFrom(this.slotOf[i]!, n, this.telemetry, i, this.seq[i]!++);
    return { ts: this.telemetry.newestTs };
  }

  /** A gateway's failure (a refused publish, a lost connection): the run is void. */
  private get failure(): Error | null {
    for (const g of this.gateways) if (g.failure) return g.failure;
    return null;
  }

  /** Publishes waiting for PUBACK or for a window slot, over all gateways. */
  private get backlog(): number {
    let n = 0;
    for (const g of this.gateways) n += g.queued;
    return n;
  }

  /** Resolves when every publish so far is acknowledged; throws a gateway's failure. */
  private async settled(): Promise<void> {
    await Promise.all(this.gateways.map((g) => g.whenIdle()));
    if (this.failure) throw this.failure;
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
    await this.settled();
    const acked = this.acked;
    return { seconds: (performance.now() - start) / 1000, messages: acked.messages - acked0.messages, samples: acked.samples - acked0.samples };
  }

  async stop(): Promise<void> {
    await Promise.all(this.gateways.map((g) => g.stop()));
  }
}
