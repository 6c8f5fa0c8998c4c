import { Ajv } from 'ajv';
import type { FastifyInstance } from 'fastify';
import Type, { type Static } from 'typebox';
import { MAX_RELEASE_BYTES } from '../../release/manifest.ts';
import { StoredReleaseSchema, type FleetStore } from '../../release/fleet-store.ts';
import { RolloutSchema, RolloutSpecSchema, RolloutSummarySchema, rolloutCounts, type Rollout, type RolloutAction, type RolloutSpec } from '../../release/rollout.ts';
import { SmokemeshError } from '../../errors.ts';
import { ApiError } from '../api/errors.ts';
import { ErrorSchema } from '../api/schemas.ts';
import type { ServerContext } from '../context.ts';

/** What the routes need of the fleet (module.ts makes it): the stored releases and rollouts, and the rollout in progress. */
export type FleetService = {
  store: FleetStore;
  active(): Rollout | undefined;
  start(spec: RolloutSpec): Rollout;
  act(id: number, action: RolloutAction): Rollout;
};

/** Header carrying the release's `.sig` file (base64) on an upload. */
export const SIGNATURE_HEADER = 'x-smokemesh-signature';

/** Validates the upload's params and headers as Fastify's default would (its body is bytes, not validated). */
const paramsAjv = new Ajv({ coerceTypes: 'array', useDefaults: true, removeAdditional: true, allErrors: false });
const UploadHeaders = Type.Object({
  [SIGNATURE_HEADER]: Type.Optional(Type.String({ description: "the release's .sig file, base64 (required: without it the upload is refused with 400)" })),
});
const FileParams = Type.Object({ file: Type.String({ minLength: 1, maxLength: 200 }) });
const IdParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });
const ActionParams = Type.Object({ id: Type.Integer({ minimum: 1 }), action: Type.Enum(['pause', 'resume', 'abort', 'rollback']) });
const Err = ErrorSchema;
/**
 * The admin API of releases and rollouts: uploads (raw tarball, its `.sig` in a header) and
 * rollouts with pause, resume, abort and roll back need the admin token; lists are open like
 * every GET.
 */
