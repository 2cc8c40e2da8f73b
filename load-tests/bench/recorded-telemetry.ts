/**
 * Telemetry recorded once per device and replayed: the load generator's cheap source of
 * realistic messages. Simulating a machine and encoding its sample costs the generator about as
 * much as sending it, and the generator shares the machine with the platform it measures; so
 * each device's simulated machine (workload.ts) is stepped `samples` times once, at `stepMs`
 * (about the spacing the benchmarks publish a device at), and each reading is kept as JSON
 * text around its counters. A message is then that text with only what must change filled in:
 * the seq, each sample's timestamp (workload.ts's clock: unique, increasing, the newest "now")
 * and the counters. The text is kept as UTF-8 bytes and a message is written as bytes straight
 * into the gateway's output buffer (`writeMessage`): numbers are written as digits, and no string
 * is built, flattened, measured and encoded per message.
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
  /**
   * Per sample, the UTF-8 JSON text around its counters, all in one buffer: sample k's part j
   * (`counters.length + 1` parts) is `bytes[offsets[p], offsets[p + 1])` with
   * p = k × (counters.length + 1) + j, the first opening its metrics (`,"m":{`), the last closing
   * the sample (`}}`). (Not a view per part: views took more memory than the text, and a message
   * touched them all.)
   */
  bytes: Uint8Array;
  offsets: Uint32Array;
  /** Samples recorded, and the most bytes a message of them takes. */
  length: number;
  maxMessageBytes: number;
  /** The counters' names in their order in the text, and their decimals. */
  counters: string[];
  decimals: number[];
  factors: number[];
  /** Per counter, per sample: the increase from the sample before (index 0: 0). */
  increments: Float64Array[];
  /** Playback: position, direction, the counters' values now and their last text (ASCII, `textLength[c]` bytes). */
  at: number;
  dir: 1 | -1;
  values: Float64Array;
  texts: Uint8Array[];
  textLength: Uint8Array;
}

/** Longest counter text: a number's shortest form (`String(x)`) is at most 25 characters. */
const TEXT_MAX = 32;
const SEQ_OPEN = ascii('{"seq":');
const SAMPLES_OPEN = ascii(',"samples":[');
const TS_OPEN = ascii('{"ts":');

function ascii(s: string): Uint8Array {
  return Uint8Array.from(s, (ch) => ch.charCodeAt(0));
}

/** `s` (ASCII) into `out` at `at`; returns where it ends. */
function writeAscii(out: Uint8Array, at: number, s: string): number {
  for (let k = 0; k < s.length; k++) out[at++] = s.charCodeAt(k);
  return at;
}

/** `from[start, end)` into `out` at `at`: a longer part with one `set` (on a view made for it), a short one byte by byte; returns where it ends. */
function copyPart(out: Uint8Array, at: number, from: Uint8Array, start: number, end: number): number {
  if (end - start <= 24) return copyBytes(out, at, from, start, end);
  out.set(from.subarray(start, end), at);
  return at + end - start;
}

/** `from[start, end)` into `out` at `at`, byte by byte; returns where it ends. */
function copyBytes(out: Uint8Array, at: number, from: Uint8Array, start: number, end: number): number {
  for (let k = start; k < end; k++) out[at++] = from[k]!;
  return at;
}

/** Below this an integer's digits are exact in a double and its `String()` is those digits. */
const DIGITS_EXACT = 2 ** 53;

/** The `digits` last decimal digits of `x` (an integer, 0 ≤ x < 2^31) into `out`, ending at `end`. */
function writeDigits(out: Uint8Array, end: number, x: number, digits: number): void {
  for (let k = end - 1; k >= end - digits; k--) {
    const q = (x / 10) | 0;
    out[k] = 48 + x - q * 10;
    x = q;
  }
}

/** Decimal digits of `x` (an integer, 0 ≤ x < 2^31). */
function digitCount(x: number): number {
  let n = 1;
  for (let p = 10; p <= x && n < 10; p *= 10) n++;
  return n;
}

