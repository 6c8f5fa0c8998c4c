/**
 * A synthetic CDN world for the localization tests, the scenario simulator and the
 * benchmarks: agents in provinces × ISPs (two per cell by default), VIPs in IDCs, a stable
 * base latency per path, rare background loss, and scripted faults (loss or latency on the
 * paths a predicate picks, during a time window, optionally flapping). Deterministic for a
 * seed. Test-only; nothing here is used by the server.
 */
import { validate } from '../config/validate.ts';
import { LocalizeScopeSchema, type LocalizeScopeConfig } from '../config/localize-schema.ts';
import { makeRound, type Round } from '../probes/round.ts';
import { seriesKey, type SeriesInput } from './types.ts';
import { prng } from '../../test/fixtures/prng.ts';

export { prng };

export const PROVINCES = [
  'beijing', 'tianjin', 'hebei', 'shanxi', 'neimenggu', 'liaoning', 'jilin', 'heilongjiang', 'shanghai', 'jiangsu',
  'zhejiang', 'anhui', 'fujian', 'jiangxi', 'shandong', 'henan', 'hubei', 'hunan', 'guangdong', 'guangxi', 'hainan',
  'chongqing', 'sichuan', 'guizhou', 'yunnan', 'xizang', 'shaanxi', 'gansu', 'qinghai', 'ningxia', 'xinjiang',
] as const;
export const ISPS = ['telecom', 'unicom', 'mobile'] as const;
const BUSINESSES = ['search', 'news', 'video', 'pay'] as const;

export interface WorldAgent { name: string; region: string; labels: Record<string, string> }
export interface WorldTarget { path: string; host: string; labels: Record<string, string> }
export interface WorldPair { agent: WorldAgent; target: WorldTarget; offset: number; base: number; key: string }

export interface WorldOptions {
  provinces?: number;
  isps?: number;
  agentsPerCell?: number;
  idcs?: number;
  vipsPerIdc?: number;
  /** Split each cell's VIPs among its agents (the article's sharding) instead of every agent probing every VIP. */
  shard?: boolean;
  step?: number;
  pings?: number;
  seed?: number;
}

export interface World {
  step: number;
  pings: number;
  agents: WorldAgent[];
  targets: WorldTarget[];
  pairs: WorldPair[];
  seed: number;
}

/** A scripted fault: paths `match` picks get `loss` (% per ping) and/or `latency` (× base) while active. */
export interface Fault {
  name: string;
  from: number;
  to: number;
  match: (agent: WorldAgent, target: WorldTarget) => boolean;
  loss?: number;
  latency?: number;
  /** Flapping: bad for `bad` steps, good for `good` steps, from `from` on. */
  flap?: { bad: number; good: number };
}

/** 31 provinces × 3 ISPs × 2 agents and 5 IDCs × 20 VIPs by default. */
export function cdnWorld(o: WorldOptions = {}): World {
  const provinces = o.provinces ?? 31;
  const isps = o.isps ?? 3;
  const perCell = o.agentsPerCell ?? 2;
  const step = o.step ?? 60;
  const seed = o.seed ?? 1;
  const rand = prng(seed);
  const agents: WorldAgent[] = [];
  for (let p = 0; p < provinces; p++) {
    for (let i = 0; i < isps; i++) {
      const province = PROVINCES[p % PROVINCES.length]! + (p >= PROVINCES.length ? String(Math.floor(p / PROVINCES.length)) : '');
      const isp = ISPS[i % ISPS.length]! + (i >= ISPS.length ? String(Math.floor(i / ISPS.length)) : '');
      for (let a = 0; a < perCell; a++) {
        agents.push({ name: `${isp}-${province}-${a + 1}`, region: province, labels: { isp, province } });
      }
    }
  }
  const targets: WorldTarget[] = [];
  for (let d = 0; d < (o.idcs ?? 5); d++) {
    for (let v = 0; v < (o.vipsPerIdc ?? 20); v++) {
      const idc = `idc${d + 1}`;
      const vip = `10.${d + 1}.0.${v + 1}`;
      targets.push({ path: `/IDC/${idc}/vip${v + 1}`, host: vip, labels: { idc, vip, business: BUSINESSES[v % BUSINESSES.length]! } });
    }
  }
  const pairs: WorldPair[] = [];
  agents.forEach((agent, ai) => {
    const slot = ai % perCell;
    targets.forEach((target, ti) => {
      if (o.shard && ti % perCell !== slot) return;
      pairs.push({ agent, target, offset: Math.floor(rand() * step * 1000), base: 15 + rand() * 45, key: seriesKey(target.path, agent.name) });
    });
  });
  return { step, pings: o.pings ?? 10, agents, targets, pairs, seed };
}

