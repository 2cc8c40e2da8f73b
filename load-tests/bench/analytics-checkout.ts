/**
 * The analytics engine of a checkout (this one, or another commit's `git worktree add` with its
 * node_modules) with that checkout's own default rules and energy configuration, loaded from its
 * sources, so benches can run several commits' engines side by side in one process.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TelemetryBatch } from '../../src/contract/index.js';

export interface CheckoutEngine {
  process(batch: TelemetryBatch, now: number): { events: unknown[]; points: unknown[] };
  tick(now: number): unknown[];
}
export type CheckoutEngineCtor = new (rules: unknown, energy: unknown) => CheckoutEngine;

export interface Checkout {
  Engine: CheckoutEngineCtor;
  config: { rules: unknown; energy: unknown };
}

/** `rules`: an analytics file (as PP_ANALYTICS_FILE takes) instead of the checkout's defaults. */
export async function loadCheckout(root: string, rules?: string): Promise<Checkout> {
  const engine = (await import(pathToFileURL(resolve(root, 'src/analytics/engine.ts')).href)) as { AnalyticsEngine: CheckoutEngineCtor };
  const cfg = (await import(pathToFileURL(resolve(root, 'src/analytics/config.ts')).href)) as { loadAnalyticsConfig: (p: string | undefined) => { rules: unknown; energy: unknown } };
  return { Engine: engine.AnalyticsEngine, config: cfg.loadAnalyticsConfig(rules) };
}
