import type { FastifySchema } from 'fastify';
import Type from 'typebox';
import { StoreStatsSchema } from '../../store/types.ts';
import { ErrorSchema } from '../api/schemas.ts';
import type { RouteModule } from '../context.ts';
import { VERSION } from '../../version.ts';

const ReloadResult = Type.Object({ reloaded: Type.Boolean(), errors: Type.Array(Type.String()) });

/** Health and reload: the server's own routes. */
export const coreRoutes: RouteModule = (app, ctx) => {
  const health = async () => ({
    status: 'ok' as const,
    version: VERSION,
    agent: ctx.builtinAgent,
    store: ctx.store.stats(),
  });
  app.get('/health', { schema: { hide: true } as FastifySchema }, health);
  app.get('/api/v1/health', {
    schema: {
      summary: 'Server health, version and store figures', tags: ['server'],
      response: { 200: Type.Object({ status: Type.Literal('ok'), version: Type.String(), agent: Type.String({ description: "the built-in agent's name" }), store: StoreStatsSchema }) },
    } as FastifySchema,
  }, health);

  app.post('/api/v1/reload', {
    preHandler: ctx.requireAdmin,
    schema: {
      summary: 'Reload the config file; a broken config is refused and the running one stays',
      tags: ['server'],
      response: { 200: ReloadResult, 401: ErrorSchema, 422: ReloadResult },
    } as FastifySchema,
  }, async (_req, reply) => {
    const errors = await ctx.reload();
    return reply.code(errors.length ? 422 : 200).send({ reloaded: errors.length === 0, errors });
  });
};
