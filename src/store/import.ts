import type Database from 'better-sqlite3';
import { makeRound, type Round } from '../probes/round.ts';
import { addContribution, binOf, contributionOf, emptyBucket, INTERIOR_QUANTILES, mergeBucket, seal, toRow, type BucketRow, type BucketState } from './bucket.ts';
import { packAscendingUs, toUs } from './codec.ts';
import { rawExtra, type SeriesRow } from './raw.ts';
import { addToPacks, readBuckets, statementCache } from './tier-rows.ts';
import type { Tier } from './tiers.ts';
import type { HistoryImport, HistoryImportResult, HistoryInterval } from './types.ts';
import type { RoundProblem } from './validate-round.ts';

/**
 * Import of foreign history (SmokePing's RRD rows) into the tiers, bypassing the raw-first
 * write path: an RRD row older than raw_days becomes a rollup bucket directly.
 *
 * - Only history from before the series' first round is taken (the store's own rounds win),
 *   and nothing stored is ever overwritten (INSERT OR IGNORE): a second import of the same
 *   history finds the series starting at its oldest row and writes nothing.
 * - Each tier is filled from the intervals of exactly its size where there are some, else
 *   from finer ones (the finest covering a bucket first); an interval coarser than a tier
 *   cannot fill it.
 * - An interval of one round at the series' step within raw_days also becomes a raw round,
 *   so that the recent graphs (drawn from raw) show it; its bucket is that round's, as for
 *   a live round.
 * - Counts are whole pings: an interval of r rounds of p pings with mean loss L received
 *   round((p − L) · r) pings, and at least one when it has an RTT and L < p. The received pings are spread over the interval's RTT samples;
 *   the bucket's median is the interval's mean median.
 * One transaction per call (BEGIN IMMEDIATE: it waits for the server's write lock, then
 * holds it for the length of one series).
 */

export interface ImportContext {
  db: Database.Database;
  tiers: readonly Tier[];
  rawKeepMs: number;
  now: number;
  /**
   * The store's own validation of a round (src/store/validate-round.ts): an interval whose
   * round it refuses (a path, a step or a ping count the store would not take) is skipped.
   * `raw` says whether the round is to be written raw (then the retention window applies).
   */
  check: (r: Round, raw: boolean) => RoundProblem | undefined;
}

