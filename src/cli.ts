#!/usr/bin/env node
/**
 * `plantpulse`: the operator's CLI (package.json bin; `npm run plantpulse -- ...` from a checkout).
 * It manages API tokens (docs/access.md) and reads the audit log (docs/security.md); it works on
 * the data dir directly, so it needs
 * no token itself: whoever may read the data dir is the platform's administrator anyway.
 */
import { tokenCommand, TOKEN_USAGE, UsageError } from './cli/token-command.js';
import { auditCommand, AUDIT_USAGE, AuditUsageError } from './audit/index.js';

const USAGE = `usage:\n${TOKEN_USAGE}\n${AUDIT_USAGE}`;

function main(argv: string[]): number {
  const [command, ...rest] = argv;
  const out = (line: string) => process.stdout.write(`${line}\n`);
  try {
    if (command === 'token') return tokenCommand(rest, process.env, out);
    if (command === 'audit') return auditCommand(rest, process.env, out);
    if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
      out(USAGE);
      return command === undefined ? 2 : 0;
    }
    throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  } catch (err) {
    if (err instanceof UsageError || err instanceof AuditUsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`plantpulse: ${(err as Error).message}\n${USAGE}\n`);
      return 2;
    }
    process.stderr.write(`plantpulse: ${(err as Error).message}\n`);
    return 1;
  }
}

process.exitCode = main(process.argv.slice(2));
