import { createReadStream } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import Type, { type Static } from 'typebox';
import { AgentApiErrorSchema } from '../../agent/protocol.ts';
import { AGENT_RELEASE_API, UpgradeTargetReplySchema, type UpgradeTargetReply } from '../../release/protocol.ts';
import { binaryAnswer } from '../api/schemas.ts';
import { send } from './routes.ts';
import { agentRouteDoc } from './signed-scope.ts';

export interface AgentReleaseDeps {
  /** The version this agent should run now (the active rollout), or none. */
  targetFor(agent: string): UpgradeTargetReply;
  /** A release file the server holds, by name. */
  file(name: string): { path: string; size: number } | undefined;
}

const FileParams = Type.Object({ file: Type.String({ minLength: 1, maxLength: 200 }) });

/**
 * The self-upgrade endpoints of the agent API, registered inside its signed scope (only a
 * known agent with a valid signature gets here): which version to run, and the release
 * tarballs to download. The server signs nothing: agents verify what they download with the
 * release key they were installed with.
 */
export function agentReleaseRoutes(api: FastifyInstance, deps: AgentReleaseDeps): void {
  api.get(AGENT_RELEASE_API.target, agentRouteDoc(
    'The version this agent should run now (the active rollout), or null with the problem that keeps the server from serving it; HMAC-signed',
    UpgradeTargetReplySchema,
  ), async (req, reply) => send(req, reply, 200, deps.targetFor(req.smokemeshAgent!)));

  const download = agentRouteDoc(
    'Download a release tarball (the file named by the upgrade target); the agent checks it against the release key; HMAC-signed',
    binaryAnswer('application/gzip', 'the release tarball, as uploaded'),
    { 404: AgentApiErrorSchema },
  );
  api.get<{ Params: Static<typeof FileParams> }>(`${AGENT_RELEASE_API.download}:file`, { schema: { ...download.schema, params: FileParams } }, async (req, reply) => {
    const f = deps.file(req.params.file);
    if (!f) return reply.code(404).send({ code: 'SMOKEMESH_E_NOT_FOUND', error: `no release file "${req.params.file}" on the server` });
    return reply.type('application/gzip').header('content-length', String(f.size)).send(createReadStream(f.path));
  });
}
