import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/index.js';

describe('Sparkplug configuration', () => {
  it('is off by default, with the spec\'s 2 s reorder timeout and every group', () => {
    expect(loadConfig({}).sparkplug).toEqual({ enabled: false, clientId: 'plantpulse-sparkplug-1', groups: [], mappingFile: undefined, reorderTimeoutMs: 2000, hostId: undefined });
  });

  it('parses groups (trimmed), the mapping file, the timeout and the host id', () => {
    const c = loadConfig({ PP_SPARKPLUG_ENABLED: 'true', PP_SPARKPLUG_GROUPS: 'Plant 1, plant-2', PP_SPARKPLUG_MAPPING_FILE: '/etc/pp/sparkplug.yaml', PP_SPARKPLUG_REORDER_TIMEOUT_MS: '500', PP_SPARKPLUG_HOST_ID: 'plantpulse' });
    expect(c.sparkplug).toEqual({ enabled: true, clientId: 'plantpulse-sparkplug-1', groups: ['Plant 1', 'plant-2'], mappingFile: '/etc/pp/sparkplug.yaml', reorderTimeoutMs: 500, hostId: 'plantpulse' });
  });

  it.each([
    ['PP_SPARKPLUG_GROUPS', 'a/b'],
    ['PP_SPARKPLUG_GROUPS', 'a,,b'],
    ['PP_SPARKPLUG_GROUPS', '#'],
    ['PP_SPARKPLUG_REORDER_TIMEOUT_MS', '-1'],
    ['PP_SPARKPLUG_HOST_ID', 'host/1'],
    ['PP_SPARKPLUG_ENABLED', 'maybe'],
  ])('rejects %s=%s, naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });

  it('refuses the MQTT source\'s client id for the Sparkplug client (they would take each other\'s session)', () => {
    expect(() => loadConfig({ PP_SPARKPLUG_ENABLED: 'true', PP_SPARKPLUG_CLIENT_ID: 'plantpulse-1' })).toThrow(/PP_SPARKPLUG_CLIENT_ID: must differ from PP_MQTT_CLIENT_ID/);
    expect(loadConfig({ PP_SPARKPLUG_CLIENT_ID: 'plantpulse-1' }).sparkplug.enabled).toBe(false); // only matters when enabled
  });
});
