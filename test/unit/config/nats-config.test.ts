import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/index.js';

function problems(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  return '';
}

describe('PP_SOURCE=nats configuration', () => {
  it('defaults: MQTT source; with nats, one local server, 12 partitions, a worker id from host and pid, no simulator', () => {
    expect(loadConfig({}).source).toBe('mqtt');
    const c = loadConfig({ PP_SOURCE: 'nats' });
    expect(c.source).toBe('nats');
    expect(c.nats.servers).toEqual(['nats://127.0.0.1:4222']);
    expect(c.nats.partitions).toBe(12);
    expect(c.nats.window).toBe(1000);
    expect(c.nats.ackWaitMs).toBe(30_000);
    expect(c.nats.workerId).toMatch(new RegExp(`^[A-Za-z0-9_-]+-${process.pid}$`));
    expect(c.nats.deadLetterPrefix).toBe('pp.dead-letter.v1');
    expect(c.simulator.enabled).toBe(false);
  });

  it('takes a comma-separated list of servers', () => {
    const c = loadConfig({ PP_SOURCE: 'nats', PP_NATS_URL: 'nats://a:4222, nats://b:4222,tls://c:4222', PP_NATS_WORKER_ID: 'w-1' });
    expect(c.nats.servers).toEqual(['nats://a:4222', 'nats://b:4222', 'tls://c:4222']);
    expect(c.nats.workerId).toBe('w-1');
  });

  it('refuses bad values with the variable named', () => {
    expect(problems({ PP_NATS_URL: 'http://a:4222' })).toMatch(/PP_NATS_URL: .*nats: or tls:/);
    expect(problems({ PP_SOURCE: 'kafka' })).toMatch(/PP_SOURCE/);
    expect(problems({ PP_NATS_WORKER_ID: 'a.b' })).toMatch(/PP_NATS_WORKER_ID/);
    expect(problems({ PP_NATS_DEAD_LETTER_PREFIX: 'pp.v1.dead' })).toMatch(/PP_NATS_DEAD_LETTER_PREFIX: .*would consume its own dead letters/);
    expect(problems({ PP_NATS_DEAD_LETTER_PREFIX: 'dead.>' })).toMatch(/without wildcards/);
    expect(problems({ PP_NATS_LEASE_TTL_MS: '3000', PP_NATS_LEASE_RENEW_MS: '1500' })).toMatch(/PP_NATS_LEASE_RENEW_MS: must be under/);
    expect(problems({ PP_SOURCE: 'nats', PP_SPARKPLUG_ENABLED: 'true' })).toMatch(/PP_SPARKPLUG_ENABLED: not available with PP_SOURCE=nats/);
    expect(problems({ PP_SOURCE: 'nats', PP_SIMULATOR: 'true' })).toMatch(/PP_SIMULATOR: not available/);
    expect(problems({ PP_NATS_PASSWORD: 'x', PP_NATS_PARTITIONS: '0' })).not.toContain('"x"');
  });
});

describe('PP_ROLE configuration', () => {
  it('defaults to one process doing everything, as in the quick start (embedded broker, simulator)', () => {
    const c = loadConfig({});
    expect(c.role).toBe('all');
    expect(c.source).toBe('mqtt');
    expect(c.simulator.enabled).toBe(true);
    expect(c.view).toEqual({ liveIntervalMs: 1000, alertRetentionMs: 30 * 86_400_000 });
  });

  it('worker and api roles work through NATS', () => {
    expect(loadConfig({ PP_ROLE: 'worker', PP_SOURCE: 'nats' }).role).toBe('worker');
    const api = loadConfig({ PP_ROLE: 'api', PP_SOURCE: 'nats', PP_NATS_WORKER_ID: 'api-1', PP_VIEW_ALERT_RETENTION_DAYS: '7' });
    expect(api.role).toBe('api');
    expect(api.simulator.enabled).toBe(false);
    expect(api.view.alertRetentionMs).toBe(7 * 86_400_000);
  });

  it('refuses combinations that make no sense, naming the variable and the way out', () => {
    expect(problems({ PP_ROLE: 'api' })).toMatch(/PP_ROLE: PP_ROLE=api works through NATS .*set PP_SOURCE=nats and PP_NATS_URL, or use PP_ROLE=all/);
    expect(problems({ PP_ROLE: 'worker', PP_MQTT_URL: 'mqtt://broker:1883' })).toMatch(/PP_ROLE: PP_ROLE=worker works through NATS/);
    expect(problems({ PP_ROLE: 'api', PP_SOURCE: 'nats', PP_MQTT_URL: 'mqtt://broker:1883' })).toMatch(/PP_MQTT_URL: not used with PP_ROLE=api/);
    expect(problems({ PP_ROLE: 'api', PP_SOURCE: 'nats', PP_SIMULATOR: 'true' })).toMatch(/PP_SIMULATOR: not available/);
    expect(problems({ PP_ROLE: 'reader' })).toMatch(/PP_ROLE: .*(all|worker|api)/);
    expect(problems({ PP_VIEW_LIVE_INTERVAL_MS: '10' })).toMatch(/PP_VIEW_LIVE_INTERVAL_MS/);
  });
});
