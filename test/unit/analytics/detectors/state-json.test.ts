import { describe, expect, it } from 'vitest';
import { METRIC_CATALOGUE } from '../../../../src/contract/metrics.js';
import { detectorFor, type AnyDetector } from '../../../../src/analytics/detectors/index.js';
import { createRuleResolver, parseRulesConfig, type ResolvedRule } from '../../../../src/analytics/rules/index.js';
import type { DetectorEvent } from '../../../../src/analytics/types.js';

/**
 * Every default rule's detector state is plain data: handed through JSON in the middle of a run
 * (after warm-up, and while an alert is open), the run continues with exactly the events of a run
 * that was never interrupted. This is what moving a device between workers relies on.
 */

const T0 = Date.UTC(2026, 0, 5);
const STEP_S = 15;
const FAULT_FROM = 1500;
const FAULT_TO = 1900;
const LENGTH = 2300;

/** A deterministic generator (no Math.random: the runs must see the same inputs). */
function noise(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31 - 0.5;
  };
}

type Op = { kind: 'value'; ts: number; value: number } | { kind: 'sample'; ts: number; values: Record<string, number> } | { kind: 'tick'; now: number };

/** Healthy values, then a fault every default rule on the metric raises for (held ~100 min), then healthy again. */
function valueOps(rule: ResolvedRule): Op[] {
  const params = rule.params as { high?: number; low?: number };
  const range = rule.detector === 'range' ? (METRIC_CATALOGUE as Record<string, { range?: readonly [number, number] }>)[rule.metric]!.range! : null;
  let base = 60;
  let fault = 180;
  if (range) {
    base = range[0] + 0.3 * (range[1] - range[0]);
    fault = range[1] + (range[1] - range[0]);
  } else if (rule.detector === 'limit' && params.high !== undefined) {
    base = params.high * 0.5;
    fault = params.high * 2;
  } else if (rule.detector === 'limit' && params.low !== undefined) {
    base = params.low * 1.12;
    fault = params.low * 0.5;
  }
  const rnd = noise(7);
  return Array.from({ length: LENGTH }, (_, i) => {
    const healthy = base * (1 + 0.01 * rnd());
    return { kind: 'value', ts: T0 + i * STEP_S * 1000, value: i >= FAULT_FROM && i < FAULT_TO ? fault : healthy };
  });
}

/** Three metrics, `b` following `a`; during the fault `b` moves against `a`. */
function sampleOps(): Op[] {
  const rnd = noise(11);
  return Array.from({ length: LENGTH }, (_, i) => {
    const a = 50 + 2 * rnd();
    const b = (i >= FAULT_FROM && i < FAULT_TO ? 200 - 2 * a : 2 * a) + 0.2 * rnd();
    return { kind: 'sample', ts: T0 + i * STEP_S * 1000, values: { a, b, c: 10 + rnd() } };
  });
}

/**
 * For `dynamics` (a first-order model of each metric from the sample before): `a` wanders, `b`
 * follows it with a lag; during the fault `b` heads for a higher level than `a` explains (lost
 * cooling). Its rule learns for hours before it judges; here it gets a shorter warm-up
 * (DYNAMICS_WARMUP) so that the fault falls after it.
 */
function dynamicOps(): Op[] {
  const rnd = noise(13);
  let a = 50;
  let b = 100;
  return Array.from({ length: LENGTH }, (_, i) => {
    const target = 2 * a + (i >= FAULT_FROM && i < FAULT_TO ? 20 : 0);
    b += 0.05 * (target - b) + 0.2 * rnd();
    a += 0.02 * (50 - a) + rnd();
    return { kind: 'sample', ts: T0 + i * STEP_S * 1000, values: { a, b: b + 0.1 * rnd(), c: 10 + rnd() } };
  });
}
const DYNAMICS_WARMUP = { warmupSamples: 200, stateWarmupSamples: 100, warmupBlocks: 10 };

/** Heartbeats and clock ticks every 15 s; during the fault only the ticks (the device went silent). */
function heartbeatOps(): Op[] {
  const ops: Op[] = [];
  for (let i = 0; i < LENGTH; i++) {
    const ts = T0 + i * STEP_S * 1000;
    ops.push({ kind: 'tick', now: ts });
    if (i < FAULT_FROM || i >= FAULT_TO) ops.push({ kind: 'value', ts, value: 1 });
  }
  return ops;
}

