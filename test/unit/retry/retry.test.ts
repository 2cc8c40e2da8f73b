import { describe, expect, it } from 'vitest';
import { Backoff, parseRetryAfter, retryDelayMs, type BackoffPolicy } from '../../../src/retry/index.js';

describe('retryDelayMs', () => {
  const equal: BackoffPolicy = { baseMs: 1000, maxMs: 60_000, jitter: 'equal' };
  const full: BackoffPolicy = { ...equal, jitter: 'full' };

  it('doubles from the base and is capped', () => {
    expect([1, 2, 3, 4].map((a) => retryDelayMs(a, equal, undefined, () => 1))).toEqual([1000, 2000, 4000, 8000]);
    expect(retryDelayMs(30, equal, undefined, () => 1)).toBe(60_000);
    // A long outage's attempt count stays finite.
    expect(retryDelayMs(100_000, full, undefined, () => 1)).toBe(60_000);
  });

  it('equal jitter stays in the upper half of the nominal delay, full jitter spans all of it', () => {
    expect([1, 2, 3, 4].map((a) => retryDelayMs(a, equal, undefined, () => 0))).toEqual([500, 1000, 2000, 4000]);
    expect(retryDelayMs(10_000, equal, undefined, () => 0.5)).toBe(45_000);
    expect([1, 2, 3].map((a) => retryDelayMs(a, full, undefined, () => 0))).toEqual([0, 0, 0]);
    expect(retryDelayMs(3, full, undefined, () => 0.25)).toBe(1000);
  });

  it("waits at least a server's Retry-After, never more than the maximum", () => {
    expect(retryDelayMs(1, full, 7000, () => 0.5)).toBe(7000);
    expect(retryDelayMs(5, full, 100, () => 1)).toBe(16_000);
    expect(retryDelayMs(1, equal, 3_600_000, () => 0)).toBe(60_000);
  });
});

describe('Backoff', () => {
  it('grows per failure and starts again after a success', () => {
    const b = new Backoff({ baseMs: 500, maxMs: 30_000, jitter: 'full' }, () => 1);
    expect([b.next(), b.next(), b.next()]).toEqual([500, 1000, 2000]);
    b.reset();
    expect(b.next()).toBe(500);
    for (let i = 0; i < 20; i++) b.next();
    expect(b.next()).toBe(30_000);
  });
});

describe('parseRetryAfter', () => {
  it.each([
    ['7', 7000],
    [' 0 ', 0],
    ['Sun, 06 Nov 1994 08:49:37 GMT', 0], // in the past: no wait
    ['soon', undefined],
    ['', undefined],
    [null, undefined],
    ['-5', undefined],
    ['1.5', undefined], // RFC 9110: delay-seconds is a non-negative integer
  ])('%j → %j ms', (value, ms) => expect(parseRetryAfter(value as string | null)).toBe(ms));
  it('reads an HTTP-date relative to now', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
  });
});
