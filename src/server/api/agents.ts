import Type from 'typebox';
import type { RouteModule } from '../context.ts';
import { AgentSchema } from './schemas.ts';

/** GET /api/v1/agents: every agent the server knows, the built-in one first. */
export const agentRoutes: RouteModule = (app, ctx) => {
  app.get('/api/v1/agents', {
    schema: {
      summary: 'Agents: name, region, addresses, version, last seen, alive',
      tags: ['agents'],
      response: { 200: Type.Object({ agents: Type.Array(AgentSchema) }) },
    },
  }, async () => ({ agents: ctx.agents() }));
};
