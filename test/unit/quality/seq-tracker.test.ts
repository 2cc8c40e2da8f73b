import { describe, expect, it } from 'vitest';
import { deviceStateFrom } from '../../../src/quality/device-state.js';
import { initialSeqState, MAX_GAP_RANGES, missingMessages, pruneGaps, stepSeq, type SeqState, type SeqVerdict } from '../../../src/quality/seq-tracker.js';

/** Feed (seq, oldest sample ts) pairs; newest ts seen grows with the samples. */
function run(messages: [number, number][]): { state: SeqState; verdicts: SeqVerdict[]; abandoned: number } {
  let state = initialSeqState();
  let newest = -Infinity;
  let abandoned = 0;
  const verdicts: SeqVerdict[] = [];
  for (const [seq, ts] of messages) {
    const r = stepSeq(state, seq, ts, newest, 0);
    state = r.state;
    abandoned += r.abandoned;
    verdicts.push(r.verdict);
    newest = Math.max(newest, ts);
  }
  return { state, verdicts, abandoned };
}

describe('stepSeq', () => {
  it('first, next, a gap opened ahead, filled late one by one, duplicates', () => {
    const r = run([
      [0, 0],
      [1, 10],
      [5, 50], // 2, 3, 4 missing
      [3, 30], // late: fills the middle of the gap
      [3, 30], // again: a duplicate
      [1, 10], // old: a duplicate
      [2, 20],
      [6, 60],
    ]);
    expect(r.verdicts).toEqual(['first', 'next', 'ahead', 'gap-fill', 'duplicate', 'duplicate', 'gap-fill', 'next']);
    expect(r.state.gaps.map((g) => [g.from, g.to])).toEqual([[4, 4]]);
    expect(missingMessages(r.state)).toBe(1);
    expect(r.state.highest).toBe(6);
  });

  it('a counter that restarts (lower seq, newer samples) is a reset, and abandons the old gaps', () => {
    const r = run([
      [10, 100],
      [13, 130], // 11, 12 missing
      [0, 500], // gateway restarted its counter
      [1, 510],
    ]);
    expect(r.verdicts).toEqual(['first', 'ahead', 'reset', 'next']);
    expect(r.state.epoch).toBe(1);
    expect(r.abandoned).toBe(2);
    expect(missingMessages(r.state)).toBe(0);
  });

  it('a jump too large to be lost messages is a reset too', () => {
    const r = run([
      [5, 0],
      [5 + 2_000_000, 10],
    ]);
    expect(r.verdicts).toEqual(['first', 'reset']);
    expect(missingMessages(r.state)).toBe(0);
  });

  it('keeps at most MAX_GAP_RANGES gap ranges, abandoning the oldest', () => {
    const msgs: [number, number][] = [];
    for (let i = 0; i <= MAX_GAP_RANGES + 5; i++) msgs.push([i * 2, i]); // every other seq missing
    const r = run(msgs);
    expect(r.state.gaps).toHaveLength(MAX_GAP_RANGES);
    expect(r.abandoned).toBe(5);
    expect(r.state.gaps[0]!.from).toBe(11);
  });

  it('prunes gaps found before a cutoff', () => {
    let s = stepSeq(initialSeqState(), 0, 0, -Infinity, 0).state;
    s = stepSeq(s, 3, 1, 0, 100).state; // gap 1..2 found at 100
    s = stepSeq(s, 6, 2, 1, 200).state; // gap 4..5 found at 200
    const p = pruneGaps(s, 150);
    expect(p.abandoned).toBe(2);
    expect(p.state.gaps.map((g) => g.from)).toEqual([4]);
    expect(pruneGaps(p.state, 150).abandoned).toBe(0);
  });

  it('moves the device state in place, opening, splitting and closing gaps as it goes', () => {
    const state = initialSeqState();
    const gaps = state.gaps;
    for (const [seq, verdict] of [
      [0, 'first'],
      [10, 'ahead'], // 1..9 missing
      [5, 'gap-fill'], // 1..4, 6..9
      [1, 'gap-fill'], // 2..4, 6..9
      [9, 'gap-fill'], // 2..4, 6..8
      [12, 'ahead'], // and 11
      [11, 'gap-fill'],
      [5, 'duplicate'],
    ] as const) {
      const r = stepSeq(state, seq, seq, 100, 7);
      expect(r.verdict).toBe(verdict);
      expect(r.state).toBe(state);
    }
    expect(state.gaps).toBe(gaps);
    expect(state.gaps).toEqual([
      { from: 2, to: 4, at: 7 },
      { from: 6, to: 8, at: 7 },
    ]);
    expect(state.highest).toBe(12);
  });
});

describe('a device state read from a hand-over or a save', () => {
  it('shares no object with what it was read from: the tracker moving it leaves the source as it was', () => {
    const saved = { seq: { epoch: 0, highest: 10, gaps: [{ from: 3, to: 6, at: 1 }] }, lastSeq: { epoch: 0, seq: 10 } };
    const before = structuredClone(saved);
    const state = deviceStateFrom(saved);
    stepSeq(state.seq, 4, 0, 0, 2);
    stepSeq(state.seq, 12, 0, 0, 2);
    state.lastSeq!.seq = 12;
    expect(state.seq.gaps).toEqual([
      { from: 3, to: 3, at: 1 },
      { from: 5, to: 6, at: 1 },
      { from: 11, to: 11, at: 2 },
    ]);
    expect(saved).toEqual(before);
  });
});
