import { describe, expect, it } from 'vitest';
import { ConfigError, ENV_VARS, loadConfig } from '../../../src/config/index.js';

describe('configuration from the environment', () => {
  it('has working defaults: embedded broker, managed influxd, simulator on', () => {
    const c = loadConfig({});
    expect(c.http).toEqual({ host: '127.0.0.1', port: 8080, headersTimeoutMs: 20_000, requestTimeoutMs: 120_000, maxConnections: 2048 });
    expect(c.mqtt.url).toBeUndefined();
    expect(c.influx.api).toBe('v1');
    expect(c.simulator.enabled).toBe(true);
    expect(c.limits.maxBytes).toBe(1024 * 1024);
  });
  it('parses values and turns the simulator off with a real broker', () => {
    const c = loadConfig({ PP_HTTP_PORT: '9000', PP_MQTT_URL: 'mqtt://broker:1883', PP_MQTT_SHARED_GROUP: 'pp', PP_INFLUX_URL: 'http://influx:8086' });
    expect(c.http.port).toBe(9000);
    expect(c.mqtt.sharedGroup).toBe('pp');
    expect(c.simulator.enabled).toBe(false);
    expect(loadConfig({ PP_MQTT_URL: 'mqtt://b', PP_SIMULATOR: 'true' }).simulator.enabled).toBe(true);
  });
  it('has an MQTT window in messages (at most MQTT 5 receive-maximum, 65,535) and in payload bytes (0: no byte limit)', () => {
    expect(loadConfig({}).mqtt).toMatchObject({ receiveMaximum: 10000, windowBytes: 4 * 1024 * 1024 });
    expect(loadConfig({ PP_MQTT_RECEIVE_MAXIMUM: '20000', PP_MQTT_WINDOW_BYTES: '4194304' }).mqtt).toMatchObject({ receiveMaximum: 20000, windowBytes: 4194304 });
    expect(() => loadConfig({ PP_MQTT_WINDOW_BYTES: '-1' })).toThrow(ConfigError);
    expect(loadConfig({ PP_MQTT_WINDOW_BYTES: '0' }).mqtt.windowBytes).toBe(0);
    expect(loadConfig({ PP_MQTT_RECEIVE_MAXIMUM: '65535' }).mqtt.receiveMaximum).toBe(65535);
    expect(() => loadConfig({ PP_MQTT_RECEIVE_MAXIMUM: '65536' })).toThrow(ConfigError);
  });
  it('treats empty strings as unset', () => {
    expect(loadConfig({ PP_MQTT_URL: '' }).mqtt.url).toBeUndefined();
  });
  it.each([
    ['PP_HTTP_PORT', 'eighty'],
    ['PP_HTTP_PORT', '70000'],
    ['PP_MQTT_URL', 'http://not-mqtt'],
    ['PP_INFLUX_URL', 'not a url'],
    ['PP_INFLUX_API', 'v3'],
    ['PP_LOG_LEVEL', 'loud'],
    ['PP_MQTT_SHARED_GROUP', 'a/b'],
    ['PP_SIMULATOR', 'maybe'],
  ])('a bad %s=%s stops start-up with a message naming the variable', (name, value) => {
    let error: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.variable)).toEqual([name]);
    expect((error as Error).message).toContain(name);
  });
  it('names a misspelt PP_ variable', () => {
    expect(() => loadConfig({ PP_HTTP_PROT: '1' })).toThrow(/PP_HTTP_PROT: unknown variable/);
  });
  it('requires a token for the v2 API', () => {
    expect(() => loadConfig({ PP_INFLUX_API: 'v2', PP_INFLUX_URL: 'http://x:8086' })).toThrow(/PP_INFLUX_TOKEN/);
  });
  it('documents every variable', () => {
    for (const [name, v] of Object.entries(ENV_VARS)) expect(v.doc.length, name).toBeGreaterThan(10);
  });
});
