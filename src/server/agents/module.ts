import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import Type from 'typebox';
import { SpoolStatusSchema } from '../../agent/protocol.ts';
import { AgentInfoSchema } from '../../plan/agent-info.ts';
import type { Config } from '../../config/loader.ts';
import type { ServerContext, ServerModule } from '../context.ts';
import type { Ingest } from '../ingest.ts';
import { AgentRegistry, type AgentEventHook, type TreeView } from './registry.ts';
import { agentApiRoutes } from './routes.ts';

const NullableString = Type.Union([Type.String(), Type.Null()]);
const NullableInt = Type.Union([Type.Integer(), Type.Null()]);
/** GET /api/v1/agent-status: every remote agent with what the registry knows of it. */
const AgentStatusList = Type.Object({
  agents: Type.Array(Type.Object({
    ...AgentInfoSchema.properties,
    intranet_address: NullableString,
    public_address: NullableString,
    remote_ip: NullableString,
    plan_version: NullableString,
    agent_plan_version: NullableString,
    targets: Type.Integer({ description: 'targets in its plan' }),
    spool: Type.Union([SpoolStatusSchema, Type.Null()]),
    started_at: NullableInt,
    rounds_accepted: Type.Integer(),
    rounds_rejected: Type.Integer(),
    auth_failures: Type.Integer(),
  })),
});

export interface AgentsModule extends ServerModule {
  registry: AgentRegistry;
}

/**
 * Remote agents plugged into the server: the agent API, their liveness and plans, and a
 * public status route. `onAgentEvent` receives agent-down / agent-up (the alert engine's hook).
 */
export function createAgentsModule(deps: {
  ctx: ServerContext; ingest: Ingest; log: Logger; view: TreeView; onAgentEvent?: AgentEventHook; agentRoutes?: (api: FastifyInstance) => void; serverFor?: (agent: string) => string | undefined;
  /** In a cluster: agent-down / agent-up are told by the cluster (AgentRegistry.clustered), not by this registry. */
  clustered?: boolean;
}): AgentsModule {
  const log = deps.log.child({ module: 'agents' });
  const registry = new AgentRegistry(deps.ctx.config(), deps.ctx.builtinAgent, log, deps.view);
  registry.onAgentEvent = deps.onAgentEvent;
  registry.clustered = deps.clustered ?? false;
  deps.ctx.onReload((c: Config) => registry.apply(c));
  return {
    name: 'agents',
    registry,
    agents: () => registry.list(),
    routes: async (app) => {
      await agentApiRoutes(app, { registry, accept: (rounds) => deps.ingest.accept(rounds), check: (r) => deps.ctx.store.check(r), log, ...(deps.agentRoutes ? { more: deps.agentRoutes } : {}), ...(deps.serverFor ? { serverFor: deps.serverFor } : {}) });
      app.get('/api/v1/agent-status', {
        schema: {
          summary: 'Remote agents in detail: addresses, plan, spool backlog and drops, rounds, auth failures', tags: ['agents'],
          response: { 200: AgentStatusList },
        },
      }, async () => ({
        agents: registry.list().map((a) => {
          const st = registry.get(a.name)!;
          return {
            ...a,
            intranet_address: st.hello?.addresses.intranet ?? null,
            public_address: st.hello?.addresses.public ?? null,
            remote_ip: st.remote_ip ?? null,
            plan_version: st.plan?.version ?? null,
            agent_plan_version: st.hello?.plan_version ?? null,
            targets: st.targets.size,
            spool: st.hello?.spool ?? null,
            started_at: st.hello?.started_at ?? null,
            rounds_accepted: st.rounds_accepted,
            rounds_rejected: st.rounds_rejected,
            auth_failures: st.auth_failures,
          };
        }),
      }));
    },
    close: () => registry.close(),
  };
}
