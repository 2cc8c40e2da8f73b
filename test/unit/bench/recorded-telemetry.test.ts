import { describe, expect, it } from 'vitest';
import { decodeMqttMessage, deviceTopic } from '../../../src/contract/index.js';
import { RecordedTelemetry } from '../../../load-tests/bench/recorded-telemetry.js';
import { Workload } from '../../../load-tests/bench/workload.js';

// The load generator's replayed messages: valid for the platform's decoder, shaped like the
// simulation's, counters never decreasing and timestamps never repeating across laps of the recording.

const SHAPE = { sites: 2, linesPerSite: 2, machinesPerLine: 3, samplesPerMessage: 10 };
const counters = ['energy_kwh', 'gas_m3', 'output_units'];

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

  it('refuses a recording too short to play back', () => {
    expect(() => new RecordedTelemetry(new Workload(SHAPE), { samples: 1 })).toThrow(/integer ≥ 2/);
  });
});
