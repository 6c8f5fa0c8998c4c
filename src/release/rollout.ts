import { rolloutActionsFor, type RolloutAction } from './rollout-actions.ts';
import Type, { type Static } from 'typebox';
import { SmokemeshError } from '../errors.ts';
import { VersionSchema } from './manifest.ts';
import type { UpgradeStatus } from './protocol.ts';

/**
 * Staged rollouts as plain data and plain functions: a rollout of version V splits the agents
 * into waves (a canary first, then batches); a wave starts when the previous one is healthy;
 * an agent of a wave is healthy once it runs V, is heard from and its rounds flow, and has
 * stayed so for `wait_s`. A failure pauses the rollout. The server (src/server/fleet/) feeds
 * observations in and persists what comes out; nothing here does I/O.
 */

/** "2" (agents) or "20%" (of the agents concerned, rounded up, at least 1). */
const COUNT = '^([1-9][0-9]{0,5}|[1-9][0-9]?%|100%)$';

export const RolloutSpecSchema = Type.Object({
  version: VersionSchema,
  canary: Type.String({ pattern: COUNT, default: '1', description: 'first wave: a number of agents or a percentage' }),
  canary_per_region: Type.Boolean({ default: false, description: 'take the canary count from each region' }),
  batch: Type.String({ pattern: COUNT, default: '25%', description: 'later waves: a number of agents or a percentage of all' }),
  wait_s: Type.Integer({ minimum: 0, maximum: 86_400, default: 60, description: 'seconds an upgraded agent must stay healthy before its wave counts as done' }),
  timeout_s: Type.Integer({ minimum: 1, maximum: 604_800, default: 600, description: 'seconds an agent has to become healthy (or to roll back) before it counts as failed' }),
  regions: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { maxItems: 1000, description: 'only the agents of these regions' })),
  agents: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { maxItems: 100_000, description: 'only these agents' })),
}, { additionalProperties: false });
export type RolloutSpec = Static<typeof RolloutSpecSchema>;

export const ROLLOUT_STATES = ['running', 'paused', 'done', 'aborted', 'rolling_back', 'rolled_back'] as const;
export type RolloutState = (typeof ROLLOUT_STATES)[number];
export const ROLLOUT_AGENT_STATES = ['pending', 'upgrading', 'done', 'failed', 'skipped', 'rolling_back', 'rolled_back'] as const;

export const RolloutAgentSchema = Type.Object({
  name: Type.String(),
  region: Type.String(),
  /** 0 = the canary, then the batches. */
  wave: Type.Integer({ minimum: 0 }),
  state: Type.Enum([...ROLLOUT_AGENT_STATES]),
  /** The version it ran when its wave started (what a roll back returns to). */
  from: Type.Union([Type.String(), Type.Null()]),
  /** When it entered its current state, ms. */
  since: Type.Integer(),
  /** First seen running the rollout's version, and its accepted rounds then. */
  on_target_since: Type.Optional(Type.Integer()),
  rounds_mark: Type.Optional(Type.Integer()),
  /** Healthy (alive, on the version, rounds flowing) without a break since then. */
  healthy_since: Type.Optional(Type.Integer()),
  error: Type.Optional(Type.String()),
  attempt: Type.Integer({ minimum: 1 }),
}, { additionalProperties: false });
export type RolloutAgent = Static<typeof RolloutAgentSchema>;

export const RolloutSchema = Type.Object({
  id: Type.Integer({ minimum: 1 }),
  spec: RolloutSpecSchema,
  state: Type.Enum([...ROLLOUT_STATES]),
  /** The wave in progress (or the last one). */
  wave: Type.Integer({ minimum: 0 }),
  waves: Type.Integer({ minimum: 1 }),
  /** Why it is paused, aborted or rolled back. */
  reason: Type.Optional(Type.String()),
  created_at: Type.Integer(),
  updated_at: Type.Integer(),
  agents: Type.Array(RolloutAgentSchema),
}, { additionalProperties: false });
export type Rollout = Static<typeof RolloutSchema>;

