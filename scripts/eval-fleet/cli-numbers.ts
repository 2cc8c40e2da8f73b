/** Where simulated runs start: a fixed Monday, 00:00 UTC, so a seed gives the same timestamps on every run. */
export const SIM_START_TS = Date.UTC(2026, 10, 2);

/** A numeric command-line option, or an error naming it. */
export function positiveNumber(name: string, value: string | undefined, integer = false, min = Number.MIN_VALUE): number {
  const n = Number(value);
  if (value === undefined || value.trim() === '' || !Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
    const bound = min === Number.MIN_VALUE ? '> 0' : `≥ ${min}`;
    throw new Error(`${name} must be ${integer ? 'an integer' : 'a number'} ${bound}, got ${JSON.stringify(value)}`);
  }
  return n;
}
