import type { RouteModule } from '../context.ts';
import { agentRoutes } from './agents.ts';
import { chartRoutes } from './charts.ts';
import { openApiRoutes } from './openapi.ts';
import { overviewRoutes } from './overview.ts';
import { roundRoutes } from './rounds.ts';
import { seriesRoutes } from './series.ts';
import { treeRoutes } from './tree.ts';

export { openApiPlugin } from './openapi.ts';
export { registerCompression } from './compression.ts';

/** The web UI's read API (/api/v1/…, all GET, public) and /api/openapi.json. */
export const apiRoutes: RouteModule = async (app, ctx) => {
  await openApiRoutes(app);
  treeRoutes(app, ctx);
  seriesRoutes(app, ctx);
  overviewRoutes(app, ctx);
  roundRoutes(app, ctx);
  agentRoutes(app, ctx);
  chartRoutes(app, ctx);
};
