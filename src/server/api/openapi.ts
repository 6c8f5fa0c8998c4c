import swagger from '@fastify/swagger';
import Type from 'typebox';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { VERSION } from '../../version.ts';

/**
 * Collects every route registered after it (its own scope and descendants) into an OpenAPI 3
 * description, from the routes' own JSON schemas. Register it on the root instance before
 * any route so that every concern's routes (core, alerts, agent API, this read API) appear.
 */
export const openApiPlugin: FastifyPluginAsync = async (app) => {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'smokemesh API',
        version: VERSION,
        description: 'Read API of the web UI (GET, public), the agent API and the admin routes. '
          + 'State-changing routes need "Authorization: Bearer <admin token>".',
      },
    },
    // Only the API: the static UI and health probes stay out of the description.
    transform: ({ schema, url }) => {
      const s = (schema ?? {}) as Record<string, unknown>;
      return { schema: url.startsWith('/api/') ? s : { ...s, hide: true }, url } as never;
    },
  });
};
// Same effect as fastify-plugin: the hooks apply to the parent scope, not a private one.
(openApiPlugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;

/** GET /api/openapi.json (registers the collector first when the server did not). */
export async function openApiRoutes(app: FastifyInstance): Promise<void> {
  if (!app.hasDecorator('swagger')) await app.register(openApiPlugin);
  app.get('/api/openapi.json', {
    schema: {
      summary: 'This OpenAPI 3 description of every /api route', tags: ['docs'],
      response: { 200: Type.Object({ openapi: Type.String(), info: Type.Object({}, { additionalProperties: true }), paths: Type.Record(Type.String(), Type.Unknown()) }, { additionalProperties: true }) },
    },
  }, async () => app.swagger());
}
