/**
 * Cause inference over one step: the bad/good verdict of every series, grouped by the roles
 * of the scope, explained by as few causes as possible, most general first. A cause's series
 * are taken out before the next level looks, so one root cause yields one cause:
 *
 * 1. vantage: a site (an agent, or the agents sharing a site label; then also one agent of a
 *    site whose others are fine) sees nearly everything
 *    bad while the others who measure the same items do not, and its cell's peers do not
 *    either (a peer with a bad cell's share of bad series counts as seeing it) — our probe is
 *    broken, not the network;
 * 2. network (e.g. an ISP): a third / half of its cells, or of the items it measures, bad —
 *    counting only items that the other networks do not see bad too;
 *    and spread over at least half of the destination groups it measures;
 * 3. destination (e.g. an IDC): seen bad by ≥ 2 networks, or a third / half of its items bad;
 *    3b. region pair (only with region_pairs): a source region → target region cell of the mesh
 *    with a quorum of its series bad;
 * 4. path (one network to one destination group: a peering or uplink problem): the network
 *    sees half of the group's items bad, no other network does;
 * 5. cell (e.g. one ISP in one province): half of its series bad;
 * 6. item (e.g. a VIP): more than half of one network's cells see it bad.
 *
 * Plain data in, plain data out; counts are exact (fractions compared as ratios).
 */
import type { RegionPairs, Thresholds } from '../config/localize-schema.ts';
import { atLeast, moreThan, ratio, type Ratio } from './select.ts';
import type { CauseKind } from './types.ts';

/**
 * The judged series of a step, one column per role (indices into the names below; typed
 * arrays keep 100,000 series cheap), and the names behind the indices.
 */
export interface Table {
  size: number;
  net: Int32Array;
  cell: Int32Array;
  dest: Int32Array;
  item: Int32Array;
  site: Int32Array;
  bad: Uint8Array;
  nets: string[];
  cells: string[];
  dests: string[];
  items: string[];
  sites: string[];
  /** The network of each cell. */
  cellNet: number[];
  /** Whether cells differ from networks (more than one vantage key). */
  cellLevel: boolean;
  /** With region_pairs: the (source region, target region) pair of each row (-1: the target has no region), and the pairs' names. */
  pair?: Int32Array;
  pairs?: string[];
  /** When sites group several agents (roles.site is a label): the agent of each row, and the agents' names. */
  agent?: Int32Array;
  agents?: string[];
}

/** A cause as inferred in one step, before hysteresis and evidence. */
export interface Inferred {
  kind: CauseKind;
  /** Index of the site, network, destination, cell or item it names. */
  index: number;
  confidence: 'suspected' | 'confirmed';
  rule: string;
  items?: { bad: number; total: number };
  cells?: { bad: number; total: number };
  networks?: { seeing: number[]; total: number };
  peers?: { bad: number; total: number };
  others?: { bad: number; total: number };
  /** A vantage cause of one agent of a site (the site itself was not blamed). */
  agent?: boolean;
}

/** Thresholds read once per step: ratios instead of config fractions. */
interface Rules {
  t: Thresholds;
  vantageBad: Ratio;
  othersBad: Ratio;
  netSuspected: Ratio;
  netDestinations: Ratio;
  netConfirmed: Ratio;
  destSees: Ratio;
  destSuspected: Ratio;
  destConfirmed: Ratio;
  cellBad: Ratio;
  cellItemBad: Ratio;
  itemCells: Ratio;
}

function rulesOf(t: Thresholds): Rules {
  return {
    t,
    vantageBad: ratio(t.vantage.bad_fraction),
    othersBad: ratio(t.vantage.others_bad_fraction),
    netSuspected: ratio(t.network.suspected),
    netDestinations: ratio(t.network.destinations),
    netConfirmed: ratio(t.network.confirmed),
    destSees: ratio(t.destination.network_sees),
    destSuspected: ratio(t.destination.suspected),
    destConfirmed: ratio(t.destination.confirmed),
    cellBad: ratio(t.cell.bad_fraction),
    cellItemBad: ratio(t.cell.item_bad_fraction),
    itemCells: ratio(t.item.cells),
  };
}

