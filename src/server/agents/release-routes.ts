import { createReadStream } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { AGENT_RELEASE_API, type UpgradeTargetReply } from '../../release/protocol.ts';

export interface AgentReleaseDeps {
  /** The version this agent should run now (the active rollout), or none. */
  targetFor(agent: string): UpgradeTargetReply;
  /** A release file the server holds, by name. */
  file(name: string): { path: string; size: number } | undefined;
}

/**
 * The self-upgrade endpoints of the agent API, registered inside its signed scope (only a
 * known agent with a valid signature gets here): which version to run, and the release
 * tarballs to download. The server signs nothing: agents verify what they download with the
 * release key they were installed with.
 */
export function agentReleaseRoutes(api: FastifyInstance, deps: AgentReleaseDeps): void {
  api.get(AGENT_RELEASE_API.target, async (req) => deps.targetFor(req.smokemeshAgent!));

  api.get(`${AGENT_RELEASE_API.download}:file`, async (req, reply) => {
    const name = (req.params as { file: string }).file;
    const f = deps.file(name);
    if (!f) return reply.code(404).send({ code: 'SMOKEMESH_E_NOT_FOUND', error: `no release file "${name}" on the server` });
    return reply.type('application/gzip').header('content-length', String(f.size)).send(createReadStream(f.path));
  });
}
