import { Counter, type Registry } from 'prom-client';

export type DenialReason = 'missing_token' | 'invalid_token' | 'forbidden' | 'site_forbidden' | 'rate_limited';

/** Registered on the platform's registry (one per platform instance). */
export function createAuthMetrics(registry: Registry) {
  return {
    denied: new Counter({ registers: [registry], name: 'pp_auth_denied_total', help: 'Requests refused by authentication or authorization, by reason', labelNames: ['reason'] as const }),
  };
}

export type AuthMetrics = ReturnType<typeof createAuthMetrics>;