const fmt = (r: Ratio) => (r.den === 1 ? String(r.num) : `${r.num}/${r.den}`);

/**
 * Infers the causes of one step. Returns them most general first, and for each row the
 * index of the cause that took it (-1: none).
 */
export function infer(table: Table, thresholds: Thresholds, regionPairs?: RegionPairs): { causes: Inferred[]; rowCause: Int32Array } {
  const r = rulesOf(thresholds);
  const rowCause = new Int32Array(table.size).fill(-1);
  const causes: Inferred[] = [];
  // The item view over the rows not taken yet: worked out again only after a level took rows
  // (a clean step builds it once instead of once per level; it is the bulk of a step's work).
  let view: ItemView | undefined;
  const viewOf = () => (view ??= itemView(table, rowCause, r));
  // The causes of one level take the rows not taken yet whose column names one of them.
  const take = (level: Inferred[], column: Int32Array | ((i: number) => number)) => {
    const byIndex = new Map<number, number>();
    for (const c of level) byIndex.set(c.index, causes.push(c) - 1);
    if (byIndex.size === 0) return;
    for (let i = 0; i < table.size; i++) {
      if (rowCause[i] !== -1) continue;
      const id = byIndex.get(typeof column === 'function' ? column(i) : column[i]!);
      if (id !== undefined) {
        rowCause[i] = id;
        view = undefined;
      }
    }
  };

  take(vantage(table, r, table.site, table.sites.length, rowCause), table.site);
  // One broken agent of a site whose other agents are fine is still our probe.
  if (table.agent) take(vantage(table, r, table.agent, table.agents!.length, rowCause).map((c) => ({ ...c, agent: true })), table.agent);
  take(networks(table, rowCause, viewOf(), r), table.net);
  take(destinations(table, rowCause, viewOf(), r), table.dest);
  if (regionPairs && table.pair) take(pairsOfRegions(table, rowCause, regionPairs), table.pair);
  take(paths(table, rowCause, viewOf(), r), (i) => pathIndex(table, table.net[i]!, table.dest[i]!));
  if (table.cellLevel) take(cells(table, rowCause, viewOf(), r), table.cell);
  take(items(viewOf(), r), table.item);
  return { causes, rowCause };
}

/**
 * Sites (by the `site` column: sites, or agents) that see nearly everything bad while their
 * peers and the other observers do not, over the rows no cause has taken.
 */