/** Imports one series' history; see the module comment for what is written. */
export function importHistory(ctx: ImportContext, h: HistoryImport): HistoryImportResult {
  const result: HistoryImportResult = { raw: 0, buckets: Object.fromEntries(ctx.tiers.map((t) => [t.name, 0])), skipped: 0 };
  const rawFrom = ctx.now - ctx.rawKeepMs;
  const isRaw = (iv: HistoryInterval) => iv.rounds === 1 && iv.seconds === h.step && iv.time >= rawFrom;
  // One round of the interval must be a round the store would keep, as a live one would be.
  const valid = h.intervals.filter((iv) => isValid(iv) && ctx.check(roundOf(h, { ...iv, rounds: 1 }), isRaw(iv)) === undefined);
  result.skipped += h.intervals.length - valid.length;
  const { db } = ctx;
  const findSeries = db.prepare('SELECT * FROM series WHERE target = ? AND agent = ?');
  const before = (s: SeriesRow | undefined) => valid.filter((iv) => !s || iv.time + iv.seconds * 1000 <= s.first);
  // Nothing to do (the usual second run): no transaction, no write.
  if (before(findSeries.get(h.target, h.agent) as SeriesRow | undefined).length === 0) {
    result.skipped = h.intervals.length;
    return result;
  }
  db.transaction(() => {
    const existing = findSeries.get(h.target, h.agent) as SeriesRow | undefined;
    const todo = before(existing).sort((a, b) => a.time - b.time || a.seconds - b.seconds);
    result.skipped = h.intervals.length - todo.length;
    if (todo.length === 0) return;
    const first = todo[0]!.time;
    const last = todo.reduce((m, iv) => Math.max(m, iv.time), 0);
    let id: number;
    if (existing) {
      id = existing.id;
      db.prepare('UPDATE series SET first = min(first, ?), last = max(last, ?) WHERE id = ?').run(first, last, id);
    } else {
      id = (db.prepare('INSERT INTO series (target, agent, probe, step, first, last) VALUES (?, ?, ?, ?, ?, ?) RETURNING id')
        .get(h.target, h.agent, h.probe, h.step, first, last) as { id: number }).id;
    }
    const rounds = new Map<HistoryInterval, Round>();
    const insRaw = db.prepare('INSERT OR IGNORE INTO raw (series, time, step, sent, rtts, extra) VALUES (?, ?, ?, ?, ?, ?)');
    for (const iv of todo) {
      if (iv.rounds !== 1) continue;
      const r = roundOf(h, iv);
      rounds.set(iv, r);
      if (isRaw(iv)) {
        const us = r.rtts.map(toUs);
        result.raw += insRaw.run(id, r.time, r.step, r.sent, us.length ? packAscendingUs(us) : null, rawExtra(r)).changes;
      }
    }
    const prep = statementCache(db);
    for (const tier of ctx.tiers) {
      const ins = prep(`INSERT OR IGNORE INTO ${tier.table} (series, b, rounds, sent, lost, n, min, max, mean, median, stddev, sketch, q, extra)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
      // Buckets that ended before the raw horizon are sealed, as retention would have done, and packed.
      const sealBelow = Math.floor(rawFrom / tier.ms);
      const buckets = bucketsOf(tier, todo, rounds, sealBelow);
      if (buckets.size === 0) continue;
      // Nothing stored is overwritten, open or packed.
      const sorted = [...buckets].sort((x, y) => x[0] - y[0]);
      const held = new Set(readBuckets(prep, tier, id, sorted[0]![0], sorted[sorted.length - 1]![0]).map((r) => r.b));
      const sealed: Array<BucketRow & { b: number }> = [];
      for (const [b, state] of sorted) {
        if (held.has(b)) continue;
        if (b < sealBelow) {
          seal(state);
          sealed.push({ ...toRow(state), b });
          continue;
        }
        const row = toRow(state);
        result.buckets[tier.name]! += ins.run(id, b, row.rounds, row.sent, row.lost, row.n, row.min, row.max, row.mean, row.median, row.stddev, row.sketch, row.q, row.extra).changes;
      }
      if (sealed.length) result.buckets[tier.name]! += addToPacks(prep, tier, id, sealed, true);
    }
  }).immediate();
  return result;
}

function isValid(iv: HistoryInterval): boolean {
  if (!Number.isSafeInteger(iv.time) || iv.time < 0 || !Number.isSafeInteger(iv.seconds) || iv.seconds < 1) return false;
  if (!Number.isSafeInteger(iv.rounds) || iv.rounds < 1 || !Number.isSafeInteger(iv.pings) || iv.pings < 1) return false;
  if (!Number.isFinite(iv.lost) || iv.lost < 0 || iv.lost > iv.pings) return false;
  if (iv.median !== null && (!Number.isFinite(iv.median) || iv.median < 0 || iv.median > 3_600_000)) return false;
  let prev = 0;
  for (const v of iv.rtts) {
    if (!Number.isFinite(v) || v < prev || v > 3_600_000) return false;
    prev = v;
  }
  return true;
}

/**
 * Pings received over the interval (whole pings). An interval with a measured RTT received at
 * least one ping, even where its mean loss rounds to all of them (an RRD row of 5 pings with
 * loss 4.6 and a median): its median is evidence, rounding must not drop it.
 */
function receivedOf(iv: HistoryInterval): number {
  // No RTT known at all: nothing can describe what was received.
  if (iv.rtts.length === 0 && iv.median === null) return 0;
  const n = Math.round((iv.pings - iv.lost) * iv.rounds);
  return iv.lost < iv.pings ? Math.max(1, n) : n;
}

/**
 * An interval of one round as a round: the received count from its loss, RTTs resampled from
 * its samples with the interval's median at the median's rank (so the round's median is it).
 */
export function roundOf(h: Pick<HistoryImport, 'target' | 'agent' | 'probe' | 'step'>, iv: HistoryInterval): Round {
  const n = receivedOf(iv);
  const samples = iv.rtts.length ? iv.rtts : iv.median !== null ? [iv.median] : [];
  const rtts = resample(samples, n);
  if (iv.median !== null && n > 0) {
    const mid = Math.floor(n / 2);
    rtts[mid] = iv.median;
    for (let j = 0; j < mid; j++) rtts[j] = Math.min(rtts[j]!, iv.median);
    for (let j = mid + 1; j < n; j++) rtts[j] = Math.max(rtts[j]!, iv.median);
  }
  return makeRound({ target: h.target, agent: h.agent, probe: h.probe, time: iv.time, step: h.step }, { sent: iv.pings, rtts });
}

/** `n` values picked evenly (by rank) from ascending `samples`. */
function resample(samples: readonly number[], n: number): number[] {
  const k = samples.length;
  const out = new Array<number>(n);
  for (let j = 0; j < n; j++) out[j] = samples[Math.min(k - 1, Math.floor(((j + 0.5) * k) / n))]!;
  return out;
}

/**
 * A bucket holding exactly the interval: its counts, its samples weighted to the received
 * pings, its median. Sealed, its quantiles are read from the weighted samples themselves (the
 * rank rule of quantilesUs, without the histogram's 1 %); open, it gets a histogram.
 */
function intervalBucket(iv: HistoryInterval, sealed: boolean): BucketState {
  const b = emptyBucket();
  b.rounds = iv.rounds;
  b.sent = iv.pings * iv.rounds;
  const n = receivedOf(iv);
  b.lost = b.sent - n;
  const samples = (iv.rtts.length ? iv.rtts : iv.median !== null ? [iv.median] : []).map(toUs);
  const k = samples.length;
  const weights = new Array<number>(k);
  if (n > 0) {
    const bins = b.bins!;
    for (let i = 0; i < k; i++) {
      const w = (weights[i] = Math.floor(((i + 1) * n) / k) - Math.floor((i * n) / k));
      if (w === 0) continue;
      const v = samples[i]!;
      if (b.n === 0) b.min = v;
      b.max = v;
      b.n += w;
      b.sum += w * v;
      b.sumsq += w * v * v;
      if (!sealed) {
        const bin = binOf(v);
        bins.set(bin, (bins.get(bin) ?? 0) + w);
      }
    }
  }
  if (iv.median !== null && n > 0) {
    b.medSum = toUs(iv.median) * iv.rounds;
    b.medN = iv.rounds;
  }
  if (sealed) {
    b.bins = null;
    b.q = b.n > 0 ? INTERIOR_QUANTILES.map((level) => weightedRank(samples, weights, level * (b.n - 1))) : null;
  }
  return b;
}

/** The first sample whose cumulative weight passes `rank`. */
function weightedRank(samples: number[], weights: number[], rank: number): number {
  let cum = 0;
  for (let i = 0; i < samples.length; i++) {
    cum += weights[i]!;
    if (cum > rank) return samples[i]!;
  }
  return samples[samples.length - 1]!;
}

/**
 * The tier's buckets from the intervals: sources of the tier's own size first, then finer
 * ones finest first, each filling only buckets still empty. A finer source's oldest bucket,
 * when it covers only its end, is left to a coarser source if there is one.
 */
function bucketsOf(tier: Tier, intervals: HistoryInterval[], rounds: Map<HistoryInterval, Round>, sealBelow: number): Map<number, BucketState> {
  const bySize = new Map<number, HistoryInterval[]>();
  for (const iv of intervals) {
    if (iv.seconds > tier.bucket || tier.bucket % iv.seconds !== 0) continue;
    let l = bySize.get(iv.seconds);
    if (!l) bySize.set(iv.seconds, (l = []));
    l.push(iv);
  }
  const sizes = [...bySize.keys()].sort((a, b) => (a === tier.bucket ? -1 : b === tier.bucket ? 1 : a - b));
  const out = new Map<number, BucketState>();
  sizes.forEach((size, i) => {
    const group = bySize.get(size)!;
    const start = group[0]!.time;
    const lastSource = i === sizes.length - 1;
    const fresh = new Map<number, BucketState>();
    for (const iv of group) {
      const b = Math.floor(iv.time / tier.ms);
      if (out.has(b)) continue;
      if (!lastSource && b * tier.ms < start) continue;
      const round = rounds.get(iv);
      let state = fresh.get(b);
      // The usual case, one RRA row per bucket: the row's bucket as it is, no merge.
      if (!state && !round && iv.seconds === tier.bucket) {
        fresh.set(b, intervalBucket(iv, b < sealBelow));
        continue;
      }
      if (!state) fresh.set(b, (state = emptyBucket()));
      if (round) addContribution(state, contributionOf(round));
      else mergeBucket(state, intervalBucket(iv, false));
    }
    for (const [b, s] of fresh) out.set(b, s);
  });
  return out;
}
