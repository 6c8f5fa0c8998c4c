/**
 * The users file of read authentication: one user per line, `name:hash`, where hash is
 * `scrypt$N$r$p$salt$key` (salt and key base64url; Node's crypto.scrypt, a salt of 16 random
 * bytes per user). Blank lines and lines starting with `#` are ignored. The file holds
 * secrets' hashes, so it must not be readable by group or others (mode 600).
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';
import { SmokemeshError } from '../errors.ts';

/** scrypt cost: N 2^15, r 8, p 1: 32 MiB and some 50–100 ms per hash (docs/security.md says why not more). */
const COST = { N: 2 ** 15, r: 8, p: 1 };
const KEY_BYTES = 32;
const MAXMEM = 64 * 1024 * 1024;
/** A user name: what a person types in the login form. */
const NAME = /^[A-Za-z0-9._@-]{1,64}$/;

function scrypt(password: string, salt: Buffer, cost: { N: number; r: number; p: number }): Promise<Buffer> {
  const opts: ScryptOptions = { N: cost.N, r: cost.r, p: cost.p, maxmem: MAXMEM };
  return new Promise((resolve, reject) => scryptCb(password.normalize('NFC'), salt, KEY_BYTES, opts, (e, key) => (e ? reject(e) : resolve(key))));
}

/** Hashes `password` with a fresh random salt, in the users file's format. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, COST);
  return `scrypt$${COST.N}$${COST.r}$${COST.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

// Verifying against this when the user does not exist makes "no such user" take as long as
// "wrong password": the answer time does not tell which names exist.
let dummy: Promise<string> | undefined;

/**
 * True when `password` matches `hash` (a users file hash), compared in constant time. With
 * `hash` undefined (no such user) it spends the same time and answers false.
 */
export async function verifyPassword(password: string, hash: string | undefined): Promise<boolean> {
  const h = hash ?? (await (dummy ??= hashPassword(randomBytes(16).toString('hex'))));
  const m = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([\w-]+)\$([\w-]+)$/.exec(h);
  if (!m) return false;
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (N < 2 || N > 2 ** 20 || (N & (N - 1)) !== 0 || r < 1 || r > 32 || p < 1 || p > 16) return false;
  const want = Buffer.from(m[5]!, 'base64url');
  let got: Buffer;
  try {
    got = await scrypt(password, Buffer.from(m[4]!, 'base64url'), { N, r, p });
  } catch {
    return false;
  }
  return want.length === got.length && timingSafeEqual(want, got) && hash !== undefined;
}

/** Users by name, parsed from the file's text; throws a SMOKEMESH_E_CONFIG error naming the line. */
export function parseUsers(text: string, file: string): Map<string, string> {
  const users = new Map<string, string>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const at = line.indexOf(':');
    const name = at > 0 ? line.slice(0, at) : '';
    const hash = line.slice(at + 1);
    if (!NAME.test(name) || !hash.startsWith('scrypt$')) {
      throw new SmokemeshError('SMOKEMESH_E_CONFIG', `${file}:${i + 1}: expected "name:scrypt$…" (add users with: smokemesh user add NAME --file ${file})`);
    }
    users.set(name, hash);
  });
  return users;
}

/** Reads a file that holds secrets: refused when group or others may read it. */
export function readSecretFile(file: string, what: string): string {
  let mode: number;
  try {
    mode = statSync(file).mode & 0o777;
  } catch (e) {
    throw new SmokemeshError('SMOKEMESH_E_CONFIG', `${file}: cannot read the ${what}: ${(e as Error).message}`);
  }
  if (mode & 0o077) {
    throw new SmokemeshError('SMOKEMESH_E_CONFIG', `${file}: the ${what} is readable by group or others (mode ${mode.toString(8)}); run chmod 600 ${file}`);
  }
  return readFileSync(file, 'utf8');
}

/** Reads and parses a users file (mode 600 required). */
export function readUsers(file: string): Map<string, string> {
  return parseUsers(readSecretFile(file, 'users file'), file);
}

/**
 * Adds or replaces user `name` in `file` with a hash of `password`, creating the file if
 * needed. The file is written whole to a temporary file (mode 600) and renamed over the old
 * one, so a reader never sees half of it. Resolves with whether the user was new.
 */
export async function setUser(file: string, name: string, password: string): Promise<{ added: boolean }> {
  if (!NAME.test(name)) throw new SmokemeshError('SMOKEMESH_E_USAGE', `user name "${name}" may hold 1 to 64 letters, digits, ".", "_", "@" and "-"`);
  if (password.length < 8) throw new SmokemeshError('SMOKEMESH_E_USAGE', 'the password must have at least 8 characters');
  const lines = existsSync(file) ? readSecretFile(file, 'users file').split('\n') : ['# smokemesh users: name:scrypt hash, one per line (smokemesh user add NAME)'];
  if (existsSync(file)) parseUsers(lines.join('\n'), file);
  const entry = `${name}:${await hashPassword(password)}`;
  const i = lines.findIndex((l) => l.trim().startsWith(`${name}:`));
  if (i >= 0) lines[i] = entry;
  else {
    while (lines.length && lines.at(-1)!.trim() === '') lines.pop();
    lines.push(entry);
  }
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  writeFileSync(tmp, lines.join('\n') + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600); // a stale temporary file keeps its old mode through writeFileSync
  renameSync(tmp, file);
  return { added: i < 0 };
}
