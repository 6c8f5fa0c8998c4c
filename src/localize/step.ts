/**
 * One localization step of one scope: judge the latest round of every series, infer the
 * causes, apply the hysteresis (a cause is raised once it was inferred in `raise_after` steps
 * in a row, and cleared after `clear_after` steps in a row without it), and say which raised
 * cause explains each series. A pure function: the state given is not changed; the new one is
 * returned.
 */
import type { LocalizeScopeConfig } from '../config/localize-schema.ts';
import { infer, type Inferred, type Table } from './infer.ts';
import { judge } from './judge.ts';
import { copyColumns, emptyColumns, forget, readMemo, slotOf, writeMemo } from './memory.ts';
import { destinationOf, inMaintenance, vantageOf, whitelisted } from './select.ts';
import {
  CAUSE_KINDS, seriesKey,
  type Cause, type CauseEvent, type CauseKind, type CauseMemo, type LocalizeState, type MatrixCell, type SeriesInput, type SeriesMemo, type StepResult,
} from './types.ts';

/** A series memory not refreshed for this long is forgotten (a removed target, a retired agent). */
const FORGET_MS = 24 * 3600 * 1000;
/** Evidence lists at most this many matrix cells. */
const MAX_CELLS = 50;

/** An empty state (a scope's first step). */
export function emptyState(): LocalizeState {
  return { series: emptyColumns(), causes: new Map(), time: 0 };
}

/** Builds a table's names and indices on the fly. */
class Names {
  readonly names: string[] = [];
  private ids = new Map<string, number>();
  id(name: string): number {
    let i = this.ids.get(name);
    if (i === undefined) {
      i = this.names.push(name) - 1;
      this.ids.set(name, i);
    }
    return i;
  }
}

