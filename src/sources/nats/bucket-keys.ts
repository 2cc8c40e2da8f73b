import type { JetStreamManager, KV } from 'nats';

/** Lists a bucket's keys (optionally under a filter such as `member.*`), without a consumer. */
export type KeyLister = (filter: string) => Promise<string[]>;

/**
 * The keys of a key-value bucket that hold a value, read from the stream's per-subject state
 * and a direct get of each (any replica answers), not with `kv.keys()`. On a cluster, `keys()`
 * makes an ephemeral consumer for every listing, through the JetStream meta group, and those were
 * placed on a server that had just been killed until it was noticed gone: listings (hence lease
 * rounds) timed out for many seconds. A deleted or purged key still has a marker message, so its
 * current entry is read and only values count.
 */
export function bucketKeyLister(jsm: JetStreamManager, kv: KV, bucket: string): KeyLister {
  const prefix = `$KV.${bucket}.`;
  return async (filter) => {
    const info = await jsm.streams.info(`KV_${bucket}`, { subjects_filter: `${prefix}${filter}` });
    const keys: string[] = [];
    for (const subject of Object.keys(info.state.subjects ?? {})) {
      const key = subject.slice(prefix.length);
      const entry = await kv.get(key);
      if (entry && entry.operation === 'PUT') keys.push(key);
    }
    return keys;
  };
}

/** `kv.keys()` as a list: for a bucket on one server, and tests. */
export function consumerKeyLister(kv: KV): KeyLister {
  return async (filter) => {
    const keys: string[] = [];
    for await (const key of await kv.keys(filter)) keys.push(key);
    return keys;
  };
}