/** A rollout in a list (GET /api/v1/rollouts, the agents page): its agents counted by state. */
export const RolloutSummarySchema = Type.Object({
  id: Type.Integer(), version: Type.String(), state: Type.String(), wave: Type.Integer(), waves: Type.Integer(),
  reason: Type.Optional(Type.String()), created_at: Type.Integer(), updated_at: Type.Integer(),
  agents: Type.Record(Type.String(), Type.Integer({ description: 'agents in this state' })),
});
export type RolloutSummary = Static<typeof RolloutSummarySchema>;

/** What the server knows of an agent at a moment. */
export interface AgentObservation {
  alive: boolean;
  /** Version in its last heartbeat. */
  version?: string;
  /** Rounds the server accepted from it so far (a counter; may restart at 0 with the server). */
  rounds: number;
  /** Targets in its plan (no targets: no rounds to wait for). */
  targets: number;
  upgrade?: UpgradeStatus;
}

/** An agent a rollout may concern. */
export interface RolloutCandidate {
  name: string;
  region: string;
  alive: boolean;
  version?: string;
}

/** "3" → 3; "20%" of `total` → rounded up, at least 1 (0 when total is 0). */
export function countOf(spec: string, total: number): number {
  if (total === 0) return 0;
  if (spec.endsWith('%')) return Math.max(1, Math.ceil((Number(spec.slice(0, -1)) / 100) * total));
  return Math.min(total, Number(spec));
}

/**
 * A new rollout: the agents concerned (spec.regions/agents), those already on the version done
 * from the start, the others in waves. The canary takes live agents first (then by name), per
 * region when asked; batches follow in the same order. Nothing has started: the first
 * advanceRollout starts the canary.
 */
export function planRollout(id: number, spec: RolloutSpec, candidates: RolloutCandidate[], now: number): Rollout {
  const concerned = candidates.filter((c) => (!spec.regions || spec.regions.includes(c.region)) && (!spec.agents || spec.agents.includes(c.name)));
  if (spec.agents) {
    const unknown = spec.agents.filter((n) => !candidates.some((c) => c.name === n));
    if (unknown.length) throw new SmokemeshError('SMOKEMESH_E_RELEASE', `rollout: no remote agent named ${unknown.slice(0, 5).join(', ')}`);
  }
  if (concerned.length === 0) throw new SmokemeshError('SMOKEMESH_E_RELEASE', 'rollout: no remote agent is concerned (check regions/agents)');
  const order = (a: RolloutCandidate, b: RolloutCandidate) => Number(b.alive) - Number(a.alive) || a.name.localeCompare(b.name);
  const todo = concerned.filter((c) => c.version !== spec.version).sort(order);
  const canary = new Set<string>();
  if (spec.canary_per_region) {
    const byRegion = new Map<string, RolloutCandidate[]>();
    for (const c of todo) byRegion.set(c.region, [...(byRegion.get(c.region) ?? []), c]);
    for (const list of byRegion.values()) for (const c of list.slice(0, countOf(spec.canary, list.length))) canary.add(c.name);
  } else {
    for (const c of todo.slice(0, countOf(spec.canary, todo.length))) canary.add(c.name);
  }
  const rest = todo.filter((c) => !canary.has(c.name));
  const batch = Math.max(1, countOf(spec.batch, concerned.length));
  const agents: RolloutAgent[] = [];
  for (const c of concerned) {
    if (c.version === spec.version) agents.push({ name: c.name, region: c.region, wave: 0, state: 'done', from: c.version, since: now, attempt: 1, error: `already running ${spec.version}` });
  }
  for (const c of todo.filter((x) => canary.has(x.name))) agents.push({ name: c.name, region: c.region, wave: 0, state: 'pending', from: null, since: now, attempt: 1 });
  rest.forEach((c, i) => agents.push({ name: c.name, region: c.region, wave: 1 + Math.floor(i / batch), state: 'pending', from: null, since: now, attempt: 1 }));
  const waves = 1 + Math.ceil(rest.length / batch);
  return { id, spec, state: 'running', wave: 0, waves, created_at: now, updated_at: now, agents };
}

