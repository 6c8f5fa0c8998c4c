import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { SmokemeshError } from '../errors.ts';

/**
 * Reads the admin token from `file`, creating it (random, mode 600) on first start. A token file
 * readable by group or others is refused: it guards every state-changing route.
 */
export function loadAdminToken(file: string): { token: string; created: boolean } {
  if (!existsSync(file)) {
    const token = randomBytes(24).toString('base64url');
    writeFileSync(file, token + '\n', { mode: 0o600, flag: 'wx' });
    return { token, created: true };
  }
  const mode = statSync(file).mode & 0o777;
  if (mode & 0o077) {
    throw new SmokemeshError('SMOKEMESH_E_AUTH', `${file}: admin token file is readable by group or others (mode ${mode.toString(8)}); run chmod 600 ${file}`);
  }
  const token = readFileSync(file, 'utf8').trim();
  if (token.length < 16) throw new SmokemeshError('SMOKEMESH_E_AUTH', `${file}: admin token must be at least 16 characters`);
  return { token, created: false };
}

/** Constant-time check of an `Authorization: Bearer …` header against the token. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  if (!m) return false;
  const a = Buffer.from(m[1]!);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
