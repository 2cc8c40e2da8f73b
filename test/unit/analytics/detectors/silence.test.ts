import { describe, expect, it } from 'vitest';
import { silenceDetector, silenceParamsSchema, type SilenceState } from '../../../../src/analytics/detectors/silence.js';
import type { DetectorEvent } from '../../../../src/analytics/types.js';
import { T0 } from './run.js';

const p = silenceParamsSchema.parse({ timeoutS: 120 });

/** A script of inputs ('in') and ticks ('tick') at seconds from T0. */
function play(script: [('in' | 'tick'), number][]): string[] {
  let s: SilenceState = silenceDetector.initial(p);
  const out: DetectorEvent[] = [];
  for (const [what, sec] of script) {
    const step = what === 'in' ? silenceDetector.step(p, s, { ts: T0 + sec * 1000, value: 1 }) : (silenceDetector.tick?.(p, s, T0 + sec * 1000) ?? { state: s, events: [] });
    s = step.state;
    out.push(...step.events);
  }
  return out.map((e) => `${e.kind}@${(e.ts - T0) / 1000}:${e.value}`);
}

describe('silence detector', () => {
  it('never raises before the first input', () => {
    expect(play([['tick', 0], ['tick', 1000]])).toEqual([]);
  });

  it('raises when nothing arrived for timeoutS, repeats on later ticks, clears once on the next input', () => {
    expect(play([['in', 0], ['tick', 60], ['tick', 119], ['tick', 120], ['tick', 180], ['in', 200], ['tick', 210], ['in', 220]])).toEqual(['raise@120:120', 'raise@180:180', 'clear@200:200']);
  });

  it('regular inputs keep it quiet', () => {
    expect(play([['in', 0], ['tick', 60], ['in', 100], ['tick', 180], ['in', 200], ['tick', 300]])).toEqual([]);
  });

  it('messages say how long', () => {
    let s = silenceDetector.step(p, silenceDetector.initial(p), { ts: T0, value: 1 }).state;
    const raised = silenceDetector.tick?.(p, s, T0 + 300_000);
    expect(raised?.events[0]?.message).toEqual({ en: 'device: no data for 5 min (timeout 120 s)', zh: '设备 已 5 分钟 无数据（超时 120 秒）' });
    s = raised?.state ?? s;
    expect(silenceDetector.step(p, s, { ts: T0 + 360_000, value: 1 }).events[0]?.message.en).toBe('device: data resumed after 6 min without data');
  });
});
