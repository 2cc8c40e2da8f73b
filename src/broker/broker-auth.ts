import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import type { AedesOptions, AuthenticateError, Client } from 'aedes';
import type { AuthOutcome, TokenWatch } from '../auth/index.js';
import type { Logger } from '../observability/index.js';
import { mayPublish, mayReceive, maySubscribe, type BrokerIdentity } from './topic-acl.js';

/** The credential of the platform's own clients (its MQTT consumer, alert publisher, Sparkplug host, simulator). */
export interface InternalCredential {
  username: string;
  password: string;
}

export const INTERNAL_USERNAME = 'plantpulse-internal';

/** A fresh credential per start: it never leaves this process (not logged, not stored). */
export function newInternalCredential(): InternalCredential {
  return { username: INTERNAL_USERNAME, password: randomBytes(32).toString('base64url') };
}

export interface BrokerAuthOptions {
  /** AccessControl.authenticate: the API token store, with its failed-authentication limiter and metrics. */
  authenticate: (token: string | null, address: string) => AuthOutcome;
  /** Ends a connection once its token is revoked (the live hub's WebSockets share it). */
  tokenWatch: TokenWatch;
  internal: InternalCredential;
  log: Logger;
}

/** aedes 1.x: `returnCode` 4 is "bad user name or password", 2 "identifier rejected". */
function authError(message: string, returnCode: 2 | 4 | 5): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * The embedded broker's authentication and authorization (PP_AUTH=required), as aedes hooks:
 * - CONNECT: the password is an API token (any user name, e.g. the token id), or the platform's
 *   internal credential; anonymous clients and bad passwords are refused (CONNACK 4 / 5);
 * - PUBLISH outside the token's rights (topic-acl.ts): aedes closes the connection, as MQTT 3.1.1
 *   allows no negative PUBACK (MQTT-3.3.5-2); the message reaches no one;
 * - SUBSCRIBE outside them: granted QoS 0x80 (failure) for that filter, the connection stays;
 * - delivery: a reader's wildcard subscription gets only its own sites' messages;
 * - a token revoked (or expiring) while connected: its connection is closed (TokenWatch, within 5 s) and, from
 *   that moment, refused any publish and sent nothing more.
 * Client ids the platform uses are reserved: a token cannot take over the platform's session.
 */
export function brokerAuthHooks(opts: BrokerAuthOptions): Pick<AedesOptions, 'authenticate' | 'authorizePublish' | 'authorizeSubscribe' | 'authorizeForward'> {
  const identities = new WeakMap<Client, BrokerIdentity>();
  const platformClientIds = new Set<string>();
  const log = opts.log;

  const identityOf = (client: Client | null): BrokerIdentity | null => (client ? (identities.get(client) ?? null) : null);

  return {
    authenticate: (client, username, password, done) => {
      const secret = password?.toString('utf8') ?? null;
      if (username === opts.internal.username && secret !== null && sameSecret(secret, opts.internal.password)) {
        identities.set(client, { kind: 'platform' });
        platformClientIds.add(client.id);
        return done(null, true);
      }
      if (platformClientIds.has(client.id)) {
        log.warn({ clientId: client.id }, 'embedded broker: refused a client using the platform\'s own client id');
        return done(authError('client id reserved for the platform', 2), false);
      }
      const address = (client.conn as Socket).remoteAddress ?? '';
      const outcome = opts.authenticate(secret, address);
      if ('denial' in outcome) {
        log.info({ clientId: client.id, address, reason: outcome.denial.reason }, 'embedded broker: connection refused');
        return done(authError(outcome.denial.message, secret === null ? 5 : 4), false);
      }
      const p = outcome.principal;
      if (p.tokenId === null) return done(authError('no token', 5), false);
      identities.set(client, { kind: 'token', tokenId: p.tokenId, name: p.name, role: p.role, scope: p.scope });
      opts.tokenWatch.add({
        tokenId: p.tokenId,
        gone: () => client.closed,
        end: () => {
          // Forgotten first: whatever the client still sends before the close lands is refused.
          identities.delete(client);
          log.info({ clientId: client.id, tokenId: p.tokenId }, 'embedded broker: token revoked or expired; closing the connection');
          client.close();
        },
      });
      return done(null, true);
    },
    authorizePublish: (client, packet, done) => {
      const who = identityOf(client);
      const decision = who ? mayPublish(who, packet.topic) : { ok: false as const, reason: 'token revoked or unknown client' };
      if (decision.ok) return done(null);
      log.warn({ clientId: client?.id, topic: packet.topic.slice(0, 200), reason: decision.reason }, 'embedded broker: publish refused; closing the connection');
      return done(new Error(`publish to ${packet.topic.slice(0, 200)} not authorized: ${decision.reason}`));
    },
    authorizeSubscribe: (client, sub, done) => {
      const who = identityOf(client);
      const decision = who ? maySubscribe(who, sub.topic) : { ok: false as const, reason: 'token revoked or unknown client' };
      if (decision.ok) return done(null, sub);
      log.info({ clientId: client.id, filter: sub.topic.slice(0, 200), reason: decision.reason }, 'embedded broker: subscription refused');
      return done(null, null); // SUBACK 0x80 for this filter; the connection stays
    },
    authorizeForward: (client, packet) => {
      // A revoked reader is forgotten (and disconnected) by the token watch: nothing more reaches it.
      const who = identityOf(client);
      if (!who) return null;
      return mayReceive(who, packet.topic) ? packet : null;
    },
  };
}
