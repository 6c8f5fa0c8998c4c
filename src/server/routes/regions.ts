import { errorBody } from '../../errors.ts';
import Type from 'typebox';
import type { FastifyInstance } from 'fastify';
import { RegionCellSchema, type RegionCell, type RegionSnapshot } from '../../plan/region.ts';
import { ErrorSchema as Err } from '../api/schemas.ts';

/** A matrix cell without the per-agent detail. */
function brief(c: RegionCell): Omit<RegionCell, 'agents'> {
  const { agents: _a, ...rest } = c;
  return rest;
}

const Probe = Type.Enum(['icmp', 'tcp', 'dns', 'http'], { default: 'icmp' });
const { agents: _agents, ...briefFields } = RegionCellSchema.properties;

/**
 * GET /api/v1/regions/matrix: every (source region, target region) cell of one probe type;
 * GET /api/v1/regions/pair: one cell with its agents, its targets and the series behind it
 * (for the pair's smoke graphs).
 */
export function regionRoutes(
  app: FastifyInstance, snapshot: () => RegionSnapshot,
  pairDetail: (probe: string, source: string, target: string) => RegionSnapshot,
): void {
  app.get('/api/v1/regions/matrix', {
    schema: {
      summary: 'Region × region matrix: median, loss, jitter and agents_ok/agents_total per (source region, target region)',
      description: 'Cells follow the majority rule of docs/mesh.md; `status` is ok, degraded (tie) or down.',
      tags: ['regions'],
      querystring: Type.Object({ probe: Probe }),
      response: {
        200: Type.Object({ time: Type.Number(), probe: Type.String(), regions: Type.Array(Type.String()), cells: Type.Array(Type.Object(briefFields)) }),
      },
    },
  }, async (req) => {
    const { probe } = req.query as { probe: string };
    const s = snapshot();
    const cells = s.pairs.filter((c) => c.probe === probe).map(brief)
      .sort((a, b) => a.source_region.localeCompare(b.source_region) || a.target_region.localeCompare(b.target_region));
    const regions = [...new Set(cells.flatMap((c) => [c.source_region, c.target_region]))].sort();
    return { time: s.time, probe, regions, cells };
  });

  app.get('/api/v1/regions/pair', {
    schema: {
      summary: 'One region pair in detail: the cell, each agent\'s view, each target\'s cell and the series to graph',
      tags: ['regions'],
      querystring: Type.Object({
        probe: Probe,
        source: Type.String({ minLength: 1, description: 'source region' }),
        target: Type.String({ minLength: 1, description: 'target region' }),
      }),
      response: {
        200: Type.Object({
          time: Type.Number(), cell: RegionCellSchema, targets: Type.Array(RegionCellSchema),
          series: Type.Array(Type.Object({ target: Type.String(), agent: Type.String() })),
        }),
        404: Err,
      },
    },
  }, async (req, reply) => {
    const q = req.query as { probe: string; source: string; target: string };
    const s = pairDetail(q.probe, q.source, q.target);
    const cell = s.pairs.find((c) => c.probe === q.probe && c.source_region === q.source && c.target_region === q.target);
    if (!cell) {
      return reply.code(404).send(errorBody('SMOKEMESH_E_NOT_FOUND', `no ${q.probe} data from region "${q.source}" to region "${q.target}" in the latest step; see GET /api/v1/regions/matrix for the pairs there are`));
    }
    const targets = s.targets.filter((c) => c.probe === q.probe && c.source_region === q.source && c.target_region === q.target)
      .sort((a, b) => a.target!.localeCompare(b.target!));
    const series = targets.flatMap((c) => c.agents.map((a) => ({ target: c.target!, agent: a.agent })));
    return { time: s.time, cell, targets, series };
  });
}
