import { describe, expect, it } from 'vitest';
import { decodeMqttMessage, deviceTopic } from '../../../src/contract/index.js';
import { RecordedTelemetry } from '../../../load-tests/bench/recorded-telemetry.js';
import { Workload } from '../../../load-tests/bench/workload.js';

// The load generator's replayed messages: valid for the platform's decoder, shaped like the
// simulation's, counters never decreasing and timestamps never repeating across laps of the recording.

const SHAPE = { sites: 2, linesPerSite: 2, machinesPerLine: 3, samplesPerMessage: 10 };
const counters = ['energy_kwh', 'gas_m3', 'output_units'];

/** Byte for byte (toEqual walks a Buffer slowly); on a difference, the texts side by side. */
function sameBytes(got: Buffer, want: Buffer): void {
  if (!got.equals(want)) expect(got.toString('utf8')).toBe(want.toString('utf8'));
}

/**
 * The replay as the message builder made it before it wrote bytes, from the objects: each device's
 * simulated readings (stepped `stepMs` apart, `samples` of them) played forwards, then backwards,
 * ...; the counters (3, 3 and 0 decimals) grow by the recorded increments, rounded as the
 * simulator rounds; each message `JSON.stringify({ seq, samples: [{ ts, m }] })`, stamped by a
 * twin workload's clock.
 */
function referenceReplay(workload: Workload, samples: number, stepMs: number) {
  const decimals: Record<string, number> = { energy_kwh: 3, gas_m3: 3, output_units: 0 };
  const devices = workload.plant.machines.map((machine) => {
    const readings: Record<string, number>[] = [];
    for (let k = 0; k < samples; k++) {
      if (k > 0) machine.step(stepMs);
      readings.push({ ...machine.sample(0).m });
    }
    const names = Object.keys(readings[0]!).filter((key) => key in decimals);
    const increments = names.map((c) => readings.map((m, k) => (k === 0 ? 0 : Math.max(0, m[c]! - readings[k - 1]![c]!))));
    return { readings, names, increments, values: names.map((c) => readings[0]![c]!), shown: names.map((c) => readings[0]![c]!), at: -1, dir: 1 };
  });
  return (i: number, seq: number, now: number): string => {
    const d = devices[i]!;
    const { first, step } = workload.nextStamps(i, now);
    const out: { ts: number; m: Record<string, number> }[] = [];
    for (let k = 0; k < workload.samplesPerMessage; k++) {
      const from = d.at;
      if (d.at + d.dir < 0 || d.at + d.dir >= samples) d.dir = -d.dir;
      d.at += d.dir;
      const inc = d.dir === 1 ? d.at : from;
      d.names.forEach((c, j) => {
        const add = d.increments[j]![inc]!;
        if (add === 0) return;
        d.values[j]! += add;
        const f = 10 ** decimals[c]!;
        d.shown[j] = Math.round(d.values[j]! * f) / f;
      });
      const m = { ...d.readings[d.at]! };
      d.names.forEach((c, j) => (m[c] = d.shown[j]!));
      out.push({ ts: first + k * step, m });
    }
    return JSON.stringify({ seq, samples: out });
  };
}

