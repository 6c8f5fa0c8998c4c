import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { SmokemeshError } from '../errors.ts';
import { ReleaseInfoSchema, parseChecked, type ReleaseInfo } from './manifest.ts';

const run = promisify(execFile);

/**
 * Release tarballs through GNU tar (Debian's essential `tar`, argument arrays, never a shell):
 * one top directory `smokemesh-<version>/`, owned by root in the archive, names sorted and
 * times fixed so that the same tree gives the same bytes.
 */

/** Packs `<parent>/<dir>` into `outFile` (gzip); `mtime` (ms) is stamped on every entry. */
export async function packRelease(parent: string, dir: string, outFile: string, mtime: number): Promise<void> {
  await tar(['--create', '--gzip', '--file', outFile, '--directory', parent,
    '--sort=name', '--owner=0', '--group=0', '--numeric-owner', `--mtime=@${Math.floor(mtime / 1000)}`, '--', dir]);
}

/** Every entry name of a tarball, as stored. */
export async function listEntries(file: string): Promise<string[]> {
  const out = await tar(['--list', '--gzip', '--file', file]);
  return out.split('\n').filter(Boolean);
}

/**
 * The release.json of a tarball, checked against its schema, and the tarball's top directory.
 * Only for tarballs of our own making (signing, building); agents read it after verifying.
 */
export async function readReleaseInfo(file: string): Promise<{ info: ReleaseInfo; top: string }> {
  const top = topDirectory(await listEntries(file), file);
  const text = await tar(['--extract', '--gzip', '--to-stdout', '--file', file, `${top}/release.json`]);
  return { info: parseChecked<ReleaseInfo>(ReleaseInfoSchema, text, `${basename(file)}: ${top}/release.json`), top };
}

/**
 * Unpacks a (verified) release tarball into `dest`, which must not exist yet: its entries are
 * checked first (one top directory, no absolute names, no `..`), it is extracted beside `dest`
 * and renamed into place only when complete, and its release.json must say `expect`.
 */
export async function unpackRelease(file: string, dest: string, expect: { version: string; arch: string }): Promise<ReleaseInfo> {
  const entries = await listEntries(file);
  const top = topDirectory(entries, basename(file));
  const staging = `${dest}.unpack-${process.pid}-${Date.now()}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true, mode: 0o755 });
  try {
    // --no-same-owner: files belong to whoever unpacks (the agent's user), not to ids in the archive.
    await tar(['--extract', '--gzip', '--file', file, '--directory', staging, '--no-same-owner', '--no-overwrite-dir']);
    const root = join(staging, top);
    const info = parseChecked<ReleaseInfo>(ReleaseInfoSchema, readFileSync(join(root, 'release.json'), 'utf8'), `${basename(file)}: release.json`);
    if (info.version !== expect.version || info.arch !== expect.arch) {
      throw new SmokemeshError('SMOKEMESH_E_RELEASE', `${basename(file)}: release.json says ${info.version} for ${info.arch}, expected ${expect.version} for ${expect.arch}`);
    }
    if (!existsSync(join(root, 'bin/smokemesh.js')) || !existsSync(join(root, 'dist/cli.js'))) {
      throw new SmokemeshError('SMOKEMESH_E_RELEASE', `${basename(file)}: not a smokemesh release (no bin/smokemesh.js or dist/cli.js)`);
    }
    if (existsSync(dest)) throw new SmokemeshError('SMOKEMESH_E_RELEASE', `${dest} exists already`);
    renameSync(root, dest);
    return info;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** The single top directory of a release's entries; SMOKEMESH_E_RELEASE when there are others or unsafe names. */
export function topDirectory(entries: string[], what: string): string {
  const first = entries[0]?.split('/')[0];
  if (!first || !/^smokemesh-[0-9A-Za-z.+-]+$/.test(first)) throw new SmokemeshError('SMOKEMESH_E_RELEASE', `${what}: not a smokemesh release (its first entry is "${entries[0] ?? ''}")`);
  for (const e of entries) {
    if (e.startsWith('/') || e.split('/').includes('..')) throw new SmokemeshError('SMOKEMESH_E_RELEASE', `${what}: unsafe entry name "${e}"`);
    if (e !== first && !e.startsWith(`${first}/`)) throw new SmokemeshError('SMOKEMESH_E_RELEASE', `${what}: entry "${e}" is outside ${first}/`);
  }
  return first;
}

async function tar(args: string[]): Promise<string> {
  try {
    const { stdout } = await run('tar', args, { maxBuffer: 64 * 1024 * 1024, timeout: 5 * 60_000, encoding: 'utf8' });
    return stdout;
  } catch (e) {
    const err = e as Error & { stderr?: string; code?: string | number };
    if (err.code === 'ENOENT') throw new SmokemeshError('SMOKEMESH_E_RELEASE', 'tar is not installed (apt-get install tar)');
    throw new SmokemeshError('SMOKEMESH_E_RELEASE', `tar ${args[0]} ${args[args.indexOf('--file') + 1] ?? ''}: ${(err.stderr || err.message).trim().split('\n').slice(-3).join('; ')}`);
  }
}
