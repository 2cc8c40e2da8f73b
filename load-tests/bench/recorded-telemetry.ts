/**
 * Telemetry recorded once per device and replayed: the load generator's cheap source of
 * realistic messages. Simulating a machine and encoding its sample costs the generator about as
 * much as sending it, and the generator shares the machine with the platform it measures; so
 * each device's simulated machine (workload.ts) is stepped `samples` times once, at `stepMs`
 * (about the spacing the benchmarks publish a device at), and each reading is kept as JSON
 * text around its counters. A message is then that text with only what must change filled in:
 * the seq, each sample's timestamp (workload.ts's clock: unique, increasing, the newest "now")
 * and the counters.
 *
 * The recording is played forwards, then backwards, and so on: gauges (power, temperature,
 * vibration, current, ...) move as recorded with their instrument noise and never jump; the
 * counters (energy, gas, parts) grow by the recorded increments in either direction, so they
 * never decrease. Every message has the shape and size of the simulation's, and the platform
 * decodes, validates and analyses every sample as it would a live one.
 */
import type { Sample } from '../../src/contract/index.js';
import type { Workload } from './workload.js';

/** Cumulative readings and their decimals (the simulator's rounding). */
const COUNTERS: Record<string, number> = { energy_kwh: 3, gas_m3: 3, output_units: 0 };

/** One device's recording. */
interface Recording {
  /** Per sample: the JSON text of its metrics around the counters (`parts[k].length` = counters + 1). */
  parts: string[][];
  /** The counters' names in their order in the text, and their decimals. */
  counters: string[];
  decimals: number[];
  /** Per counter, per sample: the increase from the sample before (index 0: 0). */
  increments: Float64Array[];
  /** Playback: position, direction, the counters' values now and their last text. */
  at: number;
  dir: 1 | -1;
  values: Float64Array;
  texts: string[];
}

function flat(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}

const byWorkload = new WeakMap<Workload, RecordedTelemetry>();

export class RecordedTelemetry {
  /**
   * The recording of a workload, shared by every fleet that sends it (the scale bench sends one
   * workload through several fleets in turn): its devices' counters then go on growing from one
   * fleet to the next, as their timestamps do (workload.ts).
   */
  static of(workload: Workload): RecordedTelemetry {
    let t = byWorkload.get(workload);
    if (!t) byWorkload.set(workload, (t = new RecordedTelemetry(workload)));
    return t;
  }

  private readonly recordings: (Recording | undefined)[];
  private readonly samples: number;
  private readonly stepMs: number;

  /**
   * `samples` per device (default: 256, fewer for large fleets so the recordings stay near
   * 200,000 samples in all), recorded at `stepMs` (default 10: a device of the benchmarks'
   * 200-device fleets at 20,000 samples/s).
   */
  constructor(
    readonly workload: Workload,
    opts: { samples?: number; stepMs?: number } = {},
  ) {
    const n = workload.samplesPerMessage;
    this.samples = opts.samples ?? Math.max(4 * n, Math.min(256, Math.floor(200_000 / workload.size)));
    if (!Number.isInteger(this.samples) || this.samples < 2) throw new Error(`recorded samples per device must be an integer ≥ 2, got ${this.samples}`);
    this.stepMs = opts.stepMs ?? 10;
    this.recordings = new Array(workload.size);
  }

  /** Record every device now (otherwise each is recorded at its first message). */
  recordAll(): void {
    for (let i = 0; i < this.workload.size; i++) this.recording(i);
  }

  /** Device `i`'s next message as JSON (seq `seq`, newest sample stamped `now`) and its newest timestamp. */
  nextMessage(i: number, seq: number, now = Date.now()): { json: string; newestTs: number } {
    const r = this.recording(i);
    const n = this.workload.samplesPerMessage;
    const { first, step } = this.workload.nextStamps(i, now);
    let json = `{"seq":${seq},"samples":[`;
    for (let k = 0; k < n; k++) {
      const parts = this.advance(r);
      json += `${k === 0 ? '' : ','}{"ts":${first + k * step},"m":{${parts[0]!}`;
      for (let c = 0; c < r.counters.length; c++) json += r.texts[c]! + parts[c + 1]!;
      json += '}}';
    }
    return { json: `${json}]}`, newestTs: first + (n - 1) * step };
  }

  /** The same as objects (for a message altered before it is sent). */
  nextSamples(i: number, now = Date.now()): Sample[] {
    const r = this.recording(i);
    const n = this.workload.samplesPerMessage;
    const { first, step } = this.workload.nextStamps(i, now);
    const out: Sample[] = new Array(n);
    for (let k = 0; k < n; k++) {
      const parts = this.advance(r);
      let m = parts[0]!;
      for (let c = 0; c < r.counters.length; c++) m += r.texts[c]! + parts[c + 1]!;
      out[k] = { ts: first + k * step, m: JSON.parse(`{${m}}`) as Record<string, number> };
    }
    return out;
  }

  /** Move to the next recorded sample (turning at either end), add its counter increments; returns its text parts. */
  private advance(r: Recording): string[] {
    const from = r.at;
    if (r.at + r.dir < 0 || r.at + r.dir >= r.parts.length) r.dir = r.dir === 1 ? -1 : 1;
    r.at += r.dir;
    // Forwards the increment into the new sample; backwards the one out of the sample left.
    const inc = r.dir === 1 ? r.at : from;
    for (let c = 0; c < r.counters.length; c++) {
      const d = r.increments[c]![inc]!;
      if (d === 0) continue;
      r.values[c]! += d;
      const f = 10 ** r.decimals[c]!;
      r.texts[c] = String(Math.round(r.values[c]! * f) / f);
    }
    return r.parts[r.at]!;
  }

  private recording(i: number): Recording {
    const existing = this.recordings[i];
    if (existing) return existing;
    const machine = this.workload.plant.machines[i]!;
    const parts: string[][] = [];
    const readings: Record<string, number>[] = [];
    let counters: string[] = [];
    for (let k = 0; k < this.samples; k++) {
      if (k > 0) machine.step(this.stepMs);
      const m = machine.sample(0).m;
      readings.push(m);
      if (k === 0) counters = Object.keys(m).filter((key) => key in COUNTERS);
      // The metrics' JSON text, split where each counter's value goes.
      const p: string[] = [];
      let text = '';
      for (const [key, value] of Object.entries(m)) {
        text += `${text === '' && p.length === 0 ? '' : ','}"${key}":`;
        if (key in COUNTERS) {
          p.push(text);
          text = '';
        } else text += JSON.stringify(value);
      }
      p.push(text);
      // Kept flat: a string grown by `+=` is a tree of pieces, walked again every time a message
      // made of it is copied out (that walk cost three times the rest of building a message).
      for (let j = 0; j < p.length; j++) p[j] = flat(p[j]!);
      if (p.length !== counters.length + 1) throw new Error(`device ${i}: the metrics changed while recording`);
      parts.push(p);
    }
    const increments = counters.map((c) => Float64Array.from(readings, (m, k) => (k === 0 ? 0 : Math.max(0, m[c]! - readings[k - 1]![c]!))));
    const start = readings[0]!;
    const r: Recording = {
      parts,
      counters,
      decimals: counters.map((c) => COUNTERS[c]!),
      increments,
      at: 0,
      dir: 1,
      values: Float64Array.from(counters, (c) => start[c]!),
      texts: counters.map((c) => String(start[c])),
    };
    // The first message starts at position 0: step back so the first advance lands there.
    r.at = -1;
    this.recordings[i] = r;
    return r;
  }
}
