import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import Type, { type Static } from 'typebox';
import { validate } from '../config/validate.ts';
import { UpgradeStatusSchema } from '../release/protocol.ts';

/**
 * The directories of an installed release (deploy/install.sh makes them):
 *   <prefix>/versions/<version>/   one directory per version, unpacked beside each other
 *   <prefix>/current               symlink to the version that runs
 *   <prefix>/agent-upgrade.json    the agent's upgrade state (600), read by its supervisor too
 */
export interface InstallLayout {
  prefix: string;
  versions: string;
  current: string;
  stateFile: string;
  downloads: string;
}

/**
 * The layout this program runs from, when its package root is `<prefix>/versions/<version>`
 * beside a `<prefix>/current` symlink; undefined for a source checkout or a copy put elsewhere
 * (such an agent cannot upgrade itself).
 */
export function installLayoutOf(packageRoot: string): InstallLayout | undefined {
  const versions = dirname(packageRoot);
  if (basename(versions) !== 'versions') return undefined;
  const prefix = dirname(versions);
  const current = join(prefix, 'current');
  try {
    if (!lstatSync(current).isSymbolicLink()) return undefined;
  } catch {
    return undefined;
  }
  return { prefix, versions, current, stateFile: join(prefix, 'agent-upgrade.json'), downloads: join(prefix, 'downloads') };
}

/** The version `current` points at (its directory name), or undefined. */
export function currentVersion(l: InstallLayout): string | undefined {
  try {
    return basename(readlinkSync(l.current));
  } catch {
    return undefined;
  }
}

/** Points `current` at versions/<version> in one rename: a start in between sees the old or the new one. */
export function switchCurrent(l: InstallLayout, version: string): void {
  if (!existsSync(join(l.versions, version, 'bin/smokemesh.js'))) throw new Error(`${join(l.versions, version)} is not an unpacked release`);
  const tmp = `${l.current}.tmp-${process.pid}`;
  rmSync(tmp, { force: true });
  symlinkSync(join('versions', version), tmp);
  renameSync(tmp, l.current);
}

/**
 * What survives a restart: the status the agent reports, and while a new version is on trial
 * the time by which it must be healthy. The supervisor rolls back a version that exits while
 * `status.state` is `trial`.
 */
export const UpgradeStateSchema = Type.Object({
  status: UpgradeStatusSchema,
  trial_until: Type.Optional(Type.Integer({ minimum: 0 })),
}, { additionalProperties: false });
export type UpgradeState = Static<typeof UpgradeStateSchema>;

/** The saved state, or undefined when there is none or it does not parse (then it starts afresh). */
export function readUpgradeState(l: InstallLayout): UpgradeState | undefined {
  try {
    const v = JSON.parse(readFileSync(l.stateFile, 'utf8')) as unknown;
    return validate(UpgradeStateSchema, v).length === 0 ? (v as UpgradeState) : undefined;
  } catch {
    return undefined;
  }
}

/** Saves the state (600, written aside and renamed: never half a file). */
export function writeUpgradeState(l: InstallLayout, s: UpgradeState): void {
  mkdirSync(l.prefix, { recursive: true });
  const tmp = `${l.stateFile}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(s) + '\n', { mode: 0o600 });
  renameSync(tmp, l.stateFile);
}
