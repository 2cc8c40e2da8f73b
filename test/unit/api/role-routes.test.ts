import { describe, expect, it } from 'vitest';
import { servedElsewhere } from '../../../src/api/role-routes.js';

describe('routes of another role', () => {
  it('ingest is named as a worker\'s on an API node, subscriptions as an API node\'s on a worker', () => {
    expect(servedElsewhere('api', 'POST', '/api/v1/ingest/s/l/d')).toBe('POST /api/v1/ingest/s/l/d is served by PP_ROLE=worker nodes (and single processes, PP_ROLE=all); this node runs PP_ROLE=api');
    expect(servedElsewhere('api', 'POST', '/api/v2/write?bucket=b')).toContain('PP_ROLE=worker');
    expect(servedElsewhere('api', 'POST', '/write')).toContain('PP_ROLE=worker');
    expect(servedElsewhere('worker', 'GET', '/api/v1/subscriptions/abc/deliveries')).toContain('served by PP_ROLE=api nodes');
    expect(servedElsewhere('worker', 'DELETE', '/api/v1/subscriptions/abc')).toContain('this node runs PP_ROLE=worker');
  });

  it('a single process serves them all, and routes nobody serves are not claimed', () => {
    expect(servedElsewhere('all', 'POST', '/api/v1/ingest/s/l/d')).toBeNull();
    expect(servedElsewhere('all', 'GET', '/api/v1/subscriptions')).toBeNull();
    expect(servedElsewhere('worker', 'POST', '/api/v1/ingest/s/l/d')).toBeNull();
    expect(servedElsewhere('api', 'GET', '/api/v1/ingest/s/l/d')).toBeNull();
    expect(servedElsewhere('api', 'POST', '/api/v1/ingest/s/l/d/extra')).toBeNull();
    expect(servedElsewhere('worker', 'GET', '/api/v1/subscriptionsx')).toBeNull();
  });
});
