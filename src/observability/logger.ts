import { pino, type Logger, type LevelWithSilent } from 'pino';

/** Paths pino must never print (secrets in config objects, auth headers). */
export const REDACT_PATHS = [
  'password',
  'token',
  '*.password',
  '*.token',
  '*.*.password',
  '*.*.token',
  'req.headers.authorization',
  'headers.authorization',
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
];

export function createLogger(level: LevelWithSilent = 'info', destination?: NodeJS.WritableStream): Logger {
  return pino({ level, base: { service: 'plantpulse' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, destination as pino.DestinationStream | undefined);
}

export type { Logger };
