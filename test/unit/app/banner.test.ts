import { afterEach, describe, expect, it, vi } from 'vitest';
import { printBanner } from '../../../src/app/banner.js';
import type { Platform } from '../../../src/app/platform.js';
import { loadConfig } from '../../../src/config/index.js';

function bannerOf(env: NodeJS.ProcessEnv, platform: Partial<Platform>): string {
  const out: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out.push(String(chunk));
    return true;
  });
  const base = { httpUrl: 'http://127.0.0.1:8080', storage: { kind: 'none' }, auth: { mode: 'off', firstAdminToken: null }, embeddedBroker: false };
  printBanner(loadConfig(env), { ...base, ...platform } as unknown as Platform, false);
  return out.join('');
}

afterEach(() => vi.restoreAllMocks());

describe('start-up banner', () => {
  it('names the MQTT broker for the MQTT source, with its password hidden', () => {
    const text = bannerOf({ PP_MQTT_URL: 'mqtt://u:secret@broker:1883' }, { mqttUrl: 'mqtt://u:secret@broker:1883' });
    expect(text).toMatch(/MQTT broker {3}mqtt:\/\/u:\[redacted\]@broker:1883/);
    expect(text).not.toContain('secret');
    expect(text).not.toContain('NATS');
  });

  it('names NATS and the role on a NATS worker or API node, not an MQTT broker', () => {
    const worker = bannerOf({ PP_SOURCE: 'nats', PP_ROLE: 'worker', PP_NATS_WORKER_ID: 'w-1', PP_NATS_URL: 'nats://10.0.0.5:4222' }, { mqttUrl: 'nats://10.0.0.5:4222' });
    expect(worker).toContain('NATS          nats://10.0.0.5:4222   (worker w-1, JetStream partitions)');
    expect(worker).not.toContain('MQTT broker');
    const api = bannerOf({ PP_SOURCE: 'nats', PP_ROLE: 'api', PP_NATS_WORKER_ID: 'api-1' }, { mqttUrl: 'nats://127.0.0.1:4222' });
    expect(api).toContain('(API node: alerts, live values and completeness from the workers\' streams)');
  });
});