/** Whether a fault is active for a round starting at `time`. */
export function faultActive(f: Fault, time: number, stepMs: number): boolean {
  if (time < f.from || time >= f.to) return false;
  if (!f.flap) return true;
  const k = Math.floor((time - f.from) / stepMs);
  return k % (f.flap.bad + f.flap.good) < f.flap.bad;
}

/**
 * The rounds of the step window starting at `windowStart`: one per path, at its offset in the
 * window. Background: 0.2 % of pings lost, ±5 % jitter. `noise` picks the random draw (by
 * default the window's start in seconds); a simulation whose clock starts at the real now
 * passes its window number, so that its rounds do not depend on when it runs.
 */
export function roundsAt(world: World, windowStart: number, faults: readonly Fault[], noise = Math.floor(windowStart / 1000)): Round[] {
  return [...roundsOf(world, windowStart, faults, noise)];
}

/** The rounds of roundsAt one at a time (a bench hands each on at once instead of holding them all). */
export function* roundsOf(world: World, windowStart: number, faults: readonly Fault[], noise = Math.floor(windowStart / 1000)): Generator<Round> {
  const rand = prng(world.seed ^ noise);
  const stepMs = world.step * 1000;
  for (const p of world.pairs) {
    const time = windowStart + p.offset;
    let loss = 0.2;
    let factor = 1;
    for (const f of faults) {
      if (!faultActive(f, time, stepMs) || !f.match(p.agent, p.target)) continue;
      if (f.loss !== undefined) loss = Math.max(loss, f.loss);
      if (f.latency !== undefined) factor = Math.max(factor, f.latency);
    }
    const rtts: number[] = [];
    for (let i = 0; i < world.pings; i++) if (rand() * 100 >= loss) rtts.push(p.base * factor * (0.95 + rand() * 0.1));
    yield makeRound({ target: p.target.path, agent: p.agent.name, probe: 'icmp', time, step: world.step }, { sent: world.pings, rtts });
  }
}

/** The engine's input for rounds of the world. */
export function seriesOf(world: World, rounds: readonly Round[]): SeriesInput[] {
  const pairs = new Map(world.pairs.map((p) => [p.key, p]));
  return rounds.map((r) => {
    const p = pairs.get(seriesKey(r.target, r.agent))!;
    return {
      target: r.target, agent: r.agent, key: p.key, targetLabels: p.target.labels, agentLabels: p.agent.labels, agentRegion: p.agent.region,
      time: r.time, step: r.step, sent: r.sent, lost: r.loss, median: r.median,
    };
  });
}

/** A scope with every default filled in, as the config loader would give it. */
export function scopeOf(partial: Record<string, unknown> = {}): LocalizeScopeConfig {
  const s = { name: 'cdn', roles: { vantage: ['isp', 'province'], destination: ['idc'], item: 'vip' }, ...partial };
  const issues = validate(LocalizeScopeSchema, s);
  if (issues.length) throw new Error(issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  return s as LocalizeScopeConfig;
}

/** What driving the engine over a script gave: every event with its step number, and the last result. */
export interface Run {
  events: { step: number; state: 'raised' | 'updated' | 'cleared'; id: string; confidence: string; rule: string }[];
  last: import('./types.ts').StepResult;
}

/**
 * Drives the engine like the server does: one step at the end of each window, over the
 * latest round of every series. `start` is the first window's start (ms).
 */
export function runEngine(world: World, scope: LocalizeScopeConfig, faults: readonly Fault[], start: number, steps: number, state?: import('./types.ts').LocalizeState, stepFn = defaultStep): Run & { state: import('./types.ts').LocalizeState } {
  const stepMs = world.step * 1000;
  const events: Run['events'] = [];
  let last: import('./types.ts').StepResult | undefined;
  for (let i = 0; i < steps; i++) {
    const windowStart = start + i * stepMs;
    const series = seriesOf(world, roundsAt(world, windowStart, faults));
    last = stepFn(scope, series, state, windowStart + stepMs);
    state = last.state;
    for (const e of last.events) events.push({ step: i, state: e.state, id: e.cause.id, confidence: e.cause.confidence, rule: e.cause.rule });
  }
  return { events, last: last!, state: state! };
}

import { step as defaultStep } from './step.ts';
