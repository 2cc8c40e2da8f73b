import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/index.js';

describe('line protocol configuration (PP_LP_*)', () => {
  it('defaults: site, line, device then host, passthrough telemetry', () => {
    expect(loadConfig({}).lineProtocol).toEqual({ siteTags: ['site'], lineTags: ['line'], deviceTags: ['device', 'host'], passthroughMeasurements: ['telemetry'] });
  });
  it('reads comma-separated lists in order', () => {
    const c = loadConfig({ PP_LP_SITE_TAG: 'plant,site', PP_LP_LINE_TAG: 'cell', PP_LP_DEVICE_TAG: 'machine', PP_LP_PASSTHROUGH_MEASUREMENTS: 'telemetry,plc' });
    expect(c.lineProtocol).toEqual({ siteTags: ['plant', 'site'], lineTags: ['cell'], deviceTags: ['machine'], passthroughMeasurements: ['telemetry', 'plc'] });
  });
  it.each(['site, line', 'a,,b', ',a', 'a,'])('refuses %j, naming the variable', (value) => {
    let error: unknown;
    try {
      loadConfig({ PP_LP_DEVICE_TAG: value });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.variable)).toEqual(['PP_LP_DEVICE_TAG']);
  });
});
