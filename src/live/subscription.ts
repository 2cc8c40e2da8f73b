import type { LiveAccess, SubscribedMessage, SubscriptionFilters } from './protocol.js';

/**
 * What one client watches: everything it may see (`all`), or sites, lines (`site/line`) and
 * devices (`site/line/device`). Matching is a few Set lookups, done for every client on every
 * telemetry batch, so it stays O(1) whatever the subscription's size.
 */
export class Subscription {
  private all = false;
  private readonly sites = new Set<string>();
  private readonly lines = new Set<string>();
  private readonly devices = new Set<string>();

  constructor(private readonly access: LiveAccess) {}

  /** Entries held (`all` counts as one): what PP_LIVE_MAX_SUBSCRIPTIONS bounds. */
  get size(): number {
    return (this.all ? 1 : 0) + this.sites.size + this.lines.size + this.devices.size;
  }

  /** Whether the client may see a site at all (the authorize seam's answer). */
  allowed(site: string): boolean {
    return this.access.sites === 'all' || this.access.sites.includes(site) || (this.access.prefixes?.some((p) => site.startsWith(p)) ?? false);
  }

  matches(site: string, line: string, device: string): boolean {
    if (!this.allowed(site)) return false;
    return this.all || this.sites.has(site) || this.lines.has(`${site}/${line}`) || this.devices.has(`${site}/${line}/${device}`);
  }

  /** Sites named by `f` (as a site, or the first part of a line or device) that the client may not see. */
  forbidden(f: SubscriptionFilters): string[] {
    const named = [...(f.sites ?? []), ...(f.lines ?? []), ...(f.devices ?? [])].map((k) => k.split('/')[0]!);
    return [...new Set(named.filter((s) => !this.allowed(s)))];
  }

  /** How many entries the subscription would hold after adding `f`. */
  sizeAfterAdding(f: SubscriptionFilters): number {
    if (isEmpty(f)) return this.all ? this.size : this.size + 1;
    const fresh = (set: Set<string>, items: string[] | undefined) => new Set((items ?? []).filter((i) => !set.has(i))).size;
    return this.size + fresh(this.sites, f.sites) + fresh(this.lines, f.lines) + fresh(this.devices, f.devices);
  }

  add(f: SubscriptionFilters): void {
    if (isEmpty(f)) this.all = true;
    for (const s of f.sites ?? []) this.sites.add(s);
    for (const l of f.lines ?? []) this.lines.add(l);
    for (const d of f.devices ?? []) this.devices.add(d);
  }

  remove(f: SubscriptionFilters): void {
    if (isEmpty(f)) {
      this.all = false;
      this.sites.clear();
      this.lines.clear();
      this.devices.clear();
      return;
    }
    for (const s of f.sites ?? []) this.sites.delete(s);
    for (const l of f.lines ?? []) this.lines.delete(l);
    for (const d of f.devices ?? []) this.devices.delete(d);
  }

  describe(): SubscribedMessage {
    return { type: 'subscribed', all: this.all, sites: [...this.sites], lines: [...this.lines], devices: [...this.devices] };
  }
}

/** No list, or only empty lists: the whole of what the client may see. */
export function isEmpty(f: SubscriptionFilters): boolean {
  return !f.sites?.length && !f.lines?.length && !f.devices?.length;
}

/** A predicate: does `f` name this device (as its site, its line or itself)? Picks what a subscribe's snapshot holds. */
export function namedBy(f: SubscriptionFilters): (site: string, line: string, device: string) => boolean {
  if (isEmpty(f)) return () => true;
  const sites = new Set(f.sites);
  const lines = new Set(f.lines);
  const devices = new Set(f.devices);
  return (site, line, device) => sites.has(site) || lines.has(`${site}/${line}`) || devices.has(`${site}/${line}/${device}`);
}
