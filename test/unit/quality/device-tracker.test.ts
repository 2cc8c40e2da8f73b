import { describe, expect, it } from 'vitest';
import type { Sample, TelemetryBatch } from '../../../src/contract/index.js';
import { DEFAULT_QUALITY_CONFIG, type QualityConfig } from '../../../src/quality/config.js';
import { DeviceTracker } from '../../../src/quality/device-tracker.js';
import { DeviceWindow } from '../../../src/quality/device-window.js';
import { percentages } from '../../../src/quality/figures.js';
import { missingMessages } from '../../../src/quality/seq-tracker.js';

const S = 1000;
const MIN = 60 * S;
const HOUR = 60 * MIN;
/** 00:00 on 6 Jan 2026 in UTC+8: an hour and a plant-local day start. */
const T0 = Date.UTC(2026, 0, 5, 16);
const cfg: QualityConfig = { ...DEFAULT_QUALITY_CONFIG, utcOffsetMs: 8 * HOUR, delayLimitMs: 60 * S, silenceMs: 120 * S };
const ref = { site: 's1', line: 'l1', device: 'd1' };

/** Message k: 6 samples, 10 s apart, covering minute k. */
const minute = (k: number): Sample[] => Array.from({ length: 6 }, (_, j) => ({ ts: T0 + k * MIN + j * 10 * S, m: { power_kw: 1 } }));
const batch = (seq: number | null, samples: Sample[]): TelemetryBatch => ({ ...ref, seq, samples });

describe('DeviceTracker: a closed hour lets its timestamps go', () => {
  it('keeps no timestamps once the hour closed; seq still tells a redelivery (duplicate) from a backlog (late, counted)', () => {
    const t = new DeviceTracker(ref);
    for (let k = 0; k < 60; k++) if (k !== 30) t.accept(batch(k, minute(k)), T0 + (k + 1) * MIN, cfg, null);
    const w = t.windows.get(T0)!;
    expect(w.times?.size).toBe(59 * 6);
    t.freeze(T0, T0 + HOUR + 5 * MIN, cfg);
    expect(w.times).toBeNull(); // no longer held
    expect(w.counts.intervalMs).toBe(10 * S);
    t.accept(batch(59, minute(59)), T0 + HOUR + 6 * MIN, cfg, null); // redelivered: its seq was received
    t.accept(batch(30, minute(30)), T0 + HOUR + 7 * MIN, cfg, null); // the backlog: fills the gap
    const f = t.hourFigures(T0, T0 + HOUR + 7 * MIN, cfg);
    expect({ received: f.received, duplicates: f.duplicates, duplicateMessages: f.duplicateMessages, lateMessages: f.lateMessages }).toEqual({ received: 360, duplicates: 6, duplicateMessages: 1, lateMessages: 1 });
    // Saved and restored without timestamps, it stays that way.
    const saved = w.save();
    expect(saved.times).toBeNull();
    expect(DeviceWindow.restore(T0, saved.state, saved.times).times).toBeNull();
  });

  it('restores a window whose saved timestamps are cut short without them, as incomplete, instead of failing', () => {
    const t = new DeviceTracker(ref);
    for (let k = 0; k < 10; k++) t.accept(batch(k, minute(k)), T0 + (k + 1) * MIN, cfg, null);
    const saved = t.windows.get(T0)!.save();
    const whole = DeviceWindow.restore(T0, saved.state, saved.times);
    expect(whole.times?.size).toBe(60);
    expect(whole.timesComplete).toBe(true);
    const cut = DeviceWindow.restore(T0, saved.state, saved.times!.subarray(0, saved.times!.length - 3));
    expect(cut.times).toBeNull();
    expect(cut.timesComplete).toBe(false);
    expect(cut.counts.received).toBe(60);
  });
});

