import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCertificates {
  /** The private CA that signed the server certificate. */
  ca: string;
  /** Server certificate for `localhost` and 127.0.0.1, and its key. */
  cert: string;
  key: string;
  /** Another CA, which did not sign the server: a client trusting only it must refuse the server. */
  otherCa: string;
}

/**
 * docs/security.md's openssl commands: a private CA, a server certificate for localhost and
 * 127.0.0.1 signed by it, and an unrelated CA, written to `dir` (ca.crt, server.crt, server.key, other.crt).
 */
export function makeTestCertificates(dir: string): TestCertificates {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '3650', '-subj', '/CN=PlantPulse MQTT CA', '-keyout', 'ca.key', '-out', 'ca.crt');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', 'server.key', '-out', 'server.csr');
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '825', '-extfile', 'server.ext', '-out', 'server.crt');
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=Someone else', '-keyout', 'other.key', '-out', 'other.crt');
  return { ca: join(dir, 'ca.crt'), cert: join(dir, 'server.crt'), key: join(dir, 'server.key'), otherCa: join(dir, 'other.crt') };
}
