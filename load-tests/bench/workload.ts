/**
 * Realistic telemetry for the benchmarks: every device is a simulated machine (edge-agent's
 * physics: counters that only grow, states, temperatures, vibration), so the platform's
 * analytics does the work it does in a real plant, not a shortcut for constant values.
 *
 * Timestamps: each device's samples follow on from its last one, spaced by up to the sampling
 * interval, with the newest at "now". A device published at its natural pace (one message per
 * `samplesPerMessage` × interval) thus samples at 1 Hz; published faster (a ramp step above the
 * natural rate), it samples faster. Either way timestamps are unique per device and strictly
 * increasing, so InfluxDB counts are exact (same series + timestamp would overwrite) and the
 * analytics never sees a replay; and the newest sample of a message is stamped when the message
 * is built, which is what end-to-end latency is measured from.
 */
import type { DeviceRef, Sample } from '../../src/contract/index.js';
import { Plant, type Machine } from '../../edge-agent/index.js';

export interface WorkloadShape {
  sites: number;
  linesPerSite: number;
  machinesPerLine: number;
  /** Samples in one message (the gateway's batch). */
  samplesPerMessage: number;
  /** Nominal sampling interval, ms (the spacing when published at the natural pace). */
  sampleIntervalMs?: number;
  seed?: number;
}

export class Workload {
  readonly plant: Plant;
  readonly devices: DeviceRef[];
  readonly samplesPerMessage: number;
  private readonly intervalMs: number;
  private readonly machines: Machine[];
  private readonly lastTs: Float64Array;

  constructor(shape: WorkloadShape, startTs = Date.now()) {
    this.plant = new Plant({ sites: shape.sites, linesPerSite: shape.linesPerSite, machinesPerLine: shape.machinesPerLine, seed: shape.seed ?? 7 });
    this.machines = this.plant.machines;
    this.devices = this.plant.devices;
    this.samplesPerMessage = shape.samplesPerMessage;
    this.intervalMs = shape.sampleIntervalMs ?? 1000;
    // The first message of each device starts one natural batch back from the start.
    this.lastTs = new Float64Array(this.machines.length).fill(startTs - this.samplesPerMessage * this.intervalMs);
  }

  /**
   * Timestamps of device `i`'s next message: the first and the spacing (the newest is
   * first + (samplesPerMessage − 1) × step, `now` or just after the device's last); advances the
   * device's clock.
   */
  nextStamps(i: number, now = Date.now()): { first: number; step: number } {
    const n = this.samplesPerMessage;
    const last = this.lastTs[i]!;
    const step = Math.max(1, Math.min(this.intervalMs, Math.floor((now - last) / n)));
    const first = Math.max(last + step, now - (n - 1) * step);
    this.lastTs[i] = first + (n - 1) * step;
    return { first, step };
  }

  /** Samples one message of device `i` carries, the newest stamped `now` (or just after its last). */
  nextSamples(i: number, now = Date.now()): Sample[] {
    const n = this.samplesPerMessage;
    const machine = this.machines[i]!;
    const { first, step } = this.nextStamps(i, now);
    const out: Sample[] = new Array(n);
    for (let k = 0; k < n; k++) {
      machine.step(step);
      out[k] = machine.sample(first + k * step);
    }
    return out;
  }

  get size(): number {
    return this.machines.length;
  }
}