export async function fleetRoutes(app: FastifyInstance, ctx: ServerContext, fleet: FleetService): Promise<void> {
  const tags = ['fleet'];
  app.get('/api/v1/releases', {
    schema: { summary: 'Releases the server holds for agents to upgrade to', tags, response: { 200: Type.Object({ releases: Type.Array(StoredReleaseSchema) }) } },
  }, async () => ({ releases: fleet.store.releases() }));

  // Tarballs arrive as raw bytes: a scope of their own with a buffer parser and a large limit.
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_RELEASE_BYTES }, (_req, body, done) => done(null, body));
    scope.put<{ Params: Static<typeof FileParams> }>('/api/v1/releases/:file', {
      // Before the body is read: without the token nobody makes the server buffer a tarball.
      onRequest: ctx.requireAdmin,
      schema: {
        summary: `Upload a release tarball (body) with its .sig file (base64 in the ${SIGNATURE_HEADER} header); admin token`,
        description: 'Refused: 400 no or a bad signature, a file name or tarball it does not match; 401 no admin token; 413 larger than MAX_RELEASE_BYTES.',
        tags, params: FileParams, response: { 201: StoredReleaseSchema, 400: Err, 401: Err, 413: Err },
        headers: UploadHeaders,
        consumes: ['application/octet-stream', 'application/gzip'],
        body: Type.Unsafe<Buffer>({ type: 'string', format: 'binary', description: 'the release tarball, as built by `smokemesh release build`' }),
      },
      // The body is bytes (the parser above): the JSON schema of it only describes it in OpenAPI.
      validatorCompiler: ({ httpPart, schema }) => (httpPart === 'body' ? () => true : paramsAjv.compile(schema)),
    }, async (req, reply) => {
      const { file } = req.params;
      const sig = req.headers[SIGNATURE_HEADER];
      if (typeof sig !== 'string' || !sig) throw new ApiError(400, 'SMOKEMESH_E_RELEASE', `missing the ${SIGNATURE_HEADER} header (the release's .sig file, base64)`);
      const body = req.body instanceof Buffer ? req.body : Buffer.alloc(0);
      let stored;
      try {
        stored = fleet.store.addRelease(file, body, Buffer.from(sig, 'base64').toString('utf8'));
      } catch (e) {
        if (e instanceof SmokemeshError && e.code === 'SMOKEMESH_E_RELEASE') throw new ApiError(400, e.code, e.message);
        throw e;
      }
      ctx.log.info({ file, version: stored.version, arch: stored.arch, key_id: stored.key_id, bytes: stored.size }, `release ${file} uploaded`);
      return reply.code(201).send(stored);
    });
  });

  app.delete<{ Params: Static<typeof FileParams> }>('/api/v1/releases/:file', {
    preHandler: ctx.requireAdmin,
    schema: {
      summary: 'Remove a release; admin token', description: 'Refused: 401 no admin token; 404 no such file; 409 the active rollout uses its version.',
      tags, params: FileParams, response: { 204: Type.Null({ description: 'removed' }), 401: Err, 404: Err, 409: Err },
    },
  }, async (req, reply) => {
    const { file } = req.params;
    const rel = fleet.store.byFile(file);
    const active = fleet.active();
    if (rel && active && active.spec.version === rel.version) throw new ApiError(409, 'SMOKEMESH_E_RELEASE', `rollout ${active.id} uses ${rel.version}: abort it first`);
    if (!fleet.store.deleteRelease(file)) throw new ApiError(404, 'SMOKEMESH_E_NOT_FOUND', `no release file "${file}"`);
    return reply.code(204).send();
  });

  app.get('/api/v1/rollouts', {
    schema: { summary: 'Rollouts, newest first, with their agents counted by state', tags, response: { 200: Type.Object({ rollouts: Type.Array(RolloutSummarySchema) }) } },
  }, async () => ({
    rollouts: fleet.store.rollouts(50).map((stored) => {
      const r = fleet.active()?.id === stored.id ? fleet.active()! : stored;
      return { id: r.id, version: r.spec.version, state: r.state, wave: r.wave, waves: r.waves, ...(r.reason ? { reason: r.reason } : {}), created_at: r.created_at, updated_at: r.updated_at, agents: rolloutCounts(r) };
    }),
  }));

  app.get<{ Params: Static<typeof IdParams> }>('/api/v1/rollouts/:id', {
    schema: { summary: 'One rollout with every agent\'s wave, state, previous version and last error', tags, params: IdParams, response: { 200: RolloutSchema, 400: Err, 404: Err } },
  }, async (req) => {
    const { id } = req.params;
    const r = fleet.active()?.id === id ? fleet.active() : fleet.store.rollout(id);
    if (!r) throw new ApiError(404, 'SMOKEMESH_E_NOT_FOUND', `no rollout ${id}`);
    return r;
  });

  app.post<{ Body: RolloutSpec }>('/api/v1/rollouts', {
    preHandler: ctx.requireAdmin,
    schema: {
      summary: 'Start a rollout of an uploaded version: a canary, then batches, each healthy for wait_s before the next; admin token',
      description: 'Refused: 400 a bad spec, a version not uploaded, no remote agent concerned; 401 no admin token; 409 another rollout is active.',
      tags, body: RolloutSpecSchema, response: { 201: RolloutSchema, 400: Err, 401: Err, 409: Err },
    },
  }, async (req, reply) => {
    const spec = req.body;
    let r;
    try {
      r = fleet.start(spec);
    } catch (e) {
      if (e instanceof SmokemeshError) throw new ApiError(400, e.code, e.message);
      throw e;
    }
    return reply.code(201).send(r);
  });

  app.post<{ Params: Static<typeof ActionParams> }>('/api/v1/rollouts/:id/:action', {
    preHandler: ctx.requireAdmin,
    schema: {
      summary: 'pause, resume (failed agents of the wave try again), abort, or rollback a rollout; admin token',
      description: 'Refused: 400 an unknown action; 401 no admin token; 404 no such rollout; 409 the action makes no sense in its state, or another rollout is active (rollback).',
      tags, params: ActionParams, response: { 200: RolloutSchema, 400: Err, 401: Err, 404: Err, 409: Err },
    },
  }, async (req) => {
    const { id, action } = req.params;
    return fleet.act(id, action);
  });

}