describe('bench: recorded telemetry', () => {
  it('builds messages the platform decodes without a rejection, each sample with the simulation\'s metrics', () => {
    const now = Date.now();
    const replay = new RecordedTelemetry(new Workload(SHAPE, now - 60_000), { samples: 25 });
    const live = new Workload(SHAPE, now - 60_000);
    for (let i = 0; i < live.size; i++) {
      const { json, newestTs } = replay.nextMessage(i, 7, now);
      const r = decodeMqttMessage(deviceTopic(live.devices[i]!, 'metrics'), Buffer.from(json), undefined, now);
      expect(r.rejections).toEqual([]);
      expect(r.batch?.seq).toBe(7);
      expect(r.batch?.samples).toHaveLength(10);
      expect(r.batch?.samples.at(-1)?.ts).toBe(newestTs);
      expect(newestTs).toBe(now);
      const simulated = live.nextSamples(i, now);
      for (const s of r.batch!.samples) expect(Object.keys(s.m).sort()).toEqual(Object.keys(simulated[0]!.m).sort());
      // Same size as the simulation's message, within the digits its numbers happen to have.
      const size = JSON.stringify({ seq: 7, samples: simulated }).length;
      expect(Math.abs(json.length - size) / size).toBeLessThan(0.05);
    }
  });

  it('plays the recording back and forth: counters never decrease, gauges change, timestamps strictly increase', () => {
    const w = new Workload({ ...SHAPE, sites: 1, linesPerSite: 1 });
    const replay = new RecordedTelemetry(w, { samples: 12, stepMs: 60_000 }); // long steps: counters visibly grow
    for (let i = 0; i < w.size; i++) {
      let lastTs = 0;
      const last: Record<string, number> = {};
      const powers = new Set<number>();
      for (let msg = 0; msg < 8; msg++) {
        const { json } = replay.nextMessage(i, msg, Date.now() + msg);
        const p = JSON.parse(json) as { seq: number; samples: { ts: number; m: Record<string, number> }[] };
        expect(p.seq).toBe(msg);
        for (const s of p.samples) {
          expect(s.ts).toBeGreaterThan(lastTs);
          lastTs = s.ts;
          powers.add(s.m.power_kw!);
          for (const c of counters) {
            if (s.m[c] === undefined) continue;
            expect(s.m[c]).toBeGreaterThanOrEqual(last[c] ?? 0);
            last[c] = s.m[c];
          }
        }
      }
      expect(powers.size).toBeGreaterThan(5);
      expect(last.energy_kwh).toBeGreaterThan(0);
    }
  });

  it('the objects of an altered message carry the same values the text would', () => {
    const a = new RecordedTelemetry(new Workload(SHAPE, 1_700_000_000_000), { samples: 30 });
    const b = new RecordedTelemetry(new Workload(SHAPE, 1_700_000_000_000), { samples: 30 });
    for (let msg = 0; msg < 5; msg++) {
      const now = 1_700_000_000_000 + msg * 10_000;
      expect(JSON.stringify({ seq: msg, samples: a.nextSamples(2, now) })).toBe(b.nextMessage(2, msg, now).json);
    }
  });

  it('is one per workload, shared by the fleets that send it (their counters go on from one to the next)', () => {
    const w = new Workload({ ...SHAPE, sites: 1, linesPerSite: 1, machinesPerLine: 1 });
    expect(RecordedTelemetry.of(w)).toBe(RecordedTelemetry.of(w));
    expect(RecordedTelemetry.of(new Workload(SHAPE))).not.toBe(RecordedTelemetry.of(w));
  });

  it('writes each message as the very bytes of JSON.stringify of its samples, over laps of the recording and in any buffer position', () => {
    const start = 1_700_000_000_000;
    for (const [shape, opts] of [
      [SHAPE, { samples: 12, stepMs: 60_000 }], // short recording, long steps: many turns, counters with decimals
      [{ ...SHAPE, samplesPerMessage: 1 }, { samples: 5, stepMs: 1_000 }],
      [{ ...SHAPE, sites: 1 }, {}], // the default recording length and step
    ] as const) {
      const replay = new RecordedTelemetry(new Workload(shape, start), opts);
      const twin = new Workload(shape, start);
      const reference = referenceReplay(twin, opts.samples ?? Math.max(4 * shape.samplesPerMessage, Math.min(256, Math.floor(200_000 / twin.size))), opts.stepMs ?? 10);
      const out = Buffer.alloc(64 * 1024, 0xee);
      for (let msg = 0; msg < 40; msg++) {
        for (let i = 0; i < twin.size; i++) {
          // Bursts (several messages a millisecond) and gaps (a natural pace), seq beyond 2^31.
          const now = start + 60_000 + msg * (msg % 3 === 0 ? 1 : 2_500) + i;
          const seq = msg % 2 === 0 ? msg : 2 ** 32 - 1 - msg;
          const want = Buffer.from(reference(i, seq, now));
          if (msg % 4 === 3) {
            const got = replay.nextMessage(i, seq, now);
            sameBytes(Buffer.from(got.json), want);
            expect(got.newestTs).toBe((JSON.parse(got.json) as { samples: { ts: number }[] }).samples.at(-1)!.ts);
            continue;
          }
          const at = 1 + ((msg * 977 + i * 131) % 30_000);
          const end = replay.writeMessage(i, seq, out, at, now);
          expect(end - at).toBeLessThanOrEqual(replay.maxMessageBytes(i));
          sameBytes(out.subarray(at, end), want);
          expect(out[at - 1]).toBe(0xee); // nothing written before it
          out.fill(0xee, at, end);
        }
      }
    }
  });

  it('refuses a recording too short to play back', () => {
    expect(() => new RecordedTelemetry(new Workload(SHAPE), { samples: 1 })).toThrow(/integer ≥ 2/);
  });
});
