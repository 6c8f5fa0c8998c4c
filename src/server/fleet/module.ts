import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { SmokemeshError } from '../../errors.ts';
import type { RolloutMetricInfo } from '../../export/metrics.ts';
import { FleetStore } from '../../release/fleet-store.ts';
import type { UpgradeTargetReply } from '../../release/protocol.ts';
import {
  advanceRollout, isActive, planRollout, rolloutAction, rolloutCounts, targetOf,
  type AgentObservation, type Rollout, type RolloutAction, type RolloutSpec,
} from '../../release/rollout.ts';
import type { AgentRegistry } from '../agents/registry.ts';
import { agentReleaseRoutes } from '../agents/release-routes.ts';
import type { ServerContext, ServerModule } from '../context.ts';
import { ApiError } from '../api/errors.ts';
import { fleetRoutes, type FleetService } from './routes.ts';

export interface FleetModule extends ServerModule {
  /** The agent endpoints (upgrade target, downloads), registered in the agent API's signed scope. */
  agentRoutes(api: FastifyInstance): void;
  /** The active rollout and the last one, for /metrics. */
  rolloutMetrics(): RolloutMetricInfo[];
  /** Runs one step of the active rollout now (the timer does it every `tickMs`). */
  tick(now?: number): void;
}

export interface FleetDeps {
  ctx: ServerContext;
  log: Logger;
  registry: AgentRegistry;
  /** How often the active rollout is advanced; default 1000 ms. */
  tickMs?: number;
}

/**
 * Releases and staged rollouts on the server: uploads kept in the data directory, the admin
 * API, the agent endpoints, and a timer that advances the active rollout from what the agent
 * registry observes (heartbeats: version and upgrade status; rounds accepted). The rollout is
 * saved at every change, so a restarted server carries on; it waits three heartbeats after a
 * start before judging anyone, so that agents have been heard from again.
 */
export function createFleetModule(deps: FleetDeps): FleetModule {
  const log = deps.log.child({ module: 'fleet' });
  const store = new FleetStore(resolve(deps.ctx.config().general.data_dir), (m) => log.warn(m));
  const startedAt = Date.now();
  let active = store.rollouts(20).find(isActive);
  if (active) log.info({ rollout: active.id, version: active.spec.version, state: active.state }, `continuing rollout ${active.id} of ${active.spec.version}`);

  const observe = (name: string): AgentObservation | undefined => {
    const st = deps.registry.get(name);
    if (!st) return undefined;
    const o: AgentObservation = { alive: st.alive, rounds: st.rounds_accepted, targets: st.targets.size };
    if (st.hello) o.version = st.hello.version;
    if (st.hello?.upgrade) o.upgrade = st.hello.upgrade;
    return o;
  };
  const graceMs = () => 3 * Math.max(1, ...deps.registry.list().map((a) => deps.registry.get(a.name)?.entry.heartbeat ?? 1)) * 1000;

  const save = (r: Rollout, events: string[]) => {
    store.saveRollout(r);
    for (const e of events) log.info({ rollout: r.id, version: r.spec.version }, `rollout ${r.id} of ${r.spec.version}: ${e}`);
    active = isActive(r) ? r : undefined;
  };

  const tick = (now = Date.now()) => {
    if (!active || now - startedAt < graceMs()) return;
    const { rollout, events } = advanceRollout(active, observe, now);
    if (events.length) save(rollout, events);
    else active = rollout;
  };
  const tickMs = deps.tickMs ?? 1000;
  const timer = setInterval(() => {
    try {
      tick();
    } catch (e) {
      log.error({ err: e }, 'advancing the rollout failed');
    }
  }, tickMs);
  timer.unref();

  const service = {
    store,
    active: () => active,
    start(spec: RolloutSpec): Rollout {
      if (active) throw new ApiError(409, 'SMOKEMESH_E_RELEASE', `rollout ${active.id} of ${active.spec.version} is ${active.state}: abort it or let it finish first`);
      if (!store.releases().some((r) => r.version === spec.version)) {
        throw new ApiError(400, 'SMOKEMESH_E_RELEASE', `no release of ${spec.version} on the server: upload it first (smokemesh release upload)`);
      }
      const candidates = deps.registry.list().map((a) => ({ name: a.name, region: a.region, alive: a.alive, ...(a.version ? { version: a.version } : {}) }));
      const planned = planRollout(store.nextRolloutId(), spec, candidates, Date.now());
      const { rollout, events } = advanceRollout(planned, observe, Date.now());
      save(rollout, [`started: ${rollout.agents.length} agents in ${rollout.waves} waves (canary ${spec.canary}, batches ${spec.batch}, wait ${spec.wait_s} s)`, ...events]);
      return rollout;
    },
    act(id: number, action: RolloutAction): Rollout {
      const r = active?.id === id ? active : store.rollout(id);
      if (!r) throw new ApiError(404, 'SMOKEMESH_E_NOT_FOUND', `no rollout ${id}`);
      if (action === 'rollback' && active && active.id !== id) throw new ApiError(409, 'SMOKEMESH_E_RELEASE', `rollout ${active.id} is ${active.state}: abort it before rolling back rollout ${id}`);
      let next: Rollout;
      try {
        next = rolloutAction(r, action, Date.now());
      } catch (e) {
        if (e instanceof SmokemeshError) throw new ApiError(409, e.code, e.message);
        throw e;
      }
      save(next, [`${action} by an admin`]);
      if (isActive(next)) tick();
      return active?.id === id ? active : next;
    },
    /** What `agent` should run now, or why the server cannot serve it. */
    targetFor(agent: string): UpgradeTargetReply {
      const r = active;
      const t = r ? targetOf(r, agent) : undefined;
      if (!r || !t) return { target: null };
      // Agents that cannot upgrade (no release key…) report `disabled` without an architecture.
      const arch = deps.registry.get(agent)?.hello?.upgrade?.arch;
      const rel = arch ? store.release(t.version, arch) : undefined;
      if (!rel) {
        const error = arch ? `the server holds no release of ${t.version} for ${arch}: upload smokemesh-${t.version}-linux-${arch}.tar.gz` : 'the agent has not reported its architecture';
        return { target: null, problem: { version: t.version, rollout: r.id, attempt: t.attempt, error } };
      }
      return { target: { version: t.version, file: rel.file, size: rel.size, signature: rel.signature, rollout: r.id, attempt: t.attempt, rollback: t.rollback } };
    },
  };

  return {
    name: 'fleet',
    routes: (app, ctx) => fleetRoutes(app, ctx, service),
    agentRoutes: (api) => agentReleaseRoutes(api, {
      targetFor: (agent) => service.targetFor(agent),
      file: (name) => {
        const rel = store.byFile(name);
        return rel ? { path: store.path(name), size: rel.size } : undefined;
      },
    }),
    rolloutMetrics: () => {
      const list = active ? [active] : store.rollouts(1);
      return list.map((r) => ({ id: r.id, version: r.spec.version, state: r.state, agents: rolloutCounts(r) }));
    },
    tick,
    close: () => {
      clearInterval(timer);
      store.close();
    },
  };
}

