import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/observability/index.js';

describe('log redaction', () => {
  it('never prints authorization headers, tokens or webhook secrets', () => {
    let out = '';
    const sink = new Writable({ write: (chunk, _enc, done) => ((out += String(chunk)), done()) });
    const log = createLogger('info', sink);
    log.info({ req: { headers: { authorization: 'Bearer ppt_aaaaaaaaaaaa_SECRET1' } } }, 'request');
    log.info({ headers: { authorization: 'Token SECRET2' }, token: 'SECRET3', subscription: { secret: 'SECRET4' }, secret: 'SECRET5' }, 'things');
    log.info({ config: { auth: { bootstrapAdminToken: 'SECRET6' } }, platform: { auth: { firstAdminToken: 'SECRET7' } } }, 'config');
    expect(out).toContain('request');
    for (let i = 1; i <= 7; i++) expect(out).not.toContain(`SECRET${i}`);
  });
});
