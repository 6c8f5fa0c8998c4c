import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { StoreConfig } from '../config/schema.ts';
import { SmokemeshError } from '../errors.ts';
import { makeRound, type Round } from '../probes/round.ts';
import type { StoreLogger } from './types.ts';
import { atLevels } from './summary.ts';
import { seriesKey, SMOKE_QUANTILES, type Store } from './types.ts';

/**
 * The store contract's tests (src/store/types.ts), run against every backend: sqlite.test.ts,
 * victoriametrics.test.ts and test/store-victoria-cluster.test.ts (the VictoriaMetrics cluster
 * form, through a stand-in) call storeContract with a way to open their store.
 */

export const H = 3_600_000;

export const contractConfig: StoreConfig = {
  raw_days: 14,
  tiers: [{ bucket: 300, keep_days: 90 }, { bucket: 3600, keep_days: 730 }, { bucket: 86400, keep_days: 3650 }],
  synchronous: 'full',
  max_pending: 100_000,
};

/** A store under test and how to wait until what it acknowledged is readable. */
export interface Opened {
  store: Store;
  /** Resolves once every acknowledged round can be read back (immediately for SQLite). */
  settle(): Promise<void>;
}

export interface Backend {
  name: string;
  open(t: TestContext, cfg: StoreConfig, now: () => number, log?: StoreLogger): Promise<Opened>;
}

export function round(target: string, agent: string, time: number, rtts: number[], sent = 20, extra: Partial<Round> = {}): Round {
  return { ...makeRound({ target, agent, probe: 'icmp', time, step: 60 }, { sent, rtts }), ...extra };
}

/** A day of rounds at 60 s, RTTs around `base`, `lost` pings lost per round. */
export function day(target: string, agent: string, start: number, base: number, lost = 0): Round[] {
  return Array.from({ length: 1440 }, (_, i) => round(target, agent, start + i * 60_000,
    Array.from({ length: 20 - lost }, (_, k) => base + k * 0.1 + (i % 7) * 0.01)));
}

