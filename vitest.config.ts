import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests start real mosquitto/influxd processes; give them room on a 2-core box.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // Integration suites each own their processes on free ports; run files in parallel but
    // keep it modest so real services do not starve each other on 2 cores.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
