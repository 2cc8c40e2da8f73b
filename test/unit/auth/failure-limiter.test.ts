import { describe, expect, it } from 'vitest';
import { FailureLimiter } from '../../../src/auth/index.js';

describe('failed-authentication limiter', () => {
  it('blocks an address after maxFailures in a window, for the rest of the window only', () => {
    let now = 0;
    const l = new FailureLimiter({ maxFailures: 3, windowMs: 60_000 }, () => now);
    l.fail('a');
    l.fail('a');
    expect(l.blockedFor('a')).toBe(0);
    l.fail('a');
    expect(l.blockedFor('a')).toBe(60);
    expect(l.blockedFor('b')).toBe(0);
    now = 59_500;
    expect(l.blockedFor('a')).toBe(1);
    now = 60_000;
    expect(l.blockedFor('a')).toBe(0);
    l.fail('a');
    expect(l.blockedFor('a')).toBe(0);
  });

  it('stays bounded when many addresses fail', () => {
    let now = 0;
    const l = new FailureLimiter({ maxFailures: 1, windowMs: 1000, maxEntries: 100 }, () => now);
    for (let i = 0; i < 1000; i++) {
      now = i;
      l.fail(`10.0.${i >> 8}.${i & 255}`);
    }
    expect(l.size).toBeLessThanOrEqual(101);
    // The newest are kept.
    expect(l.blockedFor('10.0.3.231')).toBeGreaterThan(0);
  });

  it('drops expired windows first once over the cap, keeping every live one', () => {
    let now = 0;
    const l = new FailureLimiter({ maxFailures: 1, windowMs: 1000, maxEntries: 100 }, () => now);
    for (let i = 0; i < 100; i++) l.fail(`old-${i}`);
    now = 1000; // all of those have expired
    for (let i = 0; i < 50; i++) l.fail(`new-${i}`);
    expect(l.size).toBe(50); // the first insert past the cap dropped all the expired ones…
    for (let i = 0; i < 50; i++) expect(l.blockedFor(`new-${i}`)).toBeGreaterThan(0); // …and no live one
  });
});
