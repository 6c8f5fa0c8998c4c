import Type, { type Static } from 'typebox';
import { ArchSchema, VersionSchema } from './manifest.ts';

/**
 * The self-upgrade part of the agent API. An agent reports its upgrade status in every
 * heartbeat (`upgrade`), asks the server which version it should run (AGENT_RELEASE_API.target)
 * and downloads that release (AGENT_RELEASE_API.download + the file name), all signed like
 * every agent request. What it downloads is trusted only once the release key verifies it.
 */
export const AGENT_RELEASE_API = {
  target: '/api/v1/agent/upgrade',
  download: '/api/v1/agent/releases/',
} as const;

export const UPGRADE_STATES = ['idle', 'disabled', 'downloading', 'testing', 'trial', 'failed'] as const;

/**
 * Where an agent stands with self-upgrade: `idle` (runs what it was asked to, or nothing was
 * asked), `disabled` (cannot upgrade: no release key, not installed from a release; `error`
 * says why), `downloading` / `testing` (self-test of the new version) / `trial` (the new
 * version runs, not yet committed), `failed` (the last attempt failed or was refused and the
 * agent runs its previous version; `error` says why).
 */
export const UpgradeStatusSchema = Type.Object({
  state: Type.Enum([...UPGRADE_STATES]),
  /** The version the last instruction asked for. */
  target: Type.Optional(VersionSchema),
  rollout: Type.Optional(Type.Integer({ minimum: 1 })),
  attempt: Type.Optional(Type.Integer({ minimum: 1 })),
  /** The last error, kept until an attempt succeeds. */
  error: Type.Optional(Type.String({ maxLength: 1000 })),
  /** When the state last changed, ms since the epoch. */
  at: Type.Integer({ minimum: 0 }),
  arch: ArchSchema,
  /** The version this agent ran before its last upgrade (a roll back may return to it). */
  previous: Type.Optional(VersionSchema),
}, { additionalProperties: false });
export type UpgradeStatus = Static<typeof UpgradeStatusSchema>;

/** What the server asks an agent to run. */
export const UpgradeTargetSchema = Type.Object({
  version: VersionSchema,
  /** Release file to download, for this agent's architecture. */
  file: Type.String(),
  size: Type.Integer({ minimum: 1 }),
  /** The release's `.sig` file, as uploaded: the agent verifies it with its own key. */
  signature: Type.String(),
  rollout: Type.Integer({ minimum: 1 }),
  /** Bumped when an admin resumes a rollout: an agent retries a version that failed for it once per attempt. */
  attempt: Type.Integer({ minimum: 1 }),
  /** A roll back to the version the agent ran before (a downgrade the agent accepts only in that case). */
  rollback: Type.Boolean(),
}, { additionalProperties: false });
export type UpgradeTarget = Static<typeof UpgradeTargetSchema>;

/**
 * The answer to AGENT_RELEASE_API.target: the version to run, or none. `problem` says why the
 * server cannot serve a version a rollout asks this agent to run (no release for its
 * architecture…): the agent reports it as a failure of that attempt, so the rollout pauses.
 */
export const UpgradeTargetReplySchema = Type.Object({
  target: Type.Union([UpgradeTargetSchema, Type.Null()]),
  problem: Type.Optional(Type.Object({
    version: VersionSchema,
    rollout: Type.Integer({ minimum: 1 }),
    attempt: Type.Integer({ minimum: 1 }),
    error: Type.String(),
  }, { additionalProperties: false })),
}, { additionalProperties: false });
export type UpgradeTargetReply = Static<typeof UpgradeTargetReplySchema>;