/**
 * One step of a rollout at `now` given what the server observes: upgrading agents become done
 * or failed, a failure pauses the rollout, a finished wave starts the next one; a roll back
 * waits for each agent to run its previous version again. Returns a new rollout and a line
 * per thing that happened (the server logs them).
 */
export function advanceRollout(prev: Rollout, observe: (agent: string) => AgentObservation | undefined, now: number): { rollout: Rollout; events: string[] } {
  const r = structuredClone(prev);
  const events: string[] = [];
  const v = r.spec.version;
  const set = (a: RolloutAgent, state: RolloutAgent['state'], error?: string) => {
    a.state = state;
    a.since = now;
    if (error !== undefined) a.error = error;
    events.push(`agent ${a.name}: ${state}${error ? ` (${error})` : ''}`);
  };

  if (r.state === 'running' || r.state === 'paused') {
    for (const a of r.agents) if (a.state === 'upgrading') judgeUpgrade(r, a, observe(a.name), now, set);
  }
  if (r.state === 'running') {
    for (;;) {
      const wave = r.agents.filter((a) => a.wave === r.wave);
      for (const a of wave.filter((x) => x.state === 'pending')) {
        const o = observe(a.name);
        if (o?.alive) {
          a.from = o?.version ?? a.from;
          set(a, 'upgrading');
        } else {
          set(a, 'skipped', 'not heard from when its wave started');
        }
      }
      const failed = wave.filter((a) => a.state === 'failed');
      if (failed.length) {
        r.state = 'paused';
        r.reason = `${waveName(r.wave)} failed: ${failed.map((a) => `${a.name}: ${a.error ?? 'failed'}`).join('; ')}`;
        events.push(`paused: ${r.reason}`);
        break;
      }
      if (wave.some((a) => a.state === 'upgrading')) break;
      if (r.wave + 1 >= r.waves) {
        r.state = 'done';
        events.push(`done: ${r.agents.filter((a) => a.state === 'done').length} agents run ${v}`);
        break;
      }
      r.wave++;
      events.push(`${waveName(r.wave)} started`);
    }
  }
  if (r.state === 'rolling_back') {
    for (const a of r.agents.filter((x) => x.state === 'rolling_back')) {
      const o = observe(a.name);
      if (o?.alive && o.version === a.from) set(a, 'rolled_back');
      else if (o?.upgrade?.state === 'failed' && o.upgrade.target === a.from && o.upgrade.at >= a.since) set(a, 'failed', o.upgrade.error ?? 'roll back failed');
      else if (now - a.since > r.spec.timeout_s * 1000) set(a, 'failed', `not back on ${a.from} within ${r.spec.timeout_s} s`);
    }
    if (!r.agents.some((a) => a.state === 'rolling_back')) {
      r.state = 'rolled_back';
      events.push('rolled back');
    }
  }
  if (events.length) r.updated_at = now;
  return { rollout: r, events };
}

