/**
 * Where a heap snapshot's bytes are, by owner: every object's own size counted under the path it
 * is held by (`Object{window,sorted,…}.sorted:elements`: the elements of the array in the `sorted`
 * property of objects with those properties), numbers boxed in an object's fields under that
 * object's shape (`#hidden`). Plain objects all have the constructor `Object`, so a summary by
 * constructor (heap-at-max.ts) cannot tell one detector's state from another's; their property
 * names can. Each node is counted once, under the first owner found (objects before arrays and
 * maps before their contents), so shared objects are not counted twice.
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/** Containers whose contents are labelled by the path that holds the container. */
const CONTAINER = /^(Array|Map|Set)\{/;

/** Self size by owner, largest first: `top` lines of bytes per `per` (e.g. per device) and node count. */
export function heapOwners(file: string, per: number, top: number): string[] {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const { node_fields: nf, node_types: [nodeTypes], edge_fields: ef, edge_types: [edgeTypes] } = snap.snapshot.meta;
  const { nodes, edges, strings } = snap;
  const [iType, iName, iSize, iEdges] = ['type', 'name', 'self_size', 'edge_count'].map((f) => nf.indexOf(f)) as [number, number, number, number];
  const [eType, eName, eTo] = ['type', 'name_or_index', 'to_node'].map((f) => ef.indexOf(f)) as [number, number, number];
  const N = nf.length;
  const E = ef.length;
  const count = nodes.length / N;
  const typeOf = (i: number): string => nodeTypes[nodes[i * N + iType]!]!;
  const firstEdge = new Int32Array(count);
  for (let i = 0, e = 0; i < count; i++) {
    firstEdge[i] = e;
    e += nodes[i * N + iEdges]! * E;
  }
  const eachEdge = (i: number, f: (type: string, name: string, to: number) => void): void => {
    for (let k = 0, p = firstEdge[i]!; k < nodes[i * N + iEdges]!; k++, p += E) {
      const type = edgeTypes[edges[p + eType]!]!;
      f(type, type === 'element' || type === 'hidden' ? '' : strings[edges[p + eName]!]!, edges[p + eTo]! / N);
    }
  };
  // An object's shape: its constructor and first property names.
  const shape: (string | undefined)[] = new Array(count);
  for (let i = 0; i < count; i++) {
    if (typeOf(i) !== 'object') continue;
    const props: string[] = [];
    eachEdge(i, (type, name) => {
      if (type === 'property') props.push(name);
    });
    shape[i] = `${strings[nodes[i * N + iName]!]}{${props.slice(0, 5).join(',')}${props.length > 5 ? `,…${props.length}` : ''}}`;
  }
  // Owners: objects label what their properties hold (and the numbers boxed in their fields);
  // then, twice, labelled containers label their contents (an array's elements, a map's table).
  const owner: (string | undefined)[] = new Array(count);
  for (let pass = 0; pass < 3; pass++) {
    for (let i = 0; i < count; i++) {
      const self = shape[i];
      const base = pass === 0 ? self : owner[i];
      if (base === undefined || (pass > 0 && self !== undefined && !CONTAINER.test(self))) continue;
      eachEdge(i, (type, name, to) => {
        if (owner[to] !== undefined || (pass === 0 && shape[to] !== undefined && !CONTAINER.test(shape[to]))) return;
        if (typeOf(to) === 'number') owner[to] = `${base}#${type}`;
        else if (type === 'property') owner[to] = `${base}.${name}`;
        else if (pass > 0 && type === 'internal') owner[to] = `${base}:${name}`;
        else if (pass > 0 && type === 'element') owner[to] = `${base}[]`;
      });
    }
  }
  const byOwner = new Map<string, { n: number; bytes: number }>();
  for (let i = 0; i < count; i++) {
    const type = typeOf(i);
    const held = owner[i] === undefined ? undefined : owner[i]!.replace(/:table:\d+/g, ':table');
    const kind = shape[i] !== undefined ? (held !== undefined ? `${held} = ${shape[i]}` : shape[i]!) : held !== undefined ? `${type} of ${held}` : `${type}${type === 'closure' || type === 'native' ? ` ${strings[nodes[i * N + iName]!]}` : ''}`;
    const k = byOwner.get(kind) ?? { n: 0, bytes: 0 };
    k.n++;
    k.bytes += nodes[i * N + iSize]!;
    byOwner.set(kind, k);
  }
  return [...byOwner.entries()]
    .sort((a, b) => b[1].bytes - a[1].bytes)
    .slice(0, top)
    .map(([kind, k]) => `${Math.round(k.bytes / per).toLocaleString('en').padStart(7)} B ${String(k.n).padStart(9)}  ${kind.slice(0, 160)}`);
}