function vantage(table: Table, r: Rules, siteOf: Int32Array, nSites: number, rowCause: Int32Array): Inferred[] {
  const nSite = new Int32Array(nSites);
  const bSite = new Int32Array(nSites);
  // The cells a site's agents stand in (one, unless a site label groups agents of several
  // cells: the machines of several ISPs in one building).
  const lastCell = new Int32Array(nSites).fill(-1);
  const siteCells = new Set<number>(); // site × cells + cell
  const nCells = table.cells.length;
  const nItem = new Int32Array(table.items.length);
  const bItem = new Int32Array(table.items.length);
  for (let i = 0; i < table.size; i++) {
    if (rowCause[i] !== -1) continue;
    const site = siteOf[i]!;
    const item = table.item[i]!;
    nSite[site]!++;
    nItem[item]!++;
    if (table.bad[i]) {
      bSite[site]!++;
      bItem[item]!++;
    }
    if (lastCell[site] !== table.cell[i]) {
      lastCell[site] = table.cell[i]!;
      siteCells.add(site * nCells + table.cell[i]!);
    }
  }
  const candidate = (s: number) => nSite[s]! >= r.t.vantage.min_series && atLeast(bSite[s]!, nSite[s]!, r.vantageBad);
  const sitesOfCell = new Map<number, number[]>();
  const cellsOfSite = new Map<number, number[]>();
  for (const k of siteCells) {
    const cell = k % nCells;
    const site = (k - cell) / nCells;
    const list = sitesOfCell.get(cell);
    if (list) list.push(site);
    else sitesOfCell.set(cell, [site]);
    const cl = cellsOfSite.get(site);
    if (cl) cl.push(cell);
    else cellsOfSite.set(site, [cell]);
  }
  const out: Inferred[] = [];
  const candidates = new Set<number>();
  for (let s = 0; s < nSites; s++) if (candidate(s)) candidates.add(s);
  if (candidates.size === 0) return out;
  // The site's own series per item, to subtract from the item totals (the others' view).
  const own = new Map<number, Map<number, { n: number; b: number }>>();
  for (const s of candidates) own.set(s, new Map());
  for (let i = 0; i < table.size; i++) {
    if (rowCause[i] !== -1) continue;
    const m = own.get(siteOf[i]!);
    if (!m) continue;
    const item = table.item[i]!;
    const x = m.get(item) ?? { n: 0, b: 0 };
    x.n++;
    if (table.bad[i]) x.b++;
    m.set(item, x);
  }
  // A peer sees it too when its own series are bad as often as a bad cell's (cell.bad_fraction),
  // not only when it crossed the vantage bar itself: a degraded cell puts each of its sites near
  // that bar, and which side of it a site lands on in a step is chance.
  const peerBad = (p: number) => atLeast(bSite[p]!, nSite[p]!, r.cellBad);
  for (const s of candidates) {
    const peers = [...new Set((cellsOfSite.get(s) ?? []).flatMap((c) => sitesOfCell.get(c) ?? []))].filter((p) => p !== s);
    const peersBad = peers.filter(peerBad).length;
    if (peers.length > 0 && peersBad * 2 >= peers.length) continue; // the whole cell sees it: not this site
    let on = 0;
    let ob = 0;
    for (const [item, x] of own.get(s)!) {
      on += nItem[item]! - x.n;
      ob += bItem[item]! - x.b;
    }
    if (on > 0 && atLeast(ob, on, r.othersBad)) continue; // the others see those items bad too: not this site
    out.push({
      kind: 'vantage', index: s, confidence: 'confirmed',
      rule: `${bSite[s]} of ${nSite[s]} series bad (≥ ${fmt(r.vantageBad)}); `
        + (on > 0 ? `others measuring the same items: ${ob} of ${on} bad (< ${fmt(r.othersBad)})` : 'no other site measures the same items')
        + (peers.length ? `; ${peersBad} of ${peers.length} peers in its cell also bad (≥ ${fmt(r.cellBad)} of their series)` : '; no peer in its vantage cell'),
      peers: { bad: peersBad, total: peers.length },
      others: { bad: ob, total: on },
    });
  }
  return out;
}

/**
 * How each network sees each item, over the rows no cause has taken: per item, the networks
 * measuring it and those from which it is bad (more than `item.cells` of the network's cells
 * measuring it see it bad; a cell sees it bad when `cell.item_bad_fraction` of its series to
 * it are bad).
 */
interface ItemView {
  /** item → network → [cells measuring, cells seeing bad] */
  byItem: Map<number, Map<number, [number, number]>>;
  /** item → networks from which it is bad */
  badFrom: Map<number, number[]>;
}

function itemView(table: Table, rowCause: Int32Array, r: Rules): ItemView {
  // cell × item → [series, bad]
  const ci = new Map<number, [number, number]>();
  const nItems = table.items.length;
  for (let i = 0; i < table.size; i++) {
    if (rowCause[i] !== -1) continue;
    const k = table.cell[i]! * nItems + table.item[i]!;
    const x = ci.get(k);
    if (x) {
      x[0]++;
      if (table.bad[i]) x[1]++;
    } else ci.set(k, [1, table.bad[i]!]);
  }
  const byItem = new Map<number, Map<number, [number, number]>>();
  for (const [k, [n, b]] of ci) {
    const item = k % nItems;
    const net = table.cellNet[(k - item) / nItems]!;
    let m = byItem.get(item);
    if (!m) byItem.set(item, (m = new Map()));
    const x = m.get(net) ?? [0, 0];
    x[0]++;
    if (atLeast(b, n, r.cellItemBad)) x[1]++;
    m.set(net, x);
  }
  const badFrom = new Map<number, number[]>();
  for (const [item, m] of byItem) {
    const nets: number[] = [];
    for (const [net, [cells, seeing]] of m) if (moreThan(seeing, cells, r.itemCells)) nets.push(net);
    if (nets.length) badFrom.set(item, nets);
  }
  return { byItem, badFrom };
}