/**
 * A non-negative integer `x` (< 2^53) as `String(x)` writes it, into `out` at `at`; returns where
 * it ends. Anything else is written as `String(x)`. (Written in int32 halves: a timestamp's
 * 13 digits are the first digits and 9 more.)
 */
export function writeInteger(out: Uint8Array, at: number, x: number): number {
  if (x >= 0 && x <= 0x7fffffff && (x | 0) === x) {
    const n = digitCount(x);
    writeDigits(out, at + n, x, n);
    return at + n;
  }
  if (!(x >= 0 && x < DIGITS_EXACT && Math.floor(x) === x)) return writeAscii(out, at, String(x));
  const high = Math.floor(x / 1e9); // < 2^31: x < 2^53
  const n = digitCount(high);
  writeDigits(out, at + n, high, n);
  writeDigits(out, at + n + 9, x - high * 1e9, 9);
  return at + n + 9;
}

/**
 * `String(units / 10 ** decimals)` for an integer `units` (`f` = 10 ** decimals), into `out` at
 * `at`; returns where it ends. Below 2^50 units the spacing of doubles near units / f is below
 * 10^-decimals, so the shortest text that reads back as units / f (what `String` writes) is its
 * exact decimal: the integer part, then the decimals without their trailing zeros. Anything else
 * is written by `String`.
 */
