import type { z } from 'zod';
import type { Category, DetectorDef } from '../types.js';

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