/** Whether the other networks measuring `item` mostly see it bad too (then it is not `net`'s doing). */
function common(view: ItemView, item: number, net: number): boolean {
  const measuring = view.byItem.get(item)?.size ?? 0;
  const others = measuring - 1;
  if (others <= 0) return false;
  const bad = (view.badFrom.get(item) ?? []).filter((n) => n !== net).length;
  return bad * 2 > others;
}

function networks(table: Table, rowCause: Int32Array, view: ItemView, r: Rules): Inferred[] {
  const nNets = table.nets.length;
  const itemsTotal = new Int32Array(nNets);
  const itemsBad = new Int32Array(nNets);
  const commonOf = new Map<number, Set<number>>(); // net → its common items
  const destOfItem = destinationOfItems(table, rowCause);
  const destsMeasured = new Map<number, Set<number>>(); // net → destination groups it measures
  const destsBad = new Map<number, Set<number>>(); // net → destination groups with its own bad items
  const add = (m: Map<number, Set<number>>, net: number, v: number) => {
    let s = m.get(net);
    if (!s) m.set(net, (s = new Set()));
    s.add(v);
  };
  for (const [item, m] of view.byItem) {
    const bad = view.badFrom.get(item) ?? [];
    for (const net of m.keys()) {
      add(destsMeasured, net, destOfItem.get(item)!);
      if (common(view, item, net)) {
        add(commonOf, net, item);
        continue;
      }
      itemsTotal[net]!++;
      if (bad.includes(net)) {
        itemsBad[net]!++;
        add(destsBad, net, destOfItem.get(item)!);
      }
    }
  }
  // Cells of each network over its non-common items: [series, bad].
  const cellCounts = new Map<number, [number, number]>();
  for (let i = 0; i < table.size; i++) {
    if (rowCause[i] !== -1 || commonOf.get(table.net[i]!)?.has(table.item[i]!)) continue;
    const cell = table.cell[i]!;
    const x = cellCounts.get(cell);
    if (x) {
      x[0]++;
      x[1] += table.bad[i]!;
    } else cellCounts.set(cell, [1, table.bad[i]!]);
  }
  const cellsTotal = new Int32Array(nNets);
  const cellsBad = new Int32Array(nNets);
  for (const [cell, [n, b]] of cellCounts) {
    const net = table.cellNet[cell]!;
    cellsTotal[net]!++;
    if (n >= r.t.cell.min_series && atLeast(b, n, r.cellBad)) cellsBad[net]!++;
  }
  const out: Inferred[] = [];
  for (let net = 0; net < nNets; net++) {
    // Bad items concentrated in a few destination groups are those groups (or the paths to
    // them). A bad cell sees half of its series bad, so it is spread by itself.
    const spread = destsBad.get(net)?.size ?? 0;
    const measured = destsMeasured.get(net)?.size ?? 0;
    const cellsOk = cellsTotal[net]! >= r.t.network.min_cells;
    const itemsOk = itemsBad[net]! >= r.t.network.min_items && atLeast(spread, measured, r.netDestinations);
    const cf = (q: Ratio) => cellsOk && atLeast(cellsBad[net]!, cellsTotal[net]!, q);
    const itf = (q: Ratio) => itemsOk && atLeast(itemsBad[net]!, itemsTotal[net]!, q);
    const confirmed = cf(r.netConfirmed) || itf(r.netConfirmed);
    if (!confirmed && !cf(r.netSuspected) && !itf(r.netSuspected)) continue;
    const q = confirmed ? r.netConfirmed : r.netSuspected;
    const why: string[] = [];
    if (cf(q)) why.push(`${cellsBad[net]} of ${cellsTotal[net]} cells bad (≥ ${fmt(q)})`);
    if (itf(q)) why.push(`${itemsBad[net]} of ${itemsTotal[net]} items bad from it alone (≥ ${fmt(q)}), in ${spread} of ${measured} destination groups`);
    out.push({
      kind: 'network', index: net, confidence: confirmed ? 'confirmed' : 'suspected', rule: why.join('; '),
      items: { bad: itemsBad[net]!, total: itemsTotal[net]! },
      cells: { bad: cellsBad[net]!, total: cellsTotal[net]! },
    });
  }
  return out;
}