/** Runs one step of `scope` at `now` over the latest round of each of its series. */
export function step(scope: LocalizeScopeConfig, series: readonly SeriesInput[], prev: LocalizeState | undefined, now: number): StepResult {
  const before = prev ?? emptyState();
  const roles = scope.roles;
  const memos = copyColumns(before.series, series.length);
  const prevMemo: SeriesMemo = { last: 0, base: null, samples: 0, bad: false, badSince: null };
  const nextMemo: SeriesMemo = { last: 0, base: null, samples: 0, bad: false, badSince: null };

  const nets = new Names();
  const cells = new Names();
  const dests = new Names();
  const items = new Names();
  const sites = new Names();
  const agentNames = new Names();
  const bySite = roles.site !== 'agent';
  const regions = new Names();
  const pairNames = new Names();
  const pairIds = new Map<number, number>();
  const pairValues: [string, string][] = [];
  const withPairs = scope.region_pairs !== undefined;
  const cellNet: number[] = [];
  const cellValues: string[][] = [];
  const destValues: string[][] = [];
  // Columns of the table, grown as series are accepted.
  const cap = Math.max(16, series.length);
  const col = { net: new Int32Array(cap), cell: new Int32Array(cap), dest: new Int32Array(cap), item: new Int32Array(cap), site: new Int32Array(cap), bad: new Uint8Array(cap) };
  const pairCol = withPairs ? new Int32Array(cap) : undefined;
  const agentCol = bySite ? new Int32Array(cap) : undefined;
  let size = 0;
  // The input of each row (an index into `series`): no per-row array of references to grow.
  const input = new Int32Array(cap);
  const used = (i: number): SeriesInput => series[input[i]!]!;
  const keyOfRow = (i: number): string => used(i).key ?? seriesKey(used(i).target, used(i).agent);
  // Start of each row's bad run (NaN: good); numbers in a typed column, not one boxed number per row.
  const badSince = new Float64Array(cap);
  const counts = { series: 0, bad: 0, excluded: 0, stale: 0, unlabelled: 0, unexplained: 0 };

  // Role values depend on the agent alone or on the target alone: worked out once per step.
  const agentRoles = new Map<string, { net: number; cell: number; site: number; region: number; agent: number } | null>();
  const targetRoles = new Map<string, { dest: number; item: number; region: number } | null>();
  const rolesOfAgent = (s: SeriesInput) => {
    let r = agentRoles.get(s.agent);
    if (r !== undefined) return r;
    const vantage = vantageOf(roles, s);
    if (vantage.includes(undefined)) r = null;
    else {
      const cell = cells.id((vantage as string[]).join(' / '));
      if (cell === cellNet.length) {
        cellNet.push(nets.id(vantage[0]!));
        cellValues.push(vantage as string[]);
      }
      r = {
        net: cellNet[cell]!, cell, site: sites.id(roles.site === 'agent' ? s.agent : (s.agentLabels[roles.site] ?? s.agent)),
        region: withPairs ? regions.id(s.agentLabels.region ?? s.agentRegion) : -1,
        agent: bySite ? agentNames.id(s.agent) : -1,
      };
    }
    agentRoles.set(s.agent, r);
    return r;
  };
  const rolesOfTarget = (s: SeriesInput) => {
    let r = targetRoles.get(s.target);
    if (r !== undefined) return r;
    const destination = destinationOf(roles, s);
    if (destination.includes(undefined)) r = null;
    else {
      const dest = dests.id((destination as string[]).join(' / '));
      if (dest === destValues.length) destValues.push(destination as string[]);
      const region = s.targetLabels.region;
      r = { dest, item: items.id(roles.item === 'path' ? s.target : (s.targetLabels[roles.item] ?? s.target)), region: withPairs && region !== undefined ? regions.id(region) : -1 };
    }
    targetRoles.set(s.target, r);
    return r;
  };
  // The mesh's region × region cell of a series: the agent's region → the target's region label.
  const pairOf = (source: number, target: number): number => {
    if (target < 0) return -1;
    const k = source * 65536 + target;
    let p = pairIds.get(k);
    if (p === undefined) {
      p = pairNames.id(`${regions.names[source]} / ${regions.names[target]}`);
      pairValues[p] = [regions.names[source]!, regions.names[target]!];
      pairIds.set(k, p);
    }
    return p;
  };
  const filtering = scope.maintenance.length > 0 || Object.keys(scope.whitelist).length > 0;

  for (let n = 0; n < series.length; n++) {
    const s = series[n]!;
    if (filtering && (whitelisted(scope.whitelist, s.target, s.agent, s.targetLabels, s.agentLabels)
      || inMaintenance(scope.maintenance, now, s.target, s.agent, s.targetLabels, s.agentLabels))) {
      counts.excluded++;
      continue;
    }
    const slot = slotOf(memos, s.key ?? seriesKey(s.target, s.agent));
    const memo = judge(s, readMemo(before.series, slot, prevMemo), scope.bad, nextMemo);
    writeMemo(memos, slot, memo);
    if (now - s.time > scope.stale_steps * s.step * 1000) {
      counts.stale++;
      continue;
    }
    const a = rolesOfAgent(s);
    const t = rolesOfTarget(s);
    if (!a || !t) {
      counts.unlabelled++;
      continue;
    }
    const bad = memo.bad !== false;
    col.net[size] = a.net;
    col.cell[size] = a.cell;
    col.dest[size] = t.dest;
    col.item[size] = t.item;
    col.site[size] = a.site;
    col.bad[size] = bad ? 1 : 0;
    if (pairCol) pairCol[size] = pairOf(a.region, t.region);
    if (agentCol) agentCol[size] = a.agent;
    badSince[size] = memo.badSince ?? NaN;
    input[size] = n;
    size++;
    if (bad) counts.bad++;
  }
  counts.series = size;

  const table: Table = { size, ...col, nets: nets.names, cells: cells.names, dests: dests.names, items: items.names, sites: sites.names, cellNet, cellLevel: roles.vantage.length > 1 };
  if (pairCol) {
    table.pair = pairCol;
    table.pairs = pairNames.names;
  }
  if (agentCol) {
    table.agent = agentCol;
    table.agents = agentNames.names;
  }
  const { causes: inferred, rowCause } = infer(table, scope.thresholds, scope.region_pairs);

  // Name and evidence of each inferred cause.
  const keyOf = (c: Inferred): Record<string, string> => {
    switch (c.kind) {
      case 'vantage': return c.agent ? { agent: table.agents![c.index]! } : { [roles.site]: table.sites[c.index]! };
      case 'network': return { [roles.vantage[0]!]: table.nets[c.index]! };
      case 'cell': return Object.fromEntries(roles.vantage.map((k, i) => [k, cellValues[c.index]![i]!]));
      case 'destination': return Object.fromEntries(roles.destination.map((k, i) => [k, destValues[c.index]![i]!]));
      case 'path': {
        const dest = c.index % table.dests.length;
        const net = (c.index - dest) / table.dests.length;
        // A destination key that is also the vantage key (region → region) is named target_<key>.
        const key: Record<string, string> = { [roles.vantage[0]!]: table.nets[net]! };
        roles.destination.forEach((k, i) => { key[k in key ? `target_${k}` : k] = destValues[dest]![i]!; });
        return key;
      }
      case 'item': return { [roles.item]: table.items[c.index]! };
      case 'region_pair': return { source_region: pairValues[c.index]![0], target_region: pairValues[c.index]![1] };
    }
  };
  const idOf = (kind: CauseKind, key: Record<string, string>) => `${scope.name}/${kind}/${Object.values(key).join('/')}`;
  const routeKeys = [...new Set(scope.routes.flatMap((r) => Object.keys(r.labels)))];
  const fresh = new Map<string, Cause>();
  const members: number[][] = inferred.map(() => []);
  for (let i = 0; i < size; i++) if (rowCause[i]! >= 0) members[rowCause[i]!]!.push(i);
  inferred.forEach((c, idx) => {
    const key = keyOf(c);
    const id = idOf(c.kind, key);
    fresh.set(id, evidence(c, id, key, members[idx]!));
  });

  function evidence(c: Inferred, id: string, key: Record<string, string>, rowsOf: number[]): Cause {
    let bad = 0;
    let sent = 0;
    let lost = 0;
    let firstBad = Infinity;
    const medians: number[] = [];
    const cellsAcc = new Map<number, { vantage: string; destination: string; bad: number; total: number }>();
    const affected: Record<string, Record<string, number>> = {};
    const agents = new Set<string>();
    for (const i of rowsOf) {
      const s = used(i);
      if (c.kind === 'vantage') agents.add(s.agent);
      const ck = table.cell[i]! * table.dests.length + table.dest[i]!;
      let cell = cellsAcc.get(ck);
      if (!cell) cellsAcc.set(ck, (cell = { vantage: table.cells[table.cell[i]!]!, destination: table.dests[table.dest[i]!]!, bad: 0, total: 0 }));
      cell.total++;
      if (!table.bad[i]) continue;
      bad++;
      cell.bad++;
      sent += s.sent;
      lost += s.sent === 0 ? 0 : s.lost;
      if (s.median !== null) medians.push(s.median);
      if (badSince[i]! < firstBad) firstBad = badSince[i]!;
      for (const k of routeKeys) {
        const v = s.targetLabels[k] ?? s.agentLabels[k];
        if (v === undefined) continue;
        (affected[k] ??= {})[v] = (affected[k]![v] ?? 0) + 1;
      }
    }
    const sorted = sortedNumbers(medians);
    const cause: Cause = {
      id, scope: scope.name, kind: c.kind, key,
      title: `${c.kind} ${Object.entries(key).map(([k, v]) => `${k}=${v}`).join(' ')}`,
      confidence: c.confidence, rule: c.rule,
      first_bad: Number.isFinite(firstBad) ? firstBad : now,
      inferred_since: now, raised: null, last_seen: now,
      series: { bad, total: rowsOf.length },
      loss_pct: sent > 0 ? (100 * lost) / sent : bad > 0 ? 100 : null,
      median: sorted.length ? sorted[Math.floor(sorted.length / 2)]! : null,
      bad_cells: [...cellsAcc.values()].filter((x) => x.bad > 0).sort((a, b) => b.bad - a.bad || b.bad / b.total - a.bad / a.total).slice(0, MAX_CELLS),
      affected,
      agents: [...agents].sort(),
    };
    if (c.items) cause.items = c.items;
    if (c.cells) cause.cells_count = c.cells;
    if (c.networks) cause.networks = { seeing: c.networks.seeing.map((n) => table.nets[n]!), total: c.networks.total };
    if (c.peers) cause.peers = c.peers;
    if (c.others && c.others.total > 0) cause.others_bad_pct = (100 * c.others.bad) / c.others.total;
    return cause;
  }

  // Hysteresis.
  const events: CauseEvent[] = [];
  const causes = new Map<string, CauseMemo>();
  for (const [id, cause] of fresh) {
    const old = before.causes.get(id);
    const continuing = old && (old.cause.raised !== null || old.missing === 0);
    const run = continuing ? Math.min(old.run + 1, scope.raise_after) : 1;
    cause.inferred_since = continuing ? old.cause.inferred_since : now;
    cause.raised = old?.cause.raised ?? null;
    if (cause.raised === null && run >= scope.raise_after) {
      cause.raised = now;
      events.push({ state: 'raised', time: now, cause });
    }
    // A raised cause changes its confidence (suspected ↔ confirmed, degraded ↔ down) once the
    // change lasted: up after raise_after steps in a row, down after clear_after; one event each.
    let shift = 0;
    if (old && old.cause.raised !== null && cause.confidence !== old.cause.confidence) {
      const up = cause.confidence === 'confirmed';
      shift = (old.shift ?? 0) + 1;
      if (shift >= (up ? scope.raise_after : scope.clear_after)) {
        events.push({ state: 'updated', time: now, cause, from: old.cause.confidence });
        shift = 0;
      } else {
        cause.confidence = old.cause.confidence;
        cause.rule = old.cause.rule;
      }
    }
    causes.set(id, { cause, run, missing: 0, ...(shift ? { shift } : {}) });
  }
  for (const [id, old] of before.causes) {
    if (fresh.has(id) || old.cause.raised === null) continue;
    const missing = old.missing + 1;
    if (missing >= scope.clear_after) events.push({ state: 'cleared', time: now, cause: old.cause });
    else causes.set(id, { ...old, missing });
  }

  // The raised cause explaining each series: the one that took it this step, else the most
  // general raised cause whose key it falls under (raised causes not inferred this step).
  const raised = [...causes.values()].map((m) => m.cause).filter((c) => c.raised !== null);
  const byId = new Map(inferred.map((c, i) => [i, idOf(c.kind, keyOf(c))]));
  const names = new Map(raised.map((c) => {
    const v = Object.values(c.key);
    return [c.id, c.kind === 'path' ? `${v[0]} → ${v.slice(1).join(' / ')}` : v.join(' / ')];
  }));
  const holds = (c: Cause, i: number): boolean => {
    const name = names.get(c.id);
    switch (c.kind) {
      case 'vantage': return c.key.agent !== undefined && bySite ? table.agents![table.agent![i]!] === name : table.sites[table.site[i]!] === name;
      case 'network': return table.nets[table.net[i]!] === name;
      case 'cell': return table.cells[table.cell[i]!] === name;
      case 'destination': return table.dests[table.dest[i]!] === name;
      case 'path': return `${table.nets[table.net[i]!]} → ${table.dests[table.dest[i]!]}` === name;
      case 'item': return table.items[table.item[i]!] === name;
      case 'region_pair': return table.pair !== undefined && table.pair[i]! >= 0 && table.pairs![table.pair[i]!] === name;
    }
  };
  const idle = raised.filter((c) => c.last_seen !== now).sort((a, b) => CAUSE_KINDS.indexOf(a.kind) - CAUSE_KINDS.indexOf(b.kind));
  const explain = new Map<string, string>();
  // The raised cause explaining each row, as an index into `explainIds` (-1: none).
  const explainIds: string[] = [];
  const explainIndex = new Map<string, number>();
  const rowExplained = new Int32Array(size).fill(-1);
  for (let i = 0; i < size; i++) {
    const taken = rowCause[i]! >= 0 ? byId.get(rowCause[i]!)! : undefined;
    let id = taken !== undefined && causes.get(taken)?.cause.raised !== null ? taken : undefined;
    if (id === undefined) for (const c of idle) if (holds(c, i)) { id = c.id; break; }
    if (id === undefined) {
      if (table.bad[i]) counts.unexplained++;
      continue;
    }
    let x = explainIndex.get(id);
    if (x === undefined) explainIndex.set(id, (x = explainIds.push(id) - 1));
    rowExplained[i] = x;
    explain.set(keyOfRow(i), id);
  }

  return {
    // Series without a round this step keep their memory for a while.
    state: { series: forget(memos, now - FORGET_MS), causes, time: now },
    causes: [...causes.values()].map((m) => m.cause).sort((a, b) => CAUSE_KINDS.indexOf(a.kind) - CAUSE_KINDS.indexOf(b.kind) || a.id.localeCompare(b.id)),
    events,
    explain,
    matrix: matrixOf(table, used, rowExplained, explainIds),
    counts,
  };
}