/** Run ops[from, to) on `state` as the engine does (in place where the detector can), collecting events. */
function runOps(def: AnyDetector, params: unknown, state: unknown, ops: readonly Op[], from: number, to: number): { state: unknown; events: DetectorEvent[] } {
  const events: DetectorEvent[] = [];
  let s = state;
  for (let i = from; i < to; i++) {
    const op = ops[i]!;
    if (op.kind === 'tick') {
      const r = def.tick!(params, s, op.now);
      s = r.state;
      events.push(...r.events);
    } else if (op.kind === 'sample') {
      if (def.updateSample) events.push(...def.updateSample(params, s, { ts: op.ts, values: op.values }));
      else {
        const r = def.stepSample!(params, s, { ts: op.ts, values: op.values });
        s = r.state;
        events.push(...r.events);
      }
    } else if (def.update) events.push(...def.update(params, s, { ts: op.ts, value: op.value }));
    else {
      const r = def.step(params, s, { ts: op.ts, value: op.value });
      s = r.state;
      events.push(...r.events);
    }
  }
  return { state: s, events };
}

const RULES = createRuleResolver(parseRulesConfig({}))('s/l/d');

describe('detector states round-trip through JSON mid-run', () => {
  it('covers every default rule', () => {
    expect(RULES.map((r) => r.id)).toContain('deviation');
    expect(RULES.map((r) => r.id)).toContain('distribution-change');
    expect(RULES.map((r) => r.id)).toContain('joint-deviation');
  });

  for (const rule of RULES) {
    it(`${rule.id} (${rule.detector}): after warm-up and during an open alert, a JSON copy of the state continues with the same events`, () => {
      const def = detectorFor(rule.detector);
      const ops = rule.detector === 'silence' ? heartbeatOps() : rule.detector === 'dynamics' ? dynamicOps() : def.stepSample ? sampleOps() : valueOps(rule);
      const params: unknown = rule.detector === 'dynamics' ? { ...(rule.params as object), ...DYNAMICS_WARMUP } : rule.params;
      const whole = runOps(def, params, def.initial(params), ops, 0, ops.length);
      const firstRaise = whole.events.findIndex((e) => e.kind === 'raise');
      expect(firstRaise, 'the fault raises').toBeGreaterThanOrEqual(0);
      const raisedAt = whole.events[firstRaise]!.ts;
      const raiseOp = ops.findIndex((op) => (op.kind === 'tick' ? op.now : op.ts) === raisedAt);
      const clearedAt = whole.events.find((e) => e.kind === 'clear' && e.ts > raisedAt)?.ts ?? Infinity;
      // Warmed up, quiet: just before the fault. Open: a few inputs after the raise, before its clear.
      const cuts = [ops.findIndex((op) => (op.kind === 'tick' ? op.now : op.ts) >= T0 + (FAULT_FROM - 20) * STEP_S * 1000), raiseOp + 3];
      const openCutTs = ops[cuts[1]! - 1]!;
      expect(openCutTs.kind === 'tick' ? openCutTs.now : openCutTs.ts, 'the alert is still open at the cut').toBeLessThan(clearedAt);
      for (const cut of cuts) {
        const head = runOps(def, params, def.initial(params), ops, 0, cut);
        const copy: unknown = JSON.parse(JSON.stringify(head.state));
        expect(copy).toStrictEqual(head.state);
        const tail = runOps(def, params, copy, ops, cut, ops.length);
        expect([...head.events, ...tail.events]).toEqual(whole.events);
      }
    });
  }

  it("the pure step gives the in-place update's events and leaves the state it was given unchanged", () => {
    for (const rule of RULES.filter((r) => r.detector === 'robust' || r.detector === 'distribution' || r.detector === 'multivariate')) {
      const def = detectorFor(rule.detector);
      const ops = def.stepSample ? sampleOps() : valueOps(rule);
      const inPlace = runOps(def, rule.params, def.initial(rule.params), ops, 0, ops.length);
      const pure: DetectorEvent[] = [];
      let s = def.initial(rule.params);
      for (const op of ops) {
        const before = JSON.stringify(s);
        const r = op.kind === 'sample' ? def.stepSample!(rule.params, s, { ts: op.ts, values: op.values }) : def.step(rule.params, s, { ts: (op as { ts: number }).ts, value: (op as { value: number }).value });
        expect(JSON.stringify(s)).toBe(before);
        s = r.state;
        pure.push(...r.events);
      }
      expect(pure).toEqual(inPlace.events);
      expect(inPlace.events.length).toBeGreaterThan(0);
    }
  });
});
