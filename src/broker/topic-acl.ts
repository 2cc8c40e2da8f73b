import { can, siteAllowed, type Role, type SiteScope } from '../auth/index.js';
import { ID_PATTERN, parseTopic } from '../contract/index.js';

/**
 * Who may publish, subscribe and receive what on the embedded broker: the same rules as the
 * shipped Mosquitto ACL (deploy/mosquitto/compose.acl), decided from the API token a client
 * connected with. Pure functions, no I/O: src/broker/broker-auth.ts wires them into aedes.
 *
 * | who                               | publish                                                        | subscribe / receive                                   |
 * |-----------------------------------|----------------------------------------------------------------|-------------------------------------------------------|
 * | the platform's own clients        | everything                                                     | everything                                            |
 * | gateway token (and admin: ingest) | `pp/v1/{site}/{line}/{device}/metrics|status`, site in scope;  | gateway: Sparkplug commands to its groups and         |
 * |                                   | Sparkplug `spBv1.0/{group}/N|D{BIRTH,DATA,DEATH}/...`, group   | `spBv1.0/STATE/{host}` only: it reads no plant's data |
 * |                                   | (= site) in scope                                              |                                                       |
 * | manager, regulator (read)         | nothing                                                        | `pp/v1/...` filters; only messages of their sites     |
 * |                                   |                                                                | are delivered (alerts, telemetry, statuses)           |
 *
 * Never, for anyone but the platform: `alerts` topics (written by the platform only), dead
 * letters, `$`-topics, shared subscriptions, anything outside these namespaces.
 */
export type BrokerIdentity = { kind: 'platform' } | { kind: 'token'; tokenId: string; name: string; role: Role; scope: SiteScope };

export type AclDecision = { ok: true } | { ok: false; reason: string };

const OK: AclDecision = { ok: true };
const no = (reason: string): AclDecision => ({ ok: false, reason });

const SPARKPLUG = 'spBv1.0';
const SPARKPLUG_PUBLISH_TYPES = new Set(['NBIRTH', 'NDATA', 'NDEATH', 'DBIRTH', 'DDATA', 'DDEATH']);
const SPARKPLUG_COMMANDS = new Set(['NCMD', 'DCMD']);

/** `pp/v1/{site}/...` topic (or filter): its site level, else null. */
function plantSite(topicOrFilter: string): string | null {
  const parts = topicOrFilter.split('/');
  return parts.length >= 3 && parts[0] === 'pp' && parts[1] === 'v1' ? parts[2]! : null;
}

function sparkplugPublish(who: Extract<BrokerIdentity, { kind: 'token' }>, parts: string[]): AclDecision {
  const [, group, type, node, device] = parts;
  if (parts.length < 4 || parts.length > 5 || !SPARKPLUG_PUBLISH_TYPES.has(type!)) return no(`Sparkplug publishes are ${[...SPARKPLUG_PUBLISH_TYPES].join(', ')} under ${SPARKPLUG}/{group}/{type}/{node}[/{device}]`);
  if (![group, node, ...(device === undefined ? [] : [device])].every((id) => ID_PATTERN.test(id!))) return no('Sparkplug ids must match [A-Za-z0-9_-]{1,64}');
  return siteAllowed(who.scope, group!) ? OK : no(`Sparkplug group ${group} (a site) is outside this token's scope`);
}

/** Whether `who` may publish to `topic`. */
export function mayPublish(who: BrokerIdentity, topic: string): AclDecision {
  if (who.kind === 'platform') return OK;
  if (!can(who.role, 'ingest')) return no(`a ${who.role} token may not publish`);
  const parts = topic.split('/');
  if (parts[0] === SPARKPLUG) return sparkplugPublish(who, parts);
  const parsed = parseTopic(topic);
  if (!parsed.ok) return no(parsed.reason);
  if (parsed.kind === 'alerts') return no('alerts topics are written by the platform only');
  return siteAllowed(who.scope, parsed.ref.site) ? OK : no(`site ${parsed.ref.site} is outside this token's scope`);
}

/** Whether `who` may subscribe to `filter`; what it then receives is narrowed by mayReceive. */
export function maySubscribe(who: BrokerIdentity, filter: string): AclDecision {
  if (who.kind === 'platform') return OK;
  if (filter.startsWith('$')) return no('$-topics and shared subscriptions are for the platform only');
  const parts = filter.split('/');
  if (who.role === 'gateway') {
    // A Sparkplug edge node listens for commands (rebirth requests) and the host's STATE.
    const [ns, group, type] = parts;
    if (ns === SPARKPLUG && group === 'STATE' && parts.length === 3) return OK;
    if (ns === SPARKPLUG && SPARKPLUG_COMMANDS.has(type!) && parts.length >= 4 && ID_PATTERN.test(group!) && siteAllowed(who.scope, group!)) return OK;
    return no('a gateway token reads nothing but Sparkplug commands to its own groups');
  }
  if (!can(who.role, 'read')) return no(`a ${who.role} token may not subscribe`);
  const site = plantSite(filter);
  if (site === null) return no('subscriptions must lie under pp/v1/');
  if (site === '+' || site === '#') return OK; // delivery is filtered per message (mayReceive)
  return siteAllowed(who.scope, site) ? OK : no(`site ${site} is outside this token's scope`);
}

/**
 * Whether a message on `topic` may be delivered to `who` (it matched one of its subscriptions):
 * the per-message check behind wildcard subscriptions such as `pp/v1/+/+/+/alerts`.
 */
export function mayReceive(who: BrokerIdentity, topic: string): boolean {
  if (who.kind === 'platform') return true;
  if (who.role === 'gateway') return maySubscribe(who, topic).ok;
  if (!can(who.role, 'read')) return false;
  const site = plantSite(topic);
  return site !== null && siteAllowed(who.scope, site);
}
