import { describe, expect, it } from 'vitest';
import { QualityView } from '../../../src/view/index.js';
import type { PublishedStatus } from '../../../src/view/quality-publisher.js';

const ref = { site: 'site-1', line: 'line-1', device: 'dev-1' };
const status = (over: Partial<PublishedStatus>): PublishedStatus => ({ ...ref, online: true, offlineSince: null, offlineReason: null, lastSeen: 1000, lastSampleTs: 990, gateway: 'gw-1', intervalMs: 1000, missingMessages: 0, retired: false, reportedAt: 1000, ...over });

describe('an API node\'s device status', () => {
  it('takes the report with the newest arrival: an old owner going silent does not override the new owner', () => {
    let now = 10_000;
    const view = new QualityView(120_000, () => now);
    expect(view.apply(ref, status({ lastSeen: 5000, reportedAt: 5000 }))).toBe(true);
    // The old owner, no longer hearing the device, reports it offline later, but with an older arrival.
    expect(view.apply(ref, status({ lastSeen: 4000, online: false, offlineReason: 'silent', offlineSince: 4000, reportedAt: 9000 }))).toBe(false);
    expect(view.statusOf('site-1')).toEqual([expect.objectContaining({ online: true, lastSeen: 5000 })]);
    // The owner's own later report at the same arrival is taken.
    expect(view.apply(ref, status({ lastSeen: 5000, missingMessages: 3, reportedAt: 9500 }))).toBe(true);
    expect(view.statusOf('site-1', 'line-1')[0]!.missingMessages).toBe(3);
    expect(view.statusOf('site-2')).toEqual([]);
    now = 5000 + 120_000;
    expect(view.statusOf('site-1')[0]).toMatchObject({ online: false, offlineReason: 'silent', offlineSince: 125_000 });
    expect(view.statusOf('site-1')[0]).not.toHaveProperty('reportedAt');
  });

  it('keeps the gateway known from earlier reports when a new owner reports none', () => {
    const view = new QualityView(120_000, () => 10_000);
    view.apply(ref, status({ lastSeen: 5000, gateway: 'gw-1' }));
    expect(view.apply(ref, status({ lastSeen: 6000, gateway: null }))).toBe(true);
    expect(view.statusOf('site-1')[0]).toMatchObject({ lastSeen: 6000, gateway: 'gw-1' });
    // A gateway named later replaces it.
    view.apply(ref, status({ lastSeen: 7000, gateway: 'gw-2' }));
    expect(view.statusOf('site-1')[0]!.gateway).toBe('gw-2');
  });
});
