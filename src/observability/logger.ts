import { pino, type Logger, type LevelWithSilent } from 'pino';
import { scrubText } from './redact.js';

/**
 * Paths pino must never print (secrets in config objects, auth headers, webhook secrets), up to
 * three levels deep. Secrets inside strings (a token in a URL or a message, a password in a
 * broker URL) are scrubbed from every line as written (redact.ts).
 */
export const REDACT_PATHS = [
  'password',
  'token',
  '*.password',
  '*.token',
  '*.*.password',
  '*.*.token',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  '*.headers.authorization',
  'authorization',
  '*.authorization',
  // API tokens and webhook secrets (src/auth/, src/webhooks/), wherever an object carrying one is logged.
  'secret',
  '*.secret',
  '*.*.secret',
  'bootstrapAdminToken',
  '*.bootstrapAdminToken',
  '*.*.bootstrapAdminToken',
  'firstAdminToken',
  '*.firstAdminToken',
  '*.*.firstAdminToken',
  'req.query.token',
  'req.query.p',
];

export function createLogger(level: LevelWithSilent = 'info', destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: 'plantpulse' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      // The last line of defence: every line, as written, loses any secret it visibly carries.
      hooks: { streamWrite: scrubText },
    },
    destination as pino.DestinationStream | undefined,
  );
}

export type { Logger };
