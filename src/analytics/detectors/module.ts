import type { z } from 'zod';
import type { Category, DetectorDef, DetectorEvent, DetectorInput, SampleInput, Step } from '../types.js';

/**
 * A detector kind as the registry holds it: the pure functions of `DetectorDef`, plus the zod
 * schema of its parameters (rules are validated against it when they are loaded) and the category
 * a rule of this kind gets when it does not say.
 */
export interface DetectorModule<P, S> extends DetectorDef<P, S> {
  readonly paramsSchema: z.ZodType<P>;
  readonly defaultCategory: Category;
  /** One line for error messages and docs. */
  readonly summary: string;
}

/**
 * The pure form (`step`, `stepSample`) of an in-place update (`update`, `updateSample`): the same
 * events, on a copy of the state, so callers that keep old states (replays, tests) still can.
 */
export function pureStep<P, S, I>(copy: (s: S) => S, update: (p: P, s: S, input: I) => readonly DetectorEvent[]): (p: P, s: S, input: I) => Step<S> {
  return (p, s, input) => {
    const next = copy(s);
    return { state: next, events: update(p, next, input) };
  };
}

/**
 * The steps of a detector that judges whole samples, from its in-place `update`: `updateSample`,
 * its pure form `stepSample`, and `step` for a rule that hands it one value, which is judged as a
 * one-metric sample (a single value carries nothing about how metrics move together: never raises).
 */
export function sampleSteps<P extends { metric: string }, S>(
  copy: (s: S) => S,
  update: (p: P, s: S, input: SampleInput) => readonly DetectorEvent[],
): Pick<DetectorDef<P, S>, 'updateSample' | 'stepSample' | 'step'> {
  return {
    updateSample: update,
    stepSample: pureStep(copy, update),
    step: pureStep(copy, (p: P, s: S, { ts, value }: DetectorInput) => update(p, s, { ts, values: { [p.metric]: value } })),
  };
}
