/**
 * Heap snapshot arithmetic for the memory driver: totals of self size and
 * count per (node type, name) — for objects the name is the constructor — and
 * the difference between two snapshots divided by the connections added, i.e.
 * what one connection costs on the JavaScript heap, object by object.
 */
import { readFileSync } from 'node:fs';

/** Count and self size of one kind of heap node. */
export interface HeapGroup {
  count: number;
  bytes: number;
}

interface RawSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Groups the nodes of the heap snapshot at `path` by `type:name`. */
export function summarizeSnapshot(path: string): Map<string, HeapGroup> {
  const raw = JSON.parse(readFileSync(path, 'utf8')) as RawSnapshot;
  const fields = raw.snapshot.meta.node_fields;
  const typeNames = raw.snapshot.meta.node_types[0];
  const stride = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const groups = new Map<string, HeapGroup>();
  const { nodes, strings } = raw;
  for (let i = 0; i < nodes.length; i += stride) {
    const type = typeNames[nodes[i + typeAt] as number] ?? '?';
    // Strings and numbers are grouped by type only: their names are their contents.
    const name = type === 'string' || type === 'concatenated string' || type === 'sliced string' || type === 'number' ? '' : (strings[nodes[i + nameAt] as number] ?? '?');
    const key = `${type}:${name}`;
    const group = groups.get(key) ?? { count: 0, bytes: 0 };
    group.count++;
    group.bytes += nodes[i + sizeAt] as number;
    groups.set(key, group);
  }
  return groups;
}

/** One row of a per-connection heap difference. */
export interface HeapDiffRow {
  key: string;
  countPerConn: number;
  bytesPerConn: number;
}

/** `(after - before) / perUnits` for every group, largest bytes first, rows under `minBytes` per unit dropped. */
export function diffPerUnit(before: Map<string, HeapGroup>, after: Map<string, HeapGroup>, perUnits: number, minBytes = 4): HeapDiffRow[] {
  const rows: HeapDiffRow[] = [];
  for (const [key, a] of after) {
    const b = before.get(key) ?? { count: 0, bytes: 0 };
    const bytesPerConn = (a.bytes - b.bytes) / perUnits;
    if (Math.abs(bytesPerConn) < minBytes) continue;
    rows.push({ key, countPerConn: (a.count - b.count) / perUnits, bytesPerConn });
  }
  return rows.sort((x, y) => y.bytesPerConn - x.bytesPerConn);
}
