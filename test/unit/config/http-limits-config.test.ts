import { describe, expect, it } from 'vitest';
import { httpServerOptions } from '../../../src/api/http-limits.js';
import { ConfigError, loadConfig } from '../../../src/config/index.js';

describe('HTTP limits configuration (PP_HTTP_*_TIMEOUT_MS, PP_HTTP_MAX_CONNECTIONS)', () => {
  it('reads the timeouts and the connection cap', () => {
    const c = loadConfig({ PP_HTTP_HEADERS_TIMEOUT_MS: '5000', PP_HTTP_REQUEST_TIMEOUT_MS: '60000', PP_HTTP_MAX_CONNECTIONS: '500' });
    expect(c.http).toMatchObject({ headersTimeoutMs: 5000, requestTimeoutMs: 60_000, maxConnections: 500 });
  });
  it('refuses a headers timeout longer than the request timeout (headers are part of the request)', () => {
    expect(() => loadConfig({ PP_HTTP_HEADERS_TIMEOUT_MS: '30000', PP_HTTP_REQUEST_TIMEOUT_MS: '20000' })).toThrow(ConfigError);
    expect(() => loadConfig({ PP_HTTP_MAX_CONNECTIONS: '0' })).toThrow(ConfigError);
  });
  it('checks the timeouts often enough that a 20 s limit is not stretched to 50 s (Node checks every 30 s by default)', () => {
    const o = httpServerOptions({ headersTimeoutMs: 20_000, requestTimeoutMs: 120_000, maxConnections: 2048 });
    expect(o.http).toEqual({ headersTimeout: 20_000, requestTimeout: 120_000, connectionsCheckingInterval: 5_000 });
    expect(o.connectionTimeout).toBeGreaterThan(o.requestTimeout);
    expect(httpServerOptions({ headersTimeoutMs: 2_000, requestTimeoutMs: 3_000, maxConnections: 16 }).http.connectionsCheckingInterval).toBe(500);
  });
});