function judgeUpgrade(r: Rollout, a: RolloutAgent, o: AgentObservation | undefined, now: number, set: (a: RolloutAgent, s: RolloutAgent['state'], e?: string) => void): void {
  const v = r.spec.version;
  const rep = o?.upgrade;
  if (rep?.state === 'failed' && rep.target === v && rep.rollout === r.id && rep.attempt === a.attempt) {
    set(a, 'failed', rep.error ?? 'the agent reports a failure');
    return;
  }
  if (o?.alive && o.version === v) {
    if (a.on_target_since === undefined || a.rounds_mark === undefined || o.rounds < a.rounds_mark) {
      a.on_target_since ??= now;
      a.rounds_mark = o.rounds;
    }
    if (o.targets === 0 || o.rounds > a.rounds_mark) a.healthy_since ??= now;
    if (a.healthy_since !== undefined && now - a.healthy_since >= r.spec.wait_s * 1000) {
      set(a, 'done');
      return;
    }
  } else {
    delete a.healthy_since;
  }
  if (now - a.since > r.spec.timeout_s * 1000) {
    const why = !o?.alive ? 'not heard from' : o.version !== v ? `runs ${o.version ?? 'an unknown version'}` : 'no rounds since it started';
    set(a, 'failed', `not healthy on ${v} within ${r.spec.timeout_s} s: ${why}`);
  }
}

/** "canary" or "batch N". */
export function waveName(wave: number): string {
  return wave === 0 ? 'canary' : `batch ${wave}`;
}


export type { RolloutAction };

/**
 * An admin's action: pause (no new wave starts), resume (failed agents of the wave in progress
 * try again), abort (nothing more is asked of any agent), rollback (every agent the rollout
 * upgraded or tried to returns to the version it ran before). Refused (SMOKEMESH_E_RELEASE)
 * where it makes no sense.
 */
export function rolloutAction(prev: Rollout, action: RolloutAction, now: number): Rollout {
  const r = structuredClone(prev);
  if (!rolloutActionsFor(r.state).includes(action)) throw new SmokemeshError('SMOKEMESH_E_RELEASE', `rollout ${r.id} is ${r.state}: cannot ${action} it`);
  switch (action) {
    case 'pause':
      r.state = 'paused';
      r.reason = 'paused by an admin';
      break;
    case 'resume':
      r.state = 'running';
      delete r.reason;
      for (const a of r.agents) {
        if (a.wave === r.wave && a.state === 'failed') {
          a.state = 'pending';
          a.attempt++;
          a.since = now;
          delete a.error;
          delete a.healthy_since;
          delete a.on_target_since;
          delete a.rounds_mark;
        }
      }
      break;
    case 'abort':
      r.state = 'aborted';
      r.reason = 'aborted by an admin';
      break;
    case 'rollback': {
      r.state = 'rolling_back';
      r.reason = 'rolled back by an admin';
      for (const a of r.agents) {
        const touched = a.state === 'upgrading' || a.state === 'done' || a.state === 'failed';
        if (touched && a.from && a.from !== r.spec.version) {
          a.state = 'rolling_back';
          a.since = now;
          delete a.error;
        }
      }
      break;
    }
  }
  r.updated_at = now;
  return r;
}

/** Whether the rollout still asks anything of agents. */
export function isActive(r: Rollout): boolean {
  return r.state === 'running' || r.state === 'paused' || r.state === 'rolling_back';
}

/** The version this rollout asks `agent` to run now, if any. */
export function targetOf(r: Rollout, agent: string): { version: string; attempt: number; rollback: boolean } | undefined {
  if (!isActive(r)) return undefined;
  const a = r.agents.find((x) => x.name === agent);
  if (!a) return undefined;
  if (r.state === 'rolling_back') {
    return (a.state === 'rolling_back' || a.state === 'rolled_back' || (a.state === 'failed' && a.from)) && a.from && a.from !== r.spec.version
      ? { version: a.from, attempt: a.attempt, rollback: true } : undefined;
  }
  return a.state === 'upgrading' || a.state === 'done' || a.state === 'failed' ? { version: r.spec.version, attempt: a.attempt, rollback: false } : undefined;
}

/** Agents per state, for lists and metrics. */
export function rolloutCounts(r: Rollout): Record<RolloutAgent['state'], number> {
  const out = Object.fromEntries(ROLLOUT_AGENT_STATES.map((s) => [s, 0])) as Record<RolloutAgent['state'], number>;
  for (const a of r.agents) out[a.state]++;
  return out;
}