describe('DeviceTracker: samples', () => {
  it('counts received, duplicates, missing and late messages, delays, exactly', () => {
    const t = new DeviceTracker(ref);
    // Minutes 0..9, message k sent at the end of its minute; seq 3 is lost, seq 5 arrives twice.
    for (let k = 0; k <= 9; k++) {
      if (k === 3) continue;
      t.accept(batch(k, minute(k)), T0 + (k + 1) * MIN, cfg, null);
      if (k === 5) t.accept(batch(k, minute(k)), T0 + (k + 1) * MIN, cfg, null);
    }
    expect(t.intervalMs(cfg)).toBe(10 * S);
    expect(missingMessages(t.state.seq)).toBe(1);
    let f = t.hourFigures(T0, T0 + 10 * MIN, cfg);
    // Hand count: 10 minutes × 6 slots expected; 9 messages × 6 received; the repeat of seq 5 is 6 duplicates.
    expect({ expected: f.expected, received: f.received, duplicates: f.duplicates, duplicateMessages: f.duplicateMessages, lateMessages: f.lateMessages, outOfOrder: f.outOfOrder, timed: f.timed, onTime: f.onTime }).toEqual({
      expected: 60,
      received: 54,
      duplicates: 6,
      duplicateMessages: 1,
      lateMessages: 0,
      outOfOrder: 0,
      timed: 54,
      onTime: 54,
    });
    // Delays 60, 50, … 10 s, nine of each: p50 is the 27th smallest (30 s), p95 the 52nd (60 s).
    expect(percentages(f)).toMatchObject({ completenessPct: 90, timelinessPct: 100, delayP50Ms: 30 * S, delayP95Ms: 60 * S });

    // Seq 3 arrives at 15:00: late (fills its gap) and out of order, not missing.
    t.accept(batch(3, minute(3)), T0 + 15 * MIN, cfg, null);
    expect(missingMessages(t.state.seq)).toBe(0);
    f = t.hourFigures(T0, T0 + 15 * MIN, cfg);
    expect({ expected: f.expected, received: f.received, lateMessages: f.lateMessages, outOfOrder: f.outOfOrder, timed: f.timed, onTime: f.onTime }).toEqual({ expected: 90, received: 60, lateMessages: 1, outOfOrder: 6, timed: 60, onTime: 54 });
    // Its delays: 12:00 − 0:50 … 12:00 − 0:00 = 670 … 720 s. p95 = 57th smallest of 60 = the 3rd of those (690 s); p50 = 30th (40 s).
    expect(percentages(f)).toMatchObject({ delayP50Ms: 40 * S, delayP95Ms: 690 * S, timelinessPct: 90 });
  });

  it('a timestamp received again is a duplicate, with or without seq', () => {
    const t = new DeviceTracker(ref);
    const two = [
      { ts: T0, m: { x: 1 } },
      { ts: T0 + 10 * S, m: { x: 2 } },
    ];
    t.accept(batch(null, two), T0 + MIN, cfg, null);
    const again = t.accept(batch(null, [...two, { ts: T0 + 20 * S, m: { x: 3 } }]), T0 + MIN, cfg, null);
    expect(again).toMatchObject({ verdict: 'unsequenced', received: 1, duplicates: 2 });
    // A new seq carrying an old timestamp: still a duplicate sample.
    t.accept(batch(7, [{ ts: T0 + 30 * S, m: { x: 4 } }]), T0 + MIN, cfg, null);
    const r = t.accept(batch(8, [{ ts: T0 + 30 * S, m: { x: 4 } }]), T0 + MIN, cfg, null);
    expect(r).toMatchObject({ verdict: 'next', received: 0, duplicates: 1 });
    expect(t.hourFigures(T0, T0 + MIN, cfg)).toMatchObject({ received: 4, duplicates: 3, duplicateMessages: 0 });
  });

  it('samples whose day is past the late horizon are not accounted', () => {
    const t = new DeviceTracker(ref);
    const r = t.accept(batch(0, [{ ts: T0, m: { x: 1 } }]), T0 + 3 * 24 * HOUR, cfg, null);
    expect(r).toMatchObject({ received: 0, tooLate: 1 });
    expect(t.state.tooLate).toBe(1);
    expect(t.windows.size).toBe(0); // no window was made for the sample's long-gone hour
  });

  it('expects samples from the first one on, until retired, with the interval fixed when the hour closed', () => {
    const c = { ...cfg, retireAfterMs: HOUR };
    const t = new DeviceTracker(ref);
    t.accept(batch(30, minute(30)), T0 + 31 * MIN, c, null);
    // First sample at 00:30:00: 30 min of 10-s slots in hour 0; then it stops (newest 00:30:50).
    expect(t.hourFigures(T0, T0 + 3 * HOUR, c).expected).toBe(180);
    expect(t.hourFigures(T0 + HOUR, T0 + 3 * HOUR, c).expected).toBe(185); // 01:00 → 01:30:50, retired after
    expect(t.hourFigures(T0 + 2 * HOUR, T0 + 3 * HOUR, c).expected).toBe(0);
    t.freeze(T0, T0 + 3 * HOUR, c);
    // The gateway now samples every 5 s: hour 0 keeps its 10-s expectation, hour 1 is re-judged.
    for (let i = 1; i <= 40; i++) t.accept(batch(30 + i, [{ ts: T0 + 31 * MIN + i * 5 * S, m: { x: 1 } }]), T0 + 3 * HOUR, c, null);
    expect(t.intervalMs(c)).toBe(5 * S);
    expect(t.hourFigures(T0, T0 + 3 * HOUR, c).expected).toBe(180);
    // Newest sample now 00:34:20, retired an hour later: 01:00 → 01:34:20 is 2060 s of 5-s slots.
    expect(t.hourFigures(T0 + HOUR, T0 + 3 * HOUR, c).expected).toBe(412);
  });
});

