import { describe, expect, it } from 'vitest';
import { messages } from '../../../../src/analytics/detectors/messages.js';
import { silenceDetector, silenceParamsSchema, type SilenceState } from '../../../../src/analytics/detectors/silence.js';
import type { DetectorEvent } from '../../../../src/analytics/types.js';
import { T0 } from './run.js';

const p = silenceParamsSchema.parse({ timeoutS: 120 });

/**
 * A script of inputs ('in'), ticks ('tick') and offline announcements ('off') at seconds from T0.
 */
function play(script: [('in' | 'tick' | 'off'), number][], initial: SilenceState = silenceDetector.initial(p)): string[] {
  let s: SilenceState = initial;
  const out: DetectorEvent[] = [];
  for (const [what, sec] of script) {
    const at = T0 + sec * 1000;
    const step =
      what === 'in'
        ? silenceDetector.step(p, s, { ts: at, value: 1 })
        : what === 'tick'
          ? (silenceDetector.tick?.(p, s, at) ?? { state: s, events: [] })
          : silenceDetector.offline!(p, s, at, 'device lost');
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

  it('a state that has heard nothing is the same after JSON, and as the null lastTs of a state handed over from an older version', () => {
    const script: [('in' | 'tick' | 'off'), number][] = [['tick', 0], ['off', 10], ['tick', 1000], ['in', 1100], ['tick', 1200], ['tick', 1300], ['in', 1400]];
    const expected = ['raise@1300:200', 'clear@1400:300'];
    expect(play(script)).toEqual(expected);
    expect(play(script, JSON.parse(JSON.stringify(silenceDetector.initial(p))) as SilenceState)).toEqual(expected);
    expect(play(script, { lastTs: null, active: false })).toEqual(expected);
  });

  it('regular inputs keep it quiet', () => {
    expect(play([['in', 0], ['tick', 60], ['in', 100], ['tick', 180], ['in', 200], ['tick', 300]])).toEqual([]);
  });

  it('an offline announcement raises at once; the timeout then repeats it (one alert, updated), the next input clears it once', () => {
    expect(play([['in', 0], ['off', 10], ['tick', 60], ['off', 70], ['tick', 120], ['in', 150], ['tick', 200]])).toEqual(['raise@10:10', 'raise@120:120', 'clear@150:150']);
  });

  it('ignores an announcement about a device it has never heard from', () => {
    expect(play([['off', 5], ['tick', 100]])).toEqual([]);
  });

  it('says the device reported offline, and why', () => {
    const s = silenceDetector.step(p, silenceDetector.initial(p), { ts: T0, value: 1 }).state;
    expect(silenceDetector.offline!(p, s, T0 + 1000, 'device lost').events[0]?.message).toEqual({ en: 'device: reported offline (device lost)', zh: '设备已报告离线（device lost）' });
  });

  it('messages say how long', () => {
    let s = silenceDetector.step(p, silenceDetector.initial(p), { ts: T0, value: 1 }).state;
    const raised = silenceDetector.tick?.(p, s, T0 + 300_000);
    expect(raised?.events[0]?.message).toEqual({ en: 'device: no data for 5 min (timeout 120 s)', zh: '设备已 5 分钟无数据（超时 120 秒）' });
    s = raised?.state ?? s;
    expect(silenceDetector.step(p, s, { ts: T0 + 360_000, value: 1 }).events[0]?.message.en).toBe('device: data resumed after 6 min without data');
  });

  it('Chinese messages: no space after a Chinese subject, one after a Latin metric name', () => {
    expect(messages.silenceRaised('temperature_c', 300_000, 120).zh).toMatch(/^温度已 5 分钟无数据/);
    expect(messages.silenceRaised('vib_g', 300_000, 120).zh).toMatch(/^vib_g 已 5 分钟无数据/);
    expect(messages.silenceCleared('*', 60_000).zh).toBe('设备数据已恢复（中断 60 秒）');
  });
});