/** Numbers sorted ascending in a typed array (its sort compares numerically without a comparator that boxes every number it is called with). */
const sortedNumbers = (a: readonly number[]): Float64Array => Float64Array.from(a).sort();

/** Cells of the vantage × destination matrix: loss pooled over the latest rounds, median of medians. */
function matrixOf(table: Table, used: (i: number) => SeriesInput, explained: Int32Array, ids: readonly string[]): MatrixCell[] {
  interface Acc { cell: MatrixCell; sent: number; lost: number; medians: number[]; causes: Map<string, number> }
  const acc = new Map<number, Acc>();
  const nDest = table.dests.length;
  for (let i = 0; i < table.size; i++) {
    const k = table.cell[i]! * nDest + table.dest[i]!;
    let a = acc.get(k);
    if (!a) acc.set(k, (a = { cell: { row: table.cells[table.cell[i]!]!, column: table.dests[table.dest[i]!]!, series: 0, bad: 0, loss_pct: null, median: null }, sent: 0, lost: 0, medians: [], causes: new Map() }));
    const s = used(i);
    a.cell.series++;
    a.sent += s.sent;
    a.lost += s.lost;
    if (s.median !== null) a.medians.push(s.median);
    if (table.bad[i]) {
      a.cell.bad++;
      const id = explained[i]! >= 0 ? ids[explained[i]!] : undefined;
      if (id) a.causes.set(id, (a.causes.get(id) ?? 0) + 1);
    }
  }
  const out: MatrixCell[] = [];
  for (const a of acc.values()) {
    a.cell.loss_pct = a.sent > 0 ? (100 * a.lost) / a.sent : 100;
    const sorted = sortedNumbers(a.medians);
    a.cell.median = sorted.length ? sorted[Math.floor(sorted.length / 2)]! : null;
    let best = 0;
    for (const [id, n] of a.causes) if (n > best) { best = n; a.cell.cause = id; }
    out.push(a.cell);
  }
  return out.sort((x, y) => x.row.localeCompare(y.row) || x.column.localeCompare(y.column));
}