describe('DeviceTracker: online time', () => {
  it('online until the silence limit after the last arrival; observed all the while', () => {
    const t = new DeviceTracker(ref);
    t.accept(batch(0, minute(0)), T0 + MIN, cfg, null);
    t.advance(T0 + 10 * MIN, cfg, null);
    expect(t.hourFigures(T0, T0 + 10 * MIN, cfg)).toMatchObject({ observedMs: 9 * MIN, onlineMs: 120 * S });
    expect(t.offline(T0 + 10 * MIN, cfg, null)).toEqual({ since: T0 + MIN + 120 * S, reason: 'silent' });
  });

  it('status offline and gateway offline take a device offline from when they were heard', () => {
    const t = new DeviceTracker(ref);
    t.accept(batch(0, minute(0)), T0 + MIN, cfg, null);
    t.setStatus('offline', 'stopped', 'gw-1', T0 + 90 * S, cfg, null);
    t.advance(T0 + 150 * S, cfg, null);
    expect(t.hourFigures(T0, T0 + 150 * S, cfg)).toMatchObject({ observedMs: 90 * S, onlineMs: 30 * S });
    expect(t.offline(T0 + 150 * S, cfg, null)).toEqual({ since: T0 + 90 * S, reason: 'status' });
    expect(t.offline(T0 + 150 * S, cfg, { state: 'offline', at: T0 + 70 * S })).toEqual({ since: T0 + 70 * S, reason: 'gateway' });
    expect(t.state.gateway).toBe('gw-1');
  });

  it('splits time at hour boundaries', () => {
    const t = new DeviceTracker(ref);
    t.accept(batch(0, minute(58)), T0 + 59 * MIN, cfg, null);
    t.advance(T0 + 61 * MIN, cfg, null);
    expect(t.hourFigures(T0, T0 + 61 * MIN, cfg)).toMatchObject({ observedMs: MIN, onlineMs: MIN });
    expect(t.hourFigures(T0 + HOUR, T0 + 61 * MIN, cfg)).toMatchObject({ observedMs: MIN, onlineMs: MIN });
  });
});