/** The destination group of each item not yet taken (an item lives in one group). */
function destinationOfItems(table: Table, rowCause: Int32Array): Map<number, number> {
  const out = new Map<number, number>();
  for (let i = 0; i < table.size; i++) if (rowCause[i] === -1) out.set(table.item[i]!, table.dest[i]!);
  return out;
}

/**
 * Region pairs (the mesh's region × region cells) whose series not taken yet are bad in a
 * quorum: down (confirmed) or, when asked for, degraded (suspected).
 */
function pairsOfRegions(table: Table, rowCause: Int32Array, rule: RegionPairs): Inferred[] {
  const n = new Int32Array(table.pairs!.length);
  const b = new Int32Array(table.pairs!.length);
  for (let i = 0; i < table.size; i++) {
    const p = table.pair![i]!;
    if (p < 0 || rowCause[i] !== -1) continue;
    n[p]!++;
    b[p]! += table.bad[i]!;
  }
  const down = ratio(rule.down);
  const degraded = ratio(rule.degraded);
  const out: Inferred[] = [];
  for (let p = 0; p < n.length; p++) {
    if (n[p]! < rule.min_series || b[p] === 0) continue;
    const isDown = atLeast(b[p]!, n[p]!, down);
    if (!isDown && (rule.alert !== 'degraded' || !atLeast(b[p]!, n[p]!, degraded))) continue;
    out.push({
      kind: 'region_pair', index: p, confidence: isDown ? 'confirmed' : 'suspected',
      rule: `${isDown ? 'down' : 'degraded'}: ${b[p]} of ${n[p]} series bad (≥ ${fmt(isDown ? down : degraded)})`,
    });
  }
  return out;
}

/** One number for a (network, destination) pair. */
const pathIndex = (table: Table, net: number, dest: number) => net * table.dests.length + dest;

/** A network that sees a destination group bad that no other network sees bad: the path between them. */
function paths(table: Table, rowCause: Int32Array, view: ItemView, r: Rules): Inferred[] {
  const destOfItem = destinationOfItems(table, rowCause);
  const acc = new Map<number, [number, number]>(); // path → [items measured, items bad from the net]
  for (const [item, m] of view.byItem) {
    const from = view.badFrom.get(item) ?? [];
    for (const net of m.keys()) {
      const k = pathIndex(table, net, destOfItem.get(item)!);
      const x = acc.get(k) ?? [0, 0];
      x[0]++;
      if (from.includes(net)) x[1]++;
      acc.set(k, x);
    }
  }
  const out: Inferred[] = [];
  for (const [k, [n, b]] of acc) {
    if (b < r.t.destination.min_bad_items || !atLeast(b, n, r.destSees)) continue;
    out.push({ kind: 'path', index: k, confidence: 'confirmed', rule: `${b} of ${n} items of the group bad from this network only (≥ ${fmt(r.destSees)})`, items: { bad: b, total: n } });
  }
  return out;
}

