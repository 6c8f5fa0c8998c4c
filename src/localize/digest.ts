/**
 * What one server of a cluster contributes to a localization scope another server steps: the
 * latest round of each series of the scope that it received (time, step, pings sent and lost,
 * median: what latest.ts keeps), with the region and labels of their agents as it knows them
 * (an agent's flags reach the server it pushes to). Sent once per step through the shared
 * database, not per round. Encoded compactly: the names once, then a fixed 40-byte record per
 * series. The scope's owner merges the digests with its own records, newest round per series.
 * Pure; the I/O (compression, PostgreSQL) is at the edges.
 */
import type { LocalizeAgent } from './types.ts';
import { seriesKey, type SeriesInput } from './types.ts';

const MAGIC = 0x4c444731; // "LDG1"
const RECORD = 40;
const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});

/** A decoded digest: series records (labels not filled in) and the agents they come from. */
export interface Digest {
  records: SeriesInput[];
  agents: LocalizeAgent[];
}

/** The round fields a digest carries. */
type Latest = Pick<SeriesInput, 'target' | 'agent' | 'time' | 'step' | 'sent' | 'lost' | 'median'>;

/** Encodes `records` (the latest round per series) and the agents they name (`agents` may list more; only those named are kept). */
export function encodeDigest(records: readonly Latest[], agents: readonly LocalizeAgent[]): Buffer {
  const targets = new Map<string, number>();
  const agentIds = new Map<string, number>();
  for (const r of records) {
    if (!targets.has(r.target)) targets.set(r.target, targets.size);
    if (!agentIds.has(r.agent)) agentIds.set(r.agent, agentIds.size);
  }
  const known = new Map(agents.map((a) => [a.name, a]));
  const head = Buffer.from(JSON.stringify({
    targets: [...targets.keys()],
    agents: [...agentIds.keys()].map((name) => {
      const a = known.get(name);
      return a ? [name, a.region, a.labels] : [name];
    }),
  }), 'utf8');
  const out = Buffer.alloc(12 + head.length + records.length * RECORD);
  out.writeUInt32LE(MAGIC, 0);
  out.writeUInt32LE(records.length, 4);
  out.writeUInt32LE(head.length, 8);
  head.copy(out, 12);
  let p = 12 + head.length;
  for (const r of records) {
    out.writeUInt32LE(targets.get(r.target)!, p);
    out.writeUInt32LE(agentIds.get(r.agent)!, p + 4);
    out.writeDoubleLE(r.time, p + 8);
    out.writeDoubleLE(r.step, p + 16);
    out.writeUInt32LE(r.sent, p + 24);
    out.writeUInt32LE(r.lost, p + 28);
    out.writeDoubleLE(r.median ?? NaN, p + 32);
    p += RECORD;
  }
  return out;
}

/** Decodes what encodeDigest wrote; throws on anything else (a digest that does not decode is left out by the caller). */
export function decodeDigest(buf: Buffer): Digest {
  if (buf.length < 12 || buf.readUInt32LE(0) !== MAGIC) throw new Error('not a localization digest');
  const n = buf.readUInt32LE(4);
  const headLen = buf.readUInt32LE(8);
  if (buf.length !== 12 + headLen + n * RECORD) throw new Error('truncated localization digest');
  const head = JSON.parse(buf.subarray(12, 12 + headLen).toString('utf8')) as { targets: unknown; agents: unknown };
  if (!Array.isArray(head.targets) || !Array.isArray(head.agents)) throw new Error('localization digest without names');
  const targets = head.targets.map(String);
  const agentRows = head.agents as unknown[];
  const names: string[] = [];
  const agents: LocalizeAgent[] = [];
  for (const row of agentRows) {
    if (!Array.isArray(row) || typeof row[0] !== 'string') throw new Error('localization digest with a bad agent');
    names.push(row[0]);
    if (row.length === 3 && typeof row[1] === 'string' && row[2] && typeof row[2] === 'object') {
      agents.push({ name: row[0], region: row[1], labels: Object.fromEntries(Object.entries(row[2] as Record<string, unknown>).map(([k, v]) => [k, String(v)])) });
    }
  }
  const records: SeriesInput[] = new Array(n);
  let p = 12 + headLen;
  for (let i = 0; i < n; i++, p += RECORD) {
    const target = targets[buf.readUInt32LE(p)];
    const agent = names[buf.readUInt32LE(p + 4)];
    if (target === undefined || agent === undefined) throw new Error('localization digest names a series it does not list');
    const median = buf.readDoubleLE(p + 32);
    records[i] = {
      target, agent, key: seriesKey(target, agent), targetLabels: NO_LABELS, agentLabels: NO_LABELS, agentRegion: '',
      time: buf.readDoubleLE(p + 8), step: buf.readDoubleLE(p + 16), sent: buf.readUInt32LE(p + 24), lost: buf.readUInt32LE(p + 28),
      median: Number.isNaN(median) ? null : median,
    };
  }
  return { records, agents };
}

/**
 * The latest round of each series over this server's records and the others' digests: the
 * newest round per series wins (an agent that moved between servers is reported by both for a
 * while). `own` records come first and are kept as they are (not copied).
 */
export function mergeLatest(own: Iterable<SeriesInput>, digests: readonly Digest[]): SeriesInput[] {
  const byKey = new Map<string, SeriesInput>();
  for (const x of own) byKey.set(x.key ?? seriesKey(x.target, x.agent), x);
  for (const d of digests) {
    for (const x of d.records) {
      const k = x.key ?? seriesKey(x.target, x.agent);
      const cur = byKey.get(k);
      if (!cur || x.time > cur.time) byKey.set(k, x);
    }
  }
  return [...byKey.values()];
}

/** The agents as this server lists them, with those the digests describe in place (the server an agent pushes to knows its flags). */
export function mergeAgents(own: readonly LocalizeAgent[], digests: readonly Digest[]): Map<string, LocalizeAgent> {
  const out = new Map(own.map((a) => [a.name, a]));
  for (const d of digests) for (const a of d.agents) out.set(a.name, a);
  return out;
}
