import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoreConfig } from '../config/schema.ts';
import { makeRound, type Round } from '../probes/round.ts';
import { openStore, type SqliteStore } from './index.ts';
import type { SummaryQuery } from './types.ts';

/**
 * Store.summaries answered from the writer's summary cache (src/store/summary-cache.ts) must be
 * what the file says: after the cache is filled, new rounds (new buckets, late rounds into
 * cached buckets, rounds ahead of the clock, new series) and retention (sealing and deleting
 * buckets a cached range holds) change it, and every answer is compared with the same queries
 * of a second store on the same file that keeps no cache.
 */

const MIN = 60_000;
const H = 3_600_000;

function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'smokemesh-summary-cache-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const TARGETS = ['/g/a', '/g/b', '/g/c', '/g/dark'];

/** One round per minute over [start, end) for every target × agent (a, b), some lossy, /g/dark never answering. */
function rounds(rand: () => number, start: number, end: number, targets = TARGETS): Round[] {
  const out: Round[] = [];
  for (let t = start; t < end; t += MIN) {
    targets.forEach((target, i) => {
      for (const agent of ['a', 'b']) {
        const sent = 20;
        const lost = target === '/g/dark' ? sent : rand() < 0.15 ? Math.floor(rand() * 21) : 0;
        const rtts = Array.from({ length: sent - lost }, () => 5 + i * 7 + rand() * rand() * 60).sort((x, y) => x - y);
        out.push(makeRound({ target, agent, probe: 'icmp', time: t + i * 1000, step: 60 }, { sent, rtts }));
      }
    });
  }
  return out;
}

/** The ranges small graphs ask for, ending at `now`: 5-minute buckets, neighbours merged, another tier, an older window. */
function queries(now: number): SummaryQuery[] {
  const targets = [...TARGETS, '/g/new'];
  return [
    { targets, from: now - 10 * H, to: now, points: 300, levels: [0.05, 0.25, 0.75, 0.95] },
    { targets, from: now - 10 * H, to: now, points: 40, levels: [0, 0.5, 1] },
    { targets, from: now - 20 * H, to: now - 10 * H, points: 300, levels: [0.1, 0.9] },
    { targets, from: now - 30 * H, to: now, points: 400, levels: [0.05, 0.95] },
    { targets, from: now - 30 * H, to: now, points: 300, levels: [0.25, 0.75] },
  ];
}

function same(cached: SqliteStore, plain: SqliteStore, now: number, when: string): void {
  for (const q of queries(now)) {
    assert.deepEqual(cached.summaries(q), plain.summaries(q), `${when}: ${q.to - q.from} ms at ${q.points} points`);
  }
}

const CONFIGS: Array<[string, StoreConfig]> = [
  ['raw 14 days, 5 min for 2 days', { raw_days: 14, tiers: [{ bucket: 300, keep_days: 2 }, { bucket: 3600, keep_days: 730 }, { bucket: 86400, keep_days: 3650 }], synchronous: 'normal' }],
  // Retention seals buckets of the cached 30-hour range.
  ['raw 1 day, 5 min for 2 days', { raw_days: 1, tiers: [{ bucket: 300, keep_days: 2 }, { bucket: 3600, keep_days: 730 }, { bucket: 86400, keep_days: 3650 }], synchronous: 'normal' }],
  // The only tier keeps a day: a 30-hour range is read from it all the same, and retention deletes its oldest cached buckets.
  ['raw 1 day, 5 min for 1 day only', { raw_days: 1, tiers: [{ bucket: 300, keep_days: 1 }], synchronous: 'normal' }],
];

for (const [name, cfg] of CONFIGS) {
  test(`summaries from the cache equal the file's after new rounds and retention (${name})`, (t) => {
    const dir = tempDir(t);
    const rand = rng(cfg.raw_days + cfg.tiers.length);
    let now = Date.UTC(2025, 2, 3, 12, 2, 30);
    const clock = () => now;
    const cached = openStore(dir, cfg, undefined, { now: clock, timers: false });
    t.after(() => cached.close());
    const history = rounds(rand, now - 40 * H, now);
    for (let i = 0; i < history.length; i += 500) cached.write(history.slice(i, i + 500));
    const plain = openStore(dir, cfg, undefined, { now: clock, timers: false, summaryCache: false });
    t.after(() => plain.close());

    same(cached, plain, now, 'first read (fills the cache)');
    assert.ok(cached.summaryCacheHeld() > 0, 'the cache holds buckets after the first read');
    same(cached, plain, now, 'second read (from the cache)');

    // Rounds arrive: 25 minutes of new ones (new buckets), late rounds into buckets the cache
    // holds, a round ahead of the clock, a new target.
    for (let step = 0; step < 5; step++) {
      const start = now;
      now += 5 * MIN;
      const fresh = rounds(rand, start, now);
      const late = rounds(rand, start - 3 * H - 30_000, start - 3 * H - 29_000, ['/g/a', '/g/c']);
      cached.write([...fresh, ...late]);
      cached.write(rounds(rand, now + 4 * MIN, now + 4 * MIN + 1, ['/g/b']));
      cached.write(rounds(rand, start, now, ['/g/new']));
      same(cached, plain, now, `after new rounds (${step + 1})`);
    }

    // An hour and a half later, with retention: with raw_days 1 buckets of the cached 30-hour
    // range are sealed into packs, and the 5-minute tier (kept 2 days) loses its oldest.
    now += 90 * MIN;
    cached.write(rounds(rand, now - 90 * MIN, now));
    while (cached.maintain(1000)) { /* to the end of the pass */ }
    same(cached, plain, now, 'after retention');
    now += 20 * H;
    cached.write(rounds(rand, now - 20 * MIN, now));
    while (cached.maintain(1000)) { /* to the end of the pass */ }
    same(cached, plain, now, 'after retention a day later');
  });
}
