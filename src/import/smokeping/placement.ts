/**
 * Where to write each inherited setting in the smokemesh tree so that every target resolves
 * to exactly what it had in SmokePing, with as few lines as possible. Pure functions over a
 * plain tree; the rules are the smokemesh loader's (src/config/loader.ts):
 * - `probe`, `alerts`, `agents`, `server_probes`: a node's value overrides what it inherits;
 *   a group gets the value it had in SmokePing (else the one most of its targets have), the
 *   targets that differ override it;
 * - probe parameters: override, and an inherited parameter beats the preset, so a parameter
 *   is written on a group only when every target below has the same probe type and value;
 * - `alertee` adds up down the tree: each node gets what all its targets share and its
 *   ancestors did not already give.
 */

/** What one target resolves to (the smokemesh side). */
export interface PlacedTarget {
  type: string;
  preset: string;
  /** Parameters it sets beyond its preset. */
  params: Record<string, unknown>;
  /** The value it would get for `key` with nothing inherited (preset, else general default); undefined when none. */
  resolved(key: string): unknown;
  alerts: string[];
  alertee: string[];
  /** Undefined when the config has no remote agents. */
  agents?: 'none' | string[];
  server_probes: boolean;
}

/** The settings a group has in SmokePing (what its targets inherit unless they say otherwise). */
export type GroupSettings = Pick<PlacedTarget, 'preset' | 'alerts' | 'agents' | 'server_probes'>;

export interface PlaceNode {
  target?: PlacedTarget;
  /** A group's own settings: written where SmokePing had them, so the tree reads like the original. */
  group?: GroupSettings;
  children: PlaceNode[];
}

/** What the loader gives the root when a key is not written (src/config/loader.ts, resolveTree). */
const ROOT: Record<string, unknown> = { probe: 'icmp', alerts: [], agents: 'all', server_probes: true };

/** Settings to write on each node (nodes without any are absent); key order: probe, alerts, alertee, agents, server_probes, parameters. */
export function placeSettings(root: PlaceNode): Map<PlaceNode, Record<string, unknown>> {
  const out = new Map<PlaceNode, Record<string, unknown>>();
  const under = targetsUnder(root);
  const write = (n: PlaceNode, key: string, v: unknown) => {
    let o = out.get(n);
    if (!o) out.set(n, (o = {}));
    o[key] = v;
  };
  const overrides: Array<[string, (t: GroupSettings) => unknown]> = [
    ['probe', (t) => t.preset],
    ['alerts', (t) => t.alerts],
  ];
  const all = under.get(root) ?? [];
  const usesAgents = all.some((t) => t.agents !== undefined);
  if (usesAgents) overrides.push(['agents', (t) => t.agents ?? 'none']);
  overrides.push(['server_probes', (t) => t.server_probes]);

  // Fixed key order on every node, whatever order the passes below find them in.
  for (const [key, get] of overrides) placeOverride(root, ROOT[key], key, get, under, write);
  placeAlertee(root, [], under, write);
  placeParams(root, new Map(), under, write);
  for (const [n, o] of out) {
    const ordered: Record<string, unknown> = {};
    for (const k of ['probe', 'alerts', 'alertee', 'agents', 'server_probes']) if (k in o) ordered[k] = o[k];
    for (const k of Object.keys(o)) if (!(k in ordered)) ordered[k] = o[k];
    out.set(n, ordered);
  }
  return out;
}

type Write = (n: PlaceNode, key: string, v: unknown) => void;

function targetsUnder(root: PlaceNode): Map<PlaceNode, PlacedTarget[]> {
  const m = new Map<PlaceNode, PlacedTarget[]>();
  const visit = (n: PlaceNode): PlacedTarget[] => {
    const ts = n.target ? [n.target] : [];
    for (const c of n.children) ts.push(...visit(c));
    m.set(n, ts);
    return ts;
  };
  visit(root);
  return m;
}

/** JSON with sorted keys: equal values compare equal whatever order their keys were set in. */
export function stableJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (x && typeof x === 'object' && !Array.isArray(x)
    ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    : x));
}

function same(a: unknown, b: unknown): boolean {
  return stableJson(a) === stableJson(b);
}

function placeOverride(n: PlaceNode, inherited: unknown, key: string, get: (t: GroupSettings) => unknown, under: Map<PlaceNode, PlacedTarget[]>, write: Write): void {
  const ts = under.get(n)!;
  if (ts.length === 0) return;
  const own = n.target ?? n.group;
  const v = own ? get(own) : mostCommon(ts.map(get), inherited);
  let passed = inherited;
  if (!same(v, inherited)) {
    write(n, key, v);
    passed = v;
  }
  for (const c of n.children) placeOverride(c, passed, key, get, under, write);
}

/** The most frequent value; on a tie the inherited one if it is among the most frequent, else the first seen. */
function mostCommon(values: unknown[], inherited: unknown): unknown {
  const counts = new Map<string, { v: unknown; n: number }>();
  for (const v of values) {
    const k = stableJson(v);
    const c = counts.get(k);
    if (c) c.n++;
    else counts.set(k, { v, n: 1 });
  }
  let best: { v: unknown; n: number } | undefined;
  for (const c of counts.values()) if (!best || c.n > best.n) best = c;
  const inh = counts.get(stableJson(inherited));
  return inh && inh.n === best!.n ? inherited : best!.v;
}

function placeAlertee(n: PlaceNode, given: string[], under: Map<PlaceNode, PlacedTarget[]>, write: Write): void {
  const ts = under.get(n)!;
  if (ts.length === 0) return;
  // A target node gives its own list (its children may then get more than they had: see convert's warning).
  const shared = n.target ? n.target.alertee : ts.map((t) => t.alertee).reduce((a, b) => a.filter((x) => b.includes(x)));
  const add = shared.filter((x) => !given.includes(x));
  if (add.length) write(n, 'alertee', add);
  const now = [...given, ...add];
  for (const c of n.children) placeAlertee(c, now, under, write);
}

function placeParams(n: PlaceNode, inherited: Map<string, unknown>, under: Map<PlaceNode, PlacedTarget[]>, write: Write): void {
  const ts = under.get(n)!;
  if (ts.length === 0) return;
  const keys = new Set<string>(inherited.keys());
  for (const t of ts) for (const k of Object.keys(t.params)) keys.add(k);
  const mine = new Map(inherited);
  for (const key of keys) {
    let want: unknown;
    const u = uniform(ts, key);
    if (u.ok) want = u.value;
    else if (n.target) {
      if (key in n.target.params) want = n.target.params[key];
      // An ancestor's value would beat the preset: say the preset's value again.
      else if (inherited.has(key)) want = n.target.resolved(key);
    }
    if (want !== undefined && (!inherited.has(key) || !same(inherited.get(key), want))) {
      write(n, key, want);
      mine.set(key, want);
    }
  }
  for (const c of n.children) placeParams(c, mine, under, write);
}

/** Whether every target has the same probe type and sets `key` to the same value. */
function uniform(ts: PlacedTarget[], key: string): { ok: true; value: unknown } | { ok: false } {
  const first = ts[0]!;
  if (!(key in first.params)) return { ok: false };
  for (const t of ts) {
    if (t.type !== first.type || !(key in t.params) || !same(t.params[key], first.params[key])) return { ok: false };
  }
  return { ok: true, value: first.params[key] };
}