function destinations(table: Table, rowCause: Int32Array, view: ItemView, r: Rules): Inferred[] {
  // destination → its items; item → destination (an item lives in one destination group).
  const itemsOf = new Map<number, Set<number>>();
  for (let i = 0; i < table.size; i++) {
    if (rowCause[i] !== -1) continue;
    const dest = table.dest[i]!;
    let s = itemsOf.get(dest);
    if (!s) itemsOf.set(dest, (s = new Set()));
    s.add(table.item[i]!);
  }
  const t = r.t.destination;
  const out: Inferred[] = [];
  for (const [dest, items] of itemsOf) {
    let bad = 0;
    const perNet = new Map<number, [number, number]>(); // net → [items measured, items bad from it]
    const measuring = new Set<number>();
    for (const item of items) {
      const m = view.byItem.get(item);
      if (!m) continue;
      const from = view.badFrom.get(item) ?? [];
      if (from.length * 2 > m.size) bad++;
      for (const net of m.keys()) {
        measuring.add(net);
        const x = perNet.get(net) ?? [0, 0];
        x[0]++;
        if (from.includes(net)) x[1]++;
        perNet.set(net, x);
      }
    }
    if (bad < t.min_bad_items) continue;
    const seeing = [...perNet].filter(([, [n, b]]) => atLeast(b, n, r.destSees)).map(([net]) => net).sort((a, b) => a - b);
    const byNets = seeing.length >= t.networks;
    const confirmedItems = atLeast(bad, items.size, r.destConfirmed);
    const suspectedItems = items.size > t.suspected_min_items && atLeast(bad, items.size, r.destSuspected);
    if (!byNets && !confirmedItems && !suspectedItems) continue;
    const why: string[] = [];
    if (byNets) why.push(`${seeing.length} of ${measuring.size} networks see it bad (≥ ${t.networks})`);
    if (confirmedItems) why.push(`${bad} of ${items.size} items bad (≥ ${fmt(r.destConfirmed)})`);
    else if (suspectedItems) why.push(`${bad} of ${items.size} items bad (≥ ${fmt(r.destSuspected)}, more than ${t.suspected_min_items} items)`);
    out.push({
      kind: 'destination', index: dest, confidence: byNets || confirmedItems ? 'confirmed' : 'suspected', rule: why.join('; '),
      items: { bad, total: items.size },
      networks: { seeing, total: measuring.size },
    });
  }
  return out;
}

function cells(table: Table, rowCause: Int32Array, view: ItemView, r: Rules): Inferred[] {
  // Items bad from some network belong to the item level, not to a cell.
  const counts = new Map<number, [number, number]>();
  for (let i = 0; i < table.size; i++) {
    if (rowCause[i] !== -1 || view.badFrom.has(table.item[i]!)) continue;
    const cell = table.cell[i]!;
    const x = counts.get(cell);
    if (x) {
      x[0]++;
      x[1] += table.bad[i]!;
    } else counts.set(cell, [1, table.bad[i]!]);
  }
  const out: Inferred[] = [];
  for (const [cell, [n, b]] of counts) {
    if (n < r.t.cell.min_series || !atLeast(b, n, r.cellBad)) continue;
    out.push({ kind: 'cell', index: cell, confidence: 'confirmed', rule: `${b} of ${n} series bad (≥ ${fmt(r.cellBad)})` });
  }
  return out;
}

function items(view: ItemView, r: Rules): Inferred[] {
  const out: Inferred[] = [];
  for (const [item, from] of view.badFrom) {
    const m = view.byItem.get(item)!;
    const seeing = [...from].sort((a, b) => a - b);
    const detail = seeing.map((net) => `${m.get(net)![1]} of ${m.get(net)![0]} cells`).join(', ');
    out.push({
      kind: 'item', index: item, confidence: 'confirmed',
      rule: `bad from ${seeing.length} of ${m.size} networks (more than ${fmt(r.itemCells)} of a network's cells see it bad: ${detail})`,
      networks: { seeing, total: m.size },
    });
  }
  return out;
}