export function writeDecimal(out: Uint8Array, at: number, units: number, decimals: number, f: number): number {
  if (decimals === 0) return writeInteger(out, at, units);
  if (!(units >= 0 && units < 2 ** 50 && Math.floor(units) === units && decimals <= 6)) return writeAscii(out, at, String(units / f));
  let whole = Math.floor(units / f);
  if (whole * f > units) whole--;
  at = writeInteger(out, at, whole);
  let frac = units - whole * f;
  if (frac === 0) return at;
  let digits = decimals;
  while (frac % 10 === 0) {
    frac /= 10;
    digits--;
  }
  out[at] = 0x2e; // '.'
  const end = at + 1 + digits;
  writeDigits(out, end, frac, digits); // frac < f ≤ 10^6
  return end;
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
  /** Where `nextMessage` writes a message before it becomes a string. */
  private scratch = Buffer.allocUnsafe(0);
  /** The newest timestamp of the message `writeMessage` wrote last. */
  newestTs = 0;

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

  /** At most how many bytes `writeMessage` writes for device `i`. */
  maxMessageBytes(i: number): number {
    return this.recording(i).maxMessageBytes;
  }

  /**
   * Device `i`'s next message (seq `seq`, newest sample stamped `now`) as UTF-8 JSON, written
   * into `out` at `at` (room for `maxMessageBytes(i)`); returns where it ends. Its newest
   * timestamp is then `newestTs`.
   */
  writeMessage(i: number, seq: number, out: Uint8Array, at: number, now = Date.now()): number {
    const r = this.recording(i);
    const n = this.workload.samplesPerMessage;
    const { first, step } = this.workload.nextStamps(i, now);
    const counters = r.counters.length;
    const { bytes, offsets, texts, textLength } = r;
    at = copyBytes(out, at, SEQ_OPEN, 0, SEQ_OPEN.length);
    at = writeInteger(out, at, seq);
    at = copyBytes(out, at, SAMPLES_OPEN, 0, SAMPLES_OPEN.length);
    for (let k = 0; k < n; k++) {
      if (k > 0) out[at++] = 0x2c; // ','
      at = copyBytes(out, at, TS_OPEN, 0, TS_OPEN.length);
      at = writeInteger(out, at, first + k * step);
      let p = this.advance(r) * (counters + 1);
      at = copyPart(out, at, bytes, offsets[p]!, offsets[p + 1]!);
      for (let c = 0; c < counters; c++) {
        at = copyBytes(out, at, texts[c]!, 0, textLength[c]!);
        p++;
        at = copyPart(out, at, bytes, offsets[p]!, offsets[p + 1]!);
      }
    }
    out[at++] = 0x5d; // ']}'
    out[at++] = 0x7d;
    this.newestTs = first + (n - 1) * step;
    return at;
  }

  /** Device `i`'s next message as JSON (seq `seq`, newest sample stamped `now`) and its newest timestamp. */
  nextMessage(i: number, seq: number, now = Date.now()): { json: string; newestTs: number } {
    const need = this.maxMessageBytes(i);
    if (this.scratch.length < need) this.scratch = Buffer.allocUnsafe(need);
    const end = this.writeMessage(i, seq, this.scratch, 0, now);
    return { json: this.scratch.toString('utf8', 0, end), newestTs: this.newestTs };
  }

  /** The same as objects (for a message altered before it is sent). */
  nextSamples(i: number, now = Date.now()): Sample[] {
    return (JSON.parse(this.nextMessage(i, 0, now).json) as { samples: Sample[] }).samples;
  }

  /** Move to the next recorded sample (turning at either end), add its counter increments; returns its index. */
  private advance(r: Recording): number {
    const from = r.at;
    if (r.at + r.dir < 0 || r.at + r.dir >= r.length) r.dir = r.dir === 1 ? -1 : 1;
    r.at += r.dir;
    // Forwards the increment into the new sample; backwards the one out of the sample left.
    const inc = r.dir === 1 ? r.at : from;
    for (let c = 0; c < r.counters.length; c++) {
      const d = r.increments[c]![inc]!;
      if (d === 0) continue;
      r.values[c]! += d;
      const f = r.factors[c]!;
      // String(Math.round(value × f) / f), as bytes.
      r.textLength[c] = writeDecimal(r.texts[c]!, 0, Math.round(r.values[c]! * f), r.decimals[c]!, f);
    }
    return r.at;
  }

  private recording(i: number): Recording {
    const existing = this.recordings[i];
    if (existing) return existing;
    const machine = this.workload.plant.machines[i]!;
    const encoded: Buffer[] = [];
    const readings: Record<string, number>[] = [];
    let counters: string[] = [];
    let maxSampleBytes = 0;
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
      if (p.length !== counters.length + 1) throw new Error(`device ${i}: the metrics changed while recording`);
      p[0] = `,"m":{${p[0]!}`;
      p[p.length - 1] += '}}';
      let sampleBytes = 0;
      for (const part of p) {
        const b = Buffer.from(part, 'utf8');
        encoded.push(b);
        sampleBytes += b.length;
      }
      maxSampleBytes = Math.max(maxSampleBytes, sampleBytes);
    }
    const bytes = new Uint8Array(encoded.reduce((n, b) => n + b.length, 0));
    const offsets = new Uint32Array(encoded.length + 1);
    for (let j = 0, at = 0; j < encoded.length; j++) {
      bytes.set(encoded[j]!, at);
      offsets[j + 1] = at += encoded[j]!.length;
    }
    const increments = counters.map((c) => Float64Array.from(readings, (m, k) => (k === 0 ? 0 : Math.max(0, m[c]! - readings[k - 1]![c]!))));
    const start = readings[0]!;
    const texts = counters.map(() => new Uint8Array(TEXT_MAX));
    const r: Recording = {
      bytes,
      offsets,
      length: this.samples,
      maxMessageBytes: SEQ_OPEN.length + TEXT_MAX + SAMPLES_OPEN.length + this.workload.samplesPerMessage * (1 + TS_OPEN.length + TEXT_MAX + maxSampleBytes + counters.length * TEXT_MAX) + 2,
      counters,
      decimals: counters.map((c) => COUNTERS[c]!),
      factors: counters.map((c) => 10 ** COUNTERS[c]!),
      increments,
      at: 0,
      dir: 1,
      values: Float64Array.from(counters, (c) => start[c]!),
      texts,
      textLength: Uint8Array.from(counters, (c, k) => writeAscii(texts[k]!, 0, String(start[c]))),
    };
    // The first message starts at position 0: step back so the first advance lands there.
    r.at = -1;
    this.recordings[i] = r;
    return r;
  }
}
