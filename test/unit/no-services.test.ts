import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * `npm run test:unit` is the fast path: no services, no network. The helpers that start real
 * processes (Mosquitto, influxd, VictoriaMetrics, Chromium, a whole platform) belong to
 * test/integration and test/faults; a unit test that imports one, or names a service binary,
 * is in the wrong folder.
 */
const SERVICE_HELPERS = ['mosquitto', 'influxd', 'victoria-metrics', 'browser', 'platform', 'steady-load'];
const SERVICE_BINARIES = /\/usr\/s?bin\/(mosquitto|influxd|victoria-metrics|chromium)\b/;

describe('test/unit', () => {
  const dir = new URL('./', import.meta.url);
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && f !== 'no-services.test.ts');

  it('imports no helper that starts a service, and names no service binary', () => {
    expect(files.length).toBeGreaterThan(50);
    const offenders = files.flatMap((f) => {
      const text = readFileSync(new URL(f, dir), 'utf8');
      const helpers = SERVICE_HELPERS.filter((h) => new RegExp(`from '[./]*/support/${h}\\.js'`).test(text));
      return [...helpers.map((h) => `${f} imports test/support/${h}.ts`), ...(SERVICE_BINARIES.test(text) ? [`${f} names a service binary`] : [])];
    });
    expect(offenders).toEqual([]);
  });

  it('the check sees an import of a service helper (it is not vacuous)', () => {
    const sample = "import { startMosquitto } from '../../support/mosquitto.js';";
    expect(SERVICE_HELPERS.some((h) => new RegExp(`from '[./]*/support/${h}\\.js'`).test(sample))).toBe(true);
  });
});