/** Registers the contract's tests for one backend. */
export function storeContract(b: Backend): void {
  const now = Date.UTC(2025, 0, 10);
  const clock = () => now;

  test(`${b.name}: a round resent or out of order is counted once at every resolution`, async (t) => {
    const a = await b.open(t, contractConfig, clock);
    const c = await b.open(t, contractConfig, clock);
    const rs = day('/G/h', 'x', now - 30 * H, 20, 2);
    a.store.write(rs);
    // Reversed, in odd batches, 800 rounds twice: same history.
    const rev = [...rs].reverse();
    for (let i = 0; i < rev.length; i += 97) c.store.write(rev.slice(i, i + 97));
    c.store.write(rs.slice(100, 900));
    await a.settle();
    await c.settle();
    for (const points of [2000, 50, 3]) {
      const q = { target: '/G/h', agent: 'x', from: now - 30 * H, to: now, points };
      const ra = a.store.series(q);
      assert.deepEqual(c.store.series(q), ra);
      assert.ok(ra.points.length <= points && ra.points.length > 0, `${ra.points.length} points`);
      assert.equal(ra.points.reduce((s, p) => s + p.rounds, 0), 1440, `tier ${ra.tier}`);
      assert.equal(ra.points.reduce((s, p) => s + p.lost, 0), 2880);
    }
  });

  test(`${b.name}: the finest resolution within the point budget is used`, async (t) => {
    const { store: s, settle } = await b.open(t, contractConfig, clock);
    s.write(day('/G/h', 'x', now - 24 * H, 10));
    await settle();
    const q = (from: number, points?: number) => s.series({ target: '/G/h', agent: 'x', from, to: now, points });
    assert.equal(q(now - 3 * H).tier, 'raw');
    assert.equal(q(now - 3 * H).points.length, 180);
    assert.equal(q(now - 3 * H).resolution, 60);
    assert.equal(q(now - 24 * H, 300).tier, '5m');
    assert.equal(q(now - 24 * H, 300).points.length, 288);
    assert.equal(q(now - 24 * H, 30).tier, '1h');
    assert.equal(q(now - 24 * H, 1).tier, '1d');
    const p = q(now - 24 * H, 30).points[3]!;
    assert.equal(p.rounds, 60);
    assert.equal(p.time, now - 21 * H);
    assert.equal(p.smoke.length, 11);
    assert.ok(p.smoke[0]! <= p.median! && p.median! <= p.smoke[10]!, JSON.stringify(p));
    assert.deepEqual(s.series({ target: '/nope', agent: 'x', from: 0, to: now }).points, []);
  });

  test(`${b.name}: rawRounds reads many series at once, each over its own range, as series() reads raw rounds`, async (t) => {
    const { store: s, settle } = await b.open(t, contractConfig, clock);
    const odd = '/G/b+c (1).x';
    s.write(day('/G/a', 'x', now - 24 * H, 10));
    s.write(day('/G/a', 'y', now - 24 * H, 12, 3));
    s.write(day(odd, 'x', now - 24 * H, 30, 1));
    await settle();
    const reads = [
      { target: '/G/a', agent: 'x', from: now - 30 * 60_000, to: now - 10 * 60_000 },
      // Its neighbour's range, hours apart: read at its own range only.
      { target: '/G/a', agent: 'y', from: now - 20 * H, to: now - 20 * H + 5 * 60_000 },
      { target: odd, agent: 'x', from: now - 2 * H, to: now - 2 * H + 60_000 },
      { target: '/G/nope', agent: 'x', from: now - H, to: now },
      // A range with no rounds.
      { target: odd, agent: 'y', from: now - H, to: now },
    ];
    const got = s.rawRounds(reads);
    assert.deepEqual([...got.keys()].sort(), [seriesKey('/G/a', 'x'), seriesKey('/G/a', 'y'), seriesKey(odd, 'x')].sort());
    for (const r of reads.slice(0, 3)) {
      const one = s.series(r);
      assert.equal(one.tier, 'raw');
      assert.deepEqual(got.get(seriesKey(r.target, r.agent)), one.points, `${r.target} ${r.agent}`);
    }
    assert.equal(got.get(seriesKey('/G/a', 'x'))!.length, 21);
    assert.equal(got.get(seriesKey('/G/a', 'y'))!.length, 6);
    assert.equal(got.get(seriesKey('/G/a', 'y'))![0]!.lost, 3);
    assert.equal(got.get(seriesKey(odd, 'x'))!.length, 2);
    assert.equal(s.rawRounds([]).size, 0);
  });

  test(`${b.name}: summaries are series() at the same resolution, with only the asked quantiles, for every series of the targets`, async (t) => {
    const { store: s, settle } = await b.open(t, contractConfig, clock);
    const odd = '/G/b+c (1).x';
    s.write(day('/G/a', 'x', now - 24 * H, 10));
    s.write(day('/G/a', 'y', now - 24 * H, 12, 3));
    s.write(day(odd, 'x', now - 24 * H, 30, 1));
    s.write(day('/H/d', 'x', now - 24 * H, 5));
    // A round with no reply at all: loss 100 %, no median, no smoke.
    s.write([round('/G/a', 'x', now - 30 * 60_000 + 30_000, [], 20)]);
    await settle();
    const levels = [0, 0.05, 0.25, 0.75, 0.95, 1];
    const idx = levels.map((l) => SMOKE_QUANTILES.indexOf(l as (typeof SMOKE_QUANTILES)[number]));
    const tiers: string[] = [];
    for (const [from, points] of [[now - 3 * H, 1000], [now - 10 * H, 150], [now - 24 * H, 30], [now - 24 * H, 1]] as const) {
      const sums = s.summaries({ targets: ['/G/a', odd, '/nope', '/G'], from, to: now, points, levels });
      assert.deepEqual(sums.map((x) => `${x.target} ${x.agent}`), ['/G/a x', '/G/a y', `${odd} x`]);
      for (const sum of sums) {
        const ser = s.series({ target: sum.target, agent: sum.agent, from, to: now, points });
        const what = `${sum.target} ${sum.agent} ${points} points`;
        assert.ok(ser.points.length > 0 && ser.points.length <= points, what);
        assert.equal(sum.tier, ser.tier, what);
        assert.equal(sum.resolution, ser.resolution, what);
        assert.deepEqual(sum.time, ser.points.map((p) => p.time), what);
        assert.deepEqual(sum.loss_pct, ser.points.map((p) => p.loss_pct), what);
        if (points > 1) {
          assert.deepEqual(sum.median, ser.points.map((p) => p.median), what);
          assert.deepEqual(sum.smoke, ser.points.map((p) => (p.median === null ? [] : ser.tier === 'raw' ? atLevels(p.smoke, levels) : idx.map((i) => p.smoke[i]))), what);
        } else {
          // Neighbours merged past the coarsest tier: min and max exact, the median within a µs of
          // series()' (weighted by rounds), the interior quantiles between min and max.
          sum.median.forEach((m, i) => assert.ok(Math.abs(m! - ser.points[i]!.median!) <= 0.001, what));
          sum.smoke.forEach((q, i) => {
            const p = ser.points[i]!;
            assert.deepEqual([q[0], q[q.length - 1]], [p.smoke[0], p.smoke[p.smoke.length - 1]], what);
            assert.ok(q.every((v, k) => k === 0 || v >= q[k - 1]!), what);
          });
        }
        tiers.push(sum.tier);
      }
    }
    assert.deepEqual([...new Set(tiers)], ['raw', '5m', '1h', '1d']);
    assert.ok(s.summaries({ targets: ['/G/a'], from: now - 3 * H, to: now, points: 1000, levels }).every((x) => x.loss_pct.includes(100) === (x.agent === 'x')));
    assert.deepEqual(s.summaries({ targets: [], from: now - 3 * H, to: now, points: 100, levels }), []);
  });

  test(`${b.name}: latest and top rank series over their latest round and over a window`, async (t) => {
    const { store: s, settle } = await b.open(t, contractConfig, clock);
    s.write(day('/G/a', 'x', now - 24 * H, 10, 0));
    s.write(day('/G/b', 'x', now - 24 * H, 50, 5));
    s.write(day('/H/c', 'y', now - 24 * H, 30, 1));
    // /G/a's very last round is bad: the latest ranking sees it, a day's window barely does.
    s.write([round('/G/a', 'x', now - 1000, [900], 20)]);
    await settle();
    assert.deepEqual(s.latest('/G').map((r) => r.target).sort(), ['/G/a', '/G/b']);
    assert.equal(s.latest().length, 3);
    assert.deepEqual(s.top('loss', 2).map((r) => r.target), ['/G/a', '/G/b']);
    assert.equal(s.top('loss', 1)[0]!.value, 95);
    const day1 = { from: now - 24 * H, to: now };
    assert.deepEqual(s.top('loss', 3, day1).map((r) => r.target), ['/G/b', '/H/c', '/G/a']);
    assert.deepEqual(s.top('median', 1, day1).map((r) => r.target), ['/G/b']);
    assert.deepEqual(s.top('max', 1, day1).map((r) => r.target), ['/G/a']);
    const short = s.top('loss', 3, { from: now - 5 * 60_000, to: now });
    // Last 5 minutes (ends included): /G/b loses 25 %, /G/a 19 of 120 (5 clean rounds and the bad one), /H/c 5 %.
    assert.deepEqual(short.map((r) => r.target), ['/G/b', '/G/a', '/H/c']);
    assert.ok(Math.abs(short[1]!.value - 1900 / 120) < 1e-9, String(short[1]!.value));
    assert.equal(s.top('loss', 1, day1)[0]!.value, 25);
  });

  test(`${b.name}: HTTP rounds keep their phases, status and error in raw points and buckets`, async (t) => {
    const { store: s, settle } = await b.open(t, contractConfig, clock);
    const http = (time: number, connect: number, extra: Partial<Round>) => ({ ...round('/web', 'x', time, [connect * 3], 1), probe: 'http' as const, phases: { connect, tls: 2 * connect }, ...extra });
    s.write([http(now - 2 * H, 1, { status: 200 }), http(now - 2 * H + 60_000, 3, { status: 200, cert_expiry: 1_800_000_000 }), http(now - 2 * H + 120_000, 0, { status: 503, error: 'HTTP 503' })]);
    await settle();
    const raw = s.series({ target: '/web', agent: 'x', from: now - 3 * H, to: now });
    assert.equal(raw.tier, 'raw');
    assert.deepEqual(raw.points.map((p) => p.phases?.connect), [1, 3, 0]);
    assert.equal(raw.points[2]!.error, 'HTTP 503');
    const agg = s.series({ target: '/web', agent: 'x', from: now - 3 * H, to: now, points: 1 });
    assert.equal(agg.points.length, 1);
    assert.ok(Math.abs(agg.points[0]!.phases!.connect! - 4 / 3) < 1e-9 && Math.abs(agg.points[0]!.phases!.tls! - 8 / 3) < 1e-9, JSON.stringify(agg.points[0]!.phases));
    assert.equal(agg.points[0]!.status, 503);
    assert.equal(s.latest()[0]!.error, 'HTTP 503');
    assert.equal(s.latest()[0]!.probe, 'http');
  });

  test(`${b.name}: step or pings changes keep the history; rounds in bad shape or out of retention are refused`, async (t) => {
    const warnings: string[] = [];
    const { store: s, settle } = await b.open(t, contractConfig, clock, { info() {}, warn: (m) => warnings.push(m), error() {} });
    s.write([round('/G/h', 'x', now - 2 * H, [5, 6])]);
    s.write([{ ...round('/G/h', 'x', now - H, [5, 6, 7], 5), step: 300 }]);
    s.write([
      round('/G/h', 'x', now - 15 * 24 * H, [5]),
      round('/G/h', 'x', now + 2 * 24 * H, [5]),
      { ...round('/G/h', 'x', now - 10, [5]), rtts: [6, 5] },
      { ...round('/G/h', 'x', now - 20, [5]), time: Number.NaN },
      null as unknown as Round,
    ]);
    await settle();
    assert.equal(s.stats().refused, 5);
    assert.ok(warnings.some((w) => w.includes('older than the store keeps raw rounds') && w.includes('/G/h')), warnings.join('\n'));
    const pts = s.series({ target: '/G/h', agent: 'x', from: now - 3 * H, to: now }).points;
    assert.deepEqual(pts.map((p) => p.sent), [20, 5]);
    assert.equal(s.latest()[0]!.step, 300);
    assert.equal(s.list()[0]!.first, now - 2 * H);
  });

  test(`${b.name}: prune removes whole subtrees for every agent`, async (t) => {
    const { store: s, settle } = await b.open(t, contractConfig, clock);
    for (const target of ['/G/a', '/G/a/deep', '/G/ab', '/H/c']) {
      for (const agent of ['x', 'y']) s.write([round(target, agent, now - H, [10]), round(target, agent, now - 2 * H, [11])]);
    }
    await settle();
    assert.throws(() => s.prune(['G']), (e: unknown) => e instanceof SmokemeshError && e.code === 'SMOKEMESH_E_USAGE');
    assert.equal(s.prune(['/G/a', '/H/c']), 6);
    assert.deepEqual([...new Set(s.list().map((x) => x.target))].sort(), ['/G/ab']);
    assert.deepEqual(s.series({ target: '/G/a/deep', agent: 'x', from: now - 3 * H, to: now }).points, []);
    assert.equal(s.series({ target: '/G/ab', agent: 'y', from: now - 3 * H, to: now }).points.length, 2);
  });
}
