import Type from 'typebox';
import type { RouteModule, ServerContext } from '../context.ts';
import { ErrorSchema, NodeSummarySchema, PresentationViewSchema, TargetDetailSchema, TreeNodeSchema } from './schemas.ts';
import { agentsByTarget, presentationView, searchTargets, targetDetail, treeView } from './views.ts';
import { ApiError } from './errors.ts';

const TAGS = ['targets'];

/** Which agents probe each target, from the live config, the agents and the stored series. */
export function currentAgents(ctx: ServerContext): Map<string, string[]> {
  return agentsByTarget(ctx.targets(), ctx.agents(), ctx.store.list());
}

/** GET /api/v1/tree, /api/v1/targets, /api/v1/search. */
export const treeRoutes: RouteModule = (app, ctx) => {
  app.get('/api/v1/tree', {
    schema: {
      summary: 'The target tree (menu, title, remark, host, probe, labels, agents, children; hidden nodes flagged)',
      tags: TAGS,
      response: { 200: Type.Object({ title: Type.String(), root: TreeNodeSchema, presentation: PresentationViewSchema }) },
    },
  }, async () => {
    const config = ctx.config();
    return { title: config.general.title, root: treeView(ctx.targets(), currentAgents(ctx)), presentation: presentationView(config.raw.presentation) };
  });

  app.get('/api/v1/targets', {
    schema: {
      summary: 'One node of the tree with its probe settings, breadcrumbs and children',
      tags: TAGS,
      querystring: Type.Object({ path: Type.Optional(Type.String({ minLength: 1, default: '/', description: 'target path, e.g. /Group/host' })) }),
      response: { 200: TargetDetailSchema, 404: ErrorSchema },
    },
  }, async (req) => {
    const { path } = req.query as { path: string };
    const d = targetDetail(ctx.targets(), path, currentAgents(ctx));
    if (!d) throw new ApiError(404, 'SMOKEMESH_E_NOT_FOUND', `querystring/path: no target "${path}" in the config`);
    return d;
  });

  app.get('/api/v1/search', {
    schema: {
      summary: 'Targets whose name, host, title, path or a label contains q (case-insensitive)',
      tags: TAGS,
      querystring: Type.Object({
        q: Type.String({ minLength: 1, maxLength: 200 }),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })),
      }),
      response: { 200: Type.Object({ q: Type.String(), results: Type.Array(NodeSummarySchema) }), 400: ErrorSchema },
    },
  }, async (req) => {
    const { q, limit } = req.query as { q: string; limit: number };
    return { q, results: searchTargets(ctx.targets(), q, currentAgents(ctx), limit) };
  });
};
