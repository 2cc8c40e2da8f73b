import { deviceKey, type DeviceRef, type Sample } from '../src/contract/index.js';
import type { DeviceSelector } from './simulator/index.js';

/** What the broker acknowledged for one device. */
export interface DeviceTally {
  ref: DeviceRef;
  /** Samples acknowledged. */
  count: number;
  /** Messages acknowledged. */
  messages: number;
  firstTs: number;
  lastTs: number;
  /** Highest acknowledged seq (messages carry 0, 1, 2, … per device). */
  lastSeq: number;
}

/** What a run delivered: only what the broker acknowledged (PUBACK) is counted. */
export interface FactoryResult {
  messages: number;
  samples: number;
  /** By device key `site/line/device`. */
  perDevice: Map<string, DeviceTally>;
  /**
   * Every acknowledged sample, per device key, in publication order. Burst mode records them;
   * realtime mode only when `recordSamples` is set (it runs for days).
   */
  sent: Map<string, Sample[]>;
  /** The exact sample sent for a device at `ts` (recorded runs), for spot-checks against storage. */
  expected(device: DeviceSelector, ts: number): Sample | undefined;
  elapsedMs: number;
}

export type BurstResult = FactoryResult;

/** Tallies acknowledged messages per device, and optionally keeps the samples. */
export class SentLog {
  messages = 0;
  samples = 0;
  readonly perDevice = new Map<string, DeviceTally>();
  readonly sent = new Map<string, Sample[]>();

  constructor(private readonly record: boolean) {}

  acked(ref: DeviceRef, samples: Sample[], seq: number): void {
    const key = deviceKey(ref);
    let t = this.perDevice.get(key);
    if (!t) {
      t = { ref, count: 0, messages: 0, firstTs: Infinity, lastTs: -Infinity, lastSeq: -1 };
      this.perDevice.set(key, t);
    }
    t.count += samples.length;
    t.messages++;
    t.lastSeq = Math.max(t.lastSeq, seq);
    for (const s of samples) {
      if (s.ts < t.firstTs) t.firstTs = s.ts;
      if (s.ts > t.lastTs) t.lastTs = s.ts;
    }
    this.messages++;
    this.samples += samples.length;
    if (this.record) {
      const list = this.sent.get(key) ?? [];
      list.push(...samples);
      this.sent.set(key, list);
    }
  }

  expected(device: DeviceSelector, ts: number): Sample | undefined {
    const list = this.sent.get(typeof device === 'string' ? device : deviceKey(device));
    if (!list) return undefined;
    // Acks of one device arrive in publication order, and timestamps grow: binary search.
    let lo = 0;
    let hi = list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const at = list[mid]!.ts;
      if (at === ts) return list[mid];
      if (at < ts) lo = mid + 1;
      else hi = mid - 1;
    }
    return list.find((s) => s.ts === ts); // acks out of order (after a reconnect): linear fallback
  }

  result(elapsedMs: number): FactoryResult {
    return {
      messages: this.messages,
      samples: this.samples,
      perDevice: this.perDevice,
      sent: this.sent,
      expected: (device, ts) => this.expected(device, ts),
      elapsedMs,
    };
  }
}