describe('DeviceTracker: state kept current in place', () => {
  it('one-sample messages in seq order move the seq, the last seq and the learned spacings in the saved state, as stepSeq would', () => {
    const t = new DeviceTracker(ref);
    const one = (k: number): Sample[] => [{ ts: T0 + k * 10 * S, m: { power_kw: 1 } }];
    const verdicts = [0, 1, 2, 3, 5, 6, 4, 6].map((k) => t.accept(batch(k, one(k)), T0 + k * 10 * S + S, cfg, null).verdict);
    expect(verdicts).toEqual(['first', 'next', 'next', 'next', 'ahead', 'next', 'gap-fill', 'duplicate']);
    const saved = JSON.parse(JSON.stringify(t.state)) as typeof t.state;
    expect(saved.seq).toEqual({ epoch: 0, highest: 6, gaps: [] });
    expect(saved.lastSeq).toEqual({ epoch: 0, seq: 4 });
    // Consecutive seqs only: 0→1→2→3 and 5→6 (3→5 skipped a message, 6→4 went back).
    expect(saved.spacings).toEqual([10 * S, 10 * S, 10 * S, 10 * S]);
    // A tracker restored from that state goes on from it.
    const again = new DeviceTracker(ref, saved);
    expect(again.accept(batch(7, one(7)), T0 + 71 * S, cfg, null).verdict).toBe('next');
    expect(again.state.spacings).toHaveLength(4); // 7 follows 4, the last seq taken, not 6
    expect(again.accept(batch(8, one(8)), T0 + 81 * S, cfg, null).verdict).toBe('next');
    expect(again.state.spacings).toEqual([10 * S, 10 * S, 10 * S, 10 * S, 10 * S]);
    expect(again.state.lastSeq).toEqual({ epoch: 0, seq: 8 });
    expect(again.intervalMs(cfg)).toBe(10 * S);
  });

  it('names its uploader by its gateway, and follows a change of gateway', () => {
    const t = new DeviceTracker(ref);
    expect([t.gatewayKey, t.uploaderKey]).toEqual([null, 'device:s1/l1/d1']);
    t.state.gateway = 'gw1';
    expect([t.gatewayKey, t.uploaderKey]).toEqual(['s1/gw1', 'gateway:s1/gw1']);
    t.setStatus('online', null, 'gw2', T0, cfg, null);
    expect([t.gatewayKey, t.uploaderKey]).toEqual(['s1/gw2', 'gateway:s1/gw2']);
  });
});

describe('DeviceTracker.accept: each outcome is the call\'s own', () => {
  it('counts and delays of one message only, whatever the one before said', () => {
    const t = new DeviceTracker(ref);
    const first = t.accept(batch(0, minute(0)), T0 + MIN, cfg, null);
    expect(first).toMatchObject({ verdict: 'first', received: 6, duplicates: 0, tooLate: 0 });
    expect(first.delays).toEqual(minute(0).map((s) => T0 + MIN - s.ts));
    const again = t.accept(batch(0, minute(0)), T0 + 2 * MIN, cfg, null);
    expect(again).toMatchObject({ verdict: 'duplicate', received: 0, duplicates: 6, tooLate: 0, delays: [] });
    const late = t.accept(batch(1, [{ ts: T0 - 3 * 24 * HOUR, m: { x: 1 } }]), T0 + 3 * MIN, cfg, null);
    expect(late).toMatchObject({ verdict: 'next', received: 0, duplicates: 0, tooLate: 1, delays: [] });
    const next = t.accept(batch(2, [{ ts: T0 + 2 * MIN, m: { x: 1 } }]), T0 + 2 * MIN + 5 * S, cfg, null);
    expect(next).toMatchObject({ verdict: 'next', received: 1, duplicates: 0, tooLate: 0, delays: [5 * S] });
  });
});
