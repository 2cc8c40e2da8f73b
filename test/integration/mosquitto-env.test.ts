import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startMosquitto } from '../support/mosquitto.js';

// broker-queue-cost.ts and overload-timeline.ts (MOSQUITTO_ENV) measure the broker with variables
// in its environment (its allocator's GLIBC_TUNABLES): they must reach the broker, and only it.
describe('startMosquitto({ env })', () => {
  it('starts the broker with the variables added to this process’s environment, on every restart', async () => {
    const broker = await startMosquitto('', { env: { GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' } });
    try {
      const environ = () => readFileSync(`/proc/${broker.pid()}/environ`, 'utf8').split('\0');
      expect(environ()).toContain('GLIBC_TUNABLES=glibc.malloc.hugetlb=1');
      if (process.env.PATH) expect(environ()).toContain(`PATH=${process.env.PATH}`);
      expect(process.env.GLIBC_TUNABLES).toBeUndefined();
      await broker.kill();
      await broker.restart();
      expect(environ()).toContain('GLIBC_TUNABLES=glibc.malloc.hugetlb=1');
    } finally {
      await broker.stop();
    }
  });
});
