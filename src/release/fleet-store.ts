import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import Type, { type Static } from 'typebox';
import { SmokemeshError } from '../errors.ts';
import { ensurePrivateDatabase, ensurePrivateDir, type ModeNote } from '../private-files.ts';
import { MAX_RELEASE_BYTES, parseReleaseFileName, type Manifest } from './manifest.ts';
import type { Rollout } from './rollout.ts';
import { checkDigest, sha256, unverifiedManifest } from './signing.ts';

/** A release the server holds, as the admin API lists it. */
export const StoredReleaseSchema = Type.Object({
  file: Type.String(),
  version: Type.String(),
  arch: Type.String(),
  sha256: Type.String(),
  size: Type.Integer(),
  key_id: Type.String({ description: 'the key that signed it (agents check the signature with their own key)' }),
  uploaded_at: Type.Integer(),
});
export type StoredRelease = Static<typeof StoredReleaseSchema>;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS releases (
  file TEXT PRIMARY KEY, version TEXT NOT NULL, arch TEXT NOT NULL, sha256 TEXT NOT NULL,
  size INTEGER NOT NULL, key_id TEXT NOT NULL, signature TEXT NOT NULL, uploaded_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS rollouts (
  id INTEGER PRIMARY KEY, state TEXT NOT NULL, updated_at INTEGER NOT NULL, doc TEXT NOT NULL
);
`;

/**
 * The server's releases and rollouts: tarballs under `<data_dir>/releases/` (directory 700,
 * files 600) indexed with their signatures in `<data_dir>/fleet.sqlite` (600), beside every
 * rollout with its per-agent state, so that a restarted server carries on where it was.
 */
export class FleetStore {
  readonly dir: string;
  private readonly db: Database.Database;

  constructor(dataDir: string, note?: ModeNote) {
    ensurePrivateDir(dataDir, note);
    this.dir = join(dataDir, 'releases');
    ensurePrivateDir(this.dir, note);
    const file = join(dataDir, 'fleet.sqlite');
    // 600 before SQLite opens it; SQLite gives its -wal and -shm files the same mode.
    ensurePrivateDatabase(file, note);
    try {
      this.db = new Database(file);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      this.db.exec(SCHEMA);
    } catch (e) {
      throw new SmokemeshError('SMOKEMESH_E_STORE', `${file}: cannot open the fleet database: ${(e as Error).message}`, { cause: e });
    }
  }

  /** Every release held, newest upload first. */
  releases(): StoredRelease[] {
    return this.db.prepare('SELECT file, version, arch, sha256, size, key_id, uploaded_at FROM releases ORDER BY uploaded_at DESC, file').all() as StoredRelease[];
  }

  /** The release of `version` for `arch`, with its `.sig` text. */
  release(version: string, arch: string): (StoredRelease & { signature: string }) | undefined {
    return this.db.prepare('SELECT * FROM releases WHERE version = ? AND arch = ?').get(version, arch) as (StoredRelease & { signature: string }) | undefined;
  }

  /** The release stored as `file`, if any. */
  byFile(file: string): StoredRelease | undefined {
    return this.db.prepare('SELECT file, version, arch, sha256, size, key_id, uploaded_at FROM releases WHERE file = ?').get(file) as StoredRelease | undefined;
  }

  /** Path of a stored release file (only for names byFile() knows). */
  path(file: string): string {
    return join(this.dir, file);
  }

  /**
   * Keeps an uploaded release: its name must be a release name, its signature file well formed
   * and naming this very tarball (name, size, SHA-256). The signature itself is checked by each
   * agent with the key it trusts; the server holds no key. Replaces an upload of the same name.
   */
  addRelease(file: string, bytes: Buffer, sigText: string, now = Date.now()): StoredRelease {
    const named = parseReleaseFileName(file);
    if (!named) throw new SmokemeshError('SMOKEMESH_E_RELEASE', `"${file}" is not a release file name (smokemesh-<version>-linux-<arch>.tar.gz)`);
    if (bytes.length > MAX_RELEASE_BYTES) throw new SmokemeshError('SMOKEMESH_E_RELEASE', `${file}: ${bytes.length} bytes, more than ${MAX_RELEASE_BYTES}`);
    let manifest: Manifest;
    try {
      manifest = unverifiedManifest(sigText);
    } catch (e) {
      throw new SmokemeshError('SMOKEMESH_E_RELEASE', `${file}: ${(e as Error).message}`);
    }
    if (manifest.file !== file || manifest.version !== named.version || manifest.arch !== named.arch) {
      throw new SmokemeshError('SMOKEMESH_E_RELEASE', `${file}: its signature is for ${manifest.file} (${manifest.version}, ${manifest.arch})`);
    }
    const digest = { sha256: sha256(bytes), size: bytes.length };
    checkDigest(manifest, digest);
    const key = (JSON.parse(sigText) as { key_id: string }).key_id;
    const tmp = join(this.dir, `.${file}.${process.pid}.tmp`);
    try {
      writeFileSync(tmp, bytes, { mode: 0o600 });
      renameSync(tmp, join(this.dir, file));
    } catch (e) {
      rmSync(tmp, { force: true });
      throw new SmokemeshError('SMOKEMESH_E_UNAVAILABLE', `${file}: cannot write it under ${this.dir}: ${(e as Error).message}`, { cause: e });
    }
    const row: StoredRelease = { file, version: manifest.version, arch: manifest.arch, sha256: digest.sha256, size: digest.size, key_id: key, uploaded_at: now };
    this.db.prepare('INSERT OR REPLACE INTO releases (file, version, arch, sha256, size, key_id, signature, uploaded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(row.file, row.version, row.arch, row.sha256, row.size, row.key_id, sigText, row.uploaded_at);
    return row;
  }

  /** Removes a release (file and index); false when there was none. */
  deleteRelease(file: string): boolean {
    const n = this.db.prepare('DELETE FROM releases WHERE file = ?').run(file).changes;
    if (n) rmSync(join(this.dir, file), { force: true });
    return n > 0;
  }

  /** The most recent rollouts first. */
  rollouts(limit = 50): Rollout[] {
    return (this.db.prepare('SELECT doc FROM rollouts ORDER BY id DESC LIMIT ?').all(limit) as { doc: string }[]).map((r) => JSON.parse(r.doc) as Rollout);
  }

  rollout(id: number): Rollout | undefined {
    const row = this.db.prepare('SELECT doc FROM rollouts WHERE id = ?').get(id) as { doc: string } | undefined;
    return row ? (JSON.parse(row.doc) as Rollout) : undefined;
  }

  nextRolloutId(): number {
    return ((this.db.prepare('SELECT MAX(id) AS m FROM rollouts').get() as { m: number | null }).m ?? 0) + 1;
  }

  /** Writes a rollout (on disk when this returns: synchronous=FULL). */
  saveRollout(r: Rollout): void {
    this.db.prepare('INSERT OR REPLACE INTO rollouts (id, state, updated_at, doc) VALUES (?, ?, ?, ?)').run(r.id, r.state, r.updated_at, JSON.stringify(r));
  }

  close(): void {
    this.db.close();
  }
}
